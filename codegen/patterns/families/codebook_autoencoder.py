"""A VQ-VAE (van den Oord et al. 2017) as its repositories write the top: an encoder, a conv mapping
its features to the codebook's width, the quantizer snapping each pixel's vector to its nearest
code, a decoder (sometimes behind a conv of its own):

    z = pre(encoder(x))                     # rosinality's quantize_conv_b, zalando's _pre_vq_conv
    return decoder(post(quantizer(z)))      # the reconstruction

The members' names differ in every repository (`enc_b`/`dec`, `_encoder`/`_pre_vq_conv`/`_vq_vae`,
`encoder`/`codebook`/`decoder`), and a dictionary keeps its keys in any order, so the order is read
from widths: the one sequence in which each member reads what the one before gives, the quantizer
sits between other members, the first and last members are not bare convs (the image enters and
leaves through the encoder and the decoder), and the decoder gives what the encoder reads.
diffusers' VQModel (families/autoencoder.py, its own names) is not read here.

Training returns the codebook loss and perplexity beside the reconstruction; in eval mode only the
reconstruction is an image, so the forward returns it.
"""

from __future__ import annotations

import re
from itertools import permutations

from codegen.ir.graph import Graph
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
from codegen.patterns._mirror_strides import body, mirror_pins
from codegen.patterns.families.autoencoder import SEQUENTIAL_GUESS

CONTAINERS = ("class", "sequential", "modulelist", "repeat")



def _widths(m) -> tuple[int, int] | None:
    io = m.io
    if io is None or not io.in_width or not io.out_width:
        return None
    return io.in_width, io.out_width


class CodebookAutoencoder(BlockPattern):
    role = "VQVAE"
    # Over the plain autoencoder (families/autoencoder.py), which may read the same members
    # around the quantizer: one vector quantizer among them makes this the more specific reading.
    priority = 11

    accepts = Accepts(3, 5, tensors=False, roles=("VectorQuantizer",))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or not 3 <= len(members) <= 5:
            return None
        quantizers = [m for m in members if ctx.role(m) == "VectorQuantizer"]
        if len(quantizers) != 1:
            return None
        quantizer = quantizers[0]
        others = [m for m in members if m is not quantizer]
        widths = {m.attr: _widths(m) for m in others}
        if any(w is None for w in widths.values()):
            return None
        if any(m.kind not in CONTAINERS and family(m) != "conv" for m in others):
            return None
        orders = [order for order in permutations(others) if _composes(order, widths)]
        code = quantizer.io.out_width if quantizer.io is not None else None
        placed = {_placed(order, widths, code) for order in orders} - {None}
        placed = _encoder_first(placed) if len(placed) > 1 else placed
        if len(placed) != 1:
            return None  # none, or two readings the widths cannot tell apart
        guessed = ""
        if any(m.kind != "class" for m in others if m.kind in CONTAINERS):
            guessed = SEQUENTIAL_GUESS  # the strides inside them are conventions, not keys
        (before, after) = found = placed.pop()
        by_attr = {m.attr: m for m in others}
        # (through the classes wrapping one Sequential: MishaLaskin's Encoder.conv_stack)
        encoder, decoder = (body(by_attr[a], ctx.classes) for a in (before[0], after[-1]))
        pins = mirror_pins(encoder, [decoder])
        return Match(self, len(members), (found, quantizer.attr), guessed=guessed, pins=pins)

    def forward(self, match: Match, g: Graph) -> None:
        (before, after), quantizer = match.found
        h = g.input("x")
        for attr in before:
            h = g.call_module((attr,), h, name="z")
        h = g.call_module((quantizer,), h, name="z", comment="the nearest codebook vectors")
        for attr in after:
            h = g.call_module((attr,), h, name="x")
        g.output(h)

    @staticmethod
    def examples():
        from codegen.patterns.blocks._vq_examples import autoencoder_examples

        return autoencoder_examples()


def _composes(order, widths) -> bool:
    """Each member reads what the one before gives; the last gives what the first reads; the
    ends are containers (the encoder and the decoder), not bare convs."""
    if order[0].kind not in CONTAINERS or order[-1].kind not in CONTAINERS:
        return False
    pairs = [widths[m.attr] for m in order]
    if pairs[-1][1] != pairs[0][0]:
        return False
    return all(a[1] == b[0] for a, b in zip(pairs, pairs[1:]))


def _placed(order, widths, code: int | None) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """(the members before the quantizer, those after): the encoder and the conv after it (which
    narrows to the codebook's width, `code` where the quantizer shows it), then the rest. Two
    containers, and no conv before the encoder or after the decoder (_composes); None otherwise."""
    attrs = [m.attr for m in order]
    if sum(m.kind in CONTAINERS for m in order) != 2:
        return None
    cut = 1 if len(order) == 2 else 2
    if code is not None and widths[attrs[cut - 1]][1] != code:
        return None
    return tuple(attrs[:cut]), tuple(attrs[cut:])


def _encoder_first(readings: set) -> set:
    """Of two readings the widths allow ([encoder, decoder] and [decoder, encoder] both come back
    to their input's width), the one whose first member is named as an encoder."""
    named = {r for r in readings if re.match(r"_*enc", r[0][0], re.IGNORECASE)}
    return named if len(named) == 1 else readings
