"""Configurations of the families people hold most that the sweep once flagged (tests/config_sweep.py,
benchmarks/bench_configs.py): each now comes out exact from its saved folder, by a general
mechanism (a config field read and cited, a convention), never by a rule keyed on one model."""

from __future__ import annotations

import logging

import pytest

transformers = pytest.importorskip("transformers")

from tests.config_sweep import SWEEPS, Config, measure  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")
logging.getLogger("transformers").setLevel(logging.ERROR)


def _config(family: str, model: str | None = None, **changes) -> Config:
    return Config(family, model or SWEEPS[family].models[0], tuple(sorted(changes.items())))


EXACT = {
    # OPT-350m: a token table narrower than the blocks, project_in / project_out around them
    # (and post-norm blocks); the tied head works on the narrow width
    "opt_350m_like": _config("opt", word_embed_proj_dim=16, do_layer_norm_before=False),
    "opt_projected_untied": _config("opt", "OPTModel", word_embed_proj_dim=16),
    # LayerNorms without parameters (layer_norm_elementwise_affine false): a free norm in each
    # block, pre or post as do_layer_norm_before says, and after pre-norm blocks only
    "opt_affine_free": _config("opt", layer_norm_elementwise_affine=False),
    "opt_affine_free_post": _config(
        "opt", layer_norm_elementwise_affine=False, do_layer_norm_before=False
    ),
    "opt_affine_free_no_final": _config(
        "opt", layer_norm_elementwise_affine=False, _remove_final_layer_norm=True
    ),
    # BLOOM's apply_residual_connection_post_layernorm: residual adds from the normed input
    "bloom_normed_residual": _config("bloom", apply_residual_connection_post_layernorm=True),
    # a one-layer stack (distilled BART's single decoder layer): a list holding one layer
    "bart_one_decoder_layer": _config("bart", decoder_layers=1),
    "bart_model_one_layer_each": _config("bart", "BartModel", encoder_layers=1, decoder_layers=1),
    "whisper_one_encoder_layer": _config("whisper", encoder_layers=1),
    # an activation config.json names beyond the usual feed-forward candidates is used
    "bert_tanh": _config("bert", hidden_act="tanh"),
    # is_decoder true: the encoder's layers attend to earlier tokens only
    "bert_is_decoder": _config("bert", is_decoder=True),
    "roberta_is_decoder_classifier": _config(
        "roberta", "RobertaForSequenceClassification", is_decoder=True, hidden_act="silu"
    ),
    # masked-LM heads: BERT's transform follows hidden_act and its decoder is the token table
    # (only a bias stored); RoBERTa's applies GELU whatever hidden_act says; ALBERT's narrows to
    # the embedding width; ELECTRA's generator and DistilBERT keep the head's parts at the top
    "bert_mlm_relu": _config("bert", "BertForMaskedLM", hidden_act="relu"),
    "bert_mlm_untied": _config("bert", "BertForMaskedLM", tie_word_embeddings=False),
    "roberta_mlm_relu": _config("roberta", "RobertaForMaskedLM", hidden_act="relu"),
    "albert_mlm": _config("albert", "AlbertForMaskedLM", hidden_act="relu"),
    "electra_mlm": _config("electra", "ElectraForMaskedLM", hidden_act="relu"),
    "distilbert_mlm": _config("distilbert", "DistilBertForMaskedLM", activation="relu"),
}


@pytest.mark.parametrize("name", sorted(EXACT))
def test_configuration_is_exact(tmp_path, name):
    result = measure(EXACT[name], tmp_path)
    assert result.verdict == "exact", (EXACT[name].label, result)
