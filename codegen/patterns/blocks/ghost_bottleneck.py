"""GhostNet's bottleneck (Han et al. 2020; huawei-noah's ghostnet.py, timm's GhostBottleneck): an
expanding Ghost module, a depthwise conv-norm where the block strides, a squeeze-excitation where
the stage has one, a projecting Ghost module, and the input (through a depthwise-then-pointwise
shortcut where the shape changes) added:

    out = ghost2(se(bn_dw(conv_dw(ghost1(x))))) + shortcut(x)

Only the first Ghost module is activated (ReLU), the second not, after MobileNetV2 (section 3.2
of the paper): the two are one class whose keys cannot show that, so the ghost modules' convs
and norms are called here, with the block's activation choice. Both codes build `conv_dw` only
where the block strides, so it and the shortcut's first conv take stride 2 (pinned, a
convention), and their squeeze-excitation gates with a hard sigmoid (huawei-noah's first
ghost_net.py: an SELayer of Linear layers clamped to [0, 1]). That first release writes the steps
as the items of one `conv` Sequential (empty Sequentials, so no keys, where it neither strides
nor gates) and nests the shortcut's depthwise unit: its layers are called one by one.
"""

from __future__ import annotations

from codegen.ir.graph import Graph, Slice
from codegen.patterns import _activations as act
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Match,
    family,
    modules,
    tensors,
)
from codegen.patterns.blocks._conv_parts import unit, walk_builtin
from codegen.patterns.blocks._gate_branch import apply_gate, last_conv
from codegen.patterns.blocks.ghost_module import ghost_parts
from codegen.patterns.blocks.residual import SHORTCUT_NAMES
from codegen.patterns._kit import name_order
from codegen.patterns.blocks.squeeze_excite import channel_gate

LISTS = ("sequential", "modulelist")
WHY = "GhostNet's bottleneck (huawei-noah's and timm's code)"


