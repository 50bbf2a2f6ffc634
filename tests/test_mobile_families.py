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

import importlib.util

import pytest
import torch
import torch.nn as nn

from codegen.cli.main import main

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


def _unit_scale(model: nn.Module) -> nn.Module:
    torch.manual_seed(0)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() >= 2:
                p.normal_(0, p[0].numel() ** -0.5)
            elif name.endswith("bias"):
                p.normal_(0, 0.1)
            else:
                p.normal_(1, 0.2)
        for name, b in model.named_buffers():
            if name.endswith("running_var"):
                b.uniform_(0.5, 1.5)
            elif name.endswith("running_mean"):
                b.normal_(0, 0.1)
    return model.eval()


def _generate(name: str, tmp_path, capsys):
    torch.manual_seed(0)
    reference = _unit_scale(FAMILIES[name]())
    folder = tmp_path / "hf"
    reference.save_pretrained(folder)
    out = tmp_path / "model.py"
    assert main(["generate", str(folder), "-o", str(out)]) == 0
    assert "internal error" not in capsys.readouterr().err
    spec = importlib.util.spec_from_file_location(f"gen_{name}_{id(out)}", out)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    from safetensors.torch import load_file

    model = module.RecoveredModel().eval()
    model.load_state_dict(load_file(folder / "model.safetensors"), strict=True)
    return reference, model, out.read_text()


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
