"""Generative nets as other repositories write them, sixth zoo (issue 16, session 13,
tests/generative_zoo_13_models.py): milesial's Pytorch-UNet, WGAN-GP's CIFAR-10 generator and
critic, CARN, IMDN, PAN, Beta-VAE's BetaVAE_H, lucidrains' first diffusion Unet. Each is generated
from its state dict alone: exact, or its file says which class is guessed or missing; never
silently wrong.
"""

from __future__ import annotations

import pytest

from tests import generative_zoo_13_models as zoo
from tests.generative_zoo_check import check_listed, run

pytestmark = pytest.mark.filterwarnings(
    "ignore::DeprecationWarning", "ignore::UserWarning", "ignore::FutureWarning"
)

# Exact from the keys alone. Measured blind (session 13, branch zoo13 at 8d2e004 + the zoo,
# 2026-11-30, before any change made for it; `python benchmarks/bench_generative_zoo.py
# --keys-only 13:...`): 0 exact, 8 flagged, 0 WRONG, 0 crash.
EXACT: set[str] = set()


@pytest.mark.parametrize("name", sorted(zoo.ZOO))
def test_zoo_model_exact_or_flagged(name, tmp_path, capsys):
    (found, diff), _ = run(zoo, name, tmp_path, capsys)
    check_listed(name, found, diff, EXACT)
