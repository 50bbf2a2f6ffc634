"""A U-Net whose levels chain by their widths and whose skips are sums (KAIR's UNetRes, the DRUNet
denoiser, cszn/KAIR models/network_unet.py; RED-Net-style restoration nets; 1-D denoising U-Nets):

    x1 = head(x); x2 = down1(x1); x3 = down2(x2); x4 = down3(x3)   # strided convs: the size halves
    x = body(x4)
    x = up3(x + x4); x = up2(x + x3); x = up1(x + x2)              # transposed convs: it doubles
    return tail(x + x1)

The reading is of the sizes, not the names: the members chain by their widths in one order (each
reads what the one before gives), the map shrinks along the first part (stride-s convs) and grows
back to the input's size along the rest (stride-s transposed convs), and each map the growing part
gives meets a map the shrinking part gave of the same width and size. A concatenated skip would
make the next member read twice the width, which it does not: the skips are sums, or there are
none (a plain encoder-decoder). Where they are added no key shows either:
- `before_up`: the running map gets the shrinking part's last map of its width and size before
  each upsampling member, and before the member after the last one (KAIR's `m_up3(x + x4)`, its
  deepest map included); the default where each upsampling member holds more after its upsampler
  (an up level `[ConvTranspose2d, blocks]`);
- `after_up`: after each upsampling member only (NAFNet's `decoder(up(x) + skip)`); the default
  where the upsamplers stand alone;
- `none`.
A choice (`skips`), so the class says guessed until calibration or --hints settles it.

Where the growing part doubles the map more often than any key halves it, the shrinking part
halves it without keys (GuoShi28's CBDNet: `AvgPool2d(2)` between its conv levels): a 2x2 pool
before each member that widens a width another member gives, when there are exactly as many as
the doublings left over; max or average is the choice `pooling` (max, the U-Nets' usual).

LinkNet's reading (families/linked_encoder_decoder.py) pairs numbered encoder and decoder levels
and wins where both match; this one needs no pairing by names (a bottleneck between the paths,
levels named `inc`, `enc1`, `bottleneck`, `dec1`, lone upsamplers between them).
"""

from __future__ import annotations

import math
from fractions import Fraction

from codegen.ir.graph import Graph
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
from codegen.patterns._mirror_strides import strides_by
from codegen.patterns.blocks.chain import stage_pool, tie_order

CONTAINERS = ("sequential", "modulelist", "repeat")
RESAMPLING_SLOTS = ("Pool", "Upsample", "PixelShuffle", "PixelUnshuffle", "interpolate")


def _stride(m) -> int | None:
    stride = strides_by(m)
    if isinstance(stride, tuple):
        return stride[0] if len(set(stride)) == 1 else None
    return stride if isinstance(stride, int) else None


def member_scale(m, ctx: BlockContext, depth: int = 0) -> Fraction | None:
    """How much a member scales the map's side: a strided conv divides it, a transposed conv
    multiplies it; None where a keyless step may resample (a pool, an interpolation) or a class
    resamples inside (its own dataflow, not a chain this reading can follow)."""
    if depth > 6:
        return None
    if m.kind == "placeholder":
        return None if any(s in (m.type_name or "") for s in RESAMPLING_SLOTS) else Fraction(1)
    if m.kind == "builtin":
        stride = _stride(m)
        if family(m) != "conv" or stride is None:
            return Fraction(1) if family(m) in ("norm", "activation") else None
        if m.type_name.startswith("nn.ConvTranspose"):
            return Fraction(stride)
        return Fraction(1, stride)
    if m.kind in CONTAINERS:
        scale = Fraction(1)
        for child in m.children:
            inner = member_scale(child, ctx, depth + 1)
            if inner is None:
                return None
            scale *= inner ** (m.copies or 1) if m.kind == "repeat" else inner
        return scale
    held = ctx.classes.get(m.type_name) if m.kind == "class" else None
    if held is None:
        return None
    inner = [member_scale(m, ctx, depth + 1) for m in modules(held)]
    resampling = [s for s in inner if s != 1]
    if len(resampling) > 1:
        return None  # its shortcut and body both may: read the class's own dataflow elsewhere
    return resampling[0] if resampling else Fraction(1)


