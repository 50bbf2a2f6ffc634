"""Efficient / long-sequence attention encoders (issue 15, task lin9), built from tiny configs in
code: the file generated from the Hugging Face folder strict-loads, computes the library's output
to 1e-5 and scripts with TorchScript; where it cannot be exact the file says so. Each mechanism is
checked on two configurations.

- sliding-window attention with global-token projections (Longformer): each token sees the keys
  window // 2 either side, real tokens only, and a padding token's attention output is zero; the
  window comes from config.json's attention_window. The global projections are unused (no global
  attention mask is taken): the file says so (guessed), and layers of different windows are named
  as missing.
"""

from __future__ import annotations

import logging

import pytest
import torch

transformers = pytest.importorskip("transformers")

from tests.library_compare import assert_exact, assert_trusted, build  # noqa: E402
from tests.generated_module import generate_from_folder as generate  # noqa: E402
from tests.tiny_configs import BART, DENSE  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")
logging.getLogger("transformers").setLevel(logging.ERROR)

GLOBAL_UNUSED = "the attention of tokens marked global) are unused"


def _generate(tmp_path, factory):
    model = build(factory).eval()
    logging.disable(logging.WARNING)
    try:
        source, ours = generate(tmp_path, model)
    finally:
        logging.disable(logging.NOTSET)
    return model, source, ours


