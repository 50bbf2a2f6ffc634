"""Second layouts of the mechanisms session 15 added for zoo 14's PNASNet, BN-Inception and NiN
rows, written as other repositories write the same blocks (other names, other nesting): each is
generated from its keys alone and computes what the reference computes, keeping every conv's
groups. (The patterns' own examples cover the separable cell, the Fire, the harmonic dense block
and the flat Caffe port; these cover the analysis-level conventions.)
"""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from tests.zoo_verdicts import assert_convs_keep_groups, generate_from_state_dict, verdict

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


class MlpConvNiN(nn.Module):
    """A Network in Network as an ImageNet port writes it: one `features` Sequential of mlpconv
    Sequentials inside the model (not the model itself), three image channels, 8 classes."""

    def __init__(self) -> None:
        super().__init__()

        def mlpconv(c_in: int, c_out: int, k: int, stride: int, padding: int) -> nn.Sequential:
            return nn.Sequential(
                nn.Conv2d(c_in, c_out, k, stride, padding),
                nn.ReLU(inplace=True),
                nn.Conv2d(c_out, c_out, 1),
                nn.ReLU(inplace=True),
                nn.Conv2d(c_out, c_out, 1),
                nn.ReLU(inplace=True),
            )

        self.features = nn.Sequential(
            mlpconv(3, 16, 11, 4, 0),
            nn.MaxPool2d(3, stride=2),
            mlpconv(16, 24, 5, 1, 2),
            nn.MaxPool2d(3, stride=2),
            nn.Dropout(0.5),
            mlpconv(24, 8, 3, 1, 1),
            nn.AdaptiveAvgPool2d((1, 1)),
            nn.Flatten(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)


class DepthMultiplierCell(nn.Module):
    """A NAS cell written with named branch Sequentials in a ModuleDict-free class: two separable
    branches and a pool branch, the stride-2 form widening 6 -> 12 (a depth multiplier of 2)."""

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.stride = stride
        self.left = nn.Sequential(
            nn.Conv2d(c_in, c_out, 7, stride, 3, groups=c_in, bias=False), nn.BatchNorm2d(c_out)
        )
        self.right = nn.Sequential(
            nn.Conv2d(c_in, c_out, 3, stride, 1, groups=c_in, bias=False), nn.BatchNorm2d(c_out)
        )
        self.mid = nn.Sequential(
            nn.Conv2d(c_in, c_out, 5, stride, 2, groups=c_in, bias=False), nn.BatchNorm2d(c_out)
        )
        self.shortcut = nn.Sequential(
            nn.Conv2d(c_in, c_out, 1, bias=False), nn.BatchNorm2d(c_out)
        )
        self.project = nn.Sequential(
            nn.Conv2d(2 * c_out, c_out, 1, bias=False), nn.BatchNorm2d(c_out)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = self.shortcut(F.max_pool2d(x, 3, self.stride, 1))
        a = F.relu(self.left(x) + self.right(x))
        b = F.relu(pooled + self.mid(x))
        return F.relu(self.project(torch.cat([a, b], 1)))


class MultiplierNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 6, 3, padding=1, bias=False)
        self.norm = nn.BatchNorm2d(6)
        self.reduce = DepthMultiplierCell(6, 12, 2)
        self.classifier = nn.Linear(12, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.reduce(F.relu(self.norm(self.conv(x))))
        return self.classifier(x.mean((2, 3)))


def _randomised(model: nn.Module) -> nn.Module:
    torch.manual_seed(0)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.normal_(0, 0.5)
                m.running_var.uniform_(0.5, 2.0)
    return model.eval()


@pytest.mark.parametrize(
    "build, shape",
    [(MlpConvNiN, (2, 3, 96, 96)), (MultiplierNet, (2, 3, 16, 16))],
    ids=["nin_in_features", "depth_multiplier_cell"],
)
def test_second_layouts_exact_from_the_keys(build, shape, tmp_path, capsys):
    torch.manual_seed(0)
    reference = _randomised(build())
    model, source = generate_from_state_dict(reference, tmp_path, capsys)
    assert_convs_keep_groups(reference, model)
    assert verdict(reference, model, source, torch.randn(*shape)) == "exact"
