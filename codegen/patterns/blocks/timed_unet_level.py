"""The levels of a diffusion U-Net built from double convs, each level given the time embedding
through its own small MLP, as dome272's Diffusion-Models-pytorch writes them (modules.py):

    Down: maxpool_conv = Sequential(MaxPool2d(2), DoubleConv(c, c, residual=True), DoubleConv(c, d))
          emb_layer = Sequential(SiLU(), Linear(time, d))
          forward(x, t): x = maxpool_conv(x); return x + emb_layer(t)[:, :, None, None]
    Up:   up = Upsample(2, bilinear, align_corners=True)       (no keys)
          conv = Sequential(DoubleConv(c, c, residual=True), DoubleConv(c, d))
          forward(x, skip, t): x = conv(cat([skip, up(x)])); return x + emb_layer(t)[...]

Read from the structure: two Sequentials, one [an empty slot, Linear] (the time MLP, its Linear as
wide as the level's output) and one of double convs (blocks/double_conv.py), after an empty slot
(the contracting step) in a down level. A DoubleConv with `residual=True` adds its input and then
applies the activation, `gelu(x + double_conv(x))`; the plain one ends on its norm. No key shows
which double conv adds its input, nor the activations, the pool, the up-sampler or the order of
the concatenation: dome272's code fixes them (the first double conv of a level whose width it
keeps; GELU; GroupNorm(1); a 2x2 max pool; bilinear with aligned corners; the skip first), the
file says they are conventions, and calibration can move each.
"""

from __future__ import annotations

from codegen.ir.graph import Graph, Slice
from codegen.patterns import _activations as act
from codegen.patterns._kit import BlockContext, BlockPattern, Match, family, modules, tensors
from codegen.patterns.blocks.double_conv import holds_double_conv
from codegen.patterns.blocks.padded_resnet_block import slot_pin
from codegen.patterns.blocks.unet_level import UPSAMPLES

WHY = "dome272's Diffusion-Models-pytorch level (Down/Up with emb_layer)"
POOL_WHY = "dome272's Down: nn.MaxPool2d(2) before the double convs"
TIME_WHY = "dome272's emb_layer: nn.SiLU() then the Linear"
NORM_WHY = "dome272's DoubleConv: nn.GroupNorm(1, channels) after each conv"


def _items(m) -> list | None:
    if m.kind != "sequential" or not all(c.attr.isdigit() for c in m.children):
        return None
    return sorted(m.children, key=lambda c: int(c.attr))


def time_mlp(m) -> object | None:
    """The Linear of a Sequential [empty slot, Linear]: a level's own time MLP."""
    items = _items(m)
    if items is None or len(items) != 2 or items[0].kind != "placeholder":
        return None
    return items[1] if family(items[1]) == "linear" and items[1].kind == "builtin" else None


def _level(cls, ctx: BlockContext, pooled: bool) -> tuple | None:
    """(body, its double convs, the time MLP, its Linear) of a timed level; None otherwise."""
    members = modules(cls)
    if tensors(cls) or len(members) != 2:
        return None
    times = [m for m in members if m.kind == "sequential" and time_mlp(m) is not None]
    if len(times) != 1:
        return None
    time = times[0]
    body = next(m for m in members if m is not time)
    items = _items(body)
    if items is None:
        return None
    if pooled:
        if len(items) < 2 or items[0].kind != "placeholder":
            return None
        convs = items[1:]
    else:
        convs = items
    if not convs or not all(c.kind == "class" and holds_double_conv(ctx, c) for c in convs):
        return None
    if any(c.io is None for c in convs):
        return None
    for a, b in zip(convs, convs[1:]):
        if a.io.out_width != b.io.in_width:
            return None
    linear = time_mlp(time)
    if linear.io.out_width != convs[-1].io.out_width:
        return None
    return body, convs, time, linear


def conv_pins(activation: str) -> list:
    """Model-wide pins for every double conv (blocks/double_conv.py reads them): dome272's
    activation, and no activation after the last norm (a residual one adds its input first)."""
    return [
        ("", "double_conv_activation", activation, WHY),
        ("", "double_conv_last_activation", False, WHY),
    ]


