"""Generative and dense-prediction nets as other repositories write them, fifteenth zoo (issue
16, session 22): test-only reference models for tests/test_generative_zoo_22.py. Reference code,
not generated code: the generated file must compute what these compute, or say where it cannot.

Layouts of repositories no earlier zoo used, written from the structure of each one's model file
(their code is not copied), narrowed: rosinality's denoising-diffusion-pytorch UNet (a TimeEmbedding
with an `inv_freq` buffer and torch.ger, ResBlockWithAttention in flat `down` / `mid` / `up`
ModuleLists, an einsum attention over whole maps, a feature stack popped on the way up),
jzbontar's PixelCNN (MaskedConv2d of type A then B whose `mask` buffer multiplies the weight in
the forward, BN-ReLU, a 1x1 to 256 logits), bryandlee's AnimeGANv2 generator (reflection-padded
ConvNormLReLU with GroupNorm(1), inverted residual blocks, asymmetric (0, 1, 0, 1) padding for the
strided convs, align_corners bilinear resizes back to the input's sizes, tanh), rosinality's
progressive GAN generator (EqualLR: `weight_orig` scaled by sqrt(2 / fan_in) in a forward
pre-hook, PixelNorm, LeakyReLU(0.1), a 4x4 conv with padding 3 on the 1x1 latent, to_rgb at the
last step), MemNet (Vandermode's PyTorch port: BN-ReLU-conv units, memory blocks whose gate unit
reads every earlier block's output, a global residual), xuebinqin's U^2-Net (U2NETP's nested RSU
blocks, dilated RSU4F, side outputs resized and fused, the fused map's sigmoid), CoinCheung's
BiSeNetV2 (detail and semantic branches, a stem of a conv pair and a max pool, gather-and-expand
layers, a context embedding, the bilateral guided aggregation, a pixel-free head resized x8) and
DrSleep's light-weight RefineNet (a ResNet whose stages feed chained residual pooling blocks of
5x5 max pools and 1x1 convs, align_corners bilinear upsampling between them)."""

from __future__ import annotations

import math
from math import sqrt

import torch
import torch.nn as nn
import torch.nn.functional as F

from tests.redraw import generative_reference


# ------------------------------------------------------------------ rosinality denoising-diffusion-pytorch


def conv2d(c_in, c_out, kernel_size, stride=1, padding=0, bias=True, scale=1.0) -> nn.Conv2d:
    return nn.Conv2d(c_in, c_out, kernel_size, stride=stride, padding=padding, bias=bias)  # (variance scaling init)


def linear(c_in, c_out, scale=1.0) -> nn.Linear:
    return nn.Linear(c_in, c_out)


class Swish(nn.Module):
    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return input * torch.sigmoid(input)


class TimeEmbedding(nn.Module):  # model.py TimeEmbedding
    def __init__(self, dim) -> None:
        super().__init__()
        self.dim = dim
        inv_freq = torch.exp(torch.arange(0, dim, 2, dtype=torch.float32) * (-math.log(10000) / dim))
        self.register_buffer("inv_freq", inv_freq)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        shape = input.shape
        sinusoid_in = torch.ger(input.view(-1).float(), self.inv_freq)
        pos_emb = torch.cat([sinusoid_in.sin(), sinusoid_in.cos()], dim=-1)
        return pos_emb.view(*shape, self.dim)


class RosUpsample(nn.Sequential):
    def __init__(self, channel) -> None:
        super().__init__(nn.Upsample(scale_factor=2, mode="nearest"), conv2d(channel, channel, 3, padding=1))


class RosDownsample(nn.Sequential):
    def __init__(self, channel) -> None:
        super().__init__(conv2d(channel, channel, 3, stride=2, padding=1))


class RosResBlock(nn.Module):
    def __init__(self, c_in, c_out, time_dim, dropout) -> None:
        super().__init__()
        self.norm1 = nn.GroupNorm(32, c_in)
        self.activation1 = Swish()
        self.conv1 = conv2d(c_in, c_out, 3, padding=1)
        self.time = nn.Sequential(Swish(), linear(time_dim, c_out, scale=1.0))
        self.norm2 = nn.GroupNorm(32, c_out)
        self.activation2 = Swish()
        self.dropout = nn.Dropout(dropout)
        self.conv2 = conv2d(c_out, c_out, 3, padding=1, scale=1e-10)
        self.skip = conv2d(c_in, c_out, 1) if c_in != c_out else None

    def forward(self, input: torch.Tensor, time: torch.Tensor) -> torch.Tensor:
        batch = input.shape[0]
        out = self.conv1(self.activation1(self.norm1(input)))
        out = out + self.time(time).view(batch, -1, 1, 1)
        out = self.conv2(self.dropout(self.activation2(self.norm2(out))))
        if self.skip is not None:
            input = self.skip(input)
        return out + input


class RosSelfAttention(nn.Module):
    def __init__(self, c_in) -> None:
        super().__init__()
        self.norm = nn.GroupNorm(32, c_in)
        self.qkv = conv2d(c_in, c_in * 3, 1)
        self.out = conv2d(c_in, c_in, 1, scale=1e-10)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        batch, channel, height, width = input.shape
        query, key, value = self.qkv(self.norm(input)).chunk(3, dim=1)
        attn = torch.einsum("nchw, ncyx -> nhwyx", query, key).contiguous() / math.sqrt(channel)
        attn = torch.softmax(attn.view(batch, height, width, -1), -1).view(batch, height, width, height, width)
        out = torch.einsum("nhwyx, ncyx -> nchw", attn, value).contiguous()
        return self.out(out) + input


