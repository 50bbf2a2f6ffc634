"""Diffusion U-Nets whose levels take the time embedding through their own MLP
(families/timed_level_unet.py, blocks/timed_unet_level.py, blocks/pixel_token_attention.py): a
second layout beside the pattern's own example (dome272's modules.py), written as a fork would
write it: other names (`stem`, `enc1`.., `mid1`.., `dec1`.., `head`; the double conv's Sequential
`net`, the level's `pool_block`/`blocks` and `t_proj`), three levels, no attention, a deeper
bottleneck, the up level's double conv narrowing in its middle, and its conditional variant (a
class table added to the sinusoids); and the calibration rule that a
class-wide convention picked for one instance reaches every instance of its class."""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from tests.generative_zoo_check import generate, recorded, verdict

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


class ConvPair(nn.Module):
    def __init__(self, c_in: int, c_out: int, mid: int | None = None, skip: bool = False):
        super().__init__()
        self.skip = skip
        mid = mid or c_out
        self.net = nn.Sequential(
            nn.Conv2d(c_in, mid, 3, padding=1, bias=False),
            nn.GroupNorm(1, mid),
            nn.GELU(),
            nn.Conv2d(mid, c_out, 3, padding=1, bias=False),
            nn.GroupNorm(1, c_out),
        )

    def forward(self, x):
        return F.gelu(x + self.net(x)) if self.skip else self.net(x)


class Encoder(nn.Module):
    def __init__(self, c_in: int, c_out: int, t_dim: int):
        super().__init__()
        self.pool_block = nn.Sequential(
            nn.MaxPool2d(2), ConvPair(c_in, c_in, skip=True), ConvPair(c_in, c_out)
        )
        self.t_proj = nn.Sequential(nn.SiLU(), nn.Linear(t_dim, c_out))

    def forward(self, x, t):
        x = self.pool_block(x)
        return x + self.t_proj(t)[:, :, None, None].expand(-1, -1, x.shape[-2], x.shape[-1])


class Decoder(nn.Module):
    def __init__(self, c_in: int, c_out: int, t_dim: int):
        super().__init__()
        self.blocks = nn.Sequential(
            ConvPair(c_in, c_in, skip=True), ConvPair(c_in, c_out, mid=c_in // 2)
        )
        self.t_proj = nn.Sequential(nn.SiLU(), nn.Linear(t_dim, c_out))

    def forward(self, x, skip, t):
        x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=True)
        x = self.blocks(torch.cat([skip, x], dim=1))
        return x + self.t_proj(t)[:, :, None, None]


