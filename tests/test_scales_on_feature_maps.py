"""A learned vector read as a layer scale (`x * gamma`) scales the input's last dim: a
transformer's channels, but the width of a feature map [N, C, H, W]. Where the classes holding it
hold 2-d convs and no Linear, no key says which dim the vector scales: the scale class says
guessed (a square map as wide as its channels runs, silently otherwise). Beside a Linear or an
attention (DINOv2's and timm's ViT blocks) it stays inferred.

Layouts: timm's MobileNetV4 universal inverted residual (`layer_scale` LayerScale2d after the
projection); EfficientFormer's Meta4D (pooling mixer, 1x1-conv MLP, `ls1`/`ls2` on each branch);
and, structurally apart, a plain conv stage Sequential(conv, norm, LayerScale2d) in a U-Net-like
encoder; a ViT block with ls1/ls2 beside its attention as the control.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from tests.zoo_verdicts import class_trust, generated_layout, measured


class LayerScale2d(nn.Module):  # timm's layers/layer_scale.py
    def __init__(self, c: int) -> None:
        super().__init__()
        self.gamma = nn.Parameter(torch.full((c,), 0.1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gamma.view(1, -1, 1, 1)


class LayerScale(nn.Module):  # timm's vision_transformer.LayerScale
    def __init__(self, c: int) -> None:
        super().__init__()
        self.gamma = nn.Parameter(torch.full((c,), 0.1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gamma


def conv_bn(i: int, o: int, k: int = 1, groups: int = 1, act: bool = True) -> nn.Sequential:
    layers = [nn.Conv2d(i, o, k, 1, k // 2, groups=groups, bias=False), nn.BatchNorm2d(o)]
    return nn.Sequential(*layers, nn.ReLU()) if act else nn.Sequential(*layers)


class UniversalInvertedResidual(nn.Module):  # timm's MobileNetV4 block, no dw_start
    def __init__(self, c: int, e: int = 2) -> None:
        super().__init__()
        self.pw_exp = conv_bn(c, c * e)
        self.dw_mid = conv_bn(c * e, c * e, 3, groups=c * e)
        self.pw_proj = conv_bn(c * e, c, act=False)
        self.layer_scale = LayerScale2d(c)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.layer_scale(self.pw_proj(self.dw_mid(self.pw_exp(x))))


class Meta4D(nn.Module):  # EfficientFormer's: pooling token mixer, 1x1-conv MLP, two scales
    def __init__(self, c: int) -> None:
        super().__init__()
        self.fc1, self.norm1 = nn.Conv2d(c, 2 * c, 1), nn.BatchNorm2d(2 * c)
        self.fc2, self.norm2 = nn.Conv2d(2 * c, c, 1), nn.BatchNorm2d(c)
        self.ls1, self.ls2 = LayerScale2d(c), LayerScale2d(c)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.ls1(F.avg_pool2d(x, 3, 1, 1, count_include_pad=False) - x)
        return x + self.ls2(self.norm2(self.fc2(F.gelu(self.norm1(self.fc1(x))))))


class ConvNet(nn.Module):
    def __init__(self, block, c: int = 8) -> None:
        super().__init__()
        self.stem = conv_bn(3, c, 3)
        self.blocks = nn.Sequential(block(c), block(c))
        self.head = nn.Linear(c, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.blocks(self.stem(x)).mean((2, 3)))


class ScaledEncoder(nn.Module):
    """Stages of Sequential(conv, norm, LayerScale2d, ReLU): a scale inside a conv stage."""

    def __init__(self, c: int = 8) -> None:
        super().__init__()
        self.down1 = nn.Sequential(
            nn.Conv2d(3, c, 3, 2, 1, bias=False), nn.BatchNorm2d(c), LayerScale2d(c), nn.ReLU()
        )
        self.down2 = nn.Sequential(
            nn.Conv2d(c, c, 3, 1, 1, bias=False), nn.BatchNorm2d(c), LayerScale2d(c), nn.ReLU()
        )
        self.out = nn.Conv2d(c, 2, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.down2(self.down1(x)))


class Attention(nn.Module):
    def __init__(self, d: int, heads: int = 2) -> None:
        super().__init__()
        self.heads, self.qkv, self.proj = heads, nn.Linear(d, 3 * d), nn.Linear(d, d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        q, k, v = self.qkv(x).reshape(b, n, 3, self.heads, -1).permute(2, 0, 3, 1, 4)
        y = F.scaled_dot_product_attention(q, k, v)
        return self.proj(y.transpose(1, 2).reshape(b, n, d))


class Mlp(nn.Module):
    def __init__(self, d: int) -> None:
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(d, 2 * d), nn.Linear(2 * d, d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.gelu(self.fc1(x)))


class ViTBlock(nn.Module):  # timm's Block with init_values: ls1, ls2
    def __init__(self, d: int) -> None:
        super().__init__()
        self.norm1, self.attn, self.ls1 = nn.LayerNorm(d), Attention(d), LayerScale(d)
        self.norm2, self.mlp, self.ls2 = nn.LayerNorm(d), Mlp(d), LayerScale(d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.ls1(self.attn(self.norm1(x)))
        return x + self.ls2(self.mlp(self.norm2(x)))


class TinyViT(nn.Module):
    def __init__(self, d: int = 16) -> None:
        super().__init__()
        self.patch_embed = nn.Conv2d(3, d, 4, 4)
        self.blocks = nn.Sequential(ViTBlock(d), ViTBlock(d))
        self.norm = nn.LayerNorm(d)
        self.head = nn.Linear(d, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.patch_embed(x).flatten(2).transpose(1, 2)
        return self.head(self.norm(self.blocks(x)).mean(1))


LAYOUTS = {  # square maps as wide as their channels: `x * gamma` runs there
    "mobilenetv4_uib": (lambda: ConvNet(UniversalInvertedResidual), (2, 3, 8, 8)),
    "efficientformer_meta4d": (lambda: ConvNet(Meta4D), (2, 3, 8, 8)),
    "scaled_conv_stages": (ScaledEncoder, (2, 3, 16, 16)),
    "vit_layer_scale": (TinyViT, (2, 3, 16, 16)),
}


@pytest.fixture(scope="module", params=list(LAYOUTS))
def layout(request, tmp_path_factory):
    return generated_layout(LAYOUTS, request.param, tmp_path_factory)


def test_a_vector_scale_beside_convs_says_guessed_beside_attention_inferred(layout):
    name, reference, model, source, x = layout
    verdict, diff = measured(reference, model, source, (x,))
    assert verdict != "WRONG", diff
    scales = {t for c, t in class_trust(source).items() if c.startswith("LayerScale")}
    assert scales == ({"inferred"} if name == "vit_layer_scale" else {"guessed"}), name
