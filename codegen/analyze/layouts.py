"""Model layouts a repository's names identify, for the conventions no key records.

- kuangliu/pytorch-cifar's DenseNet (models/densenet.py): `conv1`, `dense{N}` lists of
  bottlenecks, `trans{N}`, a final `bn` and the classifier `linear` (the name every pytorch-cifar
  model gives it). Its Bottleneck returns `cat([out, x], 1)`: the new features FIRST, where
  bamos/densenet.pytorch (`bn1`, `fc`) and andreasveit/densenet-pytorch put the input first.
  A model-wide pin (ChoiceResolver.structural, path ""), read by blocks/preact_conv.py's
  DenseBottleneck: a default with its reason, still a choice.
"""

from __future__ import annotations

import re

from codegen.keytree import KeyNode
from codegen.patterns.blocks.norm_free_block import NF_STEPS
from codegen.patterns.blocks.preact_conv import DENSE_ORDER
from codegen.safetext import is_index

__all__ = ["DENSE_ORDER", "NF_STEPS", "dense_concat_order", "nf_variance_steps"]
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
