"""Small real architectures built from torch.nn, shared by the generation tests and golden files.

Each entry builds a module in eval mode. `EXACT` lists the ones whose forward modelgen recovers
without calibration (the common conventions), so tests can compare outputs, not just keys.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
from seed_transformer import TransformerRegressor  # noqa: E402


class ConvNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 16, 3, padding=1),
            nn.BatchNorm2d(16),
            nn.ReLU(),
            nn.Conv2d(16, 32, 3, padding=1),
            nn.GroupNorm(32, 32),
            nn.ReLU(),
            nn.Conv2d(32, 32, 3, padding=1, groups=32),
            nn.Conv2d(32, 64, 1),
        )
        self.fc = nn.Linear(64, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.features(x).mean(dim=[2, 3]))


class LSTMTagger(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embedding = nn.Embedding(100, 32)
        self.lstm = nn.LSTM(32, 48, num_layers=2, bidirectional=True, batch_first=True)
        self.classifier = nn.Linear(96, 7)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.lstm(self.embedding(tokens))[0])


class GRUClassifier(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.gru = nn.GRU(12, 24, batch_first=True)
        self.norm = nn.LayerNorm(24)
        self.head = nn.Linear(24, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.norm(self.gru(x)[0]))


class ConvAutoencoder(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(1, 8, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv2d(8, 16, 3, stride=2, padding=1),
        )
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(16, 8, 3, stride=2, padding=1, output_padding=1),
            nn.ReLU(),
            nn.ConvTranspose2d(8, 1, 3, stride=2, padding=1, output_padding=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))


class BasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return torch.relu(out + (x if self.downsample is None else self.downsample(x)))


class ResNetTiny(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.layer1 = nn.Sequential(BasicBlock(16, 16), BasicBlock(16, 16))
        self.layer2 = nn.Sequential(BasicBlock(16, 32, 2), BasicBlock(32, 32))
        self.fc = nn.Linear(32, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # The 3/2/1 max-pool every well-known ResNet has after its 7x7 stride-2 stem.
        x = F.max_pool2d(torch.relu(self.bn1(self.conv1(x))), 3, 2, 1)
        return self.fc(self.layer2(self.layer1(x)).mean(dim=[2, 3]))


class ViTTiny(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.cls_token = nn.Parameter(torch.zeros(1, 1, 32))
        self.pos_embed = nn.Parameter(torch.zeros(1, 17, 32))
        self.patch_embed = nn.Conv2d(3, 32, 4, stride=4)
        self.blocks = nn.ModuleList(
            nn.TransformerEncoderLayer(32, 4, 64, batch_first=True, norm_first=True)
            for _ in range(2)
        )
        self.norm = nn.LayerNorm(32)
        self.head = nn.Linear(32, 10)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = self.patch_embed(images).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(x.size(0), -1, -1), x], dim=1) + self.pos_embed
        for block in self.blocks:
            x = block(x)
        return self.head(self.norm(x)[:, 0])


class Seq2Seq(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.src_embed = nn.Embedding(50, 32)
        self.tgt_embed = nn.Embedding(60, 32)
        self.transformer = nn.Transformer(32, 4, 2, 2, 64, batch_first=True)
        self.generator = nn.Linear(32, 60)

    def forward(self, src: torch.Tensor, tgt: torch.Tensor) -> torch.Tensor:
        return self.generator(self.transformer(self.src_embed(src), self.tgt_embed(tgt)))


class GPTLike(nn.Module):
    """Learned token and position tables summed, an encoder stack, a final norm, an LM head."""

    def __init__(self) -> None:
        super().__init__()
        self.tok_emb = nn.Embedding(50, 32)
        self.pos_emb = nn.Embedding(20, 32)
        layer = nn.TransformerEncoderLayer(32, 4, 64, dropout=0.0, batch_first=True)
        self.blocks = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        self.ln_f = nn.LayerNorm(32)
        self.lm_head = nn.Linear(32, 50, bias=False)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        x = self.tok_emb(idx) + self.pos_emb(torch.arange(idx.size(1)))
        return self.lm_head(self.ln_f(self.blocks(x)))


def mlp() -> nn.Module:
    return nn.Sequential(
        nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 5)
    )


def transformer_encoder_regressor(num_layers: int = 2) -> nn.Module:
    """Embedding + learned positions + TransformerEncoder + head; depth is the only knob."""

    class EncoderRegressor(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Linear(8, 32)
            layer = nn.TransformerEncoderLayer(32, 4, 64, batch_first=True)
            self.encoder = nn.TransformerEncoder(layer, num_layers, enable_nested_tensor=False)
            self.head = nn.Linear(32, 1)

    return EncoderRegressor()


ZOO: dict[str, Callable[[], nn.Module]] = {
    "mlp": mlp,
    "convnet": ConvNet,
    "lstm_tagger": LSTMTagger,
    "gru_classifier": GRUClassifier,
    "conv_autoencoder": ConvAutoencoder,
    "resnet_tiny": ResNetTiny,
    "vit_tiny": ViTTiny,
    "seq2seq": Seq2Seq,
    "seed_transformer": TransformerRegressor,
    "gpt_like": GPTLike,
}

# Inputs for every model with a forward, for measuring recovery (scripts/recovery_table.py).
INPUTS: dict[str, Callable[[], tuple[torch.Tensor, ...]]] = {
    "conv_autoencoder": lambda: (torch.randn(2, 1, 16, 16),),
    "vit_tiny": lambda: (torch.randn(2, 3, 16, 16),),
}

# Inputs for the models whose forward modelgen recovers exactly without calibration.
EXACT: dict[str, Callable[[], tuple[torch.Tensor, ...]]] = {
    "mlp": lambda: (torch.randn(4, 20),),
    "convnet": lambda: (torch.randn(2, 3, 8, 8),),
    "lstm_tagger": lambda: (torch.randint(0, 100, (2, 6)),),
    "gru_classifier": lambda: (torch.randn(2, 5, 12),),
    "seq2seq": lambda: (torch.randint(0, 50, (2, 5)), torch.randint(0, 60, (2, 4))),
    "seed_transformer": lambda: (torch.randn(2, 6, 64), torch.randn(2, 5, 64)),
    "gpt_like": lambda: (torch.randint(0, 50, (2, 7)),),
    "resnet_tiny": lambda: (torch.randn(2, 3, 16, 16),),
}


# What trainers save beside the weights, where the architecture needs it (heads are not in the keys).
METADATA: dict[str, dict] = {"seed_transformer": {"config": {"d_model": 128, "nhead": 4}}}


def checkpoint(name: str, model: nn.Module) -> dict:
    """The model's state dict as a trainer saves it, with its metadata when it has some."""
    meta = METADATA.get(name)
    return {"state_dict": model.state_dict(), **meta} if meta else model.state_dict()


INPUTS.update(EXACT)


def build(name: str, seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return ZOO[name]().eval()
