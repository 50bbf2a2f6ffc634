"""A reference tiny autoencoder (encoder and decoder conv stacks of residual blocks, an 8-bit
latent), laid out as diffusers' AutoencoderTiny lays out its keys: the examples of
tiny_coder.py and families/tiny_autoencoder.py."""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F


class _Block(nn.Module):
    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(cin, cout, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(cout, cout, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(cout, cout, 3, padding=1),
        )
        self.skip = nn.Conv2d(cin, cout, 1, bias=False) if cin != cout else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.conv(x) + self.skip(x))


class _Encoder(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.layers = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1),
            _Block(8, 8),
            nn.Conv2d(8, 8, 3, padding=1, stride=2, bias=False),
            _Block(8, 8),
            _Block(8, 8),
            nn.Conv2d(8, 4, 3, padding=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x.add(1).div(2))


class _Decoder(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.layers = nn.Sequential(
            nn.Conv2d(4, 8, 3, padding=1),
            nn.ReLU(),
            _Block(8, 8),
            nn.Upsample(scale_factor=2, mode="nearest"),
            nn.Conv2d(8, 8, 3, padding=1, bias=False),
            _Block(8, 8),
            nn.Conv2d(8, 3, 3, padding=1),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.layers(torch.tanh(z / 3) * 3).mul(2).sub(1)


class TinyAutoencoder(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.encoder, self.decoder = _Encoder(), _Decoder()

    def forward(self, sample: torch.Tensor) -> torch.Tensor:
        z = self.encoder(sample)
        z = (z / 6 + 0.5).clamp(0, 1).mul(255).round().byte() / 255.0
        return self.decoder((z - 0.5) * 6)


def tiny_example():
    from codegen.patterns._kit import Example

    torch.manual_seed(5)
    return Example(TinyAutoencoder(), (torch.randn(2, 3, 16, 16),), {"act_fn": "relu"})
