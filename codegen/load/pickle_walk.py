"""Walking a file's pickles opcode by opcode (pickletools: it parses, and calls nothing), with each
read checked against the file's end first: a damaged length inside an opcode (a string said to hold
10^18 bytes) is a clear error, never an attempt to allocate that much."""

from __future__ import annotations

import os
import pickletools
from typing import BinaryIO, Iterator


class _Bounded:
    """The reads pickletools makes, refused before they run past the end of the file."""

    def __init__(self, f: BinaryIO) -> None:
        self._f = f
        self._size = os.fstat(f.fileno()).st_size

    def read(self, n: int = -1) -> bytes:
        if n is not None and n > self._size - self._f.tell():
            raise EOFError(f"a pickle opcode reads {n} bytes past the end of the file")
        return self._f.read(n)

    def readline(self) -> bytes:
        return self._f.readline()

    def tell(self) -> int:
        return self._f.tell()


def pickle_ops(f: BinaryIO) -> Iterator[tuple]:
    """pickletools.genops over the pickle at f's position; raises EOFError or ValueError where it
    is damaged, and leaves f just after its STOP opcode."""
    return pickletools.genops(_Bounded(f))
