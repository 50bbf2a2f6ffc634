"""Generative and dense-prediction nets as other repositories write them, sixteenth zoo (issue
16, session 23): test-only reference models for tests/test_generative_zoo_23.py. Reference code,
not generated code: the generated file must compute what these compute, or say where it cannot.

Layouts of repositories no earlier zoo used, written from the structure of each one's model file
(their code is not copied), narrowed: zoubohao's DenoisingDiffusionProbabilityModel UNet (a
TimeEmbedding of nn.Embedding.from_pretrained sinusoids, flat `downblocks` / `middleblocks` /
`upblocks` ModuleLists whose DownSample / UpSample take and ignore the embedding, a bmm attention,
the skip concatenated before every up ResBlock), Li-Chongyi's Zero-DCE (seven convs with
symmetric concatenations, tanh curve maps split in eight and applied as x + r (x^2 - x)),
MayankSingal's AOD-Net (five convs of 1/3/5/7/3 kernels over concatenations, relu(k x - k + 1)),
LeeJunHyun's R2U-Net (recurrent blocks that reuse one conv t times on x + x1, RRCNN blocks behind
a 1x1, nearest up_conv), wutianyiRosun's CGNet (context guided blocks: PReLU, depthwise local and
dilated surrounding convs, an FGlo channel gate, input injection by average pools, a bilinear
resize to the input), megvii's HINet (two U-Nets, half instance norm on the encoders, cross-stage
feature fusion, a supervised attention module between them), xindongzhang's ECBSR in its train
form (edge-oriented blocks: a 3x3, a 1x1-3x3 with bias-filled padding, Sobel x / y and Laplacian
masks scaled per channel, PReLU; the Y channel added before the pixel shuffle) and
eriklindernoren's context encoder generator (BatchNorm2d(c, 0.8): eps 0.8, as written)."""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from tests.redraw import generative_reference


# ------------------------------------------------------------------ zoubohao DenoisingDiffusionProbabilityModel


