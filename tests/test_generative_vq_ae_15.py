"""VQ-VAEs and conv autoencoders in second layouts (issue 16, session 15): the mechanisms that made
zoo rows exact (the VQ-VAE residual layer and stack, the top read from widths, 4x4 convs mirrored
by transposed ones, encoder strides mirroring the decoder's upsamplers, an innermost collapsing
pair), checked on models written the way other repositories write them. Exact, or flagged; never
silently wrong.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from tests.generative_zoo_check import generate, keys_only, verdict
from tests.redraw import reference_and_input

pytestmark = pytest.mark.filterwarnings(
    "ignore::DeprecationWarning", "ignore::UserWarning", "ignore::FutureWarning"
)


# --------------------------------------------- MishaLaskin/vqvae (models/*.py), other names, nesting


class LaskinResidualLayer(nn.Module):
    def __init__(self, in_dim: int, h_dim: int, res_h_dim: int) -> None:
        super().__init__()
        self.res_block = nn.Sequential(
            nn.ReLU(),  # (the repository's ReLU(True) activates the input in place: see below)
            nn.Conv2d(in_dim, res_h_dim, 3, 1, 1, bias=False),
            nn.ReLU(),
            nn.Conv2d(res_h_dim, h_dim, 1, 1, bias=False),
        )

    def forward(self, x):
        return x + self.res_block(x)


class LaskinResidualStack(nn.Module):
    def __init__(self, in_dim: int, h_dim: int, res_h_dim: int, n_res_layers: int) -> None:
        super().__init__()
        self.n_res_layers = n_res_layers
        self.stack = nn.ModuleList(
            [LaskinResidualLayer(in_dim, h_dim, res_h_dim) for _ in range(n_res_layers)]
        )

    def forward(self, x):
        for layer in self.stack:
            x = layer(x)
        return F.relu(x)


class LaskinEncoder(nn.Module):
    def __init__(self, in_dim: int, h_dim: int, n_res_layers: int, res_h_dim: int) -> None:
        super().__init__()
        self.conv_stack = nn.Sequential(
            nn.Conv2d(in_dim, h_dim // 2, 4, 2, 1),
            nn.ReLU(),
            nn.Conv2d(h_dim // 2, h_dim, 4, 2, 1),
            nn.ReLU(),
            nn.Conv2d(h_dim, h_dim, 3, 1, 1),
            LaskinResidualStack(h_dim, h_dim, res_h_dim, n_res_layers),
        )

    def forward(self, x):
        return self.conv_stack(x)


class LaskinDecoder(nn.Module):
    def __init__(self, in_dim: int, h_dim: int, n_res_layers: int, res_h_dim: int) -> None:
        super().__init__()
        self.inverse_conv_stack = nn.Sequential(
            nn.Conv2d(in_dim, h_dim, 3, 1, 1),  # (the repository: a 3x3 transposed conv, s1 p1)
            LaskinResidualStack(h_dim, h_dim, res_h_dim, n_res_layers),
            nn.ConvTranspose2d(h_dim, h_dim // 2, 4, 2, 1),
            nn.ReLU(),
            nn.ConvTranspose2d(h_dim // 2, 3, 4, 2, 1),
        )

    def forward(self, x):
        return self.inverse_conv_stack(x)


class LaskinQuantizer(nn.Module):
    def __init__(self, n_e: int, e_dim: int) -> None:
        super().__init__()
        self.e_dim = e_dim
        self.embedding = nn.Embedding(n_e, e_dim)

    def forward(self, z):
        z = z.permute(0, 2, 3, 1).contiguous()
        flat = z.view(-1, self.e_dim)
        d = (
            torch.sum(flat**2, dim=1, keepdim=True)
            + torch.sum(self.embedding.weight**2, dim=1)
            - 2 * torch.matmul(flat, self.embedding.weight.t())
        )
        q = self.embedding(torch.argmin(d, dim=1)).view(z.shape)
        return q.permute(0, 3, 1, 2).contiguous()


class LaskinVQVAE(nn.Module):
    def __init__(self, h_dim=16, res_h_dim=4, n_res_layers=2, n_embeddings=12, embedding_dim=6):
        super().__init__()
        self.encoder = LaskinEncoder(3, h_dim, n_res_layers, res_h_dim)
        self.pre_quantization_conv = nn.Conv2d(h_dim, embedding_dim, 1, 1)
        self.vector_quantization = LaskinQuantizer(n_embeddings, embedding_dim)
        self.decoder = LaskinDecoder(embedding_dim, h_dim, n_res_layers, res_h_dim)

    def forward(self, x):
        z = self.pre_quantization_conv(self.encoder(x))
        return self.decoder(self.vector_quantization(z))


def test_laskin_vqvae_exact_from_keys(tmp_path):
    """The top's order from widths (encoder, its conv to the codebook's width, the quantizer,
    the decoder), the residual layers and their stack's closing ReLU, the 4x4 convs halving
    where transposed ones mirror them: exact from the keys, though every name differs."""
    found, diff, source = keys_only(LaskinVQVAE, (2, 3, 16, 16), tmp_path)
    assert found == "exact", diff
    assert "class PreActResidualLayer" in source and "F.relu" in source


# ------------------------------------------------------- a flat VAE with other names and no norms


class SmallVAE(nn.Module):
    """A tutorial VAE (no norms, named `enc`/`dec`, heads `fc_mu`/`fc_logvar`, `fc_decode`): the
    encoder's two convs halve where the decoder's two transposed convs double."""

    def __init__(self, latent: int = 5) -> None:
        super().__init__()
        self.enc = nn.Sequential(
            nn.Conv2d(1, 6, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv2d(6, 12, 3, stride=2, padding=1),
            nn.ReLU(),  # past the last key: the activation before the flatten
        )
        self.fc_mu = nn.Linear(12 * 3 * 3, latent)
        self.fc_logvar = nn.Linear(12 * 3 * 3, latent)
        self.fc_decode = nn.Linear(latent, 12 * 3 * 3)
        self.dec = nn.Sequential(
            nn.ConvTranspose2d(12, 6, 3, stride=2, padding=1, output_padding=1),
            nn.ReLU(),
            nn.ConvTranspose2d(6, 1, 3, stride=2, padding=1, output_padding=1),
        )

    def forward(self, x):
        mu = self.fc_mu(torch.flatten(self.enc(x), 1))
        return self.dec(self.fc_decode(mu).view(-1, 12, 3, 3))


def test_flat_vae_encoder_mirrors_decoder(tmp_path):
    found, diff, source = keys_only(SmallVAE, (2, 1, 12, 12), tmp_path)
    assert found == "exact", diff
    assert "torch.randn(2, 1, 12, 12)" in source  # the image the mean head reads, flattened


# ------------------------------------------- a conv autoencoder collapsing a 5x5 map to a 1x1 code


class CollapsingAutoencoder(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(3, 6, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv2d(6, 12, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv2d(12, 24, 5),
        )
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(24, 12, 5),
            nn.ReLU(),
            nn.ConvTranspose2d(12, 6, 3, stride=2, padding=1, output_padding=1),
            nn.ReLU(),
            nn.ConvTranspose2d(6, 3, 3, stride=2, padding=1, output_padding=1),
        )

    def forward(self, x):
        return self.decoder(self.encoder(x))


def test_conv_autoencoder_collapsing_pair(tmp_path):
    found, diff, source = keys_only(CollapsingAutoencoder, (2, 3, 20, 20), tmp_path)
    assert found == "exact", diff


class SquashedAutoencoder(CollapsingAutoencoder):
    def forward(self, x):
        return torch.sigmoid(super().forward(x))


def test_conv_autoencoder_squashing_is_flagged(tmp_path):
    """A Sigmoid after the decoder leaves no key: the file says the Sequentials are guessed."""
    found, _, _ = keys_only(SquashedAutoencoder, (2, 3, 20, 20), tmp_path)
    assert found == "flagged"


# ---------------------------------------------- transformers' JanusVQVAE (Chameleon's VQ layout)


def test_janus_vq_model_is_one_reading_and_exact_once_its_entries_are_pinned(tmp_path):
    """transformers' JanusVQVAE (a tiny config): the codebook autoencoder and the plain one both
    read its top (their tie was an internal error). Its decoder reads codebook rows scaled to unit
    length, which no key records: listed as a choice left at its default, and exact once pinned."""
    from transformers import JanusVQVAE, JanusVQVAEConfig

    config = JanusVQVAEConfig(
        embed_dim=4,
        num_embeddings=16,
        latent_channels=32,
        base_channels=32,
        channel_multiplier=[1, 1],
        num_res_blocks=1,
        num_patches=4,
        projection_dim=8,
        image_token_embed_dim=8,
    )
    torch.manual_seed(0)
    reference = JanusVQVAE(config).eval()
    x = torch.randn(1, 3, 8, 8)
    model, source = generate(reference, tmp_path, "--quiet")
    assert "codebook_entries" in source
    (tmp_path / "hints.toml").write_text(
        '["VectorQuantizer.embedding"]\ncodebook_entries = "unit_length"\n'
    )
    model, source = generate(
        reference, tmp_path, "--quiet", "--hints", str(tmp_path / "hints.toml")
    )
    with torch.no_grad():
        expected = reference(x)[0]
        torch.testing.assert_close(model(x), expected, atol=1e-5, rtol=1e-5)
