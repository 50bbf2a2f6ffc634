"""Ten CNN classifiers as other repositories write them (tests/vision_zoo_17_models.py: timm's
RegNetZ, SelecSLS, HGNetV2, InceptionNeXt, VGG with its ConvMlp pre-logits, RepGhostNet and
ResNet-blur, apple's ml-mobileone in its train-time form, kuangliu/pytorch-cifar's DLA,
Robert-JunWang's PeleeNet). Each loads strictly and generates without an internal error; its
output is the reference's, or the file flags a class as guessed or missing (never silently
wrong); every depthwise and grouped conv keeps the reference's `groups`.
"""

from __future__ import annotations

import pytest

from tests import vision_zoo_17_models as zoo
from tests.zoo_verdicts import keys_tests

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


# From the keys alone (no config, no calibration). Measured blind when this zoo was written
# (session 17, main at the session start (9f2a8a4) + the zoo, 2026-12-01, before any change made
# for it; `python benchmarks/bench_vision_zoo.py 17`): 0 exact, 10 flagged, 0 WRONG, 0 crash.
# Session 18 (vis18): ml-mobileone's train-time branches, a `rbr_conv` list beside `rbr_scale`
# and `rbr_skip`, are summed (blocks/branch_sum.py's listed branches) and the blocks without the
# identity branch stride (analyze/strides.py's branch_block). timm's VGG `pre_logits` ConvMlp
# is a conv head after the trunk (families/features_classifier.py): its 7x7 conv covers the map.
# (wire18): DLA's trees wired by blocks/solved_wiring.py (root = cat(left, right)).
EXACT_FROM_KEYS: set[str] = {"apple_mobileone", "timm_vgg_prelogits", "kuangliu_dla"}

# Blind findings (2026-12-01), fixed in session 18 (layers/conv_groups.py): timm RegNetZ's grouped
# 3x3 (`conv2_kxk`, weight [32, 8, 3, 3]) reads what the 1x1 unit before it gives (rule 4: after a
# sibling unit); ml-mobileone's depthwise 1x1 `rbr_scale` ([8, 1, 1, 1]) sits beside the depthwise
# `rbr_conv` branches over one input (rule 5: a 1x1 branch beside a depthwise one).
KNOWN_GROUPS: dict[str, str] = {}

test_exact_or_flagged_from_the_keys, test_depthwise_and_grouped_convs_keep_their_groups = (
    keys_tests(zoo, EXACT_FROM_KEYS, "--force", known_groups=KNOWN_GROUPS)
)
