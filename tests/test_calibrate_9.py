"""Calibration settles structure before values (issue 16, session 9).

- The descent takes a structural move (a stride layout, its padding) that gains before any
  activation swap, even one that gains more: while the model samples its input wrongly, a value
  swap lowers the error by chance, and a search that takes it first settles around it.
- A stride layout is also tried with TensorFlow's 'SAME' padding on its convs (networks ported
  from TensorFlow: the padding goes with the stride), and 'SAME' on every strided conv is a move
  of its own before the other paddings open.
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

from codegen import calibrate as cal
from codegen.cli.main import main
from codegen.ir import Choice
from tests.generated_module import load_module
from tests.redraw import unit_scale

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


# ---------------------------------------------------------------- the descent's order, in isolation


class _FakeIR:
    """What the descent reads of a candidate's IR: its choices, with the picked values applied."""

    def __init__(self, picked: dict) -> None:
        base = [
            Choice("stride", 1, [2], path="stem"),
            Choice("stride", 1, [2], path="block"),
            Choice("activation", "relu", ["gelu", "silu"], path="A"),
            Choice("activation", "relu", ["gelu", "silu"], path="B"),
        ]
        self.choices = []
        for c in base:
            value = picked.get((c.path, c.name), c.value)
            others = [v for v in [c.value, *c.alternatives] if v != value]
            self.choices.append(Choice(c.name, value, others, path=c.path))

    def all_choices(self) -> list[Choice]:
        return self.choices


def _fake_error(picked: dict) -> float:
    """The truth is stride 2 (both convs) with GELU; SiLU with the wrong strides fits best by
    chance, and from there no single change gains."""
    stride = min(picked.get((p, "stride"), 1) for p in ("stem", "block"))
    acts = {picked.get((p, "activation"), "relu") for p in "AB"}
    if stride == 2:
        return 0.0 if acts == {"gelu"} else 0.5
    return 0.3 if acts == {"silu"} else 1.0


def test_structural_move_is_taken_before_a_larger_activation_gain():
    seen = []

    def evaluate(picked, changed):
        seen.append(dict(picked))
        return _fake_error(picked), _FakeIR(picked)

    start = (1.0, {}, _FakeIR({}))
    layouts = ((("stem", "block"),), ())  # the stem and the block halve together: one move
    error, picked, _ = cal._coordinate_descent(evaluate, start, {}, layouts)
    assert error == 0.0
    assert picked[("stem", "stride")] == picked[("block", "stride")] == 2
    assert {picked[(p, "activation")] for p in "AB"} == {"gelu"}
    # SiLU (0.3) was scored and gained more than the stride (0.5), but was not taken first:
    # from SiLU, the stride alone scores 0.5 and the search would stop there.
    assert {("A", "activation"): "silu", ("B", "activation"): "silu"} in seen


def test_structural_classifies_moves():
    assert cal.structural({("a", "stride"): 2, ("a", "padding"): "pad_same"})
    # Poolings between stages are not: while activations are wrong they gain by chance too.
    assert not cal.structural({("x.3", "module_type"): "nn.MaxPool2d(2)"})
    assert not cal.structural({("s", "pooling_after"): "avg_pool"})
    assert not cal.structural({("A", "activation"): "gelu"})
    assert not cal.structural({("a", "stride"): 2, ("A", "activation"): "gelu"})


# ----------------------------------------------------------------- end to end through the command


def _calibrate(reference: nn.Module, shape, tmp_path, capsys, budget: str = "60"):
    ckpt, data, out = tmp_path / "weights.pt", tmp_path / "data.pt", tmp_path / "model.py"
    torch.save(reference.state_dict(), ckpt)
    g = torch.Generator().manual_seed(3)
    inputs = torch.randn(8, *shape, generator=g)
    with torch.no_grad():
        torch.save({"inputs": inputs, "outputs": reference(inputs)}, data)
    code = main(
        ["generate", str(ckpt), "-o", str(out), "--calibrate", str(data), "--budget", budget]
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
    """A Keras port's conv: 'SAME' padding computed from the input (more after than before where
    it strides), batch norm with Keras' eps, then the activation."""

    def __init__(self, c_in: int, c_out: int, k: int, stride: int, groups: int = 1) -> None:
        super().__init__()
        self.stride, self.k = stride, k
        self.conv = nn.Conv2d(c_in, c_out, k, stride, bias=False, groups=groups)
        self.bn = nn.BatchNorm2d(c_out, eps=1e-3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        size = x.shape[-1]
        out = -(-size // self.stride)
        pad = max((out - 1) * self.stride + self.k - size, 0)
        x = F.pad(x, (pad // 2, pad - pad // 2, pad // 2, pad - pad // 2))
        return F.relu6(self.bn(self.conv(x)))


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
    torch.manual_seed(0)
    reference = unit_scale(TfPortedNet()).eval()
    code, text, out = _calibrate(reference, (3, 32, 32), tmp_path, capsys)
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
