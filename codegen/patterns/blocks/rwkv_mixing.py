"""RWKV-4's layer (arXiv 2305.13048): attention replaced by a time-mixing recurrence, the MLP by a
channel mixing, each reading a blend of the token and the one before it.

    shifted = x moved one step later in time (zeros first)
    mix(m) = x * m + shifted * (1 - m)                          # per channel, m learned
    TimeMixing:    k, v = key(mix(mk)), value(mix(mv)); r = sigmoid(receptance(mix(mr)))
                   wkv_t = (sum_{i<t} e^{-(t-1-i) exp(decay) + k_i} v_i + e^{first + k_t} v_t)
                           / (the same sums without v)           # per channel (rwkv_wkv)
                   output(r * wkv)
    ChannelMixing: r = sigmoid(receptance(mix(mr))); r * value(relu(key(mix(mk)))^2)
    Block:         x = pre_ln(x) (the first layer only); x + time(ln1(x)); x + channel(ln2(x))

Recognised from shapes where they tell (the mixes are [1, 1, d], decay and first [width]) and
from RWKV's own names where they cannot: which of three same-shaped mixes and three square
Linears is the key, the value and the receptance.
"""

from __future__ import annotations

import re

from codegen.ir.graph import Graph
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Match,
    family,
    modules,
    tensors,
)

NAMES = {"key": r"(time_mix_)?k(ey)?", "value": r"(time_mix_)?v(alue)?"}
NAMES["receptance"] = r"(time_mix_)?r(eceptance)?"


def _named(items: list, pattern: str):
    found = [m for m in items if re.fullmatch(pattern, m.attr, re.I)]
    return found[0] if len(found) == 1 else None


def _mixes(params: list, kinds: tuple[str, ...]) -> tuple | None:
    """The [1, 1, d] mixing vectors of `kinds`, by name."""
    mixes = [t for t in params if len(t.shape) == 3 and t.shape[:2] == (1, 1)]
    found = tuple(_named(mixes, NAMES[k]) for k in kinds)
    if None in found or len(mixes) != len(kinds):
        return None
    return tuple(t.attr for t in found)


def _linears(members: list, kinds: tuple[str, ...]) -> tuple | None:
    linears = [m for m in members if family(m) == "linear"]
    found = tuple(_named(linears, NAMES.get(k, k)) for k in kinds)
    return None if None in found or len(linears) != len(kinds) else tuple(m.attr for m in found)


def _mixed(g: Graph, x, shifted, mix: str, name: str):
    """x * m + shifted * (1 - m)."""
    m = g.getattr((mix,))
    keep = g.call_function("mul", x, m, inline=True)
    rest = g.call_function("mul", shifted, g.call_function("sub", 1.0, m, inline=True), inline=True)
    return g.call_function("add", keep, rest, name=name)


def _shifted(g: Graph, x):
    # [batch, seq, d]: each position sees the one before it, zeros at the first
    return g.call_function("F.pad", x, (0, 0, 1, -1), name="shifted", comment="the token before")


class TimeMixing(BlockPattern):
    role = "TimeMixing"
    priority = 10

    accepts = Accepts(4, 4, tensors=True)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        params, members = tensors(cls), modules(cls)
        if len(params) != 5 or len(members) != 4:
            return None
        vectors = [t for t in params if len(t.shape) == 1]
        decay, first = _named(vectors, r"\w*decay\w*"), _named(vectors, r"\w*first\w*|u")
        mixes = _mixes(params, ("key", "value", "receptance"))
        linears = _linears(members, ("key", "value", "receptance", r"out(put)?|o"))
        if decay is None or first is None or mixes is None or linears is None:
            return None
        return Match(self, 9, (decay.attr, first.attr, mixes, linears))

    def forward(self, match: Match, g: Graph) -> None:
        decay, first, (mk, mv, mr), (key, value, receptance, output) = match.found
        x = g.input("x")  # [batch, seq, d_model]
        shifted = _shifted(g, x)
        k = g.call_module((key,), _mixed(g, x, shifted, mk, "k"), name="k")
        v = g.call_module((value,), _mixed(g, x, shifted, mv, "v"), name="v")
        r = g.call_module((receptance,), _mixed(g, x, shifted, mr, "r"), inline=True)
        r = g.call_function("sigmoid", r, name="r")
        wkv = g.call_function(
            "rwkv_wkv", g.getattr((decay,)), g.getattr((first,)), k, v, name="wkv"
        )
        g.output(g.call_module((output,), g.call_function("mul", r, wkv, inline=True)))

    @staticmethod
    def examples():
        from codegen.patterns.blocks._rwkv_examples import example

        return [example()]


class ChannelMixing(BlockPattern):
    role = "ChannelMixing"
    priority = 10

    accepts = Accepts(3, 3, tensors=True)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        params, members = tensors(cls), modules(cls)
        if len(params) != 2 or len(members) != 3:
            return None
        mixes = _mixes(params, ("key", "receptance"))
        linears = _linears(members, ("key", "value", "receptance"))
        if mixes is None or linears is None:
            return None
        return Match(self, 5, (mixes, linears))

    def forward(self, match: Match, g: Graph) -> None:
        (mk, mr), (key, value, receptance) = match.found
        x = g.input("x")  # [batch, seq, d_model]
        shifted = _shifted(g, x)
        k = g.call_module((key,), _mixed(g, x, shifted, mk, "k"), inline=True)
        k = g.call_function("torch.square", g.call_function("relu", k, inline=True), name="k")
        r = g.call_module((receptance,), _mixed(g, x, shifted, mr, "r"), inline=True)
        r = g.call_function("sigmoid", r, name="r")
        g.output(g.call_function("mul", r, g.call_module((value,), k, inline=True)))

    @staticmethod
    def examples():
        from codegen.patterns.blocks._rwkv_examples import example

        return [example()]


class RwkvBlock(BlockPattern):
    """ln1/ln2 around a time mixing and a channel mixing; a pre_ln first where the layer has it
    (RWKV's first layer normalises the embeddings)."""

    role = "Block"
    priority = 10

    accepts = Accepts(
        4, 5, tensors=False, families=("norm",), roles=("TimeMixing", "ChannelMixing")
    )

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) not in (4, 5):
            return None
        time = [m for m in members if ctx.role(m) == "TimeMixing"]
        channel = [m for m in members if ctx.role(m) == "ChannelMixing"]
        norms = [m for m in members if family(m) == "norm"]
        if len(time) != 1 or len(channel) != 1 or len(norms) != len(members) - 2:
            return None
        pre = _named(norms, r"pre\w*") if len(norms) == 3 else None
        rest = [n for n in norms if n is not pre]
        first, second = _named(rest, r"\w*1"), _named(rest, r"\w*2")
        if (len(norms) == 3 and pre is None) or first is None or second is None:
            return None
        found = (pre.attr if pre else None, first.attr, second.attr, time[0].attr, channel[0].attr)
        return Match(self, len(members), found)

    def forward(self, match: Match, g: Graph) -> None:
        pre, ln1, ln2, time, channel = match.found
        x = g.input("x")
        if pre is not None:
            x = g.call_module((pre,), x, name="x")
        y = g.call_module((time,), g.call_module((ln1,), x, inline=True), inline=True)
        x = g.call_function("add", x, y, name="x")
        y = g.call_module((channel,), g.call_module((ln2,), x, inline=True), inline=True)
        g.output(g.call_function("add", x, y))

    @staticmethod
    def examples():
        from codegen.patterns.blocks._rwkv_examples import example

        return [example()]
