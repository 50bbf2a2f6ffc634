"""Rotary frequencies beyond the plain ones: config.json's rope_parameters (or the older
rope_scaling), per rope_type, as a spec the attention's forward prints with the helpers of
codegen/render/helpers/rotary.py (rope_frequencies, llama3_frequencies, yarn_frequencies,
ntk_frequencies, apply_rotary_frequencies).

Only the types written here are read: another rope_type (proportional, ...) leaves its
keys unused, so the file is marked guessed naming them (codegen/load/hf_config.py), never silently
wrong. Per-layer-kind parameters (Gemma 3: windowed layers with their own base) give one spec per
kind.
"""

from __future__ import annotations

import math
from typing import Any

# rope_type -> the keys of rope_parameters its frequencies read (beside rope_theta)
TYPES: dict[str, tuple[str, ...]] = {
    "default": (),
    "linear": ("factor",),
    "dynamic": ("factor",),
    "llama3": ("factor", "low_freq_factor", "high_freq_factor", "original_max_position_embeddings"),
    "longrope": (
        "factor",
        "short_factor",
        "long_factor",
        "original_max_position_embeddings",
        "attention_factor",
    ),
    "yarn": (
        "factor",
        "beta_fast",
        "beta_slow",
        "original_max_position_embeddings",
        "attention_factor",
        "mscale",
        "mscale_all_dim",
        "truncate",
    ),
}
PARAMETER_KEYS = ("rope_parameters", "rope_scaling")

Spec = tuple  # ("default", theta) | ("linear", theta, factor) | ... ; hashable, printed by forward


def rope_parameters(config: dict[str, Any]) -> dict[str, Any] | None:
    """The first rope_parameters / rope_scaling table in config.json (a text_config's included)."""
    for key in PARAMETER_KEYS:
        if isinstance(config.get(key), dict):
            return config[key]
    for value in config.values():
        if isinstance(value, dict):
            found = rope_parameters(value)
            if found is not None:
                return found
    return None


def by_kind(params: dict[str, Any] | None, kinds: frozenset[str]) -> dict[str, dict] | None:
    """{layer kind: its parameters} where the table is keyed by layer kind (Gemma 3)."""
    if not params or not set(params) <= kinds:
        return None
    if not all(isinstance(v, dict) for v in params.values()):
        return None
    return params


def spec(params: dict[str, Any], theta: float, context: int | None) -> Spec | str:
    """The frequencies `params` describe, or why they cannot be written (one line)."""
    kind = params.get("rope_type", params.get("type", "default"))
    if kind not in TYPES:
        return f"rope_type {kind!r} is not written here"
    number = (int, float)
    factor = params.get("factor")
    original = params.get("original_max_position_embeddings")
    if kind == "default":
        return ("default", theta)
    if kind in ("linear", "dynamic") and not isinstance(factor, number):
        return f"rope_type {kind!r} without a numeric factor"
    if kind == "linear":
        return ("linear", theta, float(factor))
    if kind == "dynamic":
        if not isinstance(context, int):
            return "dynamic rope without max_position_embeddings"
        return ("dynamic", theta, float(factor), context)
    if not isinstance(original, int) or original <= 0:
        return f"rope_type {kind!r} without original_max_position_embeddings"
    if kind == "longrope":
        short, long = params.get("short_factor"), params.get("long_factor")
        lists = (short, long)
        if not all(isinstance(f, list) and f and all(_number(v) for v in f) for f in lists):
            return "longrope without short_factor and long_factor lists of numbers"
        return ("longrope", theta, tuple(map(float, short)), tuple(map(float, long)), original)
    if kind == "llama3":
        low, high = params.get("low_freq_factor"), params.get("high_freq_factor")
        if not all(isinstance(v, number) for v in (factor, low, high)) or low == high:
            return "llama3 rope without factor, low_freq_factor and high_freq_factor"
        return ("llama3", theta, float(factor), float(low), float(high), original)
    # yarn
    if factor is None and isinstance(context, int):
        factor = context / original
    if not isinstance(factor, number) or factor <= 0:
        return "yarn rope without a factor"
    fast, slow = params.get("beta_fast") or 32, params.get("beta_slow") or 1
    truncate = params.get("truncate", True)
    if not all(isinstance(v, number) for v in (fast, slow)) or not isinstance(truncate, bool):
        return "yarn rope with beta_fast, beta_slow or truncate of the wrong type"
    return ("yarn", theta, float(factor), float(fast), float(slow), original, truncate)


