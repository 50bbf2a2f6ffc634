"""Generative and dense-prediction nets as other repositories write them, eighth zoo (issue 16,
session 15): test-only reference models for tests/test_generative_zoo_15.py. Reference code, not
generated code: the generated file must compute what these compute, or say where it cannot.

Layouts of repositories no earlier zoo used, written from the structure of each one's model file
(key names, module order, the parameter-free steps between them) at CPU-test sizes:
- NVIDIA/pix2pixHD's GlobalGenerator: one `model` Sequential, reflection pads, a 7x7 conv,
  strided 3x3 downsamplers, `ResnetBlock`s (`conv_block` Sequentials, x + block), transposed
  convs with output_padding 1, Tanh; instance norm without affine parameters (no key records it);
- cloneofsimo/minDiffusion's NaiveUnet: `Conv3` (`main`, `conv` Sequentials with GroupNorm(8),
  a residual divided by 1.414), `UnetDown`/`UnetUp` `model` Sequentials, a `TimeSiren`
  (bias-free Linear from the scalar time, sin, Linear) added at the bottleneck, a 4x average pool
  and a 4x4 stride-4 transposed conv; the DDPM wrapper's `t / n_T` done at the forward's start;
- LeeJunHyun/Image_Segmentation's AttU_Net: `Conv1`..`Conv5` conv_blocks, `Up5`.. up_convs
  (nearest Upsample then a conv), `Att5`.. Attention_blocks (`W_g`, `W_x`, `psi` with a
  one-channel BatchNorm and Sigmoid) gating the skip, the gated skip concatenated first;
- alterzero/DBPN-Pytorch's DBPN-S (dbpns.py): `ConvBlock`/`DeconvBlock` (`conv`/`deconv`, a
  one-parameter PReLU `act`), Up/Down projection units that subtract and add back, x2 (6x6 kernels,
  stride 2, padding 2);
- udacity/deep-learning-v2-pytorch's convolutional autoencoder: flat `conv1`, `conv2`, one
  shared `pool`, 2x2 stride-2 `t_conv1`/`t_conv2`, a sigmoid;
- davidtvs/PyTorch-ENet: `initial_block` (a conv concatenated with a max-pool, then batch norm and
  PReLU), downsampling bottlenecks whose max-pool returns indices and whose main branch is
  zero-padded to the width, regular/dilated/asymmetric bottlenecks with `ext_conv1..3`
  Sequentials, upsampling bottlenecks that max-unpool with those indices, a transposed conv to
  the input size; PReLU in the encoder, ReLU in the decoder;
- njulj/RFDN: `fea_conv`, residual feature distillation blocks `B1`..`B4` (`c1_d`/`c1_r`...,
  LeakyReLU 0.05, an `esa` enhanced spatial attention with a stride-2 conv, a 7/3 max-pool and a
  bilinear resize), `c` (conv, LeakyReLU), `LR_conv`, a conv + PixelShuffle `upsampler`;
- junyanz/pytorch-CycleGAN-and-pix2pix's NLayerDiscriminator (PatchGAN, pix2pix's batch norm):
  4x4 convs, bias-free where a norm follows, LeakyReLU 0.2, a one-channel patch map.
"""

from __future__ import annotations

import functools
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from tests.redraw import generative_reference

# --------------------------------------------------------------- NVIDIA pix2pixHD GlobalGenerator


