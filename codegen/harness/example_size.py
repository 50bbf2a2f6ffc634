"""The image size a model's example inputs need, where the default does not run.

Analysis writes `example_inputs()` with 32-pixel maps: most convolutional networks take any size.
A network that flattens its last map into a Linear takes one size only (LeNet's 28, a DCGAN
critic's 64), and one whose strides shrink the map below a kernel needs a larger one (AlexNet). The
weights record neither, but the forward shows it: each size below is tried on the meta device
(shapes only, no arithmetic), and the first that runs is the size the file's examples take.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from codegen.ir import EXAMPLE_SIDE, ExampleInput

# The sizes datasets and model zoos use (MNIST, DCGAN, ImageNet crops, STL, Inception), most
# common first; none far below the default: a map too small for its strides is how a forward missing
# a stride shows, and a size that hid that would make a wrong forward look right.
SIZES = (28, 64, 224, 96, 128, 227, 256, 299)


def fitting_examples(meta_model: Any, examples: list[ExampleInput]) -> list[ExampleInput] | None:
    """`examples` with every square map (sides of EXAMPLE_SIDE) at the first size of SIZES that the
    model (built on the meta device) runs on; None where no map is square at that side or no size
    runs."""
    import torch

    if not any(_square(e) for e in examples):
        return None
    for size in SIZES:
        resized = [_resized(e, size) for e in examples]
        inputs = [
            torch.empty(e.shape, device="meta", dtype=torch.long if e.vocab else torch.float)
            for e in resized
        ]
        try:
            with torch.no_grad():
                meta_model(*inputs)
        except Exception:  # this size does not run either (or shapes alone cannot tell)
            continue
        return resized
    return None


def _square(e: ExampleInput) -> bool:
    return e.vocab is None and len(e.shape) >= 3 and set(e.shape[2:]) == {EXAMPLE_SIDE}


def _resized(e: ExampleInput, size: int) -> ExampleInput:
    if not _square(e):
        return e
    why = f"{size}-pixel maps, not {EXAMPLE_SIDE}"
    return replace(e, shape=e.shape[:2] + (size,) * (len(e.shape) - 2), why=why)
