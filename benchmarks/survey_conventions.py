"""Survey of the decoder conventions of every causal-LM model type in the installed `transformers`.

The sibling of survey_rope.py: for each model_type the library maps to a causal LM class, build the
model from a tiny config and MEASURE, by calling it (never from a list typed by hand):
- norm_scale: each norm module with a weight is called with its weight (and bias) zeroed: a zero
  output is `weight`, the plain normalised input is `1 + weight` (Gemma, Nemotron's LayerNorm1P);
- embedding_scale: the first block's input over the token table's rows (other embedding tables
  zeroed): `none` (1), `sqrt_d_model`, `normed` (a norm before the first block), a config factor
  (`* embedding_multiplier`: the tiny config sets each factor key to a telling value), `other`;
- residual: the first block is called again on its input times 1000: an output of the input's
  size is a residual stream (`pre`), one of unit size is normalised after the sum (`post`); with
  the attention's output perturbed, an MLP input that does not move is `parallel`;
- scores: the attention calls a probe attention function (transformers' AttentionInterface): its
  `scaling` over head_dim ** -0.5 (`head_dim`, `none` for 1, or the number), whether it caps
  scores (`softcap`), whether the mask holds a position bias (`alibi`);
- logits: the logits over the head's own output (made large): `none`, a config factor and which
  way it goes (`* logit_scale`, `/ logits_scaling`), another number, or `softcap`;
- free_norm: the kind ("rms" or "layer") and eps of the norms without parameters (NanoChat's,
  OLMo's), from calling them on small inputs: the eps key of config.json where it equals the tiny
  config's (set to telling values), else the number; None where there are none;
- qk_normed: whether the queries reaching the attention function are normalised per head.
A value that could not be measured (the model does not build, the probe was not called) is None:
the patterns treat it as unknown.

Run: python benchmarks/survey_conventions.py [--python] [TYPE...]   (--python prints the table for
codegen/patterns/_decoder_conventions.py). Types that do not build are listed as skipped.
"""

from __future__ import annotations

import argparse
import inspect
import logging
import math
import sys
import warnings

TINY = dict(
    hidden_size=32,
    num_hidden_layers=2,
    num_attention_heads=4,
    num_key_value_heads=2,
    head_dim=8,
    intermediate_size=64,
    vocab_size=100,
    max_position_embeddings=64,
    rotary_dim=4,  # GPT-J, CodeGen: a rotary width within the tiny heads
    pad_token_id=0,  # within the tiny vocabulary
    bos_token_id=1,
    eos_token_id=2,
    # mixtures of experts: few and narrow
    num_experts=4,
    num_local_experts=4,
    n_routed_experts=4,
    num_experts_per_tok=2,
    moe_intermediate_size=16,
    n_shared_experts=1,
    # factors some families read, at values that show which way they are applied
    embedding_multiplier=3.0,
    logits_scaling=4.0,
    logit_scale=0.2,
    # eps keys at values no family fixes in its code: a measured eps that equals one is read from it
    rms_norm_eps=2e-6,
    layer_norm_eps=3e-6,
    layer_norm_epsilon=3e-6,
)
EPS_KEYS = ("rms_norm_eps", "layer_norm_eps", "layer_norm_epsilon")
FACTOR_KEYS = ("embedding_multiplier", "logits_scaling", "logit_scale")
MAX_PARAMETERS = 30_000_000
PROBE = "survey_probe"
_seen: list[dict] = []  # what the probe attention function was called with


def _probe_attention(module, query, key, value, attention_mask, scaling=None, **kwargs):
    """Record the call, then compute plain attention (grouped keys repeated, optional cap)."""
    import torch

    softcap = kwargs.get("softcap")
    unit = query.float().pow(2).mean(-1).sqrt()
    normed = bool(torch.allclose(unit, torch.ones_like(unit), atol=1e-3))
    _seen.append({"scaling": scaling, "head_dim": query.shape[-1], "softcap": softcap})
    _seen[-1]["normed"] = normed
    mask = attention_mask
    if mask is not None and mask.dtype != torch.bool:
        finite = mask[torch.isfinite(mask)]
        _seen[-1]["bias"] = bool(finite.numel() and finite.abs().max() > 0)
    groups = query.shape[1] // key.shape[1]
    key, value = key.repeat_interleave(groups, 1), value.repeat_interleave(groups, 1)
    scale = query.shape[-1] ** -0.5 if scaling is None else scaling
    scores = query @ key.transpose(-1, -2) * scale
    if softcap is not None:
        scores = torch.tanh(scores / softcap) * softcap
    if mask is not None:
        if mask.dtype == torch.bool:
            scores = scores.masked_fill(~mask, float("-inf"))
        else:
            scores = scores + mask[..., : key.shape[-2]]
    weights = scores.softmax(-1)
    return (weights @ value).transpose(1, 2).contiguous(), weights


