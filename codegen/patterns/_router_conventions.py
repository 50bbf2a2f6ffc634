"""How each mixture-of-experts family's router turns logits into expert weights, per model_type:
read from the family's modeling code in the installed `transformers` (5.x), and compared with the
library's forward by the tests named beside each entry. blocks/router.py reads this table; any
other model_type routes by defaults the generated file marks as guessed, unless config.json says.

Per model_type, a `RouterConvention`:
- scoring: "softmax" (over the experts) or "sigmoid" (each expert's own score). Top-k of the logits
  then a softmax over them is softmax-then-top-k renormalised, so it is "softmax" with normalized.
- normalized: True where the code always renormalises the chosen experts' weights to sum to one,
  False where it never does, None where config.json's norm_topk_prob says (default: the code's).
- The correction bias (an expert bias that steers the choice, not the weights) shows in the
  checkpoint; a config key that switches it (use_expert_bias) must agree with the tensors.
- The routed scaling factor is read from config.json under any of SCALE_KEYS.
"""

from __future__ import annotations

from typing import NamedTuple


class RouterConvention(NamedTuple):
    scoring: str  # "softmax" | "sigmoid"
    normalized: bool | None = None  # always (True), never (False), or as config.json says (None)


SOFTMAX = RouterConvention("softmax")
SIGMOID = RouterConvention("sigmoid")
SOFTMAX_NORMALIZED = RouterConvention("softmax", True)
SIGMOID_NORMALIZED = RouterConvention("sigmoid", True)

ROUTER_CONVENTIONS: dict[str, RouterConvention] = {
    "mixtral": SOFTMAX_NORMALIZED,
    "olmoe": SOFTMAX,
    "qwen2_moe": SOFTMAX,
    "qwen3_moe": SOFTMAX,
    # a softmax over the top-k logits, the same as the top-k probabilities renormalised
    "granitemoe": SOFTMAX_NORMALIZED,
    "granitemoeshared": SOFTMAX_NORMALIZED,
    "jetmoe": SOFTMAX_NORMALIZED,
    "dbrx": SOFTMAX,
    "gpt_oss": SOFTMAX_NORMALIZED,
    "ernie4_5_moe": SOFTMAX_NORMALIZED,
    "hunyuan_v1_moe": SOFTMAX_NORMALIZED,
    "flex_olmo": SOFTMAX,
    "glm4_moe": SIGMOID,
    "solar_open": SIGMOID,
    "minimax_m2": SIGMOID_NORMALIZED,
    "exaone_moe": SIGMOID,
    "dots1": SIGMOID,
    "deepseek_v3": SIGMOID,
    # mla8: tests/test_latent_attention.py compares these
    "deepseek_v2": SOFTMAX,
    "glm4_moe_lite": SIGMOID,
    "sarvam_mla": SIGMOID,  # DeepSeek-V3's code under a config of its own
    # ssm9: tests/test_state_space_9.py compares these; Jamba keeps the top k of the softmax over
    # all experts as they are
    "jamba": RouterConvention("softmax", False),
    "granitemoehybrid": SOFTMAX_NORMALIZED,
    # moe10: tests/test_moe_10.py compares these. AFMoE and HunYuan-V3 always renormalise (plus
    # 1e-20) then scale (route_scale, router_scaling_factor); LFM2-MoE renormalises where
    # norm_topk_prob says (plus 1e-6) and steers by its expert bias where use_expert_bias says.
    "afmoe": SIGMOID_NORMALIZED,
    "hy_v3": SIGMOID_NORMALIZED,
    "lfm2_moe": SIGMOID,
    "minimax": SOFTMAX_NORMALIZED,  # moe10: MiniMax's top-k of the softmax, renormalised
    # mla11: tests/test_mla_11.py compares these. Mistral 4's router is DeepSeek-V2's softmax
    # with DeepSeek-V3's grouped top-k, renormalised where norm_topk_prob says; DeepSeek-V3.2 keeps
    # DeepSeek-V3's mixture.
    "mistral4": SOFTMAX,
    "deepseek_v32": SIGMOID,
    "glm_moe_dsa": SIGMOID,  # GLM-4-MoE's router (GlmMoeDsaTopkRouter)
    # lin11: tests/test_linear_11.py compares these. Qwen3-Next: the top k of the softmax,
    # renormalised where norm_topk_prob says; Kimi Linear: DeepSeek-V3's grouped sigmoid routing
    # (renormalised where moe_renormalize says, plus 1e-20), then routed_scaling_factor.
    "qwen3_next": SOFTMAX,
    "qwen3_5_moe_text": SOFTMAX,  # Qwen3-Next's router in Qwen3.5's text model
    "kimi_linear": SIGMOID,
    # Llama 4: the sigmoid of each chosen expert's logit, never renormalised, applied to the
    # expert's INPUT (Llama4TextMoe: routed_in = hidden_states * router_scores); see INPUT_WEIGHTED
    "llama4": RouterConvention("sigmoid", False),
    "llama4_text": RouterConvention("sigmoid", False),
    # moe12: tests/test_moe_12.py compares these. Aria: a softmax over the top-k logits (its
    # experts' banks are stored [experts, in, out] as `fc1` / `fc2`)
    "aria_text": SOFTMAX_NORMALIZED,
}

# config.json's factor on the chosen experts' weights, after renormalising, by its names in the
# families above (DeepSeek-V3 and most: routed_scaling_factor; AFMoE: route_scale; HunYuan-V3:
# router_scaling_factor).
SCALE_KEYS = (
    "routed_scaling_factor",
    "moe_routed_scaling_factor",
    "route_scale",
    "router_scaling_factor",
)
# Families whose experts get their input scaled by their routing weight, rather than their output
# weighted (blocks/input_weighted_experts.py); the other mixtures decline them.
INPUT_WEIGHTED = ("llama4", "llama4_text")
# config.json keys that switch the correction bias on or off: the checkpoint shows which.
CORRECTION_SWITCHES = ("use_expert_bias",)
