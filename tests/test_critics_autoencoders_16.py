"""Discriminators, conv autoencoders and attention U-Nets as other repositories write them (issue
16, session 16): the mechanisms behind zoo 15's PatchGAN, udacity autoencoder and LeeJunHyun
Attention U-Net rows, checked on other layouts.

- A numbered Sequential of 4x4 convs ending in a one-channel conv scores an image (a GAN
  discriminator): LeakyReLU(0.2) in its slots; pix2pix's PatchGAN (its last conv biased) keeps the
  last two convs at stride 1, padding 1; two slots after a biased conv are CycleGAN's
  InstanceNorm2d and its LeakyReLU. Conventions, so the class stays guessed.
- Transposed convs of kernel 2 and stride 2, as many as the size-keeping convs before them, undo
  2x2 max-pools: each encoder level pools after its activation; the reconstruction ends in a
  sigmoid. Named attributes (the chain) or encoder/decoder Sequentials alike.
- A U-Net whose up levels are separate members (upsampler, optional attention gate, DoubleConv
  over the skip and the upsampled map; families/split_level_unet.py) is read from the widths;
  the gate (blocks/attention_gate.py) from three 1x1 convs, two to one inner width (named for
  the gating signal and the skip), one to a single channel.

Measured before the change (main at 636357b): all thirteen flagged (diff inf); after: exact but
persson_patchgan (its convs in nested containers with reflect padding: flagged, as it says).
"""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from tests.generative_zoo_15_models import (
    LjhAttUNet,
    LjhConvBlock,
    LjhUpConv,
    UdacityConvAutoencoder,
)
from tests.generative_zoo_check import generate, verdict
from tests.redraw import reference_and_input

pytestmark = pytest.mark.filterwarnings(
    "ignore::DeprecationWarning", "ignore::UserWarning", "ignore::FutureWarning"
)


class TamingDiscriminator(nn.Module):
    """taming-transformers' NLayerDiscriminator (taming/modules/discriminator/model.py): `main`,
    n_layers 2, BatchNorm, ndf 4."""

    def __init__(self, input_nc=3, ndf=4, n_layers=2):
        super().__init__()
        kw, padw = 4, 1
        seq = [nn.Conv2d(input_nc, ndf, kw, 2, padw), nn.LeakyReLU(0.2, True)]
        mult = 1
        for n in range(1, n_layers):
            prev, mult = mult, min(2**n, 8)
            seq += [
                nn.Conv2d(ndf * prev, ndf * mult, kw, 2, padw, bias=False),
                nn.BatchNorm2d(ndf * mult),
                nn.LeakyReLU(0.2, True),
            ]
        prev, mult = mult, min(2**n_layers, 8)
        seq += [
            nn.Conv2d(ndf * prev, ndf * mult, kw, 1, padw, bias=False),
            nn.BatchNorm2d(ndf * mult),
            nn.LeakyReLU(0.2, True),
        ]
        seq += [nn.Conv2d(ndf * mult, 1, kw, 1, padw)]
        self.main = nn.Sequential(*seq)

    def forward(self, x):
        return self.main(x)


class DeepPatchDiscriminator(nn.Module):
    """A five-level PatchGAN (n_layers 4, widths capped at 8 * ndf) written with an explicit list
    under `net`, as the pix2pix-style repositories that copy networks.py do."""

    def __init__(self, in_ch=3, ndf=2):
        super().__init__()
        layers = [nn.Conv2d(in_ch, ndf, 4, stride=2, padding=1), nn.LeakyReLU(0.2)]
        widths = [ndf, ndf * 2, ndf * 4, ndf * 8, ndf * 8]
        for a, b in zip(widths[:-2], widths[1:-1]):
            layers += [
                nn.Conv2d(a, b, 4, stride=2, padding=1, bias=False),
                nn.BatchNorm2d(b),
                nn.LeakyReLU(0.2),
            ]
        layers += [
            nn.Conv2d(widths[-2], widths[-1], 4, stride=1, padding=1, bias=False),
            nn.BatchNorm2d(widths[-1]),
            nn.LeakyReLU(0.2),
        ]
        layers += [nn.Conv2d(widths[-1], 1, 4, stride=1, padding=1)]
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


class InstanceNormPatchDiscriminator(nn.Module):
    """CycleGAN's default discriminator (norm='instance': InstanceNorm2d without affine, so no
    keys, and every conv biased), n_layers 3."""

    def __init__(self, input_nc=3, ndf=2):
        super().__init__()
        seq = [nn.Conv2d(input_nc, ndf, 4, 2, 1), nn.LeakyReLU(0.2, True)]
        for a, b, s in ((1, 2, 2), (2, 4, 2), (4, 8, 1)):
            seq += [
                nn.Conv2d(ndf * a, ndf * b, 4, s, 1),
                nn.InstanceNorm2d(ndf * b),
                nn.LeakyReLU(0.2, True),
            ]
        seq += [nn.Conv2d(ndf * 8, 1, 4, 1, 1)]
        self.model = nn.Sequential(*seq)

    def forward(self, x):
        return self.model(x)


