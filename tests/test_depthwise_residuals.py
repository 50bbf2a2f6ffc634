"""A 1x1, a depthwise 3x3 and a 1x1, each with its norm, and maybe a projection shortcut: the same
keys serve MobileNetV2's inverted residual (kuangliu/pytorch-cifar: the projection added, nothing
after the sum) and a ResNeXt bottleneck narrowed to one channel per group (ReLU after the sum).
Widths tell them apart: the inverted residual is widest in the middle, the bottleneck narrowest;
where every conv keeps the width and no other block expands, the file says it guessed.

Each block of the generated model whose class is trusted computes its reference block's output:
no block is trusted and wrong."""

from __future__ import annotations

import re

import pytest
import torch
import torch.nn as nn

from tests import vision_zoo_9_models as zoo9
from tests import vision_zoo_more_models as zoo_more
from tests.redraw import unit_scale
from codegen.cli.main import main
from tests.zoo_verdicts import generate_from_state_dict, verdict

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


class KuangliuMobileNetV2(zoo9.MobileNetV2):
    """kuangliu's layout as written: its first block (expansion 1) narrows 32 -> 16 at stride 1,
    so it has the projection shortcut; here 8 -> 4, then blocks that expand."""

    cfg = [(1, 4, 1, 1), (6, 8, 2, 2), (6, 12, 2, 1), (6, 16, 1, 2), (6, 32, 1, 1)]


class Stage(nn.Module):
    def __init__(self, *blocks: nn.Module) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, blocks[0].conv1.in_channels, 3, 1, 1, bias=False)
        self.bn = nn.BatchNorm2d(blocks[0].conv1.in_channels)
        self.layers = nn.Sequential(*blocks)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(torch.relu(self.bn(self.stem(x))))


def _depthwise_resnext() -> nn.Module:
    """torchvision's ResNeXt bottleneck with one channel per group (groups = width = 2), two in
    a row: the second has no downsample, so only its widths say it is no inverted residual."""
    down = nn.Sequential(nn.Conv2d(8, 16, 1, bias=False), nn.BatchNorm2d(16))
    first = zoo_more.Bottleneck(8, 4, 1, down, groups=2, base_width=16)
    return Stage(first, zoo_more.Bottleneck(16, 4, groups=2, base_width=16))


def _equal_widths() -> nn.Module:
    """Only expansion-1 blocks that keep the width: nothing tells the two blocks apart."""
    return Stage(zoo9.MBBlock(8, 8, 1, 1), zoo9.MBBlock(8, 8, 1, 1))


def _trusts(source: str) -> dict[str, str]:
    return dict(re.findall(r"^class (\w+)\(.*?\n    \"\"\"Forward trust: (\w+)", source, re.M))


def _blocks_trusted_are_right(reference: nn.Module, model: nn.Module, source: str) -> list[str]:
    """Each block of `layers` compared on its own input, its convs' strides and paddings set as
    the reference's (choices the file lists, not recorded in the keys); returns the classes found
    trusted. Asserts trusted means right."""
    trusts = _trusts(source)
    trusted = []
    torch.manual_seed(1)
    for ref_block, our_block in zip(reference.layers, model.layers):
        for path, conv in ref_block.named_modules():
            if isinstance(conv, nn.Conv2d):
                ours = our_block.get_submodule(path)
                ours.stride, ours.padding = conv.stride, conv.padding
        name = type(our_block).__name__
        if trusts.get(name) not in ("inferred", "exact"):
            continue
        trusted.append(name)
        x = torch.randn(2, ref_block.conv1.in_channels, 6, 6)
        with torch.no_grad():
            torch.testing.assert_close(our_block(x), ref_block(x), atol=1e-5, rtol=1e-5)
    return trusted


