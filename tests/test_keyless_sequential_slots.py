"""A keyless slot (an activation, a dropout) in an nn.Sequential member of a class a pattern
recognised: no key records the layer, so a class whose slot was left at its default says guessed,
unless something proves the layer (config.json, or the structure naming the family's code). The
file then either computes what the reference computes, or says where it may not: never a silent
ReLU in a GELU model.

Layouts, none with a config.json that names an activation: a nanoGPT-like pre-norm block whose MLP is a Sequential with
GELU; an EDSR-like residual block whose body is Sequential(conv, SiLU, conv); and, structurally
apart, a classifier head Sequential(Linear, Dropout, Tanh, Linear) behind a conv encoder. The
transformer is saved as a folder whose config.json gives only its head count (no key records it).
"""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import save_file

from codegen.cli.main import main
from tests.generated_module import load_module

from tests.zoo_verdicts import class_trust, generate_from_state_dict, layout_reference, measured


class HeadsAttention(nn.Module):  # BART's names: q_proj, k_proj, v_proj, out_proj
    def __init__(self, d: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.q_proj, self.k_proj = nn.Linear(d, d), nn.Linear(d, d)
        self.v_proj, self.out_proj = nn.Linear(d, d), nn.Linear(d, d)

    def split(self, x: torch.Tensor) -> torch.Tensor:  # [b, t, d] -> [b, heads, t, d / heads]
        return x.unflatten(-1, (self.heads, -1)).transpose(1, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q, k, v = self.split(self.q_proj(x)), self.split(self.k_proj(x)), self.split(self.v_proj(x))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.out_proj(y.transpose(1, 2).flatten(2))


class SequentialMLPBlock(nn.Module):
    """Pre-norm, its MLP written as a Sequential (the activation a keyless slot)."""

    def __init__(self, d: int, activation: nn.Module) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(d)
        self.attn = HeadsAttention(d, 2)
        self.ln_2 = nn.LayerNorm(d)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), activation, nn.Linear(4 * d, d))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class TinyGPT(nn.Module):
    def __init__(self, vocab: int = 40, d: int = 16, activation=nn.GELU) -> None:
        super().__init__()
        self.wte = nn.Embedding(vocab, d)
        self.wpe = nn.Embedding(16, d)
        self.h = nn.ModuleList(SequentialMLPBlock(d, activation()) for _ in range(2))
        self.ln_f = nn.LayerNorm(d)
        self.lm_head = nn.Linear(d, vocab, bias=False)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        x = self.wte(ids) + self.wpe(torch.arange(ids.size(1)))
        for block in self.h:
            x = block(x)
        return self.lm_head(self.ln_f(x))


class ResBlock(nn.Module):  # EDSR's common.ResBlock: body = Sequential(conv, act, conv)
    def __init__(self, c: int, activation: nn.Module) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(c, c, 3, padding=1), activation, nn.Conv2d(c, c, 3, padding=1)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class TinyEDSR(nn.Module):
    def __init__(self, c: int = 8, activation=nn.SiLU) -> None:
        super().__init__()
        self.head = nn.Conv2d(3, c, 3, padding=1)
        self.body = nn.Sequential(*(ResBlock(c, activation()) for _ in range(2)))
        self.tail = nn.Conv2d(c, 3, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.head(x)
        return self.tail(x + self.body(x))


class ConvEncoderClassifier(nn.Module):
    """A conv encoder (conv-bn-relu stages), global pooling, then a Sequential head whose keyless
    slots are Dropout and Tanh (a pooler-like squashing), as many fine-tuning heads are written."""

    def __init__(self, c: int = 8, classes: int = 5) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, c, 3, padding=1, bias=False),
            nn.BatchNorm2d(c),
            nn.ReLU(),
            nn.Conv2d(c, 2 * c, 3, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(2 * c),
            nn.ReLU(),
        )
        self.classifier = nn.Sequential(
            nn.Linear(2 * c, 2 * c), nn.Dropout(0.1), nn.Tanh(), nn.Linear(2 * c, classes)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x).mean((2, 3)))


