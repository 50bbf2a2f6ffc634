"""GANs and VAEs in second layouts (issue 16, session 14): the mechanisms that made zoo rows exact
from the keys (DCGAN's latent as a 1x1 map and its tanh, WGAN-GP's projection viewed as a map,
1Konny's Beta-VAE: a view slot, a stack of 4x4 convs, the moments split in two), checked on
models written the way other repositories write them. Exact, or flagged; never silently wrong.
"""

from __future__ import annotations

import pytest
import torch.nn as nn

from tests.generative_zoo_check import generate, keys_only, recorded, verdict
from tests.redraw import reference_and_input

pytestmark = pytest.mark.filterwarnings(
    "ignore::DeprecationWarning", "ignore::UserWarning", "ignore::FutureWarning"
)


def _calibrated(make, shape, tmp_path) -> tuple[str, float, str]:
    reference, x = reference_and_input(make, shape)
    args = recorded(reference, (x,), tmp_path / "data.pt") + ["--quiet", "--budget", "60"]
    model, source = generate(reference, tmp_path, *args)
    found, diff = verdict(reference, (x,), model, source)
    return found, diff, source


class PerssonGenerator(nn.Module):
    """Aladdin Persson's DCGAN generator (ML/Pytorch/GANs/2. DCGAN/model.py): each step a
    `_block` Sequential of [ConvTranspose2d, BatchNorm2d, ReLU], the latent [N, z, 1, 1]."""

    def __init__(self, z_dim: int = 6, channels_img: int = 3, features_g: int = 2) -> None:
        super().__init__()

        def block(c_in: int, c_out: int, k: int, stride: int, padding: int) -> nn.Module:
            return nn.Sequential(
                nn.ConvTranspose2d(c_in, c_out, k, stride, padding, bias=False),
                nn.BatchNorm2d(c_out),
                nn.ReLU(),
            )

        self.net = nn.Sequential(
            block(z_dim, features_g * 16, 4, 1, 0),  # img: 4x4
            block(features_g * 16, features_g * 8, 4, 2, 1),  # img: 8x8
            block(features_g * 8, features_g * 4, 4, 2, 1),  # img: 16x16
            nn.ConvTranspose2d(features_g * 4, channels_img, 4, 2, 1),
            nn.Tanh(),
        )

    def forward(self, x):
        return self.net(x)


def test_dcgan_generator_of_blocks_exact_from_keys(tmp_path):
    """The model's first layer (`net.0.0`, through item 0 of each list) is a transposed conv: it
    reads the latent as a 1x1 map (stride 1, no padding); the image ends in tanh."""
    found, diff, source = keys_only(PerssonGenerator, (2, 6, 1, 1), tmp_path)
    assert found == "exact", f"max abs diff {diff:.3g}"
    assert "latent_as_map" in source and "torch.tanh(" in source


