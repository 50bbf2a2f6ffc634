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
    # (cfg17) downsample_in_bottleneck: the stride on the bottleneck's first 1x1, so its 3x3
    # keeps the resolution (it halved it a second time); the basic block ignores the key
    "resnet_stride_in_1x1": _config("resnet", downsample_in_bottleneck=True),
    "resnet_stride_in_1x1_three_stages": _config(
        "resnet",
        "ResNetModel",
        depths=(1, 2, 1),
        downsample_in_bottleneck=True,
        embedding_size=16,
        downsample_in_first_stage=True,
    ),
    "resnet_basic_ignores_stride_in_1x1": _config(
        "resnet", layer_type="basic", downsample_in_bottleneck=True
    ),
    # (cfg17) squeeze_expansion_ratio other than 0.25: every squeeze-excitation still one fraction
    # of its block's input (not of the expanded width, MobileNetV3's), so EfficientNet's sigmoid
    # gate and SiLU, not MobileNetV3's hard-sigmoid
    "efficientnet_se_half": _config("efficientnet", squeeze_expansion_ratio=0.5),
    "efficientnet_se_half_kernels": _config(
        "efficientnet",
        "EfficientNetModel",
        kernel_sizes=(5, 3, 3, 5, 3, 3, 5),
        squeeze_expansion_ratio=0.5,
    ),
}


@pytest.mark.parametrize("name", sorted(EXACT))
def test_configuration_is_exact(tmp_path, name):
    result = measure(EXACT[name], tmp_path)
    assert result.verdict == "exact", (EXACT[name].label, result)


@pytest.mark.parametrize("in_bottleneck", [True, False])
def test_rt_detr_resnet_d_backbone(tmp_path, in_bottleneck):
    """(cfg17) RT-DETR's ResNet-D backbone, the same config keys as HF ResNet in another layout: a
    deep stem of three conv-norm units (`embedder.embedder.N`) whose first conv halves the image,
    then the usual 3/2/1 max-pool; where a block downsamples its shortcut is `Sequential(AvgPool,
    ConvLayer)` (`shortcut.1.convolution`), the pool striding in place of the 1x1 conv; and the
    stride on the first 1x1 or on the 3x3 as downsample_in_bottleneck says."""
    import torch

    from tests.library_compare import generate_for

    config = dict(
        num_channels=3,
        embedding_size=8,
        hidden_sizes=[16, 32],
        depths=[1, 1],
        layer_type="bottleneck",
        downsample_in_bottleneck=in_bottleneck,
        out_features=["stage2"],
    )
    reference, ours, source = generate_for(
        tmp_path, "RTDetrResNetBackbone", "RTDetrResNetConfig", config
    )
    assert "nn.AvgPool2d(2, ceil_mode=True" in source
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        want = reference(x).feature_maps[-1]
        torch.testing.assert_close(ours(x), want, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("se_ratio", [0.5, 0.125])
def test_lukemelas_efficientnet_other_se_ratio(tmp_path, capsys, se_ratio):
    """(cfg17) lukemelas' EfficientNet-PyTorch with another `se_ratio` (its BlockArgs field;
    `num_squeezed = max(1, int(input_filters * se_ratio))`), from the keys alone: each
    squeeze-excitation is one fraction of its block's input while the blocks expand 1x and 6x,
    so it is EfficientNet's (sigmoid gate, swish), not MobileNetV3's (hard-sigmoid)."""
    import math

    import torch

    from tests import vision_zoo_16_models as zoo
    from tests.redraw import unit_scale
    from tests.zoo_verdicts import generate_from_state_dict, measured

    torch.manual_seed(0)
    reference = zoo.LukemelasEfficientNet()
    size = math.ceil(32 / 2)
    blocks = []
    for c_in, c_out, k, s, e in [(16, 8, 3, 1, 1), (8, 12, 3, 2, 6), (12, 12, 3, 1, 6)]:
        blocks.append(zoo.MBConvBlock(c_in, c_out, k, s, e, se_ratio, size))
        size = math.ceil(size / s)
    reference._blocks = torch.nn.ModuleList(blocks)
    reference._conv_head = zoo.Conv2dStaticSamePadding(12, 64, 1, image_size=size)
    reference = unit_scale(reference.eval())
    model, source = generate_from_state_dict(reference, tmp_path, capsys, "--force")
    verdict = measured(reference, model, source, (torch.randn(2, 3, 32, 32),), script=False)
    assert verdict[0] == "exact", verdict
