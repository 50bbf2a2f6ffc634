"""A sweep over the configuration fields that change the forward, for the families users hold most.

Each test model elsewhere is one tiny config per family; a user's checkpoint has other values: another
activation, biases on or off, a head width other than hidden / heads, grouped key/value heads, a tied
head, rotary scaling, post-norm, a bottleneck ResNet... `SWEEPS` lists, per family, a small base
config and the fields that change the forward with the values they take in the wild. `configs()`
draws, with a fixed seed, every single-field change from the base and a few random combinations;
`measure()` saves each as its library does, runs `modelgen generate` on the folder and compares
the generated model with the library's forward on unit-scale weights (tests/redraw.py), giving a
verdict:

- exact: the outputs match (atol 1e-5, rtol 1e-4);
- flagged: they do not, or the forward raises, or generate refuses with a one-line error, and the
  file (or the error) says so;
- WRONG: the outputs differ and the file claims no guess: the worst outcome;
- crash: generate failed with an internal error, or the file does not strict-load.

Used by tests/test_config_sweep.py (a fixed handful) and benchmarks/bench_configs.py (the table).
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import io
import itertools
import logging
import random
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch

from benchmarks._families import reference_call
from tests.redraw import unit_scale
from tests.generated_module import load_module
from tests.tiny_configs import BART, DENSE, IMAGE  # noqa: E402

ATOL, RTOL = 1e-5, 1e-4


@dataclass(frozen=True)
class Sweep:
    """One family: its library, model class(es), config class, what it takes and returns (a
    `reference_call` kind), a small base config and the fields that change the forward."""

    library: str  # "transformers" | "diffusers"
    models: tuple[str, ...]  # model classes; the first is the base, the others an axis
    config: str | None  # config class (transformers); None: the model takes keywords (diffusers)
    kind: str
    base: dict
    axes: dict[str, tuple]  # field -> values other than the base's
    # Keeps a drawn config valid (sizes that must agree); given and returning the keywords.
    fix: Callable[[dict], dict] = field(default=lambda kw: kw)
    # The library output compared, by model class, where it is not the first one reference_call
    # reads: the one whose computation the checkpoint's last stored layer belongs to.
    outputs: dict[str, str] = field(default_factory=dict)


ACTS = ("gelu", "relu", "gelu_new", "silu", "gelu_pytorch_tanh", "quick_gelu", "tanh")
ROPE = (
    {"rope_type": "default", "rope_theta": 500.0},
    {"rope_type": "linear", "factor": 2.0, "rope_theta": 10000.0},
    {"rope_type": "dynamic", "factor": 2.0, "rope_theta": 10000.0},
    {
        "rope_type": "llama3",
        "factor": 8.0,
        "low_freq_factor": 1.0,
        "high_freq_factor": 4.0,
        "original_max_position_embeddings": 16,
        "rope_theta": 10000.0,
    },
    {
        "rope_type": "yarn",
        "factor": 4.0,
        "rope_theta": 10000.0,
        "original_max_position_embeddings": 16,
    },
    # (cfg8) Phi-3's: per-frequency factors, the long ones past the original context (8 < 11)
    {
        "rope_type": "longrope",
        "rope_theta": 10000.0,
        "short_factor": [1.0, 1.1, 1.2, 1.3],
        "long_factor": [2.0, 2.1, 2.2, 2.3],
        "original_max_position_embeddings": 8,
        "factor": 4.0,
    },
)


def _llama_like(**extra: tuple) -> dict[str, tuple]:
    """The axes every LLaMA-like decoder has, plus the family's own."""
    return {
        "hidden_act": ("gelu", "gelu_pytorch_tanh", "relu"),
        "num_key_value_heads": (1, 2),
        "head_dim": (4, 16),
        "tie_word_embeddings": (True,),
        "rms_norm_eps": (1e-5, 0.1),
        "rope_parameters": ROPE,
        "num_hidden_layers": (1, 3),
        **extra,
    }


def _vision_fix(kw: dict) -> dict:
    return kw


