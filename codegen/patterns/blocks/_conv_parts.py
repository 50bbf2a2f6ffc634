"""Reading conv-norm(-activation) units inside a block, whichever way a library wrote them.

A unit may be one member that is a conv, a Sequential `[conv, norm(, activation slot)]`
(torchvision's Conv2dNormActivation), or a generated class holding one conv and one norm (Hugging
Face's `ResNetConvLayer`, `MobileNetV2ConvLayer`). Block patterns call the conv and the norm inside
it directly and apply their own activation choice, so one class that the checkpoint cannot tell
apart (with or without a trailing activation) never decides what its callers compute.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from codegen.ir import ClassDef, Module
from codegen.patterns import _activations as act
from codegen.patterns._kit import BlockContext, family, modules, name_order, tensors


@dataclass
class Unit:
    """Paths (key segments) of a unit's conv and norm, and what the conv does to the input."""

    conv: tuple[str, ...]
    norm: tuple[str, ...] | None
    in_width: int | None
    out_width: int | None
    kernel: object
    stride: object  # the conv's stride argument (1 unless the file sets it)
    groups: object  # 1, or the groups argument (a width when depthwise)

    @property
    def depthwise(self) -> bool:
        return self.groups != 1 and self.in_width == self.out_width

    @property
    def one_channel_per_group(self) -> bool:
        """Truly depthwise: groups equal to the channels (a lifted groups argument is a width:
        layers/conv.py lifts it only then), not a grouped conv reading several per group."""
        return self.depthwise and (not isinstance(self.groups, int) or self.groups == self.in_width)

    @property
    def pointwise(self) -> bool:
        return self.kernel == 1


def unit(m: Module, ctx: BlockContext, prefix: tuple[str, ...] = ()) -> Unit | None:
    """The conv-norm unit a member is (an item of a container: `prefix` is the container's path)."""
    at = prefix + (m.attr,)
    if m.kind == "builtin" and family(m) == "conv":
        return _unit(at, m, held_norm(m, at))
    if m.kind == "moduledict":
        found = named_units(m)
        if found is None or len(found) != 1:
            return None
        conv, norm = found[0]
        return _unit(at + (conv.attr,), conv, at + (norm.attr,))
    if m.kind == "sequential":
        real = [c for c in m.children if c.kind != "placeholder"]
        if len(real) == 2 and [family(c) for c in real] == ["conv", "norm"]:
            conv, norm = real
            return _unit(at + (conv.attr,), conv, at + (norm.attr,))
        return None
    if m.kind == "class":
        cls = ctx.classes.get(m.type_name)
        if cls is None or tensors(cls):
            return None
        inner = modules(cls)
        if ctx.roles.get(m.type_name) == SPLIT_ROLE and m.io is not None:
            return _split_unit(at, inner, m)
        convs = [c for c in inner if c.kind == "builtin" and family(c) == "conv"]
        norms = [c for c in inner if c.kind == "builtin" and family(c) == "norm"]
        others = [c for c in inner if c not in convs and c not in norms]
        if len(convs) != 1 or len(norms) > 1 or any(c.kind != "placeholder" for c in others):
            return None
        if norms and preactivated_elsewhere(cls, convs[0], ctx):
            return None
        norm = at + (norms[0].attr,) if norms else None
        found = _unit(at + (convs[0].attr,), convs[0], norm)
        if found is not None and m.io is not None:
            # The class's members are its first instance's: this instance's widths are its own.
            found.in_width, found.out_width = m.io.in_width, m.io.out_width
        return found
    return None


UNIT_SEPARATOR = re.compile(r"[^0-9A-Za-z_]")  # what a name that is no identifier splits at


