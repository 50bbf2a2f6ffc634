"""Conformer layers (Gulati et al. 2020) as speech encoders hold them (Wav2Vec2-Conformer): a
half-step feed-forward, self-attention, a convolution module, a second half-step feed-forward,
then a final norm; attention with Transformer-XL's relative positions, rotary ones, or none.

- `ConformerConvModule`: [batch, frames, d] -> the same: a LayerNorm, a pointwise conv to 2 d, a
  GLU over the channels, a depthwise conv padded to keep the frames, a BatchNorm, the activation
  (config.json's hidden_act), a pointwise conv back to d. The convs are told apart by their
  shapes (2 d outputs; one group per channel; the rest), their stride and padding pinned; an
  even depthwise kernel (Lasr's 32) is padded "same" by the forward, k/2 - 1 frames before and
  k/2 after as PyTorch's padding="same" does (`extra_pad`).
- `RelativePositionAttention`: q, k, v, output projections as attention.py finds them, plus a
  bias-free `pos` Linear (d -> d) and two [heads, head_dim] tensors, u and v (the content and
  position biases). scores = (q + u)·k + shift((q + v)·pos(sinusoids)), both over sqrt(head_dim);
  the sinusoids are the relative positions frames - 1 .. 1 - frames, given by the caller
  ([1, 2 frames - 1, d]), and the shift is Transformer-XL's (each query's row moved so that
  column j holds the distance i - j). Which tensor is u and which v: their names (`*_u`, `*_v`).
- `RotaryInputAttention`: position_embeddings_type "rotary" (config.json): each head's slice of
  the layer's input turned by rotary positions (halves layout, rotary_embedding_base) before the
  query and key projections; the values read the input unturned. `RotaryFrequencies`: the class
  holding the frequencies (embed_positions.inv_freq), which the attention computes from the base.
- `ConformerLayer`: the two feed-forwards told apart by their names (`ffn1`/`ffn2`,
  `feed_forward1`/`2`...), each sublayer's norm by its name starting with the sublayer's. The
  feed-forwards' outputs are halved before their residual add (the paper's half steps), or
  weighted as config.json's `feed_forward_residual_weights` and `conv_residual_weights` say
  ([the residual's weight, the sublayer's]: Lasr's 1.5 x + 0.5 f(x) and 2 x + conv(x)).
- `ConformerEncoder`: the stack and its final norm: the sinusoids computed once for every layer
  whose attention takes them; a front end before the layers where it holds one (a token table,
  or blocks/linear_conv_subsampler.py's over mel frames). Wav2Vec2-Conformer's encoder holds a positional conv it never
  calls (Wav2Vec2ConformerEncoder.forward, read from the library's code): for that model type
  the file leaves it unused; for another the same is a guess and the file says so.
"""

from __future__ import annotations

import dataclasses
import re

from codegen.ir.graph import Graph, Slice
from codegen.patterns import _activations as act
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Example,
    Match,
    biased,
    family,
    modules,
    one_named,
    stack,
    tensors,
)
from codegen.patterns.blocks._attention_parts import heads as split_heads
from codegen.patterns.blocks._attention_parts import attend, merge_heads, plain_bidirectional
from codegen.patterns.blocks.attention import Attention
from codegen.patterns.blocks.linear_conv_subsampler import ROLE as SUBSAMPLER_ROLE
from codegen.patterns.blocks.selective_scan import _kernel, conv_pins

CONV_ROLE = "ConformerConv"
POSITIONS = "positions"  # the argument the relative attention takes: [1, 2 * frames - 1, d]
FIRST_FF = r"ffn1|ffn_1|feed_forward1|feed_forward_1|ff1|ff_1|macaron_ffn|feed_forward_macaron"
# ESPnet's (FastSpeech2Conformer's) second is plain `feed_forward`, beside feed_forward_macaron
SECOND_FF = r"ffn2|ffn_2|feed_forward2|feed_forward_2|ff2|ff_2|feed_forward"
# The sublayers' short names in their norms' names: FastSpeech2Conformer's `ff_layer_norm`,
# `conv_layer_norm`; ESPnet's own `norm_ff`, `norm_mha`, `norm_conv`; NeMo's `norm_self_att`
SHORT_NAMES = {
    "feed_forward": ("ff",),
    "conv_module": ("conv",),
    "self_attn": ("mha", "self_att"),
}
NORM_SUFFIX = r"_?(layer_?norm|norm|ln)"
# config.json's word on where the norms sit (ESPnet's normalize_before, per stack or for both)
NORM_FIRST_KEYS = ("normalize_before", "encoder_normalize_before", "decoder_normalize_before")
FINAL_NORM = r"final_layer_norm|final_norm|norm_final|layer_norm_final|norm_out"
POSITION_PROJECTION = r"linear_pos|pos_proj|position_proj|linear_position|pos_linear"
CONTENT_BIAS, POSITION_BIAS = (
    r"pos_bias_u|bias_u|u_bias|r_w_bias",
    r"pos_bias_v|bias_v|v_bias|r_r_bias",
)
HALF_STEP = 0.5
# config.json's [residual weight, sublayer weight] pairs (Lasr's 1.5 x + 0.5 f(x), 2 x + conv(x))
FF_WEIGHTS, CONV_WEIGHTS = "feed_forward_residual_weights", "conv_residual_weights"
BOTH_WAYS = "a Conformer encoder's layer attends every frame"
# The model types whose code pads an even depthwise kernel as PyTorch's padding="same" does
# (transformers' Lasr: read in its modeling code, compared by tests/test_conformer_espnet.py).
EVEN_KERNEL_TYPES = ("lasr_encoder", "lasr_ctc")
EXTRA_PAD = (
    "the side an even depthwise kernel's extra frame of padding goes (PyTorch's padding='same' "
    "puts it after)"
)
POSITION_KIND = "position_embeddings_type"  # config.json: "relative", "rotary" or null
ROTARY_INPUTS = (
    "config.json's position_embeddings_type 'rotary' beside layers whose attention is not "
    "recognised as turning its input (no rotary_embedding_base?)"
)
# Model types whose encoder holds a positional conv its forward never calls (read from the
# library's code: Wav2Vec2ConformerEncoder builds pos_conv_embed and leaves it out).
UNUSED_POSITION_CONV_TYPES = ("wav2vec2-conformer",)
# Model types whose Conformer encoder scales its input by sqrt(d) before the layers (read from the
# library's code: FastSpeech2ConformerRelPositionalEncoding's input_scale, ESPnet's xscale).
SQRT_D_INPUT_TYPES = ("fastspeech2_conformer", "fastspeech2_conformer_with_hifigan")
ESPNET_SCALE = (
    "a conformer encoder without a norm of its own (ESPnet's layout): its input scaled by "
    "sqrt(d) as ESPnet's positional encoding does, not known for this model type"
)
UNKNOWN_POSITION_CONV = (
    "a conformer encoder beside a positional conv: whether its forward adds the conv's output is "
    "not known for this model type (Wav2Vec2-Conformer's never does; the file leaves it unused)"
)


