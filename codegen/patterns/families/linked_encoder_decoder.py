"""An encoder-decoder whose decoders' outputs are ADDED to the encoder features of the same size
(LinkNet, Chaurasia and Culurciello 2017; e-lab/pytorch-linknet `LinkNet`, and the LinkNet34s
written on torchvision's ResNets):

    x = maxpool(act(norm(stem(x))))                 # the stem: a conv (and its norm)
    e1 = encoder1(x); e2 = encoder2(e1); ...; eK = encoderK(e(K-1))
    d = eK
    for k in K..1: d = skip(k - 1) + decoderk(d)    # skip(0) is the stem's output
    return head(d)                                  # the rest, chained by widths

A sum forces equal sizes and widths: decoder k gives what encoder k read (its widths are the
encoder's reversed), so the members pair by their trailing numbers into levels, and decoder k
must undo encoder k's resampling: where it holds one spatial conv that could be either, that conv
is transposed, with encoder k's stride (output_padding stride - 1, as LinkNet's decoders), and
decoder k reads encoder k's width (which orders a decoder whose widths form a cycle). The stem's
activation and pool, and what follows the head, leave no key: choices (ResNet's and e-lab's
conventions), and the forward says guessed.
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
from codegen.patterns.blocks.chain import dataflow_order
from codegen.patterns.families.sum_joined_pyramid import PLAIN, TRANSPOSED, kind_choice, leaves

LEVEL = re.compile(r"^(.*?)(\d+)$")
LISTS = ("repeat", "modulelist")  # called item by item
STACKS = ("class", "sequential", "repeat", "modulelist")  # a level: a block, or blocks in turn
STEM_POOL = "nn.MaxPool2d(3, stride=2, padding=1)"
RESAMPLED = (
    "the decoder's output is added to the encoder features of the level above (a sum forces "
    "equal sizes): its one spatial conv undoes the encoder's stride, transposed"
)
READS = "the decoder reads what its encoder gives (its output is added to what that encoder read)"


def _encoder_stride(m, ctx: BlockContext, depth: int = 0) -> int:
    """The largest whole stride an encoder's layers or blocks are given (1: it keeps the size)."""
    found = 1
    for a in m.args:
        if a.keyword == "stride" and isinstance(a.value, int):
            found = max(found, a.value)
    if depth > 8 or m.kind in ("builtin", "placeholder"):
        return found
    held = ctx.classes.get(m.type_name) if m.kind == "class" else None
    inner = modules(held) if held is not None else [] if m.kind == "class" else m.children
    return max([found, *(_encoder_stride(c, ctx, depth + 1) for c in inner)])


def _instances(path: str, decoders: list, dec) -> list[str]:
    """A choice's path (addressed by its class's first instance) for every decoder of the same
    class: a pin must reach each, or the class splits."""
    first, _, rest = path.partition(".")
    if dec.kind != "class" or first not in {d.attr for d in decoders} or not rest:
        return [path]
    return [
        f"{d.attr}.{rest}" for d in decoders if d.kind == "class" and d.type_name == dec.type_name
    ]


def _closes_in_norm(m) -> bool:
    """A flat Sequential of conv-norm-activation units ending in a norm: its last activation sits
    in the trailing slot, past the last key (LinkNet's decoders written as one Sequential)."""
    items = m.children if m.kind == "sequential" else []
    slots = [i for i, c in enumerate(items) if c.kind == "placeholder"]
    return (
        len(items) > 2
        and family(items[-1]) == "norm"
        and bool(slots)
        and all(i > 0 and family(items[i - 1]) == "norm" for i in slots)
    )


def _pairs(members: list) -> tuple[list, list] | None:
    """(encoders, decoders) by level, 1..K: two groups of members named by one prefix and a
    number each, the second's widths the first's reversed level by level, the first chaining."""
    groups: dict[str, dict[int, object]] = {}
    for m in members:
        found = LEVEL.match(m.attr)
        if found and m.kind in STACKS and m.io is not None and m.io.ndim == 2:  # (maps)
            groups.setdefault(found.group(1), {})[int(found.group(2))] = m
    options = []
    for p, enc in groups.items():
        for q, dec in groups.items():
            if p == q or len(enc) < 2 or enc.keys() != dec.keys():
                continue
            levels = sorted(enc)
            if levels != list(range(levels[0], levels[0] + len(levels))):
                continue
            e = [enc[k] for k in levels]
            d = [dec[k] for k in levels]
            if any(a.io.in_width != b.io.out_width for a, b in zip(e[1:], e)):
                continue
            if any(
                (y.io.out_width, y.io.in_width) != (x.io.in_width, x.io.out_width)
                for x, y in zip(e, d)
                if x.io.in_width != x.io.out_width
            ):
                continue
            if all(x.io.in_width == x.io.out_width for x in e):
                continue  # no level's widths say which path is which
            options.append((e, d))
    return options[0] if len(options) == 1 else None


