"""A block whose members do not chain, wired the way its recorded widths allow (blocks/_wiring.py):
MSRN's multi-scale residual block, PeleeNet's two-way dense layer, DLA's tree and its root,
SelecSLS's block, HGNetV2's aggregation (VoVNet's own is blocks/one_shot_aggregation.py; an
Inception module's branches are blocks/concat_block.py's).

    conv_3_1 = relu(self.conv_3_1(x)); conv_5_1 = relu(self.conv_5_1(x))
    joined = torch.cat([conv_3_1, conv_5_1], 1)  # ...
    return self.confusion(torch.cat([relu(self.conv_3_2(joined)), relu(self.conv_5_2(joined))], 1))

Tried only where no pattern recognises the class and chain.py cannot order its members from the
first by name (their widths do not chain, or chain only from a member names put later, as DLA's
root reading 2C before its trees, where a join fits the names' order). Its units: a conv (with its
norm: _conv_parts.unit), or a member with a forward of its own, each with its in and out width in
every instance of the class. The search keeps the wirings every instance's widths and each
instance's consumer (analyze/joins.py's consumer_widths) allow, ranked by cited priors; the best is
the `wiring` choice's default and the runners-up its alternatives, so `--calibrate` can move it.
The forward is `guessed` unless the widths leave exactly one wiring, no concatenation joins a node
beside what was computed from it (where a keyless pool could sit: PeleeNet's stem pools one path
beside a strided conv), no member is named for a pool, and no residual is left open.

Activations follow chain.py's reading: one after each conv-norm unit, and after each bare conv
but one giving the block's output (MSRN's `confusion`); a member with a forward of its own applies
its own. ReLU by default (PeleeNet's, MSRN's, DLA's, SelecSLS's), a choice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from codegen.ir.graph import Graph, Value
from codegen.patterns import _activations as act
from codegen.patterns._kit import Accepts, BlockContext, BlockPattern, Match, family, modules
from codegen.patterns._kit import tensors
from codegen.patterns.blocks._conv_parts import Unit, unit
from codegen.patterns.blocks._path_join import CONSUMER_WIDTH
from codegen.patterns.blocks._wiring import Wiring, describe, nodes_of, solve
from codegen.patterns.blocks.chain import dataflow_order

MAX_UNITS = 8
POOLED = re.compile(r"pool", re.I)  # a member reading a pooled input the keys do not show


@dataclass
class Part:
    """One unit of the block: its attribute, how it is called, its widths per instance."""

    attr: str  # its path, dotted (`layers.0`: an item of a list)
    path: tuple[str, ...]
    kind: str  # "unit" (conv, norm), "conv" (bare), "module" (a member with its own forward)
    conv: Unit | None
    ins: tuple[int, ...]
    outs: tuple[int, ...]
    ndim: int  # of the maps it reads: 1 or 2


def name_order(attr: str) -> tuple:
    """Units in the order their names give: by the numbers in them (`conv_3_1` before `conv_5_1`,
    `branch1b` before `branch2a`), unnumbered ones after (MSRN's `confusion`, DLA's `root`), then
    by name (`left_tree` before `right_tree`). Never key order (safetensors sorts keys)."""
    numbers = tuple(int(n) for n in re.findall(r"\d+", attr))
    return (not numbers, numbers, attr)


def _parts(cls, ctx: BlockContext, expand: str | None = None) -> list[Part] | None:
    """The block's units in name order; a list's items are units of their own (HGNetV2's
    `layers`, whose every output is kept: a ModuleList, or the Sequential `expand` names), read
    from the first instance alone (the class records their widths there), where the other
    members' widths are read in every instance."""
    members = [m for m in modules(cls) if m.kind != "placeholder"]
    items = []
    listed = False
    for m in members:
        if m.children and (m.kind == "modulelist" or m.attr == expand):
            items += [(c, (m.attr,)) for c in m.children]
            listed = True
        else:
            items.append((m, ()))
    if not 2 <= len(items) <= MAX_UNITS:
        return None
    parts = []
    for m, prefix in items:
        u = unit(m, ctx, prefix)
        if u is not None and u.norm is not None:
            kind = "unit"
        elif m.kind == "builtin" and family(m) == "conv" and u is not None and not m.children:
            kind = "conv"
        elif m.kind in ("class", "sequential") and m.type_name not in ctx.unknown:
            kind, u = "module", None
        else:
            return None
        if m.io is None or (m.io.ndim or 0) not in (1, 2) and kind != "module":
            return None
        ios = [m.io] if listed or prefix else [io.get(m.attr) for io in cls.member_io] or [m.io]
        if any(io is None or not io.in_width or not io.out_width for io in ios):
            return None
        ins = tuple(io.in_width for io in ios)
        outs = tuple(io.out_width for io in ios)
        at = prefix + (m.attr,)
        parts.append(Part(".".join(at), at, kind, u, ins, outs, m.io.ndim or 2))
    return sorted(parts, key=lambda p: name_order(p.attr))


