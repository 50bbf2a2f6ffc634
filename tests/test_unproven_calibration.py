"""A calibration that did not reproduce its data proves nothing: the classes whose forward holds a
value it picked say guessed (codegen/analyze/unproven.py), while a verified file keeps its trust."""

from __future__ import annotations

from codegen.analyze import analyze
from codegen.analyze.unproven import flag_unproven_calibration
from codegen.ir import class_choices
from tests.test_analyze_ir import batchnorm, table


def resnet_layer() -> dict[str, tuple[int, ...]]:
    """A stem, a projecting BasicBlock and an identity one, a head: torchvision's key names."""
    shapes = {"stem.weight": (8, 3, 3, 3), **batchnorm("bn", 8)}
    for i, (c_in, c_out) in enumerate([(8, 16), (16, 16)]):
        block = f"layer.{i}"
        shapes[f"{block}.conv1.weight"] = (c_out, c_in, 3, 3)
        shapes[f"{block}.conv2.weight"] = (c_out, c_out, 3, 3)
        shapes.update({**batchnorm(f"{block}.bn1", c_out), **batchnorm(f"{block}.bn2", c_out)})
        if c_in != c_out:
            shapes[f"{block}.downsample.0.weight"] = (c_out, c_in, 1, 1)
            shapes.update(batchnorm(f"{block}.downsample.1", c_out))
    return {**shapes, "fc.weight": (4, 16), "fc.bias": (4,)}


# Where the projecting block strides, as a hint pins it: from the keys alone the strided conv is
# a guess (a blur after it leaves the same keys: patterns/blocks/residual.py).
STRIDES = {path: {"stride": 2} for path in ("layer.0.conv1", "layer.0.downsample.0")}


def _calibrated_block():
    """The net analysed with one of its block's choices moved, as a calibration would."""
    plain = analyze(table(resnet_layer()), hints=STRIDES)
    block = next(c for c in plain.classes if c.name == "BasicBlock")
    assert block.forward.trust == "inferred"
    moved = next(c for c in class_choices([block]) if c.alternatives)
    picked = {(moved.path, moved.name): moved.alternatives[0]}
    return analyze(table(resnet_layer()), hints=STRIDES, calibrated=picked), picked


def test_an_unreproduced_calibration_leaves_its_classes_guessed():
    ir, picked = _calibrated_block()
    flag_unproven_calibration(ir, picked)
    block = next(c for c in ir.classes if c.name == "BasicBlock")
    assert block.forward.trust == "guessed"
    assert "without reproducing the recorded outputs" in block.forward.trust_note
    (path, name), _ = next(iter(picked.items()))
    assert name in block.forward.trust_note


def test_a_verified_calibration_keeps_the_trust_its_patterns_give():
    ir, picked = _calibrated_block()
    ir.source.verified = "recorded.pt"
    flag_unproven_calibration(ir, picked)
    assert next(c for c in ir.classes if c.name == "BasicBlock").forward.trust == "inferred"


def test_without_a_calibration_nothing_changes():
    ir = analyze(table(resnet_layer()))
    before = {c.name: c.forward.trust for c in ir.classes}
    flag_unproven_calibration(ir, None)
    assert {c.name: c.forward.trust for c in ir.classes} == before
