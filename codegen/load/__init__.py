"""Open a checkpoint safely and describe its tensors without reading their bytes.

Every pickle goes through ``torch.load(weights_only=True)`` (or, for TorchScript archives, a restricted
unpickler of our own that only knows how to describe tensors), so a checkpoint never runs code. Zip
checkpoints are memory-mapped and safetensors files are read header-only, so opening a multi-GB file
costs what its key list costs. Plain zip checkpoints are described by our own restricted unpickler
(codegen/load/torchzip.py) without importing torch; anything unusual in them goes to torch.load. Legacy
(pre-zip) torch.save files cannot be memory-mapped: torch reads their bytes.

Every failure on bad input is a one-line ``ModelgenError`` that starts with the file's name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from codegen.errors import ModelgenError
from codegen.load.hf_config import CONFIG_NAME, read_config
from codegen.load.pickled import (
    _can_skip_data,
    _check_legacy_length,
    _describe_zip,
    _is_torchscript,
    _open_zip,
    _torch_load,
    _torch_load_zip,
)
from codegen.load.safetensors_file import (
    _finish_safetensors,
    _looks_like_safetensors,
    _looks_like_truncated_safetensors,
)
from codegen.files import regular_file_size
from codegen.load.legacy_model import describe_legacy_model
from codegen.load.module_pickle import describe_model, open_whole_model
from codegen.load.restricted import check_member_sizes
from codegen.load.shards import _open_shard_index
from codegen.load.table import Checkpoint, TensorEntry, TensorTable, _check_names, _in_file
from codegen.load.torchscript import _open_torchscript
from codegen.load.unwrap import _entries_from_tensors, _unwrap

# One module per format (pickled, torchscript, safetensors_file, shards), unwrapping in unwrap.py,
# the result types in table.py; this module sniffs the format and dispatches.
__all__ = ["Checkpoint", "TensorEntry", "TensorTable", "open_checkpoint"]

MAX_MESSAGE = 400


# ----------------------------------------------------------------------------------------- entry


def open_checkpoint(
    path: str | Path,
    key: str | None = None,
    strip: bool = True,
    strip_prefixes: tuple[str, ...] = (),
) -> Checkpoint:
    """Open any supported checkpoint. Raises ModelgenError with a one-line message on bad input."""
    try:
        checkpoint = _open(Path(path), key, strip, tuple(strip_prefixes))
        if Path(path).is_dir():  # a Hugging Face style folder: its config.json is evidence
            config = read_config(Path(path))
            if config:
                checkpoint.table.metadata = {**checkpoint.table.metadata, CONFIG_NAME: config}
        return checkpoint
    except ModelgenError as e:
        # Key names and library messages can hold newlines; the contract is one line on stderr.
        text = str(e)
        one_line = " ".join(text.splitlines())
        if one_line != text or len(one_line) > MAX_MESSAGE:
            raise type(e)(one_line[:MAX_MESSAGE]) from None
        raise


def _open(path: Path, key: str | None, strip: bool, prefixes: tuple[str, ...]) -> Checkpoint:
    try:
        exists, is_dir = path.exists(), path.is_dir()
    except OSError as e:
        raise ModelgenError(f"{path}: cannot read ({e.strerror or e})") from None
    if not exists:
        raise ModelgenError(f"{path}: no such file")
    if is_dir:
        path = _checkpoint_in_directory(path)
    size = regular_file_size(path)
    try:
        with path.open("rb") as f:
            head = f.read(16)
    except OSError as e:
        raise ModelgenError(f"{path.name}: cannot read ({e.strerror or e})") from None
    if size == 0:
        raise ModelgenError(f"{path.name}: empty file, not a checkpoint")

    lazy = False  # True when raw holds descriptions and state_dict() must read the file with torch
    if head.startswith(b"PK\x03\x04"):
        with _open_zip(path) as z:  # one read of the directory: 10,000 keys are 10,000 entries
            names = z.namelist()
            _in_file(path.name, check_member_sizes, z)
            raw = None if _is_torchscript(names) else _in_file(path.name, _describe_zip, z, names)
            model = None
            if raw is None and not _is_torchscript(names):  # whole-model pickles: described
                model = _in_file(path.name, describe_model, z)
        if model is not None:
            whole = open_whole_model(path, names[0].split("/")[0], model, key, strip, prefixes)
            if whole is not None:
                return whole
        if _is_torchscript(names):
            return _open_torchscript(path, key, strip, prefixes)
        fmt = "torch-zip"
        lazy = raw is not None
        raw = raw if lazy else _torch_load_zip(path, names)
    elif _looks_like_safetensors(head, size):
        return _finish_safetensors(path, key, strip, prefixes)
    elif _looks_like_truncated_safetensors(head, size):
        raise ModelgenError(f"{path.name}: truncated safetensors file (header runs past the end)")
    elif head.lstrip().startswith(b"{"):
        return _open_shard_index(path, key, strip, prefixes)
    elif head[:1] == b"\x80" and (legacy := _in_file(path.name, describe_legacy_model, path, size)):
        model, storages = legacy
        whole = open_whole_model(
            path, "", model, key, strip, prefixes, storages.read, "torch-legacy-model"
        )
        if whole is not None:
            return whole
        raw, fmt = _torch_load(path, mmap=False, skip_data=True), "torch-legacy"
        lazy = _can_skip_data()
        if lazy:
            _check_legacy_length(path, size, raw)
    elif head[:1] == b"\x80":
        # Legacy files cannot be memory-mapped: describe them without their bytes (skip_data), and
        # read them for real only when state_dict() asks.
        raw, fmt = _torch_load(path, mmap=False, skip_data=True), "torch-legacy"
        lazy = _can_skip_data()
        if lazy:  # torch did not read the tensor bytes: make sure the file holds them
            _check_legacy_length(path, size, raw)
    elif head.startswith(b"PK"):
        raise ModelgenError(f"{path.name}: corrupt or truncated zip archive (bad local header)")
    else:
        raise ModelgenError(
            f"{path.name}: unknown format (not a PyTorch zip/pickle, safetensors or shard index file)"
        )
    state, info = _in_file(path.name, _unwrap, raw, key, strip, prefixes)
    table = TensorTable(
        source=path.name,
        format=fmt,
        tensors=_in_file(path.name, _entries_from_tensors, state),
        **info,
    )
    _check_names(table)

    def materialize() -> dict[str, Any]:
        if not lazy:
            return state
        try:
            full = _torch_load(path, mmap=fmt == "torch-zip")
            return _in_file(path.name, _unwrap, full, key, strip, prefixes)[0]
        except ModelgenError as e:  # the pickle was fine but its data was not (a truncated file)
            reason = str(e).removeprefix(f"{path.name}: ")
            raise ModelgenError(f"{path.name}: cannot read tensor data ({reason})") from None

    return Checkpoint(table, materialize)


def _checkpoint_in_directory(directory: Path) -> Path:
    """Accept a Hugging Face style folder when it holds one index or one weights file.

    Hub folders often carry the same weights twice (safetensors and .bin); safetensors wins.
    """
    try:
        files = sorted(p for p in directory.iterdir() if p.is_file())
    except OSError as e:
        raise ModelgenError(f"{directory}: cannot list directory ({e.strerror or e})") from None
    indexes = [p for p in files if p.name.endswith(".index.json")]
    weights = [p for p in files if p.suffix in {".safetensors", ".bin", ".pt", ".pth", ".ckpt"}]
    for group in (indexes, weights):
        if len(group) == 1:
            return group[0]
        preferred = [p for p in group if ".safetensors" in p.name]
        if len(preferred) == 1:
            return preferred[0]
        if group:
            names = ", ".join(p.name for p in group[:6]) + (", ..." if len(group) > 6 else "")
            raise ModelgenError(
                f"{directory}: is a directory with several checkpoints ({names}); pass one"
            )
    raise ModelgenError(
        f"{directory}: is a directory with no checkpoint file; pass the checkpoint file"
    )