def _consumers(cls, ctx: BlockContext, parts: list[Part]) -> tuple[int | None, ...]:
    """Per instance, the width what reads it next takes (analyze/joins.py's consumer_widths): a
    layer's by its weight, or another instance's of this class, which reads what its first unit
    by name reads (the order this pattern runs units in); None where nothing says."""
    paths = [path for path, _ in cls.instances][: len(parts[0].ins)]  # (a list's: the first's)
    if len(paths) != len(parts[0].ins):
        return (None,) * len(parts[0].ins)
    found = []
    for path in paths:
        (nxt, taken), _ = ctx.resolver.structural.get((path, CONSUMER_WIDTH), ((None, None), ""))
        if taken is None and nxt in paths:
            taken = parts[0].ins[paths.index(nxt)]
        found.append(taken)
    return tuple(found)


def _solved(cls, ctx: BlockContext):
    """(the units, (the wirings ranked, how many fit)): the members as they are, else with one
    Sequential's items as units of their own (the first, by name, that leaves a wiring)."""
    expandable = [None] + sorted(m.attr for m in modules(cls) if m.kind == "sequential")
    for expand in expandable:
        parts = _parts(cls, ctx, expand)
        if parts is None:
            continue
        consumer = _consumers(cls, ctx, parts)
        names = [p.attr for p in parts]
        solved = solve([p.ins for p in parts], [p.outs for p in parts], consumer, [0], names)
        if solved is not None and solved[0]:
            return parts, solved
    return None


