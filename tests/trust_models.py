"""Ordinary models whose forward the checkpoint's keys do not settle: parameter-free steps (pooling,
an activation, a residual, a gate) that leave no tensors behind. The trust tests generate each one
and demand the file be exact against the original's outputs or say where it is not."""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn as nn
import torch.nn.functional as F


class PooledCNN(nn.Module):
    """Pooling by F.max_pool2d: nothing in the keys says the features shrink."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.fc1 = nn.Linear(32 * 8 * 8, 64)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc2(F.relu(self.fc1(torch.flatten(x, 1))))


class LSTMLanguageModel(nn.Module):
    """proj feeds decoder directly: no activation between two Linears."""

    def __init__(self) -> None:
        super().__init__()
        self.embedding = nn.Embedding(40, 16)
        self.lstm = nn.LSTM(16, 24, batch_first=True)
        self.proj = nn.Linear(24, 16)
        self.decoder = nn.Linear(16, 40)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        out, _ = self.lstm(self.embedding(tokens))
        return self.decoder(self.proj(out))


class SigmoidAutoencoder(nn.Module):
    """A final Sigmoid after the last layer: a trailing parameter-free step."""

    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(20, 8), nn.ReLU(), nn.Linear(8, 4), nn.ReLU())
        self.decoder = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 20), nn.Sigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))


class SqueezeExcite(nn.Module):
    """Pool, fc1, relu, fc2, sigmoid, multiply with the input: a gate the widths cannot show."""

    def __init__(self, channels: int = 16, reduced: int = 4) -> None:
        super().__init__()
        self.fc1 = nn.Linear(channels, reduced)
        self.fc2 = nn.Linear(reduced, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = torch.sigmoid(self.fc2(torch.relu(self.fc1(x.mean(dim=[2, 3])))))
        return x * w[:, :, None, None]


class SENet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 16, 3, padding=1)
        self.se = SqueezeExcite()
        self.head = nn.Linear(16, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.se(self.conv(x)).mean(dim=[2, 3]))


class SEPooledNet(nn.Module):
    """SENet with a 4x4 max-pool before a flat head: the head's width does not chain with the
    features, so the forward is missing and no calibration candidate runs."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 16, 3, padding=1)
        self.se = SqueezeExcite()
        self.head = nn.Linear(16 * 2 * 2, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(torch.flatten(F.max_pool2d(self.se(self.conv(x)), 4), 1))


class PreNormMLPBlock(nn.Module):
    """x + fc2(gelu(fc1(norm(x)))): the residual leaves no key."""

    def __init__(self, d: int = 16) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(d)
        self.fc1 = nn.Linear(d, 4 * d)
        self.fc2 = nn.Linear(4 * d, d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.fc2(F.gelu(self.fc1(self.norm(x))))


class TanhMLP(nn.Module):
    """tanh where the default guess is relu."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(10, 32)
        self.fc2 = nn.Linear(32, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(torch.tanh(self.fc1(x)))


class TwoTower(nn.Module):
    """Two views of the input, each through its own Linear, concatenated: no chain of widths."""

    def __init__(self) -> None:
        super().__init__()
        self.fc_a = nn.Linear(10, 8)
        self.fc_b = nn.Linear(6, 8)
        self.head = nn.Linear(16, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(torch.cat([self.fc_a(x), self.fc_b(x[:, :6])], dim=1))


EXAMPLES: dict[str, Callable[[], nn.Module]] = {
    "pooled_cnn": PooledCNN,
    "lstm_lm": LSTMLanguageModel,
    "sigmoid_autoencoder": SigmoidAutoencoder,
    "se_net": SENet,
    "se_pooled_net": SEPooledNet,
    "prenorm_mlp_block": PreNormMLPBlock,
    "tanh_mlp": TanhMLP,
    "two_tower": TwoTower,
}

INPUTS: dict[str, Callable[[], tuple[torch.Tensor, ...]]] = {
    "pooled_cnn": lambda: (torch.randn(8, 3, 32, 32),),
    "lstm_lm": lambda: (torch.randint(0, 40, (8, 6)),),
    "sigmoid_autoencoder": lambda: (torch.randn(8, 20),),
    "se_net": lambda: (torch.randn(8, 3, 8, 8),),
    "se_pooled_net": lambda: (torch.randn(8, 3, 8, 8),),
    "prenorm_mlp_block": lambda: (torch.randn(8, 5, 16),),
    "tanh_mlp": lambda: (torch.randn(8, 10),),
    "two_tower": lambda: (torch.randn(8, 10),),
}
