"""A VQ-VAE with a hierarchy of codebooks (VQ-VAE-2, Razavi et al. 2019; rosinality's
vq-vae-2-pytorch `VQVAE` and the repositories built on it): the image is encoded at several sizes,
each level quantized, and the deeper level's decoded codes condition the shallower one:

    b = enc_b(x); t = enc_t(b)                                  # strided: 1/4, then 1/8
    q_t = quantize_t(quantize_conv_t(t))
    q_b = quantize_b(quantize_conv_b(cat([dec_t(q_t), b])))     # top codes decoded to b's size
    return dec(cat([upsample_t(q_t), q_b]))                     # both levels decoded together

No key says which member reads which map; the widths and the sizes do most of it: each member
reads one map or the concatenation of two of one size whose widths add up to what it reads (a 1x1
conv reading 24 channels: the top decoder's 8 and the bottom encoding's 16), strided convs shrink
and transposed convs grow the map, the reconstruction comes back at the image's width and size,
and every path from the image to it passes through a quantizer (the codes are the bottleneck).
The levels' maps have different sizes (one codebook per size), and what a quantizer reads only it
reads. What is left the names and conventions order, and the file says it guessed: a quantizer
reads the member named with its level (`quantize_conv_t` before `quantize_t`), not a map a member
grew; members read what comes before them in reading order (the readings that fit: the choice
`wiring`); a concatenation puts the map a member grew first (rosinality's `cat([dec_t, enc_b])`,
`cat([upsample_t, quant_b])`: the choice `concat_order`). Calibration moves both.
"""

from __future__ import annotations

import itertools
import re
from fractions import Fraction

from codegen.ir import Ref
from codegen.ir.graph import Graph
from codegen.patterns._kit import Accepts, BlockContext, BlockPattern, Match, modules, tensors
from codegen.patterns.blocks.chain import tie_order
from codegen.patterns.families.summed_skip_unet import member_scale

SEARCH_BUDGET = 20_000
KEPT = 6  # readings offered as the choice's values: the best and its runners-up
TOKENS = re.compile(r"[A-Za-z]+|\d+")

# A source: (j,) one node, or (j, k) the concatenation of two, in that order. Node 0 is x; node
# u + 1 is member u's output (members in reading order).


def _level(attr: str) -> str:
    """The last token of a name (`quantize_conv_t` -> `t`): the level it belongs to."""
    tokens = TOKENS.findall(attr)
    return tokens[-1].lower() if len(tokens) > 1 else ""


def wirings(
    members: list, scales: list, quantizers: dict[int, set[int]], width: int
) -> list[tuple]:
    """Every reading (one source per member) that fits the widths and sizes, x of `width` at size
    1, each member's output read by some member but the last one, which gives the image back;
    None past the search's budget."""
    n = len(members)
    # a quantizer keeps the width it reads (its codebook's): no io of its own is needed
    ins = [None if u in quantizers else m.io.in_width for u, m in enumerate(members)]
    widths: list[int | None] = [width] + [None] * n
    budget = [SEARCH_BUDGET]
    found: list[tuple] = []
    reads: list[tuple | None] = [None] * n
    sizes: list[Fraction | None] = [Fraction(1)] + [None] * n

    owned: set[int] = set()  # nodes a quantizer reads
    closing = {u for u, m in enumerate(members) if u not in quantizers and m.io.out_width == width}
    if len(closing) != 1:
        closing = set()

    def node_width(j: int) -> int | None:
        return widths[j]

    def place(done: list[int], x_read: bool) -> bool:
        budget[0] -= 1
        if budget[0] < 0:
            return False
        if len(done) == n:
            found.append((tuple(reads), tuple(widths)))
            return True
        ready = [j for j in range(n + 1) if j == 0 or (j - 1) in done]
        last = done[-1] if done else -1
        for u in range(n):
            if u in done:
                continue
            if u in quantizers:  # a map a member made as wide as its codebook's vectors
                options = [
                    (j,)
                    for j in ready
                    if j and j - 1 not in quantizers and node_width(j) in quantizers[u]
                ]
            else:
                options = [(j,) for j in ready if node_width(j) == ins[u]]
            if u not in quantizers:
                for j, k in itertools.combinations(ready, 2):  # (their order: concat_order)
                    same = sizes[j] == sizes[k]
                    if same and node_width(j) + node_width(k) == ins[u]:
                        options.append((j, k))
            if u < last:  # one order per wiring: placed out of turn only to read the last one
                options = [o for o in options if last + 1 in o]
            if u in closing and len(done) != n - 1:
                continue  # the one member giving the image's width gives the reconstruction
            # the image enters once (through the encoder); no map grows past the image's size;
            # what a quantizer reads, only it reads (the encoder's features before the codes)
            options = [
                o
                for o in options
                if (0 not in o or not x_read)
                and sizes[o[0]] * scales[u] <= 1
                and not any(j in owned for j in o)
                and (u not in quantizers or not any(o[0] in s for s in reads if s))
            ]
            for source in options:
                reads[u] = source
                sizes[u + 1] = sizes[source[0]] * scales[u]
                given = widths[source[0]] if u in quantizers else members[u].io.out_width
                widths[u + 1] = given
                if u in quantizers:
                    owned.add(source[0])
                if not place(done + [u], x_read or 0 in source):
                    return False
                owned.discard(source[0])
            reads[u], sizes[u + 1], widths[u + 1] = None, None, None
        return True

    if not place([], False):
        return []
    kept = []
    seen = set()
    for source, out_width in found:
        if source in seen:
            continue
        seen.add(source)
        used = {j for s in source for j in s}
        unused = [j for j in range(1, n + 1) if j not in used]
        if 0 not in used or len(unused) != 1:
            continue
        out = unused[0]
        if out_width[out] != width or _size(source, scales, out) != 1:
            continue
        if not _bottleneck(source, quantizers, out):
            continue
        # a hierarchy quantizes maps of different sizes (VQ-VAE-2's levels: 1/4 and 1/8)
        quantized = [_size(source, scales, u + 1) for u in quantizers]
        if len(set(quantized)) != len(quantized):
            continue
        kept.append((source, out))
    return kept