class ResBlockWithAttention(nn.Module):
    def __init__(self, c_in, c_out, time_dim, dropout, attention=False) -> None:
        super().__init__()
        self.resblocks = RosResBlock(c_in, c_out, time_dim, dropout)
        self.attention = RosSelfAttention(c_out) if attention else None

    def forward(self, input: torch.Tensor, time: torch.Tensor) -> torch.Tensor:
        out = self.resblocks(input, time)
        if self.attention is not None:
            out = self.attention(out)
        return out


class RosinalityDdpmUNet(nn.Module):  # model.py UNet (fold=1), narrowed
    def __init__(self, in_channel=3, channel=32, channel_multiplier=(1, 2), n_res_blocks=1, attn_strides=(2,),
                 dropout=0.0) -> None:
        super().__init__()
        time_dim = channel * 4
        n_block = len(channel_multiplier)
        self.time = nn.Sequential(TimeEmbedding(channel), linear(channel, time_dim), Swish(), linear(time_dim, time_dim))
        down_layers = [conv2d(in_channel, channel, 3, padding=1)]
        feat_channels, c = [channel], channel
        for i in range(n_block):
            for _ in range(n_res_blocks):
                mult = channel * channel_multiplier[i]
                down_layers.append(ResBlockWithAttention(c, mult, time_dim, dropout, attention=2**i in attn_strides))
                feat_channels.append(mult)
                c = mult
            if i != n_block - 1:
                down_layers.append(RosDownsample(c))
                feat_channels.append(c)
        self.down = nn.ModuleList(down_layers)
        self.mid = nn.ModuleList([ResBlockWithAttention(c, c, time_dim, dropout=dropout, attention=True),
                                  ResBlockWithAttention(c, c, time_dim, dropout=dropout)])
        up_layers = []
        for i in reversed(range(n_block)):
            for _ in range(n_res_blocks + 1):
                mult = channel * channel_multiplier[i]
                up_layers.append(ResBlockWithAttention(c + feat_channels.pop(), mult, time_dim, dropout=dropout,
                                                       attention=2**i in attn_strides))
                c = mult
            if i != 0:
                up_layers.append(RosUpsample(c))
        self.up = nn.ModuleList(up_layers)
        self.out = nn.Sequential(nn.GroupNorm(32, c), Swish(), conv2d(c, 3, 3, padding=1, scale=1e-10))

    def forward(self, input: torch.Tensor, time: torch.Tensor) -> torch.Tensor:
        time_embed = self.time(time)
        feats, out = [], input
        for layer in self.down:
            out = layer(out, time_embed) if isinstance(layer, ResBlockWithAttention) else layer(out)
            feats.append(out)
        for layer in self.mid:
            out = layer(out, time_embed)
        for layer in self.up:
            if isinstance(layer, ResBlockWithAttention):
                out = layer(torch.cat((out, feats.pop()), 1), time_embed)
            else:
                out = layer(out)
        return self.out(out)


# ------------------------------------------------------------------ jzbontar PixelCNN


