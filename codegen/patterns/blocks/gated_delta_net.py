"""A gated delta-rule mixer (Gated DeltaNet, arXiv 2412.06464: Qwen3-Next's and Qwen3.5's
`linear_attn`, OLMo hybrid's; Kimi Linear's KDA, whose decay is per key feature): linear attention
whose state is corrected toward each new value rather than only added to.

    q, k, v = act(causal depthwise conv1d([q | k | v]))     each split into heads
    beta = sigmoid(b(x))                                     [batch, seq, heads]
    g = -exp(A_log) * softplus(a(x) + dt_bias)               the log decay, per head (or per
                                                             key feature: Kimi's f_b(f_a(x)))
    S = exp(g_t) S;  S += k_t (beta_t (v_t - k_t^T S))^T;  y_t = q_t^T S   (q, k L2-normalised)
    out_proj(rms_norm(y) * weight * act(z(x)))               the norm over each head's dv

Recognised from the parameters A_log and dt_bias beside a depthwise conv (or one per q, k, v, as
the original checkpoints store them), a norm over one head's values, and Linears told apart by
name and width. The sources of q, k, v, z, b and a come in three layouts:
- fused per key-head group: in_proj_qkvz [nk x (q, k, v, z)] and in_proj_ba [nk x (b, a)]
  (Qwen3-Next);
- fused flat: in_proj_qkv [q | k | v] beside in_proj_z, in_proj_b, in_proj_a (Qwen3.5);
- separate: q_proj, k_proj, v_proj, b_proj, a gate (g_proj, or g_a_proj -> g_b_proj) and a decay
  (a_proj, or f_a_proj -> f_b_proj with dt_bias per feature and A_log [1, 1, heads, 1]: KDA).
The widths fix the value heads (b's width) and their size (the norm's); how the key width splits
into key heads is the choice `key_heads` (config.json linear_num_key_heads). What the gate applies
(silu or sigmoid), the norm's eps and whether beta is doubled (OLMo's linear_allow_neg_eigval) are
read per model_type from each family's code below; for another type the silu and the config eps
are defaults and the file says 'guessed'.

The library computes the rule in chunks of 64 (a triangular solve per chunk); the file runs it
step by step (render/helpers/recurrent.py gated_delta_rule), the same sums to float32 rounding:
chunk_size does not change the forward. tests/test_linear_11.py compares both library forms with it.
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
    family,
    modules,
)
from codegen.patterns._kit import biased, one_named, tensors
from codegen.patterns.blocks.selective_scan import _kernel, _width, conv_pins

ROLE = "DeltaNet"
FORGET_ROLE = "ForgetGate"
A_LOG, DT_BIAS = r"a_log|log_a", r"dt_bias|time_bias"
# the Linears, by name (an attribute matches one slot at most)
SLOTS = {
    "qkvz": r"\w*qkvz\w*",
    "packed": r"in_proj|in_proj_qkvzba",  # Lara's checkpoints: rows [q | k | v | z | b | a]
    "ba": r"\w*_ba|ba_proj",
    "qkv": r"\w*_qkv|qkv_proj",
    "q": r"q_proj|query|query_proj",
    "k": r"k_proj|key|key_proj",
    "v": r"v_proj|value|value_proj",
    "z": r"\w*_z|z_proj|g_proj|gate_proj|o_gate",
    "b": r"\w*_b|b_proj|beta_proj",
    "a": r"\w*_a|a_proj|alpha_proj",
    "ga": r"g_a_proj|gate_a_proj",
    "gb": r"g_b_proj|gate_b_proj",
    "fa": r"f_a_proj|forget_a_proj",
    "fb": r"f_b_proj|forget_b_proj",
    "f": r"f_proj|forget_proj",  # moe12: a full-rank per-feature decay (Bailing's saved KDA)
    "out": r"o_proj|out_proj|output_proj|dense",
}
CONVS = {"q": r"q_conv\w*", "k": r"k_conv\w*", "v": r"v_conv\w*"}
KEY_HEADS = ("linear_num_key_heads", "linear_num_heads", "num_k_heads")
KEY_HEAD_DIM = ("linear_key_head_dim", "linear_head_dim", "head_k_dim")
# Read from each family's modeling code (transformers 5): the activation of the output gate, the
# output norm's eps where the code fixes it (None: config.json rms_norm_eps), and whether a
# per-feature decay is Kimi's (no lower bound). tests/test_linear_11.py compares the first three.
GATE_BY_TYPE = {
    "qwen3_next": "silu",
    "qwen3_5": "silu",
    "qwen3_5_moe": "silu",
    "qwen3_5_text": "silu",
    "qwen3_5_moe_text": "silu",
    "lara_mini": "silu",
    "olmo_hybrid": "silu",
    "kimi_linear": "sigmoid",
    "bailing_hybrid": "sigmoid",
}
NORM_EPS_BY_TYPE = {"olmo_hybrid": 1e-5}  # its o_norm: FLA's FusedRMSNormGated default
PER_FEATURE_TYPES = ("kimi_linear", "bailing_hybrid")
# moe12: config.json's switch to the bounded decay lower_bound * sigmoid(exp(A_log) * f) in place
# of -exp(A_log) * softplus(f) (Bailing hybrid's forget gate: kda_safe_gate, kda_lower_bound)
SAFE_GATE = ("kda_safe_gate", "safe_gate")
LOWER_BOUND = ("kda_lower_bound", "lower_bound")
PACKED_TYPES = ("lara_mini",)  # one in_proj's rows in the order q, k, v, z, b, a (its code)
DOUBLED_BETA = ("linear_allow_neg_eigval", "allow_neg_eigval")


def _slots(linears: list) -> dict | None:
    """Each Linear's slot by its name; None where one fits none or two fit one slot."""
    found: dict = {}
    for m in linears:
        names = [s for s, p in SLOTS.items() if re.fullmatch(p, m.attr, re.I)]
        if len(names) > 1 and "z" in names:  # `gate_proj` beside g_a/g_b is not there
            names = [n for n in names if n != "z"] or names
        if len(names) != 1 or names[0] in found:
            return None
        found[names[0]] = m
    return found