def named_units(m: Module) -> list[tuple[Module, Module]] | None:
    """The conv-norm units of a ModuleDict holding a Sequential whose names are not identifiers
    (VoVNet's and other Caffe-style ports: `OrderedDict([("stem_1/conv", conv), ("stem_1/norm",
    bn), ("stem_1/relu", relu), ("stem_2/conv", ...)])`; the activations leave no keys): items
    named `<unit>/<layer>`, one conv and one norm per unit, every unit's layers named alike, in
    the order of the units' numbers (never key order), consecutive units' widths chaining. The
    norm takes the conv's width; where the conv keeps the width the keys cannot order the two,
    and the unit is read as Conv-BN (the Sequential's conv-norm unit; a pre-activation layout
    fails the width test wherever one of its convs changes the width). None otherwise."""
    units: dict[str, list[Module]] = {}
    for c in m.children:
        if c.kind == "placeholder":
            continue
        cut = [s.start() for s in UNIT_SEPARATOR.finditer(c.attr)]
        if not cut or c.kind != "builtin":
            return None
        units.setdefault(c.attr[: cut[-1]], []).append(c)
    if len({name_order(name)[0] for name in units}) != len(units):
        return None  # units their numbers do not order
    found: list[tuple[Module, Module]] = []
    layouts = set()
    for name in sorted(units, key=name_order):
        layers = units[name]
        convs = [c for c in layers if family(c) == "conv" and c.io is not None]
        norms = [c for c in layers if family(c) == "norm" and c.io is not None]
        if len(layers) != 2 or len(convs) != 1 or len(norms) != 1:
            return None
        conv, norm = convs[0], norms[0]
        layouts.add((conv.attr[len(name) :], norm.attr[len(name) :]))
        if norm.io.in_width != conv.io.out_width or len(layouts) > 1:
            return None
        if found and found[-1][0].io.out_width != conv.io.in_width:
            return None
        found.append((conv, norm))
    return found or None


def instance_widths(cls: ClassDef, attr: str) -> list[tuple[int | None, int | None]]:
    """(in, out) widths of member `attr` in each instance of the class: the class's members are
    its first instance's (in key order), and a block read from them alone may be told apart by
    another instance (a RepVGG stem reading 3 channels beside blocks that keep the width)."""
    found = []
    for io in cls.member_io:
        w = io.get(attr)
        found.append((w.in_width, w.out_width) if w is not None else (None, None))
    return found


def held_norm(m: Module, at: tuple[str, ...] = ()) -> tuple[str, ...] | None:
    """The path of the norm a conv holds as its child and applies after itself (Detectron2's
    `layers.Conv2d`: `conv1.norm`), or None."""
    norms = [c for c in m.children if c.kind == "builtin" and family(c) == "norm"]
    if m.kind != "builtin" or len(m.children) != 1 or len(norms) != 1:
        return None
    return (at or (m.attr,)) + (norms[0].attr,)


def preactivated_elsewhere(cls: ClassDef, conv: Module, ctx: BlockContext) -> bool:
    """A conv and a norm that keep one width, so their order is unknown, where another class of
    the model with the same member names normalises what its conv reads (the widths prove it:
    imgclsmob's PreConvBlock `bn`, `conv` where it widens): the same layout, pre-activation too,
    never a conv-norm unit."""
    if conv.io is None or conv.io.in_width != conv.io.out_width:
        return False
    names = sorted(m.attr for m in modules(cls))
    for other in ctx.classes.values():
        members = modules(other)
        if other is cls or tensors(other) or sorted(m.attr for m in members) != names:
            continue
        convs = [m for m in members if family(m) == "conv" and m.io is not None]
        norms = [m for m in members if family(m) == "norm" and m.io is not None]
        if len(convs) == 1 and len(norms) == 1 and convs[0].io.in_width != convs[0].io.out_width:
            if norms[0].io.in_width == convs[0].io.in_width:
                return True
    return False