def _swin_fix(kw: dict) -> dict:
    depths = kw.get("depths", (1, 1))
    heads = kw.get("num_heads", (2, 4))
    stages = len(depths)
    heads = tuple(heads[i] if i < len(heads) else heads[-1] for i in range(stages))
    # The grid halves per stage: 32 / patch / 2^(stages-1) must stay a whole number of tokens.
    return {**kw, "num_heads": heads}


def _resnet_fix(kw: dict) -> dict:
    sizes = kw.get("hidden_sizes", (8, 16))
    depths = kw.get("depths", (1, 1))
    n = min(len(sizes), len(depths))
    return {**kw, "hidden_sizes": tuple(sizes[:n]), "depths": tuple(depths[:n])}


def _convnext_fix(kw: dict) -> dict:
    kw = _resnet_fix(kw)
    return {**kw, "num_stages": len(kw["hidden_sizes"])}


def _unet_fix(kw: dict) -> dict:
    channels = kw["block_out_channels"]
    n = len(channels)
    down = tuple(kw["down_block_types"])
    up = tuple(kw["up_block_types"])
    if len(down) != n:  # keep one down and one up block per channel width
        down = (down * n)[:n]
        up = (up * n)[:n]
    groups = kw["norm_num_groups"]
    if any(c % groups for c in channels):
        groups = 4
    return {**kw, "down_block_types": down, "up_block_types": up, "norm_num_groups": groups}


