"""The package's import graph matches DESIGN.md's table: data flows one way, no stage imports one
above it, nothing imports the CLI (bar the `python -m codegen` shim), and there are no cycles.

`errors`, `safetext` and `files` are leaves every stage may use: one error type for the exit-code
contract, one place that makes outside text safe, one set of checks on input files. Imports under `if TYPE_CHECKING:` are annotations, not
dependencies (a layer pattern's `node: KeyNode`), so they are not counted.
"""

from __future__ import annotations

import ast
from functools import lru_cache
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "codegen"
LEAVES = ("codegen.errors", "codegen.safetext", "codegen.files")

# stage -> the stages it may import (besides itself and the leaves). Longest prefix wins.
ALLOWED: dict[str, tuple[str, ...]] = {
    "codegen.ir": (),
    "codegen.load": ("codegen.ir",),
    "codegen.remap": ("codegen.load", "codegen.output"),  # read like any input; --write-remap
    "codegen.keytree": ("codegen.load",),  # the table's keys as a tree: a view of a load type
    "codegen.patterns": ("codegen.ir",),
    # the choice resolver and name rules the analyzer applies
    "codegen.layer_spec": (),
    "codegen.naming": (),
    "codegen.choices": ("codegen.ir", "codegen.layer_spec"),
    "codegen.analyze": (
        "codegen.ir",
        "codegen.patterns",
        "codegen.load",
        "codegen.keytree",
        "codegen.choices",
        "codegen.layer_spec",
        "codegen.naming",
    ),
    "codegen.render": ("codegen.ir",),
    # the one atomic writer for every file modelgen writes; it asks model_ref what counts as a
    # model input (an upward import, listed here so it is a decision, not an accident)
    "codegen.output": ("codegen.trailer", "codegen.harness.model_ref"),
    "codegen.harness": ("codegen.load", "codegen.remap", "codegen.ir", "codegen.output"),
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@lru_cache(maxsize=1)
def import_graph() -> dict[str, set[str]]:
    """module -> the codegen modules it imports at run time (function-local imports included)."""
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}

    def resolve(name: str) -> str | None:
        while name not in modules and "." in name:
            name = name.rsplit(".", 1)[0]
        return name if name in modules else None

    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text())
        typing_only = {
            id(n)
            for node in ast.walk(tree)
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
            for n in ast.walk(node)
        }
        found: set[str] = set()
        for node in ast.walk(tree):
            if id(node) in typing_only:
                continue
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                # `from pkg import submodule` depends on the submodule, not on the package
                subs = [f"{node.module}.{a.name}" for a in node.names]
                targets = [s for s in subs if s in modules] or [node.module]
            else:
                continue
            found |= {m for t in targets if t.startswith("codegen") and (m := resolve(t))}
        graph[name] = found - {name}
    return graph


def _stage(module: str) -> str | None:
    matches = [s for s in ALLOWED if module == s or module.startswith(s + ".")]
    return max(matches, key=len) if matches else None


def _within(module: str, stage: str) -> bool:
    return module == stage or module.startswith(stage + ".")


def test_stages_import_only_what_the_design_allows():
    violations = []
    for module, imports in sorted(import_graph().items()):
        stage = _stage(module)
        if stage is None:
            continue
        allowed = (stage, *ALLOWED[stage], *LEAVES)
        violations += [
            f"{module} -> {target}"
            for target in sorted(imports)
            if not any(_within(target, a) for a in allowed)
        ]
    assert violations == []


def test_leaves_import_only_other_leaves():
    graph = import_graph()
    assert {leaf: graph[leaf] - set(LEAVES) for leaf in LEAVES} == {leaf: set() for leaf in LEAVES}


def test_nothing_outside_the_cli_imports_it():
    offenders = [
        f"{module} -> {target}"
        for module, imports in import_graph().items()
        if not _within(module, "codegen.cli") and module != "codegen.__main__"
        for target in imports
        if _within(target, "codegen.cli")
    ]
    assert offenders == []


def test_no_import_cycles():
    graph = import_graph()
    cycles, done, path = [], set(), []

    def visit(module: str) -> None:
        if module in path:
            cycles.append(path[path.index(module) :] + [module])
            return
        if module in done:
            return
        path.append(module)
        for target in sorted(graph[module]):
            visit(target)
        path.pop()
        done.add(module)

    for module in sorted(graph):
        visit(module)
    assert cycles == []


def test_the_table_names_real_stages():
    """A renamed package must not silently drop out of the check."""
    graph = import_graph()
    assert all(any(_within(m, stage) for m in graph) for stage in ALLOWED)
