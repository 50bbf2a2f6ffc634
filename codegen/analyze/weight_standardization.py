"""Convs whose weights are standardised before use, which no key shows.

Big Transfer's ResNetV2 (Kolesnikov et al. 2020; google-research/big_transfer, and timm's
`resnetv2_*_bit` built from it) pairs GroupNorm pre-activation bottlenecks with weight-standardised
convs (`StdConv2d`, Qiao et al. 2019): each filter is shifted to zero mean and scaled to unit
variance when called. Its keys are a plain conv's. The structure that identifies that code (a
residual block whose numbered GroupNorms normalise what their convs read, the widths proving the
order) makes standardisation the default for every conv of the model without a bias (the
classifier conv, BiT's `head.conv` and timm's `head.fc`, has one and is plain). A choice
(`weight_standardization`) on each conv, so hints and calibration can move it.
"""

from __future__ import annotations

import re

from codegen.keytree import KeyNode

NOTE = (
    "GroupNorm pre-activation residual blocks standardise their conv weights (Big Transfer's "
    "StdConv2d, timm's BiT ResNetV2)"
)


def _group_norm(node: KeyNode | None) -> bool:
    """A norm with a scale and a shift but no running statistics (GroupNorm, as BiT builds it)."""
    if node is None or node.children or set(node.tensors) != {"weight", "bias"}:
        return False
    return len(node.tensors["weight"].shape) == 1


def _conv(node: KeyNode | None) -> tuple | None:
    w = node.tensors.get("weight") if node is not None and not node.children else None
    return w.shape if w is not None and len(w.shape) == 4 else None


def _preactivated_group_norm_block(node: KeyNode) -> bool:
    """A block whose numbered GroupNorms (`gn1`, `norm1`) normalise what the bias-free convs of
    their numbers read, proven by widths: one of them is not as wide as what its conv gives. (A
    diffusion model's ResnetBlock2D is laid out so too, but its convs have biases.)"""
    proven = False
    for name, child in node.children.items():
        found = re.fullmatch(r"(gn|norm|bn)(\d+)", name)
        if found is None or not _group_norm(child):
            continue
        conv_node = node.children.get(f"conv{found.group(2)}")
        conv = _conv(conv_node)
        if conv is None or "bias" in conv_node.tensors:
            return False
        width = child.tensors["weight"].shape[0]
        if width != conv[1]:
            return False
        proven = proven or width != conv[0]
    return proven


def standardised_convs(root: KeyNode) -> set[str]:
    """The paths of the convs standardised by default: every bias-free 4-D conv of a model with a
    GroupNorm pre-activation residual block (with a projection or not)."""
    if not any(_preactivated_group_norm_block(n) for n in root.walk()):
        return set()
    return {n.path for n in root.walk() if _conv(n) is not None and "bias" not in n.tensors}
