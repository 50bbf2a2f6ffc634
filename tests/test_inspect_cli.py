"""`modelgen inspect`: the tree a user reads and the JSON a machine reads."""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn as nn
from safetensors.torch import save_file

from codegen.cli import main


class Block(nn.Module):
    def __init__(self, d: int = 8) -> None:
        super().__init__()
        self.fc1 = nn.Linear(d, 2 * d)
        self.norm = nn.LayerNorm(2 * d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(self.fc1(x))


class Stack(nn.Module):
    def __init__(self, n: int = 24) -> None:
        super().__init__()
        self.embed = nn.Embedding(10, 8)
        self.layers = nn.ModuleList(Block() for _ in range(n))
        self.head = nn.Linear(16, 3)


def inspect(capsys, *args: str) -> str:
    code = main(["inspect", *map(str, args)])
    out, err = capsys.readouterr()
    assert (code, err) == (0, "")
    return out


def lines_with(out: str, text: str) -> list[str]:
    return [ln for ln in out.splitlines() if text in ln]


@pytest.fixture
def trainer_ckpt(tmp_path):
    """What the issue asks for: `{"epoch": 3, "model_state_dict": {"module.…": …}}` from a real module."""
    torch.manual_seed(0)
    sd = Stack().state_dict()
    path = tmp_path / "trainer.pt"
    torch.save({"epoch": 3, "model_state_dict": {f"module.{k}": v for k, v in sd.items()}}, path)
    return path


def test_tree_says_what_was_unwrapped_and_stripped(capsys, trainer_ckpt):
    out = inspect(capsys, trainer_ckpt)
    first = out.splitlines()[0]
    assert first.startswith("trainer.pt  torch-zip, 99 tensors, ")
    assert "float32 x99" in first
    assert lines_with(out, "unwrapped: model_state_dict")
    assert lines_with(out, "stripped prefixes: module.")
    assert lines_with(out, "metadata: epoch=3")
    assert lines_with(out, "embed")
    assert lines_with(out, "weight  [10, 8] float32")
    assert not lines_with(out, "module.")[1:]  # only the "stripped" line mentions it


def test_identical_layers_are_collapsed(capsys, trainer_ckpt):
    out = inspect(capsys, trainer_ckpt)
    (collapsed,) = lines_with(out, "0-23")
    assert "24 x identical" in collapsed
    # the block is shown once: one fc1, not 24
    assert len(lines_with(out, "fc1")) == 1
    # per-block element count: fc1 8*16+16, norm 16+16
    assert "176 elements, float32" in collapsed


def test_runs_break_where_shapes_differ(capsys, tmp_path):
    model = Stack(n=4)
    model.layers[2].fc1 = nn.Linear(8, 16, bias=False)
    torch.save(model.state_dict(), tmp_path / "m.pt")
    out = inspect(capsys, tmp_path / "m.pt")
    assert "2 x identical" in lines_with(out, "0-1")[0]
    rows = [ln.strip(" │├└─").split() for ln in lines_with(out, "elements")]
    assert [r[:2] for r in rows if r[0] in ("2", "3")] == [["2", "160"], ["3", "176"]]  # not merged


@pytest.mark.parametrize(
    ("depth", "shown", "hidden"),
    [
        ("0", ["unwrapped: model_state_dict"], ["embed", "layers"]),
        ("1", ["embed", "layers", "head"], ["0-23", "weight"]),
        ("2", ["0-23", "weight  [10, 8]"], ["fc1"]),
        ("3", ["fc1", "norm"], ["[16, 8]"]),
        ("4", ["weight  [16, 8] float32"], []),
    ],
)
def test_depth(capsys, trainer_ckpt, depth, shown, hidden):
    out = inspect(capsys, trainer_ckpt, "--depth", depth)
    for text in shown:
        assert lines_with(out, text), text
    for text in hidden:
        assert not lines_with(out, text), text


def test_json_output(capsys, trainer_ckpt):
    out = inspect(capsys, trainer_ckpt, "--json")
    data = json.loads(out, parse_constant=lambda c: pytest.fail(f"not strict JSON: {c}"))
    assert data["source"] == "trainer.pt"
    assert data["format"] == "torch-zip"
    assert data["container"] == "model_state_dict"
    assert data["stripped_prefixes"] == ["module."]
    assert data["metadata"] == {"epoch": 3}
    assert len(data["fingerprint"]) == 16
    assert len(data["tensors"]) == 99
    assert data["tensors"][0] == {"name": "embed.weight", "shape": [10, 8], "dtype": "float32"}
    assert data["tensors"][-1] == {"name": "head.bias", "shape": [3], "dtype": "float32"}


def test_json_with_key_and_no_strip(capsys, tmp_path):
    sd = {"module.w": torch.zeros(2)}
    torch.save(
        {
            "model": sd,
            "ema": {"module.w": torch.ones(2)},
            "optimizer": {"state": {0: {"m": torch.zeros(2)}}},
        },
        tmp_path / "c.pt",
    )
    data = json.loads(inspect(capsys, tmp_path / "c.pt", "--json", "--key", "ema", "--no-strip"))
    assert (data["container"], data["other_containers"], data["ignored"]) == (
        "ema",
        ["model"],
        ["optimizer"],
    )
    assert data["stripped_prefixes"] == []
    assert [t["name"] for t in data["tensors"]] == ["module.w"]


def test_other_containers_are_not_repeated_as_metadata(capsys, tmp_path):
    sd = Stack(n=2).state_dict()
    torch.save(
        {"model": sd, "ema": sd, "optimizer": {"state": {0: {"m": torch.zeros(2)}}}, "epoch": 3},
        tmp_path / "c.pt",
    )
    out = inspect(capsys, tmp_path / "c.pt", "--depth", "1")
    assert lines_with(out, "unwrapped: model (also present: ema)")
    assert lines_with(out, "ignored (not model weights): optimizer")
    (meta,) = lines_with(out, "metadata:")
    assert meta.strip(" │├└─") == "metadata: epoch=3"


def test_tied_weights_are_shown(capsys, tmp_path):
    class Tied(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.wte = nn.Embedding(10, 4)
            self.lm_head = nn.Linear(4, 10, bias=False)
            self.lm_head.weight = self.wte.weight

    torch.save(Tied().state_dict(), tmp_path / "t.pt")
    out = inspect(capsys, tmp_path / "t.pt")
    assert lines_with(out, "tied: lm_head.weight shares storage with wte.weight")
    assert lines_with(out, "(tied to wte.weight)")
    assert "40 elements" in out.splitlines()[0]  # a tied tensor is counted once


def test_safetensors_metadata_in_tree_and_json(capsys, tmp_path):
    save_file(
        {"w": torch.zeros(2)}, tmp_path / "m.safetensors", metadata={"config": '{"d_model": 8}'}
    )
    assert lines_with(
        inspect(capsys, tmp_path / "m.safetensors"), "metadata: config={'d_model': 8}"
    )
    assert json.loads(inspect(capsys, tmp_path / "m.safetensors", "--json"))["metadata"] == {
        "config": {"d_model": 8}
    }


def test_hostile_key_names_are_shown_escaped(capsys, tmp_path):
    """A key is text from a stranger: terminal escapes are shown, not sent to the terminal."""
    torch.save(
        {
            "a\x1b[2Jb.weight": torch.zeros(1),
            "layers.\u00b2.w": torch.zeros(1),
            "layers.1.w": torch.zeros(1),
        },
        tmp_path / "k.pt",
    )
    out = inspect(capsys, tmp_path / "k.pt")
    assert "\x1b" not in out
    assert lines_with(out, "a\\x1b[2Jb")  # codegen.safetext.printable's escape
    assert lines_with(out, "\u00b2")  # a superscript digit is a name, not a layer index
    data = json.loads(inspect(capsys, tmp_path / "k.pt", "--json"))
    assert data["tensors"][0]["name"] == "a\x1b[2Jb.weight"


def test_inspect_as_a_user_runs_it(tmp_path, run_modelgen, trainer_ckpt):
    proc = run_modelgen("inspect", trainer_ckpt.name, "--depth", "2", cwd=trainer_ckpt.parent)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert "unwrapped: model_state_dict" in proc.stdout
    assert "stripped prefixes: module." in proc.stdout
    assert "24 x identical" in proc.stdout