class ProjectedGenerator(nn.Module):
    """A WGAN-GP style generator under other names: a Linear and its BatchNorm1d (then a ReLU
    past the keys) viewed as a 4x4 map, upsampling Sequentials [ConvTranspose2d, BatchNorm2d,
    ReLU], a last transposed conv and tanh."""

    def __init__(self, latent: int = 5, c: int = 6) -> None:
        super().__init__()
        self.c = c
        self.fc = nn.Sequential(nn.Linear(latent, c * 16), nn.BatchNorm1d(c * 16), nn.ReLU())
        self.up1 = nn.Sequential(
            nn.ConvTranspose2d(c, c // 2, 4, 2, 1), nn.BatchNorm2d(c // 2), nn.ReLU()
        )
        self.to_image = nn.ConvTranspose2d(c // 2, 1, 4, 2, 1)

    def forward(self, z):
        h = self.fc(z).view(-1, self.c, 4, 4)
        return self.to_image(self.up1(h)).tanh()


def test_linear_and_batch_norm_viewed_as_a_map(tmp_path):
    found, diff, source = keys_only(ProjectedGenerator, (3, 5), tmp_path)
    assert found == "exact", f"max abs diff {diff:.3g}"
    assert "x.view(-1, 6, 4, 4)" in source


class UpBlock(nn.Module):
    """A residual up-block (SNGAN's ResBlockGenerator, session 22) under other names: one
    Sequential BN-ReLU-Upsample-conv-BN-ReLU-conv beside a keyless upsampling bypass, its convs
    also registered as plain attributes (`self.conv_a` is `self.path[3]`: two keys, one tensor)."""

    def __init__(self, c: int) -> None:
        super().__init__()
        self.conv_a = nn.Conv2d(c, c, 3, padding=1)
        self.conv_b = nn.Conv2d(c, c, 3, padding=1)
        self.path = nn.Sequential(
            nn.BatchNorm2d(c),
            nn.ReLU(),
            nn.Upsample(scale_factor=2),
            self.conv_a,
            nn.BatchNorm2d(c),
            nn.ReLU(),
            self.conv_b,
        )
        self.skip = nn.Upsample(scale_factor=2)

    def forward(self, x):
        return self.path(x) + self.skip(x)


class ResidualUpGenerator(nn.Module):
    """`fc` viewed as a 4x4 map, two up-blocks, BN-ReLU-conv and tanh; `to_rgb` is `body[4]`."""

    def __init__(self, z: int = 5, c: int = 6) -> None:
        super().__init__()
        self.c = c
        self.fc = nn.Linear(z, c * 16)
        self.to_rgb = nn.Conv2d(c, 3, 3, padding=1)
        self.body = nn.Sequential(
            UpBlock(c), UpBlock(c), nn.BatchNorm2d(c), nn.ReLU(), self.to_rgb, nn.Tanh()
        )

    def forward(self, z):
        return self.body(self.fc(z).view(-1, self.c, 4, 4))


def test_residual_up_blocks_with_layers_registered_twice(tmp_path):
    """The handles are the items they name (analyze/aliases.py), the projection is viewed as the
    map the blocks read, each block's keyless slot after its first activation doubles both
    paths (blocks/residual_layer.py's resample)."""
    found, diff, source = keys_only(ResidualUpGenerator, (3, 5), tmp_path)
    assert found == "exact", f"max abs diff {diff:.3g}"
    assert "self.conv_a = self.path[3]" in source and "self.to_rgb = self.body[4]" in source


class DcganDiscriminator(nn.Module):
    """pytorch/examples' DCGAN discriminator (dcgan/main.py netD, ndf 2): 4x4 convs halving the
    map, the last collapsing 4x4 to 1x1, LeakyReLU(0.2) between, a Sigmoid past the keys."""

    def __init__(self, nc: int = 3, ndf: int = 2) -> None:
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(nc, ndf, 4, 2, 1, bias=False),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ndf * 2),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ndf * 4),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 4, 1, 4, 1, 0, bias=False),
            nn.Sigmoid(),
        )

    def forward(self, x):
        return self.main(x)


def test_dcgan_discriminator_stack_geometry(tmp_path):
    """The stack's geometry is read from the keys (stride 2 and padding 1, the last conv stride 1
    unpadded); the LeakyReLU slope and the Sigmoid are choices that calibration settles."""
    found, _, source = keys_only(DcganDiscriminator, (2, 3, 32, 32), tmp_path)
    assert found == "flagged"
    assert source.count("kernel_size=4, stride=2, padding=1") == 3
    found, diff, source = _calibrated(DcganDiscriminator, (2, 3, 32, 32), tmp_path)
    assert found == "exact", f"max abs diff {diff:.3g}"


class ConvMomentsVAE(nn.Module):
    """A Beta-VAE variant whose encoder ends in a 1x1 conv giving the mean and log-variance as
    channels (no Linear), and whose decoder starts with a 1x1 conv: `encoder`, `decoder`
    Sequentials, the encoder's output twice the decoder's input."""

    def __init__(self, z: int = 3) -> None:
        super().__init__()
        self.z = z
        self.encoder = nn.Sequential(
            nn.Conv2d(1, 4, 4, 2, 1),
            nn.ReLU(True),
            nn.Conv2d(4, 8, 4, 2, 1),
            nn.ReLU(True),
            nn.Conv2d(8, 8, 4, 1),
            nn.ReLU(True),
            nn.Conv2d(8, 2 * z, 1),
        )
        self.decoder = nn.Sequential(
            nn.Conv2d(z, 8, 1),
            nn.ReLU(True),
            nn.ConvTranspose2d(8, 8, 4),
            nn.ReLU(True),
            nn.ConvTranspose2d(8, 4, 4, 2, 1),
            nn.ReLU(True),
            nn.ConvTranspose2d(4, 1, 4, 2, 1),
        )

    def forward(self, x):
        return self.decoder(self.encoder(x)[:, : self.z])


