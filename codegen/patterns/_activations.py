"""The one activation vocabulary: what a choice named `activation` may hold, and how each applies.

Block patterns add the function to a forward graph (`apply`); numbered slots without tensors offer
the module forms (`MODULES`). Names follow torch.nn.functional; `identity` applies nothing.
"""

from __future__ import annotations

from codegen.ir.graph import Graph, Value

# name -> the printer's function-table entry (None: nothing to apply)
FUNCTIONS: dict[str, str | None] = {
    "relu": "relu",
    "relu6": "relu6",
    "gelu": "gelu",
    "silu": "silu",
    "tanh": "tanh",
    "sigmoid": "sigmoid",
    "hardswish": "hardswish",
    "hardsigmoid": "hardsigmoid",
    "identity": None,
    "gelu_tanh": "gelu",  # with approximate="tanh" (see apply)
    "quick_gelu": None,  # x * sigmoid(1.702 * x) (see apply)
    "leaky_relu": "leaky_relu",  # negative slope 0.2, as ESRGAN-style nets use it (see apply)
    "leaky_relu_0.1": "leaky_relu",  # slope 0.1: Darknet/YOLO conv blocks, basicsr MSRResNet
    "leaky_relu_0.05": "leaky_relu",  # IMDN's (Zheng222/IMDN block.py activation('lrelu'))
    "leaky_relu_0.01": "leaky_relu",  # torch's default slope: nn.LeakyReLU() (VAEs, SwinIR tails)
    "relu_squared": None,  # relu(x) ** 2, Primer's squared ReLU (Nemotron, Persimmon; see apply)
    "mish": "mish",
    "clamp": None,  # clamp(x, 0, 1): huawei-noah's original GhostNet gate (see apply)
    "elu": "elu",  # Clevert et al. 2016: BEGAN's and many Keras-era autoencoders' activation
    "leaky_relu_0.3": "leaky_relu",  # Keras' LeakyReLU() default slope (alpha=0.3), in ports
}
# The module form of each, for numbered slots of a Sequential that hold no tensors.
MODULES: dict[str, str] = {
    "relu": "nn.ReLU()",
    "relu6": "nn.ReLU6()",
    "gelu": "nn.GELU()",
    "tanh": "nn.Tanh()",
    "silu": "nn.SiLU()",
    "sigmoid": "nn.Sigmoid()",
    "identity": "nn.Identity()",
    "hardswish": "nn.Hardswish()",
    "mish": "nn.Mish()",
    "leaky_relu_0.1": "nn.LeakyReLU(0.1)",
    "leaky_relu": "nn.LeakyReLU(0.2)",  # GAN discriminators, ESRGAN
    "leaky_relu_0.01": "nn.LeakyReLU()",
    "leaky_relu_0.05": "nn.LeakyReLU(0.05)",
    "elu": "nn.ELU()",
    "leaky_relu_0.3": "nn.LeakyReLU(0.3)",
}
GATES = ["sigmoid", "hardsigmoid", "clamp"]  # squashing functions that gate a signal into [0, 1]

# Metadata spellings of the activation choice (Hugging Face configs, trainers).
SYNONYMS = {
    "activation": (
        "activation",
        "hidden_activation",  # Gemma's: it wins over hidden_act where both are given
        "hidden_act",
        "activation_function",
        "act",
        "act_fn",
        "dense_act_fn",
        "gelu_activation",  # XLM's switch: gelu, else relu (ALIASES)
        "ff_activation",  # XLNet's feed-forward
        "mlp_hidden_act",  # ssm9: NemotronH's, beside mamba_hidden_act (its scan's)
    )
}


# Hugging Face `hidden_act` / `activation_function` spellings of the names above.
ALIASES = {
    "gelu_new": "gelu_tanh",
    "gelu_pytorch_tanh": "gelu_tanh",
    "gelu_fast": "gelu_tanh",
    "swish": "silu",
    "quickgelu": "quick_gelu",
    "linear": "identity",
    "relu2": "relu_squared",
    "gelu_python": "gelu",  # transformers' erf GELU written out (SEW-D's default; audio11)
    "leaky_relu": "leaky_relu_0.01",  # transformers' ACT2FN: nn.LeakyReLU() (slope 0.01)
    ("gelu_activation", True): "gelu",
    ("gelu_activation", False): "relu",
}

