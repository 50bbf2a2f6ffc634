"""The dotted keys of a state dict as a tree of module paths, shared by `inspect` and the analyzer."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

from codegen.load import TensorEntry, TensorTable
from codegen.safetext import is_index


@dataclass(eq=False)
class KeyNode:
    name: str  # last path segment ("" for the root)
    path: str  # full dotted path ("" for the root)
    tensors: dict[str, TensorEntry] = field(default_factory=dict)  # direct tensors by local name
    children: dict[str, KeyNode] = field(default_factory=dict)

    @cached_property
    def signature(self) -> tuple:
        """Structure, shapes and dtypes, without the node's own name: equal means interchangeable."""
        return (
            tuple((n, t.shape, t.dtype) for n, t in self.tensors.items()),
            tuple((n, c.signature) for n, c in self.children.items()),
        )

    @cached_property
    def shape_free_signature(self) -> tuple:
        """Structure and ranks only: equal means the same class with other sizes."""
        return (
            tuple((n, len(t.shape), t.dtype) for n, t in self.tensors.items()),
            tuple((n, c.shape_free_signature) for n, c in self.children.items()),
        )

    @cached_property
    def numel(self) -> int:
        own = sum(t.numel for t in self.tensors.values() if t.tied_to is None)
        return own + sum(c.numel for c in self.children.values())

    def all_tensors(self) -> list[TensorEntry]:
        out = list(self.tensors.values())
        for c in self.children.values():
            out += c.all_tensors()
        return out

    def walk(self):
        """This node and every node under it, depth first in children order."""
        return iter(self._walked)

    @cached_property
    def _walked(self) -> tuple[KeyNode, ...]:
        # Cached as the signatures are (a built tree never changes): the analysis walks the same
        # subtrees over and over (analyze/strides.py reads each block's convs many times).
        return (self, *(n for c in self.children.values() for n in c._walked))


def build_tree(table: TensorTable, canonical: bool = False) -> KeyNode:
    """`canonical`: children and tensors in natural name order (`layer2` before `layer10`), so the
    tree is the same whatever order the file lists its keys in (safetensors sorts them; a .pt keeps
    registration order). The analyzer wants that; `inspect` shows the file's own order."""
    root = KeyNode("", "")
    for name, entry in table.tensors.items():
        *parents, leaf = name.split(".")
        node = root
        for part in parents:
            if part not in node.children:
                path = f"{node.path}.{part}" if node.path else part
                node.children[part] = KeyNode(part, path)
            node = node.children[part]
        node.tensors[leaf] = entry
    if canonical:  # (a stack, not walk(): the walk is cached, and this still orders the tree)
        stack = [root]
        while stack:
            node = stack.pop()
            node.tensors = dict(sorted(node.tensors.items(), key=lambda kv: natural_key(kv[0])))
            node.children = dict(sorted(node.children.items(), key=lambda kv: natural_key(kv[0])))
            stack += node.children.values()
    return root


def natural_key(name: str) -> tuple:
    """Sort key that orders the ASCII numbers inside a name by value: `conv2` < `conv10`."""
    parts = re.split(r"([0-9]+)", name)
    return tuple((0, int(p), p) if is_index(p) else (1, 0, p) for p in parts if p)


def repeated_runs(node: KeyNode) -> list[list[KeyNode]]:
    """Children grouped into runs of consecutive numeric siblings with identical structure.

    Non-numeric children and one-off numeric children come back as runs of one.
    """
    runs: list[list[KeyNode]] = []
    for child in node.children.values():
        last = runs[-1] if runs else None
        if (
            last is not None
            and is_index(child.name)
            and is_index(last[-1].name)
            and int(child.name) == int(last[-1].name) + 1
            and child.signature == last[0].signature
        ):
            last.append(child)
        else:
            runs.append([child])
    return runs
