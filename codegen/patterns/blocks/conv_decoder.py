"""An autoencoder's decoder (diffusers' Decoder in AutoencoderKL): conv_in from the latent, the
middle block, the up stages in turn, then group norm, activation and conv_out to the image."""

from __future__ import annotations

from codegen.patterns._kit import Example
from codegen.patterns.blocks._unet_parts import coder_accepts
from codegen.patterns.blocks.conv_encoder import Encoder


class Decoder(Encoder):
    role = "ConvDecoder"
    stages = r"up_blocks|up"
    takes = "z"
    middle_first = True
    accepts = coder_accepts(stages)

    @staticmethod
    def examples():
        from codegen.patterns.blocks._generative_examples import VAE_META, modules as zoo

        z = zoo()
        return [Example(z["holder"](z["vae"]().decoder), z["image"](2, 4), VAE_META)]
