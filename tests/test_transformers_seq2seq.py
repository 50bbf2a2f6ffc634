"""Encoder-decoder families and their encoders from the `transformers` library (T5's encoder, BART,
Whisper's encoder), built from tiny configs in code: the file generated from the Hugging Face
folder (config.json + model.safetensors) strict-loads, computes the library's last hidden state
to 1e-5, and scripts with TorchScript. Same harness as tests/test_transformers_families.py."""

from __future__ import annotations

import logging

import pytest
import torch

transformers = pytest.importorskip("transformers")
from safetensors.torch import load_file  # noqa: E402

from tests.test_transformers_families import build_from, generate  # noqa: E402
from tests.tiny_configs import BART, T5  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")
logging.getLogger("transformers").setLevel(logging.ERROR)

WHISPER = dict(
    {k: v for k, v in BART.items() if k != "max_position_embeddings"},
    num_mel_bins=8,
    max_source_positions=16,
    max_target_positions=32,
    pad_token_id=0,
    bos_token_id=1,
    eos_token_id=2,
    decoder_start_token_id=1,
    suppress_tokens=None,
    begin_suppress_tokens=None,
)
AUDIO_TOWER = dict(num_mel_bins=8, max_source_positions=16, hidden_size=32, num_hidden_layers=2)
AUDIO_TOWER.update(intermediate_size=64, num_attention_heads=4)
FAMILIES = {
    "t5_encoder": lambda t: t.T5EncoderModel(t.T5Config(**T5)),
    "t5_encoder_gated": lambda t: t.T5EncoderModel(
        t.T5Config(
            **{**T5, "num_layers": 3},
            feed_forward_proj="gated-gelu",
            relative_attention_num_buckets=16,
            relative_attention_max_distance=20,
        )
    ),
    "mt5_encoder": lambda t: t.MT5EncoderModel(t.MT5Config(**T5)),
    "bart": lambda t: t.BartModel(t.BartConfig(**BART)),
    "bart_scaled_relu": lambda t: t.BartModel(
        t.BartConfig(**BART, scale_embedding=True, activation_function="relu")
    ),
    "mbart": lambda t: t.MBartModel(t.MBartConfig(**BART)),
    "marian": lambda t: t.MarianModel(
        t.MarianConfig(**BART, pad_token_id=1, eos_token_id=2, decoder_start_token_id=3)
    ),
    "whisper": lambda t: t.WhisperModel(t.WhisperConfig(**WHISPER)),
    "bart_lm": lambda t: t.BartForConditionalGeneration(t.BartConfig(**BART)),
    "whisper_lm": lambda t: t.WhisperForConditionalGeneration(t.WhisperConfig(**WHISPER)),
    # tf21: Whisper's encoder alone, as speech LMs' audio towers reuse it (families/audio_encoder.py)
    "whisper_voxtral_encoder": lambda t: t.VoxtralEncoder(t.VoxtralEncoderConfig(**AUDIO_TOWER)),
    "whisper_glmasr_encoder": lambda t: t.GlmAsrEncoder(  # rotary attention, no position table
        t.GlmAsrEncoderConfig(
            **{k: v for k, v in AUDIO_TOWER.items() if k != "max_source_positions"},
            num_key_value_heads=2,
        )
    ),
}


def inputs(name: str, model) -> tuple[tuple, dict]:
    """What a user passes: (positional for the generated model, keywords for the library's)."""
    torch.manual_seed(1)
    if name.startswith("whisper"):
        features = torch.randn(2, 8, 32)  # [batch, n_mels, 2 * max_source_positions]
        if name.endswith("_encoder"):
            return (features,), {"input_features": features}
        target = torch.randint(3, 100, (2, 6))
        return (features, target), {"input_features": features, "decoder_input_ids": target}
    ids = torch.randint(3, 100, (2, 11))
    mask = torch.ones(2, 11, dtype=torch.long)
    mask[1, 7:] = 0  # the second sequence is padded
    if name.startswith(("bart", "mbart", "marian")):
        ids[1, 7:] = model.config.pad_token_id
        target = torch.randint(3, 100, (2, 6))
        return (ids, mask, target), {
            "input_ids": ids,
            "attention_mask": mask,
            "decoder_input_ids": target,
        }
    return (ids, mask), {"input_ids": ids, "attention_mask": mask}


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_family_is_exact_from_the_folder(tmp_path, name):
    model = build_from(FAMILIES[name])
    if hasattr(model, "final_logits_bias"):  # a buffer of zeros: move it so a wrong use shows
        model.final_logits_bias.normal_()
    folder, out, module = generate(tmp_path, model)
    source = out.read_text()
    assert "NotImplementedError" not in source
    assert "config.json" in source  # the values taken from the config are cited
    ours = module.RecoveredModel().eval()
    ours.load_state_dict(load_file(folder / "model.safetensors"), strict=True)
    args, kwargs = inputs(name, model)
    with torch.no_grad():
        theirs = model(**kwargs)
        want = theirs.logits if hasattr(theirs, "logits") else theirs.last_hidden_state
        torch.testing.assert_close(ours(*args), want, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(torch.jit.script(ours)(*args), want, atol=1e-5, rtol=1e-5)
        # the file's own smoke inputs run too: each input as the member it feeds takes it (a
        # speech model's features and token ids, not one of them twice)
        assert ours(*ours.example_inputs()).dim() == want.dim()


# family -> what the generated file must name as missing (UMT5 and the full T5 are exact now:
# tests/test_transformers_seq2seq_more.py)
NOT_YET: dict = {}


@pytest.mark.parametrize("name", sorted(NOT_YET))
def test_family_not_yet_supported_says_where(tmp_path, name):
    """Never a silent wrong forward: the file raises NotImplementedError naming the missing block."""
    make, gap = NOT_YET[name]
    model = build_from(make)
    folder, out, module = generate(tmp_path, model)
    assert gap in out.read_text()
    ours = module.RecoveredModel().eval()
    ours.load_state_dict(load_file(folder / "model.safetensors"), strict=True)
    with pytest.raises(NotImplementedError):
        ours(inputs(name, model)[0][0])  # the top says which class, that class says what


def test_bart_shifts_the_input_ids_when_no_decoder_ids_are_given(tmp_path):
    """The library's default: decoder_input_ids = input_ids shifted right behind the start token."""
    model = build_from(FAMILIES["bart"])
    folder, out, module = generate(tmp_path, model)
    ours = module.RecoveredModel().eval()
    ours.load_state_dict(load_file(folder / "model.safetensors"), strict=True)
    (ids, mask, _), _ = inputs("bart", model)
    with torch.no_grad():
        want = model(input_ids=ids, attention_mask=mask).last_hidden_state
        torch.testing.assert_close(ours(ids, mask), want, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(torch.jit.script(ours)(ids, mask), want, atol=1e-5, rtol=1e-5)


def test_whisper_encoder_is_exact_on_its_own(tmp_path):
    """`model.encoder(input_features)`: the audio front end, positions and pre-norm layers."""
    model = build_from(FAMILIES["whisper"])
    folder, out, module = generate(tmp_path, model)
    source = out.read_text()
    assert "conv2 = nn.Conv1d(" in source and "stride=2" in source
    ours = module.RecoveredModel().eval()
    ours.load_state_dict(load_file(folder / "model.safetensors"), strict=True)
    (features, _), _ = inputs("whisper", model)
    with torch.no_grad():
        want = model.encoder(features).last_hidden_state
        torch.testing.assert_close(ours.encoder(features), want, atol=1e-5, rtol=1e-5)
