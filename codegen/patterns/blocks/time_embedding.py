"""The MLP that turns a diffusion model's sinusoidal timestep features into its time embedding
(diffusers' TimestepEmbedding): `linear_2(act(linear_1(t)))`, the activation a choice (SiLU, or
config.json's act_fn)."""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns import _activations as act
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


class TimeEmbedding(BlockPattern):
    role = "TimeEmbedding"
    # A U-Net's class embedding can be the same MLP (diffusers' class_embed_type "timestep"); a
    # latent transformer's conditioning holds it as `timestep_embedder` (and PixArt's size
    # conditions as `resolution_embedder`, `aspect_ratio_embedder`).
    named = (
        r"time_embedding|time_embed|temb|class_embedding|class_embed|timestep_embedder"
        r"|resolution_embedder|aspect_ratio_embedder"
    )
    priority = 5
    synonyms = act.SYNONYMS

    accepts = Accepts(tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or not cls.named:
            return None
        first, second = one_named(members, r"linear_1"), one_named(members, r"linear_2")
        paths = ((first.attr,), (second.attr,)) if None not in (first, second) else None
        if len(members) == 1 and members[0].kind in ("sequential", "modulelist"):
            # The DDPM port's `temb.dense`: a list of the two Linears.
            dense = [c for c in members[0].children if c.kind != "placeholder"]
            if len(dense) == 2:
                first, second = dense
                paths = tuple((members[0].attr, m.attr) for m in dense)
        elif len(members) != 2:
            return None
        if paths is None or family(first) != "linear" or family(second) != "linear":
            return None
        if first.io.out_width != second.io.in_width:
            return None
        activation = ctx.choose(
            cls,
            first.attr,
            "activation",
            "silu",
            act.alternatives("silu", told=ctx.resolver),
            "between the two",
        )
        act.fixed_by_class(ctx.resolver, activation, self.role)
        return Match(self, len(members), paths, [activation])

    def forward(self, match: Match, g: Graph) -> None:
        first, second = match.found
        t = g.call_module(first, g.input("t"), name="t", inline=True)
        t = act.apply(g, match.choices[0].value, t, name="t", inline=True)
        g.output(g.call_module(second, t))

    @staticmethod
    def examples():
        import torch

        from codegen.patterns.blocks._generative_examples import modules as zoo

        class Holder(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.time_embedding = zoo()["time_embedding"](8, 16)

            def forward(self, t: torch.Tensor) -> torch.Tensor:
                return self.time_embedding(t)

        return [Example(Holder(), (torch.randn(3, 8),))]
