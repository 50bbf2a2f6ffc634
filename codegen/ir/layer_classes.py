"""Layer classes torch.nn has no plain type for, printed once above a generated file's classes:
a Linear or conv whose weight is stored reparametrised, as torch.nn.utils.weight_norm (`weight_g`,
`weight_v`), torch.nn.utils.parametrizations.weight_norm (`parametrizations.weight.original0/1`)
and torch.nn.utils.spectral_norm (`weight_orig`, `weight_u`, `weight_v`) store it, or whose
weight a mask of its shape multiplies (a `mask` buffer; torch.nn.utils.prune's `weight_mask`) or a
constant scales (an equalized learning rate's `weight_orig`).

Each subclasses its torch.nn layer (same constructor, plus `norm_dim`) and computes the weight in
its forward, as torch's hook does: torch's own helpers wrap a layer in hooks that do not script.
The analyzer builds them on the meta device to prove a recognised call right
(analyze/verify.py); the renderer prints the text of those a file uses. Fixed text owned by
modelgen: nothing from a checkpoint reaches it.
"""

from __future__ import annotations

import functools
import re
from typing import Any

# The torch.nn layers a reparametrised weight is found on.
BASES = ("Linear", "Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d")
NAME = re.compile(
    r"(WeightNorm|ParametrizedWeightNorm|SpectralNorm|ScaledStd|Masked|Pruned|EqualLR)("
    + "|".join(BASES)
    + r")"
)


def nn_base(type_name: str) -> str | None:
    """The torch.nn type a layer class extends (`nn.Conv1d` for WeightNormConv1d); None for a
    name that is no layer class."""
    found = NAME.fullmatch(type_name)
    return f"nn.{found[2]}" if found else None


def _apply(base: str, weight: str) -> str:
    """The base layer's computation with `weight` in place of its own."""
    if base == "Linear":
        return f"F.linear(x, {weight}, self.bias)"
    if base.startswith("ConvTranspose"):
        # one argument a line, as black lays the call out in the forward (the text is black's)
        args = ["x", weight, "self.bias", "self.stride", "self.padding", "self.output_padding"]
        lines = "".join(f"            {a},\n" for a in args + ["self.groups", "self.dilation"])
        return f"F.conv_transpose{base[-2]}d(\n{lines}        )"
    return f"self._conv_forward(x, {weight}, self.bias)"


_WEIGHT_NORM = '''
class WeightNorm{base}(nn.{base}):
    """nn.{base}, its weight stored as torch.nn.utils.weight_norm stores it.

    A magnitude `weight_g` and a direction `weight_v`: the weight is g * v / ||v||, the norm
    taken over every dimension but `norm_dim` (the one g keeps)."""

    def __init__(self, *args, norm_dim: int = 0, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.norm_dim = norm_dim
        direction = self.weight.detach()
        del self.weight
        self.weight_g = nn.Parameter(torch.norm_except_dim(direction, 2, norm_dim))
        self.weight_v = nn.Parameter(direction)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        norm = torch.norm_except_dim(self.weight_v, 2, self.norm_dim)
        weight = self.weight_v * (self.weight_g / norm)
        return {apply}
'''

_PARAMETRIZED_WEIGHT_NORM = '''
class ParametrizedWeightNorm{base}(nn.{base}):
    """nn.{base}, its weight stored as torch.nn.utils.parametrizations.weight_norm stores it.

    `parametrizations.weight.original0` (the magnitude g) and `original1` (the direction v): the
    weight is g * v / ||v||, the norm taken over every dimension but `norm_dim` (the one g keeps).
    Plain tensors where torch keeps a parametrization, which does not script."""

    def __init__(self, *args, norm_dim: int = 0, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.norm_dim = norm_dim
        direction = self.weight.detach()
        del self.weight
        magnitude = torch.norm_except_dim(direction, 2, norm_dim)
        parts = {{"original0": nn.Parameter(magnitude), "original1": nn.Parameter(direction)}}
        self.parametrizations = nn.ModuleDict({{"weight": nn.ParameterDict(parts)}})

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        parts = self.parametrizations["weight"]
        magnitude, direction = parts["original0"], parts["original1"]
        norm = torch.norm_except_dim(direction, 2, self.norm_dim)
        weight = direction * (magnitude / norm)
        return {apply}
'''

