"""Generative and dense-prediction nets as other repositories write them, thirteenth zoo (issue
16, session 20, tests/generative_zoo_20_models.py): w86763777's pytorch-ddpm UNet, TeaPearce's
ContextUnet, LukeDitria's CNN-VAE, bytedance's RLFN, segmentation_models_pytorch's FPN,
eriklindernoren's CycleGAN generator, rishikksh20's ResUnet, yjn870's REDNet30. Each is generated
from its state dict alone: exact, or its file says which class is guessed or missing; never
silently wrong.
"""

from __future__ import annotations

import pytest

from tests import generative_zoo_20_models as zoo
from tests.generative_zoo_check import check_listed, run

pytestmark = pytest.mark.filterwarnings(
    "ignore::DeprecationWarning", "ignore::UserWarning", "ignore::FutureWarning"
)

# Exact from the keys alone. Measured blind (session 20, main at the session start (a9fc950) + the
# zoo, 2026-12-01, before any change made for it; `python benchmarks/bench_generative_zoo.py
# --keys-only 20`): 0 exact, 8 flagged, 0 WRONG, 0 crash.
EXACT: set[str] = set()
# Session 21 (gen21a, `--keys-only` on the rows): RLFN by blocks/residual_local_feature_block.py
# (the activation and the residual RLFN's conventions, choices) and the fusion-free layout of
# families/distillation_super_resolution.py.
EXACT |= {"bytedance_rlfn_x2"}


@pytest.mark.parametrize("name", sorted(zoo.ZOO))
def test_zoo_model_exact_or_flagged(name, tmp_path, capsys):
    (found, diff), _ = run(zoo, name, tmp_path, capsys)
    check_listed(name, found, diff, EXACT)
