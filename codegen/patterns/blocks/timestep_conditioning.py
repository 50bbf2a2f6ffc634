"""The conditioning vector of a patchified latent transformer (DiT, PixArt), and the adaptive
layer norm's modulation computed from it.

- `LabelEmbedding` (diffusers' LabelEmbedding): a table of class vectors, one row more than the
  classes (the "no class" row of classifier-free guidance): `embedding_table(labels)`.
- `TimestepConditioning` (CombinedTimestepLabelEmbeddings, PixArtAlphaCombinedTimestepSize-
  Embeddings without size conditions): the timestep's sinusoidal features through
  `timestep_embedder`, plus the class vector where there is a `class_embedder`.
- `AdaptiveModulation` (AdaLayerNormZero's or AdaLayerNormSingle's parameters): `linear(silu(
  emb(timestep, ...)))`, the shifts, scales and gates the blocks apply, side by side.

The sinusoids' layout leaves no tensors: choices (cos first; the frequency shift, 1 in diffusers'
class-conditional embedding and 0 in its others), cited from config.json's _class_name where
that names a diffusers class whose code fixes them.
"""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns import _activations as act
from codegen.patterns._kit import BlockContext, BlockPattern, Match, family, modules
from codegen.patterns._kit import one_named, tensors

# diffusers classes whose timestep features follow the layout asked for here (their code fixes it).
LATENT_TRANSFORMERS = ("DiTTransformer2DModel", "PixArtTransformer2DModel", "Transformer2DModel")


class LabelEmbedding(BlockPattern):
    role = "LabelEmbedding"
    priority = 5

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 1 or family(members[0]) != "embedding":
            return None
        if members[0].attr != "embedding_table":
            return None
        return Match(self, 1, members[0].attr)

    def forward(self, match: Match, g: Graph) -> None:
        g.output(g.call_module((match.found,), g.input("labels")))

    @staticmethod
    def examples():
        from codegen.patterns.blocks import _latent_transformer_examples as z

        return [z.dit_example()]


class TimestepConditioning(BlockPattern):
    role = "TimestepConditioning"
    priority = 6

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        time = one_named(members, r"timestep_embedder")
        labels = one_named(members, r"class_embedder")
        used = [m for m in (time, labels) if m is not None]
        if tensors(cls) or time is None or len(used) != len(members):
            return None
        if ctx.role(time) != "TimeEmbedding":
            return None
        if labels is not None and ctx.role(labels) != "LabelEmbedding":
            return None
        time_cls = ctx.classes.get(time.type_name)
        first = one_named(modules(time_cls), r"linear_1") if time_cls else None
        features = first.io.in_width if first is not None and first.io else None
        if not isinstance(features, int):
            return None
        flip = ctx.choose(cls, time.attr, "flip_sin_to_cos", True, [False], "cos features first")
        shift = ctx.choose(
            cls,
            time.attr,
            "freq_shift",
            1 if labels is not None else 0,
            [0 if labels is not None else 1],
            "frequencies 1e4 ** (-i / (d/2 - shift))",
        )
        told = ctx.resolver.evidence("_class_name")
        for c in (flip, shift):
            if c.source == "default" and told is not None and told[1] in LATENT_TRANSFORMERS:
                c.source, c.note = "metadata", f"{told[0]} {told[1]!r} fixes it"
        found = (time.attr, labels.attr if labels is not None else None, features)
        return Match(self, len(members), found, [flip, shift])

    def forward(self, match: Match, g: Graph) -> None:
        time, labels, features = match.found
        flip, shift = (c.value for c in match.choices)
        timestep = g.input("timestep")
        classes = g.input("class_labels") if labels is not None else None
        t = g.call_function(
            "timestep_embedding", timestep, features, bool(flip), float(shift), name="t"
        )
        t = g.call_module((time,), t, name="t")
        if classes is None:
            g.output(t)
            return
        g.output(g.call_function("add", t, g.call_module((labels,), classes, inline=True)))

    @staticmethod
    def examples():
        from codegen.patterns.blocks import _latent_transformer_examples as z

        return [z.dit_example(), z.pixart_example()]


class AdaptiveModulation(BlockPattern):
    role = "AdaptiveModulation"
    priority = 6
    synonyms = act.SYNONYMS

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        emb, linear = one_named(members, r"emb"), one_named(members, r"linear")
        if tensors(cls) or len(members) != 2 or None in (emb, linear):
            return None
        if ctx.role(emb) != "TimestepConditioning" or family(linear) != "linear":
            return None
        width, out = linear.io.in_width, linear.io.out_width
        if not width or not out or out % width or out // width not in (2, 3, 6, 9):
            return None
        activation = ctx.choose(
            cls, linear.attr, "activation", "silu", act.alternatives("silu"), "before linear"
        )
        labels = ctx.takes(emb, "class_labels")
        return Match(self, 2, (emb.attr, linear.attr, labels), [activation])

    def forward(self, match: Match, g: Graph) -> None:
        emb, linear, labels = match.found
        inputs = [g.input("timestep")] + ([g.input("class_labels")] if labels else [])
        c = g.call_module((emb,), *inputs, name="c", comment="[batch, d_model] conditioning")
        c = act.apply(g, match.choices[0].value, c, name="c", inline=True)
        g.output(g.call_module((linear,), c), comment="shifts, scales and gates, side by side")

    @staticmethod
    def examples():
        from codegen.patterns.blocks import _latent_transformer_examples as z

        return [z.dit_example(), z.pixart_example()]
