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

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")
logging.getLogger("transformers").setLevel(logging.ERROR)

T5 = dict(vocab_size=100, d_model=32, d_kv=8, d_ff=64, num_layers=2, num_heads=4)
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
}


def inputs(name: str, model) -> tuple[tuple, dict]:
    """What a user passes: (positional for the generated model, keywords for the library's)."""
    torch.manual_seed(1)
    ids = torch.randint(2, 100, (2, 11))
    mask = torch.ones(2, 11, dtype=torch.long)
    mask[1, 7:] = 0  # the second sequence is padded
    return (ids, mask), {"input_ids": ids, "attention_mask": mask}


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_family_is_exact_from_the_folder(tmp_path, name):
    model = build_from(FAMILIES[name])
    folder, out, module = generate(tmp_path, model)
    source = out.read_text()
    assert "NotImplementedError" not in source
    assert "config.json" in source  # the values taken from the config are cited
    ours = module.RecoveredModel().eval()
    ours.load_state_dict(load_file(folder / "model.safetensors"), strict=True)
    args, kwargs = inputs(name, model)
    with torch.no_grad():
        want = model(**kwargs).last_hidden_state
        torch.testing.assert_close(ours(*args), want, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(torch.jit.script(ours)(*args), want, atol=1e-5, rtol=1e-5)


NOT_YET = {  # family -> what the generated file must name as missing
    "umt5_encoder": (lambda t: t.UMT5EncoderModel(t.UMT5Config(**T5)), "every layer owns"),
}


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
