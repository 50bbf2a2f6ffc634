"""A projection behind a class of its own, `q_proj.linear.weight` (patterns/blocks/linear_holder.py):
Moshi's `MoshiLinear` (compared with the library's forward), and the same reading in hand-written
layouts of other shapes: a nanoGPT-style causal LM whose fused qkv, output and feed-forward
projections are each wrapped (as a quantisation codebase writes them), and a pre-norm encoder
layer whose attention alone is."""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from tests.library_compare import (
    assert_exact,
    generate_for,
    generate_from_trainer_dict,
    text_inputs,
)

MOSHI = dict(
    vocab_size=100,
    hidden_size=32,
    num_hidden_layers=2,
    num_attention_heads=4,
    num_key_value_heads=2,
    head_dim=8,
    ffn_dim=64,
    max_position_embeddings=64,
    use_cache=False,
)


def trust(source: str, name: str) -> str:
    body = source.split(f"\nclass {name}(nn.Module):")[1]
    return body.split("Forward trust: ")[1].split(":")[0]


@pytest.fixture(scope="module")
def moshi(tmp_path_factory):
    return generate_for(tmp_path_factory.mktemp("moshi"), "MoshiForCausalLM", "MoshiConfig", MOSHI)


def test_moshi_wrapped_projections_are_read_as_linears(moshi):
    reference, ours, source = moshi
    assert "NotImplementedError" not in source
    holders = [c for c in ("QProj", "KProj", "OProj") if f"\nclass {c}(nn.Module)" in source]
    assert holders and all(trust(source, c) == "inferred" for c in holders)
    assert trust(source, "Attention") == "inferred"
    ids, _ = text_inputs(reference)
    with torch.no_grad():
        want = reference(input_ids=ids).logits
    assert_exact(ours, want, ids)


class QuantLinear(nn.Module):  # a quantisation codebase's Linear, its scales folded in
    def __init__(self, d_in: int, d_out: int, bias: bool = True) -> None:
        super().__init__()
        self.linear = nn.Linear(d_in, d_out, bias=bias)

    def forward(self, x):
        return self.linear(x)


class _CausalSelfAttention(nn.Module):
    def __init__(self, d: int, n_head: int) -> None:
        super().__init__()
        self.n_head = n_head
        self.c_attn = QuantLinear(d, 3 * d)
        self.c_proj = QuantLinear(d, d)

    def forward(self, x):
        b, t, c = x.shape
        q, k, v = self.c_attn(x).split(c, dim=2)
        q, k, v = (z.view(b, t, self.n_head, -1).transpose(1, 2) for z in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.c_proj(y.transpose(1, 2).reshape(b, t, c))


class _MLP(nn.Module):
    def __init__(self, d: int) -> None:
        super().__init__()
        self.c_fc = QuantLinear(d, 4 * d)
        self.c_proj = QuantLinear(4 * d, d)

    def forward(self, x):
        return self.c_proj(F.gelu(self.c_fc(x)))


class _Block(nn.Module):
    def __init__(self, d: int, n_head: int) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(d)
        self.attn = _CausalSelfAttention(d, n_head)
        self.ln_2 = nn.LayerNorm(d)
        self.mlp = _MLP(d)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class _QuantGPT(nn.Module):
    def __init__(self, vocab: int = 100, d: int = 16, n_head: int = 2, depth: int = 2) -> None:
        super().__init__()
        self.wte = nn.Embedding(vocab, d)
        self.wpe = nn.Embedding(32, d)
        self.h = nn.ModuleList(_Block(d, n_head) for _ in range(depth))
        self.ln_f = nn.LayerNorm(d)
        self.lm_head = nn.Linear(d, vocab, bias=False)

    def forward(self, idx):
        x = self.wte(idx) + self.wpe(torch.arange(idx.size(1)))
        for block in self.h:
            x = block(x)
        return self.lm_head(self.ln_f(x))


class _Config:  # a trainer's saved hyperparameters
    def to_dict(self) -> dict:
        # (`is_decoder`: what says the attention is causal; no key does)
        return {"n_head": 2, "vocab_size": 100, "activation_function": "gelu", "is_decoder": True}


def test_a_quantised_gpt_with_wrapped_projections_exact(tmp_path):
    torch.manual_seed(0)
    reference = _QuantGPT().eval()
    ours, source = generate_from_trainer_dict(tmp_path, reference, _Config())
    assert "NotImplementedError" not in source and "guessed" not in source
    ids = torch.randint(0, 100, (2, 9))
    with torch.no_grad():
        want = reference(ids)
    assert_exact(ours, want, ids)


class _EncoderAttention(nn.Module):  # separate projections, each behind its wrapper
    def __init__(self, d: int, n_head: int) -> None:
        super().__init__()
        self.n_head = n_head
        self.q_proj = QuantLinear(d, d)
        self.k_proj = QuantLinear(d, d)
        self.v_proj = QuantLinear(d, d)
        self.out_proj = QuantLinear(d, d)

    def forward(self, x, mask):
        b, t, c = x.shape
        q, k, v = (
            p(x).view(b, t, self.n_head, -1).transpose(1, 2)
            for p in (self.q_proj, self.k_proj, self.v_proj)
        )
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask[:, None, None, :] != 0)
        return self.out_proj(y.transpose(1, 2).reshape(b, t, c))


class _EncoderLayer(nn.Module):
    def __init__(self, d: int, n_head: int) -> None:
        super().__init__()
        self.self_attn_layer_norm = nn.LayerNorm(d)
        self.self_attn = _EncoderAttention(d, n_head)
        self.final_layer_norm = nn.LayerNorm(d)
        self.fc1 = nn.Linear(d, 2 * d)
        self.fc2 = nn.Linear(2 * d, d)

    def forward(self, x, mask):
        x = x + self.self_attn(self.self_attn_layer_norm(x), mask)
        return x + self.fc2(F.gelu(self.fc1(self.final_layer_norm(x))))


class _Encoder(nn.Module):
    def __init__(self, vocab: int = 100, d: int = 16, n_head: int = 2, depth: int = 2) -> None:
        super().__init__()
        self.embed_tokens = nn.Embedding(vocab, d)
        self.embed_positions = nn.Embedding(32, d)
        self.layers = nn.ModuleList(_EncoderLayer(d, n_head) for _ in range(depth))
        self.layer_norm = nn.LayerNorm(d)

    def forward(self, input_ids, attention_mask):
        positions = torch.arange(input_ids.size(1))
        x = self.embed_tokens(input_ids) + self.embed_positions(positions)
        for layer in self.layers:
            x = layer(x, attention_mask)
        return self.layer_norm(x)


class _EncoderConfig:  # a masked language model's: its mask token says it attends both ways
    def to_dict(self) -> dict:
        return {"n_head": 2, "vocab_size": 100, "activation_function": "gelu", "mask_token_id": 4}


def test_a_pre_norm_encoder_with_wrapped_attention_exact(tmp_path):
    torch.manual_seed(0)
    reference = _Encoder().eval()
    ours, source = generate_from_trainer_dict(tmp_path, reference, _EncoderConfig())
    assert "NotImplementedError" not in source and "guessed" not in source
    ids = torch.randint(0, 100, (2, 9))
    mask = torch.ones(2, 9, dtype=torch.long)
    mask[1, 6:] = 0
    with torch.no_grad():
        want = reference(ids, mask)
    assert_exact(ours, want, ids, mask)
