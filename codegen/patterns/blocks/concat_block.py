"""Parallel branches whose outputs are concatenated along the channels (GoogLeNet's and Inception
v3's `Inception*` modules, SqueezeNet's `Fire`):

    Inception: cat([branch1(x), branch2(x), ...], 1)     (a branch named *pool* pools x first)
    Fire:      s = act(squeeze(x)); cat([act(expand1x1(s)), act(expand3x3(s))], 1)

Side by side is what the keys cannot show by widths alone when every branch maps a width to
itself (they would chain too), so such branches must be named as branches (`branch*`, `expand*`,
`tower*`); members numbered within a branch (`branch5x5_1`, `branch5x5_2`) run in turn. Branches
named otherwise (d2l's `p1_1` ... `p4_2`, a port's `conv1x1`, `conv3x3_reduce`, `conv3x3`) or
held in a ModuleList are proven by widths instead (_side_by_side, _listed): all read one width
that none gives, and they give unequal widths, which only a concatenation joins. What a branch
reads is its first member's width, the same for all. Parameter-free steps are choices: the
activation after a bare conv (a class or Sequential branch applies its own), and the pooling
before a pool branch whose keys do not show it (Inception v3: a 3x3 average pool, stride 1; a
slot or a missing first number, d2l's `p4_1`: GoogLeNet's 3x3 max pool).
"""

from __future__ import annotations

import itertools
import os
import re

from codegen.ir import Module
from codegen.ir.graph import Graph
from codegen.patterns import _activations as act
from codegen.patterns._kit import BlockContext, BlockPattern, Example, Match, family, modules
from codegen.patterns._kit import tensors
from codegen.patterns.blocks._path_join import SUM, joined

BRANCH = re.compile(r"(branch|expand|tower|path)|^b\d+$", re.I)  # kuangliu's GoogLeNet: b1..b4
# `b1`, `b2` also number a stage's blocks (pycls' AnyNet): bare numbers name branches only where
# every one is a Sequential of its own layers, as kuangliu writes them, never a block class.
NUMBERED_ONLY = re.compile(r"^b\d+$", re.I)
ENTRY = re.compile(r"(squeeze|reduce)", re.I)
POOL_BRANCH = re.compile(r"pool", re.I)
# Pooling a pool branch applies before its layers: (function, kernel, stride, padding).
BRANCH_POOLS = {"avg_pool_3x3": ("avg", 3, 1, 1), "max_pool_3x3": ("max", 3, 1, 1)}


def _step(attr: str) -> tuple[str, int]:
    """(branch, position): `branch5x5_2` is the second step of branch `branch5x5`; `branch3x3_2a`
    and `branch3x3_2b` both its second, side by side (_fork)."""
    found = re.fullmatch(r"(.+?)_(\d+)[ab]?", attr)
    return (found.group(1), int(found.group(2))) if found else (attr, 0)


def _fork(attr: str) -> bool:
    """One of two last steps that both read the step before and are concatenated (Inception v3's
    InceptionE `branch3x3_2a` / `_2b`, Cadene's Inception-v4 Inception_C `branch1_1a` / `_1b`)."""
    return re.fullmatch(r".+?_\d+[ab]", attr) is not None


def _branches(members: list[Module]) -> list[list[Module]] | None:
    """Members grouped into branches (steps in order), each reading the previous step's width."""
    groups: dict[str, list[Module]] = {}
    for m in members:
        groups.setdefault(_step(m.attr)[0], []).append(m)
    branches = []
    for name in sorted(groups, key=_branch_order):
        steps = sorted(groups[name], key=lambda m: (_step(m.attr)[1], m.attr))
        forks = [m for m in steps if _fork(m.attr)]
        steps = [m for m in steps if not _fork(m.attr)]
        for a, b in zip(steps, steps[1:]):
            if a.io is None or b.io is None or a.io.out_width != b.io.in_width:
                return None
        if forks:  # the two read what the last step gives, numbered after it
            if len(forks) != 2 or not steps or steps[-1].io is None:
                return None
            if _step(forks[0].attr)[1] <= _step(steps[-1].attr)[1]:
                return None
            if any(f.io is None or f.io.in_width != steps[-1].io.out_width for f in forks):
                return None
        branches.append(steps + forks)
    return branches


def _forks(steps: list[Module]) -> list[Module]:
    """A branch's two closing forks (_fork), or []."""
    forks = [m for m in steps if _fork(m.attr)]
    return forks if len(forks) == 2 and steps[-2:] == forks else []


