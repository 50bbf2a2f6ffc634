"""Patch embeddings with a class token and a position table in one class (CLIP's vision tower,
`CLIPVisionEmbeddings`): `patch(pixels)` flattened to tokens, the learned class vector in front,
then row i of the position table added to token i. SigLIP's vision tower is the same without
the class token.

Recognised from shapes: a conv that turns 3-D pixels into tokens of width d, a 1-D parameter of
width d (the class vector), and a position table of width d (an embedding or a 2-D parameter);
names only break ties (`class_embedding`, `cls_token`...).
"""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns.blocks._conv_parts import conv_kernel
from codegen.patterns._kit import (
    BlockContext,
    BlockPattern,
    Example,
    Match,
    family,
    modules,
    tensors,
)

CLASS_TOKEN = r"class_embedding|cls_token|class_token|cls_emb"


def _example(class_token: bool = True) -> Example:
    import torch
    import torch.nn as nn

    class Embeddings(nn.Module):
        def __init__(self, d: int = 16) -> None:
            super().__init__()
            if class_token:
                self.class_embedding = nn.Parameter(torch.randn(d))
            self.patch_embedding = nn.Conv2d(3, d, 8, stride=8, bias=class_token)
            self.position_embedding = nn.Embedding(5 if class_token else 4, d)

        def forward(self, pixels):
            x = self.patch_embedding(pixels).flatten(2).transpose(1, 2)
            if class_token:
                first = self.class_embedding.expand(x.size(0), 1, -1)
                x = torch.cat((first, x), dim=1)
            return x + self.position_embedding(torch.arange(x.size(1)))

    class Holder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embeddings = Embeddings()

        def forward(self, pixels):
            return self.embeddings(pixels)

    config = {"model_type": "clip_vision_model" if class_token else "siglip_vision_model"}
    return Example(Holder(), (torch.randn(2, 3, 16, 16),), config)


class ClassTokenEmbeddings(BlockPattern):
    role = "VisionEmbeddings"
    priority = 6

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members, params = modules(cls), tensors(cls)
        convs = [m for m in members if family(m) == "conv" and m.io and m.io.ndim == 2]
        tables = [m for m in members if family(m) == "embedding"]
        vectors = [t for t in params if len(t.shape) == 1]
        # SigLIP's vision tower has no class token: patches and positions only.
        if len(convs) != 1 or len(tables) != 1 or len(members) != 2 or len(params) > 1:
            return None
        if len(vectors) != len(params) or not _width(convs[0], tables[0]):
            return None
        if not vectors and not _patchify(convs[0]):
            return None  # without a class token, only the conv's shape says these are patches
        found = (convs[0].attr, vectors[0].attr if vectors else None, tables[0].attr)
        return Match(self, 2 + len(vectors), found)

    def forward(self, match: Match, g: Graph) -> None:
        patch, token, table = match.found
        pixels = g.input("pixel_values")
        x = g.call_module((patch,), pixels, inline=True)
        x = g.call_method("flatten", x, 2, inline=True)
        x = g.call_method("transpose", x, 1, 2, comment="[batch, patches, d_model]")
        if token is not None:
            batch = g.call_method("size", x, 0, inline=True)
            first = g.call_method("expand", g.getattr((token,)), batch, 1, -1, inline=True)
            x = g.call_function("cat", (first, x), kwargs={"dim": 1}, comment="class token first")
        seq = g.call_method("size", x, 1, inline=True)
        device = g.call_method("device", x, inline=True)
        pos = g.call_function("arange", seq, kwargs={"device": device}, name="positions")
        g.output(g.call_function("add", x, g.call_module((table,), pos, inline=True)))

    @staticmethod
    def examples():
        return [_example(), _example(class_token=False)]


def _width(conv, table) -> bool:
    return conv.io.out_width is not None and conv.io.out_width == table.io.out_width


def _patchify(conv) -> bool:
    """A conv reading image channels in non-overlapping patches (kernel == stride > 1)."""
    args = {a.keyword: a.value for a in conv.args}
    kernel, stride = conv_kernel(conv), args.get("stride", 1)
    patches = kernel not in (None, 1, (1, 1)) and kernel == stride
    return patches and conv.io.in_width is not None and conv.io.in_width <= 4
