"""Reference models for the encoder-decoder patterns' examples: the `transformers` library's own
T5 / BART / Whisper (a test dependency), built from tiny configs, returning one tensor as the
examples' harness compares. Imported only when the examples are asked for."""

from __future__ import annotations

from codegen.patterns._kit import Example


def example(name: str) -> Example:
    import torch
    import transformers as t

    torch.manual_seed(0)
    ids = torch.randint(2, 50, (2, 7))
    mask = torch.ones(2, 7, dtype=torch.long)
    mask[1, 5:] = 0
    if name in ("t5", "t5_stack_embeds", "t5_gated"):
        config = t.T5Config(
            vocab_size=50,
            d_model=16,
            d_kv=4,
            d_ff=32,
            num_layers=2,
            num_heads=4,
            relative_attention_num_buckets=8,
            relative_attention_max_distance=16,
            feed_forward_proj="gated-gelu" if name == "t5_gated" else "relu",
        )

        class T5Encoder(t.T5EncoderModel):
            def forward(self, input_ids, attention_mask=None):  # type: ignore[override]
                out = super().forward(input_ids=input_ids, attention_mask=attention_mask)
                return out.last_hidden_state

        model = T5Encoder(config).eval()
        metadata = config.to_dict()
        return Example(model, (ids, mask), _json(metadata))
    raise KeyError(name)


def _json(config: dict) -> dict:
    """The config as config.json holds it: plain values only."""
    return {k: v for k, v in config.items() if isinstance(v, (int, float, str, bool, list))}
