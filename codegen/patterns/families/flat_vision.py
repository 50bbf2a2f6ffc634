"""A vision transformer whose tokens, tables and layers sit on the model itself (timm's and the
DINOv2 code's layout, as TIPSv2's checkpoints keep it): `patch_embed`, `cls_token`, an optional
`register_tokens` / `reg_token`, `pos_embed`, `blocks`, `norm`, and a `mask_token` [1, d] that
only pre-training uses:

    x = [class token; patches] + pos_embed          # the table covers the class token and patches
    x = [x[:, :1]; registers; x[:, 1:]]             # registers after the class token, unturned
    x = norm(blocks(x))                             # [batch, 1 + registers + patches, d]

Where the table also covers the registers (timm's), they are put in before it is added (helper
`add_positions_and_registers` tells the two apart by the table's length). The table is added as
it is: an image of another size than the one trained is not resized (the library resizes it).
"""

from __future__ import annotations

import re

from codegen.ir.graph import Graph
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Match,
    family,
    modules,
    stack,
    tensors,
)
from codegen.patterns.blocks.swin_embeddings import images, in_channels
from codegen.patterns.families.encoder import CLASS_TOKEN, MASK_TOKEN, REGISTERS

TABLE = r"pos_embed|position_embeddings|pos_embedding"


class FlatVisionTransformer(BlockPattern):
    role = "VisionTransformer"
    priority = 20
    accepts = Accepts(3, 3, families=("norm",), roles=("PatchEmbedding", "Block"))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members, params = modules(cls), tensors(cls)
        by_role = lambda role: [m for m in members if ctx.role(m) == role]  # noqa: E731
        patches, norms = by_role("PatchEmbedding"), [m for m in members if family(m) == "norm"]
        layers = [m for m in members if stack(m) is not None and ctx.role(m) == "Block"]
        if len(patches) != 1 or len(layers) != 1 or len(norms) != 1 or len(members) != 3:
            return None
        if not ctx.takes(layers[0], "mask"):
            return None

        def named(pattern: str, rank: int):
            found = [t for t in params if re.fullmatch(pattern, t.attr) and len(t.shape) == rank]
            return found[0] if len(found) == 1 else None

        token, table = named(CLASS_TOKEN, 3), named(TABLE, 3)
        registers, mask = named(REGISTERS, 3), named(MASK_TOKEN, 2)
        if token is None or table is None or tuple(token.shape[:2]) != (1, 1):
            return None
        if len(params) != sum(t is not None for t in (token, table, registers, mask)):
            return None
        found = (patches[0].attr, token.attr, table.attr, registers.attr if registers else None)
        found += (layers[0].attr, norms[0].attr, in_channels(cls, ctx))
        return Match(self, len(cls.members) + 1, found)

    def example_inputs(self, match: Match, cls) -> list:
        return images(match.found[-1])

    def forward(self, match: Match, g: Graph) -> None:
        patches, token, table, registers, layers, norm, _ = match.found
        pixels = g.input("pixel_values")
        x = g.call_module((patches,), pixels, comment="[batch, patches, d_model]")
        batch = g.call_method("size", x, 0, inline=True)
        front = g.call_method("expand", g.getattr((token,)), batch, -1, -1, inline=True)
        x = g.call_function("cat", (front, x), kwargs={"dim": 1}, comment="class token first")
        if registers is None:
            x = g.call_function("add", x, g.getattr((table,)))
        else:
            x = g.call_function(
                "add_positions_and_registers",
                x,
                g.getattr((table,)),
                g.getattr((registers,)),
                comment="registers after the class token",
            )
        x = g.call_module((layers,), x, each=True, name="x")
        g.output(g.call_module((norm,), x), comment="[batch, tokens, d_model]")

    @staticmethod
    def examples():
        import torch

        from codegen.patterns._kit import Example

        torch.manual_seed(0)
        model = _flat_vit(registers=2).eval()
        config = {"hidden_act": "gelu", "num_attention_heads": 2, "layer_norm_eps": 1e-6}
        return [Example(model, (torch.randn(2, 3, 16, 16),), config)]


def _flat_vit(registers: int):
    """Example: the DINOv2 code's layout, registers after the class token (test-only input)."""
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    dim, heads = 16, 2

    class Attention(nn.Module):
        def __init__(self):
            super().__init__()
            self.qkv, self.proj = nn.Linear(dim, 3 * dim), nn.Linear(dim, dim)

        def forward(self, x):
            b, n, _ = x.shape
            q, k, v = self.qkv(x).view(b, n, 3, heads, -1).permute(2, 0, 3, 1, 4)
            y = F.scaled_dot_product_attention(q, k, v)
            return self.proj(y.transpose(1, 2).reshape(b, n, dim))

    class Mlp(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.fc2 = nn.Linear(dim, 2 * dim), nn.Linear(2 * dim, dim)

        def forward(self, x):
            return self.fc2(F.gelu(self.fc1(x)))

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.norm1, self.attn = nn.LayerNorm(dim, eps=1e-6), Attention()
            self.norm2, self.mlp = nn.LayerNorm(dim, eps=1e-6), Mlp()

        def forward(self, x):
            x = x + self.attn(self.norm1(x))
            return x + self.mlp(self.norm2(x))

    class PatchEmbed(nn.Module):
        def __init__(self):
            super().__init__()
            self.proj = nn.Conv2d(3, dim, 4, stride=4)

        def forward(self, x):
            return self.proj(x).flatten(2).transpose(1, 2)

    class ViT(nn.Module):
        def __init__(self):
            super().__init__()
            self.patch_embed = PatchEmbed()
            self.cls_token = nn.Parameter(torch.randn(1, 1, dim))
            self.register_tokens = nn.Parameter(torch.randn(1, registers, dim))
            self.mask_token = nn.Parameter(torch.zeros(1, dim))
            self.pos_embed = nn.Parameter(torch.randn(1, 1 + 16, dim))
            self.blocks = nn.ModuleList(Block() for _ in range(2))
            self.norm = nn.LayerNorm(dim, eps=1e-6)

        def forward(self, pixels):
            x = self.patch_embed(pixels)
            x = torch.cat((self.cls_token.expand(x.size(0), -1, -1), x), dim=1) + self.pos_embed
            reg = self.register_tokens.expand(x.size(0), -1, -1)
            x = torch.cat((x[:, :1], reg, x[:, 1:]), dim=1)
            for block in self.blocks:
                x = block(x)
            return self.norm(x)

    return ViT()
