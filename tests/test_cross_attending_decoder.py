"""A decoder LM given cross-attention (issue 15, session 16): its blocks read an encoder's states
between their self-attention and their feed-forward, keys and values from one projection twice as
wide as the queries'. Four layouts of the same block, each compared with its own forward:

- the library's EncoderDecoderModel, a BERT encoder and a GPT-2 decoder (add_cross_attention:
  q_attn, c_attn twice as wide, c_proj as Conv1D; ln_cross_attn between ln_1 and ln_2);
- its VisionEncoderDecoderModel, a ViT encoder wider than that GPT-2 (enc_to_dec_proj between),
  and its SpeechEncoderDecoderModel (wav2vec2's) alike;
- GPT-2 with add_cross_attention alone, called with states and their padding mask, and without;
- a hand-written caption decoder: nanoGPT's blocks with a lucidrains-style cross-attention
  (to_q, to_kv, to_out as nn.Linear, `cross_attn` after `ln_cross`), saved as a trainer's dict;
  pre-norm, and post-norm as the original Transformer's decoder layer (its config says which).

And two more composites whose decoder is a seq2seq-style stack wrapped as a causal LM: the TrOCR
layout (microsoft/trocr-*: a ViT, then TrOCRForCausalLM, `model.decoder`, its output_projection
tied) and BartForCausalLM's: the composite's decoder member is the causal LM the library builds,
so its logits come from the token table it ties.
"""

from __future__ import annotations

import logging
import re

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from tests.generated_module import generate_from_folder
from tests.library_compare import assert_exact, assert_trusted, generate_from_trainer_dict
from tests.library_compare import text_inputs
from tests.redraw import unit_scale
from tests.tiny_configs import AUDIO, BART, DENSE, IMAGE

GPT2 = dict(vocab_size=100, n_embd=32, n_layer=2, n_head=4, n_positions=64)


def _generated(tmp_path, reference):
    logging.disable(logging.WARNING)
    try:
        return generate_from_folder(tmp_path, reference, "--quiet")
    finally:
        logging.disable(logging.NOTSET)


LAYOUTS = [
    ("bert", "gpt2"),
    ("vit", "gpt2"),
    ("wav2vec2", "gpt2"),
    ("vit", "trocr"),
    ("vit", "bart"),
]


@pytest.mark.parametrize("encoder, decoder", LAYOUTS)
def test_a_decoder_lm_under_a_library_composite_exact(tmp_path, encoder, decoder):
    import transformers as t

    kind = decoder
    if decoder == "bart":  # BartForCausalLM: the library's own decoder stack, wrapped
        decoder = t.BartConfig(**BART, is_decoder=True, add_cross_attention=True)
    elif decoder == "trocr":
        decoder = t.TrOCRConfig(
            vocab_size=100,
            d_model=32,
            decoder_layers=2,
            decoder_attention_heads=4,
            decoder_ffn_dim=64,
            max_position_embeddings=64,
            cross_attention_hidden_size=48,
        )
    else:
        decoder = t.GPT2Config(**GPT2, is_decoder=True, add_cross_attention=True)
    if encoder == "bert":
        config = t.EncoderDecoderConfig.from_encoder_decoder_configs(t.BertConfig(**DENSE), decoder)
        model = t.EncoderDecoderModel(config)
    elif encoder == "wav2vec2":
        speech = t.Wav2Vec2Config(**{**AUDIO, "hidden_size": 48})
        config = t.SpeechEncoderDecoderConfig.from_encoder_decoder_configs(speech, decoder)
        model = t.SpeechEncoderDecoderModel(config)
    else:
        vit = t.ViTConfig(**{**IMAGE, "hidden_size": 48}, intermediate_size=64)
        config = t.VisionEncoderDecoderConfig.from_encoder_decoder_configs(vit, decoder)
        model = t.VisionEncoderDecoderModel(config)
    torch.manual_seed(0)
    reference = unit_scale(model.eval())
    source, ours = _generated(tmp_path, reference)
    assert_trusted(source)
    # the composite's decoder is a causal LM: logits from the token table its config ties
    assert re.search(r"F\.linear\(x, self\.[\w.]+\.weight\)  # the head tied", source)
    torch.manual_seed(2)
    target = torch.randint(3, 100, (2, 6))
    if encoder == "bert":
        ids, mask = text_inputs(reference.encoder)
        args = (ids, target, mask)
        given = dict(input_ids=ids, attention_mask=mask, decoder_input_ids=target)
    elif encoder == "wav2vec2":
        assert "self.enc_to_dec_proj(memory)" in source
        args = (torch.randn(2, 400), target)
        given = dict(input_values=args[0], decoder_input_ids=target)
    else:
        # the ViT is wider than the decoder: projected, unless TrOCR's cross-attention reads it
        assert ("self.enc_to_dec_proj(memory)" in source) == (kind != "trocr")
        args = (torch.randn(2, 3, 32, 32), target)
        given = dict(pixel_values=args[0], decoder_input_ids=target)
    with torch.no_grad():
        want = reference(**given).logits
    assert_exact(ours, want, *args)
    later = target.clone()  # causal: a later target token changes no earlier logits
    later[:, -1] = (later[:, -1] + 1) % 100
    with torch.no_grad():
        torch.testing.assert_close(ours(*args[:1], later, *args[2:])[:, :-1], want[:, :-1])


