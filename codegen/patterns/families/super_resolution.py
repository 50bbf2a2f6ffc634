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
from codegen.patterns._kit import BlockContext, BlockPattern, Example, Match, family, modules
from codegen.patterns._kit import one_named, tensors
from codegen.patterns.blocks.residual import name_order

HEAD = r"conv_first|conv_in|conv_input|first_conv|head"
BODY = r"rrdb_trunk|body|trunk|res_?blocks|residual_layers?|blocks"
BODY_CONV = r"trunk_conv|conv_body|body_conv|conv_after_body"
UP = r"up_?conv\d*|conv_up\d*|upsample_?conv\d*"
HR = r"hr_?conv|conv_hr|conv_before_last"
LAST = r"conv_last|conv_out|last_conv|tail"


def _scale(steps: list[tuple[str, int]]) -> int:
    """How many times larger the output is than the input: x2 per interpolation, r per shuffle."""
    scale = 1
    for _, r in steps:
        scale *= r or 2
    return scale


def input_residual(ctx: BlockContext, cls, where: str):
    """The input, upsampled to the output's size, added to the output: no tensor shows it."""
    return ctx.choose(
        cls,
        where,
        "input_residual",
        "none",
        ["nearest", "bilinear", "bicubic"],
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


def _conv(m) -> bool:
    return m is not None and m.kind == "builtin" and family(m) == "conv" and m.io.ndim == 2


class SuperResolution(BlockPattern):
    role = "SuperResolution"
    priority = 10

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
        used = [m for m in (head, body, body_conv, hr, last) if m is not None] + ups
        if head is None or last is None or not ups or len(used) != len(members):
            return None
        if not all(_conv(m) for m in [head, last, *ups] + [m for m in (hr, body_conv) if m]):
            return None
        if body is not None and body.kind not in ("class", "repeat", "sequential", "modulelist"):
            return None
        width = head.io.out_width
        steps, shuffles = [], False
        for up in ups:
            if up.io.in_width != width:
                return None
            ratio = up.io.out_width // width if up.io.out_width % width == 0 else 0
            r = next((r for r in (2, 3, 4) if ratio == r * r), None)
            if up.io.out_width == width:
                steps.append((up.attr, 0))
            elif r is not None:
                steps.append((up.attr, r))
                shuffles = True
            else:
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
            choices.append(input_residual(ctx, cls, last.attr))
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
            hr=hr.attr if hr else None,
            last=last.attr,
            scale=_scale(steps),
        )
        return Match(self, len(members), found, choices)

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
        for attr, r in f["steps"]:
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
                fea = g.call_module((attr,), fea, name="fea", inline=True)
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
        ]
