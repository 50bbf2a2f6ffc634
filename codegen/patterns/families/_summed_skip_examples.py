"""Tiny reference U-Nets with summed skips for families/summed_skip_unet.py, written the way their
repositories write them, in layouts the zoos do not hold: a DRUNet-style denoiser whose levels are
named for what they do (`inc`, `enc*`, `bottleneck`, `dec*`, `outc`), two residual blocks a level;
a NAFNet-style net whose upsamplers stand alone between its levels (`decoder(up(x) + skip)`); and
a 1-D signal denoiser whose levels are classes (a strided Conv1d down, a transposed one up). Plain
torch. Reference code, not generated code: the generated file must match it."""

from __future__ import annotations


def _drunet_named():
    import torch.nn as nn

    class ResBlock(nn.Module):  # KAIR's ResBlock('CRC') as most DRUNet ports write it
        def __init__(self, c: int) -> None:
            super().__init__()
            self.body = nn.Sequential(
                nn.Conv2d(c, c, 3, 1, 1, bias=False),
                nn.ReLU(inplace=True),
                nn.Conv2d(c, c, 3, 1, 1, bias=False),
            )

        def forward(self, x):
            return x + self.body(x)

    class Denoiser(nn.Module):
        def __init__(self, c_in: int = 2, c_out: int = 1, nc: tuple = (8, 16, 32)) -> None:
            super().__init__()
            self.inc = nn.Conv2d(c_in, nc[0], 3, 1, 1, bias=False)
            self.enc1 = nn.Sequential(
                ResBlock(nc[0]), ResBlock(nc[0]), nn.Conv2d(nc[0], nc[1], 2, 2, 0, bias=False)
            )
            self.enc2 = nn.Sequential(
                ResBlock(nc[1]), ResBlock(nc[1]), nn.Conv2d(nc[1], nc[2], 2, 2, 0, bias=False)
            )
            self.bottleneck = nn.Sequential(ResBlock(nc[2]), ResBlock(nc[2]))
            self.dec2 = nn.Sequential(
                nn.ConvTranspose2d(nc[2], nc[1], 2, 2, 0, bias=False),
                ResBlock(nc[1]),
                ResBlock(nc[1]),
            )
            self.dec1 = nn.Sequential(
                nn.ConvTranspose2d(nc[1], nc[0], 2, 2, 0, bias=False),
                ResBlock(nc[0]),
                ResBlock(nc[0]),
            )
            self.outc = nn.Conv2d(nc[0], c_out, 3, 1, 1, bias=False)

        def forward(self, x):
            x1 = self.inc(x)
            x2 = self.enc1(x1)
            x3 = self.enc2(x2)
            x = self.bottleneck(x3)
            x = self.dec2(x + x3)
            x = self.dec1(x + x2)
            return self.outc(x + x1)

    return Denoiser()


def _nafnet_flat():
    import torch.nn as nn

    class Block(nn.Module):  # a width-keeping residual block, its body one Sequential
        def __init__(self, c: int) -> None:
            super().__init__()
            self.body = nn.Sequential(nn.Conv2d(c, c, 3, 1, 1), nn.ReLU(), nn.Conv2d(c, c, 3, 1, 1))

        def forward(self, x):
            return x + self.body(x)

    class Net(nn.Module):
        def __init__(self, c: int = 8) -> None:
            super().__init__()
            self.intro = nn.Conv2d(3, c, 3, 1, 1)
            self.enc1 = Block(c)
            self.down1 = nn.Conv2d(c, 2 * c, 2, 2)
            self.enc2 = Block(2 * c)
            self.down2 = nn.Conv2d(2 * c, 4 * c, 2, 2)
            self.middle = Block(4 * c)
            self.up2 = nn.ConvTranspose2d(4 * c, 2 * c, 2, 2)
            self.dec2 = Block(2 * c)
            self.up1 = nn.ConvTranspose2d(2 * c, c, 2, 2)
            self.dec1 = Block(c)
            self.ending = nn.Conv2d(c, 3, 3, 1, 1)

        def forward(self, x):
            e1 = self.enc1(self.intro(x))
            e2 = self.enc2(self.down1(e1))
            x = self.middle(self.down2(e2))
            x = self.dec2(self.up2(x) + e2)
            x = self.dec1(self.up1(x) + e1)
            return self.ending(x)

    return Net()


