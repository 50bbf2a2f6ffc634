"""Generation end to end on real architectures: strict load, equal outputs, TorchScript, stability."""

from __future__ import annotations

import difflib
import io
import re
import tokenize

import pytest
import torch
import torch.nn as nn

from codegen.errors import ModelgenError
from codegen.generate import generate_source
from codegen.harness.model_ref import load_model_class
from codegen.load import open_checkpoint
from tests.zoo import EXACT, METADATA, ZOO, build, checkpoint, transformer_encoder_regressor


def generate_for(state: dict, tmp_path, name: str = "model", **kwargs) -> tuple[str, type]:
    ckpt = tmp_path / f"{name}.pt"
    torch.save(state, ckpt)
    source, _ = generate_source(open_checkpoint(ckpt).table, **kwargs)
    path = tmp_path / f"{name}_model.py"
    path.write_text(source)
    return source, load_model_class(str(path))


# A model in EXACT saved without metadata is generated from its bare state dict below too, where
# strict load and TorchScript are checked with its outputs: only the others are needed here.
@pytest.mark.parametrize("name", sorted(n for n in ZOO if n not in EXACT or n in METADATA))
def test_zoo_strict_loads_and_scripts(name, tmp_path):
    original = build(name)
    _, cls = generate_for(original.state_dict(), tmp_path, name)
    model = cls().eval()
    model.load_state_dict(original.state_dict(), strict=True)
    torch.jit.script(model)  # every generated forward, inferred or not, compiles


@pytest.mark.parametrize("name", sorted(EXACT))
def test_zoo_outputs_match_original(name, tmp_path):
    original = build(name)
    _, cls = generate_for(checkpoint(name, original), tmp_path, name)
    model = cls().eval()
    model.load_state_dict(original.state_dict(), strict=True)
    inputs = EXACT[name]()
    with torch.no_grad():
        torch.testing.assert_close(model(*inputs), original(*inputs), atol=1e-5, rtol=1e-5)
        scripted = torch.jit.script(model)
        torch.testing.assert_close(scripted(*inputs), original(*inputs), atol=1e-5, rtol=1e-5)


def test_seed_reads_like_the_design(tmp_path):
    """The bundled example: named hyperparameters, provenance, choices, two-input forward."""
    original = build("seed_transformer")
    state = {"epoch": 3, "model_state_dict": original.state_dict(), "config": {"nhead": 4}}
    source, _ = generate_for(state, tmp_path, "seed")
    assert "d_model: int = 128,  # embedding.weight.shape[0]" in source
    assert "num_encoder_layers: int = 3,  # transformer_encoder.layers.0-2" in source
    assert re.search(
        r"nhead: int = 4,  # not in the checkpoint: from checkpoint metadata config.nhead", source
    )
    assert "def forward(self, src: torch.Tensor, tgt: torch.Tensor) -> torch.Tensor:" in source
    imports = [line for line in source.splitlines() if line.startswith(("import ", "from "))]
    assert imports == ["import torch", "import torch.nn as nn"]


def test_depth_changes_only_numbers(tmp_path):
    small, _ = generate_for(transformer_encoder_regressor(24).state_dict(), tmp_path, "d24")
    large, _ = generate_for(transformer_encoder_regressor(48).state_dict(), tmp_path, "d48")
    changed = [(a, b) for a, b in _changed_lines(small, large)]
    assert changed, "depth must show up somewhere"
    hashes = r"\b[0-9a-f]{16}\b|\b[0-9a-f]{8}\b|\d+"  # fingerprint, recorded body hashes, numbers
    for a, b in changed:
        assert re.sub(hashes, "N", a) == re.sub(hashes, "N", b), (a, b)
    assert len(small.splitlines()) == len(large.splitlines())


def _changed_lines(a: str, b: str) -> list[tuple[str, str]]:
    pairs = []
    matcher = difflib.SequenceMatcher(None, a.splitlines(), b.splitlines())
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            assert tag == "replace" and i2 - i1 == j2 - j1, (
                tag,
                a.splitlines()[i1:i2],
                b.splitlines()[j1:j2],
            )
            pairs += zip(a.splitlines()[i1:i2], b.splitlines()[j1:j2])
    return pairs


def test_same_checkpoint_same_bytes(tmp_path):
    state = build("resnet_tiny").state_dict()
    first, _ = generate_for(state, tmp_path, "a")
    second, _ = generate_for(state, tmp_path, "b")
    assert first.replace("b.pt", "a.pt") == second.replace("b.pt", "a.pt")


