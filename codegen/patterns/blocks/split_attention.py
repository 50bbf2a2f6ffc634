"""Split attention (ResNeSt, Zhang et al. 2020): one grouped conv gives `radix` feature maps of C
channels each; their sum is pooled, reduced and expanded back to radix x C logits, a softmax over
the radix (a sigmoid when radix is 1) weighs the maps, and the weighted maps are summed:

    u = act(bn0(conv(x)))                      # [batch, radix * C, H, W]
    s = act(bn1(fc1(mean(sum_r u_r))))         # [batch, attention channels, 1, 1]
    a = softmax_r(fc2(s))                      # [batch, radix, C]
    out = sum_r a_r * u_r                      # [batch, C, H, W]

The members are named alike in zhanghang1989/ResNeSt's SplAtConv2d and timm's SplitAttn (`conv`,
`bn0`, `fc1`, `bn1`, `fc2`; the norms absent where built without one), but the structure alone
decides: a conv giving radix x C (its groups a multiple of radix), and 1x1 convs C -> attention ->
radix x C. The radix is the ratio of those widths. Only cardinality 1 (fc1 reads all C channels)
is read: every published ResNeSt with radix > 1 uses it; a grouped fc1 does not match.
"""

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
from codegen.patterns._kit import tensors
from codegen.patterns.blocks._conv_parts import conv_kernel


