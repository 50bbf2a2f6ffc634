"""Multi-head latent attention (DeepSeek-V2 style) conventions of every causal-LM model type of the
installed `transformers` (5.24) whose config has a kv_lora_rank: MEASURED by calling each family's
model, built from a tiny config, by benchmarks/survey_latent_attention.py; not typed by hand.
Regenerate with `python benchmarks/survey_latent_attention.py --python` and review the diff.

Per model_type:
- layout: how the rotary part of queries and of the shared key turns: "interleaved" (features 2j
  with 2j + 1, DeepSeek's complex pairs), "halves" (j with j + d/2), "none" (not turned),
  "rope_interleave" (follows config.json's key: true interleaved, false halves), "other";
- unset: the layout where config.json does not give rope_interleave (the config class's default);
- yarn_scale: the score scale under a YaRN rope table with mscale_all_dim: "mscale_all_dim"
  (1/sqrt(qk_head_dim) times (0.1 mscale_all_dim ln(factor) + 1) squared), "plain", or a number;
- latent_eps: the eps of the norms on the low-rank latents (the library names them q_a_layernorm
  and kv_a_layernorm): "rms_norm_eps" where they follow config.json's key, else the number the
  family's code fixes whatever config.json says.

A model_type that is not here is unknown: its layout and scale are guesses the file says. Types
the tiny config did not build (hybrids, AXK2) are not here either. Families outside the causal-LM
auto mapping (Mistral 4) are found by their config class's name; the sparse-indexer families
(DeepSeek-V3.2, GLM-MoE-DSA) are measured with SDPA's boolean mask, which their indexer reads.
"""

from __future__ import annotations

from typing import NamedTuple


class LatentConvention(NamedTuple):
    layout: str | None
    unset: str | None
    yarn_scale: str | float | None
    latent_eps: str | float | None


SURVEYED: dict[str, LatentConvention] = {
    "axk1": LatentConvention("rope_interleave", "interleaved", "mscale_all_dim", 1e-06),
    "deepseek_v2": LatentConvention("interleaved", "interleaved", "mscale_all_dim", 1e-06),
    "deepseek_v3": LatentConvention("rope_interleave", "interleaved", "mscale_all_dim", 1e-06),
    "deepseek_v32": LatentConvention("interleaved", "interleaved", "mscale_all_dim", 1e-06),
    "dots3_note_text": LatentConvention("other", "other", "plain", "rms_norm_eps"),
    "glm4_moe_lite": LatentConvention("rope_interleave", "interleaved", "mscale_all_dim", 1e-06),
    "glm_moe_dsa": LatentConvention("interleaved", "interleaved", "mscale_all_dim", 1e-06),
    "hy_v4": LatentConvention("halves", "halves", "mscale_all_dim", 1e-06),
    "minicpm3": LatentConvention("halves", "halves", "mscale_all_dim", 1e-06),
    "mistral4": LatentConvention("rope_interleave", "interleaved", "mscale_all_dim", 1e-06),
    "sarvam_mla": LatentConvention("rope_interleave", "interleaved", "mscale_all_dim", 1e-06),
    "youtu": LatentConvention("rope_interleave", "interleaved", "mscale_all_dim", 1e-06),
}


# The library's names of the latent norms, whose eps the survey measured.
LATENT_NORM_PATH = r"(^|\.)(q_a_layernorm|kv_a_layernorm)$"


# lin11: read from the family's code (the survey's tiny config does not build these hybrids):
# Kimi Linear's MLA turns nothing ("MLA with NoPE"), its latent norms at their 1e-6 default;
# tests/test_linear_11.py compares it with the library.
READ_FROM_CODE: dict[str, LatentConvention] = {
    "kimi_linear": LatentConvention("none", "none", "plain", 1e-06),
}


def latent_convention(model_type: str | None) -> LatentConvention | None:
    return SURVEYED.get(model_type or "") or READ_FROM_CODE.get(model_type or "")


def fixed_latent_eps(model_type: str | None) -> float | None:
    """The eps the survey measured this type's latent norms fixing, or None."""
    found = latent_convention(model_type)
    eps = found.latent_eps if found else None
    return float(eps) if type(eps) in (int, float) else None
