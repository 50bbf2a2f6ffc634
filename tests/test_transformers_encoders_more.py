"""Encoder families beyond BERT (issue 15), built from tiny configs in code: the file generated from
the Hugging Face folder (config.json + model.safetensors) strict-loads, computes the library's
last hidden state to 1e-5 with a padding mask, and scripts with TorchScript.

Weights are redrawn at unit scale first (the library starts biases at zero and norms at one), so a
wrong scale, order or bucket shows above the tolerance."""

from __future__ import annotations

import logging

import pytest
import torch

transformers = pytest.importorskip("transformers")

from tests.generated_module import generate_from_folder as generate  # noqa: E402
from tests.tiny_configs import DENSE  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")
logging.getLogger("transformers").setLevel(logging.ERROR)

TEXT = {
    "mpnet": lambda t: t.MPNetModel(t.MPNetConfig(**DENSE)),
    "mpnet_relu_one_layer": lambda t: t.MPNetModel(
        t.MPNetConfig(**{**DENSE, "num_hidden_layers": 1}, hidden_act="relu")
    ),
    "roformer": lambda t: t.RoFormerModel(t.RoFormerConfig(**DENSE, embedding_size=32)),
    "roformer_projected": lambda t: t.RoFormerModel(t.RoFormerConfig(**DENSE, embedding_size=16)),
    "camembert": lambda t: t.CamembertModel(t.CamembertConfig(**DENSE, pad_token_id=1)),
    "data2vec_text": lambda t: t.Data2VecTextModel(t.Data2VecTextConfig(**DENSE, pad_token_id=1)),
    "ernie": lambda t: t.ErnieModel(t.ErnieConfig(**DENSE)),
    "megatron_bert": lambda t: t.MegatronBertModel(t.MegatronBertConfig(**DENSE)),
    "nomic_bert": lambda t: t.NomicBertModel(t.NomicBertConfig(**DENSE)),
    "splinter": lambda t: t.SplinterModel(t.SplinterConfig(**DENSE)),
    "xlm_roberta": lambda t: t.XLMRobertaModel(t.XLMRobertaConfig(**DENSE, pad_token_id=1)),
}


def unit_scale(model: torch.nn.Module) -> torch.nn.Module:
    torch.manual_seed(0)
    with torch.no_grad():
        for n, p in model.named_parameters():
            if p.dim() >= 2:
                p.normal_(0, p[0].numel() ** -0.5)
            elif n.endswith("bias"):
                p.normal_(0, 0.1)
            else:
                p.normal_(1, 0.2)
    return model.eval()


def text_inputs(model) -> tuple[torch.Tensor, torch.Tensor]:
    torch.manual_seed(1)
    ids = torch.randint(2, 100, (2, 11))
    mask = torch.ones(2, 11, dtype=torch.long)
    mask[1, 7:] = 0  # the second sequence is padded
    ids[1, 7:] = model.config.pad_token_id or 0
    return ids, mask


