"""audio11 (issue 15): speech encoders beyond wav2vec2's layout, built from tiny configs in code
and compared with the library's own forward (atol 1e-5), scripted too.

- WavLM: gated relative position bias (blocks/gated_relative_attention.py): the first layer's
  bucket table gives one bias, each layer's attention gates it per head and frame. Measured in
  both layouts (post-norm; `do_stable_layer_norm`'s pre-norm) at other sizes, bucket counts and
  distances than the zoo's, and under a CTC head.
- Wav2Vec2-Conformer (blocks/conformer.py): relative, rotary or no positions, other widths,
  activations and eps, a CTC head.
- SEW-D: SEW's squeezed sequence around DeBERTa-v2's encoder (squeezed_encoder.py,
  disentangled_attention.py).
- LongT5: T5 with a local encoder attention (families/relative_encoder.py's local_radius).
"""

from __future__ import annotations

import pytest
import torch

pytest.importorskip("transformers")

from tests.library_compare import assert_exact, assert_trusted, generate_for  # noqa: E402
from tests.tiny_configs import AUDIO, T5  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")

WAVLM_CASES = {
    "post": ("WavLMModel", dict(AUDIO, num_buckets=16, max_bucket_distance=32)),
    "stable-wider": (
        "WavLMModel",
        dict(
            AUDIO,
            hidden_size=48,
            num_attention_heads=6,
            num_buckets=24,
            max_bucket_distance=40,
            do_stable_layer_norm=True,
            feat_extract_norm="layer",
            layer_norm_eps=1e-4,
        ),
    ),
    "ctc": (
        "WavLMForCTC",
        dict(AUDIO, num_hidden_layers=3, num_buckets=12, max_bucket_distance=20),
    ),
}


@pytest.mark.parametrize("case", sorted(WAVLM_CASES))
def test_wavlm_is_exact_from_the_folder(tmp_path, case):
    model_cls, config = WAVLM_CASES[case]
    reference, ours, source = generate_for(tmp_path, model_cls, "WavLMConfig", config)
    assert_trusted(source)
    assert "relative_position_bias(" in source and "gates" in source
    torch.manual_seed(1)
    audio = torch.randn(2, 400)
    with torch.no_grad():
        out = reference(input_values=audio)
    want = out.logits if hasattr(out, "logits") else out.last_hidden_state
    assert_exact(ours, want, audio)


# Wav2Vec2-Conformer: Conformer layers (half-step feed-forwards, a convolution module), relative
# positions (Transformer-XL's shift), rotary positions turning the layers' input, or none; the
# layers' norms keep torch's eps whatever layer_norm_eps says (only the final norm reads it), so
# one case sets it elsewhere.
CONFORMER_CASES = {
    "relative": ("Wav2Vec2ConformerModel", dict(AUDIO, conv_depthwise_kernel_size=3)),
    "relative-wider-eps": (
        "Wav2Vec2ConformerModel",
        dict(
            AUDIO,
            hidden_size=48,
            num_attention_heads=3,
            conv_depthwise_kernel_size=5,
            layer_norm_eps=1e-3,
            hidden_act="swish",
        ),
    ),
    "rotary": (
        "Wav2Vec2ConformerModel",
        dict(
            AUDIO,
            conv_depthwise_kernel_size=3,
            position_embeddings_type="rotary",
            rotary_embedding_base=500,
        ),
    ),
    "no-positions-ctc": (
        "Wav2Vec2ConformerForCTC",
        dict(AUDIO, conv_depthwise_kernel_size=3, position_embeddings_type=None),
    ),
}


def _audio_output(reference, audio):
    with torch.no_grad():
        out = reference(input_values=audio)
    return out.logits if hasattr(out, "logits") else out.last_hidden_state


@pytest.mark.parametrize("case", sorted(CONFORMER_CASES))
def test_wav2vec2_conformer_is_exact_from_the_folder(tmp_path, case):
    model_cls, config = CONFORMER_CASES[case]
    reference, ours, source = generate_for(tmp_path, model_cls, "Wav2Vec2ConformerConfig", config)
    assert_trusted(source)
    assert "F.glu(" in source and "* 0.5" in source
    assert ("interleaved_relative_sinusoids(" in source) == case.startswith("relative")
    assert ("apply_rotary(" in source) == (case == "rotary")
    torch.manual_seed(1)
    audio = torch.randn(2, 400)
    assert_exact(ours, _audio_output(reference, audio), audio)