class SolvedWiring(BlockPattern):
    role = "MultiPathBlock"
    priority = -90  # weak: any pattern that recognises the block wins; above the chain only
    fallback = True

    accepts = Accepts(tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        if tensors(cls):
            return None
        found = _solved(cls, ctx)
        if found is None:
            return None
        parts, (ranked, total) = found
        names = [p.attr for p in parts]
        chained = dataflow_order(modules(cls))
        if chained is not None and chained[0].attr == parts[0].path[0]:
            return None  # (members that chain from the first by name are the chain's)
        if chained is not None and not any(s[0] != "node" for s in ranked[0].reads):
            return None  # (a chain from another member, and no join: the chain's reading)
        labels = [describe(w, names) for w in ranked]
        wiring = ctx.choose(
            cls,
            names[0],
            "wiring",
            labels[0],
            labels[1:],
            f"{total} wirings fit the recorded widths; the first ranks best: every output used, "
            "fewest joins, units reading what comes before them by name, each the newest "
            "output of its width",
        )
        chosen = ranked[labels.index(wiring.value)] if wiring.value in labels else ranked[0]
        choices = [wiring]
        if any(p.kind in ("unit", "conv") for p in parts):
            choices.append(
                ctx.choose(
                    cls,
                    names[0],
                    "activation",
                    "relu",
                    act.alternatives("relu", conv=True),
                    "after each conv(-norm) unit but a bare conv giving the output (ReLU: "
                    "PeleeNet's, MSRN's, DLA's, SelecSLS's)",
                )
            )
        pooled = {}
        for p in parts:
            if POOLED.search(p.attr) and p.kind != "module":
                # Inception's pool branch reads its input pooled 3x3 at stride 1 (torchvision's
                # InceptionA-E: avg_pool2d(x, 3, 1, 1); GoogLeNet's branch4: a max pool): no keys
                c = ctx.choose(
                    cls,
                    p.attr,
                    "pooled_input",
                    "avg_pool_3x3",
                    ["max_pool_3x3", "none"],
                    "a pool-named branch reads its input pooled 3x3 at stride 1 (Inception's)",
                )
                choices.append(c)
                pooled[p.attr] = c.value
        residual = "none"
        out = chosen.output
        if out[0] == "node" and parts[out[1] - 1].outs == parts[0].ins:
            # MSRN's block adds its input back; DLA's tree and SelecSLS's block do not: the
            # simplest reading (no join) by default, a choice
            c = ctx.choose(
                cls,
                parts[out[1] - 1].attr,
                "residual",
                "none",
                ["add"],
                "the block's input added to its last unit's output",
            )
            choices.append(c)
            residual = c.value
        open_residual = any(c.name == "residual" for c in choices)
        why = _unproven(chosen, parts, total, open_residual)
        found = (parts, chosen, residual, why, pooled)
        # (as much as the chain explains: its members, never the items of a list it expands)
        return Match(self, len(modules(cls)), found, choices, guessed=why)

    def concatenated(self, match: Match) -> tuple[tuple[str, ...], bool]:
        """What it gives where its output joins units (and x): analyze widens its instances."""
        parts, chosen, *_ = match.found
        if chosen.output[0] != "cat":
            return (), False
        joined = nodes_of(chosen.output)
        return tuple(parts[j - 1].attr for j in joined if j), 0 in joined

    def forward(self, match: Match, g: Graph) -> None:
        parts, chosen, residual, why, pooled = match.found
        activation = next((c.value for c in match.choices if c.name == "activation"), "identity")
        x = g.input("x")
        made: dict[int, Value] = {0: x}
        joined: dict[tuple, Value] = {}
        label = lambda j: "x" if j == 0 else parts[j - 1].attr  # noqa: E731
        readers: dict[tuple, int] = {}
        for s in chosen.reads:
            readers[s] = readers.get(s, 0) + 1

        def source(s, name: str) -> Value:
            kind, what = s
            if kind == "node":
                return made[what]
            if s in joined:
                return joined[s]
            values = [made[j] for j in what]
            names = ", ".join(label(j) for j in what)
            if kind == "cat":
                v = g.call_function(
                    "cat",
                    values,
                    1,
                    name=name,
                    comment=f"{names} side by side",
                    inline=readers.get(s, 0) < 2 and name != "out",
                )
            else:
                v = values[0]
                for other in values[1:]:
                    v = g.call_function("add", v, other, name=name, inline=True)
            joined[s] = v
            return v

        comment = "" if why else "the only wiring the recorded widths allow"
        for u in chosen.order():
            p = parts[u]
            y = source(chosen.reads[u], "joined")
            at = p.path
            name = "_".join(p.path)
            name = name if name.isidentifier() else f"out_{name}"
            if pooled.get(p.attr, "none") != "none":
                fn = f"{pooled[p.attr][:3]}_pool{p.ndim}d"
                y = g.call_function(
                    fn, y, 3, kwargs={"stride": 1, "padding": 1}, name=name, inline=True
                )
            if p.kind == "module":
                y = g.call_module(at, y, name=name, comment=comment)
            else:
                y = g.call_module(p.conv.conv, y, name=name, inline=True, comment=comment)
                if p.kind == "unit":
                    y = g.call_module(p.conv.norm, y, name=name, inline=True)
                last = chosen.output == ("node", u + 1)
                if p.kind == "unit" or not last:
                    y = act.apply(g, activation, y, name=name)
            comment = ""
            made[u + 1] = y
        out = source(chosen.output, "out")
        if residual == "add":
            out = g.call_function("add", out, x, name="out", inline=True)
        g.output(out)

    @staticmethod
    def examples():
        from codegen.patterns.blocks._wiring_examples import wiring_examples

        return wiring_examples()


def _unproven(chosen: Wiring, parts: list[Part], total: int, open_residual: bool) -> str:
    """Why the wiring is a guess ('' where the widths prove it)."""
    if total > 1:
        return (
            f"{total} wirings of these members fit their widths; this one ranks best by the "
            "priors (every output used, fewest joins, name order): the `wiring` choice lists "
            "the others"
        )
    if open_residual:
        return "whether the block's input is added back: the widths allow it (a choice)"
    if any(POOLED.search(p.attr) for p in parts):
        return "what the pool-named member reads: a pool leaves no keys"
    reads = {}
    for u, s in enumerate(chosen.reads):
        reads[u + 1] = set(nodes_of(s))

    def ancestors(j: int) -> set[int]:
        seen, stack = set(), list(reads.get(j, ()))
        while stack:
            a = stack.pop()
            if a not in seen:
                seen.add(a)
                stack += list(reads.get(a, ()))
        return seen

    for s in list(chosen.reads) + [chosen.output]:
        if s[0] == "cat" and any(a in ancestors(b) for a in s[1] for b in s[1]):
            return (
                "a concatenation joins an output beside what was computed from it: a keyless "
                "pool or stride on its path would leave the same keys"
            )
    return ""