def _size(source: tuple, scales: list, j: int) -> Fraction:
    return Fraction(1) if j == 0 else _size(source, scales, source[j - 1][0]) * scales[j - 1]


def _bottleneck(source: tuple, quantizers: set[int], out: int) -> bool:
    """Whether every path from x to the output passes through a quantizer."""
    reach = {0}
    changed = True
    while changed:
        changed = False
        for u, s in enumerate(source):
            if u + 1 not in reach and u not in quantizers and any(j in reach for j in s):
                reach.add(u + 1)
                changed = True
    return out not in reach


def _score(reading: tuple, members: list, scales: list, quantizers: set[int]) -> tuple:
    source, _out = reading
    # a quantizer reads the member named with its level
    unpaired = sum(
        1
        for u in quantizers
        if source[u][0] == 0 or _level(members[source[u][0] - 1].attr) != _level(members[u].attr)
    )
    # a quantizer reads features mapped to its width, not a map a member grew (decoded codes)
    unpaired += sum(1 for u in quantizers if source[u][0] and scales[source[u][0] - 1] > 1)
    # members read what comes before them in reading order
    late = sum(1 for u, s in enumerate(source) for j in s if j - 1 > u)
    return (unpaired, late, source)


def ordered(pair: tuple, scales: list, upsampled_first: bool) -> tuple:
    """A concatenation's two maps in order: the one a member grew (decoded codes) first, as
    rosinality's `cat([dec_t, enc_b])` and `cat([upsample_t, quant_b])`, or last."""
    grown = [j for j in pair if j and scales[j - 1] > 1]
    if len(grown) != 1:
        return pair
    rest = tuple(j for j in pair if j != grown[0])
    return (grown[0], *rest) if upsampled_first else (*rest, grown[0])


def describe(reading: tuple, names: list[str]) -> str:
    source, out = reading
    label = lambda j: "x" if j == 0 else names[j - 1]  # noqa: E731
    parts = [
        f"{names[u]}={label(s[0]) if len(s) == 1 else 'cat(' + ','.join(map(label, s)) + ')'}"
        for u, s in enumerate(source)
    ]
    return " ".join(parts + [f"out={label(out)}"])


