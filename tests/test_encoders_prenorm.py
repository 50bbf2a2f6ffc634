"""BERT-like encoders whose layers normalise before each half, or whose embeddings sum more tables
(issue 15, task enc7a), built from tiny configs in code: the file generated from the Hugging Face
folder strict-loads, computes the library's last hidden state to 1e-5 with a padding mask, and
scripts with TorchScript. Each mechanism is checked on the family that motivated it and on a
configuration or family no pattern was written for.

- pre-norm split layers decided by where the norms sit, whatever they are called: a norm beside
  the attention's inner and output classes (XLM-R XL's `self_attn_layer_norm`), the feed-forward's
  norm in the layer or inside `intermediate` (RoBERTa-PreLayerNorm), a final norm after the stack
  in the encoder or the model;
- positions numbered after the padding index for the model types the library survey found
  (benchmarks/survey_positions.py), not a list typed by hand.
"""

from __future__ import annotations

import logging

import pytest
import torch

transformers = pytest.importorskip("transformers")

from tests.library_compare import assert_exact, assert_trusted, build, text_inputs  # noqa: E402
from tests.generated_module import generate_from_folder as generate  # noqa: E402
from tests.tiny_configs import DENSE  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")
logging.getLogger("transformers").setLevel(logging.ERROR)


EXACT = {
    "roberta_prelayernorm": lambda t: t.RobertaPreLayerNormModel(
        t.RobertaPreLayerNormConfig(**DENSE)
    ),
    # unseen: three layers, two heads, relu, a wider feed-forward
    "roberta_prelayernorm_relu": lambda t: t.RobertaPreLayerNormModel(
        t.RobertaPreLayerNormConfig(
            **{**DENSE, "num_hidden_layers": 3, "num_attention_heads": 2},
            hidden_act="relu",
        )
    ),
    "xlm_roberta_xl": lambda t: t.XLMRobertaXLModel(t.XLMRobertaXLConfig(**DENSE)),
    # unseen: two segment rows, tanh-approximated gelu, eps 1e-6
    "xlm_roberta_xl_types": lambda t: t.XLMRobertaXLModel(
        t.XLMRobertaXLConfig(**DENSE, type_vocab_size=2, hidden_act="gelu_new", layer_norm_eps=1e-6)
    ),
}


@pytest.mark.parametrize("name", sorted(EXACT))
def test_prenorm_encoder_is_exact_from_the_folder(tmp_path, name):
    model = build(EXACT[name])
    source, ours = generate(tmp_path, model)
    assert_trusted(source)
    ids, mask = text_inputs(model)
    with torch.no_grad():
        want = model(input_ids=ids, attention_mask=mask).last_hidden_state
    assert_exact(ours, want, ids, mask)


def test_padded_positions_come_from_the_library_survey():
    from benchmarks.survey_positions import survey
    from codegen.patterns._position_conventions import SURVEYED

    assert set(survey()) == SURVEYED  # regenerate: python benchmarks/survey_positions.py --python
    assert {"roberta", "xlm-roberta-xl", "roberta-prelayernorm"} <= SURVEYED
    assert "bert" not in SURVEYED and "layoutlm" not in SURVEYED


LAYOUT = {
    "layoutlm": lambda t: t.LayoutLMModel(t.LayoutLMConfig(**DENSE)),
    # unseen: a smaller page grid, three layers, relu
    "layoutlm_small_grid": lambda t: t.LayoutLMModel(
        t.LayoutLMConfig(
            **{**DENSE, "num_hidden_layers": 3}, max_2d_position_embeddings=64, hidden_act="relu"
        )
    ),
}


