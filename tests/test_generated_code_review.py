"""What a reviewer reads in a generated file, checked on layouts written as other repositories
write them: one width is one constructor parameter (a squeeze-excitation's Linears read and give
back the block's channels), and a keyless activation slot the file registers is the one its
forward calls (never an `nn.ReLU()` beside an `F.relu`)."""

from __future__ import annotations

import ast
from collections import OrderedDict

import pytest
import torch
import torch.nn as nn

from tests import generative_zoo_check
from tests.redraw import reference_and_input
from tests.test_ghost_layouts import SEResNetCifar

# What a keyless slot of a Sequential holds where a pattern applies an activation there.
SLOT_LAYERS = {"ReLU", "ReLU6", "GELU", "SiLU", "LeakyReLU", "Tanh", "Hardswish", "Mish"}
SLOT_LAYERS |= {"Identity"}  # printed in an activation's place where the forward applies it


def duplicated_parameters(source: str) -> list[str]:
    """`Class(a, b)` pairs of keyword parameters given the same expression at every call site:
    one width under two names (`input_dim` beside `hidden_channels`)."""
    tree = ast.parse(source)
    classes = {n.name for n in tree.body if isinstance(n, ast.ClassDef)}
    calls: dict[str, list[dict[str, str]]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) in classes:
            kwargs = {k.arg: ast.dump(k.value) for k in node.keywords if k.arg}
            calls.setdefault(node.func.id, []).append(kwargs)
    found = []
    for name, sites in calls.items():
        keys = sorted(set.intersection(*(set(s) for s in sites)))
        for i, a in enumerate(keys):
            for b in keys[i + 1 :]:
                if all(s[a] == s[b] for s in sites):
                    found.append(f"{name}({a}, {b})")
    return found


def uncalled_activation_slots(source: str) -> list[str]:
    """`Class.attr[i]`: an activation (or an identity standing in for one) in a Sequential the
    class's forward neither calls whole nor by index, while it applies the activation itself."""
    found = []
    for cls in ast.parse(source).body:
        if not isinstance(cls, ast.ClassDef):
            continue
        methods = {f.name: f for f in cls.body if isinstance(f, ast.FunctionDef)}
        if "__init__" not in methods or "forward" not in methods:
            continue
        forward = ast.unparse(methods["forward"])
        for node in ast.walk(methods["__init__"]):
            if not (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)):
                continue
            target = node.targets[0]
            if not isinstance(target, ast.Attribute) or ast.unparse(node.value.func) != (
                "nn.Sequential"
            ):
                continue
            attr = target.attr
            if f"self.{attr}(" in forward:
                continue  # called whole: every item runs
            for i, item in enumerate(node.value.args):
                kind = ast.unparse(item.func) if isinstance(item, ast.Call) else ""
                if kind.removeprefix("nn.") in SLOT_LAYERS and f"self.{attr}[{i}]" not in forward:
                    found.append(f"{cls.name}.{attr}[{i}]")
    return found


# --- squeeze-excitation over conv channels, three layouts -------------------------------------


