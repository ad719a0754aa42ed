"""Supervisor mode: scrypt hash, first-use password, inactivity lock, permissions, and a
wrong password that is refused and never written anywhere in clear."""

from __future__ import annotations

import json
import logging
import stat

import pytest

from oximon.supervisor import (
    BACKOFF_S,
    FAILURES_BEFORE_BACKOFF,
    PasswordFile,
    PasswordHash,
    PasswordNotSet,
    Permission,
    PermissionDenied,
    SupervisorSession,
    TooManyAttempts,
    WeakPassword,
    check_password,
    hash_password,
)

FAST_N = 2**10  # a cheap cost for tests; the default (2**15) is what ships


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def audit() -> list[tuple[str, str, dict]]:
    return []


@pytest.fixture
def session(tmp_path, clock, audit) -> SupervisorSession:
    return SupervisorSession(PasswordFile(tmp_path / "cfg" / "supervisor.json"), clock=clock,
                             lock_after_s=300, audit=lambda *a: audit.append(a), kdf_n=FAST_N)


def test_hash_round_trip_uses_salt_and_stored_params():
    a = hash_password("correct horse", n=FAST_N)
    b = hash_password("correct horse", n=FAST_N)
    assert a.salt != b.salt and a.digest != b.digest  # salted
    back = PasswordHash.from_json(a.to_json())
    assert back == a and back.n == FAST_N
    assert check_password("correct horse", back)
    assert not check_password("correct hors", back)


def test_default_cost_is_memory_hard():
    h = hash_password("x" * 8)
    assert 128 * h.r * h.n >= 16 * 2**20  # at least 16 MiB per guess


def test_first_use_sets_password_in_private_file(session, tmp_path, audit):
    assert not session.password_set
    with pytest.raises(PasswordNotSet):
        session.unlock("anything1")
    with pytest.raises(WeakPassword):
        session.set_password("short")
    session.set_password("s3cret-supervisor", by="sup")
    path = tmp_path / "cfg" / "supervisor.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    saved = json.loads(path.read_text())
    assert saved["kdf"] == "scrypt" and "s3cret" not in path.read_text()
    assert session.unlocked  # setting it on first use opens supervisor mode
    assert audit[0][0] == "supervisor.password_set"


def test_changing_password_needs_mode_and_current(session):
    session.set_password("first-password")
    session.lock()
    with pytest.raises(PermissionDenied):
        session.set_password("second-password", current="first-password")
    assert session.unlock("first-password")
    with pytest.raises(PermissionDenied):
        session.set_password("second-password", current="wrong-one!")
    session.set_password("second-password", current="first-password")
    session.lock()
    assert not session.unlock("first-password")
    assert session.unlock("second-password")


def test_locks_after_inactivity_with_injected_clock(session, clock, audit):
    session.set_password("s3cret-supervisor")
    assert session.unlocked
    clock.t += 200
    session.touch()  # activity pushes the lock back
    clock.t += 299
    assert session.unlocked and session.seconds_until_lock() == pytest.approx(1.0)
    changes: list[bool] = []
    session.on_change(changes.append)
    clock.t += 1
    assert not session.unlocked
    assert changes == [False]
    assert audit[-1] == ("supervisor.locked", "", {"reason": "inactivity"})
    assert not session.allowed(Permission.CHANGE_SETTINGS)


def test_peer_permissions(session):
    session.set_password("s3cret-supervisor")
    session.lock()
    for perm in (Permission.CHANGE_SETTINGS, Permission.DELETE, Permission.EDIT_CLOSED,
                 Permission.SIGN_OFF):
        assert not session.allowed(perm)
        with pytest.raises(PermissionDenied, match="supervisor mode"):
            session.require(perm)
    session.require(Permission.AMEND)  # peers may add amendments
    session.require(Permission.VIEW)
    assert session.unlock("s3cret-supervisor")
    session.require(Permission.DELETE)


def test_wrong_password_refused_and_never_logged_in_clear(session, audit, caplog, tmp_path):
    session.set_password("s3cret-supervisor", by="sup")
    session.lock()
    attempt = "s3cret-supervisoR-typo"
    with caplog.at_level(logging.DEBUG):
        assert session.unlock(attempt, by="someone") is False
    assert not session.unlocked
    refused = [a for a in audit if a[0] == "supervisor.unlock_refused"]
    assert refused and refused[0][2] == {"attempt": 1}
    everything = caplog.text + repr(audit) + (tmp_path / "cfg" / "supervisor.json").read_text()
    assert "refused" in caplog.text
    assert attempt not in everything and "typo" not in everything
    assert "s3cret" not in everything


def test_backoff_after_repeated_failures(session, clock):
    session.set_password("s3cret-supervisor")
    session.lock()
    for _ in range(FAILURES_BEFORE_BACKOFF):
        assert not session.unlock("wrong-guess")
    with pytest.raises(TooManyAttempts):
        session.unlock("s3cret-supervisor")
    clock.t += BACKOFF_S
    assert session.unlock("s3cret-supervisor")
