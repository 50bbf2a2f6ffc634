"""A dense layer that concatenates inside itself (RDN's `DenseLayer`, yjn870/RDN-pytorch and the
SR repositories built on it): one conv adding `growth` channels, its activated output appended to
the input:

    return cat([x, act(conv(x))], 1)

One class can hold only a conv; what proves the concatenation is where its instances sit: siblings
in a list reading w, w + g, w + 2g... channels, g the conv's output width, so each reads what the
one before gave plus g (a plain conv-activation block would give only g). The activation (ReLU in
RDN) leaves no tensors: a choice.
"""

from __future__ import annotations

from collections import defaultdict

from codegen.ir.graph import Graph
from codegen.patterns import _activations as act
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Example,
    Match,
    family,
    modules,
)
from codegen.patterns._kit import tensors
from codegen.safetext import is_index


def grows_by(instances: list, growth: int) -> bool:
    """Siblings (instances under one parent, in index order) read w, w + growth, w + 2 growth...;
    at least one parent holds two or more of them."""
    by_parent: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for path, io in instances:
        parent, _, index = path.rpartition(".")
        if io is None or not io.in_width or not is_index(index):
            return False
        by_parent[parent].append((int(index), io.in_width))
    if not by_parent or max(len(v) for v in by_parent.values()) < 2:
        return False
    for siblings in by_parent.values():
        widths = [w for _, w in sorted(siblings)]
        if any(b - a != growth for a, b in zip(widths, widths[1:])):
            return False
    return True


class DenseLayer(BlockPattern):
    role = "DenseLayer"
    priority = 5

    accepts = Accepts(1, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = [m for m in modules(cls) if m.kind != "placeholder"]
        if tensors(cls) or len(members) != 1 or family(members[0]) != "conv":
            return None
        conv = members[0]
        if conv.kind != "builtin" or conv.io is None or not conv.io.out_width:
            return None
        if not grows_by(cls.instances, conv.io.out_width):
            return None
        activation = ctx.choose(
            cls,
            conv.attr,
            "activation",
            "relu",
            ["leaky_relu", "gelu", "identity"],
            "on the conv's output before it joins the input (ReLU in RDN)",
        )
        return Match(self, len(modules(cls)), conv.attr, [activation])

    def concatenated(self, match: Match) -> tuple[tuple[str, ...], bool]:
        return (match.found,), True

    def forward(self, match: Match, g: Graph) -> None:
        x = g.input("x")
        new = g.call_module((match.found,), x, inline=True)
        new = act.apply(g, match.choices[0].value, new, name="new")
        g.output(g.call_function("cat", [x, new], 1), comment="the new channels join the input")

    @staticmethod
    def examples():
        from codegen.patterns.blocks._sr_examples import modules as zoo

        z = zoo()
        return [Example(z["holder"](z["dense_layers"](6, 4, 3)), z["image"](6, 5))]
