"""A pyramid vision transformer's encoder (PVTv2, SegFormer's Mix Transformer, GLPN): stages that
each embed the previous map with an overlapping strided conv, run pre-norm layers of
spatial-reduction attention and a depthwise feed-forward on the channels-last map, normalise it
and hand it on channels-first:

    x = pixel_values                                   # [batch, 3, height, width]
    for stage, nhead in zip(stages, heads):            # heads: config.json num_attention_heads
        x = embed(x)                                   # [batch, height / stride, ..., C]
        for layer in layers: x = layer(x, nhead)
        x = norm(x).permute(0, 3, 1, 2)                # [batch, C, height, width]
    return x                                           # the last stage's map

Hugging Face's SegFormer and GLPN hold the stages' parts in three lists (`patch_embeddings`,
`block`, `layer_norm`); PVTv2 holds each stage in a class (`layers.N.patch_embedding`, `.blocks`,
`.layer_norm`: blocks/pyramid_layer.py's PyramidStage). The head counts are not in the weights:
config.json's list (or one number for every stage) gives them, else the forward is missing. With
`reshape_last_stage` false the last stage's normalised tokens [batch, height * width, C] come out.
"""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Match,
    family,
    modules,
    tensors,
)
from codegen.patterns.blocks.pyramid_layer import layer_stack, run_stage
from codegen.patterns.blocks.swin_embeddings import images, in_channels

# config.json keys whose effect the weights show (stage widths and depths, the reduction convs'
# kernels, the feed-forward's width) or that configure heads no encoder holds (the decode head).
SHOWN = (
    "depths",
    "hidden_sizes",
    "mlp_ratios",
    "num_encoder_blocks",
    "sr_ratios",
    "sequence_reduction_ratios",
    "decoder_hidden_size",
    "max_depth",
    "head_in_index",
    "semantic_loss_ignore_index",
    "classifier_dropout_prob",
    "out_features",
    "out_indices",
)


def _heads(ctx: BlockContext, stages: int) -> tuple[tuple[int, ...], str] | None:
    """Each stage's head count and its citation, from config.json."""
    said = ctx.resolver.evidence("num_attention_heads", "num_heads")
    if said is None:
        return None
    key, value = said
    if type(value) is int and value > 0:
        return (value,) * stages, f"config.json {key}"
    if isinstance(value, list) and len(value) == stages:
        if all(type(v) is int and v > 0 for v in value):
            return tuple(value), f"config.json {key}"
    return None


def _items(m) -> list | None:
    """A list container's items in order, or None."""
    if m.kind not in ("modulelist", "sequential") or not m.children:
        return None
    return list(m.children)


