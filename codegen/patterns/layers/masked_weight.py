"""A Linear or conv whose weight a fixed mask of its exact shape multiplies when called:
- a `weight` and a `mask` buffer: the masked layers of autoregressive models (PixelCNN's type A /
  B convs, MADE's and the flows' masked linears), which zero the connections to what an output
  may not see;
- torch.nn.utils.prune's spelling: `weight_orig` and a `weight_mask` buffer.

A leaf holding the pair (and at most a bias) with the same shape, nothing else: a second tensor of
the weight's shape has no other use a layer could put it to, and either way torch's or the
repositories' forward is the product. The layer is what the weight's shape says (layers/conv.py,
layers/linear.py read it: the same choices, the same widths to its neighbours), built as
ir/layer_classes.py's `MaskedConv2d` / `PrunedLinear`, which multiply in their forward and script.
A masked conv's default stride is 1 (a choice still): its mask orders the positions of one grid.
"""

from __future__ import annotations

import dataclasses

from codegen.patterns._kit import Example, LayerContext, LayerPattern, Recognised, names, shape
from codegen.patterns.layers.normalised_weight import _as_plain

# (the weight's key, the mask's key, the class kind ir/layer_classes.py prints)
SPELLINGS = (("weight", "mask", "Masked"), ("weight_orig", "weight_mask", "Pruned"))

MASK_KEEPS_GRID = "a masked conv keeps each output at its input's position"


class MaskedWeightLayer(LayerPattern):
    role = "MaskedWeightLayer"

    def recognise(self, node, ctx: LayerContext) -> Recognised | None:
        found = names(node)
        for weight, mask, kind in SPELLINGS:
            if node.children or not {weight, mask} <= found <= {weight, mask, "bias"}:
                continue
            if shape(node, weight) != shape(node, mask) or len(shape(node, weight)) < 2:
                return None
            if len(shape(node, weight)) > 2 and not ctx.stride_note:
                # a mask hides from each output the positions after its own: the output keeps its
                # input's grid (PixelCNN's stacks never stride), so no stem's stride 2 for a 7x7
                ctx = dataclasses.replace(ctx, stride=1, stride_note=MASK_KEEPS_GRID)
            plain = _as_plain(node, weight, ctx)
            if plain is None:
                return None
            return dataclasses.replace(plain, type_name=kind + plain.type_name.removeprefix("nn."))
        return None

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn
        import torch.nn.utils.prune as prune

        # each named as the layer it extends, as the repositories' MaskedConv2d / MaskedLinear
        class Conv2d(nn.Conv2d):  # PixelCNN's: type A hides the centre, type B keeps it
            def __init__(self, centre: bool, *args, **kwargs) -> None:
                super().__init__(*args, **kwargs)
                k = self.kernel_size[0]
                self.register_buffer("mask", torch.ones_like(self.weight))
                self.mask[:, :, k // 2, k // 2 + centre :] = 0
                self.mask[:, :, k // 2 + 1 :] = 0

            def forward(self, x):
                return self._conv_forward(x, self.weight * self.mask, self.bias)

        class Pixels(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.first = Conv2d(False, 1, 6, 7, padding=3, bias=False)  # no stem: stride 1
                self.norm = nn.BatchNorm2d(6)
                self.second = Conv2d(True, 6, 6, 3, padding=1)
                self.logits = nn.Conv2d(6, 4, 1)

            def forward(self, x):
                x = torch.relu(self.norm(self.first(x)))
                return self.logits(torch.relu(self.second(x)))

        class Linear(nn.Linear):  # MADE's: a lower-triangular connectivity
            def __init__(self, n: int) -> None:
                super().__init__(n, n)
                self.register_buffer("mask", torch.ones(n, n).tril(-1))

            def forward(self, x):
                return nn.functional.linear(x, self.weight * self.mask, self.bias)

        class Made(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.hidden = Linear(6)
                self.out = Linear(6)

            def forward(self, x):
                return self.out(torch.relu(self.hidden(x)))

        pruned = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 2, 1))
        prune.random_unstructured(pruned[0], "weight", amount=0.5)  # torch.nn.utils.prune's keys
        prune.l1_unstructured(pruned[2], "weight", amount=0.25)

        return [
            Example(Pixels(), (torch.randn(2, 1, 7, 7),)),
            Example(Made(), (torch.randn(3, 6),)),
            Example(pruned, (torch.randn(2, 3, 5, 5),)),
        ]
