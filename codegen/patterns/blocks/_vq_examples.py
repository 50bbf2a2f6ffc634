"""Tiny VQ-VAE parts as their repositories write them: the pattern examples of
blocks/preact_residual_layer.py and families/codebook_autoencoder.py."""

from __future__ import annotations


def residual_examples():
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    from codegen.patterns._kit import Example

    class ResBlock(nn.Module):  # ritheshkumar95/pytorch-vqvae: a BatchNorm after each conv
        def __init__(self, dim: int) -> None:
            super().__init__()
            self.block = nn.Sequential(
                nn.ReLU(),
                nn.Conv2d(dim, dim, 3, 1, 1),
                nn.BatchNorm2d(dim),
                nn.ReLU(),
                nn.Conv2d(dim, dim, 1),
                nn.BatchNorm2d(dim),
            )

        def forward(self, x):
            return x + self.block(x)

    class ResLayer(nn.Module):
        def __init__(self, dim: int, hidden: int) -> None:
            super().__init__()
            self.net = nn.Sequential(
                nn.ReLU(), nn.Conv2d(dim, hidden, 3, padding=1), nn.ReLU(), nn.Conv2d(hidden, dim, 1)
            )

        def forward(self, x):
            return self.net(x)

    class Stack(nn.Module):  # Sonnet's ResidualStack: a list of layers, a ReLU after the last
        def __init__(self, dim: int, hidden: int, n: int) -> None:
            super().__init__()
            self.res_layers = nn.ModuleList(ResLayer(dim, hidden) for _ in range(n))

        def forward(self, x):
            for layer in self.res_layers:
                x = x + layer(x)
            return F.relu(x)

    class Trunk(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.stage1 = ResBlock(6)
            self.stage2 = Stack(6, 3, 2)

        def forward(self, x):
            return self.stage2(self.stage1(x))

    torch.manual_seed(0)
    model = Trunk()
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 1.5)
    return [Example(model.eval(), (torch.randn(2, 6, 5, 5),))]


