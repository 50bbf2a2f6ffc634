"""A residual encoder-decoder with symmetric skips (RED-Net, Mao et al. 2016), as
yjn870/REDNet-pytorch writes REDNet10/20/30: two lists of n items each, the convs and, mirroring
them, the transposed convs, every item but the decoder's last a [layer, ReLU] Sequential:

    feats = []
    for i, conv in enumerate(convs):             # the first one may halve the map (stride 2)
        x = relu(conv(x))
        if i is odd and fewer than ceil(n / 2) - 1 are kept: keep x
    for i, deconv in enumerate(deconvs):         # the last one doubles it back, un-activated
        x = deconv(x) (relu'd but for the last)
        if i + 1 + n is even and any kept map is left: x = relu(x + the latest kept map)
    return relu(x + input)

The widths prove the pairing: the encoder's convs read the image and chain, the decoder's
transposed convs give back exactly the encoder's widths in reverse, and every kept map meets a
decoder map of its width. The ReLUs sit past each item's keys and the skips leave none: the
repository's schedule (skips every second layer, the input added last), read as a guess (the
choice `skips`: the schedule, or none). Whether the first conv halves the map and the last
transposed conv doubles it back (yjn870's stride 2, output_padding 1) or both keep it (the
paper's stride 1) leaves no key either: one choice, `resample`, pinned onto both.
"""

from __future__ import annotations

import math

from codegen.ir.graph import Graph
from codegen.patterns import _activations as act
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Example,
    Match,
    modules,
    tensors,
)
from codegen.patterns.blocks._conv_parts import conv_kernel
from codegen.patterns.blocks.padded_resnet_block import arg_pin

WHY = "the mirrored RED-Net layout"
GUESSED = (
    "the skips (every second encoder map added back after every second decoder layer, the input "
    "added last, each sum through a ReLU) leave no keys: RED-Net's schedule as yjn870 writes it"
)


def _items(m, plain: str) -> list | None:
    """(path, layer, activated) of each item of a list: a bare `plain` layer (not activated), or a
    Sequential holding only one (the activation after it leaves no key); None otherwise."""
    if m.kind not in ("sequential", "modulelist") or not m.children:
        return None
    found = []
    for c in m.children:
        if c.kind == "builtin" and c.type_name == plain:
            found.append(((m.attr, c.attr), c, False))
            continue
        real = [x for x in c.children if x.kind != "placeholder"] if c.kind == "sequential" else []
        if len(real) != 1 or real[0].kind != "builtin" or real[0].type_name != plain:
            return None
        if c.children[0] is not real[0]:
            return None
        found.append(((m.attr, c.attr, real[0].attr), real[0], True))
    if any(layer.io is None or conv_kernel(layer) is None for _, layer, _ in found):
        return None
    return found


def schedule(n: int) -> list[tuple[int, int]]:
    """(encoder index, decoder index) of each skip: yjn870's REDNet forward, unrolled."""
    kept = [i for i in range(n) if (i + 1) % 2 == 0][: max(0, math.ceil(n / 2) - 1)]
    adds = [i for i in range(n) if (i + 1 + n) % 2 == 0]
    return [(kept[-(k + 1)], i) for k, i in enumerate(adds[: len(kept)])]


def _geometry(conv):
    found = next((c for c in conv.choices if c.name == "geometry"), None)
    return found or next(
        (a.choice for a in conv.args if a.choice and a.choice.name == "geometry"), None
    )