def _int(value) -> int | None:
    return value if type(value) is int else None


def _groups(m) -> object:
    return next((a.value for a in m.args if a.keyword == "groups"), 1)


def _type_pin(m, value: str, why: str) -> list[tuple[str, str, object, str]]:
    return [
        (c.path, c.name, value, why)
        for c in m.choices
        if c.name == "module_type" and c.source == "default" and c.value != value
    ]


class ConformerConvModule(BlockPattern):
    role = CONV_ROLE
    priority = 20  # over the width-chaining fallback, which cannot order these
    synonyms = act.SYNONYMS

    accepts = Accepts(4, 5, tensors=False, families=("conv", "norm"))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        convs = [m for m in members if family(m) == "conv" and m.io is not None]
        norms = [m for m in members if family(m) == "norm"]
        if tensors(cls) or len(convs) != 3 or len(norms) not in (1, 2):
            return None
        if len(members) != len(convs) + len(norms) or any(m.io.ndim != 1 for m in convs):
            return None
        first = [m for m in convs if _int(m.io.in_width) and m.io.out_width == 2 * m.io.in_width]
        width = first[0].io.in_width if len(first) == 1 else None
        # the depthwise conv: grouped, or its [d, 1, k] weight read as one input channel's (the
        # layer's `depthwise` default, which the pins below settle)
        depthwise = [
            m
            for m in convs
            if m not in first
            and (_groups(m) not in (1, None) or m.io.in_width == 1 and m.io.out_width == width)
        ]
        last = [m for m in convs if m not in first and m not in depthwise]
        if width is None or len(depthwise) != 1 or len(last) != 1:
            return None
        first, depthwise, last = first[0], depthwise[0], last[0]
        if _kernel(first) != 1 or _kernel(last) != 1 or not _kernel(depthwise):
            return None  # pointwise convs beside a depthwise one padded "same"
        if depthwise.io.in_width not in (width, 1) or last.io.in_width != width:
            return None
        batch = [m for m in norms if "BatchNorm" in m.type_name or re.search("batch", m.attr)]
        layer = [m for m in norms if m not in batch]
        if len(batch) != 1 or len(layer) > 1:
            return None
        activation = _activation(cls, ctx, depthwise.attr)
        ctx.resolver.evidence("conv_depthwise_kernel_size")  # the depthwise conv's weight shows it
        k = _kernel(depthwise)
        _shown(ctx, "conv_kernel_size", k)  # Lasr's spelling of the same
        _shown(ctx, "convolution_bias", all(biased(m) for m in (first, depthwise, last)))
        why = "a Conformer's convolution module keeps the frames"
        pad, choices, guessed = None, [activation], ""
        if k % 2 == 0:  # k - 1 frames of padding split unevenly: the forward pads, not the conv
            extra = ctx.choose(cls, depthwise.attr, "extra_pad", "after", ["before"], EXTRA_PAD)
            model_type = ctx.resolver.evidence("model_type")
            if extra.source == "default" and model_type and model_type[1] in EVEN_KERNEL_TYPES:
                extra.source = "metadata"
                extra.note = f"{model_type[0]} {model_type[1]!r}: PyTorch's padding='same'"
            elif extra.source == "default":  # (no key shows which side takes the extra frame)
                guessed = f"the even kernel's extra frame of padding {extra.value} (extra_pad)"
            before = k // 2 if extra.value == "before" else (k - 1) // 2
            pad, choices = (before, k - 1 - before), [activation, extra]
        padding = (k - 1) // 2 if pad is None else 0
        pins = conv_pins(depthwise, {"stride": 1, "padding": padding, "depthwise": True}, why)
        for m in (first, last):
            pins += conv_pins(m, {"stride": 1, "padding": 0}, why)
        pins += _type_pin(batch[0], "nn.BatchNorm1d", "a batch norm over [batch, channels, frames]")
        found = (
            layer[0].attr if layer else None,
            first.attr,
            depthwise.attr,
            batch[0].attr,
            last.attr,
            activation.value,
            pad,
        )
        return Match(self, len(members), found, choices, pins=pins, guessed=guessed)

    def forward(self, match: Match, g: Graph) -> None:
        norm, first, depthwise, batch, last, activation, pad = match.found
        x = g.input("x")  # [batch, frames, d]
        if norm is not None:
            x = g.call_module((norm,), x, inline=True)
        x = g.call_method("transpose", x, 1, 2, inline=True)
        x = g.call_module((first,), x, inline=True)
        x = g.call_function("glu", x, kwargs={"dim": 1}, comment="half the channels gate")
        if pad is not None:
            x = g.call_function("F.pad", x, pad, comment="'same' for an even kernel")
        x = g.call_module((depthwise,), x, inline=True)
        x = g.call_module((batch,), x, inline=True)
        x = act.apply(g, activation, x, name="x")
        x = g.call_module((last,), x, inline=True)
        g.output(g.call_method("transpose", x, 1, 2), comment="[batch, frames, d]")

    @staticmethod
    def examples():
        return [conformer_example()]


