"""MobileNetV1, MobileNetV2 and EfficientNet from transformers' tiny configs, generated from the
folder a user has (config.json + safetensors) and compared output for output with the library's
forward (atol 1e-5). Every weight is redrawn at unit scale first, as the family benchmark does, so
a pixel of padding on the wrong side shows above the tolerance.

What the weights cannot show and config.json fixes: TensorFlow's 'SAME' padding (`tf_padding`,
computed from each input's size, so odd sizes are checked too), EfficientNet's Keras padding
before a strided conv (`depthwise_padding` lists the blocks that pad evenly), its stride table and
the residual it skips on each row's first block (`strides`, `num_block_repeats`), MobileNetV1's
stride schedule (`model_type`), and the activation (`hidden_act`: relu6, swish).
"""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn

from codegen.cli.main import main
from tests.redraw import unit_scale
from tests.generated_module import generate_from_folder, load_module

transformers = pytest.importorskip("transformers")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")

T = transformers
MOBILENET_V2 = dict(depth_multiplier=0.25, image_size=32)
EFFICIENTNET = dict(image_size=32, width_coefficient=0.25, depth_coefficient=0.25, hidden_dim=320)
FAMILIES = {
    "mobilenet_v2": lambda: T.MobileNetV2ForImageClassification(
        T.MobileNetV2Config(**MOBILENET_V2, num_labels=5)
    ),
    "mobilenet_v2_no_tf_padding": lambda: T.MobileNetV2ForImageClassification(
        T.MobileNetV2Config(**MOBILENET_V2, tf_padding=False, num_labels=5)
    ),
    "mobilenet_v2_model": lambda: T.MobileNetV2Model(T.MobileNetV2Config(**MOBILENET_V2)),
    "efficientnet": lambda: T.EfficientNetForImageClassification(
        T.EfficientNetConfig(**EFFICIENTNET, num_labels=5)
    ),
    # Full depth: rows repeat, so one block class serves first and later blocks of a row; two
    # blocks listed as padding evenly before their strided depthwise conv.
    "efficientnet_deep": lambda: T.EfficientNetForImageClassification(
        T.EfficientNetConfig(
            **{**EFFICIENTNET, "depth_coefficient": 1.0}, depthwise_padding=[3, 5], num_labels=5
        )
    ),
    "efficientnet_model": lambda: T.EfficientNetModel(T.EfficientNetConfig(**EFFICIENTNET)),
    "mobilenet_v1": lambda: T.MobileNetV1ForImageClassification(
        T.MobileNetV1Config(depth_multiplier=0.25, image_size=32, num_labels=5)
    ),
    "mobilenet_v1_no_tf_padding": lambda: T.MobileNetV1ForImageClassification(
        T.MobileNetV1Config(depth_multiplier=0.25, image_size=32, tf_padding=False, num_labels=5)
    ),
}


def _generate(name: str, tmp_path, capsys):
    torch.manual_seed(0)
    reference = unit_scale(FAMILIES[name]())
    source, model = generate_from_folder(tmp_path, reference)
    assert "internal error" not in capsys.readouterr().err
    return reference, model, source


def _library_output(reference: nn.Module, x: torch.Tensor) -> torch.Tensor:
    out = reference(pixel_values=x)
    return out.logits if hasattr(out, "logits") else out.last_hidden_state


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_exact_from_the_folder(name, tmp_path, capsys):
    """Exact at an even and an odd input size (where TF 'SAME' and Keras' padding part ways), and
    the generated model scripts."""
    reference, model, source = _generate(name, tmp_path, capsys)
    torch.manual_seed(1)
    for size in (32, 33):
        x = torch.randn(2, 3, size, size)
        with torch.no_grad():
            want = _library_output(reference, x)
            got = model(x)
        got = got[0] if isinstance(got, tuple) else got
        torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-4, msg=f"{name} at {size}")
    scripted = torch.jit.script(model)
    with torch.no_grad():
        torch.testing.assert_close(scripted(x), model(x))
    assert "raise NotImplementedError" not in source
    assert "does not use" not in source  # every config key is used or known to change nothing


