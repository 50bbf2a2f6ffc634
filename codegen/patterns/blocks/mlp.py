"""The transformer feed-forward: `down(act(up(x)))`, or gated `down(act(gate(x)) * up(x))`
(SwiGLU, GeGLU). Layers are recognised by name across conventions; the activation is a choice of
the class, settled by config.json's `hidden_act` / `activation_function` where there is one."""

from __future__ import annotations

import re

from codegen.ir.graph import Graph
from codegen.patterns import _activations as act
from codegen.patterns.blocks.xielu import ROLE as XIELU_ROLE
from codegen.patterns._kit import (
    BlockContext,
    BlockPattern,
    Example,
    Match,
    family,
    modules,
    one_named,
    raw_value,
    tensors,
)

UP = r"c_fc|fc1|up_proj|dense_h_to_4h|fc_in|lin1|w1|wi|fc|linear1|intermediate_dense|ff1|dense1"
DOWN = (
    r"c_proj|fc2|dense2|down_proj|dense_4h_to_h|fc_out|lin2|w2|wo|proj|linear2|output_dense|ff2|"
    r"output_linear|weights_out"
)
# Meta's LLaMA and Mixtral: w2(silu(w1(x)) * w3(x)), so w1 is the gate and w3 its partner;
# fc11/fc12: flash-attn / Nomic BERT naming (fc12 the gate). An up name numbered _0 and _1 (T5's
# wi_0 / wi_1, EXAONE's c_fc_0 / c_fc_1): the first is the gate.
GATE = rf"gate_proj|w1|gate|fc12|(?:{UP})_0"
GATED_UP = rf"up_proj|w3|up|fc11|(?:{UP})_1"  # beside a gate
ACTIVATION_MODULES = (XIELU_ROLE,)  # activations that are member modules with parameters
# Gate and up in one layer (Phi-3's gate_up_proj, xformers' w12): twice the down layer's input.
# GraniteMoE's shared_mlp.input_linear too; transformers' DINOv2 SwiGLU: weights_in / weights_out.
FUSED_GATE_UP = r"gate_up_proj|gate_up|w12|fc1_gate_up|up_gate_proj|up_gate|input_linear|weights_in"
# ... named up first (GTE's up_gate_proj): its second half is the gate.
UP_FIRST = r"up_gate(_proj)?"


# A norm inside the feed-forward, over its hidden width (BitNet's ffn_sub_norm, torchscale's
# ffn_layernorm).
SUB_NORM = r"ffn_sub_norm|sub_?norm|inner_norm|mid_norm|ffn_layernorm|ffn_ln"


def _normalises_hidden(match: Match, members: list) -> bool:
    """The sub-norm's width is the hidden width `down` reads."""
    down = next(m for m in members if m.attr == match.found[2])
    norm = next(m for m in members if family(m) == "norm")
    width = down.io.in_width if down.io else None
    return width is not None and norm.io is not None and norm.io.out_width == width


def _gate_down_factors(ctx: BlockContext):
    """config.json's factors on a gated feed-forward's gate input and on its output (Falcon-H1's
    mlp_multipliers, a pair); None where there are none, "unreadable" where they are not two
    numbers (then nothing matches: the file says the block is missing)."""
    said = raw_value(ctx, "mlp_multipliers")
    if said is None:
        return None
    pair = said[1]
    if (
        not isinstance(pair, list)
        or len(pair) != 2
        or any(type(v) not in (int, float) for v in pair)
    ):
        return "unreadable"
    return None if pair == [1, 1] else (float(pair[0]), float(pair[1]))


# Families whose experts use the clamped swiglu of swiglu_alpha / swiglu_limit, checked against
# their library: GPT-OSS (tests/test_moe_families.py).
CLAMPED_SWIGLU_TYPES = ("gpt_oss",)


