"""A selective state-space mixer (Mamba, arXiv 2312.00752; FalconMamba): a sequence mixer with no
attention, whose state runs along the sequence.

    x, z = in_proj(h).chunk(2)              # [batch, seq, inner] each
    x = act(causal depthwise conv1d(x))      # each channel sees itself and the k - 1 before it
    dt, B, C = x_proj(x).split([rank, n, n])
    dt = softplus(dt_proj(dt))               # [batch, seq, inner], one step size per channel
    A = -exp(A_log)                          # [inner, n], stored as a log
    state_t = exp(dt_t A) * state_{t-1} + dt_t B_t x_t;  y_t = state_t . C_t   (selective_scan)
    out_proj((y + D * x) * silu(z))

Recognised from the tensors, not their names: a 2-D parameter [inner, n] and a 1-D one [inner]
beside one depthwise Conv1d over `inner` channels and four Linears told apart by their widths
(in_proj d -> 2 inner, dt_proj rank -> inner, x_proj inner -> rank + 2n, out_proj inner -> d).
The conv pads k - 1 on both sides and keeps the first `seq` outputs: it is causal, so the pattern
pins its stride to 1 and its padding to k - 1 wherever the shapes left them at a default.

FalconMamba normalises dt, B and C (RMS, no weight: nothing in the checkpoint) before use; the
choice `bc_dt_norm_eps` (config.json `mixer_rms_eps`) says so, None where there are no such norms.

`MixerLayer`: a layer of such a stack, `x + mixer(norm(x))`, with no feed-forward (Mamba's block).
"""

from __future__ import annotations

import re

from codegen.ir.graph import Graph, Slice
from codegen.patterns import _activations as act
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Example,
    Match,
    apply_norm,
    family,
    modules,
    norm_scale,
    one_named,
    tensors,
)

ROLE = "SelectiveScan"
# Roles of sequence mixers a layer may hold in place of attention (MixerLayer here, and the
# transformer block's): this scan, and LFM2's gated short conv (short_conv.py).
SEQUENCE_MIXERS = (ROLE, "ShortConv", "MultiHeadScan")  # + Mamba-2 (multi_head_scan.py)
SEQUENCE_MIXERS += ("LinearAttention",)  # moe10: MiniMax's (decayed_linear_attention.py)
# + Griffin's recurrent block (gated_linear_recurrence.py)
SEQUENCE_MIXERS += ("RecurrentBlock",)
SEQUENCE_MIXERS += ("DeltaNet",)  # lin11: gated delta rule (gated_delta_net.py)
SEQUENCE_MIXERS += ("FocalModulation",)  # FocalNet's, over channels-last maps (focal_modulation.py)
NORM_EPS_SYNONYMS = ("mixer_rms_eps",)
# What else a MixerLayer's one mixer may be, in a stack whose layers each hold one (NemotronH)
LAYER_MIXERS = ("Attention", "MoE")


def _width(m, side: str) -> int | None:
    value = getattr(m.io, side, None) if m.io is not None else None
    return value if isinstance(value, int) else None


def _kernel(m) -> int | None:
    """A Conv1d member's kernel size, where it is a number."""
    for a in m.args:
        if a.keyword == "kernel_size" or (a.keyword is None and a.role == "kernel"):
            value = a.value[0] if isinstance(a.value, tuple) and len(a.value) == 1 else a.value
            return value if isinstance(value, int) else None
    return None


def conv_pins(m, values: dict, why: str) -> list[tuple[str, str, object, str]]:
    """Pins of a conv member's choices (stride, padding, depthwise) left at a default to `values`."""
    made = list(m.choices) + [a.choice for a in m.args if a.choice is not None]
    pins = []
    for c in made:
        if c.name in values and c.source == "default":
            pins.append((c.path, c.name, values[c.name], why))
    return pins


def _depthwise(m) -> bool:
    """Whether a conv member is grouped one channel per group (its `groups` is its width)."""
    groups = next((a.value for a in m.args if a.keyword == "groups"), 1)
    width = _width(m, "in_width")
    return width is not None and (groups == width or getattr(groups, "name", None) is not None)


