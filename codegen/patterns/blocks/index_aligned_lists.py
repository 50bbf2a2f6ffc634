"""Parallel lists run by index: a class holding several lists of one length whose i-th items form
one step, `for lin, bn in zip(self.lins, self.bns): x = relu(bn(lin(x)))`. Written so by PyG's
MLP (`lins`, `bns`), glow-tts / VITS (`conv_layers`, `norm_layers`), explainingai's DDPM blocks
(`resnet_conv_first`, `resnet_conv_second`, `residual_input_conv`) and many more, whatever the
lists are called.

The reading is a shape relation, never a name: item i of every list chains by width into one
step (step i's output width is step i+1's input), where running each list whole would not, or
would put one norm straight after another. A list whose item maps the step's input width to its
output width beside the others' chain is the step's projected shortcut, added to the chain's
output (proven where a step changes width: a second copy of that map could not follow the
chain). Members outside the lists run after the loop (or before it) where their widths say so.

What no key records is a choice, and the forward says guessed: the activation after each step
(relu where the step ends in a norm, the conv/linear -> norm -> relu convention of those sources;
none after a shortcut's sum, as pre-activation steps leave it).
"""

from __future__ import annotations

import dataclasses
import keyword
import re

from codegen.ir.graph import Graph, Slice
from codegen.patterns import _activations as act
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Match,
    family,
    modules,
    tensors,
)
from codegen.patterns.blocks.chain import dataflow_order
from codegen.patterns.blocks.hifigan_resblock import list_items

GUESS = "the activation after each step and the shortcut's sum leave no keys: a convention"
CONDITION_GUESS = (
    "; {} reads a second input (an embedding), added per channel after each step's first item "
    "(explainingai's DDPM blocks and diffusers' ResnetBlock2D add the time embedding there)"
)


def _width(m, end: str) -> int | None:
    """A member's input (`end` "in") or output width, where its io says."""
    if m.io is None:
        return None
    return m.io.in_width if end == "in" else m.io.out_width


def _alike(items: list) -> bool:
    """The items of one list are one kind of layer (a list of steps, not a stage's sequence)."""
    if len({(m.kind, m.type_name) for m in items}) != 1:
        return False
    if items[0].kind == "sequential":  # nested Sequentials: the same layer types in order
        return len({tuple(c.type_name for c in m.children) for m in items}) == 1
    return True


def _step(lists: list, i: int) -> list:
    """Item i of each list, named by its list (so names order the step as they order members)."""
    return [dataclasses.replace(list_items(m)[i], attr=m.attr) for m in lists]


def _flat_norm_pins(m, lists: list, order: tuple) -> list[tuple]:
    """A batch norm list after a Linear or Conv1d list in the step normalises [batch, features]
    or [batch, channels, length]: BatchNorm1d, where its type is still a default."""
    at = order.index(m.attr) if m.attr in order else 0
    prev = next((x for x in lists if at and x.attr == order[at - 1]), None)
    item = list_items(prev)[0] if prev is not None else None
    while item is not None and item.kind == "sequential" and item.children:
        item = item.children[-1]
    if item is None or family(item) not in ("linear", "conv"):
        return []
    if family(item) == "conv" and (item.io is None or item.io.ndim != 1):
        return []
    why = f"after {prev.attr}'s {'Linear' if family(item) == 'linear' else 'Conv1d'} items"
    return [
        (c.path, c.name, "nn.BatchNorm1d", why)
        for c in list_items(m)[0].choices
        if c.name == "module_type"
        and c.source == "default"
        and str(c.value).startswith("nn.BatchNorm")
    ]


def _ends_in_norm(m) -> bool:
    while m.kind == "sequential" and m.children:
        m = m.children[-1]
    return family(m) == "norm"


def _reading(lists: list, count: int, shortcut) -> tuple | None:
    """(the step's attrs in order, whether some step changes width) where every index chains the
    same way, `shortcut`'s item (if any) mapping the step's input width to its output beside."""
    orders, widens = set(), False
    for i in range(count):
        step = _step(lists, i)
        main = [s for s in step if shortcut is None or s.attr != shortcut.attr]
        order = dataflow_order(main)
        if not order:  # no chain, or nothing beside the shortcut (one list: no step to run)
            return None
        start, end = _width(order[0], "in"), _width(order[-1], "out")
        side = [s for s in step if s not in main]
        if side and (_width(side[0], "in"), _width(side[0], "out")) != (start, end):
            return None
        orders.add(tuple(s.attr for s in order))
        widens = widens or start != end
    return (orders.pop(), widens) if len(orders) == 1 else None


