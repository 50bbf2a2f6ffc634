"""Groups of a convolution read from the width that reaches it (issue 16).

A conv's weight stores in_channels / groups. Where the dataflow shows the width W that reaches the
conv, a weight reading r < W channels is one of two things, told apart by the evidence:

- grouped: ONE conv reads all W channels in g = W / r groups (ResNeXt's split_transforms, RegNet's
  group width, DPN's grouped 3x3, ShuffleNet v1's grouped 1x1s); nothing else reads the rest;
- split: the forward slices W first, and SEVERAL sibling convs read parts whose widths sum to W
  (MixNet's mixed kernels, ShuffleNetV2's `chunk`, GhostNet's slice), or the unread part is
  concatenated back, so the block gives more than its last conv.

`reached_groups` reads W where the keys prove it and returns conv path -> groups only where the
grouped reading fits and the split one does not:

1. beside a projection shortcut: a block whose one-1x1-conv path gives what its body's last conv
   gives projects what enters the block, so the body's first conv reads that width too;
2. after a block in a numbered list: a block's output is its projection's width (or, past an
   identity residual, its input's); the next block's first conv reads it, where that block's last
   conv gives it back (an identity residual: a split would concatenate the unread part, giving
   more than the last conv);
3. after a norm: a unit of one norm and one conv whose norm cannot follow the conv (its width is
   not what the conv gives), or whose sibling unit of the same member names proves the norm runs
   first (one class: timm's BnActConv2d), normalises what the conv reads.

4. after a sibling unit: in a chain of single-conv units (a ConvNormAct each: timm's byobnet and
   RegNet `conv1`, `conv2`, `conv3`; torchvision's RegNet `f.a`, `f.b`, `f.c`; a numbered
   Sequential of them), ordered by the numbers in their names, a squeeze-excite gate (1x1s that
   give back the width they read) being no step, the unit after one giving W reads W, unless
   (named units) what it reads is a width a sibling gives or the siblings read alongside it (the
   shared input of side-by-side branches: Inception's, whose names number kernels); its conv is
   grouped where the unit after it reads what it gives (a split would concatenate the rest).

A weight reading one channel per group ([C, 1, k, k]) is left to layers/conv.py's depthwise rule,
and a 1x1 one ([C, 1, 1, 1]) beside such a branch to `depthwise_branch_groups` (rule 5), one
beside a Linear mapping a class token alongside to `token_pooling_groups` (rule 6: a depth
multiplier, the token's width read).

A conv that opens a Sequential reads what the Sequential's predecessor gives, which only the
dataflow shows: analyze/structure.py passes it in as the Sequential's entry (`_numbered`: the
item before a nested Sequential, `_regrouped_by`: the member before it in a chain, placed there
by blocks/chain.py's `_opens_after_other`), and layers/conv.py's `_conv_groups` reads groups
from it, a depth multiplier where the opening conv is depthwise.

`likely_groups` reads groups the structure suggests without proving them (1x1s around
concatenated depthwise branches, ESPNetv2's EESP): layers/conv.py offers them as the choice
`groups`, 1 the alternative, so no conv is a silent constant.

`split_lists` reads the split side: a numbered list of bare convs whose outputs together are as
wide as a norm beside it is one tensor split across them (blocks/split_concat.py builds it).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from codegen.patterns._kit import name_order
from codegen.patterns.layers.conv import ENTRY, _conv_kernel, rgb_entries
from codegen.safetext import is_index

if TYPE_CHECKING:
    from codegen.keytree import KeyNode


def _weight(node: KeyNode) -> tuple[int, ...] | None:
    """A 2-d conv leaf's weight shape (out, in / groups, kh, kw), else None."""
    w = node.tensors.get("weight")
    if node.children or w is None or len(w.shape) != 4 or not set(node.tensors) <= {
        "weight",
        "bias",
    }:
        return None
    return tuple(w.shape)


def _norm_width(node: KeyNode) -> int | None:
    """The width of a norm leaf (1-d vectors only, a scale or running statistics), else None."""
    shapes = {n: t.shape for n, t in node.tensors.items()}
    if node.children or not ({"weight", "running_mean"} & set(shapes)):
        return None
    widths = {s[0] for s in shapes.values() if len(s) == 1}
    if len(widths) != 1 or any(len(s) > 1 for s in shapes.values()):
        return None
    return next(iter(widths))


