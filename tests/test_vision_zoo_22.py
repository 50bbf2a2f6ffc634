"""Ten CNN / hybrid classifiers as other repositories write them (tests/vision_zoo_22_models.py:
Coderx7's SimpleNet, d-li14's involution RedNet, leaderj1001's BoTNet, raoyongming's HorNet,
DingXiaoH's RepLKNet in its train form, osmr's IGCV3, apple ml-cvnets's MobileViTv2,
snap-research's EfficientFormer, landskape's Triplet Attention ResNet and ZjjConan's SimAM
ResNet). Each loads strictly and generates without an internal error; its output is the
reference's, or the file flags a class as guessed or missing (never silently wrong); every
depthwise and grouped conv keeps the reference's `groups`.
"""

from __future__ import annotations

import pytest

from tests import vision_zoo_22_models as zoo
from tests.zoo_verdicts import keys_tests

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


# From the keys alone (no config, no calibration). Measured blind when this zoo was written
# (session 22, main at 95e1323 + the zoo, 2026-12-01, before any change made for it;
# `python benchmarks/bench_vision_zoo.py 22`): 0 exact, 10 flagged, 0 WRONG, 0 crash.
# Calibrated (`--calibrate --budget 30`): still 0 exact, 10 flagged (every forward still raises).
# After session 23: leaderj1001_botnet (blocks/relative_content_attention.py, its MHSA as
# residual.py's spatial step, pooled after where the block strides); zjjconan_simam_resnet
# (blocks/residual.py reads a conv wrapped alone in a Sequential as SimAM's parameter-free
# attention after it, a guess the block names) and landskape_triplet_resnet
# (blocks/triplet_attention.py; a spatial gate's 7x7 is no stem).
EXACT_FROM_KEYS: set[str] = {
    "leaderj1001_botnet",
    "zjjconan_simam_resnet",
    "landskape_triplet_resnet",
}

# Blind finding, fixed in session 23: osmr_igcv3's grouped 1x1 convs (groups=2, weight
# [out, in / 2, 1, 1]) were built ungrouped at half the input width; layers/conv_groups.py's
# pointwise_groups now reads them from the unit's depthwise conv and the unit before it.
KNOWN_GROUPS: dict[str, str] = {}

test_exact_or_flagged_from_the_keys, test_depthwise_and_grouped_convs_keep_their_groups = (
    keys_tests(zoo, EXACT_FROM_KEYS, "--force", known_groups=KNOWN_GROUPS)
)