def ids(shape):
    return torch.randint(0, 40, shape)


HEADS_ONLY = {"n_head": 2}  # config.json of the transformer layouts: no activation named

LAYOUTS = {
    "gpt_gelu_sequential_mlp": (lambda: TinyGPT(activation=nn.GELU), lambda: ids((2, 7))),
    "gpt_relu_sequential_mlp": (lambda: TinyGPT(activation=nn.ReLU), lambda: ids((2, 7))),
    "gpt_config_says_gelu": (lambda: TinyGPT(activation=nn.GELU), lambda: ids((2, 7))),
    "edsr_silu_body": (lambda: TinyEDSR(activation=nn.SiLU), lambda: torch.randn(2, 3, 12, 12)),
    "encoder_tanh_head": (ConvEncoderClassifier, lambda: torch.randn(2, 3, 16, 16)),
}


def generate_folder(reference: nn.Module, folder, config: dict):
    """A Hugging Face style folder (safetensors and config.json), generated and strictly loaded."""
    save_file(
        {k: v.contiguous() for k, v in reference.state_dict().items()}, folder / "model.safetensors"
    )
    (folder / "config.json").write_text(json.dumps(config))
    out = folder / "model.py"
    assert main(["generate", str(folder), "-o", str(out), "--quiet"]) == 0
    model = load_module(out).RecoveredModel().eval()
    model.load_state_dict(reference.state_dict(), strict=True)
    return model, out.read_text()


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    made: dict = {}

    class Quiet:  # generate_from_state_dict reads stderr through capsys; a module fixture has none
        @staticmethod
        def readouterr():
            return type("Captured", (), {"err": ""})()

    def get(name: str):
        if name not in made:
            make, inputs = LAYOUTS[name]
            reference = layout_reference(make)
            folder = tmp_path_factory.mktemp(name)
            if name.startswith("gpt_"):
                config = dict(HEADS_ONLY)
                if name == "gpt_config_says_gelu":
                    config["activation_function"] = "gelu"
                model, source = generate_folder(reference, folder, config)
            else:
                model, source = generate_from_state_dict(reference, folder, Quiet())
            torch.manual_seed(1)
            made[name] = (
                class_trust(source),
                source,
                measured(reference, model, source, (inputs(),)),
            )
        return made[name]

    return get


@pytest.mark.parametrize("name", list(LAYOUTS))
def test_never_silently_wrong(generated, name):
    _, _, (verdict, diff) = generated(name)
    assert verdict != "WRONG", diff


def test_a_block_whose_slot_no_evidence_proves_says_guessed(generated):
    trust, source, (verdict, _) = generated("gpt_gelu_sequential_mlp")
    assert trust["Block"] == "guessed" and "slots without tensors" in " ".join(source.split())
    assert verdict == "flagged"  # ReLU written for the reference's GELU


def test_the_same_block_with_the_default_s_layer_computes_and_still_says_guessed(generated):
    trust, _, (verdict, _) = generated("gpt_relu_sequential_mlp")
    assert verdict != "WRONG" and trust["Block"] == "guessed"  # right, but unproven


def test_config_json_s_activation_pins_the_slot(generated):
    trust, source, _ = generated("gpt_config_says_gelu")
    assert trust["Block"] == "inferred" and "nn.GELU()" in source
    assert "config.json activation_function 'gelu'" in " ".join(source.split())


def test_a_residual_body_s_slot_says_guessed(generated):
    trust, _, (verdict, _) = generated("edsr_silu_body")
    assert trust["ResidualBlock"] == "guessed" and verdict == "flagged"  # ReLU for SiLU


def test_a_head_s_squashing_slot_behind_an_encoder_says_guessed(generated):
    trust, _, (verdict, _) = generated("encoder_tanh_head")
    assert verdict == "flagged" and trust["RecoveredModel"] == "guessed"
