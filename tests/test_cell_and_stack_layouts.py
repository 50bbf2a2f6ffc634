"""Second layouts of the mechanisms session 15 added for zoo 14's PNASNet, NiN and HarDNet rows,
written as other repositories write the same blocks (other names, other nesting): each is
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
    """A NAS cell written with its branches as named Sequentials (not classes): three separable
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
        self.shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, 1, bias=False), nn.BatchNorm2d(c_out))
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


class HarmonicNet(nn.Module):
    """A HarDNet as FC-HarDNet-style code writes it: `features` a Sequential (not a ModuleList) of
    stem units, harmonic blocks whose layers sit in a numbered `convs` list of Sequential
    (conv, bn, ReLU6) units, transitions and pools, and the classifier Sequential last."""

    def __init__(self) -> None:
        super().__init__()

        def unit(c_in: int, c_out: int, k: int = 3, stride: int = 1) -> nn.Sequential:
            return nn.Sequential(
                nn.Conv2d(c_in, c_out, k, stride, k // 2, bias=False),
                nn.BatchNorm2d(c_out),
                nn.ReLU6(inplace=True),
            )

        from codegen.patterns.blocks.harmonic_dense_block import harmonic_links

        class Block(nn.Module):
            def __init__(self, c_in: int, growth: list[int]) -> None:
                super().__init__()
                widths = [c_in] + growth
                self.links = [harmonic_links(n) for n in range(1, len(growth) + 1)]
                self.convs = nn.ModuleList(
                    unit(sum(widths[i] for i in link), g) for link, g in zip(self.links, growth)
                )

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                outs = [x]
                for link, conv in zip(self.links, self.convs):
                    outs.append(conv(torch.cat([outs[i] for i in link], 1)))
                n = len(outs) - 1
                return torch.cat([outs[i] for i in range(1, n + 1) if i % 2 or i == n], 1)

        self.features = nn.Sequential(
            unit(3, 8, stride=2),
            unit(8, 10),
            nn.MaxPool2d(3, stride=2, padding=1),
            Block(10, [4, 6, 4, 8]),  # gives 4 + 4 + 8
            unit(16, 12, 1),
            nn.MaxPool2d(2, stride=2),
            Block(12, [6, 10, 6, 12]),  # gives 6 + 6 + 12
            unit(24, 20, 1),
            nn.Sequential(
                nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.Dropout(0.1), nn.Linear(20, 4)
            ),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)


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
    [(MlpConvNiN, (2, 3, 96, 96)), (MultiplierNet, (2, 3, 16, 16)), (HarmonicNet, (2, 3, 32, 32))],
    ids=["nin_in_features", "depth_multiplier_cell", "hardnet_features"],
)
def test_second_layouts_exact_from_the_keys(build, shape, tmp_path, capsys):
    torch.manual_seed(0)
    reference = _randomised(build())
    model, source = generate_from_state_dict(reference, tmp_path, capsys)
    assert_convs_keep_groups(reference, model)
    assert verdict(reference, model, source, torch.randn(*shape)) == "exact"
