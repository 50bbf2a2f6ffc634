"""A conv classifier that keeps its downsamplers and its stages in two parallel lists, as the
official ConvNeXt code (facebookresearch/ConvNeXt, ConvNeXt-V2) writes it: `downsample_layers[i]`
then `stages[i]`, for each i, the first downsampler the stem that reads the image; then the last
map averaged over its positions, a norm and a linear head:

    for down, stage in zip(downsample_layers, stages):
        x = stage(down(x))                   # down: conv and norm, in either order
    return head(norm(x.mean((-2, -1))))      # [batch, num_classes]

Which list runs first is read from the widths (the stem reads 3 channels; each downsampler gives
what its stage takes), never from names or key order. A LayerNorm inside a downsampler normalises
the map over its channels (the official code's channels_first LayerNorm). The final norm after
the pooling is the official code's order (a choice: `norm_after_pool`).
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
    tensors,
)
from codegen.patterns.blocks.conv_stem import IMAGE_CHANNELS


def _ends(m) -> tuple[int | None, int | None]:
    """(width taken, width given) of a member, through containers."""
    if m.kind in ("sequential", "modulelist") and m.children:
        return _ends(m.children[0])[0], _ends(m.children[-1])[1]
    if m.kind == "repeat" and m.children:
        return _ends(m.children[0])
    if m.io is None:
        return None, None
    return m.io.in_width, m.io.out_width


def _downsampler(m) -> list | None:
    """A downsampler's steps: one conv and at most one norm, in their order; else None."""
    if m.kind != "sequential" or not 1 <= len(m.children) <= 2:
        return None
    kinds = [family(c) for c in m.children]
    if kinds.count("conv") != 1 or any(k not in ("conv", "norm") for k in kinds):
        return None
    return list(m.children)


def _stage(m, ctx: BlockContext) -> bool:
    """A list of blocks: every item a generated class with an inferred forward."""
    items = m.children if m.kind in ("sequential", "modulelist", "repeat") else []
    return bool(items) and all(
        c.kind == "class" and ctx.role(c) not in (None, "Chain") for c in items
    )


class StagedListsClassifier(BlockPattern):
    role = "StagedListsClassifier"
    priority = 25

    accepts = Accepts(2, 4, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or not 2 <= len(members) <= 4:
            return None
        lists = [m for m in members if m.kind in ("sequential", "modulelist") and m.children]
        downs = [m for m in lists if all(_downsampler(c) for c in m.children)]
        stages = [m for m in lists if all(_stage(c, ctx) for c in m.children)]
        if len(downs) != 1 or len(stages) != 1 or downs[0] is stages[0]:
            return None
        down, stage = downs[0], stages[0]
        if len(down.children) != len(stage.children) or len(down.children) < 2:
            return None
        rest = [m for m in members if m not in (down, stage)]
        norms = [m for m in rest if family(m) == "norm"]
        heads = [m for m in rest if family(m) == "linear"]
        if len(norms) > 1 or len(heads) > 1 or len(norms) + len(heads) != len(rest):
            return None
        # The widths chain: the stem reads the image, each downsampler gives its stage's width.
        width = _ends(down.children[0])[0]
        if width not in IMAGE_CHANNELS:
            return None
        for d, s in zip(down.children, stage.children):
            takes, gives = _ends(d)
            if takes not in (None, width) or gives is None or _ends(s)[0] not in (None, gives):
                return None
            width = _ends(s)[1] or gives
        for m in norms + heads:
            if _ends(m)[0] not in (None, width):
                return None
        choices = []
        if norms:
            choices.append(
                ctx.choose(
                    cls,
                    norms[0].attr,
                    "norm_after_pool",
                    True,
                    [False],
                    "the final norm runs on the pooled features (the official ConvNeXt code)",
                )
            )
        steps = [
            (
                [(down.attr, d.attr, c.attr, family(c), c.type_name) for c in d.children],
                (stage.attr, s.attr),
            )
            for d, s in zip(down.children, stage.children)
        ]
        found = (steps, norms[0].attr if norms else None, heads[0].attr if heads else None)
        return Match(self, len(members) + 2, found, choices)

    def forward(self, match: Match, g: Graph) -> None:
        steps, norm, head = match.found
        after_pool = bool(match.choices) and match.choices[0].value
        x = g.input("x")
        for parts, stage in steps:
            for down, item, part, kind, type_name in parts:
                if kind == "norm" and type_name == "nn.LayerNorm":
                    x = _channels_norm(g, (down, item, part), x)
                else:
                    x = g.call_module((down, item, part), x, name="x")
            x = g.call_module(stage, x, each=True, name="x")
        if norm is not None and not after_pool:
            x = _channels_norm(g, (norm,), x)
        x = g.call_method(
            "mean", x, kwargs={"dim": (-2, -1)}, name="x", comment="global average pooling"
        )
        if norm is not None and after_pool:
            x = g.call_module((norm,), x, name="x")
        if head is not None:
            x = g.call_module((head,), x, name="x")
        g.output(x, comment="[batch, num_classes]" if head is not None else "[batch, channels]")

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn
        import torch.nn.functional as F

        from codegen.patterns.blocks._vision_examples import modules as zoo

        block = zoo()["convnext"]

        class ChannelsFirstNorm(nn.LayerNorm):  # the official code's channels_first LayerNorm
            def forward(self, x: torch.Tensor) -> torch.Tensor:
                u = x.mean(1, keepdim=True)
                s = (x - u).pow(2).mean(1, keepdim=True)
                x = (x - u) / torch.sqrt(s + self.eps)
                return self.weight[:, None, None] * x + self.bias[:, None, None]

        class ConvNeXt(nn.Module):  # facebookresearch/ConvNeXt models/convnext.py, narrowed
            def __init__(self, dims=(8, 16), depths=(2, 1)) -> None:
                super().__init__()
                stem = nn.Sequential(nn.Conv2d(3, dims[0], 4, 4), ChannelsFirstNorm(dims[0], 1e-6))
                self.downsample_layers = nn.ModuleList([stem])
                for a, b in zip(dims, dims[1:]):
                    down = nn.Sequential(ChannelsFirstNorm(a, 1e-6), nn.Conv2d(a, b, 2, 2))
                    self.downsample_layers.append(down)
                self.stages = nn.ModuleList(
                    nn.Sequential(*(block(d) for _ in range(n))) for d, n in zip(dims, depths)
                )
                self.norm = nn.LayerNorm(dims[-1], eps=1e-6)
                self.head = nn.Linear(dims[-1], 5)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                for down, stage in zip(self.downsample_layers, self.stages):
                    x = stage(down(x))
                return self.head(self.norm(F.adaptive_avg_pool2d(x, 1).flatten(1)))

        torch.manual_seed(0)
        model = ConvNeXt()
        with torch.no_grad():
            for name, p in model.named_parameters():  # norms away from (1, 0), a scale near 1
                if p.dim() == 1:
                    p.normal_(0.5 if "bias" in name else 1.0, 0.2)
        return [Example(model, (torch.randn(2, 3, 32, 32),))]


def _channels_norm(g: Graph, path: tuple, x):
    """A LayerNorm over a map's channels: channels last, normalised, channels first again."""
    x = g.call_method("permute", x, 0, 2, 3, 1, name="x", comment="channels last")
    x = g.call_module(path, x, inline=True)
    return g.call_method("permute", x, 0, 3, 1, 2, name="x", comment="normalised over channels")
