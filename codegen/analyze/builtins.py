"""Recognisers: one small function per torch.nn type that owns parameters or buffers.

Each takes a key-tree node and returns the constructor call that produces exactly its tensors, or
None. Shapes fix sizes; what they cannot tell apart (Embedding vs bias-free Linear, BatchNorm vs
InstanceNorm, the number of heads...) becomes a Choice. `verify.py` builds every answer on the meta
device and compares state dicts, so a recogniser that guesses wrong is rejected, not emitted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

from codegen.choices import ChoiceResolver, positive_float, positive_int, size_value
from codegen.ir import Arg, Call, Choice, IOSpec
from codegen.keytree import KeyNode


@dataclass
class Context:
    """What a recogniser may look at besides the node: its neighbours and the choice resolver."""

    resolver: ChoiceResolver
    prev: IOSpec | None = None  # the previous sibling in registration order
    next: IOSpec | None = None
    stride: int = 1  # the conventional stride where the structure suggests one (residual blocks)


@dataclass
class Recognised:
    type_name: str
    args: list[Arg]
    io: IOSpec
    choices: list[Choice] = field(
        default_factory=list
    )  # which type, where the shapes allow several

    def call(self) -> Call:
        return Call(self.type_name, self.args)


Recogniser = Callable[[KeyNode, Context], "Recognised | None"]


# ----------------------------------------------------------------------------------------- helpers


def _names(node: KeyNode) -> set[str]:
    return set(node.tensors)


def _shape(node: KeyNode, name: str) -> tuple[int, ...]:
    return node.tensors[name].shape


def _prov(node: KeyNode, name: str, dim: int | None = None) -> str:
    key = f"{node.path}.{name}" if node.path else name
    return f"{key}.shape[{dim}]" if dim is not None else key


def _hinted(node: KeyNode, pattern: str) -> bool:
    return re.search(pattern, node.name, re.IGNORECASE) is not None


def _type_choice(
    ctx: Context, node: KeyNode, default: str, alternatives: list[str], note: str
) -> Choice:
    return ctx.resolver.choose(node.path, "module_type", default, alternatives, note)


def _eps_arg(ctx: Context, node: KeyNode, keyword: str = "eps") -> Arg | None:
    c = ctx.resolver.choose(node.path, "eps", 1e-5, [1e-6, 1e-12, 1e-8], accepts=positive_float)
    return None if c.source == "default" else Arg(keyword, c.value, "choice", choice=c)


def _nhead_choice(ctx: Context, node: KeyNode, d_model: int) -> Choice:
    divisors = [h for h in (1, 2, 4, 6, 8, 12, 16, 20, 24, 32, 40, 64) if d_model % h == 0]
    # Head size 64 is the common convention for wide models; small ones usually use 8 heads or fewer.
    if d_model >= 512 and d_model % 64 == 0:
        default = d_model // 64
    else:
        default = next((h for h in (8, 4, 2, 1) if d_model % h == 0 and d_model // h >= 8), 1)
    if default not in divisors:
        divisors.append(default)
    return ctx.resolver.choose(node.path, "nhead", default, sorted(divisors), "")


def _index_range(path: str, count: int) -> str:
    return f"{path}.0" if count == 1 else f"{path}.0-{count - 1}"


def _flag(keyword: str, value: bool, provenance: str) -> Arg:
    return Arg(keyword, value, "flag", provenance)


# ------------------------------------------------------------------------------------ recognisers


def linear(node: KeyNode, ctx: Context) -> Recognised | None:
    names = _names(node)
    if node.children or "weight" not in names or not names <= {"weight", "bias"}:
        return None
    w = _shape(node, "weight")
    if len(w) != 2 or ("bias" in names and _shape(node, "bias") != (w[0],)):
        return None
    args = [
        Arg(None, w[1], "width", _prov(node, "weight", 1)),
        Arg(None, w[0], "width", _prov(node, "weight", 0)),
    ]
    choices = []
    if "bias" not in names:
        args.append(_flag("bias", False, f"no {_prov(node, 'bias')}"))
        # A bias-free 2-D weight is also what an Embedding holds; the name decides.
        if _hinted(node, r"emb|wte|wpe|tok|vocab|lookup|position|word|shared"):
            return None
        choice = _type_choice(ctx, node, "nn.Linear", ["nn.Embedding"], "a bias-free 2-D weight")
        if choice.value != "nn.Linear":
            return None
        choices.append(choice)
    return Recognised("nn.Linear", args, IOSpec("linear", w[1], w[0]), choices)


def embedding(node: KeyNode, ctx: Context) -> Recognised | None:
    if node.children or _names(node) != {"weight"} or len(_shape(node, "weight")) != 2:
        return None
    w = _shape(node, "weight")
    type_name = "nn.EmbeddingBag" if _hinted(node, r"bag") else "nn.Embedding"
    args = [
        Arg(None, w[0], "vocab", _prov(node, "weight", 0)),
        Arg(None, w[1], "width", _prov(node, "weight", 1)),
    ]
    choice = _type_choice(
        ctx, node, type_name, ["nn.Linear"], "a 2-D weight named like an embedding"
    )
    if choice.value == "nn.Linear":
        return Recognised(
            "nn.Linear",
            [args[1], args[0], _flag("bias", False, f"no {_prov(node, 'bias')}")],
            IOSpec("linear", w[1], w[0]),
            [choice],
        )
    return Recognised(type_name, args, IOSpec("embedding", None, w[1], vocab=w[0]), [choice])


def bilinear(node: KeyNode, ctx: Context) -> Recognised | None:
    names = _names(node)
    if node.children or "weight" not in names or not names <= {"weight", "bias"}:
        return None
    w = _shape(node, "weight")
    if len(w) != 3 or not _hinted(node, r"bilinear"):
        return None
    args = [
        Arg(None, w[1], "width", _prov(node, "weight", 1)),
        Arg(None, w[2], "width", _prov(node, "weight", 2)),
        Arg(None, w[0], "width", _prov(node, "weight", 0)),
    ]
    if "bias" not in names:
        args.append(_flag("bias", False, f"no {_prov(node, 'bias')}"))
    return Recognised("nn.Bilinear", args, IOSpec("linear", w[1], w[0]))


def conv(node: KeyNode, ctx: Context) -> Recognised | None:
    names = _names(node)
    if node.children or "weight" not in names or not names <= {"weight", "bias"}:
        return None
    w = _shape(node, "weight")
    if len(w) not in (3, 4, 5):
        return None
    n = len(w) - 2
    bias = _shape(node, "bias") if "bias" in names else None
    if bias is not None and len(bias) != 1:
        return None
    # Conv weights are (out, in/groups, k...); transposed ones (in, out/groups, k...). The bias length
    # (the output channels) tells them apart when in != out; otherwise the name does.
    transposed = _hinted(node, r"deconv|transpose|convt|up_?conv|upsampl")
    if bias is not None and bias[0] != w[0]:
        transposed = True
    if transposed:
        groups = 1
        if bias is not None and bias[0] % w[1] == 0 and bias[0] != w[1]:
            groups = bias[0] // w[1]
        in_ch, out_ch = w[0], w[1] * groups
        if bias is not None and bias[0] != out_ch:
            return None
        in_prov, out_prov = _prov(node, "weight", 0), _prov(node, "weight", 1)
    else:
        groups = _conv_groups(w, ctx.prev)
        in_ch, out_ch = w[1] * groups, w[0]
        in_prov, out_prov = _prov(node, "weight", 1), _prov(node, "weight", 0)
    kernel = w[2:]
    args = [
        Arg(None, in_ch, "width", in_prov),
        Arg(None, out_ch, "width", out_prov),
        Arg(
            "kernel_size",
            kernel[0] if len(set(kernel)) == 1 else tuple(kernel),
            "kernel",
            _prov(node, "weight"),
        ),
    ]
    k = kernel[0] if len(set(kernel)) == 1 else None
    choices = []
    if transposed:
        args += _transposed_geometry(ctx, node, k, choices)
    else:
        args += _conv_geometry(ctx, node, kernel, k, choices)
    if groups != 1:
        args.append(
            Arg("groups", groups, "other", f"{_prov(node, 'weight', 1)} x groups = input channels")
        )
    if bias is None:
        args.append(_flag("bias", False, f"no {_prov(node, 'bias')}"))
    type_name = f"nn.ConvTranspose{n}d" if transposed else f"nn.Conv{n}d"
    return Recognised(type_name, args, IOSpec("conv", in_ch, out_ch, n), choices)


def _conv_geometry(
    ctx: Context, node: KeyNode, kernel: tuple[int, ...], k: int | None, choices: list[Choice]
) -> list[Arg]:
    """Stride and padding, which the weights do not record. Conventions: even square kernels of 4 and
    up patchify (ViT: stride = kernel, no padding); a 7-wide kernel is an image stem (ResNet: stride 2);
    a residual block that widens, or an encoder mirrored by upsampling layers, halves the resolution.
    """
    args = []
    patchify = k is not None and k >= 4 and k % 2 == 0
    default_stride = k if patchify else 2 if k == 7 else ctx.stride
    stride = ctx.resolver.choose(
        node.path,
        "stride",
        default_stride,
        [1, 2] + ([k] if patchify else []),
        accepts=positive_int,
    )
    if stride.value != 1 or stride.source != "default":
        args.append(Arg("stride", stride.value, "choice", choice=stride))
    else:
        choices.append(stride)
    halves = tuple(0 if patchify else size // 2 for size in kernel)
    same = halves[0] if len(set(halves)) == 1 else halves
    padding = ctx.resolver.choose(
        node.path,
        "padding",
        same,
        [0] if same else [1],
        "half the kernel keeps the size",
        accepts=size_value,
    )
    if padding.value != 0:
        args.append(Arg("padding", padding.value, "choice", choice=padding))
    elif padding.alternatives:
        choices.append(padding)
    return args


def _transposed_geometry(
    ctx: Context, node: KeyNode, k: int | None, choices: list[Choice]
) -> list[Arg]:
    """(stride, padding, output_padding) as one choice: they only make sense together. The usual use
    is upsampling by exactly 2: stride 2 with the padding and output padding that give 2x the size.
    """
    if k is None:
        return []
    pad = max(0, (k - 1) // 2)
    up2 = (2, pad, 2 + 2 * pad - k) if 0 <= 2 + 2 * pad - k < 2 else (1, 0, 0)
    geometry = ctx.resolver.choose(
        node.path,
        "geometry",
        up2,
        [(1, 0, 0), (1, k // 2, 0), (2, 0, 0), up2],
        "stride, padding, output_padding",
    )
    choices.append(geometry)
    stride, padding, output_padding = (tuple(geometry.value) + (0, 0, 0))[:3]
    args = []
    for keyword, value, default in (
        ("stride", stride, 1),
        ("padding", padding, 0),
        ("output_padding", output_padding, 0),
    ):
        if value != default:
            args.append(Arg(keyword, value, "other", "not in the checkpoint: see geometry"))
    return args


def _conv_groups(w: tuple[int, ...], prev: IOSpec | None) -> int:
    """Grouped and depthwise convolutions show only in_channels/groups; the producer tells in_channels."""
    if prev is None or prev.out_width is None or prev.out_width == w[1]:
        return 1
    if prev.out_width % w[1] == 0 and w[0] % (prev.out_width // w[1]) == 0:
        return prev.out_width // w[1]
    return 1


BN_KEYS = {"running_mean", "running_var"}


def batchnorm(node: KeyNode, ctx: Context) -> Recognised | None:
    names = _names(node)
    if (
        node.children
        or not BN_KEYS <= names
        or not names <= BN_KEYS | {"weight", "bias", "num_batches_tracked"}
    ):
        return None
    c = _shape(node, "running_mean")
    if len(c) != 1 or any(_shape(node, k) != c for k in names & {"running_var", "weight", "bias"}):
        return None
    if ("weight" in names) != ("bias" in names):
        return None
    n = _norm_dims(ctx)
    instance = _hinted(node, r"instance|^in\d*$|inorm")
    default = f"nn.InstanceNorm{n}d" if instance else f"nn.BatchNorm{n}d"
    # The dimensionality follows the neighbouring layer; without one it is a guess worth showing.
    told = _neighbour_told(ctx)
    others = [] if told else [f"nn.BatchNorm{k}d" for k in (1, 2, 3)]
    choice = _type_choice(ctx, node, default, others, "running statistics")
    args = [Arg(None, c[0], "width", _prov(node, "running_mean", 0))]
    if eps := _eps_arg(ctx, node):
        args.append(eps)
    affine_default = not instance
    if ("weight" in names) != affine_default:
        args.append(_flag("affine", "weight" in names, _prov(node, "weight")))
    if instance:
        args.append(_flag("track_running_stats", True, _prov(node, "running_mean")))
    return Recognised(choice.value, args, IOSpec("norm", c[0], c[0], n), [choice])


def _neighbour_told(ctx: Context) -> bool:
    return any(
        io is not None and io.family in ("conv", "linear", "embedding", "rnn")
        for io in (ctx.prev, ctx.next)
    )


def _norm_dims(ctx: Context) -> int:
    for io in (ctx.prev, ctx.next):
        if io is not None and io.family == "conv" and io.ndim:
            return io.ndim
        if io is not None and io.family in ("linear", "embedding", "rnn"):
            return 1
    return 2


def affine_norm(node: KeyNode, ctx: Context) -> Recognised | None:
    """weight + bias of one shape: LayerNorm, GroupNorm, InstanceNorm(affine) or stat-free BatchNorm."""
    names = _names(node)
    if node.children or names != {"weight", "bias"}:
        return None
    w = _shape(node, "weight")
    if _shape(node, "bias") != w or not w:
        return None
    args_ln = [Arg(None, w[0] if len(w) == 1 else tuple(w), "width", _prov(node, "weight"))]
    after_conv = ctx.prev is not None and ctx.prev.family == "conv"
    if len(w) > 1:
        default = "nn.LayerNorm"
    elif _hinted(node, r"^gn|group"):
        default = "nn.GroupNorm"
    elif _hinted(node, r"^ln|layer_?norm|ln_?\d*$"):
        default = "nn.LayerNorm"
    elif _hinted(node, r"^bn|batch"):
        default = "nn.BatchNorm"
    elif after_conv:
        default = "nn.GroupNorm"
    elif _hinted(node, r"prelu"):
        return None
    else:
        default = "nn.LayerNorm"
    alternatives = ["nn.LayerNorm"] + (
        ["nn.GroupNorm", "nn.BatchNorm", "nn.InstanceNorm"] if len(w) == 1 else []
    )
    choice = _type_choice(ctx, node, default, alternatives, "weight and bias of one shape")
    c = w[0]
    if choice.value == "nn.GroupNorm":
        divisors = [g for g in (1, 2, 4, 8, 16, 32, 64) if c % g == 0]
        groups = ctx.resolver.choose(
            node.path, "num_groups", 32 if c % 32 == 0 else max(divisors), divisors
        )
        args = [
            Arg(None, groups.value, "choice", choice=groups),
            Arg(None, c, "width", _prov(node, "weight", 0)),
        ]
        return Recognised(
            "nn.GroupNorm",
            args + _eps(ctx, node),
            IOSpec("norm", c, c, ctx.prev.ndim if after_conv else 2),
            [choice],
        )
    if choice.value in ("nn.BatchNorm", "nn.InstanceNorm"):
        n = _norm_dims(ctx)
        extra = (
            [_flag("track_running_stats", False, f"no {_prov(node, 'running_mean')}")]
            if choice.value == "nn.BatchNorm"
            else [_flag("affine", True, _prov(node, "weight"))]
        )
        return Recognised(
            f"{choice.value}{n}d",
            [Arg(None, c, "width", _prov(node, "weight", 0))] + _eps(ctx, node) + extra,
            IOSpec("norm", c, c, n),
            [choice],
        )
    return Recognised(
        "nn.LayerNorm", args_ln + _eps(ctx, node), IOSpec("norm", w[-1], w[-1]), [choice]
    )


def _eps(ctx: Context, node: KeyNode) -> list[Arg]:
    eps = _eps_arg(ctx, node)
    return [eps] if eps else []


def weight_only_norm(node: KeyNode, ctx: Context) -> Recognised | None:
    """A lone 1-D (or N-D) `weight`: RMSNorm, bias-free LayerNorm, or PReLU's slopes."""
    if node.children or _names(node) != {"weight"}:
        return None
    w = _shape(node, "weight")
    if len(w) != 1 or w[0] < 1:
        return None
    if _hinted(node, r"prelu|act"):
        return Recognised(
            "nn.PReLU",
            [Arg("num_parameters", w[0], "width", _prov(node, "weight", 0))],
            IOSpec("activation", w[0], w[0]),
        )
    default = (
        "nn.LayerNorm"
        if _hinted(node, r"^ln|layer_?norm$") and not _hinted(node, r"rms")
        else "nn.RMSNorm"
    )
    choice = _type_choice(ctx, node, default, ["nn.RMSNorm", "nn.LayerNorm"], "a lone 1-D weight")
    args = [Arg(None, w[0], "width", _prov(node, "weight", 0))]
    if choice.value == "nn.LayerNorm":
        args.append(_flag("bias", False, f"no {_prov(node, 'bias')}"))
    else:
        c = ctx.resolver.choose(
            node.path,
            "eps",
            None,
            [1e-6, 1e-5],
            "None uses the dtype's machine epsilon",
            accepts=positive_float,
        )
        if c.source != "default":
            args.append(Arg("eps", c.value, "choice", choice=c))
    return Recognised(choice.value, args, IOSpec("norm", w[0], w[0]), [choice])


