"""A Linear or conv with an equalized learning rate (Karras et al. 2018, "Progressive growing of
GANs"), as a forward pre-hook stores it: `weight_orig` alone (and a bias), the weight it is
called with being weight_orig * gain / sqrt(fan_in). rosinality's EqualLR (his progressive-GAN
and style-based-GAN ports, and their forks) writes it so, with gain sqrt(2).

`weight_orig` with no other weight key has no other source: torch's spectral_norm adds `weight_u`
and `weight_v` (layers/normalised_weight.py), its prune a `weight_mask` (layers/masked_weight.py).
The layer is what the weight's shape says (layers/conv.py, layers/linear.py read it), built as
ir/layer_classes.py's `EqualLRConv2d` / `EqualLRLinear`. The gain leaves no key: a choice
(sqrt(2), ReLU's He gain, by default; 1 where the scale alone keeps the variance).
"""

from __future__ import annotations

import dataclasses

from codegen.ir import Arg
from codegen.patterns._kit import Example, LayerContext, LayerPattern, Recognised, names, shape
from codegen.patterns.layers.normalised_weight import _as_plain

GAIN = 2**0.5  # rosinality's EqualLR: sqrt(2 / fan_in)


class EqualizedWeightLayer(LayerPattern):
    role = "EqualizedWeightLayer"

    def recognise(self, node, ctx: LayerContext) -> Recognised | None:
        found = names(node)
        if node.children or not {"weight_orig"} <= found <= {"weight_orig", "bias"}:
            return None
        if len(shape(node, "weight_orig")) < 2:
            return None
        plain = _as_plain(node, "weight_orig", ctx)
        if plain is None:
            return None
        gain = ctx.resolver.choose(
            node.path, "gain", GAIN, [1.0], "the equalized weight's gain over sqrt(fan_in)"
        )
        plain.args.append(Arg("gain", gain.value, "choice", choice=gain))
        return dataclasses.replace(plain, type_name="EqualLR" + plain.type_name.removeprefix("nn."))

    @staticmethod
    def examples():
        import math

        import torch
        import torch.nn as nn

        class EqualLR:  # a forward pre-hook scaling `weight_orig` when called (rosinality's)
            @staticmethod
            def apply(module: nn.Module) -> nn.Module:
                weight = module.weight
                del module._parameters["weight"]
                module.register_parameter("weight_orig", nn.Parameter(weight.data))
                module.register_forward_pre_hook(EqualLR())
                return module

            def __call__(self, module, _input) -> None:
                weight = module.weight_orig
                fan_in = weight.data.size(1) * weight.data[0][0].numel()
                module.weight = weight * math.sqrt(2 / fan_in)

        generator = nn.Sequential(
            EqualLR.apply(nn.Conv2d(4, 6, 3, padding=1)),
            nn.ReLU(),
            EqualLR.apply(nn.Conv2d(6, 3, 1)),
        )
        mapping = nn.Sequential(EqualLR.apply(nn.Linear(5, 8)), nn.ReLU(), nn.Linear(8, 4))
        return [
            Example(generator, (torch.randn(2, 4, 5, 5),)),
            Example(mapping, (torch.randn(3, 5),)),
        ]
