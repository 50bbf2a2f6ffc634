"""Errors that reach the user as one line on stderr (exit 2 for bad input, 1 for a failed check)."""

from __future__ import annotations

import os
import stat
from pathlib import Path


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


SMALL_FILE_LIMIT = 1 << 20  # hints and remaps are a few lines; a larger file is a mistake or an attack


def read_small_text(path: Path, what: str) -> str:
    """A hints or remap file: a regular file, at most SMALL_FILE_LIMIT bytes, UTF-8."""
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            raise ModelgenError(f"{path}: not a regular file")
        if info.st_size > SMALL_FILE_LIMIT:
            raise ModelgenError(
                f"{path}: {info.st_size} bytes is too large for a {what} file "
                f"(at most {SMALL_FILE_LIMIT})"
            )
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ModelgenError(f"{path}: no such {what} file") from None
    except (OSError, UnicodeDecodeError) as e:
        reason = getattr(e, "strerror", None) or e
        raise ModelgenError(f"{path}: cannot read the {what} file ({reason})") from None
