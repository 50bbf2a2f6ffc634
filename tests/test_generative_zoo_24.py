"""Generative and dense-prediction nets as other repositories write them, seventeenth zoo (issue
16, session 27, tests/generative_zoo_24_models.py): NVlabs' EDM SongUNet (DDPM++), YannDubs'
Burgess VAE, odegeasslbc's FastGAN generator, haoyuc's A2N, Reagan1311's DABNet, GuoShi28's
CBDNet, zhilin007's FFA-Net and nianticlabs' monodepth2. Each is generated from its state dict
alone: exact, or its file says which class is guessed or missing; never silently wrong.
"""

from __future__ import annotations

import pytest

from tests import generative_zoo_24_models as zoo
from tests.generative_zoo_check import check_listed, run

pytestmark = pytest.mark.filterwarnings(
    "ignore::DeprecationWarning", "ignore::UserWarning", "ignore::FutureWarning"
)

# Exact from the keys alone. Measured blind (session 27, main at 9d6b06c + the zoo, 2026-12-02,
# before any change made for it; `python benchmarks/bench_generative_zoo.py --keys-only 24`):
# 0 exact, 8 flagged, 0 WRONG, 0 crash.
EXACT: set[str] = set()


@pytest.mark.parametrize("name", sorted(zoo.ZOO))
def test_zoo_model_exact_or_flagged(name, tmp_path, capsys):
    (found, diff), _ = run(zoo, name, tmp_path, capsys)
    check_listed(name, found, diff, EXACT)
