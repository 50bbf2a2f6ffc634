"""Units whose projection shortcut is there in some instances and not in others, spread over
stages so that one stage's class serves another: generating used to stop with an internal error
(the optional member's group was looked up by a class name the renaming pass had already
changed). Written the way osmr/imgclsmob writes its units (`conv`/`bn`/`activ` blocks, an
`identity_conv` only where the width or stride changes, a unit's bottleneck narrowing by a factor
that depends on both); every unit activates, the last one too, which no key shows."""

from __future__ import annotations

import torch
import torch.nn as nn

from tests.generative_zoo_check import generate, recorded
from tests.zoo_verdicts import class_trust, layout_reference


class ConvBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, kernel, stride: int = 1) -> None:
        super().__init__()
        padding = (kernel[0] // 2, kernel[1] // 2) if isinstance(kernel, tuple) else kernel // 2
        self.conv = nn.Conv2d(c_in, c_out, kernel, stride, padding)
        self.bn = nn.BatchNorm2d(c_out)
        self.activ = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.activ(self.bn(self.conv(x)))


class Unit(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        if stride == 2:
            den, self.resize = 1, True
        elif c_in > c_out:
            den, self.resize = 4, True
        else:
            den, self.resize = 2, False
        mid = c_in // den
        self.conv1 = ConvBlock(c_in, mid, 1, stride)
        self.conv2 = ConvBlock(mid, mid // 2, 1)
        self.conv3 = ConvBlock(mid // 2, mid, (1, 3))
        self.conv4 = ConvBlock(mid, mid, (3, 1))
        self.conv5 = ConvBlock(mid, c_out, 1)
        if self.resize:
            self.identity_conv = ConvBlock(c_in, c_out, 1, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = self.identity_conv(x) if self.resize else x
        return torch.relu(self.conv5(self.conv4(self.conv3(self.conv2(self.conv1(x))))) + identity)


class Net(nn.Module):
    def __init__(self, widths: tuple[int, ...], units: tuple[int, ...]) -> None:
        super().__init__()
        self.features = nn.Sequential()
        self.features.add_module("init_block", ConvBlock(3, widths[0], 5, 2))
        c = widths[0]
        for i, (width, count) in enumerate(zip(widths, units)):
            stage = nn.Sequential()
            for j in range(count):
                stage.add_module(f"unit{j + 1}", Unit(c, width, 2 if j == 0 and i else 1))
                c = width
            self.features.add_module(f"stage{i + 1}", stage)
        self.features.add_module("final_block", ConvBlock(c, 40, 1))
        self.output = nn.Linear(40, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.output(self.features(x).mean((2, 3)))


UNITS = ("stage1.unit1", "stage2.unit1", "stage2.unit2", "stage3.unit1")


def _unit_differences(model, reference) -> dict[str, float]:
    torch.manual_seed(1)
    found = {}
    with torch.no_grad():
        for path in UNITS:
            theirs = reference.features.get_submodule(path)
            x = torch.randn(2, theirs.conv1.conv.in_channels, 8, 8)
            ours = model.features.get_submodule(path)
            got, expected = ours(x), theirs(x)  # (a stride no key shows may sit elsewhere)
            same = got.shape == expected.shape
            found[path] = (got - expected).abs().max().item() if same else float("inf")
    return found


def test_units_generate_and_say_the_last_activation_is_a_choice(tmp_path):
    reference = layout_reference(lambda: Net((8, 16, 24), (2, 2, 1)))
    model, source = generate(reference, tmp_path)
    units = {type(model.features.get_submodule(p)).__name__ for p in UNITS}
    trust = class_trust(source)
    assert all(trust[name] == "guessed" for name in units), trust
    assert max(_unit_differences(model, reference).values()) > 1e-3  # the default reads ResNet's

    # Pinned the other way, the units that keep their resolution compute the reference's (the
    # strided ones also hold a stride no key places: their conv classes say so).
    hints = tmp_path / "hints.toml"
    hints.write_text(
        "".join(f'["{name}.conv5.bn"]\nlast_unit_activated = true\n' for name in sorted(units))
    )
    model, source = generate(reference, tmp_path, "--hints", str(hints))
    differences = _unit_differences(model, reference)
    kept = [differences[p] for p in ("stage1.unit1", "stage2.unit2")]
    assert max(kept) < 1e-5, differences