class MaskedConv2d(nn.Conv2d):  # pixelcnn-pytorch main.py
    def __init__(self, mask_type, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        assert mask_type in {"A", "B"}
        self.register_buffer("mask", self.weight.data.clone())
        _, _, kH, kW = self.weight.size()
        self.mask.fill_(1)
        self.mask[:, :, kH // 2, kW // 2 + (mask_type == "B"):] = 0
        self.mask[:, :, kH // 2 + 1:] = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.weight.data *= self.mask
        return super().forward(x)


def jzbontar_pixelcnn(fm: int = 16) -> nn.Sequential:  # main.py `net` (8 masked layers of 64 -> 4 of 16)
    return nn.Sequential(
        MaskedConv2d("A", 1, fm, 7, 1, 3, bias=False), nn.BatchNorm2d(fm), nn.ReLU(True),
        MaskedConv2d("B", fm, fm, 7, 1, 3, bias=False), nn.BatchNorm2d(fm), nn.ReLU(True),
        MaskedConv2d("B", fm, fm, 7, 1, 3, bias=False), nn.BatchNorm2d(fm), nn.ReLU(True),
        MaskedConv2d("B", fm, fm, 7, 1, 3, bias=False), nn.BatchNorm2d(fm), nn.ReLU(True),
        nn.Conv2d(fm, 256, 1))


# ------------------------------------------------------------------ bryandlee AnimeGANv2


class ConvNormLReLU(nn.Sequential):  # animegan2-pytorch model.py
    def __init__(self, in_ch, out_ch, kernel_size=3, stride=1, padding=1, pad_mode="reflect", groups=1, bias=False):
        pad_layer = {"zero": nn.ZeroPad2d, "same": nn.ReplicationPad2d, "reflect": nn.ReflectionPad2d}
        super().__init__(
            pad_layer[pad_mode](padding),
            nn.Conv2d(in_ch, out_ch, kernel_size=kernel_size, stride=stride, padding=0, groups=groups, bias=bias),
            nn.GroupNorm(num_groups=1, num_channels=out_ch, affine=True),
            nn.LeakyReLU(0.2, inplace=True))


class AnimeInvertedResBlock(nn.Module):
    def __init__(self, in_ch, out_ch, expansion_ratio=2) -> None:
        super().__init__()
        self.use_res_connect = in_ch == out_ch
        bottleneck = int(round(in_ch * expansion_ratio))
        layers = []
        if expansion_ratio != 1:
            layers.append(ConvNormLReLU(in_ch, bottleneck, kernel_size=1, padding=0))
        layers.append(ConvNormLReLU(bottleneck, bottleneck, groups=bottleneck, bias=True))
        layers.append(nn.Conv2d(bottleneck, out_ch, kernel_size=1, padding=0, bias=False))
        layers.append(nn.GroupNorm(num_groups=1, num_channels=out_ch, affine=True))
        self.layers = nn.Sequential(*layers)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        out = self.layers(input)
        return input + out if self.use_res_connect else out


class BryandleeAnimeGANv2(nn.Module):  # model.py Generator, widths / 4
    def __init__(self) -> None:
        super().__init__()
        self.block_a = nn.Sequential(ConvNormLReLU(3, 8, kernel_size=7, padding=3),
                                     ConvNormLReLU(8, 16, stride=2, padding=(0, 1, 0, 1)), ConvNormLReLU(16, 16))
        self.block_b = nn.Sequential(ConvNormLReLU(16, 32, stride=2, padding=(0, 1, 0, 1)), ConvNormLReLU(32, 32))
        self.block_c = nn.Sequential(ConvNormLReLU(32, 32), AnimeInvertedResBlock(32, 64, 2),
                                     AnimeInvertedResBlock(64, 64, 2), ConvNormLReLU(64, 32))
        self.block_d = nn.Sequential(ConvNormLReLU(32, 32), ConvNormLReLU(32, 32))
        self.block_e = nn.Sequential(ConvNormLReLU(32, 16), ConvNormLReLU(16, 16),
                                     ConvNormLReLU(16, 8, kernel_size=7, padding=3))
        self.out_layer = nn.Sequential(nn.Conv2d(8, 3, kernel_size=1, stride=1, padding=0, bias=False), nn.Tanh())

    def forward(self, input: torch.Tensor, align_corners: bool = True) -> torch.Tensor:
        out = self.block_a(input)
        half_size = out.size()[-2:]
        out = self.block_c(self.block_b(out))
        if align_corners:
            out = F.interpolate(out, half_size, mode="bilinear", align_corners=True)
        else:
            out = F.interpolate(out, scale_factor=2, mode="bilinear", align_corners=False)
        out = self.block_d(out)
        if align_corners:
            out = F.interpolate(out, input.size()[-2:], mode="bilinear", align_corners=True)
        else:
            out = F.interpolate(out, scale_factor=2, mode="bilinear", align_corners=False)
        return self.out_layer(self.block_e(out))


# ------------------------------------------------------------------ rosinality progressive-gan-pytorch


class EqualLR:  # progan.py: the weight is `weight_orig` scaled at each call (a forward pre-hook)
    def __init__(self, name) -> None:
        self.name = name

    def compute_weight(self, module):
        weight = getattr(module, self.name + "_orig")
        fan_in = weight.data.size(1) * weight.data[0][0].numel()
        return weight * sqrt(2 / fan_in)

    @staticmethod
    def apply(module, name):
        fn = EqualLR(name)
        weight = getattr(module, name)
        del module._parameters[name]
        module.register_parameter(name + "_orig", nn.Parameter(weight.data))
        module.register_forward_pre_hook(fn)
        return fn

    def __call__(self, module, input):
        setattr(module, self.name, self.compute_weight(module))


def equal_lr(module, name="weight"):
    EqualLR.apply(module, name)
    return module


class PixelNorm(nn.Module):
    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return input / torch.sqrt(torch.mean(input**2, dim=1, keepdim=True) + 1e-8)


class EqualConv2d(nn.Module):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__()
        conv = nn.Conv2d(*args, **kwargs)
        conv.weight.data.normal_()
        conv.bias.data.zero_()
        self.conv = equal_lr(conv)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return self.conv(input)


class ProConvBlock(nn.Module):
    def __init__(self, c_in, c_out, kernel_size, padding, kernel_size2=None, padding2=None, pixel_norm=True) -> None:
        super().__init__()
        pad2 = padding2 if padding2 is not None else padding
        kernel2 = kernel_size2 if kernel_size2 is not None else kernel_size
        convs = [EqualConv2d(c_in, c_out, kernel_size, padding=padding)]
        if pixel_norm:
            convs.append(PixelNorm())
        convs.append(nn.LeakyReLU(0.1))
        convs.append(EqualConv2d(c_out, c_out, kernel2, padding=pad2))
        if pixel_norm:
            convs.append(PixelNorm())
        convs.append(nn.LeakyReLU(0.1))
        self.conv = nn.Sequential(*convs)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return self.conv(input)


class RosinalityProGANGenerator(nn.Module):  # progan.py Generator (unconditional), 3 steps, narrowed
    def __init__(self, code_dim: int = 16) -> None:
        super().__init__()
        self.code_norm = PixelNorm()
        self.progression = nn.ModuleList([ProConvBlock(code_dim, 32, 4, 3, 3, 1), ProConvBlock(32, 32, 3, 1),
                                          ProConvBlock(32, 16, 3, 1)])
        self.to_rgb = nn.ModuleList([nn.Conv2d(32, 3, 1), nn.Conv2d(32, 3, 1), nn.Conv2d(16, 3, 1)])

    def forward(self, input: torch.Tensor, step: int = 2, alpha: float = -1) -> torch.Tensor:
        out = self.code_norm(input).unsqueeze(2).unsqueeze(3)
        upsample = out
        for i, (conv, to_rgb) in enumerate(zip(self.progression, self.to_rgb)):
            if i > 0 and step > 0:
                upsample = F.interpolate(out, scale_factor=2)
                out = conv(upsample)
            else:
                out = conv(out)
            if i == step:
                out = to_rgb(out)
                if i > 0 and 0 <= alpha < 1:
                    skip_rgb = self.to_rgb[i - 1](upsample)
                    out = (1 - alpha) * skip_rgb + alpha * out
                break
        return out


# ------------------------------------------------------------------ MemNet (Vandermode pytorch-MemNet)


class BNReLUConv(nn.Sequential):  # memnet.py
    def __init__(self, c_in, channels, k=3, s=1, p=1, inplace=True) -> None:
        super().__init__()
        self.add_module("bn", nn.BatchNorm2d(c_in))
        self.add_module("relu", nn.ReLU(inplace=inplace))
        self.add_module("conv", nn.Conv2d(c_in, channels, k, s, p, bias=False))


class MemResidualBlock(nn.Module):
    def __init__(self, channels, k=3, s=1, p=1) -> None:
        super().__init__()
        self.relu_conv1 = BNReLUConv(channels, channels, k, s, p)
        self.relu_conv2 = BNReLUConv(channels, channels, k, s, p)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu_conv2(self.relu_conv1(x)) + x


class MemoryBlock(nn.Module):
    def __init__(self, channels, num_resblock, num_memblock) -> None:
        super().__init__()
        self.recursive_unit = nn.ModuleList([MemResidualBlock(channels) for _ in range(num_resblock)])
        self.gate_unit = BNReLUConv((num_resblock + num_memblock) * channels, channels, 1, 1, 0)

    def forward(self, x: torch.Tensor, ys: list) -> torch.Tensor:
        xs = []
        for layer in self.recursive_unit:
            x = layer(x)
            xs.append(x)
        gate_out = self.gate_unit(torch.cat(xs + ys, 1))
        ys.append(gate_out)
        return gate_out


class MemNet(nn.Module):  # memnet.py MemNet(in_channels, channels, num_memblock, num_resblock), narrowed
    def __init__(self, in_channels=1, channels=16, num_memblock=3, num_resblock=2) -> None:
        super().__init__()
        self.feature_extractor = BNReLUConv(in_channels, channels)
        self.reconstructor = BNReLUConv(channels, in_channels)
        self.dense_memory = nn.ModuleList([MemoryBlock(channels, num_resblock, i + 1) for i in range(num_memblock)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual = x
        out = self.feature_extractor(x)
        ys = [out]
        for memory_block in self.dense_memory:
            out = memory_block(out, ys)
        return self.reconstructor(out) + residual


# ------------------------------------------------------------------ xuebinqin U^2-Net (U2NETP layout)


class REBNCONV(nn.Module):  # model/u2net.py
    def __init__(self, in_ch=3, out_ch=3, dirate=1) -> None:
        super().__init__()
        self.conv_s1 = nn.Conv2d(in_ch, out_ch, 3, padding=1 * dirate, dilation=1 * dirate)
        self.bn_s1 = nn.BatchNorm2d(out_ch)
        self.relu_s1 = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu_s1(self.bn_s1(self.conv_s1(x)))


def _upsample_like(src: torch.Tensor, tar: torch.Tensor) -> torch.Tensor:
    return F.interpolate(src, size=tar.shape[2:], mode="bilinear")  # (F.upsample in the repository)


class RSU5(nn.Module):
    def __init__(self, in_ch=3, mid_ch=12, out_ch=3) -> None:
        super().__init__()
        self.rebnconvin = REBNCONV(in_ch, out_ch, dirate=1)
        self.rebnconv1 = REBNCONV(out_ch, mid_ch, dirate=1)
        self.pool1 = nn.MaxPool2d(2, stride=2, ceil_mode=True)
        self.rebnconv2 = REBNCONV(mid_ch, mid_ch, dirate=1)
        self.pool2 = nn.MaxPool2d(2, stride=2, ceil_mode=True)
        self.rebnconv3 = REBNCONV(mid_ch, mid_ch, dirate=1)
        self.pool3 = nn.MaxPool2d(2, stride=2, ceil_mode=True)
        self.rebnconv4 = REBNCONV(mid_ch, mid_ch, dirate=1)
        self.rebnconv5 = REBNCONV(mid_ch, mid_ch, dirate=2)
        self.rebnconv4d = REBNCONV(mid_ch * 2, mid_ch, dirate=1)
        self.rebnconv3d = REBNCONV(mid_ch * 2, mid_ch, dirate=1)
        self.rebnconv2d = REBNCONV(mid_ch * 2, mid_ch, dirate=1)
        self.rebnconv1d = REBNCONV(mid_ch * 2, out_ch, dirate=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        hxin = self.rebnconvin(x)
        hx1 = self.rebnconv1(hxin)
        hx2 = self.rebnconv2(self.pool1(hx1))
        hx3 = self.rebnconv3(self.pool2(hx2))
        hx4 = self.rebnconv4(self.pool3(hx3))
        hx5 = self.rebnconv5(hx4)
        hx4d = self.rebnconv4d(torch.cat((hx5, hx4), 1))
        hx3d = self.rebnconv3d(torch.cat((_upsample_like(hx4d, hx3), hx3), 1))
        hx2d = self.rebnconv2d(torch.cat((_upsample_like(hx3d, hx2), hx2), 1))
        hx1d = self.rebnconv1d(torch.cat((_upsample_like(hx2d, hx1), hx1), 1))
        return hx1d + hxin


class RSU4(nn.Module):
    def __init__(self, in_ch=3, mid_ch=12, out_ch=3) -> None:
        super().__init__()
        self.rebnconvin = REBNCONV(in_ch, out_ch, dirate=1)
        self.rebnconv1 = REBNCONV(out_ch, mid_ch, dirate=1)
        self.pool1 = nn.MaxPool2d(2, stride=2, ceil_mode=True)
        self.rebnconv2 = REBNCONV(mid_ch, mid_ch, dirate=1)
        self.pool2 = nn.MaxPool2d(2, stride=2, ceil_mode=True)
        self.rebnconv3 = REBNCONV(mid_ch, mid_ch, dirate=1)
        self.rebnconv4 = REBNCONV(mid_ch, mid_ch, dirate=2)
        self.rebnconv3d = REBNCONV(mid_ch * 2, mid_ch, dirate=1)
        self.rebnconv2d = REBNCONV(mid_ch * 2, mid_ch, dirate=1)
        self.rebnconv1d = REBNCONV(mid_ch * 2, out_ch, dirate=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        hxin = self.rebnconvin(x)
        hx1 = self.rebnconv1(hxin)
        hx2 = self.rebnconv2(self.pool1(hx1))
        hx3 = self.rebnconv3(self.pool2(hx2))
        hx4 = self.rebnconv4(hx3)
        hx3d = self.rebnconv3d(torch.cat((hx4, hx3), 1))
        hx2d = self.rebnconv2d(torch.cat((_upsample_like(hx3d, hx2), hx2), 1))
        hx1d = self.rebnconv1d(torch.cat((_upsample_like(hx2d, hx1), hx1), 1))
        return hx1d + hxin


class RSU4F(nn.Module):  # dilations instead of pools
    def __init__(self, in_ch=3, mid_ch=12, out_ch=3) -> None:
        super().__init__()
        self.rebnconvin = REBNCONV(in_ch, out_ch, dirate=1)
        self.rebnconv1 = REBNCONV(out_ch, mid_ch, dirate=1)
        self.rebnconv2 = REBNCONV(mid_ch, mid_ch, dirate=2)
        self.rebnconv3 = REBNCONV(mid_ch, mid_ch, dirate=4)
        self.rebnconv4 = REBNCONV(mid_ch, mid_ch, dirate=8)
        self.rebnconv3d = REBNCONV(mid_ch * 2, mid_ch, dirate=4)
        self.rebnconv2d = REBNCONV(mid_ch * 2, mid_ch, dirate=2)
        self.rebnconv1d = REBNCONV(mid_ch * 2, out_ch, dirate=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        hxin = self.rebnconvin(x)
        hx1 = self.rebnconv1(hxin)
        hx2 = self.rebnconv2(hx1)
        hx3 = self.rebnconv3(hx2)
        hx4 = self.rebnconv4(hx3)
        hx3d = self.rebnconv3d(torch.cat((hx4, hx3), 1))
        hx2d = self.rebnconv2d(torch.cat((hx3d, hx2), 1))
        hx1d = self.rebnconv1d(torch.cat((hx2d, hx1), 1))
        return hx1d + hxin


class XuebinqinU2NETP(nn.Module):  # model/u2net.py U2NETP, three levels of six, narrowed
    def __init__(self, in_ch=3, out_ch=1) -> None:
        super().__init__()
        self.stage1 = RSU5(in_ch, 8, 16)
        self.pool12 = nn.MaxPool2d(2, stride=2, ceil_mode=True)
        self.stage2 = RSU4(16, 8, 16)
        self.pool23 = nn.MaxPool2d(2, stride=2, ceil_mode=True)
        self.stage3 = RSU4F(16, 8, 16)
        self.stage2d = RSU4(32, 8, 16)
        self.stage1d = RSU5(32, 8, 16)
        self.side1 = nn.Conv2d(16, out_ch, 3, padding=1)
        self.side2 = nn.Conv2d(16, out_ch, 3, padding=1)
        self.side3 = nn.Conv2d(16, out_ch, 3, padding=1)
        self.outconv = nn.Conv2d(3 * out_ch, out_ch, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        hx1 = self.stage1(x)
        hx2 = self.stage2(self.pool12(hx1))
        hx3 = self.stage3(self.pool23(hx2))
        hx2d = self.stage2d(torch.cat((_upsample_like(hx3, hx2), hx2), 1))
        hx1d = self.stage1d(torch.cat((_upsample_like(hx2d, hx1), hx1), 1))
        d1 = self.side1(hx1d)
        d2 = _upsample_like(self.side2(hx2d), d1)
        d3 = _upsample_like(self.side3(hx3), d1)
        d0 = self.outconv(torch.cat((d1, d2, d3), 1))
        return torch.sigmoid(d0)  # the repository returns all side maps too; u2net_test.py keeps this one


# ------------------------------------------------------------------ CoinCheung BiSeNetV2


class BsConvBNReLU(nn.Module):  # lib/models/bisenetv2.py ConvBNReLU
    def __init__(self, in_chan, out_chan, ks=3, stride=1, padding=1, dilation=1, groups=1, bias=False) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_chan, out_chan, kernel_size=ks, stride=stride, padding=padding, dilation=dilation,
                              groups=groups, bias=bias)
        self.bn = nn.BatchNorm2d(out_chan)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.bn(self.conv(x)))


class DetailBranch(nn.Module):
    def __init__(self, c=(16, 16, 32)) -> None:
        super().__init__()
        self.S1 = nn.Sequential(BsConvBNReLU(3, c[0], 3, stride=2), BsConvBNReLU(c[0], c[0], 3, stride=1))
        self.S2 = nn.Sequential(BsConvBNReLU(c[0], c[1], 3, stride=2), BsConvBNReLU(c[1], c[1], 3, stride=1),
                                BsConvBNReLU(c[1], c[1], 3, stride=1))
        self.S3 = nn.Sequential(BsConvBNReLU(c[1], c[2], 3, stride=2), BsConvBNReLU(c[2], c[2], 3, stride=1),
                                BsConvBNReLU(c[2], c[2], 3, stride=1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.S3(self.S2(self.S1(x)))


class StemBlock(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = BsConvBNReLU(3, 16, 3, stride=2)
        self.left = nn.Sequential(BsConvBNReLU(16, 8, 1, stride=1, padding=0), BsConvBNReLU(8, 16, 3, stride=2))
        self.right = nn.MaxPool2d(kernel_size=3, stride=2, padding=1, ceil_mode=False)
        self.fuse = BsConvBNReLU(32, 16, 3, stride=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feat = self.conv(x)
        return self.fuse(torch.cat([self.left(feat), self.right(feat)], dim=1))


class CEBlock(nn.Module):
    def __init__(self, c=32) -> None:
        super().__init__()
        self.bn = nn.BatchNorm2d(c)
        self.conv_gap = BsConvBNReLU(c, c, 1, stride=1, padding=0)
        self.conv_last = BsConvBNReLU(c, c, 3, stride=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feat = self.conv_gap(self.bn(torch.mean(x, dim=(2, 3), keepdim=True)))
        return self.conv_last(feat + x)


class GELayerS1(nn.Module):
    def __init__(self, in_chan, out_chan, exp_ratio=6) -> None:
        super().__init__()
        mid_chan = in_chan * exp_ratio
        self.conv1 = BsConvBNReLU(in_chan, in_chan, 3, stride=1)
        self.dwconv = nn.Sequential(
            nn.Conv2d(in_chan, mid_chan, kernel_size=3, stride=1, padding=1, groups=in_chan, bias=False),
            nn.BatchNorm2d(mid_chan), nn.ReLU(inplace=True))
        self.conv2 = nn.Sequential(nn.Conv2d(mid_chan, out_chan, 1, 1, 0, bias=False), nn.BatchNorm2d(out_chan))
        self.conv2[1].last_bn = True
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feat = self.conv2(self.dwconv(self.conv1(x)))
        return self.relu(feat + x)


class GELayerS2(nn.Module):
    def __init__(self, in_chan, out_chan, exp_ratio=6) -> None:
        super().__init__()
        mid_chan = in_chan * exp_ratio
        self.conv1 = BsConvBNReLU(in_chan, in_chan, 3, stride=1)
        self.dwconv1 = nn.Sequential(
            nn.Conv2d(in_chan, mid_chan, 3, stride=2, padding=1, groups=in_chan, bias=False), nn.BatchNorm2d(mid_chan))
        self.dwconv2 = nn.Sequential(
            nn.Conv2d(mid_chan, mid_chan, 3, stride=1, padding=1, groups=mid_chan, bias=False),
            nn.BatchNorm2d(mid_chan), nn.ReLU(inplace=True))
        self.conv2 = nn.Sequential(nn.Conv2d(mid_chan, out_chan, 1, 1, 0, bias=False), nn.BatchNorm2d(out_chan))
        self.conv2[1].last_bn = True
        self.shortcut = nn.Sequential(
            nn.Conv2d(in_chan, in_chan, 3, stride=2, padding=1, groups=in_chan, bias=False), nn.BatchNorm2d(in_chan),
            nn.Conv2d(in_chan, out_chan, 1, 1, 0, bias=False), nn.BatchNorm2d(out_chan))
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feat = self.conv2(self.dwconv2(self.dwconv1(self.conv1(x))))
        return self.relu(feat + self.shortcut(x))


class SegmentBranch(nn.Module):
    def __init__(self, c=32) -> None:
        super().__init__()
        self.S1S2 = StemBlock()
        self.S3 = nn.Sequential(GELayerS2(16, 16), GELayerS1(16, 16))
        self.S4 = nn.Sequential(GELayerS2(16, 24), GELayerS1(24, 24))
        self.S5_4 = nn.Sequential(GELayerS2(24, c), GELayerS1(c, c))  # (one S2 and three S1 layers)
        self.S5_5 = CEBlock(c)

    def forward(self, x: torch.Tensor) -> tuple:
        feat2 = self.S1S2(x)
        feat3 = self.S3(feat2)
        feat4 = self.S4(feat3)
        feat5_4 = self.S5_4(feat4)
        return feat2, feat3, feat4, feat5_4, self.S5_5(feat5_4)


class BGALayer(nn.Module):
    def __init__(self, c=32) -> None:
        super().__init__()
        self.left1 = nn.Sequential(nn.Conv2d(c, c, 3, 1, 1, groups=c, bias=False), nn.BatchNorm2d(c),
                                   nn.Conv2d(c, c, 1, 1, 0, bias=False))
        self.left2 = nn.Sequential(nn.Conv2d(c, c, 3, 2, 1, bias=False), nn.BatchNorm2d(c),
                                   nn.AvgPool2d(kernel_size=3, stride=2, padding=1, ceil_mode=False))
        self.right1 = nn.Sequential(nn.Conv2d(c, c, 3, 1, 1, bias=False), nn.BatchNorm2d(c))
        self.right2 = nn.Sequential(nn.Conv2d(c, c, 3, 1, 1, groups=c, bias=False), nn.BatchNorm2d(c),
                                    nn.Conv2d(c, c, 1, 1, 0, bias=False))
        self.up1 = nn.Upsample(scale_factor=4)
        self.up2 = nn.Upsample(scale_factor=4)
        self.conv = nn.Sequential(nn.Conv2d(c, c, 3, 1, 1, bias=False), nn.BatchNorm2d(c), nn.ReLU(inplace=True))

    def forward(self, x_d: torch.Tensor, x_s: torch.Tensor) -> torch.Tensor:
        left1 = self.left1(x_d)
        left2 = self.left2(x_d)
        right1 = self.up1(self.right1(x_s))
        right2 = self.right2(x_s)
        left = left1 * torch.sigmoid(right1)
        right = self.up2(left2 * torch.sigmoid(right2))
        return self.conv(left + right)


class SegmentHead(nn.Module):
    def __init__(self, in_chan, mid_chan, n_classes, up_factor=8, aux=True) -> None:
        super().__init__()
        self.conv = BsConvBNReLU(in_chan, mid_chan, 3, stride=1)
        self.drop = nn.Dropout(0.1)
        self.up_factor = up_factor
        mid_chan2 = up_factor * up_factor if aux else mid_chan
        up_factor = up_factor // 2 if aux else up_factor
        self.conv_out = nn.Sequential(
            nn.Sequential(nn.Upsample(scale_factor=2), BsConvBNReLU(mid_chan, mid_chan2, 3, stride=1))
            if aux else nn.Identity(),
            nn.Conv2d(mid_chan2, n_classes, 1, 1, 0, bias=True),
            nn.Upsample(scale_factor=up_factor, mode="bilinear", align_corners=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv_out(self.drop(self.conv(x)))


class CoinCheungBiSeNetV2(nn.Module):  # bisenetv2.py BiSeNetV2(n_classes, aux_mode='eval'), narrowed
    def __init__(self, n_classes: int = 4, aux_mode: str = "eval") -> None:
        super().__init__()
        self.aux_mode = aux_mode
        self.detail = DetailBranch()
        self.segment = SegmentBranch()
        self.bga = BGALayer()
        self.head = SegmentHead(32, 64, n_classes, up_factor=8, aux=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feat_d = self.detail(x)
        feat2, feat3, feat4, feat5_4, feat_s = self.segment(x)
        logits = self.head(self.bga(feat_d, feat_s))
        return logits  # aux_mode 'eval' (the repository returns the 1-tuple `logits,`)


# ------------------------------------------------------------------ DrSleep light-weight RefineNet


def conv3x3(in_planes, out_planes, stride=1, bias=False) -> nn.Conv2d:
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=1, bias=bias)


def conv1x1(in_planes, out_planes, stride=1, bias=False) -> nn.Conv2d:
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, padding=0, bias=bias)


class CRPBlock(nn.Module):  # light-weight-refinenet models/resnet.py
    def __init__(self, in_planes, out_planes, n_stages) -> None:
        super().__init__()
        for i in range(n_stages):
            setattr(self, "{}_{}".format(i + 1, "outvar_dimred"),
                    conv1x1(in_planes if (i == 0) else out_planes, out_planes, stride=1, bias=False))
        self.stride = 1
        self.n_stages = n_stages
        self.maxpool = nn.MaxPool2d(kernel_size=5, stride=1, padding=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        top = x
        for i in range(self.n_stages):
            top = self.maxpool(top)
            top = getattr(self, "{}_{}".format(i + 1, "outvar_dimred"))(top)
            x = top + x
        return x


class LwBottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, kernel_size=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, kernel_size=1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.downsample is not None:
            residual = self.downsample(x)
        return self.relu(out + residual)


class DrSleepRefineNetLW(nn.Module):  # models/resnet.py ResNetLW (rf_lw50 layout), narrowed
    def __init__(self, num_classes: int = 5) -> None:
        super().__init__()
        self.inplanes = 16
        self.do = nn.Dropout(p=0.5)
        self.conv1 = nn.Conv2d(3, 16, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(4, 1)
        self.layer2 = self._make_layer(8, 1, stride=2)
        self.layer3 = self._make_layer(12, 1, stride=2)
        self.layer4 = self._make_layer(16, 1, stride=2)
        self.p_ims1d2_outl1_dimred = conv1x1(64, 32, bias=False)
        self.mflow_conv_g1_pool = self._make_crp(32, 32, 4)
        self.mflow_conv_g1_b3_joint_varout_dimred = conv1x1(32, 16, bias=False)
        self.p_ims1d2_outl2_dimred = conv1x1(48, 16, bias=False)
        self.adapt_stage2_b2_joint_varout_dimred = conv1x1(16, 16, bias=False)
        self.mflow_conv_g2_pool = self._make_crp(16, 16, 4)
        self.mflow_conv_g2_b3_joint_varout_dimred = conv1x1(16, 16, bias=False)
        self.p_ims1d2_outl3_dimred = conv1x1(32, 16, bias=False)
        self.adapt_stage3_b2_joint_varout_dimred = conv1x1(16, 16, bias=False)
        self.mflow_conv_g3_pool = self._make_crp(16, 16, 4)
        self.mflow_conv_g3_b3_joint_varout_dimred = conv1x1(16, 16, bias=False)
        self.p_ims1d2_outl4_dimred = conv1x1(16, 16, bias=False)
        self.adapt_stage4_b2_joint_varout_dimred = conv1x1(16, 16, bias=False)
        self.mflow_conv_g4_pool = self._make_crp(16, 16, 4)
        self.clf_conv = nn.Conv2d(16, num_classes, kernel_size=3, stride=1, padding=1, bias=True)

    def _make_crp(self, in_planes, out_planes, stages) -> nn.Sequential:
        return nn.Sequential(CRPBlock(in_planes, out_planes, stages))

    def _make_layer(self, planes, blocks, stride=1) -> nn.Sequential:
        downsample = None
        if stride != 1 or self.inplanes != planes * LwBottleneck.expansion:
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, planes * LwBottleneck.expansion, kernel_size=1, stride=stride, bias=False),
                nn.BatchNorm2d(planes * LwBottleneck.expansion))
        layers = [LwBottleneck(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * LwBottleneck.expansion
        layers += [LwBottleneck(self.inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        l1 = self.layer1(x)
        l2 = self.layer2(l1)
        l3 = self.layer3(l2)
        l4 = self.layer4(l3)
        l4 = self.do(l4)
        l3 = self.do(l3)
        x4 = self.relu(self.p_ims1d2_outl1_dimred(l4))
        x4 = self.mflow_conv_g1_b3_joint_varout_dimred(self.mflow_conv_g1_pool(x4))
        x4 = nn.Upsample(size=l3.size()[2:], mode="bilinear", align_corners=True)(x4)
        x3 = self.adapt_stage2_b2_joint_varout_dimred(self.p_ims1d2_outl2_dimred(l3))
        x3 = F.relu(x3 + x4)
        x3 = self.mflow_conv_g2_b3_joint_varout_dimred(self.mflow_conv_g2_pool(x3))
        x3 = nn.Upsample(size=l2.size()[2:], mode="bilinear", align_corners=True)(x3)
        x2 = self.adapt_stage3_b2_joint_varout_dimred(self.p_ims1d2_outl3_dimred(l2))
        x2 = F.relu(x2 + x3)
        x2 = self.mflow_conv_g3_b3_joint_varout_dimred(self.mflow_conv_g3_pool(x2))
        x2 = nn.Upsample(size=l1.size()[2:], mode="bilinear", align_corners=True)(x2)
        x1 = self.adapt_stage4_b2_joint_varout_dimred(self.p_ims1d2_outl4_dimred(l1))
        x1 = F.relu(x1 + x2)
        x1 = self.mflow_conv_g4_pool(x1)
        return self.clf_conv(x1)


ZOO = {  # name: (build, input shape, takes a timestep)
    "rosinality_ddpm_unet": (RosinalityDdpmUNet, (2, 3, 16, 16), True),
    "jzbontar_pixelcnn": (jzbontar_pixelcnn, (2, 1, 12, 12), False),
    "bryandlee_animegan2": (BryandleeAnimeGANv2, (2, 3, 32, 32), False),
    "rosinality_progan": (RosinalityProGANGenerator, (2, 16), False),
    "vandermode_memnet": (MemNet, (2, 1, 16, 16), False),
    "xuebinqin_u2netp": (XuebinqinU2NETP, (2, 3, 32, 32), False),
    "coincheung_bisenetv2": (CoinCheungBiSeNetV2, (2, 3, 64, 64), False),
    "drsleep_lw_refinenet": (DrSleepRefineNetLW, (2, 3, 64, 64), False),
}


def build(name: str) -> tuple[nn.Module, tuple[torch.Tensor, ...]]:
    """The reference at unit scale in eval mode, and the inputs its forward takes (an image, a
    latent, and one timestep per sample for the diffusion U-Net)."""
    return generative_reference(ZOO[name])
