"""`config.json` beside the weights of a Hugging Face style folder: evidence for choices.

Read as plain JSON (never executed), size-capped, reduced to JSON-safe values; its values reach the
generated file only as choice values checked by the patterns that use them, and as cited key names.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from codegen.errors import ModelgenError
from codegen.load.unwrap import _json_safe

CONFIG_NAME = "config.json"
MAX_BYTES = 4 << 20  # configs are a few kB; a larger file is not one


def read_config(directory: Path) -> dict[str, Any]:
    """The folder's config.json as a dict, or {} when there is none."""
    path = directory / CONFIG_NAME
    if not path.is_file():
        return {}
    try:
        if path.stat().st_size > MAX_BYTES:
            raise ModelgenError(f"{path.name}: larger than {MAX_BYTES >> 20} MiB, not a config")
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as e:
        raise ModelgenError(f"{directory.name}/{CONFIG_NAME}: not valid JSON ({e})") from None
    if not isinstance(data, dict):
        raise ModelgenError(f"{directory.name}/{CONFIG_NAME}: not a JSON object")
    return _json_safe(data)


# ------------------------------------------------------------------ config keys no pattern used
# A config.json value that changes the forward but that no pattern read would leave a file that
# computes something else while claiming to be inferred. So every key is either used by a pattern
# (ChoiceResolver.consumed), or on one of these reviewed lists, or reported.

# Keys that never change an eval-mode forward in float32: ids, bookkeeping, training-only settings.
NO_FORWARD_EFFECT = frozenset("""
    bos_token_id eos_token_id pad_token_id sep_token_id cls_token_id mask_token_id unk_token_id
    decoder_start_token_id forced_bos_token_id forced_eos_token_id transformers_version
    question_token_id lang_id mask_index unk_index start_n_top end_n_top embed_init_std
    architectures model_type torch_dtype dtype _name_or_path name_or_path id2label label2id
    problem_type finetuning_task tokenizer_class prefix task_specific_params auto_map
    initializer_range init_std initializer_factor layer_scale_init_value layerscale_value
    embedding_initializer_range
    use_cache gradient_checkpointing output_attentions output_hidden_states return_dict
    torchscript pruned_heads chunk_size_feed_forward pretraining_tp max_window_layers
    attention_softmax_in_fp32 scale_attention_softmax_in_fp32 reorder_and_upcast_attn
    original_max_position_embeddings auxiliary_loss_weight semantic_loss_ignore_index
    router_aux_loss_coef output_router_logits router_jitter_noise router_z_loss_coef
    input_jitter_noise
    num_nextn_predict_layers
    summary_activation summary_proj_to_labels summary_type summary_use_proj encoder_stride
    out_features out_indices stage_names reshape_hidden_states slow_but_exact
    logit_scale_init_value label_smoothing
    use_auxiliary_head auxiliary_channels auxiliary_num_convs
    auxiliary_concat_input pool_scales add_fpn
    _diffusers_version _class_name sample_size num_train_timesteps force_upcast scaling_factor
    upcast_attention
    pos_embed_shift pos_embed_jitter pos_embed_rescale
    shift_factor latents_mean latents_std
    encoder_no_repeat_ngram_size no_repeat_ngram_size early_stopping length_penalty max_length
    num_beams
    batch_norm_momentum drop_connect_rate
    apply_spec_augment mask_time_prob mask_time_length mask_time_min_masks mask_feature_prob
    mask_feature_length mask_feature_min_masks num_negatives codevector_dim proj_codevector_dim
    num_codevector_groups num_codevectors_per_group contrastive_logits_temperature
    diversity_loss_weight ctc_loss_reduction ctc_zero_infinity
    adapter_attn_dim adapter_kernel_size adapter_stride num_adapter_layers output_hidden_size
    tdnn_dim tdnn_kernel tdnn_dilation xvector_output_dim num_ctc_classes replace_prob
    median_filter_width suppress_tokens begin_suppress_tokens
    time_step_floor time_step_init_scheme time_step_max time_step_min time_step_scale
    rescale_prenorm_residual use_associative_scan use_mambapy residual_in_fp32
    lambda_std_dev
    onnx_export
    num_logits_to_keep z_loss_coefficient use_mamba_kernels mamba_ssm_cache_dtype
    mtp_layers_block_type context_length
    moe_jitter_eps moe_loss_weight
    auxiliary_loss class_cost bbox_cost giou_cost bbox_loss_coefficient giou_loss_coefficient
    eos_coefficient norm_pix_loss
    enable_moe_fp32_combine aux_loss_coef
    w_init_variance_scale final_w_init_variance_scale
    initializer_cutoff_factor deterministic_flash_attn sparse_prediction sparse_pred_ignore_index
    """.split()) | frozenset(["langs"])  # s2s10: FSMT's language names (the tokenizer's)
