"""Encoders with extra inputs (issue 15, session 10): BERT-style layers that carry a cross-attention
to an encoder's states (BLIP's text tower; BERT, ELECTRA, XLM-R and the pre-norm XLM-R XL built as
decoders with add_cross_attention).
Each generated file is compared with the library's own forward, scripted too, with and without the
encoder's states."""

from __future__ import annotations

import pytest
import torch

from tests.library_compare import assert_exact, assert_trusted, generate_for, text_inputs
from tests.tiny_configs import DENSE

CROSS = [  # (model class, config class, extra config): the encoder's states' width in the id
    ("BlipTextModel", "BlipTextConfig", dict(encoder_hidden_size=24)),
    ("BlipTextModel", "BlipTextConfig", dict(encoder_hidden_size=32, hidden_act="gelu_new")),
    ("BertModel", "BertConfig", dict(is_decoder=True, add_cross_attention=True)),
    ("ElectraModel", "ElectraConfig", dict(is_decoder=True, add_cross_attention=True)),
    ("XLMRobertaModel", "XLMRobertaConfig", dict(is_decoder=True, add_cross_attention=True)),
    # pre-norm: each attention holds its norm and residual
    ("XLMRobertaXLModel", "XLMRobertaXLConfig", dict(is_decoder=True, add_cross_attention=True)),
]


@pytest.mark.parametrize(
    "model_cls, config_cls, extra", CROSS, ids=[f"{c[0]}-{i}" for i, c in enumerate(CROSS)]
)
def test_cross_attention_layers_exact(tmp_path, model_cls, config_cls, extra):
    reference, ours, source = generate_for(tmp_path, model_cls, config_cls, {**DENSE, **extra})
    assert_trusted(source)
    assert "crossattention(" in source
    ids, mask = text_inputs(reference)
    width = getattr(reference.config, "encoder_hidden_size", None) or reference.config.hidden_size
    torch.manual_seed(2)
    states = torch.randn(2, 5, width)
    with torch.no_grad():
        crossed = reference(
            input_ids=ids, attention_mask=mask, encoder_hidden_states=states
        ).last_hidden_state
        alone = reference(input_ids=ids, attention_mask=mask).last_hidden_state
    assert not torch.allclose(crossed, alone)  # the states change the output: the test sees them
    assert_exact_by_name(
        ours, crossed, input_ids=ids, attention_mask=mask, encoder_hidden_states=states
    )
    assert_exact(ours, alone, ids, mask)
    if "Blip" in model_cls:  # the library's BLIP drops encoder_attention_mask: so does ours
        assert "encoder_attention_mask" not in source
    else:  # and the states' own padding
        held = torch.ones(2, 5, dtype=torch.long)
        held[0, 3:] = 0
        with torch.no_grad():
            want = reference(
                input_ids=ids,
                attention_mask=mask,
                encoder_hidden_states=states,
                encoder_attention_mask=held,
            ).last_hidden_state
        assert_exact_by_name(
            ours,
            want,
            input_ids=ids,
            attention_mask=mask,
            encoder_hidden_states=states,
            encoder_attention_mask=held,
        )


def assert_exact_by_name(ours: torch.nn.Module, want: torch.Tensor, **inputs) -> None:
    """As assert_exact, the inputs passed by name (token types may come before the states)."""
    with torch.no_grad():
        torch.testing.assert_close(ours(**inputs), want, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(torch.jit.script(ours)(**inputs), want, atol=1e-5, rtol=1e-5)


LM_HEADS = [  # the masked-LM head on a body run as a decoder: causal, reading the states
    ("BlipTextLMHeadModel", "BlipTextConfig", dict(encoder_hidden_size=24)),
    ("RobertaForCausalLM", "RobertaConfig", dict(is_decoder=True, add_cross_attention=True)),
]


@pytest.mark.parametrize("model_cls, config_cls, extra", LM_HEADS, ids=[c[0] for c in LM_HEADS])
def test_decoder_lm_heads_with_cross_attention_exact(tmp_path, model_cls, config_cls, extra):
    reference, ours, source = generate_for(tmp_path, model_cls, config_cls, {**DENSE, **extra})
    assert_trusted(source)
    assert "causal_padding_mask(" in source
    ids, mask = text_inputs(reference)
    width = getattr(reference.config, "encoder_hidden_size", None) or reference.config.hidden_size
    torch.manual_seed(2)
    states = torch.randn(2, 5, width)
    with torch.no_grad():
        want = reference(input_ids=ids, attention_mask=mask, encoder_hidden_states=states).logits
    assert_exact_by_name(
        ours, want, input_ids=ids, attention_mask=mask, encoder_hidden_states=states
    )
