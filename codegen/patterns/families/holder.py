"""A class that only holds a whole model (OPT's `OPTForCausalLM` around `model.decoder` with a tied
head inside, a user's wrapper around a Hugging Face model): its forward is the inner model's, with
the same arguments (ids and an optional padding mask, or pixels)."""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns._kit import BlockContext, BlockPattern, Example, Match, modules, tensors

WHOLE = ("CausalLM", "Classifier", "EncoderModel")


class ModelHolder(BlockPattern):
    role = "ModelHolder"
    priority = 5
    names_class = False

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 1 or ctx.role(members[0]) not in WHOLE:
            return None
        inner = ctx.classes.get(members[0].type_name)
        if inner is None or inner.forward.graph is None:
            return None
        inputs = [(n.target, n.optional) for n in inner.forward.graph.inputs]
        return Match(self, 1, (members[0].attr, inputs, ctx.role(members[0])))

    def forward(self, match: Match, g: Graph) -> None:
        inner, inputs, role = match.found
        args = [g.input(name, optional=optional) for name, optional in inputs]
        g.output(g.call_module((inner,), *args))

    @staticmethod
    def examples():
        import torch

        from codegen.patterns.families._examples import modules

        m = modules()
        return [
            Example(
                m["holder"](m["lm"]()),
                (torch.randint(0, 50, (2, 7)),),
                {"n_head": 2, "hidden_act": "gelu"},
            )
        ]
