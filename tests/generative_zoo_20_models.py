"""Generative and dense-prediction nets as other repositories write them, thirteenth zoo (issue
16, session 20): test-only reference models for tests/test_generative_zoo_20.py. Reference code,
not generated code: the generated file must compute what these compute, or say where it cannot.

Layouts of repositories no earlier zoo used, written from the structure of each one's model file
(their code is not copied), narrowed: w86763777/pytorch-ddpm's UNet (a `time_embedding` whose
sinusoid table is a saved nn.Embedding, `head`, `downblocks`/`middleblocks`/`upblocks` ModuleLists
of ResBlocks with `block1`/`temb_proj`/`block2`/`shortcut`/`attn`, DownSample/UpSample `main`,
`tail`), TeaPearce's Conditional_Diffusion_MNIST ContextUnet (ResidualConvBlocks scaled by 1/1.414,
EmbedFC timestep and context embeddings that scale and shift the up path, an AvgPool to a vector
and a 7x7 transposed conv back; the context dropped, as classifier-free sampling's unconditional
half runs it), LukeDitria's CNN-VAE (ResDown/ResUp blocks with a strided 3x3 skip, BN eps 1e-4, ELU;
the mean decoded in eval), bytedance's RLFN (RLFB blocks: three 3x3 convs with LeakyReLU 0.05, a
residual, a 1x1 `c5`, an ESA attention with a strided conv, a 7/3 max pool and a bilinear resize),
segmentation_models_pytorch's FPN (a ResNet encoder, `p5` and FPNBlocks, SegmentationBlocks of
Conv3x3GNReLU with bilinear upsampling, an add merge, a 1x1 head upsampled by 4),
eriklindernoren's CycleGAN GeneratorResNet (reflection pads, affine-free InstanceNorm, nearest
upsampling then a conv), rishikksh20's ResUnet (pre-activation ResidualConv blocks with a conv
skip, transposed-conv upsampling) and yjn870's REDNet30 (conv / transposed-conv chains with
symmetric skips every second layer)."""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from tests.redraw import generative_reference

# ------------------------------------------------------------------ w86763777 pytorch-ddpm UNet