def _signal_denoiser():
    import torch.nn as nn

    class Down(nn.Module):  # a level: a strided conv halving the length, then a conv
        def __init__(self, c_in: int, c_out: int) -> None:
            super().__init__()
            self.down = nn.Conv1d(c_in, c_out, 2, 2)
            self.conv = nn.Conv1d(c_out, c_out, 3, 1, 1)

        def forward(self, x):
            return self.conv(self.down(x).relu())

    class Up(nn.Module):  # a transposed conv doubling the length, then a conv
        def __init__(self, c_in: int, c_out: int) -> None:
            super().__init__()
            self.up = nn.ConvTranspose1d(c_in, c_out, 2, 2)
            self.conv = nn.Conv1d(c_out, c_out, 3, 1, 1)

        def forward(self, x):
            return self.conv(self.up(x).relu())

    class SignalUNet(nn.Module):
        def __init__(self, c: int = 8) -> None:
            super().__init__()
            self.first = nn.Conv1d(1, c, 3, 1, 1)
            self.down1 = Down(c, 2 * c)
            self.down2 = Down(2 * c, 4 * c)
            self.mid = nn.Conv1d(4 * c, 4 * c, 3, 1, 1)
            self.up2 = Up(4 * c, 2 * c)
            self.up1 = Up(2 * c, c)
            self.last = nn.Conv1d(c, 1, 3, 1, 1)

        def forward(self, x):
            x1 = self.first(x)
            x2 = self.down1(x1)
            x3 = self.down2(x2)
            x = self.up2(self.mid(x3) + x3)
            x = self.up1(x + x2)
            return self.last(x + x1)

    return SignalUNet()


def _pooled_levels():
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    class ConvAct(nn.Module):  # a conv and its activation in a Sequential (CBDNet's single_conv)
        def __init__(self, c_in: int, c_out: int) -> None:
            super().__init__()
            self.unit = nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU(inplace=True))

        def forward(self, x):
            return self.unit(x)

    class PooledUNet(nn.Module):  # keyless 2x2 pools down, lone transposed convs up, sums
        def __init__(self, c: int = 6) -> None:
            super().__init__()
            self.enc0 = nn.Sequential(ConvAct(3, c), ConvAct(c, c))
            self.enc1 = nn.Sequential(ConvAct(c, 2 * c), ConvAct(2 * c, 2 * c))
            self.mid = nn.Sequential(ConvAct(2 * c, 4 * c), ConvAct(4 * c, 4 * c))
            self.up1 = nn.ConvTranspose2d(4 * c, 2 * c, 2, stride=2)
            self.dec1 = nn.Sequential(ConvAct(2 * c, 2 * c))
            self.up0 = nn.ConvTranspose2d(2 * c, c, 2, stride=2)
            self.dec0 = nn.Sequential(ConvAct(c, c))
            self.head = nn.Conv2d(c, 1, 1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            e0 = self.enc0(x)
            e1 = self.enc1(F.max_pool2d(e0, 2))
            x = self.dec1(self.up1(self.mid(F.max_pool2d(e1, 2))) + e1)
            return self.head(self.dec0(self.up0(x) + e0))

    return PooledUNet()


def summed_skip_examples():
    import torch

    from codegen.patterns._kit import Example

    torch.manual_seed(0)
    return [
        Example(_drunet_named().eval(), (torch.randn(2, 2, 16, 16),)),
        Example(_nafnet_flat().eval(), (torch.randn(2, 3, 16, 16),)),
        Example(_signal_denoiser().eval(), (torch.randn(2, 1, 32),)),
        Example(_pooled_levels().eval(), (torch.randn(2, 3, 16, 16),)),
    ]
