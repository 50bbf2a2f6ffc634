"""What every pattern is made of: the base classes, the match record, and small shared helpers.

A pattern recognises one thing from the names and shapes of a subtree, never from key order:
- a `LayerPattern` is one torch.nn type that owns tensors; it matches a key-tree node and builds the
  constructor call that reproduces exactly its tensors (sizes from shapes, the rest as choices);
- a `BlockPattern` is a generated class's dataflow; it matches the class's members (names and
  widths) and adds the forward's nodes to a graph (codegen.ir.graph).
The registry (registry.py) asks every pattern of a kind and keeps the most specific match: the one
that explains the most keys or members, ties broken by `priority`, never by list order.

Each pattern carries `examples()`: tiny torch reference modules it must reproduce exactly (strict
load, equal outputs, TorchScript); tests/test_patterns.py runs every registered pattern's examples.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

from codegen.ir import Arg, Call, Choice, ClassDef, IOSpec, Module, Tensor
from codegen.ir.graph import Graph, Slice
from codegen.patterns import _activations as act
from codegen.patterns._decoder_conventions import cite as conventions_cite
from codegen.patterns._decoder_conventions import SURVEYED as DECODER_SURVEYED
from codegen.patterns._decoder_conventions import convention
from codegen.patterns._rope_conventions import CONVENTIONS as ROTARY_CONVENTIONS
from codegen.patterns._latent_conventions import LATENT_NORM_PATH, fixed_latent_eps

if TYPE_CHECKING:
    from codegen.choices import ChoiceResolver
    from codegen.keytree import KeyNode


@dataclass
class Match:
    """A pattern's claim on a subtree: how much of it it explains, and what it found."""

    pattern: Pattern
    explains: int  # keys (layers) or members (blocks) accounted for: more is more specific
    found: Any = None  # whatever build/forward need (a Recognised for layers)
    choices: list[Choice] = field(default_factory=list)
    # The pattern knows what this is but not enough to compute it: forward raises naming this.
    missing: str = ""
    # The pattern computes it, but a value it rests on is a default it cannot vouch for (a rotary
    # layout of a family it does not know): the forward's trust is 'guessed', saying this.
    guessed: str = ""
    # What the whole shows about its parts' choices (a decoder stack without a final norm: its
    # blocks normalise their own outputs): (choice path, name, value, why). The analysis runs
    # again with them where a part's choice was left at a default (codegen.analyze.analyze).
    pins: list[tuple[str, str, Any, str]] = field(default_factory=list)
    # What a human calls this instance where it differs from the pattern's role: a ResNet
    # bottleneck is matched by the BasicBlock pattern, but named Bottleneck. Names only.
    title: str = ""


@dataclass
class Example:
    """A reference module and inputs it accepts: the generated file must match it exactly."""

    module: Any
    inputs: tuple | None  # None: the layer must load and script; its forward is not inferred
    metadata: dict | None = None  # saved beside the weights, as a trainer's config would be


@dataclass(frozen=True)
class Accepts:
    """What a block pattern's `match` rejects in its first lines, said where the registry can read
    it. A class is ruled out where it holds
    - fewer than `least` or more than `most` (None: no bound) members that are modules;
    - (`tensors`) a tensor where False, none where True;
    - for some regex of `names`, no module whose attribute name fully matches it (any case): a
      `match` returning None unless `one_named(members, R)` (or any test of a name against R)
      finds one; alternatives are one regex (`A|B`);
    - for some item of `families`, no module of that layer family (`family(m)`);
    - for some item of `roles`, no module of that role (`BlockContext.role(m)`);
    an item of these two may be a tuple of alternatives: some module of one of them.
    Most of ~390 patterns reject most classes on these facts; the registry then skips the call
    (registry._asked, once per class's `Facts`). Each field must be a consequence of the code below
    it, never a guess: tests/test_patterns.py asks every skipped pattern on every catalogue example
    and asserts it returns None."""

    least: int = 0
    most: int | None = None
    tensors: bool | None = None
    names: tuple[str, ...] = ()
    families: tuple[str | tuple[str, ...], ...] = ()
    roles: tuple[str | tuple[str, ...], ...] = ()

    def admits(self, facts: Facts) -> bool:
        """Whether a class with these facts could match."""
        if facts.count < self.least or (self.most is not None and facts.count > self.most):
            return False
        if self.tensors is not None and self.tensors != facts.tensors:
            return False
        return (
            facts.names.issuperset(self.names)
            and all(_some(facts.families, f) for f in self.families)
            and all(_some(facts.roles, r) for r in self.roles)
        )


def _some(held: frozenset, wanted: str | tuple[str, ...]) -> bool:
    return not held.isdisjoint(wanted) if isinstance(wanted, tuple) else wanted in held


class Facts(NamedTuple):
    """What the gates (`Accepts`) read of a class: its module count, whether it holds tensors, the
    declared `names` regexes some module's name matches, its modules' families and roles."""

    count: int
    tensors: bool
    names: frozenset[str]
    families: frozenset[str | None]
    roles: frozenset[str | None]