# Families whose code fixes the feed-forward activation instead of naming it in config.json
# (CTRL's point_wise_feed_forward_network: Linear, ReLU, Linear; modeling_ctrl.py; LFM2's and
# LFM2-MoE's gated feed-forwards call F.silu).
FIXED = {"bloom": "gelu_tanh", "ctrl": "relu", "lfm2": "silu", "lfm2_moe": "silu"}
# Families whose config.json names it under a key of their own, in their own spelling (OpenAI
# GPT's `afn`: its "gelu" is the tanh approximation).
OWN_KEY = {"openai-gpt": ("afn", {"gelu": "gelu_tanh", "swish": "silu", "relu": "relu"})}

# What a hidden activation usually is, in the order calibration tries them.
COMMON = ["relu", "gelu", "silu", "tanh", "identity"]
TRANSFORMER = [
    "gelu",
    "gelu_tanh",
    "relu",
    "silu",
    "quick_gelu",
    "relu_squared",
]  # feed-forward activations


def feed_forward(default: str, told=None, *, common: bool = False) -> list[str]:
    """A transformer feed-forward's alternatives to `default` (`common`: plain MLPs' tanh and
    identity too); with `told` (a ChoiceResolver), also the activation config.json names where the
    vocabulary holds it (BERT's hidden_act "tanh"), so the evidence is used, never left a guess."""
    names = TRANSFORMER + (COMMON if common else [])
    out = [n for n in dict.fromkeys(names) if n != default]
    key = next((k for k in SYNONYMS["activation"] if told and k in told.metadata), None)
    value = told.metadata[key][1] if key is not None else None
    name = ALIASES.get(value, value) if isinstance(value, str) else None
    # (never the vocabulary's leaky_relu, slope 0.2: Hugging Face's "leaky_relu" is 0.01's alias)
    if name in FUNCTIONS and name not in (default, "leaky_relu") and name not in out:
        out.append(name)
    return out


# Conv nets' activations beyond the common ones (MobileNetV2's relu6, MobileNetV3's hard-swish):
# a conv block's activation may be any of them, so a hint naming one fits every pattern that
# competes for the block. LeakyReLU(0.2) is GANs' and ESRGAN-style nets' (VDSR-like stems too).
CONV = ["relu6", "hardswish", "mish", "leaky_relu_0.1", "leaky_relu_0.01", "leaky_relu"]


def alternatives(default: str, *, gates: bool = False, told=None, conv: bool = False) -> list[str]:
    """The usual alternatives (`conv`: with conv nets' own); with `told` (a ChoiceResolver), also
    the activation config.json names where it is a less common one, so the evidence is used."""
    out = [n for n in (GATES if gates else COMMON + (CONV if conv else [])) if n != default]
    if told is None or gates:
        return out
    # Peeked, not consumed: the choice consumes the key when the value fits, and a name outside
    # this vocabulary stays unconsumed, so the file says the activation is a guess.
    key = next((k for k in SYNONYMS["activation"] if k in told.metadata), None)
    value = told.metadata[key][1] if key is not None else None
    name = ALIASES.get(value, value) if isinstance(value, str) else None
    if name in FUNCTIONS and name != default and name not in out:
        out.append(name)
    return out


# Where a library's code fixes an activation whatever config.json's act_fn says: by config.json's
# _class_name, the role of the class applying it. diffusers' UNet2DModel runs SiLU in its time
# embedding and before conv_out, its autoencoders before their encoder's and decoder's conv_out;
# their resnets follow act_fn. (UNet2DConditionModel follows act_fn everywhere.)
_DIFFUSERS_CODERS = {"ConvEncoder": "silu", "ConvDecoder": "silu"}
FIXED_BY_CLASS = {
    "UNet2DModel": {"TimeEmbedding": "silu", "UNet": "silu"},
    "AutoencoderKL": _DIFFUSERS_CODERS,
    "VQModel": _DIFFUSERS_CODERS,
    "AsymmetricAutoencoderKL": _DIFFUSERS_CODERS,
}


def fixed_by_class(resolver, choice, role: str) -> None:
    """Settle an activation choice config.json's act_fn set (or left at its default) where the
    library's class fixes it for this role (FIXED_BY_CLASS): the value and its citation."""
    name = resolver.metadata.get("_class_name")
    fixed = FIXED_BY_CLASS.get(name[1], {}).get(role) if name is not None else None
    if fixed is None or choice.source not in ("default", "metadata") or choice.value == fixed:
        return
    old, choice.value = choice.value, fixed
    choice.alternatives = [old] + [a for a in choice.alternatives if a not in (old, fixed)]
    choice.source, choice.note = "metadata", f"config.json _class_name {name[1]!r} fixes it"


