"""A multi-head state-space mixer (Mamba-2, arXiv 2405.21060 "state space duality"; the mixer of
Bamba, NemotronH, GraniteMoeHybrid, Zamba2): like Mamba's selective scan, but A is one scalar per
head and B and C are shared by the heads of a group.

    z, xBC, dt = in_proj(h).split([inner, inner + 2 G N, heads])
    xBC = act(causal depthwise conv1d(xBC));  x, B, C = xBC.split([inner, G N, G N])
    dt = clamp(softplus(dt + dt_bias), dt_min)    # [batch, seq, heads]
    A = -exp(A_log)                               # [heads]
    state_t = exp(dt_t A) state_(t-1) + dt_t x_t B_t^T;  y_t = state_t C_t + D x_t   (per head)
    out_proj(group_rms_norm(y * silu(z)) * norm.weight)   # the norm before the gate, where told

Recognised from the tensors, not their names: three 1-D parameters of one size (heads) beside one
depthwise Conv1d, two Linears (in_proj d -> inner + conv + heads, out_proj inner -> d) and an
RMSNorm over `inner`. The widths fix inner, heads, head_dim and G N; the split of G N into groups
and state size is the one number they leave open (`n_groups`, config.json's n_groups). Names tell
the three 1-D parameters apart (A_log, D, dt_bias): the shapes cannot.

The libraries compute the scan in chunks (a matrix form of the same recurrence, for speed); the
generated file runs it step by step, which gives the same numbers to float32 rounding, so
`chunk_size` does not change the forward.
"""

from __future__ import annotations

import math
import re

from codegen.ir import Choice
from codegen.ir.graph import Graph, Slice
from codegen.patterns import _activations as act
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Match,
    family,
    modules,
    raw_value,
    tensors,
)
from codegen.patterns.blocks.selective_scan import _kernel, _width, conv_pins

ROLE = "MultiHeadScan"
# config.json's spellings of the sizes the widths show (read to check them, and to split G N)
# (a hybrid's own mamba_ spellings first: its plain head_dim is its attention's)
HEADS = ("mamba_n_heads", "mamba_num_heads", "n_mamba_heads", "num_heads")
HEAD_DIM = ("mamba_d_head", "mamba_head_dim", "mamba_headdim", "head_dim")
STATE_SIZE = ("mamba_d_state", "ssm_state_size", "state_size")
CHUNK_SIZE = ("chunk_size", "mamba_chunk_size")
# Which key bounds dt, by each family's code (tests/test_state_space_9.py compares them)
LIMIT_TYPES = ("mamba2", "bamba", "granitemoehybrid", "falcon_h1")
FLOOR_TYPES = ("nemotron_h", "zamba2")
SYNONYMS = {
    # a hybrid's own spelling first: its hidden_act (or mlp_hidden_act) is its MLPs'
    "activation": ("mamba_hidden_act", *act.SYNONYMS["activation"]),
    "n_groups": ("n_groups", "mamba_n_groups", "mamba_ngroups", "ngroups"),
    "norm_before_gate": ("norm_before_gate", "mamba_norm_before_gate"),
}


def _named(params: list, pattern: str) -> list:
    return [t for t in params if re.search(pattern, t.attr, re.I)]


def _parameters(params: list) -> tuple[str, str, str] | None:
    """(A_log, D, dt_bias) among three 1-D parameters of one size, by their names."""
    a = _named(params, r"log|^a$")
    dt = [t for t in _named(params, r"dt|bias") if t not in a]
    d = [t for t in params if t not in a and t not in dt]
    if len(a) != 1 or len(dt) != 1 or len(d) != 1:
        return None
    return a[0].attr, d[0].attr, dt[0].attr


def dt_limits(ctx: BlockContext) -> tuple[float, float | None, str, str] | None:
    """(floor, ceiling or None, cited, guessed) of the step sizes. Each family's code picks one
    of two keys: config.json's time_step_limit (Mamba-2, Bamba, GraniteMoeHybrid), or
    time_step_min as a floor (NemotronH, Zamba2: their time_step_limit, if any, is unused).
    Another family's choice between them is a guess the file states; None where neither is
    given (no clamp beyond softplus's 0)."""
    model_type = ctx.resolver.evidence("model_type")
    mtype = model_type[1] if model_type else None
    limit = raw_value(ctx, "time_step_limit")  # a pair: not among the scalars
    floor = ctx.resolver.evidence("time_step_min")
    guessed = ""
    if mtype not in LIMIT_TYPES + FLOOR_TYPES and limit is not None and floor is not None:
        guessed = f"dt clamped by {limit[0]}, not at {floor[0]}: model_type {mtype!r} unchecked"
    if limit is not None and mtype not in FLOOR_TYPES:
        low, high = limit[1] if isinstance(limit[1], (list, tuple)) else (None, None)
        if isinstance(high, dict) and high.get("__float__") == "Infinity":
            high = math.inf  # how the library writes inf into config.json
        if type(low) not in (int, float) or type(high) not in (int, float):
            return None
        return float(low), (None if math.isinf(high) else float(high)), limit[0], guessed
    if floor is not None and type(floor[1]) in (int, float):
        if mtype not in FLOOR_TYPES:
            guessed = f"dt floored at {floor[0]}: model_type {mtype!r} unchecked"
        return float(floor[1]), None, f"{floor[0]} (a floor on dt)", guessed
    return None