class Swish(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(x)


class TimeEmbedding(nn.Module):  # pytorch-ddpm model.py TimeEmbedding
    def __init__(self, T: int, d_model: int, dim: int) -> None:
        super().__init__()
        emb = torch.arange(0, d_model, step=2) / d_model * math.log(10000)
        emb = torch.exp(-emb)
        pos = torch.arange(T).float()
        emb = pos[:, None] * emb[None, :]
        emb = torch.stack([torch.sin(emb), torch.cos(emb)], dim=-1).view(T, d_model)
        self.timembedding = nn.Sequential(
            nn.Embedding.from_pretrained(emb),
            nn.Linear(d_model, dim),
            Swish(),
            nn.Linear(dim, dim),
        )

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        return self.timembedding(t)


class DownSample(nn.Module):
    def __init__(self, in_ch: int) -> None:
        super().__init__()
        self.main = nn.Conv2d(in_ch, in_ch, 3, stride=2, padding=1)

    def forward(self, x: torch.Tensor, temb: torch.Tensor) -> torch.Tensor:
        return self.main(x)


class UpSample(nn.Module):
    def __init__(self, in_ch: int) -> None:
        super().__init__()
        self.main = nn.Conv2d(in_ch, in_ch, 3, stride=1, padding=1)

    def forward(self, x: torch.Tensor, temb: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(x, scale_factor=2, mode="nearest")
        return self.main(x)


class AttnBlock(nn.Module):
    def __init__(self, in_ch: int) -> None:
        super().__init__()
        self.group_norm = nn.GroupNorm(32, in_ch)
        self.proj_q = nn.Conv2d(in_ch, in_ch, 1, stride=1, padding=0)
        self.proj_k = nn.Conv2d(in_ch, in_ch, 1, stride=1, padding=0)
        self.proj_v = nn.Conv2d(in_ch, in_ch, 1, stride=1, padding=0)
        self.proj = nn.Conv2d(in_ch, in_ch, 1, stride=1, padding=0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, C, H, W = x.shape
        h = self.group_norm(x)
        q, k, v = self.proj_q(h), self.proj_k(h), self.proj_v(h)
        q = q.permute(0, 2, 3, 1).view(B, H * W, C)
        k = k.view(B, C, H * W)
        w = torch.bmm(q, k) * (int(C) ** (-0.5))
        w = F.softmax(w, dim=-1)
        v = v.permute(0, 2, 3, 1).view(B, H * W, C)
        h = torch.bmm(w, v)
        h = h.view(B, H, W, C).permute(0, 3, 1, 2)
        return x + self.proj(h)


class ResBlock(nn.Module):
    def __init__(self, in_ch: int, out_ch: int, tdim: int, dropout: float, attn=False) -> None:
        super().__init__()
        self.block1 = nn.Sequential(
            nn.GroupNorm(32, in_ch), Swish(), nn.Conv2d(in_ch, out_ch, 3, stride=1, padding=1)
        )
        self.temb_proj = nn.Sequential(Swish(), nn.Linear(tdim, out_ch))
        self.block2 = nn.Sequential(
            nn.GroupNorm(32, out_ch),
            Swish(),
            nn.Dropout(dropout),
            nn.Conv2d(out_ch, out_ch, 3, stride=1, padding=1),
        )
        if in_ch != out_ch:
            self.shortcut = nn.Conv2d(in_ch, out_ch, 1, stride=1, padding=0)
        else:
            self.shortcut = nn.Identity()
        self.attn = AttnBlock(out_ch) if attn else nn.Identity()

    def forward(self, x: torch.Tensor, temb: torch.Tensor) -> torch.Tensor:
        h = self.block1(x)
        h += self.temb_proj(temb)[:, :, None, None]
        h = self.block2(h)
        h = h + self.shortcut(x)
        return self.attn(h)


class W86763777UNet(nn.Module):  # pytorch-ddpm model.py UNet(T=1000, ch=32, ch_mult=[1, 2])
    def __init__(self, T=1000, ch=32, ch_mult=(1, 2), attn=(1,), num_res_blocks=1, dropout=0.1):
        super().__init__()
        tdim = ch * 4
        self.time_embedding = TimeEmbedding(T, ch, tdim)
        self.head = nn.Conv2d(3, ch, kernel_size=3, stride=1, padding=1)
        self.downblocks = nn.ModuleList()
        chs = [ch]
        now_ch = ch
        for i, mult in enumerate(ch_mult):
            out_ch = ch * mult
            for _ in range(num_res_blocks):
                self.downblocks.append(ResBlock(now_ch, out_ch, tdim, dropout, attn=(i in attn)))
                now_ch = out_ch
                chs.append(now_ch)
            if i != len(ch_mult) - 1:
                self.downblocks.append(DownSample(now_ch))
                chs.append(now_ch)
        self.middleblocks = nn.ModuleList(
            [
                ResBlock(now_ch, now_ch, tdim, dropout, attn=True),
                ResBlock(now_ch, now_ch, tdim, dropout, attn=False),
            ]
        )
        self.upblocks = nn.ModuleList()
        for i, mult in reversed(list(enumerate(ch_mult))):
            out_ch = ch * mult
            for _ in range(num_res_blocks + 1):
                self.upblocks.append(
                    ResBlock(chs.pop() + now_ch, out_ch, tdim, dropout, attn=(i in attn))
                )
                now_ch = out_ch
            if i != 0:
                self.upblocks.append(UpSample(now_ch))
        self.tail = nn.Sequential(
            nn.GroupNorm(32, now_ch), Swish(), nn.Conv2d(now_ch, 3, 3, stride=1, padding=1)
        )

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        temb = self.time_embedding(t)
        h = self.head(x)
        hs = [h]
        for layer in self.downblocks:
            h = layer(h, temb)
            hs.append(h)
        for layer in self.middleblocks:
            h = layer(h, temb)
        for layer in self.upblocks:
            if isinstance(layer, ResBlock):
                h = torch.cat([h, hs.pop()], dim=1)
            h = layer(h, temb)
        return self.tail(h)


# ------------------------------------------------------------------ TeaPearce ContextUnet


class ResidualConvBlock(nn.Module):  # Conditional_Diffusion_MNIST script.py
    def __init__(self, in_channels: int, out_channels: int, is_res: bool = False) -> None:
        super().__init__()
        self.same_channels = in_channels == out_channels
        self.is_res = is_res
        self.conv1 = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, 3, 1, 1), nn.BatchNorm2d(out_channels), nn.GELU()
        )
        self.conv2 = nn.Sequential(
            nn.Conv2d(out_channels, out_channels, 3, 1, 1), nn.BatchNorm2d(out_channels),
            nn.GELU()
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.is_res:
            x1 = self.conv1(x)
            x2 = self.conv2(x1)
            out = x + x2 if self.same_channels else x1 + x2
            return out / 1.414
        return self.conv2(self.conv1(x))


class UnetDown(nn.Module):
    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.model = nn.Sequential(ResidualConvBlock(in_channels, out_channels), nn.MaxPool2d(2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


class UnetUp(nn.Module):
    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.model = nn.Sequential(
            nn.ConvTranspose2d(in_channels, out_channels, 2, 2),
            ResidualConvBlock(out_channels, out_channels),
            ResidualConvBlock(out_channels, out_channels),
        )

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        return self.model(torch.cat((x, skip), 1))


class EmbedFC(nn.Module):
    def __init__(self, input_dim: int, emb_dim: int) -> None:
        super().__init__()
        self.input_dim = input_dim
        self.model = nn.Sequential(nn.Linear(input_dim, emb_dim), nn.GELU(),
                                   nn.Linear(emb_dim, emb_dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x.view(-1, self.input_dim))


class TeaPearceContextUnet(nn.Module):  # ContextUnet(in_channels=1, n_feat=16, n_classes=10)
    def __init__(self, in_channels: int = 1, n_feat: int = 16, n_classes: int = 10) -> None:
        super().__init__()
        self.n_feat, self.n_classes, self.n_T = n_feat, n_classes, 1000
        self.init_conv = ResidualConvBlock(in_channels, n_feat, is_res=True)
        self.down1 = UnetDown(n_feat, n_feat)
        self.down2 = UnetDown(n_feat, 2 * n_feat)
        self.to_vec = nn.Sequential(nn.AvgPool2d(7), nn.GELU())
        self.timeembed1 = EmbedFC(1, 2 * n_feat)
        self.timeembed2 = EmbedFC(1, 1 * n_feat)
        self.contextembed1 = EmbedFC(n_classes, 2 * n_feat)
        self.contextembed2 = EmbedFC(n_classes, 1 * n_feat)
        self.up0 = nn.Sequential(
            nn.ConvTranspose2d(2 * n_feat, 2 * n_feat, 7, 7),
            nn.GroupNorm(8, 2 * n_feat),
            nn.ReLU(),
        )
        self.up1 = UnetUp(4 * n_feat, n_feat)
        self.up2 = UnetUp(2 * n_feat, n_feat)
        self.out = nn.Sequential(
            nn.Conv2d(2 * n_feat, n_feat, 3, 1, 1),
            nn.GroupNorm(8, n_feat),
            nn.ReLU(),
            nn.Conv2d(n_feat, in_channels, 3, 1, 1),
        )

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        # the sampler's unconditional half: every context masked (c * -(1 - 1) = 0); the
        # timestep scaled to [0, 1] as the DDPM wrapper passes it (_ts / n_T)
        t = (t.float() / self.n_T)[:, None, None, None]
        c = torch.zeros(x.shape[0], self.n_classes, dtype=x.dtype)
        x = self.init_conv(x)
        down1 = self.down1(x)
        down2 = self.down2(down1)
        hiddenvec = self.to_vec(down2)
        cemb1 = self.contextembed1(c).view(-1, self.n_feat * 2, 1, 1)
        temb1 = self.timeembed1(t).view(-1, self.n_feat * 2, 1, 1)
        cemb2 = self.contextembed2(c).view(-1, self.n_feat, 1, 1)
        temb2 = self.timeembed2(t).view(-1, self.n_feat, 1, 1)
        up1 = self.up0(hiddenvec)
        up2 = self.up1(cemb1 * up1 + temb1, down2)
        up3 = self.up2(cemb2 * up2 + temb2, down1)
        return self.out(torch.cat((up3, x), 1))


# ------------------------------------------------------------------ LukeDitria CNN-VAE


class ResDown(nn.Module):  # CNN-VAE RES_VAE.py ResDown
    def __init__(self, channel_in, channel_out, kernel_size=3, act=nn.ELU) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channel_in, channel_out // 2, kernel_size, 2, kernel_size // 2)
        self.bn1 = nn.BatchNorm2d(channel_out // 2, eps=1e-4)
        self.conv2 = nn.Conv2d(channel_out // 2, channel_out, kernel_size, 1, kernel_size // 2)
        self.bn2 = nn.BatchNorm2d(channel_out, eps=1e-4)
        self.conv3 = nn.Conv2d(channel_in, channel_out, kernel_size, 2, kernel_size // 2)
        self.act_fnc = act()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skip = self.conv3(x)
        x = self.act_fnc(self.bn1(self.conv1(x)))
        x = self.conv2(x)
        return self.act_fnc(self.bn2(x + skip))


class ResUp(nn.Module):  # CNN-VAE RES_VAE.py ResUp
    def __init__(self, channel_in, channel_out, kernel_size=3, scale_factor=2, act=nn.ELU):
        super().__init__()
        self.conv1 = nn.Conv2d(channel_in, channel_in // 2, kernel_size, 1, kernel_size // 2)
        self.bn1 = nn.BatchNorm2d(channel_in // 2, eps=1e-4)
        self.conv2 = nn.Conv2d(channel_in // 2, channel_out, kernel_size, 1, kernel_size // 2)
        self.bn2 = nn.BatchNorm2d(channel_out, eps=1e-4)
        self.conv3 = nn.Conv2d(channel_in, channel_out, kernel_size, 1, kernel_size // 2)
        self.up_nn = nn.Upsample(scale_factor=scale_factor, mode="nearest")
        self.act_fnc = act()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.up_nn(x)
        skip = self.conv3(x)
        x = self.act_fnc(self.bn1(self.conv1(x)))
        x = self.conv2(x)
        return self.act_fnc(self.bn2(x + skip))


class VaeEncoder(nn.Module):  # RES_VAE.py Encoder
    def __init__(self, channels, ch=8, latent_channels=16) -> None:
        super().__init__()
        self.conv_in = nn.Conv2d(channels, ch, 7, 1, 3)
        self.res_down_block1 = ResDown(ch, 2 * ch)
        self.res_down_block2 = ResDown(2 * ch, 4 * ch)
        self.res_down_block3 = ResDown(4 * ch, 8 * ch)
        self.conv_mu = nn.Conv2d(8 * ch, latent_channels, 1, 1)
        self.conv_log_var = nn.Conv2d(8 * ch, latent_channels, 1, 1)
        self.act_fnc = nn.ELU()

    def forward(self, x: torch.Tensor):
        x = self.act_fnc(self.conv_in(x))
        x = self.res_down_block3(self.res_down_block2(self.res_down_block1(x)))
        mu = self.conv_mu(x)
        log_var = self.conv_log_var(x)
        if self.training:
            x = mu + torch.randn_like(mu) * torch.exp(0.5 * log_var)
        else:
            x = mu
        return x, mu, log_var


class VaeDecoder(nn.Module):  # RES_VAE.py Decoder
    def __init__(self, channels, ch=8, latent_channels=16) -> None:
        super().__init__()
        self.conv_t_up = nn.ConvTranspose2d(latent_channels, ch * 8, 1, 1)
        self.res_up_block1 = ResUp(ch * 8, ch * 4)
        self.res_up_block2 = ResUp(ch * 4, ch * 2)
        self.res_up_block3 = ResUp(ch * 2, ch)
        self.conv_out = nn.Conv2d(ch, channels, 3, 1, 1)
        self.act_fnc = nn.ELU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.act_fnc(self.conv_t_up(x))
        x = self.res_up_block3(self.res_up_block2(self.res_up_block1(x)))
        return torch.tanh(self.conv_out(x))


class LukeDitriaVAE(nn.Module):  # RES_VAE.py VAE (the reconstruction; mu, log_var dropped)
    def __init__(self, channel_in=3, ch=8, latent_channels=16) -> None:
        super().__init__()
        self.encoder = VaeEncoder(channel_in, ch=ch, latent_channels=latent_channels)
        self.decoder = VaeDecoder(channel_in, ch=ch, latent_channels=latent_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        encoding, mu, log_var = self.encoder(x)
        return self.decoder(encoding)


# ------------------------------------------------------------------ bytedance RLFN


def conv_layer(in_channels, out_channels, kernel_size, bias=True):  # RLFN block.py
    padding = int((kernel_size - 1) / 2)
    return nn.Conv2d(in_channels, out_channels, kernel_size, padding=padding, bias=bias)


class ESA(nn.Module):  # RLFN block.py ESA
    def __init__(self, esa_channels, n_feats, conv) -> None:
        super().__init__()
        f = esa_channels
        self.conv1 = conv(n_feats, f, kernel_size=1)
        self.conv_f = conv(f, f, kernel_size=1)
        self.conv2 = conv(f, f, kernel_size=3, stride=2, padding=0)
        self.conv3 = conv(f, f, kernel_size=3, padding=1)
        self.conv4 = conv(f, n_feats, kernel_size=1)
        self.sigmoid = nn.Sigmoid()
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        c1_ = self.conv1(x)
        c1 = self.conv2(c1_)
        v_max = F.max_pool2d(c1, kernel_size=7, stride=3)
        c3 = self.conv3(v_max)
        c3 = F.interpolate(c3, (x.size(2), x.size(3)), mode="bilinear", align_corners=False)
        cf = self.conv_f(c1_)
        c4 = self.conv4(c3 + cf)
        return x * self.sigmoid(c4)


class RLFB(nn.Module):  # RLFN block.py RLFB
    def __init__(self, in_channels, mid_channels=None, out_channels=None, esa_channels=8):
        super().__init__()
        mid_channels = mid_channels or in_channels
        out_channels = out_channels or in_channels
        self.c1_r = conv_layer(in_channels, mid_channels, 3)
        self.c2_r = conv_layer(mid_channels, mid_channels, 3)
        self.c3_r = conv_layer(mid_channels, in_channels, 3)
        self.c5 = conv_layer(in_channels, out_channels, 1)
        self.esa = ESA(esa_channels, out_channels, nn.Conv2d)
        self.act = nn.LeakyReLU(negative_slope=0.05, inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.act(self.c1_r(x))
        out = self.act(self.c2_r(out))
        out = self.act(self.c3_r(out))
        out = out + x
        return self.esa(self.c5(out))


class BytedanceRLFN(nn.Module):  # RLFN(feature_channels=16, upscale=2), four RLFBs, narrowed
    def __init__(self, in_channels=3, out_channels=3, feature_channels=16, upscale=2) -> None:
        super().__init__()
        self.conv_1 = conv_layer(in_channels, feature_channels, kernel_size=3)
        self.block_1 = RLFB(feature_channels)
        self.block_2 = RLFB(feature_channels)
        self.block_3 = RLFB(feature_channels)
        self.block_4 = RLFB(feature_channels)
        self.conv_2 = conv_layer(feature_channels, feature_channels, kernel_size=3)
        self.upsampler = nn.Sequential(  # block.pixelshuffle_block
            conv_layer(feature_channels, out_channels * upscale**2, 3), nn.PixelShuffle(upscale)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out_feature = self.conv_1(x)
        out_b1 = self.block_1(out_feature)
        out_b2 = self.block_2(out_b1)
        out_b3 = self.block_3(out_b2)
        out_b4 = self.block_4(out_b3)
        out_low_resolution = self.conv_2(out_b4) + out_feature
        return self.upsampler(out_low_resolution)


# ------------------------------------------------------------------ segmentation_models_pytorch FPN


class SmpBasicBlock(nn.Module):  # torchvision BasicBlock, as smp's ResNetEncoder holds it
    def __init__(self, c_in, c_out, stride=1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.downsample = None
        if stride != 1 or c_in != c_out:
            self.downsample = nn.Sequential(
                nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class SmpResNetEncoder(nn.Module):  # smp encoders/resnet.py ResNetEncoder (fc and avgpool deleted)
    def __init__(self, widths=(8, 16, 32, 32)) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        c_in = 8
        for i, w in enumerate(widths):
            self.add_module(f"layer{i + 1}", nn.Sequential(SmpBasicBlock(c_in, w, 1 if i == 0 else 2)))
            c_in = w

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        features = [x]
        x = self.relu(self.bn1(self.conv1(x)))
        features.append(x)
        x = self.layer1(self.maxpool(x))
        features.append(x)
        x = self.layer2(x)
        features.append(x)
        x = self.layer3(x)
        features.append(x)
        x = self.layer4(x)
        features.append(x)
        return features


class Conv3x3GNReLU(nn.Module):  # smp decoders/fpn/decoder.py
    def __init__(self, in_channels, out_channels, upsample=False) -> None:
        super().__init__()
        self.upsample = upsample
        self.block = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, (3, 3), stride=1, padding=1, bias=False),
            nn.GroupNorm(32, out_channels),
            nn.ReLU(inplace=True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.block(x)
        if self.upsample:
            x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=True)
        return x


class FPNBlock(nn.Module):
    def __init__(self, pyramid_channels, skip_channels) -> None:
        super().__init__()
        self.skip_conv = nn.Conv2d(skip_channels, pyramid_channels, kernel_size=1)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(x, scale_factor=2, mode="nearest")
        return x + self.skip_conv(skip)


class SegmentationBlock(nn.Module):
    def __init__(self, in_channels, out_channels, n_upsamples=0) -> None:
        super().__init__()
        blocks = [Conv3x3GNReLU(in_channels, out_channels, upsample=bool(n_upsamples))]
        for _ in range(1, n_upsamples):
            blocks.append(Conv3x3GNReLU(out_channels, out_channels, upsample=True))
        self.block = nn.Sequential(*blocks)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.block(x)


class MergeBlock(nn.Module):
    def __init__(self, policy) -> None:
        super().__init__()
        self.policy = policy

    def forward(self, x):
        return sum(x)


class FPNDecoder(nn.Module):
    def __init__(self, encoder_channels, pyramid_channels=32, segmentation_channels=32):
        super().__init__()
        encoder_channels = encoder_channels[::-1][:6]
        self.p5 = nn.Conv2d(encoder_channels[0], pyramid_channels, kernel_size=1)
        self.p4 = FPNBlock(pyramid_channels, encoder_channels[1])
        self.p3 = FPNBlock(pyramid_channels, encoder_channels[2])
        self.p2 = FPNBlock(pyramid_channels, encoder_channels[3])
        self.seg_blocks = nn.ModuleList(
            [
                SegmentationBlock(pyramid_channels, segmentation_channels, n_upsamples=n)
                for n in [3, 2, 1, 0]
            ]
        )
        self.merge = MergeBlock("add")
        self.dropout = nn.Dropout2d(p=0.2, inplace=True)

    def forward(self, *features):
        c2, c3, c4, c5 = features[-4:]
        p5 = self.p5(c5)
        p4 = self.p4(p5, c4)
        p3 = self.p3(p4, c3)
        p2 = self.p2(p3, c2)
        feature_pyramid = [seg(p) for seg, p in zip(self.seg_blocks, [p5, p4, p3, p2])]
        return self.dropout(self.merge(feature_pyramid))


class SmpSegmentationHead(nn.Sequential):  # smp base/heads.py SegmentationHead
    def __init__(self, in_channels, out_channels, kernel_size=1, upsampling=4) -> None:
        conv2d = nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2)
        upsampling = nn.UpsamplingBilinear2d(scale_factor=upsampling)
        super().__init__(conv2d, upsampling, nn.Identity())


class SmpFPN(nn.Module):  # smp.FPN(encoder_name='resnet18', classes=4), narrowed
    def __init__(self, classes: int = 4) -> None:
        super().__init__()
        self.encoder = SmpResNetEncoder()
        self.decoder = FPNDecoder((3, 8, 8, 16, 32, 32))
        self.segmentation_head = SmpSegmentationHead(32, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.encoder(x)
        return self.segmentation_head(self.decoder(*features))


# ------------------------------------------------------------------ eriklindernoren CycleGAN


class CgResidualBlock(nn.Module):  # PyTorch-GAN implementations/cyclegan/models.py ResidualBlock
    def __init__(self, in_features: int) -> None:
        super().__init__()
        self.block = nn.Sequential(
            nn.ReflectionPad2d(1),
            nn.Conv2d(in_features, in_features, 3),
            nn.InstanceNorm2d(in_features),
            nn.ReLU(inplace=True),
            nn.ReflectionPad2d(1),
            nn.Conv2d(in_features, in_features, 3),
            nn.InstanceNorm2d(in_features),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.block(x)


class EriklindernorenCycleGenerator(nn.Module):  # cyclegan/models.py GeneratorResNet, narrowed
    def __init__(self, input_shape=(3, 32, 32), num_residual_blocks: int = 3) -> None:
        super().__init__()
        channels = input_shape[0]
        out_features = 8
        model = [
            nn.ReflectionPad2d(channels),
            nn.Conv2d(channels, out_features, 7),
            nn.InstanceNorm2d(out_features),
            nn.ReLU(inplace=True),
        ]
        in_features = out_features
        for _ in range(2):
            out_features *= 2
            model += [
                nn.Conv2d(in_features, out_features, 3, stride=2, padding=1),
                nn.InstanceNorm2d(out_features),
                nn.ReLU(inplace=True),
            ]
            in_features = out_features
        for _ in range(num_residual_blocks):
            model += [CgResidualBlock(out_features)]
        for _ in range(2):
            out_features //= 2
            model += [
                nn.Upsample(scale_factor=2),
                nn.Conv2d(in_features, out_features, 3, stride=1, padding=1),
                nn.InstanceNorm2d(out_features),
                nn.ReLU(inplace=True),
            ]
            in_features = out_features
        model += [nn.ReflectionPad2d(channels), nn.Conv2d(out_features, channels, 7), nn.Tanh()]
        self.model = nn.Sequential(*model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


# ------------------------------------------------------------------ rishikksh20 ResUnet


class ResidualConv(nn.Module):  # ResUnet core/modules.py ResidualConv
    def __init__(self, input_dim, output_dim, stride, padding) -> None:
        super().__init__()
        self.conv_block = nn.Sequential(
            nn.BatchNorm2d(input_dim),
            nn.ReLU(),
            nn.Conv2d(input_dim, output_dim, kernel_size=3, stride=stride, padding=padding),
            nn.BatchNorm2d(output_dim),
            nn.ReLU(),
            nn.Conv2d(output_dim, output_dim, kernel_size=3, padding=1),
        )
        self.conv_skip = nn.Sequential(
            nn.Conv2d(input_dim, output_dim, kernel_size=3, stride=stride, padding=1),
            nn.BatchNorm2d(output_dim),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv_block(x) + self.conv_skip(x)


class ResUpsample(nn.Module):  # core/modules.py Upsample
    def __init__(self, input_dim, output_dim, kernel, stride) -> None:
        super().__init__()
        self.upsample = nn.ConvTranspose2d(input_dim, output_dim, kernel_size=kernel,
                                           stride=stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.upsample(x)


class Rishikksh20ResUnet(nn.Module):  # core/res_unet.py ResUnet(channel=3, filters narrowed)
    def __init__(self, channel: int = 3, filters=(8, 16, 32, 64)) -> None:
        super().__init__()
        self.input_layer = nn.Sequential(
            nn.Conv2d(channel, filters[0], kernel_size=3, padding=1),
            nn.BatchNorm2d(filters[0]),
            nn.ReLU(),
            nn.Conv2d(filters[0], filters[0], kernel_size=3, padding=1),
        )
        self.input_skip = nn.Sequential(nn.Conv2d(channel, filters[0], kernel_size=3, padding=1))
        self.residual_conv_1 = ResidualConv(filters[0], filters[1], 2, 1)
        self.residual_conv_2 = ResidualConv(filters[1], filters[2], 2, 1)
        self.bridge = ResidualConv(filters[2], filters[3], 2, 1)
        self.upsample_1 = ResUpsample(filters[3], filters[3], 2, 2)
        self.up_residual_conv1 = ResidualConv(filters[3] + filters[2], filters[2], 1, 1)
        self.upsample_2 = ResUpsample(filters[2], filters[2], 2, 2)
        self.up_residual_conv2 = ResidualConv(filters[2] + filters[1], filters[1], 1, 1)
        self.upsample_3 = ResUpsample(filters[1], filters[1], 2, 2)
        self.up_residual_conv3 = ResidualConv(filters[1] + filters[0], filters[0], 1, 1)
        self.output_layer = nn.Sequential(nn.Conv2d(filters[0], 1, 1, 1), nn.Sigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x1 = self.input_layer(x) + self.input_skip(x)
        x2 = self.residual_conv_1(x1)
        x3 = self.residual_conv_2(x2)
        x4 = self.bridge(x3)
        x4 = self.upsample_1(x4)
        x5 = torch.cat([x4, x3], dim=1)
        x6 = self.up_residual_conv1(x5)
        x6 = self.upsample_2(x6)
        x7 = torch.cat([x6, x2], dim=1)
        x8 = self.up_residual_conv2(x7)
        x8 = self.upsample_3(x8)
        x9 = torch.cat([x8, x1], dim=1)
        x10 = self.up_residual_conv3(x9)
        return self.output_layer(x10)


# ------------------------------------------------------------------ yjn870 REDNet30


class Yjn870REDNet30(nn.Module):  # REDNet-pytorch model.py REDNet30(num_layers=5, features=8)
    def __init__(self, num_layers: int = 5, num_features: int = 8) -> None:
        super().__init__()
        self.num_layers = num_layers
        conv_layers = [
            nn.Sequential(
                nn.Conv2d(3, num_features, kernel_size=3, stride=2, padding=1),
                nn.ReLU(inplace=True),
            )
        ]
        deconv_layers = []
        for _ in range(num_layers - 1):
            conv_layers.append(
                nn.Sequential(
                    nn.Conv2d(num_features, num_features, kernel_size=3, padding=1),
                    nn.ReLU(inplace=True),
                )
            )
        for _ in range(num_layers - 1):
            deconv_layers.append(
                nn.Sequential(
                    nn.ConvTranspose2d(num_features, num_features, kernel_size=3, padding=1),
                    nn.ReLU(inplace=True),
                )
            )
        deconv_layers.append(
            nn.ConvTranspose2d(num_features, 3, kernel_size=3, stride=2, padding=1,
                               output_padding=1)
        )
        self.conv_layers = nn.Sequential(*conv_layers)
        self.deconv_layers = nn.Sequential(*deconv_layers)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual = x
        conv_feats = []
        for i in range(self.num_layers):
            x = self.conv_layers[i](x)
            if (i + 1) % 2 == 0 and len(conv_feats) < math.ceil(self.num_layers / 2) - 1:
                conv_feats.append(x)
        conv_feats_idx = 0
        for i in range(self.num_layers):
            x = self.deconv_layers[i](x)
            if (i + 1 + self.num_layers) % 2 == 0 and conv_feats_idx < len(conv_feats):
                conv_feat = conv_feats[-(conv_feats_idx + 1)]
                conv_feats_idx += 1
                x = x + conv_feat
                x = self.relu(x)
        x += residual
        return self.relu(x)


ZOO = {  # name: (build, input shape, takes a timestep)
    "w86763777_ddpm_unet": (W86763777UNet, (2, 3, 16, 16), True),
    "teapearce_context_unet": (TeaPearceContextUnet, (2, 1, 28, 28), True),
    "lukeditria_cnn_vae": (LukeDitriaVAE, (2, 3, 32, 32), False),
    "bytedance_rlfn_x2": (BytedanceRLFN, (2, 3, 24, 24), False),
    "smp_fpn": (SmpFPN, (2, 3, 64, 64), False),
    "eriklindernoren_cyclegan": (EriklindernorenCycleGenerator, (2, 3, 32, 32), False),
    "rishikksh20_resunet": (Rishikksh20ResUnet, (2, 3, 32, 32), False),
    "yjn870_rednet30": (Yjn870REDNet30, (2, 3, 16, 16), False),
}


def build(name: str) -> tuple[nn.Module, tuple[torch.Tensor, ...]]:
    """The reference at unit scale in eval mode, and the inputs its forward takes (an image, and
    one timestep per sample for the two diffusion U-Nets)."""
    return generative_reference(ZOO[name])