def apply(g: Graph, activation: str, value: Value, **options) -> Value:
    """`value` through `activation`; unchanged for identity."""
    if activation == "gelu_tanh":
        return g.call_function("gelu", value, kwargs={"approximate": "tanh"}, **options)
    if activation == "quick_gelu":
        scaled = g.call_function("mul", 1.702, value, inline=True)
        gate = g.call_function("sigmoid", scaled, inline=True)
        return g.call_function("mul", value, gate, **options)
    if activation == "relu_squared":
        relu = g.call_function("relu", value, inline=True)
        return g.call_function("torch.square", relu, **options)
    if activation == "clamp":
        return g.call_function("torch.clamp", value, 0.0, 1.0, **options)
    if activation == "log_softmax":  # a classifier's log-probabilities over its last axis
        return g.call_function("log_softmax", value, kwargs={"dim": -1}, **options)
    if activation.startswith("leaky_relu"):
        slope = float(activation[len("leaky_relu_") :]) if activation != "leaky_relu" else 0.2
        return g.call_function("leaky_relu", value, slope, **options)
    fn = FUNCTIONS.get(activation)
    if fn is None:
        return value
    return g.call_function(fn, value, **options)


def holds(slot, activation: str) -> bool:
    """A keyless slot (a placeholder Module) whose layer is `activation`'s module form: a forward
    that applies `activation` where the slot sits calls the slot instead, so the layer the file
    registers is the one that computes, never a second copy beside an F call."""
    if slot is None or slot.kind != "placeholder" or not slot.choices:
        return False
    return slot.choices[0].value == MODULES.get(activation)


# Families whose residual blocks keep a fixed activation between their conv layers while
# config.json's hidden_act runs after each block's sum (and in the stem): transformers' ResNet
# builds its blocks' first ResNetConvLayers without an activation argument, so with their default
# "relu" (modeling_resnet.py), whatever hidden_act says.
INSIDE_BLOCKS = {"resnet": "relu"}


def inside_blocks(ctx, cls, where: str, after_sum):
    """A second activation choice, between a residual block's conv layers, where config.json's
    model_type fixes it apart from `after_sum` (the block's activation choice, read from
    hidden_act); None where one activation runs in both places. `ctx` a BlockContext."""
    model_type = ctx.resolver.evidence("model_type") if after_sum.source == "metadata" else None
    fixed = INSIDE_BLOCKS.get(model_type[1]) if model_type else None
    if fixed is None or fixed == after_sum.value:
        return None
    between = ctx.choose(
        cls, where, "inside_activation", fixed, alternatives(fixed, conv=True), "between convs"
    )
    if between.source == "default":
        between.source = "metadata"
        between.note = f"{model_type[0]} {model_type[1]!r}: the blocks' conv layers keep {fixed}"
    return between


def inside_value(choices: list, after_sum: str) -> str:
    """The activation between a residual block's conv layers: its inside_activation choice where
    inside_blocks made one, else `after_sum`."""
    return next((c.value for c in choices if c.name == "inside_activation"), after_sum)


def fixed_by_model_type(resolver, choice) -> None:
    """Settle a defaulted activation choice from config.json's model_type where the family's code
    fixes it (BLOOM's tanh-approximated GELU): the value and its citation."""
    model_type = resolver.evidence("model_type")
    own = OWN_KEY.get(model_type[1]) if model_type else None
    said = resolver.evidence(own[0]) if own else None
    if choice.source == "default" and said is not None and said[1] in own[1]:
        old, choice.value = choice.value, own[1][said[1]]
        choice.alternatives = [
            a for a in dict.fromkeys([old, *choice.alternatives]) if a != choice.value
        ]
        choice.source, choice.note = "metadata", f"{said[0]} {said[1]!r} ({model_type[1]})"
        return
    if choice.source == "default" and model_type and model_type[1] in FIXED:
        old, choice.value = choice.value, FIXED[model_type[1]]
        choice.alternatives = [old] + [
            a for a in choice.alternatives if a not in (old, choice.value)
        ]
        choice.source, choice.note = "metadata", f"{model_type[0]} {model_type[1]!r}"


