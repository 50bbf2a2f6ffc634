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
`.layer_norm`: blocks/pyramid_layer.py's PyramidStage); the original PVTv2 and SegFormer code
numbers them on the model itself (`patch_embed1`, `block1`, `norm1`, ... and a `head`: the last
stage's tokens averaged, then the linear head). There the patch embedding's conv and norm have
neutral names: the stages' token layers show the norm is a LayerNorm over the channels, and the
conv's stride is the family's (a kernel of 2 * stride - 1: 7 over 4, 3 over 2), both pinned
(Match.pins). The head counts are not in the weights: config.json's list (or one number for every
stage) gives them, else each stage's `nhead` is a choice, and the forward is missing until a hint
or calibration sets them all. With `reshape_last_stage` false the last stage's normalised tokens
[batch, height * width, C] come out.
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
    tensors,
)
from codegen.patterns.blocks.attention import HEAD_COUNTS
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


def _chosen_heads(ctx: BlockContext, cls, stages: list) -> tuple:
    """(each stage's head count and its citation, or None; the choices): config.json's, else one
    `nhead` choice per stage (`stages`: each one's (member path, width)), unknown (None) until a
    hint or calibration picks one of the counts its width allows."""
    told = _heads(ctx, len(stages))
    if told is not None or any(width is None for _, width in stages):
        return told, []
    choices = [
        ctx.choose(
            cls,
            where,
            "nhead",
            None,
            [h for h in HEAD_COUNTS if width % h == 0],
            "unknown: calibrate or hint",
            accepts="positive_int",
        )
        for where, width in stages
    ]
    if any(c.value is None for c in choices):
        return None, choices
    sources = sorted({c.source for c in choices})
    return (tuple(c.value for c in choices), f"the nhead choices ({', '.join(sources)})"), choices


# Why the numbered layout's patch embeddings are pinned (`_loose_embedding`).
EMBED_WHY = "a pyramid stage's overlapping patches (PVTv2, SegFormer)"


