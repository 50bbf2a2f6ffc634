"""Encoders still flagged after session 7 (issue 15, task enc8), built from tiny configs in code:
the file generated from the Hugging Face folder strict-loads, computes the library's output to 1e-5
and scripts with TorchScript. Each mechanism is checked on two configurations.

- token mixing by a Fourier transform in place of attention, with no padding mask (FNet), and a
  square projection inside the embeddings, after their norm;
- a retrieval encoder's pooled output: the first token, projected where a Linear sits beside the
  encoder (DPR's question and context encoders return only that vector);
- the library's id buffers (positions, token types) saved beside the weights (CLAP's text model):
  loaded, and the same ids computed from input_ids;
- token-type tables numbered 0..n-1 (TAPAS): one token_type_ids [batch, seq, n], column k for table
  k, and positions restarted in each table cell where config.json says so;
- a word-only forward beside entity embeddings and entity-aware queries (LUKE): exact for words,
  and the file says (guessed) that the entity inputs are not taken;
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

FNET = dict(
    vocab_size=100,
    num_hidden_layers=2,
    hidden_size=32,
    intermediate_size=64,
    max_position_embeddings=64,
)


def _generate(tmp_path, factory):
    model = build(factory).eval()
    logging.disable(logging.WARNING)
    try:
        source, ours = generate(tmp_path, model)
    finally:
        logging.disable(logging.NOTSET)
    return model, source, ours


@pytest.mark.parametrize(
    "config",
    [
        FNET,
        # three layers, relu, four token types, a wider feed-forward
        dict(FNET, num_hidden_layers=3, hidden_act="relu", type_vocab_size=2, intermediate_size=96),
    ],
    ids=["fnet", "fnet_relu"],
)
def test_fnet_fourier_mixing_is_exact(tmp_path, config):
    model, source, ours = _generate(tmp_path, lambda t: t.FNetModel(t.FNetConfig(**config)))
    assert_trusted(source)
    assert "fourier_mix" in source
    ids, _ = text_inputs(model)
    types = (torch.arange(11) >= 5).long().expand(2, -1)
    with torch.no_grad():
        want = model(input_ids=ids, token_type_ids=types).last_hidden_state
    assert_exact(ours, want, ids, types)


def test_fnet_dft_as_matrix_products_is_flagged(tmp_path):
    """FNet's TPU path (DFT matrices sized for one sequence length) is not what the file computes:
    the file says so (its stored DFT matrices have no inferred use, or the setting is named)."""
    pytest.importorskip("scipy", reason="the library builds its DFT matrices with scipy")
    config = transformers.FNetConfig(**FNET, use_tpu_fourier_optimizations=True)
    _, source, _ = _generate(tmp_path, lambda t: t.FNetModel(config))
    assert "Forward trust: guessed" in source or "Forward trust: missing" in source
    assert "use_tpu_fourier_optimizations" in source or "dft_mat_seq" in source


@pytest.mark.parametrize(
    "model_cls, projection",
    [("DPRQuestionEncoder", 0), ("DPRContextEncoder", 16)],
    ids=["question", "context_projected"],
)
def test_dpr_pooled_output_is_exact(tmp_path, model_cls, projection):
    config = transformers.DPRConfig(**DENSE, projection_dim=projection)
    model, source, ours = _generate(tmp_path, lambda t: getattr(t, model_cls)(config))
    assert_trusted(source)
    ids, mask = text_inputs(model)
    with torch.no_grad():
        want = model(input_ids=ids, attention_mask=mask).pooler_output
    assert want.shape == (2, projection or 32)
    assert_exact(ours, want, ids, mask)


@pytest.mark.parametrize(
    "config",
    [DENSE, dict(DENSE, num_hidden_layers=3, hidden_act="relu", type_vocab_size=2)],
    ids=["clap_text", "clap_text_relu"],
)
def test_clap_text_with_saved_id_buffers_is_exact(tmp_path, config):
    model, source, ours = _generate(tmp_path, lambda t: t.ClapTextModel(t.ClapTextConfig(**config)))
    assert_trusted(source)
    assert 'register_buffer("position_ids"' in source
    ids, mask = text_inputs(model)
    with torch.no_grad():
        want = model(input_ids=ids, attention_mask=mask).last_hidden_state
    assert_exact(ours, want, ids, mask)


@pytest.mark.parametrize(
    "settings",
    [
        dict(entity_vocab_size=10, entity_emb_size=16),
        # no entity-aware queries, three layers, relu
        dict(
            entity_vocab_size=12,
            entity_emb_size=32,
            use_entity_aware_attention=False,
            num_hidden_layers=3,
            hidden_act="relu",
        ),
    ],
    ids=["luke", "luke_plain_attention"],
)
def test_luke_word_only_forward_is_exact_and_flagged(tmp_path, settings):
    config = transformers.LukeConfig(**{**DENSE, **settings})
    model, source, ours = _generate(tmp_path, lambda t: t.LukeModel(config))
    assert "Forward trust: guessed" in source and "entity_embeddings is not used" in source
    ids, mask = text_inputs(model)
    with torch.no_grad():
        want = model(input_ids=ids, attention_mask=mask).last_hidden_state
    assert_exact(ours, want, ids, mask)


def _table_types(tables: int) -> torch.Tensor:
    """Token types of a question then a 2 x 2 table: segment, column, row, then small ids."""
    torch.manual_seed(2)
    types = torch.zeros(2, 11, tables, dtype=torch.long)
    types[:, 4:, 0] = 1  # the table's tokens
    types[:, 4:, 1] = torch.tensor([1, 1, 2, 2, 1, 1, 2])  # columns
    types[:, 4:, 2] = torch.tensor([1, 1, 1, 1, 2, 2, 2])  # rows
    if tables > 3:
        types[:, :, 3:] = torch.randint(0, 2, (2, 11, tables - 3))
    return types


@pytest.mark.parametrize(
    "settings",
    [
        dict(),  # positions restarted per cell, seven tables
        dict(reset_position_index_per_cell=False, type_vocab_sizes=[2, 4, 5], hidden_act="relu"),
    ],
    ids=["tapas", "tapas_absolute_positions"],
)
def test_tapas_type_tables_and_cell_positions_are_exact(tmp_path, settings):
    config = transformers.TapasConfig(**{**DENSE, **settings})
    model, source, ours = _generate(tmp_path, lambda t: t.TapasModel(config))
    assert_trusted(source)
    ids, mask = text_inputs(model)
    types = _table_types(len(config.type_vocab_sizes))
    with torch.no_grad():
        want = model(input_ids=ids, attention_mask=mask, token_type_ids=types).last_hidden_state
    assert_exact(ours, want, ids, mask, types)
