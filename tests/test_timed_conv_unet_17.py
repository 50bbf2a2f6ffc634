"""Diffusion U-Nets whose conv blocks take the timestep's features and hold their own sampler
(issue 16, session 17: zoo 16's DeepFindr DDPM U-Net and layouts that share its readings):

- a block that holds its own sampler (an even-kernel conv keeping the width): the U-Net's walk
  tracks the map's size through it, and its membership in `downs` or `ups` says conv or
  transposed conv (the square kernel cannot);
- a time MLP that opens with a keyless sinusoidal slot (its width the Linear's input), closed by
  an activation past its last key (a choice);
- an up block whose first conv reads twice (the running width plus the skip's) is after a skip
  concatenation.

Each layout is generated from its state dict alone (exact, or flagged: never silently wrong), and
exact once recorded outputs calibrate what no key records.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn as nn

from tests.generative_zoo_check import generate, recorded, verdict

pytestmark = pytest.mark.filterwarnings(
    "ignore::DeprecationWarning", "ignore::UserWarning", "ignore::FutureWarning"
)


def sinusoids(time: torch.Tensor, dim: int) -> torch.Tensor:
    half = dim // 2
    freqs = torch.exp(torch.arange(half) * -(math.log(10000) / (half - 1)))
    angles = time.float()[:, None] * freqs[None, :]
    return torch.cat((angles.sin(), angles.cos()), dim=-1)


class SinusoidalEmbedding(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, time: torch.Tensor) -> torch.Tensor:
        return sinusoids(time, self.dim)


# ------------------------------------------- a four-level tutorial DDPM, 2x2 samplers, LeakyReLU


class StepBlock(nn.Module):  # a course notebook: three convs per block, a 2x2 sampler
    def __init__(self, c_in: int, c_out: int, t_dim: int, up: bool = False) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(2 * c_in if up else c_in, c_out, 3, padding=1)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1)
        self.conv3 = nn.Conv2d(c_out, c_out, 3, padding=1)
        self.norm1, self.norm2, self.norm3 = (nn.BatchNorm2d(c_out) for _ in range(3))
        self.time_proj = nn.Linear(t_dim, c_out)
        sampler = nn.ConvTranspose2d if up else nn.Conv2d
        self.resample = sampler(c_out, c_out, 2, 2)
        self.act = nn.LeakyReLU(0.2)

    def forward(self, x, t):
        h = self.norm1(self.act(self.conv1(x)))
        h = h + self.act(self.time_proj(t))[:, :, None, None]
        h = self.norm2(self.act(self.conv2(h)))
        h = self.norm3(self.act(self.conv3(h)))
        return self.resample(h)


class StepUnet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        widths, t_dim = (4, 8, 8, 16, 16), 12
        self.time_mlp = nn.Sequential(SinusoidalEmbedding(t_dim), nn.Linear(t_dim, t_dim), nn.ReLU())
        self.conv0 = nn.Conv2d(1, widths[0], 3, padding=1)
        self.downs = nn.ModuleList(StepBlock(a, b, t_dim) for a, b in zip(widths, widths[1:]))
        back = widths[::-1]
        self.ups = nn.ModuleList(StepBlock(a, b, t_dim, True) for a, b in zip(back, back[1:]))
        self.output = nn.Conv2d(widths[0], 1, 1)

    def forward(self, x, timestep):
        t = self.time_mlp(timestep)
        x = self.conv0(x)
        skips = []
        for down in self.downs:
            x = down(x, t)
            skips.append(x)
        for up in self.ups:
            x = up(torch.cat((x, skips.pop()), dim=1), t)
        return self.output(x)


# ------------------------- GroupNorm before SiLU, a one-conv block, `init_conv` and `final_conv`


class GroupBlock(nn.Module):  # a blog's "simple diffusion": norm first, SiLU, one conv + sampler
    def __init__(self, c_in: int, c_out: int, t_dim: int, up: bool = False) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(2 * c_in if up else c_in, c_out, 3, padding=1)
        self.gn1 = nn.GroupNorm(2, c_out)
        self.t_lin = nn.Linear(t_dim, c_out)
        self.sample = (nn.ConvTranspose2d if up else nn.Conv2d)(c_out, c_out, 4, 2, 1)

    def forward(self, x, t):
        h = nn.functional.silu(self.gn1(self.conv1(x)))
        h = h + nn.functional.silu(self.t_lin(t))[:, :, None, None]
        return self.sample(h)


class GroupUnet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        t_dim = 8
        self.time_emb = nn.Sequential(SinusoidalEmbedding(t_dim), nn.Linear(t_dim, t_dim))
        self.init_conv = nn.Conv2d(3, 6, 3, padding=1)
        self.downs = nn.ModuleList([GroupBlock(6, 12, t_dim), GroupBlock(12, 12, t_dim)])
        self.ups = nn.ModuleList([GroupBlock(12, 12, t_dim, True), GroupBlock(12, 6, t_dim, True)])
        self.final_conv = nn.Conv2d(6, 3, 3, padding=1)

    def forward(self, x, timestep):
        t = self.time_emb(timestep)
        x = self.init_conv(x)
        skips = []
        for down in self.downs:
            x = down(x, t)
            skips.append(x)
        for up in self.ups:
            x = up(torch.cat((x, skips.pop()), dim=1), t)
        return self.final_conv(x)


LAYOUTS = {
    # the zoo row's own reading, four levels, three convs a block, 2x2 samplers: the keys prove
    # the walk; LeakyReLU is the block's choice (calibration finds it)
    "step_unet": StepUnet,
    # GroupNorm before SiLU, no activation closing the time MLP: every choice moved
    "group_unet": GroupUnet,
}


def _built(make) -> tuple[nn.Module, tuple]:
    torch.manual_seed(3)
    reference = make().eval()
    with torch.no_grad():  # BatchNorm statistics that are not the identity
        for m in reference.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 1.5)
    channels = next(m for m in reference.modules() if isinstance(m, nn.Conv2d)).in_channels
    return reference, (torch.randn(2, channels, 16, 16), torch.tensor([7, 640]))


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_keys_alone_exact_or_flagged(name, tmp_path):
    reference, inputs = _built(LAYOUTS[name])
    model, source = generate(reference, tmp_path, "--quiet")
    found, diff = verdict(reference, inputs, model, source)
    assert found != "WRONG", f"{name}: differs by {diff:.3g} and nothing says so"
    assert "raise NotImplementedError" not in source  # the walk is read: only choices are open


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_calibrated_exact(name, tmp_path):
    reference, inputs = _built(LAYOUTS[name])
    extra = recorded(reference, inputs, tmp_path / "data.pt")
    model, source = generate(reference, tmp_path, "--quiet", *extra)
    found, diff = verdict(reference, inputs, model, source)
    assert found == "exact", f"{name}: max abs diff {diff:.3g}"
