"""Checkpoints of several towers called with text only (issue 15, mm12), built from tiny configs
in code and compared with the library's own forward (atol 1e-5), scripted too: the generated
forward runs the text tower alone, as the library does without images, and names the members of
the other modality it loads but does not run.
- Fuyu: its image patches' projection (`vision_embed_tokens`, a bare Linear) beside a Persimmon
  causal LM;
- GIT: a BERT-shaped text encoder run causal (the image features it would put first left out),
  its vision encoder and projection beside it, a head over the vocabulary on top;
- Idefics3: a vision encoder and a connector beside a LLaMA body (the base model: hidden states);
- LLaVA: the same kind of body under `model`, the head beside it (a causal LM around the wrapper).
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

pytest.importorskip("transformers")

import torch  # noqa: E402

from tests.library_compare import assert_exact, generate_for, text_inputs  # noqa: E402
from tests.tiny_configs import DENSE, IMAGE  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")

VISION = {**IMAGE, "intermediate_size": 64}
TOWERS = {
    "fuyu": (
        "FuyuForCausalLM",
        "FuyuConfig",
        {"text_config": {**DENSE, "model_type": "persimmon"}, "image_size": 32, "patch_size": 8},
        ("vision_embed_tokens",),
    ),
    "git": (
        "GitForCausalLM",
        "GitConfig",
        {**DENSE, "vision_config": VISION},
        ("image_encoder", "visual_projection"),
    ),
    "idefics3": (
        "Idefics3Model",
        "Idefics3Config",
        {"text_config": {**DENSE, "model_type": "llama"}, "vision_config": VISION},
        ("connector", "vision_model"),
    ),
    "llava": (
        "LlavaForConditionalGeneration",
        "LlavaConfig",
        {"text_config": {**DENSE, "model_type": "llama"}, "vision_config": VISION},
        ("multi_modal_projector", "vision_tower"),
    ),
}


@pytest.mark.parametrize("name", sorted(TOWERS))
def test_text_tower_alone(tmp_path, name):
    model_cls, config_cls, config, others = TOWERS[name]
    reference, ours, source = generate_for(tmp_path, model_cls, config_cls, config)
    ids, mask = text_inputs(SimpleNamespace(config=reference.config.get_text_config()))
    with torch.no_grad():
        out = reference(input_ids=ids, attention_mask=mask)
    want = out.logits if hasattr(out, "logits") else out.last_hidden_state
    assert_exact(ours, want, ids, mask)
    said = [line for line in source.splitlines() if line.endswith(": not run")]
    assert len(said) == 1
    named = said[0].split("# ")[1].split("; ")[-1].removesuffix(": not run")
    assert set(named.split(", ")) == set(others)
    assert "NotImplementedError" not in source


def test_each_tower_reads_its_own_sub_config():
    """A choice under `vision_model` reads vision_config's value, never a key only text_config
    sets; one under `language_model` reads text_config's; the rest reads the shallowest."""
    from codegen.choices import ChoiceResolver

    config = {
        "model_type": "composite",
        "text_config": {"model_type": "llama", "num_key_value_heads": 2, "rms_norm_eps": 1e-6},
        "vision_config": {"model_type": "siglip", "num_attention_heads": 4, "eps": 1e-5},
    }
    resolver = ChoiceResolver(metadata={"config.json": config})
    with resolver.towered(["vision_model.encoder.layers.0", "vision_model.encoder.layers.1"]):
        assert resolver.evidence("num_key_value_heads") is None
        assert resolver.evidence("eps")[1] == 1e-5
        assert resolver.evidence("model_type")[1] == "composite"
    with resolver.towered(["model.language_model.layers.0"]):
        assert resolver.evidence("num_key_value_heads")[1] == 2
        assert resolver.evidence("num_attention_heads") is None
    with resolver.towered(["vision_model.head", "language_model.norm"]):  # two towers: neither
        assert resolver.evidence("num_attention_heads")[1] == 4
    assert resolver.consumed_untowered == {"num_attention_heads"}


def _tied_llava(tmp_path, text_config):
    config = {"text_config": text_config, "vision_config": VISION, "tie_word_embeddings": True}
    reference, ours, source = generate_for(
        tmp_path, "LlavaForConditionalGeneration", "LlavaConfig", config
    )
    ids, mask = text_inputs(SimpleNamespace(config=reference.config.get_text_config()))
    with torch.no_grad():
        want = reference(input_ids=ids, attention_mask=mask).logits
    said = " ".join(source.split("class RecoveredModel", 1)[1].split('"""')[1].split())
    return ours, source, said, want, ids, mask


def test_a_generation_model_whose_tied_head_is_not_stored_applies_the_token_table(tmp_path):
    """LLaVA's causal LM with its head tied to the token table stores no `lm_head`: the
    checkpoint's root is the composite itself. The library's logits are the text tower's hidden
    states times that table, and so are the file's."""
    ours, source, said, want, ids, mask = _tied_llava(tmp_path, {**DENSE, "model_type": "llama"})
    assert "does not store" not in said and "not applied" not in said
    assert "the head is the token embedding (tied)" in source
    assert_exact(ours, want, ids, mask)
    torch.jit.script(ours)


def test_logit_factors_a_composite_may_not_apply_are_said(tmp_path):
    """Granite's text config divides its own causal LM's logits by logits_scaling; LLaVA's
    composite calls its head directly and never applies it. Whether a composite does is its
    code's, not the checkpoint's: the file applies the tied head, not the factor, and says so."""
    text = {**DENSE, "model_type": "granite", "logits_scaling": 4.0}
    ours, source, said, want, ids, mask = _tied_llava(tmp_path, text)
    assert "Forward trust: guessed" in said
    assert "logits_scaling 4.0 is this composite's code" in said
    assert_exact(ours, want, ids, mask)  # LLaVA's code leaves it out, as the file does