def _close(a, b, tol=1e-4) -> bool:
    import torch

    return a.shape == b.shape and torch.allclose(a, b, atol=tol, rtol=tol)


def norm_scale(model) -> str | None:
    """'weight' or '1 + weight' where every norm with a weight agrees, 'mixed', or None."""
    import torch

    found = set()
    x = torch.randn(2, 3, TINY["hidden_size"], generator=torch.Generator().manual_seed(1))
    for module in model.modules():
        weight = getattr(module, "weight", None)
        if "norm" not in type(module).__name__.lower() or not isinstance(weight, torch.Tensor):
            continue
        if weight.dim() != 1 or weight.shape[0] != x.shape[-1]:
            continue
        saved = {n: p.detach().clone() for n, p in module.named_parameters(recurse=False)}
        try:
            with torch.no_grad():
                for p in module.parameters(recurse=False):
                    p.zero_()
                out = module(x)
        except Exception:  # noqa: BLE001 - a norm with arguments of its own (gated norms)
            continue
        finally:
            with torch.no_grad():
                for n, p in module.named_parameters(recurse=False):
                    p.copy_(saved[n])
        out = out[0] if isinstance(out, tuple) else out
        rms = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5)
        centred = x - x.mean(-1, keepdim=True)
        layer = centred * torch.rsqrt(centred.pow(2).mean(-1, keepdim=True) + 1e-5)
        if _close(out, torch.zeros_like(out)):
            found.add("weight")
        elif _close(out, rms, 1e-3) or _close(out, layer, 1e-3):
            found.add("1 + weight")
        else:
            found.add("other")
    if not found:
        return None
    return found.pop() if len(found) == 1 else "mixed"


def _free_norm_modules(model) -> list:
    return [
        m
        for m in model.modules()
        if "norm" in type(m).__name__.lower()
        and not any(True for _ in m.parameters(recurse=False))
        and not any(True for _ in m.children())
    ]


def _normalise(x, kind: str, eps: float):
    if kind == "layer":
        x = x - x.mean(-1, keepdim=True)
    return x * (x.pow(2).mean(-1, keepdim=True) + eps).rsqrt()


def free_norm(model) -> tuple[str, float] | None:
    """(kind, eps) of the norms without parameters, where they agree: each is called on small
    inputs, the kind ("rms" or "layer") is the one that reproduces its output and eps is solved
    from it (rounded to two significant figures)."""
    import torch

    found = set()
    x = torch.randn(2, 3, TINY["hidden_size"], generator=torch.Generator().manual_seed(4))
    for module in _free_norm_modules(model):
        try:
            with torch.no_grad():
                small = x.double() * 1e-3
                out = module(small.float()).double()
        except Exception:  # noqa: BLE001
            return None
        for kind in ("rms", "layer"):
            centred = small - small.mean(-1, keepdim=True) if kind == "layer" else small
            ms = centred.pow(2).mean(-1, keepdim=True)
            eps = ((centred / out).pow(2) - ms).median().item()
            if eps > 0 and _close(out, _normalise(small, kind, eps), 1e-3):
                eps = float(f"{eps:.2g}")
                found.add((kind, next((k for k in EPS_KEYS if TINY[k] == eps), eps)))
                break
        else:
            return None
    return found.pop() if len(found) == 1 else None


def decoder_layers(model):
    """The longest ModuleList of one class: the blocks."""
    import torch.nn as nn

    best = None
    for m in model.modules():
        if isinstance(m, nn.ModuleList) and len(m) and len({type(c) for c in m}) == 1:
            if best is None or len(m) > len(best):
                best = m
    return best


def _named_child(layer, *words):
    found = [
        c
        for n, c in layer.named_children()
        if any(w in n.lower() or w in type(c).__name__.lower() for w in words)
        and "norm" not in type(c).__name__.lower()
        and any(True for _ in c.parameters())  # not a dropout named after its sublayer
    ]
    return found[0] if len(found) == 1 else None


