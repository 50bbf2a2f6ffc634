"""Reference models for a decoder LM given cross-attention (blocks/fused_kv_cross_attention.py,
blocks/decoder_layer.py's CrossAttendingBlock): the `transformers` library's GPT-2 with
add_cross_attention (q_attn beside a c_attn twice as wide, ln_cross_attn between ln_1 and ln_2),
reading 5 encoder states, its last hidden state the reference. Imported only when the examples
are asked for."""

from __future__ import annotations

from codegen.patterns._kit import Example


def _gpt2(**options) -> Example:
    import torch
    import transformers as t

    from codegen.patterns.families._seq2seq_examples import reading_states_example

    torch.manual_seed(0)
    config = t.GPT2Config(
        vocab_size=50, n_embd=16, n_layer=1, n_head=2, n_positions=16, add_cross_attention=True
    )
    for key, value in options.items():
        setattr(config, key, value)
    return reading_states_example(t.GPT2Model, config, 16)


def fused_kv_examples() -> list[Example]:
    return [_gpt2(), _gpt2(scale_attn_weights=False)]


def block_examples() -> list[Example]:
    return [_gpt2()]
