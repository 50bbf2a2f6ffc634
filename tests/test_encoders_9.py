"""Encoders with blocks of their own (issue 15, task enc9), built from tiny configs in code: the file
generated from the Hugging Face folder strict-loads, computes the library's output to 1e-5 and
scripts with TorchScript. Each mechanism is checked on two configurations.

- a channels-first layer of pointwise Conv1d projections, grouped as config.json's
  `<name>_groups` say (SqueezeBERT): heads split from the channels, LayerNorm over the channels;
- a layer computed in a bottleneck (MobileBERT): narrowed input and shared query/key input,
  full-width values, stacked post-norm feed-forwards, the output projected back up; trigram
  embeddings (each token beside its neighbours) and NoNorm's scale-and-shift norms;
- mixed attention with span-based dynamic convolution (ConvBERT): half the heads attend, half
  mix a window of values by a kernel computed per position (heads and window from the weights);
- Transformer-XL-style relative attention with content and position biases, segment terms and a
  padding mask that lets each token see itself (XLNet's content stream);
- visual tokens appended after the text, with their own tables and mask (VisualBERT);
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


def _generate(tmp_path, factory):
    model = build(factory).eval()
    logging.disable(logging.WARNING)
    try:
        source, ours = generate(tmp_path, model)
    finally:
        logging.disable(logging.NOTSET)
    return model, source, ours


def _check_text(tmp_path, factory) -> str:
    model, source, ours = _generate(tmp_path, factory)
    assert_trusted(source)
    ids, mask = text_inputs(model)
    with torch.no_grad():
        want = model(input_ids=ids, attention_mask=mask).last_hidden_state
    assert_exact(ours, want, ids, mask)
    return source


@pytest.mark.parametrize(
    "config",
    [
        dict(DENSE, embedding_size=32),  # the library's default groups: 4 4 4 1 4 4
        dict(  # other widths, heads, activation and groups (one of them 1, one 8)
            DENSE,
            hidden_size=48,
            embedding_size=48,
            num_attention_heads=6,
            intermediate_size=96,
            hidden_act="relu",
            q_groups=2,
            k_groups=8,
            v_groups=1,
            post_attention_groups=3,
            intermediate_groups=6,
            output_groups=2,
        ),
    ],
    ids=["default", "regrouped"],
)
def test_squeezebert_channels_first_grouped_layers(tmp_path, config):
    source = _check_text(tmp_path, lambda t: t.SqueezeBertModel(t.SqueezeBertConfig(**config)))
    assert "groups=" in source and "transpose(1, 2)" in source


MOBILEBERT = dict(DENSE, embedding_size=16, intra_bottleneck_size=16)


@pytest.mark.parametrize(
    "config",
    [
        dict(MOBILEBERT, num_feedforward_networks=2),
        dict(  # other widths and heads, three feed-forwards per layer, gelu
            MOBILEBERT,
            hidden_size=48,
            embedding_size=8,
            intra_bottleneck_size=24,
            num_attention_heads=3,
            intermediate_size=40,
            num_feedforward_networks=3,
            hidden_act="gelu",
        ),
        dict(MOBILEBERT, num_feedforward_networks=1),  # no extra feed-forwards
        # LayerNorms: two of them at torch's eps whatever layer_norm_eps says, as the library
        dict(MOBILEBERT, normalization_type="layer_norm", layer_norm_eps=1e-3),
    ],
    ids=["default", "wider", "single_ffn", "layer_norm"],
)
def test_mobilebert_bottleneck_layers(tmp_path, config):
    source = _check_text(tmp_path, lambda t: t.MobileBertModel(t.MobileBertConfig(**config)))
    assert "F.pad(e[:, 1:]" in source
    assert ("a scale and shift" in source) == ("normalization_type" not in config)


@pytest.mark.parametrize(
    "config",
    [
        dict(DENSE, embedding_size=32),  # 4 heads at ratio 2: two attend, two convolve; window 9
        dict(  # other widths, a window of 5, three heads of each kind, embeddings projected
            DENSE,
            hidden_size=48,
            embedding_size=24,
            num_attention_heads=6,
            intermediate_size=80,
            conv_kernel_size=5,
        ),
    ],
    ids=["default", "window5"],
)
def test_convbert_span_dynamic_convolution(tmp_path, config):
    source = _check_text(tmp_path, lambda t: t.ConvBertModel(t.ConvBertConfig(**config)))
    assert "span_dynamic_conv(" in source


XLNET = dict(vocab_size=100, d_model=32, n_layer=2, n_head=4, d_inner=64)


@pytest.mark.parametrize(
    "config",
    [
        XLNET,
        dict(XLNET, d_model=48, n_head=3, d_inner=80, ff_activation="relu", clamp_len=4),
    ],
    ids=["default", "clamped_relu"],
)
def test_xlnet_relative_attention_content_stream(tmp_path, config):
    model, source, ours = _generate(tmp_path, lambda t: t.XLNetModel(t.XLNetConfig(**config)))
    assert_trusted(source)
    ids, mask = text_inputs(model)
    types = torch.zeros_like(ids)
    types[:, 4:] = 1
    with torch.no_grad():
        want = model(input_ids=ids, attention_mask=mask).last_hidden_state
        typed = model(input_ids=ids, attention_mask=mask, token_type_ids=types).last_hidden_state
    assert_exact(ours, want, ids, mask)
    assert_exact(ours, typed, ids, mask, types)


def test_xlnet_causal_layout_is_flagged(tmp_path):
    """attn_type "uni" (a causal layout) is not built: the file says so rather than attend to all."""
    _, source, _ = _generate(
        tmp_path, lambda t: t.XLNetModel(t.XLNetConfig(**XLNET, attn_type="uni"))
    )
    assert "Forward trust: guessed" in source or "Forward trust: missing" in source


@pytest.mark.parametrize(
    "config",
    [
        dict(DENSE, visual_embedding_dim=16),
        dict(DENSE, hidden_size=48, num_attention_heads=6, visual_embedding_dim=20),
    ],
    ids=["default", "wider"],
)
def test_visual_bert_text_and_regions(tmp_path, config):
    model, source, ours = _generate(
        tmp_path, lambda t: t.VisualBertModel(t.VisualBertConfig(**config))
    )
    assert_trusted(source)
    ids, mask = text_inputs(model)
    torch.manual_seed(2)
    regions = torch.randn(2, 3, config["visual_embedding_dim"])
    region_mask = torch.tensor([[1, 1, 1], [1, 1, 0]])
    region_types = torch.tensor([[1, 1, 1], [1, 0, 1]])
    with torch.no_grad():
        text = model(input_ids=ids, attention_mask=mask).last_hidden_state
        both = model(
            input_ids=ids,
            attention_mask=mask,
            visual_embeds=regions,
            visual_attention_mask=region_mask,
            visual_token_type_ids=region_types,
        ).last_hidden_state
        plain = model(input_ids=ids, visual_embeds=regions).last_hidden_state
    assert_exact(ours, text, ids, mask)
    assert_exact(ours, both, ids, mask, None, regions, region_mask, region_types)
    assert_exact(ours, plain, ids, None, None, regions)
