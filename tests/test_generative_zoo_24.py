"""Generative and dense-prediction nets as other repositories write them, seventeenth zoo (issue
16, session 27, tests/generative_zoo_24_models.py): NVlabs' EDM SongUNet (DDPM++), YannDubs'
Burgess VAE, odegeasslbc's FastGAN generator, haoyuc's A2N, Reagan1311's DABNet, GuoShi28's
CBDNet, zhilin007's FFA-Net and nianticlabs' monodepth2. Each is generated from its state dict
alone: exact, or its file says which class is guessed or missing; never silently wrong.
"""

from __future__ import annotations

import pytest

from tests import generative_zoo_24_models as zoo
from tests.generative_zoo_check import check_listed, generate, run, verdict

pytestmark = pytest.mark.filterwarnings(
    "ignore::DeprecationWarning", "ignore::UserWarning", "ignore::FutureWarning"
)

# Exact from the keys alone. Measured blind (session 27, main at 9d6b06c + the zoo, 2026-12-02,
# before any change made for it; `python benchmarks/bench_generative_zoo.py --keys-only 24`):
# 0 exact, 8 flagged, 0 WRONG, 0 crash. After session 28: still none exact from the keys (0
# exact, 8 flagged, 0 WRONG); the Burgess VAE and CBDNet compute the reference once their choices
# are pinned (below), FFA-Net's groups and pixel attention run, its fusion is a guessed wiring.
EXACT: set[str] = set()


@pytest.mark.parametrize("name", sorted(zoo.ZOO))
def test_zoo_model_exact_or_flagged(name, tmp_path, capsys):
    (found, diff), _ = run(zoo, name, tmp_path, capsys)
    check_listed(name, found, diff, EXACT)


# Session 28: the Burgess VAE's every unrecorded value is a choice now: flagged from the keys
# (above), exact once hints pin what calibration would: the mean and log-variance interleaved in
# one Linear, the image through a sigmoid. (CBDNet's too, with Fcn's output_activation relu,
# UNet.inc's pooling avg_pool and RecoveredModel.unet's residual add; not tested: a generate of it
# costs some 10 s.)
VAE_HINTS = """["RecoveredModel.encoder"]
latent_layout = "interleaved"
["RecoveredModel.decoder"]
output_activation = "sigmoid"
"""


def test_burgess_vae_exact_once_pinned(tmp_path):
    reference, inputs = zoo.build("yanndubs_burgess_vae")
    (tmp_path / "hints.toml").write_text(VAE_HINTS)
    hints = str(tmp_path / "hints.toml")
    model, source = generate(reference, tmp_path, "--quiet", "--hints", hints)
    found, diff = verdict(reference, inputs, model, source)
    assert found == "exact", f"max abs diff {diff:.3g}"
