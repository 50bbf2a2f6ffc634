"""Each generated class's forward: the catalogue's most specific block pattern builds its graph.

When no pattern fits, the forward raises NotImplementedError naming what could not be inferred, and
`generate` warns: a model that loads but computes something else would be worse than one that says
it does not know. A class that calls a class without a forward gets none either, so the gap is
reported where it is rather than moved; unless its pattern leaves that member unused and says so
(a word-only forward beside LUKE's entity embeddings: trust guessed, naming the member).
"""

from __future__ import annotations

import re

from codegen.choices import ChoiceResolver
from codegen.ir import EXAMPLE_SIDE, ClassDef, ExampleInput, Forward, IOSpec, Module
from codegen.ir.graph import Graph, Value
from codegen.patterns._kit import BlockContext, modules
from codegen.patterns.blocks.chain import POSITIONS, why_not
from codegen.patterns.layers.conv import PADDED_FIRST
from codegen.patterns.registry import best


def infer_forward(
    cls: ClassDef,
    resolver: ChoiceResolver,
    unknown: frozenset[str] = frozenset(),
    roles: dict[str, str] | None = None,
    classes: dict[str, ClassDef] | None = None,
) -> Forward:
    blocked = [m for m in modules(cls) if _uses(m, unknown)]
    if blocked and not _leaves_unused(cls, resolver, unknown, roles, classes, blocked):
        names = sorted(
            {m.type_name if m.kind == "class" else m.children[0].type_name for m in blocked}
        )
        return Forward(
            inputs=[("x", "torch.Tensor")],
            missing=f"the dataflow: it calls {', '.join(m.attr for m in blocked)}, whose class "
            f"{'/'.join(names)} has no inferred forward",
            trust="missing",
        )
    match = best(
        "block", cls, BlockContext(resolver, unknown, dict(roles or {}), dict(classes or {}))
    )
    if match is None:
        return Forward(inputs=[("x", "torch.Tensor")], missing=why_not(cls), trust="missing")
    resolver.request(match.pins)
    if match.missing:  # its choices stay: picking one (a head count) may fill the gap
        return Forward(
            inputs=[("x", "torch.Tensor")],
            choices=match.choices,
            missing=match.missing,
            pattern=type(match.pattern).__name__,
            # Named by what it is, known or not, so its choices keep their address once decided.
            role=match.pattern.role,
            names_class=match.pattern.names_class,
            trust="missing",
        )
    g = Graph()
    unpadded: list[str] = []
    g.prepare = _padding_first(cls, dict(classes or {}), unpadded)
    unstandardised: list[str] = []
    g.substitute = _standardised_conv(cls, dict(classes or {}), unstandardised)
    match.pattern.forward(match, g)
    skipped = _held_children_skipped(cls, g)
    gaps = []  # what the pattern's forward cannot do here: the first one is named
    if unstandardised:
        gaps.append(
            f"the weight standardisation of {', '.join(unstandardised)}: a container called "
            "whole cannot standardise its conv's weight"
        )
    if unpadded:
        gaps.append(
            f"the padding of {', '.join(unpadded)}: it pads its input before the conv, which a "
            "container called whole cannot do"
        )
    if skipped:
        gaps.append(
            f"where {', '.join(skipped)} (a layer's own child) applies: the pattern that fits "
            f"({match.pattern.role}) calls the layer alone"
        )
    if gaps:
        return Forward(inputs=[("x", "torch.Tensor")], missing=gaps[0], trust="missing")
    forward = Forward(
        inputs=[(n.target, n.annotation) for n in g.inputs],
        returns=g.returns,
        choices=match.choices,
        graph=g,
        pattern=type(match.pattern).__name__,
        role=match.pattern.role,
        names_class=match.pattern.names_class,
        title=match.title,
        trust="guessed" if match.guessed else match.pattern.trust,
        trust_note=match.guessed or match.pattern.trust_note,
    )
    joined = getattr(match.pattern, "concatenated", None)  # a concatenation's output width
    if joined is not None:
        forward.concatenates, forward.concatenates_input = joined(match)
        forward.halves_input = getattr(match.pattern, "halves_input", False)
        shared = getattr(match.pattern, "shared_channels", None)  # parts added, not placed
        forward.concatenates_shared = shared(match) if shared is not None else 0
    if forward.trust == "inferred":
        _settle_called_types(cls, g, match.pattern.role)
    own = getattr(match.pattern, "example_inputs", None)  # inputs of another kind (a timestep)
    mine = own(match, cls) if own is not None else None  # (None: the pattern leaves it to us)
    forward.examples = mine if mine is not None else example_inputs(cls, g, classes)
    return forward


