"""A variational autoencoder (diffusers' AutoencoderKL): the encoder gives the moments of a
diagonal Gaussian over the latent, `quant_conv` mixes them; the forward takes the mean (the
posterior's mode: deterministic, as `AutoencoderKL(x, sample_posterior=False)`), and decodes it
through `post_quant_conv` and the decoder.

    moments = quant_conv(encoder(x));  mean, logvar = moments.chunk(2, dim=1)
    return decoder(post_quant_conv(mean))

Two classes of their own (disentangling-vae's Burgess VAE), the encoder's last Linear giving twice
the width the decoder reads: its mean and log-variance, side by side or interleaved (a choice), the
mean decoded, the image squashed or not (a choice): `decoder(mean(encoder(x)))`.

With a codebook (`quantize`, diffusers' VQModel) the latent is not a distribution: each pixel's
vector is snapped to its nearest codebook row, `decoder(post_quant_conv(quantize(quant_conv(
encoder(x)))))`.
"""

from __future__ import annotations

from codegen.ir.graph import Graph, Slice
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Example,
    Match,
    family,
    modules,
)
from codegen.patterns import _activations as act
from codegen.patterns._kit import one_named, tensors
from codegen.patterns._mirror_strides import (
    POOLED,
    RECONSTRUCTION,
    layers,
    mirror_pins,
    pooled_levels,
)
from codegen.patterns.blocks.chain import stage_pool

QUANT, POST_QUANT, CODEBOOK = r"quant_conv", r"post_quant_conv", r"quantize|quantizer|vq"


