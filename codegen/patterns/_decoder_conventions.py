"""Decoder conventions of every causal-LM model type of the installed `transformers` (5.24):
MEASURED by calling each family's own model, built from a tiny config, by
benchmarks/survey_conventions.py; not typed by hand. Regenerate with
`python benchmarks/survey_conventions.py --python` and review the diff.

Per model_type (None: the survey could not measure it, and the choice stays a guess):
- norm_scale: what its norms multiply by, from calling each norm with its weight zeroed:
  "weight", "1 + weight" (Gemma's RMSNorm, Nemotron's LayerNorm1P), "mixed" or "other";
- embedding_scale: the first block's input over the token table's rows: "none", "sqrt_d_model",
  "normed" (a norm before the first block: BLOOM's, or NanoChat's without parameters),
  "* embedding_multiplier" (config.json's factor), or
  "other" (a position table that could not be zeroed, anything else);
- residual: the first block called on its input at two sizes and with its attention's output
  moved: "pre" (a residual stream, feed-forward after attention), "parallel" (feed-forward input
  not moved by the attention), "post" (the output does not grow with the input);
- scaling: the score scale the attention passes to the library's attention function:
  "head_dim" (head_dim ** -0.5), "none" (1), or the number (a config key's); None where the
  family computes attention itself;
- softcap: whether that call caps the scores; alibi: whether its mask carries a position bias
  (where the family computes attention itself: whether its code mentions ALiBi, read not
  measured, so the patterns do not take it as evidence);
- logits: the logits over the head's own output: "none", a config factor and which way it goes
  ("* logit_scale", "/ logits_scaling", "* logits_scaling"), another number, or "softcap";
- free_norm: (kind "rms" or "layer", eps) of the norms holding no parameter, whose places the keys
  cannot show; eps is config.json's key where the family reads one, else the number measured;
- qk_normed: whether the queries reaching the attention function are normalised per head.

The tiny config sets the factor and eps keys to telling values (embedding_multiplier 3,
logits_scaling 4, logit_scale 0.2, rms_norm_eps 2e-6, layer_norm_eps 3e-6), so a measured
factor names the key it follows and which way; see the survey's docstring.
"""

from __future__ import annotations

from typing import NamedTuple


class DecoderConvention(NamedTuple):
    norm_scale: str | None
    embedding_scale: str | None
    residual: str | None
    scaling: str | float | None
    softcap: bool | None
    alibi: bool | None
    logits: str | float | None
    free_norm: tuple[str, str | float] | None
    qk_normed: bool | None