class PerssonPatchDiscriminator(nn.Module):
    """Aladdin Persson's pix2pix Discriminator (GANs/Pix2Pix/discriminator_model.py): `initial`
    and `model` Sequentials, CNNBlocks of `conv` Sequentials, reflect padding, the pair
    concatenated inside forward."""

    class CNNBlock(nn.Module):
        def __init__(self, a, b, stride):
            super().__init__()
            self.conv = nn.Sequential(
                nn.Conv2d(a, b, 4, stride, 1, bias=False, padding_mode="reflect"),
                nn.BatchNorm2d(b),
                nn.LeakyReLU(0.2),
            )

        def forward(self, x):
            return self.conv(x)

    def __init__(self, in_channels=3, features=(4, 8, 16, 32)):
        super().__init__()
        self.initial = nn.Sequential(
            nn.Conv2d(in_channels * 2, features[0], 4, 2, 1, padding_mode="reflect"),
            nn.LeakyReLU(0.2),
        )
        layers, a = [], features[0]
        for f in features[1:]:
            layers.append(self.CNNBlock(a, f, stride=1 if f == features[-1] else 2))
            a = f
        layers.append(nn.Conv2d(a, 1, 4, 1, 1, padding_mode="reflect"))
        self.model = nn.Sequential(*layers)

    def forward(self, x):
        return self.model(self.initial(x))


LAYOUTS = {
    "taming_patchgan": (TamingDiscriminator, (2, 3, 32, 32)),
    "deep_patchgan": (DeepPatchDiscriminator, (2, 3, 64, 64)),
    "instance_norm_patchgan": (InstanceNormPatchDiscriminator, (2, 3, 32, 32)),
    "persson_patchgan": (PerssonPatchDiscriminator, (2, 6, 32, 32)),
}


class SequentialPoolAE(nn.Module):
    """The same autoencoder as `encoder` / `decoder` Sequentials (the pools and activations as
    items, so they hold numbered slots), as the PyTorch tutorials' blog versions write it."""

    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2, 2),
            nn.Conv2d(8, 4, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2, 2),
        )
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(4, 8, 2, stride=2),
            nn.ReLU(),
            nn.ConvTranspose2d(8, 3, 2, stride=2),
            nn.Sigmoid(),
        )

    def forward(self, x):
        return self.decoder(self.encoder(x))


class NormedPoolAE(nn.Module):
    """A conv autoencoder with batch norms, named attributes (enc_conv/enc_bn, dec_deconv/dec_bn)
    and a functional max-pool: pool(relu(bn(conv(x)))) per level."""

    def __init__(self):
        super().__init__()
        self.enc_conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.enc_bn1 = nn.BatchNorm2d(8)
        self.enc_conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.enc_bn2 = nn.BatchNorm2d(16)
        self.dec_deconv1 = nn.ConvTranspose2d(16, 8, 2, stride=2)
        self.dec_bn1 = nn.BatchNorm2d(8)
        self.dec_deconv2 = nn.ConvTranspose2d(8, 3, 2, stride=2)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.enc_bn1(self.enc_conv1(x))), 2)
        x = F.max_pool2d(F.relu(self.enc_bn2(self.enc_conv2(x))), 2)
        x = F.relu(self.dec_bn1(self.dec_deconv1(x)))
        return torch.sigmoid(self.dec_deconv2(x))


