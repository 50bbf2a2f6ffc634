"""A super-resolution net in the layout the common repositories use (ESRGAN's RRDBNet, basicsr,
EDSR/ESPCN-style tails): a first conv, a body of residual blocks with a conv after it and a long
skip around both, upsampling steps, an optional high-resolution conv, the last conv.

    fea = conv_first(x);  fea = fea + conv_body(body(fea))
    each up step: act(conv_up(interpolate(fea, x2)))  or  pixel_shuffle(conv_up(fea), r)
    return conv_last(act(conv_hr(fea)))

A step's kind shows in the widths: a conv giving r*r times what the next conv reads is followed by
a pixel shuffle by r; one that keeps the width follows an interpolation, whose mode is a choice.
The long skip and the activations leave no tensors: choices too, as is an activation after the
first conv (basicsr's MSRResNet) and the input, upsampled to the output's size, added at the end
(MSRResNet adds it bilinear, Real-ESRGAN's compact net nearest; ESRGAN and EDSR add none).
A first conv reading r*r times the channels the last conv gives reads the input pixel-unshuffled
by r (basicsr's RRDBNet at scale 2 or 1: the x4 body then works at half or quarter size).
"""

from __future__ import annotations

import re

from codegen.ir import ExampleInput
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
from codegen.patterns._kit import one_named, tensors
from codegen.patterns._kit import name_order

HEAD = r"conv_first|conv_in|conv_input|first_conv|head"
BODY = r"rrdb_trunk|body|trunk|res_?blocks|residual_layers?|blocks|[a-z]+_trunk"
BODY_CONV = r"trunk_conv|conv_body|body_conv|conv_after_body"
UP = r"up_?conv\d*|conv_up\d*|upsample_?conv\d*"
HR = r"hr_?conv|conv_hr|conv_before_last"
STEP_HR = r"hr_?conv\d+|conv_hr\d+"  # one per up step (PAN: HRconv1 after upconv1)
ATT = r"att\d*"  # PAN's pixel attention after each up conv (blocks/pixel_gate.py)
LAST = r"conv_last|conv_out|last_conv|tail"


def _scale(steps: list[tuple[str, int]]) -> int:
    """How many times larger the output is than the input: x2 per interpolation, r per shuffle."""
    scale = 1
    for _, r in steps:
        scale *= r or 2
    return scale


def input_residual(ctx: BlockContext, cls, where: str, default: str = "none"):
    """The input, upsampled to the output's size, added to the output: no tensor shows it."""
    return ctx.choose(
        cls,
        where,
        "input_residual",
        default,
        [m for m in ("none", "nearest", "bilinear", "bicubic") if m != default],
        "the input upsampled to the output's size and added",
    )


def add_input_residual(g: Graph, out, x, mode: str, scale: int):
    if mode == "none":
        return out
    kwargs = {"scale_factor": float(scale), "mode": mode}
    if mode != "nearest":
        kwargs["align_corners"] = False
    base = g.call_function(
        "interpolate", x, kwargs=kwargs, name="base", comment="the input, upsampled"
    )
    return g.call_function("add", out, base)


def unshuffle_factor(first_reads: int | None, last_gives: int | None) -> int:
    """r where the first conv reads r*r times what the last conv gives (an unshuffled input)."""
    if not first_reads or not last_gives or first_reads == last_gives:
        return 0
    return next((r for r in (2, 4) if first_reads == r * r * last_gives), 0)


def input_unshuffle(ctx: BlockContext, cls, where: str, r: int):
    """basicsr's RRDBNet at scale 2 or 1 pixel-unshuffles its image before the first conv."""
    return ctx.choose(
        cls,
        where,
        "input_unshuffle",
        r,
        [0] + [f for f in (2, 4) if f != r],
        "the input pixel-unshuffled by this factor before the first conv (0: none)",
    )


def _unclosed_body(body, body_conv, choices) -> str:
    """Where no conv closes the body, the keys fit codes that differ in what they leave unkeyed:
    ESRGAN's and EDSR's conv after the body is what their long skip adds around; basicsr's
    MSRResNet has none, no long skip, a leaky ReLU after its first conv and the input added
    bilinear. Such a layout, its dataflow choices at defaults, is a guess (named here)."""
    if body is None or body_conv is not None:
        return ""
    named = ("long_skip", "head_activation", "activation", "input_residual")
    left = [c.name for c in choices if c.name in named and c.source == "default"]
    if not left:
        return ""
    return (
        "no conv closes the body, so no known layout settles what its keys leave out (EDSR's "
        "long skip, MSRResNet's activations and upsampled input): the choices " + ", ".join(left)
    )


def _conv(m) -> bool:
    return m is not None and m.kind == "builtin" and family(m) == "conv" and m.io.ndim == 2


