"""The codebook lookup of a VQ-VAE whose codebook is trained by exponential moving averages and kept
in buffers, not an nn.Embedding (rosinality/vq-vae-2-pytorch's `Quantize`: `embed` [dim, n_embed],
`cluster_size` [n_embed], `embed_avg` [dim, n_embed]): each pixel's latent vector is replaced by
the nearest codebook column.

    z = x.permute(0, 2, 3, 1)                                   # [batch, height, width, dim]
    codes = cdist(z.flatten(0, 2), embed.t()).argmin(dim=1)
    return embed.t()[codes].reshape(z.shape).permute(0, 3, 1, 2)

The repository calls it on channels-last maps between two permutes; this class takes and gives
channels-first maps, which computes the same where its caller's permutes are left out. The
statistics (`cluster_size`, `embed_avg`) only update the codebook in training. In eval mode the
straight-through `x + (q - x).detach()` is the codebook vector itself.
"""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Example,
    Match,
    modules,
    tensors,
)
from codegen.patterns._kit import one_named

CODEBOOK = r"embed|codebook|embeddings"
COUNTS = r"cluster_size|ema_cluster_size|counts?"
SUMS = r"embed_avg|ema_dw|ema_embed|embed_sum"


class EmaVectorQuantizer(BlockPattern):
    role = "VectorQuantizer"
    priority = 5

    accepts = Accepts(0, 0, tensors=True)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        params = tensors(cls)
        if modules(cls) or len(params) != 3:
            return None
        table, counts, sums = (one_named(params, n) for n in (CODEBOOK, COUNTS, SUMS))
        if table is None or counts is None or sums is None:
            return None
        if len(table.shape) != 2 or tuple(sums.shape) != tuple(table.shape):
            return None
        n = table.shape[1]
        if tuple(counts.shape) != (n,):
            return None
        return Match(self, 3, table.attr)

    def forward(self, match: Match, g: Graph) -> None:
        table = match.found
        z = g.call_method("permute", g.input("x"), 0, 2, 3, 1, name="z")
        flat = g.call_method("flatten", z, 0, 2, name="flat", inline=True)
        codebook = g.call_function("torch.t", g.getattr((table,)), name="codebook")
        distances = g.call_function("torch.cdist", flat, codebook, inline=True)
        codes = g.call_method(
            "argmin", distances, kwargs={"dim": 1}, name="codes", comment="nearest codebook row"
        )
        q = g.call_function("F.embedding", codes, codebook, name="q", inline=True)
        shape = g.call_method("shape", z, inline=True)
        q = g.call_method("reshape", q, shape, name="q", inline=True)
        g.output(g.call_method("permute", q, 0, 3, 1, 2))

    @staticmethod
    def examples():
        import torch
        import torch.nn.functional as F

        class Quantize(torch.nn.Module):  # rosinality's, called on channels-first maps here
            def __init__(self, dim: int = 4, n_embed: int = 16) -> None:
                super().__init__()
                embed = torch.randn(dim, n_embed)
                self.register_buffer("embed", embed)
                self.register_buffer("cluster_size", torch.zeros(n_embed))
                self.register_buffer("embed_avg", embed.clone())

            def forward(self, x):
                x = x.permute(0, 2, 3, 1)
                flatten = x.reshape(-1, x.shape[-1])
                dist = (
                    flatten.pow(2).sum(1, keepdim=True)
                    - 2 * flatten @ self.embed
                    + self.embed.pow(2).sum(0, keepdim=True)
                )
                codes = (-dist).max(1)[1].view(*x.shape[:-1])
                return F.embedding(codes, self.embed.transpose(0, 1)).permute(0, 3, 1, 2)

        torch.manual_seed(0)
        return [Example(Quantize().eval(), (torch.randn(2, 4, 3, 3),))]