def _roles(linears: list, inner: int) -> tuple | None:
    """(in_proj, x_proj, dt_proj, out_proj) among four Linears, by their widths; names break the
    one tie the widths can leave (x_proj's and out_proj's outputs of one size)."""
    ins = [m for m in linears if _width(m, "out_width") == 2 * inner]
    dts = [m for m in linears if _width(m, "out_width") == inner and m not in ins]
    if len(ins) != 1 or len(dts) != 1:
        return None
    d_model, rank = _width(ins[0], "in_width"), _width(dts[0], "in_width")
    rest = [m for m in linears if m is not ins[0] and m is not dts[0]]
    if len(rest) != 2 or d_model is None or rank is None:
        return None
    if any(_width(m, "in_width") != inner for m in rest):
        return None
    outs = [m for m in rest if _width(m, "out_width") == d_model]
    xs = [m for m in rest if ((_width(m, "out_width") or 0) - rank) % 2 == 0]
    xs = [m for m in xs if (_width(m, "out_width") or 0) > rank]
    if len(outs) == 2 and len(xs) == 2:  # both fit both: the names say which
        outs = [m for m in rest if re.search(r"out", m.attr, re.I)]
    out = outs[0] if len(outs) == 1 else None
    x_proj = next((m for m in rest if m is not out), None)
    if out is None or x_proj not in xs:
        return None
    return ins[0], x_proj, dts[0], out


