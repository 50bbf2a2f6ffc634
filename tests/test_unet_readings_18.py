"""U-Nets and a tiny autoencoder whose dataflow rests on readings no key records (issue 16, session
18: zoo 17's taesd, jvanvugt_unet and nested_unet, and layouts of other repositories that share
each reading):

- a grid of nodes named by level and step (`conv{i}_{j}`, `x_{i}_{j}`): each node's input width is
  as many times its level's width as the level has nodes before it, plus the width below, which
  proves which maps it concatenates (U-Net++'s dense skips, the plain U-Net's single ones);
- unpadded 3x3 convs whose skips are centre-cropped (Ronneberger et al.): no key says so, the
  output's size does (one model-wide choice, `valid_convs`, that calibration or a hint moves);
- a tiny autoencoder's encoder and decoder as bare Sequentials (madebyollin's TAESD): the
  decoder's first, keyless item is its latent clamp, and no rescaling to [-1, 1] wraps them.

Each layout is generated from its state dict alone: exact, or flagged and then exact once a hint
pins what calibration would (never silently wrong).
"""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from tests.generative_zoo_check import flagged_then_exact, generate, verdict
from tests.zoo_verdicts import layout_reference

pytestmark = pytest.mark.filterwarnings(
    "ignore::DeprecationWarning", "ignore::UserWarning", "ignore::FutureWarning"
)


# ------------------------------------------------------------------------ grid-named U-Nets


class VGGBlock(nn.Module):  # 4uiiurz1/pytorch-nested-unet archs.py
    def __init__(self, c_in: int, c_mid: int, c_out: int) -> None:
        super().__init__()
        self.relu = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(c_in, c_mid, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(c_mid)
        self.conv2 = nn.Conv2d(c_mid, c_out, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x))))))


class PlainGridUNet(nn.Module):  # archs.py UNet: four levels, one skip per decoder node
    def __init__(self, num_classes: int = 3, input_channels: int = 1) -> None:
        super().__init__()
        nb = [4, 8, 12, 16]
        self.pool = nn.MaxPool2d(2, 2)
        self.up = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True)
        self.conv0_0 = VGGBlock(input_channels, nb[0], nb[0])
        self.conv1_0 = VGGBlock(nb[0], nb[1], nb[1])
        self.conv2_0 = VGGBlock(nb[1], nb[2], nb[2])
        self.conv3_0 = VGGBlock(nb[2], nb[3], nb[3])
        self.conv2_1 = VGGBlock(nb[2] + nb[3], nb[2], nb[2])
        self.conv1_2 = VGGBlock(nb[1] + nb[2], nb[1], nb[1])
        self.conv0_3 = VGGBlock(nb[0] + nb[1], nb[0], nb[0])
        self.final = nn.Conv2d(nb[0], num_classes, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x0_0 = self.conv0_0(x)
        x1_0 = self.conv1_0(self.pool(x0_0))
        x2_0 = self.conv2_0(self.pool(x1_0))
        x3_0 = self.conv3_0(self.pool(x2_0))
        x2_1 = self.conv2_1(torch.cat([x2_0, self.up(x3_0)], 1))
        x1_2 = self.conv1_2(torch.cat([x1_0, self.up(x2_1)], 1))
        x0_3 = self.conv0_3(torch.cat([x0_0, self.up(x1_2)], 1))
        return self.final(x0_3)


class ConvBlock(nn.Module):  # a node: one conv, its norm and a ReLU
    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, 3, padding=1, bias=False)
        self.norm = nn.BatchNorm2d(c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.norm(self.conv(x)))


