"""Two twin branches over one input joined element-wise, inside a chain (issue 16; zoo 19's StarNet):

    ...; a = act(first(x)); x = a * second(x); x = consumer(x); ...      (+ the input, where kept)

StarNet's "star" (Ma et al. 2024, `Block`: `f1`, `f2` widen the depthwise conv's output, ReLU6 on
the first, their product into `g`), and the gated feed-forward written with convs or as separate
members of a larger block (SwiGLU's `w1`, `w3` into `w2`, as the 1x1-conv ports of LLaMA's FFN
and the GLU convs of conv nets write it). A reading of widths, not names: two members of one
class reading the same width and giving the same wider one, where no chain through both keeps
the block's width but one with the pair as a single step does (the consumer reads what each
gives, not their concatenation), and the twins' width is not what the block gives (else one could
be a residual block's projection shortcut beside its first conv, added at the end). No key says
which join (a product: the gated units'; a sum of two linear branches would be one conv) nor
which branch is activated (the first in name order: StarNet's `f1`, SwiGLU's `w1`) nor with what
(ReLU6: StarNet's code; SiLU for SwiGLU): choices, and the class says guessed. The block adds its
input back where it keeps the width (StarNet's and the gated FFN blocks' residual), a choice too.
"""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns import _activations as act
from codegen.patterns._kit import BlockContext, BlockPattern, Match, modules, tensors
from codegen.patterns.blocks.chain import dataflow_order, name_ranked
from codegen.patterns.blocks.gated_branches import _branch as gated_branch

ROLE = "StarBlock"


def _branch(m, ctx: BlockContext) -> bool:
    """A member with a forward of its own (blocks/gated_branches.py's), over maps of 1 to 3 dims."""
    if not gated_branch(m, ctx) or m.io.ndim not in (1, 2, 3) or not m.io.in_width:
        return False
    # (over features, not maps: a Linear gated MLP is another pattern's reading)
    return m.io.family not in ("linear", "attention", "transformer", "embedding", "rnn")


def _twins(members, ctx: BlockContext):
    """(first, second, order with first standing for the pair), where exactly one pair fits."""
    found = None
    ranked = name_ranked(members)
    full = dataflow_order(members)
    for i, a in enumerate(ranked):
        for b in ranked[i + 1 :]:
            if not (_branch(a, ctx) and _branch(b, ctx)):
                continue
            if (a.io.in_width, a.io.out_width, a.io.ndim) != (
                b.io.in_width,
                b.io.out_width,
                b.io.ndim,
            ):
                continue
            if a.io.out_width == a.io.in_width:
                continue  # (width-keeping twins chain one after the other: a chain's reading)
            if _keeps(full):
                return None  # the members chain as they are, keeping the width: no join
            order = dataflow_order([m for m in members if m is not b])
            if order is None or order[-1] is a:
                continue  # (the pair must feed a consumer inside the block)
            if not _keeps(order) or order[-1].io.out_width == a.io.out_width:
                # (a block that widens, or gives the twins' width: one twin can be a projection
                # shortcut added at the end, a residual block's, not a branch joined inside)
                continue
            if found is not None:
                return None
            found = (a, b, order)
    return found


def _keeps(order) -> bool:
    """Whether a chain gives the width it reads (a block repeated in a stage)."""
    return order is not None and order[0].io.in_width == order[-1].io.out_width


class TwinProduct(BlockPattern):
    role = ROLE
    priority = 8

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = [m for m in modules(cls) if m.kind != "placeholder"]
        if tensors(cls) or not 3 <= len(members) <= 8:
            return None
        if any(not _branch(m, ctx) and m.kind != "builtin" for m in members):
            return None
        found = _twins(members, ctx)
        if found is None:
            return None
        first, second, order = found
        join = ctx.choose(
            cls,
            second.attr,
            "join",
            "mul",
            ["add"],
            f"how {first.attr} and {second.attr} (twin branches over one input) are joined",
        )
        activation = ctx.choose(
            cls,
            first.attr,
            "twin_activation",
            "relu6",
            act.alternatives("relu6", conv=True) + ["sigmoid"],  # (a GLU gates by a sigmoid)
            "on the first twin before the join (StarNet's code: ReLU6; SwiGLU: SiLU)",
            aliases=act.ALIASES,
        )
        activated = ctx.choose(
            cls,
            first.attr,
            "activated",
            "first",
            ["second"],
            f"which twin the activation reads: {first.attr} (StarNet's f1, SwiGLU's w1) or "
            f"{second.attr} (a GLU's gate, Dauphin et al. 2017: a * sigmoid(b))",
        )
        choices = [join, activation, activated]
        keeps = order[0].io.in_width == order[-1].io.out_width
        residual = "none"
        if keeps:
            c = ctx.choose(
                cls,
                order[-1].attr,
                "residual",
                "add",
                ["none"],
                "the block's input added back (StarNet's Block, the gated FFN blocks)",
            )
            choices.append(c)
            residual = c.value
        guessed = (
            f"{first.attr} and {second.attr} read the same input and give the same width, which "
            f"one consumer reads: joined element-wise (the choice join, a product), the first "
            "activated (the choices activated, twin_activation); no key records these"
        )
        found = ([m.attr for m in order], first.attr, second.attr, residual)
        return Match(self, len(members) + 2, found, choices, guessed=guessed)

    def forward(self, match: Match, g: Graph) -> None:
        order, first, second, residual = match.found
        by = {c.name: c.value for c in match.choices}
        x = g.input("x")
        out = x
        for attr in order:
            if attr != first:
                out = g.call_module((attr,), out, name="out")
                continue
            on, other = (first, second) if by["activated"] == "first" else (second, first)
            gate = act.apply(
                g, by["twin_activation"], g.call_module((on,), out, inline=True), name="gate"
            )
            other = g.call_module((other,), out, inline=True)
            if by["activated"] != "first":
                gate, other = other, gate  # (the first twin's output first, as written)
            how = "mul" if by["join"] == "mul" else "add"
            out = g.call_function(how, gate, other, name="out", comment="twin branches joined")
        if residual == "add":
            out = g.call_function("add", x, out, name="out")
        g.output(out)

    @staticmethod
    def examples():
        return []  # tests/test_twin_product.py: three layouts