def _shown(ctx: BlockContext, key: str, value) -> None:
    """config.json's `key` used where it says what the weights show (a kernel, a bias)."""
    said = ctx.resolver.metadata.get(key)
    if said is not None and said[1] == value and type(said[1]) is type(value):
        ctx.resolver.evidence(key)


def _activation(cls, ctx: BlockContext, where: str):
    return ctx.choose(
        cls,
        where,
        "activation",
        "silu",
        [a for a in act.TRANSFORMER if a != "silu"],
        "the activation after the depthwise conv (the paper's swish)",
        aliases=act.ALIASES,
    )


def _relative_parts(cls) -> tuple | None:
    """(position Linear, content bias, position bias) where the class holds them by name."""
    params = tensors(cls)
    u = [t for t in params if re.fullmatch(CONTENT_BIAS, t.attr, re.I) and len(t.shape) == 2]
    v = [t for t in params if re.fullmatch(POSITION_BIAS, t.attr, re.I) and len(t.shape) == 2]
    pos = one_named([m for m in modules(cls) if family(m) == "linear"], POSITION_PROJECTION)
    if len(params) != 2 or len(u) != 1 or len(v) != 1 or pos is None:
        return None
    return pos, u[0], v[0]


class RelativePositionAttention(Attention):
    role = "Attention"
    priority = 12

    def match(self, cls, ctx: BlockContext) -> Match | None:
        parts = _relative_parts(cls)
        if parts is None:
            return None
        pos, u, v = parts
        said = ctx.resolver.evidence(POSITION_KIND)
        if said is not None and said[1] != "relative":
            return None  # config.json names other positions than these
        plain = dataclasses.replace(cls, members=[m for m in cls.members if m not in parts])
        found = super().match(plain, ctx)
        if found is None or found.missing:
            return found
        p = found.found
        if not plain_bidirectional(p):
            return None
        q = one_named(modules(cls), re.escape(p.projections[0]))
        width = _int(q.io.out_width) if q is not None and q.io else None
        io = pos.io
        if width is None or p.kv_heads != p.nhead or width % p.nhead:
            return None
        if io is None or io.in_width != width or io.out_width != width:
            return None
        head_dim = width // p.nhead
        heads = _int(u.shape[0])
        if heads is not None and heads != p.nhead:
            return None  # the biases' rows are the heads: a count that disagrees is not this
        inner = (p, pos.attr, u.attr, v.attr, head_dim)
        return dataclasses.replace(found, pattern=self, explains=found.explains + 3, found=inner)

    def forward(self, match: Match, g: Graph) -> None:
        plan, pos, u, v, head_dim = match.found
        x = g.input("x")
        positions = g.input(POSITIONS)  # [1, 2 * frames - 1, d]: distances frames - 1 .. 1 - frames
        batch = g.call_method("size", x, 0, name="batch")
        seq = g.call_method("size", x, 1, name="seq")
        q, k, values = split_heads(g, x, batch, seq, plan)
        span = g.call_method("size", positions, 1, inline=True)
        p = g.call_module((pos,), positions, inline=True)
        p = g.call_method("view", p, 1, span, plan.nhead, head_dim, inline=True)
        p = g.call_method("permute", p, 0, 2, 3, 1, name="p", comment="[1, heads, head_dim, span]")
        shifted = g.call_function(
            "add", q, g.call_method("unsqueeze", g.getattr((v,)), 1, inline=True), inline=True
        )
        scores = g.call_function(
            "matmul", shifted, p, name="scores", comment="[batch, heads, seq, span]"
        )
        # Transformer-XL's shift: row i moved left by seq - 1 - i, so column j holds distance i - j
        scores = g.call_function("F.pad", scores, (1, 0), inline=True)
        scores = g.call_method("reshape", scores, batch, plan.nhead, -1, seq, inline=True)
        scores = g.call_function("getitem", scores, (Slice(), Slice(), Slice(1, None)), inline=True)
        scores = g.call_method("reshape", scores, batch, plan.nhead, seq, -1, inline=True)
        scores = g.call_function(
            "getitem", scores, (Slice(), Slice(), Slice(), Slice(None, seq)), inline=True
        )
        bias = g.call_function(
            "mul", scores, head_dim**-0.5, name="bias", comment="the position scores, scaled"
        )
        q = g.call_function(
            "add", q, g.call_method("unsqueeze", g.getattr((u,)), 1, inline=True), name="q"
        )
        comment = f"{plan.nhead} heads, every position sees all, relative positions added"
        y = attend(g, q, k, values, plan.nhead, plan.nhead, bias, comment)
        y = merge_heads(g, y, batch, seq)
        g.output(g.call_module((plan.out,), y))

    @staticmethod
    def examples():
        return [conformer_example()]


