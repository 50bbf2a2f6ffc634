"""Generative and dense-prediction nets as other repositories write them, fourteenth zoo (issue
16, session 21): test-only reference models for tests/test_generative_zoo_21.py. Reference code,
not generated code: the generated file must compute what these compute, or say where it cannot.

Layouts of repositories no earlier zoo used, written from the structure of each one's model file
(their code is not copied), narrowed: tanelp's tiny-diffusion MLP (sinusoidal embeddings of each
point coordinate scaled by 25 and of the timestep, concatenated into a GELU MLP of residual
`Block`s), crowsonkb's v-diffusion secondary model (FourierFeatures of the timestep expanded to
planes, nested SkipBlocks of ResConvBlocks with average pools and bilinear upsampling; the `v`
of its output), christiancosgrove's SNGAN ResNet generator (`dense` to 4x4, ResBlockGenerators
of BN-ReLU-Upsample-conv with an upsampling bypass), sunny2109's SAFMN (channels-first LayerNorms,
SAFM multi-scale adaptive max pools with depthwise convs and nearest resizes, a CCM, pixel
shuffle), Tramac's Fast-SCNN (learning-to-downsample, linear bottlenecks, a pyramid pooling of
1/2/3/6 with align_corners bilinear resizes, a feature fusion), swz30's Restormer (MDTA attention
across channels with a learned temperature, a gated-dconv FFN with a 2.66 expansion, pixel
(un)shuffle, a bias-free or biased token LayerNorm, a global residual), richzhang's ECCV16
colorizer (L normalised, BN after the ReLUs, dilated convs, 313 bins softmaxed then a 1x1 to ab,
bilinear x4, unnormalised) and naoto0804's AdaIN decoder (one nn.Sequential of reflection pads,
convs and nearest upsampling)."""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from tests.redraw import generative_reference


# ------------------------------------------------------------------ tanelp tiny-diffusion


class TinySinusoidalEmbedding(nn.Module):  # tiny-diffusion positional_embeddings.py
    def __init__(self, size: int, scale: float = 1.0) -> None:
        super().__init__()
        self.size, self.scale = size, scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x * self.scale
        half = self.size // 2
        emb = torch.log(torch.Tensor([10000.0])) / (half - 1)
        emb = torch.exp(-emb * torch.arange(half))
        emb = x.unsqueeze(-1) * emb.unsqueeze(0)
        return torch.cat((torch.sin(emb), torch.cos(emb)), dim=-1)

    def __len__(self) -> int:
        return self.size


class TinyPositionalEmbedding(nn.Module):
    def __init__(self, size: int, scale: float = 1.0) -> None:
        super().__init__()
        self.layer = TinySinusoidalEmbedding(size, scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer(x)


class TinyBlock(nn.Module):
    def __init__(self, size: int) -> None:
        super().__init__()
        self.ff = nn.Linear(size, size)
        self.act = nn.GELU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.act(self.ff(x))


class TanelpTinyDiffusionMLP(nn.Module):  # tiny-diffusion ddpm.py MLP, narrowed
    def __init__(self, hidden_size: int = 32, hidden_layers: int = 2, emb_size: int = 16) -> None:
        super().__init__()
        self.time_mlp = TinyPositionalEmbedding(emb_size)
        self.input_mlp1 = TinyPositionalEmbedding(emb_size, scale=25.0)
        self.input_mlp2 = TinyPositionalEmbedding(emb_size, scale=25.0)
        concat_size = len(self.time_mlp.layer) + len(self.input_mlp1.layer) + len(self.input_mlp2.layer)
        layers = [nn.Linear(concat_size, hidden_size), nn.GELU()]
        layers += [TinyBlock(hidden_size) for _ in range(hidden_layers)]
        layers.append(nn.Linear(hidden_size, 2))
        self.joint_mlp = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        x1_emb = self.input_mlp1(x[:, 0])
        x2_emb = self.input_mlp2(x[:, 1])
        t_emb = self.time_mlp(t)
        return self.joint_mlp(torch.cat((x1_emb, x2_emb, t_emb), dim=-1))


# ------------------------------------------------------------------ crowsonkb v-diffusion secondary model


class VdResidualBlock(nn.Module):  # v-diffusion-pytorch diffusion/utils.py ResidualBlock
    def __init__(self, main, skip=None) -> None:
        super().__init__()
        self.main = nn.Sequential(*main)
        self.skip = skip if skip else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.main(x) + self.skip(x)


class VdResConvBlock(VdResidualBlock):
    def __init__(self, c_in, c_mid, c_out, is_last=False) -> None:
        skip = None if c_in == c_out else nn.Conv2d(c_in, c_out, 1, bias=False)
        super().__init__([
            nn.Conv2d(c_in, c_mid, 3, padding=1), nn.BatchNorm2d(c_mid), nn.ReLU(inplace=True),
            nn.Conv2d(c_mid, c_out, 3, padding=1),
            nn.BatchNorm2d(c_out) if not is_last else nn.Identity(),
            nn.ReLU(inplace=True) if not is_last else nn.Identity()], skip)


class VdSkipBlock(nn.Module):
    def __init__(self, main, skip=None) -> None:
        super().__init__()
        self.main = nn.Sequential(*main)
        self.skip = skip if skip else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.main(x), self.skip(x)], dim=1)