def _loose_embedding(ctx: BlockContext, m) -> list | None:
    """The pins that make a stage's embedding (a class of a conv and an affine norm, nothing else)
    an overlapping patch embedding: its norm a LayerNorm, its conv's stride (kernel + 1) / 2 and
    padding half the kernel, where each is at its default and the kernel is odd, wider than 1 and
    padded by its half; [] where it already is one; None where it is not one."""
    if m.kind != "class":
        return None
    if ctx.role(m) == "OverlapPatchEmbedding":
        return []
    held = ctx.classes.get(m.type_name)
    members = modules(held) if held is not None else []
    if held is None or tensors(held) or len(members) != 2:
        return None
    convs = [c for c in members if family(c) == "conv" and c.io is not None and c.io.ndim == 2]
    norms = [c for c in members if family(c) == "norm" and c.io is not None]
    if len(convs) != 1 or len(norms) != 1 or norms[0].io.in_width != convs[0].io.out_width:
        return None
    args = {a.keyword: a for a in convs[0].args}
    kernel = args["kernel_size"].value if "kernel_size" in args else None
    if not isinstance(kernel, int) or kernel < 3 or kernel % 2 == 0:
        return None
    padding = args["padding"].value if "padding" in args else 0
    if padding != kernel // 2 or (args["groups"].value if "groups" in args else 1) != 1:
        return None
    choices = convs[0].choices + norms[0].choices + [a.choice for a in convs[0].args if a.choice]
    pins = []
    for c in choices + [a.choice for a in norms[0].args if a.choice]:
        if c.source != "default":
            continue
        if c.name == "module_type" and "nn.LayerNorm" in (c.value, *c.alternatives):
            pins.append((c.path, "module_type", "nn.LayerNorm", f"{EMBED_WHY}: a LayerNorm"))
        elif c.name == "stride":
            why = f"{EMBED_WHY}: kernel 2 * stride - 1"
            pins.append((c.path, "stride", (kernel + 1) // 2, why))
        elif c.name == "padding":
            pins.append((c.path, "padding", kernel // 2, f"{EMBED_WHY}: half the kernel"))
    return pins


def _numbered(ctx: BlockContext, members: list) -> tuple | None:
    """(each stage's (embedding, layers, norm) attributes in order, the head's attribute or None,
    the pins) where the members are stages' parts numbered on the class itself (`patch_embed1`,
    `block1`, `norm1`, ..., from 0 or 1 on) and perhaps one linear head; else None."""
    groups: dict[int, list] = {}
    rest = []
    for m in members:
        found = re.fullmatch(r"(\D\w*?)_?(\d+)", m.attr)
        if found is None:
            rest.append(m)
        else:
            groups.setdefault(int(found.group(2)), []).append(m)
    numbers = sorted(groups)
    if len(numbers) < 2 or numbers != list(range(numbers[0], numbers[0] + len(numbers))):
        return None
    if numbers[0] not in (0, 1) or len(rest) > 1 or (rest and family(rest[0]) != "linear"):
        return None
    stages, pins, kinds = [], [], set()
    for n in numbers:
        group = groups[n]
        layers = [m for m in group if layer_stack(ctx, m)]
        norms = [m for m in group if family(m) == "norm"]
        embed = [m for m in group if m not in layers + norms]
        if len(group) != 3 or len(layers) != 1 or len(norms) != 1 or len(embed) != 1:
            return None
        more = _loose_embedding(ctx, embed[0])
        if more is None:
            return None
        pins += more
        stages.append((embed[0].attr, layers[0].attr, norms[0].attr))
        kinds.add(tuple(re.sub(r"_?\d+$", "", a) for a in stages[-1]))
    if len(kinds) != 1:
        return None  # one naming for every stage's parts
    return stages, rest[0].attr if rest else None, pins


def _width(m) -> int | None:
    return m.io.in_width if m.io is not None else None


def _stage_width(ctx: BlockContext, m) -> int | None:
    """The width of a stage class's output: its one norm's."""
    held = ctx.classes.get(m.type_name) if m.kind == "class" else None
    norms = [c for c in modules(held) if family(c) == "norm"] if held is not None else []
    return _width(norms[0]) if len(norms) == 1 else None


def _items(m) -> list | None:
    """A list container's items in order, or None."""
    if m.kind not in ("modulelist", "sequential") or not m.children:
        return None
    return list(m.children)


class PyramidVisionEncoder(BlockPattern):
    role = "PyramidVisionEncoder"
    priority = 30

    accepts = Accepts(1, None, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls):
            return None
        said = ctx.resolver.evidence("linear_attention")  # PVTv2's pooled variant: not this one
        if said is not None and said[1] is True:
            return None
        numbered = _numbered(ctx, members) if len(members) > 3 else None
        pins = []
        if numbered is not None:  # stages' parts numbered on the class itself
            stages, head, pins = numbered
            layout = ("numbered", stages, head)
            norms = {m.attr: m for m in members}
            widths = [(layers, _width(norms[norm])) for _, layers, norm in stages]
        elif len(members) not in (1, 3):
            return None
        elif len(members) == 1:  # a list of stage classes
            items = _items(members[0])
            if items is None or not all(ctx.role(c) == "PyramidStage" for c in items):
                return None
            layout: tuple = ("stages", members[0].attr)
            widths = [(f"{members[0].attr}.{c.attr}", _stage_width(ctx, c)) for c in items]
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
            attrs = [[c.attr for c in m.children] for m in (embed[0], layers[0], norms[0])]
            layout = ("lists", embed[0].attr, layers[0].attr, norms[0].attr, attrs)
            widths = [
                (f"{layers[0].attr}.{c.attr}", _width(n))
                for c, n in zip(layers[0].children, norms[0].children)
            ]
        for key in SHOWN:
            ctx.resolver.evidence(key)
        heads, choices = _chosen_heads(ctx, cls, widths)
        reshape = ctx.resolver.evidence("reshape_last_stage")
        last_map = reshape is None or reshape[1] is not False
        found = (layout, heads, last_map, in_channels(cls, ctx))
        missing = (
            ""
            if heads is not None
            else (
                "each stage's head count: the weights do not record it (config.json's "
                "num_attention_heads, one per stage, or --hints nhead = N for each stage)"
            )
        )
        if pins:
            missing = "its stages' patch embeddings, pinned for the next analysis"
        return Match(self, len(members) + 2, found, choices, missing=missing, pins=pins)

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
        elif layout[0] == "numbered":
            _, stages, head = layout
            for i, (nhead, (embed, layers, norm)) in enumerate(zip(heads, stages)):
                x = run_stage(
                    g,
                    x,
                    (embed,),
                    (layers,),
                    (norm,),
                    g.constant(nhead),
                    (last_map and head is None) or i < len(heads) - 1,
                )
            if head is not None:
                x = g.call_method("mean", x, 1, name="x", comment="over the last stage's tokens")
                g.output(g.call_module((head,), x), comment="[batch, num_labels]")
                return
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
        # numbered on the model, neutral names, keys and values fused: heads from config.json
        numbered = z["NumberedClassifier"]()
        return [
            Example(lists, (torch.randn(2, 3, 32, 28),), config),
            Example(stages, (torch.randn(2, 3, 32, 28),), config),
            Example(numbered, (torch.randn(2, 3, 32, 28),), {"num_attention_heads": [1, 3]}),
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