def _number(value: Any) -> bool:
    return type(value) in (int, float)


def attention_scale(params: dict[str, Any], spec: Spec, context: int | None) -> float:
    """The factor on cos and sin: YaRN's (the paper's 0.1 ln(s) + 1, or as configured),
    LongRoPE's (sqrt(1 + ln(s) / ln(original context))); 1 otherwise."""
    if spec[0] not in ("yarn", "longrope"):
        return 1.0
    given = params.get("attention_factor")
    if isinstance(given, (int, float)):
        return float(given)
    if spec[0] == "longrope":
        factor, original = params.get("factor"), spec[4]
        if not _number(factor):
            factor = context / original if isinstance(context, int) else 1.0
        return 1.0 if factor <= 1.0 else math.sqrt(1 + math.log(factor) / math.log(original))
    factor, mscale, mscale_all = spec[2], params.get("mscale"), params.get("mscale_all_dim")

    def m(scale: float, times: float = 1.0) -> float:
        return 1.0 if scale <= 1 else 0.1 * times * math.log(scale) + 1.0

    if mscale and mscale_all_dim_ok(mscale_all):
        return m(factor, mscale) / m(factor, mscale_all)
    return m(factor)


def mscale_all_dim_ok(value: Any) -> bool:
    return isinstance(value, (int, float)) and value != 0


# Vision towers whose 2-D rotary puts each patch at 2 pi times its centre's coordinates in [-1, 1]
# and leaves the tokens in front of the patches unturned (DINOv3); config.json's rope_theta is the
# base. The others (rope_type "axial": MLCD) number rows and columns 0, 1, ...
CENTRED_AXIAL_TYPES = ("dinov3_vit",)


# Vision towers whose 2-D rotary gives the rows the even and the columns the odd frequencies of a
# 1-D rotary over the head (modeling_pixtral.py: inv_freq[0::2] then inv_freq[1::2]); MLCD's
# use the same frequencies, the even ones, for both.
STAGGERED_AXIAL_TYPES = ("pixtral",)


def staggered_axial(config: dict[str, Any]) -> bool:
    """Whether the 2-D rotary's columns turn at the odd frequencies (STAGGERED_AXIAL_TYPES)."""
    return _find(config, "model_type") in STAGGERED_AXIAL_TYPES


def axial_rope(config: dict[str, Any]) -> tuple[float, bool] | None:
    """(rotary base, centred) of a 2-D (axial) rotary over image patches, whose angles the model
    computes from the patch grid and gives to every layer; None where config.json describes no
    such rotary: a rope_parameters table of rope_type "axial", or a model_type known to use one."""
    params = rope_parameters(config)
    if params and params.get("rope_type", params.get("type")) == "axial":
        theta = params.get("rope_theta", 10000.0)
        return (float(theta), False) if _positive(theta) else None
    if _find(config, "model_type") in CENTRED_AXIAL_TYPES:
        theta = _find(config, "rope_theta")
        return (float(theta), True) if _positive(theta) else None
    return None


def _positive(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0


def _find(config: dict[str, Any], key: str) -> Any:
    """`key`'s value at the top of config.json, or in the first nested table that has it."""
    if key in config:
        return config[key]
    for value in config.values():
        if isinstance(value, dict):
            found = _find(value, key)
            if found is not None:
                return found
    return None


def consumed_keys(spec: Spec) -> tuple[str, ...]:
    """The keys a written spec used: they leave the safety net's list of unused keys."""
    return ("rope_type", "type", "rope_theta") + TYPES[spec[0]]


def describe(spec: Spec) -> str:
    """A few words for the forward's comment."""
    if spec[0] == "default":
        return f"theta {spec[1]:g}"
    if spec[0] == "longrope":
        return f"longrope, theta {spec[1]:g}, long factors past {spec[4]} positions"
    return f"{spec[0]} rope, theta {spec[1]:g}, factor {spec[2]:g}"
