"""The renderer on hand-built IR: no analyzer, no checkpoint; the source must load and compute."""

from __future__ import annotations

import torch
import torch.nn as nn

from codegen.harness.model_ref import load_model_class
from codegen.ir import Arg, Choice, ClassDef, Forward, Module, ModelIR, Param, Ref, Source
from codegen.ir.graph import Graph
from codegen.render import render_source


def source_info() -> Source:
    return Source(file="hand.pt", format="test", num_tensors=4, fingerprint="0" * 16)


def mlp_ir(missing: str = "") -> ModelIR:
    """fc2(relu(fc1(x))) with the hidden width a constructor parameter."""
    g = Graph()
    x = g.input("x")
    g.output(g.call_module(("fc2",), g.call_function("relu", g.call_module(("fc1",), x))))
    relu = Choice("activation", "relu", ["gelu"], path="RecoveredModel.fc1")
    top = ClassDef(
        "RecoveredModel",
        params=[Param("hidden_dim", "int", 16, "fc1.weight.shape[0]")],
        members=[
            Module("fc1", "builtin", "nn.Linear", [Arg(None, 8), Arg(None, Ref("hidden_dim"))]),
            Module("fc2", "builtin", "nn.Linear", [Arg(None, Ref("hidden_dim")), Arg(None, 3)]),
        ],
        forward=Forward(inputs=[("x", "torch.Tensor")], choices=[relu], graph=g, missing=missing),
        is_top=True,
    )
    return ModelIR([top], source_info(), summary="RecoveredModel: 2 Linear")


def load(source: str, tmp_path) -> type:
    path = tmp_path / f"rendered_{abs(hash(source))}.py"  # TorchScript reads the source file
    path.write_text(source)
    return load_model_class(str(path))


def test_a_hand_built_mlp_renders_to_a_module_that_computes_it(tmp_path):
    source = render_source(mlp_ir())
    assert "hidden_dim: int = 16,  # fc1.weight.shape[0]" in source
    assert "self.fc1 = nn.Linear(8, hidden_dim)" in source
    assert "x = self.fc1(x)\n        x = F.relu(x)\n        return self.fc2(x)\n" in source
    # imports come from the graph: F for relu, nothing for math
    assert "import torch.nn.functional as F" in source and "import math" not in source
    assert all(len(line) <= 100 for line in source.splitlines())

    model = load(source, tmp_path)().eval()
    reference = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3)).eval()
    renamed = {"0": "fc1", "2": "fc2"}
    state = reference.state_dict()
    model.load_state_dict({renamed[k[0]] + k[1:]: v for k, v in state.items()}, strict=True)
    x = torch.randn(4, 8)
    torch.testing.assert_close(model(x), reference(x))
    torch.testing.assert_close(torch.jit.script(model)(x), reference(x))
    assert load(source, tmp_path)(hidden_dim=32).fc1.out_features == 32


def test_a_forward_that_could_not_be_inferred_raises_naming_the_gap(tmp_path):
    source = render_source(mlp_ir(missing="the order of fc1 and fc2"))
    model = load(source, tmp_path)()
    try:
        model(torch.randn(2, 8))
    except NotImplementedError as e:
        assert str(e) == "modelgen could not infer the order of fc1 and fc2"
    else:
        raise AssertionError("the forward should raise")
    assert "import torch.nn.functional as F" not in source  # no graph printed, nothing imported