def slot_pins(slot, resolver) -> list[tuple[str, str, object, str]]:
    """Match.pins for a keyless slot (a placeholder Module) that holds a feed-forward's activation,
    where config.json proves which (an activation key, a family's own key, a family whose code
    fixes it): the slot's layer, cited. None where nothing proves it, or the vocabulary has no
    module for what does: the slot stays at its default, and the class holding it says guessed."""
    choice = slot.choices[0] if slot.kind == "placeholder" and slot.choices else None
    if choice is None or choice.source != "default":
        return []
    said = proven_activation(resolver, MODULES)
    if said is None:
        return []
    return [(choice.path, "module_type", MODULES[said[0]], said[1])]


def proven_activation(resolver, usable=FUNCTIONS) -> tuple[str, str] | None:
    """(the feed-forward activation config.json proves, where it says so) or None: a family's
    own key in its spelling (OWN_KEY), an activation key (SYNONYMS), a family whose code fixes it
    (FIXED). Only a name in `usable`; a key is consumed only when its value is used."""
    model_type = resolver.metadata.get("model_type")
    family = model_type[1] if model_type else None
    own = OWN_KEY.get(family)
    said = resolver.metadata[own[0]][1] if own and own[0] in resolver.metadata else None
    if isinstance(said, str) and own[1].get(said) in usable:
        said = resolver.evidence(own[0])
        return own[1][said[1]], f"{said[0]} {said[1]!r} ({family})"
    key = next((k for k in SYNONYMS["activation"] if k in resolver.metadata), None)
    value = resolver.metadata[key][1] if key is not None else None
    if isinstance(value, (str, bool)):
        name = ALIASES.get((key, value), value) if isinstance(value, bool) else value
        name = ALIASES.get(name, name)
        if isinstance(name, str) and name in usable:
            said = resolver.evidence(key)
            return name, f"{said[0]} {said[1]!r}"
    if FIXED.get(family) in usable:
        said = resolver.evidence("model_type")
        return FIXED[family], f"{said[0]} {family!r}: its code fixes the feed-forward's"
    return None


def swiglu_by_config(resolver, choice) -> None:
    """A gated feed-forward's activation where config.json says the MLP is a SwiGLU
    (`use_swiglu_ffn`, DINOv2's kin): silu, whatever `hidden_act` says (that is the plain MLP's)."""
    said = resolver.evidence("use_swiglu_ffn")
    if said is None or said[1] is not True or choice.source not in ("default", "metadata"):
        return
    old, choice.value = choice.value, "silu"
    choice.alternatives = [a for a in dict.fromkeys([old, *choice.alternatives]) if a != "silu"]
    choice.source, choice.note = "metadata", f"{said[0]} True: a SwiGLU, whatever hidden_act says"


# The model-wide pin (ChoiceResolver.structural, path "") that analyze/strides.py's mobile_family
# sets where a mobile network's structure identifies its family's code: (family, why); and the
# activation that family's code applies in its blocks, squeeze-excitations, stem and head.
MOBILE_FAMILY = "mobile_family"
FAMILY_ACTIVATIONS = {
    "efficientnet": "silu",
    "mobilenet_v2": "relu6",
    "projected_mobilenet_v2": "relu",
    "mobilenet_v3": "hardswish",  # but ReLU in its early blocks (MOBILE_RELU_BLOCKS)
    "mnasnet": "relu",
    "efficientnet_lite": "relu6",
    "efficientnet_edgetpu": "relu",
    "pp_lcnet": "hardswish",
    "proxyless_nas": "relu6",
    "mixnet": "relu",  # but swish in its squeeze-excited blocks (MOBILE_SWISH_BLOCKS)
}
# The model-wide pin set where analyze/strides.py finds a mobile ImageNet body (MobileNetV1's
# separable blocks included, which name no family): ("mobile", why). Read by a conv classifier.
MOBILE_BODY = "mobile_body"
# The model-wide pin of analyze/strides.py's mobilenet_v3_relu_blocks: (the paths of the blocks
# a MobileNetV3 activates with ReLU, why); hard-swish everywhere else (stem, later blocks, head).
MOBILE_RELU_BLOCKS = "mobile_relu_blocks"
# The model-wide pin of analyze/strides.py's mobile_noskip_blocks: (the paths of the blocks a mobile
# family builds without a skip whatever their shape, why); each keeps a class of its own.
MOBILE_NOSKIP_BLOCKS = "mobile_noskip_blocks"
# The model-wide pin of analyze/strides.py's mixnet_swish_blocks: (the paths of the blocks a MixNet
# activates with swish, why); ReLU everywhere else.
MOBILE_SWISH_BLOCKS = "mobile_swish_blocks"
# MobileNetV3's squeeze-excitation: ReLU inside whatever the block uses (torchvision's
# SqueezeExcitation default, timm's force_act_layer=nn.ReLU), gated by a hard sigmoid.
V3_SQUEEZE = ("relu", "hardsigmoid")
# The families whose squeeze-excitations are MobileNetV3's (PP-LCNet's SEModule: ReLU, then
# Hardsigmoid, PaddleClas' pp_lcnet.py; timm's lcnet forces nn.ReLU and gates 'hard_sigmoid').
HARD_GATED = ("mobilenet_v3", "pp_lcnet")
# The families (analyze/strides.py's mobile_family) whose blocks never expand: MobileNetV1's
# separable blocks, activated after the pointwise conv and never residual.
SEPARABLE_FAMILIES = ("pp_lcnet",)


