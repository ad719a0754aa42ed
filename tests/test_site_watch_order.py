"""A screen hears every state a hub published, in order, even when its periodic poll reads
the table after two quick publications whose notifications are still queued (an
acknowledgement followed at once by "sounds again": seen once in CI under load)."""

from __future__ import annotations

import json
import os

import psycopg
import pytest

from oximon.site.schema import STATE_CHANNEL, connect, ensure_schema
from oximon.site.state import BoothState
from oximon.site.viewer import SiteWatch
from oximon.types import DeviceState

PG_URL = os.environ.get("OXIMON_TEST_PG_URL")


@pytest.mark.postgres
def test_a_poll_does_not_swallow_queued_older_states():
    if not PG_URL:
        pytest.skip("PostgreSQL not configured: eval \"$(bash .ci/start-postgres)\"")
    from oximon.store.scratch import scratch_database

    with scratch_database(PG_URL, prefix="oximon_w") as url:
        with psycopg.connect(url, autocommit=True) as setup:
            ensure_schema(setup)
        watch = SiteWatch(url, poll_s=60.0)
        heard: list[int] = []
        watch.subscribe(lambda b: heard.append(watch.snapshot().booths[b].seq)
                        if b == "booth-1" else None)
        conn = connect(url, "viewer test")
        conn.execute(f"LISTEN {STATE_CHANNEL}")
        with psycopg.connect(url, autocommit=True) as hub:
            for seq in (1, 2):  # two publications, nothing read in between
                st = BoothState("booth-1", "room-1", "run-a", seq, "Booth 1",
                                DeviceState.STREAMING, "", 90.0, 70.0, 0.0)
                payload = json.dumps(st.to_dict())
                with hub.transaction():
                    hub.execute("INSERT INTO site_booths (booth, hub, state, published_at) "
                                "VALUES (%s, %s, %s, now()) ON CONFLICT (booth) DO UPDATE "
                                "SET state = EXCLUDED.state, published_at = now()",
                                ("booth-1", "room-1", payload))
                    hub.execute("SELECT pg_notify(%s, %s)", (STATE_CHANNEL, payload))
        watch._poll(conn)  # the poll comes first, as the watch's thread may do
        for note in conn.notifies(timeout=0.2):
            watch._heard(note.payload)
        conn.close()
        assert heard[:2] == [1, 2], heard
