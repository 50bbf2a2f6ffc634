"""Model layouts a repository's names identify, for the conventions no key records.

- kuangliu/pytorch-cifar's DenseNet (models/densenet.py): `conv1`, `dense{N}` lists of
  bottlenecks, `trans{N}`, a final `bn` and the classifier `linear` (the name every pytorch-cifar
  model gives it). Its Bottleneck returns `cat([out, x], 1)`: the new features FIRST, where
  bamos/densenet.pytorch (`bn1`, `fc`) and andreasveit/densenet-pytorch put the input first.
  A model-wide pin (ChoiceResolver.structural, path ""), read by blocks/preact_conv.py's
  DenseBottleneck: a default with its reason, still a choice.
- Dual path networks (Chen et al. 2017; kuangliu/pytorch-cifar's models/dpn.py): a bottleneck
  block whose output is wider than what it computes, as the block after it (or the classifier)
  reads: the first `residual` channels of its last conv are added to the input's, the rest
  concatenated after the input's extra channels. Proved by widths alone (dual_path_widths); read
  by blocks/dual_path_block.py, and instances of one split width share a class.
"""

from __future__ import annotations

import re

from codegen.keytree import KeyNode
from codegen.patterns.blocks.norm_free_block import NF_STEPS
from codegen.patterns.blocks.dual_path_block import DUAL_PATH
from codegen.patterns.blocks.preact_conv import DENSE_ORDER
from codegen.patterns.blocks.residual import SHORTCUT_NAMES
from codegen.patterns._kit import name_order
from codegen.safetext import is_index

__all__ = [
    "DENSE_ORDER",
    "DUAL_PATH",
    "NF_STEPS",
    "dense_concat_order",
    "dual_path_widths",
    "nf_variance_steps",
]
CIFAR_DENSENET = "kuangliu/pytorch-cifar's DenseNet layout (dense{N}, trans{N}, bn, linear)"


def dense_concat_order(root: KeyNode) -> tuple[str, str] | None:
    """("new_first", why) where the root is laid out as pytorch-cifar's DenseNet, else None."""
    names = set(root.children)
    dense = {n for n in names if re.fullmatch(r"dense\d+", n)}
    trans = {n for n in names if re.fullmatch(r"trans\d+", n)}
    if len(dense) < 2 or not trans or not {"conv1", "bn", "linear"} <= names:
        return None
    if names - dense - trans - {"conv1", "bn", "linear"}:
        return None
    return "new_first", CIFAR_DENSENET


def nf_variance_steps(root: KeyNode) -> dict[str, tuple[int, str]]:
    """For each block of a normalizer-free network laid out as timm's NormFreeNet (`stages`, a
    list of lists of blocks whose convs hold a `gain` beside their weight): how many alpha^2 its
    expected input variance holds, (k, why). timm counts them in network order, resetting to none
    after each stage's first block: beta = 1 / sqrt(1 + k alpha^2) (blocks/norm_free_block.py)."""
    found: dict[str, tuple[int, str]] = {}
    for node in root.walk():
        if node.name != "stages":
            continue
        stages = _listed(node)
        if not stages or not all(_listed(s) for s in stages):
            continue
        blocks = [_listed(s) for s in stages]
        if not all(_scaled_std(b) for stage in blocks for b in stage):
            continue
        k = 0
        for stage in blocks:
            for j, block in enumerate(stage):
                found[block.path] = (k, NF_LAYOUT)
                k = 1 if j == 0 else k + 1
    return found


NF_LAYOUT = "timm's NormFreeNet: the variance expected where the block sits"


def _listed(node: KeyNode) -> list[KeyNode] | None:
    names = list(node.children)
    if not names or not all(is_index(n) for n in names):
        return None
    return [node.children[n] for n in sorted(names, key=int)]


def _scaled_std(block: KeyNode) -> bool:
    """A block holding convs with a per-channel `gain` (layers/scaled_std_conv.py)."""
    return any("gain" in c.tensors and len(c.tensors["gain"].shape) == 4 for c in block.walk())