def test_vae_moments_as_channels(tmp_path):
    """The mean is the first half of what the encoder gives (chunked along dim 1); the class
    says guessed (the Sequentials' insides are conventions)."""
    found, diff, source = keys_only(ConvMomentsVAE, (2, 1, 16, 16), tmp_path)
    assert "chunk(2, dim=1)[0]" in source and "Forward trust: guessed" in source
    assert found in ("exact", "flagged")
    found, diff, source = _calibrated(ConvMomentsVAE, (2, 1, 16, 16), tmp_path)
    assert found == "exact", f"max abs diff {diff:.3g}"


class ViewedDecoder(nn.Module):
    """A decoder alone, as a Sequential with a view written as nn.Unflatten (no tensors): Linear,
    Unflatten to 8 x 2 x 2, ReLU, two upsampling transposed convs."""

    def __init__(self) -> None:
        super().__init__()
        self.decoder = nn.Sequential(
            nn.Linear(4, 32),
            nn.Unflatten(1, (8, 2, 2)),
            nn.ReLU(),
            nn.ConvTranspose2d(8, 4, 4, 2, 1),
            nn.ReLU(),
            nn.ConvTranspose2d(4, 1, 4, 2, 1),
        )

    def forward(self, z):
        return self.decoder(z)


def test_view_slot_between_linear_and_conv(tmp_path):
    found, diff, source = keys_only(ViewedDecoder, (2, 4), tmp_path)
    assert "nn.Unflatten(1, (8, 2, 2))" in source
    assert found in ("exact", "flagged")


class MlpVae(nn.Module):
    """A VAE of Linear layers under other names than pytorch/examples' (`fc_mu`, `fc_logvar`; a
    tutorial's): the mean decoded as it is, ReLU between layers, a sigmoid on the pixels."""

    def __init__(self, pixels: int = 12, hidden: int = 8, latent: int = 3) -> None:
        super().__init__()
        self.enc = nn.Linear(pixels, hidden)
        self.fc_mu = nn.Linear(hidden, latent)
        self.fc_logvar = nn.Linear(hidden, latent)
        self.dec_hidden = nn.Linear(latent, hidden)
        self.dec_out = nn.Linear(hidden, pixels)

    def forward(self, x):
        mu = self.fc_mu(self.enc(x).relu())
        return self.dec_out(self.dec_hidden(mu).relu()).sigmoid()


def test_linear_vae_decodes_the_mean_through_a_sigmoid(tmp_path):
    found, diff, source = keys_only(MlpVae, (2, 12), tmp_path)
    assert found == "exact", f"max abs diff {diff:.3g}"
    assert "torch.sigmoid(" in source


def test_speecht5_hifigan_from_the_library_exact_from_keys(tmp_path):
    """transformers' SpeechT5HifiGan (its own names: `upsampler`; a spectrogram [batch, frames,
    mels] normalised by its `mean` and `scale` buffers; the waveform squeezed): the HiFi-GAN
    patterns read it, dilations and strides by the family's convention, compared with the
    library's own forward."""
    import torch
    from transformers import SpeechT5HifiGan, SpeechT5HifiGanConfig

    config = SpeechT5HifiGanConfig(
        model_in_dim=6,
        upsample_initial_channel=8,
        upsample_rates=[2, 3],
        upsample_kernel_sizes=[4, 6],
        resblock_kernel_sizes=[3, 5],
        resblock_dilation_sizes=[[1, 3, 5], [1, 3, 5]],
    )
    torch.manual_seed(0)
    reference = SpeechT5HifiGan(config).eval()
    with torch.no_grad():
        reference.mean.normal_()
        reference.scale.uniform_(0.5, 2.0)
    model, source = generate(reference, tmp_path, "--quiet")
    found, diff = verdict(reference, (torch.randn(2, 7, 6),), model, source)
    assert found == "exact", f"max abs diff {diff:.3g}"
    assert "dilation=5" in source and "x.squeeze(1)" in source
