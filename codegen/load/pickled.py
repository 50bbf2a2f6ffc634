"""Pickled checkpoints (zip and legacy torch.save files), read without running any code."""

from __future__ import annotations

import pickle
import re
import warnings
import zipfile
from pathlib import Path
from typing import Any

from codegen.errors import ModelgenError, first_line
from codegen.load.pickle_walk import pickle_ops
from codegen.load.restricted import check_member_sizes
from codegen.load.table import _in_file
from codegen.load.torchzip import describe

# Harmless types that trainers put into checkpoints, allowed on top of torch's weights_only defaults.
# Each one only holds data: none of them can call anything while it is unpickled.
EXTRA_SAFE_GLOBALS = ("argparse.Namespace", "pathlib.PosixPath", "pathlib.WindowsPath")

# ------------------------------------------------------------------------------ pickled formats


def _open_zip(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except (
        Exception
    ) as e:  # BadZipFile, but also UnicodeDecodeError, EOFError... on damaged directories
        raise ModelgenError(
            f"{path.name}: corrupt or truncated zip archive ({first_line(e)})"
        ) from None


def _zip_names(path: Path) -> list[str]:
    with _open_zip(path) as z:
        return z.namelist()


def _is_torchscript(names: list[str]) -> bool:
    return any(n.endswith("/constants.pkl") for n in names) and any("/code/" in n for n in names)


def _describe_zip(z: zipfile.ZipFile, names: list[str]) -> Any | None:
    """Plain zip checkpoints, without torch; None when torch.load must read the file."""
    if not any(n.endswith("data.pkl") for n in names):
        return None  # _torch_load_zip says why
    return describe(z)  # damaged archives: None, and torch.load's message


def _torch_load_zip(path: Path, names: list[str] | None = None) -> Any:
    """torch.load of a zip checkpoint; `names`: its member list, when the caller has already
    checked the member sizes (else they are checked here: shards come this way)."""
    if names is None:
        with _open_zip(path) as z:
            names = z.namelist()
            _in_file(path.name, check_member_sizes, z)
    if not any(n.endswith("data.pkl") for n in names):
        raise ModelgenError(
            f"{path.name}: a zip archive, but not a PyTorch checkpoint (no data.pkl)"
        )
    return _torch_load(path, mmap=True)


def _torch_load(path: Path, mmap: bool, skip_data: bool = False) -> Any:
    import contextlib

    import torch

    safe = [g for g in (_resolve_global(name) for name in EXTRA_SAFE_GLOBALS) if g is not None]
    # skip_data (torch >= 2.5) allocates storages without reading them; ties survive, unlike with
    # map_location="meta", which gives every view its own storage.
    skip = (
        torch.serialization.skip_data()
        if skip_data and _can_skip_data()
        else contextlib.nullcontext()
    )
    try:
        # torch warns about pickle protocols and TypedStorage; the CLI promises one line on stderr.
        with warnings.catch_warnings(), torch.serialization.safe_globals(safe), skip:
            warnings.simplefilter("ignore")
            return torch.load(path, map_location="cpu", weights_only=True, mmap=mmap)
    except pickle.UnpicklingError as e:
        raise ModelgenError(f"{path.name}: {_unpickling_reason(e)}") from None
    except Exception as e:  # torch raises RuntimeError/EOFError/ValueError... for damaged files
        raise ModelgenError(
            f"{path.name}: corrupt or truncated checkpoint ({first_line(e)})"
        ) from None


def _check_legacy_length(path: Path, size: int, raw: Any) -> None:
    """A legacy file is five pickles (magic number, protocol, system info, the object, its storage
    keys), then each storage as an 8-byte count and its bytes. torch.load with skip_data reads only the
    pickles, so a file cut inside the tensor bytes would pass: compare the length it needs."""
    try:
        with path.open("rb") as f:
            for _ in range(5):
                for _op in pickle_ops(f):
                    pass
            end = f.tell()
    except (OSError, ValueError, EOFError) as e:
        raise ModelgenError(
            f"{path.name}: corrupt or truncated checkpoint ({first_line(e)})"
        ) from None
    needed = end + sum(8 + n for n in _legacy_storage_sizes(raw))
    if size < needed:
        raise ModelgenError(
            f"{path.name}: corrupt or truncated checkpoint (it ends {needed - size} bytes before its "
            "tensor data does)"
        )


def _legacy_storage_sizes(raw: Any) -> list[int]:
    """Byte sizes of the distinct storages behind the tensors in `raw` (each container once)."""
    from collections.abc import Mapping

    import torch

    sizes: dict[int, int] = {}
    seen: set[int] = set()
    todo = [raw]
    while todo and len(seen) < 100_000:  # a bounded look: missing a storage only weakens the check
        obj = todo.pop()
        if isinstance(obj, torch.Tensor):
            try:
                storage = obj.untyped_storage()
                sizes[storage.data_ptr()] = storage.nbytes()
            except (RuntimeError, NotImplementedError):  # nested, sparse...: no plain storage
                pass
        elif isinstance(obj, (Mapping, list, tuple)) and id(obj) not in seen:
            seen.add(id(obj))
            todo.extend(obj.values() if isinstance(obj, Mapping) else obj)
    return list(sizes.values())


def _can_skip_data() -> bool:
    import torch

    return hasattr(torch.serialization, "skip_data")


def _unpickling_reason(e: BaseException) -> str:
    text = str(e)
    blocked = re.search(r"GLOBAL ([\w.]+)", text)
    if blocked:
        name = blocked.group(1)
        hint = ""
        if name.startswith("torch.nn.modules."):
            hint = " (a whole pickled model? re-save its state_dict())"
        return (
            f"refused to unpickle: it needs the global {name}, which is not a plain tensor or "
            f"container and could run code{hint}"
        )
    # torch's message is a paragraph; the useful part follows "WeightsUnpickler error:".
    detail = text.split("WeightsUnpickler error:", 1)[-1]
    lines = [ln.strip() for ln in detail.splitlines() if ln.strip()]
    return f"unsafe or corrupt pickle ({lines[0][:200] if lines else type(e).__name__})"


def _resolve_global(dotted: str) -> Any:
    import importlib

    module, _, name = dotted.rpartition(".")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return None