def member_units(
    members: list[Module], ctx: BlockContext, order: Callable[[list[Unit]], list[Unit] | None]
) -> list[Unit] | None:
    """The units a block's members make, in dataflow order (`order` sorts units by widths), where
    a conv and its norm may be separate members of the block (timm's EfficientNet blocks:
    `conv_pw, bn1, conv_dw, bn2, conv_pwl, bn3`; GhostNet's `conv_dw, bn_dw`). A bare norm joins
    the conv whose name it shares past the prefix or before the suffix (`bn_dw` with `conv_dw`,
    `dw_norm` with `dw_conv` or `dw`), else, in the order of
    the numbers in the norms' names, the next conv in dataflow order whose output width it
    normalises. None when a member is neither a unit nor a norm, or a norm finds no conv."""
    norms = [m for m in members if m.kind == "builtin" and family(m) == "norm"]
    units: list[Unit] = []
    for m in members:
        if m in norms:
            continue
        u = unit(m, ctx)
        if u is None:
            return None
        units.append(u)
    ordered = order(units)
    if ordered is None or not norms:
        return ordered
    bare = [u for u in ordered if u.norm is None and len(u.conv) == 1]
    left = []
    for norm in norms:
        tail = _name_tail(norm.attr, ("bn", "norm"))
        same = [
            u
            for u in bare
            if tail and tail in (_name_tail(u.conv[0], ("conv",)), u.conv[0].lower().lstrip("_"))
        ]
        if len(same) == 1 and same[0].out_width == norm.io.in_width:
            same[0].norm = (norm.attr,)
            bare.remove(same[0])
        else:
            left.append(norm)
    for width in {m.io.in_width for m in left}:
        numbers = [name_order(m.attr)[0] for m in left if m.io.in_width == width]
        if len(set(numbers)) < len(numbers):
            return None  # norms of one width that neither names nor numbers tie to their convs
    for norm in sorted(left, key=lambda m: name_order(m.attr)):
        found = next((u for u in bare if u.out_width == norm.io.in_width), None)
        if found is None:
            return None
        found.norm = (norm.attr,)
        bare = bare[bare.index(found) + 1 :]
    return ordered


def _name_tail(name: str, prefixes: tuple[str, ...]) -> str:
    """`dw` for `conv_dw` / `bn_dw` / `norm_dw`, and for `dw_conv` / `dw_norm` (TensorFlow
    ports: `expand_conv`, `expand_bn`); "" when the name has no such prefix or suffix."""
    low = name.lower().lstrip("_")
    for p in prefixes:
        if low.startswith(p) and len(low) > len(p):
            return low[len(p) :].lstrip("_")
    for p in prefixes:
        if low.endswith("_" + p):
            return low[: -len(p)].rstrip("_")
    return ""


SPLIT_ROLE = "MixedConv"  # blocks/split_concat.py: convs over one split tensor, concatenated


def _split_unit(at: tuple[str, ...], convs: list[Module], m: Module) -> Unit | None:
    """A split-and-concatenate class as one conv: depthwise where every item is (MixNet's mixed
    kernels), pointwise where every item is 1x1; its widths are the instance's."""
    units = [_unit(at + (c.attr,), c, None) for c in convs]
    if not units or None in units:
        return None
    kernels = {u.kernel for u in units}
    kernel = kernels.pop() if len(kernels) == 1 else tuple(u.kernel for u in units)
    depthwise = all(u.one_channel_per_group for u in units)
    groups = m.io.out_width if depthwise else 1
    if not depthwise and any(u.groups != 1 for u in units):
        return None
    return Unit(at, None, m.io.in_width, m.io.out_width, kernel, units[0].stride, groups)


def _unit(path: tuple[str, ...], conv: Module, norm: tuple[str, ...] | None) -> Unit | None:
    if conv.io is None or conv.type_name.startswith("nn.ConvTranspose"):
        return None
    return Unit(
        path,
        norm,
        conv.io.in_width,
        conv.io.out_width,
        arg(conv, "kernel_size"),
        arg(conv, "stride", 1),
        arg(conv, "groups", 1),
    )