class ForkedUNet(nn.Module):
    def __init__(self, channels: int = 1, width: int = 8, t_dim: int = 24):
        super().__init__()
        self.t_dim = t_dim
        self.stem = ConvPair(channels, width)
        self.enc1 = Encoder(width, 2 * width, t_dim)
        self.enc2 = Encoder(2 * width, 4 * width, t_dim)
        self.enc3 = Encoder(4 * width, 4 * width, t_dim)
        self.mid1 = ConvPair(4 * width, 8 * width)
        self.mid2 = ConvPair(8 * width, 4 * width)
        self.dec1 = Decoder(8 * width, 2 * width, t_dim)
        self.dec2 = Decoder(4 * width, width, t_dim)
        self.dec3 = Decoder(2 * width, width, t_dim)
        self.head = nn.Conv2d(width, channels, 1)

    def encode_time(self, t):
        t = t.unsqueeze(-1).float()
        inv_freq = 1.0 / (10000 ** (torch.arange(0, self.t_dim, 2).float() / self.t_dim))
        return torch.cat(
            [torch.sin(t.repeat(1, self.t_dim // 2) * inv_freq), torch.cos(t * inv_freq)], -1
        )

    def forward(self, x, t):
        t = self.encode_time(t)
        x1 = self.stem(x)
        x2 = self.enc1(x1, t)
        x3 = self.enc2(x2, t)
        x = self.mid2(self.mid1(self.enc3(x3, t)))
        x = self.dec1(x, x3, t)
        x = self.dec2(x, x2, t)
        return self.head(self.dec3(x, x1, t))


def _reference():
    torch.manual_seed(3)
    model = ForkedUNet().eval()
    for p in model.parameters():
        nn.init.normal_(p, std=0.5)
    return model, (torch.randn(2, 1, 16, 16), torch.tensor([5, 640]))


def test_forked_layout_exact_from_keys(tmp_path):
    """Levels, order and skips read from roles, numbers and widths; the double convs' GELU, their
    end on the norm and the residual of each level's first are the family's conventions (named in
    the file as such)."""
    reference, inputs = _reference()
    model, source = generate(reference, tmp_path)
    found, diff = verdict(reference, inputs, model, source)
    assert found == "exact", f"max abs diff {diff:.3g}"
    assert "sinusoidal_time_encoding" in source and "residual=True" in source


class ConditionalForkedUNet(ForkedUNet):
    """dome272's UNet_conditional as a fork writes it: a class table as wide as the sinusoids,
    its row added to them (`t += label_emb(y)`)."""

    def __init__(self, num_classes: int = 5):
        super().__init__()
        self.class_emb = nn.Embedding(num_classes, self.t_dim)

    def forward(self, x, t, y):
        t = self.encode_time(t) + self.class_emb(y)
        x1 = self.stem(x)
        x2 = self.enc1(x1, t)
        x3 = self.enc2(x2, t)
        x = self.mid2(self.mid1(self.enc3(x3, t)))
        x = self.dec2(self.dec1(x, x3, t), x2, t)
        return self.head(self.dec3(x, x1, t))


def test_conditional_layout_adds_the_class_vector(tmp_path):
    torch.manual_seed(4)
    reference = ConditionalForkedUNet().eval()
    for p in reference.parameters():
        nn.init.normal_(p, std=0.5)
    inputs = (torch.randn(2, 1, 16, 16), torch.tensor([5, 640]), torch.tensor([1, 4]))
    model, source = generate(reference, tmp_path)
    assert "plus the class vector" in source
    found, diff = verdict(reference, inputs, model, source)
    assert found == "exact", f"max abs diff {diff:.3g}"


def test_level_conventions_are_choices(tmp_path):
    """What no key records is a choice a hint (as calibration would) can move: with the map
    first in the concatenation the file computes something else, and says the level is guessed."""
    reference, inputs = _reference()
    model, source = generate(reference, tmp_path)
    assert "Forward trust: guessed" in source and "skip_first" in source
    hints = tmp_path / "hints.toml"
    lines = source.splitlines()
    classes = [s[6:].split("(")[0] for s in lines if s.startswith("class ") and "UpLevel" in s]
    assert classes
    hints.write_text("".join(f'["{c}.blocks"]\nskip_first = false\n' for c in classes))
    model, source = generate(reference, tmp_path, "--hints", str(hints))
    assert verdict(reference, inputs, model, source)[0] == "flagged"


class GroupedBlock(nn.Module):
    def __init__(self, width: int):
        super().__init__()
        self.conv = nn.Conv2d(width, width, 3, padding=1)
        self.norm = nn.GroupNorm(2, width)

    def forward(self, x):
        return torch.relu(self.norm(self.conv(x)))


class GroupedStack(nn.Module):
    def __init__(self, width: int = 16):
        super().__init__()
        self.entry, self.middle, self.exit = (GroupedBlock(width) for _ in range(3))

    def forward(self, x):
        return self.exit(self.middle(self.entry(x)))


def test_calibrated_group_count_reaches_every_instance(tmp_path):
    """One class used by three members: a group count calibrated on its first instance (the path
    the search moves) is given to the same member of the others, so the class stays one."""
    from codegen.analyze import analyze
    from codegen.calibrate import _for_every_instance, _instance_members
    from codegen.load import open_checkpoint

    torch.save(GroupedStack().state_dict(), tmp_path / "stack.pt")
    table = open_checkpoint(tmp_path / "stack.pt").table
    ir = analyze(table)
    picked = {("entry.norm", "num_groups"): 2, ("entry.conv", "stride"): 2}
    every = _for_every_instance(picked, _instance_members(ir))
    assert every[("middle.norm", "num_groups")] == every[("exit.norm", "num_groups")] == 2
    assert ("middle.conv", "stride") not in every  # a stride sets an instance apart on purpose
    del every[("entry.conv", "stride")]
    calibrated = analyze(table, calibrated=every)
    assert len(calibrated.classes) == len(ir.classes)
    groups = [c.value for c in calibrated.all_choices() if c.name == "num_groups"]
    assert groups == [2]
