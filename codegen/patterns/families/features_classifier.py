"""A conv trunk and a classifier, two Sequentials side by side (torchvision's AlexNet, VGG and
SqueezeNet: `features`, then `classifier`):

    x = features(x)                        # conv, [norm], activation, [pool], ...  or Fire blocks
    x = pool(act(x))                       # the trunk's last unit's slots, past its last key
    x = adaptive_avg_pool2d(x, (s, s))     # the s x s grid its first Linear reads (C * s * s)
    return classifier(torch.flatten(x, 1))
  or, with a conv head (SqueezeNet's `classifier` = [Dropout, 1x1 conv to the classes]):
    return mean(act(classifier(x)), (2, 3))   # its ReLU and global pool past its last key
  or, with a pre-logits MLP written as convs beside a Linear head (timm's VGG `pre_logits`
  ConvMlp, a Caffe port's fc6/fc7): its first conv covers the trunk's last map (stride 1, no
  padding: a fully connected layer as a conv), each conv a hidden layer, activated:
    return head(mean(act(fc2(act(fc1(x)))), (2, 3)))

What the trunk's layers are tells which code wrote it, and so what its empty slots and its
first conv are (torchvision's models/alexnet.py, vgg.py, squeezenet.py):
- an 11x11 first conv on the image: AlexNet (Krizhevsky et al. 2012: stride 4, overlapping 3x3
  max-pools of stride 2; torchvision pads the conv by 2);
- Fire blocks: SqueezeNet (Iandola et al. 2016; torchvision: an unpadded stride-2 first conv,
  3x3 stride-2 ceil-mode max-pools, also between Fire blocks, where a slot after a block that
  applies its own activation is a pool);
- 3x3 convs only: VGG (Simonyan and Zisserman 2014: 2x2 max-pools; every configuration, and
  torchvision's, ends its features in one).
Those values are pinned where the choice was left at its default (hints and calibration still
move them); the steps past the last keys are this class's own choices. The forward is guessed:
no key shows any of them.
"""

from __future__ import annotations

import math

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
from codegen.patterns.blocks.conv_stem import IMAGE_CHANNELS
from codegen.patterns.blocks.padded_resnet_block import arg_pin, slot_pin

BLOCK_ROLES = ("Fire",)  # blocks a trunk Sequential may hold beside its bare layers
MAX_POOL = "nn.MaxPool2d(2)"
OVERLAPPING_POOL = "nn.MaxPool2d(3, stride=2)"
CEIL_POOL = "nn.MaxPool2d(3, stride=2, ceil_mode=True)"
AVG_POOL = "nn.AvgPool2d(2)"
TRAILING_POOLS = ["none", MAX_POOL, OVERLAPPING_POOL, CEIL_POOL, AVG_POOL]
# each pool as the function the forward calls: (function, kernel, keyword arguments)
POOL_CALLS = {
    MAX_POOL: ("max_pool2d", 2, {}),
    OVERLAPPING_POOL: ("max_pool2d", 3, {"stride": 2}),
    CEIL_POOL: ("max_pool2d", 3, {"stride": 2, "ceil_mode": True}),
    AVG_POOL: ("avg_pool2d", 2, {}),
}
# family: (the pool of its slots, ends its trunk with one, first conv's (stride, padding), why)
FAMILIES = {
    "alexnet": (OVERLAPPING_POOL, True, (4, 2), "torchvision's AlexNet (an 11x11 first conv)"),
    "squeezenet": (CEIL_POOL, False, (2, 0), "torchvision's SqueezeNet (Fire blocks)"),
    "vgg": (MAX_POOL, True, None, "torchvision's VGG (3x3 convs only)"),
}
GUESSED = (
    "the steps past the trunk's and the head's last keys (an activation, a pool) and the pooling "
    "to the head's grid are conventions of the family; no key shows them"
)


