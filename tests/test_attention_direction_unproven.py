"""Whether positions attend only to earlier ones (a decoder) or to all of them (an encoder) leaves
no key: q/k/v projections are the same either way. With no config.json the layers' names
suggest a direction (`q_proj`, `c_attn`: causal), and the attention class says guessed, so a
bidirectional encoder saved as a trainer dict is never written as a trusted causal decoder
(before, it was: inferred, 1.06 off). Calibration on recorded outputs settles it. The smoke
inputs are no longer than the learned position table allows."""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from tests.generative_zoo_check import generate
from tests.zoo_verdicts import class_trust, layout_reference


class SelfAttention(nn.Module):
    def __init__(self, d: int, heads: int, causal: bool) -> None:
        super().__init__()
        self.heads, self.causal = heads, causal
        self.q_proj, self.k_proj = nn.Linear(d, d), nn.Linear(d, d)
        self.v_proj, self.out_proj = nn.Linear(d, d), nn.Linear(d, d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        q, k, v = (
            p(x).view(b, t, self.heads, d // self.heads).transpose(1, 2)
            for p in (self.q_proj, self.k_proj, self.v_proj)
        )
        y = F.scaled_dot_product_attention(q, k, v, is_causal=self.causal)
        return self.out_proj(y.transpose(1, 2).reshape(b, t, d))


class Block(nn.Module):
    def __init__(self, d: int, heads: int, causal: bool) -> None:
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.attn = SelfAttention(d, heads, causal)
        # (ReLU: the keyless slot's default reading; which activation it holds is another value
        # no key records, not this test's subject)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.ReLU(), nn.Linear(4 * d, d))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class TokenEncoder(nn.Module):  # a pre-norm encoder over token ids, as hand-written projects do
    def __init__(self, causal: bool, vocab: int = 40, d: int = 16, length: int = 12) -> None:
        super().__init__()
        self.tok = nn.Embedding(vocab, d)
        self.pos = nn.Embedding(length, d)
        self.blocks = nn.ModuleList([Block(d, 2, causal) for _ in range(2)])
        self.norm = nn.LayerNorm(d)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        x = self.tok(ids) + self.pos(torch.arange(ids.shape[1]))
        for block in self.blocks:
            x = block(x)
        return self.norm(x)


@pytest.mark.parametrize("causal", [False, True], ids=["both_ways", "causal"])
def test_direction_is_a_guess_until_calibrated(causal, tmp_path):
    reference = layout_reference(lambda: TokenEncoder(causal))
    hints = tmp_path / "hints.toml"
    hints.write_text("nhead = 2\n")
    model, source = generate(reference, tmp_path, "--quiet", "--hints", str(hints))
    assert class_trust(source)["Attention"] == "guessed"
    ids = torch.randint(0, 40, (3, 12), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        diff = (model(ids) - reference(ids)).abs().max().item()
    assert (diff < 1e-5) == causal  # the names read causal: right for the decoder only
    with torch.no_grad():  # (ids no longer than the 12-row position table)
        assert model(*model.example_inputs()).shape[1] <= 12
    if causal:
        return
    data = tmp_path / "data.pt"
    with torch.no_grad():
        torch.save({"inputs": ids, "outputs": reference(ids)}, data)
    model, source = generate(
        reference, tmp_path, "--quiet", "--hints", str(hints), "--calibrate", str(data)
    )
    assert class_trust(source)["Attention"] == "exact"
    with torch.no_grad():
        assert torch.allclose(model(ids), reference(ids), atol=1e-5)
