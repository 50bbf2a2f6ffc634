"""Two twin branches over one input joined element-wise inside a block (issue 16; zoo 19's StarNet):
the reading of patterns/blocks/twin_product.py (two members reading one width and giving the same
wider one, whose consumer reads that width, not their concatenation), on three layouts that share
no names:

- StarNet's block written with bare layers (ma-xu/Rewrite-the-Stars keeps `dwconv`, `f1`, `f2`,
  `g`, `dwconv2` in ConvBN Sequentials; here `dw`, `pw_a`, `pw_b`, `proj` Sequential): ReLU6 on
  the first branch, the product, the residual;
- a LLaMA feed-forward in 1x1 convs (the Neural Engine ports write `w1`, `w2`, `w3` as Conv2d):
  a norm, silu(w1(x)) * w3(x), w2, the residual;
- a 1-D gated convolutional block (Dauphin et al. 2017's gated CNN: `conv_a`, `conv_b` Conv1d of
  one kernel, a * sigmoid(b), a 1x1 `proj`, the residual): the second branch activated.

Before (main at a9fc950): all three flagged, the block chained through both twins (the second
reading what the consumer gives: a width the block never keeps) or missing. After: the block is
the reference's with the choices the keys cannot show pinned by hints (the activation, which
twin it reads); from the keys alone it says guessed, never WRONG.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn

from tests.redraw import unit_scale
from tests.zoo_verdicts import class_trust, generate_from_state_dict, measured

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


class PlainStarBlock(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dw = nn.Conv2d(dim, dim, 3, 1, 1, groups=dim)
        self.pw_a = nn.Conv2d(dim, dim * 3, 1)
        self.pw_b = nn.Conv2d(dim, dim * 3, 1)
        self.proj = nn.Sequential(nn.Conv2d(dim * 3, dim, 1), nn.BatchNorm2d(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.dw(x)
        return x + self.proj(nn.functional.relu6(self.pw_a(y)) * self.pw_b(y))


class ConvSwiGLU(nn.Module):  # LLaMA's FFN with 1x1 convs over [batch, dim, 1, tokens]
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.norm = nn.BatchNorm2d(dim)
        self.w1 = nn.Conv2d(dim, dim * 2, 1, bias=False)
        self.w2 = nn.Conv2d(dim * 2, dim, 1, bias=False)
        self.w3 = nn.Conv2d(dim, dim * 2, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.norm(x)
        return x + self.w2(nn.functional.silu(self.w1(y)) * self.w3(y))


class GatedConv1d(nn.Module):  # Dauphin et al.'s gated CNN block
    def __init__(self, dim: int) -> None:
        super().__init__()
        # (12 channels from 8: no grouped reading of conv_b over what conv_a gives fits)
        self.conv_a = nn.Conv1d(dim, dim * 3 // 2, 3, padding=1)
        self.conv_b = nn.Conv1d(dim, dim * 3 // 2, 3, padding=1)
        self.proj = nn.Conv1d(dim * 3 // 2, dim, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.proj(self.conv_a(x) * torch.sigmoid(self.conv_b(x)))


class Net(nn.Module):
    def __init__(self, block, dim: int, conv=nn.Conv2d, stride: int = 2) -> None:
        super().__init__()
        # (an image stem halves: the convention the keys default to; a 1-D one keeps the length)
        self.stem = conv(3, dim, 3, stride, 1)
        self.blocks = nn.Sequential(block(dim), block(dim))
        self.head = nn.Linear(dim, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.blocks(self.stem(x))
        return self.head(y.mean(tuple(range(2, y.dim()))))


# (build, input shape, hints the keys cannot give)
LAYOUTS = {
    "plain_starnet": (lambda: Net(PlainStarBlock, 8), (2, 3, 16, 16), ""),
    "conv_swiglu": (
        lambda: Net(ConvSwiGLU, 8),
        (2, 3, 1, 16),
        '["StarBlock.w1"]\ntwin_activation = "silu"\n',
    ),
    "gated_cnn_1d": (
        lambda: Net(GatedConv1d, 8, nn.Conv1d, 1),
        (2, 3, 32),
        '["StarBlock.conv_a"]\ntwin_activation = "sigmoid"\nactivated = "second"\n',
    ),
}


class _NoCapture:  # generate_from_state_dict reads capsys.readouterr().err
    def readouterr(self):
        return type("Captured", (), {"err": ""})()


@pytest.fixture(scope="module", params=sorted(LAYOUTS))
def generated(request, tmp_path_factory):
    """(name, reference, model from the keys, its source, model with hints) for one layout."""
    build, shape, hints = LAYOUTS[request.param]
    torch.manual_seed(0)
    reference = unit_scale(build())
    tmp = tmp_path_factory.mktemp("m")
    model, source = generate_from_state_dict(reference, tmp, _NoCapture())
    hinted = model
    if hints:
        (tmp / "hints.toml").write_text(hints)
        hinted, _ = generate_from_state_dict(
            reference, tmp, _NoCapture(), "--force", "--hints", str(tmp / "hints.toml")
        )
    return request.param, reference, model, source, hinted, shape


def test_from_the_keys_the_join_says_guessed_never_wrong(generated):
    name, reference, model, source, _, shape = generated
    verdict, _ = measured(reference, model, source, (torch.randn(*shape),))
    assert verdict in ("exact", "flagged"), name
    assert class_trust(source).get("StarBlock") == "guessed", name


def test_with_the_unrecorded_choices_pinned_the_model_is_exact(generated):
    name, reference, _, _, hinted, shape = generated
    x = torch.randn(*shape)
    with torch.no_grad():
        assert torch.allclose(hinted(x), reference(x), atol=1e-4), name
