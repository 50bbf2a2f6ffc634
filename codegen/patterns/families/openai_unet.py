"""The diffusion U-Net of openai's improved-diffusion and guided-diffusion (UNetModel), and of the
repositories built on it: `forward(sample, timestep)`.

    emb = time_embed(timestep_embedding(timestep))      # cos features first, then an MLP
    h = sample; every input block runs in turn and its output is kept
    h = middle_block(h, emb)
    each output block first concatenates the latest kept map: h = block(cat([h, kept.pop()]))
    return out(h)                                        # norm, SiLU, conv

Each block is a TimestepEmbedSequential: its items run in turn, the resnet blocks given the time
embedding. Each output block takes back exactly one kept map (the counts are checked). The
sinusoid layout (cos first, frequencies 1e4 ** (-i / (d/2))) is the
repositories' own `timestep_embedding`, cited as a convention (a choice).
"""

from __future__ import annotations

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
from codegen.patterns._kit import one_named
from codegen.patterns._kit import tensors
from codegen.patterns.blocks._unet_parts import PIXEL_ATTENTIONS

LAYOUT = "improved-/guided-diffusion's timestep_embedding (cos first) by convention"
PLAIN = PIXEL_ATTENTIONS + ("Downsample", "Upsample")


def _linears(m) -> list | None:
    if m is None or m.kind not in ("sequential", "modulelist"):
        return None
    real = [c for c in m.children if c.kind != "placeholder"]
    if len(real) != 2 or any(family(c) != "linear" or c.kind != "builtin" for c in real):
        return None
    return [(m.attr, c.attr) for c in real]


def _widths(c, ctx: BlockContext) -> tuple:
    """What a conv item reads and gives; (None, None) for a block (a class shared by blocks of
    several widths records them as arguments, not in its layers)."""
    if c.kind == "builtin" and c.io is not None:
        return c.io.in_width, c.io.out_width
    return None, None


def _steps(container, index: str, ctx: BlockContext, width):
    """The calls of one TimestepEmbedSequential (path, takes emb) and the width it gives."""
    if container.kind == "repeat" and isinstance(container.copies, int) and container.children:
        items = [(str(i), container.children[0]) for i in range(container.copies)]
    elif container.kind in ("sequential", "modulelist"):
        items = [(c.attr, c) for c in container.children]
    else:
        return None
    steps = []
    for attr, c in items:
        if c.kind == "placeholder":
            continue
        path = (index, attr)
        role = ctx.role(c)
        if c.kind == "builtin" and family(c) == "conv":
            steps.append((path, False))
        elif c.kind == "class" and role == "ResnetBlock" and ctx.takes(c, "temb"):
            steps.append((path, True))
        elif c.kind == "class" and role in PLAIN:
            steps.append((path, False))
        else:
            return None
        w_in, w_out = _widths(c, ctx)
        if None not in (w_in, width) and w_in != width:
            return None
        width = w_out
    return (steps, width) if steps else None