class ThreeLevelAE(nn.Module):
    """Three pooled levels and a last size-keeping conv after the upsamplers (the denoising
    autoencoders of the tutorials: `conv_out` then sigmoid)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1)
        self.conv3 = nn.Conv2d(8, 4, 3, padding=1)
        self.t_conv1 = nn.ConvTranspose2d(4, 8, 2, stride=2)
        self.t_conv2 = nn.ConvTranspose2d(8, 16, 2, stride=2)
        self.t_conv3 = nn.ConvTranspose2d(16, 32, 2, stride=2)
        self.conv_out = nn.Conv2d(32, 1, 3, padding=1)

    def forward(self, x):
        for conv in (self.conv1, self.conv2, self.conv3):
            x = F.max_pool2d(F.relu(conv(x)), 2, 2)
        for up in (self.t_conv1, self.t_conv2, self.t_conv3):
            x = F.relu(up(x))
        return torch.sigmoid(self.conv_out(x))


LAYOUTS.update(
    {
        "udacity_ae": (UdacityConvAutoencoder, (2, 1, 28, 28)),
        "sequential_pool_ae": (SequentialPoolAE, (2, 3, 32, 32)),
        "normed_pool_ae": (NormedPoolAE, (2, 3, 32, 32)),
        "three_level_ae": (ThreeLevelAE, (2, 1, 32, 32)),
    }
)


class SquareThreeLevelAE(ThreeLevelAE):
    """The three-level autoencoder whose later transposed convs keep the width (8 -> 8): their
    square weights fit a conv too; the names (`t_conv2`, a `t` before conv) say transposed."""

    def __init__(self):
        super().__init__()
        self.t_conv2 = nn.ConvTranspose2d(8, 8, 2, stride=2)
        self.t_conv3 = nn.ConvTranspose2d(8, 8, 2, stride=2)
        self.conv_out = nn.Conv2d(8, 1, 3, padding=1)


LAYOUTS["square_three_level_ae"] = (SquareThreeLevelAE, (2, 1, 32, 32))

# ------------------------------------------- U-Nets with split up levels and attention gates


class LjhPlainUNet(nn.Module):
    """LeeJunHyun's U_Net (network.py): the same levels without attention gates."""

    def __init__(self):
        super().__init__()
        self.Maxpool = nn.MaxPool2d(2, 2)
        w = [8, 16, 32, 64]
        self.Conv1 = LjhConvBlock(3, 8)
        self.Conv2 = LjhConvBlock(8, 16)
        self.Conv3 = LjhConvBlock(16, 32)
        self.Conv4 = LjhConvBlock(32, 64)
        self.Up4 = LjhUpConv(64, 32)
        self.Up_conv4 = LjhConvBlock(64, 32)
        self.Up3 = LjhUpConv(32, 16)
        self.Up_conv3 = LjhConvBlock(32, 16)
        self.Up2 = LjhUpConv(16, 8)
        self.Up_conv2 = LjhConvBlock(16, 8)
        self.Conv_1x1 = nn.Conv2d(8, 2, 1)

    def forward(self, x):
        x1 = self.Conv1(x)
        x2 = self.Conv2(self.Maxpool(x1))
        x3 = self.Conv3(self.Maxpool(x2))
        x4 = self.Conv4(self.Maxpool(x3))
        d4 = self.Up_conv4(torch.cat((x3, self.Up4(x4)), 1))
        d3 = self.Up_conv3(torch.cat((x2, self.Up3(d4)), 1))
        d2 = self.Up_conv2(torch.cat((x1, self.Up2(d3)), 1))
        return self.Conv_1x1(d2)


LAYOUTS.update(
    {
        "ljh_plain_unet": (LjhPlainUNet, (2, 3, 32, 32)),
        "ljh_att_unet": (LjhAttUNet, (2, 3, 32, 32)),
    }
)


class SfczConvBlock(nn.Module):
    def __init__(self, a, b):
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(a, b, 3, 1, 1, bias=True),
            nn.BatchNorm2d(b),
            nn.ReLU(inplace=True),
            nn.Conv2d(b, b, 3, 1, 1, bias=True),
            nn.BatchNorm2d(b),
            nn.ReLU(inplace=True),
        )

    def forward(self, x):
        return self.conv(x)


class SfczUpConv(nn.Module):
    def __init__(self, a, b):
        super().__init__()
        self.up = nn.Sequential(
            nn.Upsample(scale_factor=2),
            nn.Conv2d(a, b, 3, 1, 1, bias=True),
            nn.BatchNorm2d(b),
            nn.ReLU(inplace=True),
        )

    def forward(self, x):
        return self.up(x)


class SfczAttentionBlock(nn.Module):
    """sfczekalski/attention_unet's AttentionBlock: W_gate, W_x, psi, relu."""

    def __init__(self, F_g, F_l, n_coefficients):
        super().__init__()
        self.W_gate = nn.Sequential(
            nn.Conv2d(F_g, n_coefficients, 1, 1, 0, bias=True), nn.BatchNorm2d(n_coefficients)
        )
        self.W_x = nn.Sequential(
            nn.Conv2d(F_l, n_coefficients, 1, 1, 0, bias=True), nn.BatchNorm2d(n_coefficients)
        )
        self.psi = nn.Sequential(
            nn.Conv2d(n_coefficients, 1, 1, 1, 0, bias=True), nn.BatchNorm2d(1), nn.Sigmoid()
        )
        self.relu = nn.ReLU(inplace=True)

    def forward(self, gate, skip_connection):
        psi = self.psi(self.relu(self.W_gate(gate) + self.W_x(skip_connection)))
        return skip_connection * psi