SURVEYED: dict[str, DecoderConvention] = {
    "afmoe": DecoderConvention(
        "weight", "none", "pre", "head_dim", False, False, "none", None, True
    ),
    "apertus": DecoderConvention(
        "weight", "none", "pre", "head_dim", False, False, "none", None, True
    ),
    "apertus1p5_text": DecoderConvention(
        "weight", "none", "pre", "head_dim", False, False, "none", None, True
    ),
    "arcee": DecoderConvention(
        "weight", "none", "pre", "head_dim", False, False, "none", None, False
    ),
    "aria_text": DecoderConvention(
        "weight", "none", "pre", "head_dim", False, False, "none", None, False
    ),
    "bailing_hybrid": DecoderConvention(
        "weight", "none", "pre", None, None, False, "none", None, None
    ),
    "bart": DecoderConvention(
        "weight", "normed", "post", "head_dim", False, False, "none", None, False
    ),
    "beam": DecoderConvention(
        "weight", "none", "pre", "head_dim", False, False, "softcap", None, False
    ),
    "bert": DecoderConvention(
        "weight", "normed", "post", "head_dim", False, False, "none", None, False
    ),
    "bert-generation": DecoderConvention(
        "weight", "normed", "post", "head_dim", False, False, "none", None, False
    ),
    "big_bird": DecoderConvention(
        "weight", "normed", "post", None, None, False, "none", None, None
    ),
    "bigbird_pegasus": DecoderConvention(
        "weight", "sqrt_d_model", None, "head_dim", False, False, "none", None, False
    ),
    "biogpt": DecoderConvention(
        "weight", "sqrt_d_model", None, "head_dim", False, False, "none", None, False
    ),
    "bitnet": DecoderConvention(
        "weight", "none", "pre", "head_dim", False, False, "none", None, False
    ),
    "blenderbot": DecoderConvention(
        "weight", "none", None, "head_dim", False, False, "none", None, False
    ),
    "blenderbot-small": DecoderConvention(
        "weight", "normed", "post", "head_dim", False, False, "none", None, False
    ),
    "bloom": DecoderConvention("weight", "normed", "pre", None, None, True, "none", None, None),
    "camembert": DecoderConvention(
        "weight", "normed", "post", "head_dim", False, False, "none", None, False
    ),
    "codegen": DecoderConvention(
        "weight", "none", "parallel", "head_dim", False, False, "none", None, False
    ),
    "cohere": DecoderConvention(
        "weight", "none", "parallel", "head_dim", False, False, "* logit_scale", None, False
    ),
    "cohere2": DecoderConvention(
        "weight", "none", "parallel", "head_dim", False, False, "* logit_scale", None, False
    ),
    "cohere2_moe": DecoderConvention(
        "weight", "none", "parallel", "head_dim", False, False, "* logit_scale", None, False
    ),
    "cpmant": DecoderConvention("weight", None, None, None, None, False, "none", None, None),
    "ctrl": DecoderConvention(
        "weight", "other", "pre", "head_dim", False, False, "none", None, False
    ),
    "cwm": DecoderConvention(
        "weight", "none", "pre", "head_dim", False, False, "none", None, False
    ),
    "data2vec-text": DecoderConvention(
        "weight", "normed", "post", "head_dim", False, False, "none", None, False
    ),
    "deepseek_v2": DecoderConvention(
        "weight", "none", "pre", "head_dim", False, False, "none", None, False
    ),
    "deepseek_v4": DecoderConvention(
        "weight", None, None, "head_dim", False, False, "none", ("rms", "rms_norm_eps"), True
    ),
    "diffllama": DecoderConvention(
        "weight", "none", "pre", "head_dim", False, False, "none", None, False
    ),
    "doge": DecoderConvention("weight", "none", "pre", "head_dim", False, True, "none", None, True),
    "dory": DecoderConvention(None, "none", "post", "head_dim", False, False, "none", None, False),
    "dots1": DecoderConvention(
        "weight", "none", "pre", "head_dim", False, False, "none", None, True
    ),
    "electra": DecoderConvention(
        "weight", None, "post", "head_dim", False, False, "none", None, False
    ),
    "ernie": DecoderConvention(
        "weight", "normed", "post", "head_dim", False, False, "none", None, False
    ),
    "ernie4_5": DecoderConvention(
        "weight", "none", "pre", "head_dim", False, False, "none", None, False
    ),
    "ernie4_5_moe": DecoderConvention(
        "weight", "none", "pre", "head_dim", False, False, "none", None, False
    ),
    "exaone": DecoderConvention(
        "weight", "none", "pre", "head_dim", False, False, "none", None, False
    ),
    "exaone4": DecoderConvention(
        "weight", "none", "pre", "head_dim", False, False, "none", None, False
    ),
    "exaone_moe": DecoderConvention(
        "weight", "none", "pre", "head_dim", False, False, "none", None, True
    ),
    "falcon_h1": DecoderConvention(
        "weight", "* embedding_multiplier", "pre", "head_dim", False, False, "none", None, False
    ),
    "falcon_mamba": DecoderConvention(
        "weight", "none", None, None, None, False, "none", ("rms", 1e-06), None
    ),
    "flex_olmo": DecoderConvention(
        "weight", "none", "pre", "head_dim", False, False, "none", None, False
    ),
    "flint": DecoderConvention(
        "weight", "none", "pre", "head_dim", False, False, "none", None, True
    ),
    "fuyu": DecoderConvention(
        "weight", "none", "pre", "head_dim", False, False, "none", None, True
    ),
    "gemma": DecoderConvention(
        "1 + weight", "sqrt_d_model", "pre", "head_dim", False, False, "none", None, False
    ),
    "gemma2": DecoderConvention(
        "1 + weight", "sqrt_d_model", "pre", 0.0625, True, False, "softcap", None, False
    ),
    "gemma3_text": DecoderConvention(
        "1 + weight", "sqrt_d_model", "pre", 0.0625, False, False, "none", None, True
    ),
    "gemma4_unified_text": DecoderConvention(
        "weight", "sqrt_d_model", "pre", "none", False, False, "none", ("rms", "rms_norm_eps"), True
    ),
    "glm": DecoderConvention(
        "weight", "none", "pre", "head_dim", False, False, "none", None, False
    ),
    "glm4": DecoderConvention(
        "weight", "none", "pre", "head_dim", False, False, "none", None, False
    ),
    "glm4_moe": DecoderConvention(
        "weight", "none", "pre", "head_dim", False, False, "none", None, False
    ),
    "glm4_moe_lite": DecoderConvention(
        "weight", "none", "pre", "head_dim", False, False, "none", None, False
    ),
    "gpt-sw3": DecoderConvention(
        "weight", "none", "pre", "head_dim", False, False, "none", None, False
    ),
    "gpt2": DecoderConvention(
        "weight", "none", "pre", "head_dim", False, False, "none", None, False
    ),
    "gpt_bigcode": DecoderConvention(
        "weight", "none", "pre", "head_dim", False, False, "none", None, False
    ),
    "gpt_neox": DecoderConvention(
        "weight", "none", "parallel", "head_dim", False, False, "none", None, False
    ),
    "gpt_neox_japanese": DecoderConvention(
        "weight", "none", "pre", None, None, False, "none", None, None
    ),
    "gpt_oss": DecoderConvention(
        "weight", "none", "pre", "head_dim", False, False, "none", None, False
    ),
    "gptj": DecoderConvention(
        "weight", "none", "parallel", "head_dim", False, False, "none", None, False
    ),
    "granite": DecoderConvention(
        "weight",
        "* embedding_multiplier",
        "pre",
        "none",
        False,
        False,
        "/ logits_scaling",
        None,
        False,
    ),
    "granite_swa": DecoderConvention(
        "weight",
        "* embedding_multiplier",
        "pre",
        "none",
        False,
        False,
        "/ logits_scaling",
        None,
        False,
    ),
    "granitemoe": DecoderConvention(
        "weight",
        "* embedding_multiplier",
        None,
        "none",
        False,
        False,
        "/ logits_scaling",
        None,
        False,
    ),
    "granitemoe_swa": DecoderConvention(
        "weight",
        "* embedding_multiplier",
        None,
        "none",
        False,
        False,
        "/ logits_scaling",
        None,
        False,
    ),
    "granitemoeshared": DecoderConvention(
        "weight",
        "* embedding_multiplier",
        None,
        "none",
        False,
        False,
        "/ logits_scaling",
        None,
        False,
    ),
    "helium": DecoderConvention(
        "weight", "none", "pre", "head_dim", False, False, "none", None, False
    ),
    "hrm_text": DecoderConvention(
        None, "other", "pre", "head_dim", False, False, "none", ("rms", "rms_norm_eps"), False
    ),
    "hunyuan_v1_dense": DecoderConvention(
        "weight", "none", "pre", "head_dim", False, False, "none", None, True
    ),
    "hunyuan_v1_moe": DecoderConvention(
        "weight", "none", "pre", "head_dim", False, False, "none", None, True
    ),
    "hy_v3": DecoderConvention(
        "weight", "none", "pre", "head_dim", False, False, "none", None, False
    ),
    "hyperclovax": DecoderConvention(
        "weight",
        "* embedding_multiplier",
        "pre",
        "head_dim",
        False,
        False,
        "* logits_scaling",
        None,
        False,
    ),
    "inkling2_loop_text": DecoderConvention(
        "weight", "normed", "post", "head_dim", False, False, "softcap", None, False
    ),
    "inkling2_text": DecoderConvention(
        "weight", "normed", "post", "head_dim", False, False, "softcap", None, False
    ),
    "inkling_text": DecoderConvention(
        "weight", "normed", None, 0.0078125, False, False, "none", None, True
    ),
    "internlm3": DecoderConvention(
        "weight", "none", "pre", "head_dim", False, False, "none", None, False
    ),
    "iquestcoder": DecoderConvention(
        "weight", "none", "pre", "head_dim", False, False, "none", None, False
    ),
    "jais2": DecoderConvention(
        "weight", "none", "pre", "head_dim", False, False, "none", None, False
    ),
    "jamba": DecoderConvention("weight", "none", None, None, None, False, "none", None, None),
    "jetmoe": DecoderConvention(
        "weight", "none", "pre", "head_dim", False, False, "none", None, False
    ),
    "kimi_linear": DecoderConvention(
        "weight", "none", "pre", None, None, False, "none", None, None
    ),
    "kolibri1": DecoderConvention(
        "weight", "none", "pre", "head_dim", False, False, "none", None, True
    ),
    "laguna": DecoderConvention(
        "weight", "none", "pre", "head_dim", False, False, "none", None, True
    ),
    "lara_mini": DecoderConvention(
        "weight", "none", "pre", "head_dim", False, False, "none", None, True
    ),
    "lfm2": DecoderConvention(
        "weight", "none", "pre", "head_dim", False, False, "none", None, False
    ),
    "lfm2_moe": DecoderConvention(
        "weight", "none", "pre", "head_dim", False, False, "none", None, False
    ),
    "lfm3": DecoderConvention("weight", "none", None, None, None, False, "none", None, None),
    "llama": DecoderConvention(
        "weight", "none", "pre", "head_dim", False, False, "none", None, False
    ),
    "llama4_text": DecoderConvention(
        "weight", "none", "pre", "head_dim", False, False, "none", ("rms", "rms_norm_eps"), True
    ),
    "mamba": DecoderConvention("weight", "none", None, None, None, False, "none", None, None),
    "marian": DecoderConvention(
        "weight", "none", "post", "head_dim", False, False, "none", None, False
    ),
    "mbart": DecoderConvention(
        "weight", "normed", None, "head_dim", False, False, "none", None, False
    ),
    "megatron-bert": DecoderConvention(
        "weight", "none", None, None, None, False, "none", None, None
    ),
    "mellum": DecoderConvention(
        "weight", "none", "pre", "head_dim", False, False, "none", None, True
    ),
    "mimo_v2_flash": DecoderConvention(
        "weight", "none", "pre", "head_dim", False, False, "none", None, False
    ),
    "minimax": DecoderConvention(
        "weight", "none", "post", "head_dim", False, False, "none", None, False
    ),
    "minimax_m2": DecoderConvention(
        "weight", "none", "pre", "head_dim", False, False, "none", None, False
    ),
    "minimax_m3_vl_text": DecoderConvention(
        "1 + weight", "none", "pre", "head_dim", False, False, "none", None, True
    ),
    "ministral": DecoderConvention(
        "weight", "none", "pre", "head_dim", False, False, "none", None, False
    ),
    "ministral3": DecoderConvention(
        "weight", "none", "pre", "head_dim", False, False, "none", None, False
    ),
    "mistral": DecoderConvention(
        "weight", "none", "pre", "head_dim", False, False, "none", None, False
    ),
    "mixtral": DecoderConvention(
        "weight", "none", "pre", "head_dim", False, False, "none", None, False
    ),
    "modernbert-decoder": DecoderConvention(
        "weight", "normed", "pre", "head_dim", False, False, "none", None, False
    ),
    "moshi": DecoderConvention(
        "weight", "none", "pre", "head_dim", False, False, "none", None, False
    ),
    "mvp": DecoderConvention("weight", "normed", "post", None, None, False, "none", None, None),
    "nanochat": DecoderConvention(
        None, "normed", "pre", "head_dim", False, False, "softcap", ("rms", "rms_norm_eps"), True
    ),
    "nemotron": DecoderConvention(
        "1 + weight", "none", "pre", "head_dim", False, False, "none", None, False
    ),
    "nemotron_h": DecoderConvention(
        "weight", "none", None, "head_dim", False, False, "none", None, False
    ),
    "olmo": DecoderConvention(
        None, "none", "pre", "head_dim", False, False, "none", ("layer", 1e-05), False
    ),
    "olmo2": DecoderConvention(
        "weight", "none", "pre", "head_dim", False, False, "none", None, False
    ),
    "olmo3": DecoderConvention(
        "weight", "none", "pre", "head_dim", False, False, "none", None, False
    ),
    "olmo_hybrid": DecoderConvention(
        "weight", None, None, "head_dim", False, False, "none", None, False
    ),
    "olmoe": DecoderConvention(
        "weight", "none", "pre", "head_dim", False, False, "none", None, False
    ),
    "openai-gpt": DecoderConvention("weight", "none", None, None, None, False, "none", None, None),
    "opt": DecoderConvention("weight", "none", None, "none", False, False, "none", None, False),
    "pegasus": DecoderConvention(
        "weight", "none", None, "head_dim", False, False, "none", None, False
    ),
    "persimmon": DecoderConvention(
        "weight", "none", "pre", "head_dim", False, False, "none", None, True
    ),
    "phi": DecoderConvention(
        "weight", "none", "parallel", "head_dim", False, False, "none", None, False
    ),
    "phi3": DecoderConvention(
        "weight", "none", "pre", "head_dim", False, False, "none", None, False
    ),
    "phimoe": DecoderConvention(
        "weight", "none", "pre", "head_dim", False, False, "none", None, False
    ),
    "qwen2": DecoderConvention(
        "weight", "none", "pre", "head_dim", False, False, "none", None, False
    ),
    "qwen2_moe": DecoderConvention(
        "weight", "none", "pre", "head_dim", False, False, "none", None, False
    ),
    "qwen3": DecoderConvention(
        "weight", "none", "pre", "head_dim", False, False, "none", None, True
    ),
    "qwen3_5_moe_text": DecoderConvention(
        "1 + weight", "none", "pre", None, None, False, "none", None, None
    ),
    "qwen3_5_text": DecoderConvention(
        "1 + weight", "none", "pre", None, None, False, "none", None, None
    ),
    "qwen3_moe": DecoderConvention(
        "weight", "none", "pre", "head_dim", False, False, "none", None, True
    ),
    "qwen3_next": DecoderConvention(
        "1 + weight", "none", "pre", None, None, False, "none", None, None
    ),
    "qwen4_exp_text": DecoderConvention(None, None, None, None, None, False, "none", None, None),
    "recurrent_gemma": DecoderConvention(
        "1 + weight", "sqrt_d_model", None, None, None, False, "softcap", None, None
    ),
    "rembert": DecoderConvention("weight", None, "post", None, None, False, "none", None, None),
    "roberta": DecoderConvention(
        "weight", "normed", "post", "head_dim", False, False, "none", None, False
    ),
    "roberta-prelayernorm": DecoderConvention(
        "weight", "normed", None, "head_dim", False, False, "none", None, False
    ),
    "roc_bert": DecoderConvention(
        "weight", "other", "post", "head_dim", False, False, "none", None, False
    ),
    "roformer": DecoderConvention(
        "weight", "normed", "post", None, None, False, "none", None, None
    ),
    "rwkv": DecoderConvention("weight", "none", "post", None, None, False, "none", None, None),
    "sarvam_mla": DecoderConvention(
        "weight", "none", "pre", "head_dim", False, False, "none", None, False
    ),
    "sarvam_moe": DecoderConvention(
        "weight", "none", "pre", "head_dim", False, False, "none", None, False
    ),
    "seed_oss": DecoderConvention(
        "weight", "none", "pre", "head_dim", False, False, "none", None, False
    ),
    "smollm3": DecoderConvention(
        "weight", "none", "pre", "head_dim", False, False, "none", None, False
    ),
    "solar_open": DecoderConvention(
        "weight", "none", "pre", "head_dim", False, False, "none", None, False
    ),
    "stablelm": DecoderConvention(
        "weight", "none", "pre", "head_dim", False, False, "none", None, False
    ),
    "starcoder2": DecoderConvention(
        "weight", "none", "pre", "head_dim", False, False, "none", None, False
    ),
    "trocr": DecoderConvention("weight", "normed", "post", None, None, False, "none", None, None),
    "vaultgemma": DecoderConvention(
        "1 + weight", "sqrt_d_model", "pre", 0.0625, True, False, "softcap", None, False
    ),
    "xglm": DecoderConvention("weight", "other", None, None, None, False, "none", None, None),
    "xlm": DecoderConvention("weight", "normed", None, None, None, False, "none", None, None),
    "xlm-roberta": DecoderConvention(
        "weight", "normed", "post", "head_dim", False, False, "none", None, False
    ),
    "xlm-roberta-xl": DecoderConvention(
        "weight", "none", None, "head_dim", False, False, "none", None, False
    ),
    "xlstm": DecoderConvention("weight", "none", None, None, None, False, "softcap", None, None),
}

# The words a choice's note ends with where the survey settled it: analyze's unchecked-type rule
# counts only those as evidence beyond the model_type itself.
MEASURED = "(measured by the conventions survey)"


def convention(model_type: str | None, field: str):
    """The survey's measured value of `field` for the model type, or None (not surveyed or not
    measured)."""
    found = SURVEYED.get(model_type or "")
    return getattr(found, field) if found is not None else None


def cite(evidence: tuple[str, object]) -> str:
    """The note of a choice the survey settled: config.json's model_type, then MEASURED."""
    return f"{evidence[0]} {evidence[1]!r} {MEASURED}"
