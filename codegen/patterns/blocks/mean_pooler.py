"""`norm(x[:, 1:].mean(1))`: a pooler that averages the patch tokens (the class token left out)
and normalises the mean (BEiT, Data2Vec-vision with use_mean_pooling). config.json's
use_mean_pooling settles it; without it the mean is the default."""

from __future__ import annotations

from codegen.ir.graph import Graph, Slice
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Match,
    family,
    modules,
    tensors,
)


class MeanPooler(BlockPattern):
    role = "Pooler"
    named = r"pooler"
    priority = 5
    synonyms = {"mean_pooling": ("use_mean_pooling",)}

    accepts = Accepts(1, 1, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 1 or family(members[0]) != "norm":
            return None
        if cls.named is None or cls.named.lower() != "pooler":
            return None
        said = ctx.resolver.evidence(*self.synonyms["mean_pooling"])
        if said is not None and said[1] is not True:
            return None
        return Match(self, 1, members[0].attr)

    def forward(self, match: Match, g: Graph) -> None:
        x = g.input("x")
        patches = g.call_function("getitem", x, (Slice(), Slice(1, None)), inline=True)
        mean = g.call_method("mean", patches, 1, inline=True)
        g.output(
            g.call_module((match.found,), mean),
            comment="[batch, d_model]: the patch tokens' mean, normalised",
        )

    @staticmethod
    def examples():
        from codegen.patterns.blocks._encoder_examples import example

        return [example("beit")]