def mobile_family(resolver) -> tuple[str, str] | None:
    return resolver.structural.get(("", MOBILE_FAMILY))


def family_default(resolver, default: str, paths=()) -> tuple[str, str]:
    """(the default activation of a mobile network's block or squeeze-excitation, the reason or
    ""): its family's, else `default`. `paths`: where the activation is (a class's instances, a
    slot); a MobileNetV3 uses ReLU where all of them lie in its early blocks."""
    told = mobile_family(resolver)
    if told is None or told[0] not in FAMILY_ACTIVATIONS:
        return default, ""
    early = resolver.structural.get(("", MOBILE_RELU_BLOCKS))
    if early is not None and paths and all(_within(p, early[0]) for p in paths):
        return "relu", early[1]
    swish = resolver.structural.get(("", MOBILE_SWISH_BLOCKS))
    if swish is not None and paths and all(_within(p, swish[0]) for p in paths):
        return "silu", swish[1]
    return FAMILY_ACTIVATIONS[told[0]], early[1] if early is not None else told[1]


def _within(path: str, blocks) -> bool:
    return any(path == b or path.startswith(b + ".") for b in blocks)


# The model-wide pin (ChoiceResolver.structural, path "") a block pattern sets where it settles the
# network's conv-norm activation (blocks/cross_stage.py: a CSP network's leaky ReLU): (value, why).
# A conv-norm unit outside those blocks (the stem, a chain's unit) activates the same way.
UNIT_ACTIVATION = "unit_activation"


def pinned_unit(resolver, default: str) -> tuple[str, str]:
    """(the network's conv-norm activation where a block pattern pinned it, why), else (default, "")."""
    pinned = resolver.structural.get(("", UNIT_ACTIVATION))
    return (pinned[0], pinned[1]) if pinned is not None else (default, "")


def unit_default(resolver, default: str, paths=()) -> tuple[str, str]:
    """(the default activation after a conv-norm unit outside the blocks, the reason or ""): a
    mobile family's (`paths` as family_default reads them), else the network's blocks' where a
    pattern pinned it, else `default`."""
    value, why = family_default(resolver, default, paths)
    return (value, why) if why else pinned_unit(resolver, default)


def mark_family(choice, why: str):
    """A choice left at a family's default says so (source "structure", searchable still)."""
    if why and choice.source == "default":
        choice.source, choice.note = "structure", why
    return choice


def unproven_activation(activation, structure_proves: bool = False) -> str:
    """The guess a class states where its activation rests on a default (or, unless
    `structure_proves`, on a family's convention read from structure): the same keys come with
    other activations (kuangliu's MobileNetV2 uses F.relu where torchvision's uses ReLU6; Darknet's
    leaky ReLU, YOLOv4's Mish and timm's cs3 SiLU). "" where a key, a config or a hint proves it.
    `structure_proves`: a value a parent pinned (a CSP stage giving its blocks its activation),
    whose own guess the parent states."""
    unproven = ("default",) if structure_proves else ("default", "structure")
    if activation.source not in unproven:
        return ""
    why = activation.note if activation.source == "structure" else "a default"
    return (
        f"no key or config records the activation: read as {activation.value} ({why}); "
        "other code with the same keys activates otherwise"
    )
