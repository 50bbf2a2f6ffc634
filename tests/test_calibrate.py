"""Calibration: recorded outputs pick what the checkpoint does not record; fresh inputs confirm it."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn as nn

from codegen.cli import main
from codegen.harness.model_ref import load_model_class


class GeluTanhMLP(nn.Sequential):
    def __init__(self) -> None:
        super().__init__(
            nn.Linear(6, 16), nn.GELU(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 3)
        )


class PooledCNN(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1),
            nn.BatchNorm2d(8),
            nn.ReLU(),
            # not the max-pool a slot after an activation's defaults to: the search must find it
            nn.AvgPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1),
            nn.GroupNorm(16, 16),
            nn.ReLU(),
            nn.Conv2d(16, 12, 1),
        )
        self.classifier = nn.Linear(12, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x).mean(dim=[2, 3]))


class ScaledPooledEncoder(nn.Module):
    """Token embedding scaled by sqrt(d_model), a sinusoidal table, an encoder, mean pooling, a head."""

    def __init__(self) -> None:
        super().__init__()
        from tests.zoo import TransformerRegressor

        self.embedding = nn.Embedding(40, 32)
        self.pos_encoder = TransformerRegressor().pos_encoder.__class__(32, max_len=64)
        layer = nn.TransformerEncoderLayer(32, 2, 64, dropout=0.0, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        self.head = nn.Linear(32, 1)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        x = self.pos_encoder(self.embedding(tokens) * math.sqrt(32))
        return self.head(self.encoder(x).mean(dim=1))


class LastStepGRU(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.gru = nn.GRU(6, 12, num_layers=2, batch_first=True)
        self.fc = nn.Linear(12, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.gru(x)[0][:, -1])


class GroupNormCNN(nn.Module):
    """A max-pool, GroupNorm(4, 32) twice and adaptive average pooling: none of it in the keys, and
    no single change shows (one norm's groups help only once the other's are right)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, 3, padding=1)
        self.norm1 = nn.GroupNorm(4, 32)
        self.conv2 = nn.Conv2d(32, 32, 3, padding=1)
        self.norm2 = nn.GroupNorm(4, 32)
        self.fc = nn.Linear(32, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = nn.functional.max_pool2d(torch.relu(self.norm1(self.conv1(x))), 2)
        x = torch.relu(self.norm2(self.conv2(x)))
        return self.fc(nn.functional.adaptive_avg_pool2d(x, 1).flatten(1))


class ResidualMLP(nn.Module):
    """`x = x + relu(block(x))` over identical blocks: one decision for all of them."""

    def __init__(self, depth: int = 12) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(nn.Linear(16, 16) for _ in range(depth))
        self.head = nn.Linear(16, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.blocks:
            x = x + torch.relu(block(x))
        return self.head(x)


def _sigmoid_conv_autoencoder() -> nn.Module:
    from tests.zoo import ConvAutoencoder

    class SigmoidConvAutoencoder(ConvAutoencoder):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.sigmoid(super().forward(x))

    return SigmoidConvAutoencoder()


def _recorded(model: nn.Module, inputs: tuple[torch.Tensor, ...], tmp_path):
    """The checkpoint and DATA of a user who kept the original model's outputs."""
    torch.manual_seed(1)
    for (
        m
    ) in model.modules():  # non-trivial statistics, so normalisation choices show in the outputs
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-1, 1)
            m.running_var.uniform_(0.5, 2)
        if isinstance(m, nn.GroupNorm):
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.5, 0.5)
    model.eval()
    with torch.no_grad():
        outputs = model(*inputs)
    torch.save(model.state_dict(), tmp_path / "weights.pt")
    torch.save({"inputs": inputs, "outputs": outputs}, tmp_path / "recorded.pt")
    return tmp_path / "weights.pt", tmp_path / "recorded.pt"


CASES = {
    "mlp_gelu_tanh": (GeluTanhMLP, lambda n: (torch.randn(n, 6),)),
    "cnn_pool_groupnorm": (PooledCNN, lambda n: (torch.randn(n, 3, 8, 8),)),
    "seed_transformer_heads": (None, lambda n: (torch.randn(n, 6, 64), torch.randn(n, 5, 64))),
    "embedding_scale_pool_encoder": (
        ScaledPooledEncoder,
        lambda n: (torch.randint(0, 40, (n, 7)),),
    ),
    "gru_last_step": (LastStepGRU, lambda n: (torch.randn(n, 5, 6),)),
    "conv_autoencoder": ("conv_autoencoder", lambda n: (torch.randn(n, 1, 16, 16),)),
    "vit": ("vit_tiny", lambda n: (torch.randn(n, 3, 16, 16),)),
    "cnn_maxpool_groupnorm4_adaptive_pool": (GroupNormCNN, lambda n: (torch.randn(n, 3, 16, 16),)),
    "residual_mlp": (ResidualMLP, lambda n: (torch.randn(n, 16),)),
    "conv_autoencoder_sigmoid": (_sigmoid_conv_autoencoder, lambda n: (torch.randn(n, 1, 16, 16),)),
}


