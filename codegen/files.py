"""Checks on input files made before reading them: only regular files, and small ones where small is
all that makes sense (a hints or remap file). A FIFO would hang a reader; /dev/zero would never end.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from codegen.errors import ModelgenError

SMALL_FILE_LIMIT = (
    1 << 20
)  # hints and remaps are a few lines; a larger file is a mistake or an attack


def regular_file_size(path: Path, what: str = "checkpoint") -> int:
    """The size of a regular file; anything else (FIFO, device, socket) refused without opening it."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise ModelgenError(f"{path}: no such {what} file") from None
    except OSError as e:
        raise ModelgenError(f"{path.name}: cannot read ({e.strerror or e})") from None
    if not stat.S_ISREG(st.st_mode):
        kind = "a FIFO" if stat.S_ISFIFO(st.st_mode) else "a folder, device or special file"
        raise ModelgenError(f"{path.name}: {kind}, not a regular file; pass a {what} file")
    return st.st_size


def read_small_text(path: Path, what: str) -> str:
    """A hints or remap file: a regular file, at most SMALL_FILE_LIMIT bytes, UTF-8."""
    size = regular_file_size(path, what)
    if size > SMALL_FILE_LIMIT:
        raise ModelgenError(
            f"{path}: {size} bytes is too large for a {what} file (at most {SMALL_FILE_LIMIT})"
        )
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        reason = getattr(e, "strerror", None) or e
        raise ModelgenError(f"{path}: cannot read the {what} file ({reason})") from None
