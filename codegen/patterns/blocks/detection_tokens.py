"""A ViT that also carries learned detection tokens (YOLOS): the class token in front of the
patches, `detection_tokens` [1, n, d] after them, one position table over all three; and an
encoder that adds a further table after every layer but the last (`mid_position_embeddings`
[layers - 1, 1, tokens, d]):

    x = cat(cls_token, patches(pixels), detection_tokens) + position_embeddings
    for i, layer in enumerate(layers):
        x = layer(x)
        if i < layers - 1: x = x + mid_position_embeddings[i]

The tables cover the patch grid of the configured image size; the library resizes them (bicubic)
for other sizes, which this forward does not: another grid fails on the addition, loudly.
"""

from __future__ import annotations

import re

from codegen.ir.graph import Graph
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Match,
    modules,
    stack,
    tensors,
)

CLASS_TOKEN = r"cls_token|class_token"
DETECTION = r"detection_tokens?|det_tokens?"
MID_POSITIONS = r"mid_position_embeddings|mid_pos_embed"


def _one(params, pattern: str):
    found = [t for t in params if re.fullmatch(pattern, t.attr, re.IGNORECASE)]
    return found[0] if len(found) == 1 else None


class DetectionTokenEmbeddings(BlockPattern):
    role = "VisionEmbeddings"
    priority = 6

    accepts = Accepts(1, 1)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members, params = modules(cls), tensors(cls)
        if len(members) != 1 or ctx.role(members[0]) != "PatchEmbedding" or len(params) != 3:
            return None
        first, after = _one(params, CLASS_TOKEN), _one(params, DETECTION)
        table = [t for t in params if t is not first and t is not after]
        if first is None or after is None or len(table) != 1:
            return None
        table = table[0]
        if len(first.shape) != 3 or tuple(first.shape[:2]) != (1, 1) or len(after.shape) != 3:
            return None
        if len(table.shape) != 3 or table.shape[0] != 1 or after.shape[0] != 1:
            return None
        said = ctx.resolver.evidence("num_detection_tokens")
        if said is not None and said[1] != after.shape[1]:
            return None
        found = (members[0].attr, first.attr, after.attr, table.attr)
        return Match(self, len(params) + 2, found)

    def forward(self, match: Match, g: Graph) -> None:
        patches, first, after, table = match.found
        x = g.call_module((patches,), g.input("pixel_values"), comment="[batch, patches, d]")
        batch = g.call_method("size", x, 0, inline=True)
        front = g.call_method("expand", g.getattr((first,)), batch, -1, -1, inline=True)
        back = g.call_method("expand", g.getattr((after,)), batch, -1, -1, inline=True)
        x = g.call_function(
            "cat", (front, x, back), kwargs={"dim": 1}, comment="class, patches, detection"
        )
        g.output(g.call_function("add", x, g.getattr((table,))))

    @staticmethod
    def examples():
        from codegen.patterns.blocks._detection_examples import example

        return [example()]


class MidPositionEncoder(BlockPattern):
    role = "Encoder"
    priority = 6

    accepts = Accepts(1, 1, tensors=True)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members, params = modules(cls), tensors(cls)
        if len(members) != 1 or len(params) != 1 or stack(members[0]) is None:
            return None
        layer, count = stack(members[0])
        mid = params[0]
        if not re.fullmatch(MID_POSITIONS, mid.attr, re.IGNORECASE) or len(mid.shape) != 4:
            return None
        if not isinstance(count, int) or mid.shape[0] != count - 1 or mid.shape[1] != 1:
            return None
        if ctx.role(layer) != "Block":
            return None
        ctx.resolver.evidence("use_mid_position_embeddings")  # the table shows it
        attrs = [c.attr for c in members[0].children] if members[0].kind != "repeat" else None
        return Match(self, 3, (members[0].attr, mid.attr, count, attrs))

    def forward(self, match: Match, g: Graph) -> None:
        layers, mid, count, attrs = match.found
        x = g.input("x")
        for i in range(count):
            item = attrs[i] if attrs else str(i)
            x = g.call_module((layers, item), x, name="x")
            if i < count - 1:
                table = g.call_function("getitem", g.getattr((mid,)), i, inline=True)
                x = g.call_function("add", x, table, name="x")
        g.output(x)

    @staticmethod
    def examples():
        return DetectionTokenEmbeddings.examples()