def _norm_of(norms: list, sublayer: str):
    """The norm named after a sublayer (`ffn1_layer_norm`, `self_attn_layer_norm`), or after it
    or its short name behind `norm_` (NeMo's `norm_feed_forward1`, `norm_self_att`; ESPnet's
    `norm_mha`) or before a norm's ending (FastSpeech2Conformer's `ff_macaron_layer_norm`)."""
    found = [m for m in norms if m.attr.startswith(sublayer) and m.attr != sublayer]
    if len(found) == 1:
        return found[0]
    names = {sublayer}
    for name, shorts in SHORT_NAMES.items():
        names |= {sublayer.replace(name, short) for short in shorts if name in sublayer}
    named = "|".join(
        rf"{re.escape(n)}{NORM_SUFFIX}|(norm|ln)_{re.escape(n)}" for n in sorted(names)
    )
    found = [m for m in norms if re.fullmatch(named, m.attr)]
    return found[0] if len(found) == 1 else None


def _weights(ctx: BlockContext, key: str) -> tuple[str, tuple[float, float]] | None:
    """config.json's pair under `key`, cited: (the residual's weight, the sublayer's)."""
    said = ctx.resolver.evidence_numbers(key)
    return (said[0], (said[1][0], said[1][1])) if said and len(said[1]) == 2 else None


def _residual(cls, ctx: BlockContext, where: str):
    """Where each sublayer's norm sits: before it (the paper's, `x + f(norm(x))`) or after its
    residual add (ESPnet's normalize_before false: `norm(x + f(x))`)."""
    said = ctx.resolver.evidence(*NORM_FIRST_KEYS)
    default, cite = "pre", ""
    if said is not None and isinstance(said[1], bool):
        default, cite = ("pre" if said[1] else "post"), said[0]
    residual = ctx.choose(
        cls,
        where,
        "residual",
        default,
        [v for v in ("pre", "post") if v != default],
        "where each sublayer's norm sits: before it, or after its residual add",
    )
    if cite and residual.source == "default":
        residual.source, residual.note = "metadata", cite
    elif residual.source == "default":
        residual.source, residual.note = "pattern", "the Conformer's pre-norm sublayers (its paper)"
    return residual


class ConformerLayer(BlockPattern):
    role = "Block"
    priority = 12

    accepts = Accepts(tensors=False, roles=("MLP", "Attention", CONV_ROLE))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls):
            return None
        feeds = [m for m in members if ctx.role(m) == "MLP"]
        attn = [m for m in members if ctx.role(m) == "Attention"]
        conv = [m for m in members if ctx.role(m) == CONV_ROLE]
        norms = [m for m in members if family(m) == "norm"]
        if len(feeds) != 2 or len(attn) != 1 or len(conv) != 1:
            return None
        first, second = one_named(feeds, FIRST_FF), one_named(feeds, SECOND_FF)
        if first is None or second is None or first is second:
            return None
        paired = [_norm_of(norms, m.attr) for m in (first, attn[0], second)]
        conv_norm = _norm_of(norms, conv[0].attr)
        final = one_named(norms, FINAL_NORM)
        if None in paired or final is None or final in paired:
            return None
        if len(members) != 4 + len(norms) or len(norms) != 4 + (conv_norm is not None):
            return None
        told = _weights(ctx, FF_WEIGHTS)
        half = ctx.choose(
            cls,
            first.attr,
            "feed_forward_scale",
            told[1][1] if told else HALF_STEP,
            [v for v in (HALF_STEP, 1.0) if v != (told[1][1] if told else HALF_STEP)],
            "the Conformer's half-step feed-forwards",
        )
        if half.source == "default" and told:
            half.source, half.note = "metadata", told[0]
        elif half.source == "default":
            half.source, half.note = (
                "pattern",
                "the Conformer's half-step feed-forwards (its paper)",
            )
        conv_told = _weights(ctx, CONV_WEIGHTS)
        # (the residual's weight, the sublayer's) where config.json gives them; else x + f(x)
        keeps = (told[1][0] if told else 1.0, conv_told[1] if conv_told else (1.0, 1.0))
        residual = _residual(cls, ctx, paired[0].attr)
        inner = ctx.classes.get(attn[0].type_name) if attn[0].kind == "class" else None
        pins = [
            (c.path, "causal", False, BOTH_WAYS)
            for c in (inner.forward.choices if inner is not None else ())
            if c.name == "causal" and c.source in ("default", "structure")
        ]
        found = (
            (first.attr, paired[0].attr),
            (attn[0].attr, paired[1].attr, ctx.takes(attn[0], POSITIONS)),
            (conv[0].attr, conv_norm.attr if conv_norm else None),
            (second.attr, paired[2].attr),
            final.attr,
            float(half.value),
            residual.value == "post",
            keeps,
        )
        return Match(self, len(members), found, [residual, half], pins=pins)

    def forward(self, match: Match, g: Graph) -> None:
        (ff1, n1), (attn, na, positioned), (conv, nc), (ff2, n2), final, half, post, keeps = (
            match.found
        )
        ff_keep, (conv_keep, conv_scale) = keeps
        x = g.input("x")
        extra = (g.input(POSITIONS),) if positioned else ()

        def sublayer(module: str, norm: str | None, value, scale=None, keep=1.0):
            """keep * value + scale * module(norm(value)), or the same sum normed after (post)."""
            h = value if post or norm is None else g.call_module((norm,), value, inline=True)
            h = g.call_module((module,), h, *(extra if module == attn else ()), inline=True)
            h = h if scale is None else g.call_function("mul", h, scale, inline=True)
            if keep != 1.0:
                value = g.call_function("mul", value, keep, inline=True)
            if post and norm is not None:
                return g.call_module((norm,), g.call_function("add", value, h, inline=True))
            return g.call_function("add", value, h)

        x = sublayer(ff1, n1, x, half, ff_keep)
        x = sublayer(attn, na, x)
        x = sublayer(conv, nc, x, None if conv_scale == 1.0 else conv_scale, conv_keep)
        x = sublayer(ff2, n2, x, half, ff_keep)
        g.output(g.call_module((final,), x))

    @staticmethod
    def examples():
        return [
            conformer_example(),
            espnet_conformer_example(),
            espnet_conformer_example("nemo"),
            lasr_encoder_example(),
        ]