def _padded(model, seq: int, real: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Two sequences of `seq` ids, the second padded after `real`, and their attention mask."""
    torch.manual_seed(1)
    ids = torch.randint(3, 100, (2, seq))
    mask = torch.ones(2, seq, dtype=torch.long)
    mask[1, real:] = 0
    ids[1, real:] = model.config.pad_token_id or 0
    return ids, mask


def _only_global_flag(source: str) -> None:
    """The one flag is the global projections left unused: nothing else is guessed or missing."""
    assert "NotImplementedError" not in source
    assert "Forward trust: missing" not in source
    words = " ".join(source.split())  # docstrings wrap
    assert "Forward trust: guessed" in words and GLOBAL_UNUSED in words
    assert "is not one whose conventions" not in words and "does not use" not in words


@pytest.mark.parametrize(
    "settings, seq, real",
    [
        (dict(attention_window=4), 11, 7),  # padded to 12 by the library
        (dict(attention_window=[6, 6], num_attention_heads=2, hidden_act="relu"), 17, 9),
    ],
    ids=["window4", "window6_relu"],
)
def test_longformer_sliding_window_is_exact(tmp_path, settings, seq, real):
    config = transformers.LongformerConfig(**{**DENSE, **settings})
    model, source, ours = _generate(tmp_path, lambda t: t.LongformerModel(config))
    assert "band_mask" in source
    _only_global_flag(source)
    ids, mask = _padded(model, seq, real)
    with torch.no_grad():
        want = model(input_ids=ids, attention_mask=mask).last_hidden_state
    assert_exact(ours, want, ids, mask)
    with torch.no_grad():  # without a mask every token is real
        want = model(input_ids=ids).last_hidden_state
        torch.testing.assert_close(ours(ids), want, atol=1e-5, rtol=1e-5)


def test_longformer_windows_per_layer_are_named_missing(tmp_path):
    config = transformers.LongformerConfig(**{**DENSE, "attention_window": [4, 8]})
    model, source, ours = _generate(tmp_path, lambda t: t.LongformerModel(config))
    assert "layers with different attention windows" in source
    ids, mask = _padded(model, 11, 7)
    with pytest.raises(NotImplementedError):
        ours(ids)


LED = {k: v for k, v in BART.items() if k != "max_position_embeddings"}
LED.update(max_encoder_position_embeddings=64, max_decoder_position_embeddings=32)


@pytest.mark.parametrize(
    "model_cls, settings",
    [
        ("LEDModel", dict(attention_window=4)),
        (
            "LEDForConditionalGeneration",
            dict(attention_window=[8, 8], d_model=48, activation_function="relu"),
        ),
    ],
    ids=["model_window4", "lm_window8_relu"],
)
def test_led_encoder_sliding_window_is_exact(tmp_path, model_cls, settings):
    config = transformers.LEDConfig(**{**LED, **settings})
    model, source, ours = _generate(tmp_path, lambda t: getattr(t, model_cls)(config))
    assert "band_mask" in source
    _only_global_flag(source)
    ids, mask = _padded(model, 11, 7)
    torch.manual_seed(2)
    target = torch.randint(3, 100, (2, 6))
    with torch.no_grad():
        out = model(input_ids=ids, attention_mask=mask, decoder_input_ids=target)
    want = out.logits if hasattr(out, "logits") else out.last_hidden_state
    assert_exact(ours, want, ids, mask, target)


@pytest.mark.parametrize(
    "settings, seq, real",
    [
        # landmarks = segment length: the library's plain softmax attention, and the conv skip
        (dict(num_landmarks=11, segment_means_seq_len=11), 11, 7),
        # 4 landmarks over 12 positions: the Nystrom approximation itself, a kernel-5 conv
        (dict(num_landmarks=4, segment_means_seq_len=12, conv_kernel_size=5), 12, 9),
    ],
    ids=["exact_path", "landmarks4"],
)
def test_nystromformer_is_exact(tmp_path, settings, seq, real):
    config = transformers.NystromformerConfig(**{**DENSE, **settings})
    model, source, ours = _generate(tmp_path, lambda t: t.NystromformerModel(config))
    assert_trusted(source)
    assert ("nystrom_attention" in source) == (settings["num_landmarks"] != seq)
    ids, mask = _padded(model, seq, real)
    if settings["num_landmarks"] != seq:  # the library's landmark path fails given a mask (5.24)
        with torch.no_grad():
            want = model(input_ids=ids).last_hidden_state
        assert_exact(ours, want, ids)
        return
    with torch.no_grad():
        want = model(input_ids=ids, attention_mask=mask).last_hidden_state
    assert_exact(ours, want, ids, mask)


BIGBIRD_PEGASUS = BART


@pytest.mark.parametrize(
    "model_cls, settings",
    [
        ("BigBirdPegasusModel", dict()),
        ("BigBirdPegasusForConditionalGeneration", dict(d_model=48, activation_function="relu")),
    ],
    ids=["model", "lm_relu"],
)
def test_bigbird_pegasus_full_attention_is_exact(tmp_path, model_cls, settings):
    """attention_type original_full: a pre-norm seq2seq whose `layernorm_embedding` norms each
    stack's output (a final norm by another name), positions from row 0."""
    config = transformers.BigBirdPegasusConfig(
        **{**BIGBIRD_PEGASUS, **settings, "attention_type": "original_full"}
    )
    model, source, ours = _generate(tmp_path, lambda t: getattr(t, model_cls)(config))
    assert_trusted(source)
    ids, mask = _padded(model, 11, 7)
    torch.manual_seed(2)
    target = torch.randint(3, 100, (2, 6))
    with torch.no_grad():
        out = model(input_ids=ids, attention_mask=mask, decoder_input_ids=target)
    want = out.logits if hasattr(out, "logits") else out.last_hidden_state
    assert_exact(ours, want, ids, mask, target)


def test_bigbird_pegasus_block_sparse_is_flagged(tmp_path):
    """Block-sparse attention (used where the sequence is longer than its blocks need) is not
    written: the file says config.json's attention_type is unused."""
    config = transformers.BigBirdPegasusConfig(
        **BIGBIRD_PEGASUS, attention_type="block_sparse", block_size=1, num_random_blocks=2
    )
    _, source, _ = _generate(tmp_path, lambda t: t.BigBirdPegasusModel(config))
    words = " ".join(source.split())
    assert "Forward trust: guessed" in words and "attention_type" in words


@pytest.mark.parametrize(
    "settings",
    [dict(), dict(conv_window=3, hash_code_len=5, num_attention_heads=2, hidden_act="relu")],
    ids=["default", "conv3_bits5"],
)
def test_yoso_expected_attention_is_exact(tmp_path, settings):
    """use_expectation: the chance hash_code_len hyperplanes agree, no softmax, padding keys
    weighed too (as the library's mask reaches them: all ones), outputs L2-normalised; the
    per-head conv of the values (padding zeroed) where conv_window says so."""
    config = transformers.YosoConfig(**{**DENSE, **settings})
    model, source, ours = _generate(tmp_path, lambda t: t.YosoModel(config))
    assert_trusted(source)
    assert "expectation_attention" in source
    ids, mask = _padded(model, 11, 7)
    with torch.no_grad():
        want = model(input_ids=ids, attention_mask=mask).last_hidden_state
    assert_exact(ours, want, ids, mask)


def test_yoso_sampled_attention_is_named_missing(tmp_path):
    config = transformers.YosoConfig(**DENSE, use_expectation=False)
    model, source, ours = _generate(tmp_path, lambda t: t.YosoModel(config))
    assert "use_expectation false" in " ".join(source.split())
    with pytest.raises(NotImplementedError):
        ours(_padded(model, 11, 7)[0])


@pytest.mark.parametrize("mode", ["full", "sparse"])
def test_mra_attention_is_named_missing(tmp_path, mode):
    """MRA's attention exists only as the library's CUDA kernels (zeros without them): named."""
    config = transformers.MraConfig(**DENSE, approx_mode=mode)
    model, source, ours = _generate(tmp_path, lambda t: t.MraModel(config))
    assert "multi-resolution (MRA) attention" in " ".join(source.split())
    with pytest.raises(NotImplementedError):
        ours(_padded(model, 11, 7)[0])
