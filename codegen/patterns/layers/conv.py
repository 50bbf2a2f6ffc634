"""nn.ConvNd and nn.ConvTransposeNd: weights (out, in/groups, *kernel) or (in, out/groups, *kernel).

Stride and padding are not in the weights: conventions give defaults, each one a choice.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from codegen.ir import Arg, Choice, IOSpec
from codegen.patterns._kit import (
    Example,
    LayerContext,
    LayerPattern,
    Recognised,
    flag,
    hinted,
    names,
    prov,
    shape,
    type_choice,
)
from codegen.safetext import is_index, is_sequential_index

if TYPE_CHECKING:
    from codegen.keytree import KeyNode

# Bias-free 3-D weights under these names are experts stacked on a leading dimension [experts,
# out, in] (GraniteMoE's input_linear), not Conv1d kernels: patterns/blocks/expert_bank.py.
EXPERT_BANK = r"input_linear|output_linear|gate_up_proj|down_proj|experts?_\w+"
# moe12: or any name but a conv's directly under a module named for experts (Aria's
# `experts.fc1` [experts, d_model, 2 * inner])
EXPERTS_PARENT = r"\w*experts"


def _expert_bank(node: KeyNode) -> bool:
    """A bias-free 3-D weight's node named as a bank of experts, or held by experts."""
    if re.fullmatch(EXPERT_BANK, node.name, re.I):
        return True
    parent = node.path.split(".")[-2] if "." in node.path else ""
    return bool(re.fullmatch(EXPERTS_PARENT, parent, re.I)) and "conv" not in node.name.lower()


