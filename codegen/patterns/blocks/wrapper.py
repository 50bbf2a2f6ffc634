"""A class whose only member is a generated class (or a list of one) taking several inputs (a U-Net block given the
sample and the time embedding): it passes all of them through and returns what the member returns.
One-input members are the width chain's (chain.py)."""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns._kit import BlockContext, BlockPattern, Example, Match, modules, tensors


class Wrapper(BlockPattern):
    role = "Wrapper"
    names_class = False
    priority = 5

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 1:
            return None
        path, held = (members[0].attr,), members[0]
        if held.kind in ("sequential", "modulelist") and len(held.children) == 1:
            path, held = path + (held.children[0].attr,), held.children[0]
        if held.kind != "class":
            return None
        inner = ctx.classes.get(held.type_name)
        graph = inner.forward.graph if inner is not None else None
        if graph is None or (len(graph.inputs) < 2 and graph.returns == "torch.Tensor"):
            return None
        inputs = [
            (n.target, n.annotation.removesuffix(" | None"), n.optional) for n in graph.inputs
        ]
        return Match(self, 1, (path, inputs, graph.returns, inner.forward.examples))

    def forward(self, match: Match, g: Graph) -> None:
        attr, inputs, returns, _ = match.found
        values = [g.input(name, annotation, optional) for name, annotation, optional in inputs]
        g.returns = returns
        g.output(g.call_module(attr, *values))

    def example_inputs(self, match: Match, cls) -> list:
        return match.found[3]

    @staticmethod
    def examples():
        from codegen.patterns.blocks._generative_examples import META, modules as zoo

        z = zoo()
        return [Example(z["holder"](z["resnet"](8, 8, 12)), z["with_temb"](8, 12), META)]
