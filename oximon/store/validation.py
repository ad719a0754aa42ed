"""Checks on what people enter (actions, outcomes, details, amendments), before anything is
recorded: a bad word is refused with the list of good ones, and nothing is half-written.
Also the small conversions every record shares (who did it, data as plain JSON)."""

from __future__ import annotations

import getpass
import math
from collections.abc import Iterable
from typing import Any

from oximon.safe_text import check_line
from oximon.store.errors import IncidentError
from oximon.store.record import ACTIONS, AFTERCARE, AMENDABLE, DETAIL_FIELDS, OUTCOMES, SIGNS


def typed(value: Any, what: str, multiline: bool = False) -> None:
    """Refuse control characters (CR, ESC...) in anything typed: they would split a CSV row
    or drive a supervisor's terminal. A note may hold line breaks (`multiline`); nothing
    else may."""
    if isinstance(value, str):
        try:
            check_line(value.replace("\n", " ") if multiline else value, what)
        except ValueError as exc:
            raise IncidentError(str(exc)) from None
    elif isinstance(value, dict):
        for k, v in value.items():
            typed(v, f"{what}.{k}", multiline)
    elif isinstance(value, list | tuple):
        for v in value:
            typed(v, what, multiline)


def person(by: str) -> str:
    """Who did it: the name given, else the operating-system user."""
    typed(by or "", "name")
    by = (by or "").strip()
    if by:
        return by[:128]
    try:
        return getpass.getuser()[:128]
    except (OSError, KeyError):
        return "unknown"


def jsonable(value: Any) -> Any:
    """Data as plain JSON (NaN becomes null: a gap is not a number)."""
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


def words(value: str | Iterable[str], allowed: frozenset[str], what: str) -> list[str]:
    """A comma-separated string or a list of words, each one of `allowed`."""
    found = [w.strip() for w in (value.split(",") if isinstance(value, str) else value)]
    found = [w for w in found if w]
    bad = [w for w in found if w not in allowed]
    if bad:
        raise IncidentError(f"{what} {bad[0]!r}: one of {', '.join(sorted(allowed))}")
    return found


def check_action(action: str, details: dict[str, Any]) -> None:
    typed(details, "details")
    if action not in ACTIONS:
        raise IncidentError(f"unknown action {action!r} (one of: "
                            f"{', '.join(sorted(ACTIONS))})")
    if action == "sign" and details.get("sign") not in SIGNS:
        raise IncidentError(f"sign {details.get('sign')!r}: one of "
                            f"{', '.join(sorted(SIGNS))}")


def closing_words(outcome: str | list[str], aftercare: list[str] | None
                  ) -> tuple[list[str], list[str]]:
    """A close's outcome (at least one word) and aftercare."""
    typed(outcome, "outcome")
    found = words(outcome, OUTCOMES, "outcome")
    if not found:
        raise IncidentError("outcome: give at least one of " + ", ".join(sorted(OUTCOMES)))
    return found, words(aftercare or [], AFTERCARE, "aftercare")


def check_details(details: dict[str, Any]) -> None:
    """Detail values in place: signs a list of SIGNS, responders a list, debrief booleans."""
    if "signs" in details:
        signs = details["signs"]
        if isinstance(signs, str) or not all(s in SIGNS for s in signs):
            raise IncidentError(f"signs: a list of {', '.join(sorted(SIGNS))}")
        details["signs"] = list(signs)
    if "responders" in details and isinstance(details["responders"], str):
        details["responders"] = [r.strip() for r in details["responders"].split(",")
                                 if r.strip()]
    for key in ("debrief_offered", "debrief_held"):
        if key in details and not isinstance(details[key], bool):
            raise IncidentError(f"{key}: true or false")


def detail_fields(details: dict[str, Any]) -> None:
    """Only the known detail fields, with good values."""
    bad = set(details) - DETAIL_FIELDS
    typed({k: v for k, v in details.items() if k != "note"}, "details")
    typed(details.get("note"), "note", multiline=True)
    if bad:
        raise IncidentError(f"unknown field(s) {', '.join(sorted(bad))} (allowed: "
                            f"{', '.join(sorted(DETAIL_FIELDS))})")
    check_details(details)


def amendment(changes: dict[str, Any], reason: str, by: str) -> dict[str, Any]:
    """A correction's changes, checked and normalised (a new dict)."""
    if not by.strip() or not reason.strip():
        raise IncidentError("an amendment needs who made it and why")
    typed(reason, "reason", multiline=True)
    typed({k: v for k, v in changes.items() if k != "note"}, "changes")
    typed(changes.get("note"), "note", multiline=True)
    bad = set(changes) - AMENDABLE
    if bad or not changes:
        raise IncidentError(f"cannot amend {', '.join(sorted(bad)) or 'nothing'} "
                            f"(amendable: {', '.join(sorted(AMENDABLE))})")
    changes = dict(changes)
    if "outcome" in changes:
        changes["outcome"] = words(changes["outcome"], OUTCOMES, "outcome")
    if "aftercare" in changes:
        changes["aftercare"] = words(changes["aftercare"], AFTERCARE, "aftercare")
    if "add_action" in changes:
        add = changes["add_action"]
        if not isinstance(add, dict) or add.get("action") not in ACTIONS \
                or not isinstance(add.get("ts"), int | float):
            raise IncidentError("add_action: give {'action': WORD, 'ts': EPOCH_SECONDS}")
    check_details({k: v for k, v in changes.items() if k in DETAIL_FIELDS})
    return changes