@pytest.mark.parametrize("decoder", ["RobertaConfig", "ElectraConfig"])
def test_a_bert_like_decoder_of_another_type_keeps_its_own_classes(tmp_path, decoder):
    """BERT beside a RoBERTa (or ELECTRA) decoder: the same keys, but each member reads its own
    type's conventions (RoBERTa numbers its positions from padding_idx + 1, BERT from 0), so the
    members' classes stay apart. Before, one embeddings class served both and the RoBERTa
    decoder's logits silently differed (by 2.8) while the file claimed 'inferred'."""
    import transformers as t

    member = getattr(t, decoder)(**DENSE, is_decoder=True, add_cross_attention=True)
    config = t.EncoderDecoderConfig.from_encoder_decoder_configs(t.BertConfig(**DENSE), member)
    torch.manual_seed(0)
    reference = unit_scale(t.EncoderDecoderModel(config).eval())
    source, ours = _generated(tmp_path, reference)
    assert_trusted(source)
    ids, mask = text_inputs(reference.encoder)
    torch.manual_seed(2)
    target = torch.randint(3, 100, (2, 6))
    with torch.no_grad():
        want = reference(input_ids=ids, attention_mask=mask, decoder_input_ids=target).logits
    assert_exact(ours, want, ids, target, mask)


def test_gpt2_given_cross_attention_alone_exact(tmp_path):
    """The decoder LM on its own: the states are optional (the blocks skip their cross-attention
    without them, as the library's do), and a padding mask over them is honoured."""
    import transformers as t

    torch.manual_seed(0)
    config = t.GPT2Config(**GPT2, add_cross_attention=True)
    reference = unit_scale(t.GPT2LMHeadModel(config).eval())
    source, ours = _generated(tmp_path, reference)
    assert_trusted(source)
    ids, mask = text_inputs(reference)
    torch.manual_seed(3)
    states = torch.randn(2, 5, 32)
    states_mask = torch.ones(2, 5, dtype=torch.long)
    states_mask[0, 3:] = 0
    real = mask.bool()
    with torch.no_grad():
        want = reference(
            input_ids=ids,
            attention_mask=mask,
            encoder_hidden_states=states,
            encoder_attention_mask=states_mask,
        ).logits
        alone = reference(input_ids=ids, attention_mask=mask).logits
        torch.testing.assert_close(ours(ids, mask, states, states_mask)[real], want[real])
        torch.testing.assert_close(ours(ids, mask)[real], alone[real])
    assert_exact(ours, ours(ids, mask, states, states_mask), ids, mask, states, states_mask)


