"""The human view of `modelgen inspect`: a rich tree with counts, shapes and repeats collapsed."""

from __future__ import annotations

from collections import Counter

from rich.text import Text
from rich.tree import Tree

from codegen.keytree import KeyNode, build_tree, repeated_runs
from codegen.load import TensorTable
from codegen.load.module_pickle import revealed
from codegen.load.unwrap import NOT_MODEL_KEYS
from codegen.safetext import printable

MAX_TIE_LINES = 8  # a model that ties every layer to one table needs one summary, not 100 lines


def render_tree(table: TensorTable, depth: int | None = None) -> Tree:
    """The module tree; `depth` limits how many levels of modules are shown (0: the summary only)."""
    root = build_tree(table)
    dtypes = Counter(t.dtype for t in table.tensors.values())
    title = Text.assemble(
        (_shown(table.source), "bold"),
        f"  {table.format}, {len(table.tensors)} tensors, {_count(root.numel)} elements, ",
        ", ".join(f"{d} x{n}" for d, n in dtypes.most_common()),
    )
    tree = Tree(title)
    if table.container:
        also = (
            f" (also present: {', '.join(map(_shown, table.other_containers))})"
            if table.other_containers
            else ""
        )
        tree.add(Text(f"unwrapped: {_shown(table.container)}{also}", style="cyan"))
    if table.stripped_prefixes:
        tree.add(
            Text(
                f"stripped prefixes: {', '.join(map(_shown, table.stripped_prefixes))}",
                style="cyan",
            )
        )
    if table.ignored:
        tree.add(
            Text(
                f"ignored (not model weights): {', '.join(map(_shown, table.ignored))}",
                style="cyan",
            )
        )
    # An optimizer without tensors (SGD, no momentum) or a scheduler's counters are training state,
    # not metadata about the model.
    training = {k: v for k, v in table.metadata.items() if k in NOT_MODEL_KEYS}
    if training:
        state = ", ".join(f"{_shown(k)}={_short(v)}" for k, v in training.items())
        tree.add(Text(f"optimizer/training state (not the model): {state}", style="cyan"))
    meta = {k: v for k, v in table.metadata.items() if k not in NOT_MODEL_KEYS}
    if meta:
        text = ", ".join(f"{_shown(k)}={_short(v)}" for k, v in meta.items())
        tree.add(Text(f"metadata: {text}", style="cyan"))
    ties = [(t.name, t.tied_to) for t in table.tensors.values() if t.tied_to]
    for name, target in ties[:MAX_TIE_LINES]:
        tree.add(
            Text(f"tied: {_shown(name)} shares storage with {_shown(target)}", style="magenta")
        )
    if len(ties) > MAX_TIE_LINES:
        tree.add(Text(f"tied: {len(ties) - MAX_TIE_LINES} more shared tensors", style="magenta"))
    for line in _revealed_lines(table):
        tree.add(Text(line, style="cyan"))
    if depth is None or depth > 0:
        _add_children(tree, root, depth, 1)
    return tree


def _revealed_lines(table: TensorTable) -> list[str]:
    """What a whole-model pickle or TorchScript archive records beyond its tensors."""
    seen = revealed(table.modules)
    if seen is None:
        return []
    own = ", ".join(map(_shown, seen["own_classes"][:8])) or "none"
    lines = [
        f"module tree recorded: {seen['modules']} modules typed ({seen['torch_nn_modules']} "
        f"torch.nn, {seen['parameter_free_modules']} without tensors); own classes: {own}",
        f"attributes recorded: {seen['attributes']}"
        + (
            f" ({seen['unreadable_attributes']} not as plain values)"
            if seen["unreadable_attributes"]
            else ""
        ),
    ]
    if "forward_code_translated" in seen:
        done = ", ".join(map(_shown, seen["forward_code_translated"])) or "none"
        lines.append(f"forward code translated: {done}")
        for name, why in list(seen["forward_code_not_translated"].items())[:8]:
            lines.append(f"forward code not translated: {_shown(name)}: {_shown(why)}")
    return lines


def _add_children(branch: Tree, node: KeyNode, depth: int | None, level: int) -> None:
    for name, t in node.tensors.items():
        tied = f"  (tied to {_shown(t.tied_to)})" if t.tied_to else ""
        branch.add(Text.assemble((_shown(name), "green"), f"  {list(t.shape)} {t.dtype}{tied}"))
    for run in repeated_runs(node):
        first = run[0]
        label = _shown(first.name if len(run) == 1 else f"{first.name}-{run[-1].name}")
        repeat = f"  {len(run)} x identical" if len(run) > 1 else ""
        dtypes = sorted({t.dtype for t in first.all_tensors()})
        child = branch.add(
            Text.assemble(
                (label, "bold"), f"  {_count(first.numel)} elements, {'/'.join(dtypes)}{repeat}"
            )
        )
        if depth is None or level < depth:
            _add_children(child, first, depth, level + 1)


def _shown(name: str) -> str:
    """Key text from a stranger's file, for a rich Text (which takes no markup): control characters,
    bidi controls and lone surrogates shown as escapes, on one line."""
    return printable(name)


def _count(n: int) -> str:
    for unit, size in (("T", 1e12), ("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= size:
            return f"{n / size:.1f}{unit}"
    return str(n)


def _short(v: object) -> str:
    text = _shown(str(v))
    return text if len(text) <= 60 else text[:57] + "..."
