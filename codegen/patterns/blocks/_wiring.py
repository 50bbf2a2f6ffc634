"""The wirings of a small block that the widths its members record allow (blocks/solved_wiring.py).

A block whose members do not chain (MSRN's multi-scale block, PeleeNet's two-way dense layer, an
Inception module, DLA's tree, SelecSLS's block, VoVNet's aggregation) is still a small DAG: the
input x and each unit's output are its nodes; a unit reads one node, the concatenation of several
(in name order) or the sum of several of one width; the block gives its last unit (plus x where the
widths allow), or the concatenation of several nodes. Every instance of the class records each
unit's in and out width, so a wiring must fit all of them at once, and what reads the block (a
consumer's width, analyze/joins.py) must get its width where that is known.

`solve` enumerates them (bounded by SEARCH_BUDGET: past it, it gives up rather than guess from a
part), keeps those where every node is used (a unit's output nobody reads would be dead weight),
and ranks them by the priors a person writes blocks with:
  0. a unit does not read its sibling (`conv_3_1` beside `conv_5_1`: one step of two paths);
  1. fewest joins: a concatenation or sum computed once and read by every unit that reads it;
  2. units read what is built before them in name order (`conv1` before `conv2`; never key order,
     which a safetensors file sorts alphabetically);
  3. a unit reads the newest node of its width (a chain goes on from where it stopped);
  4. concatenations of what the block made rather than its input;
  5. concatenations in name order (two nodes are also tried the other way round, ranked after).
The order alone is never evidence (a name is not a width), so the class stays `guessed` unless one
wiring fits; ties keep the first found, in name order.
"""

from __future__ import annotations

import heapq
import itertools
import re
from dataclasses import dataclass

SEARCH_BUDGET = 50_000  # partial wirings tried before giving up (a block of many equal widths)
MAX_JOINED = 6  # nodes one concatenation may join (HGNetV2's aggregation: x and 5 layers)
MAX_SUMMED = 3
TOKENS = re.compile(r"\d+|[A-Za-z]+")
KEPT = 8  # wirings ranked and kept: the best and its runners-up (a choice's alternatives)

# A source: ("node", j) | ("cat", (j, ...)) | ("sum", (j, ...)). Node 0 is x, node k + 1 is unit
# k's output. (x added back to the output is the pattern's `residual` choice, not a wiring.)
Source = tuple


@dataclass(frozen=True)
class Wiring:
    reads: tuple[Source, ...]  # what each unit reads, in the units' name order
    output: Source
    score: tuple

    def order(self) -> list[int]:
        """The units in an order they can run: each after what it reads, else by name."""
        done: set[int] = {0}
        left = list(range(len(self.reads)))
        order = []
        while left:
            ready = next(u for u in left if set(nodes_of(self.reads[u])) <= done)
            order.append(ready)
            left.remove(ready)
            done.add(ready + 1)
        return order


def nodes_of(source: Source) -> tuple[int, ...]:
    kind, what = source
    return (what,) if kind == "node" else tuple(what)


def describe(w: Wiring, names: list[str]) -> str:
    """A wiring as a choice value: `b=cat(a,c) out=d+x`, each unit reading anything but x named."""

    def show(source: Source) -> str:
        kind, what = source
        label = lambda j: "x" if j == 0 else names[j - 1]  # noqa: E731
        if kind == "node":
            return label(what)
        joined = ",".join(label(j) for j in what)
        return f"{kind}({joined})"

    parts = [f"{names[u]}={show(s)}" for u, s in enumerate(w.reads) if s != ("node", 0)]
    return " ".join(parts + [f"out={show(w.output)}"])


def siblings(a: str, b: str) -> bool:
    """Names of two units side by side at one step of parallel paths: one stem, one last token
    (the step), another number between (`conv_3_1` and `conv_5_1`: MSRN's 3x3 and 5x5 paths'
    first convs; `branch1a` and `branch2a`: PeleeNet's; `branch5x5_2` and `branch3x3dbl_2`)."""
    ta, tb = TOKENS.findall(a), TOKENS.findall(b)
    if a == b or min(len(ta), len(tb)) < 3 or ta[0] != tb[0] or ta[-1] != tb[-1]:
        return False
    return [t for t in ta[1:-1] if t.isdigit()] != [t for t in tb[1:-1] if t.isdigit()]