def _held_children_skipped(cls: ClassDef, g: Graph) -> list[str]:
    """The children of a called torch.nn layer (a conv's own norm, Detectron2's `conv1.norm`)
    that the forward never calls: a pattern that knows them calls them after the layer; one that
    does not would compute the conv alone, so the forward is missing instead."""
    called = set(g.modules_called())
    skipped = []
    for m in modules(cls):
        if m.kind != "builtin" or not m.children or (m.attr,) not in called:
            continue
        skipped += [f"{m.attr}.{c.attr}" for c in m.children if (m.attr, c.attr) not in called]
    return skipped


def _leaves_unused(cls, resolver, unknown, roles, classes, blocked) -> bool:
    """Whether the best pattern's forward calls none of the members without a forward, and names
    each in what it says is guessed (LUKE's entity embeddings, unused by a word-only forward):
    only then are they no obstacle. A look, not a decision: what matching records on the resolver
    is put back (the real match records it again)."""
    saved = (set(resolver.used_hints), list(resolver.made), set(resolver.consumed))
    try:
        ctx = BlockContext(resolver, unknown, dict(roles or {}), dict(classes or {}))
        match = best("block", cls, ctx)
        if match is None or match.missing or not match.guessed:
            return False
        if not all(re.search(rf"\b{re.escape(m.attr)}\b", match.guessed) for m in blocked):
            return False
        g = Graph()
        match.pattern.forward(match, g)
        called = {path[0] for path in g.modules_called() if path}
        return not called & {m.attr for m in blocked}
    finally:
        resolver.used_hints, resolver.made, resolver.consumed = saved


def _padding_first(cls: ClassDef, classes: dict[str, ClassDef], unpadded: list[str]):
    """Graph.prepare: a conv whose padding its constructor cannot express (TensorFlow's 'SAME',
    conv.PADDED_FIRST) gets its input padded wherever a pattern calls it, from the conv's own
    kernel and stride, so instances of one class that differ in them pad each their own way."""

    def prepare(g: Graph, path: tuple[str, ...], args: tuple) -> tuple:
        m = _member_at(cls, path, classes)
        if m is None or not args or not isinstance(args[0], Value):
            return args
        if m.kind != "builtin":
            unpadded.extend(
                ".".join(path + (c.attr,)) for c in _walk(m) if _padded_first(c) is not None
            )
            return args
        helper = _padded_first(m)
        if helper is None:
            return args
        sizes = ("kernel_size", "stride", "dilation") if helper == "pad_same" else ("kernel_size",)
        x = g.call_function(
            helper,
            args[0],
            *(g.getattr(path + (a,)) for a in sizes),
            name=g[args[0]].name,
            comment=PADDED_FIRST[helper],
        )
        return (x, *args[1:])

    return prepare


def _standardised_conv(cls: ClassDef, classes: dict[str, ClassDef], unstandardised: list[str]):
    """Graph.substitute: a built-in conv whose weight_standardization choice is on is called
    through the helper that standardises its weight first (analyze/weight_standardization.py);
    inside a container called whole it cannot be, and the forward is then missing."""

    def substitute(g: Graph, path: tuple[str, ...], args: tuple, options: dict) -> Value | None:
        m = _member_at(cls, path, classes)
        if m is None or not args:
            return None
        if m.kind != "builtin":
            unstandardised.extend(
                ".".join(path + (c.attr,))
                for c in _walk(m)
                if _standardises(c) is not None and c is not m
            )
            return None
        eps = _standardises(m)
        if eps is None:
            return None
        return g.call_function(
            "weight_standardized_conv2d",
            args[0],
            g.getattr(path + ("weight",)),
            g.getattr(path + ("bias",)),
            g.getattr(path + ("stride",)),
            g.getattr(path + ("padding",)),
            eps,
            **options,
        )

    return substitute