def _step_reading(lists: list, count: int) -> tuple | None:
    """(the lists' attrs in step order, the shortcut list's attr or None): a shortcut where a
    step that changes width proves it (the chain without it is the one that chains), else every
    item on the chain, else a shortcut the widths allow but do not prove."""
    shortcuts = [(m, _reading(lists, count, m)) for m in lists]
    shortcuts = [(m, r) for m, r in shortcuts if r is not None]
    proven = [(m, r) for m, r in shortcuts if r[1]]
    if len(proven) == 1:
        return proven[0][1][0], proven[0][0].attr
    plain = _reading(lists, count, None)
    if plain is not None:
        return plain[0], None
    if len(shortcuts) == 1:
        return shortcuts[0][1][0], shortcuts[0][0].attr
    return None


def _last_layer(m):
    while m is not None and m.kind == "sequential" and m.children:
        m = m.children[-1]
    return m


def _condition(lists: list, count: int) -> tuple | None:
    """(the step reading, the conditioning list) where the lists chain by index only without one
    list of Linear items that all read one width (a second input: a time or class embedding) and
    each give the width of their step's first item, whose output has spatial dims."""
    for cond in lists:
        rest = [m for m in lists if m is not cond]
        items = list_items(cond)
        if family(_last_layer(items[0])) != "linear" or len({_width(c, "in") for c in items}) != 1:
            continue
        reading = _step_reading(rest, count) if rest else None
        if reading is None:
            continue
        firsts = [next(s for s in _step(rest, i) if s.attr == reading[0][0]) for i in range(count)]
        if all(
            f.io is not None and f.io.ndim and _width(c, "out") == _width(f, "out")
            for c, f in zip(items, firsts)
        ):
            return reading, cond, firsts[0].io.ndim
    return None


def _loop_name(attr: str, taken: set[str]) -> str:
    """`lins` -> `lin`, `norm_layers` -> `norm_layer`: a loop variable named by its list."""
    name = re.sub(r"(?<=[a-z])s$", "", attr.lstrip("_")) or "item"
    name = name if name.isidentifier() and not keyword.iskeyword(name) else "item"
    while name in taken:
        name += "_i"
    taken.add(name)
    return name