class SuperResolution(BlockPattern):
    role = "SuperResolution"
    priority = 10

    accepts = Accepts(tensors=False, names=(HEAD, LAST, UP))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls):
            return None
        head, body, body_conv = (one_named(members, n) for n in (HEAD, BODY, BODY_CONV))
        hr, last = one_named(members, HR), one_named(members, LAST)
        ups = sorted(
            (m for m in members if re.fullmatch(UP, m.attr, re.IGNORECASE)),
            key=lambda m: name_order(m.attr),
        )
        by_number = {name_order(m.attr)[0]: m for m in ups}
        step_hrs = [m for m in members if re.fullmatch(STEP_HR, m.attr, re.IGNORECASE)]
        atts = [m for m in members if re.fullmatch(ATT, m.attr, re.IGNORECASE)]
        extras = []  # per up step: the pixel attention and the conv after it (PAN)
        for up in ups:
            number = name_order(up.attr)[0]
            att = next((m for m in atts if name_order(m.attr)[0] == number), None)
            step_hr = next((m for m in step_hrs if name_order(m.attr)[0] == number), None)
            if att is not None and ctx.role(att) != "PixelAttention":
                return None
            extras.append((att, step_hr))
        if len(by_number) != len(ups):
            return None
        paired = [m for pair in extras for m in pair if m is not None]
        used = [m for m in (head, body, body_conv, hr, last) if m is not None] + ups + paired
        if head is None or last is None or not ups or len(used) != len(members):
            return None
        step_convs = [m for _, m in extras if m is not None]
        if not all(
            _conv(m) for m in [head, last, *ups, *step_convs] + [m for m in (hr, body_conv) if m]
        ):
            return None
        if body is not None and body.kind not in ("class", "repeat", "sequential", "modulelist"):
            return None
        width = head.io.out_width
        steps, shuffles = [], False
        for up, (att, step_hr) in zip(ups, extras):
            if up.io.in_width != width:
                return None
            ratio = up.io.out_width // width if up.io.out_width % width == 0 else 0
            r = next((r for r in (2, 3, 4) if ratio == r * r), None)
            if up.io.out_width == width or (up.io.out_width and (att or step_hr)):
                steps.append((up.attr, 0))  # PAN's up convs narrow: to `unf` channels
                width = up.io.out_width
            elif r is not None:
                steps.append((up.attr, r))
                shuffles = True
            else:
                return None
            for m in (att, step_hr):
                if m is not None and (m.io.in_width, m.io.out_width) != (width, width):
                    return None
        for m in [hr, last]:
            if m is not None and m.io.in_width != width:
                return None
        choices = []
        interpolation = None
        if any(r == 0 for _, r in steps):
            interpolation = ctx.choose(
                cls,
                ups[0].attr,
                "upsample",
                "nearest",
                ["bilinear", "none"],
                "doubling before each up conv that keeps the width",
            )
            choices.append(interpolation)
        activation = ctx.choose(
            cls,
            ups[0].attr,
            "activation",
            "identity" if shuffles else "leaky_relu",
            ["leaky_relu", "leaky_relu_0.1", "relu", "identity"],
            "after each up step and the high-resolution conv",
        )
        choices.append(activation)
        head_activation = ctx.choose(
            cls,
            head.attr,
            "head_activation",
            "identity",
            ["leaky_relu", "leaky_relu_0.1", "relu"],
            "after the first conv",
        )
        choices.append(head_activation)
        if last.io.out_width is not None and last.io.out_width == head.io.in_width:
            # PAN's code (pixel attention after its up convs) adds the bilinear-upsampled input
            default = "bilinear" if atts else "none"
            residual = input_residual(ctx, cls, last.attr, default)
            if residual.source == "default" and atts:
                residual.note = "zhaohengyuan1/PAN's layout (`att` after `upconv`) by convention"
            choices.append(residual)
        r = unshuffle_factor(head.io.in_width, last.io.out_width)
        if r:
            choices.append(input_unshuffle(ctx, cls, head.attr, r))
        skip = None
        if body is not None:
            skip = ctx.choose(
                cls,
                body.attr,
                "long_skip",
                "add",
                ["none"],
                "the first conv's output around the body",
            )
            choices.append(skip)
        found = dict(
            head=head.attr,
            body=(body.attr, body.kind) if body is not None else None,
            body_conv=body_conv.attr if body_conv else None,
            steps=steps,
            extras=[tuple(m.attr if m else None for m in pair) for pair in extras],
            hr=hr.attr if hr else None,
            last=last.attr,
            scale=_scale(steps),
        )
        return Match(
            self, len(members), found, choices, guessed=_unclosed_body(body, body_conv, choices)
        )

    def forward(self, match: Match, g: Graph) -> None:
        f = match.found
        values = {c.name: c.value for c in match.choices}
        activation, head_activation = values["activation"], values["head_activation"]
        x = g.input("x")
        r = values.get("input_unshuffle", 0)
        if r:
            x = g.call_function(
                "pixel_unshuffle", x, r, name="fea", comment=f"{r}x smaller, {r * r}x channels"
            )
        fea = g.call_module((f["head"],), x, name="fea")
        fea = act.apply(g, head_activation, fea, name="fea")
        if f["body"] is not None:
            attr, kind = f["body"]
            each = kind in ("repeat", "modulelist")
            out = g.call_module((attr,), fea, name="out", each=each)
            if f["body_conv"]:
                out = g.call_module((f["body_conv"],), out, name="out", inline=True)
            if values["long_skip"] == "add":
                fea = g.call_function(
                    "add", fea, out, name="fea", comment="long skip over the body"
                )
            else:
                fea = out
        for (attr, r), (att, step_hr) in zip(f["steps"], f["extras"]):
            if r:
                fea = g.call_module((attr,), fea, name="fea", inline=True)
                fea = g.call_function(
                    "pixel_shuffle", fea, r, name="fea", comment=f"{r * r}x channels -> {r}x size"
                )
            else:
                if values["upsample"] != "none":
                    fea = g.call_function(
                        "interpolate",
                        fea,
                        kwargs={"scale_factor": 2.0, "mode": values["upsample"]},
                        name="fea",
                        inline=True,
                    )
                fea = g.call_module((attr,), fea, name="fea", inline=not att)
            if att:
                fea = g.call_module((att,), fea, name="fea", inline=True)
            fea = act.apply(g, activation, fea, name="fea")
            if step_hr:
                fea = g.call_module((step_hr,), fea, name="fea", inline=True)
                fea = act.apply(g, activation, fea, name="fea")
        if f["hr"]:
            fea = g.call_module((f["hr"],), fea, name="fea", inline=True)
            fea = act.apply(g, activation, fea, name="fea", inline=True)
        out = g.call_module((f["last"],), fea, name="out")
        g.output(add_input_residual(g, out, x, values.get("input_residual", "none"), f["scale"]))

    def example_inputs(self, match: Match, cls) -> list[ExampleInput]:
        r = next((c.value for c in match.choices if c.name == "input_unshuffle"), 0)
        head = next(m for m in modules(cls) if m.attr == match.found["head"])
        channels = head.io.in_width // (r * r) if r else head.io.in_width
        return [ExampleInput((2, channels, 32, 32))]

    @staticmethod
    def examples():
        from codegen.patterns.blocks._sr_examples import modules as zoo

        z = zoo()
        return [
            Example(z["rrdbnet"](), z["image"](3, 6)),
            Example(z["pixel_shuffle"](), z["image"](3, 6)),
            Example(_pan_x4(), z["image"](3, 4)),
        ]


