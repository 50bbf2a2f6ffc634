"""Conv stacks that pad with a layer of their own: a numbered Sequential of plain convs where a
keyless slot stands before every conv wider than 1x1, a slot that is not that of an activation (it
follows another slot, or opens the Sequential). Style transfer writes its decoders so
(naoto0804/pytorch-AdaIN's `decoder`, and the repositories that copy its net.py):

    [ReflectionPad2d(1), conv 3x3 (padding 0), ReLU, (Upsample(2),) ReflectionPad2d(1), conv, ...]

A conv pads by itself with zeros, so a padding layer before it is one the conv cannot express:
reflection by convention (replication an alternative), the conv unpadded. Where a third slot
stands between two convs ([activation, resampling, pad]) it changes the resolution: in a stack
whose widths only narrow (a decoder reaching an image) an upsampler (nearest x2, nn.Upsample's
default), in one whose widths only grow a halving max pool; elsewhere it is left to the default.
Each is a choice the structure pins (the activations stay guessed); calibration may move them.
An upsampling decoder written `[Upsample, conv, ReLU, Upsample, conv, ...]` fits the same keys:
its ReLU slots left at their default keep the file saying guessed, never silently wrong.
AdaIN's VGG encoder (a 1x1 conv first, then a pad) is not read here.
"""

from __future__ import annotations

from codegen.keytree import KeyNode
from codegen.safetext import is_index

WHY = "a keyless slot before every conv: its padding layer (reflection, as AdaIN's decoder)"
PAD_KINDS = ("nn.ReflectionPad2d", "nn.ReplicationPad2d", "nn.ZeroPad2d")
UP = "nn.Upsample(scale_factor=2.0)"
DOWN = "nn.MaxPool2d(2)"
UP_WHY = "a padded conv stack narrowing (a decoder): the third slot between convs upsamples"
DOWN_WHY = "a padded conv stack widening (an encoder): the third slot between convs pools"


def _conv(node: KeyNode | None) -> tuple[int, ...] | None:
    """A plain 2-d conv's weight shape (a leaf holding a 4-d weight), else None."""
    if node is None or node.children or set(node.tensors) - {"weight", "bias"}:
        return None
    w = node.tensors.get("weight")
    return tuple(w.shape) if w is not None and len(w.shape) == 4 else None


def padded_stacks(root: KeyNode) -> dict[tuple[str, str], tuple[object, str]]:
    """Structural pins ((path, choice name) -> (value, why)) of each padded conv stack: its pad
    slots' layer, its convs' padding 0, and its resampling slots where the widths say which."""
    pins: dict[tuple[str, str], tuple[object, str]] = {}
    for node in root.walk():
        if not node.children or not all(is_index(n) for n in node.children):
            continue
        convs = {int(n): _conv(c) for n, c in node.children.items()}
        if any(w is None for w in convs.values()):
            continue  # only plain convs: no norms, blocks or linears hold keys there
        wide = [j for j, w in sorted(convs.items()) if w[2:] != (1, 1)]
        if len(wide) < 3 or wide[0] != 1:
            continue
        if not all(convs[j][2] == convs[j][3] and convs[j][2] % 2 == 1 for j in wide):
            continue
        # the slot before each wide conv follows another slot (or opens the Sequential)
        if any(j - 1 in convs or (j > 1 and j - 2 in convs) for j in wide):
            continue
        at = f"{node.path}." if node.path else ""
        for j in wide:
            k = convs[j][2]
            pins[(f"{at}{j - 1}", "module_type")] = (f"{PAD_KINDS[0]}({k // 2})", WHY)
            pins[(f"{at}{j}", "padding")] = (0, WHY)
        order = sorted(convs)
        widths = [convs[j][1] for j in order] + [convs[order[-1]][0]]
        steps = list(zip(widths, widths[1:]))
        resample = None
        if all(b <= a for a, b in steps) and widths[-1] < widths[0]:
            resample = (UP, UP_WHY)
        elif all(b >= a for a, b in steps) and widths[-1] > widths[0]:
            resample = (DOWN, DOWN_WHY)
        for a, b in zip(order, order[1:]):
            if resample is not None and b - a == 4 and b in wide:  # conv, act, resample, pad
                pins[(f"{at}{a + 2}", "module_type")] = resample
    return pins


def pad_alternatives(value: str) -> list[str]:
    """The other padding layers of the same size, for a slot pinned to `value`."""
    size = value[value.index("(") :]
    return [f"{kind}{size}" for kind in PAD_KINDS if not value.startswith(kind + "(")]