def _layout(s: dict, forget_gate: bool = False) -> str | None:
    """Which of the layouts the named Linears make (a ForgetGate member holding the decay's),
    None for another set."""
    have = set(s)
    gate = have & {"z"} or (have >= {"ga", "gb"} and {"ga", "gb"})
    decay = have & {"a"} or have & {"f"} or (have >= {"fa", "fb"} and {"fa", "fb"})
    if forget_gate:
        decay = not decay and {"forget"}
    if have == {"qkvz", "ba", "out"}:
        return "grouped"
    if have == {"packed", "out"}:
        return "packed"
    if not gate or not decay:
        return None
    rest = have - set(gate) - set(decay)
    if rest == {"qkv", "b", "out"}:
        return "flat"
    if rest == {"q", "k", "v", "b", "out"}:
        return "separate"
    return None


class GatedDeltaNet(BlockPattern):
    role = ROLE
    priority = 10

    def match(self, cls, ctx: BlockContext) -> Match | None:
        params, members = tensors(cls), modules(cls)
        a_log = [t for t in params if re.fullmatch(A_LOG, t.attr, re.I)]
        dt_bias = [t for t in params if re.fullmatch(DT_BIAS, t.attr, re.I)]
        # Kimi's forget gate as the library's module holds it (its own class), or its parts here
        forget = [m for m in members if ctx.role(m) == FORGET_ROLE]
        if forget and (params or len(forget) != 1):
            return None
        if not forget and (len(params) != 2 or len(a_log) != 1 or len(dt_bias) != 1):
            return None
        linears = [m for m in members if family(m) == "linear"]
        convs = [m for m in members if family(m) == "conv"]
        norms = [m for m in members if family(m) == "norm"]
        if (
            len(norms) != 1
            or len(convs) not in (1, 3)
            or len(members) != len(linears) + len(convs) + 1 + len(forget)
        ):
            return None
        s = _slots(linears)
        layout = _layout(s, bool(forget)) if s is not None else None
        if layout is None:
            return None
        w = {k: (_width(m, "in_width"), _width(m, "out_width")) for k, m in s.items()}
        d_model, value_dim = w["out"][1], w["out"][0]
        dv = _width(norms[0], "in_width") or _width(norms[0], "out_width")
        if None in (d_model, value_dim, dv) or value_dim % dv:
            return None
        heads = value_dim // dv
        if layout == "grouped":
            if w["ba"][1] != 2 * heads:
                return None
            key_dim = (w["qkvz"][1] or 0) - 2 * value_dim
        elif layout == "packed":
            key_dim = (w["packed"][1] or 0) - 2 * value_dim - 2 * heads
        elif layout == "flat":
            key_dim = (w["qkv"][1] or 0) - value_dim
        else:
            key_dim = 2 * (w["q"][1] or 0) if w["k"] == w["q"] else 0
        if key_dim <= 0 or key_dim % 2:
            return None
        key_dim //= 2
        if layout not in ("grouped", "packed") and w["b"][1] != heads:
            return None
        if "z" in s and w["z"][1] != value_dim:
            return None
        if "gb" in s and (w["gb"][1] != value_dim or w["ga"][1] != w["gb"][0]):
            return None
        if any(v[0] != d_model for k, v in w.items() if k not in ("out", "gb", "fb")):
            return None
        # the decay: one a head (A_log [heads]) or one a key feature (Kimi's [1, 1, heads, 1])
        shape = tuple(a_log[0].shape) if a_log else ()
        per_feature = "fa" in s or "f" in s or bool(forget)
        if forget:
            if key_dim % heads:
                return None
        elif "f" in s:  # one Linear gives a decay a key feature; A_log one a head: [heads]
            # (its size lifted to a parameter; the file views it [1, 1, heads, 1]) or Kimi's
            if w["f"][1] != key_dim or key_dim % heads:
                return None
            if len(shape) != 1 and (len(shape) != 4 or shape[:2] != (1, 1) or shape[3] != 1):
                return None
        elif per_feature:
            if len(shape) != 4 or w["fb"][1] != key_dim or w["fa"][1] != w["fb"][0]:
                return None
            if key_dim % heads or shape[:2] != (1, 1) or shape[3] != 1:
                return None
        elif len(shape) != 1 or (layout not in ("grouped", "packed") and w["a"][1] != heads):
            return None
        # convs: one over [q | k | v], or one each, stored in that order (the library saves its
        # fused conv as three equal parts, whatever q's, k's and v's widths: their widths sum to
        # the fused one, and the file joins them again)
        conv_map = {}
        if len(convs) == 1:
            conv_map["qkv"] = convs[0]
        else:
            for part, pattern in CONVS.items():
                conv_map[part] = one_named(convs, pattern)
            if None in conv_map.values():
                return None
        if sum(_width(c, "out_width") or 0 for c in conv_map.values()) != 2 * key_dim + value_dim:
            return None
        kernels = {_kernel(c) for c in conv_map.values()}
        with_bias = {biased(c) for c in conv_map.values()}
        if None in kernels or len(kernels) != 1 or len(with_bias) != 1:
            return None
        for conv in conv_map.values():
            if _width(conv, "in_width") not in (1, _width(conv, "out_width")):
                return None
        choices, guessed = [], []
        model_type = ctx.resolver.evidence("model_type")
        mtype = model_type[1] if model_type else None
        # how the key width splits into heads (Kimi's: one key head a value head)
        fits = [n for n in range(1, heads + 1) if heads % n == 0 and key_dim % n == 0]
        if per_feature:
            fits = [heads]
        said_heads = ctx.resolver.evidence(*KEY_HEADS)
        said_dim = ctx.resolver.evidence(*KEY_HEAD_DIM)
        default = heads if heads in fits else fits[-1]
        if said_heads is not None and said_heads[1] in fits:
            default = said_heads[1]
        elif said_dim is not None and type(said_dim[1]) is int and said_dim[1] > 0:
            if key_dim % said_dim[1] == 0 and key_dim // said_dim[1] in fits:
                default = key_dim // said_dim[1]
        key_heads = ctx.choose(
            cls,
            next(iter(conv_map.values())).attr,
            "key_heads",
            default,
            [n for n in fits if n != default],
            "heads of q and k: each serves heads / key_heads value heads",
        )
        if key_heads.value not in fits:
            return None
        choices.append(key_heads)
        activation = ctx.choose(
            cls,
            next(iter(conv_map.values())).attr,
            "activation",
            "silu",
            act.alternatives("silu", told=ctx.resolver),
            "after the causal conv",
            aliases=act.ALIASES,
        )
        choices.append(activation)
        known = GATE_BY_TYPE.get(mtype)
        gate_act = ctx.choose(
            cls,
            norms[0].attr,
            "gate_activation",
            known or "silu",
            [a for a in ("silu", "sigmoid") if a != (known or "silu")],
            "what the output gate applies before it scales the normed heads",
        )
        if known is not None and gate_act.source == "default":
            gate_act.source, gate_act.note = "metadata", f"{model_type[0]} {mtype!r}"
        elif gate_act.source == "default":
            guessed.append(f"the output gate's silu: model_type {mtype!r} is not one read")
        choices.append(gate_act)
        eps_said = ctx.resolver.evidence("rms_norm_eps", "norm_eps", "layer_norm_epsilon")
        fixed = NORM_EPS_BY_TYPE.get(mtype)
        eps_default = fixed if fixed is not None else (eps_said[1] if eps_said else 1e-6)
        eps = ctx.choose(
            cls,
            norms[0].attr,
            "output_norm_eps",
            eps_default,
            [e for e in (1e-6, 1e-5) if e != eps_default],
            "the eps of the gated norm over each head's values",
            accepts="unit_float",
        )
        if eps.source == "default":
            if fixed is not None:
                eps.source, eps.note = "metadata", f"{model_type[0]} {mtype!r}"
            elif eps_said is not None:
                eps.source, eps.note = "metadata", eps_said[0]
            if mtype not in GATE_BY_TYPE:
                guessed.append("the output norm's eps")
        choices.append(eps)
        doubled = ctx.resolver.evidence(*DOUBLED_BETA)
        double_beta = bool(doubled is not None and doubled[1] is True)
        if layout == "packed" and mtype not in PACKED_TYPES:
            guessed.append(
                f"in_proj's rows read as q, k, v, z, b, a: model_type {mtype!r} unchecked"
            )
        if per_feature and mtype not in PER_FEATURE_TYPES:
            guessed.append(f"a per-feature decay read as Kimi's: model_type {mtype!r} unchecked")
        bound = _lower_bound(ctx) if not forget else None
        if bound is False:
            return None
        why = "a delta-rule mixer's conv is causal (k - 1 steps of the past)"
        pins = []
        for conv in conv_map.values():
            k = _kernel(conv)
            pins += conv_pins(conv, {"stride": 1, "padding": k - 1, "depthwise": True}, why)
        found = (
            layout,
            {k: m.attr for k, m in s.items()},
            ([m.attr for m in conv_map.values()], kernels.pop(), with_bias.pop()),
            norms[0].attr,
            (a_log[0].attr, dt_bias[0].attr) if not forget else forget[0].attr,
            (heads, key_heads.value, key_dim, value_dim),
            activation.value,
            gate_act.value,
            float(eps.value),
            double_beta,
            per_feature,
            bound,
        )
        return Match(
            self,
            len(params) + len(members),
            found,
            choices,
            pins=pins,
            guessed="; ".join(guessed) + (" (defaults)" if guessed else ""),
        )

    def forward(self, match: Match, g: Graph) -> None:
        layout, s, convs, norm, params, sizes = match.found[:6]
        a_log, dt_bias = params if not isinstance(params, str) else (None, None)
        activation, gate_act, eps, double_beta, per_feature, bound = match.found[6:]
        heads, key_heads, key_dim, value_dim = sizes
        dk, dv = key_dim // key_heads, value_dim // heads
        x = g.input("x")  # [batch, seq, d_model]
        mask = g.input("mask", optional=True)  # [batch, 1, 1, seq], False at padding
        batch = g.call_method("size", x, 0, name="batch")
        seq = g.call_method("size", x, 1, name="seq")
        h = g.call_function("zero_masked", x, mask, name="h", comment="padding enters as zeros")

        def item(v, i, **options):
            return g.call_function("getitem", v, i, **options)

        conv_attrs, kernel, biased = convs

        def causal(v):  # the depthwise conv over time: padded, its first seq outputs
            v = g.call_method("transpose", v, 1, 2, inline=True)
            if len(conv_attrs) == 1:
                v = g.call_module((conv_attrs[0],), v, inline=True)
            else:  # the parts' convs joined into one
                weights = [g.getattr((c, "weight")) for c in conv_attrs]
                weight = g.call_function("torch.cat", weights, 0, inline=True)
                bias = None
                if biased:
                    bias = g.call_function(
                        "torch.cat", [g.getattr((c, "bias")) for c in conv_attrs], 0, inline=True
                    )
                channels = g.call_method("size", weight, 0, inline=True)
                v = g.call_function(
                    "torch.conv1d", v, weight, bias, 1, kernel - 1, 1, channels, inline=True
                )
            v = item(v, (Slice(), Slice(), Slice(None, seq)), inline=True)
            v = g.call_method("transpose", v, 1, 2, inline=True)
            return act.apply(g, activation, v, name="qkv", comment="causal conv")

        z = b = a = None
        if layout == "grouped":  # per key-head group: q, k, v, z side by side (and b, a)
            r = heads // key_heads
            mixed = g.call_method(
                "view", g.call_module((s["qkvz"],), h, inline=True), batch, seq, key_heads, -1
            )
            parts = g.call_method(
                "split", mixed, [dk, dk, r * dv, r * dv], kwargs={"dim": -1}, name="qkvz"
            )
            q, k, v = (
                g.call_method("reshape", item(parts, i, inline=True), batch, seq, -1, inline=True)
                for i in range(3)
            )
            z = item(parts, 3, inline=True)
            z = g.call_method("reshape", z, batch, seq, heads, dv, name="z")
            ba = g.call_method(
                "view", g.call_module((s["ba"],), h, inline=True), batch, seq, key_heads, -1
            )
            ba = g.call_method("split", ba, [r, r], kwargs={"dim": -1}, name="ba")
            b = g.call_method("reshape", item(ba, 0, inline=True), batch, seq, heads, name="b")
            a = g.call_method("reshape", item(ba, 1, inline=True), batch, seq, heads, name="a")
            mixed = g.call_function("torch.cat", [q, k, v], -1, inline=True)
        elif layout == "packed":  # rows [q | k | v | z | b | a]
            sizes = [2 * key_dim + value_dim, value_dim, heads, heads]
            proj = g.call_module((s["packed"],), h, inline=True)
            parts = g.call_method("split", proj, sizes, kwargs={"dim": -1}, name="parts")
            mixed = item(parts, 0, inline=True)
            z = g.call_method("view", item(parts, 1, inline=True), batch, seq, heads, dv, name="z")
            b, a = item(parts, 2, name="b"), item(parts, 3, name="a")
        elif layout == "flat":
            mixed = g.call_module((s["qkv"],), h, inline=True)
        else:
            q, k, v = (g.call_module((s[n],), h, inline=True) for n in "qkv")
            mixed = g.call_function("torch.cat", [q, k, v], -1, inline=True)
        mixed = causal(mixed)
        parts = g.call_method(
            "split", mixed, [key_dim, key_dim, value_dim], kwargs={"dim": -1}, name="qkv"
        )
        q, k, v = (item(parts, i, inline=True) for i in range(3))
        q = g.call_method("view", q, batch, seq, key_heads, dk, name="q")
        k = g.call_method("view", k, batch, seq, key_heads, dk, name="k")
        v = g.call_method("view", v, batch, seq, heads, dv, name="v", comment="[b, s, heads, dv]")
        if b is None:
            b = g.call_module((s["b"],), h, inline=True)
        beta = g.call_function("sigmoid", b, name="beta", inline=double_beta)
        if double_beta:  # linear_allow_neg_eigval: beta in (0, 2)
            beta = g.call_function("mul", beta, 2.0, name="beta")
        if isinstance(params, str):  # the forget gate's own class computes the decay
            decay = g.call_module((params,), h, name="g", comment="the log decay of the state")
        elif per_feature:  # Kimi's forget gate: one decay a key feature (low-rank, or one Linear)
            if "f" in s:
                f = g.call_module((s["f"],), h, inline=True)
            else:
                f = g.call_module((s["fa"],), h, inline=True)
                f = g.call_module((s["fb"],), f, inline=True)
            f = g.call_function("add", f, g.getattr((dt_bias,)), inline=True)
            a = g.call_method("view", f, batch, seq, heads, dk, inline=True)
        else:
            if a is None:
                a = g.call_module((s["a"],), h, inline=True)
            a = g.call_function("add", a, g.getattr((dt_bias,)), inline=True)
        if not isinstance(params, str):
            rate = g.call_function("torch.exp", g.getattr((a_log,)), inline=True)
            if per_feature:  # one rate a head, over its key features: [1, 1, heads, 1]
                rate = g.call_method("view", rate, 1, 1, heads, 1, inline=True)
            if bound is not None:  # bounded: lower_bound * sigmoid(rate * a), in (lower_bound, 0)
                decay = g.call_function("sigmoid", g.call_function("mul", rate, a, inline=True))
                decay = g.call_function("mul", bound, decay, inline=True)
            else:
                decay = g.call_function("F.softplus", a, inline=True)
                decay = g.call_function("torch.neg", rate, inline=True), decay
                decay = g.call_function("mul", *decay)
            g[decay].name, g[decay].comment = "g", "the log decay of the state"
        y = g.call_function("gated_delta_rule", q, k, v, decay, beta, name="y")
        if z is None:
            if "z" in s:
                z = g.call_module((s["z"],), h, inline=True)
            else:
                z = g.call_module((s["ga"],), h, inline=True)
                z = g.call_module((s["gb"],), z, inline=True)
            z = g.call_method("view", z, batch, seq, heads, dv, name="z")
        normed = g.call_function(
            "rms_norm", y, [dv], g.getattr((norm, "weight")), kwargs={"eps": eps}, inline=True
        )
        opened = act.apply(g, gate_act, z, inline=True)
        y = g.call_function("mul", normed, opened, name="y", comment="each head normed, gated")
        y = g.call_method("reshape", y, batch, seq, -1, inline=True)
        g.output(g.call_module((s["out"],), y))

    @staticmethod
    def examples():
        from codegen.patterns.blocks._delta_net_examples import examples

        return examples()