def assert_exact(ours, want, *args) -> None:
    with torch.no_grad():
        torch.testing.assert_close(ours(*args), want, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(torch.jit.script(ours)(*args), want, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("name", sorted(TEXT))
def test_text_encoder_is_exact_from_the_folder(tmp_path, name):
    torch.manual_seed(0)
    model = unit_scale(TEXT[name](transformers))
    source, ours = generate(tmp_path, model)
    assert "NotImplementedError" not in source
    assert "Forward trust: guessed" not in source and "Forward trust: missing" not in source
    ids, mask = text_inputs(model)
    with torch.no_grad():
        want = model(input_ids=ids, attention_mask=mask).last_hidden_state
    assert_exact(ours, want, ids, mask)


def test_mpnet_bias_is_read_once_from_the_encoder_table(tmp_path):
    """The shared bucket table becomes one bias at the top of the encoder, not one per layer; the
    values config.json settles are cited."""
    torch.manual_seed(0)
    source, _ = generate(tmp_path, unit_scale(TEXT["mpnet"](transformers)))
    assert source.count("relative_position_bias(") == 2  # the helper's definition and one call
    assert "scale (config.json model_type 'mpnet')" in " ".join(source.split())


def test_mpnet_table_of_other_bucket_count_is_flagged(tmp_path):
    """MPNet's library code computes 32 buckets whatever its table holds: another table size is
    not computed, and the file says so rather than guess."""
    torch.manual_seed(0)
    config = transformers.MPNetConfig(**DENSE, relative_attention_num_buckets=48)
    source, ours = generate(tmp_path, unit_scale(transformers.MPNetModel(config)))
    assert "Forward trust: missing" in source
    with pytest.raises(NotImplementedError):
        ours(torch.randint(2, 100, (2, 5)))


IMAGE = dict(
    image_size=32,
    patch_size=8,
    hidden_size=32,
    num_hidden_layers=2,
    num_attention_heads=4,
    intermediate_size=64,
)
VISION = {
    "beit": lambda t: t.BeitModel(t.BeitConfig(**IMAGE)),
    "beit_relative": lambda t: t.BeitModel(t.BeitConfig(**IMAGE, use_relative_position_bias=True)),
    "beit_absolute_cls_pool": lambda t: t.BeitModel(
        t.BeitConfig(**IMAGE, use_absolute_position_embeddings=True, use_mean_pooling=False)
    ),
    "data2vec_vision": lambda t: t.Data2VecVisionModel(
        t.Data2VecVisionConfig(**IMAGE, use_relative_position_bias=True)
    ),
}


@pytest.mark.parametrize("name", sorted(VISION))
def test_vision_encoder_is_exact_from_the_folder(tmp_path, name):
    """BEiT-style: layer scale, relative bias per layer (or absolute positions), and the pooler's
    mean of the patch tokens, normalised (or the class token)."""
    torch.manual_seed(0)
    model = unit_scale(VISION[name](transformers))
    source, ours = generate(tmp_path, model)
    assert "Forward trust: guessed" not in source and "Forward trust: missing" not in source
    pixels = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        theirs = model(pixel_values=pixels)
    assert_exact(ours, theirs.last_hidden_state, pixels)
    if model.config.use_mean_pooling and getattr(model, "pooler", None) is not None:
        with torch.no_grad():
            pooled = ours.pooler(ours(pixels))
        torch.testing.assert_close(pooled, theirs.pooler_output, atol=1e-5, rtol=1e-5)


def test_beit_bias_shared_by_all_layers_is_flagged(tmp_path):
    """One table at the top for every layer (use_shared_relative_position_bias) is not computed
    yet: the file must say so, never run without the bias."""
    torch.manual_seed(0)
    config = transformers.BeitConfig(**IMAGE, use_shared_relative_position_bias=True)
    source, ours = generate(tmp_path, unit_scale(transformers.BeitModel(config)))
    assert "Forward trust: missing" in source or "Forward trust: guessed" in source


def clip_model(**text):
    small = dict(num_hidden_layers=2, intermediate_size=64)
    return transformers.CLIPModel(
        transformers.CLIPConfig(
            text_config=dict(
                **small,
                vocab_size=100,
                max_position_embeddings=16,
                **{"hidden_size": 32, "num_attention_heads": 4, "eos_token_id": 99, **text},
            ),
            vision_config=dict(
                **small, image_size=32, patch_size=8, hidden_size=32, num_attention_heads=4
            ),
            projection_dim=16,
        )
    )


def clip_inputs(eos: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    torch.manual_seed(1)
    ids = torch.randint(2, 99, (3, 11))
    ids[:, 8] = eos  # each text ends at its end-of-text token, then padding
    mask = torch.ones(3, 11, dtype=torch.long)
    mask[:, 9:] = 0
    return ids, torch.randn(2, 3, 32, 32), mask


@pytest.mark.parametrize("eos", [99, 2])
def test_clip_model_gives_the_library_logits_per_image(tmp_path, eos):
    """Both towers (the text one causal, the vision one not, sharing their layer classes), each
    pooled (end-of-text token; class token after post_layernorm), projected and compared."""
    torch.manual_seed(0)
    model = clip_model(eos_token_id=eos)
    model = unit_scale(model)
    source, ours = generate(tmp_path, model)
    assert "Forward trust: guessed" not in source and "Forward trust: missing" not in source
    ids, pixels, mask = clip_inputs(eos)
    with torch.no_grad():
        want = model(input_ids=ids, pixel_values=pixels, attention_mask=mask).logits_per_image
    assert want.shape == (2, 3)
    assert_exact(ours, want, ids, pixels, mask)


def test_clip_towers_with_other_head_counts_are_flagged(tmp_path):
    """config.json read by key name gives one head count to both towers: where text_config and
    vision_config disagree, the file must not claim to be inferred."""
    torch.manual_seed(0)
    model = unit_scale(clip_model(num_attention_heads=2))
    source, _ = generate(tmp_path, model)
    flat = " ".join(source.split())
    assert "Forward trust: guessed" in source
    assert "num_attention_heads differently in its sub-configs" in flat
