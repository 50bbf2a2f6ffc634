"""A class whose only member is a generated class (or a one-item list of one) it passes every input
to, returning what the member returns: a user's or a library's wrapper around a whole model (OPT's
`OPTForCausalLM` around `model.decoder`), a U-Net block held with its time embedding input.

A one-input member that is not a whole model stays the width chain's (chain.py), which may add a
residual or an activation around it; a stack of transformer layers is the encoder's (more specific).
"""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Example,
    Match,
    modules,
    tensors,
)

# Roles of classes that are a whole model: holding one says nothing more about the forward.
WHOLE = (
    "CausalLM",
    "Classifier",
    "EncoderModel",
    "GridVisionModel",
    "PyramidVisionEncoder",
    "TokenPyramidEncoder",
)


def signature(inner) -> tuple[list, str, list]:
    """A generated class's forward as a caller passing every input through sees it: (its inputs as
    (name, annotation, optional), what it returns, its smoke-test inputs)."""
    graph = inner.forward.graph
    inputs = [(n.target, n.annotation.removesuffix(" | None"), n.optional) for n in graph.inputs]
    return inputs, graph.returns, inner.forward.examples


def call_through(g: Graph, path: tuple[str, ...], inputs: list, returns: str, **options):
    """The member at `path` called on inputs of the same names (signature()), returning its value."""
    values = [g.input(name, annotation, optional) for name, annotation, optional in inputs]
    g.returns = returns
    return g.call_module(path, *values, **options)


class Wrapper(BlockPattern):
    role = "Wrapper"
    names_class = False
    priority = 4  # below the stacks (Encoder) a one-item list of layers also fits

    accepts = Accepts(1, 1, tensors=False)

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
        if graph is None:
            return None
        whole = ctx.role(held) in WHOLE
        if not whole and len(graph.inputs) < 2 and graph.returns == "torch.Tensor":
            return None
        return Match(self, 1, (path, *signature(inner)))

    def forward(self, match: Match, g: Graph) -> None:
        attr, inputs, returns, _ = match.found
        g.output(call_through(g, attr, inputs, returns))

    def example_inputs(self, match: Match, cls) -> list:
        return match.found[3]

    @staticmethod
    def examples():
        import torch

        from codegen.patterns.blocks._generative_examples import META, modules as zoo
        from codegen.patterns.families._examples import modules

        z, m = zoo(), modules()
        return [
            Example(z["holder"](z["resnet"](8, 8, 12)), z["with_temb"](8, 12), META),
            Example(
                m["holder"](m["lm"]()),
                (torch.randint(0, 50, (2, 7)),),
                {"n_head": 2, "hidden_act": "gelu"},
            ),
        ]


class AttentionHolder(Wrapper):
    """A class holding only an attention (GPT-Neo's `attn.attention`, chosen per layer between
    global and local attention): it is that attention, with its inputs."""

    role = "Attention"
    priority = 6

    accepts = Accepts(1, 1)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if len(members) != 1 or ctx.role(members[0]) != "Attention":
            return None
        return super().match(cls, ctx)

    @staticmethod
    def examples():
        import torch

        from codegen.patterns.families._examples import modules

        m = modules()
        return [Example(m["holder"](m["attention"]()), (torch.randn(2, 5, 16),), {"n_head": 2})]
