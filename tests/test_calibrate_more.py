"""Calibration's candidates for conv nets saved as a plain state_dict (issue 16): what no key records
and a search must be able to try. Each case is a small net written the way the vision zoos write
it, with different names, sizes and kernels from the zoo models the benchmark measures
(benchmarks/bench_calibrate_zoo.py holds the table):

- one eps for every batch norm (1e-3 in networks ported from TensorFlow), a model-wide choice;
- TensorFlow's 'SAME' padding on strided convs (more after than before), from each input's size;
- conv nets' own activations after a conv-norm pair (hard-swish, relu6, leaky ReLU 0.1);
- the slot after an activation's slot in a Sequential holds what follows one (a max-pool on conv
  features, dropout after a Linear), never a second activation;
- a conv classifier head that ends in its activation and a global pooling past its last key.

Each generated file is compared with the reference on inputs it was not calibrated on.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from codegen.cli.main import main
from tests.generated_module import load_module
from tests.redraw import unit_scale

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


class ConvBnAct(nn.Module):
    def __init__(self, c_in: int, c_out: int, k: int, stride: int, eps: float, act) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, k, stride, k // 2, bias=False)
        self.norm = nn.BatchNorm2d(c_out, eps=eps)
        self.act = act()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.norm(self.conv(x)))


class SmallConvNet(nn.Module):
    """Three conv-bn-act blocks of one activation and eps, pooled into a Linear head."""

    def __init__(
        self, eps: float = 1e-5, act=nn.ReLU, widths=(6, 10, 12), stride: int = 2, classes: int = 4
    ) -> None:
        super().__init__()
        a, b, c = widths
        self.stem = ConvBnAct(3, a, 3, stride, eps, act)
        self.body = nn.Sequential(ConvBnAct(a, b, 3, 1, eps, act), ConvBnAct(b, c, 3, 1, eps, act))
        self.head = nn.Linear(c, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(self.stem(x)).mean((2, 3)))


class SameConv2d(nn.Conv2d):
    """timm's Conv2dSame: TensorFlow's 'SAME' padding computed from the input's size."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pads = []
        for i in (3, 2):
            size, k, s = x.shape[i], self.kernel_size[i - 2], self.stride[i - 2]
            total = max((-(-size // s) - 1) * s + k - size, 0)
            pads += [total // 2, total - total // 2]
        return F.conv2d(F.pad(x, pads), self.weight, self.bias, self.stride, 0)


class TfPortedNet(nn.Module):
    """A 3x3 stride-2 stem padded 'SAME' (none before, 1 after on even sizes), then a 5x5 conv
    (at stride 1 'SAME' is half the kernel); batch norms at eps 1e-3."""

    def __init__(self, classes: int = 3) -> None:
        super().__init__()
        self.conv_in = SameConv2d(3, 8, 3, 2, bias=False)
        self.bn_in = nn.BatchNorm2d(8, eps=1e-3)
        self.conv_mid = SameConv2d(8, 12, 5, 1, bias=False)
        self.bn_mid = nn.BatchNorm2d(12, eps=1e-3)
        self.fc = nn.Linear(12, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.bn_in(self.conv_in(x)))
        x = F.relu(self.bn_mid(self.conv_mid(x)))
        return self.fc(x.mean((2, 3)))


def vgg_like() -> nn.Module:
    """torchvision's VGG layout: conv, bn, relu, pool; conv, bn, relu (the zoo's narrowed VGG
    ends its features there); Linear, ReLU, Dropout in the head."""

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.trunk = nn.Sequential(
                nn.Conv2d(3, 6, 3, padding=1),
                nn.BatchNorm2d(6),
                nn.ReLU(),
                nn.MaxPool2d(2),
                nn.Conv2d(6, 10, 3, padding=1),
                nn.BatchNorm2d(10),
                nn.ReLU(),
            )
            self.classifier = nn.Sequential(
                nn.Linear(10 * 256, 24), nn.ReLU(), nn.Dropout(0.3), nn.Linear(24, 4)
            )

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.classifier(torch.flatten(self.trunk(x), 1))

    return Net()


def conv_head_classifier() -> nn.Module:
    """A classifier whose head is a 1x1 conv to the classes, ReLU and a global average pool
    (SqueezeNet's), after a plain conv trunk: nothing past the head conv holds a key."""

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.trunk = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU())
            self.head = nn.Sequential(
                nn.Dropout(0.2), nn.Conv2d(8, 5, 1), nn.ReLU(), nn.AdaptiveAvgPool2d(1)
            )

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.flatten(self.head(self.trunk(x)), 1)

    return Net()


CASES = {
    "bn_eps_1e-3": (lambda: SmallConvNet(eps=1e-3), (3, 16, 16)),
    "hardswish": (lambda: SmallConvNet(act=nn.Hardswish, stride=1), (3, 12, 12)),
    "leaky_relu_0.1": (
        lambda: SmallConvNet(act=lambda: nn.LeakyReLU(0.1), widths=(8, 8, 16), stride=1),
        (3, 12, 12),
    ),
    "tf_same_padding": (TfPortedNet, (3, 16, 16)),
    "vgg_like": (vgg_like, (3, 32, 32)),
    "conv_head": (conv_head_classifier, (3, 12, 12)),
}


# The stride search is tested elsewhere (test_calibrate_cnn_zoo.py): pinned here, so the case
# shows the padding candidate alone.
HINTS = {"tf_same_padding": '["conv_in"]\nstride = 2\n'}


def _calibrate(name: str, tmp_path, capsys, candidates: str = "600"):
    make, shape = CASES[name]
    torch.manual_seed(0)
    reference = unit_scale(make())
    ckpt, data, out = tmp_path / "weights.pt", tmp_path / "data.pt", tmp_path / "model.py"
    torch.save(reference.state_dict(), ckpt)
    inputs = torch.randn(8, *shape, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        torch.save({"inputs": inputs, "outputs": reference(inputs)}, data)
    args = ["generate", str(ckpt), "-o", str(out), "--calibrate", str(data)]
    args += ["--candidates", candidates]
    if name in HINTS:
        (tmp_path / "hints.toml").write_text(HINTS[name])
        args += ["--hints", str(tmp_path / "hints.toml")]
    code = main(args)
    printed = capsys.readouterr()
    assert "internal error" not in printed.err
    return code, printed.out + printed.err, reference, out


@pytest.mark.parametrize("name", sorted(CASES))
def test_exact_after_calibrate(name, tmp_path, capsys):
    code, printed, reference, out = _calibrate(name, tmp_path, capsys)
    assert code == 0, printed
    assert "reproduces DATA's outputs" in printed
    model = load_module(out).RecoveredModel().eval()
    model.load_state_dict(reference.state_dict(), strict=True)
    # a size it was not calibrated on (odd, so 'SAME' padding differs from half the kernel);
    # the VGG-like head reads a fixed grid, so new inputs of the same size
    _, shape = CASES[name]
    size = shape[1] if name == "vgg_like" else shape[1] + 3
    x = torch.randn(3, shape[0], size, size, generator=torch.Generator().manual_seed(11))
    with torch.no_grad():
        expected = reference(x)
        torch.testing.assert_close(model(x), expected, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(torch.jit.script(model)(x), expected, atol=1e-5, rtol=1e-5)


def test_the_batch_norm_eps_is_one_model_wide_choice(tmp_path, capsys):
    """Every batch norm's eps moves at once (classes used several times included) and the file
    says it was calibrated; a per-layer hint still overrides it."""
    code, printed, _, out = _calibrate("bn_eps_1e-3", tmp_path, capsys)
    assert code == 0, printed
    source = out.read_text()
    assert "eps=0.001" in source or "eps: float = 0.001" in source
    assert "batch_norm_eps" in source and "calibrated" in source


def test_a_second_slot_after_an_activation_is_not_another_activation(tmp_path, capsys):
    """Without any DATA, the VGG-like layout's pool and dropout are the slots' defaults (the
    strides still need DATA: the file's are sized for its own example input)."""
    make, _ = CASES["vgg_like"]
    torch.manual_seed(0)
    reference = unit_scale(make())
    ckpt, out = tmp_path / "weights.pt", tmp_path / "model.py"
    torch.save(reference.state_dict(), ckpt)
    assert main(["generate", str(ckpt), "-o", str(out)]) == 0
    capsys.readouterr()
    source = out.read_text()
    trunk = source[source.index("self.trunk = ") : source.index("self.classifier = ")]
    head = source[source.index("self.classifier = ") : source.index("def from_checkpoint")]
    assert trunk.count("nn.ReLU()") == 1 and trunk.count("nn.MaxPool2d(2)") == 1
    assert head.count("nn.ReLU()") == 1 and head.count("nn.Dropout()") == 1
