"""Encoder-decoders whose decoders' outputs are ADDED to encoder features, so both operands have
one width AND one size, written with other names and nesting than zoo 16's e-lab LinkNet, which
motivated the reading (issue 16): families/linked_encoder_decoder.py. The sum pairs encoders with
decoders level by level (decoder k gives what encoder k read), makes a decoder's one spatial conv
that could be either the transposed conv undoing its encoder's stride, and gives a decoder whose
widths form a cycle (in = out) the width it reads, which orders it.

Layouts: an additive U-Net (pix2pix-style 4x4 strided convs mirrored by transposed ones, its
levels `down1`/`up1` Sequentials, no norm in its stem, no pool, logits out); a three-level
LinkNet whose decoders are flat numbered Sequentials (the square 3x3 transposed conv unnamed);
and, structurally distant, snakers4's LinkNet34 on torchvision's ResNet blocks (`firstconv`,
`encoder1` = `layer1`, DecoderBlock `deconv2`, no skip at the first level, unpadded final convs,
logits): its first decoder meets no sum, so only choices (first_skip, output_activation) and the
unpadded convs' paddings say so: flagged from the keys. The negative control: a conv autoencoder
numbered the same way without skips, whose widths chain just as well: the skips are a choice
(`skips`), so it says guessed: flagged.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from tests.zoo_verdicts import measured_layout

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


class AdditiveUNet(nn.Module):
    def __init__(self, w: int = 8, classes: int = 2) -> None:
        super().__init__()
        self.inc = nn.Conv2d(3, w, 3, 1, 1)
        self.down1 = nn.Sequential(nn.Conv2d(w, 2 * w, 4, 2, 1), nn.BatchNorm2d(2 * w), nn.ReLU())
        self.down2 = nn.Sequential(
            nn.Conv2d(2 * w, 4 * w, 4, 2, 1), nn.BatchNorm2d(4 * w), nn.ReLU()
        )
        self.up2 = nn.Sequential(
            nn.ConvTranspose2d(4 * w, 2 * w, 4, 2, 1), nn.BatchNorm2d(2 * w), nn.ReLU()
        )
        self.up1 = nn.Sequential(
            nn.ConvTranspose2d(2 * w, w, 4, 2, 1), nn.BatchNorm2d(w), nn.ReLU()
        )
        self.outc = nn.Conv2d(w, classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x0 = F.relu(self.inc(x))
        x1 = self.down1(x0)
        x2 = self.down2(x1)
        d = self.up2(x2) + x1
        d = self.up1(d) + x0
        return self.outc(d)


def _basic(cin: int, cout: int, stride: int) -> nn.Module:
    class BasicBlock(nn.Module):  # torchvision's
        def __init__(self) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.downsample = None
            if stride != 1 or cin != cout:
                self.downsample = nn.Sequential(
                    nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout)
                )

        def forward(self, x):
            out = F.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            return F.relu(out + (x if self.downsample is None else self.downsample(x)))

    return BasicBlock()


def _flat_decoder(cin: int, cout: int, stride: int) -> nn.Sequential:
    mid = cin // 4
    return nn.Sequential(
        nn.Conv2d(cin, mid, 1, bias=False),
        nn.BatchNorm2d(mid),
        nn.ReLU(inplace=True),
        nn.ConvTranspose2d(mid, mid, 3, stride, 1, stride - 1, bias=False),
        nn.BatchNorm2d(mid),
        nn.ReLU(inplace=True),
        nn.Conv2d(mid, cout, 1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class FlatDecoderLinkNet(nn.Module):  # three levels, decoders as flat Sequentials
    def __init__(self, classes: int = 3) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.encoder1 = nn.Sequential(_basic(8, 8, 1), _basic(8, 8, 1))
        self.encoder2 = nn.Sequential(_basic(8, 16, 2), _basic(16, 16, 1))
        self.encoder3 = nn.Sequential(_basic(16, 32, 2), _basic(32, 32, 1))
        self.decoder1 = _flat_decoder(8, 8, 1)
        self.decoder2 = _flat_decoder(16, 8, 2)
        self.decoder3 = _flat_decoder(32, 16, 2)
        self.classifier = nn.ConvTranspose2d(8, classes, 2, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 3, 2, 1)
        e1 = self.encoder1(x)
        e2 = self.encoder2(e1)
        e3 = self.encoder3(e2)
        d = e2 + self.decoder3(e3)
        d = e1 + self.decoder2(d)
        d = x + self.decoder1(d)
        return F.log_softmax(self.classifier(d), dim=1)


class DecoderBlock(nn.Module):  # snakers4's LinkNet34 DecoderBlock
    def __init__(self, cin: int, n_filters: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cin // 4, 1)
        self.norm1 = nn.BatchNorm2d(cin // 4)
        self.deconv2 = nn.ConvTranspose2d(
            cin // 4, cin // 4, 3, stride=2, padding=1, output_padding=1
        )
        self.norm2 = nn.BatchNorm2d(cin // 4)
        self.conv3 = nn.Conv2d(cin // 4, n_filters, 1)
        self.norm3 = nn.BatchNorm2d(n_filters)

    def forward(self, x):
        x = F.relu(self.norm1(self.conv1(x)))
        x = F.relu(self.norm2(self.deconv2(x)))
        return F.relu(self.norm3(self.conv3(x)))


class LinkNet34(nn.Module):  # snakers4's, on torchvision's ResNet blocks (widths / 8)
    def __init__(self, classes: int = 2) -> None:
        super().__init__()
        f = [8, 16, 32, 64]
        self.firstconv = nn.Conv2d(3, 8, 7, 2, 3, bias=False)
        self.firstbn = nn.BatchNorm2d(8)
        self.encoder1 = nn.Sequential(_basic(8, f[0], 1), _basic(f[0], f[0], 1))
        self.encoder2 = nn.Sequential(_basic(f[0], f[1], 2), _basic(f[1], f[1], 1))
        self.encoder3 = nn.Sequential(_basic(f[1], f[2], 2), _basic(f[2], f[2], 1))
        self.encoder4 = nn.Sequential(_basic(f[2], f[3], 2), _basic(f[3], f[3], 1))
        self.decoder4 = DecoderBlock(f[3], f[2])
        self.decoder3 = DecoderBlock(f[2], f[1])
        self.decoder2 = DecoderBlock(f[1], f[0])
        self.decoder1 = DecoderBlock(f[0], f[0])
        self.finaldeconv1 = nn.ConvTranspose2d(f[0], 4, 3, stride=2)
        self.finalconv2 = nn.Conv2d(4, 4, 3)
        self.finalconv3 = nn.Conv2d(4, classes, 2, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(F.relu(self.firstbn(self.firstconv(x))), 3, 2, 1)
        e1 = self.encoder1(x)
        e2 = self.encoder2(e1)
        e3 = self.encoder3(e2)
        e4 = self.encoder4(e3)
        d4 = self.decoder4(e4) + e3
        d3 = self.decoder3(d4) + e2
        d2 = self.decoder2(d3) + e1
        d1 = self.decoder1(d2)
        f = F.relu(self.finaldeconv1(d1))
        f = F.relu(self.finalconv2(f))
        return self.finalconv3(f)


class NumberedAutoencoder(nn.Module):  # the negative control: the same widths, no skips
    def __init__(self, w: int = 8) -> None:
        super().__init__()
        self.conv_in = nn.Conv2d(3, w, 3, 1, 1)
        self.enc1 = nn.Sequential(nn.Conv2d(w, 2 * w, 4, 2, 1), nn.ReLU())
        self.enc2 = nn.Sequential(nn.Conv2d(2 * w, 4 * w, 4, 2, 1), nn.ReLU())
        self.dec2 = nn.Sequential(nn.ConvTranspose2d(4 * w, 2 * w, 4, 2, 1), nn.ReLU())
        self.dec1 = nn.Sequential(nn.ConvTranspose2d(2 * w, w, 4, 2, 1), nn.ReLU())
        self.conv_out = nn.Conv2d(w, 3, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.conv_in(x))
        return self.conv_out(self.dec1(self.dec2(self.enc2(self.enc1(x)))))


# (layout, input shape, verdict from the keys alone). Before this change (gen17b's 819147d):
# every one flagged (inf: the top-level members do not chain by width).
LAYOUTS = {
    "additive_unet": (AdditiveUNet, (2, 3, 16, 16), "exact"),
    "flat_decoder_linknet": (FlatDecoderLinkNet, (2, 3, 32, 32), "exact"),
    "linknet34": (LinkNet34, (2, 3, 64, 64), "flagged"),
    "numbered_autoencoder": (NumberedAutoencoder, (2, 3, 16, 16), "flagged"),
}


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_added_skip_layout(name, tmp_path, capsys):
    make, shape, expected = LAYOUTS[name]
    found, diff = measured_layout(make, shape, tmp_path, capsys)
    assert found != "WRONG", f"{name}: differs by {diff:.3g} and nothing says so"
    assert found == expected, f"{name}: {found} (max abs diff {diff:.3g})"
