"""The Hierarchical Reasoning Model (HRM-Text): two stacks of decoder layers run as a fixed
recurrence. A low-level stack (`L_module`) and a high-level one (`H_module`), each its layers then a
norm without parameters; the token embeddings times config.json's `embedding_scale` start the high
state, the learned vector `z_L_init` the low one. For each of `H_cycles` high cycles, the low
stack runs `L_cycles` times on (low + high), then the high stack once on (high + low); the high
state is the last hidden state.

`RecurrentStack`: a stack class of the two (named so), its layers in turn, then the norm without
parameters the conventions survey measured for the family after pre-norm layers.
`HierarchicalRecurrence`: the model above, unrolled (config.json gives both cycle counts); a
causal LM puts its head on it like on any decoder body (families/decoder.py, CausalLM).
"""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Match,
    family,
    free_norm,
    modules,
    one_named,
    tensors,
)
from codegen.patterns.families.decoder import TOKENS, final_free_norm, layer_stack

HIGH = r"H_module|H_level|high_module|high_level"
LOW = r"L_module|L_level|low_module|low_level"
LOW_INIT = r"z_L_init|z_low_init|L_init"
# Gradient routing only (training): which low cycles back-propagate.
TRAINING_ONLY = ("L_bp_cycles",)


class RecurrentStack(BlockPattern):
    role = "RecurrentStack"
    priority = 7
    named = f"{HIGH}|{LOW}"  # its class is its own: a plain stack of the same keys is an Encoder

    accepts = Accepts(1, 1, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 1 or not _named(cls, self.named):
            return None
        found = layer_stack(ctx, members[0])
        if found is None or len(found[0]) != 1:
            return None
        free = final_free_norm(ctx, found[0])
        if free is None:
            return None  # a norm with parameters would be a key: not this stack
        masked = ctx.takes(found[0][0], "mask")
        return Match(self, 1, (members[0].attr, masked, free))

    def forward(self, match: Match, g: Graph) -> None:
        layers, masked, free = match.found
        x = g.input("x")
        mask = (g.input("mask", optional=True),) if masked else ()
        x = g.call_module((layers,), x, *mask, each=True)
        g.output(free_norm(g, x, free, comment=f"no parameters ({free[1]})"))

    @staticmethod
    def examples():
        from codegen.patterns.families._hrm_example import hrm_example

        return [hrm_example()]


def _named(cls, pattern: str) -> bool:
    import re

    return re.fullmatch(pattern, cls.named or "", re.IGNORECASE) is not None


def _cycles(ctx: BlockContext, key: str) -> tuple[int, str] | None:
    said = ctx.resolver.evidence(key)
    if said is None or type(said[1]) is not int or said[1] < 1:
        return None
    return said[1], f"{said[0]} {said[1]}"


class HierarchicalRecurrence(BlockPattern):
    role = "Transformer"  # a decoder body: CausalLM puts the head on it
    priority = 12

    accepts = Accepts(3, 3, tensors=True)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        params = tensors(cls)
        if len(members) != 3 or len(params) != 1 or not _named_tensor(params[0], LOW_INIT):
            return None
        tokens = one_named([m for m in members if family(m) == "embedding"], TOKENS)
        stacks = [m for m in members if ctx.role(m) == "RecurrentStack"]
        high, low = one_named(stacks, HIGH), one_named(stacks, LOW)
        if tokens is None or high is None or low is None or len(params[0].shape) != 1:
            return None
        if ctx.takes(high, "mask") != ctx.takes(low, "mask"):
            return None
        high_cycles, low_cycles = _cycles(ctx, "H_cycles"), _cycles(ctx, "L_cycles")
        scale = ctx.resolver.evidence("embedding_scale")
        if high_cycles is None or low_cycles is None or scale is None:
            return None
        if type(scale[1]) not in (int, float):
            return None
        for key in TRAINING_ONLY:
            ctx.resolver.evidence(key)
        # the library's prefix-LM mask acts only where token_type_ids are given: this forward
        # takes none, as the library's call without them
        ctx.resolver.evidence("prefix_lm")
        found = (tokens.attr, high.attr, low.attr, params[0].attr, ctx.takes(high, "mask"))
        found += (high_cycles, low_cycles, (float(scale[1]), f"{scale[0]} {scale[1]}"))
        return Match(self, 4, found)

    def forward(self, match: Match, g: Graph) -> None:
        tokens, high, low, init, masked, high_cycles, low_cycles, scale = match.found
        ids = g.input("input_ids")
        attention_mask = g.input("attention_mask", optional=True) if masked else None
        x = g.call_module((tokens,), ids, inline=True)
        z_high = g.call_function("mul", x, scale[0], name="z_high", comment=f"times {scale[1]}")
        mask = (g.call_function("padding_mask", attention_mask, name="mask"),) if masked else ()
        z_low = g.getattr((init,), name="z_low", comment="[d_model]: broadcast over the tokens")
        for h in range(high_cycles[0]):
            for i in range(low_cycles[0]):
                summed = g.call_function("add", z_low, z_high, inline=True)
                first = h == 0 and i == 0
                z_low = g.call_module(
                    (low,),
                    summed,
                    *mask,
                    name="z_low",
                    comment=f"unrolled: {high_cycles[1]} x {low_cycles[1]}" if first else "",
                )
            summed = g.call_function("add", z_high, z_low, inline=True)
            z_high = g.call_module((high,), summed, *mask, name="z_high")
        g.output(z_high, comment="[batch, seq, d_model]")

    @staticmethod
    def examples():
        from codegen.patterns.families._hrm_example import hrm_example

        return [hrm_example()]


def _named_tensor(t, pattern: str) -> bool:
    import re

    return re.fullmatch(pattern, t.attr, re.IGNORECASE) is not None