def call_unit(g, u: Unit, x, activation: str, name: str):
    """`act(norm(conv(x)))` for a unit, its conv and norm called directly (a unit class whose own
    trailing activation the keys cannot show decides nothing)."""
    from codegen.patterns import _activations as act

    x = g.call_module(u.conv, x, name=name, inline=True)
    x = g.call_module(u.norm, x, name=name, inline=activation != "identity")
    return act.apply(g, activation, x, name=name)


def arg(m: Module, keyword: str, default: object = None) -> object:
    """A constructor argument's value as first analysed (a lifted one still knows its literal)."""
    for a in m.args:
        if a.keyword == keyword:
            return a.value
    return default


def class_of(m: Module, ctx: BlockContext) -> ClassDef | None:
    return ctx.classes.get(m.type_name) if m.kind == "class" else None


def lone_conv(cls: ClassDef) -> Module | None:
    """The one built-in 2-d conv of a class that holds nothing else and is registered under a name
    its pattern tells apart (a U-Net's down- and upsamplers)."""
    members = modules(cls)
    if tensors(cls) or len(members) != 1 or not cls.named:
        return None
    conv = members[0]
    if family(conv) != "conv" or conv.kind != "builtin" or conv.io.ndim != 2:
        return None
    return conv


def is_depthwise(conv: Module) -> bool:
    """A conv with one input channel per group: `groups` its width, or the same parameter as its
    in_channels (a class whose instances differ in width)."""
    groups = next((a.value for a in conv.args if a.keyword == "groups"), 1)
    takes = [a.value for a in conv.args if a.keyword is None][:1]
    io = conv.io
    if io is None or io.in_width != io.out_width or groups == 1:
        return False
    return groups == io.in_width or takes == [groups]


def conv_kernel(m: Module) -> object:
    """A conv's kernel size as written: its `kernel_size` keyword or third positional argument
    (a recorded layer's constructor)."""
    found = arg(m, "kernel_size")
    if found is None:
        positional = [a.value for a in m.args if a.keyword is None]
        found = positional[2] if len(positional) > 2 else None
    return found


def expands_elsewhere(cls, ctx: BlockContext) -> bool:
    """Whether another class of the model widens with a 1x1 conv into a depthwise one (an
    inverted residual's expansion), among its own layers or its Sequentials'; or the key tree
    shows a body of such blocks (analyze/strides.py's mobile_family: the classes settled so far
    may not hold the later blocks yet)."""
    told = act.mobile_family(ctx.resolver)
    if told is not None:
        return told[0] not in act.SEPARABLE_FAMILIES
    for other in ctx.classes.values():
        if other is cls:
            continue
        inside = walk_builtin(modules(other), ctx, skip=cls.name)
        convs = [c for c in inside if family(c) == "conv" and c.io]
        depthwise = {c.io.in_width for c in convs if is_depthwise(c)}
        # a 1x1 that widens back what another 1x1 of its own reduced is a squeeze-excitation's
        # excite (PP-LCNet's separable blocks gate their depthwise output): no expansion
        pairs = {(c.io.in_width, c.io.out_width) for c in convs}
        if any(
            c.io.out_width in depthwise
            and c.io.in_width < c.io.out_width
            and (c.io.out_width, c.io.in_width) not in pairs
            for c in convs
            if _groups(c) == 1 and conv_kernel(c) in (1, (1, 1))
        ):
            return True
    return False


def walk_builtin(members, ctx: BlockContext, depth: int = 0, skip: str = ""):
    """The built-in layers of members, through Sequentials and generated classes (but `skip`)."""
    for m in members:
        if m.kind == "builtin":
            yield m
        elif m.kind == "sequential":
            yield from walk_builtin(m.children, ctx, depth, skip)
        elif m.kind == "class" and m.type_name in ctx.classes and m.type_name != skip:
            if depth < 4:
                yield from walk_builtin(modules(ctx.classes[m.type_name]), ctx, depth + 1, skip)


def _groups(conv) -> object:
    return next((a.value for a in conv.args if a.keyword == "groups"), 1)
