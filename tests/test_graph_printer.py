"""The forward printer on hand-built graphs: exact lines, safe names, derived imports, scripting."""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from codegen.ir.graph import Graph, Slice
from codegen.render.graph_printer import attr_path, print_graph


def residual_graph() -> Graph:
    g = Graph()
    x = g.input("x")
    out = g.call_module(("conv1",), x, name="out", inline=True)
    out = g.call_module(("bn1",), out, name="out", inline=True)
    out = g.call_function("relu", out, name="out")
    out = g.call_module(("bn2",), g.call_module(("conv2",), out, inline=True), name="out")
    out = g.call_function("add", out, x, name="out")
    g.output(g.call_function("relu", out, inline=True))
    return g


def test_residual_block_prints_compositions_on_one_line():
    printed = print_graph(residual_graph())
    assert printed.arguments == [("x", "torch.Tensor")]
    assert printed.lines == [
        "out = F.relu(self.bn1(self.conv1(x)))",
        "out = self.bn2(self.conv2(out))",
        "out = out + x",
        "return F.relu(out)",
    ]
    assert printed.imports == {"torch", "F"}


def test_a_name_still_needed_later_is_not_overwritten():
    g = Graph()
    x = g.input("x")
    y = g.call_module(("a",), x)  # prefers "x", but x is read again below
    z = g.call_function("add", y, x)
    g.output(z)
    assert print_graph(g).lines == ["x_2 = self.a(x)", "return x_2 + x"]


def test_keys_that_are_not_identifiers_print_as_literals():
    assert attr_path(("layers", "0", "fc")) == "self.layers[0].fc"
    assert attr_path(("class",)) == 'getattr(self, "class")'
    hostile = "x'); import os; ('"
    assert attr_path(("blocks", hostile)) == f"getattr(self.blocks, {hostile!r})"
    g = Graph()
    g.output(g.call_module((hostile,), g.input("x")))
    (line,) = print_graph(g).lines
    compile(line.replace("return ", "_ = "), "<printed>", "exec")
    assert "import os" not in line.replace(repr(hostile), "")


def test_unknown_functions_and_methods_are_refused():
    g = Graph()
    g.output(g.call_function("os.system", g.input("x")))
    with pytest.raises(ValueError, match="function table"):
        print_graph(g)
    g = Graph()
    g.output(g.call_method("__class__", g.input("x")))
    with pytest.raises(ValueError, match="method table"):
        print_graph(g)


def test_comments_are_escaped_and_imports_derived():
    g = Graph()
    x = g.input("x")
    n = g.call_method("size", x, 1, inline=True)
    table = g.getattr(("pe",))
    rows = g.call_function("getitem", table, (Slice(None, None), Slice(None, n)), inline=True)
    g.output(g.call_function("add", x, rows), comment="table is [1, max_len, d]\nimport os")
    printed = print_graph(g)
    assert printed.lines[-1].startswith("return x + self.pe[:, : x.size(1)]  # table is")
    assert "\n" not in printed.lines[-1]
    assert printed.imports == {"torch"}


def test_each_loop_and_unpacked_outputs():
    g = Graph()
    x = g.input("x")
    x = g.call_module(("rnn",), x, unpack=2, comment="outputs of every step")
    x = g.call_module(("blocks",), x, each=True)
    g.output(g.call_function("mul", x, g.call_function("sqrt", 16, inline=True)))
    printed = print_graph(g)
    assert printed.lines == [
        "x, _ = self.rnn(x)  # outputs of every step",
        "for layer in self.blocks:",
        "    x = layer(x)",
        "return x * math.sqrt(16)",
    ]
    assert "math" in printed.imports


def test_printed_forward_runs_and_scripts():
    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(4, 4, 3, padding=1)
            self.bn1 = nn.BatchNorm2d(4)
            self.conv2 = nn.Conv2d(4, 4, 3, padding=1)
            self.bn2 = nn.BatchNorm2d(4)

    printed = print_graph(residual_graph())
    args = ", ".join(f"{n}: {a}" for n, a in printed.arguments)
    body = "\n".join("        " + line for line in printed.lines)
    source = f"class Printed(Block):\n    def forward(self, {args}) -> torch.Tensor:\n{body}\n"
    scope = {"Block": Block, "torch": torch, "nn": nn, "F": F}
    exec(compile(source, "<printed>", "exec"), scope)  # noqa: S102 - our own printer's output
    model = scope["Printed"]().eval()
    x = torch.randn(1, 4, 5, 5)
    ref = F.relu(model.bn2(model.conv2(F.relu(model.bn1(model.conv1(x))))) + x)
    torch.testing.assert_close(model(x), ref)


def test_each_helper_defines_the_name_it_is_filed_under():
    """A helper filed under another name would be printed for calls it does not define, and two
    helpers of one name would silently replace each other."""
    import ast
    from pathlib import Path

    from codegen.render import helpers
    from codegen.render.helpers import HELPER_IMPORTS, HELPERS

    filed = [  # every module of the package (one per domain), so no key is written twice anywhere
        key.value
        for path in sorted(Path(helpers.__file__).parent.glob("*.py"))
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Dict)
        for key in node.keys
    ]
    assert len(filed) == len(HELPERS) + len(HELPER_IMPORTS)  # no key written twice
    for name, text in HELPERS.items():
        defined = [n.name for n in ast.parse(text).body if isinstance(n, ast.FunctionDef)]
        assert defined == [name], name
    assert set(HELPER_IMPORTS) <= set(HELPERS)
