"""Whether a block's parallel paths are summed or concatenated, proved by what reads its output.

Two sibling paths reading one width and each giving W (a body and its projection, `residual` and
`shortcut`, `convpath` and `idpath`, two Inception branches) leave the same keys either way: a
sum gives W channels, a concatenation 2W. Only the block's consumer tells them apart: the next
item of its list (the next block, or the first block of the next numbered stage) or the linear
head after the list. Its in-width equal to W proves the sum, equal to the paths' total width the
concatenation; anything else, or no consumer found, proves nothing (the patterns then decide by
their own evidence and say so). Read by blocks/residual_layer.py, blocks/concat_block.py and
blocks/branch_sum.py through blocks/_path_join.py's `joined(cls, ctx)`.
"""

from __future__ import annotations

from codegen.keytree import KeyNode
from codegen.patterns.blocks._path_join import CONCAT, PATH_JOIN, SUM
from codegen.patterns.blocks.chain import numbered_name
from codegen.patterns._kit import name_order
from codegen.safetext import is_index


def _weight(node: KeyNode):
    w = node.tensors.get("weight")
    return w.shape if w is not None and not node.children else None


def _convs(node: KeyNode) -> list[tuple[int, ...]]:
    """The 4-d conv weights under a node, in index / name order."""
    w = _weight(node)
    if w is not None:
        return [w] if len(w) == 4 else []
    found = []
    for name in sorted(node.children, key=name_order):
        found += _convs(node.children[name])
    return found


def reads(node: KeyNode) -> int | None:
    """The width a node reads: a leaf's (a conv's, unless depthwise; a linear's; a norm's), the
    first item of a list, or the width two or more of its named members read (a block's body and
    shortcut read its input; a gate reading the body's output is one); None where unclear."""
    w = _weight(node)
    if w is not None:
        if len(w) == 4:
            return w[1] if w[1] > 1 else None
        return w[1] if len(w) == 2 else (w[0] if len(w) == 1 else None)
    names = [n for n in node.children if node.children[n].numel]
    if not names or node.tensors:
        return None
    if all(is_index(n) for n in names):
        return reads(node.children[min(names, key=int)])
    if all(not node.children[n].children for n in names):  # conv1, bn1, conv2, ...: the first
        # (a leaf without a weight, a position table, sorts like a conv)
        leaves = sorted(
            names, key=lambda n: (len(_weight(node.children[n]) or ()) == 1, name_order(n))
        )
        return reads(node.children[leaves[0]])  # (a conv before a norm: `conv`, `bn`)
    widths = [w for n in names if (w := reads(node.children[n])) is not None]
    if len(set(widths)) == 1:
        return widths[0]
    shared = {w for w in widths if widths.count(w) > 1}
    return shared.pop() if len(shared) == 1 else None


def _gate(convs: list[tuple[int, ...]]) -> bool:
    """1x1 convs narrowing the width, then giving it back: a squeeze-excitation, never a path."""
    pointwise = all(tuple(w[2:]) == (1, 1) for w in convs)
    return len(convs) >= 2 and pointwise and convs[0][0] < convs[0][1] == convs[-1][0]


def _paths(node: KeyNode) -> tuple[int, list[int]] | None:
    """(W, the widths the paths give) of a block of two or more sibling paths holding convs and
    reading one width, each giving W; None for anything else."""
    if node.tensors or not node.children:
        return None
    width = reads(node)
    if width is None:
        return None
    gives = []
    children = list(node.children.values())
    only = children[0] if len(children) == 1 else None
    if only is not None and len(only.children) > 1 and all(is_index(n) for n in only.children):
        # (a block holding only a list of paths side by side, each reading what enters:
        # ml-mobileone's 1x1 blocks, K branches `rbr_conv.0..K-1` and nothing else)
        children = list(children[0].children.values())
    for child in children:
        convs = _convs(child)
        if convs and not _gate(convs) and reads(child) == width:
            gives.append(convs[-1][0])
    if len(gives) < 2 or len(set(gives)) != 1:
        return None
    return gives[0], gives


