"""Nets whose geometry no key records, as their repositories write them (widths cut down): what
`--calibrate` must read from the recorded output's shape (valid paddings, a transposed conv's
padding and stride) and settle from the recorded values (a dilation pattern over a chain, an
activation's kind and slope). tests/test_calibrate_geometry.py makes each exact by calibration."""

from __future__ import annotations

import torch
import torch.nn as nn

from tests.redraw import unit_scale

# ------------------------------------------------ the output's shape decides the geometry


class SRCNNValid(nn.Module):
    """Dong et al. 2014, SRCNN 9-1-5 as the Caffe original runs it: no padding, so a 33x33 patch
    gives a 21x21 output (ports that keep the size pad 4 and 2)."""

    def __init__(self, channels: int = 1, f1: int = 16, f2: int = 8) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, f1, kernel_size=9)
        self.conv2 = nn.Conv2d(f1, f2, kernel_size=1)
        self.conv3 = nn.Conv2d(f2, channels, kernel_size=5)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.conv1(x))
        x = self.relu(self.conv2(x))
        return self.conv3(x)


class FSRCNNx3(nn.Module):
    """Dong et al. 2016 FSRCNN (yjn870/FSRCNN-pytorch's layout), scale 3: the deconvolution's
    stride is the scale, padding half its 9x9 kernel, output_padding scale - 1."""

    def __init__(self, scale: int = 3, d: int = 12, s: int = 6, m: int = 2) -> None:
        super().__init__()
        self.first_part = nn.Sequential(nn.Conv2d(1, d, kernel_size=5, padding=5 // 2), nn.PReLU(d))
        self.mid_part = [nn.Conv2d(d, s, kernel_size=1), nn.PReLU(s)]
        for _ in range(m):
            self.mid_part.extend([nn.Conv2d(s, s, kernel_size=3, padding=3 // 2), nn.PReLU(s)])
        self.mid_part.extend([nn.Conv2d(s, d, kernel_size=1), nn.PReLU(d)])
        self.mid_part = nn.Sequential(*self.mid_part)
        self.last_part = nn.ConvTranspose2d(
            d, 1, kernel_size=9, stride=scale, padding=9 // 2, output_padding=scale - 1
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.last_part(self.mid_part(self.first_part(x)))


class TDNN(nn.Module):
    """The x-vector TDNN's frame layers (Snyder et al. 2018; cvqluu/TDNN's layout, one module per
    frame layer): unpadded 1-d convs with contexts 5, 3 (dilated 2) and 3 (dilated 3), each
    followed by ReLU and a batch norm, so T frames give T - 14."""

    def __init__(self, feats: int = 8, hidden: int = 16) -> None:
        super().__init__()
        self.frame1 = nn.Sequential(
            nn.Conv1d(feats, hidden, 5, dilation=1), nn.ReLU(), nn.BatchNorm1d(hidden)
        )
        self.frame2 = nn.Sequential(
            nn.Conv1d(hidden, hidden, 3, dilation=2), nn.ReLU(), nn.BatchNorm1d(hidden)
        )
        self.frame3 = nn.Sequential(
            nn.Conv1d(hidden, hidden, 3, dilation=3), nn.ReLU(), nn.BatchNorm1d(hidden)
        )
        self.frame4 = nn.Sequential(nn.Conv1d(hidden, hidden, 1), nn.ReLU(), nn.BatchNorm1d(hidden))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.frame4(self.frame3(self.frame2(self.frame1(x))))


class MnistDCGAN(nn.Module):
    """A DCGAN generator for 28x28 images as many MNIST/Fashion ports write it: the latent as a 1x1 map,
    4x4 -> 7x7 by a 3x3 transposed conv padded 1 without output padding (where the usual
    doubling would give 8x8), then doubled twice by 4x4 transposed convs, tanh at the end."""

    def __init__(self, nz: int = 8, ngf: int = 8, nc: int = 3) -> None:
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(nz, ngf * 4, 4, 1, 0, bias=False),
            nn.BatchNorm2d(ngf * 4),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 3, 2, 1, bias=False),
            nn.BatchNorm2d(ngf * 2),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False),
            nn.Tanh(),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.main(z)


# ------------------------------------------------ a dilation pattern over a chain


class ContextModule(nn.Module):
    """Yu & Koltun 2016's context aggregation module (basic, C channels): 3x3 convs dilated
    1, 1, 2, 4, 8, 1 (padding = dilation keeps the size), ReLU after each, then a 1x1 conv."""

    def __init__(self, channels: int = 8) -> None:
        super().__init__()
        layers = []
        for d in (1, 1, 2, 4, 8, 1):
            layers += [
                nn.Conv2d(channels, channels, 3, padding=d, dilation=d),
                nn.ReLU(inplace=True),
            ]
        layers.append(nn.Conv2d(channels, channels, 1))
        self.context = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.context(x)


class DilatedStack1d(nn.Module):
    """A WaveNet-style 1-d stack without gates (a TCN's body as many audio repositories write
    it): cycles of dilations 1, 2, 4, 8, each conv named in a ModuleList, GELU between."""

    def __init__(self, channels: int = 6, hidden: int = 12, cycles: int = 2) -> None:
        super().__init__()
        self.input_conv = nn.Conv1d(channels, hidden, 1)
        self.convs = nn.ModuleList(
            nn.Conv1d(hidden, hidden, 3, padding=d, dilation=d)
            for _ in range(cycles)
            for d in (1, 2, 4, 8)
        )
        self.output_conv = nn.Conv1d(hidden, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.input_conv(x)
        for conv in self.convs:
            x = nn.functional.gelu(conv(x))
        return self.output_conv(x)


class HybridDilated(nn.Module):
    """Hybrid dilated convolution (Wang et al. 2018): a saw-tooth 1, 2, 5 repeated so no tap is
    skipped, conv-bn-ReLU units in one Sequential (DRN-style denoisers write it so)."""

    def __init__(self, channels: int = 3, width: int = 12) -> None:
        super().__init__()
        layers = [nn.Conv2d(channels, width, 3, padding=1), nn.ReLU(inplace=True)]
        for d in (1, 2, 5, 1, 2, 5):
            layers += [
                nn.Conv2d(width, width, 3, padding=d, dilation=d, bias=False),
                nn.BatchNorm2d(width),
                nn.ReLU(inplace=True),
            ]
        layers.append(nn.Conv2d(width, channels, 3, padding=1))
        self.body = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


# ------------------------------------------------ an activation's kind and slope


class KerasLeakyChain(nn.Module):
    """A Keras-trained chain ported to PyTorch: LeakyReLU's Keras default slope 0.3."""

    def __init__(self) -> None:
        super().__init__()
        self.layers = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1),
            nn.LeakyReLU(0.3),
            nn.Conv2d(8, 8, 3, padding=1),
            nn.LeakyReLU(0.3),
            nn.Conv2d(8, 3, 3, padding=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


class ELUAutoencoder(nn.Module):
    """BEGAN's decoder blocks (Berthelot et al. 2017): 3x3 convs with ELU, nearest upsampling."""

    def __init__(self, h: int = 8, n: int = 8) -> None:
        super().__init__()
        self.decoder = nn.Sequential(
            nn.Conv2d(h, n, 3, 1, 1),
            nn.ELU(True),
            nn.Conv2d(n, n, 3, 1, 1),
            nn.ELU(True),
            nn.Upsample(scale_factor=2),
            nn.Conv2d(n, n, 3, 1, 1),
            nn.ELU(True),
            nn.Conv2d(n, 3, 3, 1, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(x)


class SiLUStack(nn.Module):
    """A 1-d conv stack with SiLU (Swish) after each conv, named by role."""

    def __init__(self, c: int = 4, h: int = 10) -> None:
        super().__init__()
        self.conv_in = nn.Conv1d(c, h, 5, padding=2)
        self.conv_mid = nn.Conv1d(h, h, 5, padding=2)
        self.conv_out = nn.Conv1d(h, c, 5, padding=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = nn.functional.silu(self.conv_in(x))
        x = nn.functional.silu(self.conv_mid(x))
        return self.conv_out(x)


LAYOUTS = {  # name: (build, input shape)
    "srcnn_valid": (SRCNNValid, (2, 1, 33, 33)),
    "fsrcnn_x3": (FSRCNNx3, (2, 1, 10, 10)),
    "tdnn": (TDNN, (2, 8, 30)),
    "mnist_dcgan": (MnistDCGAN, (2, 8, 1, 1)),
    "context_module": (ContextModule, (2, 8, 24, 24)),
    "dilated_stack_1d": (DilatedStack1d, (2, 6, 40)),
    "hybrid_dilated": (HybridDilated, (2, 3, 20, 20)),
    "keras_leaky": (KerasLeakyChain, (2, 3, 12, 12)),
    "elu_decoder": (ELUAutoencoder, (2, 8, 6, 6)),
    "silu_stack": (SiLUStack, (2, 4, 24)),
}


def build(name: str) -> tuple[nn.Module, tuple[torch.Tensor, ...]]:
    make, shape = LAYOUTS[name]
    torch.manual_seed(1)
    return unit_scale(make()), (torch.randn(*shape),)
