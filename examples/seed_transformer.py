"""The bundled example: an encoder-decoder transformer regressor, saved the way trainers save.

`python examples/seed_transformer.py OUT_DIR` writes OUT_DIR/weights.pt (a trainer dict wrapping a
DataParallel state dict) and OUT_DIR/data.pt ({"src_sequences", "tgt_sequences"}), the inputs of the
README's demo and of the end-to-end tests.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import torch
import torch.nn as nn


class PositionalEncoding(nn.Module):
    def __init__(self, d_model: int, max_len: int = 5000) -> None:
        super().__init__()
        position = torch.arange(max_len).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
        pe = torch.zeros(1, max_len, d_model)
        pe[0, :, 0::2] = torch.sin(position * div_term)
        pe[0, :, 1::2] = torch.cos(position * div_term)
        self.register_buffer("pe", pe)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.pe[:, : x.size(1)]


class TransformerRegressor(nn.Module):
    def __init__(self, input_dim: int = 64, d_model: int = 128, nhead: int = 4) -> None:
        super().__init__()
        self.embedding = nn.Linear(input_dim, d_model)
        self.pos_encoder = PositionalEncoding(d_model)
        layer = nn.TransformerEncoderLayer(
            d_model, nhead, dim_feedforward=256, dropout=0.0, batch_first=True
        )
        self.transformer_encoder = nn.TransformerEncoder(
            layer, num_layers=3, enable_nested_tensor=False
        )
        dec = nn.TransformerDecoderLayer(
            d_model, nhead, dim_feedforward=256, dropout=0.0, batch_first=True
        )
        self.transformer_decoder = nn.TransformerDecoder(dec, num_layers=1)
        self.output_layer = nn.Linear(d_model, input_dim)

    def forward(self, src: torch.Tensor, tgt: torch.Tensor) -> torch.Tensor:
        memory = self.transformer_encoder(self.pos_encoder(self.embedding(src)))
        out = self.transformer_decoder(self.pos_encoder(self.embedding(tgt)), memory)
        return self.output_layer(out)


def build(out_dir: Path, samples: int = 256, seq_len: int = 16, seed: int = 0) -> tuple[Path, Path]:
    torch.manual_seed(seed)
    model = TransformerRegressor().eval()
    src = torch.randn(samples, seq_len, 64)
    # The task: predict a smoothed copy of the source sequence.
    tgt = 0.5 * src + 0.5 * torch.roll(src, shifts=1, dims=1)
    out_dir.mkdir(parents=True, exist_ok=True)
    weights, data = out_dir / "weights.pt", out_dir / "data.pt"
    state = {f"module.{k}": v for k, v in model.state_dict().items()}  # as nn.DataParallel saves it
    torch.save(
        {"epoch": 12, "model_state_dict": state, "config": {"d_model": 128, "nhead": 4}}, weights
    )
    torch.save({"src_sequences": src, "tgt_sequences": tgt}, data)
    return weights, data


if __name__ == "__main__":
    paths = build(Path(sys.argv[1] if len(sys.argv) > 1 else "demo"))
    print("wrote", *paths)