class HdResnetBlock(nn.Module):  # pix2pixHD models/networks.py ResnetBlock (reflect padding)
    def __init__(self, dim: int, norm_layer, activation: nn.Module) -> None:
        super().__init__()
        self.conv_block = nn.Sequential(
            nn.ReflectionPad2d(1),
            nn.Conv2d(dim, dim, kernel_size=3, padding=0),
            norm_layer(dim),
            activation,
            nn.ReflectionPad2d(1),
            nn.Conv2d(dim, dim, kernel_size=3, padding=0),
            norm_layer(dim),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv_block(x)


class HdGlobalGenerator(nn.Module):  # pix2pixHD GlobalGenerator (ngf 64, 4 down, 9 blocks there)
    def __init__(
        self,
        input_nc: int = 4,
        output_nc: int = 3,
        ngf: int = 8,
        n_downsampling: int = 2,
        n_blocks: int = 2,
    ) -> None:
        super().__init__()
        norm_layer = functools.partial(
            nn.InstanceNorm2d, affine=False
        )  # get_norm_layer('instance')
        activation = nn.ReLU(True)
        model = [
            nn.ReflectionPad2d(3),
            nn.Conv2d(input_nc, ngf, kernel_size=7, padding=0),
            norm_layer(ngf),
            activation,
        ]
        for i in range(n_downsampling):
            mult = 2**i
            model += [
                nn.Conv2d(ngf * mult, ngf * mult * 2, kernel_size=3, stride=2, padding=1),
                norm_layer(ngf * mult * 2),
                activation,
            ]
        mult = 2**n_downsampling
        for i in range(n_blocks):
            model += [HdResnetBlock(ngf * mult, norm_layer, activation)]
        for i in range(n_downsampling):
            mult = 2 ** (n_downsampling - i)
            model += [
                nn.ConvTranspose2d(
                    ngf * mult,
                    int(ngf * mult / 2),
                    kernel_size=3,
                    stride=2,
                    padding=1,
                    output_padding=1,
                ),
                norm_layer(int(ngf * mult / 2)),
                activation,
            ]
        model += [
            nn.ReflectionPad2d(3),
            nn.Conv2d(ngf, output_nc, kernel_size=7, padding=0),
            nn.Tanh(),
        ]
        self.model = nn.Sequential(*model)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return self.model(input)


# ------------------------------------------------------------------ cloneofsimo minDiffusion


class MdConv3(nn.Module):  # minDiffusion/unet.py Conv3
    def __init__(self, in_channels: int, out_channels: int, is_res: bool = False) -> None:
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, 3, 1, 1),
            nn.GroupNorm(8, out_channels),
            nn.ReLU(),
        )
        self.conv = nn.Sequential(
            nn.Conv2d(out_channels, out_channels, 3, 1, 1),
            nn.GroupNorm(8, out_channels),
            nn.ReLU(),
            nn.Conv2d(out_channels, out_channels, 3, 1, 1),
            nn.GroupNorm(8, out_channels),
            nn.ReLU(),
        )
        self.is_res = is_res

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.main(x)
        if self.is_res:
            x = x + self.conv(x)
            return x / 1.414
        return self.conv(x)


class MdUnetDown(nn.Module):  # minDiffusion/unet.py UnetDown
    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        layers = [MdConv3(in_channels, out_channels), nn.MaxPool2d(2)]
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


class MdUnetUp(nn.Module):  # minDiffusion/unet.py UnetUp
    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        layers = [
            nn.ConvTranspose2d(in_channels, out_channels, 2, 2),
            MdConv3(out_channels, out_channels),
            MdConv3(out_channels, out_channels),
        ]
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        x = torch.cat((x, skip), 1)
        return self.model(x)


