"""A Linear or conv whose weight is stored reparametrised by torch's classic hooks:
- torch.nn.utils.weight_norm: `weight_g` (the magnitude, size 1 but along the dimension it keeps)
  and `weight_v` (the direction, the weight's shape); HiFi-GAN, MelGAN, WaveGlow, EDSR-style SR;
- torch.nn.utils.spectral_norm: `weight_orig` (the weight's shape), and buffers `weight_u` and
  `weight_v`, the power iteration's vectors (u as long as the weight's dimension 0, or 1 for a
  transposed conv); SAGAN, BigGAN, SN-GAN discriminators.

The layer is what the weight's shape says (layers/conv.py, layers/linear.py read it as they read a
plain `weight`: the same choices, the same widths to its neighbours); it is built as the matching
class of ir/layer_classes.py (`WeightNormConv1d`, `SpectralNormConvTranspose2d`), which computes
the weight as torch does and scripts. parametrizations.weight_norm's spelling
(`parametrizations.weight.original0/1`) is blocks/weight_norm.py.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from codegen.ir import Arg
from codegen.ir.layer_classes import nn_base
from codegen.patterns._kit import Example, LayerContext, LayerPattern, Recognised, names, prov
from codegen.patterns._kit import shape
from codegen.patterns.blocks.weight_norm import norm_dim
from codegen.patterns.layers.conv import conv
from codegen.patterns.layers.linear import Linear

if TYPE_CHECKING:
    from codegen.keytree import KeyNode
    from codegen.load import TensorEntry


def _as_plain(
    node: KeyNode, stored: str, ctx: LayerContext, transposed: bool | None = None
) -> Recognised | None:
    """The layer the node would be were `stored` (a dotted path under it) its `weight`, its
    provenance naming `stored`."""
    *parents, name = stored.split(".")
    holder = node
    for part in parents:
        holder = holder.children[part]
    tensors: dict[str, TensorEntry] = {"weight": holder.tensors[name]}
    if "bias" in node.tensors:
        tensors["bias"] = node.tensors["bias"]
    plain = dataclasses.replace(node, tensors=tensors, children={})
    rank = len(tensors["weight"].shape)
    if rank == 2:
        found = Linear().recognise(plain, ctx)
    else:
        found = conv(plain, dataclasses.replace(ctx, transposed=transposed))
    if found is None or nn_base(_name("WeightNorm", found.type_name)) is None:
        return None
    cited, actual = prov(node, "weight"), prov(node, stored)
    found.args = [
        (
            dataclasses.replace(a, provenance=a.provenance.replace(cited, actual))
            if isinstance(a.provenance, str)
            else a
        )
        for a in found.args
    ]
    return found


def _name(kind: str, type_name: str) -> str:
    return kind + type_name.removeprefix("nn.")


class WeightNormLayer(LayerPattern):
    """`weight_g` and `weight_v` (and a bias): torch.nn.utils.weight_norm's Linear or conv."""

    role = "WeightNormLayer"

    def recognise(self, node, ctx: LayerContext) -> Recognised | None:
        found, stored = names(node), {"weight_g", "weight_v"}
        if node.children or not stored <= found <= stored | {"bias"}:
            return None
        dim = norm_dim(shape(node, "weight_g"), shape(node, "weight_v"))
        plain = None if dim is None else _as_plain(node, "weight_v", ctx)
        if plain is None:
            return None
        if dim != 0:  # weight_norm's default keeps dimension 0
            where = f"{prov(node, 'weight_g')}: the dimension whose size it keeps"
            plain.args.append(Arg("norm_dim", dim, "other", where))
        return dataclasses.replace(plain, type_name=_name("WeightNorm", plain.type_name))

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn

        wn = nn.utils.weight_norm

        class Vocoder(nn.Module):  # MelGAN-style: weight-normed convs, one transposed
            def __init__(self) -> None:
                super().__init__()
                self.pre = wn(nn.Conv1d(6, 8, 5, padding=2))
                self.up = wn(nn.ConvTranspose1d(8, 4, 4, stride=2, padding=1))
                self.post = wn(nn.Conv1d(4, 1, 3, padding=1), dim=2)

            def forward(self, x):
                return self.post(torch.relu(self.up(torch.relu(self.pre(x)))))

        class Head(nn.Module):  # a weight-normed Linear (DINO's head keeps dimension 0)
            def __init__(self) -> None:
                super().__init__()
                self.last_layer = wn(nn.Linear(6, 5, bias=False))

            def forward(self, x):
                return self.last_layer(x)

        return [
            Example(Vocoder(), (torch.randn(2, 6, 9),)),
            Example(Head(), (torch.randn(3, 6),)),
        ]


