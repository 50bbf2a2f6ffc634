"""The codebook lookup of a VQ autoencoder (diffusers' VectorQuantizer, taming-transformers'
VectorQuantizer2): each pixel's latent vector is replaced by its nearest codebook row.

    z = x.permute(0, 2, 3, 1)                                    # [batch, height, width, dim]
    codes = cdist(z.reshape(-1, dim), codebook.weight).argmin(dim=1)
    return codebook(codes).reshape(z.shape).permute(0, 3, 1, 2)

Recognised from the one member, an embedding table (`embedding`, `codebook`, `_embedding`), held
under a name that says it quantises. In eval mode the straight-through trick `z + (z_q - z).detach()`
is the codebook vector itself. A codebook trained by moving averages keeps its statistics beside
the table (zalandoresearch/pytorch-vq-vae's VectorQuantizerEMA: `_ema_cluster_size` [K], `_ema_w`
[K, D]): they only update the table in training, so the lookup is the same.

Chameleon's and Janus' VQ models (transformers' `get_codebook_entry`) give the decoder each row
scaled to unit length; no tensor says which: a choice, `codebook_entries`.
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


class VectorQuantizer(BlockPattern):
    role = "VectorQuantizer"
    # (rosinality's `quantize_b`, zalando's `_vq_vae`, MishaLaskin's `vector_quantization`)
    named = r"_*(vector_?)?(vq|quanti[sz](e|er|ation)|codebook)(_\w+)?"
    priority = 5

    accepts = Accepts(1, 1)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        table = one_named(members, r"_?(embedding|codebook|embed)")
        if len(members) != 1 or table is None or family(table) != "embedding":
            return None
        if not cls.named or table.kind != "builtin":
            return None
        if not _moving_average_statistics(tensors(cls)):
            return None
        entries = ctx.choose(
            cls,
            table.attr,
            "codebook_entries",
            "as_stored",
            ["unit_length"],
            "the rows the decoder reads: as stored, or scaled to unit length (Chameleon's and "
            "Janus' get_codebook_entry)",
        )
        return Match(self, 1 + len(tensors(cls)), (table.attr, table.io.out_width), [entries])

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
        if match.choices[0].value == "unit_length":
            q = g.call_function(
                "F.normalize", q, kwargs={"p": 2.0, "dim": -1}, name="q", inline=True
            )
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

        class EmaQuantizer(VectorQuantizer):  # the table plus its moving-average statistics
            def __init__(self, n: int, dim: int) -> None:
                super().__init__(n, dim)
                self.register_buffer("ema_counts", torch.zeros(n))
                self.ema_sums = torch.nn.Parameter(torch.randn(n, dim))

        class Holder(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.quantize = VectorQuantizer(16, 4)
                self.vq = EmaQuantizer(8, 4)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return self.vq(self.quantize(x))

        torch.manual_seed(1)
        return [Example(Holder(), (torch.randn(2, 4, 5, 5),))]


def _moving_average_statistics(params: list) -> bool:
    """No tensors of the class's own, or the two a moving-average codebook keeps beside its table:
    one count per code [K] and one running sum per code [K, D]. (Their sizes may be lifted to
    constructor parameters, so only the shared K is compared.)"""
    if not params:
        return True
    shapes = sorted((tuple(p.shape) for p in params), key=len)
    return [len(s) for s in shapes] == [1, 2] and shapes[0][0] == shapes[1][0]