# Cases whose keys alone now give the exact forward (session 15: a conv autoencoder's encoder
# strides mirror its decoder's transposed convs, patterns/_mirror_strides.py).
EXACT_FROM_KEYS = {"conv_autoencoder"}


@pytest.mark.parametrize("name", sorted(CASES))
def test_calibrated_model_reproduces_fresh_outputs(name, tmp_path, capsys):
    make, inputs = CASES[name]
    if make is None or isinstance(make, str):
        from tests.zoo import build

        # From the zoo, saved without any config: what shapes do not tell must come from the outputs.
        original = build(make or "seed_transformer")
    else:
        torch.manual_seed(0)
        original = make()
    ckpt, data = _recorded(original, inputs(48), tmp_path)
    out = tmp_path / "model.py"
    assert main(["generate", str(ckpt), "-o", str(out), "--calibrate", str(data)]) == 0
    printed = capsys.readouterr().out
    if name in EXACT_FROM_KEYS:  # the defaults are right: nothing to move, and nothing moved
        assert "kept" not in printed and "final relative error 0" in printed
    else:
        assert "kept" in printed  # the defaults were not all right: something was calibrated
    text = out.read_text()
    assert (
        "Calibrated on recorded.pt (48 samples): relative error 0 " in text
        or "relative error 1" not in text
    )

    model = load_model_class(str(out))().eval()
    model.load_state_dict(original.state_dict(), strict=True)
    fresh = inputs(16)
    with torch.no_grad():
        torch.testing.assert_close(model(*fresh), original(*fresh), atol=1e-5, rtol=1e-5)


def test_defaults_are_not_calibrated_away_without_data(tmp_path, capsys):
    torch.manual_seed(0)
    ckpt, _ = _recorded(GeluTanhMLP(), (torch.randn(4, 6),), tmp_path)
    out = tmp_path / "model.py"
    assert main(["generate", str(ckpt), "-o", str(out)]) == 0
    text = out.read_text()
    assert text.count("ReLU is a guess") == 2 and "Calibrated" not in text


def test_calibrate_rejects_data_that_does_not_fit(tmp_path, capsys):
    torch.manual_seed(0)
    ckpt, _ = _recorded(GeluTanhMLP(), (torch.randn(4, 6),), tmp_path)
    torch.save({"x": torch.randn(4, 6)}, tmp_path / "no_target.pt")
    assert (
        main(
            [
                "generate",
                str(ckpt),
                "-o",
                str(tmp_path / "m.py"),
                "--calibrate",
                str(tmp_path / "no_target.pt"),
            ]
        )
        == 2
    )
    assert capsys.readouterr().err.count("\n") == 1
    assert not (tmp_path / "m.py").exists()


def test_budget_must_be_seconds_above_zero(tmp_path, capsys):
    torch.manual_seed(0)
    ckpt, data = _recorded(GeluTanhMLP(), (torch.randn(4, 6),), tmp_path)
    out = tmp_path / "m.py"
    args = ["generate", str(ckpt), "-o", str(out), "--calibrate", str(data), "--budget", "0"]
    assert main(args) == 2
    assert capsys.readouterr().err.count("\n") == 1 and not out.exists()


def test_a_spent_budget_stops_the_search_and_says_so(tmp_path, capsys):
    """A budget too small for the search: the best found so far, and the summary says why it
    stopped (here the evaluation cap, so the test does not depend on the machine's speed)."""
    from codegen.calibrate import calibrate
    from codegen.load import open_checkpoint

    torch.manual_seed(0)
    model = GroupNormCNN()
    ckpt, data = _recorded(model, (torch.randn(8, 3, 16, 16),), tmp_path)
    recorded = torch.load(data)
    table = open_checkpoint(ckpt).table
    result = calibrate(
        table,
        model.state_dict(),
        recorded["inputs"],
        recorded["outputs"],
        "RecoveredModel",
        {},
        max_evaluations=5,
    )
    # the defaults, 5 candidates, then one each to take back a change the search made
    taking_back = len(result.picked) + len(result.undecided)
    assert result.budget_spent == "5 candidates" and result.evaluated <= 6 + taking_back
    assert "stopped when the budget (5 candidates) ran out" in result.cost()
    assert not result.reproduces and "does not reproduce" in result.verdict()