class ParametrizedWeightNormLayer(LayerPattern):
    """`parametrizations.weight.original0` / `original1` (and a bias): the spelling of
    torch.nn.utils.parametrizations.weight_norm, torch's current one. A speech encoder's
    positional conv (config.json `num_conv_pos_embeddings`, its kernel) is left to
    blocks/weight_norm.py, whose forward pads and groups it as those models do."""

    role = "ParametrizedWeightNormLayer"

    def recognise(self, node, ctx: LayerContext) -> Recognised | None:
        holder = node.children.get("parametrizations")
        weight = holder.children.get("weight") if holder is not None else None
        if (
            weight is None
            or set(node.children) != {"parametrizations"}
            or node.tensors.keys() - {"bias"}
        ):
            return None
        if set(holder.children) != {"weight"} or holder.tensors or weight.children:
            return None
        if set(weight.tensors) != {"original0", "original1"}:
            return None
        g, v = weight.tensors["original0"].shape, weight.tensors["original1"].shape
        told = ctx.resolver.evidence("num_conv_pos_embeddings")
        if told is not None and len(v) == 3 and v[2] == told[1]:
            return None  # a speech encoder's positional conv (blocks/weight_norm.py)
        dim = norm_dim(g, v)
        stored = "parametrizations.weight.original1"
        plain = None if dim is None else _as_plain(node, stored, ctx)
        if plain is None:
            return None
        if dim != 0:  # weight_norm's default keeps dimension 0
            where = f"{prov(node, 'parametrizations.weight.original0')}: the dimension it keeps"
            plain.args.append(Arg("norm_dim", dim, "other", where))
        return dataclasses.replace(
            plain, type_name=_name("ParametrizedWeightNorm", plain.type_name)
        )

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn

        wn = nn.utils.parametrizations.weight_norm

        class Decoder(nn.Module):  # the current spelling on 2-d convs, one kept along dim 1
            def __init__(self) -> None:
                super().__init__()
                self.body = nn.Sequential(
                    wn(nn.Conv2d(3, 8, 3, padding=1)),
                    nn.ReLU(),
                    wn(nn.Conv2d(8, 2, 3, padding=1), dim=1),
                )

            def forward(self, x):
                return self.body(x)

        class Head(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.proj = nn.Sequential(wn(nn.Linear(6, 4)))

            def forward(self, x):
                return self.proj(x)

        return [
            Example(Decoder(), (torch.randn(2, 3, 5, 5),)),
            Example(Head(), (torch.randn(3, 6),)),
        ]


class SpectralNormLayer(LayerPattern):
    """`weight_orig`, `weight_u`, `weight_v` (and a bias): torch.nn.utils.spectral_norm's."""

    role = "SpectralNormLayer"

    def recognise(self, node, ctx: LayerContext) -> Recognised | None:
        found = names(node)
        stored = {"weight_orig", "weight_u", "weight_v"}
        if node.children or not stored <= found <= stored | {"bias"}:
            return None
        w, u, v = (shape(node, n) for n in ("weight_orig", "weight_u", "weight_v"))
        numel = 1
        for size in w:
            numel *= size
        if len(u) != 1 or len(v) != 1 or len(w) < 2 or u[0] * v[0] != numel:
            return None
        # u is as long as the dimension the norm keeps: 0, or 1 for a transposed conv
        dims = [d for d in (0, 1) if w[d] == u[0]]
        if not dims:
            return None
        transposed = None if len(dims) == 2 or len(w) == 2 else dims == [1]
        plain = _as_plain(node, "weight_orig", ctx, transposed)
        if plain is None:
            return None
        default = 1 if plain.type_name.startswith("nn.ConvTranspose") else 0
        if default not in dims:
            where = f"{prov(node, 'weight_u')}: as long as that dimension"
            plain.args.append(Arg("norm_dim", dims[0], "other", where))
        return dataclasses.replace(plain, type_name=_name("SpectralNorm", plain.type_name))

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn

        sn = nn.utils.spectral_norm

        class Discriminator(nn.Module):  # SN-GAN style: spectral-normed convs
            def __init__(self) -> None:
                super().__init__()
                self.conv = sn(nn.Conv2d(3, 8, 3, padding=1))
                self.up = sn(nn.ConvTranspose2d(8, 4, 4, stride=2, padding=1, bias=False))

            def forward(self, x):
                return self.up(torch.relu(self.conv(x)))

        class Critic(nn.Module):  # a spectral-normed Linear head
            def __init__(self) -> None:
                super().__init__()
                self.fc = sn(nn.Linear(6, 3))

            def forward(self, x):
                return self.fc(x)

        return [
            Example(Discriminator(), (torch.randn(2, 3, 5, 5),)),
            Example(Critic(), (torch.randn(4, 6),)),
        ]
