"""The input projection of diffusers' FeedForward (GEGLU, GELU, ApproximateGELU): one Linear
`proj` and an activation. Gated (GEGLU, diffusers' default): the projection is twice the inner
width, its first half the value and its second the gate, `h * gelu(gate)`; ungated: `gelu(h)`.
Whether it gates is a choice the enclosing FeedForward checks against the widths; diffusers'
config.json names both (activation_fn "geglu", "gelu-approximate"...)."""

from __future__ import annotations

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
from codegen.patterns._kit import one_named, tensors


class GEGLU(BlockPattern):
    role = "GEGLU"
    priority = 5

    accepts = Accepts(1, 1, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        proj = one_named(members, r"proj")
        if tensors(cls) or len(members) != 1 or proj is None or family(proj) != "linear":
            return None
        out = proj.io.out_width
        gated = ctx.choose(cls, proj.attr, "gated", True, [False], "value and gate halves")
        activation = ctx.choose(
            cls, proj.attr, "gate_activation", "gelu", act.alternatives("gelu"), "on the gate"
        )
        _from_activation_fn(ctx, gated, activation)
        if gated.value and (not out or out % 2):
            return None
        return Match(self, 1, (proj.attr, out), [gated, activation])

    def forward(self, match: Match, g: Graph) -> None:
        proj, _ = match.found
        gated, activation = (c.value for c in match.choices)
        h = g.call_module((proj,), g.input("x"), name="h")
        if not gated:
            g.output(act.apply(g, activation, h, name="h"))
            return
        value = g.call_method("chunk", h, 2, kwargs={"dim": -1}, inline=True)
        value = g.call_function("getitem", value, 0, name="value")
        gate = g.call_method("chunk", h, 2, kwargs={"dim": -1}, inline=True)
        gate = g.call_function("getitem", gate, 1, name="gate")
        gate = act.apply(g, activation, gate, name="gate", inline=True)
        g.output(g.call_function("mul", value, gate))

    @staticmethod
    def examples():
        from codegen.patterns.blocks._transformer_examples import modules as zoo

        z = zoo()
        return [Example(z["geglu"](8, 12), z["tokens"](8))]


# diffusers' FeedForward activation_fn -> (gated, activation): GEGLU, GELU(approximate=...).
ACTIVATION_FN = {
    "geglu": (True, "gelu"),
    "geglu-approximate": (True, "gelu_tanh"),
    "gelu": (False, "gelu"),
    "gelu-approximate": (False, "gelu_tanh"),
}


def _from_activation_fn(ctx: BlockContext, gated, activation) -> None:
    """Settle the choices left at their defaults from config.json's activation_fn, where it names
    one of diffusers' GELU projections (others stay unconsumed, so the file says it guessed)."""
    said = ctx.resolver.metadata.get("activation_fn")
    if said is None or said[1] not in ACTIVATION_FN:
        return
    where = ctx.resolver.evidence("activation_fn")[0]
    for choice, value in zip((gated, activation), ACTIVATION_FN[said[1]]):
        if choice.source == "default" and choice.value != value:
            choice.alternatives = [choice.value] + [a for a in choice.alternatives if a != value]
            choice.value = value
        if choice.source == "default":
            choice.source, choice.note = "metadata", where