def test_plain_tensors_keep_shape_dtype_and_kind(tmp_path):
    class WithTensors(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.scale = nn.Parameter(torch.ones(4))
            self.register_buffer("position_ids", torch.arange(16).unsqueeze(0))
            self.register_buffer("causal_mask", torch.ones(8, 8, dtype=torch.bool))
            self.proj = nn.Linear(4, 4)

    original = WithTensors()
    source, cls = generate_for(original.state_dict(), tmp_path)
    model = cls()
    model.load_state_dict(original.state_dict(), strict=True)
    assert dict(model.named_buffers())["position_ids"].dtype == torch.int64
    assert dict(model.named_buffers())["causal_mask"].dtype == torch.bool
    assert [n for n, _ in model.named_parameters()] == ["scale", "proj.weight", "proj.bias"]
    assert "forward" in source and "NotImplementedError" in source  # how scale enters is unknown


def test_sequential_gaps_are_marked_choices(tmp_path):
    original = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Dropout(), nn.Linear(8, 2))
    source, cls = generate_for(original.state_dict(), tmp_path)
    cls().load_state_dict(original.state_dict(), strict=True)
    assert source.count("holds no tensors: ") == 2  # both gaps named, each a guess
    assert "index 1 holds no tensors: ReLU is a guess" in source
    # the slot after an activation's, before a Linear, is most often a Dropout (calib8)
    assert "index 2 holds no tensors: Dropout is a guess" in source


def test_a_third_slot_after_a_pool_is_dropout(tmp_path):
    """conv, norm, then three slots: the activation, a halving pool, a dropout (SimpleNet's
    `ReLU, MaxPool2d, Dropout2d`), not a second pool; exact in eval, each slot still a guess."""
    torch.manual_seed(0)
    original = nn.Sequential(
        nn.Conv2d(3, 6, 3, padding=1),
        nn.BatchNorm2d(6),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Dropout2d(0.1),
        nn.Conv2d(6, 4, 3, padding=1),
    ).eval()
    source, cls = generate_for(original.state_dict(), tmp_path)
    model = cls().eval()
    model.load_state_dict(original.state_dict(), strict=True)
    x = torch.randn(2, 3, 8, 8)
    torch.testing.assert_close(model(x), original(x))
    assert "index 4 holds no tensors: Dropout is a guess" in source


@pytest.mark.parametrize(
    "key",
    [
        "class.weight",
        "with space.weight",
        'quo"te.weight',
        "back\\slash.weight",
        "new\nline.weight",
        "ünï.weight",
        "x" * 300 + ".weight",
        "0.x-y.weight",
        "import os; os.system('x').weight",
    ],
)
def test_odd_key_names_compile_and_load(key, tmp_path):
    state = {key: torch.zeros(3, 2), "head.weight": torch.zeros(1, 3)}
    source, cls = generate_for(state, tmp_path)
    model = cls()
    model.load_state_dict(state, strict=True)
    # Key text appears only inside string literals and comments, never as code.
    names = {
        t.string
        for t in tokenize.generate_tokens(io.StringIO(source).readline)
        if t.type == tokenize.NAME
    }
    assert "system" not in names and "os" not in names


@pytest.mark.parametrize(
    "key", ["forward.weight", "a..b", ".lead", "trail.", "training", "layer.state_dict.w"]
)
def test_keys_no_module_can_hold_are_refused(key, tmp_path):
    torch.save({key: torch.zeros(2)}, tmp_path / "bad.pt")
    with pytest.raises(ModelgenError, match="--remap"):
        generate_source(open_checkpoint(tmp_path / "bad.pt").table)


def test_hints_pin_choices(tmp_path):
    hints = tmp_path / "hints.toml"
    hints.write_text('nhead = 8\n["transformer_encoder"]\nactivation = "gelu"\n')
    state = build("seed_transformer").state_dict()
    torch.save(state, tmp_path / "w.pt")
    source, ir = generate_source(open_checkpoint(tmp_path / "w.pt").table, hints_path=str(hints))
    assert "nhead: int = 8,  # not in the checkpoint: from hints [*]" in source
    assert (
        'activation: str = "gelu",  # not in the checkpoint: from hints [transformer_encoder]'
        in source
    )
    assert 'transformer_decoder_activation: str = "relu"' in source
