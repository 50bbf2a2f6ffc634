"""--hints are validated against the choices that exist; --list-choices shows them as hints spell them.

Hint text is never pasted into code: a layer is parsed into a closed vocabulary and printed again,
every other value must be one its choice can take.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn

from codegen.cli import main


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1), nn.MaxPool2d(2), nn.Conv2d(8, 8, 3, padding=1)
        )
        self.fc = nn.Linear(8, 2)


@pytest.fixture
def ckpt(tmp_path):
    path = tmp_path / "net.pt"
    torch.save(Net().state_dict(), path)
    return path


def _generate(tmp_path, ckpt, hints: str, capsys) -> tuple[int, str, str]:
    (tmp_path / "hints.toml").write_text(hints)
    out = tmp_path / "model.py"
    code = main(["generate", str(ckpt), "-o", str(out), "--hints", str(tmp_path / "hints.toml")])
    captured = capsys.readouterr()
    return code, captured.err, out.read_text() if out.exists() else ""


ATTACKS = {
    "code as a layer": "[\"features.1\"]\nmodule_type = \"__import__('os').system('touch M')\"",
    "not a string": '["features.1"]\nmodule_type = 5',
    "unknown layer": '["features.1"]\nmodule_type = "nn.DoesNotExist()"',
    "a layer with tensors": '["features.1"]\nmodule_type = "nn.Linear(3, 4)"',
    "non-literal argument": '["features.1"]\nmodule_type = "nn.MaxPool2d(open(\'x\'))"',
    "arguments it refuses": '["features.1"]\nmodule_type = "nn.MaxPool2d(2, nope=1)"',
    "half a megabyte": '["features.1"]\nmodule_type = "' + "x" * (1 << 19) + '"',
    "code as pooling": 'pooling = "mean(dim=[2]); import os; x.mean"',
    "wrong type": "pooling = 3",
    "unknown path": '["proj"]\nactivation = "gelu"',
    "unknown name": '["fc"]\nnhead = 4',
    "negative padding": '["features.0"]\npadding = -1',
    "bool for a number": '["features.0"]\nstride = true',
    "non-finite eps": "eps = nan",
    "bad tensor kind": '["fc.weight"]\nkind = "code"',
}


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_bad_hint_is_one_line_error_and_writes_nothing(name, tmp_path, ckpt, capsys):
    code, err, written = _generate(tmp_path, ckpt, ATTACKS[name], capsys)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("modelgen: error: hints")
    assert len(err) < 1200
    assert written == ""
    assert not (tmp_path / "M").exists()


def test_unknown_hint_lists_what_could_be_pinned(tmp_path, ckpt, capsys):
    _, err, _ = _generate(tmp_path, ckpt, '["features"]\nactivation = "gelu"', capsys)
    assert "[features.0] stride" in err and "--list-choices" in err


def test_layer_hint_is_rebuilt_canonically_and_loads(tmp_path, ckpt, capsys):
    hint = '["features.1"]\nmodule_type = "MaxPool2d( 2 ,stride = 2 )"'
    code, _, source = _generate(tmp_path, ckpt, hint, capsys)
    assert code == 0
    assert "nn.MaxPool2d(2, stride=2)," in source
    namespace: dict = {}
    exec(compile(source, "model.py", "exec"), namespace)
    namespace["RecoveredModel"]().load_state_dict(torch.load(ckpt), strict=True)


def test_open_valued_hints_take_values_beyond_the_listed_ones(tmp_path, ckpt, capsys):
    code, _, source = _generate(
        tmp_path, ckpt, '["features.0"]\nstride = 3\npadding = [1, 2]', capsys
    )
    assert code == 0
    assert "stride=3" in source and "padding=(1, 2)" in source


def test_list_choices_prints_paths_hints_accept(tmp_path, ckpt, capsys):
    out = tmp_path / "model.py"
    assert main(["generate", str(ckpt), "-o", str(out), "--list-choices"]) == 0
    listing = capsys.readouterr().out
    assert not out.exists()
    lines = [line for line in listing.splitlines() if line.startswith("[")]
    assert any(
        line.startswith("[features.1] module_type = 'nn.ReLU()' (default)") for line in lines
    )
    assert any(
        line.startswith("[features.0] stride = 1 (default); allowed: 1, 2") for line in lines
    )
    # Every listed path and name is accepted back as a hint, with every listed value.
    for line in lines:
        path, rest = line[1:].split("] ", 1)
        name = rest.split(" = ")[0]
        value = rest.split("allowed: ")[1].split(", ")[0].split(";")[0]
        toml = f'["{path}"]\n{name} = {value.replace(chr(39), chr(34))}\n'
        code, err, _ = _generate(tmp_path, ckpt, toml, capsys)
        assert code == 0, (toml, err)


def test_a_hint_reaches_a_choice_made_once_pins_apply(tmp_path, capsys):
    # The original PVTv2 code's layout: each stage's head count is a choice of the whole, made
    # only in the analysis round after its patch embeddings are pinned; hints for it are not
    # rejected as unknown in the rounds before, and pin it exactly.
    from codegen.patterns.blocks._pyramid_examples import modules
    from tests.generated_module import load_module

    torch.manual_seed(0)
    reference = modules()["NumberedClassifier"]().eval()
    torch.save(reference.state_dict(), tmp_path / "pvt.pt")
    hints = '["RecoveredModel.layers0"]\nnhead = 1\n["RecoveredModel.layers1"]\nnhead = 3\n'
    code, err, source = _generate(tmp_path, tmp_path / "pvt.pt", hints, capsys)
    assert code == 0, err
    assert "set by --hints: nhead" in source
    model = load_module(tmp_path / "model.py").RecoveredModel().eval()
    model.load_state_dict(reference.state_dict(), strict=True)
    x = torch.randn(2, 3, 32, 28)
    with torch.no_grad():
        torch.testing.assert_close(model(x), reference(x))