def _convs(node: KeyNode) -> list[tuple[KeyNode, tuple[int, ...]]]:
    """The 2-d convs under a node in the order its names number them."""
    w = _weight(node)
    if w is not None:
        return [(node, w)]
    found = []
    for name in sorted(node.children, key=name_order):
        found += _convs(node.children[name])
    return found


def _grouped(width: int, w: tuple[int, ...]) -> int | None:
    """g where a weight w reads width / g channels of `width` (g > 1, dividing its outputs)."""
    r = w[1]
    if r <= 1 or r >= width or width % r or w[0] % (width // r):
        return None
    return width // r


def _split(node: KeyNode, conv: KeyNode, width: int) -> bool:
    """Whether the conv is one of several siblings, convs alone, whose in-widths sum to `width`:
    one tensor split across them (MixNet's mixed kernels, a numbered ModuleDict of convs)."""
    parent = _parent(node, conv)
    if parent is None:
        return False
    siblings = [_weight(c) for c in parent.children.values()]
    if len(siblings) < 2 or None in siblings:
        return False
    return sum(w[1] for w in siblings) == width


def _parent(root: KeyNode, node: KeyNode) -> KeyNode | None:
    path = node.path[len(root.path) + 1 :] if root.path else node.path
    parent = root
    for segment in path.split(".")[:-1]:
        parent = parent.children.get(segment)
        if parent is None:
            return None
    return parent


def _projection(block: KeyNode) -> tuple[tuple[int, ...], list] | None:
    """(the projection's weight, the body's convs in order) of a block beside a projection
    shortcut: a child path holding one 1x1 conv, giving what the last of the block's other convs
    (two or more) gives."""
    found = None
    for name, child in block.children.items():
        convs = _convs(child)
        if not child.children or len(convs) != 1 or convs[0][1][2:] != (1, 1):
            continue
        body = [c for n in sorted(block.children, key=name_order) if n != name
                for c in _convs(block.children[n])]
        paths = [n for n, c in block.children.items() if n != name and len(_convs(c)) >= 2]
        if len(paths) >= 2:
            continue  # (two paths of several convs beside a 1x1 conv: DLA's trees and root)
        # (a block's body: a few convs, not a network's stages beside a 1x1 head)
        if 2 <= len(body) <= 4 and body[-1][1][0] == convs[0][1][0]:
            if found is not None:
                return None
            found = (convs[0][1], body)
    return found


def _block_io(block: KeyNode, entry: int | None, found: dict[str, int]) -> int | None:
    """The width a block gives, recording in `found` its first conv's groups where the width
    that reaches it (`entry`, or its projection's) proves them; None where it cannot tell."""
    projected = _projection(block)
    if projected is not None:
        proj, body = projected
        first, w = body[0]
        g = _grouped(proj[1], w)
        if g is not None and not _split(block, first, proj[1]):
            found[first.path] = g
        return proj[0]
    body = _convs(block)
    if entry is None or len(body) < 2 or body[-1][1][0] != entry:
        return None  # (not an identity residual: what it gives is not shown here)
    first, w = body[0]
    g = _grouped(entry, w)
    if g is not None and not _split(block, first, entry):
        found[first.path] = g
    return entry if g is not None or w[1] == entry else None


def _transposed_then_norm(conv: tuple[KeyNode, tuple[int, ...]], norm: tuple[KeyNode, int]) -> bool:
    """Whether a numbered {conv, norm} unit reads as a transposed conv and the norm after it
    (`Sequential(ConvTranspose2d(c, c', ..), BatchNorm2d(c'), ReLU())`, a decoder's unit): the
    norm, later in the order data flows, is as wide as the weight's second width, which a
    transposed conv gives (layers/conv.py's _widths_say_transposed reads it so). Its norm is
    then no norm running first over a grouped conv's input."""
    (node, w), (norm_node, width) = conv, norm
    return (
        is_index(node.name)
        and is_index(norm_node.name)
        and int(node.name) < int(norm_node.name)
        and width == w[1] != w[0]
    )


def _after_norm(node: KeyNode, found: dict[str, int]) -> None:
    """Rule 3: the convs of {norm, conv} units whose norm runs first, over what the conv reads."""
    units = {}
    for name, child in node.children.items():
        leaves = list(child.children.values())
        if len(leaves) != 2:
            continue
        convs = [(c, _weight(c)) for c in leaves if _weight(c) is not None]
        norms = [(c, _norm_width(c)) for c in leaves if _norm_width(c) is not None]
        if len(convs) == 1 and len(norms) == 1:
            if _transposed_then_norm(convs[0], norms[0]):
                continue  # (its norm follows it: no evidence of an order, no groups)
            units[name] = (frozenset(child.children), norms[0][1], convs[0])
    # A norm not as wide as what its conv gives cannot follow it: it runs first, in every unit
    # of those member names (one class).
    first = {names for names, width, (_, w) in units.values() if width != w[0]}
    for names, width, (conv, w) in units.values():
        if names in first:
            g = _grouped(width, w)
            if g is not None:
                found[conv.path] = g


def _gate(convs: list[tuple[KeyNode, tuple[int, ...]]]) -> bool:
    """Whether a member's convs are a squeeze-excite gate: 1x1s through a narrower width that give
    back the width they read (the gate multiplies its input, so the chain passes through it)."""
    if len(convs) < 2 or any(w[2:] != (1, 1) for _, w in convs):
        return False
    return convs[0][1][1] == convs[-1][1][0] and any(w[0] < convs[0][1][1] for _, w in convs[:-1])


def _after_sibling(node: KeyNode, found: dict[str, int]) -> None:
    """Rule 4: the conv of a single-conv unit reading a fraction of what the unit before it gives.
    Only names carrying a number order the steps (`conv1_1x1` before `conv2_kxk`); a member named
    without one (a `downsample`, a `shortcut`) is no step of the chain, only a sibling."""
    members = [(n, _convs(node.children[n])) for n in sorted(node.children, key=name_order)]
    members = [(n, convs) for n, convs in members if convs and not _gate(convs)]
    chain = [(n, convs) for n, convs in members if re.search(r"\d", n)]
    units = [(n, convs[0]) for n, convs in chain if len(convs) == 1]
    if len(units) < 3 or len(units) != len(chain):
        return
    numbered = all(is_index(n) for n in node.children)
    unnumbered = [convs for n, convs in members if not re.search(r"\d", n)]
    for (_, (_, a)), (_, (conv, w)), (_, (_, c)) in zip(units, units[1:], units[2:]):
        g = _grouped(a[0], w)
        if g is None or conv.path in found or c[1] != w[0]:
            continue
        # What reaches it is the unit before's (a numbered list runs in its order), unless named
        # siblings give that narrower width or read it too (besides the first unit: it reads
        # what enters, as the chain does): side-by-side branches over what enters the block.
        others = [x for _, (n, x) in units if n is not conv]
        others_read = [x[1] for x in others[1:]] + [cs[0][1][1] for cs in unnumbered]
        others_give = [x[0] for x in others] + [cs[-1][1][0] for cs in unnumbered]
        if not numbered and w[1] in others_read + others_give:
            continue
        found[conv.path] = g


def depthwise_branch_groups(root: KeyNode) -> dict[str, int]:
    """Rule 5: conv path -> groups for a 1x1 conv [C, 1, 1, 1] beside a depthwise branch [C, 1, k, k]
    giving the same width: branches side by side over one C-wide input, summed (apple's
    ml-mobileone `rbr_scale` beside `rbr_conv`, RepViT's RepVGGDW `conv1` beside `conv`, timm's
    MobileOneBlock `conv_scale` beside `conv_kxk`): the depthwise conv reads C channels, so the 1x1
    beside it does, one per group. In a chain (a 1x1 then the depthwise conv) the 1x1 would read
    one channel: only where a grayscale image enters, which a stem-like path and no RGB entry
    elsewhere say (layers/conv.py's depthwise rule reads it so)."""
    found: dict[str, int] = {}
    stems_read_rgb = bool(rgb_entries(root))
    for node in root.walk():
        branches = []
        for child in node.children.values():
            items = child.children.values() if child.children and all(
                is_index(n) for n in child.children
            ) else [child]
            for item in items:
                convs = _convs(item)
                if len(convs) == 1:
                    branches.append(convs[0])
        depthwise = {w[0] for _, w in branches if w[1] == 1 and w[2:] != (1, 1) and w[0] > 1}
        if any(w[0] == 1 for _, w in branches):
            continue  # (a 1-channel width is given here: a 1x1 may read it)
        for conv, w in branches:
            if w[1:] != (1, 1, 1) or w[0] not in depthwise or conv.path in found:
                continue
            stem = all(ENTRY.fullmatch(s) for s in conv.path.split(".")[:-1])
            if not stem or stems_read_rgb:
                found[conv.path] = w[0]
    return found


def branch_input_groups(root: KeyNode) -> dict[str, int]:
    """Conv path -> groups for the separable branches of a cell that reads a narrower width than
    they give (pytorch-cifar's PNASNet cell at a stride-2 step: `SepConv(8, 16, 7, groups=8)`, a
    depth multiplier of 2, weight [16, 1, 7, 7]). Two or more sibling units (a conv [C, 1, k, k]
    and its norm, nothing else) with distinct kernels are branches side by side, so they read
    what enters their class, as an Inception cell's branches do; what enters is the width W a
    pointwise conv of that class reads and none of its convs gives (the pooling branch's
    projection). A weight [C, 1, k, k] over W channels is groups=W, each giving C / W channels.
    A single depthwise unit (a MobileNet block's, after its expansion) is never read so: one
    branch is a chain, which the expansion before it feeds."""
    found: dict[str, int] = {}
    for node in root.walk():
        units: list[tuple[KeyNode, tuple[int, ...]]] = []
        for child in node.children.values():
            convs = [c for c in child.walk() if _conv_kernel(c) is not None]
            leaves = [c for c in child.walk() if c.tensors]
            if len(convs) == 1 and len(leaves) == 2 and child.children:
                units.append((convs[0], tuple(convs[0].tensors["weight"].shape)))
        spread = [(c, w) for c, w in units if w[1] == 1 and set(w[2:]) != {1}]
        widths = {w[0] for _, w in spread}
        if len(spread) < 2 or len(widths) != 1 or len({w[2:] for _, w in spread}) != len(spread):
            continue
        width = next(iter(widths))
        given, read = set(), set()
        for c in node.walk():
            w = _conv_kernel(c) and tuple(c.tensors["weight"].shape)
            if w:
                given.add(w[0])
                if set(w[2:]) == {1}:
                    read.add(w[1])
        # (what a pointwise conv reads and no conv gives, narrower than the branches: a width a
        # concatenation of branch outputs gives is wider)
        entries = [r for r in read - given if r < width and width % r == 0]
        if len(entries) == 1:
            found.update({c.path: entries[0] for c, _ in spread})
    return found


def pointwise_groups(root: KeyNode) -> dict[str, int]:
    """Conv path -> groups for the grouped 1x1 convs around a depthwise conv (ShuffleNet v1's
    unit, Zhang et al. 2018: a grouped 1x1 compresses to the depthwise width `mid`, a channel
    shuffle, the depthwise conv, a grouped 1x1 expands; pytorch-cifar's `Conv2d(4, 16, 1,
    groups=2)`, weight [16, 2, 1, 1]), which the weight alone reads as ungrouped over 2 channels.
    A unit is the largest subtree holding one depthwise conv [mid, 1, k, k]. Its expansion is the
    one 1x1 conv reading a fraction mid / g of `mid` that neither gives `mid` nor reads a width any
    conv of the unit gives: only the depthwise conv can feed it, so it is grouped g. The unit's
    compression (the one 1x1 conv giving `mid`) is grouped g too where what it reads times g is what
    the expansion gives: the unit keeps its width (its input added back), or doubles it by a
    concatenation as ShuffleNet's first unit of each stage does. A compression reading the unit's
    input whole (pytorch-cifar's first unit over the 24-channel stem) stays ungrouped, and a
    MobileNet block's expansion, which gives `mid`, is never read as the unit's second 1x1."""
    found: dict[str, int] = {}
    counts: dict[str, int] = {}

    def depthwise(node: KeyNode) -> tuple[int, ...] | None:
        w = _conv_kernel(node) and tuple(node.tensors["weight"].shape)
        return w if w and len(w) == 4 and w[1] == 1 and w[0] > 1 and set(w[2:]) != {1} else None

    def count(node: KeyNode) -> int:
        counts[node.path] = int(depthwise(node) is not None) + sum(
            count(c) for c in node.children.values()
        )
        return counts[node.path]

    count(root)
    chained: list = []  # (unit path, its compression, its groups, what its expansion gives)
    units = [
        n
        for n in root.walk()
        if counts[n.path] == 1 and (n is root or counts[n.path.rpartition(".")[0]] > 1)
    ]
    for unit in units:
        if not any(_norm_width(n) for n in unit.walk()):
            # ShuffleNet normalises each conv: a unit of bare convs whose 1x1 reads half the
            # depthwise width is a gate's (Restormer's feed-forward, blocks/gated_dconv_ffn.py)
            continue
        convs = [(n, tuple(n.tensors["weight"].shape)) for n in unit.walk() if _conv_kernel(n)]
        mid = next(w[0] for n, w in convs if depthwise(n))
        pointwise = [(n, w) for n, w in convs if len(w) == 4 and set(w[2:]) == {1}]
        expands = [  # (a conv cannot feed itself: IGCV3's unit that keeps 8 -> 8 across it)
            (n, w)
            for n, w in pointwise
            if w[1] < mid
            and mid % w[1] == 0
            and w[0] != mid
            and w[1] not in {v[0] for m, v in convs if m is not n}
        ]
        # One 1x1 reading that width; the compression giving `mid` may read as much too where no
        # 1x1 reads `mid` whole (IGCV3's unit that keeps its width: both ends grouped), not
        # where one does (pytorch-cifar's MobileNetV2 block: its shortcut reads what enters).
        whole = any(w[1] == mid for _, w in pointwise)
        reading = [
            w
            for _, w in pointwise
            if expands and w[1] == expands[0][1][1] and (whole or w[0] != mid)
        ]
        chained.append((unit.path, None, 1, None))  # (what it gives unknown: the chain breaks)
        if len(expands) != 1 or len(reading) != 1:
            continue
        expand, we = expands[0]
        groups = mid // we[1]
        if we[0] % groups:
            continue
        found[expand.path] = groups
        compress = [(n, w) for n, w in pointwise if w[0] == mid]
        if len(compress) == 1 and compress[0][1][1] * groups == we[0]:
            found[compress[0][0].path] = groups
        chained[-1] = (unit.path, compress[0] if len(compress) == 1 else None, groups, we[0])
    _chained_compressions(root, chained, found)
    return found


def _chained_compressions(root: KeyNode, chained: list, found: dict[str, int]) -> None:
    """The compression of a unit that changes its width (the first unit of an IGCV3 stage,
    pytorchcv's `InvResUnit`: grouped 1x1, shuffle, depthwise, grouped 1x1) reads what the unit
    before it gives, which no key of its own unit shows. `chained`: (unit path, its compression,
    its expansion's groups, what the expansion gives), in the order the paths number them
    (`stage2.unit1` after `stage1.unit1`): a compression reading W / g where the unit before
    gives W is grouped g, g its own expansion's (ungrouped it would read a width nothing before
    it gives). The first unit reads what the image's stem gives, where one spatial conv alone
    reads the 3 channels of an image."""
    chained.sort(key=lambda u: [name_order(s) for s in u[0].split(".")])
    stems = [w for w in map(_weight, root.walk()) if w and w[1] == 3 and w[2:] != (1, 1)]
    before = stems[0][0] if len(stems) == 1 else None
    for _, compress, groups, gives in chained:
        if compress is not None and before is not None and compress[0].path not in found:
            if groups > 1 and compress[1][1] * groups == before:
                found[compress[0].path] = groups
        before = gives


def token_pooling_groups(root: KeyNode) -> dict[str, int]:
    """Rule 6: conv path -> groups for the conv of a pooling that maps a feature map and its class
    token side by side (PiT's conv_head_pooling: `Conv2d(W, C, k, groups=W)` and `Linear(W, C)`,
    Heo et al. 2021). A member holding just a spatial conv [C, 1, k, k] and a Linear [C, W] (W
    dividing C, narrower) gives C twice from one width: the token and the map it was cut from
    share W (one transformer reads them concatenated), so the conv reads W in W groups, C / W
    outputs each. Read as depthwise it would read C, a width the token beside it does not have."""
    found: dict[str, int] = {}
    for node in root.walk():
        leaves = list(node.children.values())
        if len(leaves) != 2 or node.tensors or any(c.children for c in leaves):
            continue
        shapes = [tuple(c.tensors["weight"].shape) if "weight" in c.tensors else () for c in leaves]
        convs = [(c, w) for c, w in zip(leaves, shapes) if len(w) == 4 and w[1] == 1]
        linears = [w for w in shapes if len(w) == 2]
        if len(convs) != 1 or len(linears) != 1:
            continue
        (conv, w), (c, width) = convs[0], linears[0]
        if w[2:] != (1, 1) and w[0] == c and 1 < width < c and c % width == 0:
            found[conv.path] = width
    return found


def reached_groups(root: KeyNode) -> dict[str, int]:
    """Conv path -> groups, read from the width that reaches the conv (the module docstring)."""
    found: dict[str, int] = {}
    counts = _conv_counts(root)
    for node in root.walk():
        _after_norm(node, found)
        _after_sibling(node, found)
        names = list(node.children)
        if names and all(is_index(n) for n in names):
            out = None
            for name in sorted(names, key=int):
                out = _block_io(node.children[name], out, found)
        elif counts[id(node)] >= 3:
            _block_io(node, None, found)
    return found


def _conv_counts(root: KeyNode) -> dict[int, int]:
    """id(node) -> len(_convs(node)) for every node under `root`, summed up the tree in one walk:
    asked of every node, `_convs` would re-walk each subtree once per node above it."""
    counts: dict[int, int] = {}

    def count(node: KeyNode) -> int:
        n = 1 if _weight(node) is not None else sum(map(count, node.children.values()))
        counts[id(node)] = n
        return n

    count(root)
    return counts


def planned_groups(root: KeyNode) -> dict[str, int]:
    """Conv path -> groups for every conv whose groups the structure proves beyond its own weight:
    the width reaching it (reached_groups), separable branches over a narrower cell input
    (branch_input_groups), grouped 1x1s around a depthwise conv (pointwise_groups), a 1x1 branch
    beside a depthwise one (depthwise_branch_groups), a token pooling's conv (token_pooling_groups).
    The one table layers/conv.py reads (LayerContext.planned_groups)."""
    return {
        **depthwise_branch_groups(root),
        **reached_groups(root),
        **pointwise_groups(root),
        **branch_input_groups(root),
        **token_pooling_groups(root),
    }


CONCATENATED = (
    "a 1x1 conv giving what k side-by-side depthwise branches of its block give together (a list"
    " of k alike, a norm that wide beside them), reading one branch's width: it reads their"
    " concatenation in k groups (ESPNetv2's EESP, Mehta et al. 2019); 1: it reads one branch, or"
    " their sum"
)
KEPT = (
    "the 1x1 conv opening a block of k concatenated depthwise branches, reading as many channels"
    " as it gives: grouped k like the 1x1 closing them, the block gives back the width it reads"
    " (ESPNetv2's EESP); 1: the block widens what it reads k-fold"
)
LAST = (
    "the 1x1 conv of the last unit of a numbered list, reading a fraction of what the depthwise"
    " unit before gives: it reads all of it in groups (ESPNetv2's last grouped 1x1); 1: the"
    " forward slices that width first, a step no key shows"
)


def likely_groups(root: KeyNode) -> dict[str, tuple[int, str]]:
    """Conv path -> (groups, why) for the 1x1 convs the structure suggests are grouped without
    proving it: layers/conv.py offers groups as a choice, this its default. A block of k
    side-by-side depthwise branches (a numbered list of k units of one weight [n, 1, k', k'], a
    norm k * n wide beside them) whose one 1x1 conv [k * n, n] gives them back together reads
    their concatenation in k groups; its 1x1 opening [n, n] then reads k * n in k groups too,
    the block keeping its width. The last unit of a numbered list, a 1x1 conv reading W / g of
    the W the depthwise unit before it gives, reads all of it in g groups, as the list runs in
    order."""
    found: dict[str, tuple[int, str]] = {}
    for node in root.walk():
        names = list(node.children)
        if len(names) >= 2 and all(is_index(n) for n in names):
            units = [node.children[n] for n in sorted(names, key=int)][-2:]
            before, last = (_convs(u) for u in units)
            if len(before) == 1 and len(last) == 1 and units[1].children:
                (conv, w), given = last[0], before[0][1]
                g = _grouped(given[0], w)
                # (after a depthwise unit only: a 1x1 there gives what it reads, where a unit
                # before changing the width may be followed by a step without keys changing it
                # again, NAFNet's upsampling 1x1 and PixelShuffle)
                if g is not None and w[2:] == (1, 1) and given[1] == 1 < given[0]:
                    found[conv.path] = (g, LAST)
        for name, branches in node.children.items():
            items = branches.children
            if len(items) < 2 or not all(is_index(n) for n in items):
                continue
            shapes = {tuple(w for _, w in _convs(c)) for c in items.values()}
            if len(shapes) != 1 or len(next(iter(shapes))) != 1:
                continue
            w = next(iter(shapes))[0]
            n, k = w[0], len(items)
            if w[1] != 1 or n <= 1 or w[2:] == (1, 1):
                continue
            others = [_convs(c) for m, c in node.children.items() if m != name]
            units = [cs[0] for cs in others if len(cs) == 1 and cs[0][1][2:] == (1, 1)]
            closing = [c for c, v in units if v == (k * n, n, 1, 1)]
            opening = [c for c, v in units if v[:2] == (n, n)]
            wide = any(
                _norm_width(leaf) == k * n
                for m, c in node.children.items()
                if m != name and not _convs(c)
                for leaf in c.walk()
            )
            if len(closing) == 1 and wide:
                found[closing[0].path] = (k, CONCATENATED)
                if len(opening) == 1:
                    found[opening[0].path] = (k, KEPT)
    return found


SPLIT_LIST = "split_list"  # structural key: a numbered list of convs over one split tensor


def _reads(w: tuple[int, ...]) -> int:
    """What a conv weight reads of a split: its in-width, or its out-width where it is depthwise
    (one channel per group: MixNet's mixed depthwise kernels each read what they give)."""
    return w[0] if w[1] == 1 else w[1]


def _conv_leaf(node: KeyNode) -> tuple[int, ...] | None:
    """A 1-d or 2-d conv leaf's weight shape, else None."""
    w = node.tensors.get("weight")
    if node.children or w is None or len(w.shape) not in (3, 4):
        return None
    return tuple(w.shape) if set(node.tensors) <= {"weight", "bias"} else None


def _even_split(widths: tuple[int, ...]) -> bool:
    """Whether widths split their sum evenly, the first taking the remainder (MixConv's
    `_split_channels` in timm and the TF code): else the split must show beside the list (a
    pyramid of grouped convs over the whole input, PyConv's, reads unequal widths of one)."""
    n, total = len(widths), sum(widths)
    return all(w == total // n for w in widths[1:]) and widths[0] == total - (n - 1) * (total // n)


def split_lists(root: KeyNode) -> dict[str, tuple[tuple[int, ...], tuple[int, ...]]]:
    """Numbered lists of bare convs that read one tensor split by their widths and whose outputs
    are concatenated (timm's MixedConv2d, a ModuleDict `0`, `1`, ...; a port's MDConv holding a
    ModuleList of them; a Conv1d list over split channels): path -> (widths read, widths given),
    in index order.

    Proven by a consumer: a norm beside the list (or beside the member that holds nothing but
    the list) is as wide as the list's outputs together, and no item's output alone is a width
    the layers beside it show (so neither a chain of the items nor one item alone feeds it)."""
    found: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {}

    def split_of(node: KeyNode) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
        if node.tensors or len(node.children) < 2:
            return None
        names = sorted(node.children, key=name_order)
        if names != [str(i) for i in range(len(names))]:
            return None
        weights = [_conv_leaf(node.children[n]) for n in names]
        if None in weights or len({len(w) for w in weights}) != 1:
            return None
        return tuple(_reads(w) for w in weights), tuple(w[0] for w in weights)

    def shown(parent: KeyNode, name: str) -> tuple[set[int], set[int]]:
        """(norm widths, every width) of the layers beside `name` in `parent`."""
        norms = {_norm_width(c) for n, c in parent.children.items() if n != name} - {None}
        widths = set(norms)
        for other, child in parent.children.items():
            w = _conv_leaf(child) if other != name else None
            if w is not None:
                widths |= {w[0], w[1]}
        return norms, widths

    def visit(node: KeyNode, ancestors: tuple[KeyNode, ...]) -> None:
        for child in node.children.values():
            visit(child, ancestors + (node,))
        split = split_of(node)
        if split is None or not ancestors:
            return
        ins, outs = split
        holder = node
        for up in reversed(ancestors):  # a member holding the list alone: look beside it
            norms, widths = shown(up, holder.name)
            if sum(outs) in norms and not set(outs) & widths and (
                _even_split(ins) or sum(ins) in widths
            ):
                found[node.path] = split
                return
            if len(up.children) != 1 or up.tensors:
                return
            holder = up

    visit(root, ())
    return found
