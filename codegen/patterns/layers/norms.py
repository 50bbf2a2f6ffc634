"""Normalisation layers: BatchNorm/InstanceNorm with running statistics, affine norms (LayerNorm,
GroupNorm, stat-free BatchNorm), and a lone weight (RMSNorm, bias-free LayerNorm, PReLU).
"""

from __future__ import annotations

import re

from typing import TYPE_CHECKING

from codegen.ir import Arg, IOSpec
from codegen.patterns._kit import (
    broadcast_vector,
    channel_map_vector,
    BATCH_NORM_EPS_TRIED,
    grn_named,
    EPS_SYNONYMS,
    Example,
    LayerContext,
    LayerPattern,
    Recognised,
    eps_arg,
    latent_norm_eps,
    eps_args,
    flag,
    hinted,
    names,
    prov,
    shape,
    type_choice,
)
from codegen.safetext import is_index

if TYPE_CHECKING:
    from codegen.keytree import KeyNode

BN_KEYS = {"running_mean", "running_var"}
# The note of a norm read as a GroupNorm under a batch norm's name (affine_norm): a guess the
# class says it rests on (analyze's _flag_guessed_norm_types).
BN_NAMED_GROUP_NORM = "a batch norm's name, no running statistics"
# A layer norm's names: `ln_1`, `ln_f`, `LayerNorm`, `input_layernorm`, `layer_norm`.
LAYER_NORM_NAME = r"^ln|layer_?norm|ln_?\d*$"
GROUP_SYNONYMS = ("norm_num_groups", "groups", "gn_groups")
# Families whose lone-weight `layer_norm` is an RMSNorm (T5's LayerNorm: no mean, no bias), though
# their config.json names the eps `layer_norm_epsilon`.
RMS_TYPES = ("t5", "mt5", "umt5", "longt5", "switch_transformers", "pop2piano", "udop")
# ... and the state-space families' (Mamba's RMSNorm reads layer_norm_epsilon too; dec8)
RMS_TYPES += ("mamba", "falcon_mamba", "mamba2")
RMS_TYPES += ("nemotron_h",)  # ssm9: NemotronH's RMSNorms read layer_norm_epsilon
# moe10: ImageGPT's ImageGPTLayerNorm divides by the root mean square (no mean, no bias)
RMS_TYPES += ("imagegpt",)
# Families whose weight-only norms are LayerNorms without a bias, with no eps key in config.json
# (DBRX's nn.LayerNorm(d_model, bias=False); tests/test_mix_9.py checks the library's modules)
LAYER_NORM_TYPES = ("dbrx",)


# The model-wide pin (ChoiceResolver.structural, path "") analyze/structure.py sets where the
# model holds norms without running statistics named as norms beside its batch norms: config.json's
# layer_norm_eps is then theirs (Lasr's Conformer: LayerNorms at 1e-6, its convolution module's
# BatchNorm1d at PyTorch's 1e-5), and a batch norm reads only a batch norm's spellings. A model of
# batch norms alone may pass layer_norm_eps to them (MobileNet v1 and v2's code does).
LAYER_NORMS_BESIDE = "layer_norms_beside_batch_norms"
BATCH_NORM_SPELLINGS = {"eps": ("batch_norm_eps", "batch_norm_epsilon")}
NORM_NAME = re.compile(r"(.*_)?(layer_?norm|norm|ln)(_.*|\d*)", re.I)


def layer_norms_beside_batch_norms(root: KeyNode) -> bool:
    """Whether the model holds batch norms and, beside them, leaf norms without running statistics
    (a 1-D weight, perhaps a bias of its shape, under a norm's name)."""
    batch = layer = False
    for node in root.walk():
        found = set(node.tensors)
        if node.children or not found:
            continue
        if BN_KEYS <= found:
            batch = True
        elif found in ({"weight"}, {"weight", "bias"}) and NORM_NAME.fullmatch(node.name):
            shapes = {node.tensors[k].shape for k in found}
            layer = layer or (len(shapes) == 1 and len(next(iter(shapes))) == 1)
    return batch and layer