class OpenaiUNet(BlockPattern):
    role = "UNet"
    priority = 10

    accepts = Accepts(
        5,
        5,
        tensors=False,
        names=("time_embed", "out", "input_blocks", "output_blocks", "middle_block"),
    )

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls):
            return None
        time, out = one_named(members, r"time_embed"), one_named(members, r"out")
        inputs, outputs = one_named(members, r"input_blocks"), one_named(members, r"output_blocks")
        middle = one_named(members, r"middle_block")
        if None in (time, out, inputs, outputs, middle) or len(members) != 5:
            return None
        time_paths = _linears(time)
        real_out = [c for c in out.children if c.kind != "placeholder"] if out.children else []
        if time_paths is None or [family(c) for c in real_out] != ["norm", "conv"]:
            return None
        if inputs.kind not in ("sequential", "modulelist"):
            return None
        if outputs.kind not in ("sequential", "modulelist"):
            return None
        width, kept, downs = None, [], []
        for block in inputs.children:
            found = _steps(block, block.attr, ctx, width)
            if found is None:
                return None
            downs.append([((inputs.attr,) + p, t) for p, t in found[0]])
            width = found[1]
            kept.append(width)
        found = _steps(middle, middle.attr, ctx, width)
        if found is None:
            return None
        mid = [((p[1],) if p[0] == middle.attr else p, t) for p, t in found[0]]
        mid = [((middle.attr, p[-1]), t) for p, t in mid]
        width = found[1]
        ups = []
        for block in outputs.children:
            if not kept:
                return None
            skip = kept.pop()
            found = _steps(block, block.attr, ctx, width + skip if width and skip else None)
            if found is None:
                return None
            ups.append([((outputs.attr,) + p, t) for p, t in found[0]])
            width = found[1]
        if kept:
            return None
        norm, conv = real_out
        features = next(c for c in time.children if family(c) == "linear").io.in_width
        flip = ctx.choose(cls, time.attr, "flip_sin_to_cos", True, [False], "cos features first")
        shift = ctx.choose(
            cls, time.attr, "freq_shift", 0, [1], "frequencies 1e4 ** (-i / (d/2 - shift))"
        )
        for c in (flip, shift):
            if c.source == "default":
                c.source, c.note = "metadata", LAYOUT
        activation = ctx.choose(
            cls,
            out.attr,
            "activation",
            "silu",
            act.alternatives("silu", told=ctx.resolver),
            "in the time MLP and before the last conv",
        )
        found = dict(
            time=time_paths,
            downs=downs,
            mid=mid,
            ups=ups,
            norm=(out.attr, norm.attr),
            conv=(out.attr, conv.attr),
            features=features,
            in_channels=_widths(next(c for c in inputs.children[0].children), ctx)[0],
        )
        why = "the norm before the last conv normalises a feature map, as the resnet blocks' do"
        pins = [
            (c.path, "module_type", "nn.GroupNorm", why)
            for c in norm.choices
            if c.name == "module_type"
            and c.source == "default"
            and norm.type_name != "nn.GroupNorm"
        ]
        return Match(self, len(members), found, [flip, shift, activation], pins=pins)

    def forward(self, match: Match, g: Graph) -> None:
        f = match.found
        flip, shift, activation = (c.value for c in match.choices)
        sample, timestep = g.input("sample"), g.input("timestep")
        batch = g.call_method("size", sample, 0, inline=True)
        t = g.call_method("reshape", timestep, -1, name="t", inline=True)
        level = g.call_method("expand", t, batch, name="t", comment="one timestep per sample")
        t = g.call_function(
            "timestep_embedding", level, f["features"], bool(flip), float(shift), name="t"
        )
        emb = g.call_module(f["time"][0], t, name="emb", inline=True)
        emb = act.apply(g, activation, emb, name="emb", inline=True)
        emb = g.call_module(f["time"][1], emb, name="emb", comment="[batch, time embedding]")

        def run(steps, h):
            for path, timed in steps:
                h = g.call_module(path, h, *((emb,) if timed else ()), name="h")
            return h

        h, kept = sample, []
        for steps in f["downs"]:
            h = run(steps, h)
            kept.append(h)
        h = run(f["mid"], h)
        for steps in f["ups"]:
            skip = kept.pop()
            h = g.call_function("cat", [h, skip], kwargs={"dim": 1}, name="h", inline=True)
            h = run(steps, h)
        h = g.call_module(f["norm"], h, name="h", inline=True)
        h = act.apply(g, activation, h, name="h", inline=True)
        g.output(g.call_module(f["conv"], h))

    def example_inputs(self, match: Match, cls) -> list[ExampleInput]:
        f = match.found
        downs = sum(1 for steps in f["downs"] for p, _ in steps if "op" in p)
        size = 2 ** max(downs + 1, 3)
        channels = f["in_channels"] or 3
        return [ExampleInput((2, channels, size, size)), ExampleInput((2,), 1000)]

    @staticmethod
    def examples():
        import torch

        from codegen.patterns.blocks._generative_examples import META, modules as zoo

        torch.manual_seed(1)
        inputs = (torch.randn(2, 3, 8, 8), torch.tensor([3, 750]))
        return [Example(zoo()["openai_unet"](), inputs, {**META, "nhead": 1})]