# lin11: how OLMo hybrid initialises its delta-rule mixers' A_log and dt_bias (both stored)
NO_FORWARD_EFFECT |= frozenset(
    "linear_a_log_min linear_a_log_max linear_dt_min linear_dt_max linear_dt_init_floor".split()
)
# (moe10) HunYuan-V3 adds its routed and shared experts' outputs in float32: a float32 model's are;
# JetMoE's load-balancing loss weight (training only, as router_aux_loss_coef).
# (hyb10) Griffin's initialisation variances.
# (lin9) Longformer's and LED's onnx_export: another way to cut the same band into chunks.
# (ssm9) how many logits generation keeps, an auxiliary loss, fused kernels for the same scan, the
# dtype of a generation cache, the kinds of multi-token-prediction layers (which, like
# num_nextn_predict_layers', are not in the causal LM's forward); the longest sequence RWKV's
# CUDA kernel is compiled for.
# (mix9) DBRX's router jitter (training only, as router_jitter_noise) and its load-balancing
# loss weight.
# (vis9) DETR-style detectors' (YOLOS) Hungarian matcher costs and loss weights: training only.
# (dec8) Mamba's: how dt_proj and the out projections are initialised; two other algorithms for
# the same scan (a parallel one, an associative one); a float32 residual, as attention's
# softmax in float32 above (a float32 checkpoint's residual is float32 anyway); how DiffLlama's
# lambda vectors are initialised.
# (conv6) wav2vec2-like speech models: SpecAugment masking, the pretraining quantizer's and the
# CTC loss's settings act in training only; the adapter's and the x-vector head's sizes matter only
# with those modules, whose keys a model without them lacks (and add_adapter says so, below).
# Sizes and presence flags the checkpoint's shapes and keys already show.
SHOWN_BY_SHAPES = (
    frozenset("""
    vocab_size hidden_size n_embd d_model dim embedding_size intermediate_size ffn_dim n_inner
    hidden_dim ffn_hidden_size num_hidden_layers n_layer num_layers n_layers max_position_embeddings
    n_positions n_ctx type_vocab_size task_type_vocab_size num_channels image_size patch_size
    word_embed_proj_dim attention_bias mlp_bias qkv_bias use_qkv_bias use_bias bias enable_bias
    add_cross_attention tie_word_embeddings mlp_ratio qk_layernorm use_mask_token
    pooler_output_size num_labels use_swiglu_ffn projection_dim use_mean_pooling
    num_local_experts num_experts moe_intermediate_size shared_expert_intermediate_size
    attention_out_bias lm_head_bias
    in_channels out_channels latent_channels block_out_channels layers_per_block down_block_types
    up_block_types mid_block_type add_attention mid_block_add_attention use_quant_conv
    use_post_quant_conv num_vq_embeddings vq_embed_dim
    d_ff dff d_kv num_decoder_layers relative_attention_num_buckets is_gated_act encoder_layers
    decoder_layers encoder_ffn_dim decoder_ffn_dim decoder_vocab_size
    share_encoder_decoder_embeddings
    depth_multiplier depth_divisible_by min_depth expand_ratio finegrained_output
    first_layer_is_expansion width_coefficient depth_divisor expand_ratios kernel_sizes
    squeeze_expansion_ratio
    cross_attention_dim transformer_layers_per_block use_linear_projection
    input_embedding_size output_embedding_size
    enable_pronunciation enable_shape concat_input pronunciation_embed_dim shape_embed_dim
    pronunciation_vocab_size shape_vocab_size
    max_2d_position_embeddings entity_vocab_size entity_emb_size
    emb_dim n_langs use_lang_emb sinusoidal_embeddings asm
    conv_dim conv_bias num_feat_extract_layers num_conv_pos_embeddings
    num_conv_pos_embedding_groups classifier_proj_size feat_proj_layer_norm
    vision_use_head num_register_tokens
    max_source_positions max_target_positions num_mel_bins
    use_post_norm
    decoder_num_attention_heads decoder_num_hidden_layers decoder_intermediate_size
    decoder_hidden_size
    use_head is_native num_key_value_groups query_bias key_bias value_bias proj_bias use_gated_mlp
    """.split())
    | frozenset("""
    n_routed_experts n_shared_experts moe_num_shared_experts num_shared_experts moe_num_experts
    shared_intermediate_size
    first_k_dense_replace moe_layer_freq decoder_sparse_step mlp_only_layers num_dense_layers
    moe_layer_start_index moe_layer_end_index moe_layer_interval mlp_layer_types
    """.split())
    # (mla8) a latent attention's ranks and head widths: its projections' shapes show them
    | frozenset("kv_lora_rank q_lora_rank qk_nope_head_dim qk_rope_head_dim v_head_dim".split())
    | frozenset("state_size expand time_step_rank use_conv_bias".split())  # dec8: Mamba's sizes
    # dec8: LFM2's feed-forward width arithmetic, its short conv's kernel, and which layers
    # attend (each layer's weights show whether it holds attention or a conv)
    | frozenset(
        "block_auto_adjust_ff_dim block_ffn_dim_multiplier block_multiple_of conv_L_cache "
        "full_attn_idxs".split()
    )
    | frozenset(["intermediate_multiple_size"])  # dec8: GPT-NeoX Japanese's MLP width factor
    | frozenset(["is_moe"])  # dec8: Doge's switch between an MLP and a mixture, both keyed
    # lin9: LED's position tables, one per stack
    | frozenset("max_encoder_position_embeddings max_decoder_position_embeddings".split())
    # ssm9: a hybrid's Mamba sizes and biases, and which layers attend (each layer's weights show
    # what it holds)
    | frozenset(
        "mamba_expand mamba_d_conv mamba_conv_bias mamba_proj_bias mamba_d_ssm attn_layer_indices "
        "layers_block_type mamba_d_state mamba_dt_rank attn_layer_period attn_layer_offset "
        "expert_layer_period expert_layer_offset attention_hidden_size".split()
    )
    | frozenset(["max_seq_len"])  # mix9: DBRX's longest context (rotary: no table)
    # mla11: Llama 4's layers of experts and the dense layers' MLP width (each layer's weights
    # show which it holds, and how wide)
    | frozenset("moe_layers interleave_moe_layer_step intermediate_size_mlp".split())
    # enc10: the width of the states a cross-attention reads: its keys' and values' in-width
    | frozenset(["encoder_hidden_size"])
    | frozenset("src_vocab_size tgt_vocab_size".split())  # s2s10: FSMT's two token tables
    # s2s10: Speech2Text's subsampler sizes (its convs' shapes show them)
    | frozenset("conv_channels input_channels input_feat_per_channel num_conv_layers".split())
    # hyb10: Griffin's (RecurrentGemma) recurrence width, conv kernel, and which layers attend
    | frozenset("lru_width conv1d_width block_types".split())
    # hyb10: Falcon-H1's projection biases and whether its mixer has a gated norm (keys show both)
    | frozenset("projectors_bias mamba_rms_norm".split())
    # lin11: a gated delta-rule mixer's conv kernel, its value heads (b's width) and their size
    # (its norm's): the shapes show them (its key heads are read: gated_delta_net.py)
    | frozenset("linear_conv_kernel_dim linear_num_value_heads linear_value_head_dim".split())
    # lin11: Kimi Linear's longest context: its attention has no rotary and no position table
    | frozenset(["model_max_length"])
    # lin11: LFM3's post norms and attention gate: their keys show them
    | frozenset("use_sandwich_norm use_attention_gate".split())
    # dec11: ModernBERT's bias switch of its LayerNorms (the keys show a bias or none)
    | frozenset("norm_bias classifier_bias decoder_bias prediction_head_size".split())
    | frozenset(["num_layers_per_stack"])  # dec11: HRM's layers per stack (each stack's keys)
)
# (moe7) mixture-of-experts sizes, and which layers hold experts: the keys show both, and a
# decoder's layers follow the checkpoint (patterns/families/decoder.py layer_stack).
DROPOUT = re.compile(r".*(dropout|pdrop|drop_path|layerdrop).*")
# Special token ids (HunYuan's eod_token_id, ...): what generation stops or starts at, never a
# value the forward of given input_ids reads.
TOKEN_ID = re.compile(r"[a-z]+(_[a-z]+)*_token_ids?")
# Values that switch a feature off, where the key alone would not.
NEUTRAL = {
    "embedding_multiplier": (1.0,),
    # hyb10: Falcon-H1's muP factors (1: none), read by the patterns they act in
    "key_multiplier": (1.0,),
    "ssm_in_multiplier": (1.0,),
    "ssm_multipliers": ([1.0] * 5,),
    "mlp_multipliers": ([1.0, 1.0],),
    "residual_multiplier": (1.0,),
    "logits_scaling": (1.0,),
    "attn_logit_softcapping": (None,),
    "final_logit_softcapping": (None,),
    "rope_type": ("default",),
    "rope_scaling": (None,),
    "is_decoder": (False,),
    "is_encoder": (True,),
    "use_bidirectional_attention": (None, False),
    "scale_attn_by_inverse_layer_idx": (False,),
    "scale_attn_weights": (True,),
    "alibi": (False,),
    "sinusoidal_pos_embds": (False,),
    "scale_embedding": (False,),
    "position_embedding_type": ("absolute",),
    "use_absolute_position_embeddings": (False,),
    "use_relative_position_bias": (False,),
    "use_shared_relative_position_bias": (False,),
    "rotary_value": (False,),
    "use_task_id": (False,),
    "use_prompt": (False,),  # dec11: MVP without its prompt modules (whose keys would show them)
    "clip_qkv": (None,),
    "num_ln_in_parallel_attn": (None,),
    "_remove_final_layer_norm": (False,),
    "new_decoder_architecture": (False,),
    "apply_layernorm": (True,),
    "apply_residual_connection_post_layernorm": (False,),
    # diffusers: the usual U-Net and autoencoder, without class or extra time conditioning
    "resnet_time_scale_shift": ("default",),
    "time_embedding_type": ("positional",),
    "time_embedding_dim": (None,),
    "downsample_type": ("conv",),
    "upsample_type": ("conv",),
    "class_embed_type": (None,),
    "num_class_embeds": (None,),
    "attn_norm_num_groups": (None,),
    # diffusers' conditional U-Net without its extra conditionings (added by diffusers16)
    "addition_embed_type": (None,),
    "addition_time_embed_dim": (None,),
    "attention_type": ("default", "original_full"),  # original_full: BigBird's full attention
    "class_embeddings_concat": (False,),
    "conv_in_kernel": (3,),
    "conv_out_kernel": (3,),
    "cross_attention_norm": (None,),
    "dual_cross_attention": (False,),
    "encoder_hid_dim": (None,),
    "encoder_hid_dim_type": (None,),
    "mid_block_only_cross_attention": (None,),
    "num_attention_heads": (None,),
    "only_cross_attention": (False,),
    "projection_class_embeddings_input_dim": (None,),
    "resnet_out_scale_factor": (1.0, 1),
    "resnet_skip_time_act": (False,),
    "reverse_transformer_layers_per_block": (None,),
    "time_cond_proj_dim": (None,),
    "time_embedding_act_fn": (None,),
    "timestep_post_act": (None,),
    "layer_norm_elementwise_affine": (True,),
    "use_sliding_window": (False,),
    "use_qk_norm": (False,),
    "head_dim": (None,),  # null: d_model / heads, as the shapes show
    "pooler_act": ("tanh",),
    "pooler_hidden_act": ("tanh",),
    "pooling_type": ("mean",),  # EfficientNet's pooler: an average over the whole map
    # speech encoders (conv6): no adapter after the encoder, no weighted sum of the layers, the
    # positional conv weight-normed (HuBERT's alternative is a batch norm)
    "add_adapter": (False,),
    "use_weighted_layer_sum": (False,),
    "conv_pos_batch_norm": (False,),
    # mix9: Laguna's router without a soft cap on its logits, its weights applied to the outputs
    "moe_router_logit_softcapping": (0.0, 0, None),
    "moe_apply_router_weight_on_input": (False,),
    # InternVL's vision layers (vis9): plain LayerNorms, as their weight and bias show
    "norm_type": ("layer_norm",),
    "use_mid_position_embeddings": (False,),  # YOLOS without tables between its layers (vis9)
    # moe10: MiniMax's factors on the residual and the branch before each add, at 1
    **{
        f"{where}_{which}_factor": (1, 1.0)
        for where in ("full_attn", "linear_attn", "mlp")
        for which in ("alpha", "beta")
    },
}
# The sizes of MVP's prompt modules, moot with use_prompt false (dec11).
PROMPT_KEYS = frozenset({"prompt_length", "prompt_mid_dim"})
# BigBird's block-sparse attention's sizes, moot with attention_type original_full (lin9).
BLOCK_SPARSE_KEYS = frozenset({"block_size", "num_random_blocks"})
# How a mixture routes tokens, where config.json says the layers hold none (is_moe false).
MOOT_WITHOUT_EXPERTS = frozenset({"num_experts_per_tok", "norm_topk_prob"}) | frozenset(
    # ssm9: NemotronH's router and shared-expert settings, beside a layer list with no "moe";
    # mix9: Laguna's scaling, beside an MLP list with no "sparse"
    "n_group topk_group routed_scaling_factor moe_latent_size moe_shared_expert_intermediate_size "
    "moe_shared_expert_overlap moe_routed_scaling_factor".split()
)
# Per-layer kind lists that say which layers hold a mixture, and the kind that means one:
# NemotronH's layers_block_type ("moe"), Laguna's mlp_layer_types ("sparse").
LAYER_KIND_LISTS = {"layers_block_type": "moe", "mlp_layer_types": "sparse"}
# Per-layer attention kinds that all mean "every earlier (or every) position".
FULL_ATTENTION = frozenset({"full_attention", "global", "attention"})
# Every per-layer attention kind: the keys of a table of settings per kind.
LAYER_KINDS = FULL_ATTENTION | {"sliding_attention", "local"}