def conv(node: KeyNode, ctx: LayerContext) -> Recognised | None:
    found = names(node)
    if node.children or "weight" not in found or not found <= {"weight", "bias"}:
        return None
    w = shape(node, "weight")
    if len(w) not in (3, 4, 5):
        return None
    if len(w) == 3 and "bias" not in found and _expert_bank(node):
        return None  # experts stacked on a leading dimension (patterns/blocks/expert_bank.py)
    n = len(w) - 2
    bias = shape(node, "bias") if "bias" in found else None
    if bias is not None and len(bias) != 1:
        return None
    # Conv weights are (out, in/groups, k...); transposed ones (in, out/groups, k...). The bias length
    # (the output channels) tells them apart when in != out; otherwise the name does.
    # (`t_conv1`, udacity's autoencoders; `ext_tconv1`, davidtvs' ENet: a `t` before conv)
    transposed = hinted(node, r"deconv|transpose|convt|(^|_)t_?conv")
    if _opens_named(node, r"deconv|transpose") and (bias is None or bias[0] == w[1]):
        transposed = True  # unless a bias as long as the weight's first width says plain
    kind_choice = None
    if ctx.transposed is not None:
        transposed = ctx.transposed
    elif bias is not None and bias[0] != w[0]:
        transposed = True
    elif bias is None and _widths_say_transposed(w, ctx, node):
        transposed = True
    elif transposed and bias is None and len(w) == 4 and w[0] != w[1]:
        # Named transposed, and only the name says so: the weight [a, b, k, k] fits a plain conv
        # b -> a as well. A sum the layer's output joins can prove the plain one (LapSRN's
        # `convt_R1`, a Conv2d giving the residual image: families/sum_joined_pyramid.py).
        plain, trans = "nn.Conv2d", "nn.ConvTranspose2d"
        kind_choice = type_choice(ctx, node, trans, [plain], "named a transposed conv")
        transposed = kind_choice.value == trans
    elif not transposed and hinted(node, r"up_?conv|upsampl|conv_?up"):
        # An upsampling conv: transposed (even kernels: 2x2, 4x4 with stride 2), or a plain conv
        # after an interpolation (odd kernels: ESRGAN's upconv). The weights fit both.
        even = all(k % 2 == 0 for k in w[2:])
        plain, trans = f"nn.Conv{len(w) - 2}d", f"nn.ConvTranspose{len(w) - 2}d"
        kind_choice = type_choice(
            ctx, node, trans if even else plain, [plain if even else trans], "an upsampling conv"
        )
        transposed = kind_choice.value == trans
    elif not transposed and _square_in_decoder(w, node):
        # A decoder's Sequential may open with a transposed conv that keeps the width
        # (PyTorch-VAE's `final_layer`): the weights fit both; the plain conv stays the default.
        plain, trans = f"nn.Conv{len(w) - 2}d", f"nn.ConvTranspose{len(w) - 2}d"
        kind_choice = type_choice(ctx, node, plain, [trans], "a decoder's conv keeping the width")
        transposed = kind_choice.value == trans
    elif not transposed and len(w) == 4 and (node.path, "module_type") in ctx.resolver.structural:
        # A plain conv by its weight, which a block pattern found must resample back (a
        # decoder's output added to a larger encoder map: families/linked_encoder_decoder.py).
        kind_choice = type_choice(
            ctx, node, "nn.Conv2d", ["nn.ConvTranspose2d"], "a conv keeping the width"
        )
        transposed = kind_choice.value == "nn.ConvTranspose2d"
    elif not transposed and len(w) == 4 and w[0] == w[1] and tuple(w[2:]) in ((4, 4), (2, 2)):
        # A 4x4 kernel keeping the width: the stride-2 upsampling step of DCGAN-style generators
        # and pix2pix's U-Net (its innermost level) fits the weights as well as a plain conv;
        # inside a decoder or generator it is that step (1Konny's Beta-VAE decoder, DCGAN's).
        # A 2x2 one is offered too (a U-Net's block may hold either), the plain conv its default.
        up = bool(DECODER_PART.search(node.path)) and w[2] == 4
        plain, trans = "nn.Conv2d", "nn.ConvTranspose2d"
        kind_choice = type_choice(
            ctx,
            node,
            trans if up else plain,
            [plain if up else trans],
            f"a {w[2]}x{w[3]} conv keeping the width",
        )
        transposed = kind_choice.value == "nn.ConvTranspose2d"
    grouping = None  # the choice that set `groups`, where one did
    if transposed:
        groups = 1
        if bias is not None and bias[0] % w[1] == 0 and bias[0] != w[1]:
            groups = bias[0] // w[1]
        in_ch, out_ch = w[0], w[1] * groups
        if bias is not None and bias[0] != out_ch:
            return None
        in_prov, out_prov = prov(node, "weight", 0), prov(node, "weight", 1)
    else:
        groups, grouping = _conv_groups(w, ctx, node)
        in_ch, out_ch = w[1] * groups, w[0]
        in_prov, out_prov = prov(node, "weight", 1), prov(node, "weight", 0)
    kernel = w[2:]
    args = [
        Arg(None, in_ch, "width", in_prov),
        Arg(None, out_ch, "width", out_prov),
        Arg(
            "kernel_size",
            kernel[0] if len(set(kernel)) == 1 else tuple(kernel),
            "kernel",
            prov(node, "weight"),
        ),
    ]
    k = kernel[0] if len(set(kernel)) == 1 else None
    choices = [] if grouping is None else [grouping]
    if kind_choice is not None:
        choices.append(kind_choice)
    if transposed:
        args += _transposed_geometry(ctx, node, k, choices)
    else:
        args += _conv_geometry(ctx, node, kernel, k, choices, grouped=groups != 1)
    if groups != 1:
        # Depthwise groups are the channel count: a size, lifted with it (groups=channels; a
        # depth multiplier's groups=in_channels); a suggested count (the choice `groups`: branches
        # concatenated) is no size, whatever width it happens to equal.
        counted = grouping is not None and grouping.name == "groups"
        role = "width" if groups in (in_ch, out_ch) and not counted else "other"
        args.append(
            Arg("groups", groups, role, f"{prov(node, 'weight', 1)} x groups = input channels")
        )
    if bias is None:
        args.append(flag("bias", False, f"no {prov(node, 'bias')}"))
    type_name = f"nn.ConvTranspose{n}d" if transposed else f"nn.Conv{n}d"
    return Recognised(type_name, args, IOSpec("conv", in_ch, out_ch, n), choices)


DECODER_PART = re.compile(r"(^|\.)(decoder|dec|final_?layer|generator)(\.|$)", re.IGNORECASE)


def _square_in_decoder(w: tuple[int, ...], node: KeyNode) -> bool:
    """A 2-d conv keeping the width at the head of a numbered Sequential inside a decoder."""
    return (
        len(w) == 4 and w[0] == w[1] and node.name == "0" and bool(DECODER_PART.search(node.path))
    )


