"""A DenseNet dense block (torchvision's `_DenseBlock`, timm's `DenseBlock`): every layer reads
the block's input concatenated with the outputs of all the layers before it, and the block gives
them all, concatenated:

    features = x
    for layer in layers: features = cat([features, layer(features)], 1)

Proven by widths alone: layer k (numbered in its name) reads the input width plus k - 1 times
the width each layer adds. A chain would have every layer read what the previous one gave, which
two or more layers of equal output width cannot.
"""

from __future__ import annotations

import re

from codegen.ir.graph import Graph
from codegen.patterns._kit import BlockContext, BlockPattern, Example, Match, modules, tensors


def _number(attr: str) -> tuple:
    return tuple(int(n) for n in re.findall(r"\d+", attr))


class DenseStage(BlockPattern):
    role = "DenseStage"
    priority = 6

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members, prefix = modules(cls), ()
        if len(members) == 1 and members[0].kind in ("modulelist", "sequential"):
            # The layers in one list (d2l's DenseBlock: `net` = [BN, ReLU, conv] Sequentials)
            prefix, members = (members[0].attr,), members[0].children
        if tensors(cls) or len(members) < 2:
            return None
        if any(m.kind not in ("class", "sequential") or m.io is None for m in members):
            return None
        layers = sorted(members, key=lambda m: (_number(m.attr), m.attr))
        if len({_number(m.attr) for m in layers}) != len(layers):
            return None  # an order the names do not give
        width, growth = layers[0].io.in_width, layers[0].io.out_width
        if not width or not growth:
            return None
        for k, m in enumerate(layers):
            if m.io.in_width != width + k * growth or m.io.out_width != growth:
                return None
        return Match(self, len(members), [prefix + (m.attr,) for m in layers])

    def concatenated(self, match: Match) -> tuple[tuple[str, ...], bool]:
        return tuple(".".join(path) for path in match.found), True

    def forward(self, match: Match, g: Graph) -> None:
        features = g.input("x")
        for i, path in enumerate(match.found):
            new = g.call_module(path, features, inline=True)
            features = g.call_function(
                "cat",
                [features, new],
                1,
                name="x",
                comment="the layer's output joins everything before it" if i == 0 else None,
            )
        g.output(features)

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn

        class Layer(nn.Module):  # torchvision's _DenseLayer (bottleneck, pre-activation)
            def __init__(self, c_in: int, growth: int) -> None:
                super().__init__()
                self.norm1 = nn.BatchNorm2d(c_in)
                self.conv1 = nn.Conv2d(c_in, 2 * growth, 1, bias=False)
                self.norm2 = nn.BatchNorm2d(2 * growth)
                self.conv2 = nn.Conv2d(2 * growth, growth, 3, padding=1, bias=False)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                x = self.conv1(torch.relu(self.norm1(x)))
                return self.conv2(torch.relu(self.norm2(x)))

        class Block(nn.ModuleDict):  # torchvision's _DenseBlock
            def __init__(self, c_in: int, growth: int, layers: int) -> None:
                super().__init__()
                for i in range(layers):
                    self[f"denselayer{i + 1}"] = Layer(c_in + i * growth, growth)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                features = [x]
                for layer in self.values():
                    features.append(layer(torch.cat(features, 1)))
                return torch.cat(features, 1)

        class Holder(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.block = Block(6, 4, 3)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return self.block(x)

        torch.manual_seed(0)
        model = Holder()
        with torch.no_grad():
            for name, buf in model.named_buffers():
                if name.endswith("running_mean"):
                    buf.normal_(0, 0.2)
                elif name.endswith("running_var"):
                    buf.uniform_(0.5, 1.5)
        return [Example(model, (torch.randn(2, 6, 5, 5),))]
