"""The catalogue example that blocks/cross_patch_block.py and blocks/affine_scale.py share: timm's
ResMLP blocks (one example proves both readings; a module of its own, so neither imports the other).
"""

from __future__ import annotations

from codegen.patterns._kit import Example


def example() -> Example:
    """timm's ResMLP block, its names and widths (9 patches, 12 channels), with its Affine norms
    ([1, 1, channels]) and a final Affine."""
    import torch
    import torch.nn as nn

    class Affine(nn.Module):  # timm.models.mlp_mixer.Affine
        def __init__(self, dim: int) -> None:
            super().__init__()
            self.alpha = nn.Parameter(torch.randn(1, 1, dim))
            self.beta = nn.Parameter(torch.randn(1, 1, dim))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.addcmul(self.beta, self.alpha, x)

    class Mlp(nn.Module):  # timm.layers.Mlp
        def __init__(self, dim: int) -> None:
            super().__init__()
            self.fc1 = nn.Linear(dim, 4 * dim)
            self.act = nn.GELU()
            self.fc2 = nn.Linear(4 * dim, dim)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.fc2(self.act(self.fc1(x)))

    class ResBlock(nn.Module):  # timm.models.mlp_mixer.ResBlock
        def __init__(self, dim: int, seq_len: int) -> None:
            super().__init__()
            self.norm1 = Affine(dim)
            self.linear_tokens = nn.Linear(seq_len, seq_len)
            self.norm2 = Affine(dim)
            self.mlp_channels = Mlp(dim)
            self.ls1 = nn.Parameter(torch.randn(dim))
            self.ls2 = nn.Parameter(torch.randn(dim))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x = x + self.ls1 * self.linear_tokens(self.norm1(x).transpose(1, 2)).transpose(1, 2)
            return x + self.ls2 * self.mlp_channels(self.norm2(x))

    class Holder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.stem = nn.Linear(6, 12)
            self.blocks = nn.Sequential(ResBlock(12, 9), ResBlock(12, 9))
            self.norm = Affine(12)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.norm(self.blocks(self.stem(x)))

    torch.manual_seed(0)
    return Example(Holder(), (torch.randn(2, 9, 6),))
