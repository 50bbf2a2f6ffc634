"""Survey of the multi-head latent attention (MLA, DeepSeek-V2 style) conventions of every model
type in the installed `transformers` whose config has a `kv_lora_rank`.

The sibling of survey_rope.py and survey_conventions.py: for each such model type, build its
causal LM from a tiny config and MEASURE, by calling it (never from a list typed by hand):
- layout: how the shared rotary part of queries and keys turns. The first latent attention's
  queries and keys, as the library hands them to its attention function, give the attention
  scores; they are compared with the scores of the attention's own projections turned three ways:
  `interleaved` (features 2j with 2j + 1: DeepSeek's complex pairs), `halves` (j with j + d/2,
  LLaMA), `none` (not turned: Kimi's latent attention); `rope_interleave` where the family follows
  config.json's key of that name (True: interleaved, False: halves), measured with both values;
  `other` for anything else; `unset`: the layout where config.json does not give the key.
- yarn_scale: the score scale it passes to the attention function under a YaRN rope_parameters
  table with mscale_all_dim: `mscale_all_dim` (1/sqrt(qk_head_dim) times (0.1 mscale_all_dim
  ln(factor) + 1) squared, DeepSeek's), `plain` (1/sqrt(qk_head_dim)), or the ratio measured.
- latent_eps: the eps of the norm on the compressed keys and values (kv_a_layernorm; the query's
  low-rank norm is built alike): `rms_norm_eps` where it follows config.json's key (set to a
  telling value), else the number its code fixes.
A value that could not be measured is None (the family computes attention itself, or does not
build from the tiny config): the patterns treat it as unknown and the file says so.

Run: python benchmarks/survey_latent_attention.py [--python] [TYPE...]   (--python prints the
table for codegen/patterns/_latent_conventions.py).
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
import warnings

TINY = dict(
    hidden_size=32,
    num_hidden_layers=2,
    num_attention_heads=4,
    num_key_value_heads=4,
    intermediate_size=64,
    vocab_size=100,
    max_position_embeddings=64,
    pad_token_id=0,
    bos_token_id=1,
    eos_token_id=2,
    # the latent attention's sizes, all different, so that a wrong split shows
    kv_lora_rank=16,
    q_lora_rank=24,
    qk_nope_head_dim=8,
    qk_rope_head_dim=4,
    v_head_dim=6,
    # mixtures of experts: few and narrow
    n_routed_experts=4,
    num_experts=4,
    num_local_experts=4,
    num_experts_per_tok=2,
    moe_intermediate_size=16,
    n_shared_experts=1,
    first_k_dense_replace=1,
    rms_norm_eps=2e-6,  # a value no family fixes: a latent norm with it follows the key
    n_group=1,  # grouped routing (DeepSeek-V3): one group of the few experts
    topk_group=1,
)
YARN = dict(
    rope_type="yarn",
    rope_theta=10000.0,
    factor=4.0,
    original_max_position_embeddings=16,
    mscale=1.0,
    mscale_all_dim=0.7,
)
PROBE = "latent_survey_probe"
MAX_PARAMETERS = 30_000_000
_seen: list[dict] = []


def _probe_attention(module, query, key, value, attention_mask, scaling=None, **kwargs):
    """Record the queries, keys and scale, then compute plain causal attention."""
    import torch

    _seen.append({"query": query.detach(), "key": key.detach(), "scaling": scaling})
    groups = query.shape[1] // key.shape[1]
    key, value = key.repeat_interleave(groups, 1), value.repeat_interleave(groups, 1)
    scale = query.shape[-1] ** -0.5 if scaling is None else scaling
    scores = query @ key.transpose(-1, -2) * scale
    seq = query.shape[-2]
    causal = torch.ones(seq, seq, dtype=torch.bool).tril()
    weights = scores.masked_fill(~causal, float("-inf")).softmax(-1)
    return (weights @ value).transpose(1, 2).contiguous(), weights


def _turn(x, theta: float, layout: str):
    """x [.., seq, d] turned by position: `halves`, `interleaved` or `none`."""
    import torch

    if layout == "none":
        return x
    d, seq = x.shape[-1], x.shape[-2]
    inv_freq = 1.0 / theta ** (torch.arange(0, d, 2).float() / d)
    angles = torch.outer(torch.arange(seq).float(), inv_freq)
    if layout == "halves":
        a, b = x.chunk(2, dim=-1)
        cos, sin = torch.cat((angles, angles), -1).cos(), torch.cat((angles, angles), -1).sin()
        return x * cos + torch.cat((-b, a), dim=-1) * sin
    cos, sin = angles.repeat_interleave(2, -1).cos(), angles.repeat_interleave(2, -1).sin()
    turned = torch.stack((-x[..., 1::2], x[..., ::2]), dim=-1).flatten(-2)
    return x * cos + turned * sin


def _latent(model):
    for m in model.modules():
        if hasattr(m, "kv_a_proj_with_mqa") and hasattr(m, "kv_b_proj"):
            return m
    return None


def _scores(attn, x, theta: float, layout: str):
    """The attention scores (unscaled) of the module's own projections, turned by `layout`."""
    import torch

    batch, seq, _ = x.shape
    nope, rope, rank = TINY["qk_nope_head_dim"], TINY["qk_rope_head_dim"], TINY["kv_lora_rank"]
    if getattr(attn, "q_a_proj", None) is not None:
        q = attn.q_b_proj(attn.q_a_layernorm(attn.q_a_proj(x)))
    else:
        q = attn.q_proj(x)
    q = q.view(batch, seq, -1, nope + rope).transpose(1, 2)
    q_nope, q_rot = q.split([nope, rope], dim=-1)
    kv, k_rot = attn.kv_a_proj_with_mqa(x).split([rank, rope], dim=-1)
    kv = attn.kv_b_proj(attn.kv_a_layernorm(kv)).view(batch, seq, -1, nope + TINY["v_head_dim"])
    k_nope = kv.transpose(1, 2)[..., :nope]
    k_rot = _turn(k_rot[:, None], theta, layout).expand(-1, q.shape[1], -1, -1)
    q = torch.cat((q_nope, _turn(q_rot, theta, layout)), -1)
    return q @ torch.cat((k_nope, k_rot), -1).transpose(-1, -2)


