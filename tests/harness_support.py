"""Model files and data sets for the harness tests, built small in a temp dir."""

from __future__ import annotations

import hashlib
import json
import sys
import textwrap
from pathlib import Path

import torch

from codegen.cli import main

ROOT = Path(__file__).resolve().parents[1]

# A hand-written stand-in for the file `modelgen generate` will write for the seed checkpoint (the DESIGN.md
# sketch): every hyperparameter defaulted, the sinusoidal table a zero buffer filled by the checkpoint.
SEED_MODEL = """
import torch
import torch.nn as nn


class PositionalEncoding(nn.Module):
    def __init__(self, max_len: int = 5000, d_model: int = 128) -> None:
        super().__init__()
        self.register_buffer("pe", torch.zeros(1, max_len, d_model))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.pe[:, : x.size(1)]


class RecoveredModel(nn.Module):
    def __init__(self, input_dim: int = 64, d_model: int = 128, nhead: int = 4, num_layers: int = 3,
                 dim_feedforward: int = 256) -> None:
        super().__init__()
        self.embedding = nn.Linear(input_dim, d_model)
        self.pos_encoder = PositionalEncoding(5000, d_model)
        enc = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout=0.0, batch_first=True)
        self.transformer_encoder = nn.TransformerEncoder(enc, num_layers, enable_nested_tensor=False)
        dec = nn.TransformerDecoderLayer(d_model, nhead, dim_feedforward, dropout=0.0, batch_first=True)
        self.transformer_decoder = nn.TransformerDecoder(dec, 1)
        self.output_layer = nn.Linear(d_model, input_dim)

    def forward(self, src: torch.Tensor, tgt: torch.Tensor) -> torch.Tensor:
        memory = self.transformer_encoder(self.pos_encoder(self.embedding(src)))
        out = self.transformer_decoder(self.pos_encoder(self.embedding(tgt)), memory)
        return self.output_layer(out)
"""

# Tiny models: a regressor whose trunk holds BatchNorm statistics (which must not move while frozen), and
# a token classifier for cross_entropy.
TINY_MODELS = """
import torch
import torch.nn as nn


class TinyRegressor(nn.Module):
    def __init__(self, d_in: int = 6, hidden: int = 12, d_out: int = 3) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Linear(d_in, hidden), nn.BatchNorm1d(hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh()
        )
        self.head = nn.Linear(hidden, d_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


class TinyClassifier(nn.Module):
    def __init__(self, vocab: int = 20, dim: int = 8, classes: int = 5) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.proj = nn.Linear(dim, dim)
        self.out = nn.Linear(dim, classes)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.out(torch.relu(self.proj(self.embed(tokens).mean(dim=1))))
"""


def write_seed(tmp: Path, samples: int = 48) -> tuple[Path, Path, Path]:
    """weights.pt (trainer dict, DataParallel keys) and data.pt from the bundled example, plus model.py."""
    sys.path.insert(0, str(ROOT / "examples"))
    try:
        from seed_transformer import build
    finally:
        sys.path.pop(0)
    weights, data = build(tmp, samples=samples)
    model = tmp / "model.py"
    model.write_text(SEED_MODEL)
    return weights, data, model


def write_tiny(tmp: Path, samples: int = 96, seed: int = 0) -> tuple[Path, Path, Path]:
    """TinyRegressor weights (trained BatchNorm statistics included), DATA {"x", "y"} and the model file."""
    model_file = tmp / "tiny.py"
    model_file.write_text(TINY_MODELS)
    namespace: dict = {}
    exec(compile(TINY_MODELS, "tiny", "exec"), namespace)
    torch.manual_seed(seed)
    model = namespace["TinyRegressor"]()
    x = torch.randn(samples, 6)
    with torch.no_grad():
        model.train()(x * 2 + 1)  # move the BatchNorm statistics away from their initial values
        y = torch.tanh(x @ torch.randn(6, 3)) + 0.5
    torch.save(model.state_dict(), tmp / "tiny_weights.pt")
    torch.save({"x": x, "y": y}, tmp / "tiny_data.pt")
    return tmp / "tiny_weights.pt", tmp / "tiny_data.pt", model_file


def write_classifier(tmp: Path, samples: int = 120) -> tuple[Path, Path, str]:
    model_file = tmp / "tiny.py"
    model_file.write_text(TINY_MODELS)
    namespace: dict = {}
    exec(compile(TINY_MODELS, "tiny", "exec"), namespace)
    torch.manual_seed(1)
    model = namespace["TinyClassifier"]()
    tokens = torch.randint(0, 20, (samples, 7))
    labels = tokens[:, 0] % 5  # learnable from the tokens
    torch.save(model.state_dict(), tmp / "cls_weights.pt")
    torch.save({"inputs": tokens, "targets": labels}, tmp / "cls_data.pt")
    return tmp / "cls_weights.pt", tmp / "cls_data.pt", f"{model_file}:TinyClassifier"


def run_cli(capsys, *args: object) -> tuple[int, str, str]:
    """`modelgen ARGS` in this process: (exit code, stdout, stderr)."""
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def run_json(capsys, *args: object) -> tuple[int, dict, str]:
    code, out, err = run_cli(capsys, *args, "--json")
    try:
        return code, json.loads(out), err
    except json.JSONDecodeError:
        raise AssertionError(f"exit {code}, stdout {out!r}, stderr {err!r}") from None


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def one_line_error(err: str) -> str:
    """The stderr of a failed command: exactly one line, no traceback."""
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("modelgen: error: "), err
    return lines[0]


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip()
