"""Reference models for the audio encoder pattern's examples: the `transformers` library's own
Whisper-style audio towers (a test dependency), built from tiny configs, returning the last
hidden state. Imported only when the examples are asked for."""

from __future__ import annotations

import json

from codegen.patterns._kit import Example

# 8 mel bins, 16 positions: the library takes exactly 2 * 16 frames
AUDIO = dict(num_mel_bins=8, max_source_positions=16, d_model=16, encoder_layers=2)
AUDIO.update(encoder_attention_heads=4, encoder_ffn_dim=32)


def example(name: str) -> Example:
    import torch
    import transformers as t

    torch.manual_seed(0)
    if name == "qwen2_audio":
        model, config = t.Qwen2AudioEncoder, t.Qwen2AudioEncoderConfig(**AUDIO)
    else:  # GLM-ASR: no position table, its attention rotates half of each head
        model, config = t.GlmAsrEncoder, t.GlmAsrEncoderConfig(
            hidden_size=16,
            intermediate_size=32,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            num_mel_bins=8,
        )

    class Tower(model):
        def forward(self, input_features):  # type: ignore[override]
            return super().forward(input_features).last_hidden_state

    reference = Tower(config).eval()
    with torch.no_grad():  # biases start at zero, norms at one: move them so a wrong use shows
        for n, p in reference.named_parameters():
            if n.endswith("bias") or ("norm" in n and p.dim() == 1):
                p.normal_(1 if n.endswith("weight") else 0, 0.2)
    features = torch.randn(2, 8, 32)
    return Example(reference, (features,), json.loads(config.to_json_string()))
