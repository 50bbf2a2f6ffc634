"""A network whose every layer is a flat attribute of one module, its dataflow written in the names
(Caffe ports and MXNet ports: Cadene's pretrainedmodels BN-Inception, `inception_3a_1x1`,
`inception_3a_1x1_bn`, ...; the Caffe GoogLeNet ports' `inception_3a/1x1` as `inception_3a_1x1`):

    for each step, in the order the widths chain:
        a unit:   x = act(norm(conv(x)))                       (`conv2_3x3_reduce`, `..._bn`)
        a block:  x = cat([branch(x) for branch in block], 1)  (`inception_3a_*`)
    return linear(mean(x, (2, 3)))

A unit is a conv and the norm named for it (`<conv>_bn`, `<conv>_norm`, or `bn` in place of
`conv`), or a bare conv. A block is the longest name prefix (`inception_3a`) whose units fall into
two or more branches, by their names past the prefix less a closing `reduce` or step number
(`3x3_reduce` -> `3x3` -> ...; `double_3x3_reduce`, `double_3x3_1`, `double_3x3_2`), each branch
a chain by widths, all reading one width; a branch named for a pool pools first. The branches are
concatenated in the order Inception's names give (concat_block's: 1x1 first, doubled ones after
single ones, the pool branch last). Steps are ordered by widths, names breaking ties; a step no
width chains is no match.

No key shows the pools between steps: Caffe's GoogLeNet and BN-Inception (Szegedy et al. 2015,
Ioffe and Szegedy 2015) follow the stem's first conv and its last one by a 3x3 stride-2 max-pool
(ceil mode), and the pool branch pools 3x3 at stride 1 (an average where the units are batch-
normed, BN-Inception's; a max-pool without, GoogLeNet's). Each is a choice; the forward is guessed.
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
from codegen.patterns.blocks.concat_block import _branch_order

NORM_SUFFIXES = ("_bn", "_norm", "_batchnorm", "/bn")
STEP = re.compile(r"reduce|\d+")
POOL = re.compile(r"pool", re.I)
STEM_POOL = "max_pool_3x3_s2_ceil"
POOLS = [STEM_POOL, "none"]
GUESSED = (
    "no key shows the pools between the stem's convs, nor the pool branch's pooling: Caffe "
    "GoogLeNet's and BN-Inception's conventions"
)


def _tokens(name: str) -> list[str]:
    return [t for t in re.split(r"[_/]", name) if t]


def _natural(name: str) -> tuple:
    return tuple((0, int(t), "") if t.isdigit() else (1, 0, t) for t in re.split(r"(\d+)", name))


def _step_rank(token: str) -> int:
    """Where a unit stands in its branch: the reduction first, then the bare name, then steps."""
    return -1 if token == "reduce" else int(token) if token.isdigit() else 0


def _name_order(name: str) -> tuple:
    """Names in their natural order, a reduction before what it reduces for (`conv2_3x3_reduce`
    before `conv2_3x3`)."""
    tokens = _tokens(name)
    if len(tokens) > 1 and tokens[-1] == "reduce":
        return (_natural("_".join(tokens[:-1])), -1)
    return (_natural("_".join(tokens)), 0)


class _Unit:
    def __init__(self, conv: Module, norm: Module | None) -> None:
        self.conv, self.norm = conv, norm
        self.name = conv.attr
        self.in_width, self.out_width = conv.io.in_width, conv.io.out_width


def _units(members: list[Module]) -> tuple[list[_Unit], Module] | None:
    convs = [m for m in members if family(m) == "conv"]
    norms = {m.attr: m for m in members if family(m) == "norm"}
    linears = [m for m in members if family(m) == "linear"]
    if len(linears) != 1 or len(convs) + len(norms) + 1 != len(members) or len(convs) < 4:
        return None
    units = []
    for conv in convs:
        if conv.io is None or not conv.io.in_width or not conv.io.out_width:
            return None
        names = [conv.attr + s for s in NORM_SUFFIXES]
        if "conv" in conv.attr:
            names.append(conv.attr.replace("conv", "bn", 1))
        found = [norms[n] for n in names if n in norms]
        if len(found) > 1:
            return None
        norm = found[0] if found else None
        if norm is not None and (norm.io is None or norm.io.in_width != conv.io.out_width):
            return None
        units.append(_Unit(conv, norm))
    if sum(u.norm is not None for u in units) != len(norms):
        return None  # a norm no conv names
    return units, linears[0]


def _branches(units: list[_Unit], depth: int) -> dict[str, list[_Unit]] | None:
    """Units past a prefix of `depth` tokens, grouped into branches (steps in order) that chain."""
    groups: dict[str, list[tuple[int, _Unit]]] = {}
    for u in units:
        rest = _tokens(u.name)[depth:]
        if not rest:
            return None
        rank = _step_rank(rest[-1]) if len(rest) > 1 and STEP.fullmatch(rest[-1]) else 0
        key = "_".join(rest[:-1] if rank else rest)
        groups.setdefault(key, []).append((rank, u))
    branches = {}
    for key, steps in groups.items():
        chain = [u for _, u in sorted(steps, key=lambda s: s[0])]
        if len({r for r, _ in steps}) != len(steps):
            return None
        if any(a.out_width != b.in_width for a, b in zip(chain, chain[1:])):
            return None
        branches[key] = chain
    return branches


def _blocks(units: list[_Unit]) -> dict[str, dict[str, list[_Unit]]]:
    """Prefix -> branches, for the longest prefixes whose units are an Inception block's."""
    found: dict[str, dict[str, list[_Unit]]] = {}
    taken: set[int] = set()
    # in the units' order among prefixes of one length (a set's order varies with the hashes)
    prefixes = dict.fromkeys(
        tuple(_tokens(u.name)[:d]) for u in units for d in range(1, len(_tokens(u.name)))
    )
    for prefix in sorted(prefixes, key=len, reverse=True):
        inside = [u for u in units if tuple(_tokens(u.name)[: len(prefix)]) == prefix]
        if len(inside) < 3 or any(id(u) in taken for u in inside):
            continue
        branches = _branches(inside, len(prefix))
        if branches is None or len(branches) < 2 or all(key.isdigit() for key in branches):
            continue  # (`conv5_1`, `conv5_2`: a VGG stage's steps, numbered, not branches)
        if len({b[0].in_width for b in branches.values()}) != 1:
            continue
        found["_".join(prefix)] = branches
        taken.update(id(u) for u in inside)
    return found