def _listed(items: list[Module]) -> bool:
    """Items of a list that can only be branches joined by a concatenation: two or more, each
    reading one width and giving unequal widths (equal ones could be summed: SKNet's paths)."""
    if len(items) < 2 or not all(_spatial(m) for m in items):
        return False
    return len({m.io.in_width for m in items}) == 1 and len({m.io.out_width for m in items}) > 1


def _branch_name(steps: list[Module]) -> str:
    """A branch's name: its steps' shared stem (`p2` of `p2_1`, `p2_2`), else its first step's."""
    stems = {_step(m.attr)[0] for m in steps}
    return stems.pop() if len(stems) == 1 else steps[0].attr


def _side_by_side(members: list[Module], ctx: BlockContext) -> list[list[Module]] | None:
    """Branches whose names do not say so (d2l's `p1_1` ... `p4_2`; a port's `conv1x1`,
    `conv3x3_reduce`, `conv3x3`), proven side by side by widths: every branch starts reading the
    one width W that no member gives (so none can follow another), the other members each extend
    the one branch ending in the width it reads. Three or more branches, one of two steps or
    more, giving unequal widths: no sum can join them (res16's residual pairs and a head's
    parallel outputs stay theirs), only a concatenation, which the reader's width then checks
    (analyze's _widen_concatenations). Grouped by numbered names where those chain, else by
    widths alone; ordered by the numbers, else by Inception's convention (fewer steps first,
    then the smaller kernel, the pool branch last: Szegedy et al. 2015, 2016)."""
    branches = _branches(members)
    numbered = branches is not None and all(_step(m.attr) != (m.attr, 0) for m in members)
    if not numbered:
        branches = _chains(members)
        if branches is None:
            return None
        branches.sort(key=lambda b: _convention_order(b, ctx))
    reads = {b[0].io.in_width for b in branches}
    outs = {b[-1].io.out_width for b in branches}
    if len(branches) < 3 or len(reads) != 1 or len(outs) < 2 or max(map(len, branches)) < 2:
        return None
    if any(m.io.out_width in reads for m in members):
        return None  # a member giving what the branches read could come first
    return branches


def _chains(members: list[Module]) -> list[list[Module]] | None:
    """Members linked by widths into chains from the width none of them gives: each step reads
    what exactly one chain ends in, and no other member reads it (a split is not a chain)."""
    given = {m.io.out_width for m in members}
    starts = {m.io.in_width for m in members} - given
    if len(starts) != 1:
        return None
    width = starts.pop()
    chains = [[m] for m in members if m.io.in_width == width]
    rest = [m for m in members if m.io.in_width != width]
    while rest:
        for m in rest:
            ends = [c for c in chains if c[-1].io.out_width == m.io.in_width]
            rivals = [r for r in rest if r.io.in_width == m.io.in_width]
            if len(ends) > 1:  # widths tie (GoogLeNet's 3b: 1x1 and 3x3 reduce both give 128):
                ends = _named_after(m, ends)  # the step its name continues, where one does
            if len(ends) == 1 and len(rivals) == 1:
                ends[0].append(m)
                rest.remove(m)
                break
        else:
            return None
    return chains


def _named_after(m: Module, ends: list[list[Module]]) -> list[list[Module]]:
    """Of chains ending in the width `m` reads, those whose last step's name shares the longest
    start with `m`'s (`conv3x3` continues `conv3x3_reduce`, not `conv1x1`)."""
    shared = [len(os.path.commonprefix([m.attr, c[-1].attr])) for c in ends]
    return [c for c, n in zip(ends, shared) if n == max(shared)]


def _convention_order(steps: list[Module], ctx: BlockContext) -> tuple:
    kernels = [_kernel(m, ctx) for m in steps]
    known = [k for k in kernels if k is not None]
    return (bool(POOL_BRANCH.search(steps[0].attr)), len(steps), max(known, default=0))


def _kernel(m: Module, ctx: BlockContext) -> int | None:
    """The largest kernel side of a step: a conv's, a Sequential's convs', or a class's convs'
    where the class writes them (its first instance)."""
    from codegen.patterns.blocks._conv_parts import conv_kernel

    if family(m) == "conv":
        k = conv_kernel(m)
        k = max(k) if isinstance(k, (tuple, list)) else k
        return k if isinstance(k, int) else None
    inner = m.children
    if m.kind == "class" and m.type_name in ctx.classes:
        inner = [c for c in ctx.classes[m.type_name].members if isinstance(c, Module)]
    found = [_kernel(c, ctx) for c in inner if family(c) == "conv" or c.kind == "sequential"]
    found = [k for k in found if k is not None]
    return max(found) if found else None