def _run(mtype: str, **extra):
    """(the first latent attention, its input, the probe's record) of the family's causal LM."""
    import torch
    import transformers
    from transformers import AttentionInterface
    from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES

    from transformers.masking_utils import ALL_MASK_ATTENTION_FUNCTIONS, AttentionMaskInterface

    AttentionInterface.register(PROBE, _probe_attention)
    # the boolean mask SDPA gets: families that read the mask themselves (a sparse indexer) see one
    AttentionMaskInterface.register(PROBE, ALL_MASK_ATTENTION_FUNCTIONS["sdpa"])
    config = transformers.CONFIG_MAPPING[mtype](**TINY, **extra)
    config._attn_implementation = PROBE
    model_cls = getattr(transformers, _causal_lm_name(mtype))
    with torch.device("meta"):
        size = sum(p.numel() for p in model_cls(config).parameters())
    if size > MAX_PARAMETERS:
        raise ValueError(f"{size} parameters: the tiny config does not apply")
    torch.manual_seed(0)
    model = model_cls(config).eval()
    attn = _latent(model)
    if attn is None:
        raise ValueError("no latent attention found")
    captured = {}

    def pre(m, args, kwargs):
        captured.setdefault("x", kwargs.get("hidden_states", args[0] if args else None))

    hook = attn.register_forward_pre_hook(pre, with_kwargs=True)
    ids = torch.randint(3, TINY["vocab_size"], (1, 7), generator=torch.Generator().manual_seed(2))
    _seen.clear()
    with torch.no_grad():
        model(input_ids=ids, use_cache=False)
    hook.remove()
    theta = config.rope_parameters.get("rope_theta", 10000.0) if config.rope_parameters else 1e4
    return attn, captured.get("x"), (_seen[0] if _seen else None), float(theta)


def _causal_lm_name(mtype: str) -> str:
    """The family's causal-LM class: the auto mapping's, else its config class's sibling (Mistral 4
    is not in the mapping)."""
    import transformers
    from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES

    if mtype in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES:
        return MODEL_FOR_CAUSAL_LM_MAPPING_NAMES[mtype]
    return transformers.CONFIG_MAPPING[mtype].__name__.removesuffix("Config") + "ForCausalLM"


