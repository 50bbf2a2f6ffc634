"""A map split by a narrower consumer, the rest joined to the input and added back
(patterns/blocks/split_add_back.py, issue 16, session 18): zoo 17's yjn870/IDN-pytorch `DBlock`
(tests/generative_zoo_17_models.py) is one layout; these are others, generated from their state
dicts alone: exact where IDN's conventions hold, else flagged and exact once the choices no key
records are pinned, as calibration would.

- an IDN port at another width, its units in a ModuleList, the parts named `upper`/`lower`/
  `compress`, each a Sequential of convs and LeakyReLU 0.05 (the trailing one leaves no slot);
- a 1-d sequence unit: lone Conv1d parts (`expand`, `refine`, `merge`), ReLU after each, the last
  channels read on and the rest concatenated before the input;
- structurally distant: a tabular MLP's unit of Linear layers (a Sequential part with a GELU
  between its layers), stacked in a Sequential after an input projection.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from tests.generative_zoo_check import flagged_then_exact
from tests.zoo_verdicts import layout_reference, measured_layout

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


class IdnUnit(nn.Module):  # an IDN port's enhancement unit: width 24, d 6, cut 18
    def __init__(self, c: int = 24, d: int = 6) -> None:
        super().__init__()
        self.cut = c - d
        self.upper = nn.Sequential(
            nn.Conv2d(c, c - d, 3, padding=1),
            nn.LeakyReLU(0.05),
            nn.Conv2d(c - d, c, 3, padding=1, groups=2),
            nn.LeakyReLU(0.05),
        )
        self.lower = nn.Sequential(
            nn.Conv2d(c - d, c, 3, padding=1),
            nn.LeakyReLU(0.05),
            nn.Conv2d(c, c + d, 3, padding=1),
            nn.LeakyReLU(0.05),
        )
        self.compress = nn.Conv2d(c + d, c, 1)

    def forward(self, x):
        t = self.upper(x)
        out = self.lower(t[:, : self.cut]) + torch.cat([x, t[:, self.cut :]], dim=1)
        return self.compress(out)


class IdnPort(nn.Module):
    def __init__(self, c: int = 24) -> None:
        super().__init__()
        self.head = nn.Conv2d(3, c, 3, padding=1)
        self.units = nn.ModuleList([IdnUnit(c), IdnUnit(c)])

    def forward(self, x):
        x = self.head(x)
        for unit in self.units:
            x = unit(x)
        return x


class SequenceUnit(nn.Module):  # lone Conv1d parts; the last channels go on, the rest first
    def __init__(self, c: int = 8, a: int = 12, b: int = 6) -> None:
        super().__init__()
        self.b = b
        self.expand = nn.Conv1d(c, a, 3, padding=1)
        self.refine = nn.Conv1d(b, c + a - b, 3, padding=1)
        self.merge = nn.Conv1d(c + a - b, c, 1)

    def forward(self, x):
        t = F.relu(self.expand(x))
        rest, kept = t[:, : -self.b], t[:, -self.b :]
        return self.merge(F.relu(self.refine(kept)) + torch.cat([rest, x], dim=1))


class SequenceNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv_in = nn.Conv1d(2, 8, 5, padding=2)
        self.unit = SequenceUnit()

    def forward(self, x):
        return self.unit(self.conv_in(x))


class TabularUnit(nn.Module):  # Linear parts, GELU between and after them
    def __init__(self, c: int = 16) -> None:
        super().__init__()
        self.up = nn.Sequential(nn.Linear(c, 24), nn.GELU(), nn.Linear(24, 20))
        self.down = nn.Linear(12, c + 8)
        self.out = nn.Linear(c + 8, c)

    def forward(self, x):
        t = F.gelu(self.up(x))
        kept, rest = t[:, :12], t[:, 12:]
        return self.out(F.gelu(self.down(kept)) + torch.cat([x, rest], dim=1))


class TabularNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.proj = nn.Linear(10, 16)
        self.blocks = nn.Sequential(TabularUnit(), TabularUnit())

    def forward(self, x):
        return self.blocks(self.proj(x))


def test_idn_port_is_exact_from_the_keys(tmp_path, capsys):
    found, diff = measured_layout(IdnPort, (2, 3, 6, 6), tmp_path, capsys)
    assert found == "exact", f"{found}: {diff:.3g}"


def test_sequence_unit_is_flagged_until_pinned(tmp_path):
    hint = '["SplitAddBlock.refine"]\nactivation = "relu"\nkept_part = "last"\n'
    hint += 'join_order = "rest_first"\n'
    reference = layout_reference(SequenceNet)
    flagged_then_exact(reference, (torch.randn(2, 2, 10),), tmp_path, hint)


def test_tabular_unit_is_flagged_until_pinned(tmp_path):
    hint = '["SplitAddBlock.down"]\nactivation = "gelu"\n'
    reference = layout_reference(TabularNet)
    flagged_then_exact(reference, (torch.randn(3, 10),), tmp_path, hint)
