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
from codegen.patterns._kit import Accepts, BlockContext, BlockPattern, Match, family, modules
from codegen.patterns._kit import one_named, tensors

# diffusers classes whose timestep features follow the layout asked for here (their code fixes it).
LATENT_TRANSFORMERS = ("DiTTransformer2DModel", "PixArtTransformer2DModel", "Transformer2DModel")


# PixArt's size conditions, in the order its forward reads them from added_cond_kwargs.
SIZE_INPUTS = ("resolution", "aspect_ratio")


def _features(ctx: BlockContext, m) -> int | None:
    """How many sinusoidal features an MLP member reads: its first Linear's input width."""
    cls = ctx.classes.get(m.type_name)
    first = one_named(modules(cls), r"linear_1") if cls else None
    width = first.io.in_width if first is not None and first.io else None
    return width if isinstance(width, int) else None


class LabelEmbedding(BlockPattern):
    role = "LabelEmbedding"
    priority = 5

    accepts = Accepts(1, 1, tensors=False)

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
    accepts = Accepts(tensors=False, names=("timestep_embedder",), roles=("TimeEmbedding",))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        time = one_named(members, r"timestep_embedder")
        labels = one_named(members, r"class_embedder")
        sizes = [
            one_named(members, r"resolution_embedder"),
            one_named(members, r"aspect_ratio_embedder"),
        ]
        if (sizes[0] is None) != (sizes[1] is None):
            return None
        sizes = [] if sizes[0] is None else sizes
        used = [m for m in (time, labels, *sizes) if m is not None]
        if tensors(cls) or time is None or len(used) != len(members):
            return None
        if ctx.role(time) != "TimeEmbedding":
            return None
        if labels is not None and ctx.role(labels) != "LabelEmbedding":
            return None
        if any(ctx.role(m) != "TimeEmbedding" for m in sizes):
            return None
        features = _features(ctx, time)
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
        size_features = [_features(ctx, m) for m in sizes]
        if None in size_features:
            return None
        found = (
            time.attr,
            labels.attr if labels is not None else None,
            features,
            [(m.attr, w) for m, w in zip(sizes, size_features)],
        )
        return Match(self, len(members), found, [flip, shift])

    def forward(self, match: Match, g: Graph) -> None:
        time, labels, features, sizes = match.found
        flip, shift = (c.value for c in match.choices)
        timestep = g.input("timestep")
        classes = g.input("class_labels") if labels is not None else None
        conditions = [g.input(n) for n in SIZE_INPUTS] if sizes else []
        t = g.call_function(
            "timestep_embedding", timestep, features, bool(flip), float(shift), name="t"
        )
        t = g.call_module((time,), t, name="t")
        if classes is not None:
            t = g.call_function("add", t, g.call_module((labels,), classes, inline=True), name="t")
        if sizes:  # each size value's sinusoidal features through its MLP, per sample side by side
            parts = []
            for value, (attr, width) in zip(conditions, sizes):
                flat = g.call_method("flatten", value, inline=True)
                h = g.call_function(
                    "timestep_embedding", flat, width, bool(flip), float(shift), inline=True
                )
                h = g.call_module((attr,), h, inline=True)
                batch = g.call_method("size", value, 0, inline=True)
                parts.append(g.call_method("reshape", h, batch, -1, inline=True))
            sized = g.call_function("cat", parts, kwargs={"dim": 1}, inline=True)
            t = g.call_function("add", t, sized, name="t", comment="plus the size conditions")
        g.output(t)

    @staticmethod
    def examples():
        from codegen.patterns.blocks import _latent_transformer_examples as z

        return [z.dit_example(), z.pixart_example()]


# What a conditioning's forward may take, in order.
CONDITION_INPUTS = ("timestep", "class_labels") + SIZE_INPUTS


class AdaptiveModulation(BlockPattern):
    role = "AdaptiveModulation"
    priority = 6
    synonyms = act.SYNONYMS

    accepts = Accepts(2, 2, tensors=False)

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
        takes = [n for n in CONDITION_INPUTS if ctx.takes(emb, n)]
        return Match(self, 2, (emb.attr, linear.attr, takes), [activation])

    def forward(self, match: Match, g: Graph) -> None:
        emb, linear, takes = match.found
        inputs = [g.input(n) for n in takes]
        c = g.call_module((emb,), *inputs, name="c", comment="[batch, d_model] conditioning")
        c = act.apply(g, match.choices[0].value, c, name="c", inline=True)
        g.output(g.call_module((linear,), c), comment="shifts, scales and gates, side by side")

    @staticmethod
    def examples():
        from codegen.patterns.blocks import _latent_transformer_examples as z

        return [z.dit_example(), z.pixart_example()]
