"""audio11 (issue 15): speech encoders beyond wav2vec2's layout, built from tiny configs in code
and compared with the library's own forward (atol 1e-5), scripted too.

- WavLM: gated relative position bias (blocks/gated_relative_attention.py): the first layer's
  bucket table gives one bias, each layer's attention gates it per head and frame. Measured in
  both layouts (post-norm; `do_stable_layer_norm`'s pre-norm) at other sizes, bucket counts and
  distances than the zoo's, and under a CTC head.
"""

from __future__ import annotations

import pytest
import torch

pytest.importorskip("transformers")

from tests.library_compare import assert_exact, assert_trusted, generate_for  # noqa: E402
from tests.tiny_configs import AUDIO  # noqa: E402

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
# positions (Transformer-XL's shift) or none; the layers' norms keep torch's eps whatever
# layer_norm_eps says (only the final norm reads it), so one case sets it elsewhere.
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
    assert ("interleaved_relative_sinusoids(" in source) == (case != "no-positions-ctc")
    torch.manual_seed(1)
    audio = torch.randn(2, 400)
    assert_exact(ours, _audio_output(reference, audio), audio)


def test_wav2vec2_conformer_rotary_is_flagged(tmp_path):
    """Rotary positions turn the layers' input before the projections: not built, and said so."""
    config = dict(AUDIO, conv_depthwise_kernel_size=3, position_embeddings_type="rotary")
    _, _, source = generate_for(
        tmp_path, "Wav2Vec2ConformerModel", "Wav2Vec2ConformerConfig", config
    )
    assert "Forward trust: missing" in source or "Forward trust: guessed" in source
