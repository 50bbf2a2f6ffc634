"""SegNet (Badrinarayanan et al. 2017) as its ports write it: flat conv/norm pairs numbered by
stage and place, an encoder whose stages end in a 2x2 max-pool that keeps its indices, and a
decoder mirroring it whose stages begin by max-unpooling with the indices of the encoder stage
of the same number (delta-onera/segnet_pytorch's `conv11`/`bn11` ... `conv11d`, vinceecws'
`enc_conv00`/`enc_bn00` ... `dec_conv00`):

    for each encoder stage: x = relu(bn(conv(x))) ...;  x, indices[s] = max_pool2d(x, 2, 2)
    for each decoder stage, last first: x = max_unpool2d(x, indices[s], 2, 2);  x = relu(bn(conv(x)))
    return the last decoder conv's output (no norm, no activation: the class scores)

Each conv's name holds two digits, its stage and its place; the decoder's names differ from the
encoder's by one spelling (`d`, `dec_`), the norms' by the same one. The widths must chain in
that order, or this is not the layout. The pool's size and the ReLUs leave no tensor: SegNet's
2x2/2 max-pool and ReLU by convention, choices that calibration can move. The pairing of pool
indices with unpools is parameter-free and follows from the mirrored stage numbers.
"""

from __future__ import annotations

import re

from codegen.ir.graph import Graph
from codegen.patterns import _activations as act
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Example,
    Match,
    family,
    modules,
)
from codegen.patterns._kit import tensors

PLACE = re.compile(r"(\D*?)(\d)(\d)(\D*)")


def _affix(a: str, b: str) -> int:
    """How much two spellings share at their ends (common prefix plus common suffix)."""
    prefix = len(next((a[:i] for i in range(min(len(a), len(b)), 0, -1) if a[:i] == b[:i]), ""))
    a, b = a[prefix:], b[prefix:]
    suffix = next((i for i in range(min(len(a), len(b)), 0, -1) if a[-i:] == b[-i:]), 0)
    return prefix + suffix


def _places(ms) -> dict | None:
    """{spelling without its digits: {(stage, place): member}}; None where a name has not two."""
    out: dict = {}
    for m in ms:
        found = PLACE.fullmatch(m.attr)
        if found is None:
            return None
        spelling = found.group(1) + "#" + found.group(4)
        out.setdefault(spelling, {})[(int(found.group(2)), int(found.group(3)))] = m
    return out


def _sides(convs: dict, norms: dict) -> tuple | None:
    """(encoder convs, decoder convs, encoder norms, decoder norms), each by (stage, place)."""
    if len(convs) != 2 or len(norms) > 2:
        return None
    (a, conv_a), (b, conv_b) = convs.items()
    p, q = (list(norms) + [None, None])[:2]  # (none where the norms are nested with the convs)
    if p is None:
        return conv_a, conv_b, {}, {}
    # the norms' spellings differ as the convs' do: pair them by what their ends share
    if _affix(a, p) + (_affix(b, q) if q else 0) < _affix(a, q or "") + _affix(b, p):
        p, q = q, p
    norm_a, norm_b = norms.get(p, {}) if p else {}, norms.get(q, {}) if q else {}
    return conv_a, conv_b, norm_a, norm_b


def _conv_unit(m) -> bool:
    """A 2-d conv, or a Sequential of one with its norm (and activation slot) after it."""
    if m.kind == "builtin":
        return family(m) == "conv" and m.io.ndim == 2
    items = [c for c in m.children if c.kind != "placeholder"] if m.kind == "sequential" else []
    if not items or items[0].kind != "builtin" or family(items[0]) != "conv":
        return False
    return (
        items[0].io.ndim == 2 and all(family(c) == "norm" for c in items[1:2]) and len(items) <= 2
    )


def _chains(order: list, channels: int) -> bool:
    width = channels
    for m in order:
        if m.io.in_width != width:
            return False
        width = m.io.out_width
    return True


