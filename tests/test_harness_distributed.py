"""`finetune --nproc 2` (gloo on CPU) takes the same steps as one process: the slow test of the harness."""

from __future__ import annotations

import pytest
import torch

from tests.harness_support import run_json, write_tiny

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit:DeprecationWarning")


def test_two_processes_match_one(capsys, tmp_path):
    weights, data, model = write_tiny(
        tmp_path, samples=75
    )  # 68 train samples: ranks get unequal shares
    common = (
        "finetune",
        weights,
        f"{model}:TinyRegressor",
        "--data",
        data,
        "--train",
        "body.3,head",
        "--epochs",
        "4",
        "--batch-size",
        "10",
        "--lr",
        "0.01",
        "--device",
        "cpu",
    )
    code1, one, _ = run_json(capsys, *common, "--save-state", tmp_path / "one.pt")
    code2, two, _ = run_json(capsys, *common, "--nproc", "2", "--save-state", tmp_path / "two.pt")

    assert code1 == code2 == 0 and two["nproc"] == 2
    assert one["method"] == two["method"] == "adam" and one["epochs"] == two["epochs"] == 4
    assert one["final"] < one["baseline"]
    assert two["baseline"] == pytest.approx(one["baseline"], rel=1e-6)
    assert two["final"] == pytest.approx(one["final"], rel=1e-4)
    for a, b in zip(one["history"], two["history"]):
        assert b["train"] == pytest.approx(a["train"], rel=1e-4) and b["val"] == pytest.approx(
            a["val"], rel=1e-4
        )
    s1, s2 = torch.load(tmp_path / "one.pt"), torch.load(tmp_path / "two.pt")
    for key in s1:
        assert torch.allclose(s1[key], s2[key], rtol=1e-4, atol=1e-6), key
