"""Encoder-decoders assembled from two whole models (issue 15, session 15): the library's
EncoderDecoderModel (a BERT encoder and a BERT decoder, each built from its own config under
config.json's `encoder` and `decoder`), VisionEncoderDecoderModel (a ViT encoder, wider than
its BERT decoder, joined by `enc_to_dec_proj`) and SpeechEncoderDecoderModel (wav2vec2's). Each generated file reads each member's own
config (the decoder is causal because its config says is_decoder) and is compared with the
library's own forward, scripted too."""

from __future__ import annotations

import logging

import pytest
import torch

from codegen.choices import ChoiceResolver
from tests.generated_module import generate_from_folder
from tests.library_compare import assert_exact, assert_trusted, text_inputs
from tests.redraw import unit_scale
from tests.tiny_configs import AUDIO, DENSE, IMAGE


def _composite(kind: str):
    import transformers as t

    decoder = t.BertConfig(**DENSE, is_decoder=True, add_cross_attention=True)
    if kind == "text":
        encoder = t.BertConfig(**DENSE)
        config = t.EncoderDecoderConfig.from_encoder_decoder_configs(encoder, decoder)
        return t.EncoderDecoderModel(config)
    if kind == "speech":  # the composite's is_encoder_decoder is not the speech encoder's
        config = t.SpeechEncoderDecoderConfig.from_encoder_decoder_configs(
            t.Wav2Vec2Config(**{**AUDIO, "hidden_size": 48}), decoder
        )
        return t.SpeechEncoderDecoderModel(config)
    encoder = t.ViTConfig(**{**IMAGE, "hidden_size": 48}, intermediate_size=64)
    config = t.VisionEncoderDecoderConfig.from_encoder_decoder_configs(encoder, decoder)
    return t.VisionEncoderDecoderModel(config)


@pytest.mark.parametrize("kind", ["text", "vision", "speech"])
def test_two_whole_models_joined_exact(tmp_path, kind):
    torch.manual_seed(0)
    reference = unit_scale(_composite(kind).eval())
    logging.disable(logging.WARNING)
    try:
        source, ours = generate_from_folder(tmp_path, reference, "--quiet")
    finally:
        logging.disable(logging.NOTSET)
    assert_trusted(source)
    ids, mask = text_inputs(reference.decoder)
    torch.manual_seed(2)
    target = torch.randint(3, 100, (2, 6))
    if kind == "text":
        args = (ids, target, mask)
        given = dict(input_ids=ids, attention_mask=mask, decoder_input_ids=target)
    elif kind == "speech":
        assert "self.enc_to_dec_proj(memory)" in source  # the encoder is wider than the decoder
        args = (torch.randn(2, 400), target)
        given = dict(input_values=args[0], decoder_input_ids=target)
    else:
        assert "self.enc_to_dec_proj(memory)" in source  # the ViT is wider than the decoder
        args = (torch.randn(2, 3, 32, 32), target)
        given = dict(pixel_values=args[0], decoder_input_ids=target)
    with torch.no_grad():
        want = reference(**given).logits
    assert_exact(ours, want, *args)
    # the decoder is causal (its own config's is_decoder): a later target token changes nothing
    later = target.clone()
    later[:, -1] = (later[:, -1] + 1) % 100
    with torch.no_grad():
        torch.testing.assert_close(ours(*args[:1], later, *args[2:])[:, :-1], want[:, :-1])


def test_a_member_reads_its_own_config():
    config = {
        "model_type": "encoder-decoder",
        "architectures": ["EncoderDecoderModel"],
        "encoder": {"model_type": "bert", "is_decoder": False, "layer_norm_eps": 1e-12},
        "decoder": {"model_type": "gpt2", "is_decoder": True, "layer_norm_epsilon": 1e-5},
    }
    resolver = ChoiceResolver(metadata={"config.json": config})
    with resolver.towered(["decoder.transformer.h.0.ln_1"]):
        assert resolver.evidence("is_decoder") == ("config.json decoder.is_decoder", True)
        assert resolver.own_level(resolver.metadata["is_decoder"][0])
        assert resolver.evidence("architectures") is None  # the composite's, not the member's
        assert resolver.evidence("model_type") == ("config.json decoder.model_type", "gpt2")
        assert resolver.evidence("layer_norm_eps") is None  # the other member's
    with resolver.towered(["encoder.encoder.layer.0"]):
        assert resolver.evidence("is_decoder") == ("config.json encoder.is_decoder", False)
    # a key path under neither member reads the whole, the top level first
    assert not resolver.own_level("config.json.decoder.is_decoder")
    assert resolver.evidence("model_type") == ("config.json model_type", "encoder-decoder")


@pytest.mark.parametrize("model_type", ["SeamlessM4T", "SeamlessM4Tv2"])
def test_a_flat_text_to_text_model_gives_logits_through_its_shared_table(tmp_path, model_type):
    """SeamlessM4T's text-to-text model holds `shared`, `text_encoder` and `text_decoder` with no
    wrapper and no stored head (tied to `shared`): config.json's architectures says it returns
    logits, so the file multiplies the decoder's states by that table; the stacks number their
    fixed sinusoids from the padding index, as M2M100 does."""
    import transformers as t

    sizes = dict(vocab_size=100, hidden_size=32, encoder_layers=2, decoder_layers=2)
    sizes.update(encoder_attention_heads=4, decoder_attention_heads=4, encoder_ffn_dim=64)
    sizes.update(decoder_ffn_dim=48, max_position_embeddings=64, pad_token_id=0)
    config = getattr(t, f"{model_type}Config")(**sizes)
    torch.manual_seed(0)
    reference = unit_scale(getattr(t, f"{model_type}ForTextToText")(config).eval())
    logging.disable(logging.WARNING)
    try:
        source, ours = generate_from_folder(tmp_path, reference, "--quiet")
    finally:
        logging.disable(logging.NOTSET)
    assert "F.linear(x, self.shared.weight)" in source
    ids, mask = text_inputs(reference)
    torch.manual_seed(2)
    target = torch.randint(3, 100, (2, 6))
    with torch.no_grad():
        want = reference(input_ids=ids, attention_mask=mask, decoder_input_ids=target).logits
    assert_exact(ours, want, ids, mask, target)
