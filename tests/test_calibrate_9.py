"""Calibration: the structural candidates of issue 16 (session 9).

- Once paddings are searched, a stride layout is also tried with TensorFlow's 'SAME' padding on
  its convs (networks ported from TensorFlow: the padding goes with the stride), and 'SAME' on
  every strided conv is a move of its own.
- A flat list of inverted residual blocks as long as MobileNetV2's has the paper's stride schedule
  as a candidate layout.
- Empty slots between a Sequential's conv features and its Linear hold a global pooling and a
  flatten by default (the ConvMixer listing): the file runs before any calibration.
- A class that wraps one conv (RepVGG's deploy-time block) has a trailing activation choice.
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


# ----------------------------------------------------------------- end to end through the command


def _calibrate(reference: nn.Module, shape, tmp_path, capsys, candidates: str = "200"):
    ckpt, data, out = tmp_path / "weights.pt", tmp_path / "data.pt", tmp_path / "model.py"
    torch.save(reference.state_dict(), ckpt)
    g = torch.Generator().manual_seed(3)
    inputs = torch.randn(8, *shape, generator=g)
    with torch.no_grad():
        torch.save({"inputs": inputs, "outputs": reference(inputs)}, data)
    code = main(
        [
            "generate",
            str(ckpt),
            "-o",
            str(out),
            "--calibrate",
            str(data),
            "--candidates",
            candidates,
        ]
    )
    printed = capsys.readouterr()
    assert "internal error" not in printed.err
    return code, printed.out + printed.err, out


def _assert_exact(reference: nn.Module, out, shape) -> None:
    ours = load_module(out).RecoveredModel().eval()
    ours.load_state_dict(reference.state_dict(), strict=True)
    held_out = torch.randn(4, *shape, generator=torch.Generator().manual_seed(11))
    with torch.no_grad():
        torch.testing.assert_close(ours(held_out), reference(held_out), atol=1e-5, rtol=1e-4)
    scripted = torch.jit.script(ours)
    with torch.no_grad():
        torch.testing.assert_close(scripted(held_out), reference(held_out), atol=1e-5, rtol=1e-4)


class SameConvBnAct(nn.Module):
    """A TensorFlow port's conv: 'SAME' padding computed from the input (more after than before
    where it strides), batch norm, then the activation."""

    def __init__(self, c_in: int, c_out: int, k: int, stride: int, groups: int = 1) -> None:
        super().__init__()
        self.stride, self.k = stride, k
        self.conv = nn.Conv2d(c_in, c_out, k, stride, bias=False, groups=groups)
        self.bn = nn.BatchNorm2d(c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        size = x.shape[-1]
        out = -(-size // self.stride)
        pad = max((out - 1) * self.stride + self.k - size, 0)
        x = F.pad(x, (pad // 2, pad - pad // 2, pad // 2, pad - pad // 2))
        return F.relu(self.bn(self.conv(x)))


class TfPortedNet(nn.Module):
    """A stem that halves and two stages whose first block halves, all padded 'SAME' as
    TensorFlow does: with half-kernel padding every strided conv samples one pixel off."""

    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.stem = SameConvBnAct(3, 8, 3, 2)
        self.stages = nn.ModuleList(
            nn.Sequential(SameConvBnAct(c_in, c_out, 3, 2), SameConvBnAct(c_out, c_out, 3, 1))
            for c_in, c_out in ((8, 12), (12, 16))
        )
        self.head = nn.Linear(16, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        for stage in self.stages:
            x = stage(x)
        return self.head(x.mean((2, 3)))


def test_tensorflow_padded_strides_are_found_together(tmp_path, capsys):
    """Best gain first takes an average pool after the stem and a Tanh on the output, which lower
    the error by chance while the strides are wrong; the structure-first order (session 10,
    tests/test_calibrate_10.py) takes the padded layout first and is exact."""
    torch.manual_seed(0)
    reference = unit_scale(TfPortedNet()).eval()
    code, text, out = _calibrate(reference, (3, 32, 32), tmp_path, capsys, candidates="80")
    assert code == 0, text
    assert "pad_same" in out.read_text()
    _assert_exact(reference, out, (3, 32, 32))


def test_mobilenet_v2_schedule_is_a_candidate_layout():
    from codegen.analyze.strides import stride_layouts
    from codegen.keytree import build_tree
    from codegen.load import TensorEntry, TensorTable

    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.expand = nn.Conv2d(8, 16, 1)
            self.dw = nn.Conv2d(16, 16, 3, groups=16)
            self.project = nn.Conv2d(16, 8, 1)

    model = nn.Module()
    model.stem = nn.Conv2d(3, 8, 3)
    model.blocks = nn.ModuleList(Block() for _ in range(16))
    entries = {k: TensorEntry(k, tuple(t.shape), "float32") for k, t in model.state_dict().items()}
    table = TensorTable(source="inline", format="test", tensors=entries)
    layouts = stride_layouts(build_tree(table, canonical=True))
    # MobileNetV2 without its first block: the first block of each stage that halves.
    want = ("stem", *(f"blocks.{i}.dw" for i in (0, 2, 5, 12)))
    assert want in layouts


def test_conv_features_reach_a_linear_through_pooling_and_flatten(tmp_path, capsys):
    torch.manual_seed(0)
    reference = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1),
        nn.ReLU(),
        nn.BatchNorm2d(8),
        nn.AdaptiveAvgPool2d((1, 1)),
        nn.Flatten(),
        nn.Linear(8, 5),
    )
    reference = unit_scale(reference).eval()
    ckpt, out = tmp_path / "weights.pt", tmp_path / "model.py"
    torch.save(reference.state_dict(), ckpt)
    assert main(["generate", str(ckpt), "-o", str(out)]) == 0
    text = out.read_text()
    assert "nn.AdaptiveAvgPool2d(1)" in text and "nn.Flatten()" in text
    _assert_exact(reference, out, (3, 16, 16))


class Wrapped(nn.Module):  # RepVGG's deploy-time block: one fused conv, then its activation
    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.rbr_reparam = nn.Conv2d(c_in, c_out, 3, stride, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.rbr_reparam(x))


class PlainNet(nn.Module):
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.stage0 = Wrapped(3, 8, 1)
        self.stage1 = nn.Sequential(Wrapped(8, 12, 1), Wrapped(12, 12, 1))
        self.linear = nn.Linear(12, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(self.stage1(self.stage0(x)).mean((2, 3)))


def test_a_class_wrapping_one_conv_has_its_activation_calibrated(tmp_path, capsys):
    torch.manual_seed(0)
    reference = unit_scale(PlainNet()).eval()
    code, text, out = _calibrate(reference, (3, 16, 16), tmp_path, capsys)
    assert code == 0, text
    _assert_exact(reference, out, (3, 16, 16))
