"""Tiny reference modules shared by the transformer patterns' examples (nanoGPT-style, pre-norm).

Without config.json the head count is unknown, so attention's forward is not inferred from these
alone (Example inputs None: they must load and script); tests/test_transformers_families.py checks
the forwards against the `transformers` library with its config."""

from __future__ import annotations


def modules():
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    class SelfAttention(nn.Module):
        def __init__(self, d: int = 16, heads: int = 2) -> None:
            super().__init__()
            self.heads = heads
            self.q_proj, self.k_proj = nn.Linear(d, d), nn.Linear(d, d)
            self.v_proj, self.o_proj = nn.Linear(d, d), nn.Linear(d, d)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            b, t = x.size(0), x.size(1)
            q, k, v = (
                p(x).view(b, t, self.heads, -1).transpose(1, 2)
                for p in (self.q_proj, self.k_proj, self.v_proj)
            )
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            return self.o_proj(y.transpose(1, 2).reshape(b, t, -1))

    class BiasedFusedAttention(nn.Module):  # timm's BEiT: q_bias, v_bias beside a bias-free qkv
        def __init__(self, d: int = 16, heads: int = 2) -> None:
            super().__init__()
            self.heads = heads
            self.qkv, self.proj = nn.Linear(d, 3 * d, bias=False), nn.Linear(d, d)
            self.q_bias, self.v_bias = nn.Parameter(torch.randn(d)), nn.Parameter(torch.randn(d))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            b, t = x.size(0), x.size(1)
            bias = torch.cat((self.q_bias, torch.zeros_like(self.v_bias), self.v_bias))
            qkv = F.linear(x, self.qkv.weight, bias).reshape(b, t, 3, self.heads, -1)
            q, k, v = qkv.permute(2, 0, 3, 1, 4)
            y = F.scaled_dot_product_attention(q, k, v)
            return self.proj(y.transpose(1, 2).reshape(b, t, -1))

    class FeedForward(nn.Module):
        def __init__(self, d: int = 16) -> None:
            super().__init__()
            self.fc1, self.fc2 = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.fc2(F.gelu(self.fc1(x)))

    class Block(nn.Module):
        def __init__(self, d: int = 16) -> None:
            super().__init__()
            self.ln_1, self.attn = nn.LayerNorm(d), SelfAttention(d)
            self.ln_2, self.mlp = nn.LayerNorm(d), FeedForward(d)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x = x + self.attn(self.ln_1(x))
            return x + self.mlp(self.ln_2(x))

    class PostNormBlock(nn.Module):  # OLMo-2: a norm on each branch's output
        def __init__(self, d: int = 16) -> None:
            super().__init__()
            self.attn, self.mlp = SelfAttention(d), FeedForward(d)
            self.post_attention_layernorm = nn.LayerNorm(d)
            self.post_feedforward_layernorm = nn.LayerNorm(d)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x = x + self.post_attention_layernorm(self.attn(x))
            return x + self.post_feedforward_layernorm(self.mlp(x))

    class Body(nn.Module):
        def __init__(self, vocab: int = 50, d: int = 16) -> None:
            super().__init__()
            self.wte, self.wpe = nn.Embedding(vocab, d), nn.Embedding(32, d)
            self.h = nn.ModuleList(Block(d) for _ in range(2))
            self.ln_f = nn.LayerNorm(d)

        def forward(self, ids: torch.Tensor) -> torch.Tensor:
            x = self.wte(ids) + self.wpe(torch.arange(ids.size(1)))
            for block in self.h:
                x = block(x)
            return self.ln_f(x)

    class LM(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.transformer, self.lm_head = Body(), nn.Linear(16, 50, bias=False)

        def forward(self, ids: torch.Tensor) -> torch.Tensor:
            return self.lm_head(self.transformer(ids))

    class Holder(nn.Module):  # a generated class is a member of the top one
        def __init__(self, inner: nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.inner(x)

    refs = dict(attention=SelfAttention, mlp=FeedForward, block=Block, lm=LM, holder=Holder)
    refs["biased_fused_attention"] = BiasedFusedAttention
    refs["post_norm_block"] = PostNormBlock
    return {**refs, **encoders()}


def encoders():
    """Encoders laid out as Hugging Face's BERT, DistilBERT and ViT are (same names, same math)."""
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    d, heads, inner = 16, 2, 32

    def attend(q, k, v, x, mask):
        b, t = x.size(0), x.size(1)
        q, k, v = (p.view(b, t, heads, -1).transpose(1, 2) for p in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        return y.transpose(1, 2).reshape(b, t, -1)

    class QKV(nn.Module):  # BertSelfAttention, ViTSelfAttention
        def __init__(self) -> None:
            super().__init__()
            self.query, self.key, self.value = nn.Linear(d, d), nn.Linear(d, d), nn.Linear(d, d)

        def forward(self, x, mask=None):
            return attend(self.query(x), self.key(x), self.value(x), x, mask)

    class Dense(nn.Module):  # BertIntermediate (gelu), ViTSelfOutput / ViTOutput (none)
        def __init__(self, n_in: int, n_out: int, act=None) -> None:
            super().__init__()
            self.dense, self.act = nn.Linear(n_in, n_out), act

        def forward(self, x):
            x = self.dense(x)
            return x if self.act is None else self.act(x)

    class AddNorm(nn.Module):  # BertSelfOutput, BertOutput
        def __init__(self, n_in: int) -> None:
            super().__init__()
            self.dense, self.LayerNorm = nn.Linear(n_in, d), nn.LayerNorm(d)

        def forward(self, h, x):
            return self.LayerNorm(self.dense(h) + x)

    class BertAttention(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.add_module("self", QKV())
            self.output = AddNorm(d)

        def forward(self, x, mask=None):
            return self.output(getattr(self, "self")(x, mask), x)

    class BertLayer(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.attention = BertAttention()
            self.intermediate, self.output = Dense(d, inner, F.gelu), AddNorm(inner)

        def forward(self, x, mask=None):
            a = self.attention(x, mask)
            return self.output(self.intermediate(a), a)

    class Embeddings(nn.Module):
        def __init__(self, segments: bool = True, eps: float = 1e-5) -> None:
            super().__init__()
            self.word_embeddings, self.position_embeddings = nn.Embedding(50, d), nn.Embedding(9, d)
            self.token_type_embeddings = nn.Embedding(2, d) if segments else None
            self.LayerNorm = nn.LayerNorm(d, eps=eps)

        def forward(self, ids):
            x = self.word_embeddings(ids) + self.position_embeddings(torch.arange(ids.size(1)))
            if self.token_type_embeddings is not None:
                x = x + self.token_type_embeddings(torch.zeros_like(ids))
            return self.LayerNorm(x)

    class Layers(nn.Module):
        def __init__(self, layer) -> None:
            super().__init__()
            self.layer = nn.ModuleList(layer() for _ in range(2))

        def forward(self, x, mask=None):
            for layer in self.layer:
                x = layer(x, mask)
            return x

    class Bert(nn.Module):
        def __init__(self, pooled: bool = False) -> None:
            super().__init__()
            self.embeddings, self.encoder = Embeddings(), Layers(BertLayer)
            self.pooler = Dense(d, d, torch.tanh) if pooled else None

        def forward(self, ids, attention_mask):
            return self.encoder(self.embeddings(ids), attention_mask[:, None, None, :] != 0)

    class QFormerLayer(BertLayer):  # BLIP-2's: the queries' twins and cross-attention, unused
        def __init__(self, cross: bool) -> None:  # by text tokens
            super().__init__()
            self.crossattention = BertAttention() if cross else None
            self.intermediate_query, self.output_query = Dense(d, inner, F.gelu), AddNorm(inner)

    class QFormer(Bert):  # cross-attention every other layer: two layer classes in one stack
        def __init__(self) -> None:
            super().__init__()
            self.embeddings = Embeddings(segments=False)
            self.encoder.layer = nn.ModuleList(QFormerLayer(i % 2 == 0) for i in range(2))

    class DistilLayer(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.attention = SelfAttentionLin()
            self.sa_layer_norm = nn.LayerNorm(d, eps=1e-12)
            self.ffn = nn.Module()
            self.ffn.lin1, self.ffn.lin2 = nn.Linear(d, inner), nn.Linear(inner, d)
            self.output_layer_norm = nn.LayerNorm(d, eps=1e-12)

        def forward(self, x, mask=None):
            x = self.sa_layer_norm(x + self.attention(x, mask))
            return self.output_layer_norm(x + self.ffn.lin2(F.gelu(self.ffn.lin1(x))))

    class SelfAttentionLin(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.q_lin, self.k_lin = nn.Linear(d, d), nn.Linear(d, d)
            self.v_lin, self.out_lin = nn.Linear(d, d), nn.Linear(d, d)

        def forward(self, x, mask=None):
            return self.out_lin(attend(self.q_lin(x), self.k_lin(x), self.v_lin(x), x, mask))

    class Distil(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embeddings = Embeddings(segments=False, eps=1e-12)
            self.transformer = Layers(DistilLayer)

        def forward(self, ids, attention_mask):
            return self.transformer(self.embeddings(ids), attention_mask[:, None, None, :] != 0)

    class ViTAttention(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.attention, self.output = QKV(), Dense(d, d)

        def forward(self, x, mask=None):
            return self.output(self.attention(x, mask))

    class ViTLayer(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.attention = ViTAttention()
            self.intermediate, self.output = Dense(d, inner, F.gelu), Dense(inner, d)
            self.layernorm_before, self.layernorm_after = nn.LayerNorm(d), nn.LayerNorm(d)

        def forward(self, x, mask=None):
            x = x + self.attention(self.layernorm_before(x), mask)
            return x + self.output(self.intermediate(self.layernorm_after(x)))

    class ViTEmbeddings(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.cls_token = nn.Parameter(torch.randn(1, 1, d))
            self.position_embeddings = nn.Parameter(torch.randn(1, 5, d))
            self.patch_embeddings = nn.Module()
            self.patch_embeddings.projection = nn.Conv2d(3, d, 8, stride=8)

        def forward(self, pixels):
            x = self.patch_embeddings.projection(pixels).flatten(2).transpose(1, 2)
            x = torch.cat((self.cls_token.expand(x.size(0), -1, -1), x), dim=1)
            return x + self.position_embeddings

    class ViT(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embeddings, self.encoder = ViTEmbeddings(), Layers(ViTLayer)
            self.layernorm = nn.LayerNorm(d)

        def forward(self, pixels):
            return self.layernorm(self.encoder(self.embeddings(pixels)))

    class BiasedQKV(nn.Module):  # VideoMAE's checkpoints: bias-free projections, q_bias, v_bias
        def __init__(self) -> None:
            super().__init__()
            self.query, self.key, self.value = (nn.Linear(d, d, bias=False) for _ in range(3))
            self.q_bias, self.v_bias = nn.Parameter(torch.randn(d)), nn.Parameter(torch.randn(d))

        def forward(self, x, mask=None):
            q, v = self.query(x) + self.q_bias, self.value(x) + self.v_bias
            return attend(q, self.key(x), v, x, mask)

    class VideoEmbeddings(ViTEmbeddings):  # ViViT's: tubelets of 2 frames, frames-first input
        def __init__(self) -> None:
            super().__init__()
            self.position_embeddings = nn.Parameter(torch.randn(1, 9, d))
            self.patch_embeddings.projection = nn.Conv3d(3, d, (2, 8, 8), stride=(2, 8, 8))

        def forward(self, frames):  # [batch, frames, channels, height, width]
            return super().forward(frames.permute(0, 2, 1, 3, 4))

    class VideoViT(ViT):
        def __init__(self) -> None:
            super().__init__()
            self.embeddings = VideoEmbeddings()
            for layer in self.encoder.layer:
                layer.attention.attention = BiasedQKV()

    return dict(
        bert=Bert,
        bert_pooled=lambda: Bert(pooled=True),
        distil=Distil,
        vit=ViT,
        video_vit=VideoViT,
        qformer=QFormer,
    )
