"""A harmonic dense block (HarDNet, Chao et al. 2019): layer L (counting from 1; the block's input
is output 0) reads the concatenation of the outputs L - 2^k for every 2^k dividing L, nearest
first; the block gives the concatenation of its odd-numbered outputs and its last one:

    outs = [x]
    for L in 1..N:  outs.append(act(norm(conv(cat([outs[L - 2^k] for 2^k | L])))))
    return cat([outs[i] for i in 1..N if i is odd or i == N])

Recognised from widths alone: each layer's conv reads the sum of the widths its links give, which
the 2^k rule names (at least four layers, so that the rule is tested beyond a chain). Whether the
block's input joins the output (HarDNet's `keepBase`, off in its classifiers) leaves no key: a
choice, which the width the next layer reads settles where the block sits in a Sequential. The
layers are conv-norm units in a list (PingoLH's `ConvLayer`, a Sequential of conv, norm, ReLU6;
FC-HarDNet's the same), called through their conv and norm, the activation a choice (ReLU6, the
HarDNet code's).
"""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns import _activations as act
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Example,
    Match,
    modules,
    tensors,
)
from codegen.patterns.blocks._conv_parts import call_unit, unit


def harmonic_links(layer: int) -> list[int]:
    """The outputs layer `layer` (from 1) reads: layer - 2^k for each 2^k dividing it."""
    links, step = [], 1
    while layer % step == 0 and layer - step >= 0:
        links.append(layer - step)
        step *= 2
    return links


