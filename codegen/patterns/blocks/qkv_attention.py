"""Self-attention over the pixels with one fused 1x1 Conv1d for queries, keys and values (openai's
improved-diffusion and guided-diffusion AttentionBlock):

    flat = x.reshape(batch, channels, -1)
    qkv = qkv_conv(norm(flat))                        # [batch, 3 * channels, pixels]
    legacy order (QKVAttentionLegacy): per head, then q, k, v;  new order (QKVAttention): q, k, v,
    then per head
    return (flat + proj_out(attention(q, k, v))).reshape(x.shape)

The head count and the order of the fused channels leave no tensors: choices. The defaults are
UNetModel's own (num_heads=1, use_new_attention_order=False in both repositories' unet.py; their
training scripts pass num_heads=4, guided-diffusion's often num_head_channels=64, and the
64x64 model the new order). One head is kept as the default for the search's sake too: with one
head both orders are the same computation, so a head count calibration moves opens the order
with it (guided-diffusion's four heads in the new order are one move, not two). The file says
its forward is a guess until calibration (or --hints) settles the head count.
"""

from __future__ import annotations

from codegen.ir.graph import Graph
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
from codegen.patterns.blocks._conv_parts import conv_kernel

ORDERS = ["heads_first", "qkv_first"]  # QKVAttentionLegacy, QKVAttention


def _pointwise_conv1d(m) -> bool:
    return (
        m is not None
        and m.kind == "builtin"
        and m.type_name == "nn.Conv1d"
        and (conv_kernel(m) in (1, (1,)))
    )


class QKVAttention(BlockPattern):
    role = "SpatialAttention"
    priority = 5

    accepts = Accepts(
        3, 3, tensors=False, names=("norm", "qkv", "proj_out|proj"), families=("norm",)
    )

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls):
            return None
        norm, qkv = one_named(members, r"norm"), one_named(members, r"qkv")
        out = one_named(members, r"proj_out|proj")
        if None in (norm, qkv, out) or len(members) != 3 or family(norm) != "norm":
            return None
        if not (_pointwise_conv1d(qkv) and _pointwise_conv1d(out)):
            return None
        width = qkv.io.in_width
        if qkv.io.out_width != 3 * width or out.io.in_width != width or norm.io.in_width != width:
            return None
        divisors = [d for d in range(1, width + 1) if width % d == 0]
        # UNetModel(num_heads=1); the training scripts' 4 is the first alternative tried
        others = [4] + [d for d in divisors[1:] if d != 4] if width % 4 == 0 else divisors[1:]
        heads = ctx.choose(
            cls,
            qkv.attr,
            "nhead",
            1,
            others,
            "UNetModel's default num_heads=1",
            accepts="positive_int",
        )
        if not isinstance(heads.value, int) or width % heads.value:
            return None
        # With one head both orders are one computation: the order is a choice only once there
        # are more, so calibration scores each head count with its best order (a change opens
        # the choices it brings in) instead of needing both moved at once.
        order = None
        if heads.value > 1:
            order = ctx.choose(
                cls,
                qkv.attr,
                "qkv_order",
                ORDERS[0],
                ORDERS[1:],
                "the fused channels per head first (improved-diffusion's legacy order)",
            )
        guessed = ""
        if heads.source == "default":
            guessed = (
                "the head count leaves no tensor (UNetModel's default of one assumed): the "
                "choice nhead"
            )
        pins = [
            (c.path, "module_type", "nn.GroupNorm", "a norm over a feature map's channels")
            for c in norm.choices
            if c.name == "module_type"
            and c.source == "default"
            and norm.type_name != "nn.GroupNorm"
        ]
        found = (norm.attr, qkv.attr, out.attr)
        choices = [heads] + ([order] if order is not None else [])
        return Match(self, len(members), found, choices, guessed=guessed, pins=pins)

    def forward(self, match: Match, g: Graph) -> None:
        norm, qkv, out = match.found
        heads = match.choices[0].value
        order = match.choices[1].value if len(match.choices) > 1 else ORDERS[0]
        x = g.input("x")
        batch = g.call_method("size", x, 0, name="batch")
        channels = g.call_method("size", x, 1, name="channels")
        flat = g.call_method("reshape", x, batch, channels, -1, name="flat")
        h = g.call_module((norm,), flat, name="qkv", inline=True)
        h = g.call_module((qkv,), h, name="qkv", comment="[batch, 3 * channels, pixels]")
        rows = g.call_function("mul", batch, heads, name="rows")
        if order == "heads_first":
            h = g.call_method("reshape", h, rows, -1, g.call_method("size", h, 2, inline=True))
            parts = g.call_method("chunk", h, 3, 1, name="parts", comment="per head: q, k, v")
        else:
            parts = g.call_method("chunk", h, 3, 1, name="parts", comment="q, k, v, then heads")
        pixels = g.call_method("size", flat, 2, name="pixels")
        qkvs = []
        for i, name in enumerate(("q", "k", "v")):
            t = g.call_function("getitem", parts, i, inline=True)
            t = g.call_method("reshape", t, rows, -1, pixels, name=name, inline=True)
            qkvs.append(g.call_method("transpose", t, 1, 2, name=name))
        a = g.call_function("scaled_dot_product_attention", *qkvs, name="out")
        a = g.call_method("transpose", a, 1, 2, name="out", inline=True)
        a = g.call_method("reshape", a, batch, channels, pixels, name="out")
        a = g.call_module((out,), a, name="out", inline=True)
        a = g.call_function("add", flat, a, name="out", inline=True)
        g.output(g.call_method("reshape", a, g.call_method("shape", x, inline=True)))

    @staticmethod
    def examples():
        from codegen.patterns.blocks._generative_examples import META, modules as zoo

        z = zoo()
        return [
            Example(
                z["holder"](z["qkv_attention"](8, 1, False)),
                z["image"](8, 4),
                {**META, "nhead": 1},
            ),
            Example(
                z["holder"](z["qkv_attention"](8, 4, False)),
                z["image"](8, 4),
                {**META, "nhead": 4, "qkv_order": "heads_first"},
            ),
            Example(
                z["holder"](z["qkv_attention"](8, 2, False)),
                z["image"](8, 4),
                {**META, "nhead": 2},
            ),
            Example(
                z["holder"](z["qkv_attention"](8, 2, True)),
                z["image"](8, 4),
                {**META, "nhead": 2, "qkv_order": "qkv_first"},
            ),
        ]
