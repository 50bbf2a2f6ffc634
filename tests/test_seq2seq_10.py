"""Encoder-decoder families of session 10 (issue 15), built from tiny configs in code and compared
with the library's own forward (atol 1e-5), scripted too:
- fairseq's layout (FSMT: post-norm layers, stored sinusoidal tables read at positions numbered
  over the real tokens, the decoder's own output projection and padding mask, fairseq's shift;
  M2M100: the same positions computed, not stored);
- encoder and decoder stacks with different head counts (BART, M2M100, LED): each stack's
  attention its own class with its own count."""

from __future__ import annotations

import pytest
import torch

pytest.importorskip("transformers")

from tests.library_compare import assert_exact, assert_trusted, generate_for  # noqa: E402
from tests.tiny_configs import BART  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")

FSMT = dict(
    langs=["en", "de"],
    src_vocab_size=100,
    tgt_vocab_size=90,  # two tables of different sizes: a swapped one cannot load
    **{k: v for k, v in BART.items() if k != "vocab_size"},
)
LED = dict(
    vocab_size=100,
    d_model=32,
    encoder_layers=1,
    decoder_layers=1,
    encoder_attention_heads=4,
    decoder_attention_heads=2,
    encoder_ffn_dim=64,
    decoder_ffn_dim=48,
    max_encoder_position_embeddings=64,
    max_decoder_position_embeddings=64,
    attention_window=4,
)
SPEECH = dict(
    {k: v for k, v in BART.items() if k != "max_position_embeddings"},
    max_source_positions=64,
    max_target_positions=32,
    num_conv_layers=3,
    conv_kernel_sizes=(5, 3, 3),
    conv_channels=12,
    input_feat_per_channel=10,
    input_channels=1,
)
SPEECH_FAMILIES = {
    "speech_to_text": ("Speech2TextModel", "Speech2TextConfig", SPEECH),
    "speech_to_text_lm": (
        "Speech2TextForConditionalGeneration",
        "Speech2TextConfig",
        {**SPEECH, "num_conv_layers": 2, "conv_kernel_sizes": (5, 5), "pad_token_id": 3},
    ),
}
FAMILIES = {
    "fsmt": ("FSMTModel", "FSMTConfig", FSMT),
    "fsmt_pad0": ("FSMTModel", "FSMTConfig", {**FSMT, "pad_token_id": 0}),
    "fsmt_lm": ("FSMTForConditionalGeneration", "FSMTConfig", FSMT),
    "m2m100_heads": ("M2M100Model", "M2M100Config", {**BART, "decoder_attention_heads": 8}),
    "bart_heads": ("BartModel", "BartConfig", {**BART, "decoder_attention_heads": 2}),
    "led_heads": ("LEDModel", "LEDConfig", LED),
}


def _inputs(config) -> tuple:
    """Two source rows, the second padded after 7; two target rows, the second padded after 4."""
    torch.manual_seed(1)
    pad = config.pad_token_id
    ids = torch.randint(3, 90, (2, 11))
    mask = torch.ones(2, 11, dtype=torch.long)
    mask[1, 7:] = 0
    ids[1, 7:] = pad
    target = torch.randint(3, 90, (2, 6))
    target[1, 4:] = pad
    return ids, mask, target


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_family_is_exact_from_the_folder(tmp_path, name):
    model_cls, config_cls, config = FAMILIES[name]
    reference, ours, source = generate_for(tmp_path, model_cls, config_cls, config)
    if not name.startswith("led"):  # LED's encoder attention stays guessed: see below
        assert_trusted(source)
    ids, mask, target = _inputs(reference.config)
    # the teacher-forcing forward (FSMT drops its causal mask when the cache is on)
    kwargs = dict(input_ids=ids, attention_mask=mask, decoder_input_ids=target, use_cache=False)
    with torch.no_grad():
        out = reference(**kwargs)
    assert_exact(ours, out[0], ids, mask, target)
    if name.startswith("fsmt"):  # no decoder ids: fairseq's shift (the last token wrapped round)
        with torch.no_grad():
            want = reference(input_ids=ids, attention_mask=mask)[0]
        assert_exact(ours, want, ids, mask)


@pytest.mark.parametrize("name", sorted(SPEECH_FAMILIES))
def test_speech_family_is_exact_from_the_folder(tmp_path, name):
    """Log-mel frames [batch, frames, features] through the gated conv subsampler (stride 2, GLU),
    fairseq's computed positions, pre-norm layers; the decoder's positions over its ids."""
    reference, ours, source = generate_for(tmp_path, *SPEECH_FAMILIES[name])
    assert_trusted(source)
    torch.manual_seed(1)
    features = torch.randn(2, 20, 10)
    target = torch.randint(4, 90, (2, 6))
    target[1, 4:] = reference.config.pad_token_id
    with torch.no_grad():
        want = reference(input_features=features, decoder_input_ids=target)[0]
    assert_exact(ours, want, features, target)


def test_fsmt_layout_is_named_and_post_norm(tmp_path):
    """What makes the fairseq layout exact shows in the file: its norms after the residual sums,
    the padded positions, its decoder's output projection."""
    _, _, source = generate_for(tmp_path, *FAMILIES["fsmt"][:2], FSMT)
    assert "padded_positions(" in source and "causal_token_mask(" in source
    assert "self.output_projection(x)" in source
    assert "self.self_attn_layer_norm(x + self.self_attn(" in source


def test_led_encoder_keeps_its_guessed_global_attention_flag(tmp_path):
    """LED's encoder attention stays guessed for its unused global projections, whatever the
    decoder's head count: only that class, and the decoder's attention is trusted."""
    _, _, source = generate_for(tmp_path, *FAMILIES["led_heads"][:2], LED)
    assert "Forward trust: guessed: key_global" in source
    assert "an attention class shared by an encoder and a decoder" not in source
