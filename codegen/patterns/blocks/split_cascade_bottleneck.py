"""Res2Net's bottleneck (Gao et al. 2019; their res2net.py, timm's and mmpretrain's Bottle2neck): a
1x1 conv widens to `scale` groups of `width` channels, the groups pass through a list of `scale - 1`
3x3 conv-norm pairs, each reading its group plus what the previous pair gave (a cascade), the last
group passes untouched; a 1x1 conv maps the groups back, and the input is added:

    spx = chunk(act(bn1(conv1(x))), scale, 1)
    sp = spx[0]; for i: sp = act(bns[i](convs[i](sp + spx[i] if i else spx[0]))); outs.append(sp)
    act(bn3(conv3(cat(outs + [spx[-1]], 1))) + shortcut(x))

The first block of a stage (`stype='stage'`: the one with a projection shortcut) does not
cascade (each group is its own input) and average-pools the last group (3x3, padding 1, at the
convs' stride) so its resolution matches. Recognised from widths alone: a list of same-width
convs, one fewer than the groups a 1x1 conv gives, with a list of norms of that width.
"""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns import _activations as act
from codegen.patterns._kit import Accepts, BlockContext, BlockPattern, Match, family, modules
from codegen.patterns._kit import tensors
from codegen.patterns.blocks.residual import SHORTCUT_NAMES
from codegen.patterns._kit import name_order


def _items(m) -> tuple[object, int] | None:
    """(the item, how many) of a list of identical builtin layers."""
    if m.kind == "repeat" and m.children and m.children[0].kind == "builtin":
        count = m.copies or (m.repeat if isinstance(m.repeat, int) else 0)
        return (m.children[0], count) if count else None
    return None


def _arg(m, keyword: str, default=None):
    return next((a.value for a in m.args if a.keyword == keyword), default)


