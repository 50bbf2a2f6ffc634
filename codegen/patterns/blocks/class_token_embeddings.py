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
from codegen.patterns.blocks._rope_scaling import axial_rope
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Example,
    Match,
    family,
    modules,
    tensors,
)

CLASS_TOKEN = r"class_embedding|cls_token|class_token|cls_emb"


def _example(class_token: bool = True, norm: bool = False) -> Example:
    import torch
    import torch.nn as nn

    class Embeddings(nn.Module):
        def __init__(self, d: int = 16) -> None:
            super().__init__()
            if class_token:
                self.class_embedding = nn.Parameter(torch.randn(d))
            self.patch_embedding = nn.Conv2d(3, d, 8, stride=8, bias=class_token)
            self.position_embedding = nn.Embedding(5 if class_token else 4, d)
            self.norm = nn.RMSNorm(d, eps=1e-5) if norm else nn.Identity()

        def forward(self, pixels):
            x = self.norm(self.patch_embedding(pixels).flatten(2).transpose(1, 2))
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
    if norm:  # AIMv2's: an RMSNorm of the patch tokens before the positions
        config = {"model_type": "aimv2_vision_model", "rms_norm_eps": 1e-5}
    return Example(Holder(), (torch.randn(2, 3, 16, 16),), config)


class ClassTokenEmbeddings(BlockPattern):
    role = "VisionEmbeddings"
    priority = 6
    accepts = Accepts(1, 3, families=("conv",))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members, params = modules(cls), tensors(cls)
        convs = [m for m in members if family(m) == "conv" and m.io and m.io.ndim == 2]
        tables = [m for m in members if family(m) == "embedding"]
        norms = [m for m in members if family(m) == "norm"]
        vectors = [t for t in params if len(t.shape) == 1]
        # SigLIP's vision tower has no class token: patches and positions only.
        # No position table where the positions enter in the attention as a 2-D rotary (MLCD).
        rotary = bool(not tables and vectors and axial_rope(ctx.resolver.nested) is not None)
        if len(convs) != 1 or len(tables) != 1 - rotary or len(params) > 1 or len(norms) > 1:
            return None
        if len(members) != 2 - rotary + len(norms) or norms and vectors:
            return None
        if len(vectors) != len(params) or not rotary and not _width(convs[0], tables[0]):
            return None
        if norms and (norms[0].io is None or norms[0].io.in_width != tables[0].io.out_width):
            return None
        if not vectors and not _patchify(convs[0]):
            return None  # without a class token, only the conv's shape says these are patches
        choices, norm = [], None
        if norms:
            # A norm of the patch tokens (AIMv2; timm's PatchEmbed with its norm_layer) comes
            # before the positions are added; a norm of the sum (BERT's embeddings) after.
            where = ctx.choose(
                cls,
                norms[0].attr,
                "norm_position",
                "patches",
                ["sum"],
                "patches: normalise the patch tokens, then add positions; sum: after",
            )
            choices.append(where)
            norm = (norms[0].attr, where.value == "patches")
        table = tables[0].attr if tables else None
        found = (convs[0].attr, vectors[0].attr if vectors else None, table, norm)
        return Match(self, 2 + len(vectors) + len(norms), found, choices=choices)

    def forward(self, match: Match, g: Graph) -> None:
        patch, token, table, norm = match.found
        pixels = g.input("pixel_values")
        x = g.call_module((patch,), pixels, inline=True)
        x = g.call_method("flatten", x, 2, inline=True)
        x = g.call_method("transpose", x, 1, 2, comment="[batch, patches, d_model]")
        if norm is not None and norm[1]:
            x = g.call_module((norm[0],), x)
        if token is not None:
            batch = g.call_method("size", x, 0, inline=True)
            first = g.call_method("expand", g.getattr((token,)), batch, 1, -1, inline=True)
            x = g.call_function("cat", (first, x), kwargs={"dim": 1}, comment="class token first")
        if table is None:  # positions enter in the attention (a 2-D rotary)
            g.output(x)
            return
        seq = g.call_method("size", x, 1, inline=True)
        device = g.call_method("device", x, inline=True)
        pos = g.call_function("arange", seq, kwargs={"device": device}, name="positions")
        x = g.call_function("add", x, g.call_module((table,), pos, inline=True))
        if norm is not None and not norm[1]:
            x = g.call_module((norm[0],), x)
        g.output(x)

    @staticmethod
    def examples():
        return [_example(), _example(class_token=False), _example(class_token=False, norm=True)]


def _width(conv, table) -> bool:
    return conv.io.out_width is not None and conv.io.out_width == table.io.out_width


def _patchify(conv) -> bool:
    """A conv reading image channels in non-overlapping patches (kernel == stride > 1)."""
    args = {a.keyword: a.value for a in conv.args}
    kernel, stride = conv_kernel(conv), args.get("stride", 1)
    patches = kernel not in (None, 1, (1, 1)) and kernel == stride
    return patches and conv.io.in_width is not None and conv.io.in_width <= 4