class SymmetricSkipNetwork(BlockPattern):
    role = "SymmetricSkipNetwork"
    priority = 10

    accepts = Accepts(tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = [m for m in modules(cls) if m.kind != "placeholder"]
        if tensors(cls) or not cls.is_top or len(members) != 2:
            return None
        pairs = [
            (_items(a, "nn.Conv2d"), _items(b, "nn.ConvTranspose2d"))
            for a, b in (members, members[::-1])
        ]
        found = [(enc, dec) for enc, dec in pairs if enc and dec]
        if len(found) != 1:
            return None
        enc, dec = found[0]
        n = len(enc)
        if n < 3 or len(dec) != n or not all(a for _, _, a in enc + dec[:-1]) or dec[-1][2]:
            return None
        widths = [(layer.io.in_width, layer.io.out_width) for _, layer, _ in enc]
        if any(a[1] != b[0] for a, b in zip(widths, widths[1:])):
            return None
        mirrored = [(b, a) for a, b in reversed(widths)]
        if [(layer.io.in_width, layer.io.out_width) for _, layer, _ in dec] != mirrored:
            return None
        skips = schedule(n)
        if not skips or any(widths[e][1] != mirrored[d][1] for e, d in skips):
            return None
        geometries = [_geometry(layer) for _, layer, _ in dec]
        if any(g is None for g in geometries):
            return None
        resample = ctx.choose(
            cls, dec[-1][0][0], "resample", 2, [1], "the first conv's stride, the last's scale"
        )
        skip = ctx.choose(cls, enc[0][0][0], "skips", "every_second", ["none"], GUESSED)
        activation = ctx.choose(
            cls,
            enc[0][0][0],
            "activation",
            "relu",
            act.alternatives("relu", conv=True),
            "after each layer but the last, and after each sum",
        )
        pins = []
        for i, (_, layer, _) in enumerate(enc):
            k = conv_kernel(layer)
            k = k if isinstance(k, int) else k[0]
            pins.append(arg_pin(layer, "stride", resample.value if i == 0 else 1, WHY))
            pins.append(arg_pin(layer, "padding", (k - 1) // 2, WHY))
        for i, ((_, layer, _), geometry) in enumerate(zip(dec, geometries)):
            k = conv_kernel(layer)
            k = k if isinstance(k, int) else k[0]
            s = resample.value if i == n - 1 else 1
            want = (s, (k - 1) // 2, s - 1)
            if geometry.source == "default" and want != tuple(geometry.value):
                if want not in [tuple(a) for a in geometry.alternatives]:
                    return None
                pins.append((geometry.path, "geometry", want, WHY))
        plan = ([p for p, _, _ in enc], [(p, a) for p, _, a in dec], skips)
        guessed = GUESSED if skip.source == "default" else ""
        return Match(
            self,
            2,
            plan,
            [skip, activation, resample],
            guessed=guessed,
            pins=[p for p in pins if p],
        )

    def forward(self, match: Match, g: Graph) -> None:
        enc, dec, skips = match.found
        skip, activation, _ = (c.value for c in match.choices)
        skips = skips if skip == "every_second" else []
        kept, adds = {e for e, _ in skips}, {d: e for e, d in skips}
        x = g.input("x")
        h, maps = x, {}
        for i, path in enumerate(enc):
            h = g.call_module(path, x if i == 0 else h, name="h", inline=True)
            h = act.apply(g, activation, h, name=f"e{i}" if i in kept else "h")
            if i in kept:
                maps[i] = h
        for i, (path, activated) in enumerate(dec):
            h = g.call_module(path, h, name="h", inline=activated)
            if activated:
                h = act.apply(g, activation, h, name="h")
            if i in adds:
                h = g.call_function("add", h, maps[adds[i]], inline=True)
                h = act.apply(g, activation, h, name="h", comment="the symmetric skip")
        out = g.call_function("add", h, x, inline=True)
        g.output(act.apply(g, activation, out, comment="the input added back"))

    @staticmethod
    def examples():
        import torch

        torch.manual_seed(0)
        return [Example(red_net(4, 6).eval(), (torch.randn(2, 3, 8, 8),))]


def red_net(n: int, width: int, stride: int = 2):
    """A RED-Net laid out as yjn870's, under other names (`convs`, `deconvs`)."""
    import math as m

    import torch.nn as nn

    class RedNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.n = n
            convs = [nn.Sequential(nn.Conv2d(3, width, 3, stride, 1), nn.ReLU())]
            convs += [
                nn.Sequential(nn.Conv2d(width, width, 3, 1, 1), nn.ReLU()) for _ in range(n - 1)
            ]
            deconvs = [
                nn.Sequential(nn.ConvTranspose2d(width, width, 3, 1, 1), nn.ReLU())
                for _ in range(n - 1)
            ]
            deconvs.append(nn.ConvTranspose2d(width, 3, 3, stride, 1, output_padding=stride - 1))
            self.convs, self.deconvs = nn.Sequential(*convs), nn.Sequential(*deconvs)

        def forward(self, x):
            residual, feats = x, []
            for i in range(self.n):
                x = self.convs[i](x)
                if (i + 1) % 2 == 0 and len(feats) < m.ceil(self.n / 2) - 1:
                    feats.append(x)
            taken = 0
            for i in range(self.n):
                x = self.deconvs[i](x)
                if (i + 1 + self.n) % 2 == 0 and taken < len(feats):
                    x = (x + feats[-(taken + 1)]).relu()
                    taken += 1
            return (x + residual).relu()

    return RedNet()