class Autoencoder(BlockPattern):
    role = "Autoencoder"
    priority = 10

    accepts = Accepts(tensors=False, names=("encoder", "decoder"))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls):
            return None
        encoder, decoder = one_named(members, r"encoder"), one_named(members, r"decoder")
        quant, post = one_named(members, QUANT), one_named(members, POST_QUANT)
        codebook = one_named(members, CODEBOOK)
        used = [m for m in (encoder, decoder, quant, post, codebook) if m is not None]
        if None in (encoder, decoder) or len(used) != len(members):
            return None
        if len(used) == 2 and _moments_pair(encoder, decoder):
            # Two Sequentials, the encoder giving twice what the decoder reads (1Konny's
            # Beta-VAE: `distributions = encoder(x)`, `mu = distributions[:, :z_dim]`): their
            # strides, paddings and slots are read by convention.
            found = (encoder.attr, None, None, False, None, decoder.attr)
            return Match(self, len(members), found, guessed=SEQUENTIAL_GUESS)
        if len(used) == 2 and _plain_pair(encoder, decoder):
            # Two Sequentials, the decoder reading what the encoder gives (the tutorials' conv
            # autoencoder): its strides mirror the decoder's upsamplers; a squashing last step
            # (Sigmoid for [0, 1] pixels, Tanh for [-1, 1]) leaves no key.
            # Where 2x2 stride-2 transposed convs undo 2x2 pools (pooled_levels), the encoder's
            # last level ends in its activation and pool, past its last key; the reconstruction
            # in [0, 1] pixels through a sigmoid.
            pooled = bool(pooled_levels(layers(encoder) + layers(decoder)))
            squash = act.mark_family(
                ctx.choose(
                    cls,
                    decoder.attr,
                    "output_activation",
                    "sigmoid" if pooled else "identity",
                    ["identity", "sigmoid", "tanh"],
                    "after the decoder's last layer (pixels in [0, 1] or [-1, 1])",
                ),
                RECONSTRUCTION if pooled else "",
            )
            choices = [squash]
            if pooled and _ends_in_conv(encoder):
                pool = ctx.choose(
                    cls, encoder.attr, "pooling_after", "max_pool", ["none"], "after its last conv"
                )
                choices.insert(0, act.mark_family(pool, POOLED))
            found = (encoder.attr, None, None, True, None, decoder.attr)
            pins = [] if pooled else mirror_pins(encoder, [decoder], collapse=True)
            return Match(
                self, len(members), found, choices, guessed=SEQUENTIAL_GUESS, pins=pins
            )
        if len(used) == 2 and _moments_classes(encoder, decoder, ctx):
            # Two classes of their own, the encoder giving twice the latent the decoder reads
            # (disentangling-vae's Burgess encoder: one Linear giving mean and log-variance).
            # Whether the two lie in halves or interleaved, and whether the decoder's image is
            # squashed, no key says: choices, and the class says it guessed them.
            layout = ctx.choose(
                cls,
                encoder.attr,
                "latent_layout",
                "halves",
                ["interleaved"],
                "how the encoder's output holds the mean and the log-variance: side by side "
                "(`chunk(2, dim=1)`) or in pairs (`view(-1, latent, 2)`); the mean is decoded",
            )
            squash = ctx.choose(
                cls,
                decoder.attr,
                "output_activation",
                "identity",
                ["sigmoid", "tanh"],
                "after the decoder (pixels in [0, 1] or [-1, 1])",
            )
            found = (encoder.attr, None, None, False, None, decoder.attr)
            return Match(self, len(members), found, [layout, squash], guessed=CLASS_PAIR_GUESS)
        if ctx.role(encoder) != "ConvEncoder" or ctx.role(decoder) != "ConvDecoder":
            return None
        for conv in (quant, post):
            if conv is not None and (family(conv) != "conv" or conv.kind != "builtin"):
                return None
        moments = quant.io.out_width if quant is not None else encoder.io.out_width
        latent = post.io.in_width if post is not None else decoder.io.in_width
        if codebook is not None:
            if ctx.role(codebook) != "VectorQuantizer" or not _plain_vq(ctx):
                return None
        elif moments is not None and latent is not None and moments not in (latent, 2 * latent):
            return None
        # Equal widths and no codebook: the latent passes straight through (a VQ-GAN saved
        # without its quantizer, latent diffusion's VQModelInterface decoding unquantized).
        plain = codebook is None and moments is not None and moments == latent
        found = (encoder.attr, quant and quant.attr, codebook and codebook.attr, plain)
        return Match(self, len(members), found + (post and post.attr, decoder.attr))

    def forward(self, match: Match, g: Graph) -> None:
        encoder, quant, codebook, plain, post, decoder = match.found
        name = "h" if codebook or plain else "moments"
        h = g.call_module((encoder,), g.input("sample"), name=name)
        pool = next((c.value for c in match.choices if c.name == "pooling_after"), "none")
        layout = next((c.value for c in match.choices if c.name == "latent_layout"), "halves")
        if pool != "none":  # the encoder's last level: its activation and pool, past its keys
            h = g.call_function("relu", h, name=name)
            h = stage_pool(g, pool, h, 2, "the encoder's last level pools, as the others")
        if quant is not None:
            h = g.call_module((quant,), h, name=name)
        if codebook is not None:
            z = g.call_module((codebook,), h, name="z", comment="nearest codebook vectors")
        elif plain:
            z = h
        elif layout == "interleaved":
            batch = g.call_method("size", h, 0, inline=True)
            pairs = g.call_method("view", h, batch, -1, 2, name="pairs")
            z = g.call_function(
                "getitem", pairs, (Slice(), Slice(), 0), name="z", comment=MEAN_COMMENT
            )
        else:
            halves = g.call_method("chunk", h, 2, kwargs={"dim": 1}, inline=True)
            z = g.call_function("getitem", halves, 0, name="z", comment=MEAN_COMMENT)
        if post is not None:
            z = g.call_module((post,), z, name="z")
        out = g.call_module((decoder,), z)
        squash = next((c.value for c in match.choices if c.name == "output_activation"), None)
        g.output(act.apply(g, squash, out) if squash else out)

    @staticmethod
    def examples():
        from codegen.patterns.blocks._generative_examples import VAE_META, modules as zoo

        z = zoo()
        return [Example(z["vae"](), z["image"](3, 16), VAE_META), _class_pair_example()]