FREQUENCIES = r"inv_freq|inverse_freq|inv_freqs"


class RotaryFrequencies(BlockPattern):
    """A class holding only a rotary table's frequencies (Wav2Vec2-Conformer's embed_positions):
    its forward gives them back; the attention that uses them computes the same from the base."""

    role = "RotaryFrequencies"
    priority = 5

    accepts = Accepts(0, 0, tensors=True)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        params = tensors(cls)
        if modules(cls) or len(params) != 1 or len(params[0].shape) != 1:
            return None
        if not re.fullmatch(FREQUENCIES, params[0].attr):
            return None
        return Match(self, 1, params[0].attr)

    def forward(self, match: Match, g: Graph) -> None:
        g.input("x")  # what the table would be computed for: the frequencies do not depend on it
        g.output(g.getattr((match.found,)), comment="theta ** (-2j / head_dim)")

    @staticmethod
    def examples():
        return [conformer_example(rotary=True)]


def _frequencies_only(ctx: BlockContext, m) -> bool:
    """A member class holding a rotary table's frequencies and nothing else."""
    return ctx.role(m) == RotaryFrequencies.role


def _rotary_layers(ctx: BlockContext, block) -> bool:
    """Whether a Conformer layer's attention turns its input by rotary positions."""
    inner = [ctx.classes.get(m.type_name) for m in modules(block) if m.kind == "class"]
    return any(c is not None and c.forward.pattern == RotaryInputAttention.__name__ for c in inner)