class _TimedLevel(BlockPattern):
    priority = 6
    pooled = True

    def match(self, cls, ctx: BlockContext) -> Match | None:
        found = _level(cls, ctx, self.pooled)
        if found is None:
            return None
        body, convs, time, linear = found
        keeps = convs[0].io.in_width == convs[0].io.out_width
        choices = []
        residual = ctx.choose(
            cls,
            body.attr,
            "residual",
            "first" if keeps else "none",
            ["none"] if keeps else [],
            "the first double conv adds its input (dome272's residual=True)",
        )
        choices.append(residual)
        activation = ctx.choose(
            cls,
            body.attr,
            "activation",
            "gelu",
            act.alternatives("gelu", conv=True),
            "in the double convs, and after a residual sum (dome272's GELU)",
        )
        choices.append(activation)
        if not self.pooled:
            mode = ctx.choose(
                cls, body.attr, "upsample", UPSAMPLES[0], UPSAMPLES[1:], "the keyless 2x upsampler"
            )
            skip_first = ctx.choose(
                cls, body.attr, "skip_first", True, [False], "the concatenation: skip, then map"
            )
            choices += [mode, skip_first]
        guessed = ", ".join(c.name for c in choices if c.source == "default" and c.alternatives)
        if guessed:
            guessed = f"no key records {guessed} (dome272's by default)"
        module = act.MODULES.get(activation.value)
        items = _items(body)
        pins = []
        if self.pooled:
            pins.append(slot_pin(items[0], "nn.MaxPool2d(2)", POOL_WHY))
        pins.append(slot_pin(_items(time)[0], "nn.SiLU()", TIME_WHY))
        pins += conv_pins(activation.value) if module else []
        pins.append(("", "map_norm_groups", 1, NORM_WHY))
        found = (body.attr, [c.attr for c in convs], time.attr, self.pooled, keeps)
        explains = len(modules(cls)) + len(convs) + 2
        return Match(self, explains, found, choices, guessed=guessed, pins=[p for p in pins if p])

    def forward(self, match: Match, g: Graph) -> None:
        body, convs, time, pooled, keeps = match.found
        values = {c.name: c.value for c in match.choices}
        x = g.input("x")
        skip = None if pooled else g.input("skip")
        temb = g.input("temb")
        if pooled:
            x = g.call_module((body, "0"), x, name="x", comment="the contracting step")
        else:
            mode = values["upsample"]
            kwargs = {"scale_factor": 2.0, "mode": "nearest" if mode == "nearest" else "bilinear"}
            if mode != "nearest":
                kwargs["align_corners"] = mode == "bilinear_aligned"
            x = g.call_function("interpolate", x, kwargs=kwargs, name="x")
            halves = [skip, x] if values["skip_first"] else [x, skip]
            x = g.call_function("cat", halves, kwargs={"dim": 1}, name="x")
        for i, conv in enumerate(convs):
            h = g.call_module((body, conv), x, name="x", inline=i == 0 and keeps)
            if i == 0 and keeps and values["residual"] == "first":
                h = g.call_function("add", x, h, name="x", inline=True)
                h = act.apply(g, values["activation"], h, name="x", comment="residual=True")
            x = h
        t = g.call_module((time,), temb, name="t", inline=True)
        t = g.call_function("getitem", t, (Slice(), Slice(), None, None), name="t")
        g.output(g.call_function("add", x, t, comment="the time embedding, per channel"))

    @staticmethod
    def examples():
        from codegen.patterns.blocks._timed_unet_examples import timed_unet_examples

        return timed_unet_examples()


class TimedPoolDown(_TimedLevel):
    """A down level: the contracting step, its double convs, plus its time MLP's output."""

    role = "DownLevel"
    pooled = True


class TimedUpLevel(_TimedLevel):
    """An up level: the map up-sampled, the skip concatenated, double convs, plus the time's."""

    role = "UpLevel"
    pooled = False
