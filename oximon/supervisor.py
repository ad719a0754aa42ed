"""Supervisor mode: who may change settings, delete, sign off or edit a closed record.

Peer workers run the dashboard all shift; a supervisor unlocks supervisor mode with a
password to review incidents, sign them off or change settings, and it locks again by
itself after a spell of inactivity (a supervisor called away must not leave the screen
unlocked for whoever sits down next).

The password is never stored: only an scrypt hash (memory-hard, so a stolen file is slow
to attack on a GPU) with its salt and cost parameters, in a private (0600) file in the
user's config folder. Checking uses a constant-time compare. A refused attempt is logged
and audited *without* the text typed (a near-miss password is nearly the password).

No Qt here: the UI drives a `SupervisorSession` and asks it `allowed(permission)`.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import json
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from oximon.private_files import replace_private

log = logging.getLogger(__name__)

MIN_PASSWORD_LENGTH = 8
DEFAULT_LOCK_AFTER_S = 300.0
# After this many refused attempts in a row, further attempts wait (slows guessing by
# someone standing at the screen; the hash cost slows guessing from a stolen file).
FAILURES_BEFORE_BACKOFF = 5
BACKOFF_S = 30.0

Audit = Callable[[str, str, dict[str, Any]], None]  # (action, by, details)


class Permission(enum.StrEnum):
    """What a person may try to do. Peer workers have only `AMEND` and `VIEW`."""

    VIEW = "view"
    AMEND = "amend"  # add a correction to a record: everyone (nothing is overwritten)
    SIGN_OFF = "sign_off"
    CHANGE_SETTINGS = "change_settings"
    DELETE = "delete"
    EDIT_CLOSED = "edit_closed"
    EXPORT_REPORT = "export_report"


PEER_PERMISSIONS = frozenset({Permission.VIEW, Permission.AMEND})


class SupervisorError(Exception):
    """Base for supervisor-mode refusals (messages are safe to show: no password text)."""


class PasswordNotSet(SupervisorError):
    pass


class WeakPassword(SupervisorError):
    pass


class PermissionDenied(SupervisorError):
    pass


class TooManyAttempts(SupervisorError):
    def __init__(self, wait_s: float):
        super().__init__(f"too many wrong passwords: try again in {wait_s:.0f} s")
        self.wait_s = wait_s


# -- hashing ------------------------------------------------------------------------------
@dataclass(frozen=True)
class PasswordHash:
    """An scrypt hash with everything needed to check a password against it later."""

    salt: bytes
    digest: bytes
    n: int = 2**15  # CPU/memory cost: 128 * r * n bytes = 32 MiB per check
    r: int = 8
    p: int = 1

    def to_json(self) -> str:
        return json.dumps({
            "kdf": "scrypt", "n": self.n, "r": self.r, "p": self.p,
            "salt": base64.b64encode(self.salt).decode(),
            "hash": base64.b64encode(self.digest).decode(),
        })

    @classmethod
    def from_json(cls, text: str) -> PasswordHash:
        d = json.loads(text)
        if d.get("kdf") != "scrypt":
            raise ValueError(f"unknown key derivation {d.get('kdf')!r}")
        return cls(base64.b64decode(d["salt"]), base64.b64decode(d["hash"]),
                   int(d["n"]), int(d["r"]), int(d["p"]))


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p,
                          maxmem=256 * r * n + 2**20, dklen=32)


def hash_password(password: str, *, n: int = 2**15, r: int = 8, p: int = 1) -> PasswordHash:
    salt = secrets.token_bytes(16)
    return PasswordHash(salt, _scrypt(password, salt, n, r, p), n, r, p)


def check_password(password: str, stored: PasswordHash) -> bool:
    """Constant-time comparison of the derived key (timing says nothing about the match)."""
    candidate = _scrypt(password, stored.salt, stored.n, stored.r, stored.p)
    return hmac.compare_digest(candidate, stored.digest)


# -- where the hash lives ------------------------------------------------------------------
def default_password_path() -> Path:
    import platformdirs

    return Path(platformdirs.user_config_dir("oximon")) / "supervisor.json"


class PasswordFile:
    """The hash in a private file (0600, written atomically so a crash never leaves half
    a file that would lock supervisors out)."""

    def __init__(self, path: Path | None = None):
        self.path = Path(path) if path is not None else default_password_path()

    def load(self) -> PasswordHash | None:
        try:
            return PasswordHash.from_json(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None

    def save(self, value: PasswordHash) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        replace_private(self.path, value.to_json())


# -- the session -----------------------------------------------------------------------------
class SupervisorSession:
    """Supervisor mode for one screen: unlocked by password, locked by inactivity.

    `clock` is any monotonic seconds function (injected so tests move time by hand).
    `audit(action, by, details)` receives every unlock, refusal, lock and password change;
    details never contain password text.
    """

    def __init__(self, passwords: PasswordFile, *, clock: Callable[[], float] = time.monotonic,
                 lock_after_s: float = DEFAULT_LOCK_AFTER_S, audit: Audit | None = None,
                 kdf_n: int = 2**15):
        self.passwords = passwords
        self.clock = clock
        self.lock_after_s = float(lock_after_s)
        self.audit = audit or (lambda action, by, details: None)
        self.kdf_n = kdf_n
        self.user = ""  # who unlocked (a role name or initials, never required)
        self._unlocked_at: float | None = None
        self._last_activity = 0.0
        self._failures = 0
        self._blocked_until = 0.0
        self._listeners: list[Callable[[bool], None]] = []

    # state
    @property
    def password_set(self) -> bool:
        return self.passwords.load() is not None

    @property
    def unlocked(self) -> bool:
        """True while supervisor mode is on; the first look after the timeout locks it."""
        if self._unlocked_at is None:
            return False
        if self.clock() - self._last_activity >= self.lock_after_s:
            self._lock("inactivity")
            return False
        return True

    def seconds_until_lock(self) -> float | None:
        if not self.unlocked:
            return None
        return max(0.0, self.lock_after_s - (self.clock() - self._last_activity))

    def on_change(self, listener: Callable[[bool], None]) -> None:
        """`listener(unlocked)` whenever supervisor mode turns on or off."""
        self._listeners.append(listener)

    def allowed(self, permission: Permission) -> bool:
        return permission in PEER_PERMISSIONS or self.unlocked

    def require(self, permission: Permission) -> None:
        if not self.allowed(permission):
            raise PermissionDenied(f"{permission.value.replace('_', ' ')} needs supervisor "
                                   "mode")

    # actions
    def touch(self) -> None:
        """The supervisor did something: push the automatic lock back."""
        if self._unlocked_at is not None and self.unlocked:
            self._last_activity = self.clock()

    def set_password(self, new: str, *, current: str | None = None, by: str = "") -> None:
        """First use: set it. Later: only from supervisor mode, with the current password."""
        if len(new) < MIN_PASSWORD_LENGTH:
            raise WeakPassword(f"use at least {MIN_PASSWORD_LENGTH} characters")
        stored = self.passwords.load()
        if stored is not None and (not self.unlocked or current is None
                                   or not check_password(current, stored)):
            self.audit("supervisor.password_change_refused", by, {})
            log.warning("supervisor password change refused")
            raise PermissionDenied("changing the password needs supervisor mode and the "
                                   "current password")
        self.passwords.save(hash_password(new, n=self.kdf_n))
        self.audit("supervisor.password_set" if stored is None else
                   "supervisor.password_changed", by, {})
        log.info("supervisor password %s", "set" if stored is None else "changed")
        if stored is None:
            self._unlock(by)

    def unlock(self, password: str, by: str = "") -> bool:
        """True and supervisor mode on if the password matches; False (audited) if not."""
        stored = self.passwords.load()
        if stored is None:
            raise PasswordNotSet("no supervisor password yet: set one first")
        now = self.clock()
        if now < self._blocked_until:
            raise TooManyAttempts(self._blocked_until - now)
        if check_password(password, stored):
            self._failures = 0
            self._unlock(by)
            return True
        self._failures += 1
        details: dict[str, Any] = {"attempt": self._failures}
        if self._failures >= FAILURES_BEFORE_BACKOFF:
            self._blocked_until = now + BACKOFF_S
            details["blocked_s"] = BACKOFF_S
        self.audit("supervisor.unlock_refused", by, details)
        log.warning("supervisor unlock refused (wrong password, attempt %d)", self._failures)
        return False

    def lock(self, by: str = "") -> None:
        if self._unlocked_at is not None:
            self._lock("by hand", by)

    def _unlock(self, by: str) -> None:
        self._unlocked_at = self._last_activity = self.clock()
        self.user = by
        self.audit("supervisor.unlocked", by, {})
        log.info("supervisor mode unlocked")
        for listener in self._listeners:
            listener(True)

    def _lock(self, why: str, by: str = "") -> None:
        self._unlocked_at = None
        self.audit("supervisor.locked", by or self.user, {"reason": why})
        log.info("supervisor mode locked (%s)", why)
        self.user = ""
        for listener in self._listeners:
            listener(False)
