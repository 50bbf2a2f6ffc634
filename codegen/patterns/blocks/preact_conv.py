"""Pre-activation conv layers: batch norm, activation, then the conv, pair after pair (DenseNet's
dense layer `norm1, conv1, norm2, conv2` and its transition `norm, conv`, pre-activation ResNets):

    x = conv1(act(norm1(x))); x = conv2(act(norm2(x))); ...

Pairs are found by the numbers in their names (`norm2` with `conv2`), never key order. Each norm
normalises what its conv reads, and at least one pair proves it (the norm's width is not what the
conv gives, so it cannot follow it). What leaves no key is a choice: the activation, a pooling
after the last conv (DenseNet's transition averages 2x2), and, where the input width comes back,
a residual.
"""

from __future__ import annotations

import re

from codegen.ir import Module
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
from codegen.patterns._kit import tensors
from codegen.patterns.blocks._conv_parts import conv_kernel, preactivated_elsewhere
from codegen.patterns.blocks._norm_order import PRE, model_order
from codegen.patterns.blocks.chain import STAGE_POOLS, stage_pool
from codegen.patterns.blocks.dense_layer import grows_by

# The model-wide pin (ChoiceResolver.structural, path "") analyze/layouts.py sets where a layout
# identifies the code of its dense bottlenecks: (concatenation order, why).
DENSE_ORDER = "dense_concat_order"