class Pattern:
    kind: ClassVar[str] = ""  # "layer" | "block"
    role: ClassVar[str] = ""  # what a human calls it: "Linear", "BasicBlock", "SqueezeExcite"
    priority: ClassVar[int] = 0  # breaks ties between matches that explain as much
    trust: ClassVar[str] = "inferred"  # of the forward it builds: inferred | guessed
    # Whether a generated class whose forward this pattern builds is named after `role`.
    names_class: ClassVar[bool] = True
    trust_note: ClassVar[str] = ""  # why, for the class docstring, where the level alone misleads
    # Metadata names (config.json, trainer hparams) that mean one of this pattern's choices.
    synonyms: ClassVar[dict[str, tuple[str, ...]]] = {}
    # Attribute names (regex) whose forward this pattern tells apart from same-keyed subtrees:
    # classes registered under such a name are never shared with differently named ones.
    named: ClassVar[str] = ""
    # A fallback (the chain, the solved wiring) explains exactly the class's modules when it
    # matches, at a priority below every other pattern's: the registry asks it only where no
    # other match explains as much (it could not win), which is most of a model's classes.
    fallback: ClassVar[bool] = False
    # (block patterns) The class shapes `match` can accept at all (`Accepts`), declared beside the
    # `match` it describes: the registry asks it only there. None: asked everywhere.
    accepts: ClassVar[Accepts | None] = None

    @staticmethod
    def examples() -> list[Example]:
        """Tiny torch modules this pattern must reproduce: same keys, same outputs, scriptable."""
        return []

    def __repr__(self) -> str:
        return f"<pattern {self.kind}:{type(self).__name__}>"


# --------------------------------------------------------------------------------------- layers


@dataclass
class LayerContext:
    """What a layer pattern may look at besides the node: neighbours and the choice resolver."""

    resolver: ChoiceResolver
    prev: IOSpec | None = None  # the producer of this layer's input, where the dataflow shows it
    next: IOSpec | None = None
    stride: int = 1  # the conventional stride where the structure suggests one (residual blocks)
    stride_note: str | None = None  # the evidence (config.json; a conv's mask) fixing the stride
    downsampler: bool = False  # the one conv of a downsampler (its padding has library conventions)
    # Why square Conv1D-named layers are stored transposed here (layers/hf_conv1d.py), or ''.
    conv1d_convention: str = ""
    # The padding config.json fixes (a value of conv.PADDINGS' kinds) and the evidence, or None.
    padding: Any = None
    padding_note: str | None = None
    # The producer is a patchify conv (kernel == stride): its norm is a LayerNorm over the
    # channels with no activation (ConvNeXt's and Swin's stems, timm's patch embedding).
    after_patchify: bool = False
    # config.json fixes the conv as ungrouped (a speech model's feature encoder: its first conv
    # reads the one-channel waveform, which a [C, 1, k] weight would otherwise call depthwise).
    ungrouped: bool = False
    # An RGB image enters through another conv (a stem reading 3 channels): a [C, 1, k, k] weight
    # on a stem-like path (`layers.0.conv1`) is then depthwise, not a grayscale entry.
    image_enters_elsewhere: bool = False
    # The conv's weight is standardised by default (analyze/weight_standardization.py: BiT).
    standardised: bool = False
    # The layer's own keys tell whether a conv is transposed (spectral norm's `weight_u` is as long
    # as a transposed conv's dimension 1): None where they do not.
    transposed: bool | None = None
    # The model's first layer, reached through only children and item 0 (layers/conv.py's
    # latent_entry), or a layer after a view to a 1x1 map (analyze/structure.py's
    # _after_unit_map): a transposed conv there reads a latent as a 1x1 map.
    latent_entry: bool = False
    # (stride, padding, why) of a 4x4 conv in a DCGAN-style stack (layers/conv.py's
    # four_by_four_stacks), or None.
    four_by_four: tuple[int, int, str] | None = None
    # Groups the structure proves beyond the conv's own weight (layers/conv_groups.py's
    # planned_groups: the width reaching it, a depth multiplier, grouped 1x1s), or None.
    planned_groups: int | None = None
    # (groups, why) the structure suggests for a 1x1 conv without proving them (layers/conv_groups.py's
    # likely_groups): a choice, this its default.
    likely_groups: tuple[int, str] | None = None


@dataclass
class Recognised:
    type_name: str
    args: list[Arg]
    io: IOSpec
    choices: list[Choice] = field(default_factory=list)  # which type, where shapes allow several

    def call(self) -> Call:
        return Call(self.type_name, self.args)


class LayerPattern(Pattern):
    kind = "layer"

    def recognise(self, node: KeyNode, ctx: LayerContext) -> Recognised | None:
        raise NotImplementedError

    def match(self, node: KeyNode, ctx: LayerContext) -> Match | None:
        found = self.recognise(node, ctx)
        if found is None:
            return None
        return Match(self, len(node.all_tensors()), found, found.choices)

    def build(self, match: Match) -> Recognised:
        return match.found


# --------------------------------------------------------------------------------------- blocks


@dataclass
class BlockContext:
    """What a block pattern may look at: the class, the resolver, classes without a forward."""

    resolver: ChoiceResolver
    unknown: frozenset[str] = frozenset()
    roles: dict[str, str] = field(default_factory=dict)  # class -> role of its forward's pattern
    classes: dict[str, ClassDef] = field(default_factory=dict)  # the classes settled so far

    def choose(
        self, cls: ClassDef, where: str, name: str, default: Any, others: list, note="", **kw
    ):
        """One choice for the generated class (shared by its instances), addressed Class.member.
        An `activation` reads config.json's spellings through the one alias table (transformers'
        "leaky_relu" is slope 0.01, "swish" is silu), whichever pattern makes it."""
        if name == "activation":
            kw.setdefault("aliases", act.ALIASES)
        return self.resolver.choose(f"{cls.name}.{where}", name, default, others, note, **kw)

    def role(self, m: Module | None) -> str | None:
        """The role of a member's forward: a generated class's pattern role, or its layer family."""
        if m is None:
            return None
        if m.kind == "repeat" and m.children:
            return self.role(m.children[0])
        if m.kind == "class":
            return self.roles.get(m.type_name)
        return family(m)

    def takes(self, m: Module | None, name: str) -> bool:
        """Whether a member's generated forward has an argument `name` (a mask, token types)."""
        if m is not None and m.kind == "repeat" and m.children:
            return self.takes(m.children[0], name)
        cls = self.classes.get(m.type_name) if m is not None and m.kind == "class" else None
        graph = cls.forward.graph if cls is not None else None
        return graph is not None and any(n.target == name for n in graph.inputs)


