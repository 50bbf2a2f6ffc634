"""Generative and dense-prediction nets as other repositories write them, fifteenth zoo (issue
16, session 22, tests/generative_zoo_22_models.py): rosinality's denoising-diffusion-pytorch
UNet, jzbontar's PixelCNN, bryandlee's AnimeGANv2 generator, rosinality's progressive GAN
generator, MemNet (Vandermode's port), xuebinqin's U2NETP, CoinCheung's BiSeNetV2 and DrSleep's
light-weight RefineNet. Each is generated from its state dict alone: exact, or its file says
which class is guessed or missing; never silently wrong.
"""

from __future__ import annotations

import pytest

from tests import generative_zoo_22_models as zoo
from tests.generative_zoo_check import check_listed, run

pytestmark = pytest.mark.filterwarnings(
    "ignore::DeprecationWarning", "ignore::UserWarning", "ignore::FutureWarning"
)

# Exact from the keys alone. Measured blind (session 22, main at 95e1323 + the zoo, 2026-12-01,
# before any change made for it; `python benchmarks/bench_generative_zoo.py --keys-only 22`):
# 0 exact, 8 flagged, 0 WRONG, 0 crash. Since: jzbontar_pixelcnn (session 23: a weight with a mask
# of its shape, layers/masked_weight.py).
EXACT = {"jzbontar_pixelcnn"}


@pytest.mark.parametrize("name", sorted(zoo.ZOO))
def test_zoo_model_exact_or_flagged(name, tmp_path, capsys):
    (found, diff), _ = run(zoo, name, tmp_path, capsys)
    check_listed(name, found, diff, EXACT)