class SelectiveScan(BlockPattern):
    role = ROLE
    priority = 10
    synonyms = {**act.SYNONYMS, "bc_dt_norm_eps": NORM_EPS_SYNONYMS}

    accepts = Accepts(tensors=True)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        params, members = tensors(cls), modules(cls)
        # Jamba's: dt, B and C through RMSNorms with weights (dt_layernorm, b_/c_layernorm)
        norms = [m for m in members if family(m) == "norm"]
        if len(params) != 2 or len(members) - len(norms) != 5 or len(norms) not in (0, 3):
            return None
        a = [t for t in params if len(t.shape) == 2]
        d = [t for t in params if len(t.shape) == 1]
        convs = [m for m in members if family(m) == "conv"]
        linears = [m for m in members if family(m) == "linear"]
        if len(a) != 1 or len(d) != 1 or len(convs) != 1 or len(linears) != 4:
            return None
        conv = convs[0]
        inner, k = _width(conv, "out_width"), _kernel(conv)
        if inner is None or k is None or _width(conv, "in_width") not in (1, inner):
            return None  # read as one input channel until the pin below makes it depthwise
        found = _roles(linears, inner)
        if found is None:
            return None
        in_proj, x_proj, dt_proj, out_proj = found
        rank = _width(dt_proj, "in_width")
        state = (_width(x_proj, "out_width") - rank) // 2
        normed = None
        if norms:
            normed = tuple(one_named(norms, p) for p in (r"(dt|time).*", r"b_.*|b", r"c_.*|c"))
            widths = (rank, state, state)
            if None in normed or any(_width(n, "in_width") != w for n, w in zip(normed, widths)):
                return None
            normed = tuple(n.attr for n in normed)
        activation = ctx.choose(
            cls,
            conv.attr,
            "activation",
            "silu",
            act.alternatives("silu", told=ctx.resolver),
            "after the causal conv",
            aliases=act.ALIASES,
        )
        choices = [activation]
        if normed is None:  # none in the checkpoint: FalconMamba's have no weights
            norm_eps = ctx.choose(
                cls,
                x_proj.attr,
                "bc_dt_norm_eps",
                None,
                [1e-6],
                "RMS norms without weights on dt, B and C (FalconMamba); None: no such norms",
                accepts="unit_float",
            )
            choices.append(norm_eps)
            normed = norm_eps.value
        why = "a selective scan's conv is causal (k - 1 steps of the past)"
        pins = conv_pins(conv, {"stride": 1, "padding": k - 1, "depthwise": True}, why)
        guessed = ""
        if not re.search("log", a[0].attr, re.I):
            guessed = f"{a[0].attr} read as log(-A), as Mamba stores it"
        names = (in_proj.attr, conv.attr, x_proj.attr, dt_proj.attr, out_proj.attr)
        found = (names, a[0].attr, d[0].attr, rank, state, activation.value, normed)
        return Match(
            self,
            len(params) + len(members),
            found,
            choices,
            pins=pins,
            guessed=guessed,
        )

    def forward(self, match: Match, g: Graph) -> None:
        names, a_log, d, rank, state, activation, norm_eps = match.found
        in_proj, conv, x_proj, dt_proj, out_proj = names
        h = g.input("x")  # [batch, seq, d_model]
        # [batch, 1, 1, seq], False at padding: padding tokens enter the scan as zeros
        mask = g.input("mask", optional=True)
        seq = g.call_method("size", h, 1, inline=True)
        h = g.call_function("zero_masked", h, mask, inline=True)
        both = g.call_module((in_proj,), h, name="h", comment="[batch, seq, 2 * inner]")
        x = g.call_method("chunk", both, 2, kwargs={"dim": -1}, inline=True)
        x = g.call_function("getitem", x, 0, name="u")
        z = g.call_method("chunk", both, 2, kwargs={"dim": -1}, inline=True)
        z = g.call_function("getitem", z, 1, name="z")
        # the conv runs over time: channels first, padded on both sides, the first seq kept
        x = g.call_method("transpose", x, 1, 2, inline=True)
        x = g.call_module((conv,), x, inline=True)
        x = g.call_function("getitem", x, (Slice(), Slice(), Slice(None, seq)), inline=True)
        x = g.call_method("transpose", x, 1, 2, inline=True)
        x = act.apply(g, activation, x, inline=True)
        x = g.call_function(
            "zero_masked", x, mask, name="u", comment="causal conv: [batch, seq, inner]"
        )
        parts = g.call_module((x_proj,), x, inline=True)
        parts = g.call_method(
            "split", parts, [rank, state, state], kwargs={"dim": -1}, name="parts"
        )
        dt = g.call_function("getitem", parts, 0, name="dt", inline=norm_eps is None)
        b = g.call_function("getitem", parts, 1, name="B", inline=norm_eps is None)
        c = g.call_function("getitem", parts, 2, name="C", inline=norm_eps is None)
        if isinstance(norm_eps, tuple):  # the norms are members (Jamba)
            dt, b, c = (
                g.call_module((path,), v, name=n)
                for path, v, n in zip(norm_eps, (dt, b, c), ("dt", "B", "C"))
            )
        elif norm_eps is not None:  # weightless RMS norms (FalconMamba)
            dt, b, c = (
                g.call_function("rms_norm", v, [w], kwargs={"eps": norm_eps}, name=n)
                for v, w, n in ((dt, rank, "dt"), (b, state, "B"), (c, state, "C"))
            )
        dt = g.call_function("F.softplus", g.call_module((dt_proj,), dt, inline=True), name="dt")
        a = g.call_function("torch.exp", g.getattr((a_log,)), inline=True)
        a = g.call_function("torch.neg", a, name="A", comment="[inner, state]")
        y = g.call_function("selective_scan", x, dt, a, b, c, name="y")
        skip = g.call_function("mul", x, g.getattr((d,)), inline=True)
        y = g.call_function("add", y, skip, name="y", comment="plus the D skip")
        gate = g.call_function("silu", z, inline=True)
        y = g.call_function("mul", y, gate, name="y", comment="gated by silu(z)")
        g.output(g.call_module((out_proj,), y))

    @staticmethod
    def examples():
        from codegen.patterns.blocks._state_space_examples import example

        return [example(), example(norm_eps=1e-6)]


class MixerLayer(BlockPattern):
    """`x + mixer(norm(x))`: a pre-norm residual around a sequence mixer, with no feed-forward."""

    role = "Block"
    priority = 8

    accepts = Accepts(2, 2, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 2:
            return None
        # ssm9: NemotronH's layers hold one mixer each: a scan, an attention or a mixture
        mixer = [m for m in members if ctx.role(m) in (*SEQUENCE_MIXERS, *LAYER_MIXERS)]
        norm = [m for m in members if family(m) == "norm"]
        if len(mixer) != 1 or len(norm) != 1:
            return None
        choices, offset = norm_scale(ctx, cls, norm[0])
        found = (mixer[0].attr, norm[0].attr, offset, ctx.takes(mixer[0], "mask"))
        return Match(self, 2, found, choices)

    def forward(self, match: Match, g: Graph) -> None:
        mixer, norm, offset, masked = match.found
        x = g.input("x")
        mask = (g.input("mask", optional=True),) if masked else ()
        h = apply_norm(g, (norm,), x, offset, inline=True)
        g.output(g.call_function("add", x, g.call_module((mixer,), h, *mask, inline=True)))

    @staticmethod
    def examples():
        from codegen.patterns.blocks._state_space_examples import example

        return [example()]
