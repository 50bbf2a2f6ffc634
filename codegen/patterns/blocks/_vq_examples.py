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
