"""The attention inside diffusers' transformer blocks (BasicTransformerBlock's attn1 and attn2):
multi-head scaled dot-product attention over a sequence of pixels, its keys and values read from
`context` where one is given (cross-attention on the text encoder's states), else from x.

    source = x if context is None else context
    out = to_out(attention(to_q(x), to_k(source), to_v(source)))

One class serves both where their shapes agree, so the caller says which. The head count leaves
no tensor: config.json's num_attention_heads (or, in diffusers' conditional U-Net, its
attention_head_dim, which counts heads there), else a choice.
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
from codegen.patterns.blocks.spatial_attention import _linear_path

HEAD_KEYS = ("num_attention_heads", "attention_head_dim")  # the second counts heads here


def head_count(ctx: BlockContext, cls, where: str, inner: int):
    """The head count choice, from config.json where a single number gives it."""
    divisors = [h for h in range(1, inner + 1) if inner % h == 0]
    choice = ctx.choose(cls, where, "heads", 1, divisors, "one head", accepts="positive_int")
    if choice.source != "default":
        return choice
    for key in HEAD_KEYS:
        told = ctx.resolver.evidence(key)
        if told is None or told[1] is None:
            continue
        if isinstance(told[1], int) and not isinstance(told[1], bool) and inner % told[1] == 0:
            choice.value, choice.source, choice.note = told[1], "metadata", told[0]
            choice.alternatives = [d for d in divisors if d != told[1]]
        break
    return choice


def head_size_from_lists(ctx: BlockContext, cls, where: str, inner: int):
    """(the `head_dim` choice, why it is a guess) where config.json gives one head count per
    U-Net block (diffusers' attention_head_dim [5, 10, 20, 20]): one class serves blocks of
    several widths, so what is the same in all of them is the head size, width / heads; None
    where no list is given. Head sizes that differ between blocks leave a guess."""
    told = next((t for t in map(ctx.resolver.metadata.get, HEAD_KEYS) if t and t[1]), None)
    if told is None or not isinstance(told[1], list):
        return None
    widths = ctx.resolver.evidence("block_out_channels")
    heads = told[1]
    sizes = set()
    if widths is not None and isinstance(widths[1], list) and len(widths[1]) == len(heads):
        sizes = {w // h for w, h in zip(widths[1], heads) if isinstance(h, int) and h > 0}
    ctx.resolver.evidence(*HEAD_KEYS)  # the list is used, or the guess below names it
    divisors = [d for d in range(1, inner + 1) if inner % d == 0]
    default = next(iter(sizes)) if len(sizes) == 1 else inner
    choice = ctx.choose(
        cls, where, "head_dim", default, divisors, "the head size", accepts="positive_int"
    )
    cited = f"{told[0].rsplit('.', 1)[-1]} / block_out_channels"
    if choice.source == "default" and len(sizes) == 1:
        choice.source, choice.note = "metadata", f"config.json {cited}"
    if choice.source == "default":
        return choice, f"head sizes differ between blocks ({cited} per block)"
    return choice, ""


class ContextAttention(BlockPattern):
    role = "ContextAttention"
    named = r"attn1|attn2|attn|attention|self_attn|cross_attn"
    priority = 6  # over SpatialAttention: tokens in, tokens out, where a transformer block holds it

    accepts = Accepts(4, 4, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 4 or not cls.named:
            return None
        q, k, v, out = (one_named(members, n) for n in (r"to_q", r"to_k", r"to_v", r"to_out"))
        if None in (q, k, v, out) or any(m.kind != "builtin" for m in (q, k, v)):
            return None
        path = _linear_path(out)
        if path is None or any(family(m) != "linear" for m in (q, k, v)):
            return None
        if k.io.in_width != v.io.in_width or q.io.out_width != k.io.out_width:
            return None
        per_block = head_size_from_lists(ctx, cls, q.attr, q.io.out_width)
        if per_block is not None:
            size, guessed = per_block
            return Match(self, 4, (q.attr, k.attr, v.attr, path), [size], guessed=guessed)
        heads = head_count(ctx, cls, q.attr, q.io.out_width)
        return Match(self, 4, (q.attr, k.attr, v.attr, path), [heads])

    def forward(self, match: Match, g: Graph) -> None:
        q_path, k_path, v_path, out_path = match.found
        split = match.choices[0]  # the head count, or the head size (per_block above)
        shape = (split.value, -1) if split.name == "heads" else (-1, split.value)
        x = g.input("x")
        context = g.input("context", optional=True)
        source = g.call_function("memory_or", context, x, name="source", comment="keys from here")
        batch = g.call_method("size", x, 0, name="batch")
        projected = []
        for path, name, s in ((q_path, "q", x), (k_path, "k", source), (v_path, "v", source)):
            h = g.call_module((path,), s, name=name, inline=True)
            length = g.call_method("size", s, 1, inline=True)
            h = g.call_method("reshape", h, batch, length, *shape, name=name, inline=True)
            projected.append(g.call_method("transpose", h, 1, 2, name=name))
        a = g.call_function("scaled_dot_product_attention", *projected, name="out")
        a = g.call_method("transpose", a, 1, 2, name="out", inline=True)
        a = g.call_method("flatten", a, 2, name="out", inline=True)
        g.output(g.call_module(out_path, a))

    @staticmethod
    def examples():
        from codegen.patterns.blocks._transformer_examples import modules as zoo

        z = zoo()
        return [
            Example(z["attention"](16, 4, 24), z["tokens"](16, 24), {"num_attention_heads": 4}),
            Example(z["attention"](16, 2), z["tokens"](16), {"num_attention_heads": 2}),
        ]