MHA_TENSORS = {
    "in_proj_weight",
    "in_proj_bias",
    "q_proj_weight",
    "k_proj_weight",
    "v_proj_weight",
    "bias_k",
    "bias_v",
}


def multihead_attention(node: KeyNode, ctx: Context) -> Recognised | None:
    names = _names(node)
    if set(node.children) != {"out_proj"} or not names <= MHA_TENSORS:
        return None
    out = node.children["out_proj"]
    if out.children or "weight" not in out.tensors or len(out.tensors["weight"].shape) != 2:
        return None
    e = out.tensors["weight"].shape[0]
    args = [Arg(None, e, "width", _prov(out, "weight", 0))]
    nhead = _nhead_choice(ctx, node, e)
    args.append(Arg(None, nhead.value, "choice", choice=nhead))
    if "in_proj_weight" not in names:
        if not {"q_proj_weight", "k_proj_weight", "v_proj_weight"} <= names:
            return None
        k, v = _shape(node, "k_proj_weight"), _shape(node, "v_proj_weight")
        args.append(Arg("kdim", k[1], "width", _prov(node, "k_proj_weight", 1)))
        args.append(Arg("vdim", v[1], "width", _prov(node, "v_proj_weight", 1)))
    if "in_proj_bias" not in names:
        args.append(_flag("bias", False, f"no {_prov(node, 'in_proj_bias')}"))
    if "bias_k" in names:
        args.append(_flag("add_bias_kv", True, _prov(node, "bias_k")))
    batch_first = ctx.resolver.choose(node.path, "batch_first", True, [False])
    args.append(Arg("batch_first", batch_first.value, "choice", choice=batch_first))
    return Recognised("nn.MultiheadAttention", args, IOSpec("attention", e, e))


