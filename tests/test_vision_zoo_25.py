"""Ten CNN / hybrid classifiers as other repositories write them (tests/vision_zoo_25_models.py:
torchvision's ViT, timm's distilled DeiT, microsoft's Swin Transformer, timm's ResNet-18-D, timm's
CaiT, timm's BEiT, timm's gMLP, Meituan's Twins-SVT, Andrew-Qibin's Vision Permutator and
facebookresearch's ConViT). Each loads strictly and generates without an internal error; its
output is the reference's, or the file flags a class as guessed or missing (never silently
wrong); every depthwise and grouped conv keeps the reference's `groups`.
"""

from __future__ import annotations

import pytest

from tests import vision_zoo_25_models as zoo
from tests.zoo_verdicts import keys_tests

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


# From the keys alone (no config, no calibration). Measured blind when this zoo was written
# (session 28, main at baa2b4e + the zoo, 2026-12-02, before any change made for it;
# `python benchmarks/bench_vision_zoo.py 25`): 1 exact (ResNet-18-D), 9 flagged, 0 WRONG, 0 crash.
# Calibrated (`--calibrate --budget 30`): still 1 exact, 9 flagged (the same row exact).
EXACT_FROM_KEYS = {"timm_resnet18d"}

# Blind groups findings (strict xfails: each fails the suite once fixed; then drop it here).
KNOWN_GROUPS: dict[str, str] = {}

test_exact_or_flagged_from_the_keys, test_depthwise_and_grouped_convs_keep_their_groups = (
    keys_tests(zoo, EXACT_FROM_KEYS, "--force", known_groups=KNOWN_GROUPS)
)
