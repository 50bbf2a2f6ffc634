"""An attention whose one input projection holds an output gate beside the queries, keys and
values, in the order its name spells (HRM-Text's `gqkv_proj`: gate, q, k, v, each heads * head_dim
wide, as the library's conversion mapping splits it), and an output projection: the heads' merged
output is scaled by sigmoid(gate) feature by feature before `o_proj`.

Heads from config.json (the shapes allow many counts); rotary on the whole head with config.json's
base, its pairing from the rotary survey; causal or not as for any attention (attention.py's
model_kind). Nothing else (no qk-norm, no bias terms beyond the layers' own, no window).
"""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Match,
    family,
    modules,
    one_named,
    tensors,
)
from codegen.patterns._rope_conventions import rotary_layout
from codegen.patterns.blocks.attention import HEAD_COUNTS, THETAS, model_kind, settled_by

FUSED = r"gqkv_proj|gqkv|w_gqkv"  # gate, then queries, keys, values: the order the name spells
OUT = r"o_proj|out_proj|wo|c_proj|dense"


class GateFusedAttention(BlockPattern):
    role = "Attention"
    priority = 11

    accepts = Accepts(2, 2, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 2:
            return None
        fused, out = one_named(members, FUSED), one_named(members, OUT)
        if fused is None or out is None or family(fused) != "linear" or family(out) != "linear":
            return None
        if not (fused.io and out.io and fused.io.out_width and out.io.in_width):
            return None
        width = out.io.in_width  # heads * head_dim
        if fused.io.out_width != 4 * width:
            return None
        counts = [h for h in HEAD_COUNTS if width % h == 0]
        nhead = ctx.choose(cls, fused.attr, "nhead", None, counts, accepts="positive_int")
        if nhead.value is None or width % nhead.value:
            return None
        head_dim = width // nhead.value
        said = ctx.resolver.evidence("head_dim")
        if said is not None and said[1] != head_dim:
            return None  # the config's head size is not what the shapes give
        kind, kind_cite = model_kind(ctx)
        causal = ctx.choose(
            cls, fused.attr, "causal", kind != "encoder", [kind == "encoder"], "causal or not"
        )
        settled_by(causal, kind_cite)
        theta = ctx.choose(
            cls, fused.attr, "rope_theta", 10000.0, THETAS, accepts="positive_number"
        )
        model_type = ctx.resolver.evidence("model_type")
        mtype = model_type[1] if model_type else None
        surveyed = rotary_layout(mtype)
        known = surveyed if surveyed in ("halves", "interleaved") else "halves"
        layout = ctx.choose(
            cls,
            fused.attr,
            "rotary_layout",
            known,
            [v for v in ("halves", "interleaved") if v != known],
            "which features rotate together: j with j + d/2 (halves) or neighbours",
        )
        if surveyed is not None:
            settled_by(layout, f"{model_type[0]} {mtype!r}")
        choices = [nhead, causal, theta, layout]
        found = (fused.attr, out.attr, nhead.value, head_dim, bool(causal.value))
        found += (float(theta.value), layout.value == "interleaved")
        return Match(self, 2, found, choices)

    def forward(self, match: Match, g: Graph) -> None:
        fused, out, nhead, head_dim, causal, theta, interleaved = match.found
        x = g.input("x")
        mask = g.input("mask", optional=True)
        batch = g.call_method("size", x, 0, name="batch")
        seq = g.call_method("size", x, 1, name="seq")
        if causal:
            device = g.call_method("device", x, inline=True)
            mask = g.call_function(
                "causal_padding_mask", mask, seq, device, name="mask", comment="earlier only"
            )
        parts = g.call_method(
            "chunk",
            g.call_module((fused,), x, inline=True),
            4,
            kwargs={"dim": -1},
            name="gqkv",
            comment="gate, queries, keys, values",
        )
        heads = []
        for i, name in ((1, "q"), (2, "k"), (3, "v")):
            part = g.call_function("getitem", parts, i, inline=True)
            view = g.call_method("view", part, batch, seq, nhead, -1, inline=True)
            heads.append(g.call_method("transpose", view, 1, 2, name=name))
        q, k, v = heads
        fn = "apply_rotary_interleaved" if interleaved else "apply_rotary"
        q = g.call_function(fn, q, theta, head_dim, name="q")
        k = g.call_function(fn, k, theta, head_dim, name="k")
        y = g.call_function(
            "scaled_dot_product_attention",
            q,
            k,
            v,
            kwargs={"attn_mask": mask},
            name="y",
            comment=f"{nhead} heads, " + ("causal" if causal else "every position sees all"),
        )
        y = g.call_method("transpose", y, 1, 2, inline=True)
        y = g.call_method("reshape", y, batch, seq, -1, name="y")
        gate = g.call_function("getitem", parts, 0, inline=True)
        y = g.call_function("mul", g.call_function("sigmoid", gate, inline=True), y, name="y")
        g.output(g.call_module((out,), y))

    @staticmethod
    def examples():
        from codegen.patterns.families._hrm_example import hrm_example

        return [hrm_example()]