class RadixSplitAttention(BlockPattern):
    role = "SplitAttention"
    priority = 10

    accepts = Accepts(3, tensors=False, families=("conv",))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = [m for m in modules(cls) if m.kind != "placeholder"]
        if tensors(cls) or not 3 <= len(members) <= 5:
            return None
        if any(m.kind != "builtin" or m.io is None for m in members):
            return None
        convs = [m for m in members if family(m) == "conv"]
        norms = [m for m in members if family(m) == "norm"]
        if len(convs) != 3 or len(convs) + len(norms) != len(members):
            return None
        pointwise = [m for m in convs if conv_kernel(m) in (1, (1, 1))]
        spatial = [m for m in convs if m not in pointwise]
        if len(spatial) != 1 or len(pointwise) != 2:
            return None
        conv = spatial[0]
        mixed = conv.io.out_width
        orders = [(r, e) for r, e in (pointwise, pointwise[::-1]) if _composes(r, e, mixed)]
        if len(orders) != 1:
            return None
        reduce, expand = orders[0]
        split, squeezed = reduce.io.in_width, reduce.io.out_width
        radix = mixed // split
        if conv.io.in_width != split:
            return None  # the split conv reads the C channels the attention pools (else misread)
        if radix > 1 and not _groups_multiple(conv, radix):
            return None
        if radix == 1 and not norms:
            return None  # a conv then a squeeze-excitation of its output: no split to read
        by_width = {}
        for n in norms:
            by_width.setdefault(n.io.in_width, []).append(n)
        if any(len(v) > 1 for v in by_width.values()) or set(by_width) - {mixed, squeezed}:
            return None
        if squeezed == mixed and norms:
            return None  # which norm follows which conv: the widths cannot say
        norm0 = (by_width[mixed][0].attr,) if mixed in by_width else None
        norm1 = (by_width[squeezed][0].attr,) if squeezed in by_width else None
        activation = ctx.choose(
            cls,
            conv.attr,
            "activation",
            "relu",
            act.alternatives("relu", conv=True),
            "after the split conv and after the reduction",
        )
        found = ((conv.attr,), norm0, (reduce.attr,), norm1, (expand.attr,), radix)
        return Match(self, len(members), found, [activation])

    def forward(self, match: Match, g: Graph) -> None:
        conv, norm0, reduce, norm1, expand, radix = match.found
        activation = match.choices[0].value
        x = g.input("x")
        u = g.call_module(conv, x, name="x", inline=True)
        if norm0 is not None:
            u = g.call_module(norm0, u, name="x", inline=True)
        u = act.apply(g, activation, u, name="x", comment="[batch, radix * C, H, W]")
        if radix > 1:
            size = g.call_method("size", u, name="size")
            height = g.call_function("getitem", size, 2, name="height")
            width = g.call_function("getitem", size, 3, name="width")
            batch = g.call_function("getitem", size, 0, name="batch")
            splits = g.call_method(
                "view",
                u,
                batch,
                radix,
                -1,
                height,
                width,
                name="splits",
                comment="[batch, radix, C, H, W]",
            )
            pooled = g.call_method("sum", splits, 1, name="gap", inline=True)
        else:
            splits, pooled = u, u
        s = g.call_method("mean", pooled, (2, 3), name="gap", kwargs={"keepdim": True})
        s = g.call_module(reduce, s, name="gap", inline=True)
        if norm1 is not None:
            s = g.call_module(norm1, s, name="gap", inline=True)
        s = act.apply(g, activation, s, name="gap")
        logits = g.call_module(expand, s, name="attn", inline=radix == 1)
        if radix == 1:
            g.output(g.call_function("mul", u, g.call_function("sigmoid", logits, inline=True)))
            return
        logits = g.call_method("view", logits, batch, radix, -1, name="attn", inline=True)
        weights = g.call_function(
            "softmax", logits, kwargs={"dim": 1}, name="attn", comment="over the radix"
        )
        weights = g.call_method("view", weights, batch, radix, -1, 1, 1, name="attn")
        weighted = g.call_function("mul", splits, weights, inline=True)
        g.output(g.call_method("sum", weighted, 1))

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn
        import torch.nn.functional as F

        class SplAtConv2d(nn.Module):  # zhanghang1989/ResNeSt's resnest/torch/splat.py
            def __init__(self, channels: int, radix: int, reduction: int = 4) -> None:
                super().__init__()
                inter = max(channels * radix // reduction, 32)
                self.radix, self.channels = radix, channels
                self.conv = nn.Conv2d(channels, channels * radix, 3, 1, 1, groups=radix, bias=False)
                self.bn0 = nn.BatchNorm2d(channels * radix)
                self.relu = nn.ReLU(inplace=True)
                self.fc1 = nn.Conv2d(channels, inter, 1)
                self.bn1 = nn.BatchNorm2d(inter)
                self.fc2 = nn.Conv2d(inter, channels * radix, 1)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                x = self.relu(self.bn0(self.conv(x)))
                batch = x.shape[0]
                if self.radix > 1:
                    splited = torch.split(x, self.channels, dim=1)
                    gap = sum(splited)
                else:
                    gap = x
                gap = self.relu(self.bn1(self.fc1(F.adaptive_avg_pool2d(gap, 1))))
                atten = self.fc2(gap).view(batch, 1, self.radix, -1).transpose(1, 2)
                if self.radix > 1:
                    atten = F.softmax(atten, dim=1).reshape(batch, -1, 1, 1)
                    attens = torch.split(atten, self.channels, dim=1)
                    return sum(a * s for a, s in zip(attens, splited))
                return torch.sigmoid(atten).reshape(batch, -1, 1, 1) * x

        class Bottleneck(nn.Module):  # ResNeSt's resnest/torch/models/resnet.py (avd, avg_down)
            def __init__(self, c_in: int, planes: int, radix: int, stride: int = 1) -> None:
                super().__init__()
                self.conv1 = nn.Conv2d(c_in, planes, 1, bias=False)
                self.bn1 = nn.BatchNorm2d(planes)
                self.avd_layer = nn.AvgPool2d(3, stride, padding=1) if stride > 1 else None
                self.conv2 = SplAtConv2d(planes, radix)
                self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
                self.bn3 = nn.BatchNorm2d(planes * 4)
                self.relu = nn.ReLU(inplace=True)
                self.downsample = None
                if stride != 1 or c_in != planes * 4:
                    self.downsample = nn.Sequential(
                        (
                            nn.AvgPool2d(stride, stride, ceil_mode=True, count_include_pad=False)
                            if stride > 1
                            else nn.Identity()
                        ),
                        nn.Conv2d(c_in, planes * 4, 1, bias=False),
                        nn.BatchNorm2d(planes * 4),
                    )

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                out = self.relu(self.bn1(self.conv1(x)))
                out = self.conv2(out)
                if self.avd_layer is not None:
                    out = self.avd_layer(out)
                out = self.bn3(self.conv3(out))
                residual = x if self.downsample is None else self.downsample(x)
                return self.relu(out + residual)

        class Stages(nn.Module):
            def __init__(self, radix: int) -> None:
                super().__init__()
                self.layer1 = nn.Sequential(Bottleneck(8, 16, radix), Bottleneck(64, 16, radix))
                self.layer2 = nn.Sequential(Bottleneck(64, 16, radix, 2))

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return self.layer2(self.layer1(x))

        x = torch.randn(2, 8, 8, 8)
        return [Example(Stages(4), (x,)), Example(Stages(1), (x,))]


def _composes(reduce, expand, mixed) -> bool:
    """reduce: C -> attention, expand: attention -> mixed, mixed a multiple of C."""
    widths = (reduce.io.in_width, reduce.io.out_width, expand.io.in_width, expand.io.out_width)
    if None in widths or not mixed or not widths[0] or mixed % widths[0]:
        return False
    return widths[1] == widths[2] and widths[3] == mixed


def _groups_multiple(conv, radix: int) -> bool:
    """Whether the split conv's groups are a multiple of the radix (each split its own groups)."""
    groups = next((a.value for a in conv.args if a.keyword == "groups"), 1)
    return isinstance(groups, int) and groups % radix == 0
