"""Back-projection units and networks (DBPN, Haris et al. 2018) as other repositories write them
(issue 16, session 16): the zoo's alterzero/DBPN-S (tests/generative_zoo_15_models.py, ConvBlock /
DeconvBlock classes with a PReLU `act`) is the fourth layout. Each is generated from its state
dict alone: exact, or flagged; never silently wrong.

- each step a `Sequential(conv, PReLU)` (reimplementations that skip the ConvBlock class), three
  stages, the feature convs one Sequential;
- D-DBPN's `D_UpBlock` (dbpn.py): a 1x1 ConvBlock fusing the concatenated maps first, alone
  behind a head conv;
- bare layers named by role (no activations), features as two flat convs;
- the same keys as a plain chain of three resamplers (no error fed back): flagged, and exact
  once the `feedback` choice is pinned, as calibration would.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn

from tests import generative_zoo_15_models as zoo15
from tests.generative_zoo_check import flagged_then_exact
from tests.zoo_verdicts import layout_reference, measured_layout

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


def _step(conv: nn.Module) -> nn.Sequential:
    return nn.Sequential(conv, nn.PReLU())


class SeqUp(nn.Module):
    def __init__(self, c: int) -> None:
        super().__init__()
        self.deconv_a = _step(nn.ConvTranspose2d(c, c, 6, 2, 2))
        self.conv = _step(nn.Conv2d(c, c, 6, 2, 2))
        self.deconv_b = _step(nn.ConvTranspose2d(c, c, 6, 2, 2))

    def forward(self, x):
        h0 = self.deconv_a(x)
        return self.deconv_b(self.conv(h0) - x) + h0


class SeqDown(nn.Module):
    def __init__(self, c: int) -> None:
        super().__init__()
        self.conv_a = _step(nn.Conv2d(c, c, 6, 2, 2))
        self.deconv = _step(nn.ConvTranspose2d(c, c, 6, 2, 2))
        self.conv_b = _step(nn.Conv2d(c, c, 6, 2, 2))

    def forward(self, x):
        l0 = self.conv_a(x)
        return self.conv_b(self.deconv(l0) - x) + l0


class SequentialStepsNet(nn.Module):  # three stages, x2
    def __init__(self, c: int = 4) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 4 * c, 3, padding=1), nn.PReLU(), nn.Conv2d(4 * c, c, 1), nn.PReLU()
        )
        self.up1, self.down1, self.up2 = SeqUp(c), SeqDown(c), SeqUp(c)
        self.down2, self.up3 = SeqDown(c), SeqUp(c)
        self.reconstruct = nn.Conv2d(3 * c, 3, 3, padding=1)

    def forward(self, x):
        x = self.features(x)
        h1 = self.up1(x)
        h2 = self.up2(self.down1(h1))
        h3 = self.up3(self.down2(h2))
        return self.reconstruct(torch.cat((h3, h2, h1), 1))


class DenseUpBlock(nn.Module):  # DBPN-Pytorch base_networks.py D_UpBlock (num_stages 2)
    def __init__(self, c: int, num_stages: int = 2) -> None:
        super().__init__()
        self.conv = zoo15.DbpnConvBlock(c * num_stages, c, 1, 1, 0)
        self.up_conv1 = zoo15.DbpnDeconvBlock(c, c, 6, 2, 2)
        self.up_conv2 = zoo15.DbpnConvBlock(c, c, 6, 2, 2)
        self.up_conv3 = zoo15.DbpnDeconvBlock(c, c, 6, 2, 2)

    def forward(self, x):
        x = self.conv(x)
        h0 = self.up_conv1(x)
        l0 = self.up_conv2(h0)
        return self.up_conv3(l0 - x) + h0


class DenseUnitAlone(nn.Module):
    def __init__(self, c: int = 4) -> None:
        super().__init__()
        self.head = nn.Conv2d(3, 2 * c, 3, padding=1)
        self.unit = DenseUpBlock(c)

    def forward(self, x):
        return self.unit(self.head(x))


class BareUnit(nn.Module):  # bare layers (4x4, stride 2), no PReLU, the last named `*_2`
    def __init__(self, c: int, up: bool, feedback: bool = True, hinted: bool = True) -> None:
        super().__init__()
        outer = nn.ConvTranspose2d if up else nn.Conv2d
        inner = nn.Conv2d if up else nn.ConvTranspose2d
        # named by direction (`up_conv` for a transposed conv), or by role where not `hinted`
        first, back = ("up_conv", "down_conv") if up else ("down_conv", "up_conv")
        first, back = (first, back) if hinted else ("project", "reproject")
        self.add_module(first, outer(c, c, 4, 2, 1))
        self.add_module(back, inner(c, c, 4, 2, 1))
        self.add_module(f"{first}_2", outer(c, c, 4, 2, 1))
        self.order = (first, back, f"{first}_2")
        self.feedback = feedback

    def forward(self, x):
        a, b, c = (getattr(self, n) for n in self.order)
        p = a(x)
        if not self.feedback:
            return c(b(p))
        return c(b(p) - x) + p


class BareNet(nn.Module):  # two stages, flat feature convs
    def __init__(self, c: int = 4, feedback: bool = True, hinted: bool = True) -> None:
        super().__init__()
        self.conv_in = nn.Conv2d(3, 3 * c, 3, padding=1)
        self.reduce = nn.Conv2d(3 * c, c, 1)
        self.up_a = BareUnit(c, True, feedback, hinted)
        self.down_a = BareUnit(c, False, feedback, hinted)
        self.up_b = BareUnit(c, True, feedback, hinted)
        self.conv_out = nn.Conv2d(2 * c, 3, 3, padding=1)

    def forward(self, x):
        x = self.reduce(self.conv_in(x))
        h1 = self.up_a(x)
        h2 = self.up_b(self.down_a(h1))
        return self.conv_out(torch.cat((h2, h1), 1))


LAYOUTS = {
    "sequential_steps_three_stages": SequentialStepsNet,
    "dense_unit_alone": DenseUnitAlone,
    "bare_layers_two_stages": BareNet,
}


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_back_projection_layout_exact(name, tmp_path, capsys):
    found, diff = measured_layout(LAYOUTS[name], (2, 3, 8, 8), tmp_path, capsys)
    assert found == "exact", f"{found}: {diff:.3g}"


def test_plain_chain_of_resamplers_is_flagged_until_pinned(tmp_path):
    reference = layout_reference(lambda: BareNet(feedback=False))
    hint = '["UpProjection.up_conv_2"]\nfeedback = "none"\n'
    hint += '["DownProjection.down_conv_2"]\nfeedback = "none"\n'
    flagged_then_exact(reference, (torch.randn(2, 3, 8, 8),), tmp_path, hint)


def test_resamplers_whose_names_do_not_say_transposed_are_flagged(tmp_path, capsys):
    """A square 4x4 weight fits a conv and a transposed conv alike: where no name tells them
    apart, the file says where it is unsure, never silently wrong."""
    found, _ = measured_layout(lambda: BareNet(hinted=False), (2, 3, 8, 8), tmp_path, capsys)
    assert found == "flagged"