def _numbers(attr: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", attr))


def _pairs(members: list[Module]) -> list[tuple[Module, Module]] | None:
    norms = [m for m in members if family(m) == "norm"]
    convs = [m for m in members if family(m) == "conv"]
    if len(norms) != len(convs) or len(norms) + len(convs) != len(members):
        return None
    by_number = {_numbers(n.attr): n for n in norms}
    if len(by_number) != len(norms) or len({_numbers(c.attr) for c in convs}) != len(convs):
        return None
    pairs = []
    for conv in sorted(convs, key=lambda c: _numbers(c.attr)):
        norm = by_number.get(_numbers(conv.attr))
        if norm is None:
            return None
        pairs.append((norm, conv))
    return pairs


def _pairs_forward(g: Graph, steps: list, activation: str, x, name: str):
    """`conv(act(norm(x)))` for each (norm, conv) pair in turn."""
    for norm, conv in steps:
        y = g.call_module((norm,), x, inline=True)
        y = act.apply(g, activation, y, inline=True)
        x = g.call_module((conv,), y, name=name)
    return x


class PreActivation(BlockPattern):
    role = "PreActivation"
    priority = 4

    accepts = Accepts(2, tensors=False, families=("norm", "conv"))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or not members or any(m.kind != "builtin" for m in members):
            return None
        pairs = _pairs(members)
        if not pairs or any("BatchNorm" not in n.type_name for n, _ in pairs):
            return None
        proven = False
        for i, (norm, conv) in enumerate(pairs):
            if norm.io.out_width != conv.io.in_width:
                return None
            if i and pairs[i - 1][1].io.out_width != norm.io.out_width:
                return None
            proven = proven or norm.io.out_width != conv.io.out_width
        # One pair keeping the width: a class of the same names that widens decides (imgclsmob's
        # PreConvBlock `bn`, `conv`).
        elsewhere = len(pairs) == 1 and preactivated_elsewhere(cls, pairs[0][1], ctx)
        if not proven and not elsewhere:
            return None
        first, last = pairs[0][1], pairs[-1][1]
        activation = ctx.choose(
            cls,
            pairs[0][0].attr,
            "activation",
            "relu",
            act.alternatives("relu"),
            "between each norm and its conv",
            aliases=act.ALIASES,
        )
        # One norm-act-1x1 conv that narrows the channels is DenseNet's transition, which
        # averages 2x2 next (Huang et al. 2017, section 3): the convention's default, a choice.
        transition = len(pairs) == 1 and conv_kernel(last) in (1, (1, 1))
        transition = transition and last.io.out_width < last.io.in_width
        usual = "avg_pool" if transition else "none"
        pool = ctx.choose(
            cls,
            last.attr,
            "pooling_after",
            usual,
            [p for p in ("none", *STAGE_POOLS) if p != usual],
            "after the last conv (a DenseNet transition averages 2x2)",
        )
        choices = [activation, pool]
        residual = None
        if first.io.in_width == last.io.out_width:
            residual = ctx.choose(
                cls, last.attr, "residual", "none", ["add"], "the input width comes back"
            )
            choices.append(residual)
        steps = [(n.attr, c.attr) for n, c in pairs]
        found = (steps, first.io.ndim or 2, usual)
        return Match(self, len(members), found, choices)

    def forward(self, match: Match, g: Graph) -> None:
        steps, ndim, _ = match.found
        activation, pool = match.choices[0].value, match.choices[1].value
        residual = match.choices[2].value if len(match.choices) > 2 else "none"
        x = identity = g.input("x")
        x = _pairs_forward(g, steps, activation, x, "x")
        if pool != "none":
            note = "a transition's pool by convention (a choice)"  # Huang et al. 2017
            x = stage_pool(g, pool, x, ndim, note if pool == match.found[2] else "")
        if residual == "add":
            x = g.call_function("add", x, identity, comment="residual: the input is added")
        g.output(x)

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn

        class Transition(nn.Sequential):  # torchvision's DenseNet _Transition
            def __init__(self) -> None:
                super().__init__()
                self.norm = nn.BatchNorm2d(8)
                self.relu = nn.ReLU()
                self.conv = nn.Conv2d(8, 4, 1, bias=False)
                self.pool = nn.AvgPool2d(2)

        class Holder(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.transition = Transition()

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return self.transition(x)

        torch.manual_seed(0)
        model = Holder()
        with torch.no_grad():
            model.transition.norm.running_mean.normal_(0, 0.2)
            model.transition.norm.running_var.uniform_(0.5, 1.5)
        return [Example(model, (torch.randn(2, 8, 5, 5),))]


class DenseBottleneck(PreActivation):
    """A DenseNet bottleneck that concatenates inside itself (kuangliu/pytorch-cifar's, bamos/
    densenet.pytorch's `Bottleneck`): pre-activation pairs, then the new features and the input
    joined. What proves the join is where its instances sit (blocks/dense_layer.py's reading):
    siblings in a list reading w, w + g, w + 2g..., g what the last conv gives. The order of the
    join leaves no key: the input first by default (bamos', andreasveit's, Keras'), the new
    features first where the layout is pytorch-cifar's (analyze/layouts.py); a choice."""

    role = "DenseBottleneck"
    priority = 5
    accepts = PreActivation.accepts

    def match(self, cls, ctx: BlockContext) -> Match | None:
        found = super().match(cls, ctx)
        if found is None:
            return None
        steps = found.found[0]
        last = next(m for m in modules(cls) if m.attr == steps[-1][1])
        if not grows_by(cls.instances, last.io.out_width) or len(found.choices) != 2:
            return None
        usual, why = ctx.resolver.structural.get(("", DENSE_ORDER), ("input_first", ""))
        order = act.mark_family(
            ctx.choose(
                cls,
                last.attr,
                "concat_order",
                usual,
                [o for o in ("input_first", "new_first") if o != usual],
                "how the new features join the input (channels)",
            ),
            why,
        )
        found.pattern = self
        found.choices.append(order)
        found.explains += 1
        return found

    def concatenated(self, match: Match) -> tuple[tuple[str, ...], bool]:
        return (match.found[0][-1][1],), True

    def forward(self, match: Match, g: Graph) -> None:
        steps, ndim, _ = match.found
        activation, pool, order = (c.value for c in match.choices)
        x = identity = g.input("x")
        x = _pairs_forward(g, steps, activation, x, "out")
        if pool != "none":
            x = stage_pool(g, pool, x, ndim, "")
        joined = [x, identity] if order == "new_first" else [identity, x]
        g.output(g.call_function("cat", joined, 1, comment="the new features join the input"))

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn
        import torch.nn.functional as F

        class Bottleneck(nn.Module):  # bamos/densenet.pytorch Bottleneck: the input first
            def __init__(self, c_in: int, growth: int) -> None:
                super().__init__()
                self.bn1 = nn.BatchNorm2d(c_in)
                self.conv1 = nn.Conv2d(c_in, 4 * growth, 1, bias=False)
                self.bn2 = nn.BatchNorm2d(4 * growth)
                self.conv2 = nn.Conv2d(4 * growth, growth, 3, padding=1, bias=False)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                out = self.conv1(F.relu(self.bn1(x)))
                out = self.conv2(F.relu(self.bn2(out)))
                return torch.cat((x, out), 1)

        class Holder(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.dense1 = nn.Sequential(Bottleneck(5, 3), Bottleneck(8, 3), Bottleneck(11, 3))

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return self.dense1(x)

        torch.manual_seed(0)
        model = Holder()
        with torch.no_grad():
            for name, buf in model.named_buffers():
                if name.endswith("running_mean"):
                    buf.normal_(0, 0.2)
        return [Example(model, (torch.randn(2, 5, 5, 5),))]


def model_preactivated(ctx: BlockContext) -> bool:
    """Whether the model's conv units are pre-activation ones: its blocks of numbered pairs prove
    it together (blocks/_norm_order.py), or a class of one norm and one conv does, its norm as
    wide as what the conv reads and not what it gives (imgclsmob's PreConvBlock)."""
    if model_order(ctx) == PRE:
        return True
    for other in ctx.classes.values():
        pairs = _pairs(modules(other)) if not tensors(other) else None
        if pairs and len(pairs) == 1:
            norm, conv = pairs[0]
            if norm.io is not None and conv.io is not None:
                if norm.io.out_width == conv.io.in_width != conv.io.out_width:
                    return True
    return False


class PostActivation(BlockPattern):
    """A class holding only the trunk's last norm in a pre-activation network (imgclsmob's
    `post_activ`: bn, activ): the blocks leave their sums un-normalised, so the norm and its
    activation follow the last one (He et al. 2016). The activation is a choice."""

    role = "PostActivation"
    priority = 4

    accepts = Accepts(1, 1, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 1 or members[0].kind != "builtin":
            return None
        if "BatchNorm" not in members[0].type_name or not model_preactivated(ctx):
            return None
        activation = ctx.choose(
            cls,
            members[0].attr,
            "activation",
            "relu",
            act.alternatives("relu"),
            "after the trunk's last norm",
            aliases=act.ALIASES,
        )
        return Match(self, 2, members[0].attr, [activation])

    def forward(self, match: Match, g: Graph) -> None:
        x = g.call_module((match.found,), g.input("x"), inline=True)
        g.output(act.apply(g, match.choices[0].value, x))

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn
        import torch.nn.functional as F

        from codegen.patterns.blocks.preact_unit import _osmr_stage

        class PostActiv(nn.Module):  # imgclsmob preresnet.PreResActivation
            def __init__(self) -> None:
                super().__init__()
                self.bn = nn.BatchNorm2d(16)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return F.relu(self.bn(x))

        class Model(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.stage1 = _osmr_stage()
                self.post_activ = PostActiv()

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return self.post_activ(self.stage1(x))

        return [Example(Model(), (torch.randn(2, 8, 8, 8),))]
