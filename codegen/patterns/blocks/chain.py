"""The fallback: members applied one after another where their widths compose. Its forward is
`guessed`, and every step the widths do not force is a choice of the class.

The order comes from widths first (each layer takes what the previous one gave), then from names:
token tables and stems first, heads and final norms last, the numbers in names (`conv1` before
`conv2`, `bn1` beside `conv1`), and a layer before the norm of the same width. Never from key
order, which a safetensors file sorts alphabetically.

Between steps it adds what shapes call for and conventions make likely, each one a choice: global
pooling or flatten from conv features to a Linear, pooling over the sequence before a head, an
activation after a conv/norm pair or between two Linear (or two conv) layers, the sqrt(d_model)
embedding scale, and a residual around the whole chain where the input width comes back.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass, field

from codegen.ir import Choice, ClassDef, ExampleInput, Module
from codegen.ir.graph import Graph, Value
from codegen.patterns import _activations as act
from codegen.patterns.blocks._conv_parts import arg, conv_kernel, named_units, unit
from codegen.patterns.blocks.atrous_pyramid import ROLE as ATROUS_PYRAMID
from codegen.patterns.blocks.pooled_pyramid import ROLE as PYRAMID_POOLING
from codegen.patterns.blocks.conv_stem import IMAGE_CHANNELS
from codegen.patterns.blocks.padded_resnet_block import slot_pin
from codegen.patterns._mirror_strides import (
    POOLED,
    RECONSTRUCTION,
    layers,
    pooled_levels,
    strides_by,
)
from codegen.patterns.layers.conv import MIRRORED_ENDS
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    LATENT_MEAN,
    BlockPattern,
    Example,
    Match,
    _named,
    family,
    modules,
    resize_like,
    tensors,
)

FIRST = re.compile(r"^(emb|wte|tok|stem|patch|input|in_|features|conv_in|expan)", re.I)
ENCODER = re.compile(r"^enc", re.I)
LAST = re.compile(
    r"head|classifier|generator|^fc$|^out|output|decoder|^dec|final|ln_f|norm_out|^conv_out$|"
    r"logits",
    re.I,
)
SHORTCUT = re.compile(r"^(downsample|shortcut|skip|residual)", re.I)
SIDE_PATH = re.compile(r"^(shortcut|skip)", re.I)  # never the main path (`downsample` may be)
POSITIONS = re.compile(r"pos|wpe|position", re.I)
SQUEEZE, EXCITE = re.compile(r"^(squeeze|reduce)", re.I), re.compile(r"^(excit|expand)", re.I)
ATTENTION_PROJECTION = re.compile(
    r"^(q|k|v|query|key|value|to_q|to_k|to_v|wq|wk|wv)(_proj|_lin|_linear)?$"
)
SEARCH_BUDGET = 20_000  # orders tried before deciding that widths do not chain
SEQUENCE_FAMILIES = ("rnn", "transformer")
FAMILY_RANK = {"embedding": 0, "conv": 1, "linear": 1, "rnn": 1, "norm": 2, "activation": 3}
SEQUENCE_POOLING = {  # how: (method, arguments, comment)
    "mean": "pooled over the sequence",
    "first": "the first position (a class token)",
    "last": "the last step",
    "max": "max-pooled over the sequence",
}


# Pooling between conv stages: (function, kernel, stride, padding) per choice value.
STAGE_POOLS = {
    "max_pool": ("max", 2, 2, 0),
    "avg_pool": ("avg", 2, 2, 0),
    "max_pool_3x3": ("max", 3, 2, 1),  # a ResNet stem's
    "max_pool_3x3_ceil": ("max", 3, 2, 0),  # GoogLeNet's and SqueezeNet's (ceil_mode)
    "max_pool_3x3_valid": ("max", 3, 2, 0),  # Inception v3's and TF-slim's stems (unpadded)
    "max_pool_ceil": ("max", 2, 2, 0),  # GoogLeNet's before its last stage (ceil_mode)
    # Big Transfer's root (and timm's `fixed` stem): zeros padded first, then an unpadded pool;
    # its stem conv has no norm or ReLU after it, so the zeros can win where -inf would not.
    "zero_padded_max_pool_3x3": ("max", 3, 2, 0),
}
# Members of TF-slim's Inception-ResNet-v2 stem that its max-pools follow (maxpool_3a, maxpool_5a)
INCEPTION_RESNET_POOLED = ("conv2d_2b", "conv2d_4a")
INCEPTION_POOL_NOTE = "Inception-ResNet-v2's stem pool by convention (a choice)"


STEM_POOL_NOTE = "a 7x7 stem's pool by convention (a choice)"  # He et al. 2016
DEEP_STEM_POOL_NOTE = "a deep stem's pool by convention (a choice)"  # He et al. 2019
SHUFFLE_STEM_POOL_NOTE = "ShuffleNetV2's stem pool by convention (a choice)"  # Ma et al. 2018
# Cadene's pretrainedmodels SENet: layer0 ends in MaxPool2d(3, stride=2, ceil_mode=True)
CADENE_STEM_POOL_NOTE = "Cadene's SENet stem pool (ceil mode) by convention (a choice)"


def stage_pool(g: Graph, how: str, x: Value, ndim: int, comment: str = "") -> Value:
    """The graph node of a STAGE_POOLS choice applied to `x`."""
    fn, kernel, stride, padding = STAGE_POOLS[how]
    if how.startswith("zero_padded"):
        x = g.call_function("pad", x, [1, 1, 1, 1], inline=True)
    kwargs = {"stride": stride} if stride != kernel else {}
    kwargs.update({"padding": padding} if padding else {})
    kwargs.update({"ceil_mode": True} if how.endswith("_ceil") else {})
    return g.call_function(f"{fn}_pool{ndim}d", x, kernel, kwargs=kwargs, comment=comment)


def tie_order(m: Module) -> tuple:
    """Where names put a layer when widths allow several orders: token tables and stems, then
    position tables (added to what those gave), then encoders; shortcuts after the main path; heads, decoders and final norms last;
    numbers in names. A leading underscore (lukemelas' EfficientNet: `_conv_stem`, `_fc`) marks
    an attribute private, not another role."""
    name = m.attr.lstrip("_") or m.attr
    if POSITIONS.search(name):
        stage = (0, 2)  # positions are added to what the token table or stem gave
    elif family(m) == "embedding":
        stage = (0, 0)
    elif FIRST.search(name):
        stage = (0, 1)
    elif ENCODER.search(name):
        stage = (0, 3)
    elif LAST.search(name):
        stage = (2, 0)
    elif SHORTCUT.search(name):
        stage = (1, 1)  # a residual's side path reads best after the main one
    else:
        stage = (1, 0)
    numbers = tuple(int(n) for n in re.findall(r"\d+", m.attr))
    projection = ATTENTION_PROJECTION.match(m.attr.lower())
    qkv = (
        "qkv".index(projection.group(1).removeprefix("to_").removeprefix("w")[0])
        if projection
        else 3
    )
    return (stage, numbers, qkv, FAMILY_RANK.get(family(m) or "", 1), m.attr)


def name_ranked(members: list[Module]) -> list[Module]:
    """Members sorted by what their names say (tie_order). `head` is a classifier's last layer,
    except beside a sibling named `tail`: then head, body, tail is a restoration net's
    reading order (EDSR, RCAN and the SR nets written after them), whatever else widths allow."""
    paired = {"head", "tail"} <= {m.attr.lstrip("_").lower() for m in members}

    def key(m: Module) -> tuple:
        order = tie_order(m)
        if paired and m.attr.lstrip("_").lower() == "head":
            return ((0, 1),) + order[1:]
        return order

    return sorted(members, key=key)


def reading_order(members: list[Module]) -> tuple[list[Module], bool]:
    """Members in the order a reader meets them, and whether that order is the dataflow (widths
    chain) rather than names alone. Never the file's key order, so it never shows in the class."""
    heads = latent_heads(members)
    if heads is not None:  # a VAE's log-variance head read beside its mean
        chained = dataflow_order([m for m in members if m is not heads[1]])
        if chained is not None:
            chained.insert(chained.index(heads[0]) + 1, heads[1])
    else:
        chained = dataflow_order(members)
    return (chained, True) if chained is not None else (name_ranked(members), False)


def _blocks_after_numbered_convs(ranked: list[Module]) -> list[Module]:
    """Where the numbered members are built-in convs of one stem (zalando's VQ-VAE encoder:
    `_conv_1`, `_conv_2`, `_conv_3` beside `_residual_stack`), an unnumbered stack of blocks
    comes after their run, not inside it."""
    numbered = [m for m in ranked if re.search(r"\d", m.attr)]
    if len(numbered) < 2 or len({numbered_name(m.attr)[0] for m in numbered}) != 1:
        return ranked
    if any(m.kind != "builtin" or family(m) != "conv" for m in numbered):
        return ranked
    blocks = [m for m in ranked if m not in numbered and m.kind in ("class", "sequential")]
    return [m for m in ranked if m not in blocks] + blocks


def dataflow_order(members: list[Module], width: int | None = None) -> list[Module] | None:
    """An order in which every layer takes the width the previous one gave (None: there is none).
    Remembered by what the members are (their repr: every field, io included, which an analysis
    changes as it goes): the patterns ask again for the same members many times per analysis,
    and a calibration analyses the same classes once per candidate."""
    if len({id(m) for m in members}) != len(members):
        return _dataflow_order(members, width)
    key = (width, repr(members))
    if key not in _ORDERS:
        found = _dataflow_order(members, width)
        at = {id(m): i for i, m in enumerate(members)}
        if len(_ORDERS) >= _ORDERS_KEPT:
            del _ORDERS[next(iter(_ORDERS))]
        _ORDERS[key] = None if found is None else tuple(at[id(m)] for m in found)
    order = _ORDERS[key]
    return None if order is None else [members[i] for i in order]


_ORDERS: dict[tuple, tuple[int, ...] | None] = {}  # dataflow_order's answers, oldest first
_ORDERS_KEPT = 4096


def _dataflow_order(members: list[Module], width: int | None) -> list[Module] | None:
    ranked = _blocks_after_numbered_convs(name_ranked(members))
    if len(ranked) == 2 and SQUEEZE.match(ranked[1].attr) and EXCITE.match(ranked[0].attr):
        ranked.reverse()  # a gate's two layers, C -> r -> C: both orders chain, the names decide
    grouped = [m for m in ranked if _grouped_after_other(m, ranked)]
    if width is None:  # a layer whose input no other layer here produces is where data enters
        sources = [
            m
            for m in ranked
            if _takes(m) is not None and not _produced_by_other(m, ranked) and m not in grouped
        ]
        ranked = sources + [m for m in ranked if m not in sources]
        # A Linear reading the input whose output is a square map of what a conv stack reads
        # (a GAN generator's `l1`, then `view(-1, C, s, s)`): it goes first, where both read the
        # input; a conv stack flattened into it would be a classifier reading a latent.
        projections = [
            m for m in sources if any(_unflattens_into(m, o, 0) for o in sources if o is not m)
        ]
        ranked = projections + [m for m in ranked if m not in projections]
        unnamed = len({tie_order(m)[0] for m in ranked}) == 1  # no name says first or last
        unnamed = unnamed and not any(  # numbered or lettered (`conv1`, pycls' `a`, `b`)
            re.search(r"\d", m.attr) or numbered_name(m.attr)[0] is not None for m in ranked
        )
        if not sources and unnamed and all(m.io is not None and m.io.ndim == 2 for m in ranked):
            # Every input is another member's output: a conv block mapping a width back to
            # itself, whose every rotation chains. Where neither numbers nor names order it, it
            # starts where it widens (an inverted bottleneck's expansion before its depthwise
            # conv and projection: ProxylessNAS' `inverted_bottleneck`, `depth_conv`,
            # `point_linear`).
            widening = [m for m in ranked if _widens(m)]
            ranked = widening + [m for m in ranked if m not in widening]
        elif not sources and all(m.io is not None and m.io.ndim == 2 for m in ranked):
            # Numbered norms alone (timm's `conv_pw, bn1, conv_dw, bn2, conv_pwl, bn3`) order no
            # conv: an inverted residual keeping its width starts at the conv widening into the
            # one that keeps the expanded width (its depthwise conv), never at that one. (Convs
            # numbered or lettered themselves, pycls' `a, b, c`, are ordered by their names.)
            convs = [m for m in ranked if family(m) == "conv"]
            named = any(re.search(r"\d", m.attr) or numbered_name(m.attr)[1] for m in convs)
            expansions = [m for m in ranked if _widens(m) and _kept_by_other(m, ranked)]
            expansions = [] if named else expansions
            if len(expansions) == 1:
                ranked = expansions + [m for m in ranked if m is not expansions[0]]

    ranked = _final_norm_after_trunk(ranked)
    budget = [SEARCH_BUDGET]
    partners = _conv_partners(ranked)
    # What an order placed so far allows next depends on which members it holds, its last one
    # and the running width, not on their order: a state that led nowhere once leads nowhere
    # again, so it is not searched twice (it is charged the orders it took, so the budget, and
    # with it every answer, is the search's without this).
    dead_ends: dict[tuple, int] = {}

    def extend(order: list[Module], rest: list[Module], width: int | None):
        if not rest:
            return order
        state = (frozenset(map(id, order)), id(order[-1]) if order else None, width)
        if state in dead_ends:
            budget[0] -= dead_ends[state]
            return None
        before = budget[0]
        found = _extended(order, rest, width)
        if found is None and budget[0] >= 0:
            dead_ends[state] = before - budget[0]
        return found

    def _extended(order: list[Module], rest: list[Module], width: int | None):
        budget[0] -= 1
        if budget[0] < 0:  # many equal widths and no chain: give up rather than try every order
            return None
        for m in _next_candidates(order, rest):
            if not _beside_partner(order, m, partners):
                continue
            if SIDE_PATH.match(m.attr) and len(rest) > 1:
                continue  # a shortcut reads the block's input beside the main path
            takes = _takes(m)
            if width is not None and takes is not None and takes != width:
                flattens = order and _flattens_into(order[-1], m, width)
                # (a Linear viewed as a map only where it, or an MLP it ends, reads the input: a
                # generator's `l1`, a VAE decoder's `lin1, lin2, lin3`)
                unflattens = _latent_mlp(order) and _unflattens_into(order[-1], m, width)
                flattens = flattens or unflattens
                if not flattens and (m not in grouped or not _groups_of(m, width)):
                    continue
            if family(m) == "embedding" and order:
                continue  # token ids enter only at the start
            out = m.io.out_width if m.io is not None and m.io.out_width else width
            found = extend(order + [m], [r for r in rest if r is not m], out)
            if found is not None:
                return found
        return None

    return extend([], ranked, width)


def _final_norm(members: list[Module]) -> Module | None:
    """A norm named plainly `norm` beside a trunk of blocks (a list of generated classes): the
    trunk's final norm (timm's ViT, MLP-Mixer and MetaFormer, the official PoolFormer:
    patch_embed, blocks, norm, head), not the stem's whose width it shares."""
    trunk = any(
        m.kind in ("repeat", "modulelist", "sequential")
        and any(c.kind == "class" for c in m.children)
        for m in members
    )
    finals = [m for m in members if m.attr == "norm" and family(m) == "norm"]
    return finals[0] if trunk and len(finals) == 1 else None


def _final_norm_after_trunk(ranked: list[Module]) -> list[Module]:
    """The members with the trunk's final norm (`_final_norm`) tried right after the trunk."""
    final = _final_norm(ranked)
    if final is None:
        return ranked
    rest = [m for m in ranked if m is not final]
    trunks = [
        i
        for i, m in enumerate(rest)
        if m.kind in ("repeat", "modulelist", "sequential")
        and any(c.kind == "class" for c in m.children)
    ]
    return rest[: trunks[-1] + 1] + [final] + rest[trunks[-1] + 1 :]


def _kept_by_other(m: Module, members: list[Module]) -> bool:
    """A conv whose output width another conv of the members keeps (reads and gives)."""
    width = m.io.out_width
    return family(m) == "conv" and any(
        o is not m and family(o) == "conv" and o.io.in_width == o.io.out_width == width
        for o in members
        if o.io is not None
    )


def _widens(m: Module) -> bool:
    io = m.io
    return (
        io is not None and bool(io.in_width) and bool(io.out_width) and io.out_width > io.in_width
    )


def conv_like(m: Module) -> bool:
    """A built-in conv, or a class named as one (`conv1`, `deconv2`: pytorch/examples' ConvLayer,
    a reflection pad and its conv) whose widths are known: what a numbered norm follows."""
    if m.kind == "builtin":
        return family(m) == "conv"
    stem = numbered_name(m.attr)[0]
    return m.kind == "class" and bool(stem) and "conv" in stem and m.io is not None


def _conv_partners(members: list[Module]) -> dict[str, str]:
    """Each numbered norm's conv (`bn2` -> `conv2`), where one conv alone shares its numbers (or,
    of several, one alone gives the norm's width: `in1` after `conv1`, not `deconv1`), and back:
    the pair is one step, the norm right after its conv or right before it."""
    convs: dict[tuple, list[Module]] = {}
    for m in members:
        numbers = tuple(re.findall(r"\d+", m.attr))
        if numbers and conv_like(m):
            convs.setdefault(numbers, []).append(m)
    partners = {}
    for m in members:
        numbers = tuple(re.findall(r"\d+", m.attr))
        if m.kind != "builtin" or family(m) != "norm":
            continue
        found = convs.get(numbers, [])
        if len(found) > 1 and m.io.in_width:
            found = [c for c in found if c.io is not None and c.io.out_width == m.io.in_width]
        if len(found) == 1:
            conv = found[0]
            if m.io.in_width not in (None, conv.io.in_width, conv.io.out_width):
                continue  # as wide as neither side of the conv: a trunk's last norm (WRN `bn1`)
            if conv.kind == "class" and m.io.in_width != conv.io.out_width:
                continue  # (a class conv's norm follows it)
            partners[m.attr] = conv.attr
            partners[conv.attr] = m.attr
    return partners


def _beside_partner(order: list[Module], m: Module, partners: dict[str, str]) -> bool:
    """Whether `m` may come next: a norm placed before its conv is followed by it, and a norm
    comes right after its conv or before it, never apart from it; numbered convs of one name
    in their numbers' order (a grouped conv2, which widths alone could put anywhere)."""
    last = order[-1].attr if order else None
    stem, number = numbered_name(m.attr)
    if stem and m.kind == "builtin" and family(m) == "conv":  # conv2 after conv3: not by names
        for o in order:
            if o.kind == "builtin" and family(o) == "conv":
                other_stem, other_number = numbered_name(o.attr)
                if other_stem == stem and other_number > number:
                    return False
    if stem and m.kind == "builtin" and family(m) == "norm":  # in4 after in3, never before
        for o in order:
            if o.kind == "builtin" and family(o) == "norm":
                other_stem, other_number = numbered_name(o.attr)
                if other_stem == stem and other_number > number:
                    return False
    if last in partners and family(order[-1]) == "norm":
        if partners[last] not in {o.attr for o in order}:
            return m.attr == partners[last]
    partner = partners.get(m.attr)
    if partner is None or family(m) != "norm":
        return True
    return partner == last or all(o.attr != partner for o in order)


def _next_candidates(order: list[Module], rest: list[Module]) -> list[Module]:
    """A norm follows the conv or Linear whose output it normalises (conv-bn, BERT's dense-LN), or
    the Sequential ending in one (timm's deep stem `conv1` = [conv, bn, act, ..., conv], then
    `bn1`). Not after a block (a class): a norm as wide as a stage's blocks is more likely the
    trunk's last (a pre-activation ResNet's `bn` after its last stage), so the stages go first."""
    last = order[-1] if order else None
    while last is not None and last.kind == "sequential":
        last = next((c for c in reversed(last.children) if c.kind != "placeholder"), None)
    if last is not None and last.kind == "builtin" and family(last) in ("conv", "linear"):
        final = _final_norm(rest)  # (the trunk's, not this layer's)
        norms = [m for m in rest if family(m) == "norm" and m is not final]
        return norms + [m for m in rest if m not in norms]
    if last is not None and last.kind in ("class", "repeat"):
        norms = [m for m in rest if family(m) == "norm"]
        return [m for m in rest if m not in norms] + norms
    return rest


def _flattens_into(prev: Module, m: Module, width: int) -> bool:
    """Conv features flattened into a Linear (or a head Sequential starting with one: VGG's
    classifier) that takes a whole multiple of their channels."""
    takes = _takes(m)
    ends = family(prev) if prev.kind != "sequential" else _ends(prev)
    starts = family(m) if m.kind != "sequential" else _starts(m)
    return ends in ("conv", "norm") and starts == "linear" and bool(takes) and takes % width == 0


def _opens_transposed(m: Module) -> bool:
    """A transposed 2-d conv, or a Sequential whose first layer is one."""
    while m.kind == "sequential":
        m = next((c for c in m.children if c.kind != "placeholder"), None)
        if m is None:
            return False
    return m.kind == "builtin" and m.type_name.endswith("ConvTranspose2d")


def _latent_mlp(order: list[Module]) -> bool:
    """The chain's first layers map a latent before it is viewed as a map: one projection (a
    generator's `l1`, a Sequential of it and its norm as well), or Linear layers alone (the MLP
    of a VAE's decoder)."""
    return len(order) == 1 or (
        bool(order) and all(m.kind == "builtin" and family(m) == "linear" for m in order)
    )


def _unflattens_into(prev: Module, m: Module, width: int) -> bool:
    """A Linear's output viewed as a square map of the channels a 2-d conv stack (or a norm
    opening one) reads: [batch, C * s * s] -> [batch, C, s, s], s > 1 (`width` 0: prev's own)."""
    side = _unflattened_side(prev, m, width)
    return side is not None


def _unflattened_side(prev: Module, m: Module, width: int) -> int | None:
    width = width or (prev.io.out_width if prev.io is not None else None) or 0
    takes = _takes(m)
    starts = family(m) if m.kind != "sequential" else _starts(m)
    # (a stack of blocks reading 2-d maps too: SNGAN's residual up-blocks after `dense`)
    if not _ends_projecting(prev) or starts not in ("conv", "norm", "class") or not takes:
        return None
    if not width:
        return None
    first = m
    while first is not None and first.kind == "sequential":
        first = next((c for c in first.children if c.kind != "placeholder"), None)
    if first is None or first.io is None or first.io.ndim != 2 or width % takes:
        return None
    side = math.isqrt(width // takes)
    return side if side > 1 and side * side * takes == width else None


def _ends_projecting(m: Module) -> bool:
    """A Linear last, or a Sequential's Linear and the BatchNorm1d after it (WGAN-GP's
    `preprocess`: Linear, BatchNorm1d, ReLU, then viewed as a map)."""
    if _ends(m) == "linear":
        return True
    return _closing_norm(m) == "linear" and "1d" in _last_item(m).type_name


def _last_item(m: Module) -> Module | None:
    return next((c for c in reversed(m.children) if c.kind != "placeholder"), None)


def _closing_norm(m: Module | None) -> str | None:
    """The family of the layer before the norm a Sequential of built-in layers ends in (a
    DCGAN-style block, `[ConvTranspose2d, BatchNorm2d]` and a trailing ReLU no key shows); else
    None."""
    if m is None or m.kind != "sequential" or not m.children:
        return None
    if m.children[-1].kind == "placeholder":
        return None  # (its trailing slot is that activation: analyze/structure.py placed it)
    items = [c for c in m.children if c.kind != "placeholder"]
    if len(items) < 2 or any(c.kind != "builtin" for c in items) or family(items[-1]) != "norm":
        return None
    return family(items[-2]) if family(items[-2]) in ("conv", "linear") else None


def _groups_of(m: Module, width: int) -> bool:
    """Whether a conv reading `takes` channels could be a grouped conv over `width` channels
    (ResNeXt's 3x3: [C, C / groups, k, k]); its groups then come from that neighbour. A
    depthwise conv ([C, 1, k, k], read alone as groups = C) reads any width dividing C: a depth
    multiplier of C / width over it (MobileNet's `Conv2d(c, 2 * c, k, groups=c)`)."""
    takes = _takes(m)
    conv = family(m) == "conv" or (m.kind == "sequential" and _starts(m) == "conv")
    if not conv or takes is None:
        return False
    return (takes < width and width % takes == 0) or (
        opens_depthwise(m) and width < takes and takes % width == 0
    )


def opens_depthwise(m: Module | None) -> bool:
    """Whether a conv (or the conv opening a Sequential) reads one channel per group."""
    while m is not None and m.kind == "sequential":
        m = next((c for c in m.children if c.kind != "placeholder"), None)
    if m is None or family(m) != "conv" or m.io is None or not m.io.in_width:
        return False
    groups = next((a.value for a in m.args if a.keyword == "groups"), 1)
    return groups == m.io.in_width > 1


def _opens_after_other(m: Module, members: list[Module]) -> bool:
    """An unnumbered Sequential opened by a conv that reads what no member gives, while data
    enters elsewhere: another such member is the entry (named as one, `stem`, `conv_in`, or
    reading a width no member's output could be grouped into), and no other member reads its
    width (branches side by side over one input: GhostNetV2's `primary_conv` and `short_conv`).
    It reads what a member gives, grouped over it (a `Sequential(Conv2d(c, c', 3, groups=g),
    BatchNorm2d(c'), ReLU())` after the stem); which member feeds it, the chain's guessed order
    says."""
    if m.kind != "sequential" or _produced_by_other(m, members) or tie_order(m)[0][0] == 0:
        return False
    if any(o is not m and _takes(o) == _takes(m) for o in members):
        return False  # (another member reads that width too: a branch beside it, over the input)

    def groupable(s: Module) -> bool:
        return any(
            o is not s and o.io is not None and o.io.out_width and _groups_of(s, o.io.out_width)
            for o in members
        )

    entries = [
        s
        for s in members
        if s is not m
        and _takes(s) is not None
        and not _produced_by_other(s, members)
        and (tie_order(s)[0][0] == 0 or not groupable(s))
    ]
    return groupable(m) and bool(entries)


def _grouped_after_other(m: Module, members: list[Module]) -> bool:
    """A conv that reads a fraction of what another member gives, named after it (conv2 after
    conv1), or a Sequential it opens where data enters elsewhere (`_opens_after_other`):
    grouped over that width rather than where data enters."""
    stem, number = numbered_name(m.attr)
    if stem is None:
        return _opens_after_other(m, members)
    for o in members:
        if o is m or o.io is None or not o.io.out_width or not _groups_of(m, o.io.out_width):
            continue
        other_stem, other_number = numbered_name(o.attr)
        if other_stem == stem and other_number < number:
            return True
    return False


NUMBERED = re.compile(r"([A-Za-z_]+?)_?(\d+)")
LETTERED = re.compile(r"(?:([A-Za-z]+)_)?([a-f])")


# Asked for each member at each step of an order search, and again for every calibration candidate.
@functools.lru_cache(maxsize=65536)
def numbered_name(attr: str) -> tuple[str | None, int]:
    """`conv2` -> ("conv", 2); steps lettered in order (pycls' and torchvision's RegNet `a, b, c`,
    `conv_a`, `conv_b`) count too: `b` -> ("", 2)."""
    found = NUMBERED.fullmatch(attr)
    if found:
        return found.group(1).lower(), int(found.group(2))
    lettered = LETTERED.fullmatch(attr)
    if lettered:
        return (lettered.group(1) or "").lower(), ord(lettered.group(2)) - ord("a") + 1
    return None, 0


def _produced_by_other(m: Module, members: list[Module]) -> bool:
    return any(o is not m and o.io is not None and o.io.out_width == _takes(m) for o in members)


def _takes(m: Module) -> int | None:
    return m.io.in_width if m.io is not None else None


@dataclass
class Flow:
    """What the running value is while walking a chain."""

    width: int | None = None
    spatial: int | None = None  # spatial dims of conv features [batch, C, *spatial]
    sequence: bool = False  # [batch, seq, features] from an RNN or transformer
    pool_default: str = "none"  # how a head reads a sequence unless told otherwise
    pins: list = field(default_factory=list)  # Match.pins the plan found (a head's slot)


def _trunk_activation(cls: ClassDef, ctx: BlockContext, last, steps: list, choices: list) -> None:
    """A trunk ending in a batch norm (DenseNet's norm5, a pre-activation ResNet's last bn) is
    followed by its activation before the pooling, whichever head reads it: no key shows it."""
    preactivated = _ends_in_preactivated_block(last, ctx)
    if not (preactivated or _ends_in_batch_norm(last, ctx)):
        return
    if steps and steps[-1][0] == "activation":
        return  # (one already follows it: the activation before a flatten, the same choice)
    final = ctx.choose(
        cls,
        last.attr,
        "activation",
        "relu",
        act.alternatives("relu"),
        f"after {last.attr}'s last " + ("pre-activation block" if preactivated else "norm"),
        aliases=act.ALIASES,
    )
    choices.append(final)
    steps.append(("activation", final.value))


def plan(
    cls: ClassDef, ctx: BlockContext, members: list[Module], flow: Flow, latent: str = ""
) -> tuple[list[tuple], list[Choice]] | None:
    """The steps of a chain over `members` (already in dataflow order), and the choices made.
    `latent`: the member giving a VAE's latent mean, decoded as it is (no activation after it)."""
    steps: list[tuple] = []
    choices: list[Choice] = []
    for i, m in enumerate(members):
        io = m.io
        nxt = members[i + 1] if i + 1 < len(members) else None
        if io is not None and (io.family in ("attention", "dict") or m.type_name == "nn.Bilinear"):
            return None
        if m.kind == "modulelist":
            return None  # items that do not compose: calling the list is no forward at all
        takes = io.in_width if io is not None else None
        if flow.spatial and io is not None and (_reads_features(m) or _head_class(m, ctx)):
            if i > 0:
                _trunk_activation(cls, ctx, members[i - 1], steps, choices)
            if flow.width is not None and takes == flow.width:
                pool = ctx.choose(cls, m.attr, "pooling", "mean", ["amax"], f"before {m.attr}")
                choices.append(pool)
                steps.append(("global_pool", pool.value, flow.spatial, m.attr, takes))
            elif flow.width and takes and takes % flow.width == 0:
                side = math.isqrt(takes // flow.width)
                if flow.spatial == 2 and side > 1 and side * side == takes // flow.width:
                    # A fixed s x s grid: an adaptive average pool gives it whatever the input
                    # size (torchvision's VGG 7 x 7, AlexNet 6 x 6); explicit pools before it
                    # are as likely (other choices). On that size itself it changes nothing.
                    # A max over the grid's cells stands for a halving max-pool past the trunk's
                    # last key (torchvision's VGG features end in one).
                    grid = ctx.choose(
                        cls,
                        m.attr,
                        "grid_pool",
                        "none",
                        ["adaptive_avg", "adaptive_max"],
                        f"to the {side}x{side} grid {m.attr} reads",
                    )
                    choices.append(grid)
                    if grid.value != "none":
                        steps.append(("adaptive_pool", side, grid.value))
                steps.append(("flatten", m.attr, takes, flow.width))
            else:
                return None
            flow.spatial = None
        elif (
            not flow.spatial
            and i >= 1
            and _latent_mlp(members[:i])
            and takes is not None
            and _unflattened_side(members[i - 1], m, flow.width or 0) is not None
        ):
            steps.append(("unflatten", takes, _unflattened_side(members[i - 1], m, flow.width)))
            flow.spatial, flow.width = 2, takes
        elif takes is not None and flow.width is not None and takes != flow.width:
            return None
        if flow.sequence and io is not None and io.family == "linear":
            pool = ctx.choose(
                cls,
                m.attr,
                "sequence_pooling",
                flow.pool_default,
                ["none", "mean", "first", "last", "max"],
                f"before {m.attr}",
            )
            choices.append(pool)
            if pool.value != "none":
                steps.append(("sequence_pool", pool.value))
        after_trunk = i > 0 and members[i - 1].kind != "builtin"
        if flow.spatial and after_trunk and _last_stage_conv(m, nxt) and takes == flow.width:
            # MobileNetV3's efficient last stage (Howard et al. 2019, figure 5), which GhostNet
            # keeps (Han et al. 2020, table 1): the features pooled first, then a biased 1x1 conv
            # that widens, without norm, and its activation (timm's conv_head, act2), then the
            # classifier. Two linear maps in a row would be one: an activation is between them.
            pool = ctx.choose(cls, m.attr, "pooling", "mean", ["amax"], f"before {m.attr}")
            usual, why = act.family_default(ctx.resolver, "relu")
            head = act.mark_family(
                ctx.choose(
                    cls,
                    m.attr,
                    "activation",
                    usual,
                    act.alternatives(usual, conv=True),
                    f"after {m.attr}, the pooled features' 1x1 conv",
                    aliases=act.ALIASES,
                ),
                why,
            )
            choices += [pool, head]
            steps.append(("global_pool", pool.value, flow.spatial, m.attr, takes, True))
            steps.append(("module", m.attr, m.kind, m.type_name))
            steps.append(("activation", head.value))
            steps.append(("flatten_pooled",))
            flow.spatial, flow.width = None, io.out_width
            continue
        if flow.spatial and nxt is None and _conv_head(m, ctx) and takes == flow.width:
            # A head class holding one 1x1 conv (timm's ClassifierHead with use_conv, BiT's and
            # ResNetV2's): the pooled features, kept 1x1, through it, then flattened.
            if i > 0:
                _trunk_activation(cls, ctx, members[i - 1], steps, choices)
            pool = ctx.choose(cls, m.attr, "pooling", "mean", ["amax"], f"before {m.attr}")
            choices.append(pool)
            steps.append(("global_pool", pool.value, flow.spatial, m.attr, takes, True))
            steps.append(("module", m.attr, m.kind, m.type_name))
            steps.append(("flatten_pooled",))
            flow.spatial = None
            flow.width = io.out_width
            continue
        if flow.spatial and _channels_norm(m) and nxt is None and after_trunk:
            # A trunk's last LayerNorm on conv features normalises the pooled features (Hugging
            # Face's and torchvision's ConvNeXt); over each position's channels is the other way.
            pool = ctx.choose(
                cls, m.attr, "pooling", "mean", ["amax", "none"], f"before the final {m.attr}"
            )
            choices.append(pool)
            if pool.value != "none":
                steps.append(("global_pool", pool.value, flow.spatial, m.attr, m.io.in_width))
                steps.append(("module", m.attr, m.kind, m.type_name))
                flow.spatial = None
                flow.width = m.io.out_width
                continue
        slots = _pooled_norm_head(m) if flow.spatial and nxt is None else None
        if slots is not None and takes == flow.width:
            # A head Sequential `[LayerNorm, Flatten, Linear]` reading conv features
            # (torchvision's ConvNeXt classifier after its avgpool): the features pooled, their
            # channels normalised, then flattened (a no-op on pooled features) and classified.
            pool = ctx.choose(cls, m.attr, "pooling", "mean", ["amax"], f"before {m.attr}")
            choices.append(pool)
            steps.append(("global_pool", pool.value, flow.spatial, m.attr, takes))
            why = "between a head's norm and its Linear, after pooling: the flatten"
            flow.pins += [slot_pin(c, "nn.Flatten()", why) for c in slots]
            for c in m.children:
                steps.append(("module", (m.attr, c.attr), c.kind, c.type_name))
            flow.spatial, flow.width = None, io.out_width
            continue
        if flow.spatial and _channels_norm(m):
            # A LayerNorm over the channels of conv features (ConvNeXt's channels_first norm).
            steps.append(("channels_norm", (m.attr,), flow.spatial))
        elif _repeats_a_width(m):
            # Copies of one layer mapping a width to itself, called in turn: what each call adds
            # (an activation, a residual around it) leaves no keys. One choice for all copies.
            each = ctx.choose(cls, m.attr, "each_activation", "identity", act.COMMON[:-1], "")
            residual = ctx.choose(cls, m.attr, "each_residual", "none", ["add"], "")
            choices += [each, residual]
            steps.append(("repeat", m.attr, each.value, residual.value == "add"))
        elif (
            m.kind == "sequential"
            and _nested_channels_norm(m)
            and (flow.spatial or _channels_norm_dims(m))
        ):
            # A Sequential holding one (ConvNeXt's downsampling `[LayerNorm, Conv2d]`: the conv
            # shows the input has channels first), or Sequentials that do (torchvision's
            # ConvNeXt `features`: stem, stages, downsamplers): called item by item, since
            # calling it would normalise the last spatial dim instead.
            if not _unrolled(m, (m.attr,), flow.spatial or _channels_norm_dims(m), steps):
                return None  # a parameter-free layer the Sequential would have applied
        elif m.kind == "moduledict" and (units := named_units(m)) is not None:
            # A Sequential of conv-norm(-activation) units whose names are no identifiers
            # (`stem_1/conv`, `stem_1/norm`, `stem_1/relu`): each unit's activation leaves no key
            # and no gap in an index, so it is a choice (ReLU: VoVNet's and the Caffe-style
            # ports' conv3x3 / conv1x1 units)
            each = ctx.choose(
                cls,
                m.attr,
                "activation",
                "relu",
                act.alternatives("relu", conv=True),
                "after each conv-norm unit of a Sequential named by units (no keys say it)",
            )
            choices.append(each)
            for conv, norm in units:
                steps.append(("module", (m.attr, conv.attr), conv.kind, conv.type_name))
                steps.append(("module", (m.attr, norm.attr), norm.kind, norm.type_name))
                steps.append(("activation", each.value))
        else:
            steps.append(("module", m.attr, m.kind, m.type_name))
        if io is not None and io.family == "embedding":
            scale = ctx.choose(cls, m.attr, "embedding_scale", "none", ["sqrt_d_model"], "")
            choices.append(scale)
            if scale.value == "sqrt_d_model":
                steps.append(("scale", io.out_width))
        after_conv_norm = io is not None and io.family == "norm" and i > 0
        # (the conv may end a Sequential: a deep stem's three convs, then the model's bn1)
        after_conv_norm = after_conv_norm and (
            _ends(members[i - 1]) == "conv"
            or _trunk_norm(members[i - 1], m)
            or conv_like(members[i - 1])  # (a class wrapping its conv: `conv1`, then `in1`)
        )
        # Two Linear (or conv) layers in a row without a nonlinearity would collapse into one: there
        # is likely one, and the keys cannot say which; a choice either way...
        between_linears = family(m) in ("linear", "conv") and family(nxt) == family(m)
        # ...or a Linear and its norm before another (xiaolai's MobileNetV3 head: linear3, bn3,
        # hard-swish, linear4): the activation follows the norm.
        linear_norm = io is not None and io.family == "norm" and i > 0
        linear_norm = linear_norm and family(members[i - 1]) == "linear" == family(nxt)
        between_linears = between_linears or linear_norm
        # ...unless the class has its own parameter-free layer there (recorded by a pickled model)
        # Between two Sequentials (an encoder and a decoder), an activation ending the first one
        # holds no index the keys can show: offered, but none unless the data says so.
        across = not between_linears and _ends(m) in ("linear", "conv") and _ends(m) == _starts(nxt)
        # A stem conv feeding blocks that open with a conv (VDSR's `input`, ReLU, then its
        # `residual_layer` of conv-ReLU blocks): an activation in between leaves no key either.
        across = across or (_ends(m) == "conv" and _block_starts(nxt, ctx) == "conv")
        # Conv features flattened into a Linear: an activation in between, as between two layers.
        flattened = _ends(m) in ("conv", "norm") and nxt is not None
        flattened = flattened and io is not None and _flattens_into(m, nxt, io.out_width or 0)
        flattened = flattened and _takes(nxt) != io.out_width
        # A Linear whose output is viewed as a map for convs: an activation between, or none.
        unflattened = nxt is not None and io is not None and _latent_mlp(members[: i + 1])
        unflattened = unflattened and _unflattens_into(m, nxt, 0)
        across = across or unflattened
        # A Sequential ending in a layer and its norm, before more layers: the activation that
        # follows a norm sits in its trailing slot, past the last key (WGAN-GP's `block1`).
        # (or before blocks that open with a conv: an image generator's encoder, then its
        # residual blocks)
        opens = _starts(nxt) in ("conv", "linear") or _block_starts(nxt, ctx) == "conv"
        closed = _closing_norm(m) is not None and opens
        if (after_conv_norm or between_linears or across or flattened or closed) and family(
            nxt
        ) != "activation":
            # A LayerNorm after a conv (ConvNeXt's and Swin's patchify stems) is followed by none,
            # a choice of its own name: a config's hidden_act is the blocks' activation.
            name, usual, why = "activation", "relu", ""
            # (the last layer of an MLP, i > 0, is activated as its hidden layers are before
            # its output is viewed as a map; a lone projection is not: a norm usually follows)
            if (across and not closed and not (unflattened and i > 0)) or m.attr == latent:
                usual = "identity"
            elif after_conv_norm and _first_block_role(nxt, ctx) == "PyramidalBlock":
                # PyramidNet's blocks normalise what they read first and activate only inside:
                # its stem's norm feeds them unactivated (Han et al.'s CIFAR code)
                usual, why = "identity", "PyramidNet's stem: its blocks open with a norm"
            elif after_conv_norm and _channels_norm(m):
                name, usual = "norm_activation", "identity"
            elif after_conv_norm or linear_norm:  # a mobile network's stem, head: as its blocks
                paths = [path for path, _ in cls.instances]
                usual, why = act.unit_default(ctx.resolver, usual, paths)
            # After a conv-norm pair, conv nets' own activations too (relu6, hard-swish...).
            activation = act.mark_family(
                ctx.choose(
                    cls,
                    m.attr,
                    name,
                    usual,
                    # (conv nets' own after any conv: SwinIR's tail ends a Sequential in LeakyReLU())
                    act.alternatives(
                        usual,
                        told=ctx.resolver,
                        conv=(after_conv_norm and not across) or _ends(m) == "conv",
                    ),
                    f"after {m.attr}",
                    aliases=act.ALIASES,
                ),
                why,
            )
            choices.append(activation)
            steps.append(("activation", activation.value))
            if family(m) in ("conv", "norm") and io.ndim and nxt is not None and not across:
                # Pooling between stages (a stem's max-pool, a CNN's halving) leaves no keys.
                _pooling_after(cls, ctx, members, i, io.ndim, steps, choices)
        elif nxt is not None and _deep_stem(m, ctx) and m.children[0].kind == "class":
            # A deep stem of conv-norm unit classes, each applying its own activation (OpenMMLab's
            # ConvModules): the stem's max-pool follows the Sequential.
            _pooling_after(cls, ctx, members, i, 2, steps, choices)
        if io is not None and io.out_width is not None:
            flow.width = io.out_width
        if io is not None and io.family != "activation":
            spatial = ("conv", "norm", "class", "sequential", "pool")
            keeps = io.family in ("class", "sequential") and io.ndim is None
            keeps = keeps and io.in_width is not None and io.in_width == io.out_width
            # A norm after a Linear (xiaolai's MobileNetV3 head: linear3, a BatchNorm1d, hs3)
            # normalises flat features: they stay flat.
            flat_norm = io.family == "norm" and i > 0 and family(members[i - 1]) == "linear"
            # ... as does one opening the chain before a Linear (a tabular MLP's input BatchNorm1d)
            flat_norm = flat_norm or (io.family == "norm" and i == 0 and family(nxt) == "linear")
            if not keeps and not flat_norm:  # a class mapping the width to itself keeps its layout
                flow.spatial = io.ndim if io.family in spatial else None
            if m.kind == "sequential" and _ends_projecting(m):
                flow.spatial = None  # (a BatchNorm1d after a Linear: still flat features)
            flow.sequence = io.family in SEQUENCE_FAMILIES or (
                flow.sequence and (io.family in ("norm", "linear") or keeps)
            )
        if not flow.spatial and io is not None and io.family in ("class", "sequential"):
            # A class whose last member is a Linear may still give conv features (a ConvNeXt
            # block mixes channels with Linear layers): its forward's role says so.
            flow.spatial = spatial_output(m, ctx)
        if ctx.role(m) == "PatchEmbedding":
            # Patches as tokens [batch, patches, d]; with no class token a head reads their
            # mean (MLP-Mixer, timm's global_pool "avg"): a choice.
            flow.spatial, flow.sequence, flow.pool_default = None, True, "mean"
        if m.kind in ("class", "sequential") and flow.spatial and _takes_features(nxt, ctx):
            # Pooling between stages leaves no keys, after a class or Sequential as after a
            # conv-norm pair (a stem's max-pool after ShuffleNet's conv-bn-relu Sequential,
            # GoogLeNet's between its conv classes).
            shuffled = i == 0 and _shuffle_stage(nxt, ctx)
            pooled = i == 0 and not _metaformer(ctx)
            pooled = pooled and (_stem_kernel(m, ctx) in (7, (7, 7)) or _holds_deep_stem(m, ctx))
            pooled = pooled and not dla_trunk(members, ctx)  # DLA's base layer: no pool
            usual = "max_pool_3x3" if pooled or shuffled else "none"
            if usual != "none" and _standardised_stem(m, ctx):
                usual = "zero_padded_max_pool_3x3"
            cadene = pooled and _cadene_stem(m, members)
            usual = "max_pool_3x3_ceil" if cadene else usual
            inception = _inception_resnet(ctx) and m.attr in INCEPTION_RESNET_POOLED
            usual = "max_pool_3x3_valid" if inception else usual
            others = [p for p in ("none", *STAGE_POOLS) if p != usual]
            pool = ctx.choose(cls, m.attr, "pooling_after", usual, others, "")
            choices.append(pool)
            if pool.value != "none":
                note = STEM_POOL_NOTE if pool.value == usual else _layout_note(pool)
                if pool.value == usual:
                    note = SHUFFLE_STEM_POOL_NOTE if not pooled else note
                    note = CADENE_STEM_POOL_NOTE if cadene else note
                    note = INCEPTION_POOL_NOTE if inception else note
                steps.append(("stage_pool", pool.value, flow.spatial, note))
        if m.kind == "sequential" and any(c.type_name == "nn.Flatten" for c in m.children):
            flow.spatial = None  # recorded layers (a whole-model pickle) flatten the features
    return steps, choices


def _pooling_after(
    cls: ClassDef, ctx: BlockContext, members: list[Module], i: int, ndim: int, steps, choices
) -> None:
    """The pooling_after choice for members[i] (a stem's 3/2/1 max-pool by convention), and its
    step where it pools."""
    usual = "max_pool_3x3" if _pooled_stem(members, i, ctx) else "none"
    level = usual == "none" and _pooled_level(members, i)
    usual = "max_pool" if level else usual
    others = [p for p in ("none", *STAGE_POOLS) if p != usual]
    pool = ctx.choose(cls, members[i].attr, "pooling_after", usual, others, "")
    pool = act.mark_family(pool, POOLED if level else "")
    choices.append(pool)
    if pool.value != "none":
        note = STEM_POOL_NOTE if pool.value == usual else _layout_note(pool)
        note = "an autoencoder level's pool by convention (a choice)" if level else note
        if note and any(_deep_stem(p, ctx) for p in members[: i + 1]):
            note = DEEP_STEM_POOL_NOTE
        steps.append(("stage_pool", pool.value, ndim, note))


def _pooled_level(members: list[Module], i: int) -> bool:
    """Whether members[i] (a conv, or the norm after one) is one of the pooled encoder levels of
    an autoencoder (_mirror_strides.pooled_levels)."""
    down = pooled_levels([leaf for m in members for leaf in layers(m)])
    conv = members[i - 1] if family(members[i]) == "norm" and i > 0 else members[i]
    return any(conv is d for d in down)


def _layout_note(pool: Choice) -> str:
    """A pool a family pattern read from the layout's names (families/inception_net.py)."""
    return "the layout's pool (a choice)" if pool.source == "structure" else ""


def _ends(m: Module | None) -> str | None:
    """The family of the last layer with tensors a member applies (a Sequential's last)."""
    if m is not None and m.kind == "sequential":
        return _ends(next((c for c in reversed(m.children) if c.kind != "placeholder"), None))
    return family(m)


def _trunk_norm(prev: Module, m: Module) -> bool:
    """A batch norm right after blocks (a class, or a container of them): a pre-activation
    trunk's last norm (He et al. 2016), which its activation follows, as after a conv."""
    while prev is not None and prev.kind in ("sequential", "repeat"):
        prev = next((c for c in reversed(prev.children) if c.kind != "placeholder"), None)
    return prev is not None and prev.kind == "class" and "BatchNorm" in m.type_name


def _starts(m: Module | None) -> str | None:
    if m is not None and m.kind == "sequential":
        return _starts(next((c for c in m.children if c.kind != "placeholder"), None))
    return family(m)


def _first_block_role(m: Module | None, ctx: BlockContext) -> str | None:
    """The role of the first block class a member holds (itself, or a stage's first item)."""
    while m is not None and m.kind in ("repeat", "sequential", "modulelist") and m.children:
        m = next((c for c in m.children if c.kind != "placeholder"), None)
    return ctx.role(m) if m is not None and m.kind == "class" else None


def _block_starts(m: Module | None, ctx: BlockContext) -> str | None:
    """The family of the first layer of a generated class holding one member (or of copies of
    one), as `_starts` gives it for a Sequential; None where the class holds more."""
    while m is not None and m.kind == "repeat" and m.children:
        m = m.children[0]
    cls = ctx.classes.get(m.type_name) if m is not None and m.kind == "class" else None
    inner = modules(cls) if cls is not None and not tensors(cls) else []
    return _starts(inner[0]) if len(inner) == 1 else None


def _repeats_a_width(m: Module) -> bool:
    """A repeat of built-in layers (or Sequentials of them) each mapping its width to itself."""
    item = m.children[0] if m.kind == "repeat" and m.children else None
    io = item.io if item is not None else None
    if item is None or item.kind not in ("builtin", "sequential") or io is None:
        return False
    return io.family in ("linear", "conv", "sequential") and io.in_width == io.out_width


# Block patterns whose forward gives 2-d conv features [batch, C, H, W] whatever their last member.
SPATIAL_ROLES = (
    "ConvNeXtBlock",
    "ResidualLayer",
    "PreActResidualLayer",
    "BasicBlock",
    "PyramidalBlock",
    "InvertedResidual",
    "ConvStem",
    "SqueezeExcite",
    "EfficientChannelAttention",
)


def spatial_output(m: Module, ctx: BlockContext, depth: int = 0) -> int | None:
    """2 where a member's output is known to be 2-d conv features: a spatial block's forward, or a
    container or chain class ending in one (looked up through the classes settled so far)."""
    if depth > 8 or m is None:
        return None
    if m.kind in ("sequential", "repeat", "modulelist"):
        real = [c for c in m.children if c.kind != "placeholder"]
        return spatial_output(real[-1], ctx, depth + 1) if real else None
    if m.kind != "class":
        return None
    role = ctx.roles.get(m.type_name)
    if role in SPATIAL_ROLES:
        return 2
    cls = ctx.classes.get(m.type_name)
    if role != "Sequence" or cls is None:
        return None
    last = [c for c in modules(cls) if c.kind != "placeholder"]
    return spatial_output(last[-1], ctx, depth + 1) if last else None


# Blocks that activate their input, not their output: a trunk of them is activated once more
# after the last (timm's NormFreeNet `final_act`).
PREACTIVATED_BLOCKS = ("NormFreeBlock",)


def _ends_in_preactivated_block(m: Module | None, ctx: BlockContext) -> bool:
    """Whether a member's last block (through nested containers) is a pre-activation block."""
    while m is not None and m.kind in ("sequential", "repeat", "modulelist") and m.children:
        m = m.children[-1]
    return m is not None and m.kind == "class" and ctx.role(m) in PREACTIVATED_BLOCKS


def _after_residual_layers(cls: ClassDef, ctx: BlockContext, member, steps, choices) -> None:
    """A class whose last member ends in VQ-VAE residual layers (blocks/preact_residual_layer.py)
    applies a ReLU after them, as Sonnet's ResidualStack: their sums are never activated, and no
    key shows it (rosinality's encoder holds it in a trailing slot past its last key)."""
    last = member
    while last is not None and last.kind in ("sequential", "repeat", "modulelist"):
        last = last.children[-1] if last.children else None
    if last is None or last.kind != "class" or ctx.role(last) != "PreActResidualLayer":
        return
    if steps and steps[-1][0] == "activation":
        return
    final = ctx.choose(
        cls,
        member.attr,
        "activation",
        "relu",
        act.alternatives("relu"),
        "after the last residual layer (Sonnet's ResidualStack ends in a ReLU)",
        aliases=act.ALIASES,
    )
    choices.append(final)
    steps.append(("activation", final.value))


def _ends_in_batch_norm(m: Module, ctx: BlockContext) -> bool:
    """Whether a member is a generated class whose forward returns what a batch norm gave, or a
    Sequential whose last item is one (MnasNet's `layers`: its last ReLU, past the last key, has
    no slot)."""
    if m.kind == "sequential" and m.children:
        last = m.children[-1]
        return last.kind == "builtin" and "BatchNorm" in last.type_name
    cls = ctx.classes.get(m.type_name) if m.kind == "class" else None
    graph = cls.forward.graph if cls is not None else None
    if graph is None or not graph.nodes or graph.nodes[-1].op != "output":
        return False
    produced = graph.nodes[-1].args[0] if graph.nodes[-1].args else None
    if not isinstance(produced, Value):
        return False
    node = graph[produced]
    if node.op != "call_module" or len(node.target) != 1:
        return False
    member = next((c for c in modules(cls) if c.attr == node.target[0]), None)
    return member is not None and member.kind == "builtin" and "BatchNorm" in member.type_name


def _norm_then_conv(m: Module) -> int | None:
    """The conv's dims where a Sequential's first layer is a LayerNorm and its next a conv."""
    real = [c for c in m.children if c.kind != "placeholder"]
    if len(real) >= 2 and _channels_norm(real[0]) and family(real[1]) == "conv":
        return real[1].io.ndim
    return None


def _nested_channels_norm(m: Module) -> bool:
    """A Sequential holding a LayerNorm, itself or in Sequentials among its items."""
    return any(
        _channels_norm(c) or (c.kind == "sequential" and _nested_channels_norm(c))
        for c in m.children
    )


def _channels_norm_dims(m: Module) -> int | None:
    """The conv dims where a Sequential (or one among its items) opens with a LayerNorm next to
    a conv: the norm sees conv features (a ConvNeXt's stem or downsampler)."""
    found = _norm_then_conv(m) or _conv_then_norm(m)
    for c in m.children:
        if found is None and c.kind == "sequential":
            found = _channels_norm_dims(c)
    return found


def _unrolled(m: Module, at: tuple[str, ...], ndim: int, steps: list) -> bool:
    """The steps calling a Sequential's items one by one (its Sequential items' in turn), each
    LayerNorm over the channels; False where an item holds no tensors (its layer unknown)."""
    for c in m.children:
        path = at + (c.attr,)
        if _channels_norm(c):
            steps.append(("channels_norm", path, ndim))
        elif c.kind == "sequential" and _nested_channels_norm(c):
            if not _unrolled(c, path, ndim, steps):
                return False
        elif c.kind != "placeholder":
            steps.append(("module", path, c.kind, c.type_name))
        else:
            return False
    return True


def _pooled_norm_head(m: Module) -> list[Module] | None:
    """The slots of a head Sequential holding a LayerNorm, then only slots, then a Linear
    (torchvision's ConvNeXt classifier `[LayerNorm2d, Flatten, Linear]`); None otherwise."""
    if m.kind != "sequential" or len(m.children) < 2:
        return None
    first, *between, last = m.children
    if not _channels_norm(first) or family(last) != "linear" or last.kind != "builtin":
        return None
    return between if all(c.kind == "placeholder" for c in between) else None


def _conv_then_norm(m: Module) -> int | None:
    """The conv's dims where a Sequential's first layer is a conv and its next a LayerNorm (a
    patchify stem, timm's ConvNeXt `stem`): the norm then sees conv features."""
    real = [c for c in m.children if c.kind != "placeholder"]
    if len(real) >= 2 and family(real[0]) == "conv" and _channels_norm(real[1]):
        return real[0].io.ndim
    return None


def _head_class(m: Module, ctx: BlockContext) -> bool:
    """A head class holding a LayerNorm and a Linear (timm's `NormMlpClassifierHead`), or one
    Linear alone (timm's `ClassifierHead`: its pool holds no tensors): after conv features it
    pools first, then normalises the pooled channels."""
    cls = ctx.classes.get(m.type_name) if m.kind == "class" else None
    if cls is None or tensors(cls) or not LAST.search(m.attr):
        return False
    members = [c for c in modules(cls) if c.kind != "placeholder"]
    norms = [c for c in members if _channels_norm(c)]
    linears = [c for c in members if family(c) == "linear"]
    if len(members) == 1 and len(linears) == 1:
        return True
    if len(members) != 2 or len(norms) != 1 or len(linears) != 1:
        return False
    return norms[0].io.in_width == linears[0].io.in_width


def _conv_head(m: Module, ctx: BlockContext) -> bool:
    """A head class (named so) holding one 1x1 conv and nothing else."""
    cls = ctx.classes.get(m.type_name) if m.kind == "class" else None
    if cls is None or tensors(cls) or not LAST.search(m.attr):
        return False
    members = [c for c in modules(cls) if c.kind != "placeholder"]
    if len(members) != 1 or members[0].kind != "builtin" or family(members[0]) != "conv":
        return False
    kernel = next((a.value for a in members[0].args if a.keyword == "kernel_size"), None)
    return kernel in (1, (1, 1))


def _last_stage_conv(m: Module, nxt: Module | None) -> bool:
    """A biased 1x1 conv without a norm that widens conv features, the classifier's Linear
    reading it directly: MobileNetV3's and GhostNet's `conv_head` (960 -> 1280)."""
    if m.kind != "builtin" or family(m) != "conv" or conv_kernel(m) not in (1, (1, 1)):
        return False
    if arg(m, "bias") is False or family(nxt) != "linear" or m.io is None or nxt.io is None:
        return False
    return m.io.out_width > m.io.in_width and nxt.io.in_width == m.io.out_width


def _channels_norm(m: Module) -> bool:
    return m.kind == "builtin" and m.type_name == "nn.LayerNorm"


def _pooled_stem(members: list[Module], i: int, ctx: BlockContext) -> bool:
    """Whether members[i] ends a 7x7 stem conv (and its norm) that stages follow: by convention
    (He et al. 2016, table 1; torchvision's and timm's ResNets, GoogLeNet) a 3x3 stride-2
    max-pool comes next. A convention, not evidence: it stays a choice."""
    convs = [m for m in members[: i + 1] if family(m) == "conv" or _deep_stem(m, ctx)]
    if len(convs) != 1 or members.index(convs[0]) not in (i, i - 1):
        return False
    if any(family(m) not in ("conv", "norm") and not _deep_stem(m, ctx) for m in members[: i + 1]):
        return False
    if not _deep_stem(convs[0], ctx) and conv_kernel(convs[0]) not in (7, (7, 7)):
        return False
    if _metaformer(ctx) or dla_trunk(members, ctx):
        return False  # DLA's 7x7 base layer keeps the resolution: no pool (dla_stem_pins)
    return any(m.kind in ("class", "sequential", "repeat") for m in members[i + 1 :])


def _cadene_stem(m: Module, members: list[Module]) -> bool:
    """Cadene's pretrainedmodels SENet stem: a `layer0` class beside the head `last_linear` (its
    3x3 stride-2 max-pool, unpadded, rounds up; analyze/strides.py: cadene_senet)."""
    return m.attr == "layer0" and any(o.attr == "last_linear" for o in members)


def _inception_resnet(ctx: BlockContext) -> bool:
    """Whether blocks/inception_residual.py pinned the model TF-slim's Inception-ResNet-v2."""
    return ("", "inception_resnet_stem") in ctx.resolver.structural


def _metaformer(ctx: BlockContext) -> bool:
    """Whether a block pattern pinned the model a MetaFormer (blocks/pool_mixer.py): its 7x7 stem
    conv strides 4 and no pool follows it (layers/conv.py)."""
    return ("", "metaformer_downsampling") in ctx.resolver.structural


def _deep_stem(m: Module, ctx: BlockContext | None = None) -> bool:
    """A Sequential of two or three 3x3 convs (with norms between) standing in for the 7x7 stem
    conv (ResNet-C/-D, He et al. 2019; timm's `stem_type='deep'`; Inception v3's first three), or
    (with `ctx`) of two or three conv-norm unit classes reading the image, where it is named a
    stem (mmcv's ConvModules, OpenMMLab's ResNetV1c/V1d `stem`)."""
    if m.kind != "sequential":
        return False
    layers = [c for c in m.children if c.kind != "placeholder"]
    units = [unit(c, ctx) for c in layers if c.kind == "class"] if ctx is not None else []
    if units and len(units) == len(layers) and 2 <= len(units) <= 3:
        if not all(u is not None and u.norm and u.kernel in (3, (3, 3)) for u in units):
            return False
        # Named a stem (as strides.deep_stem requires), or config.json says its first conv
        # halves the image (its num_channels stem, analyze/strides.py: HF RT-DETR's ResNet-D
        # `embedder`): a small CNN's first conv blocks keep the resolution and are neither.
        named = "stem" in m.attr.lower() or _told_halving(layers[0], ctx)
        return units[0].in_width in IMAGE_CHANNELS and named
    convs = [c for c in layers if family(c) == "conv"]
    if not 2 <= len(convs) <= 3 or family(layers[0]) != "conv":
        return False
    if any(family(c) not in ("conv", "norm") for c in layers):
        return False
    return all(conv_kernel(c) in (3, (3, 3)) for c in convs)


def _takes_features(m: Module | None, ctx: BlockContext) -> bool:
    """Whether the next member is a stage reading conv features (not a head reading vectors)."""
    if m is None or _reads_features(m) or _head_class(m, ctx):
        return False
    return family(m) in ("conv", "norm") or m.kind in ("class", "sequential", "repeat")


def _standardised_stem(m: Module, ctx: BlockContext) -> bool:
    """A stem class whose one conv is weight-standardised and followed by nothing with tensors:
    Big Transfer's root (`conv`, then zero padding and a max-pool; timm's `fixed` stem)."""
    cls = ctx.classes.get(m.type_name) if m.kind == "class" else None
    members = modules(cls) if cls is not None else []
    return len(members) == 1 and any(
        c.name == "weight_standardization" and c.value is not False for c in members[0].choices
    )


def _shuffle_stage(m: Module | None, ctx: BlockContext) -> bool:
    """Whether a member is a stage of ShuffleNetV2 units (patterns/blocks/channel_shuffle.py),
    which a 3x3 stride-2 max-pool precedes after the stem (Ma et al. 2018, table 5)."""
    first = next((c for c in m.children if c.kind != "placeholder"), None) if m else None
    return (
        first is not None
        and m.kind in ("sequential", "modulelist")
        and (ctx.role(first) == "ShuffleUnit")
    )


def _stem_kernel(m: Module, ctx: BlockContext) -> object:
    """The kernel of the one conv a stem class or Sequential holds (None: not one conv, or a
    stem class that pools itself, blocks/conv_stem.py's stem_pool)."""
    if ctx.role(m) == "ConvStem":
        return None
    cls = ctx.classes.get(m.type_name) if m.kind == "class" else None
    members = modules(cls) if cls is not None else m.children
    if cls is not None and any(_holds_blocks(c) for c in members):
        return None  # a whole trunk (a DeepLab backbone: stem, then its stages): pooled within
    convs = [c for c in members if family(c) == "conv"]
    return conv_kernel(convs[0]) if len(convs) == 1 else None


def _holds_blocks(m: Module) -> bool:
    """A member that is a block class, or a container of them (a stage)."""
    return m.kind in ("class", "repeat") or (
        m.kind in ("sequential", "modulelist") and any(c.kind == "class" for c in m.children)
    )


def _told_halving(m: Module, ctx: BlockContext) -> bool:
    """Whether the conv of unit class `m` takes stride 2 from config.json (not a convention)."""
    cls = ctx.classes.get(m.type_name) if m.kind == "class" else None
    convs = [c for c in modules(cls) if family(c) == "conv"] if cls is not None else []
    stride = next((a for a in convs[0].args if a.keyword == "stride"), None) if convs else None
    told = stride is not None and stride.choice is not None and stride.choice.source == "metadata"
    return told and stride.choice.value in (2, (2, 2))


def _holds_deep_stem(m: Module, ctx: BlockContext) -> bool:
    """A stem class whose one member is a deep stem (HF RT-DETR's `embedder.embedder`, three
    conv-norm units): it stands in for the 7x7 conv, so the same 3/2/1 max-pool follows."""
    cls = ctx.classes.get(m.type_name) if m.kind == "class" else None
    inner = modules(cls) if cls is not None else []
    return len(inner) == 1 and _deep_stem(inner[0], ctx)


def _reads_features(m: Module) -> bool:
    """A layer (or a Sequential head such as Dropout + Linear) that reads flat feature vectors."""
    if family(m) in ("linear", "rnn", "transformer"):
        return True
    # Only a Sequential whose first layer with tensors is a Linear: a generated class ending in a
    # Linear may still keep spatial dims (a ConvNeXt block), and recorded conv stacks end flat.
    first = next((c for c in m.children if c.kind != "placeholder"), None)
    return m.kind == "sequential" and family(first) == "linear"


def emit(g: Graph, steps: list[tuple], x: Value) -> Value:
    """The graph nodes of a plan, applied to `x`."""
    for step in steps:
        kind = step[0]
        if kind == "module":
            _, attr, module_kind, type_name = step
            path = attr if isinstance(attr, tuple) else (attr,)
            if module_kind == "repeat":
                x = g.call_module(path, x, each=True)
            elif module_kind == "moduledict":  # numbered items that chain (structure._dict)
                x = g.call_module(path, x, each=True, each_values=True)
            elif type_name in ("nn.RNN", "nn.LSTM", "nn.GRU"):
                x = g.call_module(path, x, unpack=2, comment="outputs of every step")
            else:
                x = g.call_module(path, x)
        elif kind == "stage_pool":
            _, how, ndim, comment = step
            x = stage_pool(g, how, x, ndim, comment)
        elif kind == "repeat":
            _, attr, activation, residual = step
            function = act.FUNCTIONS.get(activation) or ""
            x = g.call_module(
                (attr,), x, each=True, each_activation=function, each_residual=residual
            )
        elif kind == "channels_norm":
            _, path, ndim = step
            last = tuple([0] + list(range(2, 2 + ndim)) + [1])
            back = tuple([0, 1 + ndim] + list(range(1, 1 + ndim)))
            x = g.call_method("permute", x, *last, inline=True)
            x = g.call_module(path, x, inline=True)
            x = g.call_method("permute", x, *back, comment="LayerNorm over the channels")
        elif kind == "global_pool":
            _, how, ndim, head, takes, *keep = step
            dims = tuple(range(2, 2 + ndim))
            word = "average" if how == "mean" else "max"
            x = g.call_method(
                how,
                x,
                kwargs={"dim": dims, "keepdim": True} if keep else {"dim": dims},
                comment=f"global {word} pooling: {head} takes {takes} = channels",
            )
        elif kind == "latent_map":
            x = g.call_function("latent_as_map", x, name="x")
        elif kind == "unflatten":
            _, channels, side = step
            x = g.call_method(
                "view", x, -1, channels, side, side, comment=f"{channels} channels, {side}x{side}"
            )
        elif kind == "flatten_pooled":
            x = g.call_function("flatten", x, 1, comment="[batch, num_classes]")
        elif kind == "adaptive_pool":
            fn = "adaptive_max_pool" if step[2] == "adaptive_max" else "adaptive_avg_pool"
            x = g.call_function(fn, x, step[1], comment=f"to a {step[1]}x{step[1]} grid")
        elif kind == "flatten":
            _, head, takes, channels = step
            x = g.call_function(
                "flatten",
                x,
                1,
                comment=f"{head} takes {takes} = {channels} channels x {takes // channels} positions",
            )
        elif kind == "sequence_pool":
            how = step[1]
            if how == "mean":
                x = g.call_method("mean", x, kwargs={"dim": 1}, comment=SEQUENCE_POOLING[how])
            elif how == "max":
                x = g.call_method("amax", x, kwargs={"dim": 1}, comment=SEQUENCE_POOLING[how])
            else:
                index = (slice_all(), 0 if how == "first" else -1)
                x = g.call_function("getitem", x, index, comment=SEQUENCE_POOLING[how])
        elif kind == "scale":
            root = g.call_function("sqrt", step[1], inline=True)
            x = g.call_function("mul", x, root, comment="scaled by sqrt(d_model)")
        elif kind == "activation":
            x = act.apply(g, step[1], x)
    return x


def slice_all():
    from codegen.ir.graph import Slice

    return Slice()


def residual_choice(cls: ClassDef, ctx: BlockContext, members: list[Module]) -> Choice | None:
    """Layers mapping a width back to itself may be wrapped in a residual that leaves no keys (a
    pre-norm MLP block): a choice, not a silent guess, wherever the widths allow one."""
    ios = [m.io for m in members if m.io is not None and m.io.family != "activation"]
    # One Sequential holding the whole net (DnCNN's `model`) may be wrapped too.
    whole = len(members) == 1 and members[0].kind == "sequential"
    if (len(ios) < 2 and not whole) or not ios or ios[0].family == "embedding":
        return None
    if ios[0].in_width is None or ios[0].in_width != ios[-1].out_width:
        return None
    default, why = "none", ""
    told = ctx.resolver.structural.get(("", MOBILE_SKIPS))
    if told is not None and cls.instances and all(p in told[0] for p, _ in cls.instances):
        default, why = "add", told[1]
    return act.mark_family(
        ctx.resolver.choose(
            cls.name,
            "residual",
            default,
            [r for r in ("none", "add", "subtract") if r != default],
            "input width equals output; subtract: the net predicts what to take away (DnCNN)",
        ),
        why,
    )


# The model-wide pin (ChoiceResolver.structural, path "") of analyze/strides.py's mobile_skips:
# (the key paths of a mobile network's conv-norm blocks that add their input back, why).
MOBILE_SKIPS = "mobile_skips"


def output_activation_choice(
    cls: ClassDef,
    ctx: BlockContext,
    members: list[Module],
    around_residual: bool,
    from_latent: bool = False,
    vae: bool = False,
) -> Choice | None:
    """A squashing step after the last layer leaves no keys: an autoencoder's Sigmoid at the top,
    or an image-to-image conv net's Tanh after its global residual. `from_latent`: the model
    starts from a latent (a 1x1 map, or a Linear viewed as a map): a GAN generator's image."""
    ends = _ends(members[-1]) if members else None
    lone = members[0] if not cls.is_top and len(members) == 1 else None
    if lone is not None and (
        _lone_conv_sequential(lone) or (lone.kind == "builtin" and ends == "conv")
    ):
        # One conv and nothing else a key shows. Alone in a Sequential (CBDNet's `single_conv`:
        # Sequential(Conv2d, ReLU)), it wraps a layer past its key, an activation most often. A
        # class that only wraps one conv (RepVGG's deploy-time block, `rbr_reparam`) applies its
        # activation after it, where no key shows one: chained, two convs would collapse into
        # one. Named as a block's activation, not the model's output squashing: models repeat it.
        wrapped = lone.kind == "sequential"
        default = "relu" if wrapped else "identity"
        note = "after the conv, where no key shows one"
        if wrapped:
            note = f"after the conv of {lone.attr}, a Sequential whose later items hold no key"
        return ctx.resolver.choose(
            cls.name,
            "activation",
            default,
            act.alternatives(default, conv=True),
            note,
            aliases=act.ALIASES,
        )
    if not (cls.is_top and ends in ("linear", "conv")) and not (around_residual and ends == "conv"):
        return None
    # relu: a conv classifier's last conv is followed by its activation before the pooling
    # (SqueezeNet's final conv, ReLU, global pool), a Sequential's trailing slots no key shows.
    # A generator's image ends in tanh (DCGAN, Radford et al. 2015: "Tanh in the output layer";
    # pytorch/examples, PyTorch-GAN, WGAN-GP all keep it), when its last layer is a conv.
    # A VAE of Linear layers decodes Bernoulli pixel probabilities through a sigmoid (Kingma &
    # Welling 2014's MNIST decoder; pytorch/examples' VAE: `torch.sigmoid(self.fc4(h3))`).
    # A pooled conv autoencoder's reconstruction (its 2x2 pools undone by 2x2 transposed convs)
    # in [0, 1] pixels: a sigmoid, as the tutorials' MNIST autoencoders write it.
    generator = (from_latent or _image_to_image(members[-1])) and ends == "conv"
    bernoulli = vae and ends == "linear"
    pooled = ends == "conv" and bool(pooled_levels([leaf for m in members for leaf in layers(m)]))
    default = "tanh" if generator else "sigmoid" if bernoulli or pooled else "identity"
    why = "a generator's image (DCGAN's tanh)" if generator else ""
    why = "a VAE's Bernoulli decoder (pytorch/examples' sigmoid)" if bernoulli else why
    why = RECONSTRUCTION if pooled and not generator else why
    # A classifier trained with NLLLoss returns log-probabilities: pytorch/examples' MNIST Net
    # (`F.log_softmax(x, dim=1)` after its last Linear) and the tutorials that copy it.
    scores = ["log_softmax"] if ends == "linear" else []
    return act.mark_family(
        ctx.resolver.choose(
            cls.name,
            "output_activation",
            default,
            ["identity", "sigmoid", "tanh", "relu"] + scores,
            "after the last layer",
        ),
        why,
    )


def _lone_conv_sequential(m: Module) -> bool:
    """A Sequential whose one item is a built-in conv (no slot: any other layer follows it)."""
    return (
        m.kind == "sequential"
        and len(m.children) == 1
        and m.children[0].kind == "builtin"
        and family(m.children[0]) == "conv"
    )


def _image_to_image(m: Module | None) -> bool:
    """Whether the last layer is the image-giving end conv (at most 4 channels) of a net whose
    4x4 resampling convs are mirrored (layers/conv.py's MIRRORED_ENDS): a CycleGAN- or
    StarGAN-style generator, whose image ends in tanh as DCGAN's does."""
    while m is not None and m.kind == "sequential":
        m = _last_item(m)
    if m is None or m.kind != "builtin" or m.io is None or (m.io.out_width or 5) > 4:
        return False
    return any(
        a.keyword == "stride" and a.choice and a.choice.note == MIRRORED_ENDS for a in m.args
    )


RESIZE = "resize_to_input"
SEGMENTATION_WHY = (
    "DeepLab's segmentation model (torchvision's _SimpleSegmentationModel, VainF's): the class "
    "map resized bilinear to the input's size"
)


def output_pooling_choice(
    cls: ClassDef, ctx: BlockContext, members: list[Module], flow: Flow
) -> Choice | None:
    """A model whose last layer is a conv may end in a global pooling that holds no tensors (a
    conv classifier head: SqueezeNet's 1x1 conv to the classes, then an adaptive average pool and
    a flatten, in trailing slots past its last key): the output shape tells whether one is there."""
    if not cls.is_top or not flow.spatial or not members or _ends(members[-1]) != "conv":
        return None
    # DLA's head (ucbdrive/dla's and timm's dla.py): a global average pool, then its 1x1 conv `fc`
    usual = "mean" if dla_trunk(members, ctx) else "none"
    told = act.mobile_family(ctx.resolver) or ctx.resolver.structural.get(("", act.MOBILE_BODY))
    mobile = told is not None and conv_kernel(members[-1]) in (1, (1, 1))
    if mobile:
        # A mobile classifier (the family read from its body) whose classes come from a 1x1 conv
        # pools first (imgclsmob's `final_pool` then `output`; TF-slim ports' AvgPool then the
        # `Logits` conv): the average commutes with the 1x1 conv, so pooling after it is the same.
        usual = "mean"
    if any(r in (ATROUS_PYRAMID, PYRAMID_POOLING) for r in _roles_within(members, ctx)):
        # a DeepLab segmentation net (its ASPP: blocks/atrous_pyramid.py): torchvision's
        # _SimpleSegmentationModel and VainF's resize the class map to the input's size; so do
        # PSPNet's (its pyramid pooling: blocks/pooled_pyramid.py; hszhao's, mmseg's)
        usual = RESIZE
    pooling = ctx.resolver.choose(
        cls.name,
        "output_pooling",
        usual,
        [p for p in ("none", "mean", "amax", RESIZE) if p != usual],
        "global pooling after the last conv (a conv classifier head), or the map resized "
        "bilinear to the input's size (a segmentation head)",
    )
    if usual == RESIZE and pooling.source == "default":
        pooling.note = SEGMENTATION_WHY
    return act.mark_family(
        pooling, f"{told[1]}: a 1x1 conv classifier of pooled features" if mobile else ""
    )


def dla_trunk(members: list[Module], ctx: BlockContext) -> bool:
    """Whether the class's stages include deep layer aggregation trees (blocks/aggregation_tree.py):
    the structure of DLA's code (Yu et al. 2018), whose stem and head follow its conventions."""
    return any(ctx.role(m) == "Tree" for m in members)


DLA_STEM_WHY = (
    "DLA's conv levels before its trees (ucbdrive/dla, timm's dla.py): a 7x7 base layer of "
    "stride 1, the level that widens strides 2"
)


def dla_stem_pins(cls: ClassDef, members: list[Module], ctx: BlockContext) -> list[tuple]:
    """Stride pins for the conv Sequentials before a DLA trunk's first tree: the 7x7 base layer
    strides 1 (no pool follows it) and the one conv level that widens strides 2; others keep 1.
    Pins, so a hint or calibration still decides (analyze: Match.pins)."""
    if not cls.is_top or not dla_trunk(members, ctx):
        return []
    pins = []
    for m in members:
        if ctx.role(m) == "Tree":
            break
        real = [c for c in m.children if c.kind != "placeholder"] if m.kind == "sequential" else []
        first = real[0] if real else None
        if family(first) != "conv" or first.kind != "builtin" or first.io is None:
            continue
        widens = first.io.in_width is not None and first.io.out_width > first.io.in_width
        stride = 1 if conv_kernel(first) in (7, (7, 7)) else 2 if widens else None
        if stride is not None:
            pins.append((f"{m.attr}.{first.attr}", "stride", stride, DLA_STEM_WHY))
    return pins


GHOST_STEM_WHY = (
    "GhostNet's stem (Han et al. 2020, table 1; huawei-noah's and timm's code): a 3x3 conv of "
    "stride 2 before the Ghost bottlenecks"
)


def ghost_stem_pins(cls: ClassDef, members: list[Module], ctx: BlockContext) -> list[tuple]:
    """A stride-2 pin for the conv reading the image where the class's body holds GhostNet's
    bottlenecks (an ImageNet network in every code that writes them); a pin, so a hint or
    calibration still decides."""
    if not cls.is_top or not any(r == "GhostBottleneck" for r in _roles_within(members, ctx)):
        return []
    for m in members:
        first = m
        at: tuple[str, ...] = (m.attr,)
        while first.kind == "sequential" and first.children:
            first = first.children[0]
            at += (first.attr,)
        if first.kind == "builtin" and family(first) == "conv" and first.io is not None:
            if first.io.in_width in IMAGE_CHANNELS:
                return [(".".join(at), "stride", 2, GHOST_STEM_WHY)]
        return []
    return []


DILATED_WHY = (
    "DeepLabV3's backbone at output stride 16 (torchvision's resnet "
    "replace_stride_with_dilation=[False, False, True]): the last stage keeps the size, its "
    "later blocks' 3x3 convs dilated 2"
)


def dilated_trunk_pins(cls: ClassDef, members: list[Module], ctx: BlockContext) -> list[tuple]:
    """Where an ASPP (blocks/atrous_pyramid.py) reads a trunk class's last stage, DeepLabV3's
    convention at output stride 16: that stage's first block strides 1 (its 3x3 conv and its
    shortcut's projection), its later blocks' 3x3 convs dilate 2. Pins, so calibration or a
    hint still decides (the rates of output stride 8 dilate the stage before too)."""
    if not cls.is_top or not any(r == ATROUS_PYRAMID for r in _roles_within(members, ctx)):
        return []
    trunks = [m for m in members if m.kind == "class" and m.type_name in ctx.classes]
    trunk = next((m for m in trunks if _stem_kernel_class(m, ctx)), None)
    if trunk is None:
        return []
    stages = [m for m in modules(ctx.classes[trunk.type_name]) if _holds_blocks(m)]
    if not stages or stages[-1].kind not in ("repeat", "sequential", "modulelist"):
        return []
    stage, pins = stages[-1], []
    blocks = stage.children
    if stage.kind == "repeat":
        return []  # identical blocks: the first does not stride, nothing to pin
    for i, block in enumerate(blocks):
        held = ctx.classes.get(block.type_name) if block.kind == "class" else None
        if held is None:
            return []
        for conv, where in _convs_within(modules(held), f"{trunk.attr}.{stage.attr}.{block.attr}"):
            stride = next((a.value for a in conv.args if a.keyword == "stride"), 1)
            if i == 0 and stride in (2, (2, 2)):
                pins.append((where, "stride", 1, DILATED_WHY))
            elif i > 0 and conv_kernel(conv) in (3, (3, 3)):
                pins.append((where, "dilation", 2, DILATED_WHY))
    return pins


def _stem_kernel_class(m: Module, ctx: BlockContext) -> bool:
    """A class holding a stem conv and stages after it (a ResNet trunk)."""
    inner = modules(ctx.classes[m.type_name])
    return any(family(c) == "conv" for c in inner) and any(_holds_blocks(c) for c in inner)


def _convs_within(members: list[Module], path: str):
    for m in members:
        if m.kind == "builtin" and family(m) == "conv":
            yield m, f"{path}.{m.attr}"
        elif m.kind == "sequential":
            yield from _convs_within(m.children, f"{path}.{m.attr}")


def _roles_within(members: list[Module], ctx: BlockContext):
    for m in members:
        if m.kind == "sequential":
            yield from _roles_within(m.children, ctx)
        else:
            yield ctx.role(m)


# Transformer stages built by catalogue patterns: a class around them that no family pattern
# explains is not chained by widths (an encoder-decoder, ALBERT's shared layers...).
TRANSFORMER_ROLES = (
    "Attention",
    "SelfAttention",
    "PostNormAttention",
    "Block",
    "Encoder",
    "Transformer",
    "TextEmbeddings",
    "VisionEmbeddings",
)
TRANSFORMER_GAP = (
    "how the transformer stages {} are assembled: no family pattern (decoder LM, encoder, ...) "
    "matches this class"
)


class Chain(BlockPattern):
    role = "Sequence"
    names_class = False  # "a sequence" says nothing a reader could name a class by
    priority = -100  # the weakest: any pattern that explains as much wins
    fallback = True
    trust = "guessed"
    trust_note = (
        "layers linked where their widths compose, in an order read from widths and names; steps "
        "without tensors (pooling, activations, a residual, a gate) leave no keys, so any not "
        "offered as a choice is missing"
    )

    accepts = Accepts(1, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if not members or tensors(cls) or _attention_projections(members):
            return None
        stages = [m.attr for m in members if ctx.role(m) in TRANSFORMER_ROLES]
        if stages and len(members) > 1:  # widths cannot tell where masks, norms, heads go
            return Match(self, len(members), missing=TRANSFORMER_GAP.format(", ".join(stages)))
        front: list[str] = []
        flow = Flow()
        heads = latent_heads(members)
        latent = None
        if heads is not None:
            latent = latent_choice(cls, ctx)
            members = [m for m in members if m is not heads[latent.value == "first"]]
        tables = _learned_positions(members)
        if tables is not None:
            front = [tables[0].attr, tables[1].attr]
            members = [m for m in members if m not in tables]
            flow = Flow(width=tables[0].io.out_width, sequence=True)
        # (the width a block pattern around the class found it reads: a decoder whose widths
        # form a cycle starts where it reads its encoder's output, families/linked_encoder_decoder)
        told = ctx.resolver.structural.get((cls.name, "input_width"))
        ordered = dataflow_order(members, flow.width or (told[0] if told else None))
        if ordered is None:
            return None
        mean = heads[latent.value != "first"].attr if heads is not None else ""
        found = plan(cls, ctx, ordered, flow, latent=mean)
        if found is None:
            return None
        steps, choices = found
        if ordered:
            _after_residual_layers(cls, ctx, ordered[-1], steps, choices)
        if cls.is_top and not front and _opens_transposed(ordered[0]):
            # DCGAN-style generators take the latent as a 1x1 map (pytorch/examples' DCGAN) or
            # flat and view it so (SAGAN): the file accepts both, a map unchanged
            steps.insert(0, ("latent_map",))
        if latent is not None:
            choices.insert(0, latent)
        residual = None if front else residual_choice(cls, ctx, ordered)
        squash = None
        if residual is not None:
            choices.append(residual)
        from_latent = any(s[0] in ("latent_map", "unflatten") for s in steps[:3])
        squash = output_activation_choice(
            cls, ctx, ordered, residual is not None, from_latent, vae=latent is not None
        )
        if squash is not None:
            choices.append(squash)
        pooled = output_pooling_choice(cls, ctx, ordered, flow)
        if pooled is not None:
            choices.append(pooled)
        how = residual.value if residual is not None else "none"
        output = squash.value if squash is not None else "identity"
        pooling = (pooled.value, flow.spatial) if pooled is not None else ("none", None)
        found = (front, steps, how, output, pooling)
        pins = dla_stem_pins(cls, ordered, ctx) + ghost_stem_pins(cls, ordered, ctx)
        pins += dilated_trunk_pins(cls, ordered, ctx)
        pins += [p for p in flow.pins if p is not None]
        return Match(self, len(modules(cls)), found, choices, pins=pins)

    def forward(self, match: Match, g: Graph) -> None:
        front, steps, residual, output, (pooling, ndim) = match.found
        x = identity = g.input("x")
        if front:
            # Token ids and their positions, each through its own table, summed (GPT-2's wte + wpe).
            length = g.call_method("size", x, 1, inline=True)
            device = g.call_method("device", x, inline=True)
            positions = g.call_function(
                "arange", length, kwargs={"device": device}, name="positions"
            )
            x = g.call_function(
                "add",
                g.call_module((front[0],), x, inline=True),
                g.call_module((front[1],), positions, inline=True),
            )
        x = emit(g, steps, x)
        if residual == "add":
            x = g.call_function("add", x, identity, comment="residual: the input is added")
        elif residual == "subtract":
            x = g.call_function(
                "sub", identity, x, comment="global residual: the net predicts what to remove"
            )
        if output != "identity":
            x = act.apply(g, output, x, inline=pooling == "none")
        if pooling == RESIZE:
            x = resize_like(g, x, identity, comment="to the input's size")
        elif pooling != "none":
            word = "average" if pooling == "mean" else "max"
            dims = tuple(range(2, 2 + ndim))
            x = g.call_method(pooling, x, kwargs={"dim": dims}, comment=f"global {word} pooling")
        g.output(x)

    def example_inputs(self, match: Match, cls) -> list[ExampleInput] | None:
        """A latent vector [batch, features] where a Linear's output is viewed as a map (a
        generator's projection), a 1x1 latent map where a transposed conv opens the model (DCGAN);
        else None: the first layer's usual input."""
        front, steps, *_ = match.found
        first = next((s for s in steps if s[0] == "module"), None)
        latent = bool(steps) and steps[0][0] == "latent_map"
        if not front and first is not None and not latent:
            flattened = _flattened_image(cls, steps)
            if flattened is not None:
                return [flattened]
        if front or first is None or not (latent or any(s[0] == "unflatten" for s in steps)):
            return None
        attr = first[1] if isinstance(first[1], str) else first[1][0]
        head = next((m for m in modules(cls) if m.attr == attr), None)
        takes = _takes(head) if head is not None else None
        # (a DCGAN generator's latent as pytorch/examples draws it: [batch, nz, 1, 1])
        return [ExampleInput((2, takes, 1, 1) if latent else (2, takes))] if takes else None

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn

        class Autoencoder(nn.Module):  # equal-free widths: 12 -> 4 -> 12, decoder sorted first
            def __init__(self) -> None:
                super().__init__()
                self.decoder = nn.Linear(4, 12)
                self.encoder = nn.Linear(12, 4)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return self.decoder(torch.relu(self.encoder(x)))

        return [Example(Autoencoder(), (torch.randn(3, 12),))]


def _flattened_image(cls, steps: list[tuple]) -> ExampleInput | None:
    """An image for a chain of 2-d convs flattened into a Linear reading an s x s grid of their
    channels: the side each conv, undone from the last, needs to give the next its side (a VAE's
    encoder: 4x4 stride-2 convs, then the Linear), so the features flatten to what the Linear
    reads. None for any other chain."""
    flat = next((i for i, s in enumerate(steps) if s[0] == "flatten"), None)
    # (pools between the convs resize the map too: not counted here)
    if flat is None or any(s[0] not in ("module", "activation") for s in steps[:flat]):
        return None
    _, attr, takes, width = steps[flat]
    side = math.isqrt(takes // width) if width and takes % width == 0 else 0
    by_attr = {m.attr: m for m in modules(cls)}
    convs = [
        leaf
        for s in steps[:flat]
        if s[0] == "module" and isinstance(s[1], str) and s[1] in by_attr
        for leaf in layers(by_attr[s[1]])
    ]
    if side < 2 or side * side * width != takes or not convs or convs[0].type_name != "nn.Conv2d":
        return None
    grid = side
    for conv in reversed(convs):
        stride, kernel = strides_by(conv), conv_kernel(conv)
        padding, dilation = arg(conv, "padding", 0), arg(conv, "dilation", 1)
        if not all(type(v) is int for v in (stride, kernel, padding, dilation)):
            return None
        span = dilation * (kernel - 1) + 1
        # (the side times the stride where that gives the side too: 8 to 4 at stride 2, not 7)
        scaled = side * stride
        fits = (scaled + 2 * padding - span) // stride + 1 == side
        side = scaled if fits else (side - 1) * stride + span - 2 * padding
    why = f"an image the convs take to the {grid}x{grid} map {attr} reads, flattened"
    return ExampleInput((2, convs[0].io.in_width, side, side), why=why)


def latent_choice(cls, ctx: BlockContext):
    """Which of a VAE's two same-shape heads (latent_heads) is the mean: one choice per class."""
    return ctx.resolver.choose(
        cls.name,
        "latent_mean",
        "first",
        ["second"],
        "which of two same-shape heads between an encoder and a decoder is the posterior's "
        "mean, decoded (first by name); the other, the log-variance, is not used",
    )


def latent_heads(members: list[Module]) -> tuple[Module, Module] | None:
    """A VAE's two heads as pytorch/examples writes them (`fc21`, `fc22`: the mean and the
    log-variance): the only two Linear layers of one shape, narrowing, reading what another layer
    gives and giving what another layer reads. The one named as a mean first, else by name."""
    linears = [m for m in members if m.kind == "builtin" and family(m) == "linear"]
    shapes = [(m.io.in_width, m.io.out_width) for m in linears]
    pairs = [m for m, shape in zip(linears, shapes) if shapes.count(shape) == 2]
    if len(pairs) != 2 or any(m.io.in_width is None or m.io.out_width is None for m in pairs):
        return None
    wide, narrow = pairs[0].io.in_width, pairs[0].io.out_width
    rest = [m for m in members if m not in pairs and m.io is not None]
    if narrow >= wide or not any(_takes(m) == narrow for m in rest):
        return None
    if not any(m.io.out_width == wide for m in rest):
        return None
    ordered = sorted(pairs, key=lambda m: (not _named(LATENT_MEAN, m.attr), tie_order(m)))
    return ordered[0], ordered[1]


def _learned_positions(members: list[Module]) -> tuple[Module, Module] | None:
    """A token embedding and a position embedding of the same width: (tokens, positions)."""
    tables = [m for m in members if family(m) == "embedding"]
    if len(tables) != 2 or tables[0].io.out_width != tables[1].io.out_width:
        return None
    positions = [m for m in tables if POSITIONS.search(m.attr)]
    if len(positions) != 1:
        return None
    tokens = next(m for m in tables if m is not positions[0])
    return tokens, positions[0]


def _attention_projections(members: list[Module]) -> bool:
    """Query/key/value projections run side by side and meet in attention, never in a chain."""
    return sum(1 for m in members if ATTENTION_PROJECTION.match(m.attr.lower())) >= 2


def why_not(cls: ClassDef) -> str:
    """What no pattern could infer, for the NotImplementedError the forward raises."""
    if tensors(cls):
        names = ", ".join(t.attr for t in tensors(cls))
        return f"how {names} enter{'s' if len(tensors(cls)) == 1 else ''} the computation"
    members = modules(cls)
    if not members:
        return "the computation of a class without modules"
    if _attention_projections(members):
        names = ", ".join(m.attr for m in members)
        return (
            f"how {names} combine: an attention whose heads, scaling and masking "
            "the checkpoint does not record"
        )
    names = ", ".join(m.attr for m in members)
    return f"the order in which {names} are applied (their widths do not chain)"
