"""Autoencoders as other repositories write them (issue 16, session 17): the readings behind zoo 16's
MishaLaskin VQ-VAE and sksq96 CNN VAE rows, checked on layouts with no name in common.

- A transposed conv takes the stride of the encoder conv it mirrors (kernels paired in reverse
  order), where the encoder's kernels alone tell its resampling convs (4x4, stride 2) from its
  size-keeping ones (3x3 or 5x5, stride 1): MishaLaskin's decoder opens with a 3x3 transposed
  conv at stride 1 (_mirror_strides._size_keeping_mirrors). Layouts: a plain conv autoencoder
  (two Sequentials), a flat VAE whose size-keeping pair is 5x5, a VQ-VAE-2-style model whose
  encoder and decoder are classes wrapping one Sequential.

Each is generated from its state dict alone: exact, or its file says which class is guessed.
Measured before the change (main at 9f2a8a4): see each test's docstring.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from tests.generative_zoo_check import flagged_then_exact, keys_only
from tests.redraw import reference_and_input

pytestmark = pytest.mark.filterwarnings(
    "ignore::DeprecationWarning", "ignore::UserWarning", "ignore::FutureWarning"
)


# ------------------------------------------- a transposed conv mirroring a size-keeping conv


class KeepingConvAutoencoder(nn.Module):
    """A tutorial conv autoencoder written with transposed convs only on the way back: two 4x4
    stride-2 convs and a 3x3 conv keeping the size, mirrored in reverse."""

    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(1, 8, 4, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv2d(8, 16, 4, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv2d(16, 24, 3, stride=1, padding=1),
        )
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(24, 16, 3, stride=1, padding=1),
            nn.ReLU(),
            nn.ConvTranspose2d(16, 8, 4, stride=2, padding=1),
            nn.ReLU(),
            nn.ConvTranspose2d(8, 1, 4, stride=2, padding=1),
        )

    def forward(self, x):
        return self.decoder(self.encoder(x))


class KeepingFlatVAE(nn.Module):
    """A flat VAE whose size-keeping pair is 5x5 (padding 2) between 4x4 stride-2 ones, the
    decoder's 5x5 one square (12 -> 12): a conv or a transposed conv, which no weight tells."""

    def __init__(self, latent: int = 6) -> None:
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(3, 8, 4, 2, 1),
            nn.ReLU(),
            nn.Conv2d(8, 12, 4, 2, 1),
            nn.ReLU(),
            nn.Conv2d(12, 12, 5, 1, 2),
            nn.ReLU(),
        )
        self.fc_mu = nn.Linear(12 * 4 * 4, latent)
        self.fc_var = nn.Linear(12 * 4 * 4, latent)
        self.decoder_input = nn.Linear(latent, 12 * 4 * 4)
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(12, 12, 5, 1, 2),
            nn.ReLU(),
            nn.ConvTranspose2d(12, 8, 4, 2, 1),
            nn.ReLU(),
            nn.ConvTranspose2d(8, 3, 4, 2, 1),
        )

    def forward(self, x):
        mu = self.fc_mu(torch.flatten(self.encoder(x), 1))
        return self.decoder(self.decoder_input(mu).view(-1, 12, 4, 4))


