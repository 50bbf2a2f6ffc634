"""Tiny VQ-VAE parts as their repositories write them: the pattern examples of
blocks/preact_residual_layer.py and families/codebook_autoencoder.py."""

from __future__ import annotations


def residual_examples():
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    from codegen.patterns._kit import Example

    class ResBlock(nn.Module):  # ritheshkumar95/pytorch-vqvae: a BatchNorm after each conv
        def __init__(self, dim: int) -> None:
            super().__init__()
            self.block = nn.Sequential(
                nn.ReLU(),
                nn.Conv2d(dim, dim, 3, 1, 1),
                nn.BatchNorm2d(dim),
                nn.ReLU(),
                nn.Conv2d(dim, dim, 1),
                nn.BatchNorm2d(dim),
            )

        def forward(self, x):
            return x + self.block(x)

    class ResLayer(nn.Module):
        def __init__(self, dim: int, hidden: int) -> None:
            super().__init__()
            self.net = nn.Sequential(
                nn.ReLU(), nn.Conv2d(dim, hidden, 3, padding=1), nn.ReLU(), nn.Conv2d(hidden, dim, 1)
            )

        def forward(self, x):
            return self.net(x)

    class Stack(nn.Module):  # Sonnet's ResidualStack: a list of layers, a ReLU after the last
        def __init__(self, dim: int, hidden: int, n: int) -> None:
            super().__init__()
            self.res_layers = nn.ModuleList(ResLayer(dim, hidden) for _ in range(n))

        def forward(self, x):
            for layer in self.res_layers:
                x = x + layer(x)
            return F.relu(x)

    class Trunk(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.stage1 = ResBlock(6)
            self.stage2 = Stack(6, 3, 2)

        def forward(self, x):
            return self.stage2(self.stage1(x))

    torch.manual_seed(0)
    model = Trunk()
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 1.5)
    return [Example(model.eval(), (torch.randn(2, 6, 5, 5),))]


def autoencoder_examples():
    """A VQ-VAE top as a third repository might write it: the quantizer first in the module,
    the decoder behind its own conv, the codebook in a class named `vq`."""
    import torch
    import torch.nn as nn

    from codegen.patterns._kit import Example

    class Quantizer(nn.Module):
        def __init__(self, n: int, dim: int) -> None:
            super().__init__()
            self.embedding = nn.Embedding(n, dim)

        def forward(self, z):
            z = z.permute(0, 2, 3, 1)
            flat = z.reshape(-1, z.shape[-1])
            codes = torch.cdist(flat, self.embedding.weight).argmin(1)
            return self.embedding(codes).view(z.shape).permute(0, 3, 1, 2)

    class Model(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.vq = Quantizer(16, 3)
            self.to_decoder = nn.Conv2d(3, 8, 1)
            self.from_encoder = nn.Conv2d(8, 3, 1)
            self.net_down = nn.Sequential(
                nn.Conv2d(3, 4, 3, 2, 1), nn.ReLU(), nn.Conv2d(4, 8, 3, 2, 1)
            )
            self.net_up = nn.Sequential(
                nn.ConvTranspose2d(8, 4, 3, 2, 1, 1), nn.ReLU(), nn.ConvTranspose2d(4, 3, 3, 2, 1, 1)
            )

        def forward(self, x):
            z = self.vq(self.from_encoder(self.net_down(x)))
            return self.net_up(self.to_decoder(z))

    torch.manual_seed(0)
    return [Example(Model().eval(), (torch.randn(2, 3, 8, 8),))]
