"""Configurations beyond the one tiny config per family the other tests use (tests/config_sweep.py;
the whole sweep is benchmarks/bench_configs.py): a fixed handful, each generated from its saved
folder and compared with the library's forward. A configuration either comes out exact or the file
says what it guessed; none may be silently wrong or crash."""

from __future__ import annotations

import logging

import pytest

transformers = pytest.importorskip("transformers")

from tests.config_sweep import SWEEPS, Config, configs, measure  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")
logging.getLogger("transformers").setLevel(logging.ERROR)


def _config(family: str, **changes) -> Config:
    return Config(family, SWEEPS[family].models[0], tuple(sorted(changes.items())))


# Values that changed the forward and that the files once got wrong or flagged; each must be exact.
EXACT = {
    # GPT-2's (and GPT-BigCode's) scale_attn_weights false: scores not divided by sqrt(head_dim)
    "gpt2_unscaled": _config("gpt2", scale_attn_weights=False),
    "gpt_bigcode_unscaled": _config("gpt_bigcode", scale_attn_weights=False, multi_query=False),
    # Swin's patch-embedding and patch-merging norms keep eps 1e-5 (the blocks' take the config's)
    "swin_eps": _config("swin", layer_norm_eps=1e-3, depths=(2, 2), window_size=2),
    # act_fn sets the resnet blocks' activation; the one before conv_out (and UNet2DModel's time
    # embedding) stays SiLU; mish is in the vocabulary
    "unet2d_mish": _config("unet2d", act_fn="mish"),
    "autoencoder_kl_relu": _config("autoencoder_kl", act_fn="relu"),
    # Whisper's audio front end is GELU whatever activation_function says, and its code never
    # applies scale_embedding; SpecAugment settings are training-only
    "whisper_relu_scaled": _config("whisper", activation_function="relu", scale_embedding=True),
}


@pytest.mark.parametrize("name", sorted(EXACT))
def test_configuration_is_exact(tmp_path, name):
    result = measure(EXACT[name], tmp_path)
    assert result.verdict == "exact", (EXACT[name].label, result)


# Seeded random combinations (two to four changed fields) of a few families: exact or flagged.
SAMPLED = [c for family in ("bert", "llama", "t5") for c in configs(family, combos=1)[-1:]]


@pytest.mark.parametrize("config", SAMPLED, ids=[c.label for c in SAMPLED])
def test_sampled_configuration_is_never_silently_wrong(tmp_path, config):
    result = measure(config, tmp_path)
    assert result.verdict in ("exact", "flagged", "skipped"), (config.label, result)
