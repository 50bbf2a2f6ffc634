"""Ten small CNN / hybrid image classifiers written the way other public repositories write them,
for tests/test_vision_zoo_24.py (issue 16's held-out measure, session 27): whai362's PVTv2
(overlapping patch embeds, spatial-reduction attention of a strided conv + LayerNorm, a depthwise
conv inside the MLP, per-stage norms and a token mean), facebookresearch's LeViT (Conv2d_BN /
Linear_BN Sequentials, Hardswish, attention biases gathered by an `attention_bias_idxs` buffer,
a subsampling attention, a distillation head averaged in eval), naver-ai's PiT (a conv patch
embedding, a 2-d position table, class tokens through depthwise-conv pooling + a Linear), microsoft's
CvT (conv embeddings with a LayerNorm, depthwise conv + BN projections of q / k / v with a strided
k / v, a scale of dim_out ** -0.5, QuickGELU, a class token in the last stage only), tengshaofeng's
Residual Attention Network (pre-activation bottlenecks whose 1x1 shortcut always exists, soft mask
branches: max pool, bilinear up, (1 + mask) * trunk), sacmehta's ESPNetv2 (EESP: grouped 1x1s,
hierarchical sums of dilated depthwise convs, PReLU; down-samplers with an average pool and input
reinforcement), raoyongming's GFNet (a global filter: rfft2, a complex weight, irfft2), facebookresearch's
ResMLP (Affine norms, a token-mixing Linear, layer scales), leaderj1001's LambdaNetworks ResNet
(lambda convs: content lambdas by einsum, position lambdas by a conv3d with a learned embedding)
and kaijieshi7's dynamic convolution (K kernels mixed per sample by a softmax attention with a
temperature, applied as one grouped conv over the batch).

Written from the way each repository lays its modules out (its own code is not copied), narrowed
to a few blocks, and measured before any fix was made for them (the test file records the
figures). Reference code, not generated code: the generated file must match it, or say where it
cannot."""

from __future__ import annotations

import itertools
import math
from collections import OrderedDict
from functools import partial

import torch
import torch.nn as nn
import torch.nn.functional as F

from tests.redraw import reference_and_input


class TimmMlp(nn.Module):  # timm.models.layers.Mlp, which several of these repositories import
    def __init__(self, in_features, hidden_features=None, out_features=None, act_layer=nn.GELU, drop=0.0) -> None:
        super().__init__()
        out_features = out_features or in_features
        hidden_features = hidden_features or in_features
        self.fc1 = nn.Linear(in_features, hidden_features)
        self.act = act_layer()
        self.fc2 = nn.Linear(hidden_features, out_features)
        self.drop = nn.Dropout(drop)

    def forward(self, x):
        x = self.drop(self.act(self.fc1(x)))
        return self.drop(self.fc2(x))


class TimmAttention(nn.Module):  # timm vision_transformer Attention
    def __init__(self, dim, num_heads=8, qkv_bias=False, qk_scale=None, attn_drop=0.0, proj_drop=0.0) -> None:
        super().__init__()
        self.num_heads = num_heads
        head_dim = dim // num_heads
        self.scale = qk_scale or head_dim ** -0.5
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.attn_drop = nn.Dropout(attn_drop)
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(proj_drop)

    def forward(self, x):
        B, N, C = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.num_heads, C // self.num_heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = (q @ k.transpose(-2, -1)) * self.scale
        attn = self.attn_drop(attn.softmax(dim=-1))
        x = (attn @ v).transpose(1, 2).reshape(B, N, C)
        return self.proj_drop(self.proj(x))


class TimmBlock(nn.Module):  # timm vision_transformer Block (drop path is identity in eval)
    def __init__(self, dim, num_heads, mlp_ratio=4.0, qkv_bias=False, drop=0.0, attn_drop=0.0,
                 act_layer=nn.GELU, norm_layer=nn.LayerNorm) -> None:
        super().__init__()
        self.norm1 = norm_layer(dim)
        self.attn = TimmAttention(dim, num_heads=num_heads, qkv_bias=qkv_bias, attn_drop=attn_drop, proj_drop=drop)
        self.drop_path = nn.Identity()
        self.norm2 = norm_layer(dim)
        self.mlp = TimmMlp(dim, int(dim * mlp_ratio), act_layer=act_layer, drop=drop)

    def forward(self, x):
        x = x + self.drop_path(self.attn(self.norm1(x)))
        return x + self.drop_path(self.mlp(self.norm2(x)))


# ------------------------------------------------------------------ whai362 PVT (classification/pvt_v2.py)


class PvtDWConv(nn.Module):  # pvt_v2.py DWConv
    def __init__(self, dim=768) -> None:
        super().__init__()
        self.dwconv = nn.Conv2d(dim, dim, 3, 1, 1, bias=True, groups=dim)

    def forward(self, x, H, W):
        B, N, C = x.shape
        x = x.transpose(1, 2).view(B, C, H, W)
        x = self.dwconv(x)
        return x.flatten(2).transpose(1, 2)


class PvtMlp(nn.Module):
    def __init__(self, in_features, hidden_features=None, out_features=None, act_layer=nn.GELU, drop=0.0,
                 linear=False) -> None:
        super().__init__()
        out_features = out_features or in_features
        hidden_features = hidden_features or in_features
        self.fc1 = nn.Linear(in_features, hidden_features)
        self.dwconv = PvtDWConv(hidden_features)
        self.act = act_layer()
        self.fc2 = nn.Linear(hidden_features, out_features)
        self.drop = nn.Dropout(drop)
        self.linear = linear
        if self.linear:
            self.relu = nn.ReLU(inplace=True)

    def forward(self, x, H, W):
        x = self.fc1(x)
        if self.linear:
            x = self.relu(x)
        x = self.dwconv(x, H, W)
        x = self.act(x)
        x = self.drop(x)
        x = self.fc2(x)
        return self.drop(x)