class CodebookHierarchy(BlockPattern):
    role = "VQVAE"
    priority = 11  # as the one-level codebook autoencoder: the two never match one class
    accepts = Accepts(6, 12, tensors=False, roles=("VectorQuantizer",))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = sorted(modules(cls), key=tie_order)
        if tensors(cls) or not 6 <= len(members) <= 12:
            return None
        quantizers = {
            u: _code_widths(m, ctx, cls)
            for u, m in enumerate(members)
            if ctx.role(m) == "VectorQuantizer"
        }
        if len(quantizers) < 2 or not all(quantizers.values()):
            return None
        if any(
            u not in quantizers and (m.io is None or not m.io.in_width or not m.io.out_width)
            for u, m in enumerate(members)
        ):
            return None
        scales = [
            Fraction(1) if u in quantizers else member_scale(m, ctx) for u, m in enumerate(members)
        ]
        if any(s is None for s in scales):
            return None
        read = {m.io.in_width for u, m in enumerate(members) if u not in quantizers}
        given = {m.io.out_width for u, m in enumerate(members) if u not in quantizers}
        readings = []
        for width in sorted(read & given):
            readings += wirings(members, scales, quantizers, width)
        if not readings:
            return None
        ranked = sorted(readings, key=lambda r: _score(r, members, scales, quantizers))
        names = [m.attr for m in members]
        values = [describe(r, names) for r in ranked[:KEPT]]
        wiring = ctx.choose(
            cls,
            names[0],
            "wiring",
            values[0],
            values[1:],
            f"which map each member reads: {len(ranked)} readings fit the widths and sizes",
        )
        chosen = ranked[values.index(wiring.value)] if wiring.value in values else ranked[0]
        concat = ctx.choose(
            cls,
            names[0],
            "concat_order",
            "upsampled_first",
            ["upsampled_last"],
            "where a map a member grew joins another: first (rosinality's VQ-VAE-2) or last",
        )
        source, out = chosen
        first = concat.value == "upsampled_first"
        chosen = (tuple(ordered(s, scales, first) for s in source), out)
        guessed = []
        if len(ranked) > 1 and wiring.source == "default":
            guessed.append(
                f"{len(ranked)} wirings of these members fit their widths and sizes; this one "
                "pairs each quantizer with the member named for its level: the choice wiring"
            )
        joins = any(ordered(s, scales, True) != ordered(s, scales, False) for s in source)
        if joins and concat.source == "default":
            guessed.append(
                "a concatenation's order leaves no key: decoded maps first (rosinality's), the "
                "choice concat_order"
            )
        width_x = _x_width(chosen, members)
        found = (names, chosen, width_x)
        return Match(self, len(members) + 1, found, [wiring, concat], guessed="; ".join(guessed))

    def forward(self, match: Match, g: Graph) -> None:
        names, (source, out), _ = match.found
        values = {0: g.input("x")}
        pending = list(range(len(names)))
        while pending:  # each member once what it reads is computed, in reading order
            u = next(u for u in pending if all(j in values for j in source[u]))
            pending.remove(u)
            s = source[u]
            if len(s) == 1:
                h = values[s[0]]
            else:
                h = g.call_function(
                    "cat", [values[j] for j in s], kwargs={"dim": 1}, name="h", inline=True
                )
            values[u + 1] = g.call_module((names[u],), h, name=_name(names[u]))
        g.output(values[out])

    @staticmethod
    def examples():
        from codegen.patterns.blocks._vq_examples import hierarchy_examples

        return hierarchy_examples()[:1]


def _code_widths(m, ctx: BlockContext, cls) -> set[int]:
    """The widths a quantizer's codebook vectors may have: its tables' dimensions (an
    `embed` buffer [dim, codes], an Embedding's [codes, dim]), through the constructor
    parameters the member passes and the model's own."""
    held = ctx.classes.get(m.type_name) if m.kind == "class" else None
    if held is None:
        return set()
    passed = {a.keyword: a.value for a in m.args if a.keyword}
    own = {p.name: p.default for p in cls.params}

    def value(v):
        v = passed.get(v.name, v) if isinstance(v, Ref) else v
        v = own.get(v.name, v) if isinstance(v, Ref) else v
        return v if isinstance(v, int) else None

    dims: set[int] = set()
    for t in tensors(held):
        dims |= {d for d in (value(v) for v in t.shape) if d}
    for inner in modules(held):
        if inner.io is not None and inner.io.out_width:
            dims.add(inner.io.out_width)
    return dims


def _x_width(reading: tuple, members: list) -> int | None:
    source, _ = reading
    return next((members[u].io.in_width for u, s in enumerate(source) if s == (0,)), None)


def _name(attr: str) -> str:
    """A variable named for the member that gives it (`quant_t` style names stay readable)."""
    clean = re.sub(r"\W", "_", attr).strip("_").lower()
    return clean if clean and not clean[0].isdigit() else "h"