def _upsampler_alone(m) -> bool:
    """A member that is its upsampler and nothing more: a bare transposed conv, or a Sequential
    of it and its norm and activation (no block after it)."""
    if m.kind == "sequential":
        return sum(
            c.kind != "placeholder" and family(c) == "conv" for c in m.children
        ) == 1 and all(c.kind in ("builtin", "placeholder") for c in m.children)
    return m.kind == "builtin"


def _alone(m, ctx: BlockContext) -> bool:
    """An upsampling member holding nothing after its upsampler (a bare transposed conv, or a
    class or Sequential of it and an activation)."""
    if m.kind == "class" and m.type_name in ctx.classes:
        inner = modules(ctx.classes[m.type_name])
        return len(inner) == 1 and _upsampler_alone(inner[0])
    return _upsampler_alone(m)


POOL_GUESS = (
    "the shrinking path halves the map where no key shows it (the growing path doubles it more "
    "often than the keys halve it): read as a pool before each widening level, the choice pooling"
)


def _keyless_pools(members: list, scale_of: dict) -> list:
    """The members a keyless 2x2 pool precedes (CBDNet's U-Net: `AvgPool2d(2)` between its conv
    levels) where the map would otherwise grow past the input's size: one before each member that
    keeps the size and widens a width another member gives, when there are exactly as many of
    them as the doublings beyond the halvings. [] where the keys' own scales come back to 1, or
    the count does not fit."""
    excess = math.prod(scale_of.values())
    doublings = int(math.log2(excess)) if excess > 1 and excess.denominator == 1 else 0
    if doublings == 0 or 2**doublings != excess:
        return []
    produced = {m.io.out_width for m in members}
    widening = [
        m
        for m in members
        if scale_of[m.attr] == 1 and m.io.in_width in produced and m.io.out_width > m.io.in_width
    ]
    return widening if len(widening) == doublings else []


def plan(order: list, scales: list[Fraction], where: str) -> dict[int, int] | None:
    """{member index: index of the member whose output is added to that member's input}, for the
    skips placed `where`; None where a point finds no map of its width and size to add."""
    deepest = max(i for i, s in enumerate(scales) if s < 1)  # the last shrinking member
    sizes, side = [], Fraction(1)
    for s in scales:
        side *= s
        sizes.append(side)
    given = [(m.io.out_width, sizes[i], i) for i, m in enumerate(order)]
    encoder = given[: deepest + 1]
    ups = [i for i in range(deepest + 1, len(order)) if scales[i] > 1]
    points = [i + 1 for i in ups if i + 1 < len(order)]
    if where == "before_up":
        points = sorted(set(ups) | set(points))
    added: dict[int, int] = {}
    taken: set[int] = set()
    for point in points:
        width, size = order[point - 1].io.out_width, sizes[point - 1]
        found = [j for w, s, j in encoder if (w, s) == (width, size) and j not in taken]
        if not found:
            return None
        # the last map the shrinking part gave at that size (a level's output, before its down)
        added[point] = found[-1]
        taken.update(j for w, s, j in encoder if s == size)
    return added


SEARCH_BUDGET = 20_000  # partial orders tried before giving up


def u_order(members: list, scale_of: dict) -> list | None:
    """The first order, in the names' reading order (chain.tie_order), in which every member reads
    the width the one before gives, the map shrinks and then grows (never shrinking again once it
    grew, never larger than the input), and ends at the input's size; None where there is none.
    Members that keep the width and size may trade places (an encoder's and a decoder's block of
    one width): the names order them, which is why the class says guessed until calibrated."""
    ranked = sorted(members, key=tie_order)
    produced = {m.io.out_width for m in ranked}
    starts = [m for m in ranked if m.io.in_width not in produced] or ranked
    budget = [SEARCH_BUDGET]

    def walk(path, size, grew):
        if len(path) == len(ranked):
            ends = max(path[0].io.in_width, path[-1].io.out_width)
            # the signal's own channels enter and leave: every map between is wider (features),
            # so an image net whose input and output widths agree is not read as a ring
            inside = all(m.io.out_width > ends for m in path[:-1])
            return list(path) if size == 1 and grew and inside else None
        budget[0] -= 1
        if budget[0] < 0:
            return None
        width = path[-1].io.out_width
        for m in ranked:
            if m in path or m.io.in_width != width:
                continue
            scale = scale_of[m.attr]
            if (scale < 1 and grew) or size * scale > 1:
                continue
            path.append(m)
            found = walk(path, size * scale, grew or scale > 1)
            path.pop()
            if found is not None:
                return found
        return None

    for first in starts:
        scale = scale_of[first.attr]
        if scale > 1:
            continue
        found = walk([first], scale, False)
        if found is not None:
            return found
    return None