def _layout(mtype: str, **extra) -> str | None:
    import torch

    attn, x, seen, theta = _run(mtype, **extra)
    if seen is None or x is None:
        return None
    want = seen["query"] @ seen["key"].transpose(-1, -2)
    with torch.no_grad():
        for layout in ("interleaved", "halves", "none"):
            got = _scores(attn, x, theta, layout)
            if got.shape == want.shape and torch.allclose(got, want, atol=1e-4, rtol=1e-4):
                return layout
    return "other"


def _default_table(mtype: str) -> dict:
    import transformers

    config = transformers.CONFIG_MAPPING[mtype](**TINY)
    return dict(getattr(config, "rope_parameters", None) or {})


def _kept(mtype: str) -> dict:
    """The keys of the family's own default rope table that its attention reads beside the
    frequencies (Mistral 4's llama_4_scaling_beta, its partial_rotary_factor): the frequencies'
    own keys are the survey's."""
    frequency_keys = set(YARN) | {"type", "rope_type", "beta_fast", "beta_slow"}
    return {k: v for k, v in _default_table(mtype).items() if k not in frequency_keys}


def measure(mtype: str) -> dict:
    import transformers

    fields = getattr(transformers.CONFIG_MAPPING[mtype], "__dataclass_fields__", {})
    has_key = "rope_interleave" in fields or "rope_interleave" in str(
        transformers.CONFIG_MAPPING[mtype].__init__.__doc__ or ""
    )
    # plain frequencies where the family's default table scales them: YaRN with factor 1 (Mistral
    # 4's default rope_type would ignore its partial_rotary_factor)
    plain = _kept(mtype) | dict(YARN, factor=1.0, mscale_all_dim=1.0)
    scaled = _default_table(mtype).get("rope_type", "default") != "default"
    extra = {"rope_parameters": plain} if scaled else {}
    if has_key:
        on = _layout(mtype, rope_interleave=True, **extra)
        off = _layout(mtype, rope_interleave=False, **extra)
        layout = "rope_interleave" if (on, off) == ("interleaved", "halves") else on
        unset = _layout(mtype, **extra)
    else:
        layout = unset = _layout(mtype, **extra)
    attn, _, seen, _ = _run(mtype, rope_parameters=_kept(mtype) | dict(YARN))
    norm = attn.kv_a_layernorm
    eps = getattr(norm, "variance_epsilon", getattr(norm, "eps", None))
    latent_eps = "rms_norm_eps" if eps == TINY["rms_norm_eps"] else eps
    yarn_scale = None
    if seen is not None and seen["scaling"] is not None:
        plain = (TINY["qk_nope_head_dim"] + TINY["qk_rope_head_dim"]) ** -0.5
        mscale = 0.1 * YARN["mscale_all_dim"] * math.log(YARN["factor"]) + 1.0
        ratio = seen["scaling"] / plain
        if abs(ratio - 1) < 1e-6:
            yarn_scale = "plain"
        elif abs(ratio - mscale**2) < 1e-6:
            yarn_scale = "mscale_all_dim"
        else:
            yarn_scale = round(ratio, 6)
    return {"layout": layout, "unset": unset, "yarn_scale": yarn_scale, "latent_eps": latent_eps}


def latent_types() -> list[str]:
    import transformers
    from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES

    out = []
    for mtype in sorted(set(MODEL_FOR_CAUSAL_LM_MAPPING_NAMES) | set(transformers.CONFIG_MAPPING)):
        try:
            config_cls = transformers.CONFIG_MAPPING[mtype]
            if not hasattr(transformers, _causal_lm_name(mtype)):
                continue
        except KeyError:
            continue
        if "kv_lora_rank" in getattr(config_cls, "__dataclass_fields__", {}):
            out.append(mtype)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", action="store_true", help="print the table as Python")
    parser.add_argument("types", nargs="*", help="model types (default: every latent one)")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)
    skipped = []
    for mtype in args.types or latent_types():
        try:
            row = measure(mtype)
        except Exception as e:  # noqa: BLE001 - the tiny config does not build this one
            skipped.append(f"{mtype} ({type(e).__name__}: {str(e)[:60]})")
            continue
        if args.python:
            values = (row["layout"], row["unset"], row["yarn_scale"], row["latent_eps"])
            print(f"    {mtype!r}: LatentConvention{values!r},")
        else:
            print(
                mtype, *(row[k] for k in ("layout", "unset", "yarn_scale", "latent_eps")), sep="\t"
            )
    print(f"# skipped: {skipped}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
