"""Generative and dense-prediction nets as other repositories write them, tenth zoo (issue 16,
session 17): test-only reference models for tests/test_generative_zoo_17.py. Reference code, not
generated code: the generated file must compute what these compute, or say where it cannot.

Layouts of repositories no earlier zoo used, written from the structure of each one's model file
(key names, module order, the parameter-free steps between them) at CPU-test sizes:
- explainingai-code/DDPM-Pytorch's Unet: `conv_in`, a `t_proj` MLP over a sinusoidal embedding,
  `downs`/`mids`/`ups` blocks of parallel ModuleLists (`resnet_conv_first`, `t_emb_layers`,
  `resnet_conv_second`, `attention_norms`, `attentions` as nn.MultiheadAttention over the
  flattened map, `residual_input_conv`), a 4x4 stride-2 downsampling conv, a transposed-conv
  upsample of half the input width before the skip concat, `norm_out`, `conv_out`;
- madebyollin/taesd's tiny autoencoder: numbered `encoder`/`decoder` Sequentials of 3x3 convs,
  `Block`s (`conv` Sequential, `skip`, `fuse` ReLU), bias-free strided convs, a tanh `Clamp`,
  nearest upsampling;
- MIVRC/MSRN-PyTorch's MSRN: `sub_mean`/`add_mean` 1x1 convs, multi-scale residual blocks
  (`conv_3_1`, `conv_5_1`, their concat into `conv_3_2`/`conv_5_2`, a 1x1 `confusion`), a `tail`
  reading every block's output and the head's concatenated;
- yjn870/IDN-pytorch's IDN: `fblock`, `dblocks` of information distillation blocks
  (`enhancement_top`/`enhancement_bottom` Sequentials with grouped convs and LeakyReLU 0.05, a
  channel slice kept aside and concatenated after the input, a 1x1 `compression`), a 17x17
  transposed conv `deconv`, a bicubic upsample of the input added;
- VainF/DeepLabV3Plus-Pytorch's DeepLabV3+: a dilated ResNet `backbone` read at two depths, an
  ASPP (`convs` list: 1x1, three dilated 3x3, an image pool resized back; `project`), a `project`
  of the low-level features, bilinear resizes, a `classifier`;
- 4uiiurz1/pytorch-nested-unet's NestedUNet (U-Net++): `conv{i}_{j}` VGGBlocks, dense nested
  skips concatenated, one shared max-pool and bilinear align-corners upsample;
- jvanvugt/pytorch-unet's UNet (padding=False): `down_path`/`up_path` ModuleLists of
  `UNetConvBlock`s (`block` Sequentials of unpadded convs and ReLUs), `UNetUpBlock`s (`up` 2x2
  transposed conv, the skip center-cropped to it and concatenated after it), a functional max-pool;
- wkentaro/pytorch-fcn's FCN8s: flat `conv1_1`..`fc7`, a 100-pixel pad on the first conv, ceil-mode
  pools, `score_pool3/4`, bias-free transposed `upscore*` convs and fixed crops (5, 9, 31).
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from tests.redraw import generative_reference

# ------------------------------------------------------------------ explainingai-code DDPM Unet


def get_time_embedding(time_steps: torch.Tensor, temb_dim: int) -> torch.Tensor:
    factor = 10000 ** (
        torch.arange(0, temb_dim // 2, dtype=torch.float32, device=time_steps.device)
        / (temb_dim // 2)
    )
    t_emb = time_steps[:, None].repeat(1, temb_dim // 2) / factor
    return torch.cat([torch.sin(t_emb), torch.cos(t_emb)], dim=-1)


class _ResAttnLayers(nn.Module):  # the parallel lists shared by DownBlock / MidBlock / UpBlock
    def _lists(self, c_ins, c_out, t_emb_dim, num_heads, n_attn) -> None:
        self.resnet_conv_first = nn.ModuleList(
            [
                nn.Sequential(nn.GroupNorm(8, c), nn.SiLU(), nn.Conv2d(c, c_out, 3, 1, 1))
                for c in c_ins
            ]
        )
        self.t_emb_layers = nn.ModuleList(
            [nn.Sequential(nn.SiLU(), nn.Linear(t_emb_dim, c_out)) for _ in c_ins]
        )
        self.resnet_conv_second = nn.ModuleList(
            [
                nn.Sequential(nn.GroupNorm(8, c_out), nn.SiLU(), nn.Conv2d(c_out, c_out, 3, 1, 1))
                for _ in c_ins
            ]
        )
        self.attention_norms = nn.ModuleList([nn.GroupNorm(8, c_out) for _ in range(n_attn)])
        self.attentions = nn.ModuleList(
            [nn.MultiheadAttention(c_out, num_heads, batch_first=True) for _ in range(n_attn)]
        )
        self.residual_input_conv = nn.ModuleList([nn.Conv2d(c, c_out, 1) for c in c_ins])

    def _resnet(self, i: int, out: torch.Tensor, t_emb: torch.Tensor) -> torch.Tensor:
        resnet_input = out
        out = self.resnet_conv_first[i](out)
        out = out + self.t_emb_layers[i](t_emb)[:, :, None, None]
        out = self.resnet_conv_second[i](out)
        return out + self.residual_input_conv[i](resnet_input)

    def _attn(self, i: int, out: torch.Tensor) -> torch.Tensor:
        batch_size, channels, h, w = out.shape
        in_attn = out.reshape(batch_size, channels, h * w)
        in_attn = self.attention_norms[i](in_attn)
        in_attn = in_attn.transpose(1, 2)
        out_attn, _ = self.attentions[i](in_attn, in_attn, in_attn)
        out_attn = out_attn.transpose(1, 2).reshape(batch_size, channels, h, w)
        return out + out_attn


class EaDownBlock(_ResAttnLayers):  # models/unet_base.py DownBlock
    def __init__(self, c_in, c_out, t_emb_dim, down_sample, num_heads, num_layers) -> None:
        super().__init__()
        self.num_layers = num_layers
        c_ins = [c_in if i == 0 else c_out for i in range(num_layers)]
        self._lists(c_ins, c_out, t_emb_dim, num_heads, num_layers)
        self.down_sample_conv = nn.Conv2d(c_out, c_out, 4, 2, 1) if down_sample else nn.Identity()

    def forward(self, x: torch.Tensor, t_emb: torch.Tensor) -> torch.Tensor:
        out = x
        for i in range(self.num_layers):
            out = self._attn(i, self._resnet(i, out, t_emb))
        return self.down_sample_conv(out)


class EaMidBlock(_ResAttnLayers):  # models/unet_base.py MidBlock
    def __init__(self, c_in, c_out, t_emb_dim, num_heads, num_layers) -> None:
        super().__init__()
        self.num_layers = num_layers
        c_ins = [c_in if i == 0 else c_out for i in range(num_layers + 1)]
        self._lists(c_ins, c_out, t_emb_dim, num_heads, num_layers)

    def forward(self, x: torch.Tensor, t_emb: torch.Tensor) -> torch.Tensor:
        out = self._resnet(0, x, t_emb)
        for i in range(self.num_layers):
            out = self._resnet(i + 1, self._attn(i, out), t_emb)
        return out


class EaUpBlock(_ResAttnLayers):  # models/unet_base.py UpBlock
    def __init__(self, c_in, c_out, t_emb_dim, up_sample, num_heads, num_layers) -> None:
        super().__init__()
        self.num_layers = num_layers
        c_ins = [c_in if i == 0 else c_out for i in range(num_layers)]
        self._lists(c_ins, c_out, t_emb_dim, num_heads, num_layers)
        self.up_sample_conv = (
            nn.ConvTranspose2d(c_in // 2, c_in // 2, 4, 2, 1) if up_sample else nn.Identity()
        )

    def forward(self, x: torch.Tensor, out_down: torch.Tensor, t_emb: torch.Tensor) -> torch.Tensor:
        x = self.up_sample_conv(x)
        out = torch.cat([x, out_down], dim=1)
        for i in range(self.num_layers):
            out = self._attn(i, self._resnet(i, out, t_emb))
        return out


class EaUnet(nn.Module):  # models/unet_base.py Unet, channels / 4
    def __init__(self, im_channels: int = 3) -> None:
        super().__init__()
        self.down_channels = [8, 16, 32, 64]
        self.mid_channels = [64, 64, 32]
        self.t_emb_dim = 32
        self.down_sample = [True, True, False]
        self.up_sample = list(reversed(self.down_sample))
        self.t_proj = nn.Sequential(
            nn.Linear(self.t_emb_dim, self.t_emb_dim),
            nn.SiLU(),
            nn.Linear(self.t_emb_dim, self.t_emb_dim),
        )
        self.conv_in = nn.Conv2d(im_channels, self.down_channels[0], 3, padding=(1, 1))
        self.downs = nn.ModuleList(
            [
                EaDownBlock(
                    self.down_channels[i],
                    self.down_channels[i + 1],
                    self.t_emb_dim,
                    self.down_sample[i],
                    num_heads=4,
                    num_layers=2,
                )
                for i in range(len(self.down_channels) - 1)
            ]
        )
        self.mids = nn.ModuleList(
            [
                EaMidBlock(self.mid_channels[i], self.mid_channels[i + 1], self.t_emb_dim, 4, 2)
                for i in range(len(self.mid_channels) - 1)
            ]
        )
        self.ups = nn.ModuleList(
            [
                EaUpBlock(
                    self.down_channels[i] * 2,
                    self.down_channels[i - 1] if i != 0 else 16,
                    self.t_emb_dim,
                    self.down_sample[i],
                    num_heads=4,
                    num_layers=2,
                )
                for i in reversed(range(len(self.down_channels) - 1))
            ]
        )
        self.norm_out = nn.GroupNorm(8, 16)
        self.conv_out = nn.Conv2d(16, im_channels, kernel_size=3, padding=1)

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        out = self.conv_in(x)
        t_emb = get_time_embedding(torch.as_tensor(t).long(), self.t_emb_dim)
        t_emb = self.t_proj(t_emb)
        down_outs = []
        for down in self.downs:
            down_outs.append(out)
            out = down(out, t_emb)
        for mid in self.mids:
            out = mid(out, t_emb)
        for up in self.ups:
            out = up(out, down_outs.pop(), t_emb)
        out = F.silu(self.norm_out(out))
        return self.conv_out(out)


# ------------------------------------------------------------------ madebyollin TAESD


def _taesd_conv(n_in: int, n_out: int, **kwargs) -> nn.Conv2d:
    return nn.Conv2d(n_in, n_out, 3, padding=1, **kwargs)


class TaesdClamp(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(x / 3) * 3


class TaesdBlock(nn.Module):
    def __init__(self, n_in: int, n_out: int) -> None:
        super().__init__()
        self.conv = nn.Sequential(
            _taesd_conv(n_in, n_out),
            nn.ReLU(),
            _taesd_conv(n_out, n_out),
            nn.ReLU(),
            _taesd_conv(n_out, n_out),
        )
        self.skip = nn.Conv2d(n_in, n_out, 1, bias=False) if n_in != n_out else nn.Identity()
        self.fuse = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fuse(self.conv(x) + self.skip(x))


def TaesdEncoder(latent_channels: int = 4, c: int = 16) -> nn.Sequential:
    return nn.Sequential(
        _taesd_conv(3, c),
        TaesdBlock(c, c),
        _taesd_conv(c, c, stride=2, bias=False),
        TaesdBlock(c, c),
        _taesd_conv(c, c, stride=2, bias=False),
        TaesdBlock(c, c),
        _taesd_conv(c, c, stride=2, bias=False),
        TaesdBlock(c, c),
        _taesd_conv(c, latent_channels),
    )


def TaesdDecoder(latent_channels: int = 4, c: int = 16) -> nn.Sequential:
    return nn.Sequential(
        TaesdClamp(),
        _taesd_conv(latent_channels, c),
        nn.ReLU(),
        TaesdBlock(c, c),
        nn.Upsample(scale_factor=2),
        _taesd_conv(c, c, bias=False),
        TaesdBlock(c, c),
        nn.Upsample(scale_factor=2),
        _taesd_conv(c, c, bias=False),
        TaesdBlock(c, c),
        nn.Upsample(scale_factor=2),
        _taesd_conv(c, c, bias=False),
        TaesdBlock(c, c),
        _taesd_conv(c, 3),
    )


class Taesd(nn.Module):  # taesd.py TAESD, one Block per level (three there), width 16 (64)
    def __init__(self) -> None:
        super().__init__()
        self.encoder = TaesdEncoder()
        self.decoder = TaesdDecoder()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))


# ------------------------------------------------------------------ MIVRC MSRN


def _default_conv(c_in, c_out, k, bias=True) -> nn.Conv2d:
    return nn.Conv2d(c_in, c_out, k, padding=k // 2, bias=bias)


class MSRB(nn.Module):
    def __init__(self, n_feats: int = 8) -> None:
        super().__init__()
        self.conv_3_1 = _default_conv(n_feats, n_feats, 3)
        self.conv_3_2 = _default_conv(n_feats * 2, n_feats * 2, 3)
        self.conv_5_1 = _default_conv(n_feats, n_feats, 5)
        self.conv_5_2 = _default_conv(n_feats * 2, n_feats * 2, 5)
        self.confusion = nn.Conv2d(n_feats * 4, n_feats, 1, padding=0, stride=1)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        input_1 = x
        output_3_1 = self.relu(self.conv_3_1(input_1))
        output_5_1 = self.relu(self.conv_5_1(input_1))
        input_2 = torch.cat([output_3_1, output_5_1], 1)
        output_3_2 = self.relu(self.conv_3_2(input_2))
        output_5_2 = self.relu(self.conv_5_2(input_2))
        input_3 = torch.cat([output_3_2, output_5_2], 1)
        output = self.confusion(input_3)
        output += x
        return output


class MSRN(nn.Module):  # msrn.py MSRN, x2, n_feats 8 (64), 3 blocks (8)
    def __init__(self, n_feats: int = 8, n_blocks: int = 3, scale: int = 2) -> None:
        super().__init__()
        self.n_blocks = n_blocks
        self.sub_mean = nn.Conv2d(3, 3, 1)  # common.MeanShift
        self.head = nn.Sequential(_default_conv(3, n_feats, 3))
        self.body = nn.ModuleList([MSRB(n_feats) for _ in range(n_blocks)])
        self.tail = nn.Sequential(
            nn.Conv2d(n_feats * (n_blocks + 1), n_feats, 1, padding=0, stride=1),
            _default_conv(n_feats, n_feats, 3),
            nn.Sequential(_default_conv(n_feats, 4 * n_feats, 3), nn.PixelShuffle(2)),
            _default_conv(n_feats, 3, 3),
        )
        self.add_mean = nn.Conv2d(3, 3, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.sub_mean(x)
        x = self.head(x)
        res = x
        msrb_out = []
        for i in range(self.n_blocks):
            x = self.body[i](x)
            msrb_out.append(x)
        msrb_out.append(res)
        res = torch.cat(msrb_out, 1)
        x = self.tail(res)
        return self.add_mean(x)


# ------------------------------------------------------------------ yjn870 IDN


class IdnDBlock(nn.Module):  # IDN-pytorch models.py DBlock
    def __init__(self, num_features: int, d: int, s: int) -> None:
        super().__init__()
        self.num_features, self.s = num_features, s
        self.enhancement_top = nn.Sequential(
            nn.Conv2d(num_features, num_features - d, 3, padding=1),
            nn.LeakyReLU(0.05),
            nn.Conv2d(num_features - d, num_features - 2 * d, 3, padding=1, groups=4),
            nn.LeakyReLU(0.05),
            nn.Conv2d(num_features - 2 * d, num_features, 3, padding=1),
            nn.LeakyReLU(0.05),
        )
        self.enhancement_bottom = nn.Sequential(
            nn.Conv2d(num_features - d, num_features, 3, padding=1),
            nn.LeakyReLU(0.05),
            nn.Conv2d(num_features, num_features - d, 3, padding=1, groups=4),
            nn.LeakyReLU(0.05),
            nn.Conv2d(num_features - d, num_features + d, 3, padding=1),
            nn.LeakyReLU(0.05),
        )
        self.compression = nn.Conv2d(num_features + d, num_features, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual = x
        x = self.enhancement_top(x)
        cut = int(self.num_features - self.num_features / self.s)
        slice_1 = x[:, :cut, :, :]
        slice_2 = x[:, cut:, :, :]
        x = self.enhancement_bottom(slice_1)
        x = x + torch.cat((residual, slice_2), 1)
        return self.compression(x)


class IDN(nn.Module):  # IDN-pytorch models.py IDN, x2, num_features 16 (64), d 4 (16)
    def __init__(self, scale_factor: int = 2, num_features: int = 16, d: int = 4, s: int = 4):
        super().__init__()
        self.fblock = nn.Sequential(
            nn.Conv2d(1, num_features, 3, padding=1),
            nn.LeakyReLU(0.05),
            nn.Conv2d(num_features, num_features, 3, padding=1),
            nn.LeakyReLU(0.05),
        )
        self.dblocks = nn.Sequential(*[IdnDBlock(num_features, d, s) for _ in range(2)])
        self.deconv = nn.ConvTranspose2d(
            num_features, 1, 17, stride=scale_factor, padding=8, output_padding=scale_factor - 1
        )
        self.bicubic = nn.Upsample(scale_factor=scale_factor, mode="bicubic")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        bicubic = self.bicubic(x)
        x = self.fblock(x)
        x = self.dblocks(x)
        x = self.deconv(x)
        return bicubic + x


# ------------------------------------------------------------------ VainF DeepLabV3+


class TvBottleneck(nn.Module):  # torchvision.models.resnet.Bottleneck (the repo's backbone)
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None, dilation=1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(
            planes, planes, 3, stride, padding=dilation, dilation=dilation, bias=False
        )
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        return self.relu(out + identity)


class DilatedResNetBackbone(nn.Module):  # resnet50(replace_stride_with_dilation=[F, F, T])
    def __init__(self, width: int = 4) -> None:  # IntermediateLayerGetter keeps conv1..layer4
        super().__init__()
        self.inplanes, self.dilation = width, 1
        self.conv1 = nn.Conv2d(3, width, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = self._make_layer(width, 1)
        self.layer2 = self._make_layer(width * 2, 1, 2)
        self.layer3 = self._make_layer(width * 4, 1, 2)
        self.layer4 = self._make_layer(width * 8, 2, 2, dilate=True)

    def _make_layer(self, planes, blocks, stride=1, dilate=False) -> nn.Sequential:
        downsample = None
        previous_dilation = self.dilation
        if dilate:
            self.dilation *= stride
            stride = 1
        if stride != 1 or self.inplanes != planes * 4:
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, planes * 4, 1, stride, bias=False),
                nn.BatchNorm2d(planes * 4),
            )
        layers = [TvBottleneck(self.inplanes, planes, stride, downsample, previous_dilation)]
        self.inplanes = planes * 4
        for _ in range(1, blocks):
            layers.append(TvBottleneck(self.inplanes, planes, dilation=self.dilation))
        return nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        low_level = self.layer1(x)
        out = self.layer4(self.layer3(self.layer2(low_level)))
        return {"low_level": low_level, "out": out}


class ASPPConv(nn.Sequential):
    def __init__(self, c_in, c_out, dilation) -> None:
        super().__init__(
            nn.Conv2d(c_in, c_out, 3, padding=dilation, dilation=dilation, bias=False),
            nn.BatchNorm2d(c_out),
            nn.ReLU(inplace=True),
        )


class ASPPPooling(nn.Sequential):
    def __init__(self, c_in, c_out) -> None:
        super().__init__(
            nn.AdaptiveAvgPool2d(1),
            nn.Conv2d(c_in, c_out, 1, bias=False),
            nn.BatchNorm2d(c_out),
            nn.ReLU(inplace=True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        size = x.shape[-2:]
        x = super().forward(x)
        return F.interpolate(x, size=size, mode="bilinear", align_corners=False)


class ASPP(nn.Module):
    def __init__(self, c_in, rates, c_out=16) -> None:
        super().__init__()
        modules = [
            nn.Sequential(
                nn.Conv2d(c_in, c_out, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)
            )
        ]
        modules += [ASPPConv(c_in, c_out, r) for r in rates]
        modules.append(ASPPPooling(c_in, c_out))
        self.convs = nn.ModuleList(modules)
        self.project = nn.Sequential(
            nn.Conv2d(5 * c_out, c_out, 1, bias=False),
            nn.BatchNorm2d(c_out),
            nn.ReLU(inplace=True),
            nn.Dropout(0.1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.project(torch.cat([conv(x) for conv in self.convs], dim=1))


class DeepLabHeadV3Plus(nn.Module):
    def __init__(self, c_in, c_low, num_classes, aspp_dilate=(6, 12, 18)) -> None:
        super().__init__()
        self.project = nn.Sequential(
            nn.Conv2d(c_low, 8, 1, bias=False), nn.BatchNorm2d(8), nn.ReLU(inplace=True)
        )
        self.aspp = ASPP(c_in, aspp_dilate)
        self.classifier = nn.Sequential(
            nn.Conv2d(24, 16, 3, padding=1, bias=False),
            nn.BatchNorm2d(16),
            nn.ReLU(inplace=True),
            nn.Conv2d(16, num_classes, 1),
        )

    def forward(self, feature: dict[str, torch.Tensor]) -> torch.Tensor:
        low_level_feature = self.project(feature["low_level"])
        output_feature = self.aspp(feature["out"])
        output_feature = F.interpolate(
            output_feature, size=low_level_feature.shape[2:], mode="bilinear", align_corners=False
        )
        return self.classifier(torch.cat([low_level_feature, output_feature], dim=1))


class VainfDeepLabV3Plus(nn.Module):  # network/utils.py _SimpleSegmentationModel, OS16
    def __init__(self, num_classes: int = 5) -> None:
        super().__init__()
        self.backbone = DilatedResNetBackbone(4)
        self.classifier = DeepLabHeadV3Plus(128, 16, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        input_shape = x.shape[-2:]
        features = self.backbone(x)
        x = self.classifier(features)
        return F.interpolate(x, size=input_shape, mode="bilinear", align_corners=False)


# ------------------------------------------------------------------ 4uiiurz1 NestedUNet (U-Net++)


class VGGBlock(nn.Module):
    def __init__(self, c_in, c_mid, c_out) -> None:
        super().__init__()
        self.relu = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(c_in, c_mid, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(c_mid)
        self.conv2 = nn.Conv2d(c_mid, c_out, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(out)))


class NestedUNet(nn.Module):  # archs.py NestedUNet, nb_filter / 8, no deep supervision
    def __init__(self, num_classes: int = 2, input_channels: int = 3) -> None:
        super().__init__()
        nb = [4, 8, 16, 32, 64]
        self.pool = nn.MaxPool2d(2, 2)
        self.up = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True)
        self.conv0_0 = VGGBlock(input_channels, nb[0], nb[0])
        self.conv1_0 = VGGBlock(nb[0], nb[1], nb[1])
        self.conv2_0 = VGGBlock(nb[1], nb[2], nb[2])
        self.conv3_0 = VGGBlock(nb[2], nb[3], nb[3])
        self.conv4_0 = VGGBlock(nb[3], nb[4], nb[4])
        self.conv0_1 = VGGBlock(nb[0] + nb[1], nb[0], nb[0])
        self.conv1_1 = VGGBlock(nb[1] + nb[2], nb[1], nb[1])
        self.conv2_1 = VGGBlock(nb[2] + nb[3], nb[2], nb[2])
        self.conv3_1 = VGGBlock(nb[3] + nb[4], nb[3], nb[3])
        self.conv0_2 = VGGBlock(nb[0] * 2 + nb[1], nb[0], nb[0])
        self.conv1_2 = VGGBlock(nb[1] * 2 + nb[2], nb[1], nb[1])
        self.conv2_2 = VGGBlock(nb[2] * 2 + nb[3], nb[2], nb[2])
        self.conv0_3 = VGGBlock(nb[0] * 3 + nb[1], nb[0], nb[0])
        self.conv1_3 = VGGBlock(nb[1] * 3 + nb[2], nb[1], nb[1])
        self.conv0_4 = VGGBlock(nb[0] * 4 + nb[1], nb[0], nb[0])
        self.final = nn.Conv2d(nb[0], num_classes, kernel_size=1)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        x0_0 = self.conv0_0(input)
        x1_0 = self.conv1_0(self.pool(x0_0))
        x0_1 = self.conv0_1(torch.cat([x0_0, self.up(x1_0)], 1))
        x2_0 = self.conv2_0(self.pool(x1_0))
        x1_1 = self.conv1_1(torch.cat([x1_0, self.up(x2_0)], 1))
        x0_2 = self.conv0_2(torch.cat([x0_0, x0_1, self.up(x1_1)], 1))
        x3_0 = self.conv3_0(self.pool(x2_0))
        x2_1 = self.conv2_1(torch.cat([x2_0, self.up(x3_0)], 1))
        x1_2 = self.conv1_2(torch.cat([x1_0, x1_1, self.up(x2_1)], 1))
        x0_3 = self.conv0_3(torch.cat([x0_0, x0_1, x0_2, self.up(x1_2)], 1))
        x4_0 = self.conv4_0(self.pool(x3_0))
        x3_1 = self.conv3_1(torch.cat([x3_0, self.up(x4_0)], 1))
        x2_2 = self.conv2_2(torch.cat([x2_0, x2_1, self.up(x3_1)], 1))
        x1_3 = self.conv1_3(torch.cat([x1_0, x1_1, x1_2, self.up(x2_2)], 1))
        x0_4 = self.conv0_4(torch.cat([x0_0, x0_1, x0_2, x0_3, self.up(x1_3)], 1))
        return self.final(x0_4)


# ------------------------------------------------------------------ jvanvugt pytorch-unet


class UNetConvBlock(nn.Module):  # unet.py UNetConvBlock
    def __init__(self, in_size: int, out_size: int, padding: bool, batch_norm: bool) -> None:
        super().__init__()
        block = [nn.Conv2d(in_size, out_size, kernel_size=3, padding=int(padding)), nn.ReLU()]
        if batch_norm:
            block.append(nn.BatchNorm2d(out_size))
        block += [nn.Conv2d(out_size, out_size, kernel_size=3, padding=int(padding)), nn.ReLU()]
        if batch_norm:
            block.append(nn.BatchNorm2d(out_size))
        self.block = nn.Sequential(*block)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.block(x)


class UNetUpBlock(nn.Module):  # unet.py UNetUpBlock, up_mode="upconv"
    def __init__(self, in_size: int, out_size: int, padding: bool, batch_norm: bool) -> None:
        super().__init__()
        self.up = nn.ConvTranspose2d(in_size, out_size, kernel_size=2, stride=2)
        self.conv_block = UNetConvBlock(in_size, out_size, padding, batch_norm)

    def center_crop(self, layer: torch.Tensor, target_size: list[int]) -> torch.Tensor:
        _, _, layer_height, layer_width = layer.size()
        diff_y = (layer_height - target_size[0]) // 2
        diff_x = (layer_width - target_size[1]) // 2
        return layer[:, :, diff_y : (diff_y + target_size[0]), diff_x : (diff_x + target_size[1])]

    def forward(self, x: torch.Tensor, bridge: torch.Tensor) -> torch.Tensor:
        up = self.up(x)
        crop1 = self.center_crop(bridge, list(up.shape[2:]))
        out = torch.cat([up, crop1], 1)
        return self.conv_block(out)


class JvUNet(nn.Module):  # unet.py UNet(depth=3, wf=2, padding=False): valid convs, cropped skips
    def __init__(
        self, in_channels=1, n_classes=2, depth=3, wf=2, padding=False, batch_norm=False
    ) -> None:
        super().__init__()
        prev_channels = in_channels
        self.down_path = nn.ModuleList()
        for i in range(depth):
            self.down_path.append(UNetConvBlock(prev_channels, 2 ** (wf + i), padding, batch_norm))
            prev_channels = 2 ** (wf + i)
        self.up_path = nn.ModuleList()
        for i in reversed(range(depth - 1)):
            self.up_path.append(UNetUpBlock(prev_channels, 2 ** (wf + i), padding, batch_norm))
            prev_channels = 2 ** (wf + i)
        self.last = nn.Conv2d(prev_channels, n_classes, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        blocks = []
        for i, down in enumerate(self.down_path):
            x = down(x)
            if i != len(self.down_path) - 1:
                blocks.append(x)
                x = F.max_pool2d(x, 2)
        for i, up in enumerate(self.up_path):
            x = up(x, blocks[-i - 1])
        return self.last(x)


# ------------------------------------------------------------------ wkentaro FCN8s


class FCN8s(nn.Module):  # torchfcn/models/fcn8s.py, widths / 16, fc 64 (4096)
    def __init__(self, n_class: int = 5) -> None:
        super().__init__()
        w = [4, 8, 16, 32, 32]
        self.conv1_1 = nn.Conv2d(3, w[0], 3, padding=100)
        self.relu1_1 = nn.ReLU(inplace=True)
        self.conv1_2 = nn.Conv2d(w[0], w[0], 3, padding=1)
        self.relu1_2 = nn.ReLU(inplace=True)
        self.pool1 = nn.MaxPool2d(2, stride=2, ceil_mode=True)
        self.conv2_1 = nn.Conv2d(w[0], w[1], 3, padding=1)
        self.relu2_1 = nn.ReLU(inplace=True)
        self.conv2_2 = nn.Conv2d(w[1], w[1], 3, padding=1)
        self.relu2_2 = nn.ReLU(inplace=True)
        self.pool2 = nn.MaxPool2d(2, stride=2, ceil_mode=True)
        for stage, (c_in, c) in ((3, (w[1], w[2])), (4, (w[2], w[3])), (5, (w[3], w[4]))):
            for i in (1, 2, 3):
                self.add_module(
                    f"conv{stage}_{i}", nn.Conv2d(c_in if i == 1 else c, c, 3, padding=1)
                )
                self.add_module(f"relu{stage}_{i}", nn.ReLU(inplace=True))
            self.add_module(f"pool{stage}", nn.MaxPool2d(2, stride=2, ceil_mode=True))
        self.fc6 = nn.Conv2d(w[4], 64, 7)
        self.relu6 = nn.ReLU(inplace=True)
        self.drop6 = nn.Dropout2d()
        self.fc7 = nn.Conv2d(64, 64, 1)
        self.relu7 = nn.ReLU(inplace=True)
        self.drop7 = nn.Dropout2d()
        self.score_fr = nn.Conv2d(64, n_class, 1)
        self.score_pool3 = nn.Conv2d(w[2], n_class, 1)
        self.score_pool4 = nn.Conv2d(w[3], n_class, 1)
        self.upscore2 = nn.ConvTranspose2d(n_class, n_class, 4, stride=2, bias=False)
        self.upscore8 = nn.ConvTranspose2d(n_class, n_class, 16, stride=8, bias=False)
        self.upscore_pool4 = nn.ConvTranspose2d(n_class, n_class, 4, stride=2, bias=False)

    def _stage(self, h: torch.Tensor, stage: int, n: int) -> torch.Tensor:
        for i in range(1, n + 1):
            h = getattr(self, f"relu{stage}_{i}")(getattr(self, f"conv{stage}_{i}")(h))
        return getattr(self, f"pool{stage}")(h)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self._stage(x, 1, 2)
        h = self._stage(h, 2, 2)
        h = self._stage(h, 3, 3)
        pool3 = h  # 1/8
        h = self._stage(h, 4, 3)
        pool4 = h  # 1/16
        h = self._stage(h, 5, 3)
        h = self.drop6(self.relu6(self.fc6(h)))
        h = self.drop7(self.relu7(self.fc7(h)))
        h = self.score_fr(h)
        h = self.upscore2(h)
        upscore2 = h  # 1/16
        h = self.score_pool4(pool4)
        h = h[:, :, 5 : 5 + upscore2.size()[2], 5 : 5 + upscore2.size()[3]]
        score_pool4c = h  # 1/16
        h = upscore2 + score_pool4c
        h = self.upscore_pool4(h)
        upscore_pool4 = h  # 1/8
        h = self.score_pool3(pool3)
        h = h[:, :, 9 : 9 + upscore_pool4.size()[2], 9 : 9 + upscore_pool4.size()[3]]
        score_pool3c = h  # 1/8
        h = upscore_pool4 + score_pool3c
        h = self.upscore8(h)
        return h[:, :, 31 : 31 + x.size()[2], 31 : 31 + x.size()[3]].contiguous()


ZOO = {  # name: (build, input shape, takes a timestep)
    "explainingai_ddpm_unet": (EaUnet, (2, 3, 16, 16), True),
    "taesd": (Taesd, (2, 3, 32, 32), False),
    "msrn_x2": (MSRN, (2, 3, 8, 8), False),
    "idn_x2": (IDN, (2, 1, 8, 8), False),
    "vainf_deeplabv3plus": (VainfDeepLabV3Plus, (2, 3, 96, 96), False),
    "nested_unet": (NestedUNet, (2, 3, 32, 32), False),
    "jvanvugt_unet": (JvUNet, (2, 1, 60, 60), False),
    "wkentaro_fcn8s": (FCN8s, (2, 3, 32, 32), False),
}


def build(name: str) -> tuple[nn.Module, tuple[torch.Tensor, ...]]:
    """The reference at unit scale in eval mode, and the inputs its forward takes (an image, and
    one timestep per sample for the diffusion U-Net)."""
    return generative_reference(ZOO[name])
