"""DATA files: every layout DESIGN.md lists, and one-line errors for files that are not data."""

from __future__ import annotations

import pytest
import torch

from codegen.errors import ModelgenError
from codegen.harness.data import load_data

X, Y, Z = torch.randn(5, 3), torch.randn(5, 2), torch.randn(5, 4)


@pytest.mark.parametrize(
    "value, names, target_name",
    [
        ({"inputs": X, "outputs": Y}, ("inputs",), "outputs"),
        ({"inputs": (X, Z), "targets": Y}, ("inputs[0]", "inputs[1]"), "targets"),
        ({"inputs": [X, Z], "targets": Y}, ("inputs[0]", "inputs[1]"), "targets"),
        ({"x": X, "y": Y}, ("x",), "y"),
        ({"X": X, "target": Y}, ("X",), "target"),
        ({"input": X, "y": Y}, ("input",), "y"),
        ((X, Y), ("inputs",), "outputs"),
        (((X, Z), Y), ("inputs[0]", "inputs[1]"), "outputs"),
    ],
)
def test_layouts(tmp_path, value, names, target_name):
    torch.save(value, tmp_path / "d.pt")
    data = load_data(tmp_path / "d.pt")
    assert data.input_names == names and data.target_name == target_name
    assert torch.equal(data.inputs[0], X) and torch.equal(data.target, Y) and len(data) == 5


def test_named_keys_pick_inputs_in_order_and_the_target(tmp_path):
    torch.save({"b": Z, "a": X, "label": Y, "extra": "ignored"}, tmp_path / "d.pt")
    data = load_data(tmp_path / "d.pt", inputs="a,b", target="label")
    assert (
        data.input_names == ("a", "b")
        and torch.equal(data.inputs[1], Z)
        and data.target_name == "label"
    )
    assert data.take(torch.tensor([4, 0])).inputs[0].shape == (2, 3)


def test_a_bare_tensor_is_inputs_without_a_target(tmp_path):
    torch.save(X, tmp_path / "d.pt")
    assert load_data(tmp_path / "d.pt", need_target=False).target is None
    with pytest.raises(ModelgenError, match="no target found"):
        load_data(tmp_path / "d.pt")


class Payload:
    """Stands for any class a pickle could name: unpickling it would import and call code."""


def test_a_pickle_that_could_run_code_is_refused(tmp_path):
    torch.save({"x": X, "y": Y, "extra": Payload()}, tmp_path / "evil.pt")
    with pytest.raises(
        ModelgenError, match=r"evil.pt: refused to unpickle: it needs the global .*Payload"
    ):
        load_data(tmp_path / "evil.pt")


@pytest.mark.parametrize(
    "value, message",
    [
        ({"x": torch.tensor(1.0), "y": Y}, "x is a scalar; dimension 0 must count the samples"),
        ({"x": X[:0], "y": Y[:0]}, "holds 0 samples"),
        ([X, Y, Z], "unknown DATA layout (list)"),
    ],
)
def test_unusable_contents(tmp_path, value, message):
    torch.save(value, tmp_path / "d.pt")
    with pytest.raises(ModelgenError) as e:
        load_data(tmp_path / "d.pt")
    assert message in str(e.value)


def test_missing_and_garbage_files(tmp_path):
    with pytest.raises(ModelgenError, match="no such file"):
        load_data(tmp_path / "none.pt")
    (tmp_path / "junk.pt").write_bytes(b"\x80\x04not really a pickle")
    with pytest.raises(ModelgenError, match="junk.pt"):
        load_data(tmp_path / "junk.pt")


def test_named_inputs_follow_forwards_parameter_order(tmp_path):
    # A tokenizer's output saved as it comes: names, in any order.
    torch.save({"inputs": {"attention_mask": Z, "input_ids": X}, "outputs": Y}, tmp_path / "d.pt")
    data = load_data(tmp_path / "d.pt")
    assert data.named and data.input_names == ("attention_mask", "input_ids")
    ordered = data.in_order(["input_ids", "attention_mask", "token_type_ids"])
    assert ordered.input_names == ("input_ids", "attention_mask")
    assert torch.equal(ordered.inputs[0], X) and torch.equal(ordered.inputs[1], Z)
    assert data.in_order(None) is data  # forward(*args): the order is DATA's


def test_one_named_input_is_forwards_first_whatever_its_name(tmp_path):
    torch.save({"inputs": {"pixel_values": X}, "outputs": Y}, tmp_path / "d.pt")
    ordered = load_data(tmp_path / "d.pt").in_order(["x"])
    assert len(ordered.inputs) == 1 and torch.equal(ordered.inputs[0], X)


@pytest.mark.parametrize(
    "params, message",
    [
        (
            ["input_ids", "mask"],
            "input 'attention_mask' is not a parameter of forward(input_ids, mask)",
        ),
        (
            ["input_ids", "token_type_ids", "attention_mask"],
            "forward(input_ids, token_type_ids, attention_mask) takes 'token_type_ids' before "
            "attention_mask, and DATA has no 'token_type_ids'",
        ),
    ],
)
def test_named_inputs_that_cannot_be_passed_say_why(tmp_path, params, message):
    torch.save(({"input_ids": X, "attention_mask": Z}, Y), tmp_path / "d.pt")
    with pytest.raises(ModelgenError) as e:
        load_data(tmp_path / "d.pt").in_order(params)
    assert message in str(e.value)