def solve(
    ins: list[tuple[int, ...]],
    outs: list[tuple[int, ...]],
    consumer: tuple[int | None, ...],
    reader_of_input: list[int] | None = None,
    names: list[str] | None = None,
) -> tuple[list[Wiring], int] | None:
    """(the best wirings, best first, at most KEPT; how many fit in all) for units whose in and
    out widths per instance are `ins[u]`, `outs[u]` (units in name order); `consumer[i]`: the
    width what reads instance i takes, or None. None where the search ran past its budget.
    x's width per instance is that of a unit reading it alone (`reader_of_input`: which may)."""
    readers = None if reader_of_input is None else tuple(reader_of_input)
    key = (
        tuple(ins),
        tuple(outs),
        tuple(consumer),
        readers,
        None if names is None else tuple(names),
    )
    if key not in _SOLVED:  # (analyze asks again for the same class at every pass)
        if len(_SOLVED) >= 256:
            _SOLVED.clear()
        _SOLVED[key] = _solve(*key)
    solved = _SOLVED[key]
    return None if solved is None else (list(solved[0]), solved[1])


_SOLVED: dict[tuple, tuple[list[Wiring], int] | None] = {}


def _solve(ins, outs, consumer, reader_of_input, names) -> tuple[list[Wiring], int] | None:
    n = len(ins)
    budget = [SEARCH_BUDGET]
    # Every complete wiring is enumerated first and scored only once the whole search stayed in
    # its budget (one past it gives None, whatever was found before).
    complete: list[tuple[list[Source], list[tuple[int, ...]], list]] = []
    seen_inputs: set[tuple[int, ...]] = set()
    for r in reader_of_input if reader_of_input is not None else range(n):
        wx = ins[r]
        if wx in seen_inputs:
            continue
        seen_inputs.add(wx)
        widths = [wx] + list(outs)
        beside = [[siblings(a, b) for b in names or [""] * n] for a in names or [""] * n]
        leaves: list[tuple[Source, ...]] = []
        if not _search(n, ins, widths, r, budget, leaves):
            return None
        complete.append((leaves, widths, beside))
    found: dict[tuple, tuple] = {}  # (reads, output): score
    for leaves, widths, beside in complete:
        _finish(leaves, n, widths, consumer, found, beside)
    best = heapq.nsmallest(KEPT, found.items(), key=lambda item: item[1])  # (a total order)
    return [Wiring(reads, out, score) for (reads, out), score in best], len(found)


def _options(u: int, n: int, ins, widths) -> list[Source]:
    need = ins[u]
    nodes = [j for j in range(n + 1) if j != u + 1]
    single = [("node", j) for j in nodes if widths[j] == need]
    cats = []
    for size in range(2, min(MAX_JOINED, len(nodes)) + 1):
        for combo in itertools.combinations(nodes, size):
            if all(sum(widths[j][i] for j in combo) == need[i] for i in range(len(need))):
                cats.append(("cat", combo))
                if size == 2:  # the other order, ranked after (ucbdrive's DLA root: cat(x2, x1))
                    cats.append(("cat", combo[::-1]))
    sums = []
    if not single:  # a sum where one node of the width could be read is never the simplest
        same = [j for j in nodes if widths[j] == need]
        for size in range(2, min(MAX_SUMMED, len(same)) + 1):
            sums += [("sum", combo) for combo in itertools.combinations(same, size)]
    return single + cats + sums


def _search(n, ins, widths, r, budget, leaves) -> bool:
    """Every acyclic wiring of the units' reads, into `leaves`; False past the budget."""
    options = [_options(u, n, ins, widths) for u in range(n)]
    if not all(options) or ("node", 0) not in options[r]:
        return True
    # per option, the units it reads (node j > 0 is unit j - 1's output)
    read_units = [[tuple(j - 1 for j in nodes_of(s) if j) for s in opts] for opts in options]
    reads: list[Source] = []
    units: list[tuple[int, ...]] = []  # the units each unit set so far reads

    def extend(u: int) -> bool:
        budget[0] -= 1
        if budget[0] < 0:
            return False
        if u == n:
            leaves.append(tuple(reads))
            return True
        for source, read in zip(options[u], read_units[u]):
            reads.append(source)
            units.append(read)
            if not _closes_cycle(units) and not extend(u + 1):
                return False
            reads.pop()
            units.pop()
        return True

    return extend(0)


