"""A spatial conv over the first channels of what reaches it, the rest passed on (issue 16; zoo 19's
FasterNet): the reading of patterns/blocks/partial_conv.py, proven by layers/conv_groups.py's
`partial_convs` (a sibling path reads and gives a wider width; nothing beside the conv reads or
gives its own), on three layouts that share no names:

- FasterNet's own block (JierunChen/FasterNet `MLPBlock`: `spatial_mixing.partial_conv3` beside an
  `mlp` Sequential of 1x1 convs), at n_div 4;
- the YOLO necks' port (`Faster_Block` in C2f-Faster: a `PConv` holding `conv`, beside an `mlp`
  of ultralytics-style Conv units `conv`/`bn` and a bare 1x1 conv), at n_div 2;
- a MetaFormer-style block whose token mixer is a partial conv (`token_mixer.pconv`) and whose
  channel mixer is a class of two numbered 1x1 convs (`fc1`, `fc2`) with a norm first.

Before (main at a9fc950): all three flagged with the block missing (its members' widths do not
chain: the conv reads fewer channels than the block carries). After: the partial conv computes
what the reference computes on the block's width, and the block orders the spatial mixer before
the channel MLP; the class says guessed (which channels leaves no key), and the rest of the row is
as the chain reads it (residual, activations: choices).
"""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn

from tests.redraw import unit_scale
from tests.vision_zoo_19_models import PartialConv3  # FasterNet Partial_conv3, "split_cat"
from tests.zoo_verdicts import class_trust, generate_from_state_dict, measured

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


class FasterBlock(nn.Module):  # FasterNet MLPBlock, no layer scale
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.mlp = nn.Sequential(
            nn.Conv2d(dim, dim * 2, 1, bias=False),
            nn.BatchNorm2d(dim * 2),
            nn.ReLU(),
            nn.Conv2d(dim * 2, dim, 1, bias=False),
        )
        self.spatial_mixing = PartialConv3(dim, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.mlp(self.spatial_mixing(x))


class PConv(nn.Module):  # the YOLO ports' PConv, forward "slicing"
    def __init__(self, dim: int, n_div: int = 2) -> None:
        super().__init__()
        self.dim_conv = dim // n_div
        self.conv = nn.Conv2d(self.dim_conv, self.dim_conv, 3, 1, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.clone()
        x[:, : self.dim_conv] = self.conv(x[:, : self.dim_conv])
        return x


class YoloConv(nn.Module):  # ultralytics Conv: `conv`, `bn`, SiLU
    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, 1, bias=False)
        self.bn = nn.BatchNorm2d(c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.bn(self.conv(x)))


class YoloFasterBlock(nn.Module):  # C2f-Faster's Faster_Block
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.mlp = nn.Sequential(YoloConv(dim, dim * 2), nn.Conv2d(dim * 2, dim, 1, bias=False))
        self.spatial_mixing = PConv(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.mlp(self.spatial_mixing(x))


class ConvMlp(nn.Module):  # a MetaFormer channel MLP written with 1x1 convs
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.norm = nn.BatchNorm2d(dim)
        self.fc1 = nn.Conv2d(dim, dim * 3, 1)
        self.fc2 = nn.Conv2d(dim * 3, dim, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(torch.relu(self.fc1(self.norm(x))))


class TokenMixer(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.split = dim // 4
        self.pconv = nn.Conv2d(self.split, self.split, 5, 1, 2, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        kept, rest = x[:, : self.split], x[:, self.split :]
        return torch.cat([self.pconv(kept), rest], 1)


class MetaBlock(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.token_mixer = TokenMixer(dim)
        self.channel_mixer = ConvMlp(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.channel_mixer(self.token_mixer(x))


class Net(nn.Module):
    def __init__(self, block, dim: int) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, dim, 4, 4, bias=False)
        self.blocks = nn.Sequential(block(dim), block(dim))
        self.head = nn.Linear(dim, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.blocks(self.stem(x)).mean((2, 3)))


LAYOUTS = {
    "fasternet": (lambda: Net(FasterBlock, 16), "spatial_mixing", 16),
    "yolo_faster_block": (lambda: Net(YoloFasterBlock, 8), "spatial_mixing", 8),
    "metaformer_partial": (lambda: Net(MetaBlock, 16), "token_mixer", 16),
}


class _NoCapture:  # generate_from_state_dict reads capsys.readouterr().err
    def readouterr(self):
        return type("Captured", (), {"err": ""})()


@pytest.fixture(scope="module", params=sorted(LAYOUTS))
def generated(request, tmp_path_factory):
    """(name, reference, generated model, source) for one layout, generated once."""
    build, mixer, dim = LAYOUTS[request.param]
    reference = unit_scale(build())
    model, source = generate_from_state_dict(reference, tmp_path_factory.mktemp("m"), _NoCapture())
    return request.param, reference, model, source, mixer, dim


def test_the_partial_conv_computes_what_the_reference_does(generated):
    name, reference, model, _, mixer, dim = generated
    x = torch.randn(2, dim, 8, 8)
    ours = getattr(model.blocks[0], mixer)
    with torch.no_grad():
        assert torch.allclose(ours(x), getattr(reference.blocks[0], mixer)(x), atol=1e-5), name


def test_the_block_mixes_space_before_channels(generated):
    """With the residual the chain offers pinned (it leaves no key), the block is the reference's."""
    name, reference, model, _, _, dim = generated
    x = torch.randn(2, dim, 8, 8)
    block, ref = model.blocks[0], reference.blocks[0]
    with torch.no_grad():
        ours = block(x)
        same = torch.allclose(ours, ref(x), atol=1e-5)
        # the chain's default adds no residual: then it is the reference's branch alone
        assert same or torch.allclose(ours + x, ref(x), atol=1e-5), name


def test_flagged_never_wrong_and_says_which_channels(generated):
    name, reference, model, source, _, _ = generated
    verdict, _ = measured(reference, model, source, (torch.randn(2, 3, 32, 32),))
    assert verdict in ("exact", "flagged"), name
    trust = class_trust(source)
    assert trust.get("PartialConv") == "guessed", (name, trust)
    assert "partial_channels" in source