def _sequence(node: KeyNode, depth: int = 0) -> list[KeyNode]:
    """The items of a list in order, lists of lists flattened (stages of blocks)."""
    names = list(node.children)
    if not names or node.tensors or not all(is_index(n) for n in names) or depth > 1:
        return [node]
    found = []
    for name in sorted(names, key=int):
        found += _sequence(node.children[name], depth + 1)
    return found


def _runs(node: KeyNode) -> list[list[KeyNode]]:
    """Sequences of items that run one after the other under a node: its list (flattened), and
    its numbered members of one stem in turn (`stage1`, `stage2`: each a list), the linear head
    after a list where the node's only linear reads there."""
    runs = []
    if node.children and all(is_index(n) for n in node.children):
        runs.append(_sequence(node))
    stems: dict[str, list[tuple[int, KeyNode]]] = {}
    for name, child in node.children.items():
        stem, number = numbered_name(name)
        if stem is not None and number and child.children:
            stems.setdefault(stem, []).append((number, child))
    for items in stems.values():
        if len(items) > 1:
            runs.append([b for _, c in sorted(items, key=lambda i: i[0]) for b in _sequence(c)])
    return runs


def path_joins(root: KeyNode) -> dict[str, tuple[str, str]]:
    """block path -> ("sum" | "concat", why), where the block's consumer proves which."""
    found: dict[str, tuple[str, str]] = {}
    for node in root.walk():
        for run in _runs(node):
            for block, nxt in zip(run, run[1:]):
                paths = _paths(block)
                if paths is None:
                    continue
                width, gives = paths
                taken = reads(nxt)
                if taken == width:
                    found[block.path] = (SUM, f"{nxt.path} reads {width} channels, one path's")
                elif taken == sum(gives):
                    found[block.path] = (CONCAT, f"{nxt.path} reads {taken}, the paths' total")
    return found


def consumer_widths(root: KeyNode) -> dict[str, tuple[tuple[str, int | None], str]]:
    """block path -> ((the path of what reads it next, the width that takes where its keys prove
    it), why), for every item of a run (blocks/solved_wiring.py: the wiring must give it). Proved
    only by a layer's weight, or a list's first item's; another block's reading is its pattern's
    to say (it may be another instance of the class)."""
    found: dict[str, tuple[tuple[str, int | None], str]] = {}
    for node in root.walk():
        for run in _runs(node):
            for block, nxt in zip(run, run[1:]):
                if block.children and not block.tensors:
                    taken = _proven_reads(nxt)
                    found.setdefault(block.path, ((nxt.path, taken), f"{nxt.path} reads it"))
    return found


def _proven_reads(node: KeyNode) -> int | None:
    """What a layer reads by its weight, or a list's first item (recursively); else None."""
    if _weight(node) is not None:
        return reads(node)
    names = list(node.children)
    if names and not node.tensors and all(is_index(n) for n in names):
        return _proven_reads(node.children[min(names, key=int)])
    return None


def projection_path(node: KeyNode) -> KeyNode | None:
    """A block's shortcut told by shapes, whatever its name: of two sibling paths holding convs
    and reading one width (a squeeze-excitation beside them aside), the one holding a single 1x1
    conv giving what the other, of two or more convs, gives (pytorch-cifar100's `shortcut`
    beside its body `residual`, fastai's `idpath` beside `convpath`)."""
    if node.tensors:
        return None
    paths = [c for c in node.children.values() if (w := _convs(c)) and not _gate(w)]
    if len(paths) != 2 or any(not p.children for p in paths):
        return None
    width = reads(paths[0])
    if width is None or reads(paths[1]) != width:
        return None
    single = [p for p in paths if len(_convs(p)) == 1 and tuple(_convs(p)[0][2:]) == (1, 1)]
    if len(single) != 1:
        return None
    body = paths[0] if single[0] is paths[1] else paths[1]
    body_convs = _convs(body)
    if len(body_convs) < 2 or body_convs[-1][0] != _convs(single[0])[0][0]:
        return None
    return single[0]


def block_paths(node: KeyNode) -> list[KeyNode]:
    """The children of a block holding convs, squeeze-excitations aside."""
    return [c for c in node.children.values() if (w := _convs(c)) and not _gate(w)]
