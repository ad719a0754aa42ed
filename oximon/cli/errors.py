"""Errors the CLI turns into exit codes without a traceback."""


class UsageError(Exception):
    """Bad usage or bad input: exit 2. The message names the file, line, key or argument."""


class RuntimeFailure(Exception):
    """Something failed while running (device, database...): exit 1."""