class GhostBottleneck(BlockPattern):
    role = "GhostBottleneck"
    priority = 9

    accepts = Accepts(tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls):
            return None
        prefix: tuple[str, ...] = ()
        bodies = [m for m in members if m.kind in LISTS and m.attr not in SHORTCUT_NAMES]
        if len(bodies) == 1 and all(m is bodies[0] or m.attr in SHORTCUT_NAMES for m in members):
            # huawei-noah's original ghost_net.py: the steps are the items of one Sequential
            # (`conv`), an empty Sequential (no keys) where the block neither strides nor gates
            # (a list where the Ghost modules' halves are wider than what reads them)
            prefix = (bodies[0].attr,)
            inner = [c for c in bodies[0].children if c.kind != "placeholder"]
            members = inner + [m for m in members if m is not bodies[0]]
        ghosts = sorted(
            (m for m in members if ctx.role(m) == "GhostModule"), key=lambda m: name_order(m.attr)
        )
        if len(ghosts) != 2 or any(m.kind != "class" or m.io is None for m in ghosts):
            return None
        rest = [m for m in members if m not in ghosts]
        shortcut = [m for m in rest if m.attr in SHORTCUT_NAMES and m.kind == "sequential"]
        gates = [m for m in rest if channel_gate(m, ctx)]
        convs = [m for m in rest if m.kind == "builtin" and family(m) == "conv"]
        norms = [m for m in rest if m.kind == "builtin" and family(m) == "norm"]
        # the depthwise conv-norm as one item (huawei-noah's `depthwise_conv`: [conv, bn])
        units = [m for m in rest if m.kind == "sequential" and m not in shortcut]
        if len(shortcut) > 1 or len(gates) > 1 or len(convs) != len(norms) or len(convs) > 1:
            return None
        if len(units) > 1 or (units and convs):
            return None
        if len(rest) != len(shortcut) + len(gates) + len(convs) + len(norms) + len(units):
            return None
        first, second = ghosts
        # Each Ghost module gives both halves, 2 * ceil(oup / 2) channels, sliced to `oup` (both
        # codes): one more than what reads them where `oup` is odd.
        mid = second.io.in_width
        if first.io.out_width not in (mid, mid + 1):
            return None
        dw = None
        if convs or units:
            conv = unit(convs[0] if convs else units[0], ctx, prefix)
            norm = norms[0] if convs else None
            if conv is None or not conv.one_channel_per_group or conv.in_width != mid:
                return None
            if norm is not None and (norm.io is None or norm.io.in_width != mid):
                return None
            dw = (conv.conv, prefix + (norm.attr,) if norm is not None else conv.norm)
            if dw[1] is None:
                return None
        c_in, c_out = first.io.in_width, second.io.out_width
        if shortcut:
            last = _layers(shortcut[0], ())
            c_out = last[-1][1].io.out_width if last and last[-1][1].io is not None else None
        else:
            c_out = c_in
        if c_out is None or second.io.out_width not in (c_out, c_out + 1):
            return None
        sliced = (first.io.out_width != mid, second.io.out_width != c_out)
        parts = []
        for ghost in ghosts:
            inner = ctx.classes.get(ghost.type_name)
            found = ghost_parts(inner, ctx, prefix + (ghost.attr,)) if inner is not None else None
            if found is None:
                return None
            gate = None
            if found[4] is not None:  # GhostNetV2's gated module: its own gate choices
                values = {c.name: c.value for c in inner.forward.choices} if inner.forward else {}
                if "gate" not in values or "gate_pooling" not in values:
                    return None
                at = prefix + (ghost.attr, found[4].attr)
                # an odd `oup`: both halves sliced to the gate's width before the product
                odd = found[4].io.out_width != 2 * found[0].out_width
                width = last_conv(found[4]) if odd else None
                if odd and width is None:
                    return None
                gate = (at, values["gate"], int(values["gate_pooling"]), width)
            parts.append((found[0], found[1], gate))
        activation = ctx.choose(
            cls,
            ".".join(prefix + (first.attr,)),
            "activation",
            "relu",
            act.alternatives("relu", conv=True),
            "in the first Ghost module (the second has none)",
        )
        pins = self._pins(cls, ctx, dw, shortcut[0] if shortcut else None, gates)
        found = (
            parts,
            dw,
            prefix + (gates[0].attr,) if gates else None,
            [path for path, _ in _layers(shortcut[0], (shortcut[0].attr,))] if shortcut else None,
            ".".join(prefix + (second.attr,)),
            sliced,
            parts[1][0].conv,
        )
        return Match(self, len(members), found, [activation], pins=pins)

    def concatenated(self, match: Match) -> tuple[tuple[str, ...], bool]:
        """What it gives: the second Ghost module's width, both halves (analyze widens it)."""
        return (match.found[4],), False

    def shared_channels(self, match: Match) -> int:
        """The channel the slice drops from the second Ghost module's halves, where it does."""
        return int(match.found[5][1])

    def _pins(self, cls, ctx: BlockContext, dw, shortcut, gates) -> list:
        pins = []
        for gate in gates:  # both codes gate with a hard sigmoid (timm's `_SE_LAYER`)
            inner = ctx.classes.get(gate.type_name)
            # ... but for huawei-noah's first ghost_net.py, whose SELayer of Linear layers (`fc`)
            # clamps: torch.clamp(y, 0, 1)
            linear = inner is not None and any(
                family(m) == "linear" for m in walk_builtin(modules(inner), ctx)
            )
            value, why = ("clamp", "a clamp") if linear else ("hardsigmoid", "a hard sigmoid")
            for c in inner.forward.choices if inner is not None else ():
                if c.name == "gate" and c.source == "default":
                    pins.append((c.path, "gate", value, f"{WHY}: {why} gate"))
        if dw is None:
            return pins
        layers = _layers(shortcut, (shortcut.attr,)) if shortcut is not None else []
        first_conv = next((path for path, c in layers if family(c) == "conv"), None)
        for path, _ in cls.instances:
            where = ".".join((path,) + dw[0])
            pins.append((where, "stride", 2, f"{WHY}: built where the block strides"))
            if first_conv is not None:
                where = ".".join((path,) + first_conv)
                pins.append((where, "stride", 2, f"{WHY}: the shortcut strides with the block"))
        return pins

    def forward(self, match: Match, g: Graph) -> None:
        parts, dw, gate, shortcut, _, sliced, reader = match.found
        activation = match.choices[0].value
        x = g.input("x")
        identity = x
        for path in shortcut or ():
            # its layers one by one: both codes activate nothing there, where a Sequential's
            # slot without keys might
            identity = g.call_module(path, identity, name="identity", inline=True)
        out = x
        for i, (primary, cheap, gate_branch) in enumerate(parts):
            applied = activation if i == 0 else "identity"
            ghost_in = out
            x1 = g.call_module(primary.conv, out, name="x1", inline=True)
            x1 = g.call_module(primary.norm, x1, name="x1", inline=applied != "identity")
            x1 = act.apply(g, applied, x1, name="x1")
            x2 = g.call_module(cheap.conv, x1, name="x2", inline=True)
            x2 = g.call_module(cheap.norm, x2, name="x2", inline=applied != "identity")
            x2 = act.apply(g, applied, x2, name="x2", inline=True)
            out = g.call_function(
                "cat", [x1, x2], 1, name="out", comment="primary and ghost features"
            )
            if sliced[i]:  # to the width what follows reads (the Ghost module's odd `oup`)
                width = (
                    g.getattr(reader + ("in_channels",), inline=True)
                    if i == 0
                    else g.call_method("size", identity, 1, inline=True)
                )
                out = g.call_function("getitem", out, (Slice(), Slice(None, width)), name="out")
            if gate_branch is not None:  # GhostNetV2's DFC attention (_gate_branch.py)
                path, squash, pooling, width = gate_branch
                if width is not None and not sliced[i]:
                    width = g.getattr(path + width + ("out_channels",), inline=True)
                    out = g.call_function("getitem", out, (Slice(), Slice(None, width)), name="out")
                out = apply_gate(g, path, ghost_in, out, squash, pooling)
            if i == 0 and dw is not None:
                out = g.call_module(dw[0], out, name="out", inline=True)
                out = g.call_module(dw[1], out, name="out", comment="depthwise, strided")
            if i == 0 and gate is not None:
                out = g.call_module(gate, out, name="out", comment="squeeze-excitation")
        g.output(g.call_function("add", out, identity))

    @staticmethod
    def examples():
        from codegen.patterns.blocks._split_examples import ghost_examples

        return ghost_examples()[1:]


def _layers(m, at: tuple[str, ...]) -> list[tuple[tuple[str, ...], object]]:
    """(path, layer) of each layer a shortcut Sequential holds, in order, through nested ones
    (huawei-noah's `shortcut`: [depthwise_conv [conv, bn], conv, bn]; timm's: [conv, bn, conv,
    bn])."""
    found: list = []
    for c in m.children:
        if c.kind == "sequential":
            found += _layers(c, at + (c.attr,))
        elif c.kind != "placeholder":
            found.append((at + (c.attr,), c))
    return found