class Vq2ResBlock(nn.Module):  # rosinality/vq-vae-2-pytorch vqvae.py ResBlock
    def __init__(self, in_channel: int, channel: int) -> None:
        super().__init__()
        self.conv = nn.Sequential(
            nn.ReLU(),
            nn.Conv2d(in_channel, channel, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(channel, in_channel, 1),
        )

    def forward(self, input):
        return self.conv(input) + input


class Vq2Encoder(nn.Module):  # vqvae.py Encoder(stride=2), one residual block
    def __init__(self, in_channel: int, channel: int, n_res_channel: int) -> None:
        super().__init__()
        self.blocks = nn.Sequential(
            nn.Conv2d(in_channel, channel // 2, 4, stride=2, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(channel // 2, channel, 3, padding=1),
            Vq2ResBlock(channel, n_res_channel),
            nn.ReLU(inplace=True),
        )

    def forward(self, input):
        return self.blocks(input)


class Vq2Decoder(nn.Module):  # vqvae.py Decoder(stride=2), its 3x3 opening written transposed
    def __init__(self, in_channel: int, out_channel: int, channel: int, n_res: int) -> None:
        super().__init__()
        self.blocks = nn.Sequential(
            nn.ConvTranspose2d(in_channel, channel, 3, padding=1),
            Vq2ResBlock(channel, n_res),
            nn.ReLU(inplace=True),
            nn.ConvTranspose2d(channel, out_channel, 4, stride=2, padding=1),
        )

    def forward(self, input):
        return self.blocks(input)


class Vq2Quantize(nn.Module):  # vqvae.py Quantize, its codebook an Embedding here
    def __init__(self, dim: int, n_embed: int) -> None:
        super().__init__()
        self.embed = nn.Embedding(n_embed, dim)

    def forward(self, z):
        flat = z.permute(0, 2, 3, 1)
        codes = torch.cdist(flat.reshape(-1, flat.shape[-1]), self.embed.weight).argmin(1)
        return self.embed(codes).view(flat.shape).permute(0, 3, 1, 2)


class Vq2Single(nn.Module):
    """One level of rosinality's VQ-VAE-2: enc_b, quantize_conv_b, quantize_b, dec."""

    def __init__(self, channel: int = 12, n_res: int = 4, embed_dim: int = 6) -> None:
        super().__init__()
        self.enc_b = Vq2Encoder(3, channel, n_res)
        self.quantize_conv_b = nn.Conv2d(channel, embed_dim, 1)
        self.quantize_b = Vq2Quantize(embed_dim, 16)
        self.dec = Vq2Decoder(embed_dim, 3, channel, n_res)

    def forward(self, x):
        z = self.quantize_b(self.quantize_conv_b(self.enc_b(x)))
        return self.dec(z)


@pytest.mark.parametrize(
    "make, shape",
    [
        (KeepingConvAutoencoder, (2, 1, 16, 16)),
        (Vq2Single, (2, 3, 8, 8)),
    ],
    ids=["conv_autoencoder", "vq_vae_2_level"],
)
def test_transposed_conv_mirrors_a_size_keeping_conv(make, shape, tmp_path):
    """Before (main at 9f2a8a4): both flagged (the transposed conv read as upsampling, the
    encoder's odd conv made to halve too). After: exact from the keys."""
    found, diff, source = keys_only(make, shape, tmp_path)
    assert found == "exact", diff
    assert "an even one and an odd one" in " ".join(source.split())


def test_square_size_keeping_mirror_is_a_choice(tmp_path):
    """The decoder's square 5x5 layer may be a conv or a transposed conv (one weight shape for
    both): flagged from the keys, its encoder mirror kept at stride 1 either way, exact once the
    type is pinned (its geometry then read as size-keeping). Before (main at 9f2a8a4): flagged,
    and a hint did not make it exact (the encoder's 5x5 conv read as a third halving)."""
    reference, x = reference_and_input(KeepingFlatVAE, (2, 3, 16, 16))
    hint = '["decoder.0"]\nmodule_type = "nn.ConvTranspose2d"\n'
    flagged_then_exact(reference, (x,), tmp_path, hint)


# ------------------------------------- a flat VAE: heads read from shapes, sizes closing unpadded


class WorldModelsVAE(nn.Module):
    """ctallec/world-models models/vae.py (Ha & Schmidhuber's VAE: 32..256 channels, latent 32
    there) as Sequentials: unpadded 4x4 stride-2 convs, `fc_mu`/`fc_logsigma`, a Linear to a
    1x1 map, unpadded 5x5/6x6 stride-2 transposed convs, a sigmoid on the reconstruction."""

    def __init__(self, latent: int = 6) -> None:
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(3, 4, 4, stride=2),
            nn.ReLU(),
            nn.Conv2d(4, 8, 4, stride=2),
            nn.ReLU(),
            nn.Conv2d(8, 12, 4, stride=2),
            nn.ReLU(),
            nn.Conv2d(12, 16, 4, stride=2),
            nn.ReLU(),
        )
        self.fc_mu = nn.Linear(16 * 2 * 2, latent)
        self.fc_logsigma = nn.Linear(16 * 2 * 2, latent)
        self.fc = nn.Linear(latent, 40)
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(40, 12, 5, stride=2),
            nn.ReLU(),
            nn.ConvTranspose2d(12, 8, 5, stride=2),
            nn.ReLU(),
            nn.ConvTranspose2d(8, 4, 6, stride=2),
            nn.ReLU(),
            nn.ConvTranspose2d(4, 3, 6, stride=2),
        )

    def forward(self, x):
        mu = self.fc_mu(torch.flatten(self.encoder(x), 1))
        return torch.sigmoid(self.decoder(self.fc(mu).view(-1, 40, 1, 1)))


