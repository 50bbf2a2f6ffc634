"""Multi-head attention over [batch, seq, d_model]: projections of queries, keys and values (one
fused layer or three), heads (grouped keys/values where there are fewer), optional rotary position
embedding, scaled dot product (causal for decoders), then the output projection.

Members are recognised by name across conventions (Hugging Face GPT-2 / LLaMA / BERT / GPT-NeoX,
fairseq, timm, nanoGPT); sizes come from the layers' widths. Head counts, causality and rotary
settings are choices, settled by config.json where the folder has one.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from codegen.ir.graph import Graph, Value
from codegen.patterns._decoder_conventions import cite as conventions_cite
from codegen.patterns._decoder_conventions import convention
from codegen.patterns._mask_conventions import BIDIRECTIONAL_TYPES
from codegen.patterns._rope_conventions import (
    SLIDING_ONLY_ROTARY,
    qk_norm_order,
    reads_rope_type,
    rotary_layout,
    rotates_whole_head,
)
from codegen.patterns.blocks import _query_temperature as temp
from codegen.patterns.blocks._chunked_attention import chunk_plan
from codegen.patterns.blocks import _rope_scaling as rope
from codegen.patterns._kit import (
    BY_CONVENTION,
    raw_value,
    CHECKED_MODEL_TYPES,
    BlockContext,
    Accepts,
    BlockPattern,
    Example,
    Match,
    apply_norm,
    biased,
    family,
    free_norm,
    modules,
    norm_scale,
    one_named,
    parameter_free_norm,
    tensors,
)

# a learned sink logit per head, by the names checkpoints give it (the library's conversion
# mapping renames these to `sinks` when it loads them)
SINKS = (
    r"sinks|attention_sinks|sink_logits|attn_sinks?|attention_sink_bias|learnable_sink_param"
    r"|softmax_offset"
)
FUSED = r"c_attn|qkv|query_key_value|wqkv|in_proj|qkv_proj|att_proj"
# Queries for word-to-entity, entity-to-word and entity-to-entity scores (LUKE)
ENTITY_QUERIES = r"w2e_query|e2w_query|e2e_query"
QUERY, KEY, VALUE = r"q_proj|query|q|q_lin|wq", r"k_proj|key|k|k_lin|wk", r"v_proj|value|v|v_lin|wv"
OUT = r"c_proj|o_proj|out_proj|dense|proj|o|out_lin|wo|projection_layer|projection"
# ESPnet's and the Conformer ports' names (linear_q ... linear_out; audio11)
QUERY, KEY, VALUE = QUERY + "|linear_q", KEY + "|linear_k", VALUE + "|linear_v"
OUT += "|linear_out"
# What `match` needs first: a fused projection, else each of queries, keys and values by name.
PROJECTIONS = tuple(f"{FUSED}|{p}" for p in (QUERY, KEY, VALUE))
# A norm over the heads' merged output, before the output projection (BitNet's attn_sub_norm).
SUB_NORM = r"attn_sub_norm|sub_norm|sub_ln|inner_attn_ln|attn_out_norm"
ADD_NORM = r"LayerNorm|layer_norm|layernorm|norm|ln|attention_norm|attn_layer_norm"
# Norms of queries and keys (Qwen3, OLMo-2, Gemma 3), per head or over the whole projection.
Q_NORM = r"q_norm|q_layernorm|query_layernorm|q_ln|norm_q|query_norm"
K_NORM = r"k_norm|k_layernorm|key_layernorm|k_ln|norm_k|key_norm"
# Fused layouts: [q | k | v] one after another, or per head [q_h k_h v_h] (GPT-NeoX, BLOOM).
PER_HEAD_NAMES = r"query_key_value"
PER_HEAD_TYPES = ("gpt_neox", "bloom", "falcon", "persimmon", "gpt_bigcode", "gpt_neox_japanese")
# ... or in 4 model-parallel shards, each [q | v | k] (CodeGen's qkv_proj, written for 4 devices).
SHARDED_TYPES = {"codegen": "mp4_qvk"}
# Families whose attention scores are not divided by sqrt(head_dim) (GPT-Neo's softmax_scale 1).
UNSCALED_TYPES = ("gpt_neo",)
QKV_LAYOUTS = ("concat", "per_head", "mp4_qvk")
# Model types and architectures that attend only to earlier positions.
DECODER_TYPES = (
    "gpt2",
    "openai-gpt",
    "llama",
    "mistral",
    "qwen2",
    "qwen3",
    "gpt_neox",
    "opt",
    "phi",
    "phi3",
    "gemma",
    "gemma2",
    "bloom",
    "gptj",
    "falcon",
    "mixtral",
    "olmo",
    "stablelm",
    "starcoder2",
    "gpt_bigcode",
    "codegen",
    "imagegpt",
    "granite",
    "cohere",
    "gpt_neo",
)
ENCODER_TYPES = (
    "bert",
    "roberta",
    "electra",
    "distilbert",
    "albert",
    "vit",
    "deit",
    "xlm-roberta",
    "clip_vision_model",
    "siglip_vision_model",
    "siglip_text_model",  # vis11: unlike CLIP's, SigLIP's text towers are given no causal mask
    "siglip2_text_model",
    "roformer",
    "camembert",
    "data2vec-text",
    "ernie",
    "megatron-bert",
    "splinter",
    "nomic_bert",
    "clip",  # CLIPModel: both towers' attentions; the text tower applies its causal mask itself
    "clipseg",  # tf20: CLIPSeg's and OWLv2's towers are CLIP's (attention is_causal False, the
    "owlv2",  # text transformer building the causal mask; transformers 5.24)
)
# Text encoders that attend only to earlier positions, as decoders do (CLIP's text tower).
# tf15: Phi-4 multimodal's vision tower too: its attention sets is_causal, which the library's
# default SDPA path applies wherever no padding mask is built (every patch real), eager does not.
# tf18: MetaCLIP 2's text tower, a copy of CLIP's (tests/test_config_readings.py compares it).
CAUSAL_ENCODER_TYPES = ("clip_text_model", "phi4_multimodal_vision", "metaclip_2_text_model")
ROTARY_TYPES = (
    "llama",
    "mistral",
    "qwen2",
    "qwen3",
    "gpt_neox",
    "phi",
    "phi3",
    "gemma",
    "gemma2",
    "mixtral",
    "olmo",
    "stablelm",
    "starcoder2",
    "gptj",
    "falcon",
    "persimmon",
    "nomic_bert",
)
# Which features rotate together, and whether queries and keys are normed before or after
# rotary, per model_type: patterns/_rope_conventions.py (a survey of the library's code). For a
# family not there the layout and the order are defaults the file marks as guessed.
# Families whose full-attention layers (beside windowed ones) apply no rotary, found in their code
# by benchmarks/survey_rope.py (Cohere 2; AFMoE and EXAONE 4's "global NoPE" of hybrid stacks,
# moe10: tests/test_moe_10.py compares them; Flint): written as rotary of width 0.
FULL_LAYERS_UNROTATED_TYPES = SLIDING_ONLY_ROTARY
# Rotary whose sin/cos come from a position table the encoder owns and passes to every layer as
# `sinusoidal` ([seq, head_dim]: sines then cosines; pairs (2i, 2i+1) rotate; RoFormer).
ROTARY_TABLE_TYPES = ("roformer",)
# config.json keys that only a rotary attention has.
ROPE_KEYS = ("rope_theta", "rotary_dim", "rotary_emb_base", "rope_base")
# Rotary bases in common use beside the default 10000 (LLaMA 3, Qwen2 / Mistral v0.2 / Code Llama):
# what calibration tries when no config.json says; a hint may give any other.
THETAS = [500000.0, 1000000.0]
# Families whose attention adds a per-head linear position bias (ALiBi) instead of rotary, where
# the conventions survey did not measure it (their attention is not the library's function).
ALIBI_TYPES = ("bloom", "mpt")
HEAD_COUNTS = [1, 2, 3, 4, 6, 8, 12, 16, 20, 24, 25, 32, 40, 48, 56, 64, 71, 96, 128]

UNKNOWN_HEADS = (
    "an attention whose heads, scaling and masking the checkpoint does not record "
    "(give the folder's config.json, or --hints nhead = N)"
)

SYNONYMS = {
    "nhead": (
        "num_attention_heads",
        "n_head",
        "num_heads",
        "n_heads",
        "encoder_attention_heads",
        "attention_heads",  # XGLM
    ),
    "kv_heads": (
        "num_key_value_heads",
        "n_head_kv",
        "num_kv_heads",
        "multi_query_group_num",
        "kv_n_heads",  # DBRX's attn_config (mix9)
    ),
    "rope_theta": ("rope_theta", "rotary_emb_base", "rope_base", "base"),
    "rotary_fraction": ("partial_rotary_factor", "rotary_pct"),
}


def head_counts(d_model: int | None, qkv: list | None) -> list[int]:
    """Head counts the shapes allow: they divide the model width, and with separate projections
    the head size also divides the keys' width (grouped keys/values)."""
    counts = [h for h in HEAD_COUNTS if d_model is None or d_model % h == 0]
    if qkv is None or not all(m.io and m.io.out_width for m in qkv):
        return counts
    q_width, kv_width = qkv[0].io.out_width, qkv[1].io.out_width
    return [h for h in counts if q_width % h == 0 and kv_width % (q_width // h) == 0]


def _named(members, pattern: str):
    return [m for m in members if re.fullmatch(pattern, m.attr, re.IGNORECASE)]


def _projection(ctx: BlockContext, m) -> bool:
    return m is not None and ctx.role(m) in ("linear", "Conv1D")


def model_kind(ctx: BlockContext) -> tuple[str | None, str]:
    """ "decoder" / "encoder" from config.json's model_type or architectures, and the citation."""
    kind, cite = _model_kind(ctx)
    # dec11: a sequence classifier pooling the first token (or every token) is an encoder's: in a
    # causal model the first token sees nothing after it (ModernBERT, UltraBERT); used where it
    # agrees (a decoder's config saying so stays unused: the file is flagged)
    pooling = ctx.resolver.metadata.get("classifier_pooling")
    if pooling and pooling[1] in ("cls", "mean") and kind in (None, "encoder"):
        ctx.resolver.evidence("classifier_pooling")
        if kind is None:
            return "encoder", f"{pooling[0]} {pooling[1]!r}: an encoder's pooling"
    return kind, cite


def _model_kind(ctx: BlockContext) -> tuple[str | None, str]:
    found = ctx.resolver.evidence("model_type")
    # A config with no model type (a trainer's hyperparameters) that says `is_decoder: true`: the
    # flag the library's encoder families attend causally by.
    said = ctx.resolver.metadata.get("is_decoder") if found is None else None
    if said is not None and said[1] is True:
        said = ctx.resolver.evidence("is_decoder")
        return "decoder", f"{said[0]} true"
    if found and (found[1] in DECODER_TYPES or found[1] in CAUSAL_ENCODER_TYPES):
        return "decoder", f"{found[0]} {found[1]!r}"
    if found and found[1] in ENCODER_TYPES:
        return "encoder", f"{found[0]} {found[1]!r}"
    arch = ctx.resolver.evidence("architectures")
    if arch and re.search(r"CausalLM|LMHeadModel", str(arch[1])):
        return "decoder", f"{arch[0]} {arch[1]!r}"
    if arch and re.search(r"MaskedLM", str(arch[1])):
        return "encoder", f"{arch[0]} {arch[1]!r}"
    # A mask token is what a masked language model is trained to fill in, from both sides
    # (EuroBERT, ESM C: decoder-shaped layers that attend to all positions).
    masked = ctx.resolver.evidence("mask_token_id")
    if masked and isinstance(masked[1], int) and not isinstance(masked[1], bool):
        return "encoder", f"{masked[0]} {masked[1]}: a masked language model's mask token"
    # A convolutional feature encoder over audio feeds a bidirectional encoder (wav2vec2, HuBERT,
    # and any speech model configured the same way).
    audio = ctx.resolver.evidence("conv_stride")
    if audio and ctx.resolver.evidence("num_conv_pos_embeddings", "feat_extract_norm"):
        return "encoder", f"{audio[0]}: a speech encoder over conv features"
    # A vision tower (an image cut into patches, no vocabulary) attends over every patch.
    patches = ctx.resolver.evidence("patch_size", "tubelet_size")
    if patches and ctx.resolver.evidence("image_size") and not ctx.resolver.evidence("vocab_size"):
        return "encoder", f"{patches[0]}: a vision tower over image patches {BY_CONVENTION}"
    # att12: a family measured attending both ways (benchmarks/survey_masks.py)
    if found and found[1] in BIDIRECTIONAL_TYPES:
        return "encoder", f"{found[0]} {found[1]!r}: attends both ways (the masks survey)"
    return None, ""


def score_scale(ctx: BlockContext) -> tuple[float, str] | None:
    """The attention scores' scale where config.json replaces 1/sqrt(head_dim): Granite's
    attention_multiplier, or 1/sqrt(query_pre_attn_scalar) (Gemma 2); with its citation."""
    found = ctx.resolver.evidence("attention_multiplier")
    if found is not None and type(found[1]) in (int, float) and found[1] > 0:
        return float(found[1]), f"{found[0]} {found[1]}"
    found = ctx.resolver.evidence("query_pre_attn_scalar")
    if found is not None and type(found[1]) in (int, float) and found[1] > 0:
        return float(found[1]) ** -0.5, f"1/sqrt({found[0]} {found[1]})"
    found = ctx.resolver.evidence("scale_attn_weights")  # GPT-2's switch (GPT-BigCode's too)
    if found is not None and found[1] is False:
        return 1.0, f"1 ({found[0]} false: scores not divided by sqrt(head_dim))"
    return None


def qkv_clip(ctx: BlockContext) -> float | None:
    """config.json's bound on the projected queries, keys and values (OLMo's, DBRX's clip_qkv):
    each clamped to [-clip, clip] as it leaves its projection."""
    found = ctx.resolver.evidence("clip_qkv")
    if found is None or type(found[1]) not in (int, float) or found[1] <= 0:
        return None
    return float(found[1])


def score_cap(ctx: BlockContext) -> tuple[float, str] | None:
    """config.json's soft cap on attention scores (Gemma 2's attn_logit_softcapping), cited."""
    found = ctx.resolver.evidence("attn_logit_softcapping")
    if found is None or type(found[1]) not in (int, float) or found[1] <= 0:
        return None
    return float(found[1]), f"{found[0]} {found[1]}"


# Per-layer attention kinds (Gemma 2's layer_types, GPT-Neo's attention_layers): every earlier
# position, or a sliding window (codegen/load/hf_config.py's FULL_ATTENTION lists the first kind).
FULL_KINDS = frozenset({"full_attention", "global", "attention"})
WINDOWED_KINDS = frozenset({"sliding_attention", "local"})


def window_plan(ctx: BlockContext) -> int | tuple[int, ...] | None:
    """config.json's sliding window: its length where every layer uses it (Mistral, Starcoder2),
    one length per layer where layers mix windowed and full attention (0: full), or None. A
    window as long as the context is none; kinds not known here leave the keys unused, so the
    file is flagged rather than wrong. In a bidirectional attention the window is the radius
    either side of each query (the library's bidirectional sliding-window mask: |i - j| <=
    sliding_window); ModernBERT's local_attention, where no sliding_window is saved, is the whole
    window: half of it either side (dec11)."""
    metadata, lists = ctx.resolver.metadata, ctx.resolver.string_lists
    said = metadata.get("use_sliding_window")
    # RecurrentGemma spells it attention_window_size
    windows = ("sliding_window", "window_size", "attention_window_size", "local_attention")
    key = next((k for k in windows if k in metadata), None)
    if key is None or (said and said[1] is False):
        return None
    window = metadata[key][1]
    if key == "local_attention" and type(window) is int:
        window //= 2
    context = ctx.resolver.evidence("max_position_embeddings", "n_positions")
    if type(window) is not int or window <= 0:
        return None
    if context is not None and type(context[1]) is int and window >= context[1]:
        if not _kinds_rotate_differently(ctx):  # else the layers' kinds still tell them apart
            return None
    kinds_key = next((k for k in ("layer_types", "attention_layers") if k in lists), None)
    if kinds_key is None:
        ctx.resolver.evidence(key)
        ctx.resolver.evidence("use_sliding_window")
        return window
    kinds = lists[kinds_key][1]
    if not set(kinds) <= FULL_KINDS | WINDOWED_KINDS:
        return None
    ctx.resolver.evidence(key)
    ctx.resolver.evidence("use_sliding_window")
    ctx.resolver.evidence_list(kinds_key)
    ctx.resolver.consumed.add("attention_types")  # GPT-Neo's run-length form of the same list
    if all(k in WINDOWED_KINDS for k in kinds):
        return window
    if not any(k in WINDOWED_KINDS for k in kinds):
        return None
    return tuple(window if k in WINDOWED_KINDS else 0 for k in kinds)


def rope_plan(ctx: BlockContext, theta: float, hinted: bool) -> tuple[tuple | None, str]:
    """config.json's rotary frequencies where they are not the plain ones: (("uniform", spec,
    scale) or ("per_layer", windowed spec, full spec, scale), None), or (None, "") for the plain
    ones; with a reason instead where they cannot be written (the file is then guessed)."""
    params = rope.rope_parameters(ctx.resolver.nested)
    if params is None:
        return None, ""
    context = ctx.resolver.evidence("max_position_embeddings", "n_positions")
    context_len = context[1] if context else None
    kinds = rope.by_kind(params, FULL_KINDS | WINDOWED_KINDS)
    if kinds is None:
        made = rope.spec(params, theta, context_len)
        if isinstance(made, str):
            return None, made
        ctx.resolver.consumed.update(rope.consumed_keys(made))
        if made[0] == "default":
            return None, ""
        return ("uniform", made, rope.attention_scale(params, made, context_len)), ""
    specs, scales = {}, set()
    for kind, table in kinds.items():
        base = table.get("rope_theta", theta)
        if hinted or not isinstance(base, (int, float)):
            base = theta
        made = rope.spec(table, float(base), context_len)
        if isinstance(made, str):
            return None, made
        ctx.resolver.consumed.update(rope.consumed_keys(made))
        specs["windowed" if kind in WINDOWED_KINDS else "full"] = made
        scales.add(rope.attention_scale(table, made, context_len))
    if len(scales) != 1:
        return None, "layer kinds scale their rotary attention differently: not written here"
    windows = window_plan(ctx)
    full = specs.get("full", specs.get("windowed"))
    windowed = specs.get("windowed", full)
    if windowed != full:
        if isinstance(windows, tuple):  # layers of both kinds, each told its window
            return ("per_layer", windowed, full, scales.pop()), ""
        listed = ctx.resolver.evidence_list("layer_types", "attention_layers")
        if windows is not None or (listed and set(listed[1]) <= WINDOWED_KINDS):
            full = windowed  # every layer windowed
        elif not (listed and set(listed[1]) <= FULL_KINDS):
            why = "layers of two kinds rotate differently, and which layer is which is not known"
            return None, why
    if full[0] == "default" and full[1] == theta:
        return None, ""
    return ("uniform", full, scales.pop()), ""


def _frequencies(g: Graph, rotary: tuple, q: Value, seq: Value, window: Value | None):
    """Print the rotary frequencies of a plan (rope_plan): (inv_freq, scale on cos and sin)."""
    plan, width = rotary[3], rotary[1]
    device = g.call_method("device", q, inline=True, name="device")

    def one(spec: tuple, name: str) -> Value:
        kind, theta = spec[0], spec[1]
        comment = rope.describe(spec) if width else "none: these layers do not rotate"
        if kind in ("default", "linear"):
            if kind == "default":
                return g.call_function(
                    "rope_frequencies", theta, width, device, name=name, comment=comment
                )
            inv_freq = g.call_function("rope_frequencies", theta, width, device, inline=True)
            return g.call_function("truediv", inv_freq, spec[2], name=name, comment=comment)
        if kind == "dynamic":
            return g.call_function(
                "ntk_frequencies",
                theta,
                width,
                spec[2],
                spec[3],
                seq,
                device,
                name=name,
                comment=comment,
            )
        if kind == "longrope":  # per-frequency factors, long ones past the original context
            short, long = list(spec[2]), list(spec[3])
            return g.call_function(
                "longrope_frequencies",
                theta,
                width,
                short,
                long,
                spec[4],
                seq,
                device,
                name=name,
                comment=comment,
            )
        fn = f"{kind}_frequencies"
        return g.call_function(fn, theta, width, *spec[2:], device, name=name, comment=comment)

    if plan[0] == "uniform":
        return one(plan[1], "inv_freq"), plan[2]
    widths = plan[4] if len(plan) > 4 else (width, width)  # kinds rotating shares of their own
    width = widths[0]
    windowed = one(plan[1], "windowed_freq")
    width = widths[1]
    full = one(plan[2], "full_freq")
    inv_freq = g.call_function(
        "layer_frequencies", window, windowed, full, name="inv_freq", comment="this layer's kind"
    )
    return inv_freq, plan[3]


def kind_widths(ctx: BlockContext, hd: int, width: int, plan, theta: float):
    """(rotary width, plan, why not) where config.json's rotary tables per layer kind give each
    kind its own partial_rotary_factor (Laguna: half of each head in full layers, all of it in
    windowed ones): one kind for every layer takes its own width, layers of both kinds carry both
    in the plan (its fifth item); `why` names what cannot be written."""
    kinds = rope.by_kind(rope.rope_parameters(ctx.resolver.nested), FULL_KINDS | WINDOWED_KINDS)
    shares = {}
    for kind, table in (kinds or {}).items():
        share = table.get("partial_rotary_factor", 1.0)
        if not isinstance(share, (int, float)) or isinstance(share, bool) or not 0 < share <= 1:
            return width, plan, f"{kind}'s partial_rotary_factor {share!r} is not a share"
        shares["windowed" if kind in WINDOWED_KINDS else "full"] = int(hd * share)
    if len(set(shares.values())) < 2:
        return width, plan, ""
    if plan is not None and plan[0] == "per_layer":
        return width, plan[:4] + ((shares["windowed"], shares["full"]),), ""
    listed = ctx.resolver.evidence_list("layer_types", "attention_layers")
    windows = window_plan(ctx)
    if plan is None and isinstance(windows, tuple):  # the plain frequencies, each kind its share
        widths = (shares["windowed"], shares["full"])
        return width, ("per_layer", ("default", theta), ("default", theta), 1.0, widths), ""
    if listed and set(listed[1]) <= FULL_KINDS and windows is None:
        return shares["full"], plan, ""
    if (listed and set(listed[1]) <= WINDOWED_KINDS) or isinstance(windows, int) and windows:
        return shares["windowed"], plan, ""
    return (
        width,
        plan,
        "layer kinds rotate different shares of each head, which layer is which unknown",
    )


def unrotated_full_layers(plan, width: int, theta: float) -> tuple:
    """A rotary plan in which full-attention layers rotate nothing (width 0) and windowed ones
    rotate as `plan` (None: the plain frequencies) says (Cohere 2, AFMoE)."""
    if plan is None:
        return ("per_layer", ("default", theta), ("default", theta), 1.0, (width, 0))
    if plan[0] == "uniform":
        return ("per_layer", plan[1], plan[1], plan[2], (width, 0))
    windowed = plan[4][0] if len(plan) > 4 else width
    return plan[:4] + ((windowed, 0),)


def null_full_rotary(ctx: BlockContext) -> bool:
    """config.json's rotary table per layer kind gives the windowed kind its parameters and the
    full-attention kind none (null: Beam's `"full_attention": null`): those layers do not rotate,
    as a family code reading `rope_parameters[layer_type] is None` has it (tf18)."""
    params = rope.rope_parameters(ctx.resolver.nested)
    if not isinstance(params, dict) or not params or not set(params) <= FULL_KINDS | WINDOWED_KINDS:
        return False
    full = [k for k in params if k in FULL_KINDS]
    windowed = [k for k in params if k in WINDOWED_KINDS]
    if not full or not windowed or any(params[k] is not None for k in full):
        return False
    if not all(isinstance(params[k], dict) for k in windowed):
        return False
    ctx.resolver.consumed.update(full)
    return True


def full_layers_unrotated(ctx: BlockContext, mtype: str | None) -> bool:
    """Full-attention layers beside windowed ones apply no rotary: the family's code says so (the
    survey), or config.json leaves their rotary table null."""
    return mtype in FULL_LAYERS_UNROTATED_TYPES or null_full_rotary(ctx)


def only_full_layers(ctx: BlockContext, mtype: str | None) -> bool:
    """A family whose full-attention layers do not rotate (the survey's SLIDING_ONLY_ROTARY), in a
    stack whose config.json sets a sliding window but lists only full-attention layers."""
    if not full_layers_unrotated(ctx, mtype):
        return False
    metadata, lists = ctx.resolver.metadata, ctx.resolver.string_lists
    window = metadata.get("sliding_window")
    listed = lists.get("layer_types")
    if window is None or type(window[1]) is not int or not listed:
        return False
    if not set(listed[1]) <= FULL_KINDS:
        return False
    ctx.resolver.evidence("sliding_window")
    ctx.resolver.evidence_list("layer_types")
    return True


def _kinds_rotate_differently(ctx: BlockContext) -> bool:
    """Whether windowed and full layers rotate differently: config.json gives them rotary
    parameters of their own, or the family rotates only its windowed layers."""
    model_type = ctx.resolver.evidence("model_type")
    if full_layers_unrotated(ctx, model_type[1] if model_type else None):
        return True
    kinds = rope.by_kind(rope.rope_parameters(ctx.resolver.nested), FULL_KINDS | WINDOWED_KINDS)
    return kinds is not None and len({repr(sorted(v.items())) for v in kinds.values()}) > 1


def rotary_share_given(ctx: BlockContext) -> bool:
    """config.json names a rotary share (read where the fraction is settled: rope_parameters'
    partial_rotary_factor reaches every family's rope functions). A rotary width (rotary_dim) is
    read only by the families the survey found reading it: in another it turns nothing
    (MiniMax-M3's config stores one its code never reads)."""
    return any(k in ctx.resolver.metadata for k in SYNONYMS["rotary_fraction"])


def free_qk_norm(ctx: BlockContext, mtype: str | None) -> tuple[float, str, str] | None:
    """Queries and keys normed per head by norms without parameters (NanoChat): where the survey
    measured the queries reaching the attention normalised and the family's norms parameter-free."""
    if convention(mtype, "qk_normed") is not True:
        return None
    said = ctx.resolver.evidence("use_qk_norm")  # mla11: Llama 4's switch, on when surveyed
    if said is not None and said[1] is False:
        return None
    return parameter_free_norm(ctx)


def settled_by(choice, citation: str):
    """A choice whose default was read off evidence (model_type): cite it, unless a hint won."""
    if citation and choice.source == "default":
        choice.source, choice.note = "metadata", citation
    return choice


# Query and value biases held beside bias-free projections (timm's BEiT and EVA, VideoMAE's
# checkpoints: `q_bias`, `v_bias`); the keys get none, as a key bias cancels in the softmax.
ADDED_BIASES = (r"q_bias", r"v_bias")


class AttentionPlan(NamedTuple):
    """What Attention.match found, by name: patterns built over it (differential attention, an
    output bias stored beside it) read fields, so a new entry cannot shift what they read."""

    projections: list  # attribute names: one fused qkv, or q, k, v
    out: str | None
    nhead: int
    kv_heads: int
    causal: bool
    per_head: Any
    rotary: tuple | None
    alibi: bool
    norm: str | None  # a norm the attention holds (post-norm layers)
    scale: tuple | None
    split: Any
    qk_norm: tuple | None
    window: Any
    cap: Any
    sub_norm: str | None
    free_qk: Any
    sinks: str | None
    clip: float | None
    # scores also divided by the layer's index + 1, told by the caller (GPT-2's
    # scale_attn_by_inverse_layer_idx, Stanford CRFM's models; mix9)
    layer_scaled: bool = False
    # queries scaled by position (Ministral 3's llama_4_scaling_beta; mla11, _query_temperature)
    temperature: Any = None
    chunk: int | None = None  # each position sees its own chunk only (Llama 4; _chunked_attention)
    added_biases: tuple[str, str] | None = None  # (q_bias, v_bias) attribute names: ADDED_BIASES


def _takes_added_biases(qkv: list, added: list) -> bool:
    """Added query and value biases fit bias-free projections: each as wide as its projection's
    output (a third of a fused one's)."""
    if any(biased(m) for m in qkv) or any(m.io is None or m.io.out_width is None for m in qkv):
        return False
    widths = (
        [qkv[0].io.out_width // 3] * 2
        if len(qkv) == 1
        else [qkv[0].io.out_width, qkv[2].io.out_width]
    )
    # a lifted size (a constructor parameter) is the strict load's to check
    return all(not isinstance(t.shape[0], int) or t.shape[0] == w for t, w in zip(added, widths))


class Attention(BlockPattern):
    role = "Attention"
    priority = 10
    synonyms = SYNONYMS
    projects = True  # ends with the output projection (SelfAttention below stops before it)
    adds_norm = False  # then adds the input back and normalises (AttentionAddNorm below)
    accepts = Accepts(2, 7, names=PROJECTIONS)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        # a learned sink logit per head (GPT-OSS): the one tensor an attention may hold
        sinks = [t for t in tensors(cls) if re.fullmatch(SINKS, t.attr, re.I) and len(t.shape) == 1]
        vectors = [t for t in tensors(cls) if len(t.shape) == 1]
        added = [one_named(vectors, p) for p in ADDED_BIASES]
        added = [] if None in added else added
        if (
            len(tensors(cls)) != len(sinks) + len(added)
            or len(sinks) > 1
            or not 2 <= len(members) <= 7 + self.adds_norm
        ):
            return None
        fused = one_named(members, FUSED)
        if fused is not None:
            qkv = [fused]
        else:
            qkv = [one_named(members, p) for p in (QUERY, KEY, VALUE)]
        if any(m is None for m in qkv):
            return None
        out = one_named([m for m in members if m not in qkv], OUT) if self.projects else None
        rest = [m for m in members if m not in qkv and m is not out]
        norm = None
        if self.adds_norm:
            norm = one_named([m for m in rest if family(m) == "norm"], ADD_NORM)
            rest = [m for m in rest if m is not norm]
        norms = [m for m in rest if family(m) == "norm"]
        qk_norms = [one_named(norms, QK_NORM) for QK_NORM in (Q_NORM, K_NORM)]
        if any(n is None for n in qk_norms) or len(norms) != 2:
            qk_norms = []
        rest = [m for m in rest if m not in qk_norms]
        # BitNet's attn_sub_norm: a norm over the heads' merged output, before the projection
        sub_norm = one_named([m for m in rest if family(m) == "norm"], SUB_NORM)
        if sub_norm is not None and out is not None and not self.adds_norm:
            rest = [m for m in rest if m is not sub_norm]
        else:
            sub_norm = None
        # LUKE's entity-aware queries act only on entity inputs, which this forward does not take
        entity = [m for m in rest if re.fullmatch(ENTITY_QUERIES, m.attr)]
        entity = entity if len(entity) == 3 and all(family(m) == "linear" for m in entity) else []
        rest = [m for m in rest if m not in entity]
        if rest or (out is None) == self.projects or (norm is None) == self.adds_norm:
            return None
        if not all(_projection(ctx, m) for m in qkv + ([out] if out else [])):
            return None
        if added and not _takes_added_biases(qkv, added):
            return None
        q = qkv[0]
        d_model = q.io.in_width if q.io else None
        evidence = ctx.resolver.evidence("hidden_size", "n_embd", "d_model", "dim")
        if d_model is None and evidence:
            d_model = evidence[1]
        where = q.attr
        heads = head_counts(d_model, qkv if fused is None else None)
        # Heads are not in the weights: unknown (None) until config.json, a hint or calibration
        # picks one of the counts the shapes allow; meanwhile the forward names the gap.
        nhead = ctx.choose(
            cls, where, "nhead", None, heads, "unknown: calibrate or hint", accepts="positive_int"
        )
        if nhead.value is None:
            return Match(self, len(members), missing=UNKNOWN_HEADS, choices=[nhead])
        choices = [nhead]
        kv_heads = nhead.value
        if fused is None and q.io and qkv[1].io and q.io.out_width and qkv[1].io.out_width:
            head_dim, kv_width = q.io.out_width // nhead.value, qkv[1].io.out_width
            default_kv = kv_width // head_dim if head_dim and kv_width % head_dim == 0 else 1
            kv = ctx.choose(
                cls, where, "kv_heads", default_kv, [default_kv], accepts="positive_int"
            )
            if kv.value <= 0 or nhead.value % kv.value:
                return None
            kv_heads = kv.value
            choices.append(kv)
        split = None  # a fused projection's widths of q, k, v where keys/values have fewer heads
        if fused is not None and fused.io and fused.io.out_width and d_model:
            head_dim = ctx.resolver.evidence("head_dim")
            hd = head_dim[1] if head_dim and type(head_dim[1]) is int else d_model // nhead.value
            kv_total = fused.io.out_width // hd - nhead.value
            if fused.io.out_width % hd or kv_total <= 0 or kv_total % 2:
                return None
            said = any(k in ctx.resolver.metadata for k in SYNONYMS["kv_heads"])
            if kv_total // 2 != nhead.value or said:
                kv = ctx.choose(cls, where, "kv_heads", kv_total // 2, [], accepts="positive_int")
                multi_query = ctx.resolver.evidence("multi_query")
                if multi_query is not None and multi_query[1] is True and kv_total == 2:
                    # one key/value head whatever a head count beside it says (Falcon reads its
                    # num_kv_heads only in its newer layout)
                    kv.value, kv.source, kv.note = 1, "metadata", f"{multi_query[0]} true"
                if kv.value != kv_total // 2 or nhead.value % kv.value:
                    return None  # the shapes decide it: a value that disagrees is not this layout
                if multi_query is not None and multi_query[1] is not (kv.value == 1):
                    return None
                kv_heads = kv.value
                choices.append(kv)
                if kv_heads != nhead.value:
                    split = [nhead.value * hd, kv_heads * hd, kv_heads * hd]
        qk_norm = None
        if qk_norms:
            q_width = qkv[0].io.out_width if qkv[0].io else None
            widths = {n.io.in_width if n.io else None for n in qk_norms}
            per_head = q_width and len(widths) == 1 and widths != {q_width}
            if fused is not None:  # a fused projection's norms act on each head (Persimmon)
                per_head = len(widths) == 1 and d_model is not None and widths != {d_model}
                if not per_head:
                    return None
            offset = norm_scale(ctx, cls, qk_norms[0])[1]
            qk_norm = (qk_norms[0].attr, qk_norms[1].attr, not per_head, offset, False)
        kind, kind_cite = model_kind(ctx)
        names_say = fused is not None and fused.attr == "c_attn" or q.attr == "q_proj"
        causal = ctx.choose(
            cls,
            where,
            "causal",
            kind == "decoder" if kind else names_say,
            [not (kind == "decoder" if kind else names_say)],
            "from the layers' names",
        )
        choices.append(settled_by(causal, kind_cite))
        model_type = ctx.resolver.evidence("model_type")
        mtype = model_type[1] if model_type else None
        # the name is the evidence where the model type is none the tests compare (GPT-NeoX
        # Japanese's query_key_value, each head's q, k, v side by side as in GPT-NeoX); with fewer
        # key/value heads than queries the name says nothing (ChatGLM's, Bailing's and Sarvam's
        # query_key_value are [q | k | v]), so the layout is the one default left
        named = fused is not None and split is None and re.fullmatch(PER_HEAD_NAMES, fused.attr)
        per_head = fused is not None and (
            mtype in PER_HEAD_TYPES or (mtype not in CHECKED_MODEL_TYPES and named)
        )
        # the conventions survey: a bias in the mask the library's attention function receives
        # (where the family computes attention itself it only read the code: no evidence here)
        measured = convention(mtype, "alibi") if convention(mtype, "scaling") else None
        has_alibi = measured if measured is not None else mtype in ALIBI_TYPES
        alibi = ctx.choose(
            cls,
            where,
            "alibi",
            has_alibi,
            [not has_alibi],
            "a per-head linear position bias (ALiBi)" if mtype else "no evidence",
        )
        alibi_cite = f"{model_type[0]} {mtype!r}" if model_type else ""
        if measured is not None:
            alibi_cite = conventions_cite(model_type)
        choices.append(settled_by(alibi, alibi_cite))
        if alibi.value and not causal.value:
            return None  # ALiBi is written for decoders here
        layout = None
        if fused is not None:
            known = SHARDED_TYPES.get(mtype) or ("per_head" if per_head else "concat")
            layout = ctx.choose(
                cls,
                fused.attr,
                "qkv_layout",
                known,
                [v for v in QKV_LAYOUTS if v != known],
                "how the fused projection orders queries, keys and values",
            )
            said = model_type and (split is None or mtype in PER_HEAD_TYPES + tuple(SHARDED_TYPES))
            choices.append(settled_by(layout, f"{model_type[0]} {mtype!r}" if said else ""))
            per_head = layout.value
            if split is not None and kv_heads == 1 and per_head == "per_head":
                per_head = "concat"  # each group of query heads then its key and value: one group
            if split is not None and per_head != "concat":
                return None  # fewer key/value heads in a per-head or sharded layout: not known
            if added and (split is not None or per_head != "concat"):
                return None  # added biases are written for [q | k | v] of equal widths
        # A rotary base or width in the config says rotary whatever the family is called.
        rope_key = ctx.resolver.evidence(*ROPE_KEYS)
        from_table = mtype in ROTARY_TABLE_TYPES
        rotate = (mtype in ROTARY_TYPES or rope_key is not None or from_table) and not alibi.value
        rotary = ctx.choose(
            cls,
            where,
            "rotary",
            rotate,
            [not rotate],
            "rotary position embedding in each attention" if mtype else "no evidence",
        )
        rotary_cite = f"{model_type[0]} {mtype!r}" if model_type else ""
        if rope_key is not None and mtype not in ROTARY_TYPES:
            rotary_cite = rope_key[0]
        # ssm9: a decoder's position_embedding_type "rope", or null for none (GraniteMoeHybrid)
        kind = raw_value(ctx, "position_embedding_type", values=(None, "rope"))
        if kind is not None and rotary.source == "default" and not from_table:
            rotary.value, rotary.alternatives = kind[1] == "rope", [kind[1] != "rope"]
            rotary.source, rotary_cite = "metadata", kind[0]
        if rotary.value and rotary.source != "hint" and only_full_layers(ctx, mtype):
            # a family that rotates only its windowed layers, in a stack with none (Flint)
            rotary.value, rotary.source = False, "metadata"
            rotary.note = f"{model_type[0]} {mtype!r}: only windowed layers rotate; none listed"
            ctx.resolver.consumed.update(("rope_theta", "rope_type"))
        choices.append(settled_by(rotary, rotary_cite))
        if not rotary.value and fused is None and q is not None and q.io and q.io.out_width:
            said = ctx.resolver.evidence("head_dim")  # shown by q's width where they agree
            if said is not None and said[1] != q.io.out_width // nhead.value:
                ctx.resolver.consumed.discard("head_dim")
        rotary_args, guessed = None, ""
        if rotary.value and from_table:
            rotary_args = "table"
        elif rotary.value and rope.axial_rope(ctx.resolver.nested) is not None:
            # 2-D rotary over image patches: the model computes the angles from the patch grid
            # and gives them to every layer (families/axial_rope_vision.py); halves layout.
            ctx.resolver.consumed.update(("rope_type", "rope_theta"))
            rotary_args = "table_halves"
        elif rotary.value:
            theta = ctx.choose(cls, where, "rope_theta", 10000.0, THETAS, accepts="positive_number")
            fraction = ctx.choose(cls, where, "rotary_fraction", 1.0, [0.25, 0.4, 0.5, 0.75])
            head_dim = ctx.resolver.evidence("head_dim")
            if head_dim:
                hd = head_dim[1]
            elif fused is None and q.io and q.io.out_width:
                hd = q.io.out_width // nhead.value
            elif d_model:
                hd = d_model // nhead.value
            else:
                return None
            if rotates_whole_head(mtype) and not rotary_share_given(ctx):
                settled_by(fraction, f"{model_type[0]} {mtype!r}: no partial rotary (the survey)")
            surveyed = rotary_layout(mtype)
            known = surveyed or "halves"
            layout = ctx.choose(
                cls,
                where,
                "rotary_layout",
                known,
                [v for v in ("halves", "interleaved") if v != known],  # or the survey's
                "which features rotate together: j with j + d/2 (halves) or neighbours",
            )
            if surveyed is not None:
                settled_by(layout, f"{model_type[0]} {mtype!r}")
            elif mtype is not None and layout.source == "default":
                guessed = (
                    f"model_type {mtype!r} is not known to pair rotary features as halves or as "
                    "neighbours (calibrate, or hint rotary_layout)"
                )
            interleaved = layout.value == "interleaved"
            choices += [theta, fraction, layout]
            width = int(hd * fraction.value)
            rotary_dim = ctx.resolver.evidence("rotary_dim")  # GPT-J, CodeGen: a width, not a share
            if fraction.source == "default" and rotary_dim and isinstance(rotary_dim[1], int):
                width = min(rotary_dim[1], hd)
                fraction.value, fraction.source = rotary_dim[1] / hd, "metadata"
                fraction.note = f"{rotary_dim[0]} {rotary_dim[1]} of head_dim {hd}"
            scaled, why = rope_plan(ctx, float(theta.value), theta.source == "hint")
            if scaled and not reads_rope_type(mtype):
                why = (
                    f"model_type {mtype!r} reads only the plain rotary frequencies (the survey), "
                    "while config.json gives a rope_type"
                )
            if why:
                guessed = f"{guessed}; {why}" if guessed else why
            per_layer = isinstance(window_plan(ctx), tuple)  # dec11: windows either side too
            if scaled and scaled[0] == "per_layer" and not causal.value and not per_layer:
                scaled, why = None, "rotary parameters per layer kind are written for decoders only"
                guessed = f"{guessed}; {why}" if guessed else why
            if scaled and layout.value == "halves_reversed":
                why = "a rope_type's frequencies are written for rotary turning the usual way"
                guessed = f"{guessed}; {why}" if guessed else why
                scaled = None
            # mix9: each layer kind's share of the head, where its rope table gives one
            width, scaled, why = kind_widths(ctx, hd, width, scaled, float(theta.value))
            if why:
                guessed = f"{guessed}; {why}" if guessed else why
            if (
                full_layers_unrotated(ctx, mtype)
                and causal.value
                and isinstance(window_plan(ctx), tuple)
            ):
                scaled = unrotated_full_layers(scaled, width, float(theta.value))
            rotary_args = (float(theta.value), width, interleaved, scaled, layout.value)
        scale = score_scale(ctx)
        keys = ctx.resolver.evidence("key_multiplier")  # hyb10: Falcon-H1's muP factor on keys
        if keys is not None and type(keys[1]) in (int, float) and keys[1] != 1:
            q_width = q.io.out_width if fused is None and q.io else None
            if scale is None and not isinstance(q_width, int):
                return None
            base = scale if scale else ((q_width // nhead.value) ** -0.5, "1/sqrt(head_dim)")
            scale = (base[0] * keys[1], f"{base[1]} x {keys[0]} {keys[1]} (on the keys)")
        if scale is None and mtype in UNSCALED_TYPES:  # only with evidence: a choice everywhere
            unscaled = ctx.choose(  # widens calibration's search past its budget
                cls,
                where,
                "unscaled_scores",
                mtype in UNSCALED_TYPES,
                [mtype not in UNSCALED_TYPES],
                "scores not divided by sqrt(head_dim)" if mtype else "no evidence",
            )
            choices.append(settled_by(unscaled, f"{model_type[0]} {mtype!r}" if mtype else ""))
            scale = (1.0, "1 (not divided by sqrt(head_dim))") if unscaled.value else None
        found = AttentionPlan(
            [m.attr for m in qkv],
            out.attr if out else None,
            nhead.value,
            kv_heads,
            bool(causal.value),
            per_head,
            rotary_args,
            bool(alibi.value),
            norm.attr if norm else None,
            scale,
            split,
            qk_norm,
            window_plan(ctx),
            score_cap(ctx) if causal.value else None,
            sub_norm.attr if sub_norm else None,
            free_qk_norm(ctx, mtype) if qk_norm is None else None,
            sinks[0].attr if sinks else None,
            qkv_clip(ctx),
        )
        by_layer = ctx.resolver.evidence("scale_attn_by_inverse_layer_idx")
        if by_layer is not None and by_layer[1] is True:
            if sinks or found.cap is not None or not causal.value:
                return None  # beside scores computed here, or in an encoder: not met yet
            found = found._replace(layer_scaled=True)
        both_ways_per_layer = not causal.value and isinstance(found.window, tuple)
        if sinks and (found.cap is not None or alibi.value or both_ways_per_layer):
            return None  # sinks beside a soft cap, ALiBi or windows per layer both ways: not met
        temperature, said = temp.llama4_scaling(ctx, mtype)
        if temperature is not None:
            found = found._replace(temperature=temperature)
        if causal.value:
            found = found._replace(chunk=chunk_plan(ctx))
        if added:
            found = found._replace(added_biases=(added[0].attr, added[1].attr))
        if said:
            guessed = f"{guessed}; {said}" if guessed else said
        order = qk_norm_order(mtype) if qk_norm and rotary_args else None
        if order == "after" and not qk_norm[2]:  # per head, after rotary (HunYuan)
            qk_norm = qk_norm[:4] + (True,)
            found = found._replace(qk_norm=qk_norm)
        elif qk_norm and rotary_args and mtype is not None and order != "before":
            said = (
                f"model_type {mtype!r} is not known to norm queries and keys before rotary, as "
                "this file does (some families norm after it)"
            )
            guessed = f"{guessed}; {said}" if guessed else said
        listed = ctx.resolver.string_lists.get("layer_types")  # read, not consumed, here
        if (
            rotary_args
            and full_layers_unrotated(ctx, mtype)
            and not (isinstance(found.window, tuple) and rotary_args[3] is not None)
            and not (listed and set(listed[1]) <= WINDOWED_KINDS)  # every layer rotates
        ):
            said = (
                f"model_type {mtype!r} skips rotary on its full-attention layers, which this "
                "file does not: only its windowed layers are right"
            )
            guessed = f"{guessed}; {said}" if guessed else said
        if causal.source == "default" and mtype is None:
            # Keys are the same whether positions see only earlier ones (a decoder) or all of
            # them (an encoder): with no config.json, the names' reading is a guess. (A model
            # type the tests have not checked already flags the file; a checked one is measured.)
            said = (
                "nothing in the checkpoint says whether positions attend only to earlier ones "
                f"(a decoder) or to all (an encoder); {'causal' if causal.value else 'both ways'} "
                "is read from the layers' names (the choice `causal`)"
            )
            guessed = f"{guessed}; {said}" if guessed else said
        if entity:
            said = (
                f"{', '.join(m.attr for m in entity)} (queries for entity tokens) are unused: "
                "this forward takes words only, as the library's does without entity inputs"
            )
            guessed = f"{guessed}; {said}" if guessed else said
        return Match(self, len(members), found, choices, guessed=guessed)

    def queries(self, g: Graph, projected: Value, match: Match) -> Value:
        """The queries from q's projection: all of it here (query_gated_attention.py keeps half,
        the other half its output gate)."""
        return projected

    def forward(self, match: Match, g: Graph) -> None:
        qkv, out, nhead, kv_heads, causal, per_head, rotary, alibi, norm, scale, split, qk_norm = (
            match.found[:12]
        )
        window, cap, sub_norm, free_qk, sinks, clip = match.found[12:18]
        layer_scaled, added = match.found.layer_scaled, match.found.added_biases
        late = qk_norm is not None and qk_norm[4]  # normed after rotary
        x = g.input("x")
        per_layer = isinstance(window, tuple)  # this layer's window comes with the call
        window_in = g.input("window", annotation="int") if per_layer else None  # 0: none
        # A padding mask ([batch, 1, 1, seq], True where attended; padding_mask()), optional;
        # where the layer's index follows it, a required argument that may be None.
        if layer_scaled:
            mask = g.input("mask", annotation="torch.Tensor | None")
            index = g.input("index", "int")
        else:
            mask = g.input("mask", optional=True)
        batch = g.call_method("size", x, 0, name="batch")
        seq = g.call_method("size", x, 1, name="seq")
        if causal:
            device = g.call_method("device", x, inline=True)
            mask = g.call_function(
                "causal_padding_mask",
                mask,
                seq,
                device,
                name="mask",
                comment="earlier positions only",
            )
        if alibi:
            mask = g.call_function("alibi_bias", mask, nhead, name="bias", comment="ALiBi")

        def project(path: str) -> Value:  # clamped where config.json says (clip_qkv)
            y = g.call_module((path,), x, inline=True)
            if added is not None and len(qkv) == 1:  # no bias for the keys: zeros between
                k_bias = g.call_function("torch.zeros_like", g.getattr((added[1],)), inline=True)
                biases = [g.getattr((added[0],)), k_bias, g.getattr((added[1],))]
                biases = g.call_function("cat", biases, name="qkv_bias")
                y = g.call_function("add", y, biases, inline=True)
            elif added is not None and path in (qkv[0], qkv[2]):
                y = g.call_function("add", y, g.getattr((added[path == qkv[2]],)), inline=True)
            if len(qkv) == 3 and path == qkv[0]:  # a pattern over this one may take a part
                y = self.queries(g, y, match)
            return (
                y if clip is None else g.call_function("torch.clamp", y, -clip, clip, inline=True)
            )

        def heads(value: Value, count: int, name: str) -> Value:
            split = g.call_method("view", value, batch, seq, count, -1, inline=True)
            return g.call_method("transpose", split, 1, 2, name=name)

        if len(qkv) == 1 and per_head == "mp4_qvk":
            fused = project(qkv[0])
            fused = g.call_method("view", fused, batch, seq, 4, -1, inline=True)
            parts = g.call_method(
                "chunk", fused, 3, kwargs={"dim": -1}, name="qvk", comment="4 shards of [q | v | k]"
            )
            q, v, k = (
                g.call_method(
                    "transpose",
                    g.call_method(
                        "reshape",
                        g.call_function("getitem", parts, i, inline=True),
                        batch,
                        seq,
                        nhead,
                        -1,
                        inline=True,
                    ),
                    1,
                    2,
                    name=n,
                )
                for i, n in enumerate("qvk")
            )
        elif len(qkv) == 1 and split is not None:
            fused = project(qkv[0])
            parts = g.call_method(
                "split",
                fused,
                split,
                kwargs={"dim": -1},
                name="qkv",
                comment=f"{kv_heads} key/value heads",
            )
            q, k, v = (
                heads(g.call_function("getitem", parts, i, inline=True), n_heads, n)
                for i, (n, n_heads) in enumerate(zip("qkv", (nhead, kv_heads, kv_heads)))
            )
        elif len(qkv) == 1:
            fused = project(qkv[0])
            if (
                per_head == "per_head"
            ):  # [batch, seq, heads, 3 * head_dim]: each head's q, k, v side by side
                fused = g.call_method("view", fused, batch, seq, nhead, -1, inline=True)
            parts = g.call_method("chunk", fused, 3, kwargs={"dim": -1}, name="qkv")
            if per_head == "per_head":
                q, k, v = (
                    g.call_method(
                        "transpose", g.call_function("getitem", parts, i, inline=True), 1, 2, name=n
                    )
                    for i, n in enumerate("qkv")
                )
            else:
                q, k, v = (
                    heads(g.call_function("getitem", parts, i, inline=True), nhead, n)
                    for i, n in enumerate("qkv")
                )
        elif qk_norm is not None and not late:  # queries and keys normed (projection or heads)
            q_norm, k_norm, whole, offset = qk_norm[:4]
            q, k = (project(m) for m in qkv[:2])
            if whole:
                q, k = apply_norm(g, (q_norm,), q, offset), apply_norm(g, (k_norm,), k, offset)
            q, k = heads(q, nhead, "q"), heads(k, kv_heads, "k")
            if not whole:
                q = apply_norm(g, (q_norm,), q, offset, name="q")
                k = apply_norm(g, (k_norm,), k, offset, name="k")
            v = heads(project(qkv[2]), kv_heads, "v")
        else:
            q = heads(project(qkv[0]), nhead, "q")
            k = heads(project(qkv[1]), kv_heads, "k")
            v = heads(project(qkv[2]), kv_heads, "v")
        if qk_norm is not None and len(qkv) == 1 and not late:  # a fused projection's heads
            q = apply_norm(g, (qk_norm[0],), q, qk_norm[3], name="q")
            k = apply_norm(g, (qk_norm[1],), k, qk_norm[3], name="k")
        if rotary in ("table", "table_halves"):  # sines and cosines given by the caller
            sinusoidal = g.input("sinusoidal", optional=True)
            fn = "apply_rotary_table" if rotary == "table" else "apply_rotary_table_halves"
            q = g.call_function(fn, q, sinusoidal, name="q")
            k = g.call_function(fn, k, sinusoidal, name="k")
        elif rotary is not None and rotary[3] is not None:  # frequencies of a rope_type
            inv_freq, turn = _frequencies(g, rotary, q, seq, window_in)
            q = g.call_function("apply_rotary_frequencies", q, inv_freq, turn, rotary[2], name="q")
            k = g.call_function("apply_rotary_frequencies", k, inv_freq, turn, rotary[2], name="k")
        elif rotary is not None:
            theta, rotary_dim, interleaved = rotary[:3]
            fn = "apply_rotary_interleaved" if interleaved else "apply_rotary"
            if rotary[4] == "halves_reversed":
                fn = "apply_rotary_reversed"
            q = g.call_function(fn, q, theta, rotary_dim, name="q")
            k = g.call_function(fn, k, theta, rotary_dim, name="k")
        if late:  # each head's queries and keys normed after rotary
            q = apply_norm(g, (qk_norm[0],), q, qk_norm[3], name="q")
            k = apply_norm(g, (qk_norm[1],), k, qk_norm[3], name="k")
        if free_qk is not None:  # normed without parameters, as the attention receives them
            q = free_norm(g, q, free_qk, name="q", comment=f"no parameters ({free_qk[1]})")
            k = free_norm(g, k, free_qk, name="k")
        if match.found.temperature is not None:
            q = temp.scale_queries(g, q, seq, match.found.temperature)
        if kv_heads != nhead:
            rep = nhead // kv_heads
            k = g.call_method(
                "repeat_interleave",
                k,
                rep,
                kwargs={"dim": 1},
                name="k",
                comment=f"{kv_heads} key/value heads shared by {nhead} query heads",
            )
            v = g.call_method("repeat_interleave", v, rep, kwargs={"dim": 1}, name="v")
        if (window or sinks is not None) and not causal:
            # dec11: keys at most `window` either side, 0: every one; beside learned sinks (att12)
            # a boolean mask in which a query may see no key but its sink
            sunk = sinks is not None
            mask = g.call_function(
                "band_padding_mask" if sunk else "window_band_mask",
                mask,
                seq,
                (window or seq) if sunk else (window_in if per_layer else window),
                g.call_method("device", x, inline=True),
                name="mask",
                comment=f"keys at most {window} either side" if sunk and window else "",
            )
        elif per_layer:  # each position sees only the last `window` (and itself), 0: every one
            mask = g.call_function("sliding_window_mask", mask, window_in, name="mask")
        elif window:  # each position sees only the last `window` (and itself)
            mask = g.call_function("sliding_window_mask", mask, window, name="mask")
        if match.found.chunk:
            mask = g.call_function(
                "chunked_mask", mask, match.found.chunk, name="mask", comment="its own chunk only"
            )
        if sinks is not None or cap is not None:  # scores computed here, not by SDPA
            if scale:
                scores_scale = scale[0]
            else:  # 1 / sqrt(head_dim)
                head_dim = g.call_method("size", q, -1, inline=True)
                root = g.call_function("sqrt", head_dim, inline=True)
                scores_scale = g.call_function("truediv", 1.0, root, inline=True)
        if sinks is not None:
            y = g.call_function(
                "sink_attention",
                q,
                k,
                v,
                mask,
                scores_scale,
                g.getattr((sinks,)),
                name="y",
                comment=f"{nhead} heads, "
                + ("causal" if causal else "both ways")
                + ", beside a learned sink per head",
            )
        elif cap is not None:
            y = g.call_function(
                "softcapped_attention",
                q,
                k,
                v,
                mask,
                scores_scale,
                cap[0],
                name="y",
                comment=f"{nhead} heads, causal, scores capped ({cap[1]})",
            )
        elif layer_scaled:  # the usual scale, divided by the layer's index + 1
            if scale:
                base = scale[0]
            else:
                root = g.call_function(
                    "sqrt", g.call_method("size", q, -1, inline=True), inline=True
                )
                base = g.call_function("truediv", 1.0, root, inline=True)
            deeper = g.call_function("add", index, 1, inline=True)
            y = g.call_function(
                "scaled_dot_product_attention",
                q,
                k,
                v,
                kwargs={
                    "attn_mask": mask,
                    "scale": g.call_function("truediv", base, deeper, name="scale"),
                },
                name="y",
                comment=f"{nhead} heads, causal, scores also divided by the layer's index + 1",
            )
        else:
            y = g.call_function(
                "scaled_dot_product_attention",
                q,
                k,
                v,
                kwargs={"attn_mask": mask} | ({"scale": scale[0]} if scale else {}),
                name="y",
                comment=f"{nhead} heads, "
                + ("causal" if causal else "every position sees all")
                + (
                    f", each position sees the last {window}"
                    if window and not per_layer and causal
                    else (
                        f", each position sees {window} either side"
                        if window and not per_layer
                        else ""
                    )
                )
                + (", the layer's window" if per_layer else "")
                + (f", scores times {scale[1]}" if scale else ""),
            )
        y = g.call_method("transpose", y, 1, 2, inline=True)
        y = g.call_method("reshape", y, batch, seq, -1, name="y")
        if sub_norm is not None:  # normed before the output projection (BitNet)
            y = g.call_module((sub_norm,), y, name="y")
        if norm is not None:  # post-norm: the residual and the norm belong to the attention
            y = g.call_function("add", g.call_module((out,), y, inline=True), x, inline=True)
            g.output(g.call_module((norm,), y))
            return
        g.output(g.call_module((out,), y) if out is not None else y)

    @staticmethod
    def examples():
        import torch

        from codegen.patterns.families._examples import modules

        m = modules()
        return [
            Example(m["holder"](m["attention"]()), None),  # heads unknown: the gap is named
            Example(m["holder"](m["attention"]()), (torch.randn(2, 5, 16),), {"n_head": 2}),
            Example(
                m["holder"](m["biased_fused_attention"]()), (torch.randn(2, 5, 16),), {"n_head": 2}
            ),
        ]


class SelfAttention(Attention):
    """Queries, keys and values to the heads' merged outputs, without the output projection: a
    Hugging Face BERT/ViT `self` (or `attention.attention`) whose projection sits in a sibling."""

    role = "SelfAttention"
    projects = False

    @staticmethod
    def examples():
        from codegen.patterns.blocks.encoder_layer import _example

        return [_example("bert"), _example("vit")]


class AttentionAddNorm(Attention):
    """`norm(x + out(attention(x, mask)))`: a post-norm attention that holds its own residual norm
    beside the projections (ALBERT's `attention`: query, key, value, dense, LayerNorm)."""

    role = "PostNormAttention"
    adds_norm = True
    accepts = Accepts(2, 8, names=PROJECTIONS)

    @staticmethod
    def examples():
        from codegen.patterns.blocks.post_norm_layer import _example

        return [_example()]
