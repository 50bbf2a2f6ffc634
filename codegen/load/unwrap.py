"""Find the state dict inside a trainer dict, strip wrapper prefixes, keep metadata as hints."""

from __future__ import annotations

import math
import sys
from itertools import islice
from collections.abc import Mapping
from typing import Any, Callable, Iterator

from codegen.errors import ModelgenError, first_line
from codegen.load.table import Checkpoint, TensorEntry, TensorTable, _check_names, _in_file
from codegen.load.torchzip import PickledTensor

# Trainer dicts keep the weights under one of these keys; earlier names win when several are present.
STATE_DICT_KEYS = (
    "state_dict",
    "model_state_dict",
    "model",
    "module",
    "net",
    "network",
    "params",
    "weights",
    "ema",
    "model_ema",
    "ema_state_dict",
)
# Tensors under these keys belong to the training run, not to the model.
NOT_MODEL_KEYS = frozenset(
    {
        "optimizer",
        "optimizer_state_dict",
        "optimizer_states",
        "optim",
        "lr_scheduler",
        "scheduler",
        "lr_schedulers",
        "scaler",
        "grad_scaler",
        "loops",
        "callbacks",
        "rng_state",
    }
)
WRAPPER_PREFIXES = ("module.", "_orig_mod.")

# Hostile pickles can nest containers deeply or share them exponentially often; real trainer dicts
# are a few levels deep and a few thousand containers wide.
MAX_DEPTH = 32
MAX_CONTAINERS = 50_000
# Metadata is shown, not used: written out to this depth and width, within this many values in all.
MAX_METADATA_DEPTH = 6
MAX_METADATA_ITEMS = 1000
MAX_METADATA_NODES = 100_000
TOO_LARGE = "(too large to show)"

# ------------------------------------------------------------------------------------ unwrapping


def _is_tensor(v: Any) -> bool:
    if isinstance(v, PickledTensor):
        return True
    torch = sys.modules.get("torch")  # real tensors exist only once torch.load has imported it
    return torch is not None and isinstance(v, torch.Tensor)


def _items(obj: Any) -> Iterator[tuple[str, Any]]:
    """(path segment, value) of a container: mapping keys, or list/tuple indices as "0", "1"..."""
    if isinstance(obj, Mapping):
        yield from ((k, v) for k, v in obj.items() if isinstance(k, str))
    elif isinstance(obj, (list, tuple)):
        yield from ((str(i), v) for i, v in enumerate(obj))