class MdTimeSiren(nn.Module):  # minDiffusion/unet.py TimeSiren
    def __init__(self, emb_dim: int) -> None:
        super().__init__()
        self.lin1 = nn.Linear(1, emb_dim, bias=False)
        self.lin2 = nn.Linear(emb_dim, emb_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.view(-1, 1)
        x = torch.sin(self.lin1(x))
        return self.lin2(x)


class MdNaiveUnet(nn.Module):  # minDiffusion/unet.py NaiveUnet (n_feat 256 there), 32x32
    def __init__(self, in_channels: int = 3, out_channels: int = 3, n_feat: int = 8) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.n_feat = n_feat
        self.init_conv = MdConv3(in_channels, n_feat, is_res=True)
        self.down1 = MdUnetDown(n_feat, n_feat)
        self.down2 = MdUnetDown(n_feat, 2 * n_feat)
        self.down3 = MdUnetDown(2 * n_feat, 2 * n_feat)
        self.to_vec = nn.Sequential(nn.AvgPool2d(4), nn.ReLU())
        self.timeembed = MdTimeSiren(2 * n_feat)
        self.up0 = nn.Sequential(
            nn.ConvTranspose2d(2 * n_feat, 2 * n_feat, 4, 4),
            nn.GroupNorm(8, 2 * n_feat),
            nn.ReLU(),
        )
        self.up1 = MdUnetUp(4 * n_feat, 2 * n_feat)
        self.up2 = MdUnetUp(4 * n_feat, n_feat)
        self.up3 = MdUnetUp(2 * n_feat, n_feat)
        self.out = nn.Conv2d(2 * n_feat, self.out_channels, 3, 1, 1)

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        t = t.float() / 1000  # minDiffusion's DDPM calls eps_model(x_t, _ts / self.n_T), n_T 1000
        x = self.init_conv(x)
        down1 = self.down1(x)
        down2 = self.down2(down1)
        down3 = self.down3(down2)
        thro = self.to_vec(down3)
        temb = self.timeembed(t).view(-1, self.n_feat * 2, 1, 1)
        thro = self.up0(thro + temb)
        up1 = self.up1(thro, down3) + temb
        up2 = self.up2(up1, down2)
        up3 = self.up3(up2, down1)
        return self.out(torch.cat((up3, x), 1))


# ------------------------------------------------------- LeeJunHyun Image_Segmentation AttU_Net


class LjhConvBlock(nn.Module):  # network.py conv_block
    def __init__(self, ch_in: int, ch_out: int) -> None:
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(ch_in, ch_out, kernel_size=3, stride=1, padding=1, bias=True),
            nn.BatchNorm2d(ch_out),
            nn.ReLU(inplace=True),
            nn.Conv2d(ch_out, ch_out, kernel_size=3, stride=1, padding=1, bias=True),
            nn.BatchNorm2d(ch_out),
            nn.ReLU(inplace=True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


class LjhUpConv(nn.Module):  # network.py up_conv
    def __init__(self, ch_in: int, ch_out: int) -> None:
        super().__init__()
        self.up = nn.Sequential(
            nn.Upsample(scale_factor=2),
            nn.Conv2d(ch_in, ch_out, kernel_size=3, stride=1, padding=1, bias=True),
            nn.BatchNorm2d(ch_out),
            nn.ReLU(inplace=True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.up(x)


class LjhAttentionBlock(nn.Module):  # network.py Attention_block
    def __init__(self, F_g: int, F_l: int, F_int: int) -> None:
        super().__init__()
        self.W_g = nn.Sequential(
            nn.Conv2d(F_g, F_int, kernel_size=1, stride=1, padding=0, bias=True),
            nn.BatchNorm2d(F_int),
        )
        self.W_x = nn.Sequential(
            nn.Conv2d(F_l, F_int, kernel_size=1, stride=1, padding=0, bias=True),
            nn.BatchNorm2d(F_int),
        )
        self.psi = nn.Sequential(
            nn.Conv2d(F_int, 1, kernel_size=1, stride=1, padding=0, bias=True),
            nn.BatchNorm2d(1),
            nn.Sigmoid(),
        )
        self.relu = nn.ReLU(inplace=True)

    def forward(self, g: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        g1 = self.W_g(g)
        x1 = self.W_x(x)
        psi = self.relu(g1 + x1)
        psi = self.psi(psi)
        return x * psi


class LjhAttUNet(nn.Module):  # network.py AttU_Net (64..1024 there), widths / 8
    def __init__(self, img_ch: int = 3, output_ch: int = 1) -> None:
        super().__init__()
        self.Maxpool = nn.MaxPool2d(kernel_size=2, stride=2)
        self.Conv1 = LjhConvBlock(ch_in=img_ch, ch_out=8)
        self.Conv2 = LjhConvBlock(ch_in=8, ch_out=16)
        self.Conv3 = LjhConvBlock(ch_in=16, ch_out=32)
        self.Conv4 = LjhConvBlock(ch_in=32, ch_out=64)
        self.Conv5 = LjhConvBlock(ch_in=64, ch_out=128)
        self.Up5 = LjhUpConv(ch_in=128, ch_out=64)
        self.Att5 = LjhAttentionBlock(F_g=64, F_l=64, F_int=32)
        self.Up_conv5 = LjhConvBlock(ch_in=128, ch_out=64)
        self.Up4 = LjhUpConv(ch_in=64, ch_out=32)
        self.Att4 = LjhAttentionBlock(F_g=32, F_l=32, F_int=16)
        self.Up_conv4 = LjhConvBlock(ch_in=64, ch_out=32)
        self.Up3 = LjhUpConv(ch_in=32, ch_out=16)
        self.Att3 = LjhAttentionBlock(F_g=16, F_l=16, F_int=8)
        self.Up_conv3 = LjhConvBlock(ch_in=32, ch_out=16)
        self.Up2 = LjhUpConv(ch_in=16, ch_out=8)
        self.Att2 = LjhAttentionBlock(F_g=8, F_l=8, F_int=4)
        self.Up_conv2 = LjhConvBlock(ch_in=16, ch_out=8)
        self.Conv_1x1 = nn.Conv2d(8, output_ch, kernel_size=1, stride=1, padding=0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x1 = self.Conv1(x)
        x2 = self.Maxpool(x1)
        x2 = self.Conv2(x2)
        x3 = self.Maxpool(x2)
        x3 = self.Conv3(x3)
        x4 = self.Maxpool(x3)
        x4 = self.Conv4(x4)
        x5 = self.Maxpool(x4)
        x5 = self.Conv5(x5)
        d5 = self.Up5(x5)
        x4 = self.Att5(g=d5, x=x4)
        d5 = torch.cat((x4, d5), dim=1)
        d5 = self.Up_conv5(d5)
        d4 = self.Up4(d5)
        x3 = self.Att4(g=d4, x=x3)
        d4 = torch.cat((x3, d4), dim=1)
        d4 = self.Up_conv4(d4)
        d3 = self.Up3(d4)
        x2 = self.Att3(g=d3, x=x2)
        d3 = torch.cat((x2, d3), dim=1)
        d3 = self.Up_conv3(d3)
        d2 = self.Up2(d3)
        x1 = self.Att2(g=d2, x=x1)
        d2 = torch.cat((x1, d2), dim=1)
        d2 = self.Up_conv2(d2)
        return self.Conv_1x1(d2)


# ------------------------------------------------------------------ alterzero DBPN-S (dbpns.py)


class DbpnConvBlock(nn.Module):  # base_networks.py ConvBlock (norm None)
    def __init__(
        self, c_in, c_out, kernel_size=3, stride=1, padding=1, bias=True, activation="prelu"
    ) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, kernel_size, stride, padding, bias=bias)
        self.norm = None
        self.activation = activation
        if self.activation == "prelu":
            self.act = nn.PReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv(x)
        if self.activation is not None:
            return self.act(out)
        return out


class DbpnDeconvBlock(nn.Module):  # base_networks.py DeconvBlock (norm None)
    def __init__(
        self, c_in, c_out, kernel_size=4, stride=2, padding=1, bias=True, activation="prelu"
    ) -> None:
        super().__init__()
        self.deconv = nn.ConvTranspose2d(c_in, c_out, kernel_size, stride, padding, bias=bias)
        self.norm = None
        self.activation = activation
        if self.activation == "prelu":
            self.act = nn.PReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.deconv(x)
        if self.activation is not None:
            return self.act(out)
        return out


class DbpnUpBlock(nn.Module):  # base_networks.py UpBlock
    def __init__(self, num_filter: int, kernel_size: int, stride: int, padding: int) -> None:
        super().__init__()
        self.up_conv1 = DbpnDeconvBlock(num_filter, num_filter, kernel_size, stride, padding)
        self.up_conv2 = DbpnConvBlock(num_filter, num_filter, kernel_size, stride, padding)
        self.up_conv3 = DbpnDeconvBlock(num_filter, num_filter, kernel_size, stride, padding)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h0 = self.up_conv1(x)
        l0 = self.up_conv2(h0)
        h1 = self.up_conv3(l0 - x)
        return h1 + h0


class DbpnDownBlock(nn.Module):  # base_networks.py DownBlock
    def __init__(self, num_filter: int, kernel_size: int, stride: int, padding: int) -> None:
        super().__init__()
        self.down_conv1 = DbpnConvBlock(num_filter, num_filter, kernel_size, stride, padding)
        self.down_conv2 = DbpnDeconvBlock(num_filter, num_filter, kernel_size, stride, padding)
        self.down_conv3 = DbpnConvBlock(num_filter, num_filter, kernel_size, stride, padding)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        l0 = self.down_conv1(x)
        h0 = self.down_conv2(l0)
        l1 = self.down_conv3(h0 - x)
        return l1 + l0


class DbpnS(nn.Module):  # dbpns.py Net(num_channels=3, base_filter=..., feat=..., num_stages=2)
    def __init__(
        self,
        num_channels: int = 3,
        base_filter: int = 8,
        feat: int = 16,
        num_stages: int = 2,
        scale_factor: int = 2,
    ) -> None:
        super().__init__()
        if scale_factor == 2:
            kernel, stride, padding = 6, 2, 2
        self.feat0 = DbpnConvBlock(num_channels, feat, 3, 1, 1)
        self.feat1 = DbpnConvBlock(feat, base_filter, 1, 1, 0)
        self.up1 = DbpnUpBlock(base_filter, kernel, stride, padding)
        self.down1 = DbpnDownBlock(base_filter, kernel, stride, padding)
        self.up2 = DbpnUpBlock(base_filter, kernel, stride, padding)
        self.output_conv = DbpnConvBlock(
            num_stages * base_filter, num_channels, 3, 1, 1, activation=None
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.feat0(x)
        x = self.feat1(x)
        h1 = self.up1(x)
        h2 = self.up2(self.down1(h1))
        return self.output_conv(torch.cat((h2, h1), 1))


# ------------------------------------------------- udacity deep-learning-v2-pytorch autoencoder


class UdacityConvAutoencoder(nn.Module):  # convolutional-autoencoder notebook ConvAutoencoder
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 4, 3, padding=1)
        self.pool = nn.MaxPool2d(2, 2)
        self.t_conv1 = nn.ConvTranspose2d(4, 16, 2, stride=2)
        self.t_conv2 = nn.ConvTranspose2d(16, 1, 2, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.conv1(x))
        x = self.pool(x)
        x = F.relu(self.conv2(x))
        x = self.pool(x)
        x = F.relu(self.t_conv1(x))
        return torch.sigmoid(self.t_conv2(x))


# ----------------------------------------------------------------------- davidtvs PyTorch-ENet


class EnetInitialBlock(nn.Module):  # models/enet.py InitialBlock
    def __init__(self, in_channels: int, out_channels: int, bias=False, relu=True) -> None:
        super().__init__()
        activation = nn.ReLU if relu else nn.PReLU
        self.main_branch = nn.Conv2d(
            in_channels, out_channels - 3, kernel_size=3, stride=2, padding=1, bias=bias
        )
        self.ext_branch = nn.MaxPool2d(3, stride=2, padding=1)
        self.batch_norm = nn.BatchNorm2d(out_channels)
        self.out_activation = activation()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        main = self.main_branch(x)
        ext = self.ext_branch(x)
        out = torch.cat((main, ext), 1)
        out = self.batch_norm(out)
        return self.out_activation(out)


class EnetRegularBottleneck(nn.Module):  # models/enet.py RegularBottleneck
    def __init__(
        self,
        channels,
        internal_ratio=4,
        kernel_size=3,
        padding=0,
        dilation=1,
        asymmetric=False,
        dropout_prob=0,
        bias=False,
        relu=True,
    ) -> None:
        super().__init__()
        internal_channels = channels // internal_ratio
        activation = nn.ReLU if relu else nn.PReLU
        self.ext_conv1 = nn.Sequential(
            nn.Conv2d(channels, internal_channels, kernel_size=1, stride=1, bias=bias),
            nn.BatchNorm2d(internal_channels),
            activation(),
        )
        if asymmetric:
            self.ext_conv2 = nn.Sequential(
                nn.Conv2d(
                    internal_channels,
                    internal_channels,
                    kernel_size=(kernel_size, 1),
                    stride=1,
                    padding=(padding, 0),
                    dilation=dilation,
                    bias=bias,
                ),
                nn.BatchNorm2d(internal_channels),
                activation(),
                nn.Conv2d(
                    internal_channels,
                    internal_channels,
                    kernel_size=(1, kernel_size),
                    stride=1,
                    padding=(0, padding),
                    dilation=dilation,
                    bias=bias,
                ),
                nn.BatchNorm2d(internal_channels),
                activation(),
            )
        else:
            self.ext_conv2 = nn.Sequential(
                nn.Conv2d(
                    internal_channels,
                    internal_channels,
                    kernel_size=kernel_size,
                    stride=1,
                    padding=padding,
                    dilation=dilation,
                    bias=bias,
                ),
                nn.BatchNorm2d(internal_channels),
                activation(),
            )
        self.ext_conv3 = nn.Sequential(
            nn.Conv2d(internal_channels, channels, kernel_size=1, stride=1, bias=bias),
            nn.BatchNorm2d(channels),
            activation(),
        )
        self.ext_regul = nn.Dropout2d(p=dropout_prob)
        self.out_activation = activation()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        main = x
        ext = self.ext_conv1(x)
        ext = self.ext_conv2(ext)
        ext = self.ext_conv3(ext)
        ext = self.ext_regul(ext)
        out = main + ext
        return self.out_activation(out)


class EnetDownsamplingBottleneck(nn.Module):  # models/enet.py DownsamplingBottleneck
    def __init__(
        self,
        in_channels,
        out_channels,
        internal_ratio=4,
        return_indices=False,
        dropout_prob=0,
        bias=False,
        relu=True,
    ) -> None:
        super().__init__()
        self.return_indices = return_indices
        internal_channels = in_channels // internal_ratio
        activation = nn.ReLU if relu else nn.PReLU
        self.main_max1 = nn.MaxPool2d(2, stride=2, return_indices=return_indices)
        self.ext_conv1 = nn.Sequential(
            nn.Conv2d(in_channels, internal_channels, kernel_size=2, stride=2, bias=bias),
            nn.BatchNorm2d(internal_channels),
            activation(),
        )
        self.ext_conv2 = nn.Sequential(
            nn.Conv2d(
                internal_channels, internal_channels, kernel_size=3, stride=1, padding=1, bias=bias
            ),
            nn.BatchNorm2d(internal_channels),
            activation(),
        )
        self.ext_conv3 = nn.Sequential(
            nn.Conv2d(internal_channels, out_channels, kernel_size=1, stride=1, bias=bias),
            nn.BatchNorm2d(out_channels),
            activation(),
        )
        self.ext_regul = nn.Dropout2d(p=dropout_prob)
        self.out_activation = activation()

    def forward(self, x: torch.Tensor):
        if self.return_indices:
            main, max_indices = self.main_max1(x)
        else:
            main = self.main_max1(x)
        ext = self.ext_conv1(x)
        ext = self.ext_conv2(ext)
        ext = self.ext_conv3(ext)
        ext = self.ext_regul(ext)
        n, ch_ext, h, w = ext.size()
        ch_main = main.size()[1]
        padding = torch.zeros(n, ch_ext - ch_main, h, w)
        if main.is_cuda:
            padding = padding.cuda()
        main = torch.cat((main, padding), 1)
        out = main + ext
        return self.out_activation(out), max_indices


class EnetUpsamplingBottleneck(nn.Module):  # models/enet.py UpsamplingBottleneck
    def __init__(
        self, in_channels, out_channels, internal_ratio=4, dropout_prob=0, bias=False, relu=True
    ) -> None:
        super().__init__()
        internal_channels = in_channels // internal_ratio
        activation = nn.ReLU if relu else nn.PReLU
        self.main_conv1 = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, kernel_size=1, bias=bias),
            nn.BatchNorm2d(out_channels),
        )
        self.main_unpool1 = nn.MaxUnpool2d(kernel_size=2)
        self.ext_conv1 = nn.Sequential(
            nn.Conv2d(in_channels, internal_channels, kernel_size=1, bias=bias),
            nn.BatchNorm2d(internal_channels),
            activation(),
        )
        self.ext_tconv1 = nn.ConvTranspose2d(
            internal_channels, internal_channels, kernel_size=2, stride=2, bias=bias
        )
        self.ext_tconv1_bnorm = nn.BatchNorm2d(internal_channels)
        self.ext_tconv1_activation = activation()
        self.ext_conv2 = nn.Sequential(
            nn.Conv2d(internal_channels, out_channels, kernel_size=1, bias=bias),
            nn.BatchNorm2d(out_channels),
        )
        self.ext_regul = nn.Dropout2d(p=dropout_prob)
        self.out_activation = activation()

    def forward(self, x, max_indices, output_size):
        main = self.main_conv1(x)
        main = self.main_unpool1(main, max_indices, output_size=output_size)
        ext = self.ext_conv1(x)
        ext = self.ext_tconv1(ext, output_size=output_size)
        ext = self.ext_tconv1_bnorm(ext)
        ext = self.ext_tconv1_activation(ext)
        ext = self.ext_conv2(ext)
        ext = self.ext_regul(ext)
        out = main + ext
        return self.out_activation(out)


class ENet(nn.Module):  # models/enet.py ENet, widths / 2, stages narrowed (no stage 3)
    def __init__(self, num_classes: int = 4, encoder_relu=False, decoder_relu=True) -> None:
        super().__init__()
        self.initial_block = EnetInitialBlock(3, 16, relu=encoder_relu)
        self.downsample1_0 = EnetDownsamplingBottleneck(
            16, 32, return_indices=True, dropout_prob=0.01, relu=encoder_relu
        )
        self.regular1_1 = EnetRegularBottleneck(32, padding=1, dropout_prob=0.01, relu=encoder_relu)
        self.downsample2_0 = EnetDownsamplingBottleneck(
            32, 64, return_indices=True, dropout_prob=0.1, relu=encoder_relu
        )
        self.regular2_1 = EnetRegularBottleneck(64, padding=1, dropout_prob=0.1, relu=encoder_relu)
        self.dilated2_2 = EnetRegularBottleneck(
            64, dilation=2, padding=2, dropout_prob=0.1, relu=encoder_relu
        )
        self.asymmetric2_3 = EnetRegularBottleneck(
            64, kernel_size=5, padding=2, asymmetric=True, dropout_prob=0.1, relu=encoder_relu
        )
        self.dilated2_4 = EnetRegularBottleneck(
            64, dilation=4, padding=4, dropout_prob=0.1, relu=encoder_relu
        )
        self.upsample4_0 = EnetUpsamplingBottleneck(64, 32, dropout_prob=0.1, relu=decoder_relu)
        self.regular4_1 = EnetRegularBottleneck(32, padding=1, dropout_prob=0.1, relu=decoder_relu)
        self.upsample5_0 = EnetUpsamplingBottleneck(32, 16, dropout_prob=0.1, relu=decoder_relu)
        self.regular5_1 = EnetRegularBottleneck(16, padding=1, dropout_prob=0.1, relu=decoder_relu)
        self.transposed_conv = nn.ConvTranspose2d(
            16, num_classes, kernel_size=3, stride=2, padding=1, bias=False
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        input_size = x.size()
        x = self.initial_block(x)
        stage1_input_size = x.size()
        x, max_indices1_0 = self.downsample1_0(x)
        x = self.regular1_1(x)
        stage2_input_size = x.size()
        x, max_indices2_0 = self.downsample2_0(x)
        x = self.regular2_1(x)
        x = self.dilated2_2(x)
        x = self.asymmetric2_3(x)
        x = self.dilated2_4(x)
        x = self.upsample4_0(x, max_indices2_0, output_size=stage2_input_size)
        x = self.regular4_1(x)
        x = self.upsample5_0(x, max_indices1_0, output_size=stage1_input_size)
        x = self.regular5_1(x)
        return self.transposed_conv(x, output_size=input_size)


# ------------------------------------------------------------------------------- njulj RFDN


def _rfdn_conv_layer(c_in: int, c_out: int, kernel_size: int, stride: int = 1) -> nn.Conv2d:
    padding = int((kernel_size - 1) / 2)  # block.py conv_layer
    return nn.Conv2d(c_in, c_out, kernel_size, stride, padding=padding, bias=True)


class RfdnESA(nn.Module):  # block.py ESA
    def __init__(self, n_feats: int, conv=nn.Conv2d) -> None:
        super().__init__()
        f = n_feats // 4
        self.conv1 = conv(n_feats, f, kernel_size=1)
        self.conv_f = conv(f, f, kernel_size=1)
        self.conv_max = conv(f, f, kernel_size=3, padding=1)
        self.conv2 = conv(f, f, kernel_size=3, stride=2, padding=0)
        self.conv3 = conv(f, f, kernel_size=3, padding=1)
        self.conv3_ = conv(f, f, kernel_size=3, padding=1)
        self.conv4 = conv(f, n_feats, kernel_size=1)
        self.sigmoid = nn.Sigmoid()
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        c1_ = self.conv1(x)
        c1 = self.conv2(c1_)
        v_max = F.max_pool2d(c1, kernel_size=7, stride=3)
        v_range = self.relu(self.conv_max(v_max))
        c3 = self.relu(self.conv3(v_range))
        c3 = self.conv3_(c3)
        c3 = F.interpolate(c3, (x.size(2), x.size(3)), mode="bilinear", align_corners=False)
        cf = self.conv_f(c1_)
        c4 = self.conv4(c3 + cf)
        m = self.sigmoid(c4)
        return x * m


class RFDB(nn.Module):  # block.py RFDB
    def __init__(self, in_channels: int) -> None:
        super().__init__()
        self.dc = self.distilled_channels = in_channels // 2
        self.rc = self.remaining_channels = in_channels
        self.c1_d = _rfdn_conv_layer(in_channels, self.dc, 1)
        self.c1_r = _rfdn_conv_layer(in_channels, self.rc, 3)
        self.c2_d = _rfdn_conv_layer(self.remaining_channels, self.dc, 1)
        self.c2_r = _rfdn_conv_layer(self.remaining_channels, self.rc, 3)
        self.c3_d = _rfdn_conv_layer(self.remaining_channels, self.dc, 1)
        self.c3_r = _rfdn_conv_layer(self.remaining_channels, self.rc, 3)
        self.c4 = _rfdn_conv_layer(self.remaining_channels, self.dc, 3)
        self.act = nn.LeakyReLU(0.05, inplace=True)  # activation('lrelu', neg_slope=0.05)
        self.c5 = _rfdn_conv_layer(self.dc * 4, in_channels, 1)
        self.esa = RfdnESA(in_channels, nn.Conv2d)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        distilled_c1 = self.act(self.c1_d(input))
        r_c1 = self.c1_r(input)
        r_c1 = self.act(r_c1 + input)
        distilled_c2 = self.act(self.c2_d(r_c1))
        r_c2 = self.c2_r(r_c1)
        r_c2 = self.act(r_c2 + r_c1)
        distilled_c3 = self.act(self.c3_d(r_c2))
        r_c3 = self.c3_r(r_c2)
        r_c3 = self.act(r_c3 + r_c2)
        r_c4 = self.act(self.c4(r_c3))
        out = torch.cat([distilled_c1, distilled_c2, distilled_c3, r_c4], dim=1)
        return self.esa(self.c5(out))


class RFDN(nn.Module):  # RFDN.py RFDN (nf 50, x4 there), nf 8, x2
    def __init__(
        self, in_nc: int = 3, nf: int = 8, num_modules: int = 4, out_nc: int = 3, upscale: int = 2
    ) -> None:
        super().__init__()
        self.fea_conv = _rfdn_conv_layer(in_nc, nf, kernel_size=3)
        self.B1 = RFDB(in_channels=nf)
        self.B2 = RFDB(in_channels=nf)
        self.B3 = RFDB(in_channels=nf)
        self.B4 = RFDB(in_channels=nf)
        self.c = nn.Sequential(  # conv_block(act_type='lrelu'): conv, LeakyReLU(0.05)
            _rfdn_conv_layer(nf * num_modules, nf, kernel_size=1),
            nn.LeakyReLU(0.05, inplace=True),
        )
        self.LR_conv = _rfdn_conv_layer(nf, nf, kernel_size=3)
        self.upsampler = nn.Sequential(  # pixelshuffle_block
            _rfdn_conv_layer(nf, out_nc * upscale**2, 3),
            nn.PixelShuffle(upscale),
        )
        self.scale_idx = 0

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        out_fea = self.fea_conv(input)
        out_B1 = self.B1(out_fea)
        out_B2 = self.B2(out_B1)
        out_B3 = self.B3(out_B2)
        out_B4 = self.B4(out_B3)
        out_B = self.c(torch.cat([out_B1, out_B2, out_B3, out_B4], dim=1))
        out_lr = self.LR_conv(out_B) + out_fea
        return self.upsampler(out_lr)


# ------------------------------------------------- junyanz pix2pix NLayerDiscriminator (PatchGAN)


class NLayerDiscriminator(nn.Module):  # models/networks.py NLayerDiscriminator (ndf 64 there)
    def __init__(
        self, input_nc: int = 6, ndf: int = 8, n_layers: int = 3, norm_layer=nn.BatchNorm2d
    ) -> None:
        super().__init__()
        if type(norm_layer) == functools.partial:  # noqa: E721 (as the repository writes it)
            use_bias = norm_layer.func == nn.InstanceNorm2d
        else:
            use_bias = norm_layer == nn.InstanceNorm2d
        kw, padw = 4, 1
        sequence = [
            nn.Conv2d(input_nc, ndf, kernel_size=kw, stride=2, padding=padw),
            nn.LeakyReLU(0.2, True),
        ]
        nf_mult = 1
        nf_mult_prev = 1
        for n in range(1, n_layers):
            nf_mult_prev = nf_mult
            nf_mult = min(2**n, 8)
            sequence += [
                nn.Conv2d(
                    ndf * nf_mult_prev,
                    ndf * nf_mult,
                    kernel_size=kw,
                    stride=2,
                    padding=padw,
                    bias=use_bias,
                ),
                norm_layer(ndf * nf_mult),
                nn.LeakyReLU(0.2, True),
            ]
        nf_mult_prev = nf_mult
        nf_mult = min(2**n_layers, 8)
        sequence += [
            nn.Conv2d(
                ndf * nf_mult_prev,
                ndf * nf_mult,
                kernel_size=kw,
                stride=1,
                padding=padw,
                bias=use_bias,
            ),
            norm_layer(ndf * nf_mult),
            nn.LeakyReLU(0.2, True),
        ]
        sequence += [nn.Conv2d(ndf * nf_mult, 1, kernel_size=kw, stride=1, padding=padw)]
        self.model = nn.Sequential(*sequence)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return self.model(input)


ZOO = {  # name: (build, input shape, takes a timestep)
    "pix2pixhd_global": (HdGlobalGenerator, (2, 4, 16, 16), False),
    "mindiffusion_unet": (MdNaiveUnet, (2, 3, 32, 32), True),
    "ljh_attention_unet": (LjhAttUNet, (2, 3, 32, 32), False),
    "dbpn_s_x2": (DbpnS, (2, 3, 8, 8), False),
    "udacity_conv_ae": (UdacityConvAutoencoder, (2, 1, 28, 28), False),
    "davidtvs_enet": (ENet, (2, 3, 32, 32), False),
    "rfdn_x2": (RFDN, (2, 3, 16, 16), False),
    "pix2pix_patchgan": (NLayerDiscriminator, (2, 6, 32, 32), False),
}


def build(name: str) -> tuple[nn.Module, tuple[torch.Tensor, ...]]:
    """The reference at unit scale in eval mode, and the inputs its forward takes (an image, and
    one timestep per sample for the diffusion U-Net)."""
    return generative_reference(ZOO[name])