SWEEPS: dict[str, Sweep] = {
    # --- encoders: input_ids (+ attention_mask, token_type_ids) -> hidden states or a head
    "bert": Sweep(
        "transformers",
        ("BertModel", "BertForMaskedLM", "BertForSequenceClassification"),
        "BertConfig",
        "encoder",
        DENSE,
        {
            "hidden_act": ACTS,
            "layer_norm_eps": (1e-5, 0.1),
            "type_vocab_size": (1, 3),
            "is_decoder": (True,),
            "num_attention_heads": (2, 8),
            "intermediate_size": (40,),
            "num_hidden_layers": (1, 3),
            "position_embedding_type": ("relative_key", "relative_key_query"),  # (cfg8)
        },
    ),
    "roberta": Sweep(
        "transformers",
        ("RobertaModel", "RobertaForMaskedLM", "RobertaForSequenceClassification"),
        "RobertaConfig",
        "encoder",
        {**DENSE, "pad_token_id": 1},
        {
            "hidden_act": ACTS[:4],
            "layer_norm_eps": (1e-5,),
            "type_vocab_size": (2,),
            "pad_token_id": (0, 3),
            "is_decoder": (True,),
            "num_attention_heads": (2, 8),
        },
    ),
    # (cfg8) masked-LM heads and their kin: the prediction head's activation (hidden_act, or
    # GELU fixed), a narrower embedding width (ALBERT, ELECTRA), DistilBERT's layout
    "distilbert": Sweep(
        "transformers",
        ("DistilBertModel", "DistilBertForMaskedLM", "DistilBertForSequenceClassification"),
        "DistilBertConfig",
        "encoder",
        dict(vocab_size=100, dim=32, n_layers=2, n_heads=4, hidden_dim=64),
        {
            "activation": ("relu", "gelu_new"),
            "sinusoidal_pos_embds": (True,),
            "n_heads": (2, 8),
            "n_layers": (1, 3),
        },
    ),
    "albert": Sweep(
        "transformers",
        ("AlbertModel", "AlbertForMaskedLM", "AlbertForSequenceClassification"),
        "AlbertConfig",
        "encoder",
        {**DENSE, "embedding_size": 16},
        {
            "hidden_act": ("relu", "gelu"),
            "embedding_size": (32,),
            "layer_norm_eps": (1e-5,),
            "num_attention_heads": (2,),
        },
    ),
    "electra": Sweep(
        "transformers",
        ("ElectraModel", "ElectraForMaskedLM", "ElectraForSequenceClassification"),
        "ElectraConfig",
        "encoder",
        {**DENSE, "embedding_size": 16},
        {
            "hidden_act": ("relu", "gelu_new"),
            "embedding_size": (32,),
            "num_attention_heads": (2,),
        },
    ),
    # --- decoders: input_ids -> logits
    "gpt2": Sweep(
        "transformers",
        ("GPT2LMHeadModel", "GPT2Model"),
        "GPT2Config",
        "decoder",
        dict(vocab_size=100, n_positions=64, n_embd=32, n_layer=2, n_head=4),
        {
            "activation_function": ("relu", "gelu", "silu", "quick_gelu", "gelu_pytorch_tanh"),
            "n_inner": (40,),
            "layer_norm_epsilon": (1e-3, 0.1),
            "scale_attn_weights": (False,),
            "scale_attn_by_inverse_layer_idx": (True,),
            "reorder_and_upcast_attn": (True,),
            "tie_word_embeddings": (False,),
            "n_head": (2, 8),
            "n_layer": (1, 3),
        },
    ),
    "gpt_bigcode": Sweep(
        "transformers",
        ("GPTBigCodeForCausalLM",),
        "GPTBigCodeConfig",
        "decoder",
        dict(vocab_size=100, n_positions=64, n_embd=32, n_layer=2, n_head=4),
        {
            "multi_query": (False,),
            "scale_attn_weights": (False,),
            "activation_function": ("relu", "gelu"),
            "n_inner": (40,),
        },
    ),
    "gpt_neox": Sweep(
        "transformers",
        ("GPTNeoXForCausalLM", "GPTNeoXModel"),
        "GPTNeoXConfig",
        "decoder",
        {**DENSE, "rotary_pct": 0.25},
        {
            "rotary_pct": (0.5, 1.0),
            "use_parallel_residual": (False,),
            "hidden_act": ("relu", "gelu_new", "silu"),
            "attention_bias": (False,),
            "layer_norm_eps": (1e-3,),
            "tie_word_embeddings": (True,),
            "rope_theta": (500.0,),
            "rope_scaling": ({"rope_type": "linear", "factor": 2.0},),
        },
    ),
    "opt": Sweep(
        "transformers",
        ("OPTForCausalLM", "OPTModel"),
        "OPTConfig",
        "decoder",
        dict(
            vocab_size=100,
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=4,
            ffn_dim=64,
            max_position_embeddings=64,
            word_embed_proj_dim=32,
        ),
        {
            "do_layer_norm_before": (False,),
            "word_embed_proj_dim": (16,),
            "activation_function": ("gelu", "silu"),
            "enable_bias": (False,),
            "layer_norm_elementwise_affine": (False,),
            "_remove_final_layer_norm": (True,),
            "tie_word_embeddings": (False,),
        },
    ),
    "bloom": Sweep(
        "transformers",
        ("BloomForCausalLM", "BloomModel"),
        "BloomConfig",
        "decoder",
        dict(vocab_size=100, hidden_size=32, n_layer=2, n_head=4),
        {
            "apply_residual_connection_post_layernorm": (True,),
            "layer_norm_epsilon": (1e-3,),
            "n_head": (2, 8),
            "hidden_size": (48,),
            "tie_word_embeddings": (False,),
        },
    ),
    "llama": Sweep(
        "transformers",
        ("LlamaForCausalLM", "LlamaModel"),
        "LlamaConfig",
        "decoder",
        {**DENSE, "num_key_value_heads": 4},
        _llama_like(attention_bias=(True,), mlp_bias=(True,)),
    ),
    "mistral": Sweep(
        "transformers",
        ("MistralForCausalLM",),
        "MistralConfig",
        "decoder",
        {**DENSE, "num_key_value_heads": 2},
        _llama_like(sliding_window=(4, None)),
    ),
    "qwen2": Sweep(
        "transformers",
        ("Qwen2ForCausalLM",),
        "Qwen2Config",
        "decoder",
        {**DENSE, "num_key_value_heads": 2},
        {
            **{k: v for k, v in _llama_like().items() if k != "head_dim"},
            "use_sliding_window": (True,),
            "sliding_window": (4,),
            "max_window_layers": (1,),
        },
    ),
    "gemma": Sweep(
        "transformers",
        ("GemmaForCausalLM",),
        "GemmaConfig",
        "decoder",
        {**DENSE, "num_key_value_heads": 2, "head_dim": 8},
        {
            **_llama_like(attention_bias=(True,)),
            "hidden_act": ("gelu", "silu"),
            "tie_word_embeddings": (False,),
        },
    ),
    "phi": Sweep(
        "transformers",
        ("PhiForCausalLM",),
        "PhiConfig",
        "decoder",
        {**DENSE, "partial_rotary_factor": 0.5},
        {
            "partial_rotary_factor": (0.25, 1.0),
            "qk_layernorm": (True,),
            "hidden_act": ("gelu", "relu", "silu"),
            "num_key_value_heads": (2,),
            "tie_word_embeddings": (True,),
            "layer_norm_eps": (1e-3,),
            "rope_theta": (500.0,),
        },
    ),
    # --- encoder-decoders: (input_ids, attention_mask, decoder_input_ids) -> logits / hidden
    "t5": Sweep(
        "transformers",
        ("T5ForConditionalGeneration", "T5Model"),
        "T5Config",
        "seq2seq",
        dict(vocab_size=100, d_model=32, d_kv=8, d_ff=64, num_layers=2, num_heads=4),
        {
            "feed_forward_proj": ("gated-gelu", "gated-silu", "gelu"),
            "d_kv": (4, 16),
            "relative_attention_num_buckets": (8,),
            "relative_attention_max_distance": (6,),
            "layer_norm_epsilon": (1e-3,),
            "tie_word_embeddings": (False,),
            "num_decoder_layers": (1, 3),
        },
    ),
    "t5_encoder": Sweep(
        "transformers",
        ("T5EncoderModel",),
        "T5Config",
        "encoder",
        dict(vocab_size=100, d_model=32, d_kv=8, d_ff=64, num_layers=2, num_heads=4),
        {
            "feed_forward_proj": ("gated-gelu", "gated-silu"),
            "d_kv": (4, 16),
            "relative_attention_num_buckets": (8,),
            "relative_attention_max_distance": (6,),
        },
    ),
    "bart": Sweep(
        "transformers",
        ("BartForConditionalGeneration", "BartModel"),
        "BartConfig",
        "seq2seq",
        BART,
        {
            "activation_function": ("relu", "gelu_new", "silu"),
            "scale_embedding": (True,),
            "encoder_layers": (1, 3),
            "decoder_layers": (1,),
            "decoder_attention_heads": (2,),
            "tie_word_embeddings": (False,),
        },
    ),
    "whisper": Sweep(
        "transformers",
        ("WhisperForConditionalGeneration", "WhisperModel"),
        "WhisperConfig",
        "audio_seq2seq",
        dict(
            **{k: v for k, v in BART.items() if k != "max_position_embeddings"},
            num_mel_bins=8,
            max_source_positions=16,
            max_target_positions=32,
            pad_token_id=0,
            bos_token_id=1,
            eos_token_id=2,
            decoder_start_token_id=1,
            suppress_tokens=None,
            begin_suppress_tokens=None,
        ),
        {
            "activation_function": ("relu", "gelu_new"),
            "scale_embedding": (True,),
            "num_mel_bins": (12,),
            "encoder_layers": (1, 3),
            "decoder_ffn_dim": (64,),
            "tie_word_embeddings": (False,),
        },
    ),
    # --- vision: pixel_values -> hidden states or logits
    "vit": Sweep(
        "transformers",
        ("ViTModel", "ViTForImageClassification"),
        "ViTConfig",
        "vision",
        {**IMAGE, "intermediate_size": 64},
        {
            "hidden_act": ("relu", "gelu_new", "quick_gelu"),
            "qkv_bias": (False,),
            "layer_norm_eps": (1e-5,),
            "patch_size": (4, 16),
            "num_attention_heads": (2, 8),
            "intermediate_size": (48,),
        },
    ),
    "clip_text": Sweep(
        "transformers",
        ("CLIPTextModel", "CLIPTextModelWithProjection"),
        "CLIPTextConfig",
        "encoder",
        {**DENSE, "eos_token_id": 99},
        {
            "hidden_act": ("gelu", "relu"),
            "layer_norm_eps": (1e-3,),
            "projection_dim": (16,),
            "eos_token_id": (2,),
        },
    ),
    "clip_vision": Sweep(
        "transformers",
        ("CLIPVisionModel", "CLIPVisionModelWithProjection"),
        "CLIPVisionConfig",
        "vision",
        {**IMAGE, "intermediate_size": 64},
        {
            "hidden_act": ("gelu", "relu"),
            "patch_size": (4, 16),
            "layer_norm_eps": (1e-3,),
            "projection_dim": (16,),
        },
    ),
    "resnet": Sweep(
        "transformers",
        ("ResNetForImageClassification", "ResNetModel"),
        "ResNetConfig",
        "vision",
        dict(num_channels=3, embedding_size=8, hidden_sizes=(8, 16), depths=(1, 1), num_labels=5),
        {
            "layer_type": ("bottleneck",),
            "downsample_in_first_stage": (True,),
            "downsample_in_bottleneck": (True,),
            "hidden_act": ("gelu", "silu", "leaky_relu"),
            "depths": ((2, 1), (1, 2, 1)),
            "hidden_sizes": ((8, 16, 24), (16, 16)),
            "embedding_size": (16,),
        },
        _resnet_fix,
    ),
    "convnext": Sweep(
        "transformers",
        ("ConvNextForImageClassification", "ConvNextModel"),
        "ConvNextConfig",
        "vision",
        dict(num_channels=3, hidden_sizes=(8, 16), depths=(1, 1), num_stages=2, num_labels=5),
        {
            "hidden_act": ("relu", "silu"),
            "layer_scale_init_value": (0.0,),
            "layer_norm_eps": (1e-6,),
            "patch_size": (2,),
            "depths": ((2, 1), (1, 1, 1)),
            "hidden_sizes": ((8, 16, 24),),
        },
        _convnext_fix,
        # the base model's final `layernorm` normalises only the pooled vector: its output is
        # pooler_output (last_hidden_state is the stages' maps, before that norm); the file
        # returns what its last stored layer computes
        outputs={"ConvNextModel": "pooler_output"},
    ),
    "swin": Sweep(
        "transformers",
        ("SwinModel", "SwinForImageClassification"),
        "SwinConfig",
        "vision",
        dict(
            image_size=32,
            patch_size=4,
            embed_dim=16,
            depths=(1, 1),
            num_heads=(2, 4),
            window_size=4,
        ),
        {
            "depths": ((2, 2), (1, 1, 1)),
            "window_size": (2, 8),
            "mlp_ratio": (2.0,),
            "qkv_bias": (False,),
            "hidden_act": ("relu", "gelu_new"),
            "use_absolute_embeddings": (True,),
            "layer_norm_eps": (1e-3,),
            "patch_size": (2,),
        },
        _swin_fix,
    ),
    "efficientnet": Sweep(
        "transformers",
        ("EfficientNetForImageClassification", "EfficientNetModel"),
        "EfficientNetConfig",
        "vision",
        dict(
            num_channels=3,
            image_size=32,
            width_coefficient=0.25,
            depth_coefficient=0.25,
            hidden_dim=320,
            num_labels=5,
        ),
        {
            "hidden_act": ("relu", "gelu"),
            "squeeze_expansion_ratio": (0.5,),
            "depth_coefficient": (0.5,),
            "batch_norm_eps": (1e-5,),
            "kernel_sizes": ((5, 3, 3, 5, 3, 3, 5),),
            "expand_ratios": ((1, 4, 4, 4, 4, 4, 4),),
            "depthwise_padding": ((2, 4),),
        },
    ),
    "mobilenet_v2": Sweep(
        "transformers",
        ("MobileNetV2ForImageClassification", "MobileNetV2Model"),
        "MobileNetV2Config",
        "vision",
        dict(num_channels=3, depth_multiplier=0.25, image_size=32, num_labels=5),
        {
            "hidden_act": ("relu", "silu"),
            "tf_padding": (False,),
            "finegrained_output": (False,),
            "first_layer_is_expansion": (False,),
            "expand_ratio": (4.0,),
            "depth_multiplier": (0.35,),
            "layer_norm_eps": (1e-5,),
        },
    ),
    # --- diffusers: (sample, timestep) -> sample; an autoencoder's reconstruction
    "unet2d": Sweep(
        "diffusers",
        ("UNet2DModel",),
        None,
        "unet",
        dict(
            sample_size=16,
            in_channels=3,
            out_channels=3,
            block_out_channels=(16, 32),
            layers_per_block=1,
            norm_num_groups=8,
            down_block_types=("DownBlock2D", "AttnDownBlock2D"),
            up_block_types=("AttnUpBlock2D", "UpBlock2D"),
        ),
        {
            "act_fn": ("mish", "gelu"),
            "resnet_time_scale_shift": ("scale_shift",),
            "norm_num_groups": (4, 16),
            "layers_per_block": (2,),
            "attention_head_dim": (4, None),
            "add_attention": (False,),
            "time_embedding_type": ("fourier",),
            "flip_sin_to_cos": (False,),
            "freq_shift": (1,),
            "center_input_sample": (True,),
            "norm_eps": (1e-3,),
            "mid_block_scale_factor": (2.0,),
            "downsample_type": ("resnet",),
            "upsample_type": ("resnet",),
            "downsample_padding": (0,),
            "block_out_channels": ((16, 16, 32),),
            "in_channels": (1,),
        },
        _unet_fix,
    ),
    "autoencoder_kl": Sweep(
        "diffusers",
        ("AutoencoderKL",),
        None,
        "vae",
        dict(
            in_channels=3,
            out_channels=3,
            block_out_channels=(16, 32),
            layers_per_block=1,
            norm_num_groups=8,
            latent_channels=4,
            down_block_types=("DownEncoderBlock2D",) * 2,
            up_block_types=("UpDecoderBlock2D",) * 2,
        ),
        {
            "act_fn": ("relu", "gelu"),
            "latent_channels": (2, 8),
            "layers_per_block": (2,),
            "norm_num_groups": (4, 16),
            "use_quant_conv": (False,),
            "use_post_quant_conv": (False,),
            "mid_block_add_attention": (False,),
            "block_out_channels": ((8, 16, 16),),
        },
        _unet_fix,
    ),
}