def test_padding_is_cited(tmp_path, capsys):
    """The padding the constructor cannot express is a step of the forward, from the conv's own
    kernel and stride, and the file says which config.json key fixed it."""
    _, _, tf = _generate("mobilenet_v2", tmp_path / "tf", capsys)
    _, _, plain = _generate("mobilenet_v2_no_tf_padding", tmp_path / "plain", capsys)
    _, _, keras = _generate("efficientnet", tmp_path / "keras", capsys)
    assert "pad_same(" in tf and "tf_padding" in tf
    assert "pad_same" not in plain and "padding=1" in plain
    assert "pad_same_even(" in keras and "depthwise_padding" in keras
    assert "pad_same(" not in keras  # Keras' padding is fixed, not computed per input


def test_a_class_holding_first_and_later_blocks_of_a_row_is_flagged(tmp_path, capsys):
    """A row of two blocks that keep the shape: the library adds no residual on the first
    (id_skip) and adds it on the second, and both are one class; its forward raises naming the
    gap rather than computing one of them wrong."""
    config = T.EfficientNetConfig(
        **{**EFFICIENTNET, "depth_coefficient": 1.0},
        num_block_repeats=[2, 1, 1, 1, 1, 1, 1],
        num_labels=5,
    )
    FAMILIES["_mixed_row"] = lambda: T.EfficientNetForImageClassification(config)
    try:
        _, model, source = _generate("_mixed_row", tmp_path, capsys)
    finally:
        del FAMILIES["_mixed_row"]
    assert "id_skip" in " ".join(source.split())
    with pytest.raises(NotImplementedError):
        model(torch.randn(1, 3, 32, 32))


def test_a_padded_conv_inside_a_container_called_whole_is_flagged():
    """Graph.prepare pads a conv's input where a pattern calls the conv; a Sequential called
    whole cannot pad inside itself, so the class's forward is missing, never silently unpadded."""
    from codegen.analyze.dataflow import _padding_first
    from codegen.ir import Choice, ClassDef, Module
    from codegen.ir.graph import Graph

    conv = Module("0", "builtin", "nn.Conv2d")
    conv.choices.append(Choice("padding", "pad_same", [1], "metadata", "config.json tf_padding"))
    cls = ClassDef("Net", members=[Module("body", "sequential", "nn.Sequential", children=[conv])])
    unpadded: list[str] = []
    g = Graph()
    g.prepare = _padding_first(cls, {}, unpadded)
    g.call_module(("body",), g.input("x"))
    assert unpadded == ["body.0"]
    g2 = Graph()
    g2.prepare = _padding_first(ClassDef("Conv", members=[conv]), {}, [])
    g2.call_module(("0",), g2.input("x"))
    assert [n.target for n in g2.nodes if n.op == "call_function"] == ["pad_same"]


# ------------------------------------------- a MobileNetV3 net, written as torchvision writes it


