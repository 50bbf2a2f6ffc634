"""Nets whose 4x4 strided convs are mirrored by transposed ones (a conv c -> c' and a transposed
conv c' -> c store one weight shape), written with other names and nesting than zoo 16's StarGAN
generator, which motivated three readings of that structure (issue 16):
- the wide odd-kernel convs of such a net keep the resolution (the mirrors undo each other's
  resampling; the 7x7 stride-2 stem is a classifier's): layers/conv.py's MIRRORED_ENDS;
- its residual blocks, one Sequential body and no shortcut key anywhere, leave the sum bare
  (`x + body(x)`): blocks/residual_layer.py's `after_sum` choice, bare where the net upsamples
  back, the block's activation elsewhere (a classifier's `relu(out + x)`);
- its last conv giving the image (at most 4 channels) is squashed by a tanh, as DCGAN's
  generator's: blocks/chain.py's output_activation.

Layouts: an attribute-editing GAN's generator split into `enc` / `res` / `dec` Sequentials
(AttGAN- and GANimation-style code), its residual blocks `conv_block`; a VQ-VAE-style autoencoder
(structurally distant: no 7x7 ends, no tanh, its residual stacks inside encoder and decoder
classes); a CIFAR ResNet with flat residual bodies and no projection (the negative control: no
transposed conv, so the sum stays activated); a GANimation-style generator whose first conv
reads the image and the condition's maps, 3 + c channels, concatenated by the caller.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn

from tests.zoo_verdicts import measured_layout

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


class ResnetBlock(nn.Module):  # zero-padded, as CycleGAN's padding_type='zero' writes it
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.conv_block = nn.Sequential(
            nn.Conv2d(dim, dim, 3, 1, 1, bias=False),
            nn.BatchNorm2d(dim),
            nn.ReLU(True),
            nn.Conv2d(dim, dim, 3, 1, 1, bias=False),
            nn.BatchNorm2d(dim),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv_block(x)


class SplitGenerator(nn.Module):  # enc / res / dec, each a Sequential
    def __init__(self, dim: int = 8, blocks: int = 2) -> None:
        super().__init__()
        self.enc = nn.Sequential(
            nn.Conv2d(3, dim, 7, 1, 3, bias=False),
            nn.BatchNorm2d(dim),
            nn.ReLU(True),
            nn.Conv2d(dim, dim * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(dim * 2),
            nn.ReLU(True),
            nn.Conv2d(dim * 2, dim * 4, 4, 2, 1, bias=False),
            nn.BatchNorm2d(dim * 4),
            nn.ReLU(True),
        )
        self.res = nn.Sequential(*(ResnetBlock(dim * 4) for _ in range(blocks)))
        self.dec = nn.Sequential(
            nn.ConvTranspose2d(dim * 4, dim * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(dim * 2),
            nn.ReLU(True),
            nn.ConvTranspose2d(dim * 2, dim, 4, 2, 1, bias=False),
            nn.BatchNorm2d(dim),
            nn.ReLU(True),
            nn.Conv2d(dim, 3, 7, 1, 3, bias=False),
            nn.Tanh(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dec(self.res(self.enc(x)))


class ConditionedGenerator(nn.Module):  # GANimation-style: `main`, the condition concatenated
    def __init__(self, conv_dim: int = 8, c_dim: int = 4) -> None:
        super().__init__()
        layers: list[nn.Module] = [
            nn.Conv2d(3 + c_dim, conv_dim, 7, 1, 3, bias=False),
            nn.InstanceNorm2d(conv_dim, affine=True, track_running_stats=True),
            nn.ReLU(inplace=True),
            nn.Conv2d(conv_dim, conv_dim * 2, 4, 2, 1, bias=False),
            nn.InstanceNorm2d(conv_dim * 2, affine=True, track_running_stats=True),
            nn.ReLU(inplace=True),
            ResnetBlock(conv_dim * 2),
            ResnetBlock(conv_dim * 2),
            nn.ConvTranspose2d(conv_dim * 2, conv_dim, 4, 2, 1, bias=False),
            nn.InstanceNorm2d(conv_dim, affine=True, track_running_stats=True),
            nn.ReLU(inplace=True),
            nn.Conv2d(conv_dim, 3, 7, 1, 3, bias=False),
            nn.Tanh(),
        ]
        self.main = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: the image and c's maps, concatenated
        return self.main(x)


class ResidualStack(nn.Module):  # blocks of one Sequential each, the sum left bare
    def __init__(self, dim: int, n: int = 2) -> None:
        super().__init__()
        self.layers = nn.ModuleList(
            nn.Sequential(
                nn.Conv2d(dim, dim, 3, 1, 1, bias=False),
                nn.BatchNorm2d(dim),
                nn.ReLU(True),
                nn.Conv2d(dim, dim, 1, bias=False),
                nn.BatchNorm2d(dim),
            )
            for _ in range(n)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = x + layer(x)
        return x


class Encoder(nn.Module):
    def __init__(self, dim: int = 16) -> None:
        super().__init__()
        self.down1 = nn.Conv2d(3, dim // 2, 4, 2, 1)
        self.down2 = nn.Conv2d(dim // 2, dim, 4, 2, 1)
        self.stack = ResidualStack(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.down1(x))
        return self.stack(torch.relu(self.down2(x)))


class Decoder(nn.Module):
    def __init__(self, dim: int = 16) -> None:
        super().__init__()
        self.stack = ResidualStack(dim)
        self.up1 = nn.ConvTranspose2d(dim, dim // 2, 4, 2, 1)
        self.up2 = nn.ConvTranspose2d(dim // 2, 3, 4, 2, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.up1(self.stack(x)))
        return self.up2(x)


class StackAutoencoder(nn.Module):  # a VQ-VAE's layout without its quantizer
    def __init__(self) -> None:
        super().__init__()
        self.encoder = Encoder()
        self.decoder = Decoder()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))


class FlatBasicBlock(nn.Module):  # pytorch-cifar100's BasicBlock without a projection
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.residual_function = nn.Sequential(
            nn.Conv2d(dim, dim, 3, 1, 1, bias=False),
            nn.BatchNorm2d(dim),
            nn.ReLU(inplace=True),
            nn.Conv2d(dim, dim, 3, 1, 1, bias=False),
            nn.BatchNorm2d(dim),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.residual_function(x) + x)


class FlatResNet(nn.Module):
    def __init__(self, dim: int = 8, classes: int = 10) -> None:
        super().__init__()
        self.conv1 = nn.Sequential(
            nn.Conv2d(3, dim, 3, 1, 1, bias=False), nn.BatchNorm2d(dim), nn.ReLU(inplace=True)
        )
        self.conv2_x = nn.Sequential(FlatBasicBlock(dim), FlatBasicBlock(dim))
        self.fc = nn.Linear(dim, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv2_x(self.conv1(x))
        return self.fc(x.mean(dim=(2, 3)))


# (layout, input shape, verdict from the keys alone). Before this change (main at 9f2a8a4):
# split_generator flagged (inf), conditioned_generator flagged (inf), stack_autoencoder flagged
# (its residual items are Sequentials of a list, which no residual reading reaches: still
# flagged), flat_resnet exact (still: no transposed conv, so its sums stay activated).
LAYOUTS = {
    "split_generator": (SplitGenerator, (2, 3, 16, 16), "exact"),
    "conditioned_generator": (ConditionedGenerator, (2, 7, 16, 16), "exact"),
    "stack_autoencoder": (StackAutoencoder, (2, 3, 16, 16), "flagged"),
    "flat_resnet": (FlatResNet, (2, 3, 8, 8), "exact"),
}


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_mirrored_generator_layout(name, tmp_path, capsys):
    make, shape, expected = LAYOUTS[name]
    found, diff = measured_layout(make, shape, tmp_path, capsys)
    assert found != "WRONG", f"{name}: differs by {diff:.3g} and nothing says so"
    assert found == expected, f"{name}: {found} (max abs diff {diff:.3g})"
