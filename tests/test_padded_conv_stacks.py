"""Conv stacks that pad with layers of their own (codegen/analyze/padded_convs.py): a keyless slot
before every conv wider than 1x1 is its padding layer (reflection), the conv unpadded; a third
slot between two convs resamples, up where the widths narrow, down where they grow. Written with
other names, nesting and kernels than zoo 21's AdaIN decoder, which motivated the reading.

Layouts: a style-transfer decoder nested in a class (`blocks`), its first conv 5x5; a VGG-like
encoder of the same kind whose widths grow (max pools).
"""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn

from tests.zoo_verdicts import measured_layout

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


def padded(c_in: int, c_out: int, k: int = 3) -> list[nn.Module]:
    return [nn.ReflectionPad2d(k // 2), nn.Conv2d(c_in, c_out, k), nn.ReLU(inplace=True)]


class StyleDecoder(nn.Module):
    def __init__(self, c: int = 16) -> None:
        super().__init__()
        self.blocks = nn.Sequential(
            *padded(c, c, 5),
            nn.Upsample(scale_factor=2),
            *padded(c, c // 2),
            *padded(c // 2, c // 2),
            nn.Upsample(scale_factor=2),
            *padded(c // 2, c // 4),
            nn.ReflectionPad2d(1),
            nn.Conv2d(c // 4, 3, 3),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.blocks(x)


def padded_encoder() -> nn.Sequential:
    return nn.Sequential(
        *padded(3, 8),
        *padded(8, 8),
        nn.MaxPool2d(2),
        *padded(8, 16),
        nn.MaxPool2d(2),
        nn.ReflectionPad2d(1),
        nn.Conv2d(16, 16, 3),
    )


LAYOUTS = {  # name: (make, input shape, verdict from the keys alone)
    "style_decoder": (StyleDecoder, (2, 16, 4, 4), "exact"),
    "padded_encoder": (padded_encoder, (2, 3, 16, 16), "exact"),
}


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_padded_conv_stack(name, tmp_path, capsys):
    make, shape, expected = LAYOUTS[name]
    found, diff = measured_layout(make, shape, tmp_path, capsys)
    assert found == expected, f"{name}: {found} (max abs diff {diff:.3g})"