class BlockPattern(Pattern):
    kind = "block"

    def match(self, cls: ClassDef, ctx: BlockContext) -> Match | None:
        raise NotImplementedError

    def forward(self, match: Match, g: Graph) -> None:
        raise NotImplementedError


# -------------------------------------------------------------------------------------- helpers


@functools.lru_cache(maxsize=65536)  # a sort key asked of the same names ~100k times a suite
def name_order(name: str) -> tuple:
    """`conv2` after `conv1`, item 10 after item 9, `bn1` beside `conv1`: the numbers in a name,
    then the name."""
    return (tuple(int(n) for n in re.findall(r"\d+", name)), name)


def names(node: KeyNode) -> set[str]:
    return set(node.tensors)


def shape(node: KeyNode, name: str) -> tuple[int, ...]:
    return node.tensors[name].shape


def prov(node: KeyNode, name: str, dim: int | None = None) -> str:
    key = f"{node.path}.{name}" if node.path else name
    return f"{key}.shape[{dim}]" if dim is not None else key


def hinted(node: KeyNode, pattern: str) -> bool:
    return re.search(pattern, node.name, re.IGNORECASE) is not None


def flag(keyword: str, value: bool, provenance: str) -> Arg:
    return Arg(keyword, value, "flag", provenance)


def type_choice(
    ctx: LayerContext, node: KeyNode, default: str, alternatives: list[str], note: str
) -> Choice:
    return ctx.resolver.choose(node.path, "module_type", default, alternatives, note)


# Families whose code fixes the norms' eps instead of recording it in config.json (transformers'
# model_type, or diffusers' _class_name).
FIXED_EPS = {
    "distilbert": 1e-12,
    "AutoencoderKL": 1e-6,
    "AsymmetricAutoencoderKL": 1e-6,
    "VQModel": 1e-6,
}

# Norms whose eps diffusers' code fixes whatever config.json's norm_eps says (added by
# diffusers16): the group norm in front of a Transformer2DModel, its blocks' layer norms.
FIXED_EPS_PATHS = (
    (re.compile(r"(^|\.)transformer_blocks\.\d+\.norm\d$"), 1e-5, "BasicTransformerBlock"),
    (re.compile(r"(^|\.)attentions\.\d+\.norm$"), 1e-6, "Transformer2DModel"),
)
# The same for transformers' model types (added by configs6): Swin's patch-embedding and
# patch-merging norms are nn.LayerNorm(dim) whatever layer_norm_eps says (the blocks' use it).
SWIN_TYPES = ("swin", "swinv2", "donut-swin", "maskformer-swin")
FIXED_EPS_TYPE_PATHS = (
    (re.compile(r"(^|\.)embeddings\.norm$"), 1e-5, SWIN_TYPES),
    (re.compile(r"(^|\.)downsample\.norm$"), 1e-5, SWIN_TYPES),
    # enc9: MobileBERT builds its embeddings' norm and each layer's output norm without
    # layer_norm_eps (torch's default; moot for its default NoNorm)
    (re.compile(r"(^|\.)embeddings\.LayerNorm$"), 1e-5, ("mobilebert",)),
    (re.compile(r"(^|\.)layer\.\d+\.output\.LayerNorm$"), 1e-5, ("mobilebert",)),
    # ssm9: RwkvModel builds its final ln_out without layer_norm_epsilon (its blocks' use it)
    (re.compile(r"(^|\.)ln_out$"), 1e-5, ("rwkv",)),
    # mla11: the sparse attention's indexer builds its key norm with eps 1e-6 whatever
    # rms_norm_eps says (DeepseekV32Indexer, GlmMoeDsaIndexer)
    (re.compile(r"(^|\.)indexer\.k_norm$"), 1e-6, ("deepseek_v32", "glm_moe_dsa")),
    # audio11: Wav2Vec2-Conformer's layers build their norms and the conv module's batch norm
    # without layer_norm_eps (torch's default); only the encoder's final norm reads it
    (
        re.compile(
            r"(^|\.)layers\.\d+\.(ffn[12]_layer_norm|self_attn_layer_norm|final_layer_norm|"
            r"conv_module\.(layer_norm|batch_norm))$"
        ),
        1e-5,
        ("wav2vec2-conformer",),
    ),
)

# Norms whose eps the family's code reads from another config.json key than the model's others
# (audio11: SEW-D's norm over the conv features reads feature_layer_norm_eps; its encoder's
# norms layer_norm_eps): (path, key, model types).
EPS_KEY_TYPE_PATHS = (
    # the model's own (or, under a task head, its body's): not a conv layer's norm
    (re.compile(r"^(\w+\.)?layer_norm$"), "feature_layer_norm_eps", ("sew-d",)),
)

# Metadata spellings of the choices the helpers below make, for the patterns that use them to declare.
EPS_SYNONYMS = {
    "eps": (
        "layer_norm_eps",
        "layer_norm_epsilon",
        "norm_eps",
        "rms_norm_eps",
        "batch_norm_eps",
        "norm_epsilon",
    )
}
NHEAD_SYNONYMS = {
    "nhead": ("n_head", "num_heads", "num_attention_heads", "n_heads", "heads", "num_head")
}