def batchnorm(node: KeyNode, ctx: LayerContext) -> Recognised | None:
    found = names(node)
    if (
        node.children
        or not BN_KEYS <= found
        or not found <= BN_KEYS | {"weight", "bias", "num_batches_tracked"}
    ):
        return None
    c = shape(node, "running_mean")
    if len(c) != 1 or any(shape(node, k) != c for k in found & {"running_var", "weight", "bias"}):
        return None
    if ("weight" in found) != ("bias" in found):
        return None
    n = _norm_dims(ctx)
    instance = hinted(node, r"instance|^in\d*$|inorm")
    default = f"nn.InstanceNorm{n}d" if instance else f"nn.BatchNorm{n}d"
    # The dimensionality follows the neighbouring layer; without one it is a guess worth showing.
    told = _neighbour_told(ctx)
    others = [] if told else [f"nn.BatchNorm{k}d" for k in (1, 2, 3)]
    choice = type_choice(ctx, node, default, others, "running statistics")
    args = [Arg(None, c[0], "width", prov(node, "running_mean", 0))]
    # One eps for every batch norm of the model, as models keep it (1e-3 in networks ported from
    # TensorFlow): a model-wide choice calibration settles in one move; each layer's own eps
    # (hints) still overrides it.
    convention = ctx.resolver.choose(
        "",
        "batch_norm_eps",
        1e-5,
        [e for e in BATCH_NORM_EPS_TRIED if e != 1e-5],
        "every batch norm's eps",
        accepts="unit_float",
    )
    searchable = [convention]
    # Once calibration has moved the convention, a layer may still keep another eps (PyTorch-GAN's
    # generators: BatchNorm2d(c) first, then BatchNorm2d(c, 0.8)): each layer's is searched too.
    apart = searchable if convention.source == "calibrated" else None
    apart_from_layer_norms = ctx.resolver.structural.get(("", LAYER_NORMS_BESIDE))
    with ctx.resolver.within(BATCH_NORM_SPELLINGS if apart_from_layer_norms else {}):
        found_eps = eps_arg(
            ctx, node, searchable=apart, tried=BATCH_NORM_EPS_TRIED, convention=convention
        )
    if found_eps:
        args.append(found_eps)
    affine_default = not instance
    if ("weight" in found) != affine_default:
        args.append(flag("affine", "weight" in found, prov(node, "weight")))
    if instance:
        args.append(flag("track_running_stats", True, prov(node, "running_mean")))
    return Recognised(choice.value, args, IOSpec("norm", c[0], c[0], n), [choice] + searchable)


def _neighbour_told(ctx: LayerContext) -> bool:
    return any(
        io is not None and io.family in ("conv", "linear", "embedding", "rnn")
        for io in (ctx.prev, ctx.next)
    )


def _norm_dims(ctx: LayerContext) -> int:
    for io in (ctx.prev, ctx.next):
        if io is not None and io.family == "conv" and io.ndim:
            return io.ndim
        if io is not None and io.family in ("linear", "embedding", "rnn"):
            return 1
    return 2


# config.json's `feat_extract_norm` (wav2vec2 and the speech models built like it): the norm after
# each 1-D conv of the feature encoder; "group" normalises each channel over time (the first layer
# only), "layer" each frame over the channels.
FEATURE_ENCODER_NORMS = {"group": "nn.GroupNorm", "layer": "nn.LayerNorm"}


def _feature_encoder_norm(ctx: LayerContext) -> tuple[str, str] | None:
    """(citation, norm type) for a norm after a 1-D conv where config.json describes a speech
    feature encoder (the type "" where it does not name it); else None."""
    if ctx.prev is None or ctx.prev.family != "conv" or ctx.prev.ndim != 1:
        return None
    told = ctx.resolver.evidence("feat_extract_norm")
    if told is not None and told[1] in FEATURE_ENCODER_NORMS:
        return f"{told[0]} {told[1]!r}", FEATURE_ENCODER_NORMS[told[1]]
    speech = ctx.resolver.evidence("conv_stride")  # Data2VecAudio: LayerNorms, by their names
    return (f"{speech[0]}: a speech feature encoder", "") if speech is not None else None


# The group norms of the CompVis latent-diffusion layout (taming's VQ-GAN, the DDPM port
# pytorch_diffusion, Stable Diffusion's original autoencoder): `Normalize` is
# GroupNorm(32, eps=1e-6) in every resnet block (`down.N.block.M.norm1`), attention
# (`mid.attn_1.norm`) and before conv_out (`norm_out`; diffusers calls its own `conv_norm_out`).
LATENT_DIFFUSION_NORM = re.compile(
    r"(^|\.)((down|up)\.\d+\.(block|attn)\.\d+\.norm\d?|mid\.(block|attn)_\d+\.norm\d?|norm_out)$"
)


def _latent_diffusion_eps(ctx: LayerContext, node: KeyNode) -> Arg:
    c = ctx.resolver.choose(node.path, "eps", 1e-6, [1e-5], accepts="unit_float")
    if c.source == "default":
        c.source = "metadata"
        c.note = "latent diffusion's Normalize (GroupNorm eps 1e-6) by convention"
    return Arg("eps", c.value, "choice", choice=c)


