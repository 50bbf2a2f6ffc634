"""A body with a forward of its own beside a projection named as the shortcut (issue 16, zoo 18's
timm Xception41; blocks/projected_body.py). The reading: where an instance's body changes the
width, a shortcut taking the block's input width and giving the body's output width can read
neither the body's output nor feed the body: both read the input and are added. The chain read
them in turn (`shortcut(stack(x))`), which crashed or computed something else. An activation after
the sum leaves no key: a choice, and the block says guessed.

Three layouts with no name in common but the shortcut's: timm's aligned Xception entry flow (a
`stack` Sequential of separable conv-norm classes, a 1x1 ConvNormAct `shortcut`, nothing after
the sum), a ResNet-style bottleneck whose body is one class (`residual_function`) beside a bare
1x1 `downsample` with a ReLU after the sum, and, structurally distant, a 1-d QuartzNet-style block
(a body of time-channel separable 1-d units, a 1x1 Conv1d-BN1d `residual`, a ReLU after the sum)."""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn

from codegen.patterns.blocks.projected_body import projected_xception_block
from tests.zoo_verdicts import class_trust, generated_layout, measured

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


class XceptionEntry(nn.Module):
    """A strided stem conv, two aligned Xception modules (both widen, each projecting)."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1, bias=False), nn.BatchNorm2d(8))
        self.blocks = nn.Sequential(
            projected_xception_block(8, 12), projected_xception_block(12, 16)
        )
        self.head = nn.Linear(16, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.blocks(torch.relu(self.stem(x))).mean((2, 3)))


class BottleneckBody(nn.Module):
    def __init__(self, c_in: int, mid: int, c_out: int) -> None:
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(c_in, mid, 1, bias=False), nn.BatchNorm2d(mid)
        self.conv2, self.bn2 = nn.Conv2d(mid, mid, 3, 1, 1, bias=False), nn.BatchNorm2d(mid)
        self.conv3, self.bn3 = nn.Conv2d(mid, c_out, 1, bias=False), nn.BatchNorm2d(c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.bn1(self.conv1(x)))
        x = torch.relu(self.bn2(self.conv2(x)))
        return self.bn3(self.conv3(x))


class BodyClassBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.residual_function = BottleneckBody(c_in, c_out // 2, c_out)
        self.downsample = nn.Conv2d(c_in, c_out, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.residual_function(x) + self.downsample(x))


class BodyClassNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, 1, 1)
        self.layer = nn.Sequential(BodyClassBlock(8, 12), BodyClassBlock(12, 20))
        self.fc = nn.Linear(20, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.layer(torch.relu(self.conv1(x))).mean((2, 3)))


class TimeChannelSeparable(nn.Module):  # QuartzNet's TCS unit: depthwise 1-d, pointwise, BN
    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.depthwise = nn.Conv1d(c_in, c_in, 5, padding=2, groups=c_in, bias=False)
        self.pointwise = nn.Conv1d(c_in, c_out, 1, bias=False)
        self.norm = nn.BatchNorm1d(c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(self.pointwise(self.depthwise(x)))


class QuartzBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            TimeChannelSeparable(c_in, c_out), TimeChannelSeparable(c_out, c_out)
        )
        self.residual = nn.Sequential(nn.Conv1d(c_in, c_out, 1, bias=False), nn.BatchNorm1d(c_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.body(x) + self.residual(x))


class QuartzLite(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.prolog = nn.Conv1d(16, 12, 3, padding=1)
        self.blocks = nn.Sequential(QuartzBlock(12, 16), QuartzBlock(16, 20))
        self.classifier = nn.Linear(20, 6)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.blocks(self.prolog(x)).mean(-1))


LAYOUTS = {
    "xception_entry": (XceptionEntry, (2, 3, 12, 12)),
    "body_class": (BodyClassNet, (2, 3, 12, 12)),
    "quartz_1d": (QuartzLite, (2, 16, 20)),
}


@pytest.fixture(scope="module", params=sorted(LAYOUTS))
def generated(request, tmp_path_factory):
    """(name, reference, generated model, source, input): one generate per layout."""
    return generated_layout(LAYOUTS, request.param, tmp_path_factory)


def test_both_paths_read_the_input_and_are_added(generated):
    """Exact where nothing follows the sum (Xception's default); else flagged, never WRONG."""
    name, reference, model, source, x = generated
    verdict = measured(reference, model, source, (x,))[0]
    assert verdict == ("exact" if name == "xception_entry" else "flagged")
    assert "out + shortcut" in source


def test_the_activation_after_the_sum_is_a_guessed_choice(generated):
    _, _, _, source, _ = generated
    assert class_trust(source)["ProjectedBlock"] == "guessed"
    assert "after_sum" in source.split('"""')[1]
