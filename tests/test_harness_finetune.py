"""`modelgen finetune` on tiny models: method choice, --train patterns, frozen tensors, failure modes."""

from __future__ import annotations

import pytest
import torch

from codegen.harness.freeze import freeze
from codegen.harness.lstsq import NormalEquations
from codegen.harness.model_ref import load_model_class
from tests.harness_support import one_line_error, run_cli, run_json, write_classifier, write_tiny

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit:DeprecationWarning")


@pytest.fixture
def tiny(tmp_path):
    weights, data, model = write_tiny(tmp_path)
    return weights, data, f"{model}:TinyRegressor"


def finetune(capsys, tiny, *args):
    weights, data, model = tiny
    return run_json(capsys, "finetune", weights, model, "--data", data, *args)


def test_final_linear_under_mse_is_solved_by_least_squares(capsys, tiny, tmp_path):
    code, summary, _ = finetune(
        capsys, tiny, "--train", "head", "--save-state", tmp_path / "tuned.pt"
    )
    assert code == 0
    assert summary["method"] == "lstsq" and summary["cached_features"] is True
    assert summary["trainable"] == 12 * 3 + 3 and summary["total"] == 303
    assert (
        summary["final"] < summary["baseline"] / 3
        and summary["final_val"] < summary["baseline_val"]
    )
    for field in ("baseline", "final", "method", "trainable", "seconds", "history", "ridge"):
        assert field in summary
    assert summary["seconds"] > 0
    # The BatchNorm statistics of the frozen trunk (moved away from their defaults) did not change.
    original = torch.load(tiny[0], weights_only=True)
    tuned = torch.load(tmp_path / "tuned.pt", weights_only=True)
    assert {k for k in original if not torch.equal(original[k], tuned[k])} == {
        "head.weight",
        "head.bias",
    }
    assert not torch.equal(original["body.1.running_mean"], torch.zeros(12))


def test_adam_when_the_trainable_part_is_not_a_final_linear(capsys, tiny, tmp_path):
    code, summary, _ = finetune(
        capsys,
        tiny,
        "--train",
        "body.3",
        "--epochs",
        "8",
        "--lr",
        "0.01",
        "--save-state",
        tmp_path / "tuned.pt",
    )
    assert code == 0
    assert summary["method"] == "adam" and summary["cached_features"] is False
    assert summary["final_val"] < summary["baseline_val"]
    assert 1 <= summary["epochs"] <= 8 and summary["history"][0]["epoch"] == 0
    original = torch.load(tiny[0], weights_only=True)
    tuned = torch.load(tmp_path / "tuned.pt", weights_only=True)
    assert {k for k in original if not torch.equal(original[k], tuned[k])} == {
        "body.3.weight",
        "body.3.bias",
    }


def test_adam_on_cached_features_for_a_head_under_l1(capsys, tiny):
    code, summary, _ = finetune(
        capsys, tiny, "--train", "head", "--loss", "l1", "--epochs", "5", "--lr", "0.02"
    )
    assert code == 0
    assert summary["method"] == "adam" and summary["cached_features"] is True
    assert "l1" in summary["method_reason"] and summary["final"] < summary["baseline"]


def test_method_adam_can_be_forced_and_lstsq_refused(capsys, tiny):
    code, summary, _ = finetune(
        capsys, tiny, "--train", "head", "--method", "adam", "--epochs", "3", "--lr", "0.02"
    )
    assert code == 0 and summary["method"] == "adam"
    code, out, err = run_cli(
        capsys,
        "finetune",
        tiny[0],
        tiny[2],
        "--data",
        tiny[1],
        "--train",
        "body.0",
        "--method",
        "lstsq",
    )
    assert code == 2 and "--method lstsq:" in one_line_error(err)


def test_glob_patterns_select_parameters_by_name_or_module(tiny):
    model = load_model_class(tiny[2])()
    assert freeze(model, ["*.bias"]).names == [
        "body.0.bias",
        "body.1.bias",
        "body.3.bias",
        "head.bias",
    ]
    assert freeze(model, ["body.*"]).trainable == 6 * 12 + 12 + 12 + 12 + 12 * 12 + 12
    selection = freeze(model, ["body.[03]", "head.weight"])
    assert selection.names == [
        "body.0.weight",
        "body.0.bias",
        "body.3.weight",
        "body.3.bias",
        "head.weight",
    ]
    assert [n for n, p in model.named_parameters() if p.requires_grad] == selection.names


def test_glob_training_only_biases(capsys, tiny):
    code, summary, _ = finetune(capsys, tiny, "--train", "*.bias", "--epochs", "4", "--lr", "0.05")
    assert code == 0 and summary["trainable"] == 12 + 12 + 12 + 3
    assert summary["trainable_names"] == ["body.0.bias", "body.1.bias", "body.3.bias", "head.bias"]


