"""`(x - mean) / std`: a class holding only a per-channel mean and standard deviation, which
normalises the pixels (or features) that enter a model (RADIO's input conditioner `norm_mean`,
`norm_std`; SAM's and Detectron's `pixel_mean`, `pixel_std`; `image_mean`, `image_std`).

Recognised from names and shapes together: exactly two tensors of one shape, one named `mean` and
the other `std` with the same prefix (`norm_`, `pixel_`...), a channel vector laid out to broadcast
over an image's channels ([C, 1, 1], [1, C, 1, 1]) or a sequence's features ([C]). A variance
(`var`) would be divided by its square root, so it is not this class.
"""

from __future__ import annotations

import re

from codegen.ir.graph import Graph
from codegen.patterns._kit import BlockContext, BlockPattern, Example, Match, modules, tensors

MEAN = r"(?P<prefix>\w*?_?)mean"


def mean_and_std(found: list) -> tuple[str, str] | None:
    """The mean's and the standard deviation's attribute names among a class's own tensors (all
    of them), or None where they are not such a pair."""
    if len(found) != 2:
        return None
    names = {t.attr: t for t in found}
    for t in found:
        named = re.fullmatch(MEAN, t.attr)
        std = named and f"{named['prefix']}std"
        if not std or std not in names:
            continue
        shape = t.shape
        if shape != names[std].shape or not shape:
            return None
        # the channels are the one dimension above 1, broadcast over an image or a sequence
        if sum(1 for n in shape if n != 1) > 1 or (len(shape) > 1 and shape[-1] != 1):
            return None
        return t.attr, std
    return None


def normalised_width(found: list) -> tuple[int, int | None] | None:
    """(channels, spatial dims) a mean/std class keeps, from its tensors' shapes (None where they
    are no such pair): what the structure knows of its input and output before any forward."""
    pair = mean_and_std(found)
    if pair is None:
        return None
    shape = next(t.shape for t in found if t.attr == pair[0])
    channels = [n for n in shape if n != 1] or [1]
    if not isinstance(channels[0], int):
        return None
    spatial = len(shape) - 1 - [n != 1 for n in shape].index(True) if channels != [1] else 0
    return channels[0], spatial or None


class InputNormalization(BlockPattern):
    role = "InputNormalization"
    names_class = False
    priority = 5
    trust_note = "a recognised pattern: the input minus a per-channel mean, over a std"

    def match(self, cls, ctx: BlockContext) -> Match | None:
        pair = None if modules(cls) else mean_and_std(tensors(cls))
        return Match(self, 2, pair) if pair else None

    def forward(self, match: Match, g: Graph) -> None:
        mean, std = match.found
        centred = g.call_function("sub", g.input("x"), g.getattr((mean,)), inline=True)
        g.output(
            g.call_function("truediv", centred, g.getattr((std,))),
            comment="normalised per channel",
        )

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn

        class Conditioner(nn.Module):
            def __init__(self, shape: tuple[int, ...], prefix: str) -> None:
                super().__init__()
                self.register_buffer(f"{prefix}mean", torch.randn(shape))
                self.register_buffer(f"{prefix}std", torch.rand(shape) + 0.5)
                self.prefix = prefix

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                mean = getattr(self, f"{self.prefix}mean")
                return (x - mean) / getattr(self, f"{self.prefix}std")

        class Image(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.input_conditioner = Conditioner((3, 1, 1), "norm_")
                self.stem = nn.Conv2d(3, 8, 3, stride=2, padding=1)  # the chain's default

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return self.stem(self.input_conditioner(x))

        class Features(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.normalizer = Conditioner((6,), "")
                self.proj = nn.Linear(6, 8)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return self.proj(self.normalizer(x))

        return [
            Example(Image(), (torch.randn(2, 3, 9, 9),)),
            Example(Features(), (torch.randn(2, 5, 6),)),
        ]