def _slotted_first(branches: list[list[Module]]) -> set[int] | None:
    """The ids of first steps that a keyless step comes before: where every step is numbered
    (`p4_2` beside `p1_1`), a branch starting one number later than the rest starts with a slot
    (d2l's `p4_1`, a max pool). A gap anywhere else: None (unknown steps)."""
    numbers = [sorted({_step(m.attr)[1] for m in b}) for b in branches]
    if any(_step(m.attr) == (m.attr, 0) for b in branches for m in b):
        return set()
    base = min(n[0] for n in numbers)
    found = set()
    for b, n in zip(branches, numbers):
        if n != list(range(n[0], n[0] + len(n))) or n[0] > base + 1:
            return None
        if n[0] == base + 1:
            found.add(id(b[0]))
    return found if len(found) < len(branches) else None


def _branch_order(name: str) -> tuple:
    """`branch1` before `branch2`, `expand1x1` before `expand3x3`; a doubled branch
    (`branch3x3dbl`) after the single ones, a pool branch last (torchvision's Inception v3)."""
    numbers = tuple(int(n) for n in re.findall(r"\d+", name))
    doubled = "dbl" in name.lower() or "double" in name.lower()  # Caffe BN-Inception: double_3x3
    return (bool(POOL_BRANCH.search(name)), doubled, numbers, name)


def _spatial(m: Module) -> bool:
    """Conv features in and out: a conv, or a class or Sequential spanning conv layers."""
    if m.io is None or not m.io.in_width or not m.io.out_width:
        return False
    return family(m) == "conv" or (m.kind in ("class", "sequential") and bool(m.io.ndim))