_SPECTRAL_NORM = '''
class SpectralNorm{base}(nn.{base}):
    """nn.{base}, its weight stored as torch.nn.utils.spectral_norm stores it.

    `weight_orig`, and buffers `weight_u` / `weight_v`: the power iteration's estimates of its
    first singular vectors. The weight is weight_orig / sigma, sigma = u . (W v), W being
    weight_orig as a matrix whose rows run along `norm_dim`. Training first refines u and v by
    one power-iteration step a call, as torch's does by default (eps 1e-12); evaluation uses them
    as saved."""

    def __init__(self, *args, norm_dim: int = {dim}, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.norm_dim = norm_dim
        weight = self.weight.detach()
        del self.weight
        self.weight_orig = nn.Parameter(weight)
        rows = weight.size(norm_dim)
        u = F.normalize(weight.new_empty(rows).normal_(), dim=0, eps=1e-12)
        v = F.normalize(weight.new_empty(weight.numel() // rows).normal_(), dim=0, eps=1e-12)
        self.register_buffer("weight_u", u)
        self.register_buffer("weight_v", v)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        matrix = self.weight_orig.movedim(self.norm_dim, 0).flatten(1)
        u, v = self.weight_u, self.weight_v
        if self.training:
            with torch.no_grad():
                v = F.normalize(torch.mv(matrix.t(), u), dim=0, eps=1e-12, out=v)
                u = F.normalize(torch.mv(matrix, v), dim=0, eps=1e-12, out=u)
            u = u.clone(memory_format=torch.contiguous_format)
            v = v.clone(memory_format=torch.contiguous_format)
        sigma = torch.dot(u, torch.mv(matrix, v))
        return {apply}
'''


_SCALED_STD = '''
class ScaledStd{base}(nn.{base}):
    """nn.{base} whose filters are standardised when called, then scaled per output channel by a
    learned `gain` and by gamma / sqrt(fan_in): Brock et al. 2021's scaled weight
    standardisation (timm's ScaledStdConv2d, the convs of its NF-ResNets and NFNets)."""

    def __init__(self, *args, gamma: float = 1.0, eps: float = 1e-6, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.gain = nn.Parameter(torch.ones(self.out_channels, 1, 1, 1))
        self.scale = gamma * self.weight[0].numel() ** -0.5
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        var, mean = torch.var_mean(self.weight, dim=[1, 2, 3], keepdim=True, unbiased=False)
        weight = (self.weight - mean) * torch.rsqrt(var + self.eps) * (self.gain * self.scale)
        return {apply}
'''


_MASKED = '''
class Masked{base}(nn.{base}):
    """nn.{base} whose weight is multiplied by a fixed `mask` buffer of its shape when called:
    the masked layers of autoregressive models (PixelCNN's type A / B convs, MADE's linears),
    which zero the connections to what a position may not see."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.register_buffer("mask", torch.ones_like(self.weight))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weight = self.weight * self.mask
        return {apply}
'''

_PRUNED = '''
class Pruned{base}(nn.{base}):
    """nn.{base}, its weight stored as torch.nn.utils.prune stores it: `weight_orig` and a
    buffer `weight_mask` of its shape; the weight is their product (prune's forward pre-hook)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        weight = self.weight.detach()
        del self.weight
        self.weight_orig = nn.Parameter(weight)
        self.register_buffer("weight_mask", torch.ones_like(weight))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weight = self.weight_orig * self.weight_mask
        return {apply}
'''

_EQUAL_LR = '''
class EqualLR{base}(nn.{base}):
    """nn.{base} with an equalized learning rate (Karras et al. 2018, progressive GANs): the
    weight is stored unscaled as `weight_orig` and multiplied when called by gain / sqrt(fan_in),
    fan_in being the weight's size along dimension 1 times its kernel's (rosinality's EqualLR
    hook in his ProGAN and StyleGAN ports: gain sqrt(2))."""

    def __init__(self, *args, gain: float = 2**0.5, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        weight = self.weight.detach()
        del self.weight
        self.weight_orig = nn.Parameter(weight)
        self.scale = gain * weight[0].numel() ** -0.5

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weight = self.weight_orig * self.scale
        return {apply}
'''


# The classes whose forward computes a local `weight` and applies it (spectral norm, below,
# applies `weight_orig / sigma` and normalises along its own dimension).
_COMPUTED_WEIGHT = {
    "WeightNorm": _WEIGHT_NORM,
    "ParametrizedWeightNorm": _PARAMETRIZED_WEIGHT_NORM,
    "ScaledStd": _SCALED_STD,
    "Masked": _MASKED,
    "Pruned": _PRUNED,
    "EqualLR": _EQUAL_LR,
}


def text(type_name: str) -> str | None:
    """The class's source, or None for a name that is no layer class."""
    found = NAME.fullmatch(type_name)
    if found is None:
        return None
    kind, base = found[1], found[2]
    if kind in _COMPUTED_WEIGHT:  # each computes `weight` in its forward, then applies it
        return _COMPUTED_WEIGHT[kind].format(base=base, apply=_apply(base, "weight"))
    # torch's spectral_norm normalises a transposed conv's weight along its dimension 1 (the
    # output channels), every other layer's along dimension 0
    dim = 1 if base.startswith("ConvTranspose") else 0
    return _SPECTRAL_NORM.format(base=base, dim=dim, apply=_apply(base, "self.weight_orig / sigma"))


# What a class's text uses beyond torch and nn (the file imports it too).
IMPORTS = ("F",)


@functools.lru_cache(maxsize=None)
def layer_class(type_name: str) -> Any:
    """The class itself, for building on the meta device; None for a name that is no layer class."""
    source = text(type_name)
    if source is None:
        return None
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    namespace: dict[str, Any] = {"torch": torch, "nn": nn, "F": F}
    exec(compile(source, f"<modelgen {type_name}>", "exec"), namespace)  # noqa: S102 - fixed text
    return namespace[type_name]