class _SelfAttention(nn.Module):  # nanoGPT's CausalSelfAttention
    def __init__(self, d: int, heads: int) -> None:
        super().__init__()
        self.c_attn = nn.Linear(d, 3 * d)
        self.c_proj = nn.Linear(d, d)
        self.n_head = heads

    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.c_proj(y.transpose(1, 2).contiguous().view(B, T, C))


class _CrossAttention(nn.Module):  # lucidrains' layout: to_q, to_kv, to_out
    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.to_q = nn.Linear(dim, dim, bias=False)
        self.to_kv = nn.Linear(dim, dim * 2, bias=False)
        self.to_out = nn.Linear(dim, dim)

    def forward(self, x, context):
        b, n, _ = x.shape
        q = self.to_q(x).view(b, n, self.heads, -1).transpose(1, 2)
        k, v = self.to_kv(context).chunk(2, dim=-1)
        k, v = (t.view(b, context.shape[1], self.heads, -1).transpose(1, 2) for t in (k, v))
        out = F.scaled_dot_product_attention(q, k, v)
        return self.to_out(out.transpose(1, 2).reshape(b, n, -1))


class _Block(nn.Module):
    def __init__(self, d: int, heads: int, post: bool) -> None:
        super().__init__()
        self.post = post
        self.ln_1 = nn.LayerNorm(d)
        self.attn = _SelfAttention(d, heads)
        self.ln_cross = nn.LayerNorm(d)
        self.cross_attn = _CrossAttention(d, heads)
        self.ln_2 = nn.LayerNorm(d)
        self.mlp = nn.ModuleDict(dict(c_fc=nn.Linear(d, 4 * d), c_proj=nn.Linear(4 * d, d)))

    def feed_forward(self, x):
        return self.mlp.c_proj(F.gelu(self.mlp.c_fc(x)))

    def forward(self, x, context):
        if self.post:  # the original Transformer's decoder layer: norm after each residual add
            x = self.ln_1(x + self.attn(x))
            x = self.ln_cross(x + self.cross_attn(x, context))
            return self.ln_2(x + self.feed_forward(x))
        x = x + self.attn(self.ln_1(x))
        x = x + self.cross_attn(self.ln_cross(x), context)
        return x + self.feed_forward(self.ln_2(x))


class _CaptionDecoder(nn.Module):
    def __init__(self, post: bool, vocab: int = 100, d: int = 32, heads: int = 4) -> None:
        super().__init__()
        self.wte = nn.Embedding(vocab, d)
        self.wpe = nn.Embedding(64, d)
        self.h = nn.ModuleList(_Block(d, heads, post) for _ in range(2))
        self.ln_f = nn.Identity() if post else nn.LayerNorm(d)
        self.lm_head = nn.Linear(d, vocab, bias=False)

    def forward(self, idx, context):
        x = self.wte(idx) + self.wpe(torch.arange(idx.size(1)))
        for block in self.h:
            x = block(x, context)
        return self.lm_head(self.ln_f(x))


class _Config:  # a trainer's saved hyperparameters
    def __init__(self, post: bool) -> None:
        self.post = post

    def to_dict(self) -> dict:
        # (`is_decoder`: what says the self-attention is causal; no key does)
        said = {"n_head": 4, "vocab_size": 100, "activation_function": "gelu", "is_decoder": True}
        return {**said, "normalize_before": not self.post}


@pytest.mark.parametrize("post", [False, True])
def test_a_hand_written_caption_decoder_exact(tmp_path, post):
    torch.manual_seed(0)
    reference = _CaptionDecoder(post).eval()
    ours, source = generate_from_trainer_dict(tmp_path, reference, _Config(post))
    assert "NotImplementedError" not in source and "guessed" not in source
    ids = torch.randint(0, 100, (2, 9))
    context = torch.randn(2, 5, 32)
    with torch.no_grad():
        want = reference(ids, context)
    assert_exact(ours, want, ids, None, context)