def _linear_dims(node: KeyNode) -> tuple[int, int, bool] | None:
    if node.children or "weight" not in node.tensors or len(node.tensors["weight"].shape) != 2:
        return None
    w = node.tensors["weight"].shape
    return w[1], w[0], "bias" in node.tensors


ENCODER_LAYER = {"self_attn", "linear1", "linear2", "norm1", "norm2"}
DECODER_LAYER = ENCODER_LAYER | {"multihead_attn", "norm3"}


def _layer_args(node: KeyNode, ctx: Context) -> list[Arg] | None:
    """Constructor arguments shared by nn.TransformerEncoderLayer and nn.TransformerDecoderLayer."""
    lin1 = _linear_dims(node.children["linear1"])
    if lin1 is None or "in_proj_weight" not in node.children["self_attn"].tensors:
        return None
    d_model, ff, bias = lin1
    nhead = _nhead_choice(ctx, node.children["self_attn"], d_model)
    activation = ctx.resolver.choose(node.path, "activation", "relu", ["gelu"])
    norm_first = ctx.resolver.choose(node.path, "norm_first", False, [True])
    batch_first = ctx.resolver.choose(node.path, "batch_first", True, [False])
    args = [
        Arg("d_model", d_model, "width", _prov(node.children["linear1"], "weight", 1)),
        Arg("nhead", nhead.value, "choice", choice=nhead),
        Arg("dim_feedforward", ff, "width", _prov(node.children["linear1"], "weight", 0)),
        Arg("activation", activation.value, "choice", choice=activation),
    ]
    if eps := _eps_arg(ctx, node, "layer_norm_eps"):
        args.append(eps)
    args += [
        Arg("batch_first", batch_first.value, "choice", choice=batch_first),
        Arg("norm_first", norm_first.value, "choice", choice=norm_first),
    ]
    if not bias:
        args.append(_flag("bias", False, f"no {node.children['linear1'].path}.bias"))
    return args


