"""What a checkpoint holds, as names, shapes and dtypes: the loader's output."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Callable

from codegen.errors import ModelgenError
from codegen.load.dtypes import DTYPE_BYTES


@dataclass(frozen=True)
class TensorEntry:
    name: str
    shape: tuple[int, ...]
    dtype: str  # torch dtype name without the "torch." prefix
    tied_to: str | None = None  # first key that shares this tensor's storage, shape and offset

    @property
    def numel(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n

    @property
    def nbytes(self) -> int:
        return self.numel * DTYPE_BYTES.get(self.dtype, 4)


@dataclass
class TensorTable:
    """What a checkpoint holds, as names, shapes and dtypes, plus how it was found."""

    source: str  # file name only: no absolute paths end up in generated files
    format: str
    tensors: dict[str, TensorEntry]
    metadata: dict[str, Any] = field(default_factory=dict)
    container: str | None = None  # key path of the state dict inside a trainer dict ("a/b")
    other_containers: list[str] = field(default_factory=list)
    stripped_prefixes: list[str] = field(default_factory=list)
    # key paths that hold tensors which are not model weights (optimizer, scheduler...)
    ignored: list[str] = field(default_factory=list)
    # Evidence beyond the tensors: the described module tree of a whole-model pickle
    # (codegen.load.module_pickle.ModuleDescription), None for a plain state dict.
    modules: Any = None

    def fingerprint(self) -> str:
        """Stable hash of names, shapes and dtypes: what the generated file depends on. Keys are
        hashed sorted, so one model saved as .pt (module order) and as .safetensors (alphabetical)
        has one fingerprint."""
        return _digest(sorted(self.tensors.values(), key=lambda e: e.name))

    def recorded_by(self, fingerprint: str) -> bool:
        """FINGERPRINT is these weights' own: today's, or the hash in file key order that files
        generated before it was order-free record (so those are not taken for other weights)."""
        return fingerprint in (self.fingerprint(), _digest(self.tensors.values()))

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "format": self.format,
            "container": self.container,
            "other_containers": self.other_containers,
            "ignored": self.ignored,
            "stripped_prefixes": self.stripped_prefixes,
            "fingerprint": self.fingerprint(),
            "metadata": self.metadata,
            "tensors": [
                {"name": e.name, "shape": list(e.shape), "dtype": e.dtype}
                | ({"tied_to": e.tied_to} if e.tied_to else {})
                for e in self.tensors.values()
            ],
        }


@dataclass
class Checkpoint:
    """An opened checkpoint: the table for analysis, and the real tensors on request."""

    table: TensorTable
    _materialize: Callable[[], dict[str, Any]]

    def state_dict(self) -> dict[str, Any]:
        """The unwrapped, prefix-stripped state dict as CPU tensors (memory-mapped where possible)."""
        return dict(self._materialize())


# Real module trees are a few dozen levels deep at most; the tree code downstream is recursive.
MAX_KEY_DEPTH = 100


def _check_names(table: TensorTable) -> None:
    for name in table.tensors:
        if name.count(".") >= MAX_KEY_DEPTH:
            raise ModelgenError(
                f"{table.source}: key {name[:60]!r}... nests {name.count('.') + 1} levels deep "
                f"(more than {MAX_KEY_DEPTH}); not a module tree"
            )


def _in_file(source: str, fn: Callable[..., Any], *args: Any) -> Any:
    """Run a step that raises context-free ModelgenErrors, prefixing them with the file name."""
    try:
        return fn(*args)
    except ModelgenError as e:
        raise ModelgenError(f"{source}: {e}") from None
    except RecursionError:
        raise ModelgenError(f"{source}: containers nested too deeply") from None


def _digest(entries: Any) -> str:
    h = hashlib.sha256()
    for e in entries:
        # surrogatepass: a key may hold a lone surrogate (legal in a pickle, not in UTF-8)
        h.update(
            f"{e.name}\0{','.join(map(str, e.shape))}\0{e.dtype}\n".encode("utf-8", "surrogatepass")
        )
    return h.hexdigest()[:16]