@pytest.mark.parametrize("name", sorted(LAYOUT))
def test_box_positions_are_summed_into_the_embeddings(tmp_path, name):
    """Four 2-D position tables (x, y, h, w) read a `bbox` input the forward takes after the
    token types; without it the boxes are all zeros, as the library's default."""
    model = build(LAYOUT[name])
    source, ours = generate(tmp_path, model)
    assert_trusted(source)
    ids, mask = text_inputs(model)
    types = (torch.arange(11) >= 5).long().expand(2, -1)
    grid = model.config.max_2d_position_embeddings
    torch.manual_seed(2)
    corners = torch.randint(0, grid // 2, (2, 11, 2))
    bbox = torch.cat([corners, corners + torch.randint(0, grid // 2, (2, 11, 2))], dim=-1)
    with torch.no_grad():
        want = model(input_ids=ids, bbox=bbox, attention_mask=mask, token_type_ids=types)
        plain = model(input_ids=ids, attention_mask=mask).last_hidden_state
    assert_exact(ours, want.last_hidden_state, ids, mask, types, bbox)
    assert_exact(ours, plain, ids, mask)


ROTARY = {
    # layers beside the embeddings (no encoder holder), rotary from config.json, post-norm: no
    # norm follows the stack, so each layer normalises its own output
    "jina_embeddings_v3": lambda t: t.JinaEmbeddingsV3Model(t.JinaEmbeddingsV3Config(**DENSE)),
    "gte": lambda t: t.GteModel(t.GteConfig(**DENSE)),
    # unseen: three layers, two heads, another rotary base, relu in the gated feed-forward
    "gte_relu": lambda t: t.GteModel(
        t.GteConfig(
            **{**DENSE, "num_hidden_layers": 3, "num_attention_heads": 2},
            hidden_act="relu",
            rope_theta=500.0,
        )
    ),
}


@pytest.mark.parametrize("name", sorted(ROTARY))
def test_rotary_post_norm_encoder_is_exact(tmp_path, name):
    model = build(ROTARY[name])
    source, ours = generate(tmp_path, model)
    assert_trusted(source)
    ids, mask = text_inputs(model)
    with torch.no_grad():
        want = model(input_ids=ids, attention_mask=mask).last_hidden_state
    assert_exact(ours, want, ids, mask)


MASKED = {
    # decoder-shaped layers (LLaMA's) trained as a masked LM: config.json's mask token says
    # every position sees all
    "eurobert": lambda t: t.EuroBertModel(
        t.EuroBertConfig(**DENSE, pad_token_id=0, bos_token_id=1, eos_token_id=2, mask_token_id=3)
    ),
    # unseen: grouped key/value heads, three layers
    "eurobert_gqa": lambda t: t.EuroBertModel(
        t.EuroBertConfig(
            **{**DENSE, "num_hidden_layers": 3},
            num_key_value_heads=2,
            pad_token_id=0,
            bos_token_id=1,
            eos_token_id=2,
            mask_token_id=3,
        )
    ),
}


@pytest.mark.parametrize("name", sorted(MASKED))
def test_masked_lm_with_decoder_layers_attends_both_ways(tmp_path, name):
    model = build(MASKED[name])
    source, ours = generate(tmp_path, model)
    assert "NotImplementedError" not in source
    assert "mask token" in source  # the citation for the bidirectional attention
    ids, mask = text_inputs(model)
    with torch.no_grad():
        want = model(input_ids=ids, attention_mask=mask).last_hidden_state
    assert_exact(ours, want, ids, mask)


def test_an_extra_table_is_summed_from_ids_of_its_own_and_flagged(tmp_path):
    """A table no pattern names (ERNIE's task types, use_task_id): added, looked up from
    `task_type_ids` (zeros when not given, as the library does); the keys cannot say so, so the
    file marks it guessed and names the input."""
    config = transformers.ErnieConfig(**DENSE, use_task_id=True, task_type_vocab_size=3)
    model = build(lambda t: t.ErnieModel(config))
    source, ours = generate(tmp_path, model)
    assert "Forward trust: guessed" in source
    assert "task_type_embeddings is added, looked up from task_type_ids" in source
    ids, mask = text_inputs(model)
    types = (torch.arange(11) >= 5).long().expand(2, -1)
    tasks = torch.randint(0, 3, (2, 11))
    with torch.no_grad():
        want = model(input_ids=ids, attention_mask=mask, token_type_ids=types, task_type_ids=tasks)
        plain = model(input_ids=ids, attention_mask=mask).last_hidden_state
    assert_exact(ours, want.last_hidden_state, ids, mask, types, tasks)
    assert_exact(ours, plain, ids, mask)


def test_lone_weight_norms_beside_biased_layer_norms_are_layer_norms(tmp_path):
    """ESM C: q/k and final norms store a weight only, its layers' norms a weight and a bias, and
    config.json names no eps: the lone weights are bias-free LayerNorms, not RMSNorms. (Its
    depth-scaled residual branches, read from the library's code, are tests/test_hybrid_10.py's:
    with them the whole file is exact.)"""
    model = build(lambda t: t.EsmcModel(t.EsmcConfig(**DENSE)))
    source, ours = generate(tmp_path, model)
    assert "nn.RMSNorm" not in source and "nn.LayerNorm(hidden_dim, bias=False)" in source
    ids, mask = text_inputs(model)
    with torch.no_grad():
        want = model(input_ids=ids, attention_mask=mask).last_hidden_state
    assert_exact(ours, want, ids, mask)