# SEW-D: SEW's squeezed sequence around DeBERTa-v2's encoder (disentangled attention, a relative
# table normed or not, log buckets or plain clamped distances); its conv features' norm reads
# feature_layer_norm_eps, the encoder's layer_norm_eps (1e-7 by default).
SEW_D = dict(AUDIO, squeeze_factor=2, max_position_embeddings=64)
SEW_D_CASES = {
    "buckets": ("SEWDModel", dict(SEW_D, position_buckets=16)),
    "own-position-projections-ctc": (
        "SEWDForCTC",
        dict(
            SEW_D,
            position_buckets=-1,
            max_relative_positions=8,
            share_att_key=False,
            pos_att_type=("c2p",),
            norm_rel_ebd="none",
            hidden_act="gelu_new",
            squeeze_factor=3,
        ),
    ),
}


@pytest.mark.parametrize("case", sorted(SEW_D_CASES))
def test_sew_d_is_exact_from_the_folder(tmp_path, case):
    model_cls, config = SEW_D_CASES[case]
    reference, ours, source = generate_for(tmp_path, model_cls, "SEWDConfig", config)
    assert_trusted(source)
    assert "disentangled_scores(" in source and "avg_pool1d(" in source
    torch.manual_seed(1)
    audio = torch.randn(2, 400)
    assert_exact(ours, _audio_output(reference, audio), audio)


# LongT5: T5 whose encoder attends locally (keys within local_radius of their query, at T5's
# bucketed distances); its decoder is T5's. Transient-global attention is not built: flagged.
LONGT5_CASES = {
    "model": ("LongT5Model", dict(T5, local_radius=3, global_block_size=4)),
    "encoder-radius-1-gated": (
        "LongT5EncoderModel",
        dict(T5, local_radius=1, feed_forward_proj="gated-gelu", relative_attention_num_buckets=8),
    ),
}


def _text_inputs(with_decoder: bool) -> tuple[tuple, dict]:
    torch.manual_seed(1)
    ids = torch.randint(3, 100, (2, 11))
    mask = torch.ones(2, 11, dtype=torch.long)
    mask[1, 7:] = 0  # the second sequence is padded
    if not with_decoder:
        return (ids, mask), {"input_ids": ids, "attention_mask": mask}
    target = torch.randint(3, 100, (2, 6))
    return (ids, mask, target), dict(input_ids=ids, attention_mask=mask, decoder_input_ids=target)


@pytest.mark.parametrize("case", sorted(LONGT5_CASES))
def test_longt5_local_attention_is_exact_from_the_folder(tmp_path, case):
    """Exact wherever a token is real; a padding query whose whole window is padding is averaged
    differently by the library's blocks, which the file says (its trust: guessed)."""
    model_cls, config = LONGT5_CASES[case]
    reference, ours, source = generate_for(tmp_path, model_cls, "LongT5Config", config)
    assert "NotImplementedError" not in source and "local_band_bias(" in source
    assert "whose whole window is padding" in " ".join(source.split())
    args, kwargs = _text_inputs(with_decoder=model_cls == "LongT5Model")
    with torch.no_grad():
        want = reference(**kwargs).last_hidden_state
        if model_cls == "LongT5Model":  # the decoder reads real tokens only: exact everywhere
            assert_exact(ours, want, *args)
            return
        real = kwargs["attention_mask"].bool()
        for run in (ours, torch.jit.script(ours)):
            torch.testing.assert_close(run(*args)[real], want[real], atol=1e-5, rtol=1e-5)


def test_longt5_transient_global_is_flagged(tmp_path):
    config = dict(T5, encoder_attention_type="transient-global", global_block_size=4)
    _, _, source = generate_for(tmp_path, "LongT5EncoderModel", "LongT5Config", config)
    assert "Forward trust: missing" in source or "Forward trust: guessed" in source
