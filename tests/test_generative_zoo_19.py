"""Generative and dense-prediction nets as other repositories write them, twelfth zoo (issue 16,
session 19, tests/generative_zoo_19_models.py): The Annotated Diffusion Model's Unet,
abarankab's DDPM UNet, hkproj's stable-diffusion VAE, Lornatang's SRResNet, torchvision's LR-ASPP,
segmentation_models_pytorch's Unet, BasicSR's RIDNet, noise2noise's UNet. Each is generated from
its state dict alone: exact, or its file says which class is guessed or missing; never silently
wrong.
"""

from __future__ import annotations

import pytest

from tests import generative_zoo_19_models as zoo
from tests.generative_zoo_check import check_listed, run

pytestmark = pytest.mark.filterwarnings(
    "ignore::DeprecationWarning", "ignore::UserWarning", "ignore::FutureWarning"
)

# Exact from the keys alone. Measured blind (session 19, main at the session start (02cc85d) + the
# zoo, 2026-12-01, before any change made for it; `python benchmarks/bench_generative_zoo.py
# --keys-only 19`): 0 exact, 8 flagged, 0 WRONG, 0 crash; with `--budget 30` (calibrated) the
# same (no row exact calibrated, so no calibration runs here).
EXACT: set[str] = set()


@pytest.mark.parametrize("name", sorted(zoo.ZOO))
def test_zoo_model_exact_or_flagged(name, tmp_path, capsys):
    (found, diff), _ = run(zoo, name, tmp_path, capsys)
    check_listed(name, found, diff, EXACT)