class NearestNestedUNet(nn.Module):
    """U-Net++ of three levels, its nodes named `x_{level}_{step}` (as segmentation_models_pytorch
    names its UNet++ decoder blocks), one conv each, average pooling and nearest upsampling by
    F.interpolate: the dense skips read from the widths, the parameter-free steps calibrated."""

    def __init__(self, in_channels: int = 3, classes: int = 2) -> None:
        super().__init__()
        w = [4, 6, 8]
        self.x_0_0, self.x_1_0, self.x_2_0 = (
            ConvBlock(in_channels, 4),
            ConvBlock(4, 6),
            ConvBlock(6, 8),
        )
        self.x_0_1 = ConvBlock(w[0] + w[1], w[0])
        self.x_1_1 = ConvBlock(w[1] + w[2], w[1])
        self.x_0_2 = ConvBlock(2 * w[0] + w[1], w[0])
        self.segmentation_head = nn.Conv2d(w[0], classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        up = lambda t: F.interpolate(t, scale_factor=2, mode="nearest")  # noqa: E731
        x00 = self.x_0_0(x)
        x10 = self.x_1_0(F.avg_pool2d(x00, 2))
        x01 = self.x_0_1(torch.cat([x00, up(x10)], 1))
        x20 = self.x_2_0(F.avg_pool2d(x10, 2))
        x11 = self.x_1_1(torch.cat([x10, up(x20)], 1))
        x02 = self.x_0_2(torch.cat([x00, x01, up(x11)], 1))
        return self.segmentation_head(x02)


def test_plain_grid_unet_exact_from_keys(tmp_path, capsys):
    reference = layout_reference(PlainGridUNet)
    x = torch.randn(2, 1, 16, 16)
    model, source = generate(reference, tmp_path, "--quiet")
    assert verdict(reference, (x,), model, source)[0] == "exact"
    # each decoder node reads its level's encoder map and the upsampled node below, no more
    assert "torch.cat([x2_0, up], dim=1)" in source and "torch.cat([x0_0, up], dim=1)" in source


def test_nearest_nested_unet_flagged_then_exact(tmp_path):
    reference = layout_reference(NearestNestedUNet)
    # the pooling and upsampling leave no key: flagged at 4uiiurz1's, exact once pinned
    hint = '["RecoveredModel.x_0_0"]\npool = "avg"\nupsample = "nearest"\n'
    flagged_then_exact(reference, (torch.randn(2, 3, 16, 16),), tmp_path, hint)


# ------------------------------------------------------ unpadded U-Nets (centre-cropped skips)


class JvConvBlock(nn.Module):  # jvanvugt/pytorch-unet UNetConvBlock(padding=False, batch_norm=True)
    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.block = nn.Sequential(
            nn.Conv2d(c_in, c_out, 3), nn.ReLU(), nn.BatchNorm2d(c_out),
            nn.Conv2d(c_out, c_out, 3), nn.ReLU(), nn.BatchNorm2d(c_out),
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.block(x)


def centre_crop(skip: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    dy, dx = (skip.shape[2] - like.shape[2]) // 2, (skip.shape[3] - like.shape[3]) // 2
    return skip[:, :, dy : dy + like.shape[2], dx : dx + like.shape[3]]


class JvUpBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.up = nn.ConvTranspose2d(c_in, c_out, kernel_size=2, stride=2)
        self.conv_block = JvConvBlock(c_in, c_out)

    def forward(self, x: torch.Tensor, bridge: torch.Tensor) -> torch.Tensor:
        up = self.up(x)
        return self.conv_block(torch.cat([up, centre_crop(bridge, up)], 1))


class JvBatchNormUNet(nn.Module):  # unet.py UNet(in_channels=3, depth=3, padding=False, bn=True)
    def __init__(self) -> None:
        super().__init__()
        widths = [4, 8, 16]
        self.down_path = nn.ModuleList(
            [JvConvBlock(c_in, c) for c_in, c in zip([3, *widths[:-1]], widths)]
        )
        self.up_path = nn.ModuleList([JvUpBlock(16, 8), JvUpBlock(8, 4)])
        self.last = nn.Conv2d(4, 2, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        blocks = []
        for i, down in enumerate(self.down_path):
            x = down(x)
            if i != len(self.down_path) - 1:
                blocks.append(x)
                x = F.max_pool2d(x, 2)
        for i, up in enumerate(self.up_path):
            x = up(x, blocks[-i - 1])
        return self.last(x)


class ValidDoubleConv(nn.Module):  # the paper's level, as milesial's names write it, unpadded
    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.double_conv = nn.Sequential(
            nn.Conv2d(c_in, c_out, 3), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True),
            nn.Conv2d(c_out, c_out, 3), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True),
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.double_conv(x)


class ValidDown(nn.Module):
    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.maxpool_conv = nn.Sequential(nn.MaxPool2d(2), ValidDoubleConv(c_in, c_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.maxpool_conv(x)


class ValidUp(nn.Module):
    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.up = nn.ConvTranspose2d(c_in, c_in // 2, kernel_size=2, stride=2)
        self.conv = ValidDoubleConv(c_in, c_out)

    def forward(self, x1: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
        x1 = self.up(x1)
        return self.conv(torch.cat([centre_crop(x2, x1), x1], dim=1))


class ValidLevelUNet(nn.Module):  # Ronneberger's U-Net in milesial's layout, two levels down
    def __init__(self) -> None:
        super().__init__()
        self.inc = ValidDoubleConv(3, 4)
        self.down1 = ValidDown(4, 8)
        self.down2 = ValidDown(8, 16)
        self.up1 = ValidUp(16, 8)
        self.up2 = ValidUp(8, 4)
        self.outc = nn.Conv2d(4, 2, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x1 = self.inc(x)
        x2 = self.down1(x1)
        x3 = self.down2(x2)
        x = self.up1(x3, x2)
        return self.outc(self.up2(x, x1))


@pytest.mark.parametrize("make", [JvBatchNormUNet, ValidLevelUNet])
def test_unpadded_unet_flagged_then_exact(make, tmp_path):
    reference = layout_reference(make)
    hint = '["RecoveredModel"]\nvalid_convs = true\n'
    flagged_then_exact(reference, (torch.randn(2, 3, 44, 44),), tmp_path, hint)


# ------------------------------------------------ tiny autoencoders as bare Sequentials (TAESD)


def taesd_conv(n_in: int, n_out: int, **kwargs) -> nn.Conv2d:
    return nn.Conv2d(n_in, n_out, 3, padding=1, **kwargs)


class Clamp(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(x / 3) * 3


class TaeBlock(nn.Module):  # madebyollin/taesd taesd.py Block
    def __init__(self, n_in: int, n_out: int) -> None:
        super().__init__()
        self.conv = nn.Sequential(
            taesd_conv(n_in, n_out), nn.ReLU(), taesd_conv(n_out, n_out), nn.ReLU(),
            taesd_conv(n_out, n_out),
        )  # fmt: skip
        self.skip = nn.Conv2d(n_in, n_out, 1, bias=False) if n_in != n_out else nn.Identity()
        self.fuse = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fuse(self.conv(x) + self.skip(x))


class WideLatentTaesd(nn.Module):
    """TAESD as its FLUX/SD3 variants size it (16 latent channels), two levels of two blocks, the
    first block widening (its 1x1 `skip`)."""

    def __init__(self, c: int = 8, latent: int = 16) -> None:
        super().__init__()
        self.encoder = nn.Sequential(
            taesd_conv(3, 4), TaeBlock(4, c), TaeBlock(c, c),
            taesd_conv(c, c, stride=2, bias=False), TaeBlock(c, c), TaeBlock(c, c),
            taesd_conv(c, c, stride=2, bias=False), TaeBlock(c, c), TaeBlock(c, c),
            taesd_conv(c, latent),
        )  # fmt: skip
        self.decoder = nn.Sequential(
            Clamp(), taesd_conv(latent, c), nn.ReLU(),
            TaeBlock(c, c), TaeBlock(c, c), nn.Upsample(scale_factor=2),
            taesd_conv(c, c, bias=False), TaeBlock(c, c), TaeBlock(c, c), nn.Upsample(scale_factor=2),
            taesd_conv(c, c, bias=False), TaeBlock(c, c), taesd_conv(c, 3),
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))


class SignedTaesd(WideLatentTaesd):
    """The same stacks called on [-1, 1] images, as a diffusers pipeline rescales around them."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x.add(1).div(2))).mul(2).sub(1)


def test_bare_tiny_autoencoder_exact_from_keys(tmp_path):
    reference = layout_reference(WideLatentTaesd)
    x = torch.randn(2, 3, 16, 16)
    model, source = generate(reference, tmp_path, "--quiet")
    assert verdict(reference, (x,), model, source)[0] == "exact"


def test_bare_tiny_autoencoder_signed_images(tmp_path):
    reference = layout_reference(SignedTaesd)
    hint = '["RecoveredModel.images"]\nsigned_images = true\n'
    flagged_then_exact(reference, (torch.randn(2, 3, 16, 16),), tmp_path, hint)