class RotaryInputAttention(Attention):
    """Rotary positions turned on the layer's input, each head's slice in the halves layout,
    before the query and key projections (the values read the input as it came): the
    Conformer ports' position_embeddings_type "rotary" (Wav2Vec2-Conformer's, SeamlessM4T's),
    the base config.json's rotary_embedding_base."""

    role = "Attention"
    priority = 12

    def match(self, cls, ctx: BlockContext) -> Match | None:
        kind = ctx.resolver.metadata.get(POSITION_KIND)
        base = ctx.resolver.metadata.get("rotary_embedding_base")
        if kind is None or kind[1] != "rotary" or base is None:
            return None
        if type(base[1]) not in (int, float) or base[1] <= 0:
            return None
        found = super().match(cls, ctx)
        if found is None or found.missing:
            return found
        p = found.found
        if not plain_bidirectional(p):
            return None
        q = one_named(modules(cls), re.escape(p.projections[0]))
        width = _int(q.io.in_width) if q is not None and q.io else None
        if width is None or p.kv_heads != p.nhead or width % p.nhead:
            return None
        ctx.resolver.evidence(POSITION_KIND, "rotary_embedding_base")
        theta = float(ctx.resolver.evidence("rotary_embedding_base")[1])
        inner = (p, width // p.nhead, theta)
        return dataclasses.replace(found, pattern=self, found=inner)

    def forward(self, match: Match, g: Graph) -> None:
        plan, head_dim, theta = match.found
        x = g.input("x")
        batch = g.call_method("size", x, 0, name="batch")
        seq = g.call_method("size", x, 1, name="seq")
        h = g.call_method("view", x, batch, seq, plan.nhead, head_dim, inline=True)
        h = g.call_method("transpose", h, 1, 2, inline=True)
        h = g.call_function("apply_rotary", h, theta, head_dim, inline=True)
        h = g.call_method("transpose", h, 1, 2, inline=True)
        turned = g.call_method(
            "reshape", h, batch, seq, -1, name="turned", comment="the input, turned per head"
        )

        def split(path: str, value, name: str):
            value = g.call_module((path,), value, inline=True)
            value = g.call_method("view", value, batch, seq, plan.nhead, -1, inline=True)
            return g.call_method("transpose", value, 1, 2, name=name)

        q_path, k_path, v_path = plan.projections
        q, k, v = split(q_path, turned, "q"), split(k_path, turned, "k"), split(v_path, x, "v")
        y = g.call_function(
            "scaled_dot_product_attention",
            q,
            k,
            v,
            name="y",
            comment=f"{plan.nhead} heads, every position sees all",
        )
        y = merge_heads(g, y, batch, seq)
        g.output(g.call_module((plan.out,), y))

    @staticmethod
    def examples():
        return [conformer_example(rotary=True)]


class ConformerEncoder(BlockPattern):
    """The layers, the final norm; the relative positions' sinusoids computed once for all."""

    role = "ConvPositionEncoder"
    priority = 7  # over ConvPositionEncoder and the gated-bias encoder: its layers are Conformer's

    accepts = Accepts(tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls):
            return None
        layers = [m for m in members if stack(m) and ctx.role(stack(m)[0]) == "Block"]
        norms = [m for m in members if family(m) == "norm"]
        conv = [m for m in members if ctx.role(m) == "PositionalConvEmbedding"]
        # ESPnet's input layer: a token table before the layers (FastSpeech2Conformer's embed)
        tokens = [m for m in members if family(m) == "embedding"]
        # or a speech front end over mel frames (Lasr's subsampler: Linears around strided convs)
        fronts = [m for m in members if ctx.role(m) == SUBSAMPLER_ROLE]
        if len(layers) != 1 or len(norms) > 1 or len(conv) > 1 or len(tokens + fronts) > 1:
            return None
        # the rotary frequencies' holder (Wav2Vec2-Conformer's embed_positions.inv_freq): the
        # layers' attention computes the same from config.json's base, so it is not called
        tables = [m for m in members if _frequencies_only(ctx, m)]
        if len(tables) > 1 or len(members) != 1 + len(norms + conv + tables + tokens + fronts):
            return None
        block = ctx.classes.get(stack(layers[0])[0].type_name)
        if block is None or block.forward.pattern != ConformerLayer.__name__:
            return None
        guessed = ""
        model_type = ctx.resolver.evidence("model_type")
        if conv:
            if model_type is None or model_type[1] not in UNUSED_POSITION_CONV_TYPES:
                guessed = UNKNOWN_POSITION_CONV
        positioned = ctx.takes(stack(layers[0])[0], POSITIONS)
        width = _int(tokens[0].io.out_width) if tokens and tokens[0].io else None
        layer = stack(layers[0])[0]
        width = width or _int(layer.io.in_width if layer.io else None)
        scale = _input_scale(cls, ctx, layers[0].attr, bool(norms), model_type)
        scaled = scale is not None and scale.value == "sqrt_d_model"
        if scaled and width is None:
            return None
        if scaled and scale.source == "default" and not guessed:
            guessed = ESPNET_SCALE
        said = ctx.resolver.evidence(POSITION_KIND)
        kind = said[1] if said is not None else None
        if said is None:  # null in config.json (no positions): the layers show none is added
            ctx.resolver.consumed.add(POSITION_KIND)
            # or, where config.json does not say (ESPnet's), the layers' attention holds relative
            # positions' projection and biases: it is given the sinusoids
            kind = "relative" if positioned else None
        if tables and kind != "rotary":
            return None
        if kind == "rotary" and not _rotary_layers(ctx, block):
            return Match(self, len(members), missing=ROTARY_INPUTS)
        if kind not in (None, "relative", "rotary") or positioned != (kind == "relative"):
            return None
        ctx.resolver.evidence("rotary_embedding_base")  # read by the layers' rotary attention
        factor = width**0.5 if scaled else None
        found = (
            layers[0].attr,
            norms[0].attr if norms else None,
            positioned,
            tokens[0].attr if tokens else None,
            factor,
            fronts[0].attr if fronts else None,
        )
        choices = [scale] if scale is not None else []
        return Match(self, len(members), found, choices, guessed=guessed)

    def forward(self, match: Match, g: Graph) -> None:
        layers, norm, positioned, tokens, factor, front = match.found
        x = g.input("input_ids" if tokens else "input_features" if front else "x")
        if tokens is not None:
            x = g.call_module((tokens,), x, name="x", comment="[batch, seq, d]")
        if front is not None:  # [batch, frames, mel bins] -> [batch, fewer frames, d]
            x = g.call_module((front,), x, name="x", comment="[batch, frames, d]")
        if factor is not None:
            x = g.call_function("mul", x, factor, name="x", comment="times sqrt(d)")
        extra = ()
        if positioned:
            frames = g.call_method("size", x, 1, inline=True)
            width = g.call_method("size", x, 2, inline=True)
            device = g.call_method("device", x, inline=True)
            extra = (
                g.call_function(
                    "interleaved_relative_sinusoids",
                    frames,
                    width,
                    device,
                    name="positions",
                    comment="[1, 2 * frames - 1, d]: distances frames - 1 .. 1 - frames",
                ),
            )
        x = g.call_module((layers,), x, *extra, each=True)
        if norm is not None:
            x = g.call_module((norm,), x)
        g.output(x, comment="[batch, frames, d]")

    @staticmethod
    def examples():
        return [conformer_example()]


def _input_scale(cls, ctx: BlockContext, where: str, normed: bool, model_type):
    """Whether the layers' input is scaled by sqrt(d) first, as a choice; None where the encoder
    holds a norm of its own (Wav2Vec2-Conformer's layout, which never scales). ESPnet's relative
    positional encoding scales (its xscale), and an ESPnet encoder over post-norm layers holds
    no norm."""
    known = model_type is not None and model_type[1] in SQRT_D_INPUT_TYPES
    if normed and not known:
        return None
    scale = ctx.choose(
        cls,
        where,
        "input_scale",
        "sqrt_d_model",
        ["none"],
        "the layers' input times sqrt(d) (ESPnet's positional encoding's xscale)",
    )
    if known and scale.source == "default":
        scale.source, scale.note = "metadata", f"{model_type[0]} {model_type[1]!r}"
    return scale


def _relative_sinusoids(d: int):
    """Transformer-XL's relative position table for `t` frames, as the examples' callers give it:
    [1, 2 t - 1, d], distances t - 1 .. 1 - t, sines at even and cosines at odd features."""
    import math

    import torch

    def sinusoids(t: int) -> torch.Tensor:
        position = torch.arange(t - 1, -t, -1).float()[:, None]
        freq = torch.exp(torch.arange(0, d, 2).float() * -(math.log(10000.0) / d))
        table = torch.zeros(2 * t - 1, d)
        table[:, 0::2] = torch.sin(position * freq)
        table[:, 1::2] = torch.cos(position * freq)
        return table[None]

    return sinusoids


def _relative_attention_class(d: int, nhead: int) -> type:
    """ESPnet's RelPositionMultiHeadedAttention (and its ports'), for the examples."""
    import math

    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    head_dim = d // nhead

    class SelfAttention(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.linear_q, self.linear_k = nn.Linear(d, d), nn.Linear(d, d)
            self.linear_v, self.linear_out = nn.Linear(d, d), nn.Linear(d, d)
            self.linear_pos = nn.Linear(d, d, bias=False)
            self.pos_bias_u = nn.Parameter(torch.randn(nhead, head_dim))
            self.pos_bias_v = nn.Parameter(torch.randn(nhead, head_dim))

        def forward(self, x, positions):
            b, t = x.size(0), x.size(1)
            q, k, v = (
                p(x).view(b, t, nhead, -1).transpose(1, 2)
                for p in (self.linear_q, self.linear_k, self.linear_v)
            )
            p = self.linear_pos(positions).view(1, -1, nhead, head_dim).permute(0, 2, 3, 1)
            bd = (q + self.pos_bias_v[None, :, None, :]) @ p
            shape = bd.shape
            bd = F.pad(bd, (1, 0)).view(shape[0], shape[1], shape[3] + 1, shape[2])
            bd = bd[:, :, 1:].reshape(shape)[..., :t]
            ac = (q + self.pos_bias_u[None, :, None, :]) @ k.transpose(2, 3)
            weights = ((ac + bd) / math.sqrt(head_dim)).softmax(-1)
            return self.linear_out((weights @ v).transpose(1, 2).reshape(b, t, d))

    return SelfAttention


def conformer_example(rotary: bool = False) -> Example:
    """A tiny Wav2Vec2-Conformer laid out as Hugging Face's, written here from its description:
    the speech encoder's parts (blocks/speech_encoder.py's example) with Conformer layers."""
    import math

    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    from codegen.patterns.blocks.speech_encoder import speech_example

    base = speech_example("group")
    d, nhead, kernel, rope_base = 16, 2, 5, 500.0
    head_dim = d // nhead

    sinusoids = _relative_sinusoids(d)

    class ConvModule(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layer_norm = nn.LayerNorm(d)
            self.pointwise_conv1 = nn.Conv1d(d, 2 * d, 1, bias=False)
            self.depthwise_conv = nn.Conv1d(
                d, d, kernel, padding=(kernel - 1) // 2, groups=d, bias=False
            )
            self.batch_norm = nn.BatchNorm1d(d)
            self.pointwise_conv2 = nn.Conv1d(d, d, 1, bias=False)

        def forward(self, x):
            x = self.pointwise_conv1(self.layer_norm(x).transpose(1, 2))
            x = F.glu(x, dim=1)
            x = F.gelu(self.batch_norm(self.depthwise_conv(x)))  # config.json hidden_act
            return self.pointwise_conv2(x).transpose(1, 2)

    SelfAttention = _relative_attention_class(d, nhead)

    class RotaryAttention(nn.Module):  # the input turned per head before q and k
        def __init__(self) -> None:
            super().__init__()
            self.linear_q, self.linear_k = nn.Linear(d, d), nn.Linear(d, d)
            self.linear_v, self.linear_out = nn.Linear(d, d), nn.Linear(d, d)

        def forward(self, x, positions):
            b, t = x.size(0), x.size(1)
            h = x.view(b, t, nhead, head_dim)
            inv = 1.0 / rope_base ** (torch.arange(0, head_dim, 2).float() / head_dim)
            angle = torch.arange(t).float()[:, None] * inv
            angle = torch.cat([angle, angle], -1)[:, None, :]
            half = head_dim // 2
            turned = torch.cat([-h[..., half:], h[..., :half]], -1)
            h = (h * angle.cos() + turned * angle.sin()).reshape(b, t, d)
            q, k = (
                p(h).view(b, t, nhead, -1).transpose(1, 2) for p in (self.linear_q, self.linear_k)
            )
            v = self.linear_v(x).view(b, t, nhead, -1).transpose(1, 2)
            y = F.scaled_dot_product_attention(q, k, v)
            return self.linear_out(y.transpose(1, 2).reshape(b, t, d))

    class Frequencies(nn.Module):  # held by the encoder, never called
        def __init__(self) -> None:
            super().__init__()
            self.register_buffer("inv_freq", torch.rand(head_dim // 2))

    class Layer(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            feed_forward = base.module.encoder.layers[0].feed_forward.__class__
            self.ffn1_layer_norm, self.ffn1 = nn.LayerNorm(d), feed_forward()
            attention = RotaryAttention() if rotary else SelfAttention()
            self.self_attn_layer_norm, self.self_attn = nn.LayerNorm(d), attention
            self.conv_module = ConvModule()
            self.ffn2_layer_norm, self.ffn2 = nn.LayerNorm(d), feed_forward()
            self.final_layer_norm = nn.LayerNorm(d)

        def forward(self, x, positions):
            x = x + 0.5 * self.ffn1(self.ffn1_layer_norm(x))
            x = x + self.self_attn(self.self_attn_layer_norm(x), positions)
            x = x + self.conv_module(x)
            x = x + 0.5 * self.ffn2(self.ffn2_layer_norm(x))
            return self.final_layer_norm(x)

    class Encoder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.pos_conv_embed = base.module.encoder.pos_conv_embed  # held, never called
            self.layer_norm = nn.LayerNorm(d)
            self.layers = nn.ModuleList(Layer() for _ in range(2))
            if rotary:
                self.embed_positions = Frequencies()

        def forward(self, x):
            positions = sinusoids(x.size(1))
            for layer in self.layers:
                x = layer(x, positions)
            return self.layer_norm(x)

    model = base.module
    model.encoder = Encoder()
    for m in model.modules():  # batch norm statistics away from their initial values
        if isinstance(m, nn.BatchNorm1d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 1.5)
    config = dict(base.metadata, model_type="wav2vec2-conformer", conv_depthwise_kernel_size=kernel)
    config.update(position_embeddings_type="rotary" if rotary else "relative", hidden_act="gelu")
    if rotary:
        config["rotary_embedding_base"] = rope_base
    return Example(model, base.inputs, config)


def espnet_conformer_example(layout: str = "espnet") -> Example:
    """A tiny Conformer encoder written here from ESPnet's or NeMo's code, as each repository
    names it, relative-position attention and the convolution module in both, the input times
    sqrt(d) as their relative positional encodings do (xscale).

    - "espnet" (FastSpeech 2's text encoder): a token table; post-norm layers (normalize_before
      false) whose feed-forwards are position-wise convs (MultiLayeredConv1d's w_1, w_2), their
      norms norm_ff_macaron, norm_mha, norm_conv, norm_ff, norm_final.
    - "nemo" (an ASR encoder over subsampled features): pre-norm layers, Linear feed-forwards
      (linear1, swish, linear2), norms norm_feed_forward1, norm_self_att, norm_conv,
      norm_feed_forward2, norm_out, the convolution module named conv."""
    import math

    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    d, nhead, kernel, units, ff_kernel, vocab = 16, 2, 5, 24, 3, 20
    sinusoids = _relative_sinusoids(d)
    SelfAttention = _relative_attention_class(d, nhead)
    nemo = layout == "nemo"

    class MultiLayeredConv1d(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.w_1 = nn.Conv1d(d, units, ff_kernel, padding=(ff_kernel - 1) // 2)
            self.w_2 = nn.Conv1d(units, d, ff_kernel, padding=(ff_kernel - 1) // 2)

        def forward(self, x):
            return self.w_2(torch.relu(self.w_1(x.transpose(-1, 1)))).transpose(-1, 1)

    class ConformerFeedForward(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.linear1, self.linear2 = nn.Linear(d, units), nn.Linear(units, d)

        def forward(self, x):
            return self.linear2(F.silu(self.linear1(x)))

    class ConvolutionModule(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.pointwise_conv1 = nn.Conv1d(d, 2 * d, 1)
            self.depthwise_conv = nn.Conv1d(d, d, kernel, padding=(kernel - 1) // 2, groups=d)
            self.norm = nn.BatchNorm1d(d)
            self.pointwise_conv2 = nn.Conv1d(d, d, 1)

        def forward(self, x):
            x = F.glu(self.pointwise_conv1(x.transpose(1, 2)), dim=1)
            x = F.silu(self.norm(self.depthwise_conv(x)))  # Swish
            return self.pointwise_conv2(x).transpose(1, 2)

    class EncoderLayer(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.self_attn = SelfAttention()
            self.feed_forward = MultiLayeredConv1d()
            self.feed_forward_macaron = MultiLayeredConv1d()
            self.conv_module = ConvolutionModule()
            self.norm_ff, self.norm_mha = nn.LayerNorm(d), nn.LayerNorm(d)
            self.norm_ff_macaron, self.norm_conv = nn.LayerNorm(d), nn.LayerNorm(d)
            self.norm_final = nn.LayerNorm(d)

        def forward(self, x, pos_emb):
            x = self.norm_ff_macaron(x + 0.5 * self.feed_forward_macaron(x))
            x = self.norm_mha(x + self.self_attn(x, pos_emb))
            x = self.norm_conv(x + self.conv_module(x))
            x = self.norm_ff(x + 0.5 * self.feed_forward(x))
            return self.norm_final(x)

    class ConformerLayer(nn.Module):  # NeMo's
        def __init__(self) -> None:
            super().__init__()
            self.norm_feed_forward1, self.feed_forward1 = nn.LayerNorm(d), ConformerFeedForward()
            self.norm_self_att, self.self_attn = nn.LayerNorm(d), SelfAttention()
            self.norm_conv, self.conv = nn.LayerNorm(d), ConvolutionModule()
            self.norm_feed_forward2, self.feed_forward2 = nn.LayerNorm(d), ConformerFeedForward()
            self.norm_out = nn.LayerNorm(d)

        def forward(self, x, pos_emb):
            x = x + 0.5 * self.feed_forward1(self.norm_feed_forward1(x))
            x = x + self.self_attn(self.norm_self_att(x), pos_emb)
            x = x + self.conv(self.norm_conv(x))
            x = x + 0.5 * self.feed_forward2(self.norm_feed_forward2(x))
            return self.norm_out(x)

    class Encoder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            if not nemo:
                self.embed = nn.Embedding(vocab, d)
            self.layers = nn.ModuleList((ConformerLayer if nemo else EncoderLayer)() for _ in "ab")

        def forward(self, x):
            x = (x if nemo else self.embed(x)) * math.sqrt(d)
            pos_emb = sinusoids(x.size(1))
            for layer in self.layers:
                x = layer(x, pos_emb)
            return x

    model = Encoder()
    for m in model.modules():  # batch norm statistics away from their initial values
        if isinstance(m, nn.BatchNorm1d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 1.5)
    if nemo:
        config = {"n_heads": nhead, "hidden_act": "silu"}
        return Example(model, (torch.randn(2, 7, d),), config)
    config = {"normalize_before": False, "attention_heads": nhead}
    return Example(model, (torch.randint(0, vocab, (2, 7)),), config)


def lasr_encoder_example() -> Example:
    """A tiny Lasr encoder (transformers' LasrEncoder): its subsampler, rotary attention, an even
    depthwise kernel padded "same", config.json's residual weights (1.5 x + 0.5 f(x), 2 x +
    conv(x)); its output the last hidden state."""
    import torch
    import transformers

    from codegen.patterns.blocks.linear_conv_subsampler import TINY_LASR
    from codegen.patterns.families.frame_head import lasr_statistics

    class Encoder(transformers.LasrEncoder):
        def forward(self, input_features):
            return super().forward(input_features).last_hidden_state

    config = transformers.LasrEncoderConfig(**TINY_LASR)
    torch.manual_seed(0)
    model = lasr_statistics(Encoder(config).eval())
    return Example(model, (torch.randn(2, 23, 10),), config.to_dict())
