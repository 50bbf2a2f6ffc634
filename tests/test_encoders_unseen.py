"""Encoders with unusual stacks and embeddings (issue 15, task enc6), built from tiny configs in code:
the file generated from the Hugging Face folder strict-loads, computes the library's output to 1e-5
with a padding mask, and scripts with TorchScript. Each mechanism is checked on the family that
motivated it and on a configuration or family no pattern was written for; where the forward cannot
be exact the file must say what is guessed.

- an input projection beside the layer stack (RemBERT's embedding_hidden_mapping_in), also under a
  classification head;
- a linear map inside the embeddings, fed the token embeddings and, where its width says so, extra
  id tables concatenated (RoCBert's shape/pronunciation embeddings);
- parallel per-layer lists (attentions, layer_norm1, ffns, layer_norm2) as one post- or pre-norm
  block stack (XLM, FlauBERT).
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

XLM = dict(vocab_size=100, emb_dim=32, n_layers=2, n_heads=4)
ROC = dict(**DENSE, pronunciation_vocab_size=10, shape_vocab_size=12, pronunciation_embed_dim=16)

EXACT = {
    "rembert": lambda t: t.RemBertModel(
        t.RemBertConfig(**DENSE, input_embedding_size=16, output_embedding_size=16)
    ),
    # unseen: wider input embeddings, three layers, relu
    "rembert_wide": lambda t: t.RemBertModel(
        t.RemBertConfig(
            **{**DENSE, "num_hidden_layers": 3},
            input_embedding_size=48,
            output_embedding_size=8,
            hidden_act="relu",
        )
    ),
    "roc_bert": lambda t: t.RoCBertModel(
        t.RoCBertConfig(**ROC, enable_pronunciation=False, enable_shape=False)
    ),
    # unseen: the shape table enabled, concatenated before the map (its ids default to zeros)
    "roc_bert_shape": lambda t: t.RoCBertModel(
        t.RoCBertConfig(**ROC, shape_embed_dim=8, enable_pronunciation=False, enable_shape=True)
    ),
    "xlm": lambda t: t.XLMModel(t.XLMConfig(vocab_size=100, emb_dim=32, n_layers=2, n_heads=4)),
    # unseen: a stored sinusoidal position table, three layers, two heads
    "xlm_sinusoidal": lambda t: t.XLMModel(
        t.XLMConfig(vocab_size=100, emb_dim=32, n_layers=3, n_heads=2, sinusoidal_embeddings=True)
    ),
    # unseen: XLM's switch gelu_activation false (relu), read as the feed-forward's activation
    "xlm_relu": lambda t: t.XLMModel(t.XLMConfig(**XLM, gelu_activation=False)),
    "flaubert": lambda t: t.FlaubertModel(
        t.FlaubertConfig(vocab_size=100, emb_dim=32, n_layers=2, n_heads=4)
    ),
}


@pytest.mark.parametrize("name", sorted(EXACT))
def test_encoder_is_exact_from_the_folder(tmp_path, name):
    model = build(EXACT[name])
    source, ours = generate(tmp_path, model)
    assert_trusted(source)
    ids, mask = text_inputs(model)
    with torch.no_grad():
        want = model(input_ids=ids, attention_mask=mask).last_hidden_state
    assert_exact(ours, want, ids, mask)


def test_rembert_with_a_classification_head_gives_the_library_logits(tmp_path):
    config = transformers.RemBertConfig(
        **DENSE, input_embedding_size=16, output_embedding_size=24, num_labels=3
    )
    model = build(lambda t: t.RemBertForSequenceClassification(config))
    source, ours = generate(tmp_path, model)
    assert_trusted(source)
    ids, mask = text_inputs(model)
    with torch.no_grad():
        want = model(input_ids=ids, attention_mask=mask).logits
    assert_exact(ours, want, ids, mask)


def test_two_extra_tables_concatenated_are_flagged(tmp_path):
    """Shapes show that both tables feed the map, not in which order: the file says so."""
    config = transformers.RoCBertConfig(**ROC, shape_embed_dim=8)
    model = build(lambda t: t.RoCBertModel(config))
    source, _ = generate(tmp_path, model)
    assert "Forward trust: guessed" in source
    assert "the order in which the extra embeddings are concatenated" in source


@pytest.mark.parametrize(
    "settings, says",
    [
        (dict(n_langs=3), "lang_embeddings is not added"),
    ],
)
def test_xlm_what_the_parallel_stack_does_not_compute_is_flagged(tmp_path, settings, says):
    """Language embeddings (added only when the caller passes language ids) are not computed: the
    file says so, and without language ids it is still exact."""
    model = build(lambda t: t.XLMModel(t.XLMConfig(**XLM, **settings)))
    source, ours = generate(tmp_path, model)
    assert "Forward trust: guessed" in source and says in source
    if "n_langs" in settings:
        ids, mask = text_inputs(model)
        with torch.no_grad():
            want = model(input_ids=ids, attention_mask=mask).last_hidden_state
        assert_exact(ours, want, ids, mask)


@pytest.mark.parametrize("family", ["XLM", "Flaubert"])
def test_xlm_without_a_mask_leaves_out_the_padding_at_the_end(tmp_path, family):
    """Called without attention_mask, XLM and FlauBERT mask the tokens past each sequence's count
    of non-padding tokens: the generated forward does the same."""
    config = getattr(transformers, f"{family}Config")(**XLM, pad_token_id=1)
    model = build(lambda t: getattr(t, f"{family}Model")(config))
    source, ours = generate(tmp_path, model)
    assert_trusted(source)
    ids, _ = text_inputs(model)
    assert (ids[1, 7:] == 1).all()
    with torch.no_grad():
        want = model(input_ids=ids).last_hidden_state
    assert_exact(ours, want, ids)
