"""What calibration reads from the recorded output's shape, and the dilation patterns it tries.

The shape DATA records is evidence before any value is: from the input's spatial size and the
output's, the geometry a chain of convolutions must have can be solved (every conv unpadded or
padded to keep the size, a transposed conv's stride, padding and output padding, the dilations
that make unpadded convs shrink by what the shapes say), where a value search could only stumble
on it, since no candidate with the wrong size can be scored at all. `shape_moves` traces the
candidate (which conv runs when, on what size), simulates the chain under each hypothesis and
returns the moves whose output has DATA's size, simplest first; the search scores them before
anything else (codegen/calibrate/search.py).

A dilation leaves no key either. Networks space their taps by a pattern over a chain of
size-keeping convs, never one conv at a time: rising and falling (IRCNN: 1, 2, 3, 4, 3, 2, 1),
doubling (Yu & Koltun's context module, WaveNet-style stacks, in cycles), rising by one (the
x-vector TDNN's 1, 2, 3), or a saw-tooth (hybrid dilated convolution's 1, 2, 5). `dilation_moves`
offers each pattern as one move over the chain (also with undilated ends), so a search tries a
dozen patterns rather than every combination.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Iterator

from codegen.ir import Choice

# Beyond this many moves the hypotheses are left out, simplest kept: each costs a candidate.
MAX_SHAPE_MOVES = 8
MAX_DILATION_MOVES = 16
DILATION_CAP = 64  # no pattern dilates a tap farther apart than this
STRIDES = (1, 2, 3, 4)  # a transposed conv's stride: the upsampling factors nets use

# A move is choice (path, name) -> value; this value takes a pin back (the choice returns to its
# default). Defined here, where moves are made, so that the search (codegen/calibrate/) that
# applies them imports it from here and this module needs nothing from the search.
TO_DEFAULT = object()


@dataclass
class Call:
    """One conv's call in a traced forward: where it is, its geometry, the spatial sizes."""

    path: str
    transposed: bool
    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    padding: tuple[int, ...] | None  # None: a string padding ('same'), or padded in the forward
    dilation: tuple[int, ...]
    output_padding: tuple[int, ...]
    size_in: tuple[int, ...]
    size_out: tuple[int, ...]


@dataclass
class Trace:
    calls: list[Call]
    size_in: tuple[int, ...]  # the model's first input's spatial size
    size_out: tuple[int, ...] | None  # the output's, None when the forward failed


def trace(model: Any, inputs: tuple[Any, ...]) -> Trace:
    """Run `model` on `inputs` with a hook on every conv: the calls in the order they ran (as far
    as the forward got, where it fails)."""
    import torch
    import torch.nn as nn

    convs = (nn.Conv1d, nn.Conv2d, nn.Conv3d)
    transposed = (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)
    calls: list[Call] = []
    hooks = []

    def record(name: str, module: Any) -> Any:
        def hook(_: Any, args: tuple, out: Any) -> None:
            if not args or not isinstance(out, torch.Tensor):
                return
            padding = module.padding if isinstance(module.padding, tuple) else None
            calls.append(
                Call(
                    name,
                    isinstance(module, transposed),
                    tuple(module.kernel_size),
                    tuple(module.stride),
                    padding,
                    tuple(module.dilation),
                    tuple(getattr(module, "output_padding", (0,) * len(module.kernel_size))),
                    tuple(args[0].shape[2:]),
                    tuple(out.shape[2:]),
                )
            )

        return hook

    for name, module in model.named_modules():
        if isinstance(module, convs + transposed):
            hooks.append(module.register_forward_hook(record(name, module)))
    size_out = None
    try:
        with torch.no_grad():
            out = model(*inputs)
        out = out[0] if isinstance(out, tuple) else out
        size_out = tuple(out.shape[2:])
    except Exception:  # noqa: BLE001 - the calls before the failure still say something
        pass
    finally:
        for h in hooks:
            h.remove()
    return Trace(calls, tuple(inputs[0].shape[2:]), size_out)


def _conv_out(n: int, k: int, s: int, p: int, d: int) -> int:
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


def _transposed_out(n: int, k: int, s: int, p: int, d: int, op: int) -> int:
    return (n - 1) * s - 2 * p + d * (k - 1) + op + 1


def _open(searchable: list[Choice]) -> dict[tuple[str, str], Any]:
    """(path, name) -> current value of the geometry choices among those a search may move."""
    return {
        (c.path, c.name): c.value
        for c in searchable
        if c.name in ("padding", "geometry", "dilation")
    }


