"""When only trailing layers train, the frozen trunk's output can be computed once and cached.

`find_head` picks the smallest module holding every trainable parameter (or, inside an nn.Sequential,
the run of children from the first trainable one), and `probe` proves on real inputs that the model's
output is exactly that head applied to its cached input: the head is called once, its inputs are
batch-first tensors, its output *is* the model's output, and rerunning it on the captured input gives
the same values. Anything else trains on full forwards instead, which is slower but always right.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn as nn


@dataclass
class Head:
    name: str  # for messages: "output_layer", "classifier[2:]"
    module: nn.Module  # what runs on the cached features
    entry: nn.Module  # whose positional inputs are the features
    exit: nn.Module  # whose output is the model's output


def find_head(model: nn.Module, trainable_names: list[str]) -> tuple[Head | None, str]:
    """The cacheable head for these trainable parameters, or None and the reason there is none."""
    paths = [n.rpartition(".")[0].split(".") if "." in n else [] for n in trainable_names]
    common: list[str] = []
    for parts in zip(*paths):
        if len(set(parts)) > 1:
            break
        common.append(parts[0])
    lca_name = ".".join(common)
    lca = model.get_submodule(lca_name)
    if type(lca) is nn.Sequential:  # exactly Sequential: a subclass may have its own forward
        children = list(lca.named_children())
        prefix = f"{lca_name}." if lca_name else ""
        first = next(
            (
                i
                for i, (n, _) in enumerate(children)
                if any(t.startswith(f"{prefix}{n}.") for t in trainable_names)
            ),
            0,
        )
        if first == 0 and not lca_name:
            return None, "the trainable parameters start at the model's first layer"
        tail = nn.Sequential(*(m for _, m in children[first:])) if first else lca
        label = f"{lca_name or 'model'}[{first}:]" if first else lca_name
        return Head(label, tail, children[first][1] if first else lca, lca), ""
    if not lca_name:
        return None, "the trainable parameters are spread over the whole model"
    return Head(lca_name, lca, lca, lca), ""


class InputCapture:
    """Records the positional inputs of every call of a module, and how often it ran."""

    def __init__(self, module: nn.Module) -> None:
        self.args: tuple[Any, ...] = ()
        self.kwargs: dict[str, Any] = {}
        self.calls = 0
        self._handle = module.register_forward_pre_hook(self._hook, with_kwargs=True)

    def _hook(self, module: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        self.args, self.kwargs = args, kwargs
        self.calls += 1

    def close(self) -> None:
        self._handle.remove()

    def __enter__(self) -> "InputCapture":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def probe(model: nn.Module, head: Head, inputs: tuple[Any, ...]) -> str:
    """Empty string when the model's output is head.module(captured inputs), else the reason it is not."""
    batch = inputs[0].shape[0]
    outputs: list[Any] = []
    handle = head.exit.register_forward_hook(lambda m, a, out: outputs.append(out))
    try:
        with InputCapture(head.entry) as capture, torch.no_grad():
            result = model(*inputs)
    finally:
        handle.remove()
    if capture.calls != 1 or len(outputs) != 1:
        return f"{head.name} runs {max(capture.calls, len(outputs))} times per forward"
    if capture.kwargs or not all(
        isinstance(a, torch.Tensor) and a.dim() and a.shape[0] == batch for a in capture.args
    ):
        return f"{head.name} takes inputs that are not batch-first tensors"
    if outputs[0] is not result:
        return f"the model's output is not {head.name}'s output"
    with torch.no_grad():
        again = head.module(*capture.args)
    if not torch.equal(again, result):
        return f"{head.name} does not reproduce the model's output from its inputs alone"
    return ""
