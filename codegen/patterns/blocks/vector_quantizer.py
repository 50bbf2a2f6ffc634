"""The codebook lookup of a VQ autoencoder (diffusers' VectorQuantizer, taming-transformers'
VectorQuantizer2): each pixel's latent vector is replaced by its nearest codebook row.

    z = x.permute(0, 2, 3, 1)                                    # [batch, height, width, dim]
    codes = cdist(z.reshape(-1, dim), codebook.weight).argmin(dim=1)
    return codebook(codes).reshape(z.shape).permute(0, 3, 1, 2)

Recognised from the one member, an embedding table (`embedding`, `codebook`), held under a name
that says it quantises. In eval mode the straight-through trick `z + (z_q - z).detach()` is the
codebook vector itself.
"""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns._kit import BlockContext, BlockPattern, Example, Match, family, modules
from codegen.patterns._kit import one_named, tensors


class VectorQuantizer(BlockPattern):
    role = "VectorQuantizer"
    named = r"quantize|quantizer|vq|codebook"
    priority = 5

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        table = one_named(members, r"embedding|codebook|embed")
        if tensors(cls) or len(members) != 1 or table is None or family(table) != "embedding":
            return None
        if not cls.named or table.kind != "builtin":
            return None
        return Match(self, 1, (table.attr, table.io.out_width))

    def forward(self, match: Match, g: Graph) -> None:
        table, dim = match.found
        z = g.call_method("permute", g.input("x"), 0, 2, 3, 1, name="z")
        flat = g.call_method("reshape", z, -1, dim, name="flat", inline=True)
        weight = g.getattr((table, "weight"))
        distances = g.call_function("torch.cdist", flat, weight, inline=True)
        codes = g.call_method(
            "argmin", distances, kwargs={"dim": 1}, name="codes", comment="nearest codebook row"
        )
        q = g.call_module((table,), codes, name="q", inline=True)
        shape = g.call_method("shape", z, inline=True)
        q = g.call_method("reshape", q, shape, name="q", inline=True)
        g.output(g.call_method("permute", q, 0, 3, 1, 2))

    @staticmethod
    def examples():
        import torch

        class VectorQuantizer(torch.nn.Module):
            def __init__(self, n: int, dim: int) -> None:
                super().__init__()
                self.embedding = torch.nn.Embedding(n, dim)

            def forward(self, z: torch.Tensor) -> torch.Tensor:
                z = z.permute(0, 2, 3, 1).contiguous()
                flat = z.view(-1, z.shape[-1])
                codes = torch.argmin(torch.cdist(flat, self.embedding.weight), dim=1)
                q = self.embedding(codes).view(z.shape)
                return q.permute(0, 3, 1, 2).contiguous()

        class Holder(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.quantize = VectorQuantizer(16, 4)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return self.quantize(x)

        torch.manual_seed(1)
        return [Example(Holder(), (torch.randn(2, 4, 5, 5),))]