def _keyed(seq) -> list:
    return [c for c in seq.children if c.kind != "placeholder"]


def _trunk(m, ctx: BlockContext) -> bool:
    """A Sequential of 2-d convs, norms, empty slots and Fire blocks, opening with a conv that
    reads an image."""
    keyed = _keyed(m)
    if not keyed or family(keyed[0]) != "conv" or keyed[0].io is None:
        return False
    if keyed[0].io.in_width not in IMAGE_CHANNELS or keyed[0].io.ndim != 2:
        return False
    for c in keyed:
        if c.kind == "builtin" and family(c) in ("conv", "norm"):
            continue
        if c.kind == "class" and ctx.role(c) in BLOCK_ROLES:
            continue
        return False
    return m.io is not None and bool(m.io.out_width)


def _head(m, channels: int) -> tuple[str, int] | None:
    """("linear", s) for a classifier of Linear layers whose first reads channels x s x s;
    ("conv", 1) for one 1x1 conv reading the channels (SqueezeNet's); else None."""
    keyed = _keyed(m)
    if not keyed or any(c.kind != "builtin" or c.io is None for c in keyed):
        return None
    takes = keyed[0].io.in_width
    if all(family(c) == "linear" for c in keyed) and takes and takes % channels == 0:
        side = math.isqrt(takes // channels)
        return ("linear", side) if side * side * channels == takes else None
    conv = keyed[0]
    if len(keyed) == 1 and family(conv) == "conv" and takes == channels:
        return ("conv", 1) if conv_kernel(conv) in (1, (1, 1)) else None
    return None


def _conv_head(members, trunk, ctx: BlockContext):
    """(the Linear head, ([(path, conv)...], the first conv)) where, beside the trunk, one member
    holds only bare convs that chain from the trunk's width, the first wider than 1x1 and the
    rest 1x1 (a pre-logits MLP written as convs: timm's VGG `pre_logits` ConvMlp, VGG's fc6/fc7
    as convs), and the other holds Linears reading what the last conv gives; else None."""
    rest = [m for m in members if m is not trunk]
    for conv_member, head in (rest, rest[::-1]):
        convs = _members_of(conv_member, ctx)
        linears = _members_of(head, ctx)
        if not convs or not linears:
            continue
        if any(family(c) != "conv" or c.io is None or c.io.ndim != 2 for c in convs):
            continue
        if any(family(c) != "linear" or c.io is None for c in linears):
            continue
        widths = [trunk.io.out_width] + [c.io.out_width for c in convs]
        if any(c.io.in_width != w for c, w in zip(convs, widths)):
            continue
        kernels = [conv_kernel(c) for c in convs]
        if kernels[0] in (1, (1, 1)) or any(k not in (1, (1, 1)) for k in kernels[1:]):
            continue
        if linears[0].io.in_width != widths[-1]:
            continue
        at = () if conv_member.kind == "builtin" else (conv_member.attr,)
        paths = [(at + (c.attr,), c) for c in convs]
        return head, (paths, convs[0])
    return None


def _members_of(m, ctx: BlockContext) -> list:
    """The keyed builtin layers a member holds: a Sequential's items, a class's own members (none
    of them classes), or the member itself where it is a layer."""
    if m.kind == "builtin":
        return [m]
    if m.kind == "sequential":
        inner = _keyed(m)
    elif m.kind == "class" and (cls := ctx.classes.get(m.type_name)) is not None:
        if tensors(cls):
            return []
        inner = [c for c in modules(cls) if c.kind != "placeholder"]
    else:
        return []
    return inner if all(c.kind == "builtin" for c in inner) else []


def _family(trunk, ctx: BlockContext) -> str | None:
    keyed = _keyed(trunk)
    convs = [c for c in keyed if c.kind == "builtin" and family(c) == "conv"]
    if any(ctx.role(c) == "Fire" for c in keyed):
        return "squeezenet"
    if conv_kernel(keyed[0]) in (11, (11, 11)):
        return "alexnet"
    if all(conv_kernel(c) in (3, (3, 3)) for c in convs) and _pools_inside(trunk):
        return "vgg"
    return None


def _pools_inside(trunk) -> bool:
    """Two empty slots in a row between layers with keys (an activation, then a pool): VGG's
    stages; a trunk without one shows nothing of VGG's layout."""
    kinds = [c.kind == "placeholder" for c in trunk.children]
    return any(kinds[i] and kinds[i + 1] for i in range(len(kinds) - 1))


def _pins(trunk, name: str | None) -> list:
    """The family's values for the trunk's first conv and for its slots that follow a slot or a
    block (a second activation would change nothing: what follows one is a pool)."""
    if name is None:
        return []
    pool, _, first, why = FAMILIES[name]
    pins = []
    if first is not None:
        conv = _keyed(trunk)[0]
        pins += [arg_pin(conv, "stride", first[0], why), arg_pin(conv, "padding", first[1], why)]
    items = trunk.children
    for prev, slot in zip(items, items[1:]):
        if slot.kind == "placeholder" and (prev.kind in ("placeholder", "class")):
            pins.append(slot_pin(slot, pool, why))
    return [p for p in pins if p is not None]


def _activation(cls, ctx: BlockContext, where: str, note: str):
    """An activation slot past a Sequential's last key: ReLU in all three families."""
    return ctx.choose(cls, where, "activation", "relu", act.alternatives("relu", conv=True), note)


def _pool(g: Graph, layer: str, x, comment: str):
    fn, kernel, kwargs = POOL_CALLS[layer]
    return g.call_function(fn, x, kernel, kwargs=dict(kwargs), comment=comment)


class FeaturesClassifier(BlockPattern):
    role = "FeaturesClassifier"
    names_class = False  # the top class keeps its name
    priority = 10

    accepts = Accepts(2, 3, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) not in (2, 3):
            return None
        trunks = [m for m in members if m.kind == "sequential" and _trunk(m, ctx)]
        if len(trunks) != 1:
            return None
        trunk = trunks[0]
        if len(members) == 3:
            conv_head = _conv_head(members, trunk, ctx)
            if conv_head is None:
                return None
            head, convs = conv_head
            shape = ("conv_head", convs)
        else:
            head = next(m for m in members if m is not trunk)
            shape = _head(head, trunk.io.out_width) if head.kind == "sequential" else None
        if shape is None:
            return None
        name = _family(trunk, ctx)
        pool, ends_pooled, _, why = FAMILIES.get(name, (MAX_POOL, False, None, ""))
        choices, trailing = [], []
        if _keyed(trunk)[-1].kind == "builtin":  # its last unit's activation slot, past the keys
            activation = _activation(cls, ctx, trunk.attr, f"after {trunk.attr}'s last layer")
            choices.append(activation)
            trailing.append(("activation", activation.value))
        default = pool if ends_pooled else "none"
        pooled = ctx.choose(
            cls,
            trunk.attr,
            "pooling_after",
            default,
            [p for p in TRAILING_POOLS + [pool] if p != default],
            f"the pool ending {trunk.attr}" + (f" ({why})" if ends_pooled else ""),
        )
        choices.append(pooled)
        if pooled.value != "none":
            trailing.append(("pool", pooled.value))
        kind, side = shape
        if kind == "conv_head":
            # Each conv of the head is a hidden layer (the Linear after it gives the logits):
            # activated, as timm's ConvMlp (`act1`, `act2`) and torchvision's classifier are.
            after = _activation(cls, ctx, side[0][0], "after each conv of the pre-logits head")
            pooling = ctx.choose(cls, head.attr, "pooling", "mean", ["amax"], f"before {head.attr}")
            choices += [after, pooling]
            kernel = conv_kernel(side[1])
            ending = (after.value, pooling.value, kernel[0] if isinstance(kernel, tuple) else kernel)
        elif kind == "linear":
            grid = ctx.choose(
                cls,
                head.attr,
                "grid_pool",
                "adaptive_avg",  # torchvision's AdaptiveAvgPool2d((s, s)); on that size a no-op
                ["none", "adaptive_max"],
                f"to the {side}x{side} grid {head.attr} reads",
            )
            choices.append(grid)
            ending = grid.value
        else:
            after = _activation(cls, ctx, head.attr, f"after {head.attr}'s conv")
            pooling = ctx.choose(cls, head.attr, "pooling", "mean", ["amax"], "to the classes")
            choices += [after, pooling]
            ending = (after.value, pooling.value)
        found = (trunk.attr, trailing, head.attr, kind, side, ending, trunk.io.out_width)
        pins = _pins(trunk, name)
        if kind == "conv_head":
            first = side[1]  # covers the trunk's last map whole: no padding, stride 1
            why = "a fully connected layer as a conv (VGG's fc6; timm's ConvMlp pre-logits)"
            pins += [p for p in (arg_pin(first, "stride", 1, why), arg_pin(first, "padding", 0, why))
                     if p is not None]
            found = found[:4] + (tuple(path for path, _ in side[0]),) + found[5:]
        return Match(self, len(members), found, choices, guessed=GUESSED, pins=pins)

    def forward(self, match: Match, g: Graph) -> None:
        trunk, trailing, head, kind, side, ending, channels = match.found
        x = g.call_module((trunk,), g.input("x"))
        for step, value in trailing:
            if step == "activation":
                x = act.apply(g, value, x)
            else:
                x = _pool(g, value, x, f"the pool ending {trunk}")
        if kind == "conv_head":
            activation, pooling, kernel = ending
            if kernel > 1:  # (a smaller map, as timm's ConvMlp does, is pooled up to the kernel)
                x = g.call_function("pool_up_to", x, kernel, comment="at least the kernel's size")
            for path in side:
                x = act.apply(g, activation, g.call_module(path, x, inline=True))
            x = g.call_method(pooling, x, kwargs={"dim": (2, 3)}, comment="global pool")
            g.output(g.call_module((head,), x))
            return
        if kind == "linear":
            if ending != "none":
                fn = "adaptive_max_pool" if ending == "adaptive_max" else "adaptive_avg_pool"
                x = g.call_function(fn, x, side, comment=f"to a {side}x{side} grid")
            takes = channels * side * side
            comment = f"{head} takes {takes} = {channels} channels x {side * side} positions"
            x = g.call_function("flatten", x, 1, comment=comment)
            g.output(g.call_module((head,), x))
            return
        activation, pooling = ending
        x = act.apply(g, activation, g.call_module((head,), x))
        word = "average" if pooling == "mean" else "max"
        g.output(g.call_method(pooling, x, kwargs={"dim": (2, 3)}, comment=f"global {word} pool"))

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn

        class SmallVGG(nn.Module):  # VGG-11's layout without batch norm, narrowed
            def __init__(self) -> None:
                super().__init__()
                self.features = nn.Sequential(
                    nn.Conv2d(3, 4, 3, padding=1),
                    nn.ReLU(inplace=True),
                    nn.MaxPool2d(2, 2),
                    nn.Conv2d(4, 8, 3, padding=1),
                    nn.ReLU(inplace=True),
                    nn.Conv2d(8, 8, 3, padding=1),
                    nn.ReLU(inplace=True),
                    nn.MaxPool2d(2, 2),
                )
                self.avgpool = nn.AdaptiveAvgPool2d((2, 2))
                self.classifier = nn.Sequential(
                    nn.Linear(32, 6), nn.ReLU(True), nn.Dropout(), nn.Linear(6, 3)
                )

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))

        return [Example(SmallVGG(), (torch.randn(2, 3, 12, 12),))]
