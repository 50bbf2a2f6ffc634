"""A mobile family's conventions that no key records say guessed where nothing proves them.

The structure names a mobile family (analyze/strides.py's mobile_family) and so a default for
its activation (ReLU6 for MobileNetV2's 3x3 inverted residuals), but re-implementations with the
same keys activate otherwise (kuangliu/pytorch-cifar's MobileNetV2 uses F.relu): a class whose
activation rests on that default says guessed, the activation a choice `--hints` or calibration
moves. Likewise a depthwise-separable block that keeps its shape (no expansion, in == out) adds
its input in MobileNetV2's and EfficientNet's code and not in MobileNetV1's: its residual is a
choice, and guessed at its default. Layouts:
1. kuangliu-style MobileNetV2 (Block: conv1..conv3, bn1..bn3, `shortcut`; F.relu), with no
   stride-1 block that widens (so no projection shortcut names the port): guessed; exact once the
   blocks' activation is hinted relu.
2. kuangliu's MobileNet (MobileNetV1's separable blocks) whose blocks mostly keep their width:
   guessed (no key says ReLU, nor that no input is added).
3. torchvision-style MobileNetV2 (ReLU6 Conv2dNormActivation Sequentials, `features`): exact.

Measured before (b729de5) -> after, verdict (the blocks' trust): kuangliu_relu flagged, its
expanding blocks inferred while computing ReLU6 for ReLU -> flagged (guessed; exact hinted);
v1_equal_widths flagged (SeparableBlocks inferred) -> flagged (guessed); torchvision_relu6 exact
(inferred) -> exact (guessed). Every top says guessed already (its head's wiring).
"""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from codegen.cli.main import main
from tests.zoo_verdicts import layout_reference, measured
from tests.generated_module import load_module
from tests.test_mobile_body_readings import KlMobileNet

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


class Block(nn.Module):  # kuangliu/pytorch-cifar models/mobilenetv2.py
    def __init__(self, in_planes: int, out_planes: int, expansion: int, stride: int) -> None:
        super().__init__()
        self.stride = stride
        planes = expansion * in_planes
        self.conv1 = nn.Conv2d(in_planes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, groups=planes, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, out_planes, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out_planes)
        self.shortcut = nn.Sequential()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return out + self.shortcut(x) if self.stride == 1 else out