class FlatPrefixNetwork(BlockPattern):
    role = "FlatNetwork"
    priority = 15

    accepts = Accepts(tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or any(m.kind != "builtin" for m in members):
            return None
        found = _units(members)
        if found is None:
            return None
        units, linear = found
        blocks = _blocks(units)
        if not blocks:
            return None
        in_block = {id(u) for b in blocks.values() for br in b.values() for u in br}
        # steps: (name, in width, out width, what)
        steps = [(u.name, u.in_width, u.out_width, u) for u in units if id(u) not in in_block]
        steps += [
            (p, next(iter(b.values()))[0].in_width, sum(br[-1].out_width for br in b.values()), b)
            for p, b in blocks.items()
        ]
        ordered = self._chain(steps)
        if ordered is None or linear.io is None or linear.io.in_width != ordered[-1][2]:
            return None
        stem = [s for s in ordered if isinstance(s[3], _Unit)]
        first_block = next(i for i, s in enumerate(ordered) if not isinstance(s[3], _Unit))
        if any(not isinstance(s[3], _Unit) for s in ordered[:first_block]) or not stem:
            return None
        normed = any(u.norm is not None for u in units)
        choices = [
            ctx.choose(
                cls,
                units[0].name,
                "activation",
                "relu",
                act.alternatives("relu", conv=True),
                "after each unit's norm (or its bare conv)",
            )
        ]
        pools = {}
        head = ordered[:first_block]
        for i, step in enumerate(head):
            usual = STEM_POOL if i in (0, len(head) - 1) else "none"
            c = ctx.choose(
                cls,
                step[0],
                "pooling_after",
                usual,
                [p for p in POOLS if p != usual],
                "after the stem's first and last conv: Caffe GoogLeNet's 3x3 stride-2 max-pool",
            )
            choices.append(c)
            pools[step[0]] = c.value
        branch_pool = {}
        for prefix, branches in blocks.items():
            for key in branches:
                if POOL.search(key):
                    usual = "avg" if normed else "max"
                    c = ctx.choose(
                        cls,
                        branches[key][0].name,
                        "pool_before",
                        usual,
                        ["max" if usual == "avg" else "avg"],
                        "the pool branch's 3x3 stride-1 pool (BN-Inception's average; "
                        "GoogLeNet's max)",
                    )
                    choices.append(c)
                    branch_pool[(prefix, key)] = c.value
        plan = (ordered, pools, branch_pool, linear.attr)
        return Match(self, len(members) + 5, plan, choices, guessed=GUESSED)

    @staticmethod
    def _chain(steps: list[tuple]) -> list[tuple] | None:
        given = {s[2] for s in steps}
        left = sorted(steps, key=lambda s: _name_order(s[0]))
        entry = [s for s in left if s[1] not in given] or left[:1]
        order = [entry[0]]
        left.remove(entry[0])
        while left:
            nxt = next((s for s in left if s[1] == order[-1][2]), None)
            if nxt is None:
                return None
            order.append(nxt)
            left.remove(nxt)
        return order

    def forward(self, match: Match, g: Graph) -> None:
        ordered, pools, branch_pool, linear = match.found
        activation = match.choices[0].value
        x = g.input("x")

        def run(u: _Unit, y):
            y = g.call_module((u.conv.attr,), y, inline=True)
            if u.norm is not None:
                y = g.call_module((u.norm.attr,), y, inline=True)
            return act.apply(g, activation, y, name="x")

        for name, _, _, what in ordered:
            if isinstance(what, _Unit):
                x = run(what, x)
                if pools.get(name, "none") == STEM_POOL:
                    x = g.call_function(
                        "max_pool2d", x, 3, kwargs={"stride": 2, "ceil_mode": True}, name="x"
                    )
                continue
            outs = []
            for key in sorted(what, key=_branch_order):
                y = x
                pool = branch_pool.get((name, key))
                if pool is not None:
                    y = g.call_function(
                        f"{pool}_pool2d", y, 3, kwargs={"stride": 1, "padding": 1}, inline=True
                    )
                for u in what[key]:
                    y = run(u, y)
                outs.append(y)
            x = g.call_function("cat", outs, 1, name="x", comment=f"{name}: branches side by side")
        x = g.call_method("mean", x, (2, 3), name="x", comment="global average pooling")
        g.output(g.call_module((linear,), x))

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn
        import torch.nn.functional as F

        class CaffeGoogLeNet(nn.Module):  # a Caffe GoogLeNet port: no norms, `/` made `_`
            def __init__(self) -> None:
                super().__init__()
                self.conv1_7x7_s2 = nn.Conv2d(3, 8, 7, 2, 3)
                self.conv2_3x3_reduce = nn.Conv2d(8, 8, 1)
                self.conv2_3x3 = nn.Conv2d(8, 12, 3, padding=1)
                for block, c_in in (("3a", 12), ("3b", 16)):
                    setattr(self, f"inception_{block}_1x1", nn.Conv2d(c_in, 4, 1))
                    setattr(self, f"inception_{block}_3x3_reduce", nn.Conv2d(c_in, 4, 1))
                    setattr(self, f"inception_{block}_3x3", nn.Conv2d(4, 6, 3, padding=1))
                    setattr(self, f"inception_{block}_5x5_reduce", nn.Conv2d(c_in, 2, 1))
                    setattr(self, f"inception_{block}_5x5", nn.Conv2d(2, 4, 5, padding=2))
                    setattr(self, f"inception_{block}_pool_proj", nn.Conv2d(c_in, 2, 1))
                self.loss3_classifier = nn.Linear(16, 5)

            def _block(self, n: str, x: torch.Tensor) -> torch.Tensor:
                def run(name: str, y: torch.Tensor) -> torch.Tensor:
                    return F.relu(getattr(self, f"inception_{n}_{name}")(y))

                pooled = F.max_pool2d(x, 3, stride=1, padding=1)
                return torch.cat(
                    [
                        run("1x1", x),
                        run("3x3", run("3x3_reduce", x)),
                        run("5x5", run("5x5_reduce", x)),
                        run("pool_proj", pooled),
                    ],
                    1,
                )

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                x = F.max_pool2d(F.relu(self.conv1_7x7_s2(x)), 3, stride=2, ceil_mode=True)
                x = F.relu(self.conv2_3x3(F.relu(self.conv2_3x3_reduce(x))))
                x = F.max_pool2d(x, 3, stride=2, ceil_mode=True)
                x = self._block("3b", self._block("3a", x))
                return self.loss3_classifier(x.mean((2, 3)))

        torch.manual_seed(0)
        return [Example(CaffeGoogLeNet(), (torch.randn(2, 3, 29, 29),))]
