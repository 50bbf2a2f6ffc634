"""Reference U-Nets for the level patterns (blocks/double_conv.py, blocks/unet_level.py,
families/level_unet.py): milesial/Pytorch-UNet's layout at test sizes, with its transposed-conv up
levels and with its bilinear ones (`bilinear=True`: no `up` keys, the DoubleConv narrowing in its
middle), on an odd-sized input so the pad to the skip's size acts."""

from __future__ import annotations

from codegen.patterns._kit import Example


def unet_examples() -> list[Example]:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    class DoubleConv(nn.Module):
        def __init__(self, c_in: int, c_out: int, mid: int | None = None) -> None:
            super().__init__()
            mid = mid or c_out
            self.double_conv = nn.Sequential(
                nn.Conv2d(c_in, mid, kernel_size=3, padding=1, bias=False),
                nn.BatchNorm2d(mid),
                nn.ReLU(inplace=True),
                nn.Conv2d(mid, c_out, kernel_size=3, padding=1, bias=False),
                nn.BatchNorm2d(c_out),
                nn.ReLU(inplace=True),
            )

        def forward(self, x):
            return self.double_conv(x)

    class Down(nn.Module):
        def __init__(self, c_in: int, c_out: int) -> None:
            super().__init__()
            self.maxpool_conv = nn.Sequential(nn.MaxPool2d(2), DoubleConv(c_in, c_out))

        def forward(self, x):
            return self.maxpool_conv(x)

    class Up(nn.Module):
        def __init__(self, c_in: int, c_out: int, bilinear: bool) -> None:
            super().__init__()
            if bilinear:
                self.up = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True)
                self.conv = DoubleConv(c_in, c_out, c_in // 2)
            else:
                self.up = nn.ConvTranspose2d(c_in, c_in // 2, kernel_size=2, stride=2)
                self.conv = DoubleConv(c_in, c_out)

        def forward(self, x1, x2):
            x1 = self.up(x1)
            dy, dx = x2.size()[2] - x1.size()[2], x2.size()[3] - x1.size()[3]
            x1 = F.pad(x1, [dx // 2, dx - dx // 2, dy // 2, dy - dy // 2])
            return self.conv(torch.cat([x2, x1], dim=1))

    class OutConv(nn.Module):
        def __init__(self, c_in: int, c_out: int) -> None:
            super().__init__()
            self.conv = nn.Conv2d(c_in, c_out, kernel_size=1)

        def forward(self, x):
            return self.conv(x)

    class UNet(nn.Module):
        def __init__(self, bilinear: bool, base: int = 4) -> None:
            super().__init__()
            factor = 2 if bilinear else 1
            self.inc = DoubleConv(3, base)
            self.down1 = Down(base, base * 2)
            self.down2 = Down(base * 2, base * 4)
            self.down3 = Down(base * 4, base * 8 // factor)
            self.up1 = Up(base * 8, base * 4 // factor, bilinear)
            self.up2 = Up(base * 4, base * 2 // factor, bilinear)
            self.up3 = Up(base * 2, base, bilinear)
            self.outc = OutConv(base, 2)

        def forward(self, x):
            x1 = self.inc(x)
            x2 = self.down1(x1)
            x3 = self.down2(x2)
            x4 = self.down3(x3)
            x = self.up1(x4, x3)
            x = self.up2(x, x2)
            x = self.up3(x, x1)
            return self.outc(x)

    torch.manual_seed(0)
    x = torch.randn(2, 3, 20, 18)  # 20 -> 10 -> 5 -> 2: the last up level pads 4 to 5
    return [Example(UNet(False).eval(), (x,)), Example(UNet(True).eval(), (x,))]
