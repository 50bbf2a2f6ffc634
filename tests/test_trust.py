"""Issue 14: a generated forward is right, or the file and the commands say where it is not.

Every zoo model and every example of the issue (tests/trust_models.py) is generated from its weights
alone; DATA holds the original's outputs. The truth is measured here, independently of the commands:
load the written file, run it on DATA's inputs, compare with the original. Then `verify --data` must
exit 0 exactly when the file reproduces the outputs, `generate --calibrate` exactly when its file
does, and no file may be wrong while claiming to be right.
"""

from __future__ import annotations

import re

import pytest
import torch

from codegen.harness.model_ref import load_model_class
from tests import trust_models, zoo
from tests.harness_support import run_cli, run_json

CASES = sorted(zoo.ZOO) + sorted(trust_models.EXAMPLES)


def _original(name: str) -> tuple[torch.nn.Module, dict, tuple[torch.Tensor, ...]]:
    if name in zoo.ZOO:
        model = zoo.build(name)
        state, inputs = zoo.checkpoint(name, model), zoo.INPUTS[name]
    else:
        torch.manual_seed(0)
        model = trust_models.EXAMPLES[name]().eval()
        state, inputs = model.state_dict(), trust_models.INPUTS[name]
    torch.manual_seed(1)
    return model, state, inputs()


@pytest.fixture
def recorded(tmp_path):
    """The checkpoint and DATA (inputs + the original's outputs) of a named model."""

    def make(name: str):
        model, state, inputs = _original(name)
        with torch.no_grad():
            outputs = model(*inputs)
        torch.save(state, tmp_path / f"{name}.pt")
        torch.save({"inputs": inputs, "outputs": outputs}, tmp_path / f"{name}_data.pt")
        return model, tmp_path / f"{name}.pt", tmp_path / f"{name}_data.pt", inputs, outputs

    return make


