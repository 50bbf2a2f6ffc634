"""A tiny reference for blocks/timed_conv_block.py (and families/skip_stack_unet.py's walk over
blocks that hold their own sampler), written as the diffusion-from-scratch notebooks write their
SimpleUnet: here three levels of 4..32 channels, a 24-wide time embedding, 2x2 samplers. Plain
torch. Reference code, not generated code: the generated file must match it."""

from __future__ import annotations

import math


def _notebook_unet():
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    class SinusoidalPositionEmbeddings(nn.Module):
        def __init__(self, dim: int) -> None:
            super().__init__()
            self.dim = dim

        def forward(self, time):
            half_dim = self.dim // 2
            scale = math.log(10000) / (half_dim - 1)
            freqs = torch.exp(torch.arange(half_dim) * -scale)
            angles = time.float()[:, None] * freqs[None, :]
            return torch.cat((angles.sin(), angles.cos()), dim=-1)

    class Block(nn.Module):  # here with 2x2 samplers, the time projection named t_proj
        def __init__(self, in_ch: int, out_ch: int, time_emb_dim: int, up: bool = False) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(2 * in_ch if up else in_ch, out_ch, 3, padding=1)
            self.norm1 = nn.BatchNorm2d(out_ch)
            self.t_proj = nn.Linear(time_emb_dim, out_ch)
            self.conv2 = nn.Conv2d(out_ch, out_ch, 3, padding=1)
            self.norm2 = nn.BatchNorm2d(out_ch)
            sampler = nn.ConvTranspose2d if up else nn.Conv2d
            self.resample = sampler(out_ch, out_ch, kernel_size=2, stride=2)

        def forward(self, x, t):
            h = self.norm1(F.relu(self.conv1(x)))
            h = h + F.relu(self.t_proj(t)).unsqueeze(-1).unsqueeze(-1)
            h = self.norm2(F.relu(self.conv2(h)))
            return self.resample(h)

    class SimpleUnet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            down, up, time_dim = (4, 8, 16, 32), (32, 16, 8, 4), 24
            self.time_mlp = nn.Sequential(
                SinusoidalPositionEmbeddings(time_dim), nn.Linear(time_dim, time_dim), nn.ReLU()
            )
            self.conv0 = nn.Conv2d(3, down[0], 3, padding=1)
            self.downs = nn.ModuleList(
                Block(down[i], down[i + 1], time_dim) for i in range(len(down) - 1)
            )
            self.ups = nn.ModuleList(
                Block(up[i], up[i + 1], time_dim, up=True) for i in range(len(up) - 1)
            )
            self.output = nn.Conv2d(up[-1], 3, 1)

        def forward(self, x, timestep):
            t = self.time_mlp(timestep)
            x = self.conv0(x)
            residual_inputs = []
            for down in self.downs:
                x = down(x, t)
                residual_inputs.append(x)
            for up in self.ups:
                x = up(torch.cat((x, residual_inputs.pop()), dim=1), t)
            return self.output(x)

    return SimpleUnet


def examples() -> list:
    import torch

    from codegen.patterns._kit import Example

    torch.manual_seed(2)
    unet = _notebook_unet()().eval()
    with torch.no_grad():  # running statistics that are not the identity
        for name, buffer in unet.named_buffers():
            if name.endswith("running_mean"):
                buffer.uniform_(-0.5, 0.5)
            elif name.endswith("running_var"):
                buffer.uniform_(0.5, 1.5)
    return [Example(unet, (torch.randn(2, 3, 16, 16), torch.tensor([4, 777])))]