def _transformer_layer(
    node: KeyNode, ctx: Context, children: set[str], type_name: str
) -> Recognised | None:
    if node.tensors or set(node.children) != children:
        return None
    args = _layer_args(node, ctx)
    if args is None:
        return None
    d = args[0].value
    return Recognised(type_name, args, IOSpec("transformer", d, d))


def transformer_encoder_layer(node: KeyNode, ctx: Context) -> Recognised | None:
    return _transformer_layer(node, ctx, ENCODER_LAYER, "nn.TransformerEncoderLayer")


def transformer_decoder_layer(node: KeyNode, ctx: Context) -> Recognised | None:
    return _transformer_layer(node, ctx, DECODER_LAYER, "nn.TransformerDecoderLayer")


def _stack(
    node: KeyNode, ctx: Context, layer: Recogniser, type_name: str, layer_kw: str
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
        Arg("num_layers", len(names), "count", _index_range(layers.path, len(names))),
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
                Call("nn.LayerNorm", [Arg(None, d, "width", _prov(norm, "weight", 0))]),
                "other",
            )
        )
    if type_name == "nn.TransformerEncoder":
        # The nested-tensor fast path changes results for padded batches and warns with norm_first.
        args.append(Arg("enable_nested_tensor", False, "flag", "exact results on padded batches"))
    return Recognised(type_name, args, IOSpec("transformer", d, d))