def _disagrees(ctx: BlockContext, keys: tuple[str, ...], value: int) -> str:
    """What config.json says against a size the widths show ('' where it agrees or is silent)."""
    said = ctx.resolver.evidence(*keys)
    if said is None or said[1] == value:
        return ""
    return f"{said[0]} says {said[1]!r}, the widths {value}"


def _mup_factors(ctx: BlockContext):
    """Falcon-H1's muP factors: (on the mixer's input, [on z, x, B, C, dt] or None), from
    config.json's ssm_in_multiplier and ssm_multipliers; None where both are 1 or absent,
    "unreadable" where they are not numbers."""
    said_in = ctx.resolver.evidence("ssm_in_multiplier")
    said = raw_value(ctx, "ssm_multipliers")
    factor_in = said_in[1] if said_in is not None else 1.0
    factors = said[1] if said is not None else [1.0] * 5
    if type(factor_in) not in (int, float) or not isinstance(factors, list) or len(factors) != 5:
        return "unreadable"
    if any(type(v) not in (int, float) for v in factors):
        return "unreadable"
    if factor_in == 1 and all(v == 1 for v in factors):
        return None
    return float(factor_in), None if all(v == 1 for v in factors) else [float(v) for v in factors]


class MultiHeadScan(BlockPattern):
    role = ROLE
    priority = 10
    synonyms = SYNONYMS

    accepts = Accepts(3, 4, tensors=True)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        params, members = tensors(cls), modules(cls)
        if len(params) != 3 or len(members) not in (3, 4):
            return None
        if any(len(t.shape) != 1 or t.shape != params[0].shape for t in params):
            return None
        convs = [m for m in members if family(m) == "conv"]
        linears = [m for m in members if family(m) == "linear"]
        norms = [m for m in members if family(m) == "norm"]
        if len(convs) != 1 or len(linears) != 2 or len(norms) != len(members) - 3:
            return None
        conv = convs[0]
        conv_width, k = _width(conv, "out_width"), _kernel(conv)
        if conv_width is None or k is None or _width(conv, "in_width") not in (1, conv_width):
            return None
        outs = [m for m in linears if _width(m, "out_width") == _width(linears[0], "in_width")]
        ins = [m for m in linears if m not in outs]
        if len(outs) != 1 or len(ins) != 1:  # d -> d both ways: the widths cannot tell
            return None
        in_proj, out_proj = ins[0], outs[0]
        inner, d_model = _width(out_proj, "in_width"), _width(in_proj, "in_width")
        if inner is None or _width(out_proj, "out_width") != d_model:
            return None
        heads = (_width(in_proj, "out_width") or 0) - inner - conv_width  # dt: one per head
        size = params[0].shape[0]  # an int, or a constructor parameter the load checks
        if heads <= 0 or inner % heads or (isinstance(size, int) and size != heads):
            return None
        both = conv_width - inner  # B and C: 2 G N
        if both <= 0 or both % 2:
            return None
        named = _parameters(params)
        if named is None:
            return None
        # its weight and eps are all the forward reads: an RMSNorm, or a LayerNorm where the
        # metadata said so, computes the same here
        if norms and _width(norms[0], "in_width") != inner:
            return None
        with ctx.resolver.within(SYNONYMS):
            activation = ctx.choose(
                cls,
                conv.attr,
                "activation",
                "silu",
                act.alternatives("silu", told=ctx.resolver),
                "after the causal conv",
                aliases=act.ALIASES,
            )
            fits = [g for g in range(1, heads + 1) if heads % g == 0 and (both // 2) % g == 0]
            state = ctx.resolver.evidence(*STATE_SIZE)  # then groups = G N / N
            shown = both // 2 // state[1] if state and type(state[1]) is int else None
            groups = ctx.choose(
                cls,
                in_proj.attr,
                "n_groups",
                shown if shown in fits else 1,
                [g for g in fits if g != 1],
                "heads sharing one B and C: the widths show only groups x state",
            )
            choices = [activation, groups]
            before = False
            if norms:
                order = ctx.choose(
                    cls,
                    norms[0].attr,
                    "norm_before_gate",
                    False,
                    [True],
                    "the gated norm multiplies by silu(z) first (Mamba-2)",
                )
                choices.append(order)
                before = order.value
        if groups.value not in fits or inner % groups.value:
            return None
        mup = _mup_factors(ctx)
        if mup == "unreadable":
            return None
        limits = dt_limits(ctx)
        floor, ceiling = (limits[0], limits[1]) if limits else (0.0, None)
        if limits is not None:
            choices.append(
                Choice(
                    "dt_limit",
                    (floor, ceiling),
                    [],
                    "metadata",
                    limits[2],
                    f"{cls.name}.{in_proj.attr}",
                )
            )
        state = both // 2 // groups.value
        disagree = [
            _disagrees(ctx, keys, v) for keys, v in ((HEADS, heads), (STATE_SIZE, state))
        ] + [_disagrees(ctx, HEAD_DIM, inner // heads)]
        # computed in chunks by the library: the same sums in another order
        for key in CHUNK_SIZE:
            if key in ctx.resolver.metadata:
                ctx.resolver.evidence(key)
        why = "a state-space scan's conv is causal (k - 1 steps of the past)"
        pins = conv_pins(conv, {"stride": 1, "padding": k - 1, "depthwise": True}, why)
        found = (
            (in_proj.attr, conv.attr, out_proj.attr, norms[0].attr if norms else None),
            named,
            (inner, heads, groups.value, state),
            activation.value,
            before,
            (floor, ceiling),
            mup,
        )
        guessed = "; ".join(d for d in disagree + [limits[3] if limits else ""] if d)
        return Match(self, len(params) + len(members), found, choices, pins=pins, guessed=guessed)

    def forward(self, match: Match, g: Graph) -> None:
        (in_proj, conv, out_proj, norm), (a_log, d, dt_bias), sizes, activation, before, limits = (
            match.found[:6]
        )
        factor_in, factors = match.found[6] or (1.0, None)
        inner, heads, groups, state = sizes
        h = g.input("x")  # [batch, seq, d_model]
        # [batch, 1, 1, seq], False at padding: padding tokens enter the scan as zeros
        mask = g.input("mask", optional=True)
        batch = g.call_method("size", h, 0, name="batch")
        seq = g.call_method("size", h, 1, name="seq")
        h = g.call_function("zero_masked", h, mask, inline=True)
        if factor_in != 1:  # Falcon-H1's ssm_in_multiplier
            h = g.call_function("mul", h, factor_in, inline=True)
        proj = g.call_module((in_proj,), h, inline=True)
        if factors is not None:  # Falcon-H1's ssm_multipliers: on z, x, B, C and dt
            gn = groups * state
            proj = g.call_function(
                "scale_segments", proj, [inner, inner, gn, gn, heads], factors, name="proj"
            )
        width = inner + 2 * groups * state
        parts = g.call_method(
            "split", proj, [inner, width, heads], kwargs={"dim": -1}, name="parts"
        )
        z = g.call_function("getitem", parts, 0, name="z")
        xbc = g.call_function("getitem", parts, 1, inline=True)
        dt = g.call_function("getitem", parts, 2, inline=True)
        # the conv runs over time: channels first, padded on both sides, the first seq kept
        xbc = g.call_method("transpose", xbc, 1, 2, inline=True)
        xbc = g.call_module((conv,), xbc, inline=True)
        xbc = g.call_function("getitem", xbc, (Slice(), Slice(), Slice(None, seq)), inline=True)
        xbc = g.call_method("transpose", xbc, 1, 2, inline=True)
        xbc = act.apply(g, activation, xbc, inline=True)
        xbc = g.call_function(
            "zero_masked", xbc, mask, name="xbc", comment="causal conv: [batch, seq, inner + 2GN]"
        )
        split = g.call_method(
            "split", xbc, [inner, groups * state, groups * state], kwargs={"dim": -1}, name="xbc"
        )
        x = g.call_function("getitem", split, 0, inline=True)
        x = g.call_method("view", x, batch, seq, heads, -1, name="x", comment="[b, s, heads, p]")
        b, c = (
            g.call_method(
                "view",
                g.call_function("getitem", split, i, inline=True),
                batch,
                seq,
                groups,
                state,
                name=n,
            )
            for i, n in ((1, "B"), (2, "C"))
        )
        dt = g.call_function("add", dt, g.getattr((dt_bias,)), inline=True)
        floor, ceiling = limits
        dt = g.call_function("F.softplus", dt, name="dt", inline=not floor and ceiling is None)
        if floor or ceiling is not None:
            bounds = (floor,) if ceiling is None else (floor, ceiling)
            dt = g.call_function("torch.clamp", dt, *bounds, name="dt", comment="[b, s, heads]")
        a = g.call_function("torch.exp", g.getattr((a_log,)), inline=True)
        a = g.call_function("torch.neg", a, name="A", comment="[heads]")
        y = g.call_function("multi_head_scan", x, dt, a, b, c, name="y")
        skip = g.call_method("unsqueeze", g.getattr((d,)), -1, inline=True)
        skip = g.call_function("mul", x, skip, inline=True)
        y = g.call_function("add", y, skip, name="y", comment="plus the D skip")
        y = g.call_method("reshape", y, batch, seq, inner, name="y")
        if norm is None:
            y = g.call_function("mul", y, g.call_function("silu", z, inline=True), name="y")
        else:
            weight = g.getattr((norm, "weight"))
            eps = g.getattr((norm, "eps"))
            y = g.call_function("gated_group_rms_norm", y, z, weight, groups, eps, before, name="y")
        g.output(g.call_module((out_proj,), y))

    @staticmethod
    def examples():
        from codegen.patterns.blocks._multi_head_scan_examples import example

        return [example(), example(groups=2, norm_before_gate=True)]
