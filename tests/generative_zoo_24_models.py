"""Generative and dense-prediction nets as other repositories write them, seventeenth zoo (issue
16, session 27): test-only reference models for tests/test_generative_zoo_24.py. Reference code,
not generated code: the generated file must compute what these compute, or say where it cannot.

Layouts of repositories no earlier zoo used, written from the structure of each one's model file
(their code is not copied), narrowed: NVlabs' EDM SongUNet in its DDPM++ configuration (its own
Linear / Conv2d / GroupNorm modules holding bare parameters, `enc` / `dec` ModuleDicts keyed by
resolution, down / up blocks that resample with a [1, 1] filter buffer, an affine of the
embedding added before norm1, skip_scale sqrt(0.5), a qkv conv read as (channel, 3) pairs, an
output built from an `aux_norm` / `aux_conv` pair), YannDubs' disentangling-vae Burgess VAE (mu
and logvar interleaved in one Linear, the mean decoded in eval), odegeasslbc's FastGAN generator
(spectral-normed convs, GLU halves, skip-layer excitation from 4x4 / 8x8 / 16x16 features),
haoyuc's A2N (attention-in-attention blocks: a softmax over two branch weights with a temperature,
pixel attention in the upsampler, a bilinear input added), Reagan1311's DABNet (depth-wise
asymmetric bottlenecks with dilations, BN(eps 1e-3) + PReLU, input injection by average pools, a
bilinear resize to the input), GuoShi28's CBDNet (a noise-estimation FCN whose map is concatenated
to the image, a U-Net of average-pool downs and transposed-conv ups added (not concatenated) to
the skip, the input added), zhilin007's FFA-Net (channel + pixel attention blocks, three groups
weighted by a channel attention over their concatenation) and nianticlabs' monodepth2 (a
torchvision-style ResNet encoder on (x - 0.45) / 0.225 and a DepthDecoder of reflection-padded
convs + ELU whose convs live in an OrderedDict mirrored by a ModuleList)."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils import spectral_norm

from tests.redraw import generative_reference


# ------------------------------------------------------------------ NVlabs edm (training/networks.py)


def silu(x):
    return x * torch.sigmoid(x)


class EdmLinear(nn.Module):  # networks.py Linear
    def __init__(self, in_features, out_features, bias=True, init_weight=1, init_bias=0) -> None:
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = nn.Parameter(torch.randn(out_features, in_features) / np.sqrt(in_features) * init_weight)
        self.bias = nn.Parameter(torch.randn(out_features) * init_bias) if bias else None

    def forward(self, x):
        x = x @ self.weight.to(x.dtype).t()
        if self.bias is not None:
            x = x.add_(self.bias.to(x.dtype))
        return x


class EdmConv2d(nn.Module):  # networks.py Conv2d (the unfused path)
    def __init__(self, in_channels, out_channels, kernel, bias=True, up=False, down=False, resample_filter=(1, 1),
                 fused_resample=False, init_weight=1, init_bias=0) -> None:
        super().__init__()
        assert not (up and down)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.up = up
        self.down = down
        self.fused_resample = fused_resample
        fan_in = in_channels * kernel * kernel
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel, kernel) / np.sqrt(max(fan_in, 1))
                                   * init_weight) if kernel else None
        self.bias = nn.Parameter(torch.randn(out_channels) * init_bias) if kernel and bias else None
        f = torch.as_tensor(resample_filter, dtype=torch.float32)
        f = f.ger(f).unsqueeze(0).unsqueeze(1) / f.sum().square()
        self.register_buffer("resample_filter", f if up or down else None)

    def forward(self, x):
        w = self.weight.to(x.dtype) if self.weight is not None else None
        b = self.bias.to(x.dtype) if self.bias is not None else None
        f = self.resample_filter.to(x.dtype) if self.resample_filter is not None else None
        w_pad = w.shape[-1] // 2 if w is not None else 0
        f_pad = (f.shape[-1] - 1) // 2 if f is not None else 0
        if self.up:
            x = F.conv_transpose2d(x, f.mul(4).tile([self.in_channels, 1, 1, 1]), groups=self.in_channels, stride=2,
                                   padding=f_pad)
        if self.down:
            x = F.conv2d(x, f.tile([self.in_channels, 1, 1, 1]), groups=self.in_channels, stride=2, padding=f_pad)
        if w is not None:
            x = F.conv2d(x, w, padding=w_pad)
        if b is not None:
            x = x.add_(b.reshape(1, -1, 1, 1))
        return x


class EdmGroupNorm(nn.Module):  # networks.py GroupNorm
    def __init__(self, num_channels, num_groups=32, min_channels_per_group=4, eps=1e-5) -> None:
        super().__init__()
        self.num_groups = min(num_groups, num_channels // min_channels_per_group)
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(num_channels))
        self.bias = nn.Parameter(torch.zeros(num_channels))

    def forward(self, x):
        return F.group_norm(x, num_groups=self.num_groups, weight=self.weight.to(x.dtype),
                            bias=self.bias.to(x.dtype), eps=self.eps)


class EdmUNetBlock(nn.Module):  # networks.py UNetBlock
    def __init__(self, in_channels, out_channels, emb_channels, up=False, down=False, attention=False, num_heads=None,
                 channels_per_head=64, dropout=0, skip_scale=1, eps=1e-5, resample_filter=(1, 1), resample_proj=False,
                 adaptive_scale=True) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.emb_channels = emb_channels
        self.num_heads = 0 if not attention else num_heads if num_heads is not None else out_channels // channels_per_head
        self.dropout = dropout
        self.skip_scale = skip_scale
        self.adaptive_scale = adaptive_scale
        self.norm0 = EdmGroupNorm(num_channels=in_channels, eps=eps)
        self.conv0 = EdmConv2d(in_channels, out_channels, kernel=3, up=up, down=down, resample_filter=resample_filter)
        self.affine = EdmLinear(emb_channels, out_channels * (2 if adaptive_scale else 1))
        self.norm1 = EdmGroupNorm(num_channels=out_channels, eps=eps)
        self.conv1 = EdmConv2d(out_channels, out_channels, kernel=3)
        self.skip = None
        if out_channels != in_channels or up or down:
            kernel = 1 if resample_proj or out_channels != in_channels else 0
            self.skip = EdmConv2d(in_channels, out_channels, kernel=kernel, up=up, down=down,
                                  resample_filter=resample_filter)
        if self.num_heads:
            self.norm2 = EdmGroupNorm(num_channels=out_channels, eps=eps)
            self.qkv = EdmConv2d(out_channels, out_channels * 3, kernel=1)
            self.proj = EdmConv2d(out_channels, out_channels, kernel=1)

    def forward(self, x, emb):
        orig = x
        x = self.conv0(silu(self.norm0(x)))
        params = self.affine(emb).unsqueeze(2).unsqueeze(3).to(x.dtype)
        if self.adaptive_scale:
            scale, shift = params.chunk(chunks=2, dim=1)
            x = silu(torch.addcmul(shift, self.norm1(x), scale + 1))
        else:
            x = silu(self.norm1(x.add_(params)))
        x = self.conv1(F.dropout(x, p=self.dropout, training=self.training))
        x = x.add_(self.skip(orig) if self.skip is not None else orig)
        x = x * self.skip_scale
        if self.num_heads:
            q, k, v = self.qkv(self.norm2(x)).reshape(x.shape[0] * self.num_heads, x.shape[1] // self.num_heads, 3,
                                                      -1).unbind(2)
            w = torch.einsum("ncq,nck->nqk", q.to(torch.float32),
                             (k / np.sqrt(k.shape[1])).to(torch.float32)).softmax(dim=2).to(q.dtype)  # AttentionOp
            a = torch.einsum("nqk,nck->ncq", w, v)
            x = self.proj(a.reshape(*x.shape)).add_(x)
            x = x * self.skip_scale
        return x


class EdmPositionalEmbedding(nn.Module):
    def __init__(self, num_channels, max_positions=10000, endpoint=False) -> None:
        super().__init__()
        self.num_channels = num_channels
        self.max_positions = max_positions
        self.endpoint = endpoint

    def forward(self, x):
        freqs = torch.arange(start=0, end=self.num_channels // 2, dtype=torch.float32, device=x.device)
        freqs = freqs / (self.num_channels // 2 - (1 if self.endpoint else 0))
        freqs = (1 / self.max_positions) ** freqs
        x = x.ger(freqs.to(x.dtype))
        return torch.cat([x.cos(), x.sin()], dim=1)


class NvlabsEdmSongUNet(nn.Module):  # networks.py SongUNet, DDPM++ settings (VPPrecond / EDMPrecond), narrowed
    def __init__(self, img_resolution=16, in_channels=3, out_channels=3, model_channels=8, channel_mult=(1, 2),
                 channel_mult_emb=4, num_blocks=1, attn_resolutions=(8,), dropout=0.10,
                 channel_mult_noise=1, resample_filter=(1, 1)) -> None:
        super().__init__()
        emb_channels = model_channels * channel_mult_emb
        noise_channels = model_channels * channel_mult_noise
        block_kwargs = dict(emb_channels=emb_channels, num_heads=1, dropout=dropout, skip_scale=np.sqrt(0.5), eps=1e-6,
                            resample_filter=resample_filter, resample_proj=True, adaptive_scale=False)
        self.map_noise = EdmPositionalEmbedding(num_channels=noise_channels, endpoint=True)
        self.map_layer0 = EdmLinear(noise_channels, emb_channels)
        self.map_layer1 = EdmLinear(emb_channels, emb_channels)
        self.enc = nn.ModuleDict()
        cout = in_channels
        for level, mult in enumerate(channel_mult):
            res = img_resolution >> level
            if level == 0:
                cin = cout
                cout = model_channels
                self.enc[f"{res}x{res}_conv"] = EdmConv2d(cin, cout, kernel=3)
            else:
                self.enc[f"{res}x{res}_down"] = EdmUNetBlock(cout, cout, down=True, **block_kwargs)
            for idx in range(num_blocks):
                cin = cout
                cout = model_channels * mult
                attn = res in attn_resolutions
                self.enc[f"{res}x{res}_block{idx}"] = EdmUNetBlock(cin, cout, attention=attn, **block_kwargs)
        skips = [block.out_channels for name, block in self.enc.items() if "aux" not in name]
        self.dec = nn.ModuleDict()
        for level, mult in reversed(list(enumerate(channel_mult))):
            res = img_resolution >> level
            if level == len(channel_mult) - 1:
                self.dec[f"{res}x{res}_in0"] = EdmUNetBlock(cout, cout, attention=True, **block_kwargs)
                self.dec[f"{res}x{res}_in1"] = EdmUNetBlock(cout, cout, **block_kwargs)
            else:
                self.dec[f"{res}x{res}_up"] = EdmUNetBlock(cout, cout, up=True, **block_kwargs)
            for idx in range(num_blocks + 1):
                cin = cout + skips.pop()
                cout = model_channels * mult
                attn = idx == num_blocks and res in attn_resolutions
                self.dec[f"{res}x{res}_block{idx}"] = EdmUNetBlock(cin, cout, attention=attn, **block_kwargs)
            if level == 0:  # decoder_type 'standard'
                self.dec[f"{res}x{res}_aux_norm"] = EdmGroupNorm(num_channels=cout, eps=1e-6)
                self.dec[f"{res}x{res}_aux_conv"] = EdmConv2d(cout, out_channels, kernel=3)

    def forward(self, x, noise_labels, class_labels=None, augment_labels=None):
        # (the preconditioners hand it float noise labels; the zoo's timesteps are integers)
        emb = self.map_noise(noise_labels.to(torch.float32))
        emb = emb.reshape(emb.shape[0], 2, -1).flip(1).reshape(*emb.shape)  # swap sin/cos
        emb = silu(self.map_layer0(emb))
        emb = silu(self.map_layer1(emb))
        skips = []
        for name, block in self.enc.items():
            x = block(x, emb) if isinstance(block, EdmUNetBlock) else block(x)
            skips.append(x)
        aux = None
        tmp = None
        for name, block in self.dec.items():
            if "aux_norm" in name:
                tmp = block(x)
            elif "aux_conv" in name:
                tmp = block(silu(tmp))
                aux = tmp if aux is None else tmp + aux
            else:
                if x.shape[1] != block.in_channels:
                    x = torch.cat([x, skips.pop()], dim=1)
                x = block(x, emb)
        return aux


# ------------------------------------------------------------------ YannDubs disentangling-vae (disvae/models)


class EncoderBurgess(nn.Module):  # encoders.py
    def __init__(self, img_size, latent_dim=10) -> None:
        super().__init__()
        hid_channels, kernel_size, hidden_dim = 32, 4, 256
        self.latent_dim = latent_dim
        self.img_size = img_size
        self.reshape = (hid_channels, kernel_size, kernel_size)
        n_chan = self.img_size[0]
        cnn_kwargs = dict(stride=2, padding=1)
        self.conv1 = nn.Conv2d(n_chan, hid_channels, kernel_size, **cnn_kwargs)
        self.conv2 = nn.Conv2d(hid_channels, hid_channels, kernel_size, **cnn_kwargs)
        self.conv3 = nn.Conv2d(hid_channels, hid_channels, kernel_size, **cnn_kwargs)
        if self.img_size[1] == self.img_size[2] == 64:
            self.conv_64 = nn.Conv2d(hid_channels, hid_channels, kernel_size, **cnn_kwargs)
        self.lin1 = nn.Linear(int(np.prod(self.reshape)), hidden_dim)
        self.lin2 = nn.Linear(hidden_dim, hidden_dim)
        self.mu_logvar_gen = nn.Linear(hidden_dim, self.latent_dim * 2)

    def forward(self, x):
        batch_size = x.size(0)
        x = torch.relu(self.conv1(x))
        x = torch.relu(self.conv2(x))
        x = torch.relu(self.conv3(x))
        if self.img_size[1] == self.img_size[2] == 64:
            x = torch.relu(self.conv_64(x))
        x = x.view((batch_size, -1))
        x = torch.relu(self.lin1(x))
        x = torch.relu(self.lin2(x))
        mu_logvar = self.mu_logvar_gen(x)
        mu, logvar = mu_logvar.view(-1, self.latent_dim, 2).unbind(-1)
        return mu, logvar


class DecoderBurgess(nn.Module):  # decoders.py
    def __init__(self, img_size, latent_dim=10) -> None:
        super().__init__()
        hid_channels, kernel_size, hidden_dim = 32, 4, 256
        self.img_size = img_size
        self.reshape = (hid_channels, kernel_size, kernel_size)
        n_chan = self.img_size[0]
        self.lin1 = nn.Linear(latent_dim, hidden_dim)
        self.lin2 = nn.Linear(hidden_dim, hidden_dim)
        self.lin3 = nn.Linear(hidden_dim, int(np.prod(self.reshape)))
        cnn_kwargs = dict(stride=2, padding=1)
        if self.img_size[1] == self.img_size[2] == 64:
            self.convT_64 = nn.ConvTranspose2d(hid_channels, hid_channels, kernel_size, **cnn_kwargs)
        self.convT1 = nn.ConvTranspose2d(hid_channels, hid_channels, kernel_size, **cnn_kwargs)
        self.convT2 = nn.ConvTranspose2d(hid_channels, hid_channels, kernel_size, **cnn_kwargs)
        self.convT3 = nn.ConvTranspose2d(hid_channels, n_chan, kernel_size, **cnn_kwargs)

    def forward(self, z):
        batch_size = z.size(0)
        x = torch.relu(self.lin1(z))
        x = torch.relu(self.lin2(x))
        x = torch.relu(self.lin3(x))
        x = x.view(batch_size, *self.reshape)
        if self.img_size[1] == self.img_size[2] == 64:
            x = torch.relu(self.convT_64(x))
        x = torch.relu(self.convT1(x))
        x = torch.relu(self.convT2(x))
        return torch.sigmoid(self.convT3(x))


class YannDubsBurgessVAE(nn.Module):  # vae.py VAE with the Burgess encoder / decoder
    def __init__(self, img_size=(3, 32, 32), latent_dim=10) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.img_size = img_size
        self.num_pixels = self.img_size[1] * self.img_size[2]
        self.encoder = EncoderBurgess(img_size, self.latent_dim)
        self.decoder = DecoderBurgess(img_size, self.latent_dim)

    def reparameterize(self, mean, logvar):
        if self.training:
            std = torch.exp(0.5 * logvar)
            return mean + std * torch.randn_like(std)
        return mean

    def forward(self, x):  # (the repository also returns the latent distribution and sample)
        latent_dist = self.encoder(x)
        latent_sample = self.reparameterize(*latent_dist)
        return self.decoder(latent_sample)


# ------------------------------------------------------------------ odegeasslbc FastGAN-pytorch (models.py)


def sn_conv2d(*args, **kwargs):
    return spectral_norm(nn.Conv2d(*args, **kwargs))


def sn_conv_transpose2d(*args, **kwargs):
    return spectral_norm(nn.ConvTranspose2d(*args, **kwargs))


class GLU(nn.Module):
    def forward(self, x):
        nc = x.size(1)
        assert nc % 2 == 0, "channels dont divide 2!"
        nc = int(nc / 2)
        return x[:, :nc] * torch.sigmoid(x[:, nc:])


class Swish(nn.Module):
    def forward(self, feat):
        return feat * torch.sigmoid(feat)


class FastGanSEBlock(nn.Module):  # skip-layer excitation
    def __init__(self, ch_in, ch_out) -> None:
        super().__init__()
        self.main = nn.Sequential(nn.AdaptiveAvgPool2d(4), sn_conv2d(ch_in, ch_out, 4, 1, 0, bias=False), Swish(),
                                  sn_conv2d(ch_out, ch_out, 1, 1, 0, bias=False), nn.Sigmoid())

    def forward(self, feat_small, feat_big):
        return feat_big * self.main(feat_small)


class FastGanInitLayer(nn.Module):
    def __init__(self, nz, channel) -> None:
        super().__init__()
        self.init = nn.Sequential(sn_conv_transpose2d(nz, channel * 2, 4, 1, 0, bias=False),
                                  nn.BatchNorm2d(channel * 2), GLU())

    def forward(self, noise):
        noise = noise.view(noise.shape[0], -1, 1, 1)
        return self.init(noise)


def fastgan_up_block(in_planes, out_planes):  # UpBlock
    return nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"),
                         sn_conv2d(in_planes, out_planes * 2, 3, 1, 1, bias=False), nn.BatchNorm2d(out_planes * 2),
                         GLU())


def fastgan_up_block_comp(in_planes, out_planes):  # UpBlockComp without its NoiseInjection (see below)
    return nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"),
                         sn_conv2d(in_planes, out_planes * 2, 3, 1, 1, bias=False), nn.BatchNorm2d(out_planes * 2),
                         GLU(), sn_conv2d(out_planes, out_planes * 2, 3, 1, 1, bias=False),
                         nn.BatchNorm2d(out_planes * 2), GLU())


class OdegeasslbcFastGAN(nn.Module):  # models.py Generator (im_size 256), narrowed ngf
    """UpBlockComp's NoiseInjection layers are left out: they draw fresh noise on every call, so no
    two forwards agree. The forward returns the 256x256 image (the repository also returns the
    128x128 one from `to_128`)."""

    def __init__(self, ngf=8, nz=100, nc=3, im_size=256) -> None:
        super().__init__()
        nfc_multi = {4: 16, 8: 8, 16: 4, 32: 2, 64: 2, 128: 1, 256: 0.5, 512: 0.25, 1024: 0.125}
        nfc = {k: int(v * ngf) for k, v in nfc_multi.items()}
        self.im_size = im_size
        self.init = FastGanInitLayer(nz, channel=nfc[4])
        self.feat_8 = fastgan_up_block_comp(nfc[4], nfc[8])
        self.feat_16 = fastgan_up_block(nfc[8], nfc[16])
        self.feat_32 = fastgan_up_block_comp(nfc[16], nfc[32])
        self.feat_64 = fastgan_up_block(nfc[32], nfc[64])
        self.feat_128 = fastgan_up_block_comp(nfc[64], nfc[128])
        self.feat_256 = fastgan_up_block(nfc[128], nfc[256])
        self.se_64 = FastGanSEBlock(nfc[4], nfc[64])
        self.se_128 = FastGanSEBlock(nfc[8], nfc[128])
        self.se_256 = FastGanSEBlock(nfc[16], nfc[256])
        self.to_128 = sn_conv2d(nfc[128], nc, 1, 1, 0, bias=False)
        self.to_big = sn_conv2d(nfc[im_size], nc, 3, 1, 1, bias=False)

    def forward(self, input):
        feat_4 = self.init(input)
        feat_8 = self.feat_8(feat_4)
        feat_16 = self.feat_16(feat_8)
        feat_32 = self.feat_32(feat_16)
        feat_64 = self.se_64(feat_4, self.feat_64(feat_32))
        feat_128 = self.se_128(feat_8, self.feat_128(feat_64))
        feat_256 = self.se_256(feat_16, self.feat_256(feat_128))
        return self.to_big(feat_256)


# ------------------------------------------------------------------ haoyuc A2N (a2n_arch.py)


class A2nPA(nn.Module):
    """PA is pixel attention"""

    def __init__(self, nf) -> None:
        super().__init__()
        self.conv = nn.Conv2d(nf, nf, 1)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x):
        y = self.sigmoid(self.conv(x))
        return torch.mul(x, y)


class A2nAttentionBranch(nn.Module):
    def __init__(self, nf, k_size=3) -> None:
        super().__init__()
        self.k1 = nn.Conv2d(nf, nf, kernel_size=k_size, padding=(k_size - 1) // 2, bias=False)
        self.lrelu = nn.LeakyReLU(negative_slope=0.2, inplace=True)
        self.k2 = nn.Conv2d(nf, nf, 1)
        self.sigmoid = nn.Sigmoid()
        self.k3 = nn.Conv2d(nf, nf, kernel_size=k_size, padding=(k_size - 1) // 2, bias=False)
        self.k4 = nn.Conv2d(nf, nf, kernel_size=k_size, padding=(k_size - 1) // 2, bias=False)

    def forward(self, x):
        y = self.k1(x)
        y = self.lrelu(y)
        y = self.k2(y)
        y = self.sigmoid(y)
        out = torch.mul(self.k3(x), y)
        return self.k4(out)


class A2nAAB(nn.Module):
    def __init__(self, nf, reduction=4, K=2, t=30) -> None:
        super().__init__()
        self.t = t
        self.K = K
        self.conv_first = nn.Conv2d(nf, nf, kernel_size=1, bias=False)
        self.conv_last = nn.Conv2d(nf, nf, kernel_size=1, bias=False)
        self.lrelu = nn.LeakyReLU(negative_slope=0.2, inplace=True)
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.ADM = nn.Sequential(nn.Linear(nf, nf // reduction, bias=False), nn.ReLU(inplace=True),
                                 nn.Linear(nf // reduction, self.K, bias=False))  # attention dropout module
        self.attention = A2nAttentionBranch(nf)
        self.non_attention = nn.Conv2d(nf, nf, kernel_size=3, padding=(3 - 1) // 2, bias=False)

    def forward(self, x):
        residual = x
        a, b, c, d = x.shape
        x = self.conv_first(x)
        x = self.lrelu(x)
        y = self.avg_pool(x).view(a, b)
        y = self.ADM(y)
        ax = F.softmax(y / self.t, dim=1)
        attention = self.attention(x)
        non_attention = self.non_attention(x)
        x = attention * ax[:, 0].view(a, 1, 1, 1) + non_attention * ax[:, 1].view(a, 1, 1, 1)
        x = self.lrelu(x)
        out = self.conv_last(x)
        out += residual
        return out


class HaoyucA2N(nn.Module):  # a2n_arch.py A2N (x4), narrowed nf / unf / nb
    def __init__(self, in_nc=3, out_nc=3, nf=16, unf=8, nb=2, scale=4) -> None:
        super().__init__()
        self.scale = scale
        self.conv_first = nn.Conv2d(in_nc, nf, 3, 1, 1, bias=True)
        self.AAB_trunk = nn.Sequential(*[A2nAAB(nf=nf) for _ in range(nb)])  # make_layer
        self.trunk_conv = nn.Conv2d(nf, nf, 3, 1, 1, bias=True)
        self.upconv1 = nn.Conv2d(nf, unf, 3, 1, 1, bias=True)
        self.att1 = A2nPA(unf)
        self.HRconv1 = nn.Conv2d(unf, unf, 3, 1, 1, bias=True)
        if self.scale == 4:
            self.upconv2 = nn.Conv2d(unf, unf, 3, 1, 1, bias=True)
            self.att2 = A2nPA(unf)
            self.HRconv2 = nn.Conv2d(unf, unf, 3, 1, 1, bias=True)
        self.conv_last = nn.Conv2d(unf, out_nc, 3, 1, 1, bias=True)
        self.lrelu = nn.LeakyReLU(negative_slope=0.2, inplace=True)

    def forward(self, x):
        fea = self.conv_first(x)
        trunk = self.trunk_conv(self.AAB_trunk(fea))
        fea = fea + trunk
        if self.scale == 2 or self.scale == 3:
            fea = self.upconv1(F.interpolate(fea, scale_factor=self.scale, mode="nearest"))
            fea = self.lrelu(self.att1(fea))
            fea = self.lrelu(self.HRconv1(fea))
        elif self.scale == 4:
            fea = self.upconv1(F.interpolate(fea, scale_factor=2, mode="nearest"))
            fea = self.lrelu(self.att1(fea))
            fea = self.lrelu(self.HRconv1(fea))
            fea = self.upconv2(F.interpolate(fea, scale_factor=2, mode="nearest"))
            fea = self.lrelu(self.att2(fea))
            fea = self.lrelu(self.HRconv2(fea))
        out = self.conv_last(fea)
        ILR = F.interpolate(x, scale_factor=self.scale, mode="bilinear", align_corners=False)
        return out + ILR


# ------------------------------------------------------------------ Reagan1311 DABNet (model/DABNet.py)


class DabConv(nn.Module):
    def __init__(self, nIn, nOut, kSize, stride, padding, dilation=(1, 1), groups=1, bn_acti=False, bias=False) -> None:
        super().__init__()
        self.bn_acti = bn_acti
        self.conv = nn.Conv2d(nIn, nOut, kernel_size=kSize, stride=stride, padding=padding, dilation=dilation,
                              groups=groups, bias=bias)
        if self.bn_acti:
            self.bn_prelu = DabBNPReLU(nOut)

    def forward(self, input):
        output = self.conv(input)
        if self.bn_acti:
            output = self.bn_prelu(output)
        return output


class DabBNPReLU(nn.Module):
    def __init__(self, nIn) -> None:
        super().__init__()
        self.bn = nn.BatchNorm2d(nIn, eps=1e-3)
        self.acti = nn.PReLU(nIn)

    def forward(self, input):
        return self.acti(self.bn(input))


class DABModule(nn.Module):
    def __init__(self, nIn, d=1, kSize=3, dkSize=3) -> None:
        super().__init__()
        self.bn_relu_1 = DabBNPReLU(nIn)
        self.conv3x3 = DabConv(nIn, nIn // 2, kSize, 1, padding=1, bn_acti=True)
        self.dconv3x1 = DabConv(nIn // 2, nIn // 2, (dkSize, 1), 1, padding=(1, 0), groups=nIn // 2, bn_acti=True)
        self.dconv1x3 = DabConv(nIn // 2, nIn // 2, (1, dkSize), 1, padding=(0, 1), groups=nIn // 2, bn_acti=True)
        self.ddconv3x1 = DabConv(nIn // 2, nIn // 2, (dkSize, 1), 1, padding=(1 * d, 0), dilation=(d, 1),
                                 groups=nIn // 2, bn_acti=True)
        self.ddconv1x3 = DabConv(nIn // 2, nIn // 2, (1, dkSize), 1, padding=(0, 1 * d), dilation=(1, d),
                                 groups=nIn // 2, bn_acti=True)
        self.bn_relu_2 = DabBNPReLU(nIn // 2)
        self.conv1x1 = DabConv(nIn // 2, nIn, 1, 1, padding=0, bn_acti=False)

    def forward(self, input):
        output = self.bn_relu_1(input)
        output = self.conv3x3(output)
        br1 = self.dconv3x1(output)
        br1 = self.dconv1x3(br1)
        br2 = self.ddconv3x1(output)
        br2 = self.ddconv1x3(br2)
        output = br1 + br2
        output = self.bn_relu_2(output)
        output = self.conv1x1(output)
        return output + input


class DabDownSamplingBlock(nn.Module):
    def __init__(self, nIn, nOut) -> None:
        super().__init__()
        self.nIn = nIn
        self.nOut = nOut
        nConv = nOut - nIn if self.nIn < self.nOut else nOut
        self.conv3x3 = DabConv(nIn, nConv, kSize=3, stride=2, padding=1)
        self.max_pool = nn.MaxPool2d(2, stride=2)
        self.bn_prelu = DabBNPReLU(nOut)

    def forward(self, input):
        output = self.conv3x3(input)
        if self.nIn < self.nOut:
            max_pool = self.max_pool(input)
            output = torch.cat([output, max_pool], 1)
        return self.bn_prelu(output)


class DabInputInjection(nn.Module):
    def __init__(self, ratio) -> None:
        super().__init__()
        self.pool = nn.ModuleList()
        for i in range(0, ratio):
            self.pool.append(nn.AvgPool2d(3, stride=2, padding=1))

    def forward(self, input):
        for pool in self.pool:
            input = pool(input)
        return input


class Reagan1311DABNet(nn.Module):  # model/DABNet.py DABNet, narrowed block counts
    def __init__(self, classes=5, block_1=1, block_2=2) -> None:
        super().__init__()
        self.init_conv = nn.Sequential(DabConv(3, 32, 3, 2, padding=1, bn_acti=True),
                                       DabConv(32, 32, 3, 1, padding=1, bn_acti=True),
                                       DabConv(32, 32, 3, 1, padding=1, bn_acti=True))
        self.down_1 = DabInputInjection(1)
        self.down_2 = DabInputInjection(2)
        self.down_3 = DabInputInjection(3)
        self.bn_prelu_1 = DabBNPReLU(32 + 3)
        self.downsample_1 = DabDownSamplingBlock(32 + 3, 64)
        self.DAB_Block_1 = nn.Sequential()
        for i in range(0, block_1):
            self.DAB_Block_1.add_module("DAB_Module_1_" + str(i), DABModule(64, d=2))
        self.bn_prelu_2 = DabBNPReLU(128 + 3)
        dilation_block_2 = [4, 4, 8, 8, 16, 16]
        self.downsample_2 = DabDownSamplingBlock(128 + 3, 128)
        self.DAB_Block_2 = nn.Sequential()
        for i in range(0, block_2):
            self.DAB_Block_2.add_module("DAB_Module_2_" + str(i), DABModule(128, d=dilation_block_2[i]))
        self.bn_prelu_3 = DabBNPReLU(256 + 3)
        self.classifier = nn.Sequential(DabConv(259, classes, 1, 1, padding=0))

    def forward(self, input):
        output0 = self.init_conv(input)
        down_1 = self.down_1(input)
        down_2 = self.down_2(input)
        down_3 = self.down_3(input)
        output0_cat = self.bn_prelu_1(torch.cat([output0, down_1], 1))
        output1_0 = self.downsample_1(output0_cat)
        output1 = self.DAB_Block_1(output1_0)
        output1_cat = self.bn_prelu_2(torch.cat([output1, output1_0, down_2], 1))
        output2_0 = self.downsample_2(output1_cat)
        output2 = self.DAB_Block_2(output2_0)
        output2_cat = self.bn_prelu_3(torch.cat([output2, output2_0, down_3], 1))
        out = self.classifier(output2_cat)
        return F.interpolate(out, input.size()[2:], mode="bilinear", align_corners=False)


# ------------------------------------------------------------------ GuoShi28 CBDNet-pytorch (model/cbdnet.py)


class CbdSingleConv(nn.Module):
    def __init__(self, in_ch, out_ch) -> None:
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(in_ch, out_ch, 3, padding=1), nn.ReLU(inplace=True))

    def forward(self, x):
        return self.conv(x)


class CbdUp(nn.Module):
    def __init__(self, in_ch) -> None:
        super().__init__()
        self.up = nn.ConvTranspose2d(in_ch, in_ch // 2, 2, stride=2)

    def forward(self, x1, x2):
        x1 = self.up(x1)
        diffY = x2.size()[2] - x1.size()[2]
        diffX = x2.size()[3] - x1.size()[3]
        x1 = F.pad(x1, (diffX // 2, diffX - diffX // 2, diffY // 2, diffY - diffY // 2))
        return x2 + x1


class CbdOutconv(nn.Module):
    def __init__(self, in_ch, out_ch) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_ch, out_ch, 1)

    def forward(self, x):
        return self.conv(x)


class CbdFCN(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fcn = nn.Sequential(nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(inplace=True),
                                 nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(inplace=True),
                                 nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(inplace=True),
                                 nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(inplace=True),
                                 nn.Conv2d(32, 3, 3, padding=1), nn.ReLU(inplace=True))

    def forward(self, x):
        return self.fcn(x)


class CbdUNet(nn.Module):  # (the repository's 64 / 128 / 256 widths narrowed by `base`)
    def __init__(self, base=16) -> None:
        super().__init__()
        c1, c2, c3 = base, base * 2, base * 4
        self.inc = nn.Sequential(CbdSingleConv(6, c1), CbdSingleConv(c1, c1))
        self.down1 = nn.AvgPool2d(2)
        self.conv1 = nn.Sequential(CbdSingleConv(c1, c2), CbdSingleConv(c2, c2), CbdSingleConv(c2, c2))
        self.down2 = nn.AvgPool2d(2)
        self.conv2 = nn.Sequential(CbdSingleConv(c2, c3), *[CbdSingleConv(c3, c3) for _ in range(5)])
        self.up1 = CbdUp(c3)
        self.conv3 = nn.Sequential(CbdSingleConv(c2, c2), CbdSingleConv(c2, c2), CbdSingleConv(c2, c2))
        self.up2 = CbdUp(c2)
        self.conv4 = nn.Sequential(CbdSingleConv(c1, c1), CbdSingleConv(c1, c1))
        self.outc = CbdOutconv(c1, 3)

    def forward(self, x):
        inx = self.inc(x)
        down1 = self.down1(inx)
        conv1 = self.conv1(down1)
        down2 = self.down2(conv1)
        conv2 = self.conv2(down2)
        up1 = self.up1(conv2, conv1)
        conv3 = self.conv3(up1)
        up2 = self.up2(conv3, inx)
        conv4 = self.conv4(up2)
        return self.outc(conv4)


class GuoShi28CBDNet(nn.Module):  # model/cbdnet.py Network
    def __init__(self) -> None:
        super().__init__()
        self.fcn = CbdFCN()
        self.unet = CbdUNet()

    def forward(self, x):  # (the repository also returns the noise level map)
        noise_level = self.fcn(x)
        concat_img = torch.cat([x, noise_level], dim=1)
        return self.unet(concat_img) + x


# ------------------------------------------------------------------ zhilin007 FFA-Net (net/models/FFA.py)


def ffa_default_conv(in_channels, out_channels, kernel_size, bias=True):
    return nn.Conv2d(in_channels, out_channels, kernel_size, padding=(kernel_size // 2), bias=bias)


class FfaPALayer(nn.Module):
    def __init__(self, channel) -> None:
        super().__init__()
        self.pa = nn.Sequential(nn.Conv2d(channel, channel // 8, 1, padding=0, bias=True), nn.ReLU(inplace=True),
                                nn.Conv2d(channel // 8, 1, 1, padding=0, bias=True), nn.Sigmoid())

    def forward(self, x):
        return x * self.pa(x)


class FfaCALayer(nn.Module):
    def __init__(self, channel) -> None:
        super().__init__()
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.ca = nn.Sequential(nn.Conv2d(channel, channel // 8, 1, padding=0, bias=True), nn.ReLU(inplace=True),
                                nn.Conv2d(channel // 8, channel, 1, padding=0, bias=True), nn.Sigmoid())

    def forward(self, x):
        return x * self.ca(self.avg_pool(x))


class FfaBlock(nn.Module):
    def __init__(self, conv, dim, kernel_size) -> None:
        super().__init__()
        self.conv1 = conv(dim, dim, kernel_size, bias=True)
        self.act1 = nn.ReLU(inplace=True)
        self.conv2 = conv(dim, dim, kernel_size, bias=True)
        self.calayer = FfaCALayer(dim)
        self.palayer = FfaPALayer(dim)

    def forward(self, x):
        res = self.act1(self.conv1(x))
        res = res + x
        res = self.conv2(res)
        res = self.calayer(res)
        res = self.palayer(res)
        res += x
        return res


class FfaGroup(nn.Module):
    def __init__(self, conv, dim, kernel_size, blocks) -> None:
        super().__init__()
        modules = [FfaBlock(conv, dim, kernel_size) for _ in range(blocks)]
        modules.append(conv(dim, dim, kernel_size))
        self.gp = nn.Sequential(*modules)

    def forward(self, x):
        res = self.gp(x)
        res += x
        return res


class Zhilin007FFANet(nn.Module):  # FFA.py FFA (gps=3), narrowed blocks and the 64 width (`dim`)
    def __init__(self, gps=3, blocks=1, conv=ffa_default_conv, dim=32) -> None:
        super().__init__()
        self.gps = gps
        self.dim = dim
        kernel_size = 3
        pre_process = [conv(3, self.dim, kernel_size)]
        assert self.gps == 3
        self.g1 = FfaGroup(conv, self.dim, kernel_size, blocks=blocks)
        self.g2 = FfaGroup(conv, self.dim, kernel_size, blocks=blocks)
        self.g3 = FfaGroup(conv, self.dim, kernel_size, blocks=blocks)
        self.ca = nn.Sequential(*[nn.AdaptiveAvgPool2d(1),
                                  nn.Conv2d(self.dim * self.gps, self.dim // 16, 1, padding=0),
                                  nn.ReLU(inplace=True),
                                  nn.Conv2d(self.dim // 16, self.dim * self.gps, 1, padding=0, bias=True),
                                  nn.Sigmoid()])
        self.palayer = FfaPALayer(self.dim)
        post_precess = [conv(self.dim, self.dim, kernel_size), conv(self.dim, 3, kernel_size)]
        self.pre = nn.Sequential(*pre_process)
        self.post = nn.Sequential(*post_precess)

    def forward(self, x1):
        x = self.pre(x1)
        res1 = self.g1(x)
        res2 = self.g2(res1)
        res3 = self.g3(res2)
        w = self.ca(torch.cat([res1, res2, res3], dim=1))
        w = w.view(-1, self.gps, self.dim)[:, :, :, None, None]
        out = w[:, 0, ::] * res1 + w[:, 1, ::] * res2 + w[:, 2, ::] * res3
        out = self.palayer(out)
        x = self.post(out)
        return x + x1


# ------------------------------------------------------------------ nianticlabs monodepth2 (networks/)


class TvBasicBlock(nn.Module):  # torchvision.models.resnet.BasicBlock
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        return self.relu(out)


class TvResNet(nn.Module):  # torchvision.models.resnet.ResNet (resnet18's layout), narrowed widths
    def __init__(self, layers=(1, 1, 1, 1), widths=(8, 16, 24, 32), num_classes=1000) -> None:
        super().__init__()
        self.inplanes = widths[0]
        self.conv1 = nn.Conv2d(3, self.inplanes, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(widths[0], layers[0])
        self.layer2 = self._make_layer(widths[1], layers[1], stride=2)
        self.layer3 = self._make_layer(widths[2], layers[2], stride=2)
        self.layer4 = self._make_layer(widths[3], layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(widths[3], num_classes)  # unused by monodepth2, kept in its checkpoints

    def _make_layer(self, planes, blocks, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != planes:
            downsample = nn.Sequential(nn.Conv2d(self.inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))
        layers = [TvBasicBlock(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes
        layers += [TvBasicBlock(planes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)


class MdResnetEncoder(nn.Module):  # networks/resnet_encoder.py ResnetEncoder
    def __init__(self) -> None:
        super().__init__()
        self.num_ch_enc = np.array([8, 8, 16, 24, 32])  # ([64, 64, 128, 256, 512] for resnet18)
        self.encoder = TvResNet()

    def forward(self, input_image):
        self.features = []
        x = (input_image - 0.45) / 0.225
        x = self.encoder.conv1(x)
        x = self.encoder.bn1(x)
        self.features.append(self.encoder.relu(x))
        self.features.append(self.encoder.layer1(self.encoder.maxpool(self.features[-1])))
        self.features.append(self.encoder.layer2(self.features[-1]))
        self.features.append(self.encoder.layer3(self.features[-1]))
        self.features.append(self.encoder.layer4(self.features[-1]))
        return self.features


class MdConv3x3(nn.Module):  # layers.py Conv3x3
    def __init__(self, in_channels, out_channels, use_refl=True) -> None:
        super().__init__()
        self.pad = nn.ReflectionPad2d(1) if use_refl else nn.ZeroPad2d(1)
        self.conv = nn.Conv2d(int(in_channels), int(out_channels), 3)

    def forward(self, x):
        return self.conv(self.pad(x))


class MdConvBlock(nn.Module):  # layers.py ConvBlock
    def __init__(self, in_channels, out_channels) -> None:
        super().__init__()
        self.conv = MdConv3x3(in_channels, out_channels)
        self.nonlin = nn.ELU(inplace=True)

    def forward(self, x):
        return self.nonlin(self.conv(x))


class MdDepthDecoder(nn.Module):  # networks/depth_decoder.py DepthDecoder
    def __init__(self, num_ch_enc, scales=range(4), num_output_channels=1, use_skips=True) -> None:
        super().__init__()
        self.num_output_channels = num_output_channels
        self.use_skips = use_skips
        self.upsample_mode = "nearest"
        self.scales = scales
        self.num_ch_enc = num_ch_enc
        self.num_ch_dec = np.array([4, 8, 8, 16, 16])  # ([16, 32, 64, 128, 256] in the repository)
        self.convs = OrderedDict()
        for i in range(4, -1, -1):
            num_ch_in = self.num_ch_enc[-1] if i == 4 else self.num_ch_dec[i + 1]
            num_ch_out = self.num_ch_dec[i]
            self.convs[("upconv", i, 0)] = MdConvBlock(num_ch_in, num_ch_out)
            num_ch_in = self.num_ch_dec[i]
            if self.use_skips and i > 0:
                num_ch_in += self.num_ch_enc[i - 1]
            num_ch_out = self.num_ch_dec[i]
            self.convs[("upconv", i, 1)] = MdConvBlock(num_ch_in, num_ch_out)
        for s in self.scales:
            self.convs[("dispconv", s)] = MdConv3x3(self.num_ch_dec[s], self.num_output_channels)
        self.decoder = nn.ModuleList(list(self.convs.values()))
        self.sigmoid = nn.Sigmoid()

    def forward(self, input_features):
        self.outputs = {}
        x = input_features[-1]
        for i in range(4, -1, -1):
            x = self.convs[("upconv", i, 0)](x)
            x = [F.interpolate(x, scale_factor=2, mode="nearest")]
            if self.use_skips and i > 0:
                x += [input_features[i - 1]]
            x = torch.cat(x, 1)
            x = self.convs[("upconv", i, 1)](x)
            if i in self.scales:
                self.outputs[("disp", i)] = self.sigmoid(self.convs[("dispconv", i)](x))
        return self.outputs


class NianticlabsMonodepth2(nn.Module):  # the encoder + depth decoder pair test_simple.py runs
    def __init__(self) -> None:
        super().__init__()
        self.encoder = MdResnetEncoder()
        self.depth = MdDepthDecoder(num_ch_enc=self.encoder.num_ch_enc, scales=range(4))

    def forward(self, x):  # (the decoder returns a disparity per scale; test_simple.py reads scale 0)
        return self.depth(self.encoder(x))[("disp", 0)]


ZOO = {  # name: (build, input shape, takes a timestep)
    "nvlabs_edm_songunet": (NvlabsEdmSongUNet, (2, 3, 16, 16), True),
    "yanndubs_burgess_vae": (YannDubsBurgessVAE, (2, 3, 32, 32), False),
    "odegeasslbc_fastgan": (OdegeasslbcFastGAN, (2, 100), False),
    "haoyuc_a2n": (HaoyucA2N, (2, 3, 12, 12), False),
    "reagan1311_dabnet": (Reagan1311DABNet, (2, 3, 32, 32), False),
    "guoshi28_cbdnet": (GuoShi28CBDNet, (2, 3, 16, 16), False),
    "zhilin007_ffanet": (Zhilin007FFANet, (2, 3, 16, 16), False),
    "nianticlabs_monodepth2": (NianticlabsMonodepth2, (2, 3, 64, 64), False),
}


def settle_spectral_norms(model: nn.Module, steps: int = 30) -> None:
    """Power iterations on each spectral norm's stored u / v for the redrawn weights, as training
    leaves them (left as drawn, sigma is far too small and the output grows to ~1e13)."""
    from torch.nn.utils.spectral_norm import SpectralNorm

    with torch.no_grad():
        for module in model.modules():
            for hook in module._forward_pre_hooks.values():
                if isinstance(hook, SpectralNorm):
                    for _ in range(steps):
                        hook.compute_weight(module, do_power_iteration=True)


def build(name: str) -> tuple[nn.Module, tuple[torch.Tensor, ...]]:
    """The reference at unit scale in eval mode (spectral norms settled), and the inputs its
    forward takes (an image, a latent, and one timestep per sample for the diffusion U-Net)."""
    reference, inputs = generative_reference(ZOO[name])
    settle_spectral_norms(reference)
    return reference, inputs
