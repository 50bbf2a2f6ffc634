"""Readings the keys cannot prove say guessed, on layouts beside the zoo rows that showed them
(tests/test_class_audit.py holds the rows): a class generate's run never called under a parent
whose forward is missing (analyze/unrun.py); a pool branch's tensorless slot (GoogLeNet's max,
Inception-v4's average); a squeeze-excitation activation a family's code forces against its
blocks' (MobileNetV3, PP-LCNet); a super-resolution body no conv closes; a unit Sequential's
tensorless slot after the last norm of a residual block. A control per reading keeps its trust.
One generate per layout, shared through a module-scoped fixture."""

from __future__ import annotations

import re

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from tests import generative_zoo_check
from tests.redraw import reference_and_input
from tests.zoo_verdicts import class_trust, measured


def conv_bn(c_in, c_out, k: int = 3, stride: int = 1, act=nn.ReLU, eps=1e-5) -> nn.Sequential:
    layers = [nn.Conv2d(c_in, c_out, k, stride, k // 2, bias=False), nn.BatchNorm2d(c_out, eps)]
    return nn.Sequential(*layers, act()) if act else nn.Sequential(*layers)


# --- parents whose forward is missing: their children never run in generate's run -------------


class TvBasicBlock(nn.Module):  # torchvision's resnet.BasicBlock
    def __init__(self, c_in: int, c: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.conv2 = nn.Conv2d(c, c, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c)
        self.downsample = None
        if stride != 1 or c_in != c:
            self.downsample = nn.Sequential(
                nn.Conv2d(c_in, c, 1, stride, bias=False), nn.BatchNorm2d(c)
            )

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        identity = x if self.downsample is None else self.downsample(x)
        return F.relu(self.bn2(self.conv2(out)) + identity)


class CatPoolResNet(nn.Module):
    """A head reading avg and max pooled features side by side (timm's 'catavgmax' pooling):
    the classifier reads twice what the body gives, which no width chain explains."""

    def __init__(self, head_reads: int = 48) -> None:
        super().__init__()
        self.stem = conv_bn(3, 16)
        self.layers = nn.Sequential(TvBasicBlock(16, 16), TvBasicBlock(16, 24, 2))
        self.fc = nn.Linear(head_reads, 5)

    def forward(self, x):
        x = self.layers(self.stem(x))
        if self.fc.in_features == 24:
            return self.fc(x.mean((2, 3)))
        return self.fc(torch.cat([x.mean((2, 3)), x.amax((2, 3))], 1))


class SEModule(nn.Module):  # senet.pytorch's SELayer with 1x1 convs (timm's SEModule)
    def __init__(self, c: int, r: int) -> None:
        super().__init__()
        self.fc1 = nn.Conv2d(c, r, 1)
        self.fc2 = nn.Conv2d(r, c, 1)

    def forward(self, x):
        return x * torch.sigmoid(self.fc2(F.relu(self.fc1(x.mean((2, 3), keepdim=True)))))


class SEBlock(nn.Module):
    def __init__(self, c: int) -> None:
        super().__init__()
        self.conv = conv_bn(c, c)
        self.se = SEModule(c, 4)

    def forward(self, x):
        return self.se(self.conv(x))


class TwoHeadSENet(nn.Module):
    """Features, then two heads read side by side (a multi-task net: class and box), their
    outputs concatenated: no width chain orders them."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(conv_bn(3, 16, stride=2), SEBlock(16), SEBlock(16))
        self.cls_head = nn.Linear(16, 5)
        self.box_head = nn.Linear(16, 4)

    def forward(self, x):
        f = self.features(x).mean((2, 3))
        return torch.cat([self.cls_head(f), self.box_head(f)], 1)


class Fire(nn.Module):  # torchvision's squeezenet.Fire
    def __init__(self, c_in: int, squeeze: int, e1: int, e3: int) -> None:
        super().__init__()
        self.squeeze = nn.Conv2d(c_in, squeeze, 1)
        self.expand1x1 = nn.Conv2d(squeeze, e1, 1)
        self.expand3x3 = nn.Conv2d(squeeze, e3, 3, padding=1)

    def forward(self, x):
        s = F.relu(self.squeeze(x))
        return torch.cat([F.relu(self.expand1x1(s)), F.relu(self.expand3x3(s))], 1)


class FireTwoHeads(nn.Module):
    """SqueezeNet's Fire modules under a top with two conv heads (a detector's class and box
    maps, concatenated): another family, nested otherwise."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 16, 3, 2, 1), Fire(16, 4, 8, 8), Fire(16, 4, 8, 8)
        )
        self.cls_conv = nn.Conv2d(16, 5, 1)
        self.box_conv = nn.Conv2d(16, 4, 1)

    def forward(self, x):
        f = self.features(x)
        return torch.cat([self.cls_conv(f), self.box_conv(f)], 1).mean((2, 3))


# --- a pool branch's slot: GoogLeNet's max pool or Inception-v4's average ----------------------


class GoogLeNetInception(nn.Module):  # torchvision's googlenet.Inception (BasicConv2d as conv_bn)
    def __init__(self, c_in: int, ch1: int, ch3r: int, ch3: int, ch5r: int, ch5: int, pool: int):
        super().__init__()
        self.branch1 = conv_bn(c_in, ch1, 1)
        self.branch2 = nn.Sequential(conv_bn(c_in, ch3r, 1), conv_bn(ch3r, ch3))
        self.branch3 = nn.Sequential(conv_bn(c_in, ch5r, 1), conv_bn(ch5r, ch5))
        self.branch4 = nn.Sequential(nn.MaxPool2d(3, 1, 1, ceil_mode=True), conv_bn(c_in, pool, 1))

    def forward(self, x):
        branches = [self.branch1, self.branch2, self.branch3, self.branch4]
        return torch.cat([b(x) for b in branches], 1)


class TvInceptionA(nn.Module):  # torchvision's inception.InceptionA: a named `branch_pool` conv
    def __init__(self, c_in: int) -> None:
        super().__init__()
        self.branch1x1 = conv_bn(c_in, 8, 1)
        self.branch5x5_1 = conv_bn(c_in, 6, 1)
        self.branch5x5_2 = conv_bn(6, 8, 5)
        self.branch3x3dbl_1 = conv_bn(c_in, 8, 1)
        self.branch3x3dbl_2 = conv_bn(8, 12)
        self.branch3x3dbl_3 = conv_bn(12, 12)
        self.branch_pool = conv_bn(c_in, 4, 1)

    def forward(self, x):
        b1 = self.branch1x1(x)
        b5 = self.branch5x5_2(self.branch5x5_1(x))
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        bp = self.branch_pool(F.avg_pool2d(x, 3, 1, 1))
        return torch.cat([b1, b5, b3, bp], 1)


class InceptionNet(nn.Module):
    def __init__(self, block: nn.Module, width: int) -> None:
        super().__init__()
        self.stem = conv_bn(3, 16, stride=2)
        self.block = block
        self.fc = nn.Linear(width, 5)

    def forward(self, x):
        return self.fc(self.block(self.stem(x)).mean((2, 3)))


# --- a squeeze-excitation whose family's code forces an activation against its blocks' --------


class HSwishSE(nn.Module):  # torchvision's SqueezeExcitation: fc1, fc2 (1x1 convs)
    def __init__(self, c: int, r: int, act=nn.ReLU) -> None:
        super().__init__()
        self.fc1 = nn.Conv2d(c, r, 1)
        self.fc2 = nn.Conv2d(r, c, 1)
        self.act = act()

    def forward(self, x):
        s = self.fc2(self.act(self.fc1(x.mean((2, 3), keepdim=True))))
        return x * F.hardsigmoid(s)


V3_EPS = 1e-3  # torchvision's partial(nn.BatchNorm2d, eps=0.001, momentum=0.01)


class V3Block(nn.Module):  # torchvision's mobilenetv3.InvertedResidual: `block` of units
    def __init__(self, c_in, mid, c_out, k, stride, act, se: bool) -> None:
        super().__init__()
        self.use_res = stride == 1 and c_in == c_out
        layers = [conv_bn(c_in, mid, 1, act=act, eps=V3_EPS)]
        layers.append(conv_bn(mid, mid, k, stride, act=act, eps=V3_EPS))
        layers[1][0] = nn.Conv2d(mid, mid, k, stride, k // 2, groups=mid, bias=False)
        if se:
            layers.append(HSwishSE(mid, _round8(mid // 4)))
        layers.append(conv_bn(mid, c_out, 1, act=None, eps=V3_EPS))
        self.block = nn.Sequential(*layers)

    def forward(self, x):
        out = self.block(x)
        return out + x if self.use_res else out


def _round8(v: int) -> int:
    return max(8, (v + 4) // 8 * 8)


class TvMobileNetV3(nn.Module):  # torchvision's MobileNetV3, narrowed (features, classifier)
    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            conv_bn(3, 8, stride=2, act=nn.Hardswish, eps=V3_EPS),
            V3Block(8, 16, 8, 3, 2, nn.ReLU, False),
            V3Block(8, 24, 12, 3, 2, nn.ReLU, False),
            V3Block(12, 36, 16, 5, 2, nn.Hardswish, True),
            V3Block(16, 48, 16, 5, 1, nn.Hardswish, True),
            conv_bn(16, 48, 1, act=nn.Hardswish, eps=V3_EPS),
        )
        self.classifier = nn.Sequential(
            nn.Linear(48, 64), nn.Hardswish(), nn.Dropout(0.2), nn.Linear(64, 5)
        )

    def forward(self, x):
        return self.classifier(self.features(x).mean((2, 3)))


# --- a super-resolution body no conv closes ----------------------------------------------------


class ResidualBlockNoBN(nn.Module):  # basicsr's arch_util.ResidualBlockNoBN
    def __init__(self, c: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, 1, 1)
        self.conv2 = nn.Conv2d(c, c, 3, 1, 1)

    def forward(self, x):
        return x + self.conv2(F.relu(self.conv1(x)))


class MSRResNetX4(nn.Module):  # basicsr's srresnet_arch.MSRResNet at upscale 4: two up convs
    def __init__(self, c: int = 8) -> None:
        super().__init__()
        self.conv_first = nn.Conv2d(3, c, 3, 1, 1)
        self.body = nn.Sequential(ResidualBlockNoBN(c), ResidualBlockNoBN(c))
        self.upconv1 = nn.Conv2d(c, c * 4, 3, 1, 1)
        self.upconv2 = nn.Conv2d(c, c * 4, 3, 1, 1)
        self.conv_hr = nn.Conv2d(c, c, 3, 1, 1)
        self.conv_last = nn.Conv2d(c, 3, 3, 1, 1)

    def forward(self, x):
        lrelu = lambda t: F.leaky_relu(t, 0.1)  # noqa: E731
        feat = lrelu(self.conv_first(x))
        out = self.body(feat)
        out = lrelu(F.pixel_shuffle(self.upconv1(out), 2))
        out = lrelu(F.pixel_shuffle(self.upconv2(out), 2))
        out = self.conv_last(lrelu(self.conv_hr(out)))
        return out + F.interpolate(x, scale_factor=4, mode="bilinear", align_corners=False)


class ClosedBodySR(nn.Module):  # ESRGAN's RRDBNet names, plain residual blocks in its trunk
    def __init__(self, c: int = 8) -> None:
        super().__init__()
        self.conv_first = nn.Conv2d(3, c, 3, 1, 1)
        self.RRDB_trunk = nn.Sequential(ResidualBlockNoBN(c), ResidualBlockNoBN(c))
        self.trunk_conv = nn.Conv2d(c, c, 3, 1, 1)
        self.upconv1 = nn.Conv2d(c, c, 3, 1, 1)
        self.HRconv = nn.Conv2d(c, c, 3, 1, 1)
        self.conv_last = nn.Conv2d(c, 3, 3, 1, 1)

    def forward(self, x):
        fea = self.conv_first(x)
        fea = fea + self.trunk_conv(self.RRDB_trunk(fea))
        fea = F.leaky_relu(self.upconv1(F.interpolate(fea, scale_factor=2.0)), 0.2)
        return self.conv_last(F.leaky_relu(self.HRconv(fea), 0.2))


# --- a unit Sequential's slot after the last norm of a residual block --------------------------


class UnitBottleneck(nn.Module):
    """ENet's regular bottleneck as a port writes it: `ext_convN = Sequential(conv, bn, act)`,
    the third's activation too, before the sum; PReLU in the encoder (whose weight shows the
    slot), ReLU in the decoder."""

    def __init__(self, c: int, prelu: bool) -> None:
        super().__init__()
        act = (lambda n: nn.PReLU()) if prelu else (lambda n: nn.ReLU())
        self.ext_conv1 = nn.Sequential(
            nn.Conv2d(c, c // 4, 1, bias=False), nn.BatchNorm2d(c // 4), act(c)
        )
        self.ext_conv2 = nn.Sequential(
            nn.Conv2d(c // 4, c // 4, 3, 1, 1, bias=False), nn.BatchNorm2d(c // 4), act(c)
        )
        self.ext_conv3 = nn.Sequential(
            nn.Conv2d(c // 4, c, 1, bias=False), nn.BatchNorm2d(c), act(c)
        )
        self.out_activation = act(c)

    def forward(self, x):
        return self.out_activation(x + self.ext_conv3(self.ext_conv2(self.ext_conv1(x))))


class UnitNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 16, 3, 2, 1)
        self.encoder = nn.Sequential(UnitBottleneck(16, True), UnitBottleneck(16, True))
        self.decoder = nn.Sequential(UnitBottleneck(16, False), UnitBottleneck(16, False))
        self.fc = nn.Linear(16, 5)

    def forward(self, x):
        return self.fc(self.decoder(self.encoder(self.stem(x))).mean((2, 3)))


class StarGenerator(nn.Module):  # yunjey's StarGAN Generator: norms that track statistics
    def __init__(self, c: int = 8) -> None:
        super().__init__()

        def norm(n: int) -> nn.Module:
            return nn.InstanceNorm2d(n, affine=True, track_running_stats=True)

        self.main = nn.Sequential(
            nn.Conv2d(3, c, 7, 1, 3, bias=False),
            norm(c),
            nn.ReLU(inplace=True),
            nn.Conv2d(c, c * 2, 4, 2, 1, bias=False),
            norm(c * 2),
            nn.ReLU(inplace=True),
            nn.ConvTranspose2d(c * 2, c, 4, 2, 1, bias=False),
            norm(c),
            nn.ReLU(inplace=True),
            nn.Conv2d(c, 3, 7, 1, 3, bias=False),
            nn.Tanh(),
        )

    def forward(self, x):
        return self.main(x)


LAYOUTS = {
    "cat_pool_resnet": (CatPoolResNet, (2, 3, 16, 16)),
    "chained_resnet": (lambda: CatPoolResNet(24), (2, 3, 16, 16)),
    "two_head_senet": (TwoHeadSENet, (2, 3, 16, 16)),
    "fire_two_heads": (FireTwoHeads, (2, 3, 16, 16)),
    "googlenet_inception": (
        lambda: InceptionNet(GoogLeNetInception(16, 8, 6, 8, 4, 6, 4), 26),
        (2, 3, 16, 16),
    ),
    "tv_inception_a": (lambda: InceptionNet(TvInceptionA(16), 32), (2, 3, 16, 16)),
    "tv_mobilenet_v3": (TvMobileNetV3, (2, 3, 32, 32)),
    "msrresnet_x4": (MSRResNetX4, (2, 3, 8, 8)),
    "closed_body_sr": (ClosedBodySR, (2, 3, 8, 8)),
    "unit_bottlenecks": (UnitNet, (2, 3, 16, 16)),
    "stargan_generator": (StarGenerator, (2, 3, 16, 16)),
}


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    made: dict = {}

    def get(name: str):
        if name not in made:
            reference, x = reference_and_input(*LAYOUTS[name])
            folder = tmp_path_factory.mktemp(name)
            model, source = generative_zoo_check.generate(reference, folder, "--quiet")
            made[name] = (class_trust(source), source, measured(reference, model, source, (x,)))
        return made[name]

    return get


def trust_of(source_trust: dict, needle: str) -> set[str]:
    return {t for name, t in source_trust.items() if needle in name}


@pytest.mark.parametrize(
    "name, role",
    [("cat_pool_resnet", "Block"), ("two_head_senet", "SqueezeExcite")],
)
def test_a_class_the_run_never_called_under_a_missing_parent_says_guessed(generated, name, role):
    trust, source, (verdict, _) = generated(name)
    assert trust["RecoveredModel"] == "missing"
    assert trust_of(trust, role) == {"guessed"}
    assert "generate's run of the model never called this forward" in source
    assert verdict != "WRONG"


def test_fire_modules_under_heads_the_wiring_solver_joins_are_run(generated):
    # Two heads side by side under the features: blocks/solved_wiring.py gives the top a guessed
    # forward (the heads concatenated), so generate's run calls the Fire modules.
    trust, source, (verdict, _) = generated("fire_two_heads")
    assert trust["RecoveredModel"] == "guessed"
    assert trust_of(trust, "Fire") == {"inferred"} and verdict != "WRONG"
    assert "never called this forward" not in source


def test_the_same_blocks_under_a_parent_that_runs_keep_their_trust(generated):
    trust, source, (verdict, _) = generated("chained_resnet")
    assert trust_of(trust, "Block") == {"inferred"} and verdict != "WRONG"
    assert "never called this forward" not in source


def test_a_pool_slot_is_a_guess_a_named_pool_branch_is_not(generated):
    trust, source, (verdict, _) = generated("googlenet_inception")
    assert trust_of(trust, "Inception") == {"guessed"} and "pool_before" in source
    assert verdict == "exact"  # GoogLeNet's max pool is the default: right, and says guessed
    trust, source, (verdict, _) = generated("tv_inception_a")
    # its named pool branch's pool is read, no slot; what it guesses is only its conv units'
    # activations (conv_bn's Sequential: keyless slots nothing proves ReLU)
    inception = source.split("\nclass Inception(")[1].split("\nclass ")[0]
    slots = re.findall(r"holds no tensors: (\S+) is a guess", inception)
    assert trust_of(trust, "Inception") == {"guessed"} and set(slots) == {"ReLU"}
    assert "F.avg_pool2d(x, 3, stride=1, padding=1)" in inception and verdict == "exact"


def test_a_v3_squeeze_excitation_in_hard_swish_blocks_says_guessed(generated):
    trust, source, (verdict, _) = generated("tv_mobilenet_v3")
    assert trust_of(trust, "SqueezeExcite") == {"guessed"}
    assert "not its blocks' (hardswish)" in source.replace("\n    ", " ")
    assert verdict != "WRONG"


def test_a_body_no_conv_closes_says_guessed_a_closed_one_does_not(generated):
    trust, _, (verdict, _) = generated("msrresnet_x4")
    assert trust["RecoveredModel"] == "guessed" and verdict != "WRONG"
    trust, _, (verdict, _) = generated("closed_body_sr")  # (its trunk's blocks: their own rows)
    assert trust["RecoveredModel"] == "inferred" and verdict != "WRONG"


def test_a_slot_after_the_last_unit_s_norm_says_guessed(generated):
    trust, source, (verdict, _) = generated("unit_bottlenecks")
    assert "after the last unit's norm" in source.replace("\n    ", " ")
    assert verdict != "WRONG"


NOTE = "an InstanceNorm with track_running_stats=True holds the same keys"


def test_norms_with_running_statistics_no_name_calls_batch_say_what_would_differ(generated):
    trust, source, (verdict, _) = generated("stargan_generator")
    assert NOTE in source.replace("\n", " ") and verdict == "exact"  # the same in eval
    _, source, _ = generated("two_head_senet")  # `features.0.1`: an index names nothing
    assert NOTE in source.replace("\n", " ")
    _, source, _ = generated("chained_resnet")  # `bn1`: the author's norms are batch norms
    assert NOTE not in source.replace("\n", " ")