def measure(mtype: str) -> dict:
    import torch
    import transformers
    from transformers import AttentionInterface
    from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES

    AttentionInterface.register(PROBE, _probe_attention)
    config_cls = transformers.CONFIG_MAPPING[mtype]
    model_cls = getattr(transformers, MODEL_FOR_CAUSAL_LM_MAPPING_NAMES[mtype])
    try:
        config = config_cls(**TINY)
    except (AttributeError, TypeError):  # a size it derives itself (Falcon's head_dim)
        config = config_cls(**{k: v for k, v in TINY.items() if k != "head_dim"})
    config._attn_implementation = PROBE
    with torch.device("meta"):  # a config that ignores the tiny sizes would build a large model
        try:
            size = sum(p.numel() for p in model_cls(config).parameters())
        except TypeError:  # moe10: a family that needs its layers' kinds listed (LFM2-MoE)
            config.layer_types = ["full_attention"] * TINY["num_hidden_layers"]
            size = sum(p.numel() for p in model_cls(config).parameters())
    if size > MAX_PARAMETERS:
        raise ValueError(f"{size} parameters: the tiny config does not apply")
    torch.manual_seed(0)
    model = model_cls(config).eval()
    row: dict = {"norm_scale": norm_scale(model), "free_norm": free_norm(model)}
    ids = torch.randint(3, TINY["vocab_size"], (1, 5), generator=torch.Generator().manual_seed(2))
    embed = model.get_input_embeddings()
    layers = decoder_layers(model)
    captured: dict = {}
    hooks = []
    if layers is not None:

        def pre(m, args, kwargs):
            captured.setdefault("layer", (args, dict(kwargs)))

        hooks.append(layers[0].register_forward_pre_hook(pre, with_kwargs=True))
    head = model.get_output_embeddings()
    if head is not None:  # the head's output made large, so a cap or a factor shows

        def widen(m, a, out):
            captured["head"] = out * 1000.0
            return captured["head"]

        hooks.append(head.register_forward_hook(widen))
    with torch.no_grad():  # other embedding tables (learned positions, types) zeroed
        for m in model.modules():
            if isinstance(m, torch.nn.Embedding) and m is not embed:
                m.weight.zero_()
        _seen.clear()
        out = model(input_ids=ids, use_cache=False)
    for h in hooks:
        h.remove()
    logits = getattr(out, "logits", None)
    captured["embed"] = torch.nn.functional.embedding(ids, embed.weight)  # the table's rows
    row["embedding_scale"] = _embedding_scale(captured, layers)
    row["residual"] = _residual(layers, captured) if layers is not None else None
    row.update(_scores(inspect.getsource(sys.modules[model_cls.__module__])))
    row["logits"] = _logits(logits, captured.get("head"))
    return row


def _embedding_scale(captured, layers) -> str | None:
    import torch

    if "embed" not in captured or "layer" not in captured:
        return None
    args, kwargs = captured["layer"]
    h = args[0] if args else kwargs.get("hidden_states")
    e = captured["embed"]
    if not isinstance(h, torch.Tensor) or not isinstance(e, torch.Tensor) or h.shape != e.shape:
        return None
    if _close(h, e):
        return "none"
    if _close(h, e * math.sqrt(e.shape[-1]), 1e-3):
        return "sqrt_d_model"
    if any(_normed_rows(h, e, kind) for kind in ("rms", "layer")):
        return "normed"  # a norm before the first block (BLOOM; NanoChat's has no parameters)
    return _factor(h, e) or "other"


def _normed_rows(h, e, kind: str) -> bool:
    """h is e normalised row by row (whatever small eps): rows of unit size, in e's direction."""
    import torch

    base = e - e.mean(-1, keepdim=True) if kind == "layer" else e
    unit = base / base.pow(2).mean(-1, keepdim=True).sqrt()
    size = h.pow(2).mean(-1).sqrt()
    cosine = torch.nn.functional.cosine_similarity(h, unit, dim=-1)
    return bool((size - 1).abs().max() < 0.05 and (cosine > 1 - 1e-4).all())


def _factor(out, raw) -> str | None:
    """'* key' or '/ key' where out is raw times (or over) a config factor of the tiny config."""
    for key in FACTOR_KEYS:
        for op, f in (("*", TINY[key]), ("/", 1 / TINY[key])):
            if _close(out, raw * f, 1e-3):
                return f"{op} {key}"
    return None


