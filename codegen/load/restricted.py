"""Budgets and pickle rules shared by every reader in codegen/load, enforced before allocating.

Files: only regular files are opened (a FIFO would hang the first read, a device never ends).

A pickle is a program for a small stack machine. The readers here (torchzip.py for `torch.save` zips,
torchscript.py for TorchScript archives) only ever call their own stand-ins from `find_class`, but three
opcodes reach further, and this base class closes them:

- BUILD sets attributes on whatever is on the stack. Applied to a class or a function that
  `find_class` handed out (`pathlib.PosixPath` with state `{"_str": ...}`), it rewrites that global for
  the whole process. Here BUILD only fills in an instance this unpickler constructed itself, of a type
  the reader names, from a plain dict.
- Memo indices: the C unpickler sizes its memo array from the largest index in the file, so
  `LONG_BINPUT 2**30` asks for gigabytes. This one is the pure-Python unpickler (a dict memo), with a
  cap on entries.
- DUP: one byte per pushed reference; neither Python's pickler nor torch's writes it.

Members of a zip are read into memory only through `read_member`, which checks the size the archive
declares against a budget before reading, reads with that limit (a lying header gains nothing), and
reads to the end so zipfile checks the CRC.
"""

from __future__ import annotations

import argparse
import io
import pickle
import zipfile
from collections import OrderedDict
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any, Callable

from codegen.errors import ModelgenError, first_line

# data.pkl of a 10,000-tensor torch.save file is ~1.1 MB, about 115 bytes and 8 memo entries a tensor.
# A stored member is bounded by the file's own size; 64 MiB leaves room for half a million tensors.
# torch.save never compresses, so a compressed member gets less: deflate inflates 1000-fold, and the
# pure-Python unpickler takes about a second a million opcodes.
MAX_PICKLE_BYTES = 64 * 2**20
MAX_INFLATED_BYTES = 8 * 2**20
# A memo entry costs ~64 bytes; real pickles hold one per ~14 bytes, MEMOIZE one per byte.
MEMO_BYTES_PER_ENTRY = 4
MIB = 2**20


def member_budget(info: zipfile.ZipInfo) -> int:
    return MAX_PICKLE_BYTES if info.compress_type == zipfile.ZIP_STORED else MAX_INFLATED_BYTES


def check_member_sizes(z: zipfile.ZipFile) -> None:
    """Refuse a zip whose compressed members would inflate past the budget, before any reader (ours
    or torch's) reads one. Stored members are bounded by the file's own size."""
    for info in z.infolist():
        if info.compress_type != zipfile.ZIP_STORED and info.file_size > MAX_INFLATED_BYTES:
            raise ModelgenError(_over_budget(info))


def _over_budget(info: zipfile.ZipInfo) -> str:
    kind = "stored" if info.compress_type == zipfile.ZIP_STORED else "compressed"
    return (
        f"{info.filename} inflates to {info.file_size / MIB:.0f} MiB, over the "
        f"{member_budget(info) // MIB} MiB budget for a {kind} member (refused before reading)"
    )


def read_member(z: zipfile.ZipFile, name: str) -> bytes:
    """A zip member's bytes (a pickle, code, JSON: never tensor data), refused before reading when
    it would inflate past its budget."""
    try:
        info = z.getinfo(name)
    except KeyError:
        raise ModelgenError(f"archive has no {name}") from None
    limit = member_budget(info)
    if info.file_size > limit:
        raise ModelgenError(_over_budget(info))
    try:
        with z.open(info) as f:
            data = f.read(limit + 1)  # to the end, so zipfile checks the CRC
    except Exception as e:  # BadZipFile (a bad CRC), zlib.error, NotImplementedError, EOFError...
        raise ModelgenError(f"{name}: corrupt archive member ({first_line(e)})") from None
    if len(data) > limit:  # unreachable while zipfile trusts the header; kept as the real bound
        raise ModelgenError(f"{name} inflates past the {limit // MIB} MiB budget")
    return data


# Types that only hold data and that trainers put into checkpoints, each built by a constructor that
# checks its arguments (pure paths: no filesystem access, the same text on every OS).
def _path(flavour: type, qualified: str) -> Callable[..., Any]:
    def build(*parts: Any) -> Any:
        if not all(type(p) is str for p in parts):
            raise ModelgenError(f"refused to unpickle: a {qualified} from non-text parts")
        return flavour(*parts)

    build.__qualname__ = qualified  # what a refusal names
    return build


