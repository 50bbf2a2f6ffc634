"""Ten CNN classifiers as other repositories write them (tests/vision_zoo_15_models.py:
torchvision's EfficientNetV2, kuangliu/pytorch-cifar's ShuffleNet and RegNetY,
weiaicunzai/pytorch-cifar100's SE-ResNet and WideResNet, osmr/imgclsmob's MobileNetV2, Cadene's
InceptionV4, fastai's XResNet-50, d2l's GoogLeNet, huawei-noah's GhostNet). Each loads strictly and
generates without an internal error; its output is the reference's, or the file flags a class as
guessed or missing (never silently wrong); every depthwise and grouped conv keeps the reference's
`groups`.
"""

from __future__ import annotations

import pytest

from tests import vision_zoo_15_models as zoo
from tests.zoo_verdicts import keys_tests

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


# From the keys alone (no config, no calibration). Measured blind when this zoo was written
# (session 15, main at the session start (59edbdd) + the zoo, 2026-11-30, before any change made
# for it; `python benchmarks/bench_vision_zoo.py 15`): 1 exact, 9 flagged, 0 WRONG, 0 crash.
# Session 16, after res16 (same command): 4 exact, 6 flagged, 0 WRONG, 0 crash: residual blocks
# as sibling paths (the shortcut told by shapes, an SE beside the body, pre-activation body
# Sequentials) and sum vs concat proved by what reads the block (analyze/joins.py). After mob16
# (its branch alone): 3 more (MBConv/FusedMBConv eps, numbered units, ghost bottlenecks). Still
# flagged after branch16: d2l_googlenet's Inception is inferred now (flat branches proven by
# widths, concat_block.py), its Sequentials' trailing ReLU and pools leave no keys (the top stays
# guessed); kuangliu_shufflenet keeps every conv's groups, its units guessed (the shuffle and the
# concat-or-add leave no keys); cadene_inceptionv4 unchanged.
EXACT_FROM_KEYS: set[str] = {
    "kuangliu_regnety",
    "cifar100_seresnet",  # `residual` is the body: the one 1x1 `shortcut` beside it; SE before add
    "cifar100_wideresnet",  # the first norm reads the block's input: a pre-activation body
    "fastai_xresnet50",  # the next block reads one path's width: summed; a listed deep stem
    "tv_efficientnet_v2",
    "osmr_mobilenetv2",
    "huawei_ghostnet",
}

# Blind finding (2026-11-30), fixed in session 16 (branch16): pytorch-cifar ShuffleNet's grouped
# 1x1 convs (`layer1.0.conv3`: Conv2d(4, 16, 1, groups=2), weight [16, 2, 1, 1]) were built
# ungrouped; layers/conv.py's pointwise_groups reads them from the depthwise conv beside them.

test_exact_or_flagged_from_the_keys, test_depthwise_and_grouped_convs_keep_their_groups = (
    keys_tests(zoo, EXACT_FROM_KEYS, "--force")
)
