"""A position table beside a norm that follows the patches directly: the keys do not say on which
side of the norm the table is added (CLIP's ln_pre normalises the positioned tokens, PVT positions
the normalised patches). The file must name that choice and say it guessed, and a hint (or
calibration) that settles it makes the file exact."""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn

from tests.zoo_verdicts import flagged, generate_from_state_dict, verdict


class Tokens(nn.Module):
    def __init__(self, norm_first: bool) -> None:
        super().__init__()
        self.norm_first = norm_first
        self.patch_embed = nn.Conv2d(3, 16, 4, stride=4)
        self.cls_token = nn.Parameter(torch.randn(1, 1, 16))
        self.pos_embed = nn.Parameter(torch.randn(1, 5, 16))
        self.ln_pre = nn.LayerNorm(16)  # CLIP's name (tests/test_vision_11.py: a bare "norm")
        self.head = nn.Linear(16, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.patch_embed(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(x.size(0), -1, -1), x], dim=1)
        x = self.ln_pre(x) + self.pos_embed if self.norm_first else self.ln_pre(x + self.pos_embed)
        return self.head(x[:, 0])


@pytest.mark.parametrize("norm_first", [False, True], ids=["clip_order", "pvt_order"])
def test_the_table_and_norm_order_is_a_named_guess_a_hint_settles(tmp_path, capsys, norm_first):
    torch.manual_seed(0)
    reference, x = Tokens(norm_first).eval(), torch.randn(2, 3, 8, 8)
    (tmp_path / "plain").mkdir()
    (tmp_path / "hinted").mkdir()
    model, source = generate_from_state_dict(reference, tmp_path / "plain", capsys)
    assert "positions_order" in source and flagged(source)
    assert verdict(reference, model, source, x) in ("exact", "flagged")  # never silently wrong
    order = "norm_then_positions" if norm_first else "positions_then_norm"
    hints = tmp_path / "hints.toml"
    hints.write_text(f'["RecoveredModel.pos_embed"]\npositions_order = "{order}"\n')
    model, source = generate_from_state_dict(
        reference, tmp_path / "hinted", capsys, "--hints", str(hints)
    )
    assert not flagged(source)
    assert verdict(reference, model, source, x) == "exact"