def _factors(t: Trace) -> list[tuple[Fraction, ...]] | None:
    """How each call's input relates to the previous call's output (a parameter-free resize
    between them, 1 where they are one chain), then the output to the last call's; None where
    the trace is no chain a size can be pushed through (a rank changes, a size is lost)."""
    sizes = [t.size_in] + [s for c in t.calls for s in (c.size_in, c.size_out)] + [t.size_out]
    if t.size_out is None or len({len(s) for s in sizes}) != 1 or any(0 in s for s in sizes):
        return None
    pairs = [(t.size_in, t.calls[0].size_in)] if t.calls else []
    pairs += [(a.size_out, b.size_in) for a, b in zip(t.calls, t.calls[1:])]
    pairs += [(t.calls[-1].size_out, t.size_out)] if t.calls else []
    return [tuple(Fraction(b, a) for a, b in zip(x, y)) for x, y in pairs]


def _simulate(t: Trace, factors: list, geometry: dict[str, tuple]) -> tuple[int, ...] | None:
    """The output's spatial size with each call's geometry replaced where `geometry` names it:
    (padding, dilation) for a conv, (stride, padding, output_padding) for a transposed one."""
    size = list(t.size_in)
    for call, factor in zip(t.calls, factors):
        size = [n * f for n, f in zip(size, factor)]
        if any(n.denominator != 1 or n < 1 for n in size):
            return None
        size = [int(n) for n in size]
        given = geometry.get(call.path)
        out = []
        for i, n in enumerate(size):
            k, d = call.kernel[i], call.dilation[i]
            if call.transposed:
                s, p, op = (
                    given if given else (call.stride[i], call.padding[i], call.output_padding[i])
                )
                if given is None and call.padding is None:
                    return None
                out.append(_transposed_out(n, k, s, p, d, op))
            else:
                if given is None and call.padding is None:
                    out.append(call.size_out[i] if n == call.size_in[i] else 0)
                    continue
                p, d = given if given else (call.padding[i], d)
                out.append(_conv_out(n, k, call.stride[i], p, d))
        if any(n < 1 for n in out):
            return None
        size = out
    size = [n * f for n, f in zip(size, factors[-1])]
    if any(n.denominator != 1 for n in size):
        return None
    return tuple(int(n) for n in size)


def _scalar(value: Any) -> int | None:
    """A padding choice's one number (the same on every side), else None."""
    if isinstance(value, tuple):
        return value[0] if value and len(set(value)) == 1 and type(value[0]) is int else None
    return value if type(value) is int else None


