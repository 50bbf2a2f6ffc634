"""A variational autoencoder with a flat latent, as tutorials and AntixK/PyTorch-VAE write it: conv
features flattened into two linear heads of one shape (the Gaussian's mean and log-variance), the
mean mapped back to a small feature map by a linear layer, then transposed convs.

    mu = fc_mu(flatten(encoder(x)))                      # fc_var gives the log-variance
    h = decoder_input(mu).view(-1, C, s, s)              # C: what the decoder reads; s*s = rest
    return act(final_layer(decoder(h)))

The forward decodes the mean (the posterior's mode, deterministic; training would sample). The
decoder's first layer fixes C; the map is taken square. A trailing activation (Tanh, Sigmoid)
leaves no key: a choice.
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
    family,
    modules,
)
from codegen.patterns._kit import LATENT_MEAN, one_named, tensors
from codegen.patterns._mirror_strides import (
    closing_pins,
    decoded_side,
    layers,
    mirror_pins,
    strides_by,
)
from codegen.patterns.blocks.chain import latent_choice, latent_heads
from codegen.patterns.blocks.padded_resnet_block import slot_pin
from codegen.ir import ExampleInput

MEAN = LATENT_MEAN
SPREAD = r"(fc_?)?(log_?)?(var|sigma|std|logvar|log_?sigma)(_?fc)?"
ENCODER, DECODER = r"encoder|enc", r"decoder|dec"
FINAL = r"final_?layer|final|output_?layer|out_?layer|last_?layer"


def _linear(m) -> bool:
    return m is not None and m.kind == "builtin" and family(m) == "linear"


def _spatial(m) -> bool:
    """A member whose forward reads feature maps (a conv, or a container of them)."""
    return m is not None and m.io is not None and bool(m.io.ndim) and (m.io.ndim or 0) >= 1


# AntixK/PyTorch-VAE names its members so in every model (VanillaVAE, BetaVAE, WAE, ...):
# `decoder_input` from the latent, `final_layer` after the decoder; its code activates with
# nn.LeakyReLU() throughout and ends in nn.Tanh().
PYTORCH_VAE = "AntixK/PyTorch-VAE's layout (decoder_input, final_layer): LeakyReLU(), Tanh last"


UNFLATTEN = (
    "a flat VAE's decoder opening with a slot: the un-flatten of the Linear's output to the "
    "decoder's first map (sksq96's UnFlatten), which the forward's view does"
)


def _unpadded(encoder) -> bool:
    """Every spatial conv of the encoder reads its map without padding."""
    convs = [m for m in layers(encoder) if family(m) == "conv"]
    return bool(convs) and all(
        next((a.value for a in m.args if a.keyword == "padding"), 0) == 0 for m in convs
    )


def _slots(*members) -> list:
    """The empty slots of Sequentials, through nested ones, in order."""
    found = []
    for m in members:
        if m is not None and m.kind == "sequential":
            for c in m.children:
                found += [c] if c.kind == "placeholder" else _slots(c)
    return found


def _ends_in_conv(m) -> bool:
    """A Sequential (through nested ones) whose last item is a conv, not an empty slot."""
    while m is not None and m.kind == "sequential" and m.children:
        m = m.children[-1]
    return m is not None and m.kind == "builtin" and family(m) == "conv"


class FlatVAE(BlockPattern):
    role = "VAE"
    priority = 10

    accepts = Accepts(tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls):
            return None
        encoder, decoder = one_named(members, ENCODER), one_named(members, DECODER)
        mean, spread = one_named(members, MEAN), one_named(members, SPREAD)
        latent = None
        if (mean is None or spread is None) and encoder is not None and decoder is not None:
            # Heads not named (sksq96's `fc1`, `fc2`, `fc3`): the two Linears of one shape,
            # narrowing, between the encoder and the Linear back (the chain's reading, one choice)
            heads = latent_heads(members)
            if heads is None:
                return None
            latent = latent_choice(cls, ctx)
            mean, spread = heads if latent.value == "first" else heads[::-1]
        if None in (encoder, decoder, mean, spread) or not (_linear(mean) and _linear(spread)):
            return None
        if (mean.io.in_width, mean.io.out_width) != (spread.io.in_width, spread.io.out_width):
            return None
        final = one_named(members, FINAL)
        rest = [m for m in members if m not in (encoder, decoder, mean, spread, final)]
        # the linear from the latent back to features (`decoder_input`, `fc_decode`, `fc3`)
        into = [m for m in rest if _linear(m) and m.io.in_width == mean.io.out_width]
        if len(into) != 1 or len(rest) != 1:
            return None
        into = into[0]
        if not (_spatial(encoder) and _spatial(decoder)):
            return None
        channels, flat = decoder.io.in_width, into.io.out_width
        if not channels or not flat or flat % channels:
            return None
        side = math.isqrt(flat // channels)
        if side * side * channels != flat:
            return None
        made = encoder.io.out_width
        if made and mean.io.in_width % made:
            return None
        last = final or decoder
        antixk = into.attr == "decoder_input" and final is not None and final.attr == "final_layer"
        output = ctx.choose(
            cls,
            last.attr,
            "output_activation",
            "tanh" if antixk else "identity",
            ["identity", "sigmoid"] if antixk else ["tanh", "sigmoid"],
            "after the last layer (images in [-1, 1] or [0, 1])",
        )
        if antixk and output.source == "default":
            output.source, output.note = "structure", PYTORCH_VAE
        found = dict(
            encoder=encoder.attr,
            mean=mean.attr,
            into=into.attr,
            shape=(channels, side),
            decoder=decoder.attr,
            final=final.attr if final is not None else None,
        )
        guessed = ""
        if any(m.kind != "class" for m in (encoder, decoder, final) if m is not None):
            # Sequentials of convs: their strides, paddings and activations leave no keys
            guessed = (
                "the strides, paddings and activations inside the encoder and decoder leave no "
                "keys: read by convention (calibrate to settle them)"
            )
        choices = [output] + ([latent] if latent is not None else [])
        if _ends_in_conv(encoder):
            # Conv features are activated before they are flattened into the heads; a
            # Sequential's activation after its last conv holds no key (the chain's rule too).
            found["activation"] = len(choices)
            choices.append(
                ctx.choose(
                    cls,
                    encoder.attr,
                    "activation",
                    "relu",
                    act.alternatives("relu", conv=True),
                    f"after {encoder.attr}'s last conv",
                    aliases=act.ALIASES,
                )
            )
        pins = mirror_pins(encoder, [decoder, final])
        if made and mean.io.in_width // made == math.isqrt(mean.io.in_width // made) ** 2:
            last_side = math.isqrt(mean.io.in_width // made)
            pins += closing_pins(encoder, [decoder, final], side, last_side)
        opening = decoder.children[0] if decoder.kind == "sequential" and decoder.children else None
        if opening is not None and opening.kind == "placeholder":
            # the decoder's first slot reshapes the Linear's output to a map (sksq96's
            # UnFlatten): the forward's view does it, so the slot passes the map through
            pins.append(slot_pin(opening, "nn.Identity()", UNFLATTEN))
        pins = [p for p in pins if p]
        if antixk:  # every slot of its Sequentials holds nn.LeakyReLU() (its code's only one)
            pins += [slot_pin(m, "nn.LeakyReLU()", PYTORCH_VAE) for m in _slots(encoder, final)]
            pins += [slot_pin(m, "nn.LeakyReLU()", PYTORCH_VAE) for m in _slots(decoder)]
            pins = [p for p in pins if p]
        return Match(self, len(members), found, choices, guessed=guessed, pins=pins)

    def forward(self, match: Match, g: Graph) -> None:
        f = match.found
        h = g.call_module((f["encoder"],), g.input("x"), name="h")
        if "activation" in f:
            h = act.apply(g, match.choices[f["activation"]].value, h, name="h")
        h = g.call_function("flatten", h, 1, name="h")
        mu = g.call_module(
            (f["mean"],), h, name="mu", comment="the posterior's mean: decoded, not sampled"
        )
        z = g.call_module((f["into"],), mu, name="z")
        channels, side = f["shape"]
        z = g.call_method("view", z, -1, channels, side, side, name="z")
        out = g.call_module((f["decoder"],), z, name="out")
        if f["final"]:
            out = g.call_module((f["final"],), out, name="out")
        g.output(act.apply(g, match.choices[0].value, out, name="out", inline=True))

    def example_inputs(self, match: Match, cls) -> list[ExampleInput] | None:
        """An image as large as the decoder's first map times 2 per halving conv of the encoder,
        so the flattened features are what the mean head reads."""
        f = match.found
        encoder = next((m for m in modules(cls) if m.attr == f["encoder"]), None)
        if encoder is None or encoder.io is None or not encoder.io.in_width:
            return None
        halving = [m for m in layers(encoder) if strides_by(m) == 2]
        side = match.found["shape"][1] * 2 ** len(halving)
        parts = [m for m in modules(cls) if m.attr in (f["decoder"], f["final"])]
        drawn = decoded_side(parts, match.found["shape"][1])
        if drawn and drawn != side and _unpadded(encoder):
            side = drawn  # (the image an unpadded decoder draws: UNPADDED)
        return [ExampleInput((2, encoder.io.in_width, side, side))]

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn

        class Vae(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.encoder = nn.Sequential(
                    nn.Conv2d(3, 4, 3, stride=2, padding=1), nn.BatchNorm2d(4), nn.ReLU()
                )
                self.fc_mu = nn.Linear(16, 6)
                self.fc_var = nn.Linear(16, 6)
                self.decoder_input = nn.Linear(6, 16)
                self.decoder = nn.Sequential(
                    nn.ConvTranspose2d(4, 3, 3, stride=2, padding=1, output_padding=1)
                )

            def forward(self, x):
                mu = self.fc_mu(torch.flatten(self.encoder(x), 1))
                return self.decoder(self.decoder_input(mu).view(-1, 4, 2, 2))

        torch.manual_seed(0)
        # (the image comes back at its size: the encoder halves where the decoder doubles)
        return [Example(Vae().eval(), (torch.randn(2, 3, 4, 4),))]
