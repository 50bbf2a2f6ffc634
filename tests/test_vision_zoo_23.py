"""Ten CNN / hybrid classifiers as other repositories write them (tests/vision_zoo_23_models.py:
chinhsuanwu's CoAtNet, d-li14's OctConv ResNet, Jongchan's BAM ResNet, wielandbrendel's BagNet,
Eric-mingjie's network-slimming VGG, mmaaz60's EdgeNeXt, microsoft's FocalNet, implus's SGE ResNet,
PyTorch examples' MNIST Net and SHI-Labs' CCT). Each loads strictly and generates without an
internal error; its output is the reference's, or the file flags a class as guessed or missing
(never silently wrong); every depthwise and grouped conv keeps the reference's `groups`.
"""

from __future__ import annotations

import pytest

from tests import vision_zoo_23_models as zoo
from tests.zoo_verdicts import generate_from_state_dict, keys_tests, measured

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


# From the keys alone (no config, no calibration). Measured blind when this zoo was written
# (session 23, main at a702f88 + the zoo, 2026-12-01, before any change made for it;
# `python benchmarks/bench_vision_zoo.py 23`): 1 exact, 9 flagged, 0 WRONG, 0 crash.
# Calibrated (`--calibrate --budget 30`): still 1 exact, 9 flagged (the same row exact).
# Session 27: EdgeNeXt's split depthwise convs keep their groups (their strict xfail is gone).
# After session 27: 4 exact, 6 flagged: SGE ResNet (its [1, G, 1, 1] weight and bias read as a
# spatial group enhance gate, blocks/spatial_group_enhance.py), FocalNet (focal modulation, its
# stages read as Swin's) and EdgeNeXt (XCiT's cross-covariance attention, the SDTA block with
# Fourier positions) joined.
EXACT_FROM_KEYS = {
    "ericmingjie_slimming_vgg",
    "implus_sge_resnet",
    "microsoft_focalnet",
    "mmaaz60_edgenext",
}

test_exact_or_flagged_from_the_keys, test_depthwise_and_grouped_convs_keep_their_groups = (
    keys_tests(zoo, EXACT_FROM_KEYS, "--force")
)


# pytorch/examples' MNIST Net pools and returns log-probabilities where no key shows either: from
# the keys it says guessed; the values it needs are choices (unpadded convs, a 2x2 max pool after
# the second, log_softmax after the last Linear), and pinned they reproduce it.
MNIST_HINTS = """\
[conv1]
padding = 0
[conv2]
padding = 0
["RecoveredModel.conv2"]
pooling_after = "max_pool"
[RecoveredModel]
output_activation = "log_softmax"
"""


def test_mnist_net_is_exact_with_its_unrecorded_values_pinned(tmp_path, capsys):
    reference, x = zoo.build("pytorch_examples_mnist")
    hints = tmp_path / "hints.toml"
    hints.write_text(MNIST_HINTS)
    model, source = generate_from_state_dict(reference, tmp_path, capsys, "--hints", str(hints))
    assert measured(reference, model, source, (x,))[0] == "exact"
    assert "F.log_softmax(x, dim=-1)" in source
