"""Ten CNN classifiers as other repositories write them (tests/vision_zoo_19_models.py:
torchvision's MobileNetV3-Large, SqueezeNet 1.0 and VGG-11, timm's tf_efficientnet, ResNet-50-GN
and ConvNeXt-V2, ma-xu's StarNet, JierunChen's FasterNet, XingangPan's IBN-Net ResNet-50-IBN-a,
Ultralytics' YOLOv8-cls). Each loads strictly and generates without an internal error; its
output is the reference's, or the file flags a class as guessed or missing (never silently
wrong); every depthwise and grouped conv keeps the reference's `groups`.
"""

from __future__ import annotations

import pytest

from tests import vision_zoo_19_models as zoo
from tests.zoo_verdicts import keys_tests

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


# From the keys alone (no config, no calibration). Measured blind when this zoo was written
# (session 19, main at the session start (02cc85d) + the zoo, 2026-12-01, before any change made
# for it; `python benchmarks/bench_vision_zoo.py 19`): 4 exact (tv_mobilenet_v3_large,
# tv_squeezenet1_0, tv_vgg11, timm_convnextv2), 6 flagged, 0 WRONG, 0 crash.
EXACT_FROM_KEYS: set[str] = {
    "tv_mobilenet_v3_large",
    "tv_squeezenet1_0",
    "tv_vgg11",
    "timm_convnextv2",
    # vis20a: `bn` slots with no running statistics after a conv read as GroupNorm(32)
    "timm_resnet50_gn",
    # vis20a: a batch norm beside a statistic-free norm splits the channels (IBN-Net's order)
    "xingangpan_ibn_resnet50",
}

test_exact_or_flagged_from_the_keys, test_depthwise_and_grouped_convs_keep_their_groups = (
    keys_tests(zoo, EXACT_FROM_KEYS, "--force")
)