class UnpoolingSegNet(BlockPattern):
    role = "SegNet"
    priority = 10

    accepts = Accepts(5, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) < 5:
            return None
        if any(m.io is None for m in members):
            return None
        convs = [m for m in members if _conv_unit(m)]
        norms = [m for m in members if m.kind == "builtin" and family(m) == "norm"]
        if len(convs) + len(norms) != len(members):
            return None
        conv_places, norm_places = _places(convs), _places(norms)
        if conv_places is None or norm_places is None:
            return None
        sides = _sides(conv_places, norm_places)
        if sides is None:
            return None
        enc, dec, enc_norms, dec_norms = sides
        # the encoder is the side whose first conv reads the fewest channels (the image)
        first = lambda side: side[min(side)]  # noqa: E731
        if first(dec).io.in_width < first(enc).io.in_width:
            enc, dec, enc_norms, dec_norms = dec, enc, dec_norms, enc_norms
        if {s for s, _ in enc} != {s for s, _ in dec} or len({s for s, _ in enc}) < 2:
            return None
        enc_order = [enc[k] for k in sorted(enc)]
        dec_order = [dec[k] for k in sorted(dec, reverse=True)]
        if not _chains(enc_order + dec_order, first(enc).io.in_width):
            return None
        # each conv's norm gives its width; only the decoder's last conv goes without one
        for side, side_norms in ((enc, enc_norms), (dec, dec_norms)):
            if set(side_norms) - set(side):
                return None
            for k, m in side_norms.items():
                if m.io.in_width != side[k].io.out_width or side[k].kind != "builtin":
                    return None
        # a conv is called alone, or with its norm (and activation) nested in a Sequential
        nested = lambda side, k: side[k].kind == "sequential"  # noqa: E731
        missing = [k for k in dec if k not in dec_norms and not nested(dec, k)]
        if missing not in ([min(dec)], []) or any(
            k not in enc_norms for k in enc if not nested(enc, k)
        ):
            return None
        activation = ctx.choose(
            cls,
            enc_order[0].attr,
            "activation",
            "relu",
            act.alternatives("relu", conv=True),
            "after each conv/norm pair (SegNet's ReLU)",
        )
        pool = ctx.choose(
            cls,
            enc_order[0].attr,
            "pool_size",
            2,
            [3, 4],
            "each encoder stage's max-pool (kernel = stride; SegNet's 2x2, stride 2)",
        )
        guessed = [c.name for c in (activation, pool) if c.source == "default"]
        note = ""
        if guessed:
            note = (
                "SegNet's ReLU and 2x2 max-pools leave no tensor (by convention): the choices "
                f"{', '.join(guessed)}"
            )

        def stages(side: dict, norms_of: dict, reverse: bool) -> tuple:
            numbers = sorted({s for s, _ in side}, reverse=reverse)
            return tuple(
                (
                    s,
                    tuple(
                        (side[k].attr, norms_of[k].attr if k in norms_of else None)
                        for k in sorted((k for k in side if k[0] == s), reverse=reverse)
                    ),
                )
                for s in numbers
            )

        found = (stages(enc, enc_norms, False), stages(dec, dec_norms, True))
        return Match(self, len(members), found, [activation, pool], guessed=note)

    def forward(self, match: Match, g: Graph) -> None:
        encoder, decoder = match.found
        activation, pool = (c.value for c in match.choices)
        x = g.input("x")

        def unit(x, conv: str, norm: str | None):
            x = g.call_module((conv,), x, name="x", inline=norm is not None)
            if norm is None:
                return x  # the class scores, or a nested conv-norm-activation
            x = g.call_module((norm,), x, name="x", inline=True)
            return act.apply(g, activation, x, name="x")

        indices = {}
        for stage, units in encoder:
            for conv, norm in units:
                x = unit(x, conv, norm)
            pooled = g.call_function(
                "max_pool2d_with_indices", x, pool, pool, name="pooled", comment="keeps indices"
            )
            x = g.call_function("getitem", pooled, 0, name="x")
            indices[stage] = g.call_function("getitem", pooled, 1, name=f"indices_{stage}")
        for stage, units in decoder:
            x = g.call_function(
                "max_unpool2d",
                x,
                indices[stage],
                pool,
                pool,
                name="x",
                comment=f"to stage {stage}'s size, values where their maxima were",
            )
            for conv, norm in units:
                x = unit(x, conv, norm)
        g.output(x)

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn
        import torch.nn.functional as F

        def cbr(c_in: int, c_out: int) -> nn.Sequential:
            return nn.Sequential(
                nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU()
            )

        class EncDecSegNet(nn.Module):  # enc_/dec_ names, conv-BN-ReLU nested, stages of 2 and 3
            def __init__(self, in_chn: int = 3, out_chn: int = 5) -> None:
                super().__init__()
                self.enc_conv00, self.enc_conv01 = cbr(in_chn, 6), cbr(6, 6)
                self.enc_conv10, self.enc_conv11, self.enc_conv12 = (
                    cbr(6, 10),
                    cbr(10, 10),
                    cbr(10, 10),
                )
                self.dec_conv12, self.dec_conv11, self.dec_conv10 = (
                    cbr(10, 10),
                    cbr(10, 10),
                    cbr(10, 6),
                )
                self.dec_conv01 = cbr(6, 6)
                self.dec_conv00 = nn.Conv2d(6, out_chn, 3, padding=1)

            def forward(self, x):
                x = self.enc_conv01(self.enc_conv00(x))
                x, idx0 = F.max_pool2d(x, 2, 2, return_indices=True)
                x = self.enc_conv12(self.enc_conv11(self.enc_conv10(x)))
                x, idx1 = F.max_pool2d(x, 2, 2, return_indices=True)
                x = F.max_unpool2d(x, idx1, 2, 2)
                x = self.dec_conv10(self.dec_conv11(self.dec_conv12(x)))
                x = F.max_unpool2d(x, idx0, 2, 2)
                return self.dec_conv00(self.dec_conv01(x))

        torch.manual_seed(0)
        net = EncDecSegNet()
        for m in net.modules():  # trained statistics, so a wrong norm shows
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 1.5)
        return [Example(net.eval(), (torch.randn(2, 3, 8, 8),))]
