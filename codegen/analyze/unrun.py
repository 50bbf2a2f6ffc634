"""Classes whose forward the model never runs, because every parent reads the layers inside them
(`self.body.conv1(x)`) instead of calling them (`self.body(x)`).

Such a forward is a reading of its keys alone that nothing the model computes depends on, and its
parent's pattern may have read the same layers otherwise. It bites where the forward joins paths:
osmr's ResNet unit reads its `body`'s two convs and adds the identity itself, so `body` matched
alone as a BasicBlock adds the input a second time; timm's GhostBottleneck activates its first
Ghost module and not its second, which share one class whose own forward (a concatenation)
activates both. A reader who calls that class trusts it, so where such a forward says `inferred`
it says `guessed` instead, naming why. A plain chain (a patch embedding whose conv a ViT's
embeddings read) keeps its trust: flagging every one made exact files say guessed for forwards
that compose their layers the only way they can.

Where a parent's forward cannot be followed statically (it raises NotImplementedError, loops over
a container, or is a subclassed container's own), every class it holds counts as run, unless
generate's run of the model (harness/forward_run.py, on its example inputs) recorded which
forwards it called: then only those count. Cadene's InceptionV4 holds its blocks in a
`features` Sequential under a top whose forward is missing, so its inception blocks' own forwards
(branches concatenated, read from the keys alone) were checked by nothing, and one pooled its pool
branch otherwise than the reference; timm's DPN, MixNet and ENet hid such classes too. Each says
guessed, naming the run.
"""

from __future__ import annotations

from codegen.ir import ClassDef, Module
from codegen.ir.graph import Graph, values_in

CONTAINERS = ("sequential", "modulelist", "repeat", "moduledict")

UNRUN_NOTE = (
    "the model never runs this forward: its parent reads the layers inside it, which may mean "
    "them otherwise, so this reading of its keys alone is checked by nothing the model gives"
)


UNRUN_IN_RUN_NOTE = (
    "generate's run of the model never called this forward (a parent's forward is missing or "
    "cannot be followed), so this reading of its keys alone is checked by nothing the model gives"
)


def flag_unrun_forwards(classes: list[ClassDef], ran: frozenset[str] | None = None) -> list[str]:
    """Inferred classes no forward calls (from the top class down) and whose own forward joins
    paths say guessed; `ran`: the classes a run of the model called, which decide below parents
    that cannot be followed statically (None: not run, such parents run all they hold). The
    names of the classes flagged."""
    static = _run_classes(classes)
    run = static if ran is None else _run_classes(classes, ran)
    flagged = []
    for cls in classes:
        if (
            cls.name not in run
            and cls.forward.trust == "inferred"
            and not cls.forward.missing
            and _joins_paths(cls.forward.graph)
        ):
            cls.forward.trust = "guessed"
            cls.forward.trust_note = UNRUN_NOTE if cls.name not in static else UNRUN_IN_RUN_NOTE
            flagged.append(cls.name)
    return flagged


def _joins_paths(graph: Graph | None) -> bool:
    """Whether the forward joins two values computed from its input (a residual sum, a gate's
    product, a concatenation): where its parent reads its layers, those joins are what the parent
    may do otherwise. A chain (a patch embedding's conv, flatten, transpose) or a step with a
    parameter (a router's bias added to its scores) has none."""
    if graph is None:
        return False
    data: set[int] = set()  # nodes computed from an input
    for i, n in enumerate(graph.nodes):
        if n.op == "input":
            data.add(i)
            continue
        used = {v.index for v in values_in(list(n.args) + list(n.kwargs.values()))} & data
        if used:
            data.add(i)
        if len(used) > 1 and n.op != "output":
            return True
    return False


def run_classes(classes: list[ClassDef], ran: frozenset[str] | None = None) -> set[str]:
    """The classes whose forward the model runs, from the top class down (statically, or as
    `ran` recorded where a parent cannot be followed)."""
    return _run_classes(classes, ran)


def _run_classes(classes: list[ClassDef], ran: frozenset[str] | None = None) -> set[str]:
    by_name = {c.name: c for c in classes}
    top = next((c for c in classes if c.is_top), classes[-1])
    run, todo = {top.name}, [top]
    while todo:
        for name in _called(todo.pop(), by_name, ran):
            if name not in run and name in by_name:
                run.add(name)
                todo.append(by_name[name])
    return run


def _held(m: Module) -> set[str]:
    """The classes a member runs when it is called whole: itself, or a container's items."""
    if m.kind == "class":
        return {m.type_name}
    if m.kind in CONTAINERS:
        return {n for c in m.children if isinstance(c, Module) for n in _held(c)}
    return set()


def _members(cls: ClassDef) -> list[Module]:
    found = [m for m in cls.members if isinstance(m, Module)]
    return found + ([cls.base_module] if cls.base_module is not None else [])


def _called(
    cls: ClassDef, by_name: dict[str, ClassDef], ran: frozenset[str] | None = None
) -> set[str]:
    """The classes `cls`'s forward runs. Where its graph is not plain (no graph, a subclassed
    container running its own forward, loops over containers), every class it holds counts as
    run (only a path that provably reads into a class clears it), or, where the model was run,
    every class it holds that the run called."""
    graph: Graph | None = cls.forward.graph
    everything = {n for m in _members(cls) for n in _held(m)}
    if ran is not None:
        everything &= ran
    if graph is None or cls.base_module is not None or cls.forward.missing:
        return everything
    nodes = [n for n in graph.nodes if n.op == "call_module"]
    if any(n.loop or n.body is not None for n in nodes):
        return everything
    run: set[str] = set()
    for node in nodes:
        found = _resolve(cls, tuple(node.target), by_name)
        if found is None:
            return everything
        run |= found
    return run


def _resolve(cls: ClassDef, path: tuple, by_name: dict[str, ClassDef]) -> set[str] | None:
    """The classes a call of `path` (from `cls`) runs; None where the path cannot be followed."""
    members = {m.attr: m for m in _members(cls)}
    if not path or path[0] not in members:
        return None
    m, rest = members[path[0]], list(path[1:])
    while rest:
        step = str(rest.pop(0))
        if m.kind in CONTAINERS:
            inner = {str(c.attr): c for c in m.children if isinstance(c, Module)}
            if m.kind == "repeat" and m.children:
                inner = {step: m.children[0]}
        elif m.kind == "class" and m.type_name in by_name:
            inner = {c.attr: c for c in _members(by_name[m.type_name])}
        else:
            return set()  # into a built-in layer (a MultiheadAttention's out_proj): no class
        if step not in inner:
            return None
        m = inner[step]
    return _held(m)