def test_cross_entropy_on_a_token_classifier(capsys, tmp_path):
    weights, data, model = write_classifier(tmp_path)
    code, summary, _ = run_json(
        capsys,
        "finetune",
        weights,
        model,
        "--data",
        data,
        "--train",
        "proj,out",
        "--loss",
        "cross_entropy",
        "--epochs",
        "10",
        "--lr",
        "0.02",
        "--out",
        tmp_path / "cls.pt",
    )
    assert code == 0 and summary["method"] == "adam"
    assert summary["final"] < summary["baseline"]
    assert summary["export"]["max_diff"] <= 1e-5


def test_exit_1_when_the_loss_does_not_improve(capsys, tiny, tmp_path):
    weights, data, model = tiny
    code, out, err = run_cli(
        capsys,
        "finetune",
        weights,
        model,
        "--data",
        data,
        "--train",
        "body.3",
        "--lr",
        "1e-12",
        "--epochs",
        "1",
        "--out",
        tmp_path / "never.pt",
    )
    assert code == 1
    assert "loss did not improve" in one_line_error(err)
    assert not (tmp_path / "never.pt").exists()


def test_pattern_matching_nothing_names_the_modules(capsys, tiny):
    code, _, err = run_cli(
        capsys, "finetune", tiny[0], tiny[2], "--data", tiny[1], "--train", "decoder.*"
    )
    assert code == 2
    assert one_line_error(err).endswith(
        "--train decoder.*: matches no parameter (top-level modules: body, head)"
    )


@pytest.mark.parametrize(
    "build, args, message",
    [
        (
            lambda x, y: {"x": x, "y": y},
            ["--inputs", "src"],
            "no key 'src' for --inputs (keys: x, y)",
        ),
        (
            lambda x, y: {"x": x, "y": y},
            ["--target", "labels"],
            "no key 'labels' for --target (keys: x, y)",
        ),
        (
            lambda x, y: {"features": x},
            [],
            "no inputs found; name them with --inputs K1,K2 (keys: features)",
        ),
        (lambda x, y: {"x": x}, [], "no target found; name it with --target K (keys: x)"),
        (
            lambda x, y: {"x": x[:, :4], "y": y},
            [],
            "inputs (x [96, 4]) do not fit the model: RuntimeError",
        ),
        (
            lambda x, y: {"x": x, "y": y[:, :2]},
            [],
            "target y [*, 2] does not match the model output [*, 3]",
        ),
        (
            lambda x, y: {"x": x, "y": y[:50]},
            [],
            "inputs and target differ in sample count (x has 96, y has 50)",
        ),
        (
            lambda x, y: {"x": x.index_fill(0, torch.tensor([3]), float("nan")), "y": y},
            [],
            "x holds 6 NaN value(s)",
        ),
        (
            lambda x, y: {"x": x, "y": y.index_fill(0, torch.tensor([0]), float("inf"))},
            [],
            "y holds 3 inf value(s)",
        ),
        (lambda x, y: ("just", "strings"), [], "inputs is a str, not a tensor"),
        (
            lambda x, y: ((x, x), y),
            [],
            "forward(x) does not take 2 input(s) (inputs[0], inputs[1])",
        ),
    ],
)
def test_bad_data_is_one_line_exit_2(capsys, tiny, tmp_path, build, args, message):
    weights, data, model = tiny
    d = torch.load(data, weights_only=True)
    bad = tmp_path / "bad.pt"
    torch.save(build(d["x"], d["y"]), bad)
    code, _, err = run_cli(
        capsys, "finetune", weights, model, "--data", bad, "--train", "head", *args
    )
    assert code == 2
    line = one_line_error(err)
    assert f"bad.pt: {message}" in line, line


def test_outputs_never_overwrite_the_checkpoint(capsys, tiny):
    weights, data, model = tiny
    code, _, err = run_cli(
        capsys,
        "finetune",
        weights,
        model,
        "--data",
        data,
        "--train",
        "head",
        "--save-state",
        weights,
    )
    assert code == 2 and "that is the input checkpoint" in one_line_error(err)


def test_a_missing_remap_file_is_one_line(capsys, tiny):
    weights, data, model = tiny
    code, _, err = run_cli(
        capsys, "finetune", weights, model, "--data", data, "--train", "head", "--remap", "r.json"
    )
    assert code == 2 and one_line_error(err) == "modelgen: error: r.json: no such remap file"


def test_least_squares_recovers_an_exact_linear_map_and_ridges_a_singular_one():
    torch.manual_seed(0)
    linear = torch.nn.Linear(5, 2)
    w, b = torch.randn(2, 5), torch.randn(2)
    x = torch.randn(40, 5)
    equations = NormalEquations(linear, torch.device("cpu"))
    equations.add(x, x @ w.T + b)
    assert equations.solve_into_linear() == 0.0
    assert torch.allclose(linear.weight, w, atol=1e-5) and torch.allclose(linear.bias, b, atol=1e-5)

    duplicated = torch.cat([x[:, :4], x[:, :1]], dim=1)  # two equal columns: XᵀX is singular
    equations = NormalEquations(linear, torch.device("cpu"))
    equations.add(duplicated, duplicated @ w.T + b)
    assert equations.solve_into_linear() > 0.0
    assert torch.isfinite(linear.weight).all()
    assert torch.allclose(linear(duplicated), duplicated @ w.T + b, atol=1e-3)
