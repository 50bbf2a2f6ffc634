"""diffusers' FeedForward: `net` holds the input projection with its activation (a GEGLU class),
dropouts, and the output Linear: `net[-1](net[0](x))`. The projection's gating must fit the
widths: twice the output layer's input where it gates, equal where it does not."""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Example,
    Match,
    family,
    modules,
)
from codegen.patterns._kit import one_named, tensors


class FeedForward(BlockPattern):
    role = "FeedForward"
    priority = 5

    accepts = Accepts(1, 1, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        net = one_named(members, r"net|layers")
        if tensors(cls) or len(members) != 1 or net is None:
            return None
        if net.kind not in ("modulelist", "sequential"):
            return None
        items = [c for c in net.children if c.kind != "placeholder"]
        if len(items) != 2 or ctx.role(items[0]) != "GEGLU" or family(items[1]) != "linear":
            return None
        first = ctx.classes.get(items[0].type_name)
        proj = one_named(modules(first), r"proj") if first is not None else None
        gated = _gated(first)
        inner = items[1].io.in_width
        if proj is None or gated is None or proj.io.out_width != inner * (2 if gated else 1):
            return None
        return Match(self, 1, ((net.attr, items[0].attr), (net.attr, items[1].attr)))

    def forward(self, match: Match, g: Graph) -> None:
        first, last = match.found
        h = g.call_module(first, g.input("x"), name="h")
        g.output(g.call_module(last, h))

    @staticmethod
    def examples():
        from codegen.patterns.blocks._transformer_examples import modules as zoo

        z = zoo()
        return [Example(z["feed_forward"](8), z["tokens"](8))]


def _gated(cls) -> bool | None:
    """Whether the GEGLU class's forward gates (its `gated` choice), as the pattern decided."""
    graph = cls.forward.graph if cls is not None and cls.forward else None
    if graph is None:
        return None
    return any(n.op == "call_function" and n.target == "mul" for n in graph.nodes)