class PyramidVisionEncoder(BlockPattern):
    role = "PyramidVisionEncoder"
    priority = 30

    accepts = Accepts(1, 3, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) not in (1, 3):
            return None
        said = ctx.resolver.evidence("linear_attention")  # PVTv2's pooled variant: not this one
        if said is not None and said[1] is True:
            return None
        if len(members) == 1:  # a list of stage classes
            items = _items(members[0])
            if items is None or not all(ctx.role(c) == "PyramidStage" for c in items):
                return None
            layout: tuple = ("stages", members[0].attr)
            count = len(items)
        else:  # three lists: embeddings, layer stacks, norms, one item per stage
            lists = [_items(m) for m in members]
            if any(items is None for items in lists) or len({len(i) for i in lists}) != 1:
                return None
            embed = [
                m
                for m, i in zip(members, lists)
                if all(ctx.role(c) == "OverlapPatchEmbedding" for c in i)
            ]
            layers = [m for m, i in zip(members, lists) if all(layer_stack(ctx, c) for c in i)]
            norms = [m for m, i in zip(members, lists) if all(family(c) == "norm" for c in i)]
            if len(embed) != 1 or len(layers) != 1 or len(norms) != 1:
                return None
            count = len(lists[0])
            attrs = [[c.attr for c in m.children] for m in (embed[0], layers[0], norms[0])]
            layout = ("lists", embed[0].attr, layers[0].attr, norms[0].attr, attrs)
        for key in SHOWN:
            ctx.resolver.evidence(key)
        heads = _heads(ctx, count)
        reshape = ctx.resolver.evidence("reshape_last_stage")
        last_map = reshape is None or reshape[1] is not False
        found = (layout, heads, last_map, in_channels(cls, ctx))
        missing = (
            ""
            if heads is not None
            else (
                "each stage's head count: the weights do not record it (config.json's "
                "num_attention_heads, one per stage)"
            )
        )
        return Match(self, len(members) + 2, found, missing=missing)

    def example_inputs(self, match: Match, cls) -> list:
        return images(match.found[-1])

    def forward(self, match: Match, g: Graph) -> None:
        layout, (heads, cited), last_map, _ = match.found
        x = g.input("pixel_values")
        if layout[0] == "stages":
            x = g.call_module(
                (layout[1],),
                x,
                each=True,
                each_paired=("nhead", heads),
                name="x",
                comment=f"each stage's heads: {cited}",
            )
            if not last_map:
                x = g.call_method("flatten", x, 2, inline=True)
                x = g.call_method("transpose", x, 1, 2, name="x")
        else:
            _, embed, layers, norms, attrs = layout
            for i, nhead in enumerate(heads):
                x = run_stage(
                    g,
                    x,
                    (embed, attrs[0][i]),
                    (layers, attrs[1][i]),
                    (norms, attrs[2][i]),
                    g.constant(nhead),
                    last_map or i < len(heads) - 1,
                )
        g.output(x, comment="[batch, C, height, width]" if last_map else "[batch, tokens, C]")

    @staticmethod
    def examples():
        import torch

        from codegen.patterns._kit import Example
        from codegen.patterns.blocks._pyramid_examples import modules as zoo

        z = zoo()
        config = {
            "hidden_act": "gelu",
            "num_attention_heads": [1, 2],
            "strides": [4, 2],
            "patch_sizes": [7, 3],
            "sr_ratios": [2, 1],
        }
        lists = z["ListsEncoder"]((8, 16), (1, 2), ratios=(2, 1))
        stages = z["StagesEncoder"]((8, 16), (2, 1), ratios=(2, 1))
        return [
            Example(lists, (torch.randn(2, 3, 32, 28),), config),
            Example(stages, (torch.randn(2, 3, 32, 28),), config),
        ]


def _pyramid_body(ctx: BlockContext, m, depth: int = 3) -> tuple | None:
    """(the body's last map is a map: True, or tokens: False) where `m` is a pyramid encoder or a
    class that holds only one (Hugging Face's `SegformerModel` around its `encoder`)."""
    if m is None or m.kind != "class" or depth == 0:
        return None
    held = ctx.classes.get(m.type_name)
    if held is None or held.forward is None or held.forward.graph is None:
        return None
    if ctx.role(m) == "PyramidVisionEncoder":
        output = next(n for n in held.forward.graph.nodes if n.op == "output")
        return (output.comment.startswith("[batch, C"),)
    inner = modules(held)
    if tensors(held) or len(inner) != 1:
        return None
    return _pyramid_body(ctx, inner[0], depth - 1)


class PyramidClassifier(BlockPattern):
    """An image classifier on a pyramid encoder (SegformerForImageClassification,
    PvtV2ForImageClassification): the last stage's map averaged over its positions (these
    models have no class token), then a linear head."""

    role = "PyramidClassifier"
    priority = 20

    accepts = Accepts(2, 2, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 2:
            return None
        body = [(m, b) for m in members if (b := _pyramid_body(ctx, m)) is not None]
        if len(body) != 1:
            return None
        head = next(m for m in members if m is not body[0][0])
        if family(head) != "linear":
            return None
        return Match(self, 3, (body[0][0].attr, body[0][1][0], head.attr))

    def forward(self, match: Match, g: Graph) -> None:
        body, is_map, head = match.found
        x = g.call_module((body,), g.input("pixel_values"), name="x")
        dims = (2, 3) if is_map else 1
        x = g.call_method("mean", x, kwargs={"dim": dims}, name="x", comment="over positions")
        g.output(g.call_module((head,), x), comment="[batch, num_labels]")

    @staticmethod
    def examples():
        import torch

        from codegen.patterns._kit import Example
        from codegen.patterns.blocks._pyramid_examples import modules as zoo

        config = {
            "hidden_act": "gelu",
            "num_attention_heads": [1, 2],
            "strides": [4, 2],
            "patch_sizes": [7, 3],
            "sr_ratios": [2, 1],
        }
        classifier = zoo()["Classifier"]((8, 16), (1, 1), (2, 1), 5)
        return [Example(classifier, (torch.randn(2, 3, 32, 28),), config)]