def _residual(layers, captured) -> str | None:
    """'pre', 'post' or 'parallel', from calling the first block again; None if it cannot be."""
    import torch

    if "layer" not in captured:
        return None
    args, kwargs = captured["layer"]
    layer = layers[0]
    hidden = args[0] if args else kwargs.get("hidden_states")
    if not isinstance(hidden, torch.Tensor):
        return None

    def call(x):
        a = (x, *args[1:]) if args else args
        kw = dict(kwargs) if args else {**kwargs, "hidden_states": x}
        out = layer(*a, **kw)
        return out[0] if isinstance(out, tuple) else out

    with torch.no_grad():
        unit = hidden / hidden.pow(2).mean().sqrt()
        try:  # a residual stream grows with its input; a norm after the sum does not
            small, large = (call(unit * f).pow(2).mean().sqrt().item() for f in (1e3, 2e3))
        except Exception:  # noqa: BLE001
            return None
        if abs(large / small - 2.0) < 0.05:
            pass
        elif abs(large / small - 1.0) < 0.05:
            return "post"
        else:
            return None
        attn = _named_child(layer, "attn", "attention")
        mlp = _named_child(layer, "mlp", "ffn", "feed_forward", "feedforward")
        if attn is None or mlp is None:
            return None  # a residual stream, in an order this probe cannot tell
        seen = []
        hook_in = mlp.register_forward_pre_hook(lambda m, a: seen.append(a[0].clone()))
        try:
            call(hidden)

            # a shift that differs along the features: a LayerNorm would remove a constant one
            shift = torch.randn(hidden.shape[-1], generator=torch.Generator().manual_seed(3)) * 7

            def bump(m, a, out):
                if isinstance(out, tuple):
                    return (out[0] + shift, *out[1:])
                return out + shift

            hook_out = attn.register_forward_hook(bump)
            try:
                call(hidden)
            finally:
                hook_out.remove()
        except Exception:  # noqa: BLE001
            return None
        finally:
            hook_in.remove()
    if len(seen) != 2:
        return None
    return "parallel" if _close(seen[0], seen[1]) else "pre"


def _scores(source: str) -> dict:
    if not _seen:  # attention of its own: ALiBi read from the code, the rest unmeasured
        return {
            "scaling": None,
            "softcap": None,
            "alibi": "alibi" in source.lower(),
            "qk_normed": None,
        }
    first = _seen[0]
    scaling, head_dim = first["scaling"], first["head_dim"]
    if scaling is None or abs(scaling - head_dim**-0.5) < 1e-6:
        scale = "head_dim"
    elif abs(scaling - 1.0) < 1e-9:
        scale = "none"
    else:
        scale = float(scaling)
    return {
        "scaling": scale,
        "softcap": any(s.get("softcap") is not None for s in _seen),
        "alibi": any(s.get("bias", False) for s in _seen),
        "qk_normed": all(s["normed"] for s in _seen),
    }


def _logits(logits, raw) -> str | float | None:
    import torch

    if not isinstance(logits, torch.Tensor) or not isinstance(raw, torch.Tensor):
        return None
    if logits.shape != raw.shape:
        return None
    if _close(logits, raw):
        return "none"
    if _factor(logits, raw):
        return _factor(logits, raw)
    ratio = (logits / raw)[raw.abs() > 1e-3]
    if ratio.numel() and torch.allclose(ratio, ratio[0].expand_as(ratio), rtol=1e-3):
        return float(ratio[0])
    if logits.abs().max() <= raw.abs().max() + 1e-6:
        return "softcap"
    return "other"


def survey(types: list[str] | None = None) -> tuple[dict[str, dict], list[str]]:
    from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES

    table, skipped = {}, []
    for mtype in types or sorted(MODEL_FOR_CAUSAL_LM_MAPPING_NAMES):
        try:
            table[mtype] = measure(mtype)
        except Exception as e:  # noqa: BLE001 - the tiny config does not build this one
            skipped.append(f"{mtype} ({type(e).__name__})")
    return table, skipped


COLUMNS = (
    "norm_scale",
    "embedding_scale",
    "residual",
    "scaling",
    "softcap",
    "alibi",
    "logits",
    "free_norm",
    "qk_normed",
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", action="store_true", help="print the table as Python")
    parser.add_argument("types", nargs="*", help="model types (default: every causal LM type)")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)
    table, skipped = survey(args.types)
    for mtype, row in table.items():
        values = tuple(row[c] for c in COLUMNS)
        if args.python:
            print(f"    {mtype!r}: DecoderConvention{values!r},")
        else:
            print(mtype, *values, sep="\t")
    print(f"# {len(table)} types surveyed; skipped: {skipped}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