class PvtAttention(nn.Module):
    def __init__(self, dim, num_heads=8, qkv_bias=False, qk_scale=None, attn_drop=0.0, proj_drop=0.0, sr_ratio=1,
                 linear=False) -> None:
        super().__init__()
        assert dim % num_heads == 0
        self.dim = dim
        self.num_heads = num_heads
        head_dim = dim // num_heads
        self.scale = qk_scale or head_dim ** -0.5
        self.q = nn.Linear(dim, dim, bias=qkv_bias)
        self.kv = nn.Linear(dim, dim * 2, bias=qkv_bias)
        self.attn_drop = nn.Dropout(attn_drop)
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(proj_drop)
        self.linear = linear
        self.sr_ratio = sr_ratio
        if sr_ratio > 1:
            self.sr = nn.Conv2d(dim, dim, kernel_size=sr_ratio, stride=sr_ratio)
            self.norm = nn.LayerNorm(dim)

    def forward(self, x, H, W):
        B, N, C = x.shape
        q = self.q(x).reshape(B, N, self.num_heads, C // self.num_heads).permute(0, 2, 1, 3)
        if self.sr_ratio > 1:
            x_ = x.permute(0, 2, 1).reshape(B, C, H, W)
            x_ = self.sr(x_).reshape(B, C, -1).permute(0, 2, 1)
            x_ = self.norm(x_)
            kv = self.kv(x_).reshape(B, -1, 2, self.num_heads, C // self.num_heads).permute(2, 0, 3, 1, 4)
        else:
            kv = self.kv(x).reshape(B, -1, 2, self.num_heads, C // self.num_heads).permute(2, 0, 3, 1, 4)
        k, v = kv[0], kv[1]
        attn = (q @ k.transpose(-2, -1)) * self.scale
        attn = self.attn_drop(attn.softmax(dim=-1))
        x = (attn @ v).transpose(1, 2).reshape(B, N, C)
        return self.proj_drop(self.proj(x))


class PvtBlock(nn.Module):
    def __init__(self, dim, num_heads, mlp_ratio=4.0, qkv_bias=False, qk_scale=None, drop=0.0, attn_drop=0.0,
                 act_layer=nn.GELU, norm_layer=nn.LayerNorm, sr_ratio=1, linear=False) -> None:
        super().__init__()
        self.norm1 = norm_layer(dim)
        self.attn = PvtAttention(dim, num_heads=num_heads, qkv_bias=qkv_bias, qk_scale=qk_scale,
                                 attn_drop=attn_drop, proj_drop=drop, sr_ratio=sr_ratio, linear=linear)
        self.drop_path = nn.Identity()
        self.norm2 = norm_layer(dim)
        self.mlp = PvtMlp(dim, int(dim * mlp_ratio), act_layer=act_layer, drop=drop, linear=linear)

    def forward(self, x, H, W):
        x = x + self.drop_path(self.attn(self.norm1(x), H, W))
        return x + self.drop_path(self.mlp(self.norm2(x), H, W))


class PvtOverlapPatchEmbed(nn.Module):  # pvt_v2.py OverlapPatchEmbed
    def __init__(self, img_size=224, patch_size=7, stride=4, in_chans=3, embed_dim=768) -> None:
        super().__init__()
        self.proj = nn.Conv2d(in_chans, embed_dim, kernel_size=patch_size, stride=stride,
                              padding=(patch_size // 2, patch_size // 2))
        self.norm = nn.LayerNorm(embed_dim)

    def forward(self, x):
        x = self.proj(x)
        _, _, H, W = x.shape
        x = x.flatten(2).transpose(1, 2)
        return self.norm(x), H, W


class Whai362PvtV2(nn.Module):  # pvt_v2.py PyramidVisionTransformerV2 (pvt_v2_b0 layout), narrowed
    def __init__(self, img_size=64, in_chans=3, num_classes=5, embed_dims=(8, 16, 24, 32), num_heads=(1, 2, 3, 4),
                 mlp_ratios=(8, 8, 4, 4), qkv_bias=True, norm_layer=partial(nn.LayerNorm, eps=1e-6),
                 depths=(1, 1, 1, 1), sr_ratios=(8, 4, 2, 1), num_stages=4, linear=False) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.depths = depths
        self.num_stages = num_stages
        for i in range(num_stages):
            patch_embed = PvtOverlapPatchEmbed(img_size=img_size if i == 0 else img_size // (2 ** (i + 1)),
                                               patch_size=7 if i == 0 else 3, stride=4 if i == 0 else 2,
                                               in_chans=in_chans if i == 0 else embed_dims[i - 1],
                                               embed_dim=embed_dims[i])
            block = nn.ModuleList([PvtBlock(dim=embed_dims[i], num_heads=num_heads[i], mlp_ratio=mlp_ratios[i],
                                            qkv_bias=qkv_bias, norm_layer=norm_layer, sr_ratio=sr_ratios[i],
                                            linear=linear) for _ in range(depths[i])])
            norm = norm_layer(embed_dims[i])
            setattr(self, f"patch_embed{i + 1}", patch_embed)
            setattr(self, f"block{i + 1}", block)
            setattr(self, f"norm{i + 1}", norm)
        self.head = nn.Linear(embed_dims[3], num_classes) if num_classes > 0 else nn.Identity()

    def forward_features(self, x):
        B = x.shape[0]
        for i in range(self.num_stages):
            patch_embed = getattr(self, f"patch_embed{i + 1}")
            block = getattr(self, f"block{i + 1}")
            norm = getattr(self, f"norm{i + 1}")
            x, H, W = patch_embed(x)
            for blk in block:
                x = blk(x, H, W)
            x = norm(x)
            if i != self.num_stages - 1:
                x = x.reshape(B, H, W, -1).permute(0, 3, 1, 2).contiguous()
        return x.mean(dim=1)

    def forward(self, x):
        return self.head(self.forward_features(x))


# ------------------------------------------------------------------ facebookresearch LeViT (levit.py)


class LevitConv2dBN(nn.Sequential):  # levit.py Conv2d_BN
    def __init__(self, a, b, ks=1, stride=1, pad=0, dilation=1, groups=1, bn_weight_init=1, resolution=-10000) -> None:
        super().__init__()
        self.add_module("c", nn.Conv2d(a, b, ks, stride, pad, dilation, groups, bias=False))
        bn = nn.BatchNorm2d(b)
        nn.init.constant_(bn.weight, bn_weight_init)
        nn.init.constant_(bn.bias, 0)
        self.add_module("bn", bn)


class LevitLinearBN(nn.Sequential):  # levit.py Linear_BN
    def __init__(self, a, b, bn_weight_init=1, resolution=-100000) -> None:
        super().__init__()
        self.add_module("c", nn.Linear(a, b, bias=False))
        bn = nn.BatchNorm1d(b)
        nn.init.constant_(bn.weight, bn_weight_init)
        nn.init.constant_(bn.bias, 0)
        self.add_module("bn", bn)

    def forward(self, x):
        l, bn = self._modules.values()
        x = l(x)
        return bn(x.flatten(0, 1)).reshape_as(x)


class LevitBNLinear(nn.Sequential):  # levit.py BN_Linear
    def __init__(self, a, b, bias=True, std=0.02) -> None:
        super().__init__()
        self.add_module("bn", nn.BatchNorm1d(a))
        self.add_module("l", nn.Linear(a, b, bias=bias))


def levit_b16(n, activation, resolution=224):
    return nn.Sequential(LevitConv2dBN(3, n // 8, 3, 2, 1, resolution=resolution), activation(),
                         LevitConv2dBN(n // 8, n // 4, 3, 2, 1, resolution=resolution // 2), activation(),
                         LevitConv2dBN(n // 4, n // 2, 3, 2, 1, resolution=resolution // 4), activation(),
                         LevitConv2dBN(n // 2, n, 3, 2, 1, resolution=resolution // 8))


class LevitResidual(nn.Module):
    def __init__(self, m, drop) -> None:
        super().__init__()
        self.m = m
        self.drop = drop

    def forward(self, x):
        return x + self.m(x)  # (stochastic depth only in training)


class LevitAttention(nn.Module):
    def __init__(self, dim, key_dim, num_heads=8, attn_ratio=4, activation=None, resolution=14) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.scale = key_dim ** -0.5
        self.key_dim = key_dim
        self.nh_kd = nh_kd = key_dim * num_heads
        self.d = int(attn_ratio * key_dim)
        self.dh = int(attn_ratio * key_dim) * num_heads
        self.attn_ratio = attn_ratio
        h = self.dh + nh_kd * 2
        self.qkv = LevitLinearBN(dim, h, resolution=resolution)
        self.proj = nn.Sequential(activation(), LevitLinearBN(self.dh, dim, bn_weight_init=0, resolution=resolution))
        points = list(itertools.product(range(resolution), range(resolution)))
        N = len(points)
        attention_offsets, idxs = {}, []
        for p1 in points:
            for p2 in points:
                offset = (abs(p1[0] - p2[0]), abs(p1[1] - p2[1]))
                if offset not in attention_offsets:
                    attention_offsets[offset] = len(attention_offsets)
                idxs.append(attention_offsets[offset])
        self.attention_biases = nn.Parameter(torch.zeros(num_heads, len(attention_offsets)))
        self.register_buffer("attention_bias_idxs", torch.LongTensor(idxs).view(N, N))

    def forward(self, x):  # x (B, N, C)
        B, N, C = x.shape
        qkv = self.qkv(x)
        q, k, v = qkv.view(B, N, self.num_heads, -1).split([self.key_dim, self.key_dim, self.d], dim=3)
        q = q.permute(0, 2, 1, 3)
        k = k.permute(0, 2, 1, 3)
        v = v.permute(0, 2, 1, 3)
        attn = (q @ k.transpose(-2, -1)) * self.scale + self.attention_biases[:, self.attention_bias_idxs]
        attn = attn.softmax(dim=-1)
        x = (attn @ v).transpose(1, 2).reshape(B, N, self.dh)
        return self.proj(x)


class LevitSubsample(nn.Module):
    def __init__(self, stride, resolution) -> None:
        super().__init__()
        self.stride = stride
        self.resolution = resolution

    def forward(self, x):
        B, N, C = x.shape
        x = x.view(B, self.resolution, self.resolution, C)[:, ::self.stride, ::self.stride]
        return x.reshape(B, -1, C)


class LevitAttentionSubsample(nn.Module):
    def __init__(self, in_dim, out_dim, key_dim, num_heads=8, attn_ratio=2, activation=None, stride=2, resolution=14,
                 resolution_=7) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.scale = key_dim ** -0.5
        self.key_dim = key_dim
        self.nh_kd = nh_kd = key_dim * num_heads
        self.d = int(attn_ratio * key_dim)
        self.dh = int(attn_ratio * key_dim) * self.num_heads
        self.attn_ratio = attn_ratio
        self.resolution_ = resolution_
        self.resolution_2 = resolution_ ** 2
        h = self.dh + nh_kd
        self.kv = LevitLinearBN(in_dim, h, resolution=resolution)
        self.q = nn.Sequential(LevitSubsample(stride, resolution), LevitLinearBN(in_dim, nh_kd, resolution=resolution_))
        self.proj = nn.Sequential(activation(), LevitLinearBN(self.dh, out_dim, resolution=resolution_))
        self.stride = stride
        self.resolution = resolution
        points = list(itertools.product(range(resolution), range(resolution)))
        points_ = list(itertools.product(range(resolution_), range(resolution_)))
        N, N_ = len(points), len(points_)
        attention_offsets, idxs = {}, []
        for p1 in points_:
            for p2 in points:
                size = 1
                offset = (abs(p1[0] * stride - p2[0] + (size - 1) / 2), abs(p1[1] * stride - p2[1] + (size - 1) / 2))
                if offset not in attention_offsets:
                    attention_offsets[offset] = len(attention_offsets)
                idxs.append(attention_offsets[offset])
        self.attention_biases = nn.Parameter(torch.zeros(num_heads, len(attention_offsets)))
        self.register_buffer("attention_bias_idxs", torch.LongTensor(idxs).view(N_, N))

    def forward(self, x):
        B, N, C = x.shape
        k, v = self.kv(x).view(B, N, self.num_heads, -1).split([self.key_dim, self.d], dim=3)
        k = k.permute(0, 2, 1, 3)
        v = v.permute(0, 2, 1, 3)
        q = self.q(x).view(B, self.resolution_2, self.num_heads, self.key_dim).permute(0, 2, 1, 3)
        attn = (q @ k.transpose(-2, -1)) * self.scale + self.attention_biases[:, self.attention_bias_idxs]
        attn = attn.softmax(dim=-1)
        x = (attn @ v).transpose(1, 2).reshape(B, -1, self.dh)
        return self.proj(x)


class FacebookresearchLeViT(nn.Module):  # levit.py LeViT (LeViT_128S specification), narrowed
    def __init__(self, img_size=64, patch_size=16, num_classes=5, embed_dim=(16, 24, 32), key_dim=(4, 4, 4),
                 depth=(1, 1, 1), num_heads=(2, 3, 4), attn_ratio=(2, 2, 2), mlp_ratio=(2, 2, 2),
                 down_ops=(("Subsample", 4, 16 // 4, 4, 2, 2), ("Subsample", 4, 24 // 4, 4, 2, 2)),
                 attention_activation=nn.Hardswish, mlp_activation=nn.Hardswish, distillation=True,
                 drop_path=0) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.num_features = embed_dim[-1]
        self.embed_dim = embed_dim
        self.distillation = distillation
        self.patch_embed = levit_b16(embed_dim[0], activation=nn.Hardswish, resolution=img_size)
        self.blocks = []
        down_ops = list(down_ops) + [("",)]
        resolution = img_size // patch_size
        for i, (ed, kd, dpth, nh, ar, mr, do) in enumerate(
                zip(embed_dim, key_dim, depth, num_heads, attn_ratio, mlp_ratio, down_ops)):
            for _ in range(dpth):
                self.blocks.append(LevitResidual(LevitAttention(ed, kd, nh, attn_ratio=ar, activation=attention_activation,
                                                                resolution=resolution), drop_path))
                if mr > 0:
                    h = int(ed * mr)
                    self.blocks.append(LevitResidual(nn.Sequential(
                        LevitLinearBN(ed, h, resolution=resolution), mlp_activation(),
                        LevitLinearBN(h, ed, bn_weight_init=0, resolution=resolution)), drop_path))
            if do[0] == "Subsample":
                resolution_ = (resolution - 1) // do[5] + 1
                self.blocks.append(LevitAttentionSubsample(*embed_dim[i:i + 2], key_dim=do[1], num_heads=do[2],
                                                           attn_ratio=do[3], activation=attention_activation,
                                                           stride=do[5], resolution=resolution, resolution_=resolution_))
                resolution = resolution_
                if do[4] > 0:  # mlp_ratio
                    h = int(embed_dim[i + 1] * do[4])
                    self.blocks.append(LevitResidual(nn.Sequential(
                        LevitLinearBN(embed_dim[i + 1], h, resolution=resolution), mlp_activation(),
                        LevitLinearBN(h, embed_dim[i + 1], bn_weight_init=0, resolution=resolution)), drop_path))
        self.blocks = nn.Sequential(*self.blocks)
        self.head = LevitBNLinear(embed_dim[-1], num_classes)
        if distillation:
            self.head_dist = LevitBNLinear(embed_dim[-1], num_classes)

    def forward(self, x):
        x = self.patch_embed(x)
        x = x.flatten(2).transpose(1, 2)
        x = self.blocks(x)
        x = x.mean(1)
        if self.distillation:
            x = self.head(x), self.head_dist(x)
            if not self.training:
                x = (x[0] + x[1]) / 2
        else:
            x = self.head(x)
        return x


# ------------------------------------------------------------------ naver-ai pit (pit.py)


class PitTransformer(nn.Module):  # pit.py Transformer
    def __init__(self, base_dim, depth, heads, mlp_ratio, drop_rate=0.0, attn_drop_rate=0.0) -> None:
        super().__init__()
        self.layers = nn.ModuleList([])
        embed_dim = base_dim * heads
        self.blocks = nn.ModuleList([TimmBlock(dim=embed_dim, num_heads=heads, mlp_ratio=mlp_ratio, qkv_bias=True,
                                               drop=drop_rate, attn_drop=attn_drop_rate,
                                               norm_layer=partial(nn.LayerNorm, eps=1e-6)) for _ in range(depth)])

    def forward(self, x, cls_tokens):
        h, w = x.shape[2:4]
        x = x.flatten(2).transpose(1, 2)  # rearrange 'b c h w -> b (h w) c'
        token_length = cls_tokens.shape[1]
        x = torch.cat((cls_tokens, x), dim=1)
        for blk in self.blocks:
            x = blk(x)
        cls_tokens = x[:, :token_length]
        x = x[:, token_length:]
        x = x.transpose(1, 2).reshape(x.shape[0], -1, h, w)  # 'b (h w) c -> b c h w'
        return x, cls_tokens


class PitConvHeadPooling(nn.Module):  # pit.py conv_head_pooling
    def __init__(self, in_feature, out_feature, stride, padding_mode="zeros") -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_feature, out_feature, kernel_size=stride + 1, padding=stride // 2, stride=stride,
                              padding_mode=padding_mode, groups=in_feature)
        self.fc = nn.Linear(in_feature, out_feature)

    def forward(self, x, cls_token):
        return self.conv(x), self.fc(cls_token)


class PitConvEmbedding(nn.Module):  # pit.py conv_embedding
    def __init__(self, in_channels, out_channels, patch_size, stride, padding) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size=patch_size, stride=stride, padding=padding,
                              bias=True)

    def forward(self, x):
        return self.conv(x)


class NaverPiT(nn.Module):  # pit.py PoolingTransformer (pit_ti layout), narrowed
    def __init__(self, image_size=64, patch_size=16, stride=8, base_dims=(4, 4, 4), depth=(1, 1, 1), heads=(2, 4, 8),
                 mlp_ratio=4, num_classes=5, in_chans=3, attn_drop_rate=0.0, drop_rate=0.0) -> None:
        super().__init__()
        padding = 0
        width = math.floor((image_size + 2 * padding - patch_size) / stride + 1)
        self.base_dims = base_dims
        self.heads = heads
        self.num_classes = num_classes
        self.patch_size = patch_size
        self.pos_embed = nn.Parameter(torch.randn(1, base_dims[0] * heads[0], width, width), requires_grad=True)
        self.patch_embed = PitConvEmbedding(in_chans, base_dims[0] * heads[0], patch_size, stride, padding)
        self.cls_token = nn.Parameter(torch.randn(1, 1, base_dims[0] * heads[0]), requires_grad=True)
        self.pos_drop = nn.Dropout(p=drop_rate)
        self.transformers = nn.ModuleList([])
        self.pools = nn.ModuleList([])
        for stage in range(len(depth)):
            self.transformers.append(PitTransformer(base_dims[stage], depth[stage], heads[stage], mlp_ratio, drop_rate,
                                                    attn_drop_rate))
            if stage < len(heads) - 1:
                self.pools.append(PitConvHeadPooling(base_dims[stage] * heads[stage],
                                                     base_dims[stage + 1] * heads[stage + 1], stride=2))
        self.norm = nn.LayerNorm(base_dims[-1] * heads[-1], eps=1e-6)
        self.embed_dim = base_dims[-1] * heads[-1]
        self.head = nn.Linear(base_dims[-1] * heads[-1], num_classes)

    def forward_features(self, x):
        x = self.patch_embed(x)
        x = self.pos_drop(x + self.pos_embed)
        cls_tokens = self.cls_token.expand(x.shape[0], -1, -1)
        for stage in range(len(self.pools)):
            x, cls_tokens = self.transformers[stage](x, cls_tokens)
            x, cls_tokens = self.pools[stage](x, cls_tokens)
        x, cls_tokens = self.transformers[-1](x, cls_tokens)
        return self.norm(cls_tokens)

    def forward(self, x):
        cls_token = self.forward_features(x)
        return self.head(cls_token[:, 0])


# ------------------------------------------------------------------ microsoft CvT (lib/models/cls_cvt.py)


class CvtLayerNorm(nn.LayerNorm):  # cls_cvt.py LayerNorm: fp16-safe
    def forward(self, x):
        orig_type = x.dtype
        ret = super().forward(x.type(torch.float32))
        return ret.type(orig_type)


class QuickGELU(nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(1.702 * x)


class CvtRearrange(nn.Module):  # einops Rearrange('b c h w -> b (h w) c')
    def forward(self, x):
        return x.flatten(2).transpose(1, 2)


class CvtAttention(nn.Module):
    def __init__(self, dim_in, dim_out, num_heads, qkv_bias=False, attn_drop=0.0, proj_drop=0.0, method="dw_bn",
                 kernel_size=3, stride_kv=1, stride_q=1, padding_kv=1, padding_q=1, with_cls_token=True) -> None:
        super().__init__()
        self.stride_kv = stride_kv
        self.stride_q = stride_q
        self.dim = dim_out
        self.num_heads = num_heads
        self.scale = dim_out ** -0.5  # (as the repository writes it: the whole width, not a head's)
        self.with_cls_token = with_cls_token
        self.conv_proj_q = self._build_projection(dim_in, kernel_size, padding_q, stride_q)
        self.conv_proj_k = self._build_projection(dim_in, kernel_size, padding_kv, stride_kv)
        self.conv_proj_v = self._build_projection(dim_in, kernel_size, padding_kv, stride_kv)
        self.proj_q = nn.Linear(dim_in, dim_out, bias=qkv_bias)
        self.proj_k = nn.Linear(dim_in, dim_out, bias=qkv_bias)
        self.proj_v = nn.Linear(dim_in, dim_out, bias=qkv_bias)
        self.attn_drop = nn.Dropout(attn_drop)
        self.proj = nn.Linear(dim_out, dim_out)
        self.proj_drop = nn.Dropout(proj_drop)

    def _build_projection(self, dim_in, kernel_size, padding, stride):  # method 'dw_bn'
        return nn.Sequential(OrderedDict([
            ("conv", nn.Conv2d(dim_in, dim_in, kernel_size=kernel_size, padding=padding, stride=stride, bias=False,
                               groups=dim_in)),
            ("bn", nn.BatchNorm2d(dim_in)),
            ("rearrage", CvtRearrange()),
        ]))

    def forward_conv(self, x, h, w):
        if self.with_cls_token:
            cls_token, x = torch.split(x, [1, h * w], 1)
        x = x.transpose(1, 2).reshape(x.shape[0], -1, h, w)  # 'b (h w) c -> b c h w'
        q = self.conv_proj_q(x)
        k = self.conv_proj_k(x)
        v = self.conv_proj_v(x)
        if self.with_cls_token:
            q = torch.cat((cls_token, q), dim=1)
            k = torch.cat((cls_token, k), dim=1)
            v = torch.cat((cls_token, v), dim=1)
        return q, k, v

    def forward(self, x, h, w):
        q, k, v = self.forward_conv(x, h, w)

        def heads(t):  # 'b t (h d) -> b h t d'
            return t.reshape(t.shape[0], t.shape[1], self.num_heads, -1).transpose(1, 2)

        q, k, v = heads(self.proj_q(q)), heads(self.proj_k(k)), heads(self.proj_v(v))
        attn_score = torch.einsum("bhlk,bhtk->bhlt", [q, k]) * self.scale
        attn = self.attn_drop(F.softmax(attn_score, dim=-1))
        x = torch.einsum("bhlt,bhtv->bhlv", [attn, v])
        x = x.transpose(1, 2).reshape(x.shape[0], x.shape[2], -1)  # 'b h t d -> b t (h d)'
        return self.proj_drop(self.proj(x))


class CvtBlock(nn.Module):
    def __init__(self, dim_in, dim_out, num_heads, mlp_ratio=4.0, qkv_bias=False, drop=0.0, attn_drop=0.0,
                 act_layer=nn.GELU, norm_layer=nn.LayerNorm, **kwargs) -> None:
        super().__init__()
        self.with_cls_token = kwargs["with_cls_token"]
        self.norm1 = norm_layer(dim_in)
        self.attn = CvtAttention(dim_in, dim_out, num_heads, qkv_bias, attn_drop, drop, **kwargs)
        self.drop_path = nn.Identity()
        self.norm2 = norm_layer(dim_out)
        self.mlp = TimmMlp(dim_out, int(dim_out * mlp_ratio), act_layer=act_layer, drop=drop)

    def forward(self, x, h, w):
        res = x
        x = self.norm1(x)
        attn = self.attn(x, h, w)
        x = res + self.drop_path(attn)
        return x + self.drop_path(self.mlp(self.norm2(x)))


class CvtConvEmbed(nn.Module):
    def __init__(self, patch_size=7, in_chans=3, embed_dim=64, stride=4, padding=2, norm_layer=None) -> None:
        super().__init__()
        self.patch_size = patch_size
        self.proj = nn.Conv2d(in_chans, embed_dim, kernel_size=patch_size, stride=stride, padding=padding)
        self.norm = norm_layer(embed_dim) if norm_layer else None

    def forward(self, x):
        x = self.proj(x)
        B, C, H, W = x.shape
        x = x.flatten(2).transpose(1, 2)
        if self.norm:
            x = self.norm(x)
        return x.transpose(1, 2).reshape(B, C, H, W)


class CvtVisionTransformer(nn.Module):  # cls_cvt.py VisionTransformer: one stage
    def __init__(self, patch_size=16, patch_stride=16, patch_padding=0, in_chans=3, embed_dim=768, depth=12,
                 num_heads=12, mlp_ratio=4.0, qkv_bias=False, act_layer=nn.GELU, norm_layer=nn.LayerNorm,
                 **kwargs) -> None:
        super().__init__()
        self.num_features = self.embed_dim = embed_dim
        self.patch_embed = CvtConvEmbed(patch_size=patch_size, in_chans=in_chans, stride=patch_stride,
                                        padding=patch_padding, embed_dim=embed_dim, norm_layer=norm_layer)
        with_cls_token = kwargs["with_cls_token"]
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim)) if with_cls_token else None
        self.pos_drop = nn.Dropout(p=0.0)
        self.blocks = nn.ModuleList([CvtBlock(dim_in=embed_dim, dim_out=embed_dim, num_heads=num_heads,
                                              mlp_ratio=mlp_ratio, qkv_bias=qkv_bias, act_layer=act_layer,
                                              norm_layer=norm_layer, **kwargs) for _ in range(depth)])

    def forward(self, x):
        x = self.patch_embed(x)
        B, C, H, W = x.size()
        x = x.flatten(2).transpose(1, 2)
        cls_tokens = None
        if self.cls_token is not None:
            cls_tokens = self.cls_token.expand(B, -1, -1)
            x = torch.cat((cls_tokens, x), dim=1)
        x = self.pos_drop(x)
        for blk in self.blocks:
            x = blk(x, H, W)
        if self.cls_token is not None:
            cls_tokens, x = torch.split(x, [1, H * W], 1)
        x = x.transpose(1, 2).reshape(B, C, H, W)
        return x, cls_tokens


class MicrosoftCvT(nn.Module):  # cls_cvt.py ConvolutionalVisionTransformer (CvT-13 spec), narrowed
    def __init__(self, in_chans=3, num_classes=5, act_layer=QuickGELU, norm_layer=partial(CvtLayerNorm, eps=1e-5),
                 spec=None) -> None:
        super().__init__()
        spec = spec or {"NUM_STAGES": 3, "PATCH_SIZE": [7, 3, 3], "PATCH_STRIDE": [4, 2, 2],
                        "PATCH_PADDING": [2, 1, 1], "DIM_EMBED": [8, 16, 24], "NUM_HEADS": [1, 2, 3],
                        "DEPTH": [1, 1, 1], "MLP_RATIO": [4.0, 4.0, 4.0], "QKV_BIAS": [True, True, True],
                        "CLS_TOKEN": [False, False, True], "KERNEL_QKV": [3, 3, 3], "PADDING_KV": [1, 1, 1],
                        "STRIDE_KV": [2, 2, 2], "PADDING_Q": [1, 1, 1], "STRIDE_Q": [1, 1, 1]}
        self.num_classes = num_classes
        self.num_stages = spec["NUM_STAGES"]
        for i in range(self.num_stages):
            kwargs = {"patch_size": spec["PATCH_SIZE"][i], "patch_stride": spec["PATCH_STRIDE"][i],
                      "patch_padding": spec["PATCH_PADDING"][i], "embed_dim": spec["DIM_EMBED"][i],
                      "depth": spec["DEPTH"][i], "num_heads": spec["NUM_HEADS"][i], "mlp_ratio": spec["MLP_RATIO"][i],
                      "qkv_bias": spec["QKV_BIAS"][i], "with_cls_token": spec["CLS_TOKEN"][i],
                      "kernel_size": spec["KERNEL_QKV"][i], "padding_q": spec["PADDING_Q"][i],
                      "padding_kv": spec["PADDING_KV"][i], "stride_kv": spec["STRIDE_KV"][i],
                      "stride_q": spec["STRIDE_Q"][i]}
            stage = CvtVisionTransformer(in_chans=in_chans, act_layer=act_layer, norm_layer=norm_layer, **kwargs)
            setattr(self, f"stage{i}", stage)
            in_chans = spec["DIM_EMBED"][i]
        dim_embed = spec["DIM_EMBED"][-1]
        self.norm = norm_layer(dim_embed)
        self.cls_token = spec["CLS_TOKEN"][-1]
        self.head = nn.Linear(dim_embed, num_classes) if num_classes > 0 else nn.Identity()

    def forward_features(self, x):
        for i in range(self.num_stages):
            x, cls_tokens = getattr(self, f"stage{i}")(x)
        if self.cls_token:
            x = self.norm(cls_tokens)
            x = torch.squeeze(x)
        else:
            x = self.norm(x.flatten(2).transpose(1, 2))
            x = torch.mean(x, dim=1)
        return x

    def forward(self, x):
        return self.head(self.forward_features(x))


# ------------------------------------------------------------------ tengshaofeng ResidualAttentionNetwork-pytorch


class RanResidualBlock(nn.Module):  # model/basic_layers.py ResidualBlock (pre-activation bottleneck)
    def __init__(self, input_channels, output_channels, stride=1) -> None:
        super().__init__()
        self.input_channels = input_channels
        self.output_channels = output_channels
        self.stride = stride
        self.bn1 = nn.BatchNorm2d(input_channels)
        self.relu = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(input_channels, output_channels // 4, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(output_channels // 4)
        self.conv2 = nn.Conv2d(output_channels // 4, output_channels // 4, 3, stride, padding=1, bias=False)
        self.bn3 = nn.BatchNorm2d(output_channels // 4)
        self.conv3 = nn.Conv2d(output_channels // 4, output_channels, 1, 1, bias=False)
        self.conv4 = nn.Conv2d(input_channels, output_channels, 1, stride, bias=False)  # built even when unused

    def forward(self, x):
        residual = x
        out = self.bn1(x)
        out1 = self.relu(out)
        out = self.conv1(out1)
        out = self.relu(self.bn2(out))
        out = self.conv2(out)
        out = self.relu(self.bn3(out))
        out = self.conv3(out)
        if (self.input_channels != self.output_channels) or (self.stride != 1):
            residual = self.conv4(out1)
        out += residual
        return out


def ran_mask_head(out_channels):
    return nn.Sequential(nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True),
                         nn.Conv2d(out_channels, out_channels, kernel_size=1, stride=1, bias=False),
                         nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True),
                         nn.Conv2d(out_channels, out_channels, kernel_size=1, stride=1, bias=False), nn.Sigmoid())


class RanAttentionModuleStage2Cifar(nn.Module):  # model/attention_module.py AttentionModule_stage2_cifar
    def __init__(self, in_channels, out_channels, size=(8, 8)) -> None:
        super().__init__()
        self.first_residual_blocks = RanResidualBlock(in_channels, out_channels)
        self.trunk_branches = nn.Sequential(RanResidualBlock(in_channels, out_channels),
                                            RanResidualBlock(in_channels, out_channels))
        self.mpool1 = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.middle_2r_blocks = nn.Sequential(RanResidualBlock(in_channels, out_channels),
                                              RanResidualBlock(in_channels, out_channels))
        self.interpolation1 = nn.UpsamplingBilinear2d(size=size)
        self.conv1_1_blocks = ran_mask_head(out_channels)
        self.last_blocks = RanResidualBlock(in_channels, out_channels)

    def forward(self, x):
        x = self.first_residual_blocks(x)
        out_trunk = self.trunk_branches(x)
        out_mpool1 = self.mpool1(x)
        out_middle_2r_blocks = self.middle_2r_blocks(out_mpool1)
        out_interp = self.interpolation1(out_middle_2r_blocks) + out_trunk
        out_conv1_1_blocks = self.conv1_1_blocks(out_interp)
        out = (1 + out_conv1_1_blocks) * out_trunk
        return self.last_blocks(out)


class RanAttentionModuleStage3Cifar(nn.Module):  # model/attention_module.py AttentionModule_stage3_cifar
    def __init__(self, in_channels, out_channels, size=(8, 8)) -> None:
        super().__init__()
        self.first_residual_blocks = RanResidualBlock(in_channels, out_channels)
        self.trunk_branches = nn.Sequential(RanResidualBlock(in_channels, out_channels),
                                            RanResidualBlock(in_channels, out_channels))
        self.middle_2r_blocks = nn.Sequential(RanResidualBlock(in_channels, out_channels),
                                              RanResidualBlock(in_channels, out_channels))
        self.conv1_1_blocks = ran_mask_head(out_channels)
        self.last_blocks = RanResidualBlock(in_channels, out_channels)

    def forward(self, x):
        x = self.first_residual_blocks(x)
        out_trunk = self.trunk_branches(x)
        out_middle_2r_blocks = self.middle_2r_blocks(x)
        out_conv1_1_blocks = self.conv1_1_blocks(out_middle_2r_blocks)
        out = (1 + out_conv1_1_blocks) * out_trunk
        return self.last_blocks(out)


class TengshaofengResidualAttention(nn.Module):  # ResidualAttentionModel_92_32input_update, narrowed
    def __init__(self, num_classes=5) -> None:
        super().__init__()
        self.conv1 = nn.Sequential(nn.Conv2d(3, 8, kernel_size=3, stride=1, padding=1, bias=False),
                                   nn.BatchNorm2d(8), nn.ReLU(inplace=True))  # 32*32
        self.residual_block1 = RanResidualBlock(8, 16)  # 32*32
        self.residual_block2 = RanResidualBlock(16, 32, 2)  # 16*16
        self.attention_module2 = RanAttentionModuleStage2Cifar(32, 32, size=(16, 16))
        self.residual_block3 = RanResidualBlock(32, 48, 2)  # 8*8
        self.attention_module3 = RanAttentionModuleStage3Cifar(48, 48)
        self.residual_block4 = RanResidualBlock(48, 64)
        self.residual_block5 = RanResidualBlock(64, 64)
        self.mpool2 = nn.Sequential(nn.BatchNorm2d(64), nn.ReLU(inplace=True), nn.AvgPool2d(kernel_size=8))
        self.fc = nn.Linear(64, num_classes)

    def forward(self, x):
        out = self.conv1(x)
        out = self.residual_block1(out)
        out = self.residual_block2(out)
        out = self.attention_module2(out)
        out = self.residual_block3(out)
        out = self.attention_module3(out)
        out = self.residual_block4(out)
        out = self.residual_block5(out)
        out = self.mpool2(out)
        out = out.view(out.size(0), -1)
        return self.fc(out)


# ------------------------------------------------------------------ sacmehta EdgeNets (ESPNetv2)


class EspCBR(nn.Module):  # nn_layers/cnn_utils.py CBR
    def __init__(self, nIn, nOut, kSize, stride=1, groups=1) -> None:
        super().__init__()
        padding = int((kSize - 1) / 2)
        self.conv = nn.Conv2d(nIn, nOut, kSize, stride=stride, padding=padding, bias=False, groups=groups)
        self.bn = nn.BatchNorm2d(nOut)
        self.act = nn.PReLU(nOut)

    def forward(self, x):
        return self.act(self.bn(self.conv(x)))


class EspBR(nn.Module):
    def __init__(self, nOut) -> None:
        super().__init__()
        self.bn = nn.BatchNorm2d(nOut)
        self.act = nn.PReLU(nOut)

    def forward(self, x):
        return self.act(self.bn(x))


class EspCB(nn.Module):
    def __init__(self, nIn, nOut, kSize, stride=1, groups=1) -> None:
        super().__init__()
        padding = int((kSize - 1) / 2)
        self.conv = nn.Conv2d(nIn, nOut, kSize, stride=stride, padding=padding, bias=False, groups=groups)
        self.bn = nn.BatchNorm2d(nOut)

    def forward(self, x):
        return self.bn(self.conv(x))


class EspCDilated(nn.Module):
    def __init__(self, nIn, nOut, kSize, stride=1, d=1, groups=1) -> None:
        super().__init__()
        padding = int((kSize - 1) / 2) * d
        self.conv = nn.Conv2d(nIn, nOut, kSize, stride=stride, padding=padding, bias=False, dilation=d, groups=groups)

    def forward(self, x):
        return self.conv(x)


class EESP(nn.Module):  # nn_layers/eesp.py EESP
    def __init__(self, nIn, nOut, stride=1, k=4, r_lim=7, down_method="esp") -> None:
        super().__init__()
        self.stride = stride
        n = int(nOut / k)
        n1 = nOut - (k - 1) * n
        assert down_method in ["avg", "esp"]
        assert n == n1
        self.proj_1x1 = EspCBR(nIn, n, 1, stride=1, groups=k)
        map_receptive_ksize = {3: 1, 5: 2, 7: 3, 9: 4, 11: 5, 13: 6, 15: 7, 17: 8}
        self.k_sizes = []
        for i in range(k):
            ksize = int(3 + 2 * i)
            self.k_sizes.append(ksize if ksize <= r_lim else 3)
        self.k_sizes.sort()
        self.spp_dw = nn.ModuleList()
        for i in range(k):
            d_rate = map_receptive_ksize[self.k_sizes[i]]
            self.spp_dw.append(EspCDilated(n, n, kSize=3, stride=stride, groups=n, d=d_rate))
        self.conv_1x1_exp = EspCB(nOut, nOut, 1, 1, groups=k)
        self.br_after_cat = EspBR(nOut)
        self.module_act = nn.PReLU(nOut)
        self.downAvg = down_method == "avg"

    def forward(self, input):
        output1 = self.proj_1x1(input)
        output = [self.spp_dw[0](output1)]
        for k in range(1, len(self.spp_dw)):
            out_k = self.spp_dw[k](output1)
            out_k = out_k + output[k - 1]  # hierarchical feature fusion
            output.append(out_k)
        expanded = self.conv_1x1_exp(self.br_after_cat(torch.cat(output, 1)))
        del output
        if self.stride == 2 and self.downAvg:
            return expanded
        if expanded.size() == input.size():
            expanded = expanded + input
        return self.module_act(expanded)


class EspDownSampler(nn.Module):  # nn_layers/eesp.py DownSampler
    def __init__(self, nin, nout, k=4, r_lim=9, reinf=True, config_inp_reinf=3) -> None:
        super().__init__()
        nout_new = nout - nin
        self.eesp = EESP(nin, nout_new, stride=2, k=k, r_lim=r_lim, down_method="avg")
        self.avg = nn.AvgPool2d(kernel_size=3, padding=1, stride=2)
        if reinf:
            self.inp_reinf = nn.Sequential(EspCBR(config_inp_reinf, config_inp_reinf, 3, 1),
                                           EspCB(config_inp_reinf, nout, 1, 1))
        self.act = nn.PReLU(nout)

    def forward(self, input, input2=None):
        avg_out = self.avg(input)
        eesp_out = self.eesp(input)
        output = torch.cat([avg_out, eesp_out], 1)
        if input2 is not None:
            w1 = avg_out.size(2)
            while True:
                input2 = F.avg_pool2d(input2, kernel_size=3, padding=1, stride=2)
                w2 = input2.size(2)
                if w2 == w1:
                    break
            output = output + self.inp_reinf(input2)
        return self.act(output)


class SacmehtaESPNetv2(nn.Module):  # model/classification/espnetv2.py EESPNet (s=0.5), narrowed reps
    def __init__(self, num_classes=5, channels_in=3, s=0.5, reps=(0, 1, 1, 1)) -> None:
        super().__init__()
        r_lim = [13, 11, 9, 7, 5]
        K = [4] * len(r_lim)
        base = 32
        config_len = 5
        config = [base] * config_len
        base_s = 0
        for i in range(config_len):
            if i == 0:
                base_s = int(base * s)
                base_s = math.ceil(base_s / K[0]) * K[0]
                config[i] = base if base_s > base else base_s
            else:
                config[i] = base_s * pow(2, i)
        config.append(1024 if s <= 1.5 else 1280)
        self.input_reinforcement = True
        self.level1 = EspCBR(channels_in, config[0], 3, 2)
        self.level2_0 = EspDownSampler(config[0], config[1], k=K[0], r_lim=r_lim[0], reinf=self.input_reinforcement)
        self.level3_0 = EspDownSampler(config[1], config[2], k=K[1], r_lim=r_lim[1], reinf=self.input_reinforcement)
        self.level3 = nn.ModuleList([EESP(config[2], config[2], stride=1, k=K[2], r_lim=r_lim[2])
                                     for _ in range(reps[1])])
        self.level4_0 = EspDownSampler(config[2], config[3], k=K[2], r_lim=r_lim[2], reinf=self.input_reinforcement)
        self.level4 = nn.ModuleList([EESP(config[3], config[3], stride=1, k=K[3], r_lim=r_lim[3])
                                     for _ in range(reps[2])])
        self.level5_0 = EspDownSampler(config[3], config[4], k=K[3], r_lim=r_lim[3])  # its inp_reinf unused
        self.level5 = nn.ModuleList([EESP(config[4], config[4], stride=1, k=K[4], r_lim=r_lim[4])
                                     for _ in range(reps[3])])
        self.level5.append(EspCBR(config[4], config[4], 3, 1, groups=config[4]))
        self.level5.append(EspCBR(config[4], config[5], 1, 1, groups=K[4]))
        self.classifier = nn.Linear(config[5], num_classes)

    def forward(self, input, p=0.2):
        out_l1 = self.level1(input)
        if not self.input_reinforcement:
            del input
            input = None
        out_l2 = self.level2_0(out_l1, input)
        out_l3_0 = self.level3_0(out_l2, input)
        for i, layer in enumerate(self.level3):
            out_l3 = layer(out_l3_0) if i == 0 else layer(out_l3)
        out_l4_0 = self.level4_0(out_l3, input)
        for i, layer in enumerate(self.level4):
            out_l4 = layer(out_l4_0) if i == 0 else layer(out_l4)
        out_l5_0 = self.level5_0(out_l4)
        for i, layer in enumerate(self.level5):
            out_l5 = layer(out_l5_0) if i == 0 else layer(out_l5)
        output_g = F.adaptive_avg_pool2d(out_l5, output_size=1)
        output_g = F.dropout(output_g, p=p, training=self.training)
        output_1x1 = output_g.view(output_g.size(0), -1)
        return self.classifier(output_1x1)


# ------------------------------------------------------------------ raoyongming GFNet (gfnet.py)


class GlobalFilter(nn.Module):
    def __init__(self, dim, h=14, w=8) -> None:
        super().__init__()
        self.complex_weight = nn.Parameter(torch.randn(h, w, dim, 2, dtype=torch.float32) * 0.02)
        self.w = w
        self.h = h

    def forward(self, x, spatial_size=None):
        B, N, C = x.shape
        if spatial_size is None:
            a = b = int(math.sqrt(N))
        else:
            a, b = spatial_size
        x = x.view(B, a, b, C)
        x = x.to(torch.float32)
        x = torch.fft.rfft2(x, dim=(1, 2), norm="ortho")
        weight = torch.view_as_complex(self.complex_weight)
        x = x * weight
        x = torch.fft.irfft2(x, s=(a, b), dim=(1, 2), norm="ortho")
        return x.reshape(B, N, C)


class GfBlock(nn.Module):  # gfnet.py Block: the filter and the MLP in one residual
    def __init__(self, dim, mlp_ratio=4.0, drop=0.0, act_layer=nn.GELU, norm_layer=nn.LayerNorm, h=14, w=8) -> None:
        super().__init__()
        self.norm1 = norm_layer(dim)
        self.filter = GlobalFilter(dim, h=h, w=w)
        self.drop_path = nn.Identity()
        self.norm2 = norm_layer(dim)
        self.mlp = TimmMlp(in_features=dim, hidden_features=int(dim * mlp_ratio), act_layer=act_layer, drop=drop)

    def forward(self, x):
        return x + self.drop_path(self.mlp(self.norm2(self.filter(self.norm1(x)))))


class GfPatchEmbed(nn.Module):  # gfnet.py PatchEmbed
    def __init__(self, img_size=224, patch_size=16, in_chans=3, embed_dim=768) -> None:
        super().__init__()
        self.num_patches = (img_size // patch_size) * (img_size // patch_size)
        self.proj = nn.Conv2d(in_chans, embed_dim, kernel_size=patch_size, stride=patch_size)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)


class RaoyongmingGFNet(nn.Module):  # gfnet.py GFNet (gfnet-ti layout), narrowed
    def __init__(self, img_size=32, patch_size=4, in_chans=3, num_classes=5, embed_dim=16, depth=2, mlp_ratio=4.0,
                 drop_rate=0.0, norm_layer=None) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.num_features = self.embed_dim = embed_dim
        norm_layer = norm_layer or partial(nn.LayerNorm, eps=1e-6)
        self.patch_embed = GfPatchEmbed(img_size=img_size, patch_size=patch_size, in_chans=in_chans,
                                        embed_dim=embed_dim)
        num_patches = self.patch_embed.num_patches
        self.pos_embed = nn.Parameter(torch.zeros(1, num_patches, embed_dim))
        self.pos_drop = nn.Dropout(p=drop_rate)
        h = img_size // patch_size
        w = h // 2 + 1
        self.blocks = nn.ModuleList([GfBlock(dim=embed_dim, mlp_ratio=mlp_ratio, drop=drop_rate,
                                             norm_layer=norm_layer, h=h, w=w) for _ in range(depth)])
        self.norm = norm_layer(embed_dim)
        self.head = nn.Linear(self.num_features, num_classes) if num_classes > 0 else nn.Identity()

    def forward_features(self, x):
        x = self.patch_embed(x)
        x = x + self.pos_embed
        x = self.pos_drop(x)
        for blk in self.blocks:
            x = blk(x)
        return self.norm(x).mean(1)

    def forward(self, x):
        return self.head(self.forward_features(x))


# ------------------------------------------------------------------ facebookresearch deit (resmlp_models.py)


class Affine(nn.Module):
    def __init__(self, dim) -> None:
        super().__init__()
        self.alpha = nn.Parameter(torch.ones(dim))
        self.beta = nn.Parameter(torch.zeros(dim))

    def forward(self, x):
        return self.alpha * x + self.beta


class ResmlpLayersScaleMlpBlocks(nn.Module):  # resmlp_models.py layers_scale_mlp_blocks
    def __init__(self, dim, drop=0.0, act_layer=nn.GELU, init_values=1e-4, num_patches=196) -> None:
        super().__init__()
        self.norm1 = Affine(dim)
        self.attn = nn.Linear(num_patches, num_patches)
        self.drop_path = nn.Identity()
        self.norm2 = Affine(dim)
        self.mlp = TimmMlp(in_features=dim, hidden_features=int(4.0 * dim), act_layer=act_layer, drop=drop)
        self.gamma_1 = nn.Parameter(init_values * torch.ones((dim)), requires_grad=True)
        self.gamma_2 = nn.Parameter(init_values * torch.ones((dim)), requires_grad=True)

    def forward(self, x):
        x = x + self.drop_path(self.gamma_1 * self.attn(self.norm1(x).transpose(1, 2)).transpose(1, 2))
        return x + self.drop_path(self.gamma_2 * self.mlp(self.norm2(x)))


class FacebookresearchResMLP(nn.Module):  # resmlp_models.py resmlp_models (resmlp_12 layout), narrowed
    def __init__(self, img_size=32, patch_size=8, in_chans=3, num_classes=5, embed_dim=16, depth=2, drop_rate=0.0,
                 act_layer=nn.GELU, init_scale=0.1) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.num_features = self.embed_dim = embed_dim
        self.patch_embed = GfPatchEmbed(img_size=img_size, patch_size=patch_size, in_chans=int(in_chans),
                                        embed_dim=embed_dim)  # timm PatchEmbed without a norm
        num_patches = self.patch_embed.num_patches
        self.blocks = nn.ModuleList([ResmlpLayersScaleMlpBlocks(dim=embed_dim, drop=drop_rate, act_layer=act_layer,
                                                                init_values=init_scale, num_patches=num_patches)
                                     for _ in range(depth)])
        self.norm = Affine(embed_dim)
        self.head = nn.Linear(embed_dim, num_classes) if num_classes > 0 else nn.Identity()

    def forward_features(self, x):
        B = x.shape[0]
        x = self.patch_embed(x)
        for blk in self.blocks:
            x = blk(x)
        x = self.norm(x)
        x = x.mean(dim=1).reshape(B, 1, -1)
        return x[:, 0]

    def forward(self, x):
        return self.head(self.forward_features(x))


# ------------------------------------------------------------------ leaderj1001 LambdaNetworks (model.py)


class LambdaConv(nn.Module):
    def __init__(self, in_channels, out_channels, heads=4, k=16, u=1, m=23) -> None:
        super().__init__()
        self.kk, self.uu, self.vv, self.mm, self.heads = k, u, out_channels // heads, m, heads
        self.local_context = m > 0
        self.padding = (m - 1) // 2
        self.queries = nn.Sequential(nn.Conv2d(in_channels, k * heads, kernel_size=1, bias=False),
                                     nn.BatchNorm2d(k * heads))
        self.keys = nn.Sequential(nn.Conv2d(in_channels, k * u, kernel_size=1, bias=False))
        self.values = nn.Sequential(nn.Conv2d(in_channels, self.vv * u, kernel_size=1, bias=False),
                                    nn.BatchNorm2d(self.vv * u))
        self.softmax = nn.Softmax(dim=-1)
        if self.local_context:
            self.embedding = nn.Parameter(torch.randn([self.kk, self.uu, 1, m, m]), requires_grad=True)
        else:
            self.embedding = nn.Parameter(torch.randn([self.kk, self.uu]), requires_grad=True)

    def forward(self, x):
        n_batch, C, w, h = x.size()
        queries = self.queries(x).view(n_batch, self.heads, self.kk, w * h)
        softmax = self.softmax(self.keys(x).view(n_batch, self.kk, self.uu, w * h))
        values = self.values(x).view(n_batch, self.vv, self.uu, w * h)
        lambda_c = torch.einsum("bkum,bvum->bkv", softmax, values)
        y_c = torch.einsum("bhkn,bkv->bhvn", queries, lambda_c)
        if self.local_context:
            values = values.view(n_batch, self.uu, -1, w, h)
            lambda_p = F.conv3d(values, self.embedding, padding=(0, self.padding, self.padding))
            lambda_p = lambda_p.view(n_batch, self.kk, self.vv, w * h)
            y_p = torch.einsum("bhkn,bkvn->bhvn", queries, lambda_p)
        else:
            lambda_p = torch.einsum("ku,bvun->bkvn", self.embedding, values)
            y_p = torch.einsum("bhkn,bkvn->bhvn", queries, lambda_p)
        out = y_c + y_p
        return out.contiguous().view(n_batch, -1, w, h)


class LambdaBottleneck(nn.Module):
    expansion = 4

    def __init__(self, in_planes, planes, stride=1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, kernel_size=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.ModuleList([LambdaConv(planes, planes)])
        if stride != 1 or in_planes != self.expansion * planes:
            self.conv2.append(nn.AvgPool2d(kernel_size=(3, 3), stride=stride, padding=(1, 1)))
        self.conv2.append(nn.BatchNorm2d(planes))
        self.conv2.append(nn.ReLU())
        self.conv2 = nn.Sequential(*self.conv2)
        self.conv3 = nn.Conv2d(planes, self.expansion * planes, kernel_size=1, bias=False)
        self.bn3 = nn.BatchNorm2d(self.expansion * planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != self.expansion * planes:
            self.shortcut = nn.Sequential(nn.Conv2d(in_planes, self.expansion * planes, kernel_size=1, stride=stride),
                                          nn.BatchNorm2d(self.expansion * planes))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.conv2(out)
        out = self.bn3(self.conv3(out))
        out += self.shortcut(x)
        return F.relu(out)


class Leaderj1001LambdaResNet(nn.Module):  # model.py ResNet (LambdaResNet50 with CIFAR stem), narrowed
    def __init__(self, block=LambdaBottleneck, num_blocks=(1, 1, 1, 1), num_classes=5) -> None:
        super().__init__()
        self.in_planes = 8
        self.conv1 = nn.Sequential(nn.Conv2d(3, 8, kernel_size=3, stride=1, padding=1, bias=False), nn.BatchNorm2d(8),
                                   nn.ReLU())
        self.layer1 = self._make_layer(block, 4, num_blocks=num_blocks[0])
        self.layer2 = self._make_layer(block, 8, num_blocks=num_blocks[1], stride=2)
        self.layer3 = self._make_layer(block, 12, num_blocks=num_blocks[2], stride=2)
        self.layer4 = self._make_layer(block, 16, num_blocks=num_blocks[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Sequential(nn.Dropout(0.3), nn.Linear(16 * block.expansion, num_classes))

    def _make_layer(self, block, planes, num_blocks, stride=1):
        strides = [stride] + [1] * (num_blocks - 1)
        layers = []
        for idx, stride in enumerate(strides):
            layers.append(block(self.in_planes, planes, stride))
            self.in_planes = planes * block.expansion
        return nn.Sequential(*layers)

    def forward(self, x):
        out = self.conv1(x)
        out = self.layer1(out)
        out = self.layer2(out)
        out = self.layer3(out)
        out = self.layer4(out)
        out = self.avgpool(out)
        out = torch.flatten(out, 1)
        return self.fc(out)


# ------------------------------------------------------------------ kaijieshi7 Dynamic-convolution-Pytorch


class DyAttention2d(nn.Module):  # dynamic_conv.py attention2d
    def __init__(self, in_planes, ratios, K, temperature) -> None:
        super().__init__()
        assert temperature % 3 == 1
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        hidden_planes = int(in_planes * ratios) + 1 if in_planes != 3 else K
        self.fc1 = nn.Conv2d(in_planes, hidden_planes, 1, bias=False)
        self.fc2 = nn.Conv2d(hidden_planes, K, 1, bias=True)
        self.temperature = temperature

    def forward(self, x):
        x = self.avgpool(x)
        x = self.fc1(x)
        x = F.relu(x)
        x = self.fc2(x).view(x.size(0), -1)
        return F.softmax(x / self.temperature, 1)


class DynamicConv2d(nn.Module):  # dynamic_conv.py Dynamic_conv2d
    def __init__(self, in_planes, out_planes, kernel_size, ratio=0.25, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, K=4, temperature=34) -> None:
        super().__init__()
        assert in_planes % groups == 0
        self.in_planes = in_planes
        self.out_planes = out_planes
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.groups = groups
        self.bias = bias
        self.K = K
        self.attention = DyAttention2d(in_planes, ratio, K, temperature)
        self.weight = nn.Parameter(torch.randn(K, out_planes, in_planes // groups, kernel_size, kernel_size),
                                   requires_grad=True)
        self.bias = nn.Parameter(torch.zeros(K, out_planes)) if bias else None

    def forward(self, x):  # a batch of per-sample kernels, run as one grouped conv
        softmax_attention = self.attention(x)
        batch_size, in_planes, height, width = x.size()
        x = x.view(1, -1, height, width)
        weight = self.weight.view(self.K, -1)
        aggregate_weight = torch.mm(softmax_attention, weight).view(-1, self.in_planes, self.kernel_size,
                                                                    self.kernel_size)
        if self.bias is not None:
            aggregate_bias = torch.mm(softmax_attention, self.bias).view(-1)
            output = F.conv2d(x, weight=aggregate_weight, bias=aggregate_bias, stride=self.stride,
                              padding=self.padding, dilation=self.dilation, groups=self.groups * batch_size)
        else:
            output = F.conv2d(x, weight=aggregate_weight, bias=None, stride=self.stride, padding=self.padding,
                              dilation=self.dilation, groups=self.groups * batch_size)
        return output.view(batch_size, self.out_planes, output.size(-2), output.size(-1))


class DyBasicBlock(nn.Module):  # models/dy_resnet.py BasicBlock (the CIFAR ResNet with dynamic convs)
    expansion = 1

    def __init__(self, in_planes, planes, stride=1) -> None:
        super().__init__()
        self.conv1 = DynamicConv2d(in_planes, planes, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = DynamicConv2d(planes, planes, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != self.expansion * planes:
            self.shortcut = nn.Sequential(nn.Conv2d(in_planes, self.expansion * planes, kernel_size=1, stride=stride,
                                                    bias=False), nn.BatchNorm2d(self.expansion * planes))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += self.shortcut(x)
        return F.relu(out)


class Kaijieshi7DyResNet(nn.Module):  # models/dy_resnet.py ResNet (dy_resnet18 layout), narrowed
    def __init__(self, block=DyBasicBlock, num_blocks=(1, 1, 1, 1), num_classes=5) -> None:
        super().__init__()
        self.in_planes = 8
        self.conv1 = DynamicConv2d(3, 8, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.layer1 = self._make_layer(block, 8, num_blocks[0], stride=1)
        self.layer2 = self._make_layer(block, 16, num_blocks[1], stride=2)
        self.layer3 = self._make_layer(block, 24, num_blocks[2], stride=2)
        self.layer4 = self._make_layer(block, 32, num_blocks[3], stride=2)
        self.linear = nn.Linear(32 * block.expansion, num_classes)

    def _make_layer(self, block, planes, num_blocks, stride):
        strides = [stride] + [1] * (num_blocks - 1)
        layers = []
        for stride in strides:
            layers.append(block(self.in_planes, planes, stride))
            self.in_planes = planes * block.expansion
        return nn.Sequential(*layers)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer1(out)
        out = self.layer2(out)
        out = self.layer3(out)
        out = self.layer4(out)
        out = F.avg_pool2d(out, 4)
        out = out.view(out.size(0), -1)
        return self.linear(out)


ZOO = {  # name: (build, input shape)
    "whai362_pvt_v2": (Whai362PvtV2, (2, 3, 64, 64)),
    "facebookresearch_levit": (FacebookresearchLeViT, (2, 3, 64, 64)),
    "naver_pit": (NaverPiT, (2, 3, 64, 64)),
    "microsoft_cvt": (MicrosoftCvT, (2, 3, 64, 64)),
    "tengshaofeng_residual_attention": (TengshaofengResidualAttention, (2, 3, 32, 32)),
    "sacmehta_espnetv2": (SacmehtaESPNetv2, (2, 3, 32, 32)),
    "raoyongming_gfnet": (RaoyongmingGFNet, (2, 3, 32, 32)),
    "facebookresearch_resmlp": (FacebookresearchResMLP, (2, 3, 32, 32)),
    "leaderj1001_lambda_resnet": (Leaderj1001LambdaResNet, (2, 3, 32, 32)),
    "kaijieshi7_dynamic_conv": (Kaijieshi7DyResNet, (2, 3, 32, 32)),
}


def build(name: str) -> tuple[nn.Module, torch.Tensor]:
    """The reference, weights at unit scale and batch norm statistics moved (so a wrong padding,
    order or scale shows), in eval mode, and an input it accepts."""
    return reference_and_input(*ZOO[name])
