"""Six more classifiers as the vision zoos write them (tests/vision_zoo_6_models.py: MnasNet,
GhostNet, RepVGG deploy, SE-ResNeXt-D, EfficientNetV2 with fused MBConv, CSPDarkNet), none of which
the catalogue was written against. Each loads strictly and generates without an internal error;
its output is the reference's, or the file flags a class as guessed or missing (never silently
wrong); every depthwise and grouped conv has the reference's `groups`; and the models a general
mechanism now covers are exact after --calibrate on recorded outputs."""

from __future__ import annotations


import pytest
import torch
import torch.nn as nn

from codegen.cli.main import main
from tests import vision_zoo_6_models as zoo
from tests.generated_module import load_module
from tests.zoo_verdicts import keys_tests

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


def _load(source: str, tmp_path, name: str):
    path = tmp_path / f"{name}.py"
    path.write_text(source)
    return load_module(path)


# From the keys alone (no config, no calibration). SE-ResNeXt-D: a bottleneck with its
# squeeze-excitation, a deep stem (its first conv strided, a 3/2/1 max-pool after it) and ResNet-D's
# average-pool shortcut, each a cited convention. The others are flagged: strides, activations and
# parameter-free steps leave no key; none is silently wrong.
# Session 13: timm's EfficientNetV2 (its stage strides, SiLU, and the stride-1 ConvBnAct stage that
# adds its input: analyze/strides.py's mobile_strides, mobile_family, mobile_skips).
# Session 14: GhostNet, its last stage's conv_head applied to the pooled features, then ReLU
# (the MobileNetV3 head it keeps: blocks/chain.py's _last_stage_conv). mnasnet 0.054 -> 0.054:
# ReLU and its stem's stride now, its narrowed stacks' strides still a choice.
# Session 14 (cnn14b): timm's CSPDarkNet (the stem activates as the cross stages do) and RepVGG in
# deploy form (blocks/reparam_block.py; every stage's first block halves: reparam_stage_entries).
EXACT_FROM_KEYS = {"seresnext_d", "efficientnet_v2", "cspdarknet", "repvgg_deploy", "ghostnet"}


test_exact_or_flagged_from_the_keys, test_depthwise_and_grouped_convs_keep_their_groups = (
    keys_tests(zoo, EXACT_FROM_KEYS, script=False, grouped_only=False)
)


# What no key records, pinned as a trainer's config (`hidden_act`) and --hints would (the
# addresses `generate --list-choices` gives): the convs that halve the resolution and the first
# stage's residual. With them the generated forward is the reference's, which shows the blocks'
# dataflow right: timm's conv and norm members side by side (`conv_pw, bn1, conv_dw, bn2, se,
# conv_pwl, bn3`), the fused MBConv, MnasNet's blocks as one Sequential with activation slots.
PINNED = {
    "efficientnet_v2": (
        {"hidden_act": "silu"},
        '[Block]\nresidual = "add"\n["conv_stem"]\nstride = 2\n'
        '["blocks.1.0.conv_exp"]\nstride = 2\n["blocks.2.0.conv_dw"]\nstride = 2\n',
    ),
    "mnasnet": (
        {"hidden_act": "relu"},
        '["layers.0"]\nstride = 2\n["layers.8.0.layers.3"]\nstride = 2\n'
        '["layers.9.0.layers.3"]\nstride = 2\n',
    ),
}


@pytest.mark.parametrize("name", sorted(PINNED))
def test_exact_with_what_no_key_records(name, tmp_path, capsys):
    reference, x = zoo.build(name)
    config, hints = PINNED[name]
    ckpt, hints_file, out = tmp_path / "weights.pt", tmp_path / "hints.toml", tmp_path / "m.py"
    torch.save({"state_dict": reference.state_dict(), "config": config}, ckpt)
    hints_file.write_text(hints)
    assert main(["generate", str(ckpt), "-o", str(out), "--quiet", "--hints", str(hints_file)]) == 0
    assert "internal error" not in capsys.readouterr().err
    model = _load(out.read_text(), tmp_path, name).RecoveredModel().eval()
    model.load_state_dict(reference.state_dict(), strict=True)
    with torch.no_grad():
        torch.testing.assert_close(model(x), reference(x), atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(torch.jit.script(model)(x), reference(x), atol=1e-5, rtol=1e-5)


# ------------------------------------------------------------------------------ blocks


class Holder(nn.Module):  # a generated class is a member of the top one
    def __init__(self, block: nn.Module) -> None:
        super().__init__()
        self.block = block

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.block(x)


BLOCKS = {  # name: (build, input, config, the pattern that must build the block's forward)
    # timm's MBConv: conv and norm members side by side, the SE before the projection.
    "timm_mbconv": (lambda: zoo.MBConv(8, 8, 1, 4), (2, 8, 6, 6), "silu", "InvertedResidual"),
    "timm_mbconv_narrowing": (
        lambda: zoo.MBConv(8, 12, 1, 4),
        (2, 8, 6, 6),
        "silu",
        "InvertedResidual",
    ),
    # timm's EdgeResidual (fused MBConv): a full 3x3 expansion, then the 1x1 projection.
    "timm_fused_mbconv": (
        lambda: zoo.EdgeResidual(8, 8, 1, 4),
        (2, 8, 6, 6),
        "silu",
        "InvertedResidual",
    ),
    # torchvision's MnasNet block: one Sequential, activation slots after expand and depthwise.
    "mnasnet_block": (
        lambda: zoo._InvertedResidual(8, 8, 5, 1, 3),
        (2, 8, 6, 6),
        "relu",
        "InvertedResidual",
    ),
    # timm's SE-ResNeXt bottleneck: the squeeze-excitation gates the body before the sum.
    "seresnext_bottleneck": (
        lambda: zoo.TimmBottleneck(32, 8, cardinality=4, base_width=16),
        (2, 32, 6, 6),
        None,
        "BasicBlock",
    ),
}


@pytest.mark.parametrize("name", sorted(BLOCKS))
def test_zoo_block_exact(name, tmp_path):
    from codegen.generate import generate_source
    from codegen.load import open_checkpoint
    from tests.redraw import unit_scale

    build, shape, activation, pattern = BLOCKS[name]
    torch.manual_seed(0)
    reference = unit_scale(Holder(build()))
    ckpt = tmp_path / "weights.pt"
    config = {"hidden_act": activation} if activation else None
    state = reference.state_dict()
    torch.save({"state_dict": state, "config": config} if config else state, ckpt)
    source, ir = generate_source(open_checkpoint(ckpt).table)
    assert pattern in [c.forward.pattern for c in ir.classes]
    model = _load(source, tmp_path, name).RecoveredModel().eval()
    model.load_state_dict(reference.state_dict(), strict=True)
    x = torch.randn(*shape)
    with torch.no_grad():
        torch.testing.assert_close(model(x), reference(x), atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(torch.jit.script(model)(x), reference(x), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("mid", [8, 4])
def test_darknet_block_is_not_a_fused_mbconv(mid, tmp_path):
    """DarkNet's residual block (a 1x1 then a 3x3, both activated, the input added) has a full
    conv and a 1x1 like a fused MBConv: the widths and the names' numbers say it is not one."""
    from codegen.generate import generate_source
    from codegen.load import open_checkpoint

    reference = Holder(zoo.DarkBlock(8, mid))
    ckpt = tmp_path / "weights.pt"
    torch.save(reference.state_dict(), ckpt)
    _, ir = generate_source(open_checkpoint(ckpt).table)
    assert "InvertedResidual" not in [c.forward.pattern for c in ir.classes]