class SplitCascadeBottleneck(BlockPattern):
    role = "Bottle2neck"
    priority = 6

    accepts = Accepts(6, 7, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or not 6 <= len(members) <= 7:
            return None
        lists = [(m, found) for m in members if (found := _items(m)) is not None]
        conv_lists = [(m, f) for m, f in lists if family(f[0]) == "conv"]
        norm_lists = [(m, f) for m, f in lists if family(f[0]) == "norm"]
        if len(conv_lists) != 1 or len(norm_lists) != 1:
            return None
        (convs, (conv, count)), (bns, (bn, norm_count)) = conv_lists[0], norm_lists[0]
        width = conv.io.in_width
        if (
            count != norm_count
            or count < 1
            or conv.io.out_width != width
            or bn.io.in_width != width
        ):
            return None
        if _arg(conv, "kernel_size") in (1, (1, 1)) or _arg(conv, "groups", 1) != 1:
            return None
        scale = count + 1
        rest = [m for m in members if m is not convs and m is not bns]
        shortcut = [m for m in rest if m.attr in SHORTCUT_NAMES]
        if len(shortcut) > 1 or any(m.present_if for m in shortcut):
            return None  # a block built with or without it: stage and normal blocks differ
        rest = [m for m in rest if m not in shortcut]
        pointwise = sorted(
            (m for m in rest if m.kind == "builtin" and family(m) == "conv"),
            key=lambda m: name_order(m.attr),
        )
        norms = sorted(
            (m for m in rest if m.kind == "builtin" and family(m) == "norm"),
            key=lambda m: name_order(m.attr),
        )
        if len(pointwise) != 2 or len(norms) != 2 or len(rest) != 4:
            return None
        entry = next((c for c in pointwise if c.io.out_width == width * scale), None)
        leave = next((c for c in pointwise if c is not entry), None)
        if entry is None or leave.io.in_width != width * scale:
            return None
        pair = {}
        for conv_m in (entry, leave):  # the norm of the conv's number, else of its width
            numbered = [n for n in norms if name_order(n.attr)[0] == name_order(conv_m.attr)[0]]
            fits = [n for n in norms if n.io.in_width == conv_m.io.out_width]
            found = numbered if len(numbered) == 1 else fits
            if len(found) != 1 or found[0].io.in_width != conv_m.io.out_width:
                return None
            pair[conv_m.attr] = found[0].attr
        if pair[entry.attr] == pair[leave.attr]:
            return None
        c_in, c_out = entry.io.in_width, leave.io.out_width
        if not shortcut and c_in != c_out:
            return None
        activation = ctx.choose(
            cls,
            pair[entry.attr],
            "activation",
            "relu",
            act.alternatives("relu", conv=True),
            "after each conv-norm pair and after the sum (ReLU in Res2Net's code)",
        )
        choices = [activation]
        stage = bool(shortcut)
        stride = _arg(conv, "stride", 1)
        last, guessed = "pass", ""
        if stage:
            if not isinstance(stride, int):
                return None  # a stride lifted to a parameter: the pool's would have to follow it
            # The first block of a stage pools the group no conv reads, at the convs' stride, so
            # its size matches theirs; Gao et al.'s res2net.py and timm pool at stride 1 too
            # (a 3x3 average, padding 1), mmpretrain's Res2Net only where the block strides.
            pooled = ctx.choose(
                cls,
                convs.attr,
                "last_group",
                "avg_pool_3x3",
                ["pass"],
                "the first block of a stage: the group no conv reads, pooled at the convs' stride",
            )
            choices.append(pooled)
            last = "avg_pool_3x3" if stride != 1 else pooled.value
            if stride == 1 and pooled.source == "default":
                guessed = (
                    "the first block of a stage keeps the resolution: its last group is pooled "
                    "(3x3, stride 1) as Gao et al.'s and timm's Res2Net do; mmpretrain's passes "
                    "it as is (last_group='pass')"
                )
        found = {
            "entry": (entry.attr, pair[entry.attr]),
            "leave": (leave.attr, pair[leave.attr]),
            "lists": (convs.attr, bns.attr),
            "scale": scale,
            "stage": stage,
            "stride": stride,
            "last": last,
            "shortcut": shortcut[0].attr if shortcut else None,
        }
        return Match(self, len(members), found, choices, guessed=guessed)

    def forward(self, match: Match, g: Graph) -> None:
        f = match.found
        activation = match.choices[0].value
        x = g.input("x")
        out = g.call_module((f["entry"][0],), x, name="out", inline=True)
        out = g.call_module((f["entry"][1],), out, name="out", inline=True)
        out = act.apply(g, activation, out, name="out")
        groups = g.call_method(
            "chunk",
            out,
            f["scale"],
            1,
            name="groups",
            comment=f"{f['scale']} groups of channels",
        )
        convs, bns = f["lists"]
        outs = []
        sp = None
        for i in range(f["scale"] - 1):
            part = g.call_function("getitem", groups, i, inline=True)
            if i > 0 and not f["stage"]:  # each group also reads what the previous pair gave
                part = g.call_function("add", sp, part, inline=True)
            sp = g.call_module((convs, str(i)), part, name="sp", inline=True)
            sp = g.call_module((bns, str(i)), sp, name="sp", inline=True)
            sp = act.apply(g, activation, sp, name=f"sp{i + 1}")
            outs.append(sp)
        rest = g.call_function("getitem", groups, f["scale"] - 1, name="rest", inline=True)
        if f["last"] == "avg_pool_3x3":
            rest = g.call_function(
                "avg_pool2d",
                rest,
                3,
                f["stride"],
                1,
                name="rest",
                inline=True,
                comment="the last group, pooled to the convs' resolution",
            )
        out = g.call_function("cat", [*outs, rest], 1, name="out", inline=True)
        out = g.call_module((f["leave"][0],), out, name="out", inline=True)
        out = g.call_module((f["leave"][1],), out, name="out")
        identity = x
        if f["shortcut"] is not None:
            identity = g.call_module((f["shortcut"],), x, name="identity", inline=True)
        out = g.call_function("add", out, identity, name="out", inline=True)
        g.output(act.apply(g, activation, out, name="out", inline=True))

    @staticmethod
    def examples():
        from codegen.patterns.blocks._split_examples import res2net_examples

        return res2net_examples()
