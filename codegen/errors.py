"""Errors that reach the user as one line on stderr (exit 2 for bad input, 1 for a failed check)."""


class ModelgenError(Exception):
    """Bad input: an unreadable file, an unsafe pickle, arguments that do not fit."""

    exit_code = 2


class CheckFailed(ModelgenError):
    """The input was fine but the check it asked for did not pass (stale file, load failure...)."""

    exit_code = 1


def first_line(e: BaseException) -> str:
    """The first line of an exception's message (its type when empty): the detail a one-line error shows."""
    text = str(e).strip().splitlines()
    return (text[0] if text else type(e).__name__)[:200]
