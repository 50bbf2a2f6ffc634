"""Read a DATA file (inputs and targets for verify/finetune) and check it is usable.

DATA is a torch file read with `weights_only=True`, in one of these layouts:
`{"inputs": T | tuple | list, "outputs" | "targets": T}`, `{"x"|"X"|"input": ..., "y"|"target": ...}`,
a 2-tuple `(inputs, outputs)`, a bare tensor (inputs only), or any dict whose keys `--inputs K1,K2` and
`--target K` name. Inputs may be one tensor, a tuple or list (passed in order), or a dict of named
tensors such as a tokenizer's output (passed in the order forward takes them, see `in_order`).
Dimension 0 of every tensor is the sample dimension.
"""

from __future__ import annotations

import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codegen.errors import ModelgenError

INPUT_KEYS = ("inputs", "x", "X", "input")
TARGET_KEYS = ("outputs", "targets", "y", "target")
# Keys that name what the original model computed (a 2-tuple's second item is read as "outputs").
# Any other target (`targets`, `y`, a key --target names) is what a model was trained towards:
# such DATA cannot prove a forward exact, only say how well it fits.
OUTPUT_KEYS = ("outputs", "output")


@dataclass
class Dataset:
    inputs: tuple[Any, ...]  # tensors, passed to forward positionally
    target: Any | None
    input_names: tuple[str, ...]
    target_name: str | None
    source: str  # file name, for messages
    named: bool = False  # inputs came as a dict of names, to be matched to forward's parameters

    def __len__(self) -> int:
        return int(self.inputs[0].shape[0])

    def take(self, index: Any) -> "Dataset":
        """The samples at `index` (a slice or an index tensor)."""
        return Dataset(
            tuple(t[index] for t in self.inputs),
            None if self.target is None else self.target[index],
            self.input_names,
            self.target_name,
            self.source,
            self.named,
        )

    def in_order(self, params: list[str] | None) -> "Dataset":
        """Named inputs put in the order of forward's positional `params` (None: forward takes
        *args, order kept). The names must be the first parameters, in any order: a parameter
        that would have to be skipped cannot be passed positionally, so that is one line. A
        single input is forward's first, whatever its name (`pixel_values` for `forward(x)`)."""
        if not self.named or params is None:
            return self
        signature = f"forward({', '.join(params)})"
        unknown = [n for n in self.input_names if n not in params]
        if unknown and len(self.inputs) == 1:  # one tensor, whatever its name: the first input
            return Dataset(
                self.inputs, self.target, self.input_names, self.target_name, self.source
            )
        if unknown:
            raise ModelgenError(
                f"{self.source}: input {unknown[0]!r} is not a parameter of {signature}"
            )
        wanted = params[: len(self.input_names)]
        missing = [p for p in wanted if p not in self.input_names]
        if missing:
            raise ModelgenError(
                f"{self.source}: {signature} takes {missing[0]!r} before "
                f"{', '.join(n for n in self.input_names if n not in wanted)}, and DATA has no "
                f"{missing[0]!r}; add it, or choose the inputs with --inputs K1,K2"
            )
        by_name = dict(zip(self.input_names, self.inputs))
        return Dataset(
            tuple(by_name[p] for p in wanted),
            self.target,
            tuple(wanted),
            self.target_name,
            self.source,
            named=False,
        )

    @property
    def holds_training_targets(self) -> bool:
        """True when the target is what the model was trained towards (`targets`, `y`, any key
        --target names other than `outputs`), not its recorded outputs (`outputs`, a 2-tuple)."""
        return self.target is not None and self.target_name not in OUTPUT_KEYS

    def describe(self) -> str:
        parts = [f"{n} {_shape(t)}" for n, t in zip(self.input_names, self.inputs)]
        if self.target is not None:
            parts.append(f"target {self.target_name} {_shape(self.target)}")
        return ", ".join(parts)


def load_data(
    path: str | Path, inputs: str | None = None, target: str | None = None, need_target: bool = True
) -> Dataset:
    """Load and validate DATA; every problem is a one-line ModelgenError naming the key at fault."""
    path = Path(path)
    raw = _read(path)
    name = path.name
    input_keys = [k.strip() for k in inputs.split(",") if k.strip()] if inputs else None
    if input_keys is not None or target is not None:
        ins, in_names, tgt, tgt_name = _by_keys(raw, name, input_keys, target)
    else:
        ins, in_names, tgt, tgt_name = _by_layout(raw, name)
    if need_target and tgt is None:
        raise ModelgenError(f"{name}: no target found; name it with --target K{_keys_hint(raw)}")
    named = input_keys is None and _holds_named_inputs(raw)
    data = Dataset(tuple(ins), tgt, tuple(in_names), tgt_name, name, named)
    _validate(data)
    return data


