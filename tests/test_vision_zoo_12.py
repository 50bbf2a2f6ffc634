"""Ten CNN classifiers as other widely used repositories write them (tests/vision_zoo_12_models.py:
mmpretrain's ResNet-V1d and MobileNetV2, Detectron2's ResNet, Megvii's ShuffleNetV2, RepVGG in its
training form, facebookresearch's ConvNeXt, Cadene's Inception-ResNet-v2, Google's BiT, imgclsmob's
PreResNet, a Keras-applications ResNet port). Each loads strictly and generates without an
internal error; its output is the reference's, or the file flags a class as guessed or missing
(never silently wrong); every depthwise and grouped conv keeps the reference's `groups`.

And the mechanisms written in session 12, each on a second layout of its kind: a deep stem of
conv-norm unit classes (mmsegmentation's ResNetV1c), re-parameterisable blocks as numbered
Sequentials (YOLOv7's RepConv), pre-activation unit classes never read as post-activation.
"""

from __future__ import annotations

import re

import pytest
import torch
import torch.nn as nn

from tests import vision_zoo_12_models as zoo
from tests.redraw import reference_and_input
from tests.zoo_verdicts import generate_from_state_dict, keys_tests, verdict

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


def _generate(reference: nn.Module, tmp_path, capsys) -> tuple[nn.Module, str]:
    return generate_from_state_dict(reference, tmp_path, capsys, "--force")


# From the keys alone (no config, no calibration). Measured when this zoo was written (session 12,
# branch cnn12 at 92fc381, before any change made for it; `python benchmarks/bench_vision_zoo.py
# 12`): 0 exact, 10 flagged, 0 WRONG, 0 crash. Then exact: facebookresearch's ConvNeXt (its
# downsamplers and stages in two lists, families/staged_lists.py; the block's GELU and eps pins),
# RepVGG's training form (blocks/branch_sum.py: the branches summed; a block without its identity
# branch halves the resolution), mmpretrain's ResNet-V1d (a deep stem of ConvModule classes:
# its first conv halves, a 3/2/1 max-pool follows, the first stage keeps the resolution).
# Session 13: Detectron2's ResNet (its convs hold their norms: strides.held_norm, the conv built
# with the norm attached; the stride on the bottleneck's first 1x1, Detectron2's default); the
# Keras port (families/keras_resnet.py: its flat Keras layer names fix the strides and eps);
# BiT's ResNetV2 (GroupNorm pre-activation blocks identify its weight-standardised convs,
# analyze/weight_standardization.py; its root's zero-padded pool; its conv head); imgclsmob's
# PreResNet (blocks/preact_unit.py: the projection reads what the body's first unit
# pre-activated; its PreConvBlocks of one width read as the widening one; its post_activ).
# Session 13: Megvii's ShuffleNetV2 (blocks/channel_shuffle.py's second layout: the even/odd
# split, no shuffle after the concatenation; the two-branch units and the stem stride 2, the
# stem's 3/2/1 max-pool follows, analyze/strides.py and blocks/chain.py) and Cadene's
# Inception-ResNet-v2 (blocks/inception_residual.py: the scaled residual at the paper's 0.17,
# pinning TF-slim's eps 1e-3 and its unpadded, max-pooled stem).
# Session 13: mmpretrain's MobileNetV2 (the mobile stage strides, its stem a ConvModule of its own
# halving; ReLU6; its first block an inverted residual since the keys show the body expands).
EXACT_FROM_KEYS = {
    "bit_resnetv2",
    "osmr_preresnet",
    "fb_convnext",
    "repvgg_train",
    "mm_resnet_v1d",
    "detectron2_resnet",
    "keras_resnet",
    "megvii_shufflenet_v2",
    "cadene_inception_resnet_v2",
    "mm_mobilenet_v2",
}


test_exact_or_flagged_from_the_keys, test_depthwise_and_grouped_convs_keep_their_groups = (
    keys_tests(zoo, EXACT_FROM_KEYS, "--force")
)


# ------------------------------------------- the mechanisms, each on a second layout of its kind


def mm_resnet_v1c() -> nn.Module:
    """mmsegmentation's default backbone, ResNetV1c: the deep stem of ConvModules without the
    average-pooled downsample (its 1x1 projection strides), under `backbone.`, with a head."""
    return zoo.ImageClassifier(zoo.MmResNetV1d(avg_down=False), 64)


