"""Reference models for the encoder patterns added for issue 15 (MPNet, RoFormer...): the
`transformers` library's own classes (a test dependency), built from tiny configs, returning the
last hidden state as the examples' harness compares. Imported only when the examples are asked for.
"""

from __future__ import annotations

import json

from codegen.patterns._kit import Example

TINY = dict(
    vocab_size=50,
    hidden_size=16,
    num_hidden_layers=2,
    num_attention_heads=4,
    intermediate_size=32,
    max_position_embeddings=32,
)


def example(name: str) -> Example:
    import torch
    import transformers as t

    torch.manual_seed(0)
    ids = torch.randint(2, 50, (2, 7))
    mask = torch.ones(2, 7, dtype=torch.long)
    mask[1, 5:] = 0
    if name == "mpnet":
        config, base = t.MPNetConfig(**TINY), t.MPNetModel
    elif name == "roformer":
        config, base = t.RoFormerConfig(**TINY, embedding_size=16), t.RoFormerModel
    elif name.startswith("beit"):
        return _vision(name)
    elif name in ("clip", "blip"):
        return _pair(name)
    elif name == "deberta_v2":  # as DeBERTa-v3 is configured: shared keys, log buckets
        v3 = dict(relative_attention=True, pos_att_type=["p2c", "c2p"], share_att_key=True)
        v3 |= dict(position_buckets=8, norm_rel_ebd="layer_norm", position_biased_input=False)
        config, base = t.DebertaV2Config(**TINY, **v3), t.DebertaV2Model
    elif name == "deberta_v2_conv":  # as deberta-v2-xlarge: a convolution after the first layer
        xlarge = dict(relative_attention=True, pos_att_type=["p2c", "c2p"], conv_kernel_size=3)
        config, base = t.DebertaV2Config(**TINY, **xlarge, conv_act="gelu"), t.DebertaV2Model
    elif name == "funnel":  # not computed yet: the file must say so
        config = t.FunnelConfig(
            vocab_size=50, block_sizes=[1, 1], d_model=16, n_head=4, d_head=4, d_inner=32
        )
        model = t.FunnelBaseModel(config)
        return Example(model.eval(), None, _plain(json.loads(config.to_json_string())))
    elif name == "megatron_bert":
        config, base = t.MegatronBertConfig(**TINY), t.MegatronBertModel
    elif name == "roberta_prelayernorm":  # enc7a: the feed-forward's norm inside intermediate
        config = t.RobertaPreLayerNormConfig(**TINY)
        base = t.RobertaPreLayerNormModel
    else:
        raise KeyError(name)

    class Reference(base):  # type: ignore[misc, valid-type]
        def forward(self, input_ids, attention_mask=None):  # type: ignore[override]
            out = super().forward(input_ids=input_ids, attention_mask=attention_mask)
            return out.last_hidden_state

    model = Reference(config).eval()
    with torch.no_grad():  # unit-scale weights: a wrong scale or order shows above the tolerance
        for n, p in model.named_parameters():
            if p.dim() >= 2:
                p.normal_(0, p[0].numel() ** -0.5)
            elif n.endswith("bias"):
                p.normal_(0, 0.1)
            else:
                p.normal_(1, 0.2)
    metadata = json.loads(config.to_json_string())
    return Example(
        model, (ids, mask), {k: v for k, v in metadata.items() if not isinstance(v, dict)}
    )


def _vision(name: str) -> Example:
    import torch
    import transformers as t

    config = t.BeitConfig(
        image_size=16,
        patch_size=8,
        hidden_size=16,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=32,
        use_relative_position_bias=name == "beit_relative",
    )
    pooled = name == "beit_pooled"
    # The library's own class (a subclass would be saved under its in-memory names).
    model = _on_disk(_unit_scale(t.BeitModel(config).eval()), 1 if pooled else 0)
    metadata = json.loads(config.to_json_string())
    pixels = torch.randn(2, 3, 16, 16)
    return Example(model, (pixels,), {k: v for k, v in metadata.items() if not isinstance(v, dict)})


def _on_disk(model, output: int = 0):
    """The library's model with its parameters registered under the names `save_pretrained`
    writes (transformers 5 renames some families' modules in memory and back on saving, e.g.
    BEiT's `layers.N.attention.q_proj` is `encoder.layer.N.attention.attention.query` on disk):
    the layout users' folders hold. Its forward is the library's."""
    import tempfile

    import torch
    import torch.nn as nn
    from safetensors.torch import load_file

    class OnDisk(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            object.__setattr__(self, "library", model)  # not a submodule: not in state_dict

        def forward(self, *args):
            return self.library(*args, return_dict=False)[output]

    holder = OnDisk()
    with tempfile.TemporaryDirectory() as folder:
        model.save_pretrained(folder)
        saved = load_file(f"{folder}/model.safetensors")
    params = list(model.parameters())
    for name, tensor in saved.items():
        same = [p for p in params if p.shape == tensor.shape and torch.equal(p.detach(), tensor)]
        owner = holder
        *path, leaf = name.split(".")
        for part in path:
            if part not in owner._modules:
                owner.add_module(part, nn.Module())
            owner = owner._modules[part]
        owner.register_parameter(leaf, same[0])
    return holder


def _unit_scale(model):
    import torch

    with torch.no_grad():  # unit-scale weights: a wrong scale or order shows above the tolerance
        for n, p in model.named_parameters():
            if p.dim() >= 2:
                p.normal_(0, p[0].numel() ** -0.5)
            elif n.endswith("bias"):
                p.normal_(0, 0.1)
            else:
                p.normal_(1, 0.2)
    return model


def _pair(name: str) -> Example:
    """A contrastive pair: CLIP's (the text pooled at its end-of-text token) or BLIP's (a BERT
    text tower, pooled through its pooler)."""
    import torch
    import transformers as t

    small = dict(hidden_size=16, num_hidden_layers=2, num_attention_heads=4, intermediate_size=32)
    config_class, model_class = {
        "clip": (t.CLIPConfig, t.CLIPModel),
        "blip": (t.BlipConfig, t.BlipModel),
    }[name]
    # BLIP's text tower keeps BERT's eps (1e-12), its vision tower 1e-5; a .pt's nested config
    # gives every tower the text's (a folder's config.json does not: the sweep's BLIP is exact),
    # so the example states one eps for both, being about the pooling
    eps = dict(layer_norm_eps=1e-5) if name == "blip" else {}
    config = config_class(
        text_config=dict(
            **small, **eps, vocab_size=50, max_position_embeddings=16, eos_token_id=49
        ),
        vision_config=dict(**small, image_size=16, patch_size=8),
        projection_dim=8,
    )

    class Reference(model_class):
        def forward(self, input_ids, pixel_values, attention_mask):  # type: ignore[override]
            out = super().forward(
                input_ids=input_ids, pixel_values=pixel_values, attention_mask=attention_mask
            )
            return out.logits_per_image

    model = _unit_scale(Reference(config).eval())

    torch.manual_seed(0)
    ids = torch.randint(2, 49, (3, 7))
    ids[:, 5] = 49  # each text ends with its end-of-text token, then padding
    mask = torch.ones(3, 7, dtype=torch.long)
    mask[:, 6:] = 0
    metadata = json.loads(config.to_json_string())
    return Example(model, (ids, torch.randn(2, 3, 16, 16), mask), _plain(metadata))


def _plain(config: dict) -> dict:
    """config.json's values as they are saved, sub-configs (text_config, vision_config) kept."""
    return {k: _plain(v) if isinstance(v, dict) else v for k, v in config.items()}