def scale_shift_only(resolver) -> bool:
    """config.json's normalization_type "no_norm" (MobileBERT's NoNorm): the modules that hold a
    norm's weight and bias compute `x * weight + bias`, with no statistics."""
    said = resolver.metadata.get("normalization_type")
    return said is not None and said[1] == "no_norm"


def affine_norm(node: KeyNode, ctx: LayerContext) -> Recognised | None:
    """weight + bias of one shape: LayerNorm, GroupNorm, InstanceNorm(affine) or stat-free BatchNorm."""
    found = names(node)
    if node.children or found != {"weight", "bias"}:
        return None
    w = shape(node, "weight")
    if shape(node, "bias") != w or not w:
        return None
    # [1, ..., 1, C], or named so: a global response norm (blocks/global_response_norm.py).
    if broadcast_vector(w) or grn_named(node.name):
        return None
    if channel_map_vector(w):  # [1, C, 1, 1]: a class computes it (blocks/spatial_group_enhance.py)
        return None
    if len(w) == 1 and scale_shift_only(ctx.resolver):
        return None  # config.json: the "norms" only scale and shift (blocks/scale_shift.py)
    said = ctx.resolver.metadata.get("normalization_type")
    if said is not None and said[1] == "layer_norm":
        ctx.resolver.evidence("normalization_type")  # what this layer is
    args_ln = [Arg(None, w[0] if len(w) == 1 else tuple(w), "width", prov(node, "weight"))]
    after_conv = ctx.prev is not None and ctx.prev.family == "conv"
    # config.json's group count for the model's norms (diffusers' norm_num_groups) says they group.
    # Not inside a transformer block (diffusers' transformer_blocks: layer norms over tokens), nor
    # in the pooling of a text encoder's tokens a U-Net adds to its time embedding (add_embedding).
    tokens = re.search(r"(^|\.)(transformer_blocks|add_embedding)\.", node.path) is not None
    groups_told = (
        ctx.resolver.evidence("norm_num_groups") is not None
        and not tokens
        and not any(
            io is not None and io.family in ("linear", "embedding") for io in (ctx.prev, ctx.next)
        )
    )
    speech = _feature_encoder_norm(ctx) if after_conv and len(w) == 1 else None
    if len(w) > 1:
        default = "nn.LayerNorm"
    elif speech is not None and speech[1]:
        default = speech[1]
    elif hinted(node, r"^gn|group"):
        default = "nn.GroupNorm"
    elif hinted(node, LAYER_NORM_NAME):
        default = "nn.LayerNorm"
    elif hinted(node, r"^bn|batch") and after_conv:
        # A batch norm's name on a scale and shift with no running statistics, after a conv:
        # a batch norm without them would normalise by the batch at inference, which no
        # trained model ships; the name is the slot's (torchvision's and timm's ResNets build
        # `bn1` from `norm_layer`, which resnet50_gn and detectron's GN configs make a GroupNorm).
        default = "nn.GroupNorm"
    elif hinted(node, r"^bn|batch"):
        default = "nn.BatchNorm"
    elif hinted(node, r"^in(\d+|_?norm\d*)?$|^instance|_in\d*$") and after_conv:
        default = "nn.InstanceNorm"  # `in1`, `instance_norm`, `norm_in` (pix2pix, SRResNet ports)
    elif ctx.after_patchify and not groups_told:
        default = "nn.LayerNorm"
    elif after_conv or (ctx.next is not None and ctx.next.family == "conv") or groups_told:
        default = "nn.GroupNorm"
    elif hinted(node, r"prelu"):
        return None
    else:
        default = "nn.LayerNorm"
    # Named a layer norm among token layers (no conv on either side): the name is the type. A
    # GroupNorm, BatchNorm or InstanceNorm there would normalise over the tokens' axis; offered,
    # they cost a calibration eight candidates a norm each round, every one failing to run.
    among_tokens = not after_conv and not (ctx.next is not None and ctx.next.family == "conv")
    named_layer_norm = among_tokens and hinted(node, LAYER_NORM_NAME)
    alternatives = ["nn.LayerNorm"] + (
        ["nn.GroupNorm", "nn.BatchNorm", "nn.InstanceNorm"]
        if len(w) == 1 and not named_layer_norm
        else []
    )
    bn_named = default == "nn.GroupNorm" and hinted(node, r"^bn|batch")
    note = BN_NAMED_GROUP_NORM if bn_named else "weight and bias of one shape"
    choice = type_choice(ctx, node, default, alternatives, note)
    # A block pattern's model-wide pin (Match.pins, path ""): every such norm of the model
    # normalises a whole map in one group (PoolFormer's GroupNorm(1), blocks/pool_mixer.py).
    one_group = ctx.resolver.structural.get(("", "map_norm_one_group")) if len(w) == 1 else None
    if one_group is not None and choice.source == "default" and choice.value != "nn.GroupNorm":
        choice.alternatives = [
            a for a in [choice.value, *choice.alternatives] if a != "nn.GroupNorm"
        ]
        choice.value, choice.source, choice.note = "nn.GroupNorm", "structure", one_group[1]
    if groups_told and choice.source == "default" and choice.value == "nn.GroupNorm":
        choice.source, choice.note = "metadata", ctx.resolver.evidence("norm_num_groups")[0]
    if speech is not None and speech[1] and choice.source == "default":
        choice.source, choice.note = "metadata", speech[0]
    c = w[0]
    if choice.value == "nn.GroupNorm":
        divisors = [g for g in (1, 2, 4, 8, 16, 32, 64) if c % g == 0]
        each = speech is not None and speech[1] == "nn.GroupNorm"  # one group per channel
        groups = ctx.resolver.choose(
            node.path,
            "num_groups",
            c if each else 32 if c % 32 == 0 else max(divisors),
            sorted(set(divisors) | {c}),
        )
        if each and groups.source == "default" and groups.value == c:
            groups.source, groups.note = "metadata", speech[0]
        if one_group is not None and groups.source == "default" and groups.value != 1:
            groups.alternatives = [g for g in [groups.value, *groups.alternatives] if g != 1]
            groups.value, groups.source, groups.note = 1, "structure", one_group[1]
        # A block pattern's model-wide group count (lucidrains' Block: GroupNorm(8) in every
        # resnet block, blocks/time_scaled_resnet_block.py), where it divides the width.
        count = ctx.resolver.structural.get(("", "map_norm_groups"))
        if count is not None and groups.source == "default" and groups.value != count[0]:
            if c % count[0] == 0:
                groups.alternatives = [
                    g for g in [groups.value, *groups.alternatives] if g != count[0]
                ]
                groups.value, groups.source, groups.note = count[0], "structure", count[1]
        args = [
            Arg(None, groups.value, "choice", choice=groups),
            Arg(None, c, "width", prov(node, "weight", 0)),
        ]
        eps = [] if speech else eps_args(ctx, node)
        if not speech and not eps and LATENT_DIFFUSION_NORM.search(node.path):
            eps = [_latent_diffusion_eps(ctx, node)]
        return Recognised(
            "nn.GroupNorm",
            args + eps,
            IOSpec("norm", c, c, ctx.prev.ndim if after_conv else 2),
            [choice],
        )
    if choice.value in ("nn.BatchNorm", "nn.InstanceNorm"):
        n = _norm_dims(ctx)
        extra = (
            [flag("track_running_stats", False, f"no {prov(node, 'running_mean')}")]
            if choice.value == "nn.BatchNorm"
            else [flag("affine", True, prov(node, "weight"))]
        )
        return Recognised(
            f"{choice.value}{n}d",
            [Arg(None, c, "width", prov(node, "weight", 0))] + eps_args(ctx, node) + extra,
            IOSpec("norm", c, c, n),
            [choice],
        )
    searchable: list = []  # a LayerNorm's eps stays a choice calibration may settle
    # the feature encoder's norms keep torch's eps whatever layer_norm_eps says (wav2vec2's code)
    eps = [] if speech else eps_args(ctx, node, searchable, model_wide="layer_norm_eps")
    return Recognised(
        "nn.LayerNorm", args_ln + eps, IOSpec("norm", w[-1], w[-1]), [choice] + searchable
    )