def _reproduces(path, original: torch.nn.Module, inputs, outputs) -> bool:
    """The truth, measured without modelgen's commands: does the file compute the original's outputs?"""
    model = load_model_class(str(path))().eval()
    model.load_state_dict(original.state_dict(), strict=True)
    try:
        with torch.no_grad():
            got = model(*inputs)
    except Exception:
        return False
    got = got[0] if isinstance(got, tuple) else got
    return got.shape == outputs.shape and torch.allclose(got, outputs, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("name", CASES)
def test_verify_data_exits_0_exactly_when_the_forward_reproduces_and_none_is_silently_wrong(
    name, recorded, tmp_path, capsys
):
    """Over the zoo and the issue's examples: each file is exact against the original's outputs, or
    flagged (verify --data exits 1, and the file does not claim to be exact)."""
    original, ckpt, data, inputs, outputs = recorded(name)
    out = tmp_path / "model.py"
    assert run_cli(capsys, "generate", ckpt, "-o", out)[0] == 0
    exact = _reproduces(out, original, inputs, outputs)
    code, printed, err = run_cli(capsys, "verify", ckpt, out, "--data", data)
    assert code == (0 if exact else 1), printed + err
    if exact:
        assert "ok       outputs:" in printed and "within atol" in printed
    # Never silently wrong: a file that differs fails verify (above) and never claims to be exact.
    docstring = out.read_text().split('"""')[1]
    summary = re.search(
        r"Forward trust \(prove it with modelgen verify --data\): ([^.]+)\.", docstring
    )
    if not exact:
        assert summary and re.search(r"guessed|missing|inferred", summary.group(1))


# Calibration is the slow part: the zoo's transformers are covered by tests/test_calibrate.py.
CALIBRATED = sorted(trust_models.EXAMPLES) + [
    "mlp",
    "conv_autoencoder",
    "convnet",
    "gru_classifier",
]


@pytest.mark.parametrize("name", CALIBRATED)
def test_generate_calibrate_exits_0_exactly_when_its_file_reproduces_data(
    name, recorded, tmp_path, capsys
):
    original, ckpt, data, inputs, outputs = recorded(name)
    out = tmp_path / "model.py"
    code, printed, err = run_cli(capsys, "generate", ckpt, "-o", out, "--calibrate", data)
    assert out.is_file()  # written either way
    exact = _reproduces(out, original, inputs, outputs)
    assert code == (0 if exact else 1), printed + err
    text = out.read_text()
    if exact:
        assert "calibration: reproduces DATA's outputs" in printed
        assert "Forward trust: exact (verified against DATA)." in text
        assert "Forward trust: guessed" not in text
    else:
        assert "does not reproduce" in err and "calibration: does not reproduce" in printed
        assert "- calibrated:" not in text or "nothing is proven while the forward differs" in text


def test_generate_runs_the_model_and_names_where_forward_fails(recorded, tmp_path, capsys):
    _, ckpt, *_ = recorded("se_net")  # the SE block gives conv features: pooled before the head
    code, printed, _ = run_cli(capsys, "generate", ckpt, "-o", tmp_path / "se.py")
    assert code == 0
    assert "forward trust: inferred SqueezeExcite; guessed RecoveredModel" in printed
    assert "forward runs on example_inputs() -> [2, 5]" in printed
    # F.max_pool2d twice: the default pools nothing, so the smoke input is the image that reaches
    # fc1 without them (the file says guessed; calibration on the real inputs adds the pools)
    _, ckpt, *_ = recorded("pooled_cnn")
    code, printed, _ = run_cli(capsys, "generate", ckpt, "-o", tmp_path / "cnn.py")
    assert code == 0
    assert "forward trust: guessed RecoveredModel" in printed
    assert "forward runs on example_inputs() -> [2, 10]" in printed

    class Attention(torch.nn.Module):  # heads no key records: the class raises, naming them
        def __init__(self) -> None:
            super().__init__()
            for name in ("q_proj", "k_proj", "v_proj", "out_proj"):
                setattr(self, name, torch.nn.Linear(16, 16))

    net = torch.nn.Sequential(torch.nn.Linear(4, 16), Attention(), torch.nn.Linear(16, 3))
    torch.save(net.state_dict(), tmp_path / "attention.pt")
    code, printed, _ = run_cli(
        capsys, "generate", tmp_path / "attention.pt", "-o", tmp_path / "a.py"
    )
    assert code == 0
    assert "forward trust: inferred RecoveredModel; missing Attention" in printed
    assert re.search(
        r"forward fails on inputs synthesized from the first layer Linear: Attention\.forward, "
        r"line \d+ `raise NotImplementedError\(`: NotImplementedError: modelgen could not infer "
        r"an attention whose heads",
        printed,
    )
    _, ckpt, *_ = recorded("two_tower")  # widths do not chain: the forward says it is missing
    printed = run_cli(capsys, "generate", ckpt, "-o", tmp_path / "towers.py")[1]
    assert "forward trust: missing RecoveredModel" in printed
    assert re.search(
        r"RecoveredModel\.forward, line \d+ `raise NotImplementedError\(`: NotImplementedError: "
        r"modelgen could not infer the order in which fc_a, fc_b, head are applied",
        printed,
    )
    _, ckpt, *_ = recorded("mlp")
    printed = run_cli(capsys, "generate", ckpt, "-o", tmp_path / "mlp.py")[1]
    assert "forward runs on inputs synthesized from the first layer Linear -> [2, 8, 5]" in printed


def test_models_too_large_to_run_quickly_are_not_run_and_say_so(recorded, tmp_path, monkeypatch):
    import codegen.harness.forward_run as forward_run
    from codegen.generate import generate_file
    from codegen.load import open_checkpoint
    from codegen.output import Output

    monkeypatch.setattr(forward_run, "CPU_MAX_TENSORS", 10)
    _, ckpt, *_ = recorded("resnet_tiny")
    report = generate_file(open_checkpoint(ckpt).table, Output(tmp_path / "m.py"))
    assert report.forward.status == "skipped"
    assert report.forward.summary().endswith(
        "are more than generate runs (50,000,000 / 10); " "modelgen verify runs it"
    )


def test_verify_json_carries_the_numbers_and_labels_torchscript(recorded, tmp_path, capsys):
    _, ckpt, data, *_ = recorded("tanh_mlp")
    out = tmp_path / "model.py"
    run_cli(capsys, "generate", ckpt, "-o", out)
    code, summary, _ = run_json(capsys, "verify", ckpt, out, "--data", data)
    assert code == 1 and summary["ok"] is False and summary["evidence"] == "outputs"
    [diff] = summary["outputs"]
    assert diff["name"] == "output" and diff["shape"] == "[8, 3]" and not diff["within"]
    assert diff["max_abs"] > 0.1 and diff["max_rel"] > 0.1
    assert summary["torchscript_vs_eager_max_diff"] == 0.0  # the export against eager, not DATA
    # Loose enough tolerances pass the same file: the limits are the user's.
    code, summary, _ = run_json(
        capsys, "verify", ckpt, out, "--data", data, "--atol", "10", "--rtol", "0"
    )
    assert code == 0 and summary["outputs"][0]["within"]


def test_verify_says_what_data_without_outputs_can_prove(recorded, tmp_path, capsys):
    original, ckpt, _, inputs, outputs = recorded("tanh_mlp")
    out = tmp_path / "model.py"
    run_cli(capsys, "generate", ckpt, "-o", out)
    torch.save({"inputs": inputs}, tmp_path / "inputs_only.pt")
    code, printed, _ = run_cli(capsys, "verify", ckpt, out, "--data", tmp_path / "inputs_only.pt")
    assert code == 0 and "a smoke test was all that was possible" in printed
    torch.save({"x": inputs[0], "y": outputs + 0.1}, tmp_path / "targets.pt")
    code, summary, err = run_json(capsys, "verify", ckpt, out, "--data", tmp_path / "targets.pt")
    assert code == 0 and summary["evidence"] == "targets" and summary["loss"] > 0
    assert "exactness cannot be proven" in err


def test_calibration_on_training_targets_cannot_prove_and_refits_the_head(
    recorded, tmp_path, capsys
):
    """The seed-style task: targets, not outputs. Scores are losses after the closed-form head
    refit; the file is written, the command exits 1 and says why."""
    original, ckpt, _, inputs, outputs = recorded("lstm_lm")
    torch.manual_seed(3)
    noisy = outputs + 0.5 * torch.randn_like(outputs)
    torch.save({"inputs": inputs, "targets": noisy}, tmp_path / "train.pt")
    out = tmp_path / "model.py"
    code, printed, err = run_cli(
        capsys, "generate", ckpt, "-o", out, "--calibrate", tmp_path / "train.pt"
    )
    assert code == 1 and out.is_file() and "training targets prove nothing exact" in err
    assert "exactness cannot be proven and no choice is taken from them" in printed
    assert "relative loss after refitting the head" in printed and "  kept " not in printed
    text = out.read_text()
    assert "exactness cannot be proven" in text and "Forward trust: exact" not in text
    assert "- calibrated:" not in text  # a wrong architecture can fit targets better: none is taken


def test_calibration_explains_candidates_that_do_not_run(recorded, tmp_path, capsys):
    _, ckpt, data, *_ = recorded("pooled_cnn")  # one pooling alone leaves fc1 the wrong width
    code, printed, err = run_cli(
        capsys, "generate", ckpt, "-o", tmp_path / "m.py", "--calibrate", data
    )
    assert code == 0, err
    assert re.search(
        r": inf, does not run: RecoveredModel\.forward, line \d+ `x = self\.fc1\(x\)`: "
        r"RuntimeError",
        printed,
    )
    assert "kept RecoveredModel.conv1 pooling_after = 'max_pool'" in printed
    assert re.search(r"calibration search: \d+ candidates evaluated in [\d.]+ s", printed)
    text = (tmp_path / "m.py").read_text()
    assert "Forward trust: exact (verified against DATA)." in text


def test_defaults_that_already_reproduce_are_not_labelled_calibrated(recorded, tmp_path, capsys):
    _, ckpt, data, *_ = recorded("mlp")
    out = tmp_path / "m.py"
    code, printed, _ = run_cli(capsys, "generate", ckpt, "-o", out, "--calibrate", data)
    assert code == 0 and "kept" not in printed
    text = out.read_text()
    assert "- calibrated:" not in text and "Forward trust: exact (verified against DATA)." in text