SAFE_CONSTRUCTORS: dict[str, Any] = {
    "pathlib.PosixPath": _path(PurePosixPath, "pathlib.PosixPath"),
    "pathlib.PurePosixPath": _path(PurePosixPath, "pathlib.PurePosixPath"),
    "pathlib.WindowsPath": _path(PureWindowsPath, "pathlib.WindowsPath"),
    "pathlib.PureWindowsPath": _path(PureWindowsPath, "pathlib.PureWindowsPath"),
    # created empty by NEWOBJ, filled by BUILD from a dict with text keys (Namespace(**state))
    "argparse.Namespace": argparse.Namespace,
}


def _fill_attributes(inst: Any, state: Any) -> None:
    if type(state) is not dict or not all(type(k) is str for k in state):
        raise ModelgenError(
            f"refused to unpickle: BUILD of a {type(inst).__name__} from a {type(state).__name__}"
        )
    vars(inst).update(state)


class RestrictedUnpickler(pickle._Unpickler):  # the pure-Python one: a dict memo
    """Subclasses define `find_class`, and may add BUILD targets (`BUILDERS`) or override
    `unsupported` (what to do with an instance of a type they do not fill in)."""

    # exact type -> how BUILD fills an instance of it in
    BUILDERS: dict[type, Callable[[Any, Any], None]] = {
        OrderedDict: _fill_attributes,  # state_dict()'s `_metadata`
        argparse.Namespace: _fill_attributes,
    }
    dispatch = dict(pickle._Unpickler.dispatch)

    def __init__(self, data: bytes) -> None:
        super().__init__(io.BytesIO(data))
        self.made: dict[int, Any] = {}  # id -> object, held so that no id is reused meanwhile
        self.size = len(data)
        self.max_memo = self.size // MEMO_BYTES_PER_ENTRY + 1000

    def unsupported(self, what: str) -> None:
        raise ModelgenError(f"refused to unpickle: {what}")

    def builder(self, inst: Any) -> Callable[[Any, Any], None] | None:
        return self.BUILDERS.get(type(inst))

    def load_build(self) -> None:
        state = self.stack.pop()
        inst = self.stack[-1]
        if isinstance(inst, type) or callable(inst) or id(inst) not in self.made:
            name = getattr(inst, "__qualname__", type(inst).__name__)
            raise ModelgenError(
                f"refused to unpickle: a BUILD opcode on {name}, which the pickle did not create "
                "(it would rewrite a class or function in this process)"
            )
        fill = self.builder(inst)
        if fill is None:
            self.unsupported(f"a BUILD opcode on a {type(inst).__name__}")
        else:
            fill(inst, state)

    def load_dup(self) -> None:
        raise ModelgenError(
            "refused to unpickle: DUP opcode (no torch or Python pickler writes it)"
        )


def _remember_made(op: Callable[[RestrictedUnpickler], None]) -> Callable[..., None]:
    def run(self: RestrictedUnpickler) -> None:
        op(self)
        obj = self.stack[-1]
        self.made[id(obj)] = obj

    return run


def _bounded_memo(op: Callable[[RestrictedUnpickler], None]) -> Callable[..., None]:
    def run(self: RestrictedUnpickler) -> None:
        op(self)
        if len(self.memo) > self.max_memo:
            raise ModelgenError(
                f"pickle memo over {self.max_memo:,} entries for {self.size:,} "
                "bytes: not what torch writes (refused before it grows)"
            )

    return run


_D = RestrictedUnpickler.dispatch
for _code in (pickle.REDUCE, pickle.NEWOBJ, pickle.NEWOBJ_EX, pickle.OBJ, pickle.INST):
    _D[_code[0]] = _remember_made(_D[_code[0]])
for _code in (pickle.PUT, pickle.BINPUT, pickle.LONG_BINPUT, pickle.MEMOIZE):
    _D[_code[0]] = _bounded_memo(_D[_code[0]])
_D[pickle.BUILD[0]] = RestrictedUnpickler.load_build
_D[pickle.DUP[0]] = RestrictedUnpickler.load_dup
