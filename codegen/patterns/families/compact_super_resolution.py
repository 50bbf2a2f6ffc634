"""A super-resolution net that is one plain stack of convolutions (Real-ESRGAN's SRVGGNetCompact,
ESPCN, in one Sequential or in parts run in turn): the stack's last conv gives r*r times the
input's channels, a pixel shuffle by r turns them into an r-times larger image, and the input,
upsampled to that size, may be added back.

    out = pixel_shuffle(body(x), r)
    return out + interpolate(x, scale_factor=r, mode="nearest")     # SRVGGNetCompact; ESPCN: none

The ratio of widths shows the shuffle; the residual leaves no tensor, so it is a choice, and the
forward is marked guessed until calibration (or --hints) settles it: Real-ESRGAN's compact net
adds the nearest-upsampled input, ESPCN adds nothing. So is an activation after a part that ends
on a conv (ESPCN's `first_part` ends with a Tanh, which no numbered key shows).
"""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns import _activations as act
from codegen.patterns._kit import BlockContext, BlockPattern, Example, Match, family, modules
from codegen.patterns._kit import tensors
from codegen.patterns.families.super_resolution import add_input_residual

RATIOS = (2, 3, 4)


def _parts(members) -> list[list] | None:
    """Each member's layers (a Sequential's or ModuleList's items), or None where a member is
    anything else (a generated class, a lone layer: named layers are ordered by names, which do
    not say that they run as one stack)."""
    parts = []
    for m in members:
        if m.kind not in ("sequential", "modulelist"):
            return None
        items = [c for c in m.children if c.kind != "placeholder"]
        if not items or any(c.kind != "builtin" for c in items):
            return None
        if any(family(c) not in ("conv", "activation") for c in items):
            return None
        parts.append(items)
    return parts


class CompactSuperResolution(BlockPattern):
    role = "SuperResolution"
    priority = 10

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        parts = _parts(members)
        if tensors(cls) or not parts:
            return None
        convs = [c for items in parts for c in items if family(c) == "conv"]
        if not convs or any(c.type_name != "nn.Conv2d" for c in convs):
            return None
        width = convs[0].io.in_width
        for a, b in zip(convs, convs[1:]):
            if a.io.out_width != b.io.in_width:
                return None
        out = convs[-1].io.out_width
        r = next((r for r in RATIOS if width and out == width * r * r), None)
        if r is None or len(convs) < 2:
            return None
        # The net is the model: a block of one (a U-Net level reading the 1-channel image and
        # giving 4) is a part whose widths only happen to fit the ratio.
        if not cls.is_top:
            return None
        residual = ctx.choose(
            cls,
            members[0].attr,
            "input_residual",
            "nearest" if len(members) == 1 else "none",
            ["none", "nearest", "bilinear", "bicubic"],
            "the input upsampled to the output's size and added (Real-ESRGAN's compact net)",
        )
        choices, guessed = [residual], []
        if residual.source == "default":
            guessed.append(
                "whether the upsampled input is added at the end leaves no tensor (Real-ESRGAN's "
                "compact net adds it, ESPCN does not): the choice input_residual"
            )
        # A part that ends on a conv may end on an activation after it too: a trailing
        # parameter-free layer leaves no numbered key (ESPCN's `first_part` ends with Tanh).
        joins = [i for i in range(len(parts) - 1) if m_family(members[i]) == "conv"]
        if joins:
            between = ctx.choose(
                cls,
                members[joins[0]].attr,
                "activation",
                "identity",
                [a for a in act.FUNCTIONS if a != "identity"],
                "after a part that ends on a conv: a trailing activation leaves no key",
            )
            choices.append(between)
            if between.source == "default":
                guessed.append(
                    "an activation after a part that ends on a conv leaves no key: the choice "
                    "activation"
                )
        found = (tuple((m.attr, m.kind) for m in members), r, tuple(joins))
        return Match(self, len(members), found, choices, guessed="; ".join(guessed))

    def forward(self, match: Match, g: Graph) -> None:
        parts, r, joins = match.found
        x = g.input("x")
        out = x
        for i, (attr, kind) in enumerate(parts):
            out = g.call_module((attr,), out, name="out", each=kind == "modulelist")
            if i in joins:
                out = act.apply(g, match.choices[1].value, out)
        out = g.call_function(
            "pixel_shuffle", out, r, name="out", comment=f"{r * r}x channels -> {r}x size"
        )
        g.output(add_input_residual(g, out, x, match.choices[0].value, r))

    @staticmethod
    def examples():
        from codegen.patterns.blocks._sr_examples import modules as zoo

        z = zoo()
        return [Example(z["compact"](), z["image"](3, 6)), Example(z["espcn"](), z["image"](1, 6))]


def m_family(member) -> str | None:
    """The family of the last layer a Sequential or ModuleList runs."""
    last = member.children[-1] if member.children else None
    return "activation" if last is not None and last.kind == "placeholder" else family(last)
