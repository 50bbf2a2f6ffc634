"""Decoders and encoder-decoders of the session-10 held-out block (issue 15, dec11), built from
tiny configs in code and compared with the library's own forward (atol 1e-5), scripted too:
- MVP (BART's layers under another model_type): the row of position 0 read from the position
  table's size beside max_position_embeddings, the decoder layers' residual from the conventions
  survey, and MVP's prompt sizes moot without prompts;
- ModernBERT's layers, as a causal decoder (ModernBERT-decoder: its prediction head before the
  tied vocabulary projection) and as an encoder: gate and up in one `Wi`, no norm before the first
  layer's attention, bias-free LayerNorms (norm_bias false), alternating windowed and full layers
  with their own rotary bases, windows either side of each query in the encoder;
- HRM-Text: a low and a high stack run as a fixed recurrence (config.json's cycle counts),
  attention gated by a fourth part of one fused projection (`gqkv_proj`), norms without
  parameters;
- UltraBERT: LLaMA-shaped layers that attend both ways (classifier_pooling says an encoder) within
  an inclusive radius (the library's bidirectional sliding-window mask)."""

from __future__ import annotations

import json

import pytest
import torch

pytest.importorskip("transformers")

from tests.library_compare import (  # noqa: E402
    assert_exact,
    assert_trusted,
    generate_for,
    text_inputs,
)
from tests.tiny_configs import BART, DENSE  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")

SEQ2SEQ = {
    "mvp": ("MvpModel", "MvpConfig", BART),
    "mvp_lm": ("MvpForConditionalGeneration", "MvpConfig", {**BART, "decoder_layers": 1}),
}


# windows shorter than the 11 tokens compared, so a window applied the wrong way shows
TEXT_FAMILIES = {
    "modernbert_decoder_lm": (
        "ModernBertDecoderForCausalLM",
        "ModernBertDecoderConfig",
        {**DENSE, "pad_token_id": 0, "local_attention": 6},
    ),
    "modernbert_decoder": (
        "ModernBertDecoderModel",
        "ModernBertDecoderConfig",
        {**DENSE, "num_hidden_layers": 3, "pad_token_id": 0, "local_attention": 8},
    ),
    "modernbert": (
        "ModernBertModel",
        "ModernBertConfig",
        {**DENSE, "num_hidden_layers": 3, "pad_token_id": 0, "local_attention": 6},
    ),
    "modernbert_mlm": (
        "ModernBertForMaskedLM",
        "ModernBertConfig",
        {**DENSE, "pad_token_id": 0, "local_attention": 4, "classifier_activation": "relu"},
    ),
    "ultrabert": (
        "UltrabertModel",
        "UltrabertConfig",
        {**DENSE, "sliding_window": 2, "layer_types": ["sliding_attention", "full_attention"]},
    ),
    "ultrabert_windowed": ("UltrabertModel", "UltrabertConfig", {**DENSE, "sliding_window": 3}),
    "hrm_text_lm": (
        "HrmTextForCausalLM",
        "HrmTextConfig",
        {**DENSE, "num_hidden_layers": 1, "head_dim": 8, "H_cycles": 2, "L_cycles": 2},
    ),
    "hrm_text": (
        "HrmTextModel",
        "HrmTextConfig",
        {**DENSE, "head_dim": 4, "H_cycles": 1, "L_cycles": 3, "embedding_scale": 3.0},
    ),
}


@pytest.mark.parametrize("name", sorted(TEXT_FAMILIES))
def test_text_family_is_exact_from_the_folder(tmp_path, name):
    reference, ours, source = generate_for(tmp_path, *TEXT_FAMILIES[name])
    assert_trusted(source)
    ids, mask = text_inputs(reference)
    with torch.no_grad():
        want = reference(input_ids=ids, attention_mask=mask)[0]
    # the padded row's padding positions are left out: their values are the library's own
    assert_exact(ours, want[:1], ids[:1], mask[:1])
    with torch.no_grad():
        got = ours(ids, mask)
    torch.testing.assert_close(got[1, :7], want[1, :7], atol=1e-5, rtol=1e-5)


def _seq2seq_inputs(config) -> tuple:
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


@pytest.mark.parametrize("name", sorted(SEQ2SEQ))
def test_seq2seq_family_is_exact_from_the_folder(tmp_path, name):
    reference, ours, source = generate_for(tmp_path, *SEQ2SEQ[name])
    assert_trusted(source)
    ids, mask, target = _seq2seq_inputs(reference.config)
    kwargs = dict(input_ids=ids, attention_mask=mask, decoder_input_ids=target, use_cache=False)
    with torch.no_grad():
        want = reference(**kwargs)[0]
    assert_exact(ours, want, ids, mask, target)


def test_position_offset_is_read_from_the_table_size_of_an_unknown_type(tmp_path):
    """A BART saved under a model_type modelgen has no table for: the table's two spare rows
    beside max_position_embeddings say where position 0 is, whatever the type is called."""
    import transformers

    from codegen.cli.main import main

    torch.manual_seed(0)
    model = transformers.BartModel(transformers.BartConfig(**BART))
    folder = tmp_path / "hf"
    model.save_pretrained(folder)
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, "model_type": "bart_like"}))
    out = tmp_path / "model.py"
    assert main(["generate", str(folder), "-o", str(out), "--quiet"]) == 0
    source = out.read_text()
    assert '"position_offset", 2, "metadata"' in source
    assert "Forward trust: guessed" in source  # its other conventions rest on no evidence
