"""Network in Network's mlpconv stacks (Lin et al. 2013), as d2l writes them: a numbered
Sequential of `nin_block`s, each a numbered Sequential `[conv kxk, ReLU, conv 1x1, ReLU, conv 1x1,
ReLU]`, with parameter-free layers between the blocks and none of it normalised:

    net = Sequential(nin_block(1, 96, 11, 4, 0), MaxPool2d(3, 2),
                     nin_block(96, 256, 5, 1, 2), MaxPool2d(3, 2), ..., Dropout(0.5),
                     nin_block(384, 10, 3, 1, 1), AdaptiveAvgPool2d((1, 1)), Flatten())

The keys show the three convs of each block (at 0, 2 and 4) and the gaps between blocks; the
convention fills the rest: each block's closing ReLU (past its last key), a 3x3 stride-2 max-pool
in the slot after a block, dropout in a second one, and after the last block (which gives the
classes: no Linear) the global average pool and the flatten. An 11x11 first conv reading the
image strides 4 unpadded (AlexNet's first layer, which NiN's ImageNet model copies). Each is a
choice the structure pins by this convention (the Sequential's slots stay guessed).
"""

from __future__ import annotations

from codegen.keytree import KeyNode
from codegen.safetext import is_sequential_index

WHY = "d2l's Network in Network (mlpconv blocks in a numbered Sequential; Lin et al. 2013)"
BLOCK_POOL = "nn.MaxPool2d(3, stride=2)"
SECOND_SLOT = "nn.Dropout()"
TAIL = ["nn.AdaptiveAvgPool2d(1)", "nn.Flatten()"]


def _conv(node: KeyNode | None) -> tuple[int, ...] | None:
    w = node.tensors.get("weight") if node is not None and not node.children else None
    return tuple(w.shape) if w is not None and len(w.shape) == 4 else None


def mlpconv_block(node: KeyNode) -> bool:
    """Three convs at 0, 2 and 4 (slots between them), the last two 1x1 keeping the width."""
    if sorted(node.children) != ["0", "2", "4"]:
        return False
    first, second, third = (_conv(node.children[i]) for i in ("0", "2", "4"))
    if first is None or second is None or third is None:
        return False
    return second == third == (first[0], first[0], 1, 1)


def mlpconv_stacks(root: KeyNode) -> dict[str, list[int]]:
    """Path of each numbered Sequential holding only mlpconv blocks (three or more, the first at
    0, a slot between each two) -> the blocks' indices."""
    found = {}
    for node in root.walk():
        names = list(node.children)
        if len(names) < 3 or not all(is_sequential_index(n) for n in names):
            continue
        numbers = sorted(int(n) for n in names)
        if numbers[0] != 0 or any(b - a < 2 for a, b in zip(numbers, numbers[1:])):
            continue
        if all(mlpconv_block(node.children[str(n)]) for n in numbers):
            found[node.path] = numbers
    return found


def mlpconv_geometry(root: KeyNode, stacks: dict[str, list[int]]) -> dict[str, tuple]:
    """Conv path -> (stride, padding, why) for an 11x11 first conv of a stack reading the image."""
    found = {}
    for path, numbers in stacks.items():
        node = root
        for segment in path.split(".") if path else []:
            node = node.children[segment]
        conv = node.children[str(numbers[0])].children["0"]
        w = _conv(conv)
        if w is not None and w[2:] == (11, 11) and w[1] <= 4:
            found[conv.path] = (4, 0, WHY)
    return found
