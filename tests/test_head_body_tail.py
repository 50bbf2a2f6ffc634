"""Restoration nets written after EDSR name their parts `head`, `body`, `tail`: the head is their
FIRST conv. Where the widths allow more than one order (a denoiser's tail gives back the image
width its head reads, so tail -> head -> body also chains), the names decide, and `head` beside
a `tail` is not a classifier's last layer. Three layouts with no other name in common: EDSR's
denoiser, RCAN's residual groups, and a 1-d speech enhancer."""

from __future__ import annotations

import re

import pytest
import torch
import torch.nn as nn

from tests.generative_zoo_check import generate
from tests.zoo_verdicts import layout_reference


class ResBlock(nn.Module):
    def __init__(self, c: int, conv=nn.Conv2d) -> None:
        super().__init__()
        self.body = nn.Sequential(conv(c, c, 3, padding=1), nn.ReLU(True), conv(c, c, 3, padding=1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class EDSRDenoiser(nn.Module):  # EDSR's layout at scale 1 (a denoiser): no upsampler in the tail
    def __init__(self) -> None:
        super().__init__()
        self.head = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1))
        self.body = nn.Sequential(ResBlock(16), ResBlock(16), nn.Conv2d(16, 16, 3, padding=1))
        self.tail = nn.Sequential(nn.Conv2d(16, 3, 3, padding=1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.head(x)
        return self.tail(h + self.body(h))


class ResidualGroup(nn.Module):
    def __init__(self, c: int) -> None:
        super().__init__()
        self.body = nn.Sequential(ResBlock(c), nn.Conv2d(c, c, 3, padding=1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class RCANLike(nn.Module):  # RCAN's residual groups (attention left out), a bare-conv head
    def __init__(self) -> None:
        super().__init__()
        self.head = nn.Conv2d(1, 12, 3, padding=1)
        self.body = nn.Sequential(ResidualGroup(12), ResidualGroup(12))
        self.tail = nn.Conv2d(12, 1, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.head(x)
        return self.tail(h + self.body(h))


class SpeechEnhancer(nn.Module):  # a 1-d waveform enhancer in the same naming
    def __init__(self) -> None:
        super().__init__()
        self.head = nn.Conv1d(2, 10, 5, padding=2)
        self.body = nn.Sequential(ResBlock(10, nn.Conv1d), ResBlock(10, nn.Conv1d))
        self.tail = nn.Conv1d(10, 2, 5, padding=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.head(x)
        return self.tail(h + self.body(h))


@pytest.mark.parametrize("make", [EDSRDenoiser, RCANLike, SpeechEnhancer], ids=lambda m: m.__name__)
def test_head_opens_and_tail_closes(make, tmp_path):
    reference = layout_reference(make)
    model, source = generate(reference, tmp_path, "--quiet")
    forward = source[source.rindex("class RecoveredModel") :]
    calls = re.findall(r"self\.(head|body|tail)\b", forward[forward.index("def forward") :])
    assert calls == ["head", "body", "tail"]
    (x,) = model.example_inputs()
    with torch.no_grad():
        assert model(x).shape == reference(x).shape
