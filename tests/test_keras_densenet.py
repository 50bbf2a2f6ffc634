"""DenseNets ported from keras.applications with one attribute per Keras layer name (issue 16,
zoo 18's keras_densenet; families/keras_densenet.py). The reading: a flat class whose members
are all layers, where each block's first norm (`conv{s}_block{b}_0_bn`) normalises the width the
block before it read plus what that block's last conv made, and each transition's `pool{s}_bn`
the stage's last sum: the widths prove the dense connection (the input joined with the new
features), which no chain of these members could give; Keras' code, which the names identify,
gives what no key records (strides, the stem and transition pools, epsilon).

Three layouts, as ports write them: a DenseNet-169-like port of three stages (growth 4, a
bottleneck 4x the growth), a DenseNet port with a narrower bottleneck (2x the growth) and a
compression of one half, and, structurally distant, a port with the same Keras names whose
blocks add their output instead of joining it (the widths do not grow): never read as dense."""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from codegen.patterns.families.keras_densenet import KERAS_EPS, keras_densenet
from tests.zoo_verdicts import class_trust, generated_layout, measured

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


class NarrowBottleneckPort(nn.Module):
    """A hand port whose bottleneck is twice the growth (not Keras' four), two stages."""

    def __init__(self, growth: int = 6, blocks=(1, 2)) -> None:
        super().__init__()
        self.blocks, c = blocks, 10
        self.conv1_conv = nn.Conv2d(3, c, 7, 2, 3, bias=False)
        self.conv1_bn = nn.BatchNorm2d(c, eps=KERAS_EPS)
        for s, n in enumerate(blocks):
            for b in range(1, n + 1):
                name = f"conv{s + 2}_block{b}"
                setattr(self, f"{name}_0_bn", nn.BatchNorm2d(c, eps=KERAS_EPS))
                setattr(self, f"{name}_1_conv", nn.Conv2d(c, 2 * growth, 1, bias=False))
                setattr(self, f"{name}_1_bn", nn.BatchNorm2d(2 * growth, eps=KERAS_EPS))
                setattr(self, f"{name}_2_conv", nn.Conv2d(2 * growth, growth, 3, 1, 1, bias=False))
                c += growth
            if s < len(blocks) - 1:
                setattr(self, f"pool{s + 2}_bn", nn.BatchNorm2d(c, eps=KERAS_EPS))
                setattr(self, f"pool{s + 2}_conv", nn.Conv2d(c, c // 2, 1, bias=False))
                c //= 2
        self.bn = nn.BatchNorm2d(c, eps=KERAS_EPS)
        self.predictions = nn.Linear(c, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(F.pad(F.relu(self.conv1_bn(self.conv1_conv(x))), (1, 1, 1, 1)), 3, 2)
        for s, n in enumerate(self.blocks):
            for b in range(1, n + 1):
                name = f"conv{s + 2}_block{b}"
                y = F.relu(getattr(self, f"{name}_0_bn")(x))
                y = F.relu(getattr(self, f"{name}_1_bn")(getattr(self, f"{name}_1_conv")(y)))
                x = torch.cat([x, getattr(self, f"{name}_2_conv")(y)], 1)
            if s < len(self.blocks) - 1:
                x = F.relu(getattr(self, f"pool{s + 2}_bn")(x))
                x = F.avg_pool2d(getattr(self, f"pool{s + 2}_conv")(x), 2, 2)
        return self.predictions(F.relu(self.bn(x)).mean((2, 3)))


class AddingPort(nn.Module):
    """Keras names, but each block adds its output back (its 3x3 keeps the width): the next
    block's `_0_bn` reads the same width, so nothing proves a concatenation."""

    def __init__(self, c: int = 8) -> None:
        super().__init__()
        self.conv1_conv = nn.Conv2d(3, c, 7, 2, 3, bias=False)
        self.conv1_bn = nn.BatchNorm2d(c)
        for b in (1, 2):
            self.add_module(f"conv2_block{b}_0_bn", nn.BatchNorm2d(c))
            self.add_module(f"conv2_block{b}_1_conv", nn.Conv2d(c, 2 * c, 1, bias=False))
            self.add_module(f"conv2_block{b}_1_bn", nn.BatchNorm2d(2 * c))
            self.add_module(f"conv2_block{b}_2_conv", nn.Conv2d(2 * c, c, 3, 1, 1, bias=False))
        self.bn = nn.BatchNorm2d(c)
        self.predictions = nn.Linear(c, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(F.relu(self.conv1_bn(self.conv1_conv(x))), 3, 2, 1)
        for b in (1, 2):
            y = F.relu(getattr(self, f"conv2_block{b}_0_bn")(x))
            y = F.relu(
                getattr(self, f"conv2_block{b}_1_bn")(getattr(self, f"conv2_block{b}_1_conv")(y))
            )
            x = x + getattr(self, f"conv2_block{b}_2_conv")(y)
        return self.predictions(F.relu(self.bn(x)).mean((2, 3)))


LAYOUTS = {
    "densenet169_like": (lambda: keras_densenet((1, 1, 2), growth=4, stem=8), (2, 3, 32, 32)),
    "narrow_bottleneck": (NarrowBottleneckPort, (2, 3, 32, 32)),
    "adding_port": (AddingPort, (2, 3, 32, 32)),
}


@pytest.fixture(scope="module", params=sorted(LAYOUTS))
def generated(request, tmp_path_factory):
    """(name, reference, generated model, source, input): one generate per layout."""
    return generated_layout(LAYOUTS, request.param, tmp_path_factory)


def test_dense_ports_are_exact_and_adding_ones_never_wrong(generated):
    name, reference, model, source, x = generated
    verdict = measured(reference, model, source, (x,))[0]
    assert verdict == ("flagged" if name == "adding_port" else "exact")


def test_only_widths_that_prove_the_concatenation_read_as_dense(generated):
    name, _, _, source, _ = generated
    dense = "torch.cat" in source and "the dense connection" in source
    assert dense == (name != "adding_port")
    if dense:
        assert class_trust(source)["RecoveredModel"] == "inferred"
        # the order of the two joined tensors is Keras' convention, a choice
        assert "concat_order" in source.split('"""')[1]