def shape_moves(
    searchable: list[Choice], t: Trace, wanted: tuple[int, ...]
) -> list[dict[tuple[str, str], Any]]:
    """Moves (choice -> value) under which the traced chain maps the input's spatial size to
    `wanted`, simplest first: the convs' paddings as they are, all unpadded, or all keeping the
    size (with a dilation pattern where unpadded convs must shrink by more than their kernels);
    the transposed convs as they are, one of them solved for the size, or all of them alike."""
    factors = _factors(t)
    if factors is None or len(wanted) != len(t.size_in) or not t.calls:
        return []
    choices = _open(searchable)
    plain = [
        c
        for c in t.calls
        if not c.transposed
        and (c.path, "padding") in choices
        and _scalar(choices[(c.path, "padding")]) is not None
        and c.padding is not None
        and max(c.kernel) > 1
    ]
    ups = [c for c in t.calls if c.transposed and (c.path, "geometry") in choices]
    paddings: list[dict[str, tuple[int, int]]] = [{}]  # path -> (padding, dilation)
    if plain:
        paddings.append({c.path: (0, c.dilation[0]) for c in plain})
        paddings.append(
            {c.path: ((c.kernel[0] - 1) * c.dilation[0] // 2, c.dilation[0]) for c in plain}
        )
        spaced = [c for c in plain if all(s == 1 for s in c.stride) and c.dilation[0] == 1]
        for pattern in _patterns(len(spaced)):
            paddings.append(
                {
                    **{c.path: (0, c.dilation[0]) for c in plain},
                    **{c.path: (0, d) for c, d in zip(spaced, pattern)},
                }
            )
    found: list[tuple[tuple, dict]] = []
    seen: set[tuple] = set()
    for rank, padded in enumerate(paddings):
        for ups_rank, upsampled in _upsamplings(ups):
            geometry = {**{p: v for p, v in padded.items()}, **upsampled}
            if _simulate(t, factors, geometry) != wanted:
                continue
            move = _as_move(t, choices, padded, upsampled)
            key = tuple(sorted((k, repr(v)) for k, v in move.items()))
            if move and key not in seen:
                seen.add(key)
                found.append(((len(move), min(rank, 2), ups_rank), move))
    found.sort(key=lambda f: f[0])
    return [move for _, move in found[:MAX_SHAPE_MOVES]]


def _upsamplings(ups: list[Call]) -> Iterator[tuple[tuple, dict[str, tuple[int, int, int]]]]:
    """(how far from the convention, geometry by path) for the transposed convs: as they are;
    one solved alone; all alike. Half the kernel as padding ranks first."""
    yield (0,), {}
    for i, call in enumerate(reversed(ups)):
        for g in _geometries(call):
            yield (1, i, _distance(call, g)), {call.path: g}
    kernels = {c.kernel for c in ups}
    if len(ups) > 1 and len(kernels) == 1:
        for g in _geometries(ups[0]):
            yield (2, 0, _distance(ups[0], g)), {c.path: g for c in ups}


def _geometries(call: Call) -> Iterator[tuple[int, int, int]]:
    k, d = call.kernel[0], call.dilation[0]
    for s in STRIDES:
        for p in range(d * (k - 1) + 1):
            for op in range(max(s, d)):
                yield s, p, op


def _distance(call: Call, g: tuple[int, int, int]) -> tuple[int, int]:
    s, p, op = g
    return (s != call.stride[0], abs(2 * p - (call.kernel[0] - 1)) + op)


def _as_move(
    t: Trace,
    choices: dict[tuple[str, str], Any],
    padded: dict[str, tuple[int, int]],
    upsampled: dict[str, tuple[int, int, int]],
) -> dict[tuple[str, str], Any]:
    move: dict[tuple[str, str], Any] = {}
    by_path = {c.path: c for c in t.calls}
    for path, (p, d) in padded.items():
        call = by_path[path]
        if d != call.dilation[0]:
            move[(path, "dilation")] = d
        if p != call.padding[0] or d != call.dilation[0]:
            move[(path, "padding")] = p
    for path, g in upsampled.items():
        if tuple(choices[(path, "geometry")]) != g:
            move[(path, "geometry")] = g
    return move


def _patterns(n: int) -> list[tuple[int, ...]]:
    """Dilation patterns over a chain of n convs, commonest first (see the module docstring), and
    the same over its inner n - 2 with undilated ends; none that dilates nothing."""
    out: list[tuple[int, ...]] = []

    def add(p: list[int]) -> None:
        p = tuple(min(d, DILATION_CAP) for d in p)
        if len(p) == n and any(d != 1 for d in p) and p not in out:
            out.append(p)

    for inner, ends in ((n, 0), (n - 2, 1), (n - 1, 2)):
        if inner < 2:
            continue
        shapes = [
            [min(i + 1, inner - i) for i in range(inner)],  # rise and fall: 1, 2, 3, 2, 1
            [2**i for i in range(inner)],  # doubling: 1, 2, 4, 8
            [i + 1 for i in range(inner)],  # rising by one: 1, 2, 3
        ]
        for period in range(3, min(inner, 10) // 2 + 1):  # cycles (WaveNet: 1..512, again)
            if inner % period == 0:
                shapes.append([2 ** (i % period) for i in range(inner)])
        shapes.append([(1, 2, 5)[i % 3] for i in range(inner)])  # hybrid dilated saw-tooth
        for shape in shapes:
            if ends == 0:
                add(shape)
            elif ends == 1:
                add([1] + shape + [1])
            else:
                add([1] + shape)
    return out


def dilation_moves(searchable: list[Choice], t: Trace) -> list[dict[tuple[str, str], Any]]:
    """Each dilation pattern as one move over each run of at least three traced convs, one
    feeding the next, that keep the size at stride 1 (kernel above 1, padding half the kernel):
    the padding follows the dilation, so the size stays; a tap left undilated takes any pin back.
    (Two convs are no pattern, and a run broken by a pooling or another conv is no chain.)"""
    choices = _open(searchable)

    def spaceable(c: Call) -> bool:
        return (
            not c.transposed
            and (c.path, "padding") in choices
            and max(c.kernel) > 1
            and all(s == 1 for s in c.stride)
            and c.size_in == c.size_out
            and all(d == 1 for d in c.dilation)
        )

    runs: list[list[Call]] = [[]]
    for call in t.calls:
        if spaceable(call) and (not runs[-1] or runs[-1][-1].size_out == call.size_in):
            runs[-1].append(call)
        else:
            runs.append([call] if spaceable(call) else [])
    moves = []
    for run in sorted((r for r in runs if len(r) >= 3), key=len, reverse=True):
        for pattern in _patterns(len(run)):
            moves.append(
                {(c.path, "dilation"): d if d != 1 else TO_DEFAULT for c, d in zip(run, pattern)}
            )
    return moves[:MAX_DILATION_MOVES]