# Families whose code fixes the norms' eps while config.json records another it never reads
# (BioGPT's nn.LayerNorm(d) beside layer_norm_eps 1e-12).
IGNORED_EPS = {"biogpt": 1e-5, "segformer": 1e-5, "glpn": 1e-5}


# The eps values a search tries: a LayerNorm's (BERT's 1e-12, timm's 1e-6) and, for batch norms,
# 1e-3 (networks ported from TensorFlow: MobileNet, EfficientNet, Inception; Keras' default) and
# 1e-4; any other value fits a hint (open domain).
EPS_TRIED = (1e-5, 1e-6, 1e-12, 1e-8, 1e-3)
# 0.8: eriklindernoren/PyTorch-GAN's generators write nn.BatchNorm2d(c, 0.8), a momentum meant
# that is the eps.
BATCH_NORM_EPS_TRIED = (1e-5, 1e-3, 1e-4, 0.8)


def eps_arg(
    ctx: LayerContext,
    node: KeyNode,
    keyword: str = "eps",
    searchable: list | None = None,
    tried: tuple[float, ...] = EPS_TRIED,
    convention: Choice | None = None,
    model_wide: str = "",
) -> Arg | None:
    """The eps argument where it is known (None at the default). `searchable` collects the choice
    left at its default, so calibration can still try the others (a transformer's norms).
    `convention`: a model-wide choice (every batch norm's eps) that, once not at its default,
    gives the default of this one. `model_wide`: the name of a pin (Match.pins, path "") a block
    pattern set for every such norm of the model left at its default (a ConvNeXt's LayerNorms)."""
    model_type = ctx.resolver.evidence("model_type") or ctx.resolver.evidence("_class_name")
    fixed = FIXED_EPS.get(model_type[1]) if model_type else None
    default = 1e-5 if fixed is None else fixed
    if fixed is None and convention is not None and convention.source != "default":
        default = convention.value
    others = [e for e in tried if e != default]
    c = ctx.resolver.choose(node.path, "eps", default, others, accepts="unit_float")
    if fixed is not None and c.source == "default":
        c.source, c.note = "metadata", f"{model_type[0]} {model_type[1]!r}"
    elif c.source == "default" and default != 1e-5 and searchable is None:
        # From the model-wide convention, which is what a search moves: not searched here.
        c.source, c.note = "pattern", f"batch_norm_eps, {convention.note or convention.source}"
    elif c.source == "default" and default != 1e-5 and convention is not None:
        # The calibrated convention, which the search may still move for this layer alone.
        c.source = "calibrated"
    ignored = IGNORED_EPS.get(model_type[1]) if model_type else None
    if ignored is not None and c.source == "metadata" and c.value != ignored:
        c.alternatives = [c.value] + [a for a in c.alternatives if a not in (c.value, ignored)]
        c.value = ignored
        c.note = f"{model_type[0]} {model_type[1]!r}: its code ignores {c.note}"
    by_path = next((f for f in FIXED_EPS_PATHS if f[0].search(node.path)), None)
    if by_path and model_type and model_type[0].endswith("_class_name") and c.source == "metadata":
        c.alternatives = [e for e in [c.value, *c.alternatives] if e != by_path[1]]
        c.value, c.note = by_path[1], f"{model_type[0]} {model_type[1]!r} ({by_path[2]})"
    by_type = next(
        (
            f
            for f in FIXED_EPS_TYPE_PATHS
            if model_type and model_type[1] in f[2] and f[0].search(node.path)
        ),
        None,
    )
    if by_type and c.source == "metadata":
        c.alternatives = [e for e in [c.value, *c.alternatives] if e != by_type[1]]
        c.value, c.note = by_type[1], f"{model_type[0]} {model_type[1]!r}: a fixed eps here"
    by_key = next(
        (
            f
            for f in EPS_KEY_TYPE_PATHS
            if model_type and model_type[1] in f[2] and f[0].search(node.path)
        ),
        None,
    )
    said = ctx.resolver.evidence(by_key[1]) if by_key else None
    if said is not None and type(said[1]) is float and c.source in ("metadata", "default"):
        c.alternatives = [e for e in [c.value, *c.alternatives] if e != said[1]]
        c.value, c.source, c.note = said[1], "metadata", said[0]
    latent_norm_eps(ctx, node, c)
    pinned = ctx.resolver.structural.get(("", model_wide)) if model_wide else None
    if pinned is not None and c.source == "default" and c.value != pinned[0]:
        c.alternatives = [e for e in [c.value, *c.alternatives] if e != pinned[0]]
        c.value, c.source, c.note = pinned[0], "structure", pinned[1]
    if c.source in ("default", "calibrated") and searchable is not None:
        searchable.append(c)
    return None if c.source == "default" else Arg(keyword, c.value, "choice", choice=c)


def latent_norm_eps(ctx: LayerContext, node: KeyNode, c: Choice) -> None:
    """A latent attention's norms whose eps the family's code fixes whatever config.json says
    (DeepSeek-V2's q_a_layernorm, kv_a_layernorm: 1e-6, measured by the latent survey)."""
    model_type = ctx.resolver.evidence("model_type")
    latent = fixed_latent_eps(model_type[1]) if model_type else None
    if latent is None or not re.search(LATENT_NORM_PATH, node.path) or c.source == "hint":
        return
    c.alternatives = [e for e in [c.value, *c.alternatives] if e not in (latent, None)]
    c.value, c.source = latent, "metadata"
    c.note = f"{model_type[0]} {model_type[1]!r}: a fixed eps (the latent attention survey)"