class Conv2dNormActivation(nn.Sequential):  # torchvision.ops.misc.Conv2dNormActivation
    def __init__(
        self, c_in: int, c_out: int, k: int = 3, stride: int = 1, groups: int = 1, act=nn.Hardswish
    ):
        layers = [
            nn.Conv2d(c_in, c_out, k, stride, (k - 1) // 2, groups=groups, bias=False),
            nn.BatchNorm2d(c_out, eps=0.001, momentum=0.01),
        ]
        if act is not None:
            layers.append(act(inplace=True))
        super().__init__(*layers)


class SqueezeExcitation(nn.Module):  # torchvision.ops.misc.SqueezeExcitation, V3's hard gate
    def __init__(self, c: int, squeeze: int) -> None:
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(c, squeeze, 1)
        self.fc2 = nn.Conv2d(squeeze, c, 1)
        self.activation = nn.ReLU()
        self.scale_activation = nn.Hardsigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.scale_activation(self.fc2(self.activation(self.fc1(self.avgpool(x)))))


class InvertedResidualV3(nn.Module):  # torchvision.models.mobilenetv3.InvertedResidual
    def __init__(self, c_in, expanded, c_out, k, stride, use_se, act) -> None:
        super().__init__()
        self.use_res_connect = stride == 1 and c_in == c_out
        layers: list[nn.Module] = []
        if expanded != c_in:
            layers.append(Conv2dNormActivation(c_in, expanded, 1, act=act))
        layers.append(Conv2dNormActivation(expanded, expanded, k, stride, expanded, act=act))
        if use_se:
            layers.append(SqueezeExcitation(expanded, max(8, expanded // 4 // 8 * 8)))
        layers.append(Conv2dNormActivation(expanded, c_out, 1, act=None))
        self.block = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.block(x)
        return out + x if self.use_res_connect else out


class MobileNetV3(nn.Module):  # MobileNetV3-Small's first rows, narrowed
    ROWS = [  # in, expanded, out, kernel, stride, squeeze-excitation, activation
        (16, 16, 16, 3, 2, True, nn.ReLU),
        (16, 72, 24, 3, 2, False, nn.ReLU),
        (24, 88, 24, 3, 1, False, nn.ReLU),
        (24, 96, 40, 5, 2, True, nn.Hardswish),
        (40, 240, 40, 5, 1, True, nn.Hardswish),
    ]

    def __init__(self, num_classes: int = 5) -> None:
        super().__init__()
        layers: list[nn.Module] = [Conv2dNormActivation(3, 16, 3, 2)]
        layers += [InvertedResidualV3(*row) for row in self.ROWS]
        layers.append(Conv2dNormActivation(40, 240, 1))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(
            nn.Linear(240, 64),
            nn.Hardswish(inplace=True),
            nn.Dropout(0.2),
            nn.Linear(64, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


ACTIVATION_NAMES = {nn.ReLU: "relu", nn.ReLU6: "relu6", nn.Hardswish: "hardswish"}


def _v3_hints(reference: MobileNetV3, ir=None) -> str:
    """What calibration or a user would pin, read off the reference: strides, norms' eps, the
    gate, the parameter-free layers between others, and (given the IR generated with those)
    each inverted residual class's activation."""
    modules = dict(reference.named_modules())
    lines = ['["SqueezeExcite.fc2"]\ngate = "hardsigmoid"\n']
    for name, m in modules.items():
        if isinstance(m, nn.Conv2d) and m.stride != (1, 1):
            lines.append(f'["{name}"]\nstride = {m.stride[0]}\n')
        elif type(m) in (*ACTIVATION_NAMES, nn.Dropout) and "block" not in name:
            lines.append(f'["{name}"]\nmodule_type = "nn.{type(m).__name__}()"\n')
        elif isinstance(m, nn.BatchNorm2d):
            lines.append(f'["{name}"]\neps = {m.eps}\n')
    for cls in ir.classes if ir is not None else []:
        if cls.forward.pattern != "InvertedResidual" or not cls.instances:
            continue
        body = modules[cls.instances[0][0]].block
        act = next(type(m) for m in body.modules() if type(m) in ACTIVATION_NAMES)
        lines.append(f'["{cls.name}.block"]\nactivation = "{ACTIVATION_NAMES[act]}"\n')
    return "".join(lines)


def test_mobilenet_v3_written_as_torchvision_does(tmp_path):
    """Hard-swish, a squeeze-excitation gated by a hard sigmoid, conv-norm-activation Sequentials:
    from the weights alone (no config) the activations and strides are open choices and the file
    says the top is guessed; pinned (as --hints or calibration would), it is exact and scripts.
    Each block is one inverted residual, the squeeze-excitation inside it, even the first block,
    which opens with its depthwise conv."""
    from codegen.generate import generate_source
    from codegen.load import open_checkpoint

    torch.manual_seed(0)
    reference = unit_scale(MobileNetV3())
    ckpt = tmp_path / "weights.pt"
    torch.save(reference.state_dict(), ckpt)
    source, ir = generate_source(open_checkpoint(ckpt).table)
    patterns = {c.forward.pattern for c in ir.classes}
    assert "InvertedResidual" in patterns and "ResidualLayer" not in patterns
    assert any(c.forward.trust in ("guessed", "missing") for c in ir.classes)

    hints = tmp_path / "hints.toml"
    hints.write_text(_v3_hints(reference))
    _, pinned = generate_source(open_checkpoint(ckpt).table, hints_path=str(hints))
    hints.write_text(_v3_hints(reference, pinned))
    out = tmp_path / "model.py"
    assert main(["generate", str(ckpt), "-o", str(out), "--hints", str(hints)]) == 0
    module = load_module(out)
    model = module.RecoveredModel().eval()
    model.load_state_dict(reference.state_dict(), strict=True)
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(model(x), reference(x), atol=1e-5, rtol=1e-4)
    torch.jit.script(model)