class HarmonicDenseBlock(BlockPattern):
    role = "HarDBlock"
    priority = 6

    accepts = Accepts(1, 1, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 1 or members[0].kind not in ("modulelist", "sequential"):
            return None
        holder = members[0]
        units = [unit(item, ctx, (holder.attr,)) for item in holder.children]
        if len(units) < 4 or any(u is None or u.norm is None for u in units):
            return None
        widths = [units[0].in_width] + [u.out_width for u in units]
        if None in widths:
            return None
        for layer, u in enumerate(units, start=1):
            if u.in_width != sum(widths[i] for i in harmonic_links(layer)):
                return None
        keep = ctx.choose(
            cls,
            holder.attr,
            "keep_input",
            False,
            [True],
            "whether the block's input joins its output (HarDNet's keepBase)",
        )
        activation = ctx.choose(
            cls,
            holder.attr,
            "activation",
            "relu6",
            act.alternatives("relu6", conv=True),
            "after each layer's norm (ReLU6: the HarDNet code's ConvLayer)",
        )
        # The layers' class is hardnet.py's ConvLayer, the stem's and transitions' too: its own
        # activation is the block's (ReLU6 unless told), where its forward left it at a default.
        pins = [
            (c.path, "activation", activation.value, "HarDNet's ConvLayer (harmonic dense block)")
            for item in holder.children
            if item.kind == "class" and (layer := ctx.classes.get(item.type_name)) is not None
            for c in layer.forward.choices
            if c.name == "activation" and c.source == "default" and c.value != activation.value
        ]
        # (and every activation slot of the model: its stem's and transitions' ConvLayers)
        pins.append(("", "slot_activation", activation.value, "HarDNet's ConvLayer (ReLU6)"))
        return Match(self, len(units) + 4, units, [keep, activation], pins=pins)

    def concatenated(self, match: Match) -> tuple[tuple[str, ...], bool]:
        units = match.found
        n = len(units)
        joined = [".".join(units[i - 1].conv[:-1]) for i in range(1, n + 1) if i % 2 or i == n]
        return tuple(joined), bool(match.choices[0].value)

    def forward(self, match: Match, g: Graph) -> None:
        units = match.found
        keep, activation = (c.value for c in match.choices)
        outs = [g.input("x")]
        for layer, u in enumerate(units, start=1):
            links = [outs[i] for i in harmonic_links(layer)]
            x = links[0] if len(links) == 1 else g.call_function("cat", links, 1, inline=True)
            outs.append(call_unit(g, u, x, activation, f"x{layer}"))
        n = len(units)
        joined = [outs[i] for i in range(n + 1) if (i == 0 and keep) or (i and (i % 2 or i == n))]
        g.output(g.call_function("cat", joined, 1, comment="odd layers and the last"))

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn

        from codegen.patterns.blocks._vision_examples import _randomise_norms

        class ConvBNReLU6(nn.Module):  # a layer written as a class: conv, bn, relu
            def __init__(self, c_in: int, c_out: int) -> None:
                super().__init__()
                self.conv = nn.Conv2d(c_in, c_out, 3, padding=1, bias=False)
                self.bn = nn.BatchNorm2d(c_out)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return torch.clamp(self.bn(self.conv(x)), 0.0, 6.0)

        class HarmonicBlock(nn.Module):  # links listed up front, its layers a Sequential
            def __init__(self, c_in: int, growth: list[int]) -> None:
                super().__init__()
                widths = [c_in] + growth
                self.links = [harmonic_links(layer) for layer in range(1, len(growth) + 1)]
                self.convs = nn.Sequential(
                    *[
                        ConvBNReLU6(sum(widths[i] for i in link), growth[layer])
                        for layer, link in enumerate(self.links)
                    ]
                )

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                outs = [x]
                for layer, conv in enumerate(self.convs):
                    outs.append(conv(torch.cat([outs[i] for i in self.links[layer]], 1)))
                n = len(outs) - 1
                return torch.cat([outs[i] for i in range(1, n + 1) if i % 2 or i == n], 1)

        class Net(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.block = HarmonicBlock(6, [4, 6, 4, 10])
                self.transition = nn.Conv2d(4 + 4 + 10, 8, 1)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return self.transition(self.block(x))

        torch.manual_seed(0)
        net = Net().eval()
        _randomise_norms(net)
        return [Example(net, (3.0 * torch.randn(2, 6, 8, 8),))]


def _unit_widths(node) -> tuple[int, int] | None:
    """(in, out) of a conv-norm unit in the key tree: a conv's 4-d weight and a norm beside it."""
    leaves = [c for c in node.walk() if c.tensors]
    convs = [c for c in leaves if len(getattr(c.tensors.get("weight"), "shape", ())) == 4]
    if len(leaves) != 2 or len(convs) != 1:
        return None
    w = convs[0].tensors["weight"].shape
    return w[1], w[0]


def harmonic_block(node) -> bool:
    """A key-tree node holding one list of four or more conv-norm units whose widths follow the
    harmonic links (the pattern's reading, before any class is built)."""
    if len(node.children) != 1 or node.tensors:
        return False
    (items,) = node.children.values()
    names = sorted(items.children, key=lambda n: int(n) if n.isdigit() else -1)
    if len(names) < 4 or not all(n.isdigit() for n in names):
        return False
    widths = [_unit_widths(items.children[n]) for n in names]
    if None in widths:
        return False
    outs = [widths[0][0]] + [w[1] for w in widths]
    return all(
        w[0] == sum(outs[i] for i in harmonic_links(layer))
        for layer, w in enumerate(widths, start=1)
    )


# PingoLH's hardnet.py (HarDNet68/85 with max_pool): a 3x3 stride-2 max-pool after the stem's two
# conv layers, a 2x2 one after a transition that downsamples, and the head's Sequential of
# AdaptiveAvgPool2d((1, 1)), Flatten, Dropout before its Linear.
HARDNET_STEM_POOL = "nn.MaxPool2d(3, stride=2, padding=1)"
HARDNET_POOL = "nn.MaxPool2d(2, stride=2)"
HARDNET_HEAD = ["nn.AdaptiveAvgPool2d(1)", "nn.Flatten()", "nn.Dropout()"]


def hardnet_bases(root) -> set[str]:
    """Paths of the numbered containers that hold harmonic dense blocks among their items
    (HarDNet's `base`): their empty slots follow hardnet.py's layout."""
    found = set()
    for node in root.walk():
        names = list(node.children)
        if names and all(n.isdigit() for n in names):
            if any(harmonic_block(node.children[n]) for n in names):
                found.add(node.path)
    return found


def hardnet_stem_convs(root, bases: set[str]) -> set[str]:
    """The first conv of each HarDNet `base` where it reads the image: stride 2 (hardnet.py's
    `ConvLayer(3, first_ch[0], kernel=3, stride=2)`)."""
    found = set()
    for node in root.walk():
        first = node.children.get("0") if node.path in bases else None
        convs = [c for c in first.walk() if c.tensors.get("weight") is not None] if first else []
        w = convs[0].tensors["weight"].shape if convs else ()
        if len(w) == 4 and w[1] <= 4 and tuple(w[2:]) == (3, 3):
            found.add(convs[0].path)
    return found
