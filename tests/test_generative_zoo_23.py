"""Generative and dense-prediction nets as other repositories write them, sixteenth zoo (issue
16, session 23, tests/generative_zoo_23_models.py): zoubohao's DDPM UNet, Li-Chongyi's Zero-DCE,
MayankSingal's AOD-Net, LeeJunHyun's R2U-Net, wutianyiRosun's CGNet, megvii's HINet,
xindongzhang's ECBSR (train form) and eriklindernoren's context encoder generator. Each is
generated from its state dict alone: exact, or its file says which class is guessed or missing;
never silently wrong.
"""

from __future__ import annotations

import pytest

from tests import generative_zoo_23_models as zoo
from tests.generative_zoo_check import check_listed, run

pytestmark = pytest.mark.filterwarnings(
    "ignore::DeprecationWarning", "ignore::UserWarning", "ignore::FutureWarning"
)

# Exact from the keys alone. Measured blind (session 23, main at a702f88 + the zoo, 2026-12-01,
# before any change made for it; `python benchmarks/bench_generative_zoo.py --keys-only 23`):
# 0 exact, 8 flagged, 0 WRONG, 0 crash. After session 27: lichongyi_zero_dce and mayanksingal_aodnet
# (families/curve_estimation.py, families/all_in_one_dehazing.py: exact, each class guessed until
# calibration settles its ReLUs).
EXACT = {"lichongyi_zero_dce", "mayanksingal_aodnet"}


@pytest.mark.parametrize("name", sorted(zoo.ZOO))
def test_zoo_model_exact_or_flagged(name, tmp_path, capsys):
    (found, diff), _ = run(zoo, name, tmp_path, capsys)
    check_listed(name, found, diff, EXACT)