def transformer_encoder(node: KeyNode, ctx: Context) -> Recognised | None:
    return _stack(node, ctx, transformer_encoder_layer, "nn.TransformerEncoder", "encoder_layer")


def transformer_decoder(node: KeyNode, ctx: Context) -> Recognised | None:
    return _stack(node, ctx, transformer_decoder_layer, "nn.TransformerDecoder", "decoder_layer")


def transformer(node: KeyNode, ctx: Context) -> Recognised | None:
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


RNN_KEY = re.compile(r"^(weight|bias)_(ih|hh|hr)_l(\d+)(_reverse)?$")


def rnn(node: KeyNode, ctx: Context) -> Recognised | None:
    names = _names(node)
    if node.children or not names or not all(RNN_KEY.match(n) for n in names):
        return None
    if "weight_ih_l0" not in names or "weight_hh_l0" not in names:
        return None
    w_ih, w_hh = _shape(node, "weight_ih_l0"), _shape(node, "weight_hh_l0")
    proj = _shape(node, "weight_hr_l0") if "weight_hr_l0" in names else None
    hidden = proj[1] if proj else w_hh[1]
    if w_hh[0] % hidden:
        return None
    gates = w_hh[0] // hidden
    type_name = {1: "nn.RNN", 3: "nn.GRU", 4: "nn.LSTM"}.get(gates)
    if type_name is None or (proj and gates != 4):
        return None
    layers = 1 + max(int(RNN_KEY.match(n).group(3)) for n in names)  # type: ignore[union-attr]
    bidirectional = any(n.endswith("_reverse") for n in names)
    args = [
        Arg(None, w_ih[1], "width", _prov(node, "weight_ih_l0", 1)),
        Arg(None, hidden, "width", _prov(node, "weight_hr_l0" if proj else "weight_hh_l0", 1)),
    ]
    if layers != 1:
        args.append(Arg("num_layers", layers, "count", f"{node.path}.*_l0-{layers - 1}"))
    if type_name == "nn.RNN":
        nl = ctx.resolver.choose(node.path, "nonlinearity", "tanh", ["relu"])
        if nl.value != "tanh" or nl.source != "default":
            args.append(Arg("nonlinearity", nl.value, "choice", choice=nl))
    if "bias_ih_l0" not in names:
        args.append(_flag("bias", False, f"no {_prov(node, 'bias_ih_l0')}"))
    batch_first = ctx.resolver.choose(node.path, "batch_first", True, [False])
    args.append(Arg("batch_first", batch_first.value, "choice", choice=batch_first))
    if bidirectional:
        args.append(_flag("bidirectional", True, _prov(node, "weight_ih_l0_reverse")))
    if proj:
        args.append(Arg("proj_size", proj[0], "width", _prov(node, "weight_hr_l0", 0)))
    out = (proj[0] if proj else hidden) * (2 if bidirectional else 1)
    return Recognised(type_name, args, IOSpec("rnn", w_ih[1], out))