def _generate_pinned(
    reference: nn.Module, tmp_path, capsys, activation="relu", expansion="applied"
) -> tuple[nn.Module, str]:
    """Generated with what the reference does pinned, as hints would (choices the file lists):
    every block's activation (an inverted residual's is ReLU6 by default, torchvision's),
    whether a 1x1 expansion that keeps the width is applied, and each conv's stride."""
    ckpt = tmp_path / "weights.pt"
    torch.save(reference.state_dict(), ckpt)
    capsys.readouterr()
    assert main(["generate", str(ckpt), "--list-choices"]) == 0
    listed = capsys.readouterr().out
    pins = {"activation": activation, "expansion": expansion}
    found = re.findall(r"^\[(\w+\.\w+)\] (activation|expansion) = ", listed, re.M)
    hints = "".join(
        f'["{path}"]\n{name} = "{pins[name]}"\n'
        for path, name in found
        if not path.startswith("RecoveredModel.")
    )
    # Each conv's stride as the reference's: where a block strides leaves no key (a strided conv
    # or a blur after it, patterns/blocks/residual.py: unrecorded_downsampling).
    for path in re.findall(r"^\[([\w.]+)\] stride = ", listed, re.M):
        stride = reference.get_submodule(path).stride[0]
        hints += f'["{path}"]\nstride = {stride}\n'
    (tmp_path / "hints.toml").write_text(hints)
    return generate_from_state_dict(
        reference, tmp_path, capsys, "--force", "--hints", str(tmp_path / "hints.toml")
    )


@pytest.mark.parametrize(
    "build, role",
    [
        (KuangliuMobileNetV2, "InvertedResidual"),
        (zoo9.MobileNetV2, "InvertedResidual"),
        (_depthwise_resnext, "Bottleneck"),  # 1x1, grouped 3x3, 1x1
    ],
)
def test_a_depthwise_block_is_read_by_its_widths(build, role, tmp_path, capsys):
    torch.manual_seed(0)
    reference = unit_scale(build())
    model, source = _generate_pinned(reference, tmp_path, capsys)
    trusted = _blocks_trusted_are_right(reference, model, source)
    assert trusted and all(role in name for name in trusted), trusted
    torch.jit.script(model)


def test_kuangliu_projection_shortcut_adds_without_activation(tmp_path, capsys):
    """The first block (expansion 1, 8 -> 4 at stride 1) projects its input and adds it: an
    inverted residual with the shortcut, exact once pinned (checked block by block above). Its
    1x1 expansion keeps the width, which kuangliu's EfficientNet skips: flagged until pinned."""
    torch.manual_seed(0)
    reference = unit_scale(KuangliuMobileNetV2())
    model, source = generate_from_state_dict(reference, tmp_path, capsys, "--force")
    first = type(model.layers[0]).__name__
    assert "InvertedResidual" in first and _trusts(source)[first] == "guessed"
    assert "BasicBlock" not in source and "Bottleneck" not in source  # no ResNet block reading
    model, source = _generate_pinned(reference, tmp_path, capsys)
    assert _trusts(source)[type(model.layers[0]).__name__] == "inferred"


def test_equal_widths_with_nothing_expanding_are_flagged(tmp_path, capsys):
    torch.manual_seed(0)
    reference = unit_scale(_equal_widths())
    model, source = generate_from_state_dict(reference, tmp_path, capsys, "--force")
    block = type(model.layers[0]).__name__
    assert _trusts(source)[block] == "guessed"
    assert "could also be a depthwise bottleneck" in " ".join(source.split())


def test_an_expansion_built_but_skipped_is_flagged_then_pinned(tmp_path, capsys):
    """kuangliu's EfficientNet builds `conv1` at expansion 1 and reads its input instead: the same
    keys as his MobileNetV2's first block, so the file flags the guess; pinned `skipped` (as
    --calibrate or --hints would), each trusted block is its reference block. Session 13: the
    EfficientNet family (squeeze-excitations a quarter of the block's input) reads it as skipped
    by default, still flagged as a guess, and the whole model is then exact."""
    reference, x = zoo9.build("cifar_efficientnet")
    model, source = generate_from_state_dict(reference, tmp_path, capsys, "--force")
    assert "keeps the width: some blocks skip it" in " ".join(source.split())
    assert "read as skipped" in " ".join(source.split())
    assert verdict(reference, model, source, x) == "exact"
    model, source = _generate_pinned(reference, tmp_path, capsys, "silu", "skipped")
    assert "input_if_same_shape" in source
    trusted = _blocks_trusted_are_right(reference, model, source)
    assert len(trusted) == len(reference.layers)
