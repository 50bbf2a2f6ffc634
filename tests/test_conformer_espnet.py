"""ESPnet's Conformer as transformers ports it (FastSpeech2Conformer's text encoder): macaron
feed-forwards made of position-wise convs at half steps, relative-position self-attention, the
convolution module (GLU, depthwise conv, batch norm), post- or pre-norm sublayers as
normalize_before says, the input scaled by sqrt(d). Built from tiny configs here, saved with its
config as a trainer would, compared output for output with the library's forward."""

from __future__ import annotations

import pytest
import torch

pytest.importorskip("transformers")

from tests.library_compare import assert_exact, assert_trusted  # noqa: E402
from tests.library_compare import generate_from_trainer_dict  # noqa: E402
from tests.redraw import unit_scale  # noqa: E402

SMALL = dict(
    hidden_size=16,
    vocab_size=30,
    encoder_layers=2,
    encoder_num_attention_heads=2,
    encoder_linear_units=24,
    encoder_kernel_size=5,
    positionwise_conv_kernel_size=3,
    use_macaron_style_in_conformer=True,
    use_cnn_in_conformer=True,
)


@pytest.mark.parametrize("normalize_before", [False, True], ids=["post_norm", "pre_norm"])
def test_fastspeech2_conformer_encoder_is_exact(tmp_path, normalize_before):
    import transformers
    from transformers.models.fastspeech2_conformer import modeling_fastspeech2_conformer as fs2

    config = transformers.FastSpeech2ConformerConfig(
        **SMALL, encoder_normalize_before=normalize_before
    )
    torch.manual_seed(0)
    encoder = fs2.FastSpeech2ConformerEncoder(
        config, config.encoder_config, use_encoder_input_layer=True
    )
    reference = unit_scale(encoder.eval())
    ours, source = generate_from_trainer_dict(tmp_path, reference, config)
    assert_trusted(source)
    ids = torch.randint(1, 30, (2, 9))
    with torch.no_grad():
        want = reference(ids, return_dict=False)[0]
    assert_exact(ours, want, ids)


def test_lasr_ctc_is_exact_from_the_folder(tmp_path):
    """Lasr's Conformer (MedASR) with its CTC head: a subsampler of Linears around two unpadded
    strided convs, rotary attention, a depthwise kernel of even width padded "same", residuals
    weighted by config.json (1.5 x + 0.5 f(x), 2 x + conv(x)), its batch norm at PyTorch's eps
    beside layer norms at layer_norm_eps; the head a kernel-1 conv over the frames. (The encoder
    alone: blocks/conformer.py's lasr_encoder_example, in tests/test_patterns.py.)"""
    from codegen.patterns.blocks.linear_conv_subsampler import TINY_LASR
    from tests.library_compare import generate_for

    config = {"encoder_config": dict(TINY_LASR, layer_norm_eps=1e-6), "vocab_size": 20}
    reference, ours, source = generate_for(tmp_path, "LasrForCTC", "LasrCTCConfig", config)
    assert_trusted(source)
    assert "Forward trust: guessed" not in source
    features = torch.randn(2, 23, 10)
    with torch.no_grad():
        want = reference(features).logits
    assert_exact(ours, want, features)
