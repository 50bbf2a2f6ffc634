"""Grouped and depthwise convs that open a Sequential (issue 16): nothing inside the Sequential
comes before them, so the width that reaches them is what the Sequential's predecessor gives.
The weight alone ([C, C_in / g, k] or [C, 1, k]) reads as an ungrouped conv over C_in / g
channels, or a depthwise one over C; the file must build the reference's groups and in_channels
wherever the dataflow shows the predecessor, and flag the class where it does not.

Three layouts with no name in common, as repositories write them: a 2-d classifier of named
Sequential stages after its stem (a grouped 3x3, then a depthwise 3x3 with a depth multiplier of
2), a 1-d keyword-spotting net (a depthwise Conv1d with a multiplier, then a grouped one), and a
decoder whose numbered Sequential nests Sequential stages (a depthwise, then a grouped 3x3)."""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn

from tests.zoo_verdicts import class_trust, generate_from_state_dict, layout_reference, measured

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


class StagedMobileNet(nn.Module):
    """A small classifier of named stages: a strided stem, a grouped 3x3 stage (groups=3 over
    the stem's 18 channels) and a separable stage whose depthwise conv doubles its width."""

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, 18, 3, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(18),
            nn.ReLU(inplace=True),
        )
        self.grouped = nn.Sequential(
            nn.Conv2d(18, 24, 3, padding=1, groups=3, bias=False),
            nn.BatchNorm2d(24),
            nn.ReLU(inplace=True),
        )
        self.separable = nn.Sequential(
            nn.Conv2d(24, 48, 3, padding=1, groups=24, bias=False),
            nn.BatchNorm2d(48),
            nn.ReLU(inplace=True),
            nn.Conv2d(48, 32, 1),
        )
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(32, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.separable(self.grouped(self.stem(x)))
        return self.fc(torch.flatten(self.pool(x), 1))


class KeywordSpotter(nn.Module):
    """A 1-d conv net over 40 mel bins: a front conv, a depthwise Conv1d with a depth multiplier
    of 2 (then its pointwise conv), a grouped Conv1d mixing four groups, a linear classifier."""

    def __init__(self, n_mels: int = 40, n_keywords: int = 12) -> None:
        super().__init__()
        self.conv = nn.Conv1d(n_mels, 32, 3, padding=1)
        self.dw_sep = nn.Sequential(
            nn.Conv1d(32, 64, 9, padding=4, groups=32),
            nn.BatchNorm1d(64),
            nn.ReLU(),
            nn.Conv1d(64, 64, 1),
        )
        self.mixer = nn.Sequential(
            nn.Conv1d(64, 48, 3, padding=1, groups=4), nn.BatchNorm1d(48), nn.ReLU()
        )
        self.classifier = nn.Linear(48, n_keywords)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.mixer(self.dw_sep(self.conv(x)))
        return self.classifier(x.mean(-1))


class LatentDecoder(nn.Module):
    """A decoder from a 4-channel latent map: an input conv, then a numbered Sequential of
    stages, each a nested Sequential opened by a depthwise or a grouped 3x3."""

    def __init__(self) -> None:
        super().__init__()
        self.conv_in = nn.Conv2d(4, 16, 3, padding=1)
        self.decoder = nn.Sequential(
            nn.Sequential(
                nn.Conv2d(16, 16, 3, padding=1, groups=16),
                nn.BatchNorm2d(16),
                nn.ReLU(),
                nn.Conv2d(16, 24, 1),
            ),
            nn.Sequential(nn.Conv2d(24, 12, 3, padding=1, groups=4), nn.BatchNorm2d(12), nn.ReLU()),
            nn.Conv2d(12, 3, 1),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.conv_in(z))


LAYOUTS = {
    "staged_mobilenet": (StagedMobileNet, (2, 3, 16, 16)),
    "keyword_spotter": (KeywordSpotter, (2, 40, 16)),
    "latent_decoder": (LatentDecoder, (2, 4, 8, 8)),
}


@pytest.fixture(scope="module", params=sorted(LAYOUTS))
def generated(request, tmp_path_factory):
    """(reference, generated model, source, input) of one layout, one generate per layout."""
    make, shape = LAYOUTS[request.param]
    reference = layout_reference(make)
    tmp = tmp_path_factory.mktemp(request.param)

    class Quiet:  # generate_from_state_dict reads stderr through capsys; a module fixture has none
        @staticmethod
        def readouterr():
            return type("Captured", (), {"err": ""})()

    model, source = generate_from_state_dict(reference, tmp, Quiet())
    torch.manual_seed(1)
    return reference, model, source, torch.randn(*shape)


def test_opening_convs_keep_groups_and_in_channels(generated):
    reference, model, _, _ = generated
    ours = dict(model.named_modules())
    grouped = [
        (path, conv)
        for path, conv in reference.named_modules()
        if isinstance(conv, (nn.Conv1d, nn.Conv2d)) and conv.groups > 1
    ]
    assert len(grouped) == 2
    for path, conv in grouped:
        got = ours[path]
        assert type(got) is type(conv), path
        assert (got.groups, got.in_channels, got.out_channels) == (
            conv.groups,
            conv.in_channels,
            conv.out_channels,
        ), path


def test_output_is_the_reference_and_the_order_says_guessed(generated):
    reference, model, source, x = generated
    assert measured(reference, model, source, (x,))[0] == "exact"
    # the order of the stages comes from widths alone (the chain): the file says so
    assert class_trust(source)["RecoveredModel"] == "guessed"


class TwoBranchCell(nn.Module):
    """Two Sequential branches in a ModuleList, both over the stem's output, summed: the second
    branch's conv reads what the first reads, not the first's output (no groups from it)."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 16, 3, padding=1)
        self.branches = nn.ModuleList(
            [
                nn.Sequential(nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32)),
                nn.Sequential(nn.Conv2d(16, 32, 5, padding=2), nn.BatchNorm2d(32)),
            ]
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        return self.branches[0](x) + self.branches[1](x)


def test_a_branch_beside_the_first_is_not_grouped_by_it(tmp_path, capsys):
    reference = layout_reference(TwoBranchCell)
    model, source = generate_from_state_dict(reference, tmp_path, capsys)
    conv = model.branches[1][0]
    assert (conv.groups, conv.in_channels, conv.out_channels) == (1, 16, 32)
    assert measured(reference, model, source, (torch.randn(2, 3, 8, 8),))[0] != "WRONG"
