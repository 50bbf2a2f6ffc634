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