class SfczAttentionUNet(nn.Module):
    """sfczekalski/attention_unet's AttentionUNet (three levels): MaxPool, Conv1..3,
    Up3/Att3/UpConv3, Up2/Att2/UpConv2, `Conv` the 1x1 head."""

    def __init__(self, img_ch=3, output_ch=2):
        super().__init__()
        self.MaxPool = nn.MaxPool2d(2, 2)
        self.Conv1, self.Conv2, self.Conv3 = (
            SfczConvBlock(img_ch, 4),
            SfczConvBlock(4, 8),
            SfczConvBlock(8, 16),
        )
        self.Up3, self.Att3, self.UpConv3 = (
            SfczUpConv(16, 8),
            SfczAttentionBlock(8, 8, 4),
            SfczConvBlock(16, 8),
        )
        self.Up2, self.Att2, self.UpConv2 = (
            SfczUpConv(8, 4),
            SfczAttentionBlock(4, 4, 2),
            SfczConvBlock(8, 4),
        )
        self.Conv = nn.Conv2d(4, output_ch, 1)

    def forward(self, x):
        e1 = self.Conv1(x)
        e2 = self.Conv2(self.MaxPool(e1))
        e3 = self.Conv3(self.MaxPool(e2))
        d3 = self.Up3(e3)
        d3 = self.UpConv3(torch.cat((self.Att3(gate=d3, skip_connection=e2), d3), dim=1))
        d2 = self.Up2(d3)
        d2 = self.UpConv2(torch.cat((self.Att2(gate=d2, skip_connection=e1), d2), dim=1))
        return self.Conv(d2)


class PlainGate(nn.Module):
    """A gate of plain 1x1 convs named `Wg`, `Ws`, `psi` (no norms): sigmoid and ReLU inline."""

    def __init__(self, f, f_int):
        super().__init__()
        self.Wg = nn.Conv2d(f, f_int, 1)
        self.Ws = nn.Conv2d(f, f_int, 1)
        self.psi = nn.Conv2d(f_int, 1, 1)

    def forward(self, g, s):
        return s * torch.sigmoid(self.psi(F.relu(self.Wg(g) + self.Ws(s))))


class TransposedGatedUNet(nn.Module):
    """Transposed-conv upsamplers (`up2`, `up1`), gates (`att2`, `att1`) and decoder DoubleConvs
    (`dec2`, `dec1`) beside `enc1..enc3` and an `out` 1x1 head; a functional max-pool."""

    def __init__(self):
        super().__init__()
        self.enc1, self.enc2, self.enc3 = (
            SfczConvBlock(1, 4),
            SfczConvBlock(4, 8),
            SfczConvBlock(8, 16),
        )
        self.up2, self.att2, self.dec2 = (
            nn.ConvTranspose2d(16, 8, 2, stride=2),
            PlainGate(8, 4),
            SfczConvBlock(16, 8),
        )
        self.up1, self.att1, self.dec1 = (
            nn.ConvTranspose2d(8, 4, 2, stride=2),
            PlainGate(4, 2),
            SfczConvBlock(8, 4),
        )
        self.out = nn.Conv2d(4, 3, 1)

    def forward(self, x):
        e1 = self.enc1(x)
        e2 = self.enc2(F.max_pool2d(e1, 2))
        e3 = self.enc3(F.max_pool2d(e2, 2))
        d = self.up2(e3)
        d = self.dec2(torch.cat([self.att2(d, e2), d], 1))
        d = self.up1(d)
        d = self.dec1(torch.cat([self.att1(d, e1), d], 1))
        return self.out(d)


LAYOUTS.update(
    {
        "sfcz_attention_unet": (SfczAttentionUNet, (2, 3, 32, 32)),
        "transposed_gated_unet": (TransposedGatedUNet, (2, 1, 16, 16)),
    }
)


EXACT = set(LAYOUTS) - {"persson_patchgan"}


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_layout_exact_from_keys_or_flagged(name, tmp_path):
    make, shape = LAYOUTS[name]
    reference, x = reference_and_input(make, shape)
    model, source = generate(reference, tmp_path, "--quiet")
    found, diff = verdict(reference, (x,), model, source)
    assert found != "WRONG", f"differs by {diff:.3g} and nothing says so"
    assert found == ("exact" if name in EXACT else "flagged"), f"{found}: {diff:.3g}"
    assert "Forward trust: guessed" in source  # conventions, never proof


def test_dcgan_critic_keeps_its_collapsing_last_conv(tmp_path):
    """A bias-free one-channel last conv (pytorch/examples' DCGAN) keeps DCGAN's geometry: only
    a biased one reads as PatchGAN's."""
    from tests.test_generative_gan_vae_14 import DcganDiscriminator

    reference, x = reference_and_input(DcganDiscriminator, (2, 3, 32, 32))
    model, source = generate(reference, tmp_path, "--quiet")
    assert source.count("kernel_size=4, stride=2, padding=1") == 3
    assert "nn.LeakyReLU(0.2)" in source and "stride=1, padding=1" not in source
