"""tf13 (issue 15): what a composite's classes read from config.json, built from tiny configs in
code and compared with the library's own forward (atol 1e-5), scripted too.

- choices.py `_tower_views`: a composite no conventions table knows (Aya Vision, LLaVA) reads each
  tower's conventions by the tower's own sub-config model_type (Cohere's interleaved rotary);
- choices.py `_top_first`: a class in no tower (Phi-4 multimodal's text layers, beside an image
  and an audio embedder) reads the top level's spellings before a tower's sub-config's;
- patterns/_kit.py `BY_CONVENTION`: a vision tower attending both ways is a rule of thumb, listed
  as such for a type no test compares (Phi-4 multimodal's vision attention is causal under SDPA).
"""

from __future__ import annotations

import pytest
import torch

pytest.importorskip("transformers")

from codegen.choices import ChoiceResolver  # noqa: E402
from tests.library_compare import assert_exact, generate_for  # noqa: E402
from tests.tiny_configs import DENSE, IMAGE  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")

VISION = dict(IMAGE, model_type="siglip_vision_model", intermediate_size=64)
COHERE_TOWERS = {
    # Aya Vision: a SigLIP tower, a pixel-shuffle projector and a Cohere 2 text model
    "aya_vision": (
        "AyaVisionModel",
        "AyaVisionConfig",
        dict(
            vision_config=VISION,
            text_config=dict(DENSE, model_type="cohere2", num_key_value_heads=2, head_dim=8),
        ),
    ),
    # a second layout: LLaVA's plain projector around a Cohere (1) text model
    "llava_cohere": (
        "LlavaModel",
        "LlavaConfig",
        dict(
            vision_config=dict(VISION, model_type="clip_vision_model"),
            text_config=dict(DENSE, model_type="cohere", num_key_value_heads=2),
            image_token_index=99,
        ),
    ),
}


def _text_inputs() -> tuple[torch.Tensor, torch.Tensor]:
    torch.manual_seed(1)
    ids = torch.randint(2, 99, (2, 11))  # no image token: the text path
    mask = torch.ones(2, 11, dtype=torch.long)
    mask[1, 7:] = 0
    return ids, mask


@pytest.mark.parametrize("case", sorted(COHERE_TOWERS))
def test_a_text_tower_reads_its_own_model_types_conventions(tmp_path, case):
    model_cls, config_cls, config = COHERE_TOWERS[case]
    reference, ours, source = generate_for(tmp_path, model_cls, config_cls, config)
    # Cohere turns neighbouring features (was: halves, the default for an unknown type)
    assert "rotary_layout" not in source.split('"""')[1].split("left at defaults")[-1]
    ids, mask = _text_inputs()
    with torch.no_grad():
        want = reference(input_ids=ids, attention_mask=mask).last_hidden_state
    assert_exact(ours, want, ids, mask)


def test_text_layers_outside_the_towers_take_the_top_levels_eps(tmp_path):
    # Phi-4 multimodal: the text decoder at model.layers beside model.embed_tokens_extend's image
    # (layer_norm_eps 1e-6 in vision_config) and audio embedders; its RMSNorms read rms_norm_eps
    text = dict(DENSE, num_key_value_heads=2, rms_norm_eps=1e-5)
    vision = dict(IMAGE, intermediate_size=64, layer_norm_eps=1e-6)
    audio = dict(hidden_size=32, intermediate_size=64, num_blocks=2, num_attention_heads=4)
    audio.update(dict.fromkeys(("nemo_conv_channels", "ext_pw_out_channel"), 32))
    audio.update(depthwise_separable_out_channel=32)
    ids = dict(pad_token_id=0, bos_token_id=1, eos_token_id=2)
    config = dict(text, **ids, vision_config=vision, audio_config=audio)
    reference, ours, _ = generate_for(
        tmp_path, "Phi4MultimodalForCausalLM", "Phi4MultimodalConfig", config
    )
    assert reference.model.norm.variance_epsilon == 1e-5
    ids, mask = _text_inputs()
    with torch.no_grad():
        want = reference(input_ids=ids).logits
        got = ours(ids)
    torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)


def test_a_class_in_no_tower_reads_top_level_spellings_first():
    # a second layout, as a captioning checkpoint might write it: the decoder's blocks at the
    # top (blocks.N.ln), a vision encoder under `image_encoder`, eps spelled both ways
    config = {
        "model_type": "captioner",
        "norm_epsilon": 1e-5,
        "vision_config": {"layer_norm_eps": 1e-6, "hidden_size": 32},
    }
    resolver = ChoiceResolver({}, {"config.json": config}, None, {"eps": ("layer_norm_eps",)})
    resolver.synonyms["eps"] = ("eps", "layer_norm_eps", "norm_epsilon")
    alternatives = [1e-6, 1e-12]
    with resolver.towered(["blocks.0.ln"]):
        text = resolver.choose("blocks.0.ln", "eps", 1e-5, alternatives, accepts="eps")
    with resolver.towered(["image_encoder.layers.0.ln"]):
        image = resolver.choose("image_encoder.layers.0.ln", "eps", 1e-5, alternatives)
    assert (text.value, image.value) == (1e-5, 1e-6)
    assert "norm_epsilon" in text.note and "vision_config" in image.note


def test_a_vision_tower_that_attends_causally_by_its_type(tmp_path):
    # Phi-4 multimodal's vision attention sets is_causal = True: under SDPA (the library's
    # default) with no padding mask it attends causally, under eager attention both ways. Session
    # 13 attended both ways and said it rested on a rule of thumb; tf15 (session 15) reads the
    # type's code as the default path runs it (attention.CAUSAL_ENCODER_TYPES): causal, so the
    # library's default forward is matched; the type stays unchecked, so the file is 'guessed'
    config = dict(IMAGE, intermediate_size=64)
    reference, ours, source = generate_for(
        tmp_path, "Phi4MultimodalVisionModel", "Phi4MultimodalVisionConfig", config
    )
    flat = " ".join(source.split())
    assert "causal follows the usual convention" not in flat
    assert "Forward trust: guessed" in source
    torch.manual_seed(1)
    pixels = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        want = reference(pixel_values=pixels).last_hidden_state
    assert_exact(ours, want, pixels)


@pytest.mark.parametrize(
    "composite, tower, read",
    [
        ("clip", "clip_text_model", "clip"),  # a composite the tables know keeps its own type
        ("captioner", "cohere", "cohere"),  # an unknown composite's tower reads its own type
        ("captioner", "captioner_text", "captioner"),  # neither known: the composite's, flagged
    ],
)
def test_a_towers_conventions_are_read_by_the_type_a_table_knows(composite, tower, read):
    config = {"model_type": composite, "text_config": {"model_type": tower, "hidden_size": 32}}
    resolver = ChoiceResolver(
        {}, {"config.json": config}, known_types=frozenset({"clip", "cohere"})
    )
    with resolver.towered(["text_model.layers.0.self_attn.q_proj"]):
        assert resolver.evidence("model_type")[1] == read
