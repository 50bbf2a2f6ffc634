"""Tiny reference modules for the patterns vision6 added (ConvNeXt V2's global response norm and
block), written the way the official code and timm write them. Reference code, not generated code:
the generated file must match it."""

from __future__ import annotations


def modules():
    import torch
    import torch.nn as nn

    class GRN(nn.Module):  # official ConvNeXt-V2: [1, 1, 1, C] gamma and beta
        def __init__(self, dim: int) -> None:
            super().__init__()
            self.gamma = nn.Parameter(torch.randn(1, 1, 1, dim))
            self.beta = nn.Parameter(torch.randn(1, 1, 1, dim))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            gx = torch.norm(x, p=2, dim=(1, 2), keepdim=True)
            nx = gx / (gx.mean(dim=-1, keepdim=True) + 1e-6)
            return self.gamma * (x * nx) + self.beta + x

    class GlobalResponseNorm(nn.Module):  # timm.layers.grn, channels-last: 1-D weight and bias
        def __init__(self, dim: int) -> None:
            super().__init__()
            self.weight = nn.Parameter(torch.randn(dim))
            self.bias = nn.Parameter(torch.randn(dim))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x_g = x.norm(p=2, dim=(1, 2), keepdim=True)
            x_n = x_g / (x_g.mean(dim=-1, keepdim=True) + 1e-6)
            return x + torch.addcmul(
                self.bias.view(1, 1, 1, -1), self.weight.view(1, 1, 1, -1), x * x_n
            )

    class ConvNeXtV2Block(nn.Module):  # official ConvNeXt-V2: no layer scale, a GRN in the MLP
        def __init__(self, dim: int) -> None:
            super().__init__()
            self.dwconv = nn.Conv2d(dim, dim, kernel_size=7, padding=3, groups=dim)
            self.norm = nn.LayerNorm(dim, eps=1e-6)
            self.pwconv1 = nn.Linear(dim, 4 * dim)
            self.act = nn.GELU()
            self.grn = GRN(4 * dim)
            self.pwconv2 = nn.Linear(4 * dim, dim)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            h = self.dwconv(x).permute(0, 2, 3, 1)
            h = self.pwconv2(self.grn(self.act(self.pwconv1(self.norm(h)))))
            return x + h.permute(0, 3, 1, 2)

    class GlobalResponseNormMlp(nn.Module):  # timm.layers.mlp, channels-last (Linear layers)
        def __init__(self, dim: int, hidden: int) -> None:
            super().__init__()
            self.fc1 = nn.Linear(dim, hidden)
            self.act = nn.GELU()
            self.grn = GlobalResponseNorm(hidden)
            self.fc2 = nn.Linear(hidden, dim)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.fc2(self.grn(self.act(self.fc1(x))))

    class TimmConvNeXtBlock(nn.Module):  # timm.models.convnext with use_grn, no layer scale
        def __init__(self, dim: int) -> None:
            super().__init__()
            self.conv_dw = nn.Conv2d(dim, dim, kernel_size=7, padding=3, groups=dim)
            self.norm = nn.LayerNorm(dim, eps=1e-6)
            self.mlp = GlobalResponseNormMlp(dim, 3 * dim)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            h = self.norm(self.conv_dw(x).permute(0, 2, 3, 1))
            return x + self.mlp(h).permute(0, 3, 1, 2)

    class MLP(nn.Module):
        def __init__(self, dim: int) -> None:
            super().__init__()
            self.fc1 = nn.Linear(dim, 2 * dim)
            self.fc2 = nn.Linear(2 * dim, dim)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.fc2(nn.functional.gelu(self.fc1(x), approximate="tanh"))

    class MultiheadAttentionPoolingHead(nn.Module):  # SigLIP's vision head
        def __init__(self, dim: int, heads: int) -> None:
            super().__init__()
            self.probe = nn.Parameter(torch.randn(1, 1, dim))
            self.attention = nn.MultiheadAttention(dim, heads, batch_first=True)
            self.layernorm = nn.LayerNorm(dim, eps=1e-6)
            self.mlp = MLP(dim)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            probe = self.probe.repeat(x.shape[0], 1, 1)
            h = self.attention(probe, x, x)[0]
            h = h + self.mlp(self.layernorm(h))
            return h[:, 0]

    class Holder(nn.Module):  # a generated class is a member of the top one
        def __init__(self, inner: nn.Module, name: str = "block") -> None:
            super().__init__()
            self.name = name
            self.add_module(name, inner)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return getattr(self, self.name)(x)

    def global_response_norm(dim: int, official: bool):
        torch.manual_seed(0)
        return Holder(GRN(dim) if official else GlobalResponseNorm(dim), "grn")

    def convnextv2_block(dim: int):
        torch.manual_seed(0)
        holder = Holder(ConvNeXtV2Block(dim))
        return holder

    def timm_convnextv2_block(dim: int):
        torch.manual_seed(0)
        return Holder(TimmConvNeXtBlock(dim))

    def attention_pooling_head(dim: int, heads: int):
        torch.manual_seed(0)
        return Holder(MultiheadAttentionPoolingHead(dim, heads), "head")

    return dict(
        global_response_norm=global_response_norm,
        convnextv2_block=convnextv2_block,
        timm_convnextv2_block=timm_convnextv2_block,
        attention_pooling_head=attention_pooling_head,
    )
