"""A strided conv ported from TensorFlow pads 'SAME' in its forward (more after than before, from
each input's size: timm's Conv2dSame, Keras ports), which no key records and no constructor
padding gives. The generated conv pads half the kernel by default, and its class lists `padding`
as left at default, an open choice whose alternatives hold `pad_same` (patterns/layers/conv.py;
calibrate's 'SAME' move sets it on every strided conv). So the class is right but for a listed
value: the per-class audit counts it as a layer value (benchmarks/audit_classes.py, padded_same),
never as silent, and stays silent where the dataflow differs too. Three layouts, one distant."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from benchmarks.audit_classes import audit, listed_defaults
from tests import generative_zoo_check
from tests.redraw import reference_and_input


class Conv2dSame(nn.Conv2d):  # timm.layers.Conv2dSame: TensorFlow's 'SAME', from the input's size
    def __init__(self, c_in, c_out, k, stride=1, groups=1, bias=False) -> None:
        super().__init__(c_in, c_out, k, stride, 0, 1, groups, bias)

    def forward(self, x):
        ih, iw = x.shape[-2:]
        k, s = self.kernel_size[0], self.stride[0]
        pad_h = max((math.ceil(ih / s) - 1) * s + k - ih, 0)
        pad_w = max((math.ceil(iw / s) - 1) * s + k - iw, 0)
        x = F.pad(x, [pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2])
        return F.conv2d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


def tf_conv(c_in, c_out, k, stride=1, groups=1, bias=False) -> nn.Conv2d:
    """timm's create_conv2d(padding='same'): symmetric (a plain conv) at stride 1."""
    if stride == 1:
        return nn.Conv2d(c_in, c_out, k, 1, k // 2, groups=groups, bias=bias)
    return Conv2dSame(c_in, c_out, k, stride, groups, bias)


class TfInvertedResidual(nn.Module):  # timm's tf_efficientnet_lite block (ReLU6)
    def __init__(self, c_in: int, c_out: int, k: int, stride: int, expand: int = 6) -> None:
        super().__init__()
        mid = c_in * expand
        self.has_skip = stride == 1 and c_in == c_out
        self.conv_pw = tf_conv(c_in, mid, 1)
        self.bn1 = nn.BatchNorm2d(mid)
        self.conv_dw = tf_conv(mid, mid, k, stride, groups=mid)
        self.bn2 = nn.BatchNorm2d(mid)
        self.conv_pwl = tf_conv(mid, c_out, 1)
        self.bn3 = nn.BatchNorm2d(c_out)

    def forward(self, x):
        out = F.relu6(self.bn1(self.conv_pw(x)))
        out = F.relu6(self.bn2(self.conv_dw(out)))
        out = self.bn3(self.conv_pwl(out))
        return x + out if self.has_skip else out


class TfDepthwiseSeparable(nn.Module):  # timm's DepthwiseSeparableConv, a first stage's block
    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv_dw = tf_conv(c_in, c_in, 3, groups=c_in)
        self.bn1 = nn.BatchNorm2d(c_in)
        self.conv_pw = tf_conv(c_in, c_out, 1)
        self.bn2 = nn.BatchNorm2d(c_out)

    def forward(self, x):  # the skip where the shape stays (timm's has_skip)
        return x + self.bn2(self.conv_pw(F.relu6(self.bn1(self.conv_dw(x)))))


class TfMobileNet(nn.Module):
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.conv_stem = tf_conv(3, 8, 3, 2)
        self.bn1 = nn.BatchNorm2d(8)
        self.blocks = nn.Sequential(
            nn.Sequential(TfDepthwiseSeparable(8, 8)),
            nn.Sequential(TfInvertedResidual(8, 4, 3, 2), TfInvertedResidual(4, 4, 3, 1)),
            nn.Sequential(TfInvertedResidual(4, 8, 5, 2)),
        )
        self.classifier = nn.Linear(8, classes)

    def forward(self, x):
        x = self.blocks(F.relu6(self.bn1(self.conv_stem(x))))
        return self.classifier(x.mean((2, 3)))


class TfBasicBlock(nn.Module):  # a ResNet ported from TF-slim: its strided 3x3 pads 'SAME'
    def __init__(self, c_in: int, c_out: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = tf_conv(c_in, c_out, 3, stride)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = tf_conv(c_out, c_out, 3)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.downsample = None
        if stride != 1 or c_in != c_out:
            self.downsample = nn.Sequential(
                nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out)
            )

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + (x if self.downsample is None else self.downsample(x)))