def _neutral(key: str, value: Any, config: dict[str, Any]) -> bool:
    if key in NEUTRAL:
        return any(type(v) is type(value) and v == value for v in NEUTRAL[key])
    if key in ("sliding_window", "window_size", "attention_window_size"):  # only a window
        # shorter than the sequence acts
        longest = config.get("max_position_embeddings", config.get("n_positions"))
        return (
            value is None
            or config.get("use_sliding_window") is False
            or (isinstance(longest, int) and isinstance(value, int) and value >= longest)
        )
    if key in PROMPT_KEYS:  # MVP's prompts: moot where use_prompt is false (no prompt weights)
        return config.get("use_prompt") is False
    if key in BLOCK_SPARSE_KEYS:  # lin9: BigBird's blocks, moot where every key is attended
        return config.get("attention_type") == "original_full"
    if key == "mamba_norm_before_gate":  # hyb10: Falcon-H1's, moot without the gated norm
        return config.get("mamba_rms_norm") is False
    if key == "rescale_every":  # ssm9: RWKV halves its stream every N layers, where there are N
        layers = config.get("num_hidden_layers")
        return value == 0 or (isinstance(layers, int) and isinstance(value, int) and layers < value)
    if key in MOOT_WITHOUT_EXPERTS:  # dec8: Doge's routing settings beside is_moe false
        lists = [(config[k], kind) for k, kind in LAYER_KIND_LISTS.items() if k in config]
        dense = [isinstance(v, list) and v and kind not in v for v, kind in lists]
        return config.get("is_moe") is False or bool(dense and all(dense))
    if key == "num_attention_heads_per_layer":  # mix9: Laguna's, every layer the same count
        return isinstance(value, list) and all(
            v == config.get("num_attention_heads") for v in value
        )
    if key == "no_rope_layers":  # 1: the layer uses rotary (SmolLM3); all 1 is the usual model
        return isinstance(value, list) and all(v == 1 for v in value)
    if key == "no_rope_layer_interval":  # only builds no_rope_layers where that is not given
        return "no_rope_layers" in config
    if key == "local_attention":  # dec11: ModernBERT decoder's, which only builds sliding_window
        half = value // 2 if isinstance(value, int) else value  # the radius either side
        return "sliding_window" in config or _neutral("sliding_window", half, config)
    if key == "global_attn_every_n_layers":  # moe10: AFMoE's period only builds layer_types
        return "layer_types" in config
    if key == "_sliding_window_pattern":  # Gemma 3's period: only builds a missing layer_types
        return "layer_types" in config or _neutral("sliding_window_pattern", value, config)
    if key == "sliding_window_pattern":  # EXAONE 4's period of windowed layers: moot without one
        # moe10: or beside the layer_types it only builds (no modeling code reads it)
        return "layer_types" in config or _neutral(
            "sliding_window", config.get("sliding_window"), config
        )
    if key in ("layer_types", "attention_layers", "attention_types"):  # a window as long as the
        window = config.get("sliding_window", config.get("window_size"))  # context is no window
        return set(_strings(value)) <= FULL_ATTENTION or _neutral("sliding_window", window, config)
    return False


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def unused_config_keys(config: dict[str, Any], consumed: set[str]) -> list[str]:
    """config.json keys (nested ones by their own name) that may change the forward and that no
    pattern used: the file cannot claim more than 'guessed' while one is left."""
    out: list[str] = []

    def visit(table: dict[str, Any]) -> None:
        for key, value in table.items():
            if isinstance(value, dict) and key not in NO_FORWARD_EFFECT:
                visit(value)
                continue
            if (
                key in consumed
                or key in NO_FORWARD_EFFECT
                or key in SHOWN_BY_SHAPES
                or DROPOUT.fullmatch(key)
                or TOKEN_ID.fullmatch(key)
                or _neutral(key, value, config)
            ):
                continue
            out.append(key)

    visit(config)
    return sorted(set(out))


def conflicting_config_keys(config: dict[str, Any], consumed: set[str]) -> list[str]:
    """Keys a pattern used that config.json sets to different values in different places (a
    two-tower model's text_config and vision_config heads): evidence is read by key name, so one
    value served every class, and the classes of the other tower may be wrong."""
    values: dict[str, list[Any]] = {}

    def visit(table: dict[str, Any]) -> None:
        for key, value in table.items():
            if isinstance(value, dict) and set(value) <= LAYER_KINDS and value:
                continue  # one table per layer kind (Gemma 3's rope_parameters): read per kind
            if isinstance(value, dict):
                visit(value)
            elif key in consumed and key not in NO_FORWARD_EFFECT and not DROPOUT.fullmatch(key):
                values.setdefault(key, []).append(value)

    visit(config)
    return sorted(k for k, vs in values.items() if any(v != vs[0] for v in vs[1:]))
