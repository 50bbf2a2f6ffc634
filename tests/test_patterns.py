"""Every registered pattern's examples: generate from the state dict, strict load, equal outputs,
TorchScript. Adding a pattern file adds its cases here; nothing to list by hand."""

from __future__ import annotations

import pytest
import torch

from codegen.generate import generate_source
from codegen.keytree import build_tree
from codegen.load import open_checkpoint
from codegen.patterns import registry
from codegen.patterns._kit import LayerContext
from codegen.choices import ChoiceResolver
from tests.generated_module import load_module, once_per_content, script_once

# One case per pattern, its examples built when it runs: building all ~550 at import (for one id
# per example) made every pytest-xdist worker spend seconds of its collection on them and on the
# libraries they import. Each example is a subtest (`example=N` in a failure), checked even where
# an earlier one fails.
CASES = [pytest.param(p, id=f"{p.kind}-{type(p).__name__}") for p in registry.all_patterns()]


def generated_model(module: torch.nn.Module, tmp_path, metadata: dict | None = None):
    path = tmp_path / "example.pt"
    torch.save(
        (
            {"state_dict": module.state_dict(), "config": metadata}
            if metadata
            else module.state_dict()
        ),
        path,
    )
    # Examples of several patterns are often the same module (a block and the family around it):
    # their checkpoints are byte for byte the same, generated once (the gate audit is on for all).
    source, ir = once_per_content(
        path, registry.AUDIT_GATES, lambda: generate_source(open_checkpoint(path).table)
    )
    (tmp_path / "model.py").write_text(source)
    generated = load_module(tmp_path / "model.py")
    model = generated.RecoveredModel()
    model.load_state_dict(module.state_dict(), strict=True)
    return model.eval(), source, ir


@pytest.mark.parametrize("pattern", CASES)
def test_pattern_examples(pattern, tmp_path, monkeypatch, subtests):
    # Every block trial here also asks the patterns its declared gates skip (_kit.Accepts): each
    # must return None, or the gate is unsound.
    monkeypatch.setattr(registry, "AUDIT_GATES", True)
    torch.manual_seed(0)  # the examples' weights and inputs, the same whatever ran before
    examples = pattern.examples()
    assert examples, f"{pattern!r} has no examples"
    for i, example in enumerate(examples):
        with subtests.test(example=i):
            _check_example(pattern, example, tmp_path / str(i))


def _check_example(pattern, example, tmp_path):
    tmp_path.mkdir()
    torch.manual_seed(0)
    reference = example.module.eval()
    model, source, ir = generated_model(reference, tmp_path, example.metadata)
    if pattern.kind == "layer":
        own = type(reference).__module__.startswith("torch.nn")
        for layer in [reference] if own else reference.children():
            assert (
                f"nn.{type(layer).__name__}(" in source or f"(nn.{type(layer).__name__})" in source
            )
    else:
        assert type(pattern).__name__ in [c.forward.pattern for c in ir.classes]
    if example.inputs is not None:
        with torch.no_grad():
            torch.testing.assert_close(model(*example.inputs), reference(*example.inputs))
    script_once(model, source)


def test_the_winner_does_not_depend_on_catalogue_order(monkeypatch):
    table = {"proj.weight": (8, 4)}
    node = _node(table).children["proj"]
    forward = registry.best("layer", node, LayerContext(ChoiceResolver()))
    monkeypatch.setattr(registry, "patterns", lambda kind: list(reversed(_layers())))
    backward = registry.best("layer", node, LayerContext(ChoiceResolver()))
    assert forward.pattern.role == backward.pattern.role == "Linear"


def test_losing_patterns_leave_no_choices_behind():
    resolver = ChoiceResolver(hints={"tok": {"module_type": "nn.Embedding"}})
    node = _node({"tok.weight": (10, 4)}).children["tok"]
    found = registry.best("layer", node, LayerContext(resolver))
    assert found.found.type_name == "nn.Embedding"
    assert [c.name for c in resolver.made] == ["module_type"]


def _layers():
    return [p for p in registry.all_patterns() if p.kind == "layer"]


def _node(shapes: dict[str, tuple[int, ...]]):
    from codegen.load import TensorEntry, TensorTable

    entries = {k: TensorEntry(k, s, "float32") for k, s in shapes.items()}
    return build_tree(TensorTable(source="inline", format="test", tensors=entries))
