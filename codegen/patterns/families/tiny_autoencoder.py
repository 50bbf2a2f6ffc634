"""A tiny autoencoder (diffusers' AutoencoderTiny, after TAESD): encode, store the latent as
8-bit values, decode. `forward(sample)` computes what the library's does:

    z = encoder(sample)
    z = round(clamp(z / (2 * magnitude) + shift, 0, 1) * 255) / 255   # as an 8-bit image stores it
    return decoder((z - shift) * 2 * magnitude)

The latent's range (config.json's latent_magnitude, latent_shift) is a choice.

madebyollin/taesd writes the same stacks as bare Sequentials (`encoder.0`, `decoder.1`, the
decoder's `Clamp()` its first item) and its TAESD class has no forward of its own: callers run
`decoder(encoder(x))` on images in [0, 1] with a float latent. So where `encoder` and `decoder`
are the stacks themselves, the forward is that: no rescaling to [-1, 1] and no 8-bit latent,
both choices calibration can switch on.
"""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Match,
    modules,
    one_named,
    tensors,
)
from codegen.patterns.blocks.tiny_coder import decoder_forward, decoder_plan, encoder_pins
from codegen.patterns.blocks.tiny_coder import stack_kinds


class TinyAutoencoder(BlockPattern):
    role = "TinyAutoencoder"
    priority = 11  # over Autoencoder's plain Sequential pair: a tiny coder's stacks are narrower

    accepts = Accepts(2, 2, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        encoder, decoder = one_named(members, r"encoder"), one_named(members, r"decoder")
        if tensors(cls) or len(members) != 2 or None in (encoder, decoder):
            return None
        if ctx.role(encoder) != "TinyEncoder" or ctx.role(decoder) != "TinyDecoder":
            return self._bare(cls, ctx, encoder, decoder)
        magnitude = ctx.choose(
            cls,
            encoder.attr,
            "latent_magnitude",
            3.0,
            [1.0],
            "latent range",
            accepts="positive_number",
        )
        shift = ctx.choose(
            cls, encoder.attr, "latent_shift", 0.5, [0.0], "latent offset", accepts="unit_float"
        )
        stored = ctx.choose(
            cls, encoder.attr, "latent_bits", 8, [0], "the latent stored as 8-bit values (0: not)"
        )
        # scaling and upcasting serve pipelines; the widths and block counts show in the shapes
        for key in (
            "scaling_factor",
            "shift_factor",
            "force_upcast",
            "encoder_block_out_channels",
            "decoder_block_out_channels",
            "num_encoder_blocks",
            "num_decoder_blocks",
        ):
            ctx.resolver.evidence(key)
        return Match(self, 2, (encoder.attr, decoder.attr), [magnitude, shift, stored])

    def _bare(self, cls, ctx: BlockContext, encoder, decoder) -> Match | None:
        """TAESD's layout: the encoder and decoder are the conv stacks themselves."""
        stacks = [stack_kinds(m, ctx) for m in (encoder, decoder)]
        if None in stacks:
            return None
        pins = encoder_pins(*stacks[0])
        plan = decoder_plan(cls, ctx, decoder, *stacks[1])
        if pins is None or plan is None or stacks[1][1][0] != "gap":
            return None
        signed = ctx.choose(
            cls,
            "images",
            "signed_images",
            False,
            [True],
            "taesd.py works on images in [0, 1]; True: diffusers' [-1, 1] around them",
        )
        found = ("bare", encoder.attr, plan[0])
        guessed = ""
        if signed.source == "default":
            guessed = "images in [0, 1] (taesd.py's) or [-1, 1] leave no key: signed_images"
        return Match(self, 2, found, [*plan[1], signed], guessed=guessed, pins=pins)

    def _bare_forward(self, match: Match, g: Graph) -> None:
        _, encoder, plan = match.found
        *decoding, signed = match.choices
        x = g.input("sample")
        if signed.value:
            x = g.call_function("add", x, 1, inline=True)
            x = g.call_function("truediv", x, 2, name="x", comment="[-1, 1] -> [0, 1]")
        z = g.call_module((encoder,), x, name="z")
        x = decoder_forward(g, plan, decoding, z)
        if signed.value:
            x = g.call_function("mul", x, 2, inline=True)
            x = g.call_function("sub", x, 1, name="x", comment="[0, 1] -> [-1, 1]")
        g.output(x)

    def forward(self, match: Match, g: Graph) -> None:
        if match.found[0] == "bare":
            return self._bare_forward(match, g)
        encoder, decoder = match.found
        magnitude, shift, bits = (c.value for c in match.choices)
        z = g.call_module((encoder,), g.input("sample"), name="z")
        if bits:
            levels = float(2**bits - 1)
            z = g.call_function("truediv", z, 2 * float(magnitude), inline=True)
            z = g.call_function("add", z, float(shift), inline=True)
            z = g.call_function("torch.clamp", z, 0.0, 1.0, inline=True)
            z = g.call_function("mul", z, levels, inline=True)
            z = g.call_function("torch.round", z, inline=True)
            z = g.call_function("truediv", z, levels, name="z", comment="as 8-bit values")
            z = g.call_function("sub", z, float(shift), inline=True)
            z = g.call_function("mul", z, 2 * float(magnitude), name="z")
        g.output(g.call_module((decoder,), z))

    @staticmethod
    def examples():
        from codegen.patterns.blocks._tiny_examples import tiny_example

        return [tiny_example()]
