"""An image classifier whose conv stem's map becomes tokens for a stack of token blocks with
offset-biased attention (LeViT, Graham et al. 2021: `patch_embed`, `blocks`, `head` and, trained
with distillation, `head_dist`):

    x = stem(pixel_values)                       # [batch, C, h, w]: strided convs
    x = blocks(x.flatten(2).transpose(1, 2))     # [batch, h * w, C'] through the stack
    x = x.mean(1)                                # the tokens averaged
    return (head(x) + head_dist(x)) / 2          # a distilled model's two heads, averaged

The blocks take tokens: some item of the stack is (or wraps) an offset-biased attention
(blocks/offset_biased_attention.py), whose bias index fixes the token count, so the smoke test's
image is the side its index says times the stem's strides. Two heads of one shape, one named for
distillation, are averaged (DeiT's and LeViT's inference); one head is applied alone.
"""

from __future__ import annotations

import math
import re

from codegen.ir import ExampleInput, Ref
from codegen.ir.graph import Graph
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Match,
    family,
    modules,
    tensors,
)

ATTENTION = "OffsetBiasedAttention"
DISTILLATION = r".*dist.*"


def _holds_attention(ctx: BlockContext, m, depth: int = 2) -> bool:
    """Whether `m` is an offset-biased attention or a class holding one (a residual wrapper)."""
    if m is None or m.kind != "class" or depth < 0:
        return False
    if ctx.role(m) == ATTENTION:
        return True
    held = ctx.classes.get(m.type_name)
    return held is not None and any(_holds_attention(ctx, c, depth - 1) for c in modules(held))


def _convs(ctx: BlockContext, m, depth: int = 3) -> list:
    """The conv layers in `m` and what it holds, in order."""
    if m is None or depth < 0:
        return []
    if family(m) == "conv" and m.kind == "builtin":
        return [m]
    if m.kind == "class":
        held = ctx.classes.get(m.type_name)
        inner = modules(held) if held is not None else []
    else:
        inner = list(m.children or [])
    return [c for i in inner for c in _convs(ctx, i, depth - 1)]


def _stride(conv) -> tuple[int | None, object]:
    """A conv's stride and its choice (None where the stride is recorded)."""
    for a in conv.args:
        if a.keyword == "stride":
            return (a.value if isinstance(a.value, int) else None), a.choice
    found = [c for c in conv.choices if c.name == "stride"]
    return 1, (found[0] if found else None)


def _value(value, env: dict):
    """A size as an int where it is one, or a parameter `env` gives an int."""
    return env.get(value.name) if isinstance(value, Ref) else value


STEM_WHY = "a token stem's 3x3 convs each halve the map (LeViT's, EfficientFormer's)"


class TokenStemClassifier(BlockPattern):
    role = "TokenStemClassifier"
    priority = 20

    accepts = Accepts(3, 4, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) not in (3, 4):
            return None
        stacks = [
            m
            for m in members
            if m.kind == "sequential" and any(_holds_attention(ctx, c) for c in m.children)
        ]
        if len(stacks) != 1 or stacks[0].io is None:
            return None
        blocks = stacks[0]
        rest = [m for m in members if m is not blocks]
        stems = [m for m in rest if _convs(ctx, m) and m.io is not None]
        if len(stems) != 1 or stems[0].io.out_width != blocks.io.in_width:
            return None
        convs = _convs(ctx, stems[0])
        # The strides are not in the keys: each 3x3 conv left at its default halves, by the
        # family's convention (pinned), and the forward says it rests on that
        pins = []
        for conv in convs:
            stride, choice = _stride(conv)
            kernel = {a.keyword: a.value for a in conv.args}.get("kernel_size")
            if choice is not None and choice.source == "default" and kernel == 3:
                pins.append((choice.path, "stride", 2, STEM_WHY))
        heads = [m for m in rest if m is not stems[0]]
        width = blocks.io.out_width
        if any(m.io is None or m.io.in_width != width for m in heads):
            return None
        if len({m.io.out_width for m in heads}) != 1:
            return None
        if len(heads) == 2:  # the distilled model's second head: averaged with the first
            dist = [m for m in heads if re.fullmatch(DISTILLATION, m.attr)]
            if len(dist) != 1:
                return None
            heads.sort(key=lambda m: m is dist[0])
        side = self._side(ctx, cls, blocks)
        strides = [_stride(c)[0] for c in convs]
        image = side * math.prod(strides) if side and None not in strides else None
        found = (stems[0].attr, blocks.attr, tuple(m.attr for m in heads))
        found += (stems[0].io.in_width, image)
        conventional = pins or any(
            _stride(c)[1] is not None and _stride(c)[1].note == STEM_WHY for c in convs
        )
        guessed = f"the stem's strides: {STEM_WHY}, by convention" if conventional else ""
        return Match(self, len(members) + 1, found, guessed=guessed, pins=pins)

    @staticmethod
    def _side(ctx: BlockContext, cls, blocks) -> int | None:
        """The side of the map the first attention's bias index covers (its keys: side ** 2),
        its size followed down from this class's parameters through each member's arguments."""
        env = {p.name: p.default for p in cls.params}
        for c in blocks.children:
            if not _holds_attention(ctx, c):
                continue
            found = c
            while True:
                env = {a.keyword: _value(a.value, env) for a in found.args if a.keyword}
                held = ctx.classes[found.type_name]
                if ctx.role(found) == ATTENTION:
                    break
                found = next(m for m in modules(held) if _holds_attention(ctx, m))
            index = [t for t in tensors(held) if t.kind == "buffer"]
            keys = _value(index[0].shape[1], env) if len(index) == 1 else None
            if type(keys) is not int or math.isqrt(keys) ** 2 != keys:
                return None
            return math.isqrt(keys)
        return None

    def example_inputs(self, match: Match, cls) -> list:
        *_, channels, image = match.found
        return [ExampleInput((2, channels, image, image))] if channels and image else []

    def forward(self, match: Match, g: Graph) -> None:
        stem, blocks, heads, _, _ = match.found
        x = g.call_module((stem,), g.input("pixel_values"), name="x", comment="[batch, C, h, w]")
        x = g.call_method("flatten", x, 2, inline=True)
        x = g.call_method("transpose", x, 1, 2, name="x", comment="[batch, h * w, C]")
        x = g.call_module((blocks,), x, name="x")
        x = g.call_method("mean", x, 1, name="x", comment="the tokens averaged")
        if len(heads) == 1:
            g.output(g.call_module(heads, x), comment="[batch, num_labels]")
            return
        logits = g.call_module((heads[0],), x, name="logits")
        distilled = g.call_module((heads[1],), x, name="distilled")
        both = g.call_function("add", logits, distilled, inline=True)
        g.output(
            g.call_function("truediv", both, 2),
            comment="the head and the distillation head averaged",
        )

    @staticmethod
    def examples():
        import torch

        from codegen.patterns._kit import Example
        from codegen.patterns.blocks._offset_attention_examples import modules as zoo

        return [Example(zoo()["TokenStemClassifier"](), (torch.randn(2, 3, 32, 32),))]