def clamped_swiglu(ctx: BlockContext):
    """config.json's clamped swiglu (GPT-OSS's swiglu_alpha / swiglu_limit: (up + 1) * gate *
    sigmoid(alpha * gate), both clamped): ("clamped_swiglu", alpha, limit, what is guessed) where
    it gives both numbers, None where it gives no alpha, "unreadable" otherwise (then nothing
    matches: the file says the block is missing)."""
    limit, alpha = ctx.resolver.evidence("swiglu_limit"), ctx.resolver.evidence("swiglu_alpha")
    if alpha is None:  # (a limit alone: the experts' clamped gate and up, expert_bank.py)
        return None
    if not all(c is not None and isinstance(c[1], (int, float)) for c in (limit, alpha)):
        return "unreadable"
    model_type = ctx.resolver.evidence("model_type")
    mtype = model_type[1] if model_type else None
    guessed = ""
    if mtype in CLAMPED_SWIGLU_TYPES:
        ctx.resolver.evidence("hidden_act")  # its activation is fixed: unused
    else:
        guessed = (
            f"swiglu_limit read as GPT-OSS's clamped swiglu, (up + 1) * gate * "
            f"sigmoid(alpha * gate); model_type {mtype!r} does not say it is this model's"
        )
    return ("clamped_swiglu", float(alpha[1]), float(limit[1]), guessed)


