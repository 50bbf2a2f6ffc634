"""Encoders with unusual attention (issue 15, task enc7b), built from tiny configs in code: the file
generated from the Hugging Face folder strict-loads, computes the library's last hidden state to
1e-5 with a padding mask (padding rows included), and scripts with TorchScript.

DeBERTa's disentangled attention (patterns/blocks/disentangled_attention.py, disentangled_encoder.py)
across its switches: v3's shared keys with log buckets and a normalised table, v2's own position
projections with exact positions clamped to a short span, one term only, relative attention off
(the scale still counts the terms), absolute positions on or off, token types, narrow embeddings
projected, v2-xlarge's convolution after the first layer; and v1's fused projection with its q/v
biases, talking heads and no relative attention.
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

V3 = dict(
    relative_attention=True,
    pos_att_type=["p2c", "c2p"],
    share_att_key=True,
    position_buckets=8,  # distances from 4 on log-bucketed (the sequences have 11 tokens)
    norm_rel_ebd="layer_norm",
    position_biased_input=False,
)


def _v2(**kw):
    return lambda t: t.DebertaV2Model(t.DebertaV2Config(**DENSE, **kw))


def _v1(**kw):
    return lambda t: t.DebertaModel(t.DebertaConfig(**DENSE, **kw))


EXACT = {
    "deberta_v3": _v2(**V3),
    # unseen: v3's layout with a wider bucket reach, three heads of 8 (hidden 24), gelu_new
    "deberta_v3_reach": lambda t: t.DebertaV2Model(
        t.DebertaV2Config(
            **{**DENSE, "hidden_size": 24, "num_attention_heads": 3},
            **{**V3, "max_relative_positions": 16},
            hidden_act="gelu_new",
        )
    ),
    # v2: own position projections, exact positions clamped beyond 4, absolute positions too
    "deberta_v2_own": _v2(
        relative_attention=True, pos_att_type=["p2c", "c2p"], max_relative_positions=4
    ),
    # one term only, token types, no absolute positions
    "deberta_v2_c2p": _v2(
        relative_attention=True,
        pos_att_type=["c2p"],
        position_biased_input=False,
        type_vocab_size=2,
    ),
    "deberta_v2_p2c_shared": _v2(**{**V3, "pos_att_type": ["p2c"]}),
    # v2-xlarge's layout: a convolution mixed in after the first layer, own projections, buckets
    "deberta_v2_conv": lambda t: t.DebertaV2Model(
        t.DebertaV2Config(
            **{**DENSE, "num_hidden_layers": 3},
            relative_attention=True,
            pos_att_type=["p2c", "c2p"],
            position_buckets=16,
            norm_rel_ebd="layer_norm",
            conv_kernel_size=3,
            conv_act="gelu",
        )
    ),
    # embeddings narrower than the layers: their sum projected (embed_proj), token types
    "deberta_v2_embed_proj": _v2(**V3, embedding_size=16, type_vocab_size=2),
    "deberta_v2_embed_proj_positions": _v2(
        relative_attention=True, pos_att_type=["c2p", "p2c"], embedding_size=16
    ),
    # relative attention off: the scores are still divided by sqrt(head_dim * 3)
    "deberta_v2_off": _v2(pos_att_type=["c2p", "p2c"]),
    "deberta_v2_plain": _v2(),
    # v1: fused in_proj with q/v biases, pos_proj / pos_q_proj, no buckets
    "deberta": _v1(relative_attention=True, pos_att_type=["c2p", "p2c"], max_relative_positions=6),
    "deberta_talking": _v1(
        relative_attention=True,
        pos_att_type=["c2p", "p2c"],
        talking_head=True,
        position_biased_input=False,
    ),
    "deberta_plain": _v1(),
}


@pytest.mark.parametrize("name", sorted(EXACT))
def test_disentangled_encoder_is_exact_from_the_folder(tmp_path, name):
    model = build(EXACT[name])
    source, ours = generate(tmp_path, model)
    assert_trusted(source)
    ids, mask = text_inputs(model)
    with torch.no_grad():
        want = model(input_ids=ids, attention_mask=mask).last_hidden_state
    assert_exact(ours, want, ids, mask)
    with torch.no_grad():  # and without a mask
        want = model(input_ids=ids).last_hidden_state
    assert_exact(ours, want, ids)


def test_config_json_values_are_cited(tmp_path):
    model = build(EXACT["deberta_v3"])
    source, _ = generate(tmp_path, model)
    assert "position_buckets" in source and "disentangled_scores(" in source
    assert "rel_embeddings" in source and "query_key_mask" in source


def test_a_classifier_reads_the_pooler_activation_and_is_flagged(tmp_path):
    """DeBERTa's ContextPooler applies pooler_hidden_act (gelu), not BERT's tanh; the head around
    it is not a known family yet, so the file says its top class is guessed."""
    config = transformers.DebertaV2Config(**DENSE, **V3, num_labels=3)
    model = build(lambda t: t.DebertaV2ForSequenceClassification(config))
    source, _ = generate(tmp_path, model)
    assert "F.gelu(self.dense(x[:, 0]))" in source
    assert "Forward trust: guessed" in source