def _read(path: Path) -> Any:
    # The checkpoint loader's reader: weights_only, the same allow-list and one-line errors.
    from codegen.load.pickled import _torch_load

    if not path.is_file():
        raise ModelgenError(f"{path}: no such file")
    return _torch_load(path, mmap=zipfile.is_zipfile(path))


def _by_keys(raw: Any, name: str, input_keys: list[str] | None, target: str | None) -> tuple:
    if not isinstance(raw, Mapping):
        raise ModelgenError(
            f"{name}: --inputs/--target name dict keys, but the file holds a {type(raw).__name__}"
        )
    if input_keys is None:
        key = next((k for k in INPUT_KEYS if k in raw), None)
        if key is None:
            raise ModelgenError(
                f"{name}: no inputs found; name them with --inputs K1,K2{_keys_hint(raw)}"
            )
        ins, in_names = _as_inputs(raw[key], key)
    else:
        for k in input_keys:
            if k not in raw:
                raise ModelgenError(f"{name}: no key {k!r} for --inputs{_keys_hint(raw)}")
        ins, in_names = [raw[k] for k in input_keys], input_keys
    if target is not None:
        if target not in raw:
            raise ModelgenError(f"{name}: no key {target!r} for --target{_keys_hint(raw)}")
        return ins, in_names, raw[target], target
    key = next((k for k in TARGET_KEYS if k in raw), None)
    return ins, in_names, (raw[key] if key else None), key


def _by_layout(raw: Any, name: str) -> tuple:
    if _is_tensor(raw):
        return [raw], ["inputs"], None, None
    if isinstance(raw, (tuple, list)) and len(raw) == 2:
        ins, in_names = _as_inputs(raw[0], "inputs")
        return ins, in_names, raw[1], "outputs"
    if isinstance(raw, Mapping):
        return _by_keys(raw, name, None, None)
    raise ModelgenError(
        f"{name}: unknown DATA layout ({type(raw).__name__}); expected a dict such as "
        "{'inputs': ..., 'targets': ...} or a 2-tuple (inputs, outputs)"
    )


def _as_inputs(value: Any, key: str) -> tuple[list[Any], list[str]]:
    if isinstance(value, (tuple, list)):
        return list(value), [f"{key}[{i}]" for i in range(len(value))]
    if isinstance(value, Mapping):  # named inputs: {"input_ids": ..., "attention_mask": ...}
        return list(value.values()), [str(k) for k in value]
    return [value], [key]


def _holds_named_inputs(raw: Any) -> bool:
    """True when DATA's inputs are a dict of names (matched to forward's parameters later)."""
    if isinstance(raw, (tuple, list)) and len(raw) == 2:
        return isinstance(raw[0], Mapping)
    if isinstance(raw, Mapping):
        key = next((k for k in INPUT_KEYS if k in raw), None)
        return key is not None and isinstance(raw[key], Mapping)
    return False


def _validate(data: Dataset) -> None:
    named = list(zip(data.input_names, data.inputs))
    if data.target is not None:
        named.append((data.target_name or "target", data.target))
    if not data.inputs:
        raise ModelgenError(f"{data.source}: no inputs")
    for key, t in named:
        if not _is_tensor(t):
            raise ModelgenError(f"{data.source}: {key} is a {type(t).__name__}, not a tensor")
        if t.dim() == 0:
            raise ModelgenError(
                f"{data.source}: {key} is a scalar; dimension 0 must count the samples"
            )
    counts = {key: int(t.shape[0]) for key, t in named}
    if len(set(counts.values())) > 1:
        listed = ", ".join(f"{k} has {n}" for k, n in counts.items())
        raise ModelgenError(f"{data.source}: inputs and target differ in sample count ({listed})")
    if not next(iter(counts.values())):
        raise ModelgenError(f"{data.source}: holds 0 samples")
    for key, t in named:
        if t.is_floating_point() or t.is_complex():
            import torch

            nan, inf = int(torch.isnan(t).sum()), int(torch.isinf(t).sum())
            if nan or inf:
                what = " and ".join(
                    x for x in (f"{nan} NaN" if nan else "", f"{inf} inf" if inf else "") if x
                )
                raise ModelgenError(f"{data.source}: {key} holds {what} value(s)")


def _is_tensor(v: Any) -> bool:
    import torch

    return isinstance(v, torch.Tensor)


def _keys_hint(raw: Any) -> str:
    if isinstance(raw, Mapping):
        return f" (keys: {', '.join(map(str, raw))})"
    return ""


def _shape(t: Any) -> str:
    return f"[{', '.join(map(str, t.shape))}] {str(t.dtype).removeprefix('torch.')}"
