"""Re-parameterisable blocks whose kxk branches sit in a list (blocks/branch_sum.py's listed
branches; analyze/strides.py's branch_block; analyze/joins.py's lone list of paths), as
repositories other than zoo 17's ml-mobileone write them. The file is exact or says where it is
not; every conv keeps the reference's groups.

- `timm_mobileone_dw`: timm's MobileOneBlock with group_size 1 (`conv_kxk` list of depthwise
  ConvNormAct, a depthwise `conv_scale`, an `identity` BN), a strided first block without it;
- `dense_overparam_stage`: the same layout dense (group_size 0), K = 3, in a numbered stage whose
  first block widens (its widths cannot chain: side by side);
- `pointwise_branch_list`: another nesting: blocks of a list of 1x1 conv-norm branches and
  nothing else (ml-mobileone's pointwise blocks, written as a plain `branches` ModuleList), one
  widening, then one keeping the width beside an identity BN; the next block's width proves the
  sum.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn

from tests.test_sibling_groups import ConvNormAct, TimmMobileOneBlock, TimmMobileOneDW
from tests.zoo_verdicts import assert_convs_keep_groups, randomised_verdict

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


def DenseMobileOneBlock(c_in, c_out, stride=1) -> nn.Module:  # timm's, group_size=0
    return TimmMobileOneBlock(c_in, 3, stride, branches=3, c_out=c_out, depthwise=False)


class DenseOverparamStage(nn.Module):
    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.stem = DenseMobileOneBlock(3, 8, 2)
        self.stages = nn.Sequential(
            nn.Sequential(DenseMobileOneBlock(8, 16, 2), DenseMobileOneBlock(16, 16))
        )
        self.fc = nn.Linear(16, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.stages(self.stem(x)).mean((2, 3)))


class PointwiseBranches(nn.Module):  # 1x1 conv-norm branches over one input, summed
    def __init__(self, c_in, c_out, branches=3) -> None:
        super().__init__()
        self.skip = nn.BatchNorm2d(c_in) if c_in == c_out else None
        self.branches = nn.ModuleList(
            [
                nn.Sequential(nn.Conv2d(c_in, c_out, 1, bias=False), nn.BatchNorm2d(c_out))
                for _ in range(branches)
            ]
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.skip(x) if self.skip is not None else 0
        for branch in self.branches:
            out = out + branch(x)
        return torch.relu(out)


class PointwiseBranchList(nn.Module):
    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.conv_stem = nn.Conv2d(3, 8, 3, 2, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.blocks = nn.Sequential(PointwiseBranches(8, 12), PointwiseBranches(12, 12))
        self.classifier = nn.Linear(12, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.blocks(torch.relu(self.bn1(self.conv_stem(x))))
        return self.classifier(x.mean((2, 3)))


LAYOUTS = {
    "timm_mobileone_dw": TimmMobileOneDW,
    "dense_overparam_stage": DenseOverparamStage,
    "pointwise_branch_list": PointwiseBranchList,
}


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_listed_branches_are_summed(name, tmp_path, capsys):
    reference, model, _, found, diff = randomised_verdict(
        LAYOUTS[name], (2, 3, 16, 16), tmp_path, capsys
    )
    assert assert_convs_keep_groups(reference, model) > 0
    assert found == "exact", f"{name}: {found} by {diff}"
