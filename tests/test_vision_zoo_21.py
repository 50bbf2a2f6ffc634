"""Ten CNN / hybrid classifiers as other repositories write them (tests/vision_zoo_21_models.py:
hysts's Shake-Shake ResNet, Jongchan's CBAM ResNet, houqb's Coordinate Attention MobileNetV2,
DingXiaoH's ACNet in its train form, chinhsuanwu's MobileViT, VAN, sail-sg's ConvFormer, osmr's
DiracNetV2, chenyaofo's CIFAR VGG11-BN and timm's EfficientNet-EdgeTPU-S). Each loads strictly and
generates without an internal error; its output is the reference's, or the file flags a class as
guessed or missing (never silently wrong); every depthwise and grouped conv keeps the reference's
`groups`.
"""

from __future__ import annotations

import pytest

from tests import vision_zoo_21_models as zoo
from tests.zoo_verdicts import keys_tests

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


# From the keys alone (no config, no calibration). Measured blind when this zoo was written
# (session 21, main at 3f9e045 + the zoo, 2026-12-01, before any change made for it;
# `python benchmarks/bench_vision_zoo.py 21`): 1 exact (chenyaofo_vgg11_bn), 9 flagged, 0 WRONG,
# 0 crash. After session 22: jongchan_cbam_resnet (blocks/conv_block_attention.py, spatial_gate.py,
# squeeze_excite.py's mean_and_max squeeze), timm_efficientnet_es (its fused-then-inverted body
# read as EfficientNet-EdgeTPU: the stage strides, its first block without a skip) and
# dingxiaoh_acnet (ACNet's asymmetric block summed; VGG's pools and last activation between and
# after blocks).
EXACT_FROM_KEYS: set[str] = {
    "chenyaofo_vgg11_bn",
    "dingxiaoh_acnet",
    "jongchan_cbam_resnet",
    "timm_efficientnet_es",
}

test_exact_or_flagged_from_the_keys, test_depthwise_and_grouped_convs_keep_their_groups = (
    keys_tests(zoo, EXACT_FROM_KEYS, "--force")
)
