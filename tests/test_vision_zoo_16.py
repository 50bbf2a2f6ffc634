"""Ten CNN classifiers as other repositories write them (tests/vision_zoo_16_models.py:
torchvision's RegNetX, timm's EfficientNet-Lite0, MixNet-S, GhostNetV2, PP-LCNet and DPN-68b,
lukemelas' EfficientNet-PyTorch, kuangliu/pytorch-cifar's ShuffleNetV2,
weiaicunzai/pytorch-cifar100's ResNeXt, Cadene's FBResNet). Each loads strictly and generates
without an internal error; its output is the reference's, or the file flags a class as guessed or
missing (never silently wrong); every depthwise and grouped conv keeps the reference's `groups`.
"""

from __future__ import annotations

import pytest

from tests import vision_zoo_16_models as zoo
from tests.zoo_verdicts import keys_tests

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


# From the keys alone (no config, no calibration). Measured blind when this zoo was written
# (session 16, main at the session start (cec64cb) + the zoo, 2026-12-01, before any change made
# for it; `python benchmarks/bench_vision_zoo.py 16`): 3 exact, 7 flagged, 0 WRONG, 0 crash.
EXACT_FROM_KEYS: set[str] = {
    "tv_regnet_x",
    "lukemelas_efficientnet",
    "cadene_fbresnet",
    # session 17 (vis17): GhostNetV2's DFC gate branch (blocks/_gate_branch.py), PP-LCNet's
    # separable blocks and hard-swish (blocks/separable_block.py, strides.mobile_family), and
    # EfficientNet-Lite's ReLU6 read from its 6x expansions (strides._inverted_body)
    "timm_ghostnetv2",
    "timm_lcnet",
    "timm_efficientnet_lite",
    # session 17 (groups17): the width reaching split_transforms' first 1x1 (the projection's, the
    # block before's) groups it (layers/conv_groups.py), so the block chains and the residual
    # pattern claims it
    "cifar100_resnext",
    # session 17 (split17): MixedConv2d's convs read one tensor split by their widths, concatenated
    # (a norm beside them as wide as their outputs together: blocks/split_concat.py); the MixNet
    # family's strides and its swish in the squeeze-excited blocks (strides: mixnet_swish_blocks)
    "timm_mixnet",
}

# Blind findings (2026-12-01); both rows were flagged (a block class missing), so not WRONG.
# pytorch-cifar100 ResNeXt's grouped FIRST 1x1 (`conv2.0.split_transforms.0`:
# Conv2d(16, 8, 1, groups=4), weight [8, 4, 1, 1]) is built as Conv2d(4, 8, 1): the width before it
# (16, the stem's) says groups 4. timm DPN-68b's grouped 3x3 (`features.conv2_1.c3x3_b.conv`:
# Conv2d(16, 16, 3, groups=4), weight [16, 4, 3, 3]) is built as Conv2d(4, 16, 3): the 1x1 before
# it (`c1x1_a`, 16 out) says groups 4.
# Both fixed in session 17 (layers/conv_groups.py: the width reaching a conv).
KNOWN_GROUPS: dict[str, str] = {}

test_exact_or_flagged_from_the_keys, test_depthwise_and_grouped_convs_keep_their_groups = (
    keys_tests(zoo, EXACT_FROM_KEYS, "--force", known_groups=KNOWN_GROUPS)
)
