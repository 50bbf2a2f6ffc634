"""A norm that opens a model and normalises its raw input: a tabular MLP's BatchNorm1d before its
first Linear, a GroupNorm before a conv net's first conv, a BatchNorm2d standing in for an image
mean and std, ST-GCN-style `data_bn` before a 1-d conv. No member feeds the norm, so the layer
after it in the chain is the one it feeds: its type's dimensionality, and the inputs
`example_inputs()` draws, follow that layer (a BatchNorm2d before a Linear, with a global pool
inserted, or a [batch, 16, C] input to a GroupNorm, were what the generated file said before)."""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn

from tests.generative_zoo_check import generate
from tests.zoo_verdicts import layout_reference


class TabularMLP(nn.Module):  # a Kaggle-style tabular net: normalise the raw features first
    def __init__(self) -> None:
        super().__init__()
        self.input_bn = nn.BatchNorm1d(10)
        self.fc1 = nn.Linear(10, 24)
        self.fc2 = nn.Linear(24, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(torch.relu(self.fc1(self.input_bn(x))))


class NormFirstConvNet(nn.Module):  # a GroupNorm over the input channels, then convs
    def __init__(self) -> None:
        super().__init__()
        self.norm_in = nn.GroupNorm(8, 8)
        self.conv_a = nn.Conv2d(8, 16, 3, padding=1)
        self.conv_b = nn.Conv2d(16, 2, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv_b(torch.relu(self.conv_a(self.norm_in(x))))


class DataNormClassifier(nn.Module):  # a learned input normalisation instead of mean and std
    def __init__(self) -> None:
        super().__init__()
        self.data_bn = nn.BatchNorm2d(3)
        self.features = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU())
        self.fc = nn.Linear(8, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.features(self.data_bn(x)).mean((2, 3)))


class SignalNet(nn.Module):  # a 1-d conv net over sensor channels, ST-GCN's `data_bn` first
    def __init__(self) -> None:
        super().__init__()
        self.data_bn = nn.BatchNorm1d(6)
        self.temporal = nn.Conv1d(6, 12, 5, padding=2)
        self.head = nn.Conv1d(12, 4, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(torch.relu(self.temporal(self.data_bn(x))))


LAYOUTS = {  # the layout, its entry norm, and the input shape example_inputs() should draw
    "tabular_mlp": (TabularMLP, "input_bn", (2, 10)),
    "norm_first_conv": (NormFirstConvNet, "norm_in", (2, 8, 32, 32)),
    "data_norm_classifier": (DataNormClassifier, "data_bn", (2, 3, 32, 32)),
    "signal_net": (SignalNet, "data_bn", (2, 6, 32)),
}


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_an_entry_norm_takes_what_the_next_layer_takes(name, tmp_path):
    make, norm, shape = LAYOUTS[name]
    reference = layout_reference(make)
    model, _ = generate(reference, tmp_path, "--quiet")
    (x,) = model.example_inputs()
    assert tuple(x.shape) == shape
    with torch.no_grad():
        # The norm computes the reference's on that input (a GroupNorm with one group per
        # channel may be written as the InstanceNorm2d it equals), and the model runs on it.
        ours, theirs = getattr(model, norm), getattr(reference, norm)
        assert torch.allclose(ours(x), theirs(x), atol=1e-5)
        assert model(x).shape == reference(x).shape