def _pan_x4():
    """zhaohengyuan1/PAN's x4 layout (two up steps, each with its pixel attention and HR conv,
    narrowing to `unf`), its SCPA trunk replaced by plain convs."""
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    class PA(nn.Module):
        def __init__(self, nf: int) -> None:
            super().__init__()
            self.conv = nn.Conv2d(nf, nf, 1)

        def forward(self, x):
            return x * torch.sigmoid(self.conv(x))

    class PanX4(nn.Module):
        def __init__(self, nf: int = 8, unf: int = 4) -> None:
            super().__init__()
            self.conv_first = nn.Conv2d(3, nf, 3, 1, 1)
            self.SCPA_trunk = nn.Sequential(nn.Conv2d(nf, nf, 3, 1, 1))
            self.trunk_conv = nn.Conv2d(nf, nf, 3, 1, 1)
            self.upconv1 = nn.Conv2d(nf, unf, 3, 1, 1)
            self.att1 = PA(unf)
            self.HRconv1 = nn.Conv2d(unf, unf, 3, 1, 1)
            self.upconv2 = nn.Conv2d(unf, unf, 3, 1, 1)
            self.att2 = PA(unf)
            self.HRconv2 = nn.Conv2d(unf, unf, 3, 1, 1)
            self.conv_last = nn.Conv2d(unf, 3, 3, 1, 1)

        def forward(self, x):
            lrelu = nn.functional.leaky_relu
            fea = self.conv_first(x)
            fea = fea + self.trunk_conv(self.SCPA_trunk(fea))
            for up, att, hr in (
                (self.upconv1, self.att1, self.HRconv1),
                (self.upconv2, self.att2, self.HRconv2),
            ):
                fea = up(F.interpolate(fea, scale_factor=2, mode="nearest"))
                fea = lrelu(hr(lrelu(att(fea), 0.2)), 0.2)
            ilr = F.interpolate(x, scale_factor=4, mode="bilinear", align_corners=False)
            return self.conv_last(fea) + ilr

    torch.manual_seed(0)
    return PanX4().eval()
