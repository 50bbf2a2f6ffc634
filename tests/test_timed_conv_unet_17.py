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

from tests.generative_zoo_check import BY_COUNT, generate, recorded, verdict

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


def down_then_up(x, t, unet):
    """The notebooks' walk: each down block's output pushed, each up block reading the running
    map concatenated with the latest pushed one."""
    skips = []
    for down in unet.downs:
        x = down(x, t)
        skips.append(x)
    for up in unet.ups:
        x = up(torch.cat((x, skips.pop()), dim=1), t)
    return x


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
        self.time_mlp = nn.Sequential(
            SinusoidalEmbedding(t_dim), nn.Linear(t_dim, t_dim), nn.ReLU()
        )
        self.conv0 = nn.Conv2d(1, widths[0], 3, padding=1)
        self.downs = nn.ModuleList(StepBlock(a, b, t_dim) for a, b in zip(widths, widths[1:]))
        back = widths[::-1]
        self.ups = nn.ModuleList(StepBlock(a, b, t_dim, True) for a, b in zip(back, back[1:]))
        self.output = nn.Conv2d(widths[0], 1, 1)

    def forward(self, x, timestep):
        return self.output(down_then_up(self.conv0(x), self.time_mlp(timestep), self))


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
        return self.final_conv(down_then_up(self.init_conv(x), self.time_emb(timestep), self))


# -------------- class-conditional: a label table added to the time features, GELU closing the MLP


class CondBlock(nn.Module):  # a conditional MNIST tutorial: one conv per block, BN after ReLU
    def __init__(self, c_in: int, c_out: int, t_dim: int, up: bool = False) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(2 * c_in if up else c_in, c_out, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.emb = nn.Linear(t_dim, c_out)
        self.transform = (nn.ConvTranspose2d if up else nn.Conv2d)(c_out, c_out, 4, 2, 1)

    def forward(self, x, t):
        h = self.bn1(torch.relu(self.conv1(x)))
        return self.transform(h + torch.relu(self.emb(t))[:, :, None, None])


class CondUnet(nn.Module):
    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.time_mlp = nn.Sequential(SinusoidalEmbedding(8), nn.Linear(8, 16), nn.GELU())
        self.label_emb = nn.Embedding(num_classes, 16)
        self.conv0 = nn.Conv2d(1, 8, 3, padding=1)
        self.downs = nn.ModuleList([CondBlock(8, 8, 16), CondBlock(8, 16, 16)])
        self.ups = nn.ModuleList([CondBlock(16, 8, 16, True), CondBlock(8, 8, 16, True)])
        self.output = nn.Conv2d(8, 1, 1)

    def forward(self, x, timestep, labels):
        t = self.time_mlp(timestep) + self.label_emb(labels)
        return self.output(down_then_up(self.conv0(x), t, self))


LAYOUTS = {
    # the zoo row's own reading, four levels, three convs a block, 2x2 samplers: the keys prove
    # the walk; LeakyReLU is the block's choice (calibration finds it)
    "step_unet": StepUnet,
    # GroupNorm before SiLU, no activation closing the time MLP: every choice moved
    "group_unet": GroupUnet,
    # a class table as wide as the time MLP's output, added after it; GELU closes the MLP
    "cond_unet": CondUnet,
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
    inputs = (torch.randn(2, channels, 16, 16), torch.tensor([7, 640]))
    if hasattr(reference, "label_emb"):
        inputs += (torch.tensor([3, 9]),)
    return reference, inputs


def _recorded(reference, inputs, path) -> list[str]:
    """The --calibrate arguments: four fresh samples (with labels where the U-Net takes them)."""
    if len(inputs) == 2:
        return recorded(reference, inputs, path)
    torch.manual_seed(5)
    record = {
        "sample": torch.randn(4, *inputs[0].shape[1:]),
        "timestep": torch.tensor([1, 90, 400, 999]),
        "labels": torch.tensor([0, 3, 5, 9]),
    }
    with torch.no_grad():
        record["outputs"] = reference(record["sample"], record["timestep"], record["labels"])
    torch.save(record, path)
    arguments = ["--calibrate", str(path), "--inputs", "sample,timestep,labels"]
    return arguments + ["--target", "outputs", *BY_COUNT]


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
    extra = _recorded(reference, inputs, tmp_path / "data.pt")
    model, source = generate(reference, tmp_path, "--quiet", *extra)
    found, diff = verdict(reference, inputs, model, source)
    assert found == "exact", f"{name}: max abs diff {diff:.3g}"
