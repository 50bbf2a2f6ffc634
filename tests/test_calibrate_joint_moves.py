"""Two guesses of one block that only move together (codegen/calibrate._class_pairs).

A row's unrecorded values are a conjunction: two branches that are concatenated must halve the
resolution together, so each stride alone makes the join fail (the model cannot run) and no single
change shows the pair. The search pairs the choices of the layers one instance of a class holds
(each pinned for that instance: a branch conv is a later instance of a conv class listed once),
those that move the resolution first. Measured on TinyInception with `--candidates 300`: main at
02cc85d not exact (exit 1, relative error 8.8e-4, held-out max diff 0.028: the defaults kept);
this branch exact in 87 candidates (held-out max diff 0).

Layouts: torchvision Inception's reduction block (a classifier, BasicConv2d at eps 0.001) and a
PatchGAN-style critic whose Sequential levels are such blocks (dense output, other nesting); one
end to end through `generate --calibrate`; and a pix2pix U-Net whose down level applies a
LeakyReLU no key records and no choice offers: the right combination is not in the space, and
the file must keep saying so.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from codegen.analyze import analyze
from codegen.calibrate import _class_pairs, model_error
from codegen.cli.main import main
from codegen.load import open_checkpoint
from codegen.render import render_source
from tests.generated_module import load_module
from tests.redraw import reference_and_input
from tests.zoo_verdicts import flagged


class BasicConv2d(nn.Module):  # torchvision.models.inception.BasicConv2d
    def __init__(self, c_in: int, c_out: int, k: int, stride: int = 1, eps: float = 0.001) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, k, stride, k // 2, bias=False)
        self.bn = nn.BatchNorm2d(c_out, eps=eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.bn(self.conv(x)))


class InceptionB(nn.Module):  # an Inception reduction block (Mixed_6a) at toy width, no pool branch
    def __init__(self, c_in: int, stride: int, eps: float = 0.001) -> None:
        super().__init__()
        self.branch3x3 = BasicConv2d(c_in, 8, 3, stride, eps)
        self.branch_dbl_1 = BasicConv2d(c_in, 4, 1, 1, eps)
        self.branch_dbl_2 = BasicConv2d(4, 8, 3, stride, eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        deep = self.branch_dbl_2(self.branch_dbl_1(x))
        return torch.cat([self.branch3x3(x), deep], 1)


class TinyInception(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.Conv2d_1a = BasicConv2d(3, 8, 3)
        self.Mixed_5a = InceptionB(8, 1)
        self.Mixed_6a = InceptionB(16, 2)
        self.fc = nn.Linear(16, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.Mixed_6a(self.Mixed_5a(self.Conv2d_1a(x)))
        return self.fc(x.mean((2, 3)))


class PatchCritic(nn.Module):  # a PatchGAN-style critic: one Sequential, levels that reduce
    def __init__(self) -> None:
        super().__init__()
        self.model = nn.Sequential(
            nn.Conv2d(3, 8, 3, 1, 1),
            nn.LeakyReLU(0.2, True),
            InceptionB(8, 2),
            InceptionB(16, 2),
            nn.Conv2d(16, 1, 3, 1, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)  # [batch, 1, h / 4, w / 4]: one score per patch


class UNetDown(nn.Module):  # PyTorch-GAN pix2pix UNetDown (affine instance norm)
    def __init__(self, c_in: int, c_out: int, normalize: bool = True) -> None:
        super().__init__()
        layers = [nn.Conv2d(c_in, c_out, 4, 2, 1, bias=False)]
        if normalize:
            layers.append(nn.InstanceNorm2d(c_out, affine=True))
        layers.append(nn.LeakyReLU(0.2))
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


class UNetUp(nn.Module):
    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.model = nn.Sequential(
            nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False),
            nn.InstanceNorm2d(c_out, affine=True),
            nn.ReLU(inplace=True),
        )

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        return torch.cat((self.model(x), skip), 1)


class GeneratorUNet(nn.Module):  # three levels
    def __init__(self) -> None:
        super().__init__()
        self.down1 = UNetDown(3, 8, normalize=False)
        self.down2 = UNetDown(8, 16)
        self.down3 = UNetDown(16, 16, normalize=False)
        self.up1 = UNetUp(16, 16)
        self.up2 = UNetUp(32, 8)
        self.final = nn.Sequential(nn.ConvTranspose2d(16, 3, 4, 2, 1), nn.Tanh())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        d1 = self.down1(x)
        d2 = self.down2(d1)
        return self.final(self.up2(self.up1(self.down3(d2), d2), d1))


def _search(make, shape, tmp_path):
    """(evaluate as the search scores a candidate, the defaults' state, misses) on 4 samples."""
    reference, _ = reference_and_input(make, shape)
    ckpt = tmp_path / "w.pt"
    torch.save(reference.state_dict(), ckpt)
    table = open_checkpoint(str(ckpt)).table
    state = reference.state_dict()
    x = torch.randn(4, *shape[1:], generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        target = reference(x)
    misses: dict = {}

    def evaluate(picked, changed=None):
        ir = analyze(table, class_name="RecoveredModel", hints={}, calibrated=picked)
        source = render_source(ir, formatted=False)
        error, _, misses[frozenset(picked.items())] = model_error(
            source, "RecoveredModel", state, (x,), target
        )
        return error, ir

    return evaluate, misses


def test_two_joined_branches_halve_together_in_a_classifier(tmp_path):
    evaluate, misses = _search(TinyInception, (2, 3, 16, 16), tmp_path)
    error, ir = evaluate({})
    assert 0 < error < float("inf")
    pair = [("Mixed_6a.branch3x3.conv", "stride"), ("Mixed_6a.branch_dbl_2.conv", "stride")]
    for key in pair:  # neither alone: the branches no longer fit side by side
        assert evaluate({key: 2})[0] == float("inf")
    found = _class_pairs(evaluate, (error, {}, ir), misses, shape_only=True)
    assert found[1] == {k: 2 for k in pair}
    assert found[0] < error / 100
    # the row's other guess (BasicConv2d's eps) then makes it exact
    assert evaluate({**found[1], ("", "batch_norm_eps"): 0.001})[0] < 1e-10


def test_levels_of_a_patch_critic_halve_one_at_a_time(tmp_path):
    """Other nesting (numbered Sequential levels), dense output. From the defaults nothing runs
    at the recorded output's size, and a pair that only brings the shape closer is not taken
    (it leads away as easily as toward the answer); with one level halving, the other level's
    pair makes it run."""
    evaluate, misses = _search(PatchCritic, (2, 3, 16, 16), tmp_path)
    error, ir = evaluate({})
    assert error == float("inf") and misses[frozenset()] == 4.0  # [16, 16] for [4, 4]
    assert _class_pairs(evaluate, (error, {}, ir), misses, shape_only=True)[1] == {}
    level2 = {("model.2.branch3x3.conv", "stride"): 2, ("model.2.branch_dbl_2.conv", "stride"): 2}
    error, ir = evaluate(level2)
    assert error == float("inf") and misses[frozenset(level2.items())] == 2.0
    found = _class_pairs(evaluate, (error, level2, ir), misses, shape_only=True)
    level3 = {("model.3.branch3x3.conv", "stride"): 2, ("model.3.branch_dbl_2.conv", "stride"): 2}
    assert found[1] == {**level2, **level3} and found[0] < float("inf")


def _calibrated(make, shape, tmp_path, candidates: int):
    reference, x = reference_and_input(make, shape)
    ckpt, data, out = tmp_path / "w.pt", tmp_path / "data.pt", tmp_path / "model.py"
    torch.save(reference.state_dict(), ckpt)
    sample = torch.randn(4, *shape[1:], generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        torch.save({"inputs": sample, "outputs": reference(sample)}, data)
    code = main(
        ["generate", str(ckpt), "-o", str(out), "--quiet", "--force", "--calibrate", str(data)]
        + ["--candidates", str(candidates)]
    )
    model = load_module(out).RecoveredModel().eval()
    model.load_state_dict(reference.state_dict(), strict=True)
    try:
        with torch.no_grad():
            held_out = (model(x) - reference(x)).abs().max().item()
    except RuntimeError:  # a file left unable to run (it says so: flagged)
        held_out = float("inf")
    return code, held_out, out.read_text()


class PlainStemInception(TinyInception):  # the same net as a port at torch's batch norm eps
    def __init__(self) -> None:
        super().__init__()
        self.Conv2d_1a = nn.Conv2d(3, 8, 3, padding=1)  # type: ignore[assignment]
        self.Mixed_5a = InceptionB(8, 1, eps=1e-5)
        self.Mixed_6a = InceptionB(16, 2, eps=1e-5)


def test_generate_calibrate_finds_the_pair_and_says_so(tmp_path):
    code, held_out, source = _calibrated(PlainStemInception, (2, 3, 16, 16), tmp_path, 60)
    assert code == 0 and held_out < 1e-5  # on an input calibration never saw
    assert "Mixed_6a" in source and not flagged(source)


def test_a_combination_outside_the_space_stays_flagged(tmp_path):
    """down1's LeakyReLU follows its conv in a Sequential slot no key records and no choice
    offers: whatever the search settles on, the file must not claim to reproduce DATA."""
    code, held_out, source = _calibrated(GeneratorUNet, (2, 3, 16, 16), tmp_path, 12)
    assert code == 1 and held_out > 1e-3
    assert flagged(source)
