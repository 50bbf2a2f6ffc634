"""torch.nn's transformer layers and stacks: nn.Transformer, nn.TransformerEncoder/Decoder and
their layers, recognised from the fixed child names torch gives them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING


from codegen.ir import Arg, Call, IOSpec
from codegen.patterns import _activations as act
from codegen.patterns._kit import (
    EPS_SYNONYMS,
    NHEAD_SYNONYMS,
    Example,
    LayerContext,
    LayerPattern,
    Recognised,
    eps_arg,
    flag,
    index_range,
    names,
    nhead_choice,
    prov,
    shape,
)

if TYPE_CHECKING:
    from codegen.keytree import KeyNode

ENCODER_LAYER = {"self_attn", "linear1", "linear2", "norm1", "norm2"}

DECODER_LAYER = ENCODER_LAYER | {"multihead_attn", "norm3"}

SYNONYMS = {
    **NHEAD_SYNONYMS,
    **EPS_SYNONYMS,
    **act.SYNONYMS,
    "norm_first": ("pre_norm", "prenorm", "normalize_before"),
}


def _linear_dims(node: KeyNode) -> tuple[int, int, bool] | None:
    if node.children or "weight" not in node.tensors or len(node.tensors["weight"].shape) != 2:
        return None
    w = node.tensors["weight"].shape
    return w[1], w[0], "bias" in node.tensors


def _layer_args(node: KeyNode, ctx: LayerContext) -> list[Arg] | None:
    """Constructor arguments shared by nn.TransformerEncoderLayer and nn.TransformerDecoderLayer."""
    lin1 = _linear_dims(node.children["linear1"])
    if lin1 is None or "in_proj_weight" not in node.children["self_attn"].tensors:
        return None
    d_model, ff, bias = lin1
    nhead = nhead_choice(ctx, node.children["self_attn"], d_model)
    # torch's transformer layers take these two names of the one activation vocabulary
    activation = ctx.resolver.choose(node.path, "activation", "relu", ["gelu"])
    norm_first = ctx.resolver.choose(node.path, "norm_first", False, [True])
    batch_first = ctx.resolver.choose(node.path, "batch_first", True, [False])
    args = [
        Arg("d_model", d_model, "width", prov(node.children["linear1"], "weight", 1)),
        Arg("nhead", nhead.value, "choice", choice=nhead),
        Arg("dim_feedforward", ff, "width", prov(node.children["linear1"], "weight", 0)),
        Arg("activation", activation.value, "choice", choice=activation),
    ]
    if eps := eps_arg(ctx, node, "layer_norm_eps"):
        args.append(eps)
    args += [
        Arg("batch_first", batch_first.value, "choice", choice=batch_first),
        Arg("norm_first", norm_first.value, "choice", choice=norm_first),
    ]
    if not bias:
        args.append(flag("bias", False, f"no {node.children['linear1'].path}.bias"))
    return args


def _transformer_layer(
    node: KeyNode, ctx: LayerContext, children: set[str], type_name: str
) -> Recognised | None:
    if node.tensors or set(node.children) != children:
        return None
    args = _layer_args(node, ctx)
    if args is None:
        return None
    d = args[0].value
    return Recognised(type_name, args, IOSpec("transformer", d, d))


def transformer_encoder_layer(node: KeyNode, ctx: LayerContext) -> Recognised | None:
    return _transformer_layer(node, ctx, ENCODER_LAYER, "nn.TransformerEncoderLayer")


def transformer_decoder_layer(node: KeyNode, ctx: LayerContext) -> Recognised | None:
    return _transformer_layer(node, ctx, DECODER_LAYER, "nn.TransformerDecoderLayer")


def _stack(
    node: KeyNode, ctx: LayerContext, layer: Callable, type_name: str, layer_kw: str
) -> Recognised | None:
    if node.tensors or not {"layers"} <= set(node.children) <= {"layers", "norm"}:
        return None
    layers = node.children["layers"]
    if layers.tensors or not layers.children:
        return None
    names = list(layers.children)
    if names != [str(i) for i in range(len(names))]:
        return None
    first = layers.children["0"]
    if any(c.signature != first.signature for c in layers.children.values()):
        return None  # built-in stacks deep-copy one layer: all layers are identical
    inner = layer(first, ctx)
    if inner is None:
        return None
    d = inner.io.out_width
    args = [
        Arg(layer_kw, inner.call(), "other"),
        Arg("num_layers", len(names), "count", index_range(layers.path, len(names))),
    ]
    if "norm" in node.children:
        norm = node.children["norm"]
        if (
            set(norm.tensors) != {"weight", "bias"}
            or norm.tensors["weight"].shape != (d,)
            or norm.children
        ):
            return None
        args.append(
            Arg(
                "norm",
                Call("nn.LayerNorm", [Arg(None, d, "width", prov(norm, "weight", 0))]),
                "other",
            )
        )
    if type_name == "nn.TransformerEncoder":
        # The nested-tensor fast path changes results for padded batches and warns with norm_first.
        args.append(Arg("enable_nested_tensor", False, "flag", "exact results on padded batches"))
    return Recognised(type_name, args, IOSpec("transformer", d, d))


def transformer_encoder(node: KeyNode, ctx: LayerContext) -> Recognised | None:
    return _stack(node, ctx, transformer_encoder_layer, "nn.TransformerEncoder", "encoder_layer")


def transformer_decoder(node: KeyNode, ctx: LayerContext) -> Recognised | None:
    return _stack(node, ctx, transformer_decoder_layer, "nn.TransformerDecoder", "decoder_layer")


def transformer(node: KeyNode, ctx: LayerContext) -> Recognised | None:
    if node.tensors or set(node.children) != {"encoder", "decoder"}:
        return None
    enc, dec = node.children["encoder"], node.children["decoder"]
    if "norm" not in enc.children or "norm" not in dec.children:
        return None
    e = transformer_encoder(enc, ctx)
    d = transformer_decoder(dec, ctx)
    if e is None or d is None:
        return None
    layer_args = {a.keyword: a for a in e.args[0].value.args}  # type: ignore[union-attr]
    keep = ["d_model", "nhead"]
    args = [layer_args[k] for k in keep]
    args.append(Arg("num_encoder_layers", e.args[1].value, "count", e.args[1].provenance))
    args.append(Arg("num_decoder_layers", d.args[1].value, "count", d.args[1].provenance))
    args += [layer_args[k] for k in ("dim_feedforward", "dropout", "activation") if k in layer_args]
    args += [
        layer_args[k]
        for k in ("layer_norm_eps", "batch_first", "norm_first", "bias")
        if k in layer_args
    ]
    width = e.io.out_width
    return Recognised("nn.Transformer", args, IOSpec("transformer", width, width))


class Transformer(LayerPattern):
    role = "Transformer"
    synonyms = SYNONYMS

    def recognise(self, node, ctx: LayerContext) -> Recognised | None:
        return transformer(node, ctx)

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn

        model = nn.Transformer(16, 2, 1, 1, 32, batch_first=True)
        return [Example(model, (torch.randn(2, 5, 16), torch.randn(2, 4, 16)))]


class TransformerEncoder(LayerPattern):
    role = "TransformerEncoder"
    synonyms = SYNONYMS

    def recognise(self, node, ctx: LayerContext) -> Recognised | None:
        return transformer_encoder(node, ctx)

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn

        layer = nn.TransformerEncoderLayer(16, 2, 32, batch_first=True)
        model = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        return [Example(model, (torch.randn(2, 5, 16),))]


class TransformerDecoder(LayerPattern):
    role = "TransformerDecoder"
    synonyms = SYNONYMS

    def recognise(self, node, ctx: LayerContext) -> Recognised | None:
        return transformer_decoder(node, ctx)

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn

        model = nn.TransformerDecoder(nn.TransformerDecoderLayer(16, 2, 32, batch_first=True), 2)
        return [Example(model, (torch.randn(2, 4, 16), torch.randn(2, 5, 16)))]


class TransformerEncoderLayer(LayerPattern):
    role = "TransformerEncoderLayer"
    synonyms = SYNONYMS

    def recognise(self, node, ctx: LayerContext) -> Recognised | None:
        return transformer_encoder_layer(node, ctx)

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn

        model = nn.TransformerEncoderLayer(16, 2, 32, batch_first=True)
        return [Example(model, (torch.randn(2, 5, 16),))]


class TransformerDecoderLayer(LayerPattern):
    role = "TransformerDecoderLayer"
    synonyms = SYNONYMS

    def recognise(self, node, ctx: LayerContext) -> Recognised | None:
        return transformer_decoder_layer(node, ctx)

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn

        model = nn.TransformerDecoderLayer(16, 2, 32, batch_first=True)
        return [Example(model, (torch.randn(2, 4, 16), torch.randn(2, 5, 16)))]
