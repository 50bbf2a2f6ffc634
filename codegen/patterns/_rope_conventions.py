"""Rotary conventions of every model type in the installed `transformers` (5.24) that defines
`apply_rotary_pos_emb` (and of the text configs beside them, gemma3_text, and of the types whose
causal LM class is another directory's, internlm3 -> llama): derived from the
library's code by benchmarks/survey_rope.py, not typed by hand. Regenerate with `python benchmarks/survey_rope.py --python` and review the diff.

Per model_type: (layout, qk_norm, partial, scaling)
- layout: what apply_rotary_pos_emb computes when called on probe tensors: "halves" (feature j
  turns with j + d/2, LLaMA), "interleaved" (2j with 2j + 1, GPT-J), "halves_reversed" (halves
  turned the other way, NanoChat), "other" (none of these, or a signature of its own: the file
  marks the layout guessed);
- qk_norm: where the attention norms queries and keys, "before" or "after" rotary, None if it has
  no such norm (or names it otherwise);
- partial: the config key that rotates only part of each head, where the config has one;
- scaling: whether the rotary module reads every rope_type of modeling_rope_utils (linear,
  dynamic, yarn, longrope, llama3, proportional) or only the default.

SLIDING_ONLY_ROTARY, from the same survey: the types whose attention calls apply_rotary_pos_emb
only under an `if` that tests its sliding window or local kind (Cohere 2, AFMoE, Flint): their
full-attention layers do not rotate.

A model_type that is not here is unknown: its layout and qk-norm order are guesses the file says.
"""

from __future__ import annotations

from typing import NamedTuple


class RotaryConvention(NamedTuple):
    layout: str  # "halves" | "interleaved" | "halves_reversed" | "other"
    qk_norm: str | None  # "before" | "after" | None
    partial: str | None  # config key of a partial rotary width
    scaling: bool  # reads rope_parameters' rope_type beyond "default"


# Surveyed types whose apply_rotary_pos_emb has a signature of its own, checked by running the
# family against the library in tests (GPT-J and CodeGen: sines and cosines as separate halves).
CHECKED_BY_TESTS = {
    "gptj": RotaryConvention("interleaved", None, "rotary_dim", False),
    "codegen": RotaryConvention("interleaved", None, "rotary_dim", False),
    # moe7: GPT-OSS turns halves by cos/sin of half width (tests/test_moe_families.py)
    "gpt_oss": RotaryConvention("halves", None, None, True),
    # mla11: Llama 4 turns neighbouring pairs as complex numbers (apply_rotary_emb; its rotary
    # module reads ROPE_INIT_FUNCTIONS); tests/test_mla_11.py
    "llama4": RotaryConvention("interleaved", None, None, True),
    "llama4_text": RotaryConvention("interleaved", None, None, True),
}

