"""Reference U-Nets whose up levels are split into members (families/split_level_unet.py) and the
attention gate on their skips (blocks/attention_gate.py): LeeJunHyun's Image_Segmentation layout
(U_Net, AttU_Net) at test sizes, and a gate written with plain 1x1 convs under other names."""

from __future__ import annotations

from codegen.patterns._kit import Example


def _models():
    import torch
    import torch.nn as nn

    class ConvBlock(nn.Module):  # network.py conv_block
        def __init__(self, c_in: int, c_out: int) -> None:
            super().__init__()
            self.conv = nn.Sequential(
                nn.Conv2d(c_in, c_out, 3, padding=1),
                nn.BatchNorm2d(c_out),
                nn.ReLU(inplace=True),
                nn.Conv2d(c_out, c_out, 3, padding=1),
                nn.BatchNorm2d(c_out),
                nn.ReLU(inplace=True),
            )

        def forward(self, x):
            return self.conv(x)

    class UpConv(nn.Module):  # network.py up_conv
        def __init__(self, c_in: int, c_out: int) -> None:
            super().__init__()
            self.up = nn.Sequential(
                nn.Upsample(scale_factor=2),
                nn.Conv2d(c_in, c_out, 3, padding=1),
                nn.BatchNorm2d(c_out),
                nn.ReLU(inplace=True),
            )

        def forward(self, x):
            return self.up(x)

    class Gate(nn.Module):  # network.py Attention_block
        def __init__(self, f_g: int, f_l: int, f_int: int) -> None:
            super().__init__()
            self.W_g = nn.Sequential(nn.Conv2d(f_g, f_int, 1), nn.BatchNorm2d(f_int))
            self.W_x = nn.Sequential(nn.Conv2d(f_l, f_int, 1), nn.BatchNorm2d(f_int))
            self.psi = nn.Sequential(nn.Conv2d(f_int, 1, 1), nn.BatchNorm2d(1), nn.Sigmoid())
            self.relu = nn.ReLU(inplace=True)

        def forward(self, g, x):
            return x * self.psi(self.relu(self.W_g(g) + self.W_x(x)))

    class PlainGate(nn.Module):  # plain 1x1 convs: `gate`, `skip`, `psi`
        def __init__(self, f_g: int, f_l: int, f_int: int) -> None:
            super().__init__()
            self.gate = nn.Conv2d(f_g, f_int, 1)
            self.skip = nn.Conv2d(f_l, f_int, 1, bias=False)
            self.psi = nn.Conv2d(f_int, 1, 1)

        def forward(self, g, x):
            return x * torch.sigmoid(self.psi(torch.relu(self.gate(g) + self.skip(x))))

    class UNet(nn.Module):  # network.py U_Net / AttU_Net, three levels
        def __init__(self, gate=None, w=(4, 8, 16)) -> None:
            super().__init__()
            self.Maxpool = nn.MaxPool2d(2, 2)
            self.Conv1, self.Conv2 = ConvBlock(3, w[0]), ConvBlock(w[0], w[1])
            self.Conv3 = ConvBlock(w[1], w[2])
            self.Up3, self.Up_conv3 = UpConv(w[2], w[1]), ConvBlock(2 * w[1], w[1])
            self.Up2, self.Up_conv2 = UpConv(w[1], w[0]), ConvBlock(2 * w[0], w[0])
            self.gated = gate is not None
            if gate is not None:
                self.Att3, self.Att2 = gate(w[1], w[1], w[0]), gate(w[0], w[0], 2)
            self.Conv_1x1 = nn.Conv2d(w[0], 2, 1)

        def forward(self, x):
            x1 = self.Conv1(x)
            x2 = self.Conv2(self.Maxpool(x1))
            x3 = self.Conv3(self.Maxpool(x2))
            d3 = self.Up3(x3)
            if self.gated:
                x2 = self.Att3(g=d3, x=x2)
            d3 = self.Up_conv3(torch.cat((x2, d3), dim=1))
            d2 = self.Up2(d3)
            if self.gated:
                x1 = self.Att2(g=d2, x=x1)
            d2 = self.Up_conv2(torch.cat((x1, d2), dim=1))
            return self.Conv_1x1(d2)

    torch.manual_seed(0)
    image = (torch.randn(2, 3, 8, 8),)
    return UNet, Gate, PlainGate, image


def unet_examples() -> list[Example]:
    UNet, _, _, image = _models()
    return [Example(UNet().eval(), image)]


def gate_examples() -> list[Example]:
    UNet, Gate, PlainGate, image = _models()
    return [Example(UNet(Gate).eval(), image), Example(UNet(PlainGate).eval(), image)]