def autoencoder_examples():
    """A VQ-VAE top as a third repository might write it: the quantizer first in the module,
    the decoder behind its own conv, the codebook in a class named `vq`."""
    import torch
    import torch.nn as nn

    from codegen.patterns._kit import Example

    class Quantizer(nn.Module):
        def __init__(self, n: int, dim: int) -> None:
            super().__init__()
            self.embedding = nn.Embedding(n, dim)

        def forward(self, z):
            z = z.permute(0, 2, 3, 1)
            flat = z.reshape(-1, z.shape[-1])
            codes = torch.cdist(flat, self.embedding.weight).argmin(1)
            return self.embedding(codes).view(z.shape).permute(0, 3, 1, 2)

    class Model(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.vq = Quantizer(16, 3)
            self.to_decoder = nn.Conv2d(3, 8, 1)
            self.from_encoder = nn.Conv2d(8, 3, 1)
            self.net_down = nn.Sequential(
                nn.Conv2d(3, 4, 3, 2, 1), nn.ReLU(), nn.Conv2d(4, 8, 3, 2, 1)
            )
            self.net_up = nn.Sequential(
                nn.ConvTranspose2d(8, 4, 3, 2, 1, 1), nn.ReLU(), nn.ConvTranspose2d(4, 3, 3, 2, 1, 1)
            )

        def forward(self, x):
            z = self.vq(self.from_encoder(self.net_down(x)))
            return self.net_up(self.to_decoder(z))

    torch.manual_seed(0)
    return [Example(Model().eval(), (torch.randn(2, 3, 8, 8),))]


def _hierarchy(names: dict, condition_bottom: bool, upsampled_first: bool, widths=(12, 6)):
    """A two-level VQ-VAE (VQ-VAE-2's layout) under a repository's own names: `names` maps
    the roles (encoders, pre-quantization convs, codebooks, top decoder, upsampler, decoder) to
    attributes. `condition_bottom`: the top codes, decoded, join the bottom encoding before its
    codebook (rosinality's); else the levels are quantized apart and meet only in the decoder.
    `upsampled_first`: the order of both concatenations."""
    import torch
    import torch.nn as nn

    channel, code = widths

    class Codebook(nn.Module):  # EMA codebook buffers, rosinality's layout: embed [dim, codes]
        def __init__(self, dim: int, n: int) -> None:
            super().__init__()
            self.register_buffer("embed", torch.randn(dim, n))
            self.register_buffer("cluster_size", torch.zeros(n))
            self.register_buffer("embed_avg", torch.randn(dim, n))

        def forward(self, z):
            z = z.permute(0, 2, 3, 1)
            flat = z.reshape(-1, z.shape[-1])
            codes = torch.cdist(flat, self.embed.t()).argmin(1)
            return self.embed.t()[codes].view(z.shape).permute(0, 3, 1, 2)

    def cat(a, b):
        return torch.cat([a, b] if upsampled_first else [b, a], 1)

    class Model(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            parts = {
                "enc_bottom": nn.Sequential(
                    nn.Conv2d(3, channel, 4, 2, 1), nn.ReLU(), nn.Conv2d(channel, channel, 3, 1, 1)
                ),
                "enc_top": nn.Sequential(
                    nn.Conv2d(channel, channel, 4, 2, 1),
                    nn.ReLU(),
                    nn.Conv2d(channel, channel, 3, 1, 1),
                ),
                "pre_top": nn.Conv2d(channel, code, 1),
                "vq_top": Codebook(code, 16),
                "pre_bottom": nn.Conv2d(code + channel if condition_bottom else channel, code, 1),
                "vq_bottom": Codebook(code, 16),
                "up_top": nn.ConvTranspose2d(code, code, 4, 2, 1),
                "dec": nn.Sequential(
                    nn.Conv2d(2 * code, channel, 3, 1, 1), nn.ReLU(),
                    nn.ConvTranspose2d(channel, 3, 4, 2, 1),
                ),
            }  # fmt: skip
            if condition_bottom:
                parts["dec_top"] = nn.Sequential(
                    nn.Conv2d(code, channel, 3, 1, 1), nn.ReLU(),
                    nn.ConvTranspose2d(channel, code, 4, 2, 1),
                )  # fmt: skip
            self.roles = {role: names[role] for role in parts}
            for role, module in parts.items():
                self.add_module(names[role], module)

        def part(self, role):
            return getattr(self, self.roles[role])

        def forward(self, x):
            b = self.part("enc_bottom")(x)
            t = self.part("enc_top")(b)
            q_t = self.part("vq_top")(self.part("pre_top")(t))
            if condition_bottom:
                b = cat(self.part("dec_top")(q_t), b)
            q_b = self.part("vq_bottom")(self.part("pre_bottom")(b))
            return self.part("dec")(cat(self.part("up_top")(q_t), q_b))

    torch.manual_seed(0)
    return Model().eval()


HIERARCHY_NAMES = {  # a VQ-VAE-2 port naming levels by words
    "enc_bottom": "encoder_bottom",
    "enc_top": "encoder_top",
    "pre_top": "pre_quant_top",
    "vq_top": "codebook_top",
    "pre_bottom": "pre_quant_bottom",
    "vq_bottom": "codebook_bottom",
    "up_top": "upsample_top",
    "dec": "decoder",
    "dec_top": "decoder_top",
}
SEPARATE_NAMES = {  # levels quantized apart, meeting only in the decoder; letters for levels
    "enc_bottom": "enc_b",
    "enc_top": "enc_t",
    "pre_top": "pre_t",
    "vq_top": "vq_t",
    "pre_bottom": "pre_b",
    "vq_bottom": "vq_b",
    "up_top": "upsample_t",
    "dec": "dec",
}


def hierarchy_examples():
    """Two-level codebook autoencoders in layouts the zoos do not hold: a port naming its levels
    by words, the bottom conditioned on the decoded top codes; and one whose levels meet only in
    the decoder."""
    import torch

    from codegen.patterns._kit import Example

    x = torch.randn(2, 3, 16, 16)
    return [
        Example(_hierarchy(HIERARCHY_NAMES, True, True), (x,)),
        Example(_hierarchy(SEPARATE_NAMES, False, True, widths=(10, 4)), (x,)),
    ]