def _closes_cycle(units: list[tuple[int, ...]]) -> bool:
    """Whether the last unit set closes a cycle among the units set so far (`units[u]`: those
    unit u reads, set or not yet). Those before it form none (the search only goes on from an
    acyclic prefix), so a new cycle runs through the last unit: it is one of its own ancestors."""
    n = len(units)
    last = n - 1
    stack = [v for v in units[last] if v < n]
    seen: set[int] = set()
    while stack:
        u = stack.pop()
        if u == last:
            return True
        if u not in seen:
            seen.add(u)
            stack += [v for v in units[u] if v < n]
    return False


def _finish(leaves, n, widths, consumer, found, beside) -> None:
    """Each complete wiring's outputs (what no unit reads, joined or not), scored, into `found`
    (the first found of each kept)."""
    per_read: dict[tuple[int, Source], tuple[int, int, int]] = {}
    proven = any(c is not None for c in consumer)  # (a width to check the output against)
    for reads in leaves:
        used = set()
        for s in reads:
            used.update(nodes_of(s))
        unused = [j for j in range(n + 1) if j not in used]
        if 0 in unused or ("node", 0) not in reads:  # x enters through a unit reading it alone
            continue
        outputs: list[Source] = []
        if len(unused) == 1:
            outputs.append(("node", unused[0]))  # (plus x where the widths allow: another choice)
        if len(unused) >= 2:
            outputs.append(("cat", tuple(unused)))
            if len(unused) == 2:
                outputs.append(("cat", tuple(unused[::-1])))
            if len({widths[j] for j in unused}) == 1:
                outputs.append(("sum", tuple(unused)))
        if unused:
            outputs.append(("cat", (0, *unused)))
        reads_score = None
        for out in outputs:
            if proven and any(
                c is not None and c != g for c, g in zip(consumer, _width(out, widths))
            ):
                continue
            if (reads, out) in found:
                continue
            if reads_score is None:
                reads_score = _reads_score(reads, widths, beside, per_read)
            found[(reads, out)] = _score(reads_score, out, n)


def _width(source: Source, widths) -> tuple[int, ...]:
    kind, what = source
    if kind == "node":
        return widths[what]
    if kind == "sum":
        return widths[what[0]]
    return tuple(sum(widths[j][i] for j in what) for i in range(len(widths[0])))


def _reads_score(reads, widths, beside, per_read) -> tuple:
    """The part of a wiring's score its units' reads give (_score): (crossed, late, stale), the
    distinct joins, x's places in the joined concatenations, those out of name order; the reads."""
    crossed = late = stale = 0
    for u, s in enumerate(reads):
        if (u, s) not in per_read:
            per_read[(u, s)] = _read_score(u, s, widths, beside)
        c, la, st = per_read[(u, s)]
        crossed, late, stale = crossed + c, late + la, stale + st
    joins = {s for s in reads if s[0] in ("cat", "sum")}
    cats = [s for s in joins if s[0] == "cat"]
    old = sum(1 for s in cats for j in s[1] if j == 0)
    unordered = sum(1 for s in cats if list(s[1]) != sorted(s[1]))
    return crossed, late, stale, len(joins), old, unordered, list(reads)


def _read_score(u: int, s: Source, widths, beside) -> tuple[int, int, int]:
    # a unit reading its sibling (units side by side at one step, by their names)
    crossed = sum(1 for j in nodes_of(s) if j and beside[u][j - 1])
    late = sum(1 for j in nodes_of(s) if j - 1 > u)
    stale = 0
    if not (s[0] != "node" or s[1] == 0 and u == 0):
        j = s[1]
        newer = [
            k
            for k in range(j + 1, len(widths))
            if k != u + 1 and widths[k] == widths[j] and k - 1 < u and not beside[u][k - 1]
        ]
        stale = int(bool(newer))
    return crossed, late, stale


def _score(reads_score: tuple, out: Source, n: int) -> tuple:
    crossed, late, stale, joins, old, unordered, reads = reads_score
    late += out[0] == "node" and out[1] != n  # the last unit by name gives the output
    # a concatenation joining x where it could join what the block made (MSRN's, VoVNet's are
    # told apart by the rest; this only breaks what is left): the output's too, so a block
    # whose consumer does not prove a dense layer's cat(x, ...) gives what it made
    if out[0] == "cat":
        old += sum(1 for j in out[1] if j == 0)
        unordered += list(out[1]) != sorted(out[1])  # joins in name order
    out_joins = 0 if out[0] == "node" else 1
    return (crossed, joins + out_joins, late, stale, old, unordered, reads, out)