class _Concat(BlockPattern):
    priority = 8  # side by side, named so: rather than a width chain
    with_entry = False

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = [m for m in modules(cls) if m.kind != "placeholder"]
        prefix: tuple[str, ...] = ()
        if len(members) == 1 and members[0].kind == "modulelist" and not self.with_entry:
            # A ModuleList of branches (`torch.cat([b(x) for b in self.branches], 1)`): its
            # items, in the list's order, side by side where widths prove it (_listed_branches)
            prefix, members = (members[0].attr,), list(members[0].children)
            if any(m.kind == "placeholder" for m in members) or not _listed(members):
                return None
        elif tensors(cls) or len(members) != len(modules(cls)) or len(members) < 2:
            return None
        if not all(_spatial(m) for m in members):
            return None
        if joined(cls, ctx) == SUM:  # what reads the block takes one branch's width (fastai's
            return None  # XResNet `convpath` + `idpath`): summed, never side by side
        entry = None
        if self.with_entry:
            entries = [m for m in members if ENTRY.search(m.attr) and not BRANCH.search(m.attr)]
            # a bare conv, or a Sequential of conv and norm (pytorch-cifar100's Fire: its ReLU,
            # last, leaves no key), which the activation follows
            if len(entries) != 1 or not (family(entries[0]) == "conv" or _conv_norm(entries[0])):
                return None
            entry = entries[0]
            members = [m for m in members if m is not entry]
        named = bool(prefix) or all(BRANCH.search(m.attr) for m in members)
        if named and all(NUMBERED_ONLY.match(m.attr) for m in members):
            if any(m.kind != "sequential" for m in members):
                return None
        branches = _branches(members) if named else _side_by_side(members, ctx)
        if branches is None or not 2 <= len(branches) <= 4:
            return None  # more: too many orders to offer (the concatenation's order is a choice)
        reads = {b[0].io.in_width for b in branches}
        if len(reads) != 1 or (entry is not None and entry.io.out_width not in reads):
            return None
        slotted = _slotted_first(branches)
        if slotted is None:
            return None
        choices, plan = [], []
        bare = entry is not None or any(family(s) == "conv" for b in branches for s in b)
        # A Sequential branch ending in its norm (kuangliu's `b1` = [conv, bn, ReLU]): the
        # trailing activation leaves no index gap, so no key; the one after each bare conv.
        normed = any(_ends_in_norm(b[-1]) for b in branches)
        activation = None
        if bare or normed:  # a bare conv's activation leaves no key; a class applies its own
            activation = ctx.choose(
                cls,
                (entry or branches[0][0]).attr,
                "activation",
                "relu",
                act.alternatives("relu"),
                "after each bare conv, and after a branch's closing norm",
                aliases=act.ALIASES,
            )
            choices.append(activation)
        names = [_branch_name(b) for b in branches]
        # The order of concatenation leaves no key: a choice, by the names by default.
        default = ",".join(names)
        order = ctx.choose(
            cls,
            branches[0][0].attr,
            "branch_order",
            default,
            [",".join(p) for p in itertools.permutations(names) if list(p) != names],
            "the order the branches are concatenated in (by their names; unnamed branches by "
            "Inception's: fewer steps, smaller kernels first, the pool branch last)",
        )
        choices.append(order)
        by_name = dict(zip(names, branches))
        wanted = str(order.value).split(",")
        if sorted(wanted) != sorted(names):
            return None
        branches = [by_name[n] for n in wanted]
        # A pool branch's slot holds a layer no key records: a 3x3 max pool in GoogLeNet
        # (torchvision's googlenet.py), a 3x3 average pool that leaves the padding out of its
        # count in Inception-v4 (Cadene's and timm's inceptionv4.py Inception_A/B/C), the same
        # keys. Left at the default, the class says guessed.
        guessed: list[str] = []
        for b in branches:
            pool = "none"
            forks = _forks(b)
            kept = [(i, s) for i, s in enumerate(b) if all(s is not f for f in forks)]
            steps = [(prefix + (s.attr,), _bare(b, i)) for i, s in kept]
            if forks:  # both read the last step; their outputs side by side
                ends = tuple((prefix + (f.attr,), family(f) == "conv") for f in forks)
                steps.append(("fork", ends))
            slot = _starts_with_slot(b[0])
            if slot:
                # torchvision's GoogLeNet: `Sequential(MaxPool2d(3, 1, 1), conv)`. The slot's
                # layer is this choice; the rest are called one by one.
                rest = b[0].children[1:]
                if not rest or any(c.kind == "placeholder" for c in rest) or len(b) > 1:
                    return None
                # A conv followed by its norm is no bare conv: the activation follows the norm.
                after = [family(c) for c in rest[1:]] + [None]
                steps = [
                    (prefix + (b[0].attr, c.attr), family(c) == "conv" and nxt != "norm")
                    for c, nxt in zip(rest, after)
                ]
            gap = id(b[0]) in slotted
            if slot or gap or POOL_BRANCH.search(b[0].attr):
                # (a numbered step missing before the first, d2l's `p4_1`: a slot, as a
                # Sequential's is, holding GoogLeNet's max pool (Szegedy et al. 2015))
                usual = "max_pool_3x3" if slot or gap else "avg_pool_3x3"
                c = ctx.choose(
                    cls,
                    b[0].attr,
                    "pool_before",
                    usual,
                    [p for p in ("avg_pool_3x3", "max_pool_3x3", "none") if p != usual],
                    "the pool branch's pooling (3x3, stride 1), which holds no tensors",
                )
                choices.append(c)
                pool = c.value
                if slot and c.source == "default":
                    guessed.append(c.name)
            plan.append((tuple(steps), pool, _ends_in_norm(b[-1])))
        found = (
            entry,
            plan,
            activation.value if activation else "identity",
            tuple(".".join(prefix + (s.attr,)) for b in branches for s in (_forks(b) or b[-1:])),
            [m.io.ndim for m in members][0] or 2,
        )
        note = ""
        if guessed:
            note = (
                "a pool branch's slot holds no tensors: its pooling (GoogLeNet's max, "
                "Inception-v4's average) is a default: the choice pool_before"
            )
        return Match(self, len(modules(cls)), found, choices, guessed=note)

    def concatenated(self, match: Match) -> tuple[tuple[str, ...], bool]:
        return match.found[3], False

    def forward(self, match: Match, g: Graph) -> None:
        entry, plan, activation, _, ndim = match.found
        entry_attr = entry.attr if entry is not None else None
        x = g.input("x")
        if entry is not None and (family(entry) == "conv" or _ends_in_norm(entry)):
            x = act.apply(g, activation, g.call_module((entry_attr,), x, inline=True), name="x")
        elif entry is not None:  # a Sequential whose slot after its norm holds the activation
            x = g.call_module((entry_attr,), x, name="x")
        outs = []
        for steps, pool, normed in plan:
            y = x
            if pool != "none":
                fn, kernel, stride, padding = BRANCH_POOLS[pool]
                y = g.call_function(
                    f"{fn}_pool{ndim}d",
                    y,
                    kernel,
                    kwargs={"stride": stride, "padding": padding},
                    inline=True,
                )
            for path, bare in steps:
                if path == "fork":  # two last steps reading y, concatenated
                    parts = [self._step(g, p, b, activation, y) for p, b in bare]
                    y = g.call_function("cat", parts, 1, inline=True)
                    continue
                y = self._step(g, path, bare, activation, y)
            if normed:
                y = act.apply(g, activation, y, inline=True)
            outs.append(y)
        g.output(g.call_function("cat", outs, 1, comment="the branches side by side"))

    @staticmethod
    def _step(g: Graph, path: tuple[str, ...], bare: bool, activation: str, y):
        y = g.call_module(path, y, inline=bare and activation != "identity")
        return act.apply(g, activation, y, inline=True) if bare else y


