"""`--train PATTERNS`: which parameters train, freezing the rest, and proving the rest did not move.

A pattern is a module name (`output_layer`), a parameter name, or an fnmatch glob over either
(`encoder.layers.*.linear2`, `*.bias`); a glob matches a parameter when it matches the parameter's name
or the name of any module that contains it.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any, Mapping

from codegen.errors import ModelgenError


@dataclass
class Selection:
    names: list[str]  # trainable parameter names, tied aliases included
    params: list[Any]  # the trainable parameters, each once
    trainable: int  # element counts
    total: int

    def summary(self) -> str:
        share = 100.0 * self.trainable / self.total if self.total else 0.0
        return f"{self.trainable:,} of {self.total:,} parameters trainable ({share:.2f}%) in {len(self.params)} tensor(s)"


def split_patterns(text: str) -> list[str]:
    patterns = [p.strip() for p in text.split(",") if p.strip()]
    if not patterns:
        raise ModelgenError("--train: give at least one module name or glob")
    return patterns


def freeze(model: Any, patterns: list[str]) -> Selection:
    """Set requires_grad on the matched parameters only; one-line error for a pattern matching nothing."""
    named = list(model.named_parameters(remove_duplicate=False))  # aliases of tied weights too
    chosen: dict[int, Any] = {}
    names: list[str] = []
    for pattern in patterns:
        hits = [(n, p) for n, p in named if _matches(n, pattern)]
        if not hits:
            top = ", ".join(name for name, _ in model.named_children())
            raise ModelgenError(
                f"--train {pattern}: matches no parameter (top-level modules: {top})"
            )
        for n, p in hits:
            chosen.setdefault(id(p), p)
            if n not in names:
                names.append(n)
    for p in model.parameters():
        p.requires_grad_(id(p) in chosen)
    total = sum(p.numel() for p in model.parameters())
    params = list(chosen.values())
    return Selection(names, params, sum(p.numel() for p in params), total)


def _matches(name: str, pattern: str) -> bool:
    parts = name.split(".")
    prefixes = (".".join(parts[:i]) for i in range(1, len(parts) + 1))
    return any(p == pattern or fnmatchcase(p, pattern) for p in prefixes)


def set_train_modes(model: Any, selection: Selection) -> None:
    """Eval mode for everything frozen (no dropout, no BatchNorm statistics updates), train mode for
    modules whose parameters all train, so their dropout and normalisation behave as in training."""
    ids = {id(p) for p in selection.params}
    model.eval()
    for module in model.modules():
        params = list(module.parameters())
        if params and all(id(p) in ids for p in params):
            module.train()


def tuned_keys(model: Any, selection: Selection) -> set[str]:
    """State-dict keys allowed to change: trainable parameters (under every alias) and the buffers of
    modules that train (BatchNorm statistics)."""
    ids = {id(p) for p in selection.params}
    keys = {k for k, v in model.state_dict(keep_vars=True).items() if id(v) in ids}
    for name, module in model.named_modules():
        if module.training:
            keys.update(
                f"{name}.{b}" if name else b for b, _ in module.named_buffers(recurse=False)
            )
    return keys


def changed_frozen(
    current: Mapping[str, Any], original: Mapping[str, Any], allowed: set[str]
) -> list[str]:
    """Keys outside `allowed` whose tensors are not bit-identical to the checkpoint's (as loaded, i.e.
    converted to the model's dtype)."""
    return [k for k, v in original.items() if k not in allowed and not bit_equal(current[k], v)]


def bit_equal(a: Any, b: Any) -> bool:
    import torch

    a = a.detach().cpu()
    b = b.detach().cpu().to(a.dtype)
    if a.shape != b.shape:
        return False
    # Compare bytes, not values: NaN == NaN here, and -0.0 != 0.0.
    return torch.equal(a.reshape(-1).view(torch.uint8), b.reshape(-1).view(torch.uint8))