class MLP(BlockPattern):
    role = "MLP"
    priority = 15  # names say feed-forward, widths say it widens: not a squeeze-excite gate
    synonyms = act.SYNONYMS

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        # timm's GlobalResponseNormMlp (ConvNeXt V2): a global response norm after the activation.
        grn = [m for m in members if m.kind == "class" and ctx.role(m) == "GlobalResponseNorm"]
        # BitNet's ffn_sub_norm: a norm over the hidden width, applied just before `down`
        inner = [m for m in members if family(m) == "norm" and re.search(SUB_NORM, m.attr, re.I)]
        extra = grn if len(grn) == 1 else inner if len(inner) == 1 else []
        if extra and len(members) in (3, 4):
            found = self.match_layers(cls, ctx, [m for m in members if m is not extra[0]])
            if found is not None and extra is inner and not _normalises_hidden(found, members):
                return None
            if found is not None:
                found.found = found.found[:4] + (extra[0].attr,) + found.found[5:]
                found.explains += 1
            return found
        return self.match_layers(cls, ctx, members)

    def match_layers(self, cls, ctx: BlockContext, members: list) -> Match | None:
        # an activation with trained parameters of its own (xIELU), called between the layers
        own = [m for m in members if ctx.role(m) in ACTIVATION_MODULES]
        if len(own) > 1:
            return None
        if own:
            members = [m for m in members if m is not own[0]]
        if tensors(cls) or len(members) not in (2, 3):
            return None
        if any(ctx.role(m) not in ("linear", "Conv1D") for m in members):
            return None
        fused = one_named(members, FUSED_GATE_UP) if len(members) == 2 else None
        if fused is not None and not own:
            return self._fused(cls, ctx, fused, next(m for m in members if m is not fused))
        gate = one_named(members, GATE) if len(members) == 3 else None
        if len(members) == 3:
            up = one_named([m for m in members if m is not gate], GATED_UP)
            if gate is None or up is None:
                return None
        else:
            up = one_named(members, UP)
        down = one_named([m for m in members if m is not up and m is not gate], DOWN)
        if up is None or down is None:
            return None
        widths = up.io and up.io.in_width and up.io.out_width
        down_in = down.io.in_width if down.io else None
        if gate is None and not own and widths and down_in and up.io.out_width == 2 * down_in:
            # dec11: `up` twice as wide as `down` reads: gate and up in one layer, whatever its
            # name (ModernBERT's Wi: act(first half) * second half)
            return self._fused(cls, ctx, up, down)
        if gate is None and widths and down_in and up.io.out_width != down_in:
            return None  # `down` cannot read what `up` gives
        if gate is None and widths and up.io.out_width <= up.io.in_width:
            return None  # a feed-forward widens first; two layers that narrow are a gate (SE)
        # Gated feed-forwards are SwiGLU by convention; a plain one is GELU in a transformer (a
        # config.json says it is one) and ReLU in the MLPs of everything else.
        transformer = ctx.resolver.evidence("model_type", "architectures") is not None
        # Hugging Face's Conv1D layers are GPT-2's (and its kin's), whose default is gelu_new.
        gpt2_like = any(ctx.role(m) == "Conv1D" for m in members)
        default = "gelu_tanh" if gpt2_like else "gelu" if transformer else "relu"
        activation = ctx.choose(
            cls,
            (gate or up).attr,
            "activation",
            "silu" if gate else default,
            act.feed_forward("", ctx.resolver, common=True),  # tanh, identity: plain MLPs
            "the feed-forward activation",
            aliases=act.ALIASES,
        )
        act.fixed_by_model_type(ctx.resolver, activation)
        if gate is not None:
            act.swiglu_by_config(ctx.resolver, activation)
        if own:  # the member is the activation: config.json's name for it is read
            ctx.resolver.evidence(*act.SYNONYMS["activation"])
            found = (up.attr, gate.attr if gate else None, down.attr, (own[0].attr,), None)
            return Match(self, len(members) + 1, found)
        factors = _gate_down_factors(ctx) if gate is not None else None
        if factors == "unreadable":
            return None
        found = (up.attr, gate.attr if gate else None, down.attr, activation.value, None, factors)
        # The same keys come with GELU, ReLU or SiLU: with nothing to read it from, a guess.
        guessed = act.unproven_activation(activation)
        return Match(self, len(members), found, [activation], guessed=guessed)

    def _fused(self, cls, ctx: BlockContext, fused, down) -> Match | None:
        if not (fused.io and down.io and fused.io.out_width and down.io.in_width):
            return None
        if fused.io.out_width != 2 * down.io.in_width:
            return None
        # blk12: config.json's clamped swiglu is the feed-forward's too (MiniMax-M3's shared
        # and dense feed-forwards, beside experts that use it), gate first
        clamped = clamped_swiglu(ctx)
        if clamped == "unreadable" or clamped and re.fullmatch(UP_FIRST, fused.attr, re.I):
            return None
        if clamped:
            found = (fused.attr, "first", down.attr, clamped[:3], None)
            return Match(self, 2, found, guessed=clamped[3])
        activation = ctx.choose(
            cls,
            fused.attr,
            "activation",
            "silu",
            act.feed_forward("", ctx.resolver, common=True),
            "the feed-forward activation",
            aliases=act.ALIASES,
        )
        act.swiglu_by_config(ctx.resolver, activation)
        named = "second" if re.fullmatch(UP_FIRST, fused.attr, re.IGNORECASE) else "first"
        half = ctx.choose(
            cls,
            fused.attr,
            "gate_half",
            named,
            [h for h in ("first", "second") if h != named],
            "which half of it is the gate",
        )
        found = (fused.attr, half.value, down.attr, activation.value, None)
        return Match(self, 2, found, [activation, half], guessed=act.unproven_activation(activation))

    def forward(self, match: Match, g: Graph) -> None:
        up, gate, down, activation, grn = match.found[:5]
        # Falcon-H1's muP factors on the gate's input and on the output (1: none)
        gate_factor, down_factor = (match.found[5:] or [None])[0] or (1.0, 1.0)
        x = g.input("x")
        if gate == "first" and isinstance(activation, tuple) and activation[0] == "clamped_swiglu":
            gate_up = g.call_module((up,), x, inline=True)
            h = g.call_function("clamped_swiglu", gate_up, *activation[1:], False, name="h")
        elif gate in ("first", "second"):  # one layer holds both: split it
            halves = g.call_method(
                "chunk", g.call_module((up,), x, inline=True), 2, kwargs={"dim": -1}, name="gate_up"
            )
            first = gate == "first"
            h = g.call_function("getitem", halves, 0 if first else 1, inline=True)
            h = act.apply(g, activation, h, inline=True)
            up_half = g.call_function("getitem", halves, 1 if first else 0, inline=True)
            h = g.call_function("mul", h, up_half, name="h")
        elif isinstance(activation, tuple):  # a member module (xIELU): (its attribute,)
            h = g.call_module(activation, g.call_module((gate or up,), x, inline=True), name="h")
            if gate is not None:
                h = g.call_function("mul", h, g.call_module((up,), x, inline=True), name="h")
        elif gate is not None:
            h = g.call_module((gate,), x, inline=True)
            if gate_factor != 1:
                h = g.call_function("mul", h, gate_factor, inline=True)
            h = act.apply(g, activation, h, inline=True)
            h = g.call_function("mul", h, g.call_module((up,), x, inline=True), name="h")
        else:
            h = act.apply(g, activation, g.call_module((up,), x, inline=True), name="h")
        if grn is not None:  # a global response norm, or a norm over the hidden width
            h = g.call_module((grn,), h, name="h")
        if down_factor != 1:
            g.output(g.call_function("mul", g.call_module((down,), h, inline=True), down_factor))
            return
        g.output(g.call_module((down,), h))

    @staticmethod
    def examples():
        import torch

        from codegen.patterns.families._examples import modules

        m = modules()
        mlp = m["holder"](m["mlp"]())
        return [Example(mlp, (torch.randn(2, 5, 16),), metadata={"hidden_act": "gelu"})]