def _standardises(m: Module) -> float | None:
    """The epsilon a built-in conv standardises its weight with (its weight_standardization
    choice), or None where it does not."""
    for c in m.choices if m.kind == "builtin" else ():
        if c.name == "weight_standardization" and type(c.value) in (int, float):
            return float(c.value)
    return None


def _member_at(cls: ClassDef, path: tuple[str, ...], classes: dict[str, ClassDef]) -> Module | None:
    members: list = list(cls.members)
    found = None
    for segment in path:
        if found is not None:
            inner = classes.get(found.type_name) if found.kind == "class" else None
            members = list(inner.members) if inner is not None else list(found.children)
        found = next((m for m in members if isinstance(m, Module) and m.attr == segment), None)
        if found is None:
            return None
    return found


def _walk(m: Module) -> list[Module]:
    return [m] + [d for c in m.children for d in _walk(c)]


def _padded_first(m: Module) -> str | None:
    """The helper that pads a built-in conv's input, where its padding choice says so."""
    if m.kind != "builtin":
        return None
    for c in [a.choice for a in m.args if a.choice is not None] + list(m.choices):
        if c.name == "padding" and c.value in PADDED_FIRST:
            return c.value
    return None


def _settle_called_types(cls: ClassDef, g: Graph, role: str) -> None:
    """A recognised pattern that calls a member as a layer settles whether it is a Linear or an
    Embedding, which shapes alone leave open: the bias-free [out, in] weight an attention projects
    its queries with is a Linear, the table a decoder looks token ids up in an Embedding. Other
    type choices (LayerNorm or RMSNorm) the call does not tell apart: they stay open. (The width
    chain vouches for nothing: it is a guess.)"""
    targets = {tuple(n.target) for n in g.nodes if n.op == "call_module"}
    called = {t[0] for t in targets if len(t) == 1}
    for m in modules(cls):
        if m.attr in called:
            for c in m.choices:
                told_apart = {c.value, *c.alternatives} == {"nn.Linear", "nn.Embedding"}
                if c.name == "module_type" and c.source == "default" and told_apart:
                    c.source, c.note = "pattern", f"the {role} pattern calls it as one"
        elif m.kind in ("sequential", "modulelist") and any(t[:1] == (m.attr,) for t in targets):
            _settle_skipped_slots(m, targets, role, (m.attr,))


def _settle_skipped_slots(seq: Module, targets: set[tuple], role: str, path: tuple) -> None:
    """A Sequential the pattern calls item by item: a slot without tensors it never calls (the
    dropout between diffusers' GEGLU and its output projection; a pixel shuffle's slot the pattern
    applies itself) is printed as what it is to this forward, nn.Identity, rather than as a
    guessed activation the forward would not apply. Nested containers called item by item too."""
    for slot in seq.children:
        at = path + (slot.attr,)
        nested = slot.kind in ("sequential", "modulelist") and at not in targets
        if nested and any(t[: len(at)] == at for t in targets):
            _settle_skipped_slots(slot, targets, role, at)
            continue
        if slot.kind != "placeholder" or at in targets:
            continue
        choice = slot.choices[0]
        if choice.source == "default":
            choice.value, choice.source = "nn.Identity()", "pattern"
            choice.note = f"the {role} pattern does not call it"
            slot.type_name, slot.args = "nn.Identity", []


def _uses(m: Module, unknown: frozenset[str]) -> bool:
    if m.kind == "class":
        return m.type_name in unknown
    return any(_uses(c, unknown) for c in m.children)


