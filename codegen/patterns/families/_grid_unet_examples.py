"""A reference grid-named U-Net for families/nested_unet.py: 4uiiurz1/pytorch-nested-unet's plain
`UNet` (archs.py: `conv{i}_0` down the encoder, `conv{i}_{j}` up the decoder, one skip each) at
test sizes, three levels."""

from __future__ import annotations

from codegen.patterns._kit import Example


def grid_unet_examples() -> list[Example]:
    import torch
    import torch.nn as nn

    class VGGBlock(nn.Module):
        def __init__(self, c_in: int, c_mid: int, c_out: int) -> None:
            super().__init__()
            self.relu = nn.ReLU(inplace=True)
            self.conv1 = nn.Conv2d(c_in, c_mid, 3, padding=1)
            self.bn1 = nn.BatchNorm2d(c_mid)
            self.conv2 = nn.Conv2d(c_mid, c_out, 3, padding=1)
            self.bn2 = nn.BatchNorm2d(c_out)

        def forward(self, x):
            return self.relu(self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x))))))

    class UNet(nn.Module):
        def __init__(self, num_classes: int = 2, input_channels: int = 3) -> None:
            super().__init__()
            nb = [4, 8, 16]
            self.pool = nn.MaxPool2d(2, 2)
            self.up = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True)
            self.conv0_0 = VGGBlock(input_channels, nb[0], nb[0])
            self.conv1_0 = VGGBlock(nb[0], nb[1], nb[1])
            self.conv2_0 = VGGBlock(nb[1], nb[2], nb[2])
            self.conv1_1 = VGGBlock(nb[1] + nb[2], nb[1], nb[1])
            self.conv0_2 = VGGBlock(nb[0] + nb[1], nb[0], nb[0])
            self.final = nn.Conv2d(nb[0], num_classes, kernel_size=1)

        def forward(self, x):
            x0_0 = self.conv0_0(x)
            x1_0 = self.conv1_0(self.pool(x0_0))
            x2_0 = self.conv2_0(self.pool(x1_0))
            x1_1 = self.conv1_1(torch.cat([x1_0, self.up(x2_0)], 1))
            x0_2 = self.conv0_2(torch.cat([x0_0, self.up(x1_1)], 1))
            return self.final(x0_2)

    torch.manual_seed(0)
    return [Example(UNet().eval(), (torch.randn(2, 3, 16, 16),))]