class _Walk:
    """Shared state of one look through an unpickled object: a memo and a budget, so that a pickle
    that references one container from everywhere (or nests them deeply) stays cheap."""

    def __init__(self) -> None:
        self.holds: dict[int, bool] = {}
        self.visited = 0

    def tick(self) -> None:
        self.visited += 1
        if self.visited > MAX_CONTAINERS:
            raise ModelgenError("too many nested containers to search for a state dict")

    def has_tensors(self, obj: Any, depth: int = 0) -> bool:
        if _is_tensor(obj):
            return True
        if not isinstance(obj, (Mapping, list, tuple)):
            return False
        if depth > MAX_DEPTH:
            raise ModelgenError(f"containers nested more than {MAX_DEPTH} levels deep")
        if id(obj) not in self.holds:
            self.tick()
            self.holds[id(obj)] = False  # a cycle counts as "no"
            values = (
                obj.values() if isinstance(obj, Mapping) else obj
            )  # any keys: Adam's state is by int
            self.holds[id(obj)] = any(self.has_tensors(v, depth + 1) for v in values)
        return self.holds[id(obj)]

    def is_state_dict(self, obj: Any) -> bool:
        """A mapping of names to tensors. Non-tensor scalars (an `epoch` saved beside the weights) are
        tolerated; nested containers holding tensors are not: those make it a trainer dict."""
        if not isinstance(obj, Mapping) or not obj or not all(isinstance(k, str) for k in obj):
            return False
        has_tensor = False
        for k, v in obj.items():
            if _is_tensor(v):
                has_tensor = True
            elif not k.endswith("_extra_state") and self.has_tensors(v):
                return False
        return has_tensor

    def candidates(self, obj: Any, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
        """Key paths of every container below obj that looks like a state dict."""
        if self.is_state_dict(obj):
            return [path]
        if (
            not isinstance(obj, (Mapping, list, tuple))
            or len(path) > MAX_DEPTH
            or not self.has_tensors(obj)
        ):
            return []
        self.tick()
        found: list[tuple[str, ...]] = []
        for k, v in _items(obj):
            if k not in NOT_MODEL_KEYS:
                found += self.candidates(v, path + (k,))
        return found


def _rank(path: tuple[str, ...], obj: Any) -> tuple[int, int, int, int]:
    known = [STATE_DICT_KEYS.index(p) for p in path if p in STATE_DICT_KEYS]
    state = _get(obj, path)
    mixed = sum(1 for v in state.values() if not _is_tensor(v))
    return (min(known) if known else len(STATE_DICT_KEYS), int(mixed > 0), len(path), -len(state))


def _get(obj: Any, path: tuple[str, ...]) -> Any:
    for p in path:
        obj = obj[int(p)] if isinstance(obj, (list, tuple)) else obj[p]
    return obj


def _describe(obj: Any) -> str:
    """A short description of an object and its keys, for error messages."""
    if isinstance(obj, Mapping):
        keys = [
            repr(k) if not isinstance(k, str) or not k.isprintable() else k for k in list(obj)[:8]
        ]
        more = ", ..." if len(obj) > 8 else ""
        return f"a dict with keys {', '.join(keys)}{more}" if obj else "an empty dict"
    if isinstance(obj, (list, tuple)):
        return f"a {type(obj).__name__} of {len(obj)}"
    if _is_tensor(obj):
        return f"a single tensor of shape {list(obj.shape)}"
    return f"a {type(obj).__name__}"


def _select(raw: Any, key: str | None) -> tuple[Any, tuple[str, ...], list[tuple[str, ...]]]:
    walk = _Walk()
    found = walk.candidates(raw)
    found.sort(key=lambda p: _rank(p, raw))
    paths = ", ".join("/".join(p) or "(top level)" for p in found[:8])
    if key:
        base = _parse_key(raw, key)
        below = [p for p in found if p[: len(base)] == base]
        if not below:
            where = f"; state dicts are at: {paths}" if found else ""
            raise ModelgenError(
                f"--key {key}: no state dict (a dict of named tensors) there{where}"
            )
        return _get(raw, below[0]), below[0], [p for p in found if p != below[0]]
    if found:
        return _get(raw, found[0]), found[0], found[1:]
    if _is_tensor(raw):
        raise ModelgenError(f"holds {_describe(raw)}, not a state dict (a dict of named tensors)")
    if not walk.has_tensors(raw):
        raise ModelgenError(f"holds no tensors ({_describe(raw)})")
    training = [k for k, v in _items(raw) if k in NOT_MODEL_KEYS and walk.has_tensors(v)]
    if training:
        raise ModelgenError(f"no model state dict found: tensors only under {', '.join(training)}")
    raise ModelgenError(f"no state dict (a dict of named tensors) found in {_describe(raw)}")


def _parse_key(raw: Any, key: str) -> tuple[str, ...]:
    """`--key` takes `a/b` (or `a.b` when no key of that exact name exists)."""
    tries = [tuple(key.split("/"))] + (
        [tuple(key.split("."))] if "." in key and "/" not in key else []
    )
    for path in tries:
        obj, ok = raw, True
        for i, part in enumerate(path):
            children = dict(_items(obj))
            if part not in children:
                ok = False
                if path is tries[-1]:
                    at = f" under {'/'.join(path[:i])}" if i else ""
                    raise ModelgenError(f"--key {key}: {part!r} not found{at} ({_describe(obj)})")
                break
            obj = children[part]
        if ok:
            return path
    raise ModelgenError(f"--key {key}: not found")  # unreachable: the last try raises


def _strip_plan(
    names: list[str], strip: bool, extra: tuple[str, ...]
) -> tuple[dict[str, str], list[str]]:
    """Prefixes every key shares (DataParallel `module.`, torch.compile `_orig_mod.`, in any nesting).

    An explicit prefix is stripped once, from every key that has it, whenever it shows up between
    wrapper prefixes (`module.` + `backbone.` + `_orig_mod.` works in any order).
    """
    current = {n: n for n in names}
    stripped: list[str] = []
    pending = list(extra)
    progress = True
    while progress and current:
        progress = False
        for prefix in list(pending):
            if any(v.startswith(prefix) for v in current.values()):
                current = {
                    k: v[len(prefix) :] if v.startswith(prefix) else v for k, v in current.items()
                }
                stripped.append(prefix)
                pending.remove(prefix)
                progress = True
        if strip:
            for prefix in WRAPPER_PREFIXES:
                # never strip a key down to nothing: `module.` alone is a real (odd) name
                if all(v.startswith(prefix) and len(v) > len(prefix) for v in current.values()):
                    current = {k: v[len(prefix) :] for k, v in current.items()}
                    stripped.append(prefix)
                    progress = True
    if pending:
        raise ModelgenError(f"--strip-prefix {pending[0]!r}: no key starts with it")
    if stripped and (len(set(current.values())) != len(current) or "" in current.values()):
        seen: dict[str, str] = {}
        for k, v in current.items():
            other = seen.setdefault(v, k)
            if other != k or not v:
                renamed = k if k != v else other  # name the key that stripping changed
                what = "an empty name" if not v else f"{v!r}, which another key already is"
                raise ModelgenError(
                    f"stripping {', '.join(stripped)} would turn {renamed!r} into {what}; "
                    "use --no-strip or another --strip-prefix"
                )
    return current, stripped


def _unwrap(
    raw: Any, key: str | None, strip: bool, strip_prefixes: tuple[str, ...]
) -> tuple[dict[str, Any], dict[str, Any]]:
    state, path, other_paths = _select(raw, key)
    names = [k for k in state if _is_tensor(state[k])]
    renames, stripped = _strip_plan(names, strip, strip_prefixes)
    metadata, ignored = _metadata(raw, path, other_paths)
    info = {
        "metadata": metadata,
        "container": "/".join(path) or None,
        "other_containers": ["/".join(p) for p in other_paths],
        "stripped_prefixes": stripped,
        "ignored": ignored,
    }
    return {renames[n]: state[n] for n in names}, info


def _entries_from_tensors(state: Mapping[str, Any]) -> dict[str, TensorEntry]:
    entries: dict[str, TensorEntry] = {}
    seen: dict[tuple, str] = {}
    for name, t in state.items():
        if getattr(t, "is_nested", False):  # torch.nested: one tensor of rows of differing shapes
            raise ModelgenError(
                f"tensor {name!r} is a nested tensor (torch.nested), which has no single shape; "
                "not supported"
            )
        if isinstance(t, PickledTensor):
            sig: tuple | None = t.view_signature
            shape, dtype, numel = t.shape, t.dtype, math.prod(t.shape)
        else:
            try:
                sig = (
                    t.untyped_storage().data_ptr(),
                    t.storage_offset(),
                    tuple(t.shape),
                    tuple(t.stride()),
                )
            except (
                RuntimeError,
                NotImplementedError,
            ):  # sparse and other layouts have no plain storage
                sig = None
            shape, dtype, numel = tuple(t.shape), str(t.dtype).removeprefix("torch."), t.numel()
        tied = seen.get(sig) if sig is not None and numel else None
        if sig is not None:
            seen.setdefault(sig, name)
        entries[name] = TensorEntry(name, shape, dtype, tied)
    return entries


def _metadata(
    raw: Any, path: tuple[str, ...], others: list[tuple[str, ...]]
) -> tuple[dict[str, Any], list[str]]:
    """Non-tensor entries around the state dict (epoch, config, hyper_parameters...), JSON-safe, and
    the key paths of tensors that are not the model (optimizer...).

    Entries at every level of the path count (`{"ckpt": {"config": ..., "model": sd}}`); an outer key
    wins over an inner one of the same name. Entries that lead to the other state dicts are left out:
    they are listed as other containers already.
    """
    walk = _Walk()
    out: dict[str, Any] = {}
    ignored: list[str] = []
    room = [MAX_METADATA_NODES]  # one budget for all the metadata of a file
    for i in range(len(path) + 1):
        at = path[:i]
        for k, v in _items(_get(raw, at)):
            full = at + (k,)
            if i < len(path) and k == path[i]:
                continue
            if any(o[: len(full)] == full for o in others):
                continue
            if walk.has_tensors(v):
                if i < len(path):  # tensors in the chosen state dict itself are the model
                    ignored.append("/".join(full))
            elif not k.endswith("_extra_state"):
                out.setdefault(k, _json_safe(v, room))
    return out, ignored


def _json_safe(v: Any, room: list[int] | None = None) -> Any:
    """Plain JSON values: `json.dumps` must produce valid JSON (no NaN) and finish quickly.

    A pickle can share one container from many places (`[[...] * 200]` six deep is 200**6 paths in
    a few bytes), and json.dumps, str() and the inspect view all write every path. So the size of the
    written form is measured first, with a memo, and a value over the node budget becomes TOO_LARGE
    instead. `room` lets a caller share one budget between several values.
    """
    room = room if room is not None else [MAX_METADATA_NODES]
    size = _written_size(v, 0, room[0], {})
    if size > room[0]:
        return TOO_LARGE
    room[0] -= size
    return _plain(v, 0)


def _children(v: Any, depth: int) -> list[tuple[Any, Any]] | None:
    """(key, value) pairs _plain writes for a container, None for a leaf: one traversal for both."""
    if depth > MAX_METADATA_DEPTH:
        return None
    if isinstance(v, Mapping):
        return list(islice(v.items(), MAX_METADATA_ITEMS))
    if isinstance(v, (list, tuple)):
        return list(enumerate(islice(v, MAX_METADATA_ITEMS)))
    if hasattr(v, "__dict__") and not callable(v):  # argparse.Namespace and friends
        return list(islice(vars(v).items(), MAX_METADATA_ITEMS))
    return None


def _written_size(v: Any, depth: int, limit: int, memo: dict[tuple[int, int], int]) -> int:
    """Nodes _plain would write for v, counted up to just past `limit`; shared containers once."""
    children = _children(v, depth)
    if children is None:
        return 1
    key = (id(v), depth)
    if key not in memo:
        total = 1
        for _, child in children:
            total += _written_size(child, depth + 1, limit, memo)
            if total > limit:
                break
        memo[key] = total
    return memo[key]


def _plain(v: Any, depth: int) -> Any:
    if depth > MAX_METADATA_DEPTH:
        return "..."
    if v is None or isinstance(v, (bool, int, str)):
        return v
    if isinstance(v, float):
        return v if math.isfinite(v) else str(v)
    children = _children(v, depth)
    if children is None:
        return str(v)[:200]
    if isinstance(v, (list, tuple)):
        return [_plain(x, depth + 1) for _, x in children]
    return {str(k): _plain(x, depth + 1) for k, x in children}


def _flat_checkpoint(
    source: str,
    fmt: str,
    entries: dict[str, TensorEntry],
    metadata: dict[str, Any],
    key: str | None,
    strip: bool,
    prefixes: tuple[str, ...],
    read_tensors: Callable[[], dict[str, Any]],
) -> Checkpoint:
    """Finish a checkpoint described without unpickling: same prefix handling, tensors read on demand."""
    if key:
        raise ModelgenError(
            f"{source}: --key selects inside a trainer dict; {fmt} files hold one flat state dict"
        )
    if not entries:
        raise ModelgenError(f"{source}: holds no tensors")
    renames, stripped = _in_file(source, _strip_plan, list(entries), strip, prefixes)
    tensors = {renames[n]: _rename(e, renames) for n, e in entries.items()}
    table = TensorTable(source, fmt, tensors, metadata=metadata, stripped_prefixes=stripped)
    _check_names(table)

    def materialize() -> dict[str, Any]:
        try:
            data = read_tensors()
        except ModelgenError:
            raise
        except Exception as e:  # the header was fine but the data is not (a later truncation...)
            raise ModelgenError(f"{source}: cannot read tensor data ({first_line(e)})") from None
        return {renames[n]: data[n] for n in entries}

    return Checkpoint(table, materialize)


def _rename(e: TensorEntry, renames: dict[str, str]) -> TensorEntry:
    return TensorEntry(
        renames[e.name], e.shape, e.dtype, renames.get(e.tied_to) if e.tied_to else None
    )
