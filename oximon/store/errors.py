"""Store errors, split by who must act: the person who gave a bad database (exit 2) or
whoever runs the machine or server (exit 1). The CLI maps them to its exit codes."""


class StoreError(Exception):
    """Base class; the message always names the database."""


class StoreInputError(StoreError):
    """The database given is unusable as it stands (unreadable, corrupt, not oximon's, from a
    newer oximon). It is left exactly as it was."""


class StoreUnavailable(StoreError):
    """The database is fine but cannot be used right now (locked, server down, disk full)."""


class IncidentError(StoreError):
    """A request about an incident cannot be met (unknown id, already closed, bad word)."""