class KuangliuMobileNetV2(nn.Module):
    # (expansion, out_planes, num_blocks, stride); no stride-1 block widens
    cfg = [(1, 8, 1, 1), (6, 12, 2, 2), (6, 16, 2, 2)]

    def __init__(self, num_classes: int = 4) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        layers, in_planes = [], 8
        for expansion, out_planes, num_blocks, stride in self.cfg:
            for s in [stride] + [1] * (num_blocks - 1):
                layers.append(Block(in_planes, out_planes, expansion, s))
                in_planes = out_planes
        self.layers = nn.Sequential(*layers)
        self.conv2 = nn.Conv2d(16, 32, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(32)
        self.linear = nn.Linear(32, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layers(out)
        out = F.relu(self.bn2(self.conv2(out)))
        return self.linear(F.adaptive_avg_pool2d(out, 1).flatten(1))


class MobileNetV1Equal(KlMobileNet):  # pytorch-cifar's MobileNet: most blocks keep their width
    cfg = [16, 16, (16, 2), 16, (48, 2), 48]


class InvertedResidual(nn.Module):  # torchvision's, ReLU6 Conv2dNormActivation
    def __init__(self, c_in: int, c_out: int, stride: int, t: int) -> None:
        super().__init__()
        hidden = c_in * t
        self.use_res_connect = stride == 1 and c_in == c_out
        layers = [_conv_bn_relu6(c_in, hidden, 1, 1)] if t != 1 else []
        layers += [
            _conv_bn_relu6(hidden, hidden, 3, stride, groups=hidden),
            nn.Conv2d(hidden, c_out, 1, bias=False),
            nn.BatchNorm2d(c_out),
        ]
        self.conv = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(x) if self.use_res_connect else self.conv(x)


def _conv_bn_relu6(c_in: int, c_out: int, k: int, stride: int, groups: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, k, stride, k // 2, groups=groups, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU6(inplace=True),
    )


class TorchvisionMobileNetV2(nn.Module):
    def __init__(self, num_classes: int = 4) -> None:
        super().__init__()
        blocks = [(8, 8, 1, 1), (8, 12, 2, 6), (12, 12, 1, 6), (12, 16, 2, 6), (16, 16, 1, 6)]
        self.features = nn.Sequential(
            _conv_bn_relu6(3, 8, 3, 2),
            *[InvertedResidual(a, b, s, t) for a, b, s, t in blocks],
            _conv_bn_relu6(16, 32, 1, 1),
        )
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(32, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.adaptive_avg_pool2d(self.features(x), 1)
        return self.classifier(torch.flatten(x, 1))


LAYOUTS = {
    "kuangliu_relu": (KuangliuMobileNetV2, (2, 3, 16, 16)),
    "v1_equal_widths": (MobileNetV1Equal, (2, 3, 16, 16)),
    "torchvision_relu6": (TorchvisionMobileNetV2, (2, 3, 32, 32)),
}


def _reference(make) -> nn.Module:
    """layout_reference, its norms widened (scales 2..4, shifts N(0, 1)) so that activations
    reach past 6, where ReLU6 and ReLU differ."""
    reference = layout_reference(make)
    torch.manual_seed(2)
    for m in reference.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.weight.data.uniform_(2, 4)
            m.bias.data.normal_(0, 1)
    return reference


def _generate(reference: nn.Module, folder, *extra: str) -> tuple[nn.Module, str]:
    ckpt, out = folder / "weights.pt", folder / "model.py"
    torch.save(reference.state_dict(), ckpt)
    assert main(["generate", str(ckpt), "-o", str(out), "--quiet", *extra]) == 0
    model = load_module(out).RecoveredModel().eval()
    model.load_state_dict(reference.state_dict(), strict=True)
    return model, out.read_text()


@pytest.fixture(scope="module")
def rows(tmp_path_factory):
    found = {}
    for name, (make, shape) in LAYOUTS.items():
        reference = _reference(make)
        model, source = _generate(reference, tmp_path_factory.mktemp(name))
        torch.manual_seed(1)
        found[name] = (reference, model, source, torch.randn(*shape))
    return found


def _trust(source: str, cls: str) -> str:
    """The trust a class's docstring states."""
    body = source[source.index(f"class {cls}(") :]
    return body.split("Forward trust: ", 1)[1].split(":", 1)[0]


def test_no_row_is_silently_wrong(rows):
    for name, (reference, model, source, x) in rows.items():
        assert measured(reference, model, source, (x,))[0] != "WRONG", name


def test_relu_port_says_guessed_until_told(rows, tmp_path):
    """kuangliu's F.relu blocks are read as MobileNetV2's ReLU6: the expanding blocks differ and
    say so; the activation hinted relu (as calibration would move it), they are exact."""
    reference, model, source, x = rows["kuangliu_relu"]
    assert "F.relu6(" in source
    assert _trust(source, "InvertedResidual2") == "guessed"
    assert "no key or config records the activation" in source
    hints = tmp_path / "hints.toml"
    hints.write_text('["*"]\nactivation = "relu"\n')
    model, source = _generate(reference, tmp_path, "--hints", str(hints))
    assert measured(reference, model, source, (x,))[0] == "exact"
    assert _trust(source, "InvertedResidual2") == "inferred"


def test_separable_stack_says_guessed(rows):
    _, _, source, _ = rows["v1_equal_widths"]
    assert _trust(source, "SeparableBlock") == "guessed"
    assert "# no residual" in source


def test_torchvision_relu6_exact_and_its_conventions_guessed(rows):
    """ReLU6 and the t=1 block's residual are torchvision's code, right here, yet no key records
    them: exact, and the blocks say guessed (the shape-keeping block names its residual)."""
    reference, model, source, x = rows["torchvision_relu6"]
    assert measured(reference, model, source, (x,))[0] == "exact"
    assert _trust(source, "InvertedResidual") == "guessed"
    assert "keeps its shape with no expansion" in source
    assert "add_if_same_shape(x, out)" in source


def test_shape_keeping_residual_is_a_choice(rows, tmp_path):
    """The residual of the block without expansion moves (as calibration would): set to none, the
    block adds no input, and torchvision's row then differs where the file says so."""
    reference, _, _, x = rows["torchvision_relu6"]
    hints = tmp_path / "hints.toml"
    hints.write_text('["*"]\nresidual = "none"\n')
    model, source = _generate(reference, tmp_path, "--hints", str(hints))
    assert "no residual: a separable block" in source
    assert measured(reference, model, source, (x,))[0] == "flagged"