def rnn_cell(node: KeyNode, ctx: Context) -> Recognised | None:
    names = _names(node)
    if node.children or not {"weight_ih", "weight_hh"} <= names <= {
        "weight_ih",
        "weight_hh",
        "bias_ih",
        "bias_hh",
    }:
        return None
    w_ih, w_hh = _shape(node, "weight_ih"), _shape(node, "weight_hh")
    if len(w_ih) != 2 or len(w_hh) != 2 or w_hh[0] % w_hh[1]:
        return None
    hidden = w_hh[1]
    type_name = {1: "nn.RNNCell", 3: "nn.GRUCell", 4: "nn.LSTMCell"}.get(w_hh[0] // hidden)
    if type_name is None:
        return None
    args = [
        Arg(None, w_ih[1], "width", _prov(node, "weight_ih", 1)),
        Arg(None, hidden, "width", _prov(node, "weight_hh", 1)),
    ]
    if "bias_ih" not in names:
        args.append(_flag("bias", False, f"no {_prov(node, 'bias_ih')}"))
    return Recognised(type_name, args, IOSpec("rnn", w_ih[1], hidden))


# Most specific first: a recogniser that matches a subset of another's keys comes after it.
RECOGNISERS: list[Recogniser] = [
    transformer,
    transformer_encoder,
    transformer_decoder,
    transformer_encoder_layer,
    transformer_decoder_layer,
    multihead_attention,
    rnn,
    rnn_cell,
    batchnorm,
    bilinear,
    conv,
    linear,
    embedding,
    affine_norm,
    weight_only_norm,
]


def recognise(node: KeyNode, ctx: Context) -> Recognised | None:
    for fn in RECOGNISERS:
        found = fn(node, ctx)
        if found is not None:
            return found
    return None