def _class_pair_example() -> Example:
    """An encoder class of stride-2 convs flattened into Linears, the last giving the mean and
    log-variance side by side; a decoder class whose MLP's output is viewed as a map for its
    transposed convs (the defaults: halves, no squashing, ReLU between layers)."""
    import torch
    import torch.nn as nn

    class ConvStatsEncoder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.down_a = nn.Conv2d(1, 6, 4, stride=2, padding=1)
            self.down_b = nn.Conv2d(6, 6, 4, stride=2, padding=1)
            self.hidden = nn.Linear(24, 12)
            self.stats = nn.Linear(12, 8)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x = torch.relu(self.down_b(torch.relu(self.down_a(x))))
            return self.stats(torch.relu(self.hidden(x.flatten(1))))

    class MlpConvDecoder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc_in = nn.Linear(4, 12)
            self.fc_out = nn.Linear(12, 24)
            self.up_a = nn.ConvTranspose2d(6, 6, 4, stride=2, padding=1)
            self.up_b = nn.ConvTranspose2d(6, 1, 4, stride=2, padding=1)

        def forward(self, z: torch.Tensor) -> torch.Tensor:
            h = torch.relu(self.fc_out(torch.relu(self.fc_in(z))))
            h = torch.relu(self.up_a(h.view(-1, 6, 2, 2)))
            return self.up_b(h)

    class PairVae(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = ConvStatsEncoder()
            self.decoder = MlpConvDecoder()

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            mean, _logvar = self.encoder(x).chunk(2, dim=1)
            return self.decoder(mean)

    torch.manual_seed(0)
    return Example(PairVae().eval(), (torch.randn(2, 1, 8, 8),))


SEQUENTIAL_GUESS = (
    "the layers inside the encoder and decoder Sequentials (strides, paddings, the parameter-free "
    "slots) leave no keys: read by convention (calibrate to settle them)"
)


CLASS_PAIR_GUESS = (
    "no key says how the encoder's output holds the latent's mean and log-variance, nor whether "
    "the decoder's image is squashed: read by convention (calibrate to settle them)"
)
MEAN_COMMENT = "the mean: the posterior's mode"


def _moments_classes(encoder, decoder, ctx: BlockContext) -> bool:
    """Classes of their own (no catalogue coder) where the encoder's output width is twice what
    the decoder reads, flat: a Linear's mean and log-variance (a map's would be a conv coder's)."""
    if encoder.kind != "class" or decoder.kind != "class" or not encoder.io or not decoder.io:
        return False
    if ctx.role(encoder) == "ConvEncoder" or ctx.role(decoder) == "ConvDecoder":
        return False
    gives, reads = encoder.io.out_width, decoder.io.in_width
    if not gives or not reads or gives != 2 * reads:
        return False
    inner = ctx.classes.get(encoder.type_name)
    if inner is None:
        return False
    heads = [m for m in modules(inner) if family(m) == "linear" and m.io.out_width == gives]
    return len(heads) == 1


def _moments_pair(encoder, decoder) -> bool:
    """Sequentials where the encoder's output is twice the decoder's input: the mean and the
    log-variance of the latent side by side along dim 1."""
    if encoder.kind != "sequential" or decoder.kind != "sequential":
        return False
    gives, reads = encoder.io.out_width if encoder.io else None, (
        decoder.io.in_width if decoder.io else None
    )
    return bool(gives) and bool(reads) and gives == 2 * reads


def _plain_pair(encoder, decoder) -> bool:
    """Sequentials of 2-d convs where the decoder reads what the encoder gives."""
    if encoder.kind != "sequential" or decoder.kind != "sequential":
        return False
    if encoder.io is None or decoder.io is None or encoder.io.ndim != 2:
        return False
    return bool(encoder.io.out_width) and encoder.io.out_width == decoder.io.in_width


def _ends_in_conv(encoder) -> bool:
    """Whether a Sequential's last item is a conv: its activation and pool lie past its keys."""
    last = encoder.children[-1] if encoder.children else None
    return last is not None and last.type_name == "nn.Conv2d"


def _plain_vq(ctx: BlockContext) -> bool:
    """diffusers' VQModel settings this forward computes: group norms in the decoder (not the
    spatial norm conditioned on the codes); lookup_from_codebook acts only on decoding codes."""
    norm = ctx.resolver.evidence("norm_type")
    ctx.resolver.evidence("lookup_from_codebook")
    return norm is None or norm[1] == "group"