class YoloRepConv(nn.Module):
    """YOLOv7's RepConv in training form: the branches as numbered Sequentials (`rbr_dense.0`,
    `rbr_dense.1`), the identity batch norm where the block keeps its width and resolution."""

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        keeps = c_in == c_out and stride == 1
        self.rbr_identity = nn.BatchNorm2d(c_in) if keeps else None
        self.rbr_dense = nn.Sequential(
            nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False), nn.BatchNorm2d(c_out)
        )
        self.rbr_1x1 = nn.Sequential(
            nn.Conv2d(c_in, c_out, 1, stride, 0, bias=False), nn.BatchNorm2d(c_out)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.rbr_dense(x) + self.rbr_1x1(x)
        return torch.relu(out if self.rbr_identity is None else out + self.rbr_identity(x))


def rep_convs() -> nn.Module:
    return nn.Sequential(
        YoloRepConv(3, 8, 2),
        YoloRepConv(8, 8, 1),
        YoloRepConv(8, 16, 2),
        YoloRepConv(16, 16, 1),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(16, 3),
    )


def megvii_unequal_shufflenet() -> nn.Module:
    """Megvii's ShuffleNetV2 at widths where the downsampling unit's branches differ (8 channels
    projected, 16 from the main branch, as its 24 -> 116 first stage does), three units a stage:
    the even/odd split, the stride-2 units and the stem's pool, all conventions of the layout."""
    return zoo.MegviiShuffleNetV2(stages=((24, 3), (40, 2)), last=32)


SECOND_LAYOUTS = {  # name: (build, input shape)
    "megvii_unequal_shufflenet": (megvii_unequal_shufflenet, (2, 3, 112, 112)),
    "mm_resnet_v1c": (mm_resnet_v1c, (2, 3, 64, 64)),
    "yolo_rep_convs": (rep_convs, (2, 3, 32, 32)),
}


@pytest.mark.parametrize("name", sorted(SECOND_LAYOUTS))
def test_second_layouts_are_exact_from_the_keys(name, tmp_path, capsys):
    reference, x = reference_and_input(*SECOND_LAYOUTS[name])
    model, source = _generate(reference, tmp_path, capsys)
    assert verdict(reference, model, source, x) == "exact"


def test_pre_activated_units_are_not_read_as_post_activation(tmp_path, capsys):
    """imgclsmob's PreConvBlock (`bn`, `conv`) keeps the width in most units, where the keys
    cannot order the norm and the conv; the widening units prove norm-then-conv, so no unit of
    that layout is trusted as a post-activation conv-norm pair (it was: a silent error waiting
    for the rest of the model to be inferred). Session 13: read as pre-activation units, the
    model is exact (blocks/preact_unit.py)."""
    reference, x = zoo.build("osmr_preresnet")
    model, source = _generate(reference, tmp_path, capsys)
    trusts = dict(re.findall(r"^class (\w+)\(.*?\n    \"\"\"Forward trust: (\w+)", source, re.M))
    assert "BasicBlock" not in trusts and "ResidualLayer" not in trusts, trusts
    assert verdict(reference, model, source, x) == "exact"


def test_a_sequential_bottleneck_is_not_read_as_parallel_branches(tmp_path, capsys):
    """CSPDarkNet's bottleneck holds a 1x1 and a 3x3 conv-norm unit of one width, as RepVGG's
    branches do, but runs them one after the other: without an identity batch norm beside them,
    or widths that cannot chain, two such units are no re-parameterisable block."""
    from tests import vision_zoo_6_models as zoo6

    reference, x = zoo6.build("cspdarknet")
    model, source = _generate(reference, tmp_path, capsys)
    assert "RepBlock" not in source
    assert verdict(reference, model, source, x) != "WRONG"


def test_inception_residual_scale_is_a_choice_a_hint_moves(tmp_path, capsys):
    """The residual scale leaves no key: at the paper's 0.17 by default, the block says it is
    guessed; a network trained at another scale is flagged, and exact once the choice says so."""
    reference, x = zoo.build("cadene_inception_resnet_v2")
    for block in reference.repeat:
        block.scale = 0.3
    model, source = _generate(reference, tmp_path, capsys)
    assert re.search(r"class InceptionResidual\(.*\n    \"\"\"Forward trust: guessed", source)
    assert verdict(reference, model, source, x) == "flagged"
    (tmp_path / "hints.toml").write_text('["InceptionResidual"]\nresidual_scale = 0.3\n')
    hinted = ("--force", "--hints", str(tmp_path / "hints.toml"))
    model, source = generate_from_state_dict(reference, tmp_path, capsys, *hinted)
    torch.testing.assert_close(model(x), reference(x), atol=1e-5, rtol=1e-5)