class SummedSkipUNet(BlockPattern):
    role = "UNet"
    # Over the width chain it reads in the same order (it knows the skips); under LinkNet's
    # reading (families/linked_encoder_decoder.py), which pairs numbered encoder and decoder
    # levels and reads their stems' activations: where both match, that one.
    priority = 9

    accepts = Accepts(5, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) < 5:
            return None
        if any(m.io is None or not m.io.in_width or not m.io.out_width for m in members):
            return None
        scale_of = {m.attr: member_scale(m, ctx) for m in members}
        if any(s is None for s in scale_of.values()):
            return None
        pooled = _keyless_pools(members, scale_of)
        for m in pooled:
            scale_of[m.attr] /= 2
        values = list(scale_of.values())
        if not any(s < 1 for s in values) or math.prod(values) != 1:
            return None  # (before any search: the map shrinks and comes back to its size)
        order = u_order(members, scale_of)
        if order is None or any(m is order[0] for m in pooled):
            return None  # (a pool before the first member would shrink the input itself)
        scales = [scale_of[m.attr] for m in order]
        ups = [m for m, s in zip(order, scales) if s > 1]
        alone = all(_alone(m, ctx) for m in ups)
        default = "after_up" if alone else "before_up"
        plans = {w: plan(order, scales, w) for w in ("before_up", "after_up")}
        if plans[default] is None:
            return None
        others = [w for w in ("before_up", "after_up") if w != default and plans[w] is not None]
        skips = ctx.choose(
            cls,
            order[0].attr,
            "skips",
            default,
            [*others, "none"],
            "the shrinking path's maps added back where the growing path meets their width "
            "and size (a concatenation would widen what the next member reads)",
        )
        guessed = ""
        if skips.source == "default":
            guessed = (
                "the skips are sums (the widths rule out a concatenation), or none; where they "
                "are added leaves no key: the choice skips"
            )
        choices = [skips]
        if pooled:
            pool = ctx.choose(
                cls,
                order[0].attr,
                "pooling",
                "max_pool",
                ["avg_pool"],
                "the keyless 2x2 pool before each level that widens the map on the shrinking "
                "path (as many as the growing path's doublings need)",
            )
            choices.append(pool)
            if pool.source == "default":
                guessed = guessed or POOL_GUESS
        each = {m.attr for m in order if m.kind in ("repeat", "modulelist")}
        plans = {w: p for w, p in plans.items() if p is not None}
        found = ([m.attr for m in order], plans, each, {m.attr for m in pooled})
        return Match(self, len(members), found, choices, guessed=guessed)

    def forward(self, match: Match, g: Graph) -> None:
        order, plans, each, pooled = match.found
        where = match.choices[0].value
        pool = match.choices[1].value if pooled else None
        added = plans.get(where, {}) if where != "none" else {}
        x = g.input("x")
        given: dict[int, object] = {}
        names = {j: f"x{k + 1}" for k, j in enumerate(sorted(set(added.values())))}
        for i, attr in enumerate(order):
            if i in added:
                x = g.call_function("add", x, given[added[i]], name="x", comment="skip")
            if attr in pooled:
                x = stage_pool(g, pool, x, 2, comment="down: a pool no key shows")
            x = g.call_module((attr,), x, name=names.get(i, "x"), each=attr in each)
            given[i] = x
        g.output(x)

    @staticmethod
    def examples():
        from codegen.patterns.families._summed_skip_examples import summed_skip_examples

        found = summed_skip_examples()
        return [found[0], found[3]]  # (and the keyless pools' layout)
