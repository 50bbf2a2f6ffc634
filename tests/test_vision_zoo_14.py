"""Ten CNN classifiers as other repositories write them (tests/vision_zoo_14_models.py:
torchvision's ConvNeXt, timm's TResNet and byobnet RepVGG, kuangliu/pytorch-cifar's PNASNet,
weiaicunzai/pytorch-cifar100's SqueezeNet, Cadene's BNInception, PingoLH's HarDNet, d2l's NiN,
xiaolai-sqlai's MobileNetV3-Small, osmr/imgclsmob's DarkNet-53). Each loads strictly and generates
without an internal error; its output is the reference's, or the file flags a class as guessed or
missing (never silently wrong, but for the blind finding below); every depthwise and grouped conv
keeps the reference's `groups`.
"""

from __future__ import annotations

import pytest

from tests import vision_zoo_14_models as zoo
from tests.zoo_verdicts import keys_tests

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


# From the keys alone (no config, no calibration). Measured blind when this zoo was written
# (session 14, branch zoo14 at a0aabe8 + the zoo, 2026-11-30, before any change made for it;
# `python benchmarks/bench_vision_zoo.py 14`): 0 exact, 9 flagged, 1 WRONG, 0 crash.
# After, session 15 (cnn15a, cnn15b and mob15; same command): 8 exact, 2 flagged, 0 WRONG, 0 crash.
# cnn15b: PNASNet, BN-Inception, NiN and HarDNet (cell groups, flat name prefixes, mlpconv,
# HarDBlock); mob15: xiaolai's MobileNetV3 (its SE with norms and its V3 layout); cnn15a:
# torchvision's ConvNeXt (the block's parts read through its one Sequential, the chain unrolls
# nested channel norms), byobnet RepVGG (blocks without an identity are branches wherever an
# instance widens) and imgclsmob's DarkNet-53 (the unit widening into residual blocks strides 2;
# every unit leaky like them).
# After, res16 (same command): unchanged, 8 exact, 2 flagged, 0 WRONG: timm's TResNet still flagged
# (space-to-depth stem, blur pool with a non-persistent filter, an SE wider than its input).
EXACT_FROM_KEYS: set[str] = {
    "kuangliu_pnasnet",  # the cell's entry width sets its separable branches' groups
    "cadene_bninception",  # a flat namespace read by its name prefixes
    "d2l_nin",  # mlpconv stacks: d2l's slots and tail
    "pingolh_hardnet",  # harmonic dense blocks; hardnet.py's pools and ReLU6
    # session 15 (mob15): its SE Sequential with norms (squeeze_excite.py), the gate after the
    # projection (its widths, then the network's other blocks), the bare stem and Small's first
    # block halving (mobile_strides), the Linear + BatchNorm1d + hard-swish head: inf -> exact
    "xiaolai_mobilenetv3",
    "tv_convnext",
    "timm_byob_repvgg",
    "osmr_darknet53",
}

# Blind finding (2026-11-30): d2l's NiN, one numbered Sequential of `nin_block` Sequentials with
# tensor-free slots (ReLUs, max-pools, a dropout, the pooled head), was generated as a single class
# trusted `inferred`: the max-pools became ReLUs, each block's last ReLU and the AdaptiveAvgPool2d +
# Flatten tail were dropped, the 11x11 stride-4 conv got stride 1 / padding 5 (WRONG). Since the
# same day a subclassed container whose slots hold guessed layers says `guessed` (flagged).
KNOWN_WRONG: dict[str, str] = {}

# Blind finding (2026-11-30), fixed in session 15: pytorch-cifar PNASNet's stride-2 `SepConv`
# (`layer2.sep_conv1.conv1`: Conv2d(8, 16, 7, groups=8), a depth multiplier of 2, weight
# [16, 1, 7, 7]) was built as Conv2d(16, 16, 7, groups=16): the weight fits both, the width
# entering the cell (8) says which (layers/conv.py's branch_input_groups).
KNOWN_GROUPS: dict[str, str] = {}

test_exact_or_flagged_from_the_keys, test_depthwise_and_grouped_convs_keep_their_groups = (
    keys_tests(zoo, EXACT_FROM_KEYS, "--force", known_wrong=KNOWN_WRONG, known_groups=KNOWN_GROUPS)
)