class VdFourierFeatures(nn.Module):
    def __init__(self, in_features, out_features, std=1.0) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn([out_features // 2, in_features]) * std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = 2 * math.pi * x @ self.weight.T
        return torch.cat([f.cos(), f.sin()], dim=-1)


class CrowsonkbSecondaryDiffusion(nn.Module):  # v-diffusion secondary model layout (v only), narrowed
    def __init__(self, c: int = 8) -> None:
        super().__init__()
        self.timestep_embed = VdFourierFeatures(1, 16)
        self.net = nn.Sequential(
            VdResConvBlock(3 + 16, c, c),
            VdResConvBlock(c, c, c),
            VdSkipBlock([
                nn.AvgPool2d(2),
                VdResConvBlock(c, c * 2, c * 2),
                VdSkipBlock([
                    nn.AvgPool2d(2),
                    VdResConvBlock(c * 2, c * 4, c * 4),
                    VdResConvBlock(c * 4, c * 4, c * 2),
                    nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)]),
                VdResConvBlock(c * 4, c * 2, c * 2),
                VdResConvBlock(c * 2, c * 2, c),
                nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)]),
            VdResConvBlock(c * 2, c, c),
            VdResConvBlock(c, c, 3, is_last=True))

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        emb = self.timestep_embed(t[:, None])
        emb = emb[..., None, None].repeat([1, 1, x.shape[2], x.shape[3]])
        return self.net(torch.cat([x, emb], dim=1))


# ------------------------------------------------------------------ christiancosgrove SNGAN ResNet generator


class SnganResBlockGenerator(nn.Module):  # pytorch-spectral-normalization-gan model_resnet.py
    def __init__(self, c_in, c_out, stride=1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, 1, padding=1)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, padding=1)
        self.model = nn.Sequential(nn.BatchNorm2d(c_in), nn.ReLU(), nn.Upsample(scale_factor=2), self.conv1,
                                   nn.BatchNorm2d(c_out), nn.ReLU(), self.conv2)
        self.bypass = nn.Sequential()
        if stride != 1:
            self.bypass = nn.Upsample(scale_factor=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x) + self.bypass(x)


class CosgroveSnganGenerator(nn.Module):  # model_resnet.py Generator (GEN_SIZE 128 -> 16), narrowed
    def __init__(self, z_dim: int = 16, gen_size: int = 16, channels: int = 3) -> None:
        super().__init__()
        self.gen_size = gen_size
        self.dense = nn.Linear(z_dim, 4 * 4 * gen_size)
        self.final = nn.Conv2d(gen_size, channels, 3, stride=1, padding=1)
        self.model = nn.Sequential(
            SnganResBlockGenerator(gen_size, gen_size, stride=2),
            SnganResBlockGenerator(gen_size, gen_size, stride=2),
            SnganResBlockGenerator(gen_size, gen_size, stride=2),
            nn.BatchNorm2d(gen_size), nn.ReLU(), self.final, nn.Tanh())

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.model(self.dense(z).view(-1, self.gen_size, 4, 4))


# ------------------------------------------------------------------ sunny2109 SAFMN