def _conv_norm(m: Module) -> bool:
    """A Sequential of a conv and its norm, maybe an activation's slot after them."""
    real = [c for c in m.children if c.kind != "placeholder"] if m.kind == "sequential" else []
    return [family(c) for c in real] == ["conv", "norm"] and real == m.children[:2]


def _ends_in_norm(m: Module) -> bool:
    """A Sequential branch whose last item is a norm (its activation would follow unrecorded)."""
    return m.kind == "sequential" and bool(m.children) and family(m.children[-1]) == "norm"


def _bare(steps: list[Module], i: int) -> bool:
    """Step i is a bare conv: not followed by its norm."""
    return family(steps[i]) == "conv" and (i + 1 == len(steps) or family(steps[i + 1]) != "norm")


def _starts_with_slot(m: Module) -> bool:
    """A Sequential branch whose first item holds no tensors: the pooling is its own layer."""
    return m.kind == "sequential" and bool(m.children) and m.children[0].kind == "placeholder"


class Inception(_Concat):
    role = "Inception"

    @staticmethod
    def examples():
        return [_example("inception", 8), _sequential_branches()]


def _sequential_branches() -> Example:
    """Branches written as plain Sequentials of conv, norm, ReLU (their keys `0.weight`,
    `1.running_mean`; no key shows the closing ReLU), the pool branch named for its pooling."""
    import torch
    import torch.nn as nn

    def unit(c_in: int, c_out: int, k: int) -> list[nn.Module]:
        return [nn.Conv2d(c_in, c_out, k, padding=k // 2), nn.BatchNorm2d(c_out), nn.ReLU()]

    class InceptionBlock(nn.Module):
        def __init__(self, c: int) -> None:
            super().__init__()
            self.branch1x1 = nn.Sequential(*unit(c, 4, 1))
            self.branch3x3 = nn.Sequential(*unit(c, 3, 1), *unit(3, 5, 3))
            self.branch_pool = nn.Sequential(*unit(c, 2, 1))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            pooled = nn.functional.avg_pool2d(x, 3, stride=1, padding=1)
            return torch.cat([self.branch1x1(x), self.branch3x3(x), self.branch_pool(pooled)], 1)

    class Holder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.block = InceptionBlock(6)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.block(x)

    torch.manual_seed(0)
    model = Holder()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.normal_(0, 0.5)
    return Example(model, (torch.randn(2, 6, 7, 7),))


class Fire(_Concat):
    role = "Fire"
    priority = 9
    with_entry = True

    @staticmethod
    def examples():
        return [_example("fire", 8, 4, 8, 8), _normed_fire()]


def _normed_fire() -> Example:
    """A batch-normed Fire whose squeeze is a Sequential of conv, norm and ReLU (no key shows the
    ReLU), its expansions too, inside a numbered Sequential of fires (a CIFAR SqueezeNet's)."""
    import torch
    import torch.nn as nn

    def unit(c_in: int, c_out: int, k: int) -> nn.Sequential:
        return nn.Sequential(
            nn.Conv2d(c_in, c_out, k, padding=k // 2), nn.BatchNorm2d(c_out), nn.ReLU()
        )

    class BNFire(nn.Module):
        def __init__(self, c_in: int, squeeze: int, expand: int) -> None:
            super().__init__()
            self.reduce = unit(c_in, squeeze, 1)
            self.expand1x1 = unit(squeeze, expand, 1)
            self.expand3x3 = unit(squeeze, expand, 3)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            s = self.reduce(x)
            return torch.cat([self.expand1x1(s), self.expand3x3(s)], 1)

    from codegen.patterns.blocks._vision_examples import _randomise_norms

    torch.manual_seed(0)

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fires = nn.Sequential(BNFire(6, 2, 4), BNFire(8, 3, 6))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.fires(x)

    model = Net().eval()
    _randomise_norms(model)
    return Example(model, (torch.randn(2, 6, 7, 7),))


def _example(name: str, channels: int, *args: int) -> Example:
    import torch

    from codegen.patterns.blocks._vision_examples import modules as zoo

    z = zoo()
    return Example(z["holder"](z[name](channels, *args)), (torch.randn(2, channels, 6, 6),))