class IndexAlignedLists(BlockPattern):
    role = "Stack"
    priority = -50  # above the width chain, below any pattern that names the block

    accepts = Accepts(tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls):
            return None
        lists = [m for m in members if m.kind in ("repeat", "modulelist", "sequential")]
        lists = [m for m in lists if list_items(m) and _alike(list_items(m))]
        if len(lists) < 2 or len({len(list_items(m)) for m in lists}) != 1:
            return None
        count = len(list_items(lists[0]))
        if any(_width(s, "in") is None or _width(s, "out") is None for s in _step(lists, 0)):
            return None
        reading = _step_reading(lists, count)
        cond, spatial = None, 0
        if reading is None:
            conditioned = _condition(lists, count)
            if conditioned is None:
                return None
            reading, cond, spatial = conditioned
            lists = [m for m in lists if m is not cond]
        order, shortcut = reading
        for i in range(count - 1):  # steps chain: each reads what the previous one gave
            here, after = _step(lists, i), _step(lists, i + 1)
            out = next(_width(s, "out") for s in here if s.attr == order[-1])
            if out != next(_width(s, "in") for s in after if s.attr == order[0]):
                return None
        whole = dataflow_order(lists)
        norms = any(family(list_items(m)[0]) == "norm" for m in lists)
        if whole is not None and not norms and shortcut is None:
            return None  # each list whole chains as well: nothing says the lists run by index
        first = next(s for s in _step(lists, 0) if s.attr == order[0])
        last = next(s for s in _step(lists, count - 1) if s.attr == order[-1])
        singles = [m for m in members if m not in lists and m is not cond]
        before, after = [], []
        if singles:
            after = dataflow_order(singles, _width(last, "out")) or []
            if not after:
                before = dataflow_order(singles) or []
                if not before or _width(before[-1], "out") != _width(first, "in"):
                    return None
        ends_norm = _ends_in_norm(next(m for m in lists if m.attr == order[-1]))
        default = "relu" if ends_norm and shortcut is None else "identity"
        activation = ctx.choose(
            cls,
            order[-1],
            "activation",
            default,
            act.alternatives(default, conv=True),
            "after each step (relu where a step ends in a norm: conv/linear -> norm -> relu)",
        )
        found = (
            order,
            shortcut,
            tuple(m.attr for m in before),
            tuple(m.attr for m in after),
            (cond.attr, spatial) if cond is not None else None,
        )
        pins = [p for m in lists for p in _flat_norm_pins(m, lists, order)]
        guess = GUESS + (CONDITION_GUESS.format(cond.attr) if cond is not None else "")
        return Match(self, len(members), found, [activation], guessed=guess, pins=pins)

    def forward(self, match: Match, g: Graph) -> None:
        order, shortcut, before, after, cond = match.found
        activation = match.choices[0].value
        x = g.input("x")
        emb = g.input("temb") if cond is not None else None
        for attr in before:
            x = g.call_module((attr,), x)
        taken = {"x", "self", "torch", "nn", "F", "math"}  # never shadow the file's names
        lists = (*order, shortcut, cond[0] if cond is not None else None)
        names = {attr: _loop_name(attr, taken) for attr in lists if attr}
        body = Graph()
        step_input = body.input("x")
        step_emb = body.input("temb") if cond is not None else None
        h = step_input
        for attr in order:
            h = body.call_module((names[attr],), h, name="h", inline=attr != order[-1] and not cond)
            if cond is not None and attr == order[0]:
                t = body.call_module((names[cond[0]],), step_emb, inline=True)
                t = body.call_function(
                    "getitem", t, (Slice(), Slice(), *[None] * cond[1]), inline=True
                )
                h = body.call_function("add", h, t, name="h", comment="the embedding, per channel")
        if shortcut is not None:
            side = body.call_module((names[shortcut],), step_input, inline=True)
            h = body.call_function("add", h, side)
        body.output(act.apply(body, activation, h))
        items = tuple((names[attr], (attr,)) for attr in names)
        inputs = (x,) if emb is None else (x, emb)
        x = g.loop(items, body, *inputs, comment="step i: item i of each list")
        for attr in after:
            x = g.call_module((attr,), x)
        g.output(x)

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn
        import torch.nn.functional as F

        from codegen.patterns._kit import Example

        class MLP(nn.Module):  # PyG's MLP: `lins` and `bns` side by side, relu after each norm
            def __init__(self, c_in: int = 6, hidden: int = 8, layers: int = 2) -> None:
                super().__init__()
                widths = [c_in] + [hidden] * layers
                self.lins = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths, widths[1:]))
                self.bns = nn.ModuleList(nn.BatchNorm1d(hidden) for _ in range(layers))

            def forward(self, x):
                for lin, bn in zip(self.lins, self.bns):
                    x = F.relu(bn(lin(x)))
                return x

        class ConvReluNorm(nn.Module):  # glow-tts' names, one level down, a 1x1 proj after
            def __init__(self, c_in: int = 5, hidden: int = 8, layers: int = 2) -> None:
                super().__init__()
                widths = [c_in] + [hidden] * layers
                self.conv_layers = nn.ModuleList(
                    nn.Conv1d(a, b, 3, padding=1) for a, b in zip(widths, widths[1:])
                )
                self.norm_layers = nn.ModuleList(nn.BatchNorm1d(hidden) for _ in range(layers))

            def forward(self, x):
                for conv, norm in zip(self.conv_layers, self.norm_layers):
                    x = F.relu(norm(conv(x)))
                return x

        class Encoder(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.pre = ConvReluNorm()
                self.proj = nn.Conv1d(8, 3, 1)

            def forward(self, x):
                return self.proj(self.pre(x))

        torch.manual_seed(0)
        model = Encoder().eval()
        mlp = MLP().eval()
        with torch.no_grad():  # running statistics away from 0 and 1: a skipped norm shows
            for m in [*model.modules(), *mlp.modules()]:
                if isinstance(m, nn.BatchNorm1d):
                    m.running_mean.normal_(0, 0.5)
                    m.running_var.uniform_(0.5, 2.0)
        return [Example(mlp, (torch.randn(4, 6),)), Example(model, (torch.randn(2, 5, 7),))]