class TfResNet(nn.Module):
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.layer1 = nn.Sequential(TfBasicBlock(8, 8))
        self.layer2 = nn.Sequential(TfBasicBlock(8, 16, 2), TfBasicBlock(16, 16))
        self.fc = nn.Linear(16, classes)

    def forward(self, x):
        x = self.layer2(self.layer1(F.relu(self.bn1(self.conv1(x)))))
        return self.fc(x.mean((2, 3)))


def channel_shuffle(x, groups: int = 2):
    b, c, h, w = x.shape
    return x.view(b, groups, c // groups, h, w).transpose(1, 2).reshape(b, c, h, w)


class ShuffleUnit(nn.Module):  # torchvision's ShuffleNetV2 InvertedResidual, TF 'SAME' strides
    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.stride = stride
        half = c_out // 2
        if stride > 1:
            self.branch1 = nn.Sequential(
                tf_conv(c_in, c_in, 3, stride, groups=c_in),
                nn.BatchNorm2d(c_in),
                nn.Conv2d(c_in, half, 1, bias=False),
                nn.BatchNorm2d(half),
                nn.ReLU(inplace=True),
            )
        else:
            self.branch1 = nn.Sequential()
        c_b2 = c_in if stride > 1 else half
        self.branch2 = nn.Sequential(
            nn.Conv2d(c_b2, half, 1, bias=False),
            nn.BatchNorm2d(half),
            nn.ReLU(inplace=True),
            tf_conv(half, half, 3, stride, groups=half),
            nn.BatchNorm2d(half),
            nn.Conv2d(half, half, 1, bias=False),
            nn.BatchNorm2d(half),
            nn.ReLU(inplace=True),
        )

    def forward(self, x):
        if self.stride == 1:
            x1, x2 = x.chunk(2, dim=1)
            out = torch.cat((x1, self.branch2(x2)), dim=1)
        else:
            out = torch.cat((self.branch1(x), self.branch2(x)), dim=1)
        return channel_shuffle(out)


class TfShuffleNet(nn.Module):  # structurally distant: two branches, concatenated, shuffled
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.conv1 = nn.Sequential(
            nn.Conv2d(3, 8, 3, 1, 1, bias=False), nn.BatchNorm2d(8), nn.ReLU(inplace=True)
        )
        self.stage2 = nn.Sequential(ShuffleUnit(8, 16, 2), ShuffleUnit(16, 16, 1))
        self.fc = nn.Linear(16, classes)

    def forward(self, x):
        return self.fc(self.stage2(self.conv1(x)).mean((2, 3)))


LAYOUTS = {
    "tf_mobilenet": (TfMobileNet, (2, 3, 16, 16)),
    "tf_resnet": (TfResNet, (2, 3, 16, 16)),
    "tf_shufflenet": (TfShuffleNet, (2, 3, 16, 16)),
}


@pytest.fixture(scope="module", params=sorted(LAYOUTS))
def audited(request, tmp_path_factory):
    reference, x = reference_and_input(*LAYOUTS[request.param])
    model, source = generative_zoo_check.generate(
        reference, tmp_path_factory.mktemp(request.param), "--quiet"
    )
    return reference, x, model, source, audit(reference, (x,), model, source)


def test_a_tf_same_padding_is_a_listed_value_not_a_silent_class(audited):
    *_, classes = audited
    assert not [f"{c.name}: {c.differing}" for c in classes if c.silent]
    # the classes holding a strided 'SAME' conv differ, and say so: through a listed value, or
    # as guessed (a residual block whose stride no key records says so, residual.py)
    assert any(c.outcome == "layer values" and c.trust == "inferred" for c in classes) or any(
        c.trust == "guessed" for c in classes
    )


def test_unlisted_padding_stays_silent(audited):
    """The same files with `padding` struck from the class docstrings: nothing lists the value,
    so the difference is the class's own."""
    reference, x, model, source, listed = audited
    struck = source.replace("padding (", "unlisted (")
    assert not any(listed_defaults(struck, "padding").values())
    classes = audit(reference, (x,), model, struck)
    # silent exactly where a trusted class relied on the listing (a guessed one never is)
    relied = any(c.outcome == "layer values" and c.trust == "inferred" for c in listed)
    assert any(c.silent for c in classes) == relied