@dataclass(frozen=True)
class Config:
    family: str
    model: str  # the model class
    changes: tuple[tuple[str, Any], ...]  # (field, value) against the base

    @property
    def label(self) -> str:
        sweep = SWEEPS[self.family]
        parts = [] if self.model == sweep.models[0] else [self.model]
        parts += [f"{k}={_short(v)}" for k, v in self.changes]
        return f"{self.family}[{', '.join(parts) or 'base'}]"

    def kwargs(self) -> dict:
        sweep = SWEEPS[self.family]
        return sweep.fix({**sweep.base, **dict(self.changes)})


def _short(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("rope_type", value))
    return repr(value)


def configs(family: str, combos: int = 4, seed: int = 0) -> list[Config]:
    """The base, every single change (each other model class, each field value), and `combos`
    random combinations of two to four changes, drawn with `seed`."""
    sweep = SWEEPS[family]
    base = sweep.models[0]
    out = [Config(family, base, ())]
    out += [Config(family, model, ()) for model in sweep.models[1:]]
    singles = [(k, v) for k, values in sweep.axes.items() for v in values]
    out += [Config(family, base, (change,)) for change in singles]
    rng = random.Random(f"{family}-{seed}")
    seen = {c.label for c in out}
    for _ in range(combos * 10):
        if len(out) >= 1 + len(sweep.models) - 1 + len(singles) + combos:
            break
        fields = rng.sample(list(sweep.axes), k=min(len(sweep.axes), rng.randint(2, 4)))
        changes = tuple(sorted((f, rng.choice(sweep.axes[f])) for f in fields))
        config = Config(family, rng.choice(sweep.models), changes)
        if config.label not in seen:
            seen.add(config.label)
            out.append(config)
    return out