def _lower_bound(ctx: BlockContext) -> float | None | bool:
    """The bounded decay's lower bound where config.json switches it on, None where it does not
    (or says nothing: -exp(A_log) * softplus), False where it says so without a number."""
    safe = ctx.resolver.evidence(*SAFE_GATE)
    if safe is None or safe[1] is not True:
        return None
    bound = ctx.resolver.evidence(*LOWER_BOUND)
    if bound is None or type(bound[1]) not in (int, float):
        return False
    return float(bound[1])


class ForgetGate(BlockPattern):
    """Kimi's forget gate as its library module holds it: one log decay a key feature,
    -exp(A_log) * softplus(f_b(f_a(x)) + dt_bias) -> [batch, seq, heads, dk], A_log
    [1, 1, heads, 1] (the mixer above computes the same where the parts sit on it)."""

    role = FORGET_ROLE
    priority = 10

    accepts = Accepts(tensors=True)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        params, members = tensors(cls), modules(cls)
        a_log = [t for t in params if re.fullmatch(A_LOG, t.attr, re.I)]
        dt_bias = [t for t in params if re.fullmatch(DT_BIAS, t.attr, re.I)]
        if len(params) != 2 or len(a_log) != 1 or len(dt_bias) != 1 or len(members) != 2:
            return None
        shape = tuple(a_log[0].shape)
        if len(shape) != 4 or shape[:2] != (1, 1) or shape[3] != 1:
            return None
        s = _slots([m for m in members if family(m) == "linear"])
        if s is None or set(s) != {"fa", "fb"}:
            return None
        if _width(s["fa"], "out_width") != _width(s["fb"], "in_width"):
            return None
        model_type = ctx.resolver.evidence("model_type")
        mtype = model_type[1] if model_type else None
        guessed = ""
        if mtype not in PER_FEATURE_TYPES:
            guessed = f"a per-feature decay read as Kimi's: model_type {mtype!r} unchecked"
        found = (s["fa"].attr, s["fb"].attr, a_log[0].attr, dt_bias[0].attr)
        return Match(self, len(params) + len(members), found, guessed=guessed)

    def forward(self, match: Match, g: Graph) -> None:
        fa, fb, a_log, dt_bias = match.found
        x = g.input("x")  # [batch, seq, d_model]
        batch = g.call_method("size", x, 0, inline=True)
        seq = g.call_method("size", x, 1, inline=True)
        f = g.call_module((fb,), g.call_module((fa,), x, inline=True), inline=True)
        f = g.call_function("add", f, g.getattr((dt_bias,)), inline=True)
        heads = g.call_method("size", g.getattr((a_log,)), 2, inline=True)
        f = g.call_method("view", f, batch, seq, heads, -1, name="f", comment="[b, s, heads, dk]")
        rate = g.call_function("torch.exp", g.getattr((a_log,)), inline=True)
        decay = g.call_function("F.softplus", f, inline=True)
        g.output(g.call_function("mul", g.call_function("torch.neg", rate, inline=True), decay))

    @staticmethod
    def examples():
        from codegen.patterns.blocks._delta_net_examples import library_kda

        return [library_kda()]
