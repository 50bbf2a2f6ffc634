"""Grouped 1x1 convs (ShuffleNet v1's pointwise group convolutions, Zhang et al. 2018) as three
repositories write the unit beside pytorch-cifar's (tests/vision_zoo_15_models.py): jaxony's
ShuffleNet (`g_conv_1x1_compress` / `g_conv_1x1_expand` Sequentials around a named depthwise conv),
Megvii's ShuffleNet-Series v1 (`branch_main_1`, `branch_main_2` Sequentials, `branch_proj` pool)
and a flat numbered block (`conv1`..`conv3`, `bn1`..`bn3`, as pytorch-cifar's). A 1x1 weight
[out, in / groups, 1, 1] fits an ungrouped conv over in / groups channels too: the width that
feeds it says which. Every conv keeps the reference's groups; the file is exact or says where
it is not (the shuffle and the concat-or-add leave no keys).
"""

from __future__ import annotations

from collections import OrderedDict

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from codegen.patterns.blocks._vision_examples import _randomise_norms
from tests.zoo_verdicts import assert_convs_keep_groups, generate_from_state_dict, measured

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


def shuffle(x: torch.Tensor, groups: int) -> torch.Tensor:
    n, c, h, w = x.size()
    return x.view(n, groups, c // groups, h, w).transpose(1, 2).reshape(n, c, h, w)


class JaxonyUnit(nn.Module):  # jaxony/ShuffleNet model.py ShuffleUnit
    def __init__(self, c_in: int, c_out: int, groups: int, combine: str) -> None:
        super().__init__()
        self.groups, self.combine = groups, combine
        bottleneck = c_out // 4
        if combine == "concat":
            c_out -= c_in
        self.g_conv_1x1_compress = nn.Sequential(
            OrderedDict(
                conv1x1=nn.Conv2d(c_in, bottleneck, 1, groups=groups),
                batch_norm=nn.BatchNorm2d(bottleneck),
                relu=nn.ReLU(),
            )
        )
        stride = 2 if combine == "concat" else 1
        self.depthwise_conv3x3 = nn.Conv2d(
            bottleneck, bottleneck, 3, stride=stride, padding=1, groups=bottleneck
        )
        self.bn_after_depthwise = nn.BatchNorm2d(bottleneck)
        self.g_conv_1x1_expand = nn.Sequential(
            OrderedDict(
                conv1x1=nn.Conv2d(bottleneck, c_out, 1, groups=groups),
                batch_norm=nn.BatchNorm2d(c_out),
            )
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual = x
        if self.combine == "concat":
            residual = F.avg_pool2d(residual, kernel_size=3, stride=2, padding=1)
        out = shuffle(self.g_conv_1x1_compress(x), self.groups)
        out = self.bn_after_depthwise(self.depthwise_conv3x3(out))
        out = self.g_conv_1x1_expand(out)
        out = torch.cat((residual, out), 1) if self.combine == "concat" else residual + out
        return F.relu(out)


class MegviiV1Block(nn.Module):  # megvii-model/ShuffleNet-Series ShuffleNetV1/blocks.py
    def __init__(self, inp: int, oup: int, group: int, stride: int) -> None:
        super().__init__()
        self.stride, self.group = stride, group
        mid = oup // 4
        outputs = oup - inp if stride == 2 else oup
        self.branch_main_1 = nn.Sequential(
            nn.Conv2d(inp, mid, 1, 1, 0, groups=group, bias=False),
            nn.BatchNorm2d(mid),
            nn.ReLU(inplace=True),
            nn.Conv2d(mid, mid, 3, stride, 1, groups=mid, bias=False),
            nn.BatchNorm2d(mid),
        )
        self.branch_main_2 = nn.Sequential(
            nn.Conv2d(mid, outputs, 1, 1, 0, groups=group, bias=False),
            nn.BatchNorm2d(outputs),
        )
        if stride == 2:
            self.branch_proj = nn.AvgPool2d(kernel_size=3, stride=2, padding=1)

    def forward(self, old_x: torch.Tensor) -> torch.Tensor:
        x = self.branch_main_1(old_x)
        if self.group > 1:
            x = shuffle(x, self.group)
        x = self.branch_main_2(x)
        if self.stride == 1:
            return F.relu(x + old_x)
        return torch.cat((self.branch_proj(old_x), F.relu(x)), 1)


class FlatUnit(nn.Module):  # pytorch-cifar shufflenet.py Bottleneck's naming, stride 1
    def __init__(self, c: int, groups: int) -> None:
        super().__init__()
        mid = c // 4
        self.groups = groups
        self.conv1 = nn.Conv2d(c, mid, 1, groups=groups, bias=False)
        self.bn1 = nn.BatchNorm2d(mid)
        self.conv2 = nn.Conv2d(mid, mid, 3, padding=1, groups=mid, bias=False)
        self.bn2 = nn.BatchNorm2d(mid)
        self.conv3 = nn.Conv2d(mid, c, 1, groups=groups, bias=False)
        self.bn3 = nn.BatchNorm2d(c)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = shuffle(F.relu(self.bn1(self.conv1(x))), self.groups)
        out = F.relu(self.bn2(self.conv2(out)))
        return F.relu(self.bn3(self.conv3(out)) + x)


class Stem(nn.Module):
    """A conv stem, then units in a Sequential (`stage`), then a pooled linear head."""

    def __init__(self, c: int, units: list[nn.Module], width: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, c, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.stage = nn.Sequential(*units)
        self.fc = nn.Linear(width, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stage(F.relu(self.bn1(self.conv1(x))))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


LAYOUTS = {
    "jaxony_units": lambda: Stem(
        8, [JaxonyUnit(8, 16, 2, "concat"), JaxonyUnit(16, 16, 2, "add")], 16
    ),
    "megvii_v1_blocks": lambda: Stem(
        8, [MegviiV1Block(8, 16, 2, 2), MegviiV1Block(16, 16, 2, 1)], 16
    ),
    "flat_numbered": lambda: Stem(16, [FlatUnit(16, 2), FlatUnit(16, 2)], 16),
}


def _reference(name: str) -> nn.Module:
    torch.manual_seed(0)
    model = LAYOUTS[name]().eval()
    _randomise_norms(model)  # (a wrong use of a norm shows)
    return model


# Before (main at cec64cb): every grouped 1x1 conv of the three built ungrouped (Conv2d(4, 4, 1)
# for Conv2d(8, 4, 1, groups=2)), each row flagged. After: all groups kept; still flagged (the
# units' forwards guess or miss the shuffle and the concat-or-add, which no key shows).
@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_grouped_pointwise_convs_keep_their_groups(name, tmp_path, capsys):
    reference = _reference(name)
    model, source = generate_from_state_dict(reference, tmp_path, capsys, "--force")
    assert assert_convs_keep_groups(reference, model) > 0
    found, diff = measured(reference, model, source, (torch.randn(2, 3, 8, 8),))
    assert found != "WRONG", f"{name}: silently wrong by {diff}"