def build(config: Config) -> torch.nn.Module:
    sweep = SWEEPS[config.family]
    library = importlib.import_module(sweep.library)
    model_class = getattr(library, config.model)
    kwargs = config.kwargs()
    torch.manual_seed(0)
    if sweep.config is None:
        return model_class(**kwargs).eval()
    return model_class(getattr(library, sweep.config)(**kwargs)).eval()


@dataclass
class Result:
    verdict: str  # exact | flagged | WRONG | crash | skipped
    max_diff: float | None = None
    note: str = ""


def measure(config: Config, folder: Path) -> Result:
    """Build, save, generate, load and compare one configuration in this process."""
    from safetensors.torch import load_file

    from codegen.cli.main import main

    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)
    try:
        model = build(config)
    except Exception as e:  # the library refuses this combination: not ours to count
        return Result("skipped", note=f"{type(e).__name__}: {e}"[:100])
    unsaved = frozenset(getattr(model, "_keys_to_ignore_on_save", None) or [])
    model = unit_scale(model, keep=unsaved)
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder / "hf")
    out = folder / "model.py"
    stderr = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(stderr):
        try:
            code = main(["generate", str(folder / "hf"), "-o", str(out), "--quiet"])
        except SystemExit as e:
            code = e.code
    if code != 0:
        message = (stderr.getvalue().strip().splitlines() or ["(no message)"])[-1]
        verdict = "crash" if "internal error" in message else "flagged"
        return Result(verdict, note=message[:120])
    source = out.read_text()
    levels = set(re.findall(r"Forward trust: (\w+)", source))
    flagged = bool(levels & {"guessed", "missing"})
    generated = load_module(out)
    ours = generated.RecoveredModel().eval()
    weights = next((folder / "hf").glob("*.safetensors"))
    try:
        ours.load_state_dict(load_file(weights), strict=True)
    except RuntimeError as e:
        return Result("crash", note="strict load failed: " + str(e).splitlines()[0][:80])
    params = list(inspect.signature(ours.forward).parameters)
    positional, theirs, read = reference_call(SWEEPS[config.family].kind, model, params)
    types = getattr(model.config, "type_vocab_size", None)
    if "token_type_ids" in theirs and types:  # segment ids the config's table holds
        theirs["token_type_ids"] = theirs["token_type_ids"] % types
        positional = [v for k, v in theirs.items() if k != "sample_posterior"]
    output = SWEEPS[config.family].outputs.get(config.model)
    if output is not None:
        read = lambda out: getattr(out, output)  # noqa: E731
    try:
        with torch.no_grad():
            want = read(model(**theirs))
    except Exception as e:  # the library cannot run this configuration itself
        return Result("skipped", note=f"the library's forward raised {type(e).__name__}")
    try:
        with torch.no_grad():
            got = ours(*positional[: len(params)])
            got = got[0] if isinstance(got, tuple) else got
    except Exception as e:
        verdict = "flagged" if flagged else "WRONG"
        return Result(verdict, note=f"forward raised {type(e).__name__}: {e}"[:120])
    if got.shape != want.shape:
        verdict = "flagged" if flagged else "WRONG"
        return Result(verdict, note=f"shape {tuple(got.shape)} vs {tuple(want.shape)}")
    diff = (got - want).abs().max().item()
    if torch.allclose(got, want, atol=ATOL, rtol=RTOL):
        return Result("exact", diff)
    why = ", ".join(sorted(set(re.findall(r"config\.json sets (\w+)", source))))
    return Result("flagged" if flagged else "WRONG", diff, f"unused: {why}" if why else "")


def all_configs(combos: int = 4, seed: int = 0) -> list[Config]:
    return list(itertools.chain.from_iterable(configs(f, combos, seed) for f in SWEEPS))