def example_inputs(
    cls: ClassDef, g: Graph, classes: dict[str, ClassDef] | None = None
) -> list[ExampleInput]:
    """Inputs forward accepts, for smoke tests: from the layer the first input reaches. Where
    forward takes several, each one a member class is called on directly is what that class's
    own examples give it (`classes`: the classes inferred so far, by name): a speech model's
    features for its encoder, token ids for its decoder."""
    first = _first_module(cls, g)
    if first is None or first.io is None:
        return []
    while first.kind == "sequential" and first.children:  # what it takes is what its head takes
        head = next((m for m in first.children if m.io and m.io.family != "activation"), None)
        if head is None or head.io is None:
            break
        first = head
    io = first.io
    if g.inputs and g.inputs[0].target == "input_values":  # raw audio: one second at 16 kHz
        return [ExampleInput((2, 16000))]
    images = bool(g.inputs) and g.inputs[0].target == "pixel_values"
    if images and io.in_width and not io.ndim:  # a class whose first tensor is not its patch conv
        io = IOSpec(io.family, io.in_width, io.out_width, 2)
    if io.vocab:
        # no longer than a learned position table beside the token table allows
        tables = [m.io.vocab for m in modules(cls) if m is not first and _position_table(m)]
        one = ExampleInput((2, min([16, *tables])), vocab=io.vocab)
    elif io.ndim and io.family == "norm" and io.in_width:
        # A channels-first norm (BatchNorm, InstanceNorm, GroupNorm) takes what the layer after it
        # takes: flat features before a Linear, a map of the conv's dimensionality before a conv.
        after = _second_module(cls, g, first)
        ndim = after.io.ndim if after is not None and after.io and after.io.ndim else io.ndim
        flat = after is not None and after.io is not None and after.io.family == "linear"
        one = ExampleInput((2, io.in_width) + (() if flat else (EXAMPLE_SIDE,) * ndim))
    elif io.ndim and io.family != "norm" and io.in_width:
        one = ExampleInput((2, io.in_width) + (EXAMPLE_SIDE,) * io.ndim)
    elif io.in_width:
        one = ExampleInput((2, 16, io.in_width))
    else:
        return []
    required = [i for i, n in enumerate(g.nodes) if n.op == "input" and not n.optional]
    if len(required) < 2:
        # a layout the member's own pattern fixed (a clip frames first) holds for its holder too
        declared = _passed_on(cls, g, Value(required[0]), classes or {}) if required else None
        return [declared if declared is not None and declared.why else one] * len(required)
    return [_passed_on(cls, g, Value(i), classes or {}) or one for i in required]


def _passed_on(
    cls: ClassDef, g: Graph, value: Value, classes: dict[str, ClassDef]
) -> ExampleInput | None:
    """The example the member class first called on `value` itself declares for that argument."""
    by_attr = {m.attr: m for m in modules(cls)}
    for node in g.nodes:
        if node.op != "call_module" or value not in node.args:
            continue
        member = by_attr.get(node.target[0]) if len(node.target) == 1 else None
        if member is None or member.kind != "class" or node.loop or node.each or node.times:
            return None
        called = classes.get(member.type_name)
        examples = called.forward.examples if called is not None else []
        at = node.args.index(value)
        return examples[at] if at < len(examples) else None
    return None


def _position_table(m: Module) -> bool:
    return bool(m.io and m.io.family == "embedding" and m.io.vocab and POSITIONS.search(m.attr))


def _second_module(cls: ClassDef, g: Graph, first: Module) -> Module | None:
    """The next layer called after `first` (its own items excepted), if any."""
    by_attr = {m.attr: m for m in modules(cls)}
    called = [n.target[0] for n in g.nodes if n.op == "call_module" and n.target]
    names = [a for a in dict.fromkeys(called) if a in by_attr]
    owner = next((a for a in names if by_attr[a] is first or first in by_attr[a].children), None)
    if owner is None or names.index(owner) + 1 >= len(names):
        return None
    return by_attr[names[names.index(owner) + 1]]


def _first_module(cls: ClassDef, g: Graph) -> Module | None:
    by_attr = {m.attr: m for m in modules(cls)}
    for node in g.nodes:
        # A Sequential called item by item (a patchify stem's conv, then its channels norm) is
        # entered by its first item: the Sequential's head, as when it is called whole.
        if node.op == "call_module" and node.target and node.target[0] in by_attr:
            return by_attr[node.target[0]]
    return None
