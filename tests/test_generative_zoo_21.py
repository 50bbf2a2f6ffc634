"""Generative and dense-prediction nets as other repositories write them, fourteenth zoo (issue
16, session 21, tests/generative_zoo_21_models.py): tanelp's tiny-diffusion MLP, crowsonkb's
v-diffusion secondary model, christiancosgrove's SNGAN ResNet generator, sunny2109's SAFMN,
Tramac's Fast-SCNN, swz30's Restormer, richzhang's ECCV16 colorizer, naoto0804's AdaIN decoder.
Each is generated from its state dict alone: exact, or its file says which class is guessed or
missing; never silently wrong.
"""

from __future__ import annotations

import pytest

from tests import generative_zoo_21_models as zoo
from tests.generative_zoo_check import check_listed, run

pytestmark = pytest.mark.filterwarnings(
    "ignore::DeprecationWarning", "ignore::UserWarning", "ignore::FutureWarning"
)

# Exact from the keys alone. Measured blind (session 21, main at 3f9e045 + the zoo, 2026-12-01,
# before any change made for it; `python benchmarks/bench_generative_zoo.py --keys-only 21`):
# 0 exact, 8 flagged, 0 WRONG, 0 crash. Session 22: naoto0804_adain_decoder (a keyless slot before
# every conv is its padding layer, analyze/padded_convs.py), the SNGAN generator (a layer
# registered twice, analyze/aliases.py; residual up-blocks) and SAFMN
# (blocks/multi_scale_modulation.py, blocks/channel_norm_block.py,
# families/trunk_super_resolution.py).
EXACT: set[str] = {"cosgrove_sngan_generator", "naoto0804_adain_decoder", "sunny2109_safmn_x2"}


@pytest.mark.parametrize("name", sorted(zoo.ZOO))
def test_zoo_model_exact_or_flagged(name, tmp_path, capsys):
    (found, diff), _ = run(zoo, name, tmp_path, capsys)
    check_listed(name, found, diff, EXACT)
