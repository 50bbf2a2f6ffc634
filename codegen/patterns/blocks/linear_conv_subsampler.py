"""A speech encoder's front end of two Linears around two strided 1-D convs (Lasr's
`LasrEncoderSubsampling`, NeMo's Conformer ports): [batch, frames, mel bins] -> a Linear to the
model's width, the frames moved to the last axis, two convs each shrinking the frames by their
stride, the frames first again, a Linear back to the width; an activation after the first Linear
and after each conv, none after the last Linear.

The widths show the order (bins -> d -> d -> channels -> d); names break a tie between two convs
or two Linears of one width (`conv_0` before `conv_1`). No key records the convs' stride, their
padding or the activation: the stride is config.json's `subsampling_conv_stride` where it holds
one; the padding and the activation are what the family's code fixes (SUBSAMPLER_TYPES, read from
the library's code), for another model type defaults the file names.
"""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns import _activations as act
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Match,
    family,
    modules,
    tensors,
)
from codegen.patterns.blocks.selective_scan import _kernel, conv_pins

ROLE = "LinearConvSubsampler"
STRIDE_KEY = "subsampling_conv_stride"
# model_type -> (the convs' padding, the activation): Lasr's subsampler pads nothing and uses ReLU
# (LasrEncoderSubsampling, transformers 5.24), whatever config.json's hidden_act says.
SUBSAMPLER_TYPES = {"lasr_encoder": (0, "relu"), "lasr_ctc": (0, "relu")}


def _io(m) -> tuple | None:
    io = m.io
    if io is None or type(io.in_width) is not int or type(io.out_width) is not int:
        return None
    return io.in_width, io.out_width


class LinearConvSubsampler(BlockPattern):
    role = ROLE
    priority = 12  # over the width-chaining fallback, which neither transposes nor strides

    accepts = Accepts(4, 4, tensors=False, families=("linear", "conv"))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        linears = sorted((m for m in members if family(m) == "linear"), key=lambda m: m.attr)
        convs = sorted((m for m in members if family(m) == "conv"), key=lambda m: m.attr)
        if tensors(cls) or len(linears) != 2 or len(convs) != 2 or len(members) != 4:
            return None
        if any(m.io is None or m.io.ndim != 1 for m in convs):
            return None
        widths = [_io(m) for m in linears + convs]
        if None in widths:
            return None
        (_, d), (into, out), (a_in, a_out), (b_in, b_out) = widths
        entry, exit_ = linears
        if (d, a_out) != (a_in, b_in) or (b_out, d) != (into, out):
            entry, exit_ = exit_, entry  # the other Linear reads the bins
            (_, d), (into, out) = widths[1], widths[0]
            if (d, a_out) != (a_in, b_in) or (b_out, d) != (into, out):
                return None
        kernels = [_kernel(m) for m in convs]
        if any(k is None or k < 2 for k in kernels):
            return None  # pointwise convs do not subsample
        for key, shown in (
            ("subsampling_conv_kernel_size", kernels),
            ("subsampling_conv_channels", [b_out]),
        ):
            said = ctx.resolver.metadata.get(key)
            if said is not None and all(said[1] == v for v in shown):
                ctx.resolver.evidence(key)  # what the convs' weights show
        model_type = ctx.resolver.evidence("model_type")
        known = SUBSAMPLER_TYPES.get(model_type[1]) if model_type else None
        pins = []
        said = ctx.resolver.evidence(STRIDE_KEY)
        if said is not None and type(said[1]) is int and said[1] > 0:
            for m in convs:
                pins += [(*p[:3], said[0]) for p in conv_pins(m, {"stride": said[1]}, "")]
        if known is not None:
            why = f"config.json model_type {model_type[1]!r}: fixed in its code"
            for m in convs:
                pins += conv_pins(m, {"padding": known[0]}, why)
        activation = ctx.choose(
            cls,
            entry.attr,
            "subsampling_activation",
            known[1] if known else "relu",
            [a for a in act.TRANSFORMER if a != (known[1] if known else "relu")],
            "the activation after the first Linear and after each conv",
        )
        if known is not None and activation.source == "default":
            activation.source, activation.note = "metadata", f"{model_type[0]} {model_type[1]!r}"
        found = (entry.attr, [m.attr for m in convs], exit_.attr, activation.value)
        return Match(self, len(members), found, [activation], pins=pins)

    def forward(self, match: Match, g: Graph) -> None:
        entry, convs, exit_, activation = match.found
        x = g.input("input_features")  # [batch, frames, mel bins]
        x = act.apply(g, activation, g.call_module((entry,), x, inline=True), name="x")
        x = g.call_method("transpose", x, 1, 2, comment="[batch, d, frames]")
        for conv in convs:
            x = act.apply(g, activation, g.call_module((conv,), x, inline=True), name="x")
        x = g.call_method("transpose", x, 1, 2, comment="[batch, frames / strides, channels]")
        g.output(g.call_module((exit_,), x), comment="[batch, frames / strides, d]")

    @staticmethod
    def examples():
        import torch
        import transformers
        from transformers.models.lasr import modeling_lasr

        from codegen.patterns._kit import Example

        config = transformers.LasrEncoderConfig(**TINY_LASR)
        torch.manual_seed(0)
        module = modeling_lasr.LasrEncoderSubsampling(config)
        metadata = {"model_type": "lasr_encoder", STRIDE_KEY: 2, "hidden_act": "silu"}
        return [Example(module, (torch.randn(2, 23, 10),), metadata)]


# A tiny Lasr encoder's config (the examples', tests/test_conformer_espnet.py's): an even
# depthwise kernel, subsampler channels apart from the width.
TINY_LASR = dict(
    hidden_size=16,
    num_hidden_layers=2,
    num_attention_heads=2,
    intermediate_size=24,
    conv_kernel_size=8,
    subsampling_conv_channels=12,
    num_mel_bins=10,
    subsampling_conv_kernel_size=3,
    subsampling_conv_stride=2,
)