class SafmnLayerNorm(nn.Module):  # safmn_arch.py LayerNorm (channels_first, eps 1e-6)
    def __init__(self, normalized_shape, eps=1e-6) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(normalized_shape))
        self.bias = nn.Parameter(torch.zeros(normalized_shape))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        u = x.mean(1, keepdim=True)
        s = (x - u).pow(2).mean(1, keepdim=True)
        x = (x - u) / torch.sqrt(s + self.eps)
        return self.weight[:, None, None] * x + self.bias[:, None, None]


class SafmnCCM(nn.Module):
    def __init__(self, dim, growth_rate=2.0) -> None:
        super().__init__()
        hidden = int(dim * growth_rate)
        self.ccm = nn.Sequential(nn.Conv2d(dim, hidden, 3, 1, 1), nn.GELU(), nn.Conv2d(hidden, dim, 1, 1, 0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.ccm(x)


class SAFM(nn.Module):  # safmn_arch.py SAFM: per-chunk max pool to 1/2**i, depthwise conv, resize
    def __init__(self, dim, n_levels=4) -> None:
        super().__init__()
        self.n_levels = n_levels
        chunk_dim = dim // n_levels
        self.mfr = nn.ModuleList([nn.Conv2d(chunk_dim, chunk_dim, 3, 1, 1, groups=chunk_dim) for _ in range(n_levels)])
        self.aggr = nn.Conv2d(dim, dim, 1, 1, 0)
        self.act = nn.GELU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.size()[-2:]
        xc = x.chunk(self.n_levels, dim=1)
        out = []
        for i in range(self.n_levels):
            if i > 0:
                s = F.adaptive_max_pool2d(xc[i], (h // 2 ** i, w // 2 ** i))
                s = F.interpolate(self.mfr[i](s), size=(h, w), mode="nearest")
            else:
                s = self.mfr[i](xc[i])
            out.append(s)
        return self.act(self.aggr(torch.cat(out, dim=1))) * x


class SafmnAttBlock(nn.Module):
    def __init__(self, dim, ffn_scale=2.0) -> None:
        super().__init__()
        self.norm1 = SafmnLayerNorm(dim)
        self.norm2 = SafmnLayerNorm(dim)
        self.safm = SAFM(dim)
        self.ccm = SafmnCCM(dim, ffn_scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.safm(self.norm1(x)) + x
        return self.ccm(self.norm2(x)) + x


class Sunny2109SAFMN(nn.Module):  # safmn_arch.py SAFMN (dim 36 -> 16, 8 blocks -> 2), x2
    def __init__(self, dim: int = 16, n_blocks: int = 2, ffn_scale: float = 2.0, upscaling_factor: int = 2) -> None:
        super().__init__()
        self.to_feat = nn.Conv2d(3, dim, 3, 1, 1)
        self.feats = nn.Sequential(*[SafmnAttBlock(dim, ffn_scale) for _ in range(n_blocks)])
        self.to_img = nn.Sequential(nn.Conv2d(dim, 3 * upscaling_factor ** 2, 3, 1, 1),
                                    nn.PixelShuffle(upscaling_factor))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.to_feat(x)
        x = self.feats(x) + x
        return self.to_img(x)


# ------------------------------------------------------------------ Tramac Fast-SCNN


class _ConvBNReLU(nn.Module):
    def __init__(self, c_in, c_out, kernel_size=3, stride=1, padding=0) -> None:
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(c_in, c_out, kernel_size, stride, padding, bias=False),
                                  nn.BatchNorm2d(c_out), nn.ReLU(True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


class _DSConv(nn.Module):
    def __init__(self, dw_channels, out_channels, stride=1) -> None:
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(dw_channels, dw_channels, 3, stride, 1, groups=dw_channels, bias=False),
            nn.BatchNorm2d(dw_channels), nn.ReLU(True),
            nn.Conv2d(dw_channels, out_channels, 1, bias=False), nn.BatchNorm2d(out_channels), nn.ReLU(True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


class _DWConv(nn.Module):
    def __init__(self, dw_channels, out_channels, stride=1) -> None:
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(dw_channels, out_channels, 3, stride, 1, groups=dw_channels, bias=False),
            nn.BatchNorm2d(out_channels), nn.ReLU(True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


class LinearBottleneck(nn.Module):
    def __init__(self, c_in, c_out, t=6, stride=2) -> None:
        super().__init__()
        self.use_shortcut = stride == 1 and c_in == c_out
        self.block = nn.Sequential(_ConvBNReLU(c_in, c_in * t, 1), _DWConv(c_in * t, c_in * t, stride),
                                   nn.Conv2d(c_in * t, c_out, 1, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.block(x)
        return x + out if self.use_shortcut else out


class PyramidPooling(nn.Module):
    def __init__(self, c_in, c_out) -> None:
        super().__init__()
        inter = int(c_in / 4)
        self.conv1 = _ConvBNReLU(c_in, inter, 1)
        self.conv2 = _ConvBNReLU(c_in, inter, 1)
        self.conv3 = _ConvBNReLU(c_in, inter, 1)
        self.conv4 = _ConvBNReLU(c_in, inter, 1)
        self.out = _ConvBNReLU(c_in * 2, c_out, 1)

    def pool(self, x, size):
        return nn.AdaptiveAvgPool2d(size)(x)

    def upsample(self, x, size):
        return F.interpolate(x, size, mode="bilinear", align_corners=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        size = x.size()[2:]
        feat1 = self.upsample(self.conv1(self.pool(x, 1)), size)
        feat2 = self.upsample(self.conv2(self.pool(x, 2)), size)
        feat3 = self.upsample(self.conv3(self.pool(x, 3)), size)
        feat4 = self.upsample(self.conv4(self.pool(x, 6)), size)
        return self.out(torch.cat([x, feat1, feat2, feat3, feat4], dim=1))


class LearningToDownsample(nn.Module):
    def __init__(self, dw_channels1=32, dw_channels2=48, out_channels=64) -> None:
        super().__init__()
        self.conv = _ConvBNReLU(3, dw_channels1, 3, 2)
        self.dsconv1 = _DSConv(dw_channels1, dw_channels2, 2)
        self.dsconv2 = _DSConv(dw_channels2, out_channels, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dsconv2(self.dsconv1(self.conv(x)))


class GlobalFeatureExtractor(nn.Module):
    def __init__(self, c_in=64, block_channels=(64, 96, 128), c_out=128, t=6, num_blocks=(3, 3, 3)) -> None:
        super().__init__()
        self.bottleneck1 = self._make_layer(c_in, block_channels[0], num_blocks[0], t, 2)
        self.bottleneck2 = self._make_layer(block_channels[0], block_channels[1], num_blocks[1], t, 2)
        self.bottleneck3 = self._make_layer(block_channels[1], block_channels[2], num_blocks[2], t, 1)
        self.ppm = PyramidPooling(block_channels[2], c_out)

    def _make_layer(self, inplanes, planes, blocks, t=6, stride=1):
        layers = [LinearBottleneck(inplanes, planes, t, stride)]
        layers += [LinearBottleneck(planes, planes, t, 1) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.ppm(self.bottleneck3(self.bottleneck2(self.bottleneck1(x))))


class FeatureFusionModule(nn.Module):
    def __init__(self, highter_in_channels, lower_in_channels, out_channels, scale_factor=4) -> None:
        super().__init__()
        self.scale_factor = scale_factor
        self.dwconv = _DWConv(lower_in_channels, out_channels, 1)
        self.conv_lower_res = nn.Sequential(nn.Conv2d(out_channels, out_channels, 1), nn.BatchNorm2d(out_channels))
        self.conv_higher_res = nn.Sequential(nn.Conv2d(highter_in_channels, out_channels, 1),
                                             nn.BatchNorm2d(out_channels))
        self.relu = nn.ReLU(True)

    def forward(self, higher_res_feature, lower_res_feature):
        lower_res_feature = F.interpolate(lower_res_feature, scale_factor=4, mode="bilinear", align_corners=True)
        lower_res_feature = self.conv_lower_res(self.dwconv(lower_res_feature))
        higher_res_feature = self.conv_higher_res(higher_res_feature)
        return self.relu(higher_res_feature + lower_res_feature)


class Classifer(nn.Module):  # (sic) the repository's spelling
    def __init__(self, dw_channels, num_classes, stride=1) -> None:
        super().__init__()
        self.dsconv1 = _DSConv(dw_channels, dw_channels, stride)
        self.dsconv2 = _DSConv(dw_channels, dw_channels, stride)
        self.conv = nn.Sequential(nn.Dropout(0.1), nn.Conv2d(dw_channels, num_classes, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(self.dsconv2(self.dsconv1(x)))


class TramacFastSCNN(nn.Module):  # Fast-SCNN-pytorch models/fast_scnn.py FastSCNN (aux=False), narrowed
    def __init__(self, num_classes: int = 5) -> None:
        super().__init__()
        self.learning_to_downsample = LearningToDownsample(8, 12, 16)
        self.global_feature_extractor = GlobalFeatureExtractor(16, (16, 24, 32), 32, 6, (1, 1, 1))
        self.feature_fusion = FeatureFusionModule(16, 32, 32)
        self.classifier = Classifer(32, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        size = x.size()[2:]
        higher_res_features = self.learning_to_downsample(x)
        x = self.global_feature_extractor(higher_res_features)
        x = self.classifier(self.feature_fusion(higher_res_features, x))
        # the repository returns tuple(outputs) of this one map (aux=False); the map itself here
        return F.interpolate(x, size, mode="bilinear", align_corners=True)


# ------------------------------------------------------------------ swz30 Restormer


class BiasFreeLayerNorm(nn.Module):  # restormer_arch.py BiasFree_LayerNorm
    def __init__(self, normalized_shape) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(normalized_shape))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        sigma = x.var(-1, keepdim=True, unbiased=False)
        return x / torch.sqrt(sigma + 1e-5) * self.weight


class WithBiasLayerNorm(nn.Module):  # restormer_arch.py WithBias_LayerNorm
    def __init__(self, normalized_shape) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(normalized_shape))
        self.bias = nn.Parameter(torch.zeros(normalized_shape))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mu = x.mean(-1, keepdim=True)
        sigma = x.var(-1, keepdim=True, unbiased=False)
        return (x - mu) / torch.sqrt(sigma + 1e-5) * self.weight + self.bias


class RestormerLayerNorm(nn.Module):  # to_3d, body, to_4d
    def __init__(self, dim, layer_norm_type) -> None:
        super().__init__()
        self.body = BiasFreeLayerNorm(dim) if layer_norm_type == "BiasFree" else WithBiasLayerNorm(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        y = self.body(x.flatten(2).transpose(1, 2))  # 'b c h w -> b (h w) c'
        return y.transpose(1, 2).reshape(b, c, h, w)


class RestormerFeedForward(nn.Module):  # GDFN: gated depthwise-conv feed-forward
    def __init__(self, dim, ffn_expansion_factor, bias) -> None:
        super().__init__()
        hidden = int(dim * ffn_expansion_factor)
        self.project_in = nn.Conv2d(dim, hidden * 2, 1, bias=bias)
        self.dwconv = nn.Conv2d(hidden * 2, hidden * 2, 3, 1, 1, groups=hidden * 2, bias=bias)
        self.project_out = nn.Conv2d(hidden, dim, 1, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x1, x2 = self.dwconv(self.project_in(x)).chunk(2, dim=1)
        return self.project_out(F.gelu(x1) * x2)


class RestormerAttention(nn.Module):  # MDTA: attention across channels, a learned temperature
    def __init__(self, dim, num_heads, bias) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.temperature = nn.Parameter(torch.ones(num_heads, 1, 1))
        self.qkv = nn.Conv2d(dim, dim * 3, 1, bias=bias)
        self.qkv_dwconv = nn.Conv2d(dim * 3, dim * 3, 3, 1, 1, groups=dim * 3, bias=bias)
        self.project_out = nn.Conv2d(dim, dim, 1, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        q, k, v = self.qkv_dwconv(self.qkv(x)).chunk(3, dim=1)
        q, k, v = (t.reshape(b, self.num_heads, c // self.num_heads, h * w) for t in (q, k, v))
        q = F.normalize(q, dim=-1)
        k = F.normalize(k, dim=-1)
        attn = ((q @ k.transpose(-2, -1)) * self.temperature).softmax(dim=-1)
        out = (attn @ v).reshape(b, c, h, w)
        return self.project_out(out)


class RestormerTransformerBlock(nn.Module):
    def __init__(self, dim, num_heads, ffn_expansion_factor, bias, layer_norm_type) -> None:
        super().__init__()
        self.norm1 = RestormerLayerNorm(dim, layer_norm_type)
        self.attn = RestormerAttention(dim, num_heads, bias)
        self.norm2 = RestormerLayerNorm(dim, layer_norm_type)
        self.ffn = RestormerFeedForward(dim, ffn_expansion_factor, bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.ffn(self.norm2(x))


class RestormerOverlapPatchEmbed(nn.Module):
    def __init__(self, in_c=3, embed_dim=48, bias=False) -> None:
        super().__init__()
        self.proj = nn.Conv2d(in_c, embed_dim, 3, 1, 1, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x)


class RestormerDownsample(nn.Module):
    def __init__(self, n_feat) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(n_feat, n_feat // 2, 3, 1, 1, bias=False), nn.PixelUnshuffle(2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


class RestormerUpsample(nn.Module):
    def __init__(self, n_feat) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(n_feat, n_feat * 2, 3, 1, 1, bias=False), nn.PixelShuffle(2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


class Swz30Restormer(nn.Module):  # restormer_arch.py Restormer (dim 48 -> 8, one block a level)
    def __init__(self, inp_channels=3, out_channels=3, dim=8, num_blocks=(1, 1, 1, 1), num_refinement_blocks=1,
                 heads=(1, 2, 4, 8), ffn_expansion_factor=2.66, bias=False, layer_norm_type="WithBias") -> None:
        super().__init__()

        def level(d, h, n):
            return nn.Sequential(*[RestormerTransformerBlock(d, h, ffn_expansion_factor, bias, layer_norm_type)
                                   for _ in range(n)])

        self.patch_embed = RestormerOverlapPatchEmbed(inp_channels, dim)
        self.encoder_level1 = level(dim, heads[0], num_blocks[0])
        self.down1_2 = RestormerDownsample(dim)
        self.encoder_level2 = level(dim * 2, heads[1], num_blocks[1])
        self.down2_3 = RestormerDownsample(dim * 2)
        self.encoder_level3 = level(dim * 4, heads[2], num_blocks[2])
        self.down3_4 = RestormerDownsample(dim * 4)
        self.latent = level(dim * 8, heads[3], num_blocks[3])
        self.up4_3 = RestormerUpsample(dim * 8)
        self.reduce_chan_level3 = nn.Conv2d(dim * 8, dim * 4, 1, bias=bias)
        self.decoder_level3 = level(dim * 4, heads[2], num_blocks[2])
        self.up3_2 = RestormerUpsample(dim * 4)
        self.reduce_chan_level2 = nn.Conv2d(dim * 4, dim * 2, 1, bias=bias)
        self.decoder_level2 = level(dim * 2, heads[1], num_blocks[1])
        self.up2_1 = RestormerUpsample(dim * 2)
        self.decoder_level1 = level(dim * 2, heads[0], num_blocks[0])
        self.refinement = level(dim * 2, heads[0], num_refinement_blocks)
        self.output = nn.Conv2d(dim * 2, out_channels, 3, 1, 1, bias=bias)

    def forward(self, inp_img: torch.Tensor) -> torch.Tensor:
        out_enc_level1 = self.encoder_level1(self.patch_embed(inp_img))
        out_enc_level2 = self.encoder_level2(self.down1_2(out_enc_level1))
        out_enc_level3 = self.encoder_level3(self.down2_3(out_enc_level2))
        latent = self.latent(self.down3_4(out_enc_level3))
        inp_dec_level3 = self.reduce_chan_level3(torch.cat([self.up4_3(latent), out_enc_level3], 1))
        out_dec_level3 = self.decoder_level3(inp_dec_level3)
        inp_dec_level2 = self.reduce_chan_level2(torch.cat([self.up3_2(out_dec_level3), out_enc_level2], 1))
        out_dec_level2 = self.decoder_level2(inp_dec_level2)
        inp_dec_level1 = torch.cat([self.up2_1(out_dec_level2), out_enc_level1], 1)
        out_dec_level1 = self.refinement(self.decoder_level1(inp_dec_level1))
        return self.output(out_dec_level1) + inp_img


# ------------------------------------------------------------------ richzhang ECCV16 colorizer


class RichzhangECCVGenerator(nn.Module):  # colorization colorizers/eccv16.py (widths /8; 313 bins kept)
    def __init__(self) -> None:
        super().__init__()
        self.l_cent, self.l_norm, self.ab_norm = 50.0, 100.0, 110.0
        w1, w2, w3, w4 = 8, 16, 32, 32

        def convs(c_in, c_out, n, last_stride=1, dilation=1):
            layers = []
            for i in range(n):
                stride = last_stride if i == n - 1 else 1
                layers += [nn.Conv2d(c_in if i == 0 else c_out, c_out, 3, stride=stride, padding=dilation,
                                     dilation=dilation, bias=True), nn.ReLU(True)]
            return layers + [nn.BatchNorm2d(c_out)]

        self.model1 = nn.Sequential(*convs(1, w1, 2, 2))
        self.model2 = nn.Sequential(*convs(w1, w2, 2, 2))
        self.model3 = nn.Sequential(*convs(w2, w3, 3, 2))
        self.model4 = nn.Sequential(*convs(w3, w4, 3))
        self.model5 = nn.Sequential(*convs(w4, w4, 3, dilation=2))
        self.model6 = nn.Sequential(*convs(w4, w4, 3, dilation=2))
        self.model7 = nn.Sequential(*convs(w4, w4, 3))
        self.model8 = nn.Sequential(
            nn.ConvTranspose2d(w4, w3, kernel_size=4, stride=2, padding=1, bias=True), nn.ReLU(True),
            nn.Conv2d(w3, w3, 3, 1, 1, bias=True), nn.ReLU(True),
            nn.Conv2d(w3, w3, 3, 1, 1, bias=True), nn.ReLU(True),
            nn.Conv2d(w3, 313, 1, 1, 0, bias=True))
        self.softmax = nn.Softmax(dim=1)
        self.model_out = nn.Conv2d(313, 2, 1, padding=0, dilation=1, stride=1, bias=False)
        self.upsample4 = nn.Upsample(scale_factor=4, mode="bilinear")

    def forward(self, input_l: torch.Tensor) -> torch.Tensor:
        x = self.model1((input_l - self.l_cent) / self.l_norm)
        x = self.model4(self.model3(self.model2(x)))
        x = self.model8(self.model7(self.model6(self.model5(x))))
        out_reg = self.model_out(self.softmax(x))
        return self.upsample4(out_reg) * self.ab_norm


# ------------------------------------------------------------------ naoto0804 AdaIN decoder


def naoto0804_adain_decoder() -> nn.Sequential:  # pytorch-AdaIN net.py `decoder` (widths /8)
    def conv(c_in, c_out):
        return [nn.ReflectionPad2d((1, 1, 1, 1)), nn.Conv2d(c_in, c_out, (3, 3)), nn.ReLU()]

    return nn.Sequential(
        *conv(64, 32), nn.Upsample(scale_factor=2, mode="nearest"),
        *conv(32, 32), *conv(32, 32), *conv(32, 32), *conv(32, 16), nn.Upsample(scale_factor=2, mode="nearest"),
        *conv(16, 16), *conv(16, 8), nn.Upsample(scale_factor=2, mode="nearest"),
        *conv(8, 8), nn.ReflectionPad2d((1, 1, 1, 1)), nn.Conv2d(8, 3, (3, 3)))


ZOO = {  # name: (build, input shape, takes a timestep)
    "tanelp_tiny_diffusion": (TanelpTinyDiffusionMLP, (2, 2), True),
    "crowsonkb_secondary_diffusion": (CrowsonkbSecondaryDiffusion, (2, 3, 16, 16), True),
    "cosgrove_sngan_generator": (CosgroveSnganGenerator, (2, 16), False),
    "sunny2109_safmn_x2": (Sunny2109SAFMN, (2, 3, 16, 16), False),
    "tramac_fast_scnn": (TramacFastSCNN, (2, 3, 64, 64), False),
    "swz30_restormer": (Swz30Restormer, (2, 3, 16, 16), False),
    "richzhang_eccv16": (RichzhangECCVGenerator, (2, 1, 32, 32), False),
    "naoto0804_adain_decoder": (naoto0804_adain_decoder, (2, 64, 4, 4), False),
}


def build(name: str) -> tuple[nn.Module, tuple[torch.Tensor, ...]]:
    """The reference at unit scale in eval mode, and the inputs its forward takes (an image, a
    latent or 2-d points, and one timestep per sample for the two diffusion models)."""
    return generative_reference(ZOO[name])