SURVEYED: dict[str, RotaryConvention] = {
    "afmoe": RotaryConvention("halves", "before", None, True),
    "apertus": RotaryConvention("halves", "before", None, True),
    "apertus1p5": RotaryConvention("halves", "before", None, True),
    "apertus1p5_text": RotaryConvention("halves", "before", None, True),
    "arcee": RotaryConvention("halves", None, None, True),
    "aria": RotaryConvention("halves", None, None, True),
    "aria_text": RotaryConvention("halves", None, None, True),
    "axk1": RotaryConvention("halves", None, None, True),
    "axk2": RotaryConvention("halves", None, None, True),
    "bailing_hybrid": RotaryConvention("other", None, None, True),
    "bamba": RotaryConvention("halves", None, "partial_rotary_factor", True),
    "beam": RotaryConvention("halves", "before", None, True),
    "bitnet": RotaryConvention("halves", None, None, True),
    "blt": RotaryConvention("interleaved", None, None, True),
    "chameleon": RotaryConvention("halves", "before", None, True),
    "clvp": RotaryConvention("other", None, None, False),
    "codegen": RotaryConvention("other", None, "rotary_dim", False),
    "cohere": RotaryConvention("interleaved", "before", None, True),
    "cohere2": RotaryConvention("interleaved", None, None, True),
    "cohere2_moe": RotaryConvention("interleaved", None, None, True),
    "cohere_compass": RotaryConvention("halves", None, None, True),
    "cohere_compass_text": RotaryConvention("halves", None, None, True),
    "cosmos3_edge": RotaryConvention("halves", None, None, True),
    "cosmos3_edge_text": RotaryConvention("halves", None, None, True),
    "csm": RotaryConvention("halves", None, None, True),
    "cwm": RotaryConvention("halves", None, None, True),
    "dbrx": RotaryConvention("halves", None, None, True),
    "deepseek_ocr2": RotaryConvention("halves", None, None, True),
    "deepseek_ocr2_text": RotaryConvention("halves", None, None, True),
    "deepseek_v3": RotaryConvention("halves", None, None, True),
    "deepseek_v32": RotaryConvention("halves", None, None, True),
    "deepseek_v4": RotaryConvention("other", None, "partial_rotary_factor", True),
    "dia": RotaryConvention("halves", None, None, True),
    "diffllama": RotaryConvention("halves", None, None, True),
    "diffusion_gemma": RotaryConvention("other", "before", "partial_rotary_factor", True),
    "diffusion_gemma_text": RotaryConvention("other", "before", "partial_rotary_factor", True),
    "dinov3_vit": RotaryConvention("halves", None, None, False),
    "doge": RotaryConvention("halves", "before", None, True),
    "dory": RotaryConvention("halves", "before", None, True),
    "dots1": RotaryConvention("halves", "before", None, True),
    "dots3_note": RotaryConvention("halves", None, "partial_rotary_factor", True),
    "dots3_note_text": RotaryConvention("halves", None, "partial_rotary_factor", True),
    "edgetam_video": RotaryConvention("other", None, None, False),
    "efficientloftr": RotaryConvention("interleaved", None, "partial_rotary_factor", True),
    "embedding_gemma2": RotaryConvention("halves", "before", None, True),
    "embedding_gemma2_text": RotaryConvention("halves", "before", None, True),
    "emu3": RotaryConvention("halves", None, None, True),
    "eomt_dinov3": RotaryConvention("halves", None, None, False),
    "ernie4_5": RotaryConvention("interleaved", None, None, True),
    "ernie4_5_moe": RotaryConvention("interleaved", None, None, True),
    "ernie4_5_vl_moe": RotaryConvention("interleaved", None, None, False),
    "ernie4_5_vl_moe_text": RotaryConvention("interleaved", None, None, False),
    "esm": RotaryConvention("halves", None, None, False),
    "esmc": RotaryConvention("halves", "before", None, True),
    "esmfold2": RotaryConvention("halves", "before", None, False),
    "eurobert": RotaryConvention("halves", None, None, True),
    "evolla": RotaryConvention("halves", None, None, True),
    "exaone": RotaryConvention("halves", None, None, True),
    "exaone4": RotaryConvention("halves", "before", None, True),
    "exaone4_5": RotaryConvention("halves", "before", None, False),
    "exaone_moe": RotaryConvention("halves", "before", None, True),
    "falcon": RotaryConvention("halves", None, None, True),
    "falcon_h1": RotaryConvention("halves", None, None, True),
    "flex_olmo": RotaryConvention("halves", "before", None, True),
    "flint": RotaryConvention("halves", "before", None, True),
    "gemma": RotaryConvention("halves", None, None, True),
    "gemma2": RotaryConvention("halves", None, None, True),
    "gemma3": RotaryConvention("halves", "before", None, True),
    "gemma3_text": RotaryConvention("halves", "before", None, True),
    "gemma3n": RotaryConvention("other", "before", None, True),
    "gemma3n_text": RotaryConvention("other", "before", None, True),
    "gemma4": RotaryConvention("other", "before", "partial_rotary_factor", True),
    "gemma4_text": RotaryConvention("other", "before", "partial_rotary_factor", True),
    "gemma4_unified": RotaryConvention("other", "before", "partial_rotary_factor", True),
    "gemma4_unified_text": RotaryConvention("other", "before", "partial_rotary_factor", True),
    "glm": RotaryConvention("interleaved", None, "partial_rotary_factor", True),
    "glm4": RotaryConvention("interleaved", None, "partial_rotary_factor", True),
    "glm4_moe": RotaryConvention("halves", "before", "partial_rotary_factor", True),
    "glm4_moe_lite": RotaryConvention("halves", None, None, True),
    "glm4v": RotaryConvention("interleaved", None, None, True),
    "glm4v_moe": RotaryConvention("halves", None, "partial_rotary_factor", True),
    "glm4v_moe_text": RotaryConvention("halves", None, "partial_rotary_factor", True),
    "glm4v_text": RotaryConvention("interleaved", None, None, True),
    "glm5_next": RotaryConvention("other", None, None, False),
    "glm5_next_text": RotaryConvention("other", None, None, False),
    "glm_image": RotaryConvention("halves", None, None, True),
    "glm_image_text": RotaryConvention("halves", None, None, True),
    "glm_moe_dsa": RotaryConvention("other", None, None, True),
    "glm_ocr": RotaryConvention("interleaved", None, None, True),
    "glm_ocr_text": RotaryConvention("interleaved", None, None, True),
    "glmasr": RotaryConvention("halves", None, "partial_rotary_factor", True),
    "gpt_neox": RotaryConvention("halves", None, "partial_rotary_factor", True),
    "gpt_neox_japanese": RotaryConvention("halves", None, "partial_rotary_factor", True),
    "gpt_oss": RotaryConvention("halves", None, None, True),
    "gptj": RotaryConvention("other", None, "rotary_dim", False),
    "gradium_phonon_tts": RotaryConvention("halves", None, None, True),
    "granite": RotaryConvention("halves", None, None, True),
    "granite4_vision": RotaryConvention("halves", None, None, True),
    "granite4_vision_text": RotaryConvention("halves", None, None, True),
    "granite_docling": RotaryConvention("halves", None, None, True),
    "granite_docling_text": RotaryConvention("halves", None, None, True),
    "granite_swa": RotaryConvention("halves", None, None, True),
    "granitemoe": RotaryConvention("halves", None, None, True),
    "granitemoe_swa": RotaryConvention("halves", None, None, True),
    "granitemoehybrid": RotaryConvention("halves", None, None, True),
    "granitemoeshared": RotaryConvention("halves", None, None, True),
    "gte": RotaryConvention("halves", None, None, True),
    "helium": RotaryConvention("interleaved", None, None, True),
    "higgs_audio_v2": RotaryConvention("halves", None, None, True),
    "hrm_text": RotaryConvention("halves", None, None, True),
    "hunyuan_v1_dense": RotaryConvention("halves", "after", None, True),
    "hunyuan_v1_moe": RotaryConvention("halves", "after", None, True),
    "hunyuan_vl": RotaryConvention("halves", "after", None, True),
    "hunyuan_vl_text": RotaryConvention("halves", "after", None, True),
    "hy_v3": RotaryConvention("halves", "before", None, True),
    "hy_v4": RotaryConvention("halves", None, None, True),
    "hy_v4_vl": RotaryConvention("interleaved", None, None, True),
    "hy_v4_vl_text": RotaryConvention("interleaved", None, None, True),
    "hyperclovax": RotaryConvention("halves", None, None, True),
    "idefics": RotaryConvention("halves", None, None, True),
    "inkling2": RotaryConvention("other", None, None, False),
    "inkling2_text": RotaryConvention("other", None, None, False),
    "internlm3": RotaryConvention("halves", None, None, True),
    "iquestcoder": RotaryConvention("halves", None, None, True),
    "jais2": RotaryConvention("halves", None, None, True),
    "jamba": RotaryConvention("halves", None, None, False),
    "jetmoe": RotaryConvention("halves", None, None, True),
    "jina_embeddings_v3": RotaryConvention("halves", None, None, True),
    "kimi_k25": RotaryConvention("other", None, None, False),
    "kolibri1": RotaryConvention("halves", "before", None, True),
    "kyutai_speech_to_text": RotaryConvention("halves", None, None, True),
    "laguna": RotaryConvention("halves", "before", "partial_rotary_factor", True),
    "lara_mini": RotaryConvention("halves", "before", None, True),
    "lasr": RotaryConvention("halves", None, None, True),
    "lasr_ctc": RotaryConvention("halves", None, None, True),
    "lasr_encoder": RotaryConvention("halves", None, None, True),
    "lfm2": RotaryConvention("halves", "before", None, True),
    "lfm2_moe": RotaryConvention("halves", "before", None, True),
    "lfm3": RotaryConvention("halves", "before", "partial_rotary_factor", True),
    "lfm3_vl": RotaryConvention("other", None, None, False),
    "lightglue": RotaryConvention("interleaved", None, None, False),
    "llama": RotaryConvention("halves", None, None, True),
    "longcat_flash": RotaryConvention("other", None, None, True),
    "mellum": RotaryConvention("halves", "before", None, True),
    "mimi": RotaryConvention("halves", None, None, True),
    "mimo_v2_flash": RotaryConvention("halves", None, "partial_rotary_factor", True),
    "minicpm3": RotaryConvention("halves", None, None, True),
    "minimax": RotaryConvention("halves", None, None, True),
    "minimax_m2": RotaryConvention("halves", "before", "partial_rotary_factor", True),
    "minimax_m3_vl": RotaryConvention("halves", "before", None, True),
    "minimax_m3_vl_text": RotaryConvention("halves", "before", None, True),
    "ministral": RotaryConvention("halves", None, None, True),
    "ministral3": RotaryConvention("halves", None, None, True),
    "mistral": RotaryConvention("halves", None, None, True),
    "mistral4": RotaryConvention("halves", None, "partial_rotary_factor", True),
    "mistral_large4": RotaryConvention("other", None, None, True),
    "mistral_large4_text": RotaryConvention("other", None, None, True),
    "mixtral": RotaryConvention("halves", None, None, True),
    "mlcd": RotaryConvention("other", None, None, False),
    "mlcd_vision_model": RotaryConvention("other", None, None, False),
    "mllama": RotaryConvention("halves", None, None, True),
    "modernbert": RotaryConvention("halves", None, None, True),
    "modernbert-decoder": RotaryConvention("halves", None, None, True),
    "modernbert_decoder": RotaryConvention("halves", None, None, True),
    "molmo2": RotaryConvention("halves", "before", None, True),
    "molmo2_text": RotaryConvention("halves", "before", None, True),
    "moonshine": RotaryConvention("interleaved", None, "partial_rotary_factor", True),
    "moonshine_streaming": RotaryConvention("interleaved", None, "partial_rotary_factor", True),
    "moshi": RotaryConvention("halves", None, None, True),
    "muse_glimmer": RotaryConvention("halves", None, None, True),
    "muse_glimmer_assistant": RotaryConvention("halves", "before", None, True),
    "muse_glimmer_text": RotaryConvention("halves", None, None, True),
    "muse_spark": RotaryConvention("halves", None, None, True),
    "muse_spark_text": RotaryConvention("halves", None, None, True),
    "nanochat": RotaryConvention("halves_reversed", "after", None, True),
    "nemo_speechlm": RotaryConvention("halves", "before", "partial_rotary_factor", True),
    "nemotron": RotaryConvention("halves", None, "partial_rotary_factor", True),
    "nemotron3_5_transcribe": RotaryConvention("halves", "before", "partial_rotary_factor", True),
    "nemotron3_5_transcribe_asr_audio": RotaryConvention(
        "halves", "before", "partial_rotary_factor", True
    ),
    "nemotron3_5_transcribe_audio": RotaryConvention(
        "halves", "before", "partial_rotary_factor", True
    ),
    "nemotron3_5_transcribe_word_timestamp": RotaryConvention(
        "halves", "before", "partial_rotary_factor", True
    ),
    "nemotron3_diarization": RotaryConvention("halves", None, "partial_rotary_factor", True),
    "nemotron_asr_streaming": RotaryConvention("halves", None, None, False),
    "nemotron_h": RotaryConvention("halves", None, None, False),
    "neomme": RotaryConvention("halves", "before", "partial_rotary_factor", True),
    "neucodec": RotaryConvention("halves", None, None, True),
    "nomic_bert": RotaryConvention("halves", None, None, True),
    "olmo": RotaryConvention("halves", None, None, True),
    "olmo2": RotaryConvention("halves", "before", None, True),
    "olmo3": RotaryConvention("halves", "before", None, True),
    "olmo_hybrid": RotaryConvention("halves", "before", None, True),
    "olmoe": RotaryConvention("halves", "before", None, True),
    "openai_privacy_filter": RotaryConvention("interleaved", None, None, True),
    "paddleocr_vl": RotaryConvention("halves", None, None, True),
    "paddleocr_vl_text": RotaryConvention("halves", None, None, True),
    "parakeet": RotaryConvention("halves", None, None, False),
    "parakeet_ctc": RotaryConvention("halves", None, None, False),
    "parakeet_encoder": RotaryConvention("halves", None, None, False),
    "parakeet_rnnt": RotaryConvention("halves", None, None, False),
    "parakeet_tdt": RotaryConvention("halves", None, None, False),
    "pe_audio": RotaryConvention("interleaved", "before", None, True),
    "pe_audio_video": RotaryConvention("interleaved", "before", None, True),
    "pe_video": RotaryConvention("interleaved", "before", None, True),
    "persimmon": RotaryConvention("halves", "before", "partial_rotary_factor", True),
    "phi": RotaryConvention("halves", "before", "partial_rotary_factor", True),
    "phi3": RotaryConvention("halves", None, "partial_rotary_factor", True),
    "phi4_multimodal": RotaryConvention("halves", None, "partial_rotary_factor", True),
    "phimoe": RotaryConvention("halves", None, None, True),
    "pixtral": RotaryConvention("halves", None, None, False),
    "pocket_tts": RotaryConvention("halves", None, None, True),
    "pocket_tts_audio_tokenizer": RotaryConvention("halves", None, None, True),
    "qwen2": RotaryConvention("halves", None, None, True),
    "qwen2_5_omni": RotaryConvention("halves", None, None, True),
    "qwen2_5_omni_text": RotaryConvention("halves", None, None, True),
    "qwen2_5_vl": RotaryConvention("halves", None, None, True),
    "qwen2_5_vl_text": RotaryConvention("halves", None, None, True),
    "qwen2_moe": RotaryConvention("halves", None, None, True),
    "qwen2_vl": RotaryConvention("halves", None, None, True),
    "qwen2_vl_text": RotaryConvention("halves", None, None, True),
    "qwen3": RotaryConvention("halves", "before", None, True),
    "qwen3_5": RotaryConvention("halves", "before", "partial_rotary_factor", True),
    "qwen3_5_moe": RotaryConvention("halves", "before", "partial_rotary_factor", True),
    "qwen3_5_moe_text": RotaryConvention("halves", "before", "partial_rotary_factor", True),
    "qwen3_5_text": RotaryConvention("halves", "before", "partial_rotary_factor", True),
    "qwen3_moe": RotaryConvention("halves", "before", None, True),
    "qwen3_next": RotaryConvention("halves", "before", "partial_rotary_factor", True),
    "qwen3_omni_moe": RotaryConvention("halves", "before", None, True),
    "qwen3_omni_moe_talker_text": RotaryConvention("halves", "before", None, True),
    "qwen3_omni_moe_text": RotaryConvention("halves", "before", None, True),
    "qwen3_vl": RotaryConvention("halves", "before", None, True),
    "qwen3_vl_moe": RotaryConvention("halves", "before", None, True),
    "qwen3_vl_moe_text": RotaryConvention("halves", "before", None, True),
    "qwen3_vl_text": RotaryConvention("halves", "before", None, True),
    "qwen4_exp": RotaryConvention("halves", "before", "partial_rotary_factor", True),
    "qwen4_exp_text": RotaryConvention("halves", "before", "partial_rotary_factor", True),
    "recurrent_gemma": RotaryConvention("halves", None, "partial_rotary_factor", False),
    "sam2_video": RotaryConvention("other", None, None, False),
    "sam3": RotaryConvention("other", None, None, False),
    "sam3_tracker_video": RotaryConvention("other", None, None, False),
    "sapiens2": RotaryConvention("halves", "before", None, False),
    "sarvam_mla": RotaryConvention("halves", None, None, True),
    "sarvam_moe": RotaryConvention("halves", "before", "partial_rotary_factor", True),
    "seed_oss": RotaryConvention("halves", None, None, True),
    "smollm3": RotaryConvention("halves", None, None, True),
    "solar_open": RotaryConvention("halves", None, None, True),
    "stablelm": RotaryConvention("halves", "before", "partial_rotary_factor", True),
    "starcoder2": RotaryConvention("halves", None, None, True),
    "step3p7": RotaryConvention("halves", "before", "partial_rotary_factor", True),
    "t5gemma": RotaryConvention("halves", None, None, True),
    "t5gemma2": RotaryConvention("halves", "before", None, True),
    "t5gemma2_text": RotaryConvention("halves", "before", None, True),
    "timesfm2_5": RotaryConvention("halves", "after", None, True),
    "ultrabert": RotaryConvention("halves", None, None, True),
    "unlimited_ocr": RotaryConvention("halves", None, None, True),
    "unlimited_ocr_text": RotaryConvention("halves", None, None, True),
    "vaultgemma": RotaryConvention("halves", None, None, True),
    "video_llama_3": RotaryConvention("other", None, None, False),
    "voxtral_realtime": RotaryConvention("halves", None, None, True),
    "voxtral_realtime_text": RotaryConvention("halves", None, None, True),
    "xcodec2": RotaryConvention("halves", None, None, True),
    "youtu": RotaryConvention("halves", None, None, True),
    "zamba2": RotaryConvention("halves", None, None, True),
    "zaya": RotaryConvention("halves", None, "partial_rotary_factor", True),
}
CONVENTIONS = SURVEYED | CHECKED_BY_TESTS
SLIDING_ONLY_ROTARY = frozenset(
    ["afmoe", "cohere2", "cohere2_moe", "exaone4", "exaone4_5", "exaone_moe", "flint", "kolibri1"]
)


def rotary_layout(model_type: str | None) -> str | None:
    """ "halves", "interleaved" or "halves_reversed" where the survey (or a test) settles it, else
    None."""
    found = CONVENTIONS.get(model_type or "")
    return found.layout if found and found.layout != "other" else None


def qk_norm_order(model_type: str | None) -> str | None:
    """ "before" or "after" rotary where the survey settles it, else None."""
    found = CONVENTIONS.get(model_type or "")
    return found.qk_norm if found else None


def reads_rope_type(model_type: str | None) -> bool:
    """False where the survey found the family's rotary module reads only the default frequencies
    (a rope_type in its config is then not what it computes); True otherwise."""
    found = CONVENTIONS.get(model_type or "")
    return found is None or found.scaling


def rotates_whole_head(model_type: str | None) -> bool:
    """True where the survey found no config key for partial rotary: every feature turns."""
    found = CONVENTIONS.get(model_type or "")
    return found is not None and found.partial is None
