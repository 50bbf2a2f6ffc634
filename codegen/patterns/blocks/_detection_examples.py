"""A tiny YOLOS-like model for blocks/detection_tokens.py: Hugging Face's ViT layer layout
(attention.attention.query..., intermediate, output, layernorm_before/after), detection tokens
after the patches and a position table between layers."""

from __future__ import annotations


def modules() -> dict:
    import torch
    import torch.nn as nn

    class PatchEmbeddings(nn.Module):
        def __init__(self, d: int) -> None:
            super().__init__()
            self.projection = nn.Conv2d(3, d, 8, stride=8)

        def forward(self, x):
            return self.projection(x).flatten(2).transpose(1, 2)

    class Embeddings(nn.Module):
        def __init__(self, d: int, detection: int, patches: int) -> None:
            super().__init__()
            self.cls_token = nn.Parameter(torch.randn(1, 1, d))
            self.detection_tokens = nn.Parameter(torch.randn(1, detection, d))
            self.position_embeddings = nn.Parameter(torch.randn(1, 1 + patches + detection, d))
            self.patch_embeddings = PatchEmbeddings(d)

        def forward(self, x):
            x = self.patch_embeddings(x)
            b = x.size(0)
            x = torch.cat(
                (self.cls_token.expand(b, -1, -1), x, self.detection_tokens.expand(b, -1, -1)), 1
            )
            return x + self.position_embeddings

    class Layer(nn.Module):
        def __init__(self, d: int) -> None:
            super().__init__()
            self.layernorm_before = nn.LayerNorm(d, eps=1e-12)
            self.layernorm_after = nn.LayerNorm(d, eps=1e-12)
            self.attention = nn.MultiheadAttention(d, 2, batch_first=True)
            self.fc1 = nn.Linear(d, 2 * d)
            self.fc2 = nn.Linear(2 * d, d)

        def forward(self, x):
            h = self.layernorm_before(x)
            x = x + self.attention(h, h, h, need_weights=False)[0]
            return x + self.fc2(nn.functional.gelu(self.fc1(self.layernorm_after(x))))

    class Encoder(nn.Module):
        def __init__(self, d: int, layers: int, tokens: int) -> None:
            super().__init__()
            self.layer = nn.ModuleList(Layer(d) for _ in range(layers))
            self.mid_position_embeddings = nn.Parameter(torch.randn(layers - 1, 1, tokens, d))

        def forward(self, x):
            for i, layer in enumerate(self.layer):
                x = layer(x)
                if i < len(self.layer) - 1:
                    x = x + self.mid_position_embeddings[i]
            return x

    class Model(nn.Module):
        def __init__(self, d: int, layers: int, detection: int) -> None:
            super().__init__()
            self.embeddings = Embeddings(d, detection, 4)  # 16 x 16 pixels in patches of 8
            self.encoder = Encoder(d, layers, 1 + 4 + detection)
            self.layernorm = nn.LayerNorm(d, eps=1e-12)

        def forward(self, x):
            return self.layernorm(self.encoder(self.embeddings(x)))

    return {"Model": Model}