def dual_path_widths(root: KeyNode) -> dict[str, tuple[int, int]]:
    """For each dual path block, (residual width, dense width) read from what follows it: the
    next block's first conv, or the classifier after the last. A block reading `reads` channels
    whose last conv gives `gives` (its projection the same) outputs `out` channels: a plain
    residual block gives out == gives; a dual path block out = gives + dense after a projection,
    out = reads + dense otherwise, its residual width gives - dense."""
    found: dict[str, tuple[int, int]] = {}
    for node in root.walk():
        # (None: a layer between blocks, a transition, whose reading says nothing of theirs)
        blocks: list[tuple[KeyNode, tuple[int, int, bool]] | None] = []
        for name in sorted(node.children, key=name_order):
            blocks += _blocks_in(node.children[name])
        while blocks and blocks[0] is None:  # (a stem, wherever its name sorts)
            blocks.pop(0)
        while blocks and blocks[-1] is None:
            blocks.pop()
        if len([b for b in blocks if b is not None]) < 2:
            continue
        head = [c for c in node.children.values() if _linear_reads(c) is not None]
        readers = [b[1][0] if b is not None else None for b in blocks[1:]]
        readers.append(_linear_reads(head[0]) if len(head) == 1 else None)
        split = {}
        for b, out in zip(blocks, readers):
            if b is None or out is None or out == b[1][1]:
                continue
            block, (reads, gives, projected) = b
            dense = out - (gives if projected else reads)
            if not 0 < dense < gives:
                split = {}
                break
            split[block.path] = (gives - dense, dense)
        found.update(split)
    return found


def _blocks_in(node: KeyNode, depth: int = 0) -> list:
    """The blocks a child holds in order, (node, io) each: itself, or the items of its lists
    (stages of blocks, lists of stages); [None] where it holds other convs, [] for none."""
    own = _bottleneck_io(node)
    if own is not None:
        return [(node, own)]
    names = list(node.children)
    if names and depth < 2 and all(is_index(n) for n in names) and not node.tensors:
        found = [b for n in sorted(names, key=int) for b in _blocks_in(node.children[n], depth + 1)]
        if found and None not in found:
            return found
    return [None] if any(_weight4(c) is not None for c in node.walk()) else []


def _bottleneck_io(node: KeyNode) -> tuple[int, int, bool] | None:
    """(reads, gives, projected) of a block of 2-d convs (each with its norm beside it, or in a
    unit of its own) in name order, with or without a shortcut projection reading and giving as
    the body does; None for anything else."""
    convs, shortcut = [], None
    for name in sorted(node.children, key=name_order):
        child = node.children[name]
        if name.lower() in SHORTCUT_NAMES:
            shortcut = child
            continue
        w = _weight4(child)
        unit = [_weight4(c) for c in child.children.values() if _weight4(c) is not None]
        if w is not None:
            convs.append(w)
        elif len(unit) == 1 and not child.tensors:
            convs.append(unit[0])
    if len(convs) < 2 or node.tensors:
        return None
    # The pointwise conv reading what no other gives and the one giving what no other reads
    # (whatever their names: a grouped kxk reads a fraction of its input), else the first and
    # the last by the numbers in their names (where the widths alone cannot tell).
    pointwise = [w for w in convs if w[2:] == (1, 1)]
    entry = [w for w in pointwise if w[1] not in [v[0] for v in convs if v is not w]]
    exit_ = [w for w in pointwise if w[0] not in [v[1] for v in convs if v is not w]]
    reads = entry[0][1] if len(entry) == 1 else convs[0][1]
    gives = exit_[0][0] if len(exit_) == 1 else convs[-1][0]
    if shortcut is None or not shortcut.children and not shortcut.tensors:
        return reads, gives, False
    projections = [w for c in shortcut.walk() if (w := _weight4(c)) is not None]
    if len(projections) != 1 or projections[0][:2] != (gives, reads):
        return None
    return reads, gives, True


def _weight4(node: KeyNode) -> tuple[int, ...] | None:
    w = node.tensors.get("weight")
    return w.shape if w is not None and len(w.shape) == 4 and not node.children else None


def _linear_reads(node: KeyNode) -> int | None:
    w = node.tensors.get("weight")
    return w.shape[1] if w is not None and len(w.shape) == 2 and not node.children else None