class LinearSEMBConv(nn.Module):
    """An MBConv whose squeeze-excitation is two Linear members beside the convs (as many
    EfficientNet re-implementations write it): the gate's C is the expanded width."""

    def __init__(self, c_in: int, c_out: int, expand: int, stride: int) -> None:
        super().__init__()
        mid = c_in * expand
        self.expand_conv = nn.Conv2d(c_in, mid, 1, bias=False)
        self.bn0 = nn.BatchNorm2d(mid)
        self.depthwise_conv = nn.Conv2d(mid, mid, 3, stride, 1, groups=mid, bias=False)
        self.bn1 = nn.BatchNorm2d(mid)
        self.se_reduce = nn.Linear(mid, max(1, c_in // 4))
        self.se_expand = nn.Linear(max(1, c_in // 4), mid)
        self.project_conv = nn.Conv2d(mid, c_out, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.residual = stride == 1 and c_in == c_out

    def forward(self, x):
        out = nn.functional.silu(self.bn0(self.expand_conv(x)))
        out = nn.functional.silu(self.bn1(self.depthwise_conv(out)))
        s = torch.sigmoid(self.se_expand(nn.functional.silu(self.se_reduce(out.mean((2, 3))))))
        out = self.bn2(self.project_conv(out * s[:, :, None, None]))
        return out + x if self.residual else out


class LinearSEEfficientNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 16, 3, 2, 1, bias=False)
        self.blocks = nn.Sequential(
            LinearSEMBConv(16, 16, 4, 1), LinearSEMBConv(16, 24, 4, 2), LinearSEMBConv(24, 24, 4, 1)
        )
        self.fc = nn.Linear(24, 5)

    def forward(self, x):
        return self.fc(self.blocks(self.stem(x)).mean((2, 3)))


class Cifar100SEBottleneck(nn.Module):  # weiaicunzai/pytorch-cifar100 senet.py
    def __init__(self, in_channels: int, out_channels: int, stride: int, r: int = 16) -> None:
        super().__init__()
        self.residual = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, 1),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(out_channels, out_channels, 3, stride=stride, padding=1),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(out_channels, out_channels * 4, 1),
            nn.BatchNorm2d(out_channels * 4),
            nn.ReLU(inplace=True),
        )
        self.squeeze = nn.AdaptiveAvgPool2d(1)
        self.excitation = nn.Sequential(
            nn.Linear(out_channels * 4, out_channels * 4 // r),
            nn.ReLU(inplace=True),
            nn.Linear(out_channels * 4 // r, out_channels * 4),
            nn.Sigmoid(),
        )
        self.shortcut = nn.Sequential()
        if stride != 1 or in_channels != out_channels * 4:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels * 4, 1, stride=stride),
                nn.BatchNorm2d(out_channels * 4),
            )

    def forward(self, x):
        shortcut = self.shortcut(x)
        residual = self.residual(x)
        squeeze = self.squeeze(residual).view(residual.size(0), -1)
        excitation = self.excitation(squeeze).view(residual.size(0), residual.size(1), 1, 1)
        return nn.functional.relu(residual * excitation.expand_as(residual) + shortcut)


class Cifar100SEResNet50(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.pre = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU())
        self.stage1 = nn.Sequential(Cifar100SEBottleneck(16, 8, 1), Cifar100SEBottleneck(32, 8, 1))
        self.stage2 = nn.Sequential(Cifar100SEBottleneck(32, 16, 2))
        self.linear = nn.Linear(64, 10)

    def forward(self, x):
        x = self.stage2(self.stage1(self.pre(x)))
        return self.linear(x.mean((2, 3)))


class ECGSEBlock1d(nn.Module):
    """A 1-D residual block with a Linear excitation, as ECG / audio classifiers write it
    (Conv1d, BatchNorm1d, a `fc` pair over the pooled channels): another dimensionality."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv1d(channels, channels, 7, padding=3, bias=False)
        self.bn1 = nn.BatchNorm1d(channels)
        self.conv2 = nn.Conv1d(channels, channels, 7, padding=3, bias=False)
        self.bn2 = nn.BatchNorm1d(channels)
        self.fc1 = nn.Linear(channels, channels // 8)
        self.fc2 = nn.Linear(channels // 8, channels)

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        w = torch.sigmoid(self.fc2(torch.relu(self.fc1(out.mean(2)))))
        return torch.relu(out * w[:, :, None] + x)


class ECGSENet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv1d(1, 32, 15, padding=7)
        self.blocks = nn.Sequential(ECGSEBlock1d(32), ECGSEBlock1d(32))
        self.fc = nn.Linear(32, 4)

    def forward(self, x):
        return self.fc(self.blocks(self.stem(x)).mean(2))


# --- keyless activation slots in a Sequential body, three layouts ------------------------------


class Cifar100BasicBlock(nn.Module):  # weiaicunzai/pytorch-cifar100 models/resnet.py
    def __init__(self, in_channels: int, out_channels: int, stride: int = 1) -> None:
        super().__init__()
        self.residual_function = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
        )
        self.shortcut = nn.Sequential()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride, bias=False),
                nn.BatchNorm2d(out_channels),
            )

    def forward(self, x):
        return nn.functional.relu(self.residual_function(x) + self.shortcut(x))


class Cifar100ResNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Sequential(
            nn.Conv2d(3, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(inplace=True)
        )
        self.conv2_x = nn.Sequential(Cifar100BasicBlock(16, 16), Cifar100BasicBlock(16, 16))
        self.conv3_x = nn.Sequential(Cifar100BasicBlock(16, 32, 2), Cifar100BasicBlock(32, 32))
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        x = self.conv3_x(self.conv2_x(self.conv1(x)))
        return self.fc(x.mean((2, 3)))


class GeluDoubleConv(nn.Module):  # dome272/Diffusion-Models-pytorch modules.py DoubleConv
    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.double_conv = nn.Sequential(
            nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
            nn.GroupNorm(1, c_out),
            nn.GELU(),
            nn.Conv2d(c_out, c_out, 3, padding=1, bias=False),
            nn.GroupNorm(1, c_out),
        )

    def forward(self, x):
        return self.double_conv(x)


class GeluDoubleConvUNet(nn.Module):
    """Two levels of dome272's Down/Up (max pool then DoubleConv; bilinear up, concat, DoubleConv)
    without its time embedding."""

    def __init__(self) -> None:
        super().__init__()
        self.inc = GeluDoubleConv(3, 8)
        self.down1 = nn.Sequential(nn.MaxPool2d(2), GeluDoubleConv(8, 16))
        self.up = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True)
        self.up1 = GeluDoubleConv(24, 8)
        self.outc = nn.Conv2d(8, 3, 1)

    def forward(self, x):
        x1 = self.inc(x)
        x2 = self.down1(x1)
        return self.outc(self.up1(torch.cat([x1, self.up(x2)], 1)))


SE_LAYOUTS = {
    "cifar100_se_bottleneck": (Cifar100SEResNet50, (2, 3, 16, 16)),
    "linear_se_mbconv": (LinearSEEfficientNet, (2, 3, 16, 16)),
    "ecg_se_1d": (ECGSENet, (2, 1, 64)),
}
SLOT_LAYOUTS = {
    "cifar100_resnet": (Cifar100ResNet, (2, 3, 16, 16)),
    "gelu_double_conv_unet": (GeluDoubleConvUNet, (2, 3, 16, 16)),
    "senet_pytorch_se_resnet": (SEResNetCifar, (2, 3, 32, 32)),  # its SELayer's `fc` Sequential
}


def generated(layouts, name, tmp_path) -> tuple[str, str]:
    reference, x = reference_and_input(*layouts[name])
    model, source = generative_zoo_check.generate(reference, tmp_path, "--quiet")
    found, diff = generative_zoo_check.verdict(reference, (x,), model, source)
    assert found != "WRONG", f"{name}: differs by {diff:.3g} and nothing says so"
    return source, found


@pytest.mark.parametrize("name", sorted(SE_LAYOUTS))
def test_one_width_is_one_parameter(name, tmp_path):
    source, _ = generated(SE_LAYOUTS, name, tmp_path)
    assert not duplicated_parameters(source)


@pytest.mark.parametrize("name", sorted(SLOT_LAYOUTS))
def test_registered_activation_slots_are_called(name, tmp_path):
    source, _ = generated(SLOT_LAYOUTS, name, tmp_path)
    assert not uncalled_activation_slots(source)


def test_the_checks_see_what_they_look_for():
    source = """
class Block(nn.Module):
    def __init__(self, input_dim: int, hidden_channels: int) -> None:
        self.body = nn.Sequential(nn.Conv2d(3, 3, 1), nn.ReLU(), nn.Conv2d(3, 3, 1))

    def forward(self, x):
        return self.body[2](F.relu(self.body[0](x)))


class RecoveredModel(nn.Module):
    def __init__(self) -> None:
        self.a = Block(input_dim=c, hidden_channels=c)
        self.b = Block(input_dim=d, hidden_channels=d)
"""
    assert duplicated_parameters(source) == ["Block(hidden_channels, input_dim)"]
    assert uncalled_activation_slots(source) == ["Block.body[1]"]


# --- a class's own weight and bias: which size is read, which given ----------------------------


class RawDense(nn.Module):  # JAX-style ports: x @ W + b with W [in, out] (GPT-2's Conv1D layout)
    def __init__(self, n_in: int, n_out: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(n_in, n_out) * n_in**-0.5)
        self.bias = nn.Parameter(torch.zeros(n_out))

    def forward(self, x):
        return x @ self.weight + self.bias


class RawLinear(nn.Module):  # hand-written F.linear layers: W [out, in], as nn.Linear holds it
    def __init__(self, n_in: int, n_out: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(n_out, n_in) * n_in**-0.5)
        self.bias = nn.Parameter(torch.zeros(n_out))

    def forward(self, x):
        return nn.functional.linear(x, self.weight, self.bias)


class RawMLP(nn.Module):
    def __init__(self, layer: type) -> None:
        super().__init__()
        self.fc1, self.fc2, self.head = layer(12, 48), layer(48, 12), layer(12, 3)

    def forward(self, x):
        return self.head(self.fc2(torch.relu(self.fc1(x))))


def gpt2():
    import transformers

    config = transformers.GPT2Config(vocab_size=100, n_layer=2, n_head=4, n_embd=32, n_positions=64)
    return transformers.GPT2LMHeadModel(config)


WEIGHT_LAYOUTS = {
    "raw_dense": (lambda: RawMLP(RawDense), (2, 12)),
    "raw_linear": (lambda: RawMLP(RawLinear), (2, 12)),
}


@pytest.mark.parametrize("name", sorted(WEIGHT_LAYOUTS) + ["hf_gpt2"])
def test_a_weight_s_sizes_are_named_by_the_bias_they_follow(name, tmp_path):
    if name == "hf_gpt2":  # the Conv1D class of transformers' GPT-2, from its state dict
        torch.manual_seed(0)
        model, _ = generative_zoo_check.generate(gpt2().eval(), tmp_path, "--quiet")
        source = (tmp_path / "model.py").read_text()
    else:
        source, _ = generated(WEIGHT_LAYOUTS, name, tmp_path)
    assert "weight_dim" not in source and "dim: int" not in source.replace("_dim: int", "")
    if "nn.Parameter(" in source:  # (W [out, in] reads as an nn.Linear: no raw parameters)
        assert "nn.Parameter(torch.zeros(output_dim))" in source