def _widths_say_transposed(w: tuple[int, ...], ctx: LayerContext, node: KeyNode) -> bool:
    """A bias-free 4-D/5-D weight that only a transposed conv (in = w[0], out = w[1]) fits between
    its neighbours: the norm after it normalises w[1] channels (a conv gives w[0] whatever its
    groups), or the layer before it gives w[0] channels, which no grouping of w[1] reads (DCGAN's
    generator, `ConvTranspose2d(.., bias=False), BatchNorm2d, ReLU`, and its last layer before
    Tanh). With a bias, its length tells already. Only in a numbered Sequential, whose order is
    the order data flows: named neighbours are paired by names (`conv1` beside `bn1`), and a
    pre-activation block's `bn1` normalises the conv's input."""
    if w[0] == w[1] or len(w) < 4 or not is_index(node.name):
        return False
    nxt, prev = ctx.next, ctx.prev
    if nxt is not None and nxt.family == "norm" and nxt.in_width is not None:
        return nxt.in_width == w[1]
    given = (
        prev.out_width
        if prev is not None and prev.family in ("conv", "norm", "activation")
        else None
    )
    return given == w[0] and (given % w[1] != 0 or w[0] % (given // w[1]) != 0)


# Strides a family's code fixes and its config.json does not record, by model_type and layer name
# (ungrouped): Whisper's audio front end keeps the frames in conv1 and halves them in conv2.
FAMILY_STRIDES = {("whisper", "conv1"): 1, ("whisper", "conv2"): 2}


# TF-slim's Inception-ResNet-v2 stem (Cadene's and timm's ports keep its names): conv -> stride.
INCEPTION_RESNET_STEM = {"conv2d_1a.conv": 2, "conv2d_2a.conv": 1, "conv2d_4a.conv": 1}


def _pinned_geometry(
    ctx: LayerContext, node: KeyNode, k: int | None, grouped: bool
) -> tuple[int, int | None, str] | None:
    """(stride, padding or None for half the kernel, why) of a family's stem and downsampling
    convs, where a block pattern pinned the family model-wide (Match.pins, path ""):
    - a MetaFormer (blocks/pool_mixer.py): its 7x7 stem conv reading the image strides 4, padded
      2, and a 3x3 conv widening between stages strides 2 (Yu et al. 2022; sail-sg/poolformer's
      and timm's PatchEmbed / Downsampling);
    - Inception-ResNet-v2 (blocks/inception_residual.py): TF-slim's unpadded stem convs, by
      their names (`conv2d_1a` at stride 2, `conv2d_2a`, `conv2d_4a`);
    - Xception (blocks/xception_block.py): its top-level 3x3 `conv1` reading the image strides 2
      and `conv2` 1, neither padded (Chollet 2017's entry flow; Cadene's and timm's code).
    None elsewhere, or where config.json fixes the stride."""
    weight = node.tensors.get("weight")
    if ctx.stride_note or grouped or weight is None or len(weight.shape) != 4:
        return None
    if ctx.four_by_four is not None:
        return ctx.four_by_four
    out_channels, in_channels = weight.shape[:2]
    metaformer = ctx.resolver.structural.get(("", "metaformer_downsampling"))
    if metaformer is not None and k == 7 and in_channels <= 4:
        return 4, 2, metaformer[1]
    if metaformer is not None and k == 3 and out_channels > in_channels:
        return 2, None, metaformer[1]
    # a network of split-append stages (blocks/split_append_stage.py): Ultralytics' yaml strides
    # each widening 3x3 Conv
    split_append = ctx.resolver.structural.get(("", "split_append_downsampling"))
    if split_append is not None and k == 3 and out_channels > in_channels:
        return 2, None, split_append[1]
    inception = ctx.resolver.structural.get(("", "inception_resnet_stem"))
    if inception is not None and k == 3 and node.path in INCEPTION_RESNET_STEM:
        return INCEPTION_RESNET_STEM[node.path], 0, inception[1]
    xception = ctx.resolver.structural.get(("", "xception_stem"))
    if xception is not None and k == 3 and node.path in ("conv1", "conv2"):
        if node.path == "conv1" and in_channels <= 4:
            return 2, 0, xception[1]
        if node.path == "conv2":
            return 1, 0, xception[1]
    return None


def _conv_geometry(
    ctx: LayerContext,
    node: KeyNode,
    kernel: tuple[int, ...],
    k: int | None,
    choices: list[Choice],
    grouped: bool = False,
) -> list[Arg]:
    """Stride and padding, which the weights do not record. Conventions: even square kernels
    patchify (ViT: stride = kernel, no padding; ConvNeXt's 2x2 downsampling); a 7-wide kernel is an image stem (ResNet: stride 2);
    a residual block that widens, or an encoder mirrored by upsampling layers, halves the resolution.
    """
    args = []
    patchify = k is not None and k >= 2 and k % 2 == 0
    # A video's tubelets: square even patches over one frame or an even run of them (ViViT's and
    # VideoMAE's [2, 16, 16]): stride = kernel too
    tubelet = len(kernel) == 3 and kernel[1] == kernel[2] >= 2 and kernel[1] % 2 == 0
    tubelet = tubelet and k is None and (kernel[0] == 1 or kernel[0] % 2 == 0)
    patch = tuple(kernel) if tubelet else k
    patchify = patchify or tubelet
    # A grouped 7x7 is a ConvNeXt depthwise mixer inside a block, not a stem; a 7-wide 1-d conv
    # is no image stem (HiFi-GAN's and EnCodec's first convs keep the length).
    # A stride config.json fixes (ctx.stride_note) wins over the conventions.
    # Nor is a spatial gate's 7x7 (a weight [1, 2, 7, 7] over each pixel's pooled max and mean,
    # CBAM's, triplet attention's): its map multiplies the input it pooled, at that input's size.
    gate_map = (
        tuple(node.tensors["weight"].shape[:2]) == (1, 2) if "weight" in node.tensors else False
    )
    stem = k == 7 and not grouped and len(kernel) == 2 and not gate_map
    default_stride = (
        ctx.stride if ctx.stride_note else patch if patchify else 2 if stem else ctx.stride
    )
    model_type = ctx.resolver.evidence("model_type")
    known = FAMILY_STRIDES.get((model_type[1], node.name)) if model_type else None
    if known is not None:
        default_stride = known
    pinned = _pinned_geometry(ctx, node, k, grouped)
    if pinned is not None:
        default_stride = pinned[0]
    stride = ctx.resolver.choose(
        node.path,
        "stride",
        default_stride,
        [1, 2] + ([patch] if patchify else []),
        accepts="positive_int",
    )
    if known is not None and stride.source == "default":
        stride.source, stride.note = "metadata", f"{model_type[0]} {model_type[1]!r}"
    elif pinned is not None and stride.source == "default":
        stride.source, stride.note = "structure", pinned[2]
    elif ctx.stride_note and stride.source == "default" and stride.value == ctx.stride != 1:
        stride.source, stride.note = "metadata", ctx.stride_note
    if stride.value != 1 or stride.source != "default":
        args.append(Arg("stride", stride.value, "choice", choice=stride))
    else:
        choices.append(stride)
    # A dilation the structure shows (a block pattern's pin: HiFi-GAN's residual blocks space
    # their taps 1, 3, 5 apart), or one calibration or a hint gives (a pattern over a chain:
    # codegen/calibrate_geometry.py): offered only there; half the dilated kernel keeps the size.
    spaced = ctx.resolver.structural.get((node.path, "dilation"))
    asked = ctx.resolver.asked(node.path, "dilation")
    dilation = 1
    if (spaced is not None or asked is not None) and not patchify:
        spacing = ctx.resolver.choose(
            node.path,
            "dilation",
            1,
            [spaced[0]] if spaced is not None else [],
            "spacing of the kernel taps",
            "positive_int",
        )
        dilation = spacing.value
        if dilation != 1:
            args.append(Arg("dilation", dilation, "choice", choice=spacing))
        else:
            choices.append(spacing)
    halves = tuple(
        0 if patchify else size // 2 if dilation == 1 else dilation * (size - 1) // 2
        for size in kernel
    )
    same = halves[0] if len(set(halves)) == 1 else halves
    told = downsample_padding(ctx, node.path) if ctx.downsampler else None
    if told is None and (not patchify or ctx.padding_note is not None):
        told = _told_padding(ctx, kernel, stride.value, same)
    default = same if told is None else told[1]
    if told is None and pinned is not None and pinned[1] is not None:
        default = pinned[1]
    ported = ctx.resolver.structural.get(("", TF_SAME_PORT))
    ported = ported if told is None and pinned is None and stride.value != 1 else None
    if ported is not None and len(kernel) == 2 and not patchify:
        default = "pad_same"  # a TensorFlow port's strided conv (analyze/strides.py)
    else:
        ported = None
    others = [p for p in (same, 0, 1) if p != default][:1]
    if default in PADDED_FIRST:  # the padding the weights suggest stays open to calibration
        others = [same]
    elif told is None and len(kernel) == 2 and not patchify and stride.value != 1:
        # Networks ported from TensorFlow pad a strided conv 'SAME' (more after than before),
        # which no constructor padding gives: with no config to say so, a candidate.
        others += list(PADDED_FIRST)
    padding = ctx.resolver.choose(
        node.path, "padding", default, others, "half the kernel keeps the size", accepts="size"
    )
    if ctx.standardised and len(kernel) == 2:
        # No key shows it (analyze/weight_standardization.py): dataflow.py standardises the
        # weight wherever the conv is called.
        choices.append(
            ctx.resolver.choose(
                node.path, "weight_standardization", 1e-10, [1e-8, 1e-6, 1e-5, False], WS_NOTE
            )
        )
    if told is not None and padding.source == "default":
        padding.source, padding.note = "metadata", told[0]
    elif pinned is not None and pinned[1] is not None and padding.source == "default":
        padding.source, padding.note = "structure", pinned[2]
    elif ported is not None and padding.source == "default":
        padding.source, padding.note = "structure", ported
    if padding.value in PADDED_FIRST and len(kernel) == 2:
        choices.append(padding)  # the constructor pads nothing: the forward pads first
    elif padding.value != 0 and padding.value not in PADDED_FIRST:
        args.append(Arg("padding", padding.value, "choice", choice=padding))
    elif padding.alternatives:
        choices.append(padding)
    return args


WS_NOTE = (
    "each filter shifted to zero mean and scaled to unit variance when called, the value the "
    "epsilon under its variance (Big Transfer's StdConv2d: 1e-10; timm's BiT models: 1e-8), "
    "False for a plain conv"
)


# The model-wide pin (ChoiceResolver.structural, path "") of analyze/strides.py's
# tf_ported_efficientnet: why its strided convs pad TensorFlow's 'SAME'.
TF_SAME_PORT = "tf_same_port"

# Paddings a conv's constructor cannot express: the forward pads the input first (dataflow.py
# adds the step wherever the conv is called), with the helper of the same name.
PADDED_FIRST = {
    "pad_same": "TensorFlow 'SAME': computed from each input's size",
    "pad_same_even": "Keras' fixed 'SAME' padding for even sizes (correct_pad)",
}


def _told_padding(
    ctx: LayerContext, kernel: tuple[int, ...], stride: object, same: object
) -> tuple[str, object] | None:
    """The padding config.json fixes: a plan (EfficientNet's strided convs), or `tf_padding`
    (MobileNet): TensorFlow's 'SAME', which differs from half the kernel only where the conv
    strides or the kernel is even, and is computed per input there."""
    if ctx.padding_note is not None:
        return ctx.padding_note, ctx.padding
    tf = ctx.resolver.evidence("tf_padding")
    if tf is None or type(tf[1]) is not bool:
        return None
    if tf[1] and len(kernel) == 2 and (stride != 1 or any(k % 2 == 0 for k in kernel)):
        return f"{tf[0]} true: TensorFlow 'SAME' padding, from each input's size", "pad_same"
    if tf[1]:
        return f"{tf[0]} true: TensorFlow 'SAME', half the kernel at stride 1", same
    return f"{tf[0]} false: half the kernel", same


# diffusers' autoencoders give a downsampler's conv no padding and pad its input by (0, 1, 0, 1).
ASYMMETRIC_DOWNSAMPLE = ("AutoencoderKL", "AsymmetricAutoencoderKL", "VQModel")


# The CompVis latent-diffusion code and the repositories built on it (taming-transformers' VQ-GAN,
# the DDPM port pytorch_diffusion, Stable Diffusion's original Encoder) name a level's downsampler
# `downsample` holding `conv` (k3, s2, no padding) and pad its input by (0, 1, 0, 1) first.
LATENT_DIFFUSION_DOWNSAMPLE = re.compile(r"(^|\.)downsample\.conv$")
# openai's improved-diffusion and guided-diffusion: `input_blocks.N.0.op`, k3, s2, padding 1.
OPENAI_DOWNSAMPLE = re.compile(r"(^|\.)input_blocks\.\d+\.\d+\.op$")


def downsample_padding(ctx: LayerContext, path: str = "") -> tuple[str, int] | None:
    """What config.json says a downsampler's conv pads: (the citation, the padding)."""
    told = ctx.resolver.evidence("downsample_padding")
    if told is not None and type(told[1]) is int and 0 <= told[1] <= 1:
        return told
    library = ctx.resolver.evidence("_class_name")
    if library is not None and library[1] in ASYMMETRIC_DOWNSAMPLE:
        return f"{library[0]} {library[1]!r}", 0
    if LATENT_DIFFUSION_DOWNSAMPLE.search(path):
        return "latent diffusion's Downsample (`downsample.conv`) by convention", 0
    if OPENAI_DOWNSAMPLE.search(path):
        return "improved-/guided-diffusion's Downsample (`op`, padding 1) by convention", 1
    return None


def _opens_named(node: KeyNode, pattern: str) -> bool:
    """The first item of a Sequential whose name says what the item is (`deconv.0` in
    `deconv = Sequential(ConvTranspose2d(...), PReLU())`), or of each item of a list so named
    (`deconv_layers.3.0`: yjn870's REDNet, a list of [ConvTranspose2d, ReLU] Sequentials)."""
    parts = node.path.split(".")
    if node.name != "0" or len(parts) < 2:
        return False
    named = parts[-3] if is_index(parts[-2]) and len(parts) > 2 else parts[-2]
    return re.search(pattern, named, re.I) is not None


def _transposed_geometry(
    ctx: LayerContext, node: KeyNode, k: int | None, choices: list[Choice]
) -> list[Arg]:
    """(stride, padding, output_padding) as one choice: they only make sense together. The usual use
    is upsampling by exactly 2: stride 2 with the padding and output padding that give 2x the size.
    """
    if k is None:
        return []
    pad = max(0, (k - 1) // 2)
    up2 = (2, pad, 2 + 2 * pad - k) if 0 <= 2 + 2 * pad - k < 2 else (1, 0, 0)
    default, why = up2, ""
    if ctx.latent_entry:
        # A transposed conv where the model starts reads a latent as a 1x1 map (pytorch/examples'
        # DCGAN: ConvTranspose2d(nz, ngf * 8, 4, 1, 0)): only no padding makes it k x k.
        default, why = (1, 0, 0), "a generator's first layer: the latent as a 1x1 map"
    # (a family pattern's pin: HiFi-GAN's upsampling strides half the kernel)
    pinned = ctx.resolver.structural.get((node.path, "geometry"))
    geometry = ctx.resolver.choose(
        node.path,
        "geometry",
        default,
        [(1, 0, 0), (1, k // 2, 0), (2, 0, 0), up2] + ([pinned[0]] if pinned else []),
        "stride, padding, output_padding",
        # any other the recorded output's size solves for (codegen/calibrate_geometry.py)
        accepts="geometry",
    )
    if why and geometry.source == "default":
        geometry.source, geometry.note = "structure", why
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


# Path segments on the way to where an image enters: the first item, or a stem/encoder by name.
ENTRY = re.compile(
    r"0|conv_?0?1?|conv_in|(conv_)?stem\w*|first\w*|input\w*|embed\w*|patch\w*|enc\w*|"
    r"features|backbone|body|model|net|module|layers?|head\w*|down\w*|in_?conv\w*|inc",
    re.I,
)


def _conv_groups(w: tuple[int, ...], ctx: LayerContext, node: KeyNode) -> tuple[int, Choice | None]:
    """Grouped and depthwise convolutions show only in_channels/groups in the weight; the producer of
    the input tells in_channels. A pointwise (1x1) conv takes no groups from a neighbour: a 1x1
    shortcut beside a wider path is not grouped. Where the producer is outside the class, a weight
    [C, 1, k, k] is depthwise (groups=C) unless its path leads to where an image enters (a grayscale
    stem: first items, stems and encoders): a choice either way, as the weights cannot tell.
    A config.json `groups_width` (RegNet) says how many input channels each group of a spatial conv
    reads: a weight [C, groups_width, k, k] is grouped C / groups_width. Groups the structure
    suggests without proving them (a 1x1 closing concatenated branches) are a choice too."""
    prev = ctx.prev
    pointwise = all(k == 1 for k in w[2:])
    model_type = ctx.resolver.evidence("model_type")
    if model_type is not None and (model_type[1], node.name) in FAMILY_STRIDES:
        return 1, None  # a front end the family's code fixes: plain convs, whatever is beside them
    if ctx.ungrouped:
        return 1, None
    if ctx.planned_groups is not None:  # the width reaching it: layers/conv_groups.py
        return ctx.planned_groups, None
    if ctx.likely_groups is not None:  # suggested, not proven: a choice (layers/conv_groups.py)
        groups, why = ctx.likely_groups
        grouped = ctx.resolver.choose(node.path, "groups", groups, [1], why)
        return grouped.value, grouped
    named = _named_groups(w, ctx, node)
    if named is not None:
        return named, None
    if prev is not None and prev.out_width is not None:
        if pointwise or prev.out_width == w[1]:
            return 1, None
        if prev.out_width % w[1] == 0 and w[0] % (prev.out_width // w[1]) == 0:
            return prev.out_width // w[1], None
        if w[1] != 1:
            return 1, None
        # [C, 1, k, k] cannot read the producer's width whole or in groups: the producer read off
        # the layout is not what feeds it, so it is read as if none were known (below)
    pos_groups = _positional_conv_groups(w, ctx)
    if pos_groups is not None:
        return pos_groups, None
    width = ctx.resolver.evidence("groups_width")  # RegNet's config: channels per group
    if width is not None and not pointwise and w[1] == width[1] < w[0] and w[0] % w[1] == 0:
        return w[0] // w[1], None
    if w[1] != 1 or w[0] == 1 or pointwise:
        return 1, None
    # where an image enters: one input channel by default, as before any depthwise rule (a
    # choice still, so an enclosing pattern that knows better can pin it: a causal depthwise conv)
    stem = all(ENTRY.fullmatch(segment) for segment in node.path.split(".")[:-1])
    stem = stem and not ctx.image_enters_elsewhere
    depthwise = ctx.resolver.choose(
        node.path,
        "depthwise",
        not stem,
        [stem],
        "one input channel per group (groups = channels); false: a single-channel input",
    )
    return (w[0] if depthwise.value else 1), depthwise


def rgb_entries(root: KeyNode) -> set[str]:
    """Paths of the convs where an RGB image enters: a spatial conv reading 3 channels on a
    stem-like path (each segment one ENTRY names: `conv1`, `stem.conv`, `features.0.0`)."""
    found = set()
    for node in root.walk():
        w = node.tensors.get("weight")
        if w is None or node.children or len(w.shape) != 4 or w.shape[1] != 3:
            continue
        if all(ENTRY.fullmatch(segment) for segment in node.path.split(".")[:-1]):
            found.add(node.path)
    return found


FOUR_BY_FOUR = (
    "a stack of 4x4 convs with slots between: each halves the map (stride 2, padding 1), the "
    "last collapses its 4x4 map to 1x1 (stride 1, no padding), as DCGAN's discriminator"
)


def four_by_four_stacks(root: KeyNode) -> dict[str, tuple[int, int, str]]:
    """Conv path -> (stride, padding, why) for the 4x4 convs of a numbered Sequential holding at
    least three and no other spatial conv (1x1 ones may stand anywhere), with parameter-free
    slots (activations) between them: DCGAN's discriminator
    (pytorch/examples: Conv2d(nc, ndf, 4, 2, 1), LeakyReLU, ..., Conv2d(ndf * 8, 1, 4, 1, 0)) and
    1Konny's Beta-VAE encoder write each conv but the last at stride 2, padding 1, and the last
    unpadded at stride 1, from a 4x4 map to 1x1; pix2pix's PatchGAN its last two at stride 1,
    padding 1 (_patch_critic). Whether a 4x4 conv is transposed is known only later, so this
    names every 4-d weight of kernel 4; transposed ones never read it."""
    found: dict[str, tuple[int, int, str]] = {}
    for convs in _four_by_four_convs(root):
        if _patch_critic(convs):
            for i, conv in enumerate(convs):
                found[conv.path] = (2, 1, PATCH_GAN) if i < len(convs) - 2 else (1, 1, PATCH_GAN)
            continue
        for conv in convs[:-1]:
            found[conv.path] = (2, 1, FOUR_BY_FOUR)
        found[convs[-1].path] = (1, 0, FOUR_BY_FOUR)
    return _mirrored_four_by_four(root, found)


PATCH_GAN = (
    "a stack of 4x4 convs ending in a biased one-channel conv: a PatchGAN discriminator "
    "(pix2pix's NLayerDiscriminator): each conv halves the map (stride 2, padding 1) but the last "
    "two, which keep stride 1 and padding 1, one score per overlapping patch"
)


def _patch_critic(convs: list[KeyNode]) -> bool:
    """Whether a 4x4 stack is pix2pix's PatchGAN rather than DCGAN's discriminator: the widths
    and kernels are alike, but junyanz's NLayerDiscriminator (and its copies: CycleGAN's,
    taming-transformers') gives its last conv, one score per patch, a bias, where pytorch/examples'
    DCGAN writes every conv `bias=False`. Not proof: a convention, the strides stay choices."""
    last = convs[-1]
    return last.tensors["weight"].shape[0] == 1 and "bias" in last.tensors and len(convs) >= 3


def _four_by_four_convs(root: KeyNode) -> list[list[KeyNode]]:
    """The 4x4 convs of each numbered Sequential four_by_four_stacks reads, in order."""
    stacks = []
    for node in root.walk():
        names = list(node.children)
        if not names or not all(is_sequential_index(name) for name in names):
            continue
        numbers = sorted(int(name) for name in names)
        kernels = [_conv_kernel(node.children[str(n)]) for n in numbers]
        spatial = [n for n, k in zip(numbers, kernels) if k is not None and set(k) != {1}]
        fours = [n for n, k in zip(numbers, kernels) if k == (4, 4)]
        if len(fours) < 3 or fours != spatial or fours[-1] - fours[0] < 2 * (len(fours) - 1):
            continue  # (every spatial conv a 4x4 one, a slot after each but the last; 1x1 anywhere)
        stacks.append([node.children[str(n)] for n in fours])
    return stacks


CRITIC_SLOPE = (
    "between the convs of a 4x4 stack scoring an image with one channel (a GAN discriminator): "
    "LeakyReLU(0.2), as DCGAN's (Radford et al. 2015) and pix2pix's PatchGAN write it"
)


def critic_stacks(root: KeyNode) -> set[str]:
    """Paths of the numbered Sequentials whose 4x4 stack (four_by_four_stacks) ends in a conv
    giving one channel: a discriminator's score map, whose slots hold LeakyReLU(0.2) by the
    GAN convention (the generators' convs are transposed, their slots ReLU)."""
    return {
        convs[-1].path.rpartition(".")[0]
        for convs in _four_by_four_convs(root)
        if convs[-1].tensors["weight"].shape[0] == 1
    }


MIRRORED = (
    "a 4x4 conv whose transposed mirror upsamples (two 4x4 weights of one shape: a conv c -> c' "
    "and a transposed conv c' -> c): each halves the map, stride 2, padding 1, as the VQ-VAE's "
    "encoder and DCGAN's"
)


def _mirrored_four_by_four(root: KeyNode, found: dict) -> dict[str, tuple[int, int, str]]:
    """`found` plus (2, 1, why) for every other 2-d 4x4 weight where two of them share a shape: an
    autoencoder's downsampling conv and the transposed conv that mirrors it (a conv c -> c' and a
    transposed c' -> c store the same [c', c, 4, 4]), as rosinality's and zalando's VQ-VAEs and
    1Konny's Beta-VAE write them. A lone 4x4 conv (ConvNeXt's stem, a patch embedding) keeps
    the patchify convention."""
    fours = [
        n for n in root.walk() if _conv_kernel(n) == (4, 4) and len(n.tensors["weight"].shape) == 4
    ]
    shapes = [tuple(n.tensors["weight"].shape) for n in fours]
    if len(set(shapes)) == len(shapes):
        return found
    return {n.path: (2, 1, MIRRORED) for n in fours} | _mirrored_ends(root) | found


MIRRORED_ENDS = (
    "a wide odd-kernel conv of a net whose 4x4 convs are mirrored by transposed ones: the mirror "
    "pairs do the resampling and undo each other, so it keeps the resolution, padded by half its "
    "kernel (the c7s1 convs at both ends of Johnson et al. 2016's, CycleGAN's, StarGAN's and "
    "pix2pixHD's generators)"
)


def _mirrored_ends(root: KeyNode) -> dict[str, tuple[int, None, str]]:
    """(1, None, why) for the ungrouped 2-d convs of odd kernel 5 or more in a model whose 4x4
    convs are mirrored (_mirrored_four_by_four): a strided one would leave the output at another
    scale than what the mirrors restore; the 7x7 image-stem convention (stride 2) is a
    classifier's. A depthwise one (a ConvNeXt mixer) is left as it is."""
    found = {}
    for n in root.walk():
        k = _conv_kernel(n)
        w = n.tensors["weight"].shape if k is not None else ()
        if len(w) != 4 or k[0] != k[1] or k[0] < 5 or k[0] % 2 == 0 or w[1] == 1 < w[0]:
            continue
        found[n.path] = (1, None, MIRRORED_ENDS)
    return found


def _conv_kernel(node: KeyNode) -> tuple[int, ...] | None:
    """The kernel of a leaf holding a conv's weight (3-d to 5-d), else None."""
    weight = node.tensors.get("weight")
    if node.children or weight is None or len(weight.shape) not in (3, 4, 5):
        return None
    return tuple(weight.shape[2:])


def latent_entry(root: KeyNode) -> str | None:
    """The path of the model's first layer where it is plain: reached from the root through only
    children and item 0 of numbered lists (`main.0`, a Sequential's first slot), a leaf holding a
    weight. Named members (`conv1`, `fc`) do not say which runs first: None."""
    node = root
    while node.children:
        names = list(node.children)
        if len(names) == 1:
            node = node.children[names[0]]
        elif "0" in names and all(is_index(name) for name in names):
            node = node.children["0"]
        else:
            return None
    return node.path if "weight" in node.tensors and node is not root else None


def _named_groups(w: tuple[int, ...], ctx: LayerContext, node: KeyNode) -> int | None:
    """Groups config.json records by the layer's name: `<name>_groups` for the conv's own name or
    its parent's, or `<initial>_groups` (SqueezeBERT's q_groups for `query`, intermediate_groups
    for `intermediate.conv1d`). A pointwise conv shows no neighbour that could tell them."""
    segments = node.path.split(".")[-2:]
    names = [s for s in reversed(segments) if s.isidentifier()]
    names += [node.name[0]] if node.name[:1].isalpha() else []
    for name in names:
        said = ctx.resolver.metadata.get(f"{name}_groups")
        if said is None or type(said[1]) is not int or said[1] < 1 or w[0] % said[1]:
            continue
        return ctx.resolver.evidence(f"{name}_groups")[1]
    return None


def _positional_conv_groups(w: tuple[int, ...], ctx: LayerContext) -> int | None:
    """A speech encoder's positional conv (config.json `num_conv_pos_embedding_groups` G beside
    `hidden_size` H): a 1-D weight [H, H / G, k] is grouped G."""
    groups = ctx.resolver.evidence("num_conv_pos_embedding_groups")
    width = ctx.resolver.evidence("hidden_size")
    if groups is None or width is None or type(groups[1]) is not int or len(w) != 3:
        return None
    if groups[1] > 1 and w[0] == width[1] and w[1] * groups[1] == width[1]:
        return groups[1]
    return None


class ConvNd(LayerPattern):
    """Conv1d/2d/3d and their transposed forms: one class, the rank from the weight."""

    role = "ConvNd"

    def recognise(self, node, ctx: LayerContext) -> Recognised | None:
        return conv(node, ctx)

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn

        return [
            Example(nn.Conv2d(3, 8, 3, padding=1), (torch.randn(2, 3, 9, 9),)),
            Example(nn.Conv1d(4, 6, 5, padding=2, bias=False), (torch.randn(2, 4, 11),)),
            Example(nn.ConvTranspose2d(8, 4, 4, stride=2, padding=1), (torch.randn(2, 8, 5, 5),)),
        ]
