"""Reference models for the vision-tower patterns of session 7 (issue 16): the `transformers`
library's own classes (a test dependency), built from tiny configs, returning the last hidden
state as the examples' harness compares. Imported only when the examples are asked for."""

from __future__ import annotations

import json

from codegen.patterns._kit import Example


def mlcd() -> Example:
    """MLCD's vision tower: a 2-D (axial) rotary whose angles the model computes."""
    import torch
    import transformers as t

    from codegen.patterns.blocks._encoder_examples import _on_disk, _unit_scale

    torch.manual_seed(0)
    config = t.MLCDVisionConfig(
        image_size=16,
        patch_size=4,
        num_channels=3,
        hidden_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=32,
    )
    model = _on_disk(_unit_scale(t.MLCDVisionModel(config).eval()))
    metadata = json.loads(config.to_json_string())  # rope_parameters included: the rotary's kind
    return Example(model, (torch.randn(2, 3, 16, 16),), metadata)


def dinov3() -> Example:
    """DINOv3's ViT: class and register tokens unturned, the patches at centred coordinates."""
    import torch
    import transformers as t

    from codegen.patterns.blocks._encoder_examples import _on_disk, _unit_scale

    torch.manual_seed(0)
    config = t.DINOv3ViTConfig(
        image_size=16,
        patch_size=4,
        num_channels=3,
        hidden_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=32,
        num_register_tokens=1,
    )
    model = _on_disk(_unit_scale(t.DINOv3ViTModel(config).eval()))
    metadata = json.loads(config.to_json_string())
    return Example(model, (torch.randn(2, 3, 16, 16),), metadata)
