"""A tiny YOLOS from the library for blocks/detection_tokens.py: detection tokens after the
patches, position tables between the layers (as its folders hold them on disk)."""

from __future__ import annotations

import json


def example():
    import torch
    import transformers as t

    from codegen.patterns._kit import Example
    from codegen.patterns.blocks._encoder_examples import _on_disk, _unit_scale

    config = t.YolosConfig(
        image_size=[16, 16],
        patch_size=8,
        hidden_size=16,
        num_hidden_layers=3,
        num_attention_heads=2,
        intermediate_size=32,
        num_detection_tokens=3,
    )
    torch.manual_seed(0)
    model = _on_disk(_unit_scale(t.YolosModel(config, add_pooling_layer=False).eval()))
    metadata = json.loads(config.to_json_string())
    metadata = {k: v for k, v in metadata.items() if not isinstance(v, dict)}
    return Example(model, (torch.randn(2, 3, 16, 16),), metadata)