def convention_pins(
    ctx: BlockContext, norms: list, mlps: list, why: str, eps: float, activation: str
) -> list[tuple[str, str, Any, str]]:
    """Match.pins for what a block's family fixes and no key records, where its parts left them at
    a default (config.json or a hint still wins): `eps` for every LayerNorm of the model (a
    model-wide pin, layer_norm_eps, that eps_arg reads), `activation` for its MLP classes'."""
    pins: list[tuple[str, str, Any, str]] = []
    if any(
        c.name == "eps" and c.source == "default" and c.value != eps
        for n in norms
        for c in n.choices
    ):
        pins.append(("", "layer_norm_eps", eps, f"{why} LayerNorm eps"))
    for m in mlps:
        mlp = ctx.classes.get(m.type_name)
        for c in mlp.forward.choices if mlp is not None else []:
            if c.name == "activation" and c.source == "default" and c.value != activation:
                pins.append((c.path, "activation", activation, f"{why} MLP activation"))
    return pins


def eps_args(
    ctx: LayerContext, node: KeyNode, searchable: list | None = None, model_wide: str = ""
) -> list[Arg]:
    eps = eps_arg(ctx, node, searchable=searchable, model_wide=model_wide)
    return [eps] if eps else []


def nhead_choice(ctx: LayerContext, node: KeyNode, d_model: int) -> Choice:
    divisors = [h for h in (1, 2, 4, 6, 8, 12, 16, 20, 24, 32, 40, 64) if d_model % h == 0]
    # Head size 64 is the common convention for wide models; small ones usually use 8 heads or fewer.
    if d_model >= 512 and d_model % 64 == 0:
        default = d_model // 64
    else:
        default = next((h for h in (8, 4, 2, 1) if d_model % h == 0 and d_model // h >= 8), 1)
    if default not in divisors:
        divisors.append(default)
    return ctx.resolver.choose(node.path, "nhead", default, sorted(divisors), "")


# The model types whose conventions (norm offsets, embedding scales, residual order, position
# offsets...) tests or the family zoo compare with the library. Patterns read "not in the list of
# families that do X" as evidence for the default; for any other model type that absence proves
# nothing, and the analysis says the choices resting on it are guesses (analyze, flag_unchecked),
# except those the conventions survey measured for the type (_decoder_conventions.MEASURED).
CHECKED_MODEL_TYPES = (
    frozenset("""
    albert apertus arcee bart beit bert biogpt bit blenderbot blenderbot-small bloom camembert clip
    clip_text_model clip_vision_model codegen cohere convbert convnext convnextv2 ctrl cvt
    data2vec-audio data2vec-text data2vec-vision dbrx deberta deberta-v2 deit dinov2 dinov2_with_registers distilbert efficientnet
    electra ernie ernie4_5 esm exaone4 falcon flaubert focalnet funnel gemma gemma2 gemma3_text glm
    glm4 gpt2 gpt_bigcode gpt_neo gpt_neox gptj granite granitemoe helium hiera hubert
    hunyuan_v1_dense ibert ijepa levit llama m2m_100 marian mbart megatron-bert ministral mistral
    mixtral mobilebert mobilenet_v1 mobilenet_v2 mobilevit modernbert mpnet mpt mt5 nemotron
    nomic_bert olmo olmo2 olmo3 olmoe openai-gpt opt pegasus persimmon phi phi3 phimoe plbart
    poolformer pvt_v2 qwen2 qwen2_moe qwen3 qwen3_moe regnet rembert resnet roberta roc_bert
    roformer seed_oss segformer siglip_vision_model smollm3 splinter squeezebert stablelm
    starcoder2 swin t5 textnet umt5 unispeech unispeech-sat vit vit_msn wav2vec2 whisper xglm xlm
    xlm-roberta donut-swin vitdet pixio tipsv2_vision_model sam_vision_model
    roberta-prelayernorm xlm-roberta-xl layoutlm jina_embeddings_v3 gte eurobert
    aimv2_vision_model mlcd_vision_model dinov3_vit
    flava_image_model pixtral siglip_text_model siglip2_text_model swinv2
    trocr
    metaclip_2_text_model
    """.split())
    | frozenset(  # moe7: tests/test_moe_families.py compares these
        "glm4_moe dots1 ernie4_5_moe gpt_oss hunyuan_v1_moe granitemoeshared minimax_m2 exaone_moe "
        "solar_open flex_olmo".split()
    )
    | frozenset(["blip_text_model"])  # enc10: tests/test_encoders_10.py compares it
    # mla8: tests/test_latent_attention.py compares these
    | frozenset("deepseek_v2 deepseek_v3 youtu minicpm3 glm4_moe_lite sarvam_mla".split())
    | frozenset(
        "mamba falcon_mamba lfm2 diffllama gpt_neox_japanese doge".split()
    )  # dec8: tests/test_decoder_mixers.py compares these
    # enc8: tests/test_encoders_more.py compares these
    | frozenset("fnet dpr clap_text_model tapas".split())
    # lin9: tests/test_long_attention.py compares these
    | frozenset("longformer led nystromformer bigbird_pegasus yoso".split())
    # enc9: tests/test_encoders_9.py compares these
    | frozenset("xlnet visual_bert".split())
    # ssm9: tests/test_state_space_9.py compares these
    | frozenset("mamba2 bamba granitemoehybrid nemotron_h jamba rwkv".split())
    | frozenset(["laguna", "sew"])  # mix9: tests/test_mix_9.py compares these
    | frozenset("glpn internvl_vision yolos".split())  # vis9: tests/test_vision_9.py compares these
    # moe10: tests/test_moe_10.py compares these
    | frozenset("afmoe hy_v3 lfm2_moe cohere2 imagegpt minimax jetmoe".split())
    | frozenset(["fsmt", "speech_to_text"])  # s2s10: tests/test_seq2seq_10.py compares these
    # lin11: tests/test_linear_11.py compares these
    | frozenset("qwen3_next qwen3_5_text qwen3_5_moe_text olmo_hybrid kimi_linear lfm3".split())
    # dec11: tests/test_decoders_11.py compares these
    | frozenset("mvp modernbert-decoder ultrabert hrm_text".split())
    # vit10: tests/test_vision_10.py compares these
    | frozenset(
        "blip_vision_model git_vision_model instructblip_vision_model pvt blip_2_vision_model "
        "instructblipvideo_vision_model owlvit_vision_model owlv2_vision_model "
        "chinese_clip_vision_model altclip_vision_model clipseg_vision_model "
        "metaclip_2_vision_model idefics3_vision smolvlm_vision".split()
    )
    | frozenset(
        ["recurrent_gemma", "esmc", "falcon_h1"]
    )  # hyb10: tests/test_hybrid_10.py compares these
    # mla11: tests/test_mla_11.py compares these
    | frozenset("mistral4 ministral3 deepseek_v32 glm_moe_dsa llama4_text".split())
    # audio11: tests/test_audio_11.py compares these
    | frozenset(["wavlm", "wav2vec2-conformer", "sew-d", "longt5"])
    | frozenset(["aria_text"])  # moe12: tests/test_moe_12.py compares it
    # tf22: tests/test_conformer_espnet.py compares lasr_ctc (its encoder a lasr_encoder's)
    | frozenset(["lasr_encoder", "lasr_ctc"])
    | frozenset(["vivit"])  # s27: tests/test_vision_transformers_more.py compares it
)
# Choices whose per-model-type evidence covers every type of the library (the rotary survey).
SURVEYED_CHOICES = frozenset({"rotary_layout"})
# The words a choice's note ends with where a rule of thumb settled it (a vision tower attends
# both ways): for a model type none of the tables know, analyze lists it among the guesses, as
# the rule can fail (Phi-4 multimodal's vision attention is causal under the library's SDPA: now
# attention.CAUSAL_ENCODER_TYPES).
BY_CONVENTION = "(the usual convention)"
# Every model type some conventions table knows (compared by tests, or surveyed): a composite's
# tower reads its own sub-config's type where the composite's is none of these (choices.py).
CONVENTION_TYPES = CHECKED_MODEL_TYPES | frozenset(DECODER_SURVEYED) | frozenset(ROTARY_CONVENTIONS)


def measured_unit_offset(model_type: tuple[str, Any] | None) -> tuple[bool, str] | None:
    """Whether the conventions survey measured this model type's norms scaling by `1 + weight`
    (Gemma's RMSNorm, Nemotron's LayerNorm1P), with the citation; None where it did not."""
    measured = convention(model_type[1], "norm_scale") if model_type else None
    if measured not in ("weight", "1 + weight"):
        return None
    return measured == "1 + weight", conventions_cite(model_type)


def norm_offset(
    ctx: BlockContext, cls: ClassDef, where: str, layer_norm: bool = False
) -> tuple[Choice, Any]:
    """Whether the class's norms scale by `1 + weight` (Gemma), and the eps they then use; for a
    LayerNorm (`layer_norm`) the offset is (eps, "layer_norm"). The conventions survey settles
    it per model type; elsewhere `weight`, cited as resting on the model type alone."""
    model_type = ctx.resolver.evidence("model_type")
    measured = measured_unit_offset(model_type)
    offset = measured is not None and measured[0]
    c = ctx.choose(
        cls,
        where,
        "norm_scale",
        "1 + weight" if offset else "weight",
        ["weight" if offset else "1 + weight"],
        "what an RMSNorm multiplies by" if not layer_norm else "what a LayerNorm multiplies by",
    )
    if model_type is not None and c.source == "default":
        c.source = "metadata"
        c.note = measured[1] if measured else f"{model_type[0]} {model_type[1]!r}"
    if c.value != "1 + weight":
        return c, None
    eps = ctx.resolver.evidence("rms_norm_eps", "layer_norm_eps", "norm_eps")
    if layer_norm:
        return c, (float(eps[1]) if eps else 1e-5, "layer_norm")
    return c, float(eps[1]) if eps else 1e-6


def norm_scale(ctx: BlockContext, cls: ClassDef, norm: Module | None) -> tuple[list[Choice], Any]:
    """The `norm_scale` choice of a class whose norms are `norm`'s type, and the offset for
    apply_norm: an RMSNorm always has the choice, a LayerNorm where its family offsets it."""
    if norm is None:
        return [], None
    if norm.type_name == "nn.RMSNorm":
        c, offset = norm_offset(ctx, cls, norm.attr)
        return [c], offset
    model_type = ctx.resolver.metadata.get("model_type")
    if norm.type_name == "nn.LayerNorm" and model_type:
        measured = measured_unit_offset(model_type)
        if measured is not None and measured[0]:
            c, offset = norm_offset(ctx, cls, norm.attr, layer_norm=True)
            return [c], offset
    return [], None


def parameter_free_norm(ctx: BlockContext) -> tuple[float, str, str] | None:
    """(eps, citation, kind "layer" or "rms") where the conventions survey measured this model
    type's norms holding no parameters (OLMo's LayerNorm, NanoChat's RMSNorm): the keys cannot
    show them. Its eps is the number it measured, or config.json's key where it follows one."""
    model_type = ctx.resolver.evidence("model_type")
    measured = convention(model_type[1], "free_norm") if model_type else None
    if measured is None:
        return affine_free_norm(ctx)
    kind, eps = measured
    if isinstance(eps, str):  # read from config.json's key, as the family's code does
        said = ctx.resolver.evidence(eps)
        if said is None or type(said[1]) not in (int, float):
            return None
        return float(said[1]), f"{said[0]}; {conventions_cite(model_type)}", kind
    return float(eps), conventions_cite(model_type), kind


def affine_free_norm(ctx: BlockContext) -> tuple[float, str, str] | None:
    """(eps, citation, "layer") where config.json says the LayerNorms have no weight or bias
    (OPT's layer_norm_elementwise_affine false); eps from config.json, else torch's default, as a
    LayerNorm built without one has."""
    said = ctx.resolver.evidence("layer_norm_elementwise_affine", "elementwise_affine")
    if said is None or said[1] is not False:
        return None
    eps = ctx.resolver.evidence(*EPS_SYNONYMS["eps"][:2])
    if eps is not None and type(eps[1]) in (int, float):
        return float(eps[1]), f"{said[0]} false; {eps[0]}", "layer"
    return 1e-5, f"{said[0]} false; eps torch's default", "layer"


def free_norm(g: Graph, x, free: tuple[float, str, str], **options):
    """A LayerNorm or an RMSNorm over the last dimension with no weight or bias."""
    if free[2] == "rms":
        width = g.call_method("size", x, -1, inline=True)
        return g.call_function("rms_norm", x, [width], kwargs={"eps": free[0]}, **options)
    return free_layer_norm(g, x, free[0], **options)


def free_layer_norm(g: Graph, x, eps: float, **options):
    """LayerNorm over the last dimension with no weight or bias."""
    width = g.call_method("size", x, -1, inline=True)
    return g.call_function("layer_norm", x, [width], kwargs={"eps": eps}, **options)


def apply_norm(g: Graph, path: tuple[str, ...], x, offset_eps: Any, **options):
    """`norm(x)`, or with `offset_eps` an RMSNorm scaling by `1 + norm.weight` (Gemma), or with
    (eps, "layer_norm") a LayerNorm doing so (Nemotron)."""
    if offset_eps is None:
        return g.call_module(path, x, **options)
    weight = g.getattr(path + ("weight",))
    if isinstance(offset_eps, tuple):
        bias = g.getattr(path + ("bias",))
        return g.call_function("layer_norm_unit_offset", x, weight, bias, offset_eps[0], **options)
    return g.call_function("rms_norm_unit_offset", x, weight, offset_eps, **options)


def stack(m: Module | None) -> tuple[Module, int] | None:
    """(the item, how many) for a container of identical generated classes applied in turn: a
    repeat, or a list of one (ALBERT's `albert_layer_groups`, one group); else None."""
    if m is None or not m.children:
        return None
    if m.kind == "repeat":
        count = m.repeat if isinstance(m.repeat, int) else m.copies
        return (m.children[0], count) if count else None
    if m.kind in ("sequential", "modulelist") and len(m.children) == 1:
        return (m.children[0], 1) if m.children[0].kind == "class" else None
    return None


def index_range(path: str, count: int) -> str:
    return f"{path}.0" if count == 1 else f"{path}.0-{count - 1}"


# Names of members that carry a modality other than text, or join one to the text (a vision
# tower, a connector, an image projection): a text-only forward loads them and does not run them
# (families.text_path, a text EncoderModel beside an image encoder).
MODALITY = r"vision|visual|image|img|video|audio|speech|pixel|modal|connector|projector|resampler"


def other_modality(m: Module | Tensor, ctx: BlockContext | None = None) -> bool:
    """Named for another modality, or (with `ctx`) a class holding only such members (Phi-4's
    `embed_tokens_extend`: its image_embed and audio_embed)."""
    if re.search(MODALITY, m.attr, re.IGNORECASE) is not None:
        return True
    inner = ctx.classes.get(m.type_name) if ctx is not None and isinstance(m, Module) else None
    parts = list(inner.members) if inner is not None and m.kind == "class" else []
    return bool(parts) and all(other_modality(p) for p in parts)


def not_run(members: list[Module], ctx: BlockContext) -> str:
    """What a forward that leaves `members` unrun says where some have no inferred forward (so
    the file is flagged though its forward does not reach them); "" where all have one."""
    unknown = [m.attr for m in members if _unknown(m, ctx.unknown)]
    if not unknown:
        return ""
    return (
        f"{', '.join(unknown)} has no inferred forward; this forward takes the text inputs only "
        "and does not run it"
    )


def _unknown(m: Module, unknown: frozenset[str]) -> bool:
    if m.kind == "class":
        return m.type_name in unknown
    return any(_unknown(c, unknown) for c in m.children)


def modules(cls: ClassDef) -> list[Module]:
    if _held is not None and _held[0] is cls:
        return list(_held[1])  # a fresh list: a pattern may edit what it is handed
    return [m for m in cls.members if isinstance(m, Module)]


def containers(members: list[Module]):
    """The member lists of a class and of each Sequential, list or dict inside it."""
    yield members
    for m in members:
        if m.kind in ("sequential", "modulelist", "moduledict"):
            yield from containers(m.children)


def tensors(cls: ClassDef) -> list[Tensor]:
    if _held is not None and _held[0] is cls:
        return list(_held[2])
    return [m for m in cls.members if isinstance(m, Tensor)]


# (class, its modules, its tensors) while the registry tries every block pattern on that class
# (registry._trial): some 370 patterns each split the same members. Held for one trial only: a
# class's members can change between analyses.
_held: tuple[ClassDef, tuple[Module, ...], tuple[Tensor, ...]] | None = None


class holding:
    """`with holding(cls):` modules(cls) and tensors(cls) split the members once, not per call."""

    __slots__ = ("held", "saved")

    def __init__(self, cls: ClassDef) -> None:
        self.held = (
            cls,
            tuple(m for m in cls.members if isinstance(m, Module)),
            tuple(m for m in cls.members if isinstance(m, Tensor)),
        )

    def __enter__(self) -> None:
        global _held
        self.saved, _held = _held, self.held

    def __exit__(self, *exc: object) -> None:
        global _held
        _held = self.saved


def size_value(cls: ClassDef, size) -> int | None:
    """A size as an int: a literal, or the default of the constructor parameter it is written as
    (a tensor's length, a repeat count: `num_body`); None where neither."""
    if type(size) is int:
        return size
    param = next((p for p in cls.params if p.name == getattr(size, "name", None)), None)
    return param.default if param is not None and type(param.default) is int else None


def family(m: Module | None) -> str | None:
    return m.io.family if m is not None and m.io is not None else None


def split_body(cls, ctx: BlockContext, role: str, sizes: range) -> tuple | None:
    """A parameter-free wrapper's one member of `role` (the body a head family wraps) and the
    members beside it, or None: the wrapper stores tensors of its own, holds a member count outside
    `sizes`, or not exactly one body."""
    members = modules(cls)
    if tensors(cls) or len(members) not in sizes:
        return None
    body = [m for m in members if ctx.role(m) == role]
    if len(body) != 1:
        return None
    return body[0], [m for m in members if m is not body[0]]


def one_each(cls, ctx: BlockContext, *roles: str) -> tuple | None:
    """A parameter-free class holding exactly one member of each role and nothing else: those
    members, in the order of `roles`; None otherwise."""
    members = modules(cls)
    if tensors(cls) or len(members) != len(roles):
        return None
    found = [[m for m in members if ctx.role(m) == role] for role in roles]
    return tuple(f[0] for f in found) if all(len(f) == 1 for f in found) else None


def body_inputs(ctx: BlockContext, body) -> list[tuple[str, bool]]:
    """A member's forward arguments as (name, optional), for a head family that takes its body's
    inputs the same way; [] where the member's class has no forward graph yet."""
    cls = ctx.classes.get(body.type_name)
    graph = cls.forward.graph if cls is not None and cls.forward is not None else None
    return [] if graph is None else [(n.target, n.optional) for n in graph.inputs]


# The posterior's mean among a VAE's two heads (`fc_mu`, `mean`); families/flat_vae.py, chain.py.
LATENT_MEAN = r"(fc_?)?(mu|mean)(_?fc)?"


def biased(m) -> bool:
    """Whether a built layer keeps its bias (no `bias=False` among its arguments)."""
    return not any(a.keyword == "bias" and a.value is False for a in m.args)


def one_named(members: list, pattern: str):
    """The one member whose attribute name fully matches `pattern` (any case); None for none or two."""
    found = [m for m in members if _named(pattern, m.attr)]
    return found[0] if len(found) == 1 else None


@functools.lru_cache(maxsize=65536)
def _named(pattern: str, attr: str) -> bool:
    """Memoised: calibration analyses the same names once per candidate (hundreds of times)."""
    return re.fullmatch(pattern, attr, re.IGNORECASE) is not None


# A global response norm (ConvNeXt V2, blocks/global_response_norm.py): by name where its scale and
# shift are 1-D like a LayerNorm's; layers/norms.py declines these.
GRN_NAMES = r"grn|global_?response_?norm|response_?norm"


def grn_named(name: str) -> bool:
    return re.search(GRN_NAMES, name, re.IGNORECASE) is not None


def broadcast_vector(shape: tuple) -> bool:
    """[1, ..., 1, C] with at least one leading 1: a per-channel vector shaped to broadcast."""
    return len(shape) > 1 and all(d == 1 for d in shape[:-1])


def channel_map_vector(shape: tuple) -> bool:
    """[1, C, 1, 1], C > 1: one value a channel (or a group), shaped to broadcast over a feature
    map [batch, channels, height, width]; never an nn.LayerNorm's, which would normalise the
    map's last four axes."""
    return len(shape) == 4 and shape[1] != 1 and all(shape[i] == 1 for i in (0, 2, 3))


def raw_value(ctx: BlockContext, key: str, values: tuple | None = None) -> tuple[str, Any] | None:
    """(cited, value) of `key` as the metadata holds it (lists, null), shallowest table first,
    where it is one of `values` (any, without); marked used. None where it is not there (ssm9)."""
    tables = [("", ctx.resolver.nested)]  # (the file it came from, a table)
    while tables:
        for top, table in tables:
            if key in table and (values is None or table[key] in values):
                ctx.resolver.consumed.add(key)
                return f"{top or 'metadata'} {key}", table[key]
        tables = [(top or k, v) for top, t in tables for k, v in t.items() if isinstance(v, dict)]
    return None


def resize_like(g: Graph, x, like, **options):
    """`x` resized bilinear (corners not aligned) to the spatial size of `like`: a pooled or
    strided map brought back to a map it joins (DeepLab's image pooling, its class map)."""
    size = g.call_method("size", like, inline=True)
    hw = g.call_function("getitem", size, Slice(2, None), inline=True)
    kwargs = {"mode": "bilinear", "align_corners": False}
    return g.call_function("interpolate", x, hw, kwargs=kwargs, **options)