def weight_only_norm(node: KeyNode, ctx: LayerContext) -> Recognised | None:
    """A lone 1-D (or N-D) `weight`: RMSNorm, bias-free LayerNorm, or PReLU's slopes."""
    if node.children or names(node) != {"weight"}:
        return None
    w = shape(node, "weight")
    if len(w) != 1 or w[0] < 1:
        return None
    if hinted(node, r"time_proj|fourier_proj|fourier"):  # frequencies (blocks/fourier_features.py)
        return None
    # A numbered slot between two spatial convs (Real-ESRGAN's SRVGGNetCompact `body` list), or
    # after one at the end of its Sequential (FSRCNN's `Sequential(Conv2d, PReLU)` parts): a
    # per-channel weight there is PReLU's slopes; a norm without a bias over a feature map's last
    # axis (what nn.LayerNorm/RMSNorm(C) would compute on [N, C, H, W]) is not a conv net's layer.
    between_convs = all(
        io is not None and io.family == "conv" and (io.ndim or 0) >= 2
        for io in (ctx.prev, ctx.next if ctx.next is not None else ctx.prev)
    )
    # One value in a numbered slot after a layer over a feature map: nn.PReLU()'s single slope
    # (sgrvinod's SRResNet `Sequential(conv, BN, PReLU())`); a norm over one feature is no norm.
    one_slope = (
        w[0] == 1
        and is_index(node.name)
        and ctx.prev is not None
        and ctx.prev.family in ("conv", "norm")
        and (ctx.prev.ndim or 0) >= 2
    )
    if hinted(node, r"prelu|act") or (between_convs and is_index(node.name)) or one_slope:
        return Recognised(
            "nn.PReLU",
            [Arg("num_parameters", w[0], "width", prov(node, "weight", 0))],
            # one slope shared by every channel (nn.PReLU()'s default) fits any width
            IOSpec("activation", *((None, None) if w[0] == 1 else (w[0], w[0]))),
        )
    # nanoGPT's bias-free `ln_1` is a LayerNorm; a `*layernorm` / `layer_norm` name says nothing:
    # LLaMA's `input_layernorm` and T5's `layer_norm` hold lone weights and are RMSNorms.
    default = "nn.LayerNorm" if hinted(node, r"^ln") and not hinted(node, r"rms") else "nn.RMSNorm"
    # config.json says which: an `rms_norm_eps` means RMSNorm, a `layer_norm_eps` LayerNorm.
    rms = ctx.resolver.evidence("rms_norm_eps")
    ln = ctx.resolver.evidence("layer_norm_eps", "layer_norm_epsilon")
    cite = rms[0] if rms else ln[0] if ln else ""
    if cite:
        default = "nn.RMSNorm" if rms else "nn.LayerNorm"
    # dec11: a switch for the norms' bias is a LayerNorm's (ModernBERT's norm_bias false: no bias)
    switch = ctx.resolver.evidence("norm_bias") if not cite else None
    if switch is not None and switch[1] is False:
        default, cite = "nn.LayerNorm", f"{switch[0]} false: a LayerNorm's bias switched off"
    model_type = ctx.resolver.evidence("model_type")
    if model_type is not None and model_type[1] in RMS_TYPES:
        default, cite = "nn.RMSNorm", f"{model_type[0]} {model_type[1]!r}"
    if model_type is not None and model_type[1] in LAYER_NORM_TYPES:
        default, cite = "nn.LayerNorm", f"{model_type[0]} {model_type[1]!r}"
    choice = type_choice(ctx, node, default, ["nn.RMSNorm", "nn.LayerNorm"], "a lone 1-D weight")
    if cite and choice.source == "default":
        choice.source, choice.note = "metadata", cite
    args = [Arg(None, w[0], "width", prov(node, "weight", 0))]
    searchable: list = []  # eps left at its default stays a choice calibration may settle
    if choice.value == "nn.LayerNorm":
        args.append(flag("bias", False, f"no {prov(node, 'bias')}"))
        args += eps_args(ctx, node, searchable)
    else:
        c = ctx.resolver.choose(
            node.path,
            "eps",
            None,
            [1e-6, 1e-5],
            "None uses the dtype's machine epsilon",
            accepts="unit_float",
        )
        latent_norm_eps(ctx, node, c)
        if c.source != "default":
            args.append(Arg("eps", c.value, "choice", choice=c))
        else:
            searchable.append(c)
    return Recognised(choice.value, args, IOSpec("norm", w[0], w[0]), [choice] + searchable)


class BatchNorm(LayerPattern):
    role = "BatchNorm"
    synonyms = EPS_SYNONYMS

    def recognise(self, node, ctx: LayerContext) -> Recognised | None:
        return batchnorm(node, ctx)

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn

        return [Example(nn.BatchNorm2d(4), (torch.randn(2, 4, 5, 5),))]


class AffineNorm(LayerPattern):
    role = "AffineNorm"
    synonyms = {**EPS_SYNONYMS, "num_groups": GROUP_SYNONYMS}

    def recognise(self, node, ctx: LayerContext) -> Recognised | None:
        return affine_norm(node, ctx)

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn

        return [Example(nn.LayerNorm(8), (torch.randn(2, 3, 8),))]


class WeightOnlyNorm(LayerPattern):
    role = "WeightOnlyNorm"
    synonyms = EPS_SYNONYMS

    def recognise(self, node, ctx: LayerContext) -> Recognised | None:
        return weight_only_norm(node, ctx)

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn

        return [Example(nn.RMSNorm(8), (torch.randn(2, 3, 8),))]
