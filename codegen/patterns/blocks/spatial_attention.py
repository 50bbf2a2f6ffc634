"""Self-attention over the pixels of a feature map (diffusers' Attention in U-Net and autoencoder
blocks, latent diffusion's AttnBlock with linear projections): group-norm the map, read it as a
sequence of pixels, multi-head scaled dot-product attention, project, and add the input back.

    s = group_norm(x).flatten(2).transpose(1, 2)             # [batch, pixels, channels]
    out = to_out(attention(to_q(s), to_k(s), to_v(s)))
    return out.transpose(1, 2).reshape(x.shape) + x

Latent diffusion's and taming's AttnBlock project with 1x1 convolutions (`q`, `k`, `v`,
`proj_out`) on the map itself: the same computation, one head. Its norm is a group norm (the
keys cannot tell it from a layer norm; a norm feeding 1x1 convs over a feature map is one).
Some have no norm (diffusers' middle attention of a scale-shift U-Net): the map is read as it is.
The head size is a choice: config.json's attention_head_dim where the folder has one (diffusers'
U-Net), else one head over all channels (diffusers' autoencoder), and then the class says guessed:
the keys are the same however the channels split into heads.
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

NORM = r"group_norm|norm"
QUERY, KEY, VALUE = r"to_q|query|q", r"to_k|key|k", r"to_v|value|v"
OUT = r"to_out|proj_attn|proj_out"
# diffusers' classes built on models/autoencoders/vae.py's Encoder and Decoder, whose attentions
# take attention_head_dim = their width: one head (read from the library's code).
ONE_HEAD_LIBRARIES = frozenset({"AutoencoderKL", "AsymmetricAutoencoderKL", "VQModel"})


def _linear_path(m) -> tuple[str, ...] | None:
    """The path of a Linear member, or of the one Linear in a list beside dropouts (`to_out.0`)."""
    if m.kind == "builtin":
        return (m.attr,) if family(m) == "linear" else None
    if m.kind in ("sequential", "modulelist"):
        real = [c for c in m.children if c.kind != "placeholder"]
        if len(real) == 1 and family(real[0]) == "linear":
            return (m.attr, real[0].attr)
    return None


def _pointwise_conv(m) -> bool:
    return m.kind == "builtin" and m.type_name == "nn.Conv2d" and conv_kernel(m) in (1, (1, 1))


class SpatialAttention(BlockPattern):
    role = "SpatialAttention"
    priority = 5
    synonyms = {"head_dim": ("attention_head_dim",)}

    accepts = Accepts(4, 5, tensors=False, names=(QUERY, KEY, VALUE, OUT))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls):
            return None
        norm = one_named(members, NORM)
        q, k, v, out = (one_named(members, n) for n in (QUERY, KEY, VALUE, OUT))
        if None in (q, k, v, out) or len(members) != 4 + (norm is not None):
            return None
        convs = all(_pointwise_conv(m) for m in (q, k, v, out))
        pins = []
        if norm is not None and norm.type_name != "nn.GroupNorm":
            guess = next((c for c in norm.choices if c.name == "module_type"), None)
            if not convs or guess is None or guess.source != "default":
                return None
            why = "a norm feeding 1x1-conv projections over a feature map is a group norm"
            pins.append((guess.path, "module_type", "nn.GroupNorm", why))
        paths = [(m.attr,) if convs else _linear_path(m) for m in (q, k, v, out)]
        if None in paths or any(m.kind != "builtin" for m in (q, k, v)):
            return None
        width = norm.io.in_width if norm is not None else q.io.in_width
        if any(m.io.in_width != width for m in (q, k, v)) or q.io.out_width != k.io.out_width:
            return None
        inner = q.io.out_width
        divisors = [d for d in range(1, inner + 1) if inner % d == 0]
        head_dim = ctx.choose(
            cls,
            q.attr,
            "head_dim",
            inner,
            divisors,
            "one head over all channels",
            accepts="positive_int",
        )
        if not isinstance(head_dim.value, int) or inner % head_dim.value:
            return None
        found = (norm and norm.attr, *paths, convs)
        told = ctx.resolver.evidence("_class_name")
        if head_dim.source == "default" and told is not None and told[1] in ONE_HEAD_LIBRARIES:
            head_dim.source, head_dim.note = "metadata", f"{told[0]} {told[1]!r} fixes it"
        guessed = ""
        if head_dim.source == "default":  # the same keys split other ways: state it
            guessed = (
                "no key records the head count: read as one head over all channels (diffusers' "
                "autoencoders); diffusers' U-Nets split heads of attention_head_dim channels"
            )
        return Match(self, len(members), found, [head_dim], guessed=guessed, pins=pins)

    def forward(self, match: Match, g: Graph) -> None:
        norm, q, k, v, out, convs = match.found
        head_dim = match.choices[0].value
        x = g.input("x")
        s = g.call_module((norm,), x, name="h" if convs else "s", inline=True) if norm else x
        if not convs:
            s = g.call_method("flatten", s, 2, name="s", inline=True)
            s = g.call_method("transpose", s, 1, 2, name="s", comment="[batch, pixels, channels]")
        batch = g.call_method("size", x, 0, name="batch")
        if convs:
            flat = g.call_method("flatten", x, 2, inline=True)
            pixels = g.call_method("size", flat, 2, name="pixels")
        else:
            pixels = g.call_method("size", s, 1, name="pixels")
        heads = []
        for path, name in ((q, "q"), (k, "k"), (v, "v")):
            h = g.call_module(path, s, name=name, inline=True)
            if convs:  # a 1x1 conv on the map: then read its pixels as a sequence
                h = g.call_method("flatten", h, 2, name=name, inline=True)
                h = g.call_method("transpose", h, 1, 2, name=name, inline=True)
            h = g.call_method("reshape", h, batch, pixels, -1, head_dim, name=name, inline=True)
            heads.append(g.call_method("transpose", h, 1, 2, name=name))
        a = g.call_function("scaled_dot_product_attention", *heads, name="out")
        a = g.call_method("transpose", a, 1, 2, name="out", inline=True)
        a = g.call_method("flatten", a, 2, name="out", inline=True)
        shape = g.call_method("shape", x, inline=True)
        if convs:
            a = g.call_method("transpose", a, 1, 2, name="out", inline=True)
            a = g.call_method("reshape", a, shape, name="out", inline=True)
            a = g.call_module(out, a, name="out")
        else:
            a = g.call_module(out, a, name="out")
            a = g.call_method("transpose", a, 1, 2, name="out", inline=True)
            a = g.call_method("reshape", a, shape, name="out", inline=True)
        g.output(g.call_function("add", a, x))

    @staticmethod
    def examples():
        from codegen.patterns.blocks._generative_examples import META, modules as zoo

        z = zoo()
        return [
            Example(z["holder"](z["attention"](8, 8)), z["image"](8, 4), META),
            Example(z["holder"](z["attention"](8, 8, None)), z["image"](8, 4), META),
            Example(
                z["holder"](z["attention"](16, 4)),
                z["image"](16, 4),
                {**META, "attention_head_dim": 4},
            ),
        ]