class Swish(nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(x)


class ZbTimeEmbedding(nn.Module):  # Diffusion/Model.py TimeEmbedding
    def __init__(self, T, d_model, dim) -> None:
        assert d_model % 2 == 0
        super().__init__()
        emb = torch.arange(0, d_model, step=2) / d_model * math.log(10000)
        emb = torch.exp(-emb)
        pos = torch.arange(T).float()
        emb = pos[:, None] * emb[None, :]
        emb = torch.stack([torch.sin(emb), torch.cos(emb)], dim=-1).view(T, d_model)
        self.timembedding = nn.Sequential(nn.Embedding.from_pretrained(emb), nn.Linear(d_model, dim), Swish(),
                                          nn.Linear(dim, dim))

    def forward(self, t):
        return self.timembedding(t)


class ZbDownSample(nn.Module):
    def __init__(self, in_ch) -> None:
        super().__init__()
        self.main = nn.Conv2d(in_ch, in_ch, 3, stride=2, padding=1)

    def forward(self, x, temb):
        return self.main(x)


class ZbUpSample(nn.Module):
    def __init__(self, in_ch) -> None:
        super().__init__()
        self.main = nn.Conv2d(in_ch, in_ch, 3, stride=1, padding=1)

    def forward(self, x, temb):
        x = F.interpolate(x, scale_factor=2, mode="nearest")
        return self.main(x)


class ZbAttnBlock(nn.Module):
    def __init__(self, in_ch) -> None:
        super().__init__()
        self.group_norm = nn.GroupNorm(32, in_ch)
        self.proj_q = nn.Conv2d(in_ch, in_ch, 1, stride=1, padding=0)
        self.proj_k = nn.Conv2d(in_ch, in_ch, 1, stride=1, padding=0)
        self.proj_v = nn.Conv2d(in_ch, in_ch, 1, stride=1, padding=0)
        self.proj = nn.Conv2d(in_ch, in_ch, 1, stride=1, padding=0)

    def forward(self, x):
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


class ZbResBlock(nn.Module):
    def __init__(self, in_ch, out_ch, tdim, dropout, attn=False) -> None:
        super().__init__()
        self.block1 = nn.Sequential(nn.GroupNorm(32, in_ch), Swish(), nn.Conv2d(in_ch, out_ch, 3, stride=1, padding=1))
        self.temb_proj = nn.Sequential(Swish(), nn.Linear(tdim, out_ch))
        self.block2 = nn.Sequential(nn.GroupNorm(32, out_ch), Swish(), nn.Dropout(dropout),
                                    nn.Conv2d(out_ch, out_ch, 3, stride=1, padding=1))
        self.shortcut = nn.Conv2d(in_ch, out_ch, 1, stride=1, padding=0) if in_ch != out_ch else nn.Identity()
        self.attn = ZbAttnBlock(out_ch) if attn else nn.Identity()

    def forward(self, x, temb):
        h = self.block1(x)
        h += self.temb_proj(temb)[:, :, None, None]
        h = self.block2(h)
        h = h + self.shortcut(x)
        return self.attn(h)


class ZoubohaoUNet(nn.Module):  # Diffusion/Model.py UNet, narrowed (ch 32, ch_mult [1, 2], attn [1])
    def __init__(self, T=1000, ch=32, ch_mult=(1, 2), attn=(1,), num_res_blocks=1, dropout=0.1) -> None:
        super().__init__()
        tdim = ch * 4
        self.time_embedding = ZbTimeEmbedding(T, ch, tdim)
        self.head = nn.Conv2d(3, ch, kernel_size=3, stride=1, padding=1)
        self.downblocks = nn.ModuleList()
        chs = [ch]
        now_ch = ch
        for i, mult in enumerate(ch_mult):
            out_ch = ch * mult
            for _ in range(num_res_blocks):
                self.downblocks.append(ZbResBlock(now_ch, out_ch, tdim, dropout, attn=(i in attn)))
                now_ch = out_ch
                chs.append(now_ch)
            if i != len(ch_mult) - 1:
                self.downblocks.append(ZbDownSample(now_ch))
                chs.append(now_ch)
        self.middleblocks = nn.ModuleList([ZbResBlock(now_ch, now_ch, tdim, dropout, attn=True),
                                           ZbResBlock(now_ch, now_ch, tdim, dropout, attn=False)])
        self.upblocks = nn.ModuleList()
        for i, mult in reversed(list(enumerate(ch_mult))):
            out_ch = ch * mult
            for _ in range(num_res_blocks + 1):
                self.upblocks.append(ZbResBlock(chs.pop() + now_ch, out_ch, tdim, dropout, attn=(i in attn)))
                now_ch = out_ch
            if i != 0:
                self.upblocks.append(ZbUpSample(now_ch))
        assert len(chs) == 0
        self.tail = nn.Sequential(nn.GroupNorm(32, now_ch), Swish(), nn.Conv2d(now_ch, 3, 3, stride=1, padding=1))

    def forward(self, x, t):
        temb = self.time_embedding(t)
        h = self.head(x)
        hs = [h]
        for layer in self.downblocks:
            h = layer(h, temb)
            hs.append(h)
        for layer in self.middleblocks:
            h = layer(h, temb)
        for layer in self.upblocks:
            if isinstance(layer, ZbResBlock):
                h = torch.cat([h, hs.pop()], dim=1)
            h = layer(h, temb)
        h = self.tail(h)
        assert len(hs) == 0
        return h


# ------------------------------------------------------------------ Li-Chongyi Zero-DCE


class LiChongyiZeroDCE(nn.Module):  # Zero-DCE_code/model.py enhance_net_nopool
    def __init__(self) -> None:
        super().__init__()
        self.relu = nn.ReLU(inplace=True)
        number_f = 32
        self.e_conv1 = nn.Conv2d(3, number_f, 3, 1, 1, bias=True)
        self.e_conv2 = nn.Conv2d(number_f, number_f, 3, 1, 1, bias=True)
        self.e_conv3 = nn.Conv2d(number_f, number_f, 3, 1, 1, bias=True)
        self.e_conv4 = nn.Conv2d(number_f, number_f, 3, 1, 1, bias=True)
        self.e_conv5 = nn.Conv2d(number_f * 2, number_f, 3, 1, 1, bias=True)
        self.e_conv6 = nn.Conv2d(number_f * 2, number_f, 3, 1, 1, bias=True)
        self.e_conv7 = nn.Conv2d(number_f * 2, 24, 3, 1, 1, bias=True)
        self.maxpool = nn.MaxPool2d(2, stride=2, return_indices=False, ceil_mode=False)
        self.upsample = nn.UpsamplingBilinear2d(scale_factor=2)

    def forward(self, x):
        x1 = self.relu(self.e_conv1(x))
        x2 = self.relu(self.e_conv2(x1))
        x3 = self.relu(self.e_conv3(x2))
        x4 = self.relu(self.e_conv4(x3))
        x5 = self.relu(self.e_conv5(torch.cat([x3, x4], 1)))
        x6 = self.relu(self.e_conv6(torch.cat([x2, x5], 1)))
        x_r = torch.tanh(self.e_conv7(torch.cat([x1, x6], 1)))
        r1, r2, r3, r4, r5, r6, r7, r8 = torch.split(x_r, 3, dim=1)
        x = x + r1 * (torch.pow(x, 2) - x)
        x = x + r2 * (torch.pow(x, 2) - x)
        x = x + r3 * (torch.pow(x, 2) - x)
        enhance_image_1 = x + r4 * (torch.pow(x, 2) - x)
        x = enhance_image_1 + r5 * (torch.pow(enhance_image_1, 2) - enhance_image_1)
        x = x + r6 * (torch.pow(x, 2) - x)
        x = x + r7 * (torch.pow(x, 2) - x)
        enhance_image = x + r8 * (torch.pow(x, 2) - x)
        # the repository returns (enhance_image_1, enhance_image, r); its lowlight_test.py keeps
        # the second, the one output the zoo compares
        return enhance_image


# ------------------------------------------------------------------ MayankSingal PyTorch-Image-Dehazing (AOD-Net)


class MayankSingalAODNet(nn.Module):  # net.py dehaze_net
    def __init__(self) -> None:
        super().__init__()
        self.relu = nn.ReLU(inplace=True)
        self.e_conv1 = nn.Conv2d(3, 3, 1, 1, 0, bias=True)
        self.e_conv2 = nn.Conv2d(3, 3, 3, 1, 1, bias=True)
        self.e_conv3 = nn.Conv2d(6, 3, 5, 1, 2, bias=True)
        self.e_conv4 = nn.Conv2d(6, 3, 7, 1, 3, bias=True)
        self.e_conv5 = nn.Conv2d(12, 3, 3, 1, 1, bias=True)

    def forward(self, x):
        source = [x]
        x1 = self.relu(self.e_conv1(x))
        x2 = self.relu(self.e_conv2(x1))
        concat1 = torch.cat((x1, x2), 1)
        x3 = self.relu(self.e_conv3(concat1))
        concat2 = torch.cat((x2, x3), 1)
        x4 = self.relu(self.e_conv4(concat2))
        concat3 = torch.cat((x1, x2, x3, x4), 1)
        x5 = self.relu(self.e_conv5(concat3))
        return self.relu((x5 * source[0]) - x5 + 1)


# ------------------------------------------------------------------ LeeJunHyun Image_Segmentation (R2U-Net)


class UpConv(nn.Module):  # network.py up_conv
    def __init__(self, ch_in, ch_out) -> None:
        super().__init__()
        self.up = nn.Sequential(nn.Upsample(scale_factor=2),
                                nn.Conv2d(ch_in, ch_out, kernel_size=3, stride=1, padding=1, bias=True),
                                nn.BatchNorm2d(ch_out), nn.ReLU(inplace=True))

    def forward(self, x):
        return self.up(x)


class RecurrentBlock(nn.Module):  # network.py Recurrent_block
    def __init__(self, ch_out, t=2) -> None:
        super().__init__()
        self.t = t
        self.ch_out = ch_out
        self.conv = nn.Sequential(nn.Conv2d(ch_out, ch_out, kernel_size=3, stride=1, padding=1, bias=True),
                                  nn.BatchNorm2d(ch_out), nn.ReLU(inplace=True))

    def forward(self, x):
        for i in range(self.t):
            if i == 0:
                x1 = self.conv(x)
            x1 = self.conv(x + x1)
        return x1


class RRCNNBlock(nn.Module):  # network.py RRCNN_block
    def __init__(self, ch_in, ch_out, t=2) -> None:
        super().__init__()
        self.RCNN = nn.Sequential(RecurrentBlock(ch_out, t=t), RecurrentBlock(ch_out, t=t))
        self.Conv_1x1 = nn.Conv2d(ch_in, ch_out, kernel_size=1, stride=1, padding=0)

    def forward(self, x):
        x = self.Conv_1x1(x)
        x1 = self.RCNN(x)
        return x + x1


class LeeJunHyunR2UNet(nn.Module):  # network.py R2U_Net, widths 64..1024 narrowed to 8..64 (4 levels)
    def __init__(self, img_ch=3, output_ch=1, t=2, w=8) -> None:
        super().__init__()
        self.Maxpool = nn.MaxPool2d(kernel_size=2, stride=2)
        self.Upsample = nn.Upsample(scale_factor=2)
        self.RRCNN1 = RRCNNBlock(img_ch, w, t=t)
        self.RRCNN2 = RRCNNBlock(w, 2 * w, t=t)
        self.RRCNN3 = RRCNNBlock(2 * w, 4 * w, t=t)
        self.RRCNN4 = RRCNNBlock(4 * w, 8 * w, t=t)
        self.Up4 = UpConv(8 * w, 4 * w)
        self.Up_RRCNN4 = RRCNNBlock(8 * w, 4 * w, t=t)
        self.Up3 = UpConv(4 * w, 2 * w)
        self.Up_RRCNN3 = RRCNNBlock(4 * w, 2 * w, t=t)
        self.Up2 = UpConv(2 * w, w)
        self.Up_RRCNN2 = RRCNNBlock(2 * w, w, t=t)
        self.Conv_1x1 = nn.Conv2d(w, output_ch, kernel_size=1, stride=1, padding=0)

    def forward(self, x):
        x1 = self.RRCNN1(x)
        x2 = self.RRCNN2(self.Maxpool(x1))
        x3 = self.RRCNN3(self.Maxpool(x2))
        x4 = self.RRCNN4(self.Maxpool(x3))
        d4 = self.Up4(x4)
        d4 = self.Up_RRCNN4(torch.cat((x3, d4), dim=1))
        d3 = self.Up3(d4)
        d3 = self.Up_RRCNN3(torch.cat((x2, d3), dim=1))
        d2 = self.Up2(d3)
        d2 = self.Up_RRCNN2(torch.cat((x1, d2), dim=1))
        return self.Conv_1x1(d2)


# ------------------------------------------------------------------ wutianyiRosun CGNet


class ConvBNPReLU(nn.Module):
    def __init__(self, nIn, nOut, kSize, stride=1) -> None:
        super().__init__()
        padding = int((kSize - 1) / 2)
        self.conv = nn.Conv2d(nIn, nOut, (kSize, kSize), stride=stride, padding=(padding, padding), bias=False)
        self.bn = nn.BatchNorm2d(nOut, eps=1e-03)
        self.act = nn.PReLU(nOut)

    def forward(self, input):
        return self.act(self.bn(self.conv(input)))


class BNPReLU(nn.Module):
    def __init__(self, nOut) -> None:
        super().__init__()
        self.bn = nn.BatchNorm2d(nOut, eps=1e-03)
        self.act = nn.PReLU(nOut)

    def forward(self, input):
        return self.act(self.bn(input))


class CgConv(nn.Module):  # CGNet.py Conv
    def __init__(self, nIn, nOut, kSize, stride=1) -> None:
        super().__init__()
        padding = int((kSize - 1) / 2)
        self.conv = nn.Conv2d(nIn, nOut, (kSize, kSize), stride=stride, padding=(padding, padding), bias=False)

    def forward(self, input):
        return self.conv(input)


class ChannelWiseConv(nn.Module):
    def __init__(self, nIn, nOut, kSize, stride=1) -> None:
        super().__init__()
        padding = int((kSize - 1) / 2)
        self.conv = nn.Conv2d(nIn, nOut, (kSize, kSize), stride=stride, padding=(padding, padding), groups=nIn,
                              bias=False)

    def forward(self, input):
        return self.conv(input)


class ChannelWiseDilatedConv(nn.Module):
    def __init__(self, nIn, nOut, kSize, stride=1, d=1) -> None:
        super().__init__()
        padding = int((kSize - 1) / 2) * d
        self.conv = nn.Conv2d(nIn, nOut, (kSize, kSize), stride=stride, padding=(padding, padding), groups=nIn,
                              bias=False, dilation=d)

    def forward(self, input):
        return self.conv(input)


class FGlo(nn.Module):
    def __init__(self, channel, reduction=16) -> None:
        super().__init__()
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Sequential(nn.Linear(channel, channel // reduction), nn.ReLU(inplace=True),
                                nn.Linear(channel // reduction, channel), nn.Sigmoid())

    def forward(self, x):
        b, c, _, _ = x.size()
        y = self.avg_pool(x).view(b, c)
        y = self.fc(y).view(b, c, 1, 1)
        return x * y


class ContextGuidedBlockDown(nn.Module):  # CGNet.py ContextGuidedBlock_Down
    def __init__(self, nIn, nOut, dilation_rate=2, reduction=16) -> None:
        super().__init__()
        self.conv1x1 = ConvBNPReLU(nIn, nOut, 3, 2)
        self.F_loc = ChannelWiseConv(nOut, nOut, 3, 1)
        self.F_sur = ChannelWiseDilatedConv(nOut, nOut, 3, 1, dilation_rate)
        self.bn = nn.BatchNorm2d(2 * nOut, eps=1e-3)
        self.act = nn.PReLU(2 * nOut)
        self.reduce = CgConv(2 * nOut, nOut, 1, 1)
        self.F_glo = FGlo(nOut, reduction)

    def forward(self, input):
        output = self.conv1x1(input)
        loc = self.F_loc(output)
        sur = self.F_sur(output)
        joi_feat = self.act(self.bn(torch.cat([loc, sur], 1)))
        joi_feat = self.reduce(joi_feat)
        return self.F_glo(joi_feat)


class ContextGuidedBlock(nn.Module):
    def __init__(self, nIn, nOut, dilation_rate=2, reduction=16, add=True) -> None:
        super().__init__()
        n = int(nOut / 2)
        self.conv1x1 = ConvBNPReLU(nIn, n, 1, 1)
        self.F_loc = ChannelWiseConv(n, n, 3, 1)
        self.F_sur = ChannelWiseDilatedConv(n, n, 3, 1, dilation_rate)
        self.bn_prelu = BNPReLU(nOut)
        self.add = add
        self.F_glo = FGlo(nOut, reduction)

    def forward(self, input):
        output = self.conv1x1(input)
        loc = self.F_loc(output)
        sur = self.F_sur(output)
        joi_feat = self.bn_prelu(torch.cat([loc, sur], 1))
        output = self.F_glo(joi_feat)
        if self.add:
            output = input + output
        return output


class InputInjection(nn.Module):
    def __init__(self, downsamplingRatio) -> None:
        super().__init__()
        self.pool = nn.ModuleList([nn.AvgPool2d(3, stride=2, padding=1) for _ in range(downsamplingRatio)])

    def forward(self, input):
        for pool in self.pool:
            input = pool(input)
        return input


class WutianyiCGNet(nn.Module):  # model/CGNet.py Context_Guided_Network (widths as written, M=2, N=3)
    def __init__(self, classes=5, M=2, N=3) -> None:
        super().__init__()
        self.level1_0 = ConvBNPReLU(3, 32, 3, 2)
        self.level1_1 = ConvBNPReLU(32, 32, 3, 1)
        self.level1_2 = ConvBNPReLU(32, 32, 3, 1)
        self.sample1 = InputInjection(1)
        self.sample2 = InputInjection(2)
        self.b1 = BNPReLU(32 + 3)
        self.level2_0 = ContextGuidedBlockDown(32 + 3, 64, dilation_rate=2, reduction=8)
        self.level2 = nn.ModuleList([ContextGuidedBlock(64, 64, dilation_rate=2, reduction=8) for _ in range(M - 1)])
        self.bn_prelu_2 = BNPReLU(128 + 3)
        self.level3_0 = ContextGuidedBlockDown(128 + 3, 128, dilation_rate=4, reduction=16)
        self.level3 = nn.ModuleList([ContextGuidedBlock(128, 128, dilation_rate=4, reduction=16)
                                     for _ in range(N - 1)])
        self.bn_prelu_3 = BNPReLU(256)
        self.classifier = nn.Sequential(CgConv(256, classes, 1, 1))

    def forward(self, input):
        output0 = self.level1_2(self.level1_1(self.level1_0(input)))
        inp1 = self.sample1(input)
        inp2 = self.sample2(input)
        output0_cat = self.b1(torch.cat([output0, inp1], 1))
        output1_0 = self.level2_0(output0_cat)
        for i, layer in enumerate(self.level2):
            output1 = layer(output1_0) if i == 0 else layer(output1)
        output1_cat = self.bn_prelu_2(torch.cat([output1, output1_0, inp2], 1))
        output2_0 = self.level3_0(output1_cat)
        for i, layer in enumerate(self.level3):
            output2 = layer(output2_0) if i == 0 else layer(output2)
        output2_cat = self.bn_prelu_3(torch.cat([output2_0, output2], 1))
        classifier = self.classifier(output2_cat)
        return F.interpolate(classifier, input.size()[2:], mode="bilinear", align_corners=False)  # F.upsample


# ------------------------------------------------------------------ megvii-model HINet


def conv3x3(in_chn, out_chn, bias=True):
    return nn.Conv2d(in_chn, out_chn, kernel_size=3, stride=1, padding=1, bias=bias)


def conv_down(in_chn, out_chn, bias=False):
    return nn.Conv2d(in_chn, out_chn, kernel_size=4, stride=2, padding=1, bias=bias)


def conv(in_channels, out_channels, kernel_size, bias=False, stride=1):
    return nn.Conv2d(in_channels, out_channels, kernel_size, padding=(kernel_size // 2), bias=bias, stride=stride)


class SAM(nn.Module):
    def __init__(self, n_feat, kernel_size=3, bias=True) -> None:
        super().__init__()
        self.conv1 = conv(n_feat, n_feat, kernel_size, bias=bias)
        self.conv2 = conv(n_feat, 3, kernel_size, bias=bias)
        self.conv3 = conv(3, n_feat, kernel_size, bias=bias)

    def forward(self, x, x_img):
        x1 = self.conv1(x)
        img = self.conv2(x) + x_img
        x2 = torch.sigmoid(self.conv3(img))
        x1 = x1 * x2
        x1 = x1 + x
        return x1, img


class UNetConvBlock(nn.Module):
    def __init__(self, in_size, out_size, downsample, relu_slope, use_csff=False, use_HIN=False) -> None:
        super().__init__()
        self.downsample = downsample
        self.identity = nn.Conv2d(in_size, out_size, 1, 1, 0)
        self.use_csff = use_csff
        self.conv_1 = nn.Conv2d(in_size, out_size, kernel_size=3, padding=1, bias=True)
        self.relu_1 = nn.LeakyReLU(relu_slope, inplace=False)
        self.conv_2 = nn.Conv2d(out_size, out_size, kernel_size=3, padding=1, bias=True)
        self.relu_2 = nn.LeakyReLU(relu_slope, inplace=False)
        if downsample and use_csff:
            self.csff_enc = nn.Conv2d(out_size, out_size, 3, 1, 1)
            self.csff_dec = nn.Conv2d(out_size, out_size, 3, 1, 1)
        if use_HIN:
            self.norm = nn.InstanceNorm2d(out_size // 2, affine=True)
        self.use_HIN = use_HIN
        if downsample:
            self.downsample = conv_down(out_size, out_size, bias=False)

    def forward(self, x, enc=None, dec=None):
        out = self.conv_1(x)
        if self.use_HIN:
            out_1, out_2 = torch.chunk(out, 2, dim=1)
            out = torch.cat([self.norm(out_1), out_2], dim=1)
        out = self.relu_1(out)
        out = self.relu_2(self.conv_2(out))
        out += self.identity(x)
        if enc is not None and dec is not None:
            assert self.use_csff
            out = out + self.csff_enc(enc) + self.csff_dec(dec)
        if self.downsample:
            out_down = self.downsample(out)
            return out_down, out
        return out


class UNetUpBlock(nn.Module):
    def __init__(self, in_size, out_size, relu_slope) -> None:
        super().__init__()
        self.up = nn.ConvTranspose2d(in_size, out_size, kernel_size=2, stride=2, bias=True)
        self.conv_block = UNetConvBlock(in_size, out_size, False, relu_slope)

    def forward(self, x, bridge):
        up = self.up(x)
        out = torch.cat([up, bridge], 1)
        return self.conv_block(out)


class MegviiHINet(nn.Module):  # basicsr/models/archs/hinet_arch.py HINet, narrowed (wf 8, depth 3)
    def __init__(self, in_chn=3, wf=8, depth=3, relu_slope=0.2, hin_position_left=0, hin_position_right=4) -> None:
        super().__init__()
        self.depth = depth
        self.down_path_1 = nn.ModuleList()
        self.down_path_2 = nn.ModuleList()
        self.conv_01 = nn.Conv2d(in_chn, wf, 3, 1, 1)
        self.conv_02 = nn.Conv2d(in_chn, wf, 3, 1, 1)
        prev_channels = wf
        for i in range(depth):
            use_HIN = hin_position_left <= i <= hin_position_right
            downsample = (i + 1) < depth
            self.down_path_1.append(UNetConvBlock(prev_channels, (2 ** i) * wf, downsample, relu_slope, use_HIN=use_HIN))
            self.down_path_2.append(UNetConvBlock(prev_channels, (2 ** i) * wf, downsample, relu_slope,
                                                  use_csff=downsample, use_HIN=use_HIN))
            prev_channels = (2 ** i) * wf
        self.up_path_1 = nn.ModuleList()
        self.up_path_2 = nn.ModuleList()
        self.skip_conv_1 = nn.ModuleList()
        self.skip_conv_2 = nn.ModuleList()
        for i in reversed(range(depth - 1)):
            self.up_path_1.append(UNetUpBlock(prev_channels, (2 ** i) * wf, relu_slope))
            self.up_path_2.append(UNetUpBlock(prev_channels, (2 ** i) * wf, relu_slope))
            self.skip_conv_1.append(nn.Conv2d((2 ** i) * wf, (2 ** i) * wf, 3, 1, 1))
            self.skip_conv_2.append(nn.Conv2d((2 ** i) * wf, (2 ** i) * wf, 3, 1, 1))
            prev_channels = (2 ** i) * wf
        self.sam12 = SAM(prev_channels)
        self.cat12 = nn.Conv2d(prev_channels * 2, prev_channels, 1, 1, 0)
        self.last = conv3x3(prev_channels, in_chn, bias=True)

    def forward(self, x):
        image = x
        x1 = self.conv_01(image)
        encs, decs = [], []
        for i, down in enumerate(self.down_path_1):
            if (i + 1) < self.depth:
                x1, x1_up = down(x1)
                encs.append(x1_up)
            else:
                x1 = down(x1)
        for i, up in enumerate(self.up_path_1):
            x1 = up(x1, self.skip_conv_1[i](encs[-i - 1]))
            decs.append(x1)
        sam_feature, out_1 = self.sam12(x1, image)
        x2 = self.conv_02(image)
        x2 = self.cat12(torch.cat([x2, sam_feature], dim=1))
        blocks = []
        for i, down in enumerate(self.down_path_2):
            if (i + 1) < self.depth:
                x2, x2_up = down(x2, encs[i], decs[-i - 1])
                blocks.append(x2_up)
            else:
                x2 = down(x2)
        for i, up in enumerate(self.up_path_2):
            x2 = up(x2, self.skip_conv_2[i](blocks[-i - 1]))
        out_2 = self.last(x2)
        out_2 = out_2 + image
        return out_2  # the repository returns [out_1, out_2]; its inference keeps the last


# ------------------------------------------------------------------ xindongzhang ECBSR (train form)


class SeqConv3x3(nn.Module):  # models/ecb.py SeqConv3x3
    def __init__(self, seq_type, inp_planes, out_planes, depth_multiplier) -> None:
        super().__init__()
        self.type = seq_type
        self.inp_planes = inp_planes
        self.out_planes = out_planes
        if self.type == "conv1x1-conv3x3":
            self.mid_planes = int(out_planes * depth_multiplier)
            conv0 = nn.Conv2d(self.inp_planes, self.mid_planes, kernel_size=1, padding=0)
            self.k0, self.b0 = conv0.weight, conv0.bias
            conv1 = nn.Conv2d(self.mid_planes, self.out_planes, kernel_size=3)
            self.k1, self.b1 = conv1.weight, conv1.bias
            return
        conv0 = nn.Conv2d(self.inp_planes, self.out_planes, kernel_size=1, padding=0)
        self.k0, self.b0 = conv0.weight, conv0.bias
        self.scale = nn.Parameter(torch.randn(size=(self.out_planes, 1, 1, 1)) * 1e-3)
        self.bias = nn.Parameter(torch.reshape(torch.randn(self.out_planes) * 1e-3, (self.out_planes,)))
        mask = torch.zeros((self.out_planes, 1, 3, 3), dtype=torch.float32)
        for i in range(self.out_planes):
            if self.type == "conv1x1-sobelx":
                mask[i, 0, 0, 0], mask[i, 0, 1, 0], mask[i, 0, 2, 0] = 1.0, 2.0, 1.0
                mask[i, 0, 0, 2], mask[i, 0, 1, 2], mask[i, 0, 2, 2] = -1.0, -2.0, -1.0
            elif self.type == "conv1x1-sobely":
                mask[i, 0, 0, 0], mask[i, 0, 0, 1], mask[i, 0, 0, 2] = 1.0, 2.0, 1.0
                mask[i, 0, 2, 0], mask[i, 0, 2, 1], mask[i, 0, 2, 2] = -1.0, -2.0, -1.0
            else:  # conv1x1-laplacian
                mask[i, 0, 0, 1], mask[i, 0, 1, 0], mask[i, 0, 1, 2], mask[i, 0, 2, 1] = 1.0, 1.0, 1.0, 1.0
                mask[i, 0, 1, 1] = -4.0
        self.mask = nn.Parameter(data=mask, requires_grad=False)

    def forward(self, x):
        y0 = F.conv2d(input=x, weight=self.k0, bias=self.b0, stride=1)
        y0 = F.pad(y0, (1, 1, 1, 1), "constant", 0)  # explicitly padding with bias
        b0_pad = self.b0.view(1, -1, 1, 1)
        y0[:, :, 0:1, :] = b0_pad
        y0[:, :, -1:, :] = b0_pad
        y0[:, :, :, 0:1] = b0_pad
        y0[:, :, :, -1:] = b0_pad
        if self.type == "conv1x1-conv3x3":
            return F.conv2d(input=y0, weight=self.k1, bias=self.b1, stride=1)
        return F.conv2d(input=y0, weight=self.scale * self.mask, bias=self.bias, stride=1, groups=self.out_planes)


class ECB(nn.Module):
    def __init__(self, inp_planes, out_planes, depth_multiplier, act_type="prelu", with_idt=False) -> None:
        super().__init__()
        self.depth_multiplier = depth_multiplier
        self.inp_planes, self.out_planes, self.act_type = inp_planes, out_planes, act_type
        self.with_idt = bool(with_idt and self.inp_planes == self.out_planes)
        self.conv3x3 = nn.Conv2d(self.inp_planes, self.out_planes, kernel_size=3, padding=1)
        self.conv1x1_3x3 = SeqConv3x3("conv1x1-conv3x3", self.inp_planes, self.out_planes, self.depth_multiplier)
        self.conv1x1_sbx = SeqConv3x3("conv1x1-sobelx", self.inp_planes, self.out_planes, -1)
        self.conv1x1_sby = SeqConv3x3("conv1x1-sobely", self.inp_planes, self.out_planes, -1)
        self.conv1x1_lpl = SeqConv3x3("conv1x1-laplacian", self.inp_planes, self.out_planes, -1)
        if self.act_type == "prelu":
            self.act = nn.PReLU(num_parameters=self.out_planes)
        elif self.act_type == "relu":
            self.act = nn.ReLU(inplace=True)

    def forward(self, x):
        # the training branch sum; in eval the repository folds the same five branches into one
        # 3x3 (rep_params), the same function up to rounding
        y = self.conv3x3(x) + self.conv1x1_3x3(x) + self.conv1x1_sbx(x) + self.conv1x1_sby(x) + self.conv1x1_lpl(x)
        if self.with_idt:
            y += x
        if self.act_type != "linear":
            y = self.act(y)
        return y


class XindongzhangECBSR(nn.Module):  # models/ecbsr.py ECBSR (m4c16 x2 prelu on the Y channel), narrowed
    def __init__(self, module_nums=2, channel_nums=8, with_idt=False, act_type="prelu", scale=2, colors=1) -> None:
        super().__init__()
        self.module_nums, self.channel_nums, self.scale, self.colors = module_nums, channel_nums, scale, colors
        backbone = [ECB(colors, channel_nums, depth_multiplier=2.0, act_type=act_type, with_idt=with_idt)]
        for _ in range(module_nums):
            backbone += [ECB(channel_nums, channel_nums, depth_multiplier=2.0, act_type=act_type, with_idt=with_idt)]
        backbone += [ECB(channel_nums, colors * scale * scale, depth_multiplier=2.0, act_type="linear",
                         with_idt=with_idt)]
        self.backbone = nn.Sequential(*backbone)
        self.upsampler = nn.PixelShuffle(scale)

    def forward(self, x):
        y = self.backbone(x) + x  # one Y channel broadcast over the scale^2 sub-pixel maps
        return self.upsampler(y)


# ------------------------------------------------------------------ eriklindernoren PyTorch-GAN context_encoder


class EriklindernorenContextEncoder(nn.Module):  # implementations/context_encoder/models.py Generator, /8 widths
    def __init__(self, channels=3) -> None:
        super().__init__()

        def downsample(in_feat, out_feat, normalize=True):
            layers = [nn.Conv2d(in_feat, out_feat, 4, stride=2, padding=1)]
            if normalize:
                layers.append(nn.BatchNorm2d(out_feat, 0.8))
            layers.append(nn.LeakyReLU(0.2))
            return layers

        def upsample(in_feat, out_feat, normalize=True):
            layers = [nn.ConvTranspose2d(in_feat, out_feat, 4, stride=2, padding=1)]
            if normalize:
                layers.append(nn.BatchNorm2d(out_feat, 0.8))
            layers.append(nn.ReLU())
            return layers

        self.model = nn.Sequential(
            *downsample(channels, 8, normalize=False), *downsample(8, 8), *downsample(8, 16), *downsample(16, 32),
            *downsample(32, 64), nn.Conv2d(64, 500, 1), *upsample(500, 64), *upsample(64, 32), *upsample(32, 16),
            *upsample(16, 8), nn.Conv2d(8, channels, 3, 1, 1), nn.Tanh())

    def forward(self, x):
        return self.model(x)


ZOO = {  # name: (build, input shape, takes a timestep)
    "zoubohao_ddpm_unet": (ZoubohaoUNet, (2, 3, 16, 16), True),
    "lichongyi_zero_dce": (LiChongyiZeroDCE, (2, 3, 16, 16), False),
    "mayanksingal_aodnet": (MayankSingalAODNet, (2, 3, 16, 16), False),
    "leejunhyun_r2unet": (LeeJunHyunR2UNet, (2, 3, 32, 32), False),
    "wutianyi_cgnet": (WutianyiCGNet, (2, 3, 32, 32), False),
    "megvii_hinet": (MegviiHINet, (2, 3, 16, 16), False),
    "xindongzhang_ecbsr": (XindongzhangECBSR, (2, 1, 16, 16), False),
    "eriklindernoren_context_encoder": (EriklindernorenContextEncoder, (2, 3, 32, 32), False),
}


# Rows whose repositories feed images in [0, 1] (Zero-DCE's curve x + r (x^2 - x), iterated eight
# times, overflows on a normal draw): their input is squashed into that range.
UNIT_RANGE_INPUT = {"lichongyi_zero_dce", "mayanksingal_aodnet"}


def build(name: str) -> tuple[nn.Module, tuple[torch.Tensor, ...]]:
    """The reference at unit scale in eval mode, and the inputs its forward takes (an image, and
    one timestep per sample for the diffusion U-Net)."""
    reference, inputs = generative_reference(ZOO[name])
    if name in UNIT_RANGE_INPUT:
        inputs = (torch.sigmoid(inputs[0]),)
    return reference, inputs
