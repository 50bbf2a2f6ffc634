"""Examples of blocks/solved_wiring.py: blocks whose members do not chain, as their repositories
write them (tiny widths)."""

from __future__ import annotations


def wiring_examples():
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    from codegen.patterns._kit import Example
    from codegen.patterns.blocks._vision_examples import _randomise_norms

    class BasicConv(nn.Module):  # Robert-JunWang/PeleeNet BasicConv2d
        def __init__(self, c_in: int, c_out: int, k: int) -> None:
            super().__init__()
            self.conv = nn.Conv2d(c_in, c_out, k, padding=k // 2, bias=False)
            self.norm = nn.BatchNorm2d(c_out)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return F.relu(self.norm(self.conv(x)))

    class TwoWayDense(nn.Module):  # PeleeNet's _DenseLayer: x beside a short and a long path
        def __init__(self, c_in: int, growth: int) -> None:
            super().__init__()
            half = growth // 2
            self.branch1a = BasicConv(c_in, 4, 1)
            self.branch1b = BasicConv(4, half, 3)
            self.branch2a = BasicConv(c_in, 4, 1)
            self.branch2b = BasicConv(4, half, 3)
            self.branch2c = BasicConv(half, half, 3)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            b1 = self.branch1b(self.branch1a(x))
            b2 = self.branch2c(self.branch2b(self.branch2a(x)))
            return torch.cat([x, b1, b2], 1)

    class Dense(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.entry = BasicConv(3, 8, 3)
            self.block = nn.Sequential(TwoWayDense(8, 4), TwoWayDense(12, 4))
            self.fc = nn.Linear(16, 5)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.fc(self.block(self.entry(x)).mean((2, 3)))

    torch.manual_seed(0)
    net = Dense().eval()
    _randomise_norms(net)
    return [Example(net, (torch.randn(2, 3, 8, 8),))]
