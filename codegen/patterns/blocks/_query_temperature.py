"""Attention temperature by position: queries scaled by 1 + beta * log(1 + floor((position +
offset) / span)), so attention sharpens slowly far into a long context. It is 1 for every position
before `span` (offset 0) and the scores are unchanged there; past it, the scale grows.

Two spellings in the library, read from each family's modeling code:
- Ministral 3 and Mistral 4 (get_llama_4_attn_scale): rope_parameters' llama_4_scaling_beta and
  original_max_position_embeddings, every attention layer, positions from 0;
- Llama 4 (Llama4TextAttention): attn_scale and floor_scale where attn_temperature_tuning is on,
  only in the layers without rotary (NoPE), positions from 1.
A model_type not named here whose config has the key gets the same formula, and the file says it
is a guess.
"""

from __future__ import annotations

from typing import NamedTuple

from codegen.ir.graph import Graph, Value
from codegen.patterns._kit import BlockContext

# model_types whose attention reads llama_4_scaling_beta (modeling_ministral3.py, modular_mistral4.py)
LLAMA4_SCALING_TYPES = ("ministral3", "mistral4")
# model_types whose NoPE layers read attn_temperature_tuning / attn_scale / floor_scale
NOPE_TEMPERATURE_TYPES = ("llama4", "llama4_text")


class Temperature(NamedTuple):
    beta: float
    span: float
    offset: float
    note: str


def _number(said) -> float | None:
    if said is None or isinstance(said[1], bool) or not isinstance(said[1], (int, float)):
        return None
    return float(said[1])


def llama4_scaling(ctx: BlockContext, model_type: str | None) -> tuple[Temperature | None, str]:
    """Ministral 3's and Mistral 4's temperature (every layer), with why it is a guess ("")."""
    beta = ctx.resolver.evidence("llama_4_scaling_beta")
    if beta is None or beta[1] is None:
        return None, ""
    span = ctx.resolver.evidence("original_max_position_embeddings")
    if _number(beta) is None or _number(span) is None or _number(span) <= 0:
        return None, f"{beta[0]} {beta[1]!r} without a usable original_max_position_embeddings"
    note = f"{beta[0]} {beta[1]!r} past every {span[1]!r} positions"
    guessed = ""
    if model_type not in LLAMA4_SCALING_TYPES:
        guessed = (
            f"model_type {model_type!r} is not known to scale queries by llama_4_scaling_beta "
            "as Ministral 3 does"
        )
    return Temperature(_number(beta), _number(span), 0.0, note), guessed


def nope_temperature(ctx: BlockContext, model_type: str | None) -> tuple[Temperature | None, str]:
    """Llama 4's temperature on the layers that do not rotate, with why it is a guess ("")."""
    tuning = ctx.resolver.evidence("attn_temperature_tuning")
    if tuning is None or tuning[1] is False:
        return None, ""
    beta, span = ctx.resolver.evidence("attn_scale"), ctx.resolver.evidence("floor_scale")
    if _number(beta) is None or _number(span) is None or _number(span) <= 0:
        return None, f"{tuning[0]} without a usable attn_scale and floor_scale"
    guessed = ""
    if model_type not in NOPE_TEMPERATURE_TYPES:
        guessed = f"model_type {model_type!r} is not known to tune the temperature as Llama 4 does"
    note = f"{beta[0]} {beta[1]!r} past every {span[1]!r} positions, counted from 1"
    return Temperature(_number(beta), _number(span), 1.0, note), guessed


def scale_queries(g: Graph, q: Value, seq: Value, plan: Temperature, name: str = "q") -> Value:
    """q [batch, heads, seq, dim] times the temperature of its position."""
    device = g.call_method("device", q, inline=True)
    scale = g.call_function(
        "position_temperature", seq, plan.beta, plan.span, plan.offset, device, inline=True
    )
    return g.call_function(
        "mul", q, scale, name=name, comment=f"attention temperature: {plan.note}"
    )
