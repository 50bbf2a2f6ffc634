"""Forwards recorded as code (a TorchScript archive's code/, translated on loading by
codegen/load/script_forward.py): exact by construction, where they apply to a generated class.

A generated class stands for every subtree of one shape; its recorded forward is used when each of
those subtrees recorded the same translated graph, and that graph only reaches members the class
has. Otherwise the catalogue's forward stands in, and its trust says why the code did not count.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from codegen.analyze.dataflow import example_inputs
from codegen.ir import ClassDef, Forward
from codegen.ir.graph import Graph

CODE_NOTE = "the archive's TorchScript forward, translated"


@dataclass
class RecordedForward:
    graph: Graph | None  # None: the archive has code for the class, but it is not used; `why` says
    why: str = ""
    returns: str = "torch.Tensor"

    def forward(self, cls: ClassDef) -> Forward:
        g = self.graph
        assert g is not None
        forward = Forward(
            inputs=[(n.target, n.annotation) for n in g.inputs],
            returns=self.returns,
            graph=g,
            pattern="TorchScript",
            trust="exact",
            trust_note=CODE_NOTE,
        )
        forward.examples = example_inputs(cls, g)
        pending = defaulted_choices(cls)
        if pending:  # the code is exact; the layers it calls are not all recorded
            forward.trust = "inferred"
            forward.trust_note = (
                f"{CODE_NOTE}, but the layers it calls use values the archive does not record, "
                f"left at defaults ({', '.join(pending)})"
            )
        return forward

    def flag(self, forward: Forward) -> None:
        """The catalogue's forward stands in for code that did not translate: say so."""
        if forward.missing:
            forward.missing = f"{forward.missing} (the archive's forward: {self.why})"
            return
        forward.trust = "guessed"
        note = forward.trust_note or "the catalogue's forward stands in"
        forward.trust_note = f"{note}; the archive's TorchScript forward was not used: {self.why}"


def defaulted_choices(cls: ClassDef) -> list[str]:
    """Names of the choices of the class's members left at a default with alternatives."""
    found: list[str] = []

    def visit(m: Any) -> None:
        choices = [a.choice for a in getattr(m, "args", ()) if a.choice is not None]
        # module_type: the recorded type, checked by codegen/analyze/evidence.py
        for c in choices + [c for c in getattr(m, "choices", ()) if c.name != "module_type"]:
            if c.source == "default" and c.alternatives and c.name not in found:
                found.append(c.name)
        for child in getattr(m, "children", ()):
            visit(child)

    for m in cls.members:
        visit(m)
    return found


def recorded_forwards(
    groups: list, classes: list[ClassDef], tree: Any
) -> dict[int, RecordedForward]:
    """id(ClassDef) -> its recorded forward, for the classes of a TorchScript archive."""
    out: dict[int, RecordedForward] = {}
    if tree is None:
        return out
    by_name = {c.name: c for c in classes}
    for group in groups:
        cls = by_name.get(group.name)
        if cls is None or cls.base_module is not None:
            continue
        descs = [tree.find(i.node.path) for i in group.instances]
        if not descs or any(d is None for d in descs):
            continue
        if all(d.forward_graph is None and not d.forward_note for d in descs):
            continue  # no code recorded (a whole-model pickle)
        out[id(cls)] = _one_forward(cls, descs)
    return out


def _one_forward(cls: ClassDef, descs: list) -> RecordedForward:
    notes = [d.forward_note for d in descs if d.forward_graph is None]
    if notes:
        return RecordedForward(None, notes[0])
    graphs = [d.forward_graph for d in descs]
    if any(g.nodes != graphs[0].nodes for g in graphs[1:]):
        return RecordedForward(None, "the subtrees this class stands for run different code")
    graph = graphs[0]
    members = {getattr(m, "attr", None) for m in cls.members}
    for node in graph.nodes:
        if node.op in ("call_module", "getattr") and node.target[:1] != ("training",):
            if node.target[0] not in members:
                return RecordedForward(None, f"it uses a member the class does not have")
    return RecordedForward(graph, returns=descs[0].forward_returns)
