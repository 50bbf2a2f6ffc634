"""Conv-norm units held in a Sequential whose names are not identifiers (issue 16, zoo 18's
stigma0617 VoVNet): Caffe-style ports build them from an OrderedDict, `("stem_1/conv", conv),
("stem_1/norm", bn), ("stem_1/relu", relu)`, so the keys read `stem.stem_1/conv.weight` and the
file holds an nn.ModuleDict. The reading: items named `<unit>/<layer>`, one conv and one norm per
unit, the norm taking the conv's width, units ordered by their numbers and chaining by widths,
are conv-norm units, whatever pattern reads them; the activation after each leaves no key (and
no gap in an index), so where the chain calls them it is a choice.

Three layouts with no name in common, as repositories write them: VoVNet's one-shot aggregation
block (CenterMask's `_OSA_module`: a list of such units, then a 1x1 unit over the input and every
unit's output, proved by that unit's input width), a Caffe-converted plain conv net whose
`features` Sequential is one dict of units, and a RepVGG-style block (a structurally distant
reading: two parallel branches of such units summed, blocks/branch_sum.py)."""

from __future__ import annotations

from collections import OrderedDict

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from tests.zoo_verdicts import class_trust, generated_layout, measured

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


def conv_unit(name: str, c_in: int, c_out: int, k: int = 3, s: int = 1) -> list[tuple]:
    """A conv-norm-relu unit as a Caffe-style port names it (the ReLU holds no keys)."""
    return [
        (f"{name}/conv", nn.Conv2d(c_in, c_out, k, s, k // 2, bias=False)),
        (f"{name}/norm", nn.BatchNorm2d(c_out)),
        (f"{name}/relu", nn.ReLU(inplace=True)),
    ]


class OsaModule(nn.Module):
    """CenterMask's VoVNet `_OSA_module` without the identity: two 3x3 units in a list, then
    the input and both outputs concatenated into a 1x1 unit."""

    def __init__(self, c_in: int, stage_ch: int, concat_ch: int, name: str) -> None:
        super().__init__()
        self.layers = nn.ModuleList(
            [
                nn.Sequential(OrderedDict(conv_unit(f"{name}_{i}", c, stage_ch)))
                for i, c in enumerate((c_in, stage_ch))
            ]
        )
        c = c_in + 2 * stage_ch
        self.concat = nn.Sequential(OrderedDict(conv_unit(f"{name}_concat", c, concat_ch, 1)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outputs = [x]
        for layer in self.layers:
            x = layer(x)
            outputs.append(x)
        return self.concat(torch.cat(outputs, 1))


class CenterMaskOsaNet(nn.Module):
    """A stem of two such units in one dict (VoVNet's, its first strided), one OSA block, a
    linear classifier."""

    def __init__(self) -> None:
        super().__init__()
        stem = conv_unit("stem_1", 3, 8, s=2) + conv_unit("stem_2", 8, 12)
        self.stem = nn.Sequential(OrderedDict(stem))
        self.block = OsaModule(12, 6, 16, "OSA2_1")
        self.fc = nn.Linear(16, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.block(self.stem(x))
        return self.fc(x.mean((2, 3)))


class CaffePlainNet(nn.Module):
    """A Caffe-converted plain conv net: `features` one OrderedDict Sequential of units named
    `conv1_1/conv`, `conv1_1/bn`, ..., then global average pooling and a classifier."""

    def __init__(self) -> None:
        super().__init__()
        layers = []
        widths = [(3, 12, "conv1_1"), (12, 12, "conv1_2"), (12, 20, "conv2_1")]
        for c_in, c_out, name in widths:
            layers += [
                (f"{name}/conv", nn.Conv2d(c_in, c_out, 3, padding=1)),
                (f"{name}/bn", nn.BatchNorm2d(c_out)),
                (f"{name}/relu", nn.ReLU()),
            ]
        self.features = nn.Sequential(OrderedDict(layers))
        self.classifier = nn.Linear(20, 6)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x).mean((2, 3)))


class RepVggDictBlock(nn.Module):
    """A RepVGG block in its training form whose two branches are named-unit Sequentials (a
    3x3 and a 1x1 conv-norm side by side), summed, then ReLU."""

    def __init__(self, c: int) -> None:
        super().__init__()
        self.rbr_dense = nn.Sequential(
            OrderedDict(
                [
                    ("3x3/conv", nn.Conv2d(c, c, 3, 1, 1, bias=False)),
                    ("3x3/norm", nn.BatchNorm2d(c)),
                ]
            )
        )
        self.rbr_1x1 = nn.Sequential(
            OrderedDict(
                [("1x1/conv", nn.Conv2d(c, c, 1, bias=False)), ("1x1/norm", nn.BatchNorm2d(c))]
            )
        )
        self.rbr_identity = nn.BatchNorm2d(c)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.rbr_dense(x) + self.rbr_1x1(x) + self.rbr_identity(x))


class RepVggDictNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stage0 = nn.Sequential(nn.Conv2d(3, 12, 3, 1, 1), nn.BatchNorm2d(12), nn.ReLU())
        self.stage1 = nn.Sequential(RepVggDictBlock(12), RepVggDictBlock(12))
        self.linear = nn.Linear(12, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(self.stage1(self.stage0(x)).mean((2, 3)))


LAYOUTS = {
    "centermask_osa": (CenterMaskOsaNet, (2, 3, 16, 16)),
    "caffe_plain": (CaffePlainNet, (2, 3, 16, 16)),
    "repvgg_dict": (RepVggDictNet, (2, 3, 16, 16)),
}


@pytest.fixture(scope="module", params=sorted(LAYOUTS))
def generated(request, tmp_path_factory):
    """(name, reference, generated model, source, input): one generate per layout."""
    return generated_layout(LAYOUTS, request.param, tmp_path_factory)


def test_named_units_compute_the_reference(generated):
    _, reference, model, source, x = generated
    assert measured(reference, model, source, (x,))[0] == "exact"


def test_blocks_of_named_units_are_recognised(generated):
    """The block that reads such units is its pattern's (inferred), not a chain or missing."""
    name, _, _, source, _ = generated
    trust = class_trust(source)
    assert "missing" not in trust.values()
    if name == "centermask_osa":
        assert [t for c, t in trust.items() if c.startswith("Osa")] == ["inferred"]
    if name == "repvgg_dict":
        assert "inferred" in trust.values()


def test_the_unkeyed_activation_is_a_choice_where_the_chain_calls_units(generated):
    """A dict the chain calls unit by unit says its activation is a choice (ReLU by default);
    the model's own forward stays a guess (the chain)."""
    name, _, _, source, _ = generated
    if name == "repvgg_dict":
        pytest.skip("its dicts are read by the block pattern, never called by the chain")
    defaults = source.split("left at defaults (calibrate or pin with --hints):")[1]
    assert "activation" in defaults.split('"""')[0]
    assert "F.relu(x)" in source
    assert class_trust(source)["RecoveredModel"] == "guessed"