class LinkedEncoderDecoder(BlockPattern):
    role = "EncoderDecoder"
    priority = 10

    accepts = Accepts(tensors=False, families=("conv",))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or any(m.io is None for m in members):
            return None
        found = _pairs(members)
        if found is None:
            return None
        encoders, decoders = found
        width = encoders[0].io.in_width
        rest = [m for m in members if m not in encoders and m not in decoders]
        convs = [m for m in rest if family(m) == "conv" and m.kind == "builtin"]
        stems = [m for m in convs if m.io.out_width == width and m.io.in_width != width]
        if len(stems) != 1:
            return None
        stem = stems[0]
        norms = [m for m in rest if family(m) == "norm" and m.io.in_width == width]
        if len(norms) > 1:
            return None
        head = [m for m in rest if m is not stem and m not in norms]
        ordered = dataflow_order(head, width) if head else []  # (the sum: the stem's width)
        if ordered is None:
            return None
        pins, unproven = [], []
        skips = ctx.choose(
            cls,
            decoders[-1].attr,
            "skips",
            "add",
            ["none"],
            "each decoder's output added to the encoder features of its size (LinkNet's links), "
            "or none: a plain autoencoder, whose widths chain the same way",
        )
        first_skip = ctx.choose(
            cls,
            decoders[0].attr,
            "first_skip",
            "add",
            ["none"],
            "the first decoder's output added to the stem's (e-lab's LinkNet) or not (the "
            "LinkNet34s on torchvision's ResNet-34: d1 = decoder1(d2))",
        )
        for level, (enc, dec) in enumerate(zip(encoders, decoders)):
            stride = _encoder_stride(enc, ctx)
            dec_cls = ctx.classes.get(dec.type_name) if dec.kind == "class" else None
            if dec_cls is not None and enc.io.in_width == enc.io.out_width:
                pins.append((dec_cls.name, "input_width", enc.io.out_width, READS))
            spatial = [
                m
                for m in leaves(dec, ctx)
                if m.kind == "builtin"
                and family(m) == "conv"
                and next((a.value for a in m.args if a.keyword == "kernel_size"), 1)
                not in (1, (1, 1))
            ]
            if skips.value == "none" or (level == 0 and first_skip.value == "none"):
                continue  # no sum meets the first decoder's output: nothing proves its size
            if len(spatial) != 1:
                unproven.append(dec.attr)
                continue
            conv = spatial[0]
            choice = kind_choice(conv)
            if conv.type_name == PLAIN:
                known = choice or next((a.choice for a in conv.args if a.choice), None)
                for path in _instances(known.path, decoders, dec) if known else []:
                    pins.append((path, "module_type", TRANSPOSED, RESAMPLED))
                continue
            geometry = next((c for c in conv.choices if c.name == "geometry"), None)
            geometry = geometry or next(
                (a.choice for a in conv.args if a.choice and a.choice.name == "geometry"), None
            )
            if geometry is not None and geometry.source == "default":
                kernel = next(a.value for a in conv.args if a.keyword == "kernel_size")
                k = kernel if isinstance(kernel, int) else kernel[0]
                want = (stride, (k - 1) // 2, stride - 1)  # (odd kernels: LinkNet's 3x3)
                if k % 2 and want != geometry.value and want in geometry.alternatives:
                    for path in _instances(geometry.path, decoders, dec):
                        pins.append((path, "geometry", want, RESAMPLED))
        pins = list(dict.fromkeys(pins))
        # A ResNet stem (7x7, stride 2) says the encoders are a ResNet's, as LinkNet's are: its
        # 3x3 stride-2 max-pool follows, and e-lab's reference code ends in a log-softmax.
        kernel = next((a.value for a in stem.args if a.keyword == "kernel_size"), None)
        stride = next((a.value for a in stem.args if a.keyword == "stride"), 1)
        resnet = kernel in (7, (7, 7)) and stride == 2
        activation = ctx.choose(
            cls,
            stem.attr,
            "activation",
            "relu",
            act.alternatives("relu", conv=True),
            "after the stem's conv (and norm)",
        )
        pool = ctx.choose(
            cls,
            stem.attr,
            "stem_pool",
            "max" if resnet else "none",
            ["none" if resnet else "max"],
            "the stem's 3x3 stride-2 max-pool (ResNet's, LinkNet's)",
        )
        output = ctx.choose(
            cls,
            ordered[-1].attr if ordered else stem.attr,
            "output_activation",
            "log_softmax" if resnet else "identity",
            ["identity" if resnet else "log_softmax", "sigmoid"],
            "over the classes (e-lab/pytorch-linknet's LogSoftmax; torchvision-based LinkNets "
            "return the logits)",
        )
        note = (
            "the stem's activation and pool, whether the first decoder's output is added to "
            "the stem's, and the output's activation leave no tensor"
        )
        if unproven:
            note += f"; how {', '.join(unproven)} resample is not proven"
        found = (
            stem.attr,
            norms[0].attr if norms else None,
            [(e.attr, e.kind in LISTS) for e in encoders],
            [(d.attr, d.kind in LISTS, _closes_in_norm(d)) for d in decoders],
            [m.attr for m in ordered],
        )
        return Match(
            self,
            len(members),
            found,
            [activation, pool, skips, first_skip, output],
            guessed=note,
            pins=pins,
        )

    def forward(self, match: Match, g: Graph) -> None:
        stem, norm, encoders, decoders, head = match.found
        activation, pool, linked, first_skip, output = (c.value for c in match.choices)
        x = g.input("x")
        x = g.call_module((stem,), x, name="x")
        if norm is not None:
            x = g.call_module((norm,), x, name="x")
        x = act.apply(g, activation, x, name="x")
        if pool == "max":
            x = g.call_function("max_pool2d", x, 3, 2, 1, name="x")
        skips = [x]
        for i, (encoder, each) in enumerate(encoders):
            skips.append(g.call_module((encoder,), skips[-1], name=f"e{i + 1}", each=each))
        d = skips[-1]
        for i in reversed(range(len(decoders))):
            decoder, each, closes = decoders[i]
            if linked == "none" or (i == 0 and first_skip == "none"):
                d = g.call_module((decoder,), d, name=f"d{i + 1}", each=each)
                d = act.apply(g, activation, d, name=f"d{i + 1}") if closes else d
                continue
            up = g.call_module((decoder,), d, name="up", each=each)
            if closes:  # its last unit's activation, past its last key
                up = act.apply(g, activation, up, name="up")
            d = g.call_function("add", skips[i], up, name=f"d{i + 1}")
        for m in head:
            d = g.call_module((m,), d, name="y")
        if output == "log_softmax":
            d = g.call_function("log_softmax", d, kwargs={"dim": 1}, name="y")
        elif output == "sigmoid":
            d = g.call_function("sigmoid", d, name="y")
        g.output(d)

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn
        import torch.nn.functional as F

        def unit(conv: nn.Module, c: int) -> nn.Sequential:
            return nn.Sequential(conv, nn.BatchNorm2d(c), nn.ReLU())

        class Net(nn.Module):  # two levels, mirrored 4x4 resampling, its skips added
            def __init__(self, w: int = 4) -> None:
                super().__init__()
                self.conv_in = nn.Conv2d(3, w, 3, 1, 1)
                self.enc1 = unit(nn.Conv2d(w, 2 * w, 4, 2, 1), 2 * w)
                self.enc2 = unit(nn.Conv2d(2 * w, 4 * w, 4, 2, 1), 4 * w)
                self.dec2 = unit(nn.ConvTranspose2d(4 * w, 2 * w, 4, 2, 1), 2 * w)
                self.dec1 = unit(nn.ConvTranspose2d(2 * w, w, 4, 2, 1), w)
                self.head = nn.Conv2d(w, 2, 1)

            def forward(self, x):
                x0 = F.relu(self.conv_in(x))
                x1 = self.enc1(x0)
                d = self.dec2(self.enc2(x1)) + x1
                return self.head(self.dec1(d) + x0)

        torch.manual_seed(0)
        return [Example(Net().eval(), (torch.randn(2, 3, 8, 8),))]
