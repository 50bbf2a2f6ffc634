"""DATA recorded the way users record a Hugging Face model: the tokenizer's dict of named inputs.

verify, finetune and generate --calibrate pass those inputs in the order the generated forward
takes them, whatever order the dict holds them in.
"""

from __future__ import annotations

import pytest
import torch

transformers = pytest.importorskip("transformers")

from codegen.cli.main import main  # noqa: E402
from tests.harness_support import one_line_error, run_cli, run_json  # noqa: E402
from tests.test_transformers_families import build  # noqa: E402


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("named")
    model = build("bert")
    model.save_pretrained(tmp / "hf")
    ids = torch.randint(2, 100, (6, 9))
    mask = torch.ones(6, 9, dtype=torch.long)
    mask[2, 5:] = 0
    with torch.no_grad():
        out = model(input_ids=ids, attention_mask=mask).last_hidden_state
    # The dict in another order than forward's parameters, as a user may build it.
    torch.save({"inputs": {"attention_mask": mask, "input_ids": ids}, "outputs": out}, tmp / "d.pt")
    assert main(["generate", str(tmp / "hf"), "-o", str(tmp / "model.py")]) == 0
    return tmp


def test_verify_passes_named_inputs_by_forwards_order(recorded, capsys):
    files = [recorded / "hf", recorded / "model.py", "--data", recorded / "d.pt"]
    code, report, err = run_json(capsys, "verify", *files)
    assert code == 0 and report["evidence"] == "outputs", err
    assert all(d["within"] and d["max_abs"] < 1e-5 for d in report["outputs"])


def test_calibrate_passes_named_inputs_by_forwards_order(recorded, tmp_path):
    out = tmp_path / "calibrated.py"
    args = ["generate", str(recorded / "hf"), "-o", str(out), "--calibrate", str(recorded / "d.pt")]
    assert main(args) == 0
    assert 'verified "d.pt"' in out.read_text()  # the search reproduced DATA's outputs


def test_finetune_passes_named_inputs_by_forwards_order(recorded, tmp_path, capsys):
    recorded_data = torch.load(recorded / "d.pt")
    # Training targets a little off the model's outputs; the inputs as the dict holds them.
    targets = recorded_data["outputs"] * 1.1
    torch.save({"inputs": recorded_data["inputs"], "targets": targets}, tmp_path / "t.pt")
    files = [recorded / "hf", recorded / "model.py", "--data", tmp_path / "t.pt"]
    train = ["--train", "encoder.layer.1.output.LayerNorm", "--epochs", "20", "--lr", "0.05"]
    code, report, err = run_json(capsys, "finetune", *files, *train)
    assert code == 0, err
    assert report["final"] < report["baseline"] / 2


def test_finetune_refuses_layers_the_output_does_not_pass_through(recorded, tmp_path, capsys):
    # The encoder returns its hidden states: the pooler beside them cannot change the output.
    files = [recorded / "hf", recorded / "model.py", "--data", recorded / "d.pt"]
    code, out, err = run_cli(capsys, "finetune", *files, "--train", "pooler")
    assert code == 2 and not out
    assert "output does not depend on --train pooler" in one_line_error(err)
