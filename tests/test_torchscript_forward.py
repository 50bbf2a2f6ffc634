"""Forwards translated from a TorchScript archive's code/ (torch.jit.script and torch.jit.trace):
exact with no data, and the generated file scripts again."""

from __future__ import annotations

import pytest
import torch

from codegen.generate import generate_source
from codegen.harness.model_ref import load_model_class
from codegen.load import open_checkpoint
from tests.zoo import INPUTS, build

# The zoo models whose recorded forward translates whole, by how the archive was made.
EXACT_FROM = {
    "script": sorted(INPUTS),
    "trace": sorted(INPUTS),
}


def _archive(name: str, how: str, path) -> torch.nn.Module:
    original = build(name)
    inputs = INPUTS[name]()
    if how == "script":
        module = torch.jit.script(original)
    else:
        module = torch.jit.trace(original, inputs, check_trace=False)
    torch.jit.save(module, path)
    return original


def _generate(path, tmp_path):
    source, ir = generate_source(open_checkpoint(path).table)
    out = tmp_path / "model.py"
    out.write_text(source)
    return source, ir, load_model_class(str(out))


@pytest.mark.parametrize("how", ["script", "trace"])
@pytest.mark.parametrize("name", sorted(INPUTS))
def test_zoo_forward_from_archive(name, how, tmp_path):
    path = tmp_path / f"{name}.pt"
    original = _archive(name, how, path)
    source, ir, cls = _generate(path, tmp_path)
    model = cls().eval()
    model.load_state_dict(original.state_dict(), strict=True)
    trust = ir.trust_levels()
    if name not in EXACT_FROM[how]:
        assert set(trust.values()) != {"exact"}
        return
    # a top class that subclasses a recorded nn.Sequential runs torch's own forward
    containers = {c.name for c in ir.classes if c.base_module is not None}
    assert all(t == "exact" for c, t in trust.items() if c not in containers), trust
    inputs = INPUTS[name]()
    with torch.no_grad():
        expected = original(*inputs)
        torch.testing.assert_close(model(*inputs), expected, atol=1e-6, rtol=1e-6)
        scripted = torch.jit.script(model)
        torch.testing.assert_close(scripted(*inputs), expected, atol=1e-6, rtol=1e-6)


# ------------------------------------------------------------------------- outside the vocabulary


class Gated(torch.nn.Module):
    """Control flow on a value: TorchScript keeps the `if`, which the graph cannot hold."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = torch.nn.Linear(4, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.fc(x)
        if bool(y.sum() > 0):
            y = y * 2
        return torch.relu(y)


class Wrapper(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.gate = Gated()
        self.head = torch.nn.Linear(4, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.gate(x))


def test_untranslatable_code_is_flagged_not_emitted(tmp_path):
    torch.manual_seed(0)
    torch.jit.save(torch.jit.script(Wrapper().eval()), tmp_path / "w.pt")
    source, ir, _ = _generate(tmp_path / "w.pt", tmp_path)
    gated = next(c for c in ir.classes if c.name == "Gated")
    assert gated.forward.trust in ("guessed", "missing")
    assert "not used: it uses a statement the translation does not cover (if)" in (
        gated.forward.trust_note + gated.forward.missing
    )
    assert (
        "if " not in source.split("class Gated", 1)[1].split("class ", 1)[0].split("def forward")[1]
    )
    top = next(c for c in ir.classes if c.is_top)
    assert top.forward.pattern == "TorchScript"  # the wrapper's own code still translates


def test_inspect_shows_what_the_archive_revealed(tmp_path):
    from codegen.load.module_pickle import revealed

    torch.jit.save(torch.jit.script(Wrapper().eval()), tmp_path / "w.pt")
    seen = revealed(open_checkpoint(tmp_path / "w.pt").table.modules)
    assert seen["own_classes"] == ["Gated", "Wrapper"]
    assert seen["forward_code_translated"] == ["Wrapper"]
    assert "if" in seen["forward_code_not_translated"]["Gated"]
    assert seen["torch_nn_modules"] == 2 and seen["attributes"] >= 4
    torch.save(Wrapper(), tmp_path / "p.pt")
    pickled = revealed(open_checkpoint(tmp_path / "p.pt").table.modules)
    assert "forward_code_translated" not in pickled and pickled["modules"] == 4


def test_translated_graph_names_only_checked_identifiers(tmp_path):
    """Every call in a translated graph is a vocabulary name or a member of the class."""
    from codegen.ir.graph import F_OPS, TENSOR_METHODS, TORCH_OPS

    allowed = {f"torch.{n}" for n in TORCH_OPS} | {f"F.{n}" for n in F_OPS}
    allowed |= {"add", "sub", "mul", "truediv", "floordiv", "matmul", "getitem"}
    for name in ("vit_tiny", "seed_transformer", "lstm_tagger"):
        path = tmp_path / f"{name}.pt"
        _archive(name, "script", path)
        for _, desc in open_checkpoint(path).table.modules.walk():
            g = desc.forward_graph
            for node in g.nodes if g is not None else ():
                if node.op == "call_function":
                    assert node.target in allowed, node.target
                elif node.op == "call_method":
                    assert node.target in TENSOR_METHODS or node.target in ("size",)
                elif node.op in ("call_module", "getattr"):
                    assert node.target[0] in desc.children or node.target[0] in (
                        *desc.parameters,
                        *desc.buffers,
                        "training",
                    )


@pytest.mark.parametrize("name", ["cnn", "mlp", "conv1d"])
def test_traced_layers_get_their_constructor_values_back(name, tmp_path):
    """A trace records no class constants: each traced torch.nn layer's one aten call holds them
    (strides, paddings, pool sizes, eps...), and they come back as the recorded arguments."""
    from tests.test_sources import SEQUENTIAL_INPUTS, assert_same_layers, sequential_zoo

    original = sequential_zoo()[name].eval()
    x = SEQUENTIAL_INPUTS[name]()
    torch.jit.save(torch.jit.trace(original, (x,)), tmp_path / "t.pt")
    source, ir, cls = _generate(tmp_path / "t.pt", tmp_path)
    model = cls().eval()
    model.load_state_dict(original.state_dict(), strict=True)
    if name == "conv1d":
        # a reflect-padded conv traces as a pad op and a conv with padding 0: not read back, and
        # the file says the padding was left at a default rather than claim it
        assert "left at defaults: padding ([0])" in source
        return
    with torch.no_grad():
        torch.testing.assert_close(model(x), original(x), atol=1e-6, rtol=1e-6)
    assert_same_layers(model, original)