class NumberedHeadsVAE(nn.Module):
    """A tutorial conv VAE naming its heads by number (`fc1` the mean, `fc2` the log-variance,
    `fc3` back), padded 3x3 stride-2 convs mirrored by transposed ones, the decoder opening
    with an un-flatten module."""

    def __init__(self, latent: int = 5) -> None:
        super().__init__()
        self.enc = nn.Sequential(
            nn.Conv2d(1, 6, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv2d(6, 12, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.Flatten(),
        )
        self.fc1 = nn.Linear(12 * 3 * 3, latent)
        self.fc2 = nn.Linear(12 * 3 * 3, latent)
        self.fc3 = nn.Linear(latent, 12 * 3 * 3)
        self.dec = nn.Sequential(
            nn.Unflatten(1, (12, 3, 3)),
            nn.ConvTranspose2d(12, 6, 3, stride=2, padding=1, output_padding=1),
            nn.ReLU(),
            nn.ConvTranspose2d(6, 1, 3, stride=2, padding=1, output_padding=1),
        )

    def forward(self, x):
        return self.dec(self.fc3(self.fc1(self.enc(x))))


class LinearVAE(nn.Module):
    """pytorch/examples vae/main.py: fc1, fc21 (mean), fc22 (log-variance), fc3, fc4, sigmoid."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(49, 20)
        self.fc21 = nn.Linear(20, 4)
        self.fc22 = nn.Linear(20, 4)
        self.fc3 = nn.Linear(4, 20)
        self.fc4 = nn.Linear(20, 49)

    def forward(self, x):
        h = F.relu(self.fc1(x.view(-1, 49)))
        mu = self.fc21(h)
        return torch.sigmoid(self.fc4(F.relu(self.fc3(mu))))


def test_flat_vae_sizes_close_unpadded(tmp_path):
    """The Linear back gives a 1x1 map of 40 channels, the mean head reads 2x2 maps of 16: only
    unpadded convs and transposed convs close the round trip (64 -> 2, 1 -> 64). The sigmoid
    leaves no key: flagged, exact once it is pinned. Before (main at 9f2a8a4): flagged, and the
    hint left it so (padded geometry: the decoder drew a 16x16 image)."""
    reference, x = reference_and_input(WorldModelsVAE, (2, 3, 64, 64))
    hint = '["RecoveredModel.decoder"]\noutput_activation = "sigmoid"\n'
    flagged_then_exact(reference, (x,), tmp_path, hint)


def test_flat_vae_heads_read_from_shapes(tmp_path):
    """`fc1`/`fc2` name no mean: the two Linears of one shape, narrowing, are the heads, the first
    decoded (a choice); the decoder's opening slot passes the viewed map through. Before (main at
    9f2a8a4): flagged (the width chain decoded the mean, but read no geometry)."""
    found, diff, source = keys_only(NumberedHeadsVAE, (2, 1, 12, 12), tmp_path)
    assert found == "exact", diff
    assert "latent_mean" in source


def test_linear_vae_flagged_for_its_sigmoid(tmp_path):
    """The Linear-only VAE keeps the width chain's reading (heads by shape, the mean first):
    only its closing sigmoid, past the last key, is unread. Never silently wrong."""
    found, _, _ = keys_only(LinearVAE, (2, 49), tmp_path)
    assert found in ("exact", "flagged")


# ------------------------------------------------------- zoo 16's rows: only code-only steps left


@pytest.mark.parametrize(
    "name, hint",
    [
        # ReLU(True) opening each residual layer rectifies the input the layer adds back
        ("mishalaskin_vqvae", '["PreActResidualLayer.res_block"]\nresidual_reads = "activated"\n'),
        # the decoder's closing nn.Sigmoid(), past its last key
        ("sksq96_cnn_vae", '["RecoveredModel.decoder"]\noutput_activation = "sigmoid"\n'),
    ],
)
def test_zoo_16_rows_exact_once_their_code_only_step_is_pinned(name, hint, tmp_path):
    """Zoo 16's VQ-VAE and CNN VAE: flagged from the keys (an in-place ReLU, a sigmoid: no key
    shows them), exact once that one step is pinned, as `--calibrate` does. Before (main at
    9f2a8a4): the VQ-VAE stayed flagged with the pin (a 3x3 transposed conv read as upsampling);
    the VAE, read by the width chain (padded), had no such choice."""
    from tests import generative_zoo_16_models as zoo

    reference, inputs = zoo.build(name)
    flagged_then_exact(reference, inputs, tmp_path, hint)
