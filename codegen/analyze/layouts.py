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
from codegen.patterns.blocks.preact_conv import DENSE_ORDER

__all__ = ["DENSE_ORDER", "dense_concat_order"]
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
