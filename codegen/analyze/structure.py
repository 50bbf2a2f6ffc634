"""Key tree -> modules: built-ins where a recogniser matches, containers for numbered children,
generated classes for everything else, with structurally equal subtrees sharing one class.

Values stay literal here; `hyperparams.py` later turns the ones that repeat or vary into
constructor parameters.
"""

from __future__ import annotations

import copy
import math
import re
from dataclasses import dataclass, field
from typing import Any, Callable

from codegen.choices import ROLE_VIEW, ChoiceResolver
from codegen.errors import ModelgenError
from codegen.layer_spec import parse_layer
from codegen.naming import check_registrable, class_name_for, is_plain_attr
from codegen.analyze.layouts import DENSE_ORDER, NF_STEPS, dense_concat_order
from codegen.analyze.joins import block_paths, consumer_widths, path_joins, projection_path
from codegen.analyze.layouts import DUAL_PATH, dual_path_widths, nf_variance_steps
from codegen.patterns.blocks.dual_path_block import WHY as DUAL_PATH_WHY
from codegen.analyze.strides import (
    TF_EFFICIENTNET_EPS,
    avg_down_shortcuts,
    branch_block,
    branch_downsamplers,
    darknet_downsamplers,
    deep_stem,
    listed_deep_stem,
    feature_encoder_convs,
    first_blocks_after_pooled_stem,
    held_norm,
    later_stage_entries,
    mobile_family,
    mobile_skips,
    mobile_batch_norm_eps,
    mobile_noskip_blocks,
    mobilenet_v3_relu_blocks,
    mixnet_swish_blocks,
    mobile_strides,
    named_image_stem,
    separable_lists,
    plan_config_paddings,
    plan_config_strides,
    pyramidal_stage_entries,
    reparam_stage_entries,
    shuffle_downsamplers,
    shuffle_stem,
    squeeze_place,
    strided_first_1x1,
    tf_ported_efficientnet,
    unpaired_projection,
    xception_skips,
    zero_padded_widening,
)
from codegen.analyze.weight_standardization import standardised_convs
from codegen.analyze.evidence import RECORDED, evidence_module, io_of, merge_args, nn_call
from codegen.analyze.verify import matches
from codegen.ir import Arg, Call, IOSpec, Module, Tensor
from codegen.analyze import mlpconv
from codegen.analyze import padded_convs
from codegen.patterns.blocks import harmonic_dense_block as harmonic
from codegen.keytree import KeyNode
from codegen.patterns import _activations as act
from codegen.patterns._kit import LayerContext as Context
from codegen.patterns._kit import Recognised, family
from codegen.patterns.blocks._path_join import CONSUMER_WIDTH, PATH_JOIN
from codegen.patterns.blocks._conv_parts import conv_kernel, named_units
from codegen.patterns.blocks.chain import (
    MOBILE_SKIPS,
    conv_like,
    opens_depthwise,
    numbered_name,
    reading_order,
)
from codegen.patterns.blocks.channel_shuffle import shuffle_branches
from codegen.patterns.blocks.affine_scale import affine_width
from codegen.patterns.blocks.pixel_excite import gate_convs
from codegen.patterns.blocks.input_normalization import normalised_width
from codegen.patterns.blocks.pooled_pyramid import pyramid_io
from codegen.patterns.blocks.channel_split_norm import split_norm_width
from codegen.patterns.blocks.residual import SHORTCUT_NAMES
from codegen.patterns.blocks.squeeze_excite import SQUEEZE_PLACE
from codegen.patterns.layers.conv import (
    TF_SAME_PORT,
    CRITIC_SLOPE,
    critic_stacks,
    four_by_four_stacks,
    latent_entry,
    rgb_entries,
)
from codegen.patterns.layers.conv_groups import (
    SPLIT_LIST,
    branch_input_groups,
    likely_groups,
    planned_groups,
)
from codegen.patterns.layers.conv_groups import split_lists
from codegen.patterns.layers.hf_conv1d import transposed_convention
from codegen.patterns.layers.norms import LAYER_NORMS_BESIDE, layer_norms_beside_batch_norms
from codegen.patterns.registry import best, named_role
from codegen.safetext import is_index, is_sequential_index


def _tree_readings(root: KeyNode) -> Callable[[Callable[[KeyNode], Any]], Any]:
    """`read(f)`: `f(root)` for a whole-tree reading that is a function of the key tree alone (its
    names, shapes, dtypes and keys; no choice, hint or metadata), remembered by the tree's
    content: each pin round, each calibration candidate and each repeat of a checkpoint analyses
    the same tree again and would read the same. A copy each time: the caller may add to it."""
    key = _content(root)
    readings = _READINGS.pop(key, None)
    if readings is None:
        readings = {}
        while len(_READINGS) >= _TREES_KEPT:
            del _READINGS[next(iter(_READINGS))]
    _READINGS[key] = readings  # (most recently used last)

    def read(f: Callable[[KeyNode], Any]) -> Any:
        if f not in readings:
            readings[f] = f(root)
        return copy.copy(readings[f])

    return read


def _content(node: KeyNode) -> tuple:
    """Everything of a tree a reading may look at. Not `KeyNode.signature`: that leaves out the
    keys, and is cached, where aliases.py changes a fresh tree."""
    return (
        node.name,
        node.path,
        tuple((n, t.name, t.shape, t.dtype, t.tied_to) for n, t in node.tensors.items()),
        tuple((n, _content(c)) for n, c in node.children.items()),
    )


_READINGS: dict[tuple, dict] = {}  # tree content -> {reading: its answer}, oldest first
_TREES_KEPT = 8


def recognise(node: KeyNode, ctx: Context) -> Recognised | None:
    """The catalogue's most specific layer for this node, or None."""
    with ctx.resolver.towered([node.path]):
        found = best("layer", node, ctx)
    return found.found if found is not None else None


# Plain tensors under these names are buffers: state that is not trained.
BUFFER_NAME = re.compile(
    r"^(pe|pos_?enc\w*|position_ids|token_type_ids|inv_freq|freqs?(_cis)?|cos_cached|sin_cached|.*mask.*|"
    r"running_\w+|num_batches_tracked|.*_buffer|causal\w*|anchors?|relative_position_index|scale_buf)$"
)


@dataclass
class Instance:
    node: KeyNode
    members: list[Module | Tensor]
    module: Module  # the registration that uses this instance; hyperparams.py fills its arguments
    absent: tuple[str, ...] = ()  # the class's optional members this subtree lacks


class Unmergeable(Exception):
    """Blocks merged for differing only by optional members turned out not to be one class (no
    condition on the arguments tells them apart, or the forward does not pass the input through
    where the member is missing): analysis runs again without merging."""


@dataclass
class ClassGroup:
    """One generated class and every subtree it is used for."""

    key: tuple
    name: str
    instances: list[Instance] = field(default_factory=list)
    named: str = ""  # the attribute name its forward depends on (registry.named_role), or ""
    recorded_name: bool = False  # the name is the class's own, from a whole-model pickle
    optional: list[str] = field(default_factory=list)  # members some instances lack (in order)


@dataclass
class Structure:
    root_module: (
        Module  # the top: kind "class" (or a built-in / container the top class subclasses)
    )
    groups: list[ClassGroup]  # in creation order: every class after the classes it uses


class StructureBuilder:
    def __init__(
        self,
        resolver: ChoiceResolver,
        buffer_hints: dict[str, str],
        top_name: str,
        described: Any = None,
        merge_optional: bool = True,
    ) -> None:
        self.resolver = resolver
        self.merge_optional = merge_optional
        # A whole-model pickle's module tree (codegen.load.module_pickle): exact types and arguments
        self.described = described
        self.notes: list[str] = []  # what the pickle recorded that the file does not reproduce
        self.buffer_hints = buffer_hints  # key path -> "buffer" | "parameter"
        self.groups: dict[tuple, ClassGroup] = {}
        self.order: list[ClassGroup] = []
        self.taken_names: set[str] = {top_name}
        self.top_name = top_name
        self.strides: dict[str, int] = (
            {}
        )  # conv path -> default stride, from the residual convention
        self.downsamplers: set[str] = set()  # conv paths that are a downsampler's one conv
        self.keeps_resolution: set[str] = set()  # residual blocks the stride rule passes over
        self.stage_entries: set[str] = set()  # later stages' first blocks: stride, however wide
        self.planned: dict[str, tuple[int, str]] = {}  # conv path -> stride config.json fixes
        self.conv1d_convention = ""  # layers/hf_conv1d.py: transposed_convention
        self.paddings: dict[str, tuple[object, str]] = {}  # and its padding, where not half
        self.ungrouped: set[str] = set()  # conv paths config.json fixes as ungrouped
        self.rgb_entries: set[str] = set()  # convs reading an RGB image (layers/conv.py)
        self.latent_entry: str | None = None  # the model's first layer (layers/conv.py)
        self.four_by_four: dict[str, tuple[int, int, str]] = {}  # DCGAN-style 4x4 conv stacks
        self.critics: set[str] = set()  # those scoring with one channel: discriminators
        self.planned_groups: dict[str, int] = {}  # conv path -> groups (layers/conv_groups.py)
        self.likely_groups: dict[str, tuple[int, str]] = {}  # the same, defaults of a choice
        self.mlpconv: dict[str, list[int]] = {}  # Network in Network stacks (analyze/mlpconv.py)
        self.mlpconv_blocks: set[str] = set()
        self.hardnet: set[str] = set()  # HarDNet's `base` lists (blocks/harmonic_dense_block.py)
        self.avg_down: set[str] = set()  # shortcuts with an empty slot 0 (ResNet-D's pool)
        self.avg_pools: set[str] = set()  # those of them in blocks that downsample
        self.stem_pools: set[str] = set()  # a listed deep stem's keyless pool slot
        self.standardised: set[str] = set()  # convs whose weights are standardised by default
        self.strided_1x1: set[str] = set()  # blocks whose first 1x1 conv takes the stride
        self.mobile: dict[str, int] = {}  # conv path -> stride, a mobile network's stages
        self.relu_blocks: frozenset[str] = frozenset()  # a MobileNetV3's early blocks
        self.noskip_blocks: frozenset[str] = frozenset()  # blocks a family builds unskipped
        self.separable: set[str] = set()  # MobileNetV1's blocks as one Sequential each
        self.dual_path: dict[str, tuple[int, int]] = {}  # block path -> (residual, dense)

    def _plan_strides(self, node: KeyNode) -> None:
        """A residual block whose shortcut doubles the channels, or projects without widening,
        halves the resolution (ResNet): its first spatial conv and the shortcut's conv default to
        stride 2. Other convs default to 1.
        The body's convs are the block's own or, beside the shortcut, those of one body Sequential
        (Hugging Face's `layer`), in index order."""
        if branch_block(node) is not None:
            return  # (a 1x1 branch beside kxk ones is no projection: branch_downsamplers)
        # By shapes first (a body named `residual`, pytorch-cifar100's, beside its `shortcut`;
        # fastai's `idpath`), then by name.
        shortcut = projection_path(node)
        shaped = shortcut is not None
        if shortcut is None:
            shortcut = next(
                (c for n, c in node.children.items() if n.lower() in SHORTCUT_NAMES), None
            )
        shortcut = shortcut or unpaired_projection(node)
        convs = [c for c in node.children.values() if _conv_weight(c) is not None]
        if shortcut is not None and shortcut.name.lower() not in SHORTCUT_NAMES:
            convs = [c for c in convs if c is not shortcut]  # an unpaired projection
        others = [c for c in node.children.values() if c is not shortcut]
        if shaped:  # the body path alone (a squeeze-excitation beside it strides nothing)
            others = [c for c in block_paths(node) if c is not shortcut]
        if not convs and len(others) == 1 and all(map(is_sequential_index, others[0].children)):
            convs = [c for c in others[0].walk() if _conv_weight(c) is not None]
        if not convs and shortcut is not None:
            convs = _wrapped_unit_convs(others)
        bare = bool(convs) and all(c is shortcut for c in convs)  # pycls' `proj` beside `f`
        unit_class = not convs and shortcut is not None and "conv" in shortcut.children
        if shortcut is not None and (bare or unit_class or not convs):
            # The units inside one body class (imgclsmob's ResUnit: `body` = ResBlock of
            # ConvBlocks), beside the shortcut's own norm where the block holds it (pycls' `bn`);
            # or beside a Sequential shortcut (torchvision's RegNet: `f` = a, b, se, c; `proj`).
            bodies = [c for c in others if c.children]
            if len(bodies) == 1 and all(c is bodies[0] or not c.children for c in others):
                inner = list(bodies[0].children.values())
                listed = []  # a flat body Sequential beside a bare conv shortcut
                if all(map(is_sequential_index, bodies[0].children)):
                    listed = [c for c in bodies[0].walk() if _conv_weight(c) is not None]
                convs = _wrapped_unit_convs(inner) or _named_pair_convs(inner) or listed or convs
        # openai's improved-/guided-diffusion Downsample holds its strided conv as `op`.
        openai_op = list(node.children) == ["op"]
        if (DOWNSAMPLER.fullmatch(naming_segment(node.path)) or openai_op) and len(
            node.children
        ) == 1:
            # A downsampler holding one spatial conv that keeps the width (diffusers' Downsample2D,
            # a U-Net's `down`): it halves the resolution.
            w = _conv_weight(convs[0]) if convs else None
            if w is not None and max(w[2:]) > 1 and w[0] == w[1]:
                self.strides[convs[0].path] = 2
                self.downsamplers.add(convs[0].path)
        if shortcut is None and node.path not in self.keeps_resolution:
            widening = zero_padded_widening(node)  # option A: no shortcut member, widens 2x
            if widening is not None:
                self.strides[widening.path] = 2
        if shortcut is None or not convs:
            return
        short_convs = [c for c in shortcut.walk() if _conv_weight(c) is not None]
        if not short_convs:
            return
        w_in, w_short = _conv_weight(convs[0]), _conv_weight(short_convs[0])
        # A projection shortcut that keeps the width exists only because the resolution changes
        # (torchvision's, timm's and pycls' blocks build one when stride != 1 or widths differ).
        same_width = w_short[0] == w_short[1] == w_in[1] and max(w_short[2:]) == 1
        # pycls' and torchvision's RegNet (`f` beside `proj`): every stage halves the resolution
        # in its first block, whatever its widening (Radosavovic et al. 2020: 32 -> 48 in Y-400MF).
        any_width = shortcut.name == "proj" and "f" in node.children
        widens = w_short[0] == 2 * w_in[1] or node.path in self.stage_entries
        if not (widens or same_width or any_width) or node.path in self.keeps_resolution:
            return
        spatial = next((c for c in convs if max(_conv_weight(c)[2:]) > 1), None)
        if spatial is not None and spatial.path in self.mobile:
            return  # a mobile block's projection: mobile_strides read what its code builds
        if len(convs) >= 3 and held_norm(convs[0]) and max(_conv_weight(convs[0])[2:]) == 1:
            # Detectron2's bottleneck (its convs hold their norms) strides on the first 1x1: its
            # RESNETS.STRIDE_IN_1X1 defaults to True, for the MSRA weights it ships.
            spatial = convs[0]
        if node.path in self.strided_1x1:
            spatial = node.children["conv1"]  # Cadene's SE-ResNet bottleneck strides its 1x1
        listed = [] if spatial is not None else _spatial_list(others)
        if shortcut.path in self.avg_down:  # ResNet-D: the pool before the 1x1 conv strides
            self.avg_pools.add(shortcut.path)
            short_convs = []
        for conv in (spatial, *listed, *short_convs[:1]):
            if conv is not None:
                self.strides[conv.path] = 2

    def build(self, root: KeyNode) -> Structure:
        for node in root.walk():
            both = sorted(set(node.tensors) & set(node.children))
            if both:
                key = node.tensors[both[0]].name
                raise ModelgenError(
                    f"key {key!r} is a tensor and also a module holding other keys; no nn.Module "
                    "can hold both under one name: rename one with --remap"
                )
        if layer_norms_beside_batch_norms(root):  # read by layers/norms.py's batch norms' eps
            self.resolver.structural.setdefault(("", LAYER_NORMS_BESIDE), (True, "norms' names"))
        self.planned = plan_config_strides(root, self.resolver)
        read = _tree_readings(root)
        self.keeps_resolution = read(first_blocks_after_pooled_stem)
        self.stage_entries = read(later_stage_entries)
        self.strided_1x1 = strided_first_1x1(root)
        self.avg_down = read(avg_down_shortcuts)
        for node in root.walk():
            first = deep_stem(node)
            if first is not None:
                self.strides[first.path] = 2
            listed = listed_deep_stem(node)
            if listed is not None:  # the stem's max pool in the network's own list
                self.strides[listed[0].path] = 2
                self.stem_pools.add(listed[1])
        for path in read(branch_downsamplers):
            self.strides[path] = 2
        for path in harmonic.hardnet_stem_convs(root, harmonic.hardnet_bases(root)):
            self.strides[path] = 2
        self.planned_groups = read(planned_groups)
        self.likely_groups = read(likely_groups)
        for path in read(branch_input_groups):
            # A cell whose separable branches widen what enters it halves the map: pytorch-cifar's
            # PNASNet widens only in its stride-2 cells (blocks/separable_branch_cell.py).
            self.strides[path] = 2
        for path in read(darknet_downsamplers):
            self.strides[path] = 2
        for path in xception_skips(root):
            self.strides[path] = 2
        for path in read(reparam_stage_entries):
            self.strides[path] = 2
        for path in read(pyramidal_stage_entries):
            self.strides[path] = 2
        shuffled = shuffle_downsamplers(root)
        for path in shuffled:
            self.strides[path] = 2
        stem = shuffle_stem(root, shuffled)
        if stem is not None:
            self.strides[stem.path] = 2
        stem = named_image_stem(root)
        if stem is not None:
            self.strides[stem.path] = 2
        # A mobile network's stages (MobileNet, MnasNet, EfficientNet): the family's schedule.
        self.mobile = read(mobile_strides)
        self.strides.update(self.mobile)
        if self.mobile:  # read by the chain's conv classifier head (output_pooling)
            why = "a mobile network's body of depthwise blocks"
            self.resolver.structural.setdefault(("", act.MOBILE_BODY), ("mobile", why))
        for path, steps in nf_variance_steps(root).items():  # blocks/norm_free_block.py's beta
            self.resolver.structural.setdefault((path, NF_STEPS), steps)
        self.dual_path = read(dual_path_widths)
        for path, split in self.dual_path.items():  # blocks/dual_path_block.py's split
            self.resolver.structural.setdefault((path, DUAL_PATH), (split, DUAL_PATH_WHY))
        for path, proof in read(path_joins).items():  # sum or concat: blocks/_path_join.py
            self.resolver.structural.setdefault((path, PATH_JOIN), proof)
        for path, taken in read(consumer_widths).items():  # read by blocks/solved_wiring.py
            self.resolver.structural.setdefault((path, CONSUMER_WIDTH), taken)
        order = dense_concat_order(root)
        if order is not None:  # read by blocks/preact_conv.py's DenseBottleneck
            self.resolver.structural.setdefault(("", DENSE_ORDER), order)
        family = mobile_family(root)
        if family is not None:  # read by the mobile blocks' patterns and the empty slots
            self.resolver.structural.setdefault(("", act.MOBILE_FAMILY), family)
        early = mobilenet_v3_relu_blocks(root)
        if early is not None:  # read by the mobile patterns; its blocks keep classes of their own
            self.resolver.structural.setdefault(("", act.MOBILE_RELU_BLOCKS), early)
            self.relu_blocks = early[0]
        swish = mixnet_swish_blocks(root)
        if swish is not None:  # read as MOBILE_RELU_BLOCKS is: classes apart by activation
            self.resolver.structural.setdefault(("", act.MOBILE_SWISH_BLOCKS), swish)
            self.relu_blocks = swish[0]
        noskip = mobile_noskip_blocks(root)
        if noskip is not None:  # read by blocks/inverted_residual.py; classes apart by residual
            self.resolver.structural.setdefault(("", act.MOBILE_NOSKIP_BLOCKS), noskip)
            self.noskip_blocks = noskip[0]
        ported = tf_ported_efficientnet(root)
        if ported is not None:  # read by layers/conv.py (strided convs pad 'SAME') and the norms
            self.resolver.structural.setdefault(("", TF_SAME_PORT), ported)
            self.resolver.structural.setdefault(
                ("", "batch_norm_eps"), (TF_EFFICIENTNET_EPS, ported)
            )
        eps = mobile_batch_norm_eps(root)
        if eps is not None:  # read by every batch norm's model-wide eps
            self.resolver.structural.setdefault(("", "batch_norm_eps"), eps)
        place = squeeze_place(root)
        if place is not None:  # read by blocks/inverted_residual.py where widths cannot tell
            self.resolver.structural.setdefault(("", SQUEEZE_PLACE), place)
        self.separable = separable_lists(root)
        self.split_lists = split_lists(root)
        for path, widths in self.split_lists.items():  # read by blocks/split_concat.py
            self.resolver.structural.setdefault((path, SPLIT_LIST), widths)
        skips = mobile_skips(root)
        if skips is not None:  # read by the chain's residual choice
            self.resolver.structural.setdefault(("", MOBILE_SKIPS), skips)
        self.conv1d_convention = transposed_convention(root)
        self.paddings = plan_config_paddings(root, self.resolver, self.planned)
        self.ungrouped = set(feature_encoder_convs(root, self.resolver))
        self.rgb_entries = rgb_entries(root)
        self.latent_entry = latent_entry(root)
        self.four_by_four = four_by_four_stacks(root)
        self.critics = critic_stacks(root)
        self.mlpconv = mlpconv.mlpconv_stacks(root)
        for key, pin in padded_convs.padded_stacks(root).items():  # pads as layers of their own
            self.resolver.structural.setdefault(key, pin)
        # (the conv geometry a stack's convention fixes, read as the 4x4 stacks' is)
        self.four_by_four.update(mlpconv.mlpconv_geometry(root, self.mlpconv))
        self.hardnet = harmonic.hardnet_bases(root)
        self.mlpconv_blocks = {
            f"{path}.{n}" if path else str(n) for path, ns in self.mlpconv.items() for n in ns
        }
        self.standardised = standardised_convs(root)
        top = self.module_for(root, self._context(root))
        if self.merge_optional:
            self._merge_optional(self.order[-1] if top.kind == "class" else None)
        if top.kind == "class":
            # The root's subtree is the whole checkpoint, so its class is never shared: name it.
            group = self.order[-1]
            self.taken_names.discard(group.name)
            group.name = top.type_name = self.top_name
        return Structure(top, self.order)

    # ------------------------------------------------------------------------------------------

    def _merge_optional(self, top: ClassGroup | None) -> None:
        """One class for blocks that differ only by members some of them lack (a residual block
        with and without its shortcut's projection): the larger group takes the smaller one's
        instances, which record what they lack. Values a layer does not record (a conv's stride,
        a choice) may differ; hyperparams.py lifts them and says when the member is built."""
        while True:
            pair = next(
                (
                    (a, b, extra)
                    for b in self.order
                    for a in self.order
                    if a is not b
                    and top is not a
                    and top is not b
                    and (extra := _optional_extra(a, b)) is not None
                ),
                None,
            )
            if pair is None:
                break
            a, b, extra = pair
            for inst in a.instances:
                inst.module.type_name = b.name
                b.instances.append(Instance(inst.node, inst.members, inst.module, extra))
            b.optional = extra
            self.order = [g for g in self.order if g is not a]
            del self.groups[a.key]
            self.taken_names.discard(a.name)
        self.order = _after_their_parts(self.order)

    def _described(self, path: str) -> Any:
        return self.described.find(path) if self.described is not None else None

    def module_for(self, node: KeyNode, ctx: Context) -> Module:
        made = len(self.resolver.made)
        found = recognise(node, ctx)
        recorded = self._recorded_layer(node, found)
        if recorded is not None:
            del self.resolver.made[made:]  # the catalogue's guesses are settled by the record
            return recorded
        conv = self._conv_holding_norm(node, ctx)
        if conv is not None:
            return conv
        if found is not None and matches(found.call(), node):
            return Module(
                node.name,
                "builtin",
                found.type_name,
                found.args,
                io=found.io,
                choices=found.choices,
            )
        if node.path in self.split_lists:  # convs over one split tensor: a class that joins them
            module = self._class_instance(node)
            ins, outs = self.split_lists[node.path]
            ndim = len(node.children["0"].tensors["weight"].shape) - 2
            # read as one conv by its neighbours: it takes and gives the widths together
            module.io = IOSpec("conv", sum(ins), sum(outs), ndim)
            return module
        if (
            not node.tensors
            and node.children
            and all(is_sequential_index(n) for n in node.children)
        ):
            # (what reaches it, where its parent's dataflow shows it: a first conv reads that)
            return self._numbered(node, ctx.prev)
        if (
            node.path
            and not node.tensors
            and node.children
            and not any(map(is_plain_attr, node.children))
        ):
            return self._dict(node)
        return self._class_instance(node)

    def _conv_holding_norm(self, node: KeyNode, ctx: Context) -> Module | None:
        """A conv that holds its norm as a child (strides.held_norm): the torch.nn conv its own
        tensors make, with the norm attached to it (`self.conv1.norm = ...`). Whoever calls it
        calls the norm after it: a pattern that does not know the norm is there leaves it unused,
        and dataflow.py then says the forward is missing it."""
        norm_node = held_norm(node)
        if norm_node is None or is_sequential_index(node.name):
            return None  # (an item of a list: the file attaches the norm to a member only)
        bare = KeyNode(node.name, node.path, dict(node.tensors), {})
        conv = recognise(bare, ctx)
        if conv is None or conv.io.family != "conv" or not matches(conv.call(), bare):
            return None
        norm = self.module_for(norm_node, self._context(norm_node, prev=conv.io))
        if norm.kind != "builtin" or norm.io is None or norm.io.family != "norm":
            return None
        return Module(
            node.name,
            "builtin",
            conv.type_name,
            conv.args,
            children=[norm],
            io=conv.io,
            choices=conv.choices,
        )

    def _recorded_layer(self, node: KeyNode, found: Recognised | None) -> Module | None:
        """The torch.nn layer the pickle recorded at this path, with its proven constructor call."""
        desc = self._described(node.path)
        if desc is None or not desc.torch_nn or desc.torch_nn in ("Sequential", "ModuleList"):
            return None
        call = nn_call(desc)
        if call is None or not matches(call, node):
            if found is not None and found.type_name != f"nn.{desc.torch_nn}":
                self.notes.append(
                    f"{node.path or 'the model'}: recorded as nn.{desc.torch_nn}, built as "
                    f"{found.type_name} (its recorded arguments do not determine a call)"
                )
            return None
        same = found is not None and found.type_name == call.type_name
        args = merge_args(found.args if same else [], call, call.type_name)
        # Recorded widths beat the catalogue's reading of shapes (a depthwise conv's groups).
        recorded_io = io_of(call, desc)
        if same and found is not None and recorded_io.family not in ("linear", "conv"):
            recorded_io = found.io
        io = recorded_io
        return Module(node.name, "builtin", call.type_name, args, io=io)

    def _unkeyed(self, node: KeyNode) -> dict[str, Module]:
        """Recorded children the keys do not show (parameter-free layers), by attribute name."""
        desc = self._described(node.path)
        out: dict[str, Module] = {}
        for name, child in (desc.children.items() if desc is not None else ()):
            if name in node.children or child is None:
                continue
            module = evidence_module(name, child)
            if module is None or not is_plain_attr(name):
                where = f"{node.path}.{name}" if node.path else name
                self.notes.append(
                    f"{where}: recorded {child.qualified} holds no tensors and is not a torch.nn "
                    "layer the file can rebuild; left out"
                )
                continue
            out[name] = module
        return out

    def _dict(self, node: KeyNode) -> Module:
        """Children whose names cannot be attributes: an nn.ModuleDict keyed by the exact names.
        Names of one prefix and a running number (torchvision's RegNet stage, an nn.Sequential
        of `block1-0`, `block1-1`) are its items in that order; where their widths chain they
        run one after another, as the Sequential did (`io` spans them; see `numbered_items`)."""
        children = list(node.children.values())
        numbered = numbered_items([c.name for c in children])
        if numbered is not None:
            children = [node.children[name] for name in numbered]
        items = []
        for child in children:
            check_registrable(child.name, child.path)
            items.append(self.module_for(child, self._context(child)))
        io = IOSpec("dict")
        if numbered is not None and _composes(items):
            io = _span_io("sequential", items)
        module = Module(node.name, "moduledict", "nn.ModuleDict", children=items, io=io)
        units = named_units(module) if numbered is None else None
        if units is not None:  # conv-norm units named `stem_1/conv`, `stem_1/norm`, ...: a chain
            module.io = _span_io("sequential", [m for unit in units for m in unit])
        return module

    def _context(
        self, node: KeyNode, prev: IOSpec | None = None, nxt: IOSpec | None = None
    ) -> Context:
        return Context(
            self.resolver,
            prev,
            nxt,
            stride=self.planned.get(node.path, (self.strides.get(node.path, 1), None))[0],
            stride_note=self.planned.get(node.path, (1, None))[1],
            downsampler=node.path in self.downsamplers,
            conv1d_convention=self.conv1d_convention,
            padding=self.paddings.get(node.path, (None, None))[0],
            padding_note=self.paddings.get(node.path, (None, None))[1],
            ungrouped=node.path in self.ungrouped,
            image_enters_elsewhere=bool(self.rgb_entries - {node.path}),
            latent_entry=node.path == self.latent_entry,
            four_by_four=self.four_by_four.get(node.path),
            planned_groups=self.planned_groups.get(node.path),
            likely_groups=self.likely_groups.get(node.path),
            standardised=node.path in self.standardised,
        )

    def _members(
        self, node: KeyNode, entry_io: IOSpec | None = None
    ) -> tuple[list[Module | Tensor], bool]:
        """Tensors, then modules in reading order: the order data flows through them where widths
        show it, else by names (`reading_order`), never the file's key order. A layer whose type
        depends on its neighbours (a norm's dimensionality, a conv's groups) sees its neighbours in
        that order."""
        self._plan_strides(node)
        members: list[Module | Tensor] = []
        for name, entry in node.tensors.items():
            check_registrable(name, entry.name)
            members.append(self._tensor(name, entry.name, entry.shape, entry.dtype))
        # First pass without neighbours: what each child is and which widths it takes and gives.
        first: dict[str, Module] = {}
        layers: set[str] = set()
        made: dict[str, tuple[int, int]] = {}  # child -> the range of choices its build made
        for child in node.children.values():
            check_registrable(child.name, child.path or child.name)
            found = self._peek(child)
            if found is not None and matches(found.call(), child):
                layers.add(child.name)
                first[child.name] = Module(child.name, "builtin", found.type_name, io=found.io)
            else:  # containers and classes build their own insides; neighbours do not matter
                start = len(self.resolver.made)
                first[child.name] = self.module_for(child, self._context(child))
                made[child.name] = (start, len(self.resolver.made))
        self._regroup_wrapped_convs(node, first, made)
        ordered, chained = reading_order(list(first.values()))
        order = [m.attr for m in ordered]
        unkeyed = self._unkeyed(node)
        desc = self._described(node.path)
        if desc is not None:  # registration order, as recorded: the order the author wrote
            order = [n for n in desc.children if n in first or n in unkeyed] + [
                n for n in order if n not in desc.children
            ]
        final: dict[str, Module] = {}
        for i, attr in enumerate(order):
            if attr in unkeyed:
                final[attr] = unkeyed[attr]
                continue
            if attr not in layers:
                final[attr] = first[attr]
                before = order[i - 1] if chained and i > 0 else None
                child = node.children[attr]
                if before and _regrouped_by(first[attr], final[before]) and not child.tensors:
                    # Only here, where widths chain the siblings: a ModuleList's items (branches)
                    # do not read each other.
                    final[attr] = self._numbered(child, final[before].io)
                continue
            # Neighbours from the dataflow; in an order by names only, from a named pair (bn1, conv1)
            before = order[i - 1] if i > 0 else None
            after = order[i + 1] if i + 1 < len(order) else None
            if i == 0 and entry_io and first[attr].io and first[attr].io.family == "conv":
                # What the sibling before this class gives (_regroup_wrapped_convs): the first
                # conv reads it, grouped where it reads a fraction.
                prev, nxt = entry_io, (first.get(after) or unkeyed.get(after)) if after else None
                child = node.children[attr]
                context = self._context(child, prev, nxt.io if nxt is not None else None)
                final[attr] = self.module_for(child, context)
                continue
            if not chained:
                feeds = before and _feeds_grouped(first[before], first[attr], list(first.values()))
                before = before if before and (_paired(before, attr) or feeds) else None
                after = after if after and _paired(attr, after) else None
            elif first[attr].io is not None and first[attr].io.family == "norm":
                # A norm's type follows the layer it normalises: trust the order only where that
                # layer is the one member giving this width (a ViT's final norm is not the stem's).
                width = first[attr].io.in_width
                givers = [m for m in first.values() if m.attr != attr and _gives(m, width)]
                wrapped = before and first[before].kind == "class" and conv_like(first[before])
                if before and not _paired(before, attr) and len(givers) != 1 and not wrapped:
                    before = None  # (but a class wrapping a conv, right before it, is its layer)
                # A norm no member feeds normalises what enters the class (a tabular MLP's
                # input BatchNorm1d, a GroupNorm before a U-Net's first conv): the layer after it
                # in the chain, reading its width, is the one it feeds.
                entry = i == 0 and not givers and after is not None and _takes(first[after], width)
                after = after if after and (_paired(attr, after) or entry) else None
            prev = final[before].io if before else None
            if before and prev is not None and final[before].kind == "class":
                if conv_like(final[before]) and self._wrapped_conv(final[before]) is not None:
                    # a class wrapping its conv (a pad, then the conv): its norm reads a conv's map
                    prev = IOSpec("conv", prev.in_width, prev.out_width, prev.ndim)
            nxt = (first.get(after) or unkeyed[after]).io if after else None
            child = node.children[attr]
            context = self._context(child, prev, nxt)
            # A norm right after a named patchify conv (timm's PatchEmbed `proj` then `norm`) is
            # over the channels of the patch tokens, as after a numbered one (_numbered).
            context.after_patchify = before is not None and _patchify(final[before])
            final[attr] = self.module_for(child, context)
        return members + [final[attr] for attr in order], chained

    def _regroup_wrapped_convs(
        self, node: KeyNode, first: dict[str, Module], made: dict[str, tuple[int, int]]
    ) -> None:
        """A class wrapping one conv and its norm (timm's ConvNormAct `conv2` = {conv, bn}) whose
        conv reads a fraction of what the sibling its name follows gives (`conv1`, or `a` before
        `b`): a grouped conv over that width (RegNet, ResNeXt), which the class alone would read as
        ungrouped. Built again with that sibling's output as its input; the same rule as for a
        Sequential (`_regrouped_by`), one level further in."""
        rebuild = []
        for attr, module in first.items():
            inner = self._wrapped_conv(module)
            if inner is None or not inner.io.in_width:
                continue
            stem, number = numbered_name(attr)
            feeds = [
                m
                for a, m in first.items()
                if a != attr
                and m.io is not None
                and m.io.out_width
                and m.io.out_width > inner.io.in_width
                and m.io.out_width % inner.io.in_width == 0
                and stem is not None
                and numbered_name(a) == (stem, number - 1)
            ]
            if len(feeds) == 1 and attr in made:
                rebuild.append((attr, feeds[0].io))
        for attr, entry in sorted(rebuild, key=lambda r: made[r[0]][0], reverse=True):
            start, end = made[attr]
            del self.resolver.made[start:end]
            self._forget_instance(first[attr])
            child = node.children[attr]
            first[attr] = self._class_instance(child, entry)

    def _wrapped_conv(self, module: Module) -> Module | None:
        """The conv a class instance applies first, where the class holds only built-in layers
        (a conv and its norm, maybe more after them): None otherwise."""
        if module.kind != "class":
            return None
        group = next((g for g in self.order if g.name == module.type_name), None)
        inst = next((i for i in group.instances if i.module is module), None) if group else None
        if inst is None:
            return None
        members = [m for m in inst.members if isinstance(m, Module)]
        if not members or any(m.kind != "builtin" for m in members):
            return None
        if family(members[0]) != "conv":
            return None
        # more convs may follow the first (ResNeSt's split attention: its grouped 3x3, then the
        # 1x1 attention convs), which read what the first gives, not the sibling's output
        return members[0] if members[0].io is not None else None

    def _forget_instance(self, module: Module) -> None:
        """Undo one class instance's registration (to build it again with its neighbours)."""
        group = next(g for g in self.order if g.name == module.type_name)
        group.instances = [i for i in group.instances if i.module is not module]
        if not group.instances:
            self.order.remove(group)
            del self.groups[group.key]
            self.taken_names.discard(group.name)

    def _peek(self, node: KeyNode) -> Recognised | None:
        """The layer a node would be without neighbours, recording no choice."""
        made = len(self.resolver.made)
        found = recognise(node, self._context(node))
        del self.resolver.made[made:]
        return found

    def _tensor(self, attr: str, key: str, shape: tuple[int, ...], dtype: str) -> Tensor:
        hint = self.buffer_hints.get(key) or self._recorded_kind(key)
        integral = not (
            dtype.startswith("float") or dtype.startswith("bfloat") or dtype.startswith("complex")
        )
        if hint is not None:
            kind = hint
        elif integral or BUFFER_NAME.match(attr):
            kind = "buffer"
        else:
            kind = "parameter"
        if kind == "parameter" and integral:
            kind = "buffer"  # only floating point tensors can require gradients
        return Tensor(attr, tuple(shape), dtype, kind, f"{key}: {dtype} {list(shape)}")

    def _recorded_kind(self, key: str) -> str | None:
        owner, _, name = key.rpartition(".")
        desc = self._described(owner)
        if desc is None:
            return None
        return (
            "parameter" if name in desc.parameters else "buffer" if name in desc.buffers else None
        )

    def _stride_plan(self, node: KeyNode) -> tuple:
        """What was planned for `node` and the layers under it, by path below it: strides, and
        where a block sits (a normalizer-free block's place, analyze/layouts.py). (Not the pins
        patterns request on the first of identical items: the others follow a round later.)"""
        start = len(node.path) + 1
        planned = {p: s for p, (s, _) in self.planned.items()} | self.strides
        below = [(p[start:], s) for p, s in planned.items() if p.startswith(node.path + ".")]
        for (path, name), value in self.resolver.structural.items():
            if name == NF_STEPS and (path == node.path or path.startswith(node.path + ".")):
                below.append((path[start:] + ":" + name, repr(value)))
        return tuple(sorted(below, key=repr))

    def _numbered(self, node: KeyNode, entry: IOSpec | None = None) -> Module:
        """Numbered children: a repeated block, a ModuleList of blocks, or a Sequential with gaps.
        `entry`: what a sibling before this Sequential gives, where the dataflow shows it; a first
        conv reads it (a grouped conv's in_channels: torchvision's RegNet `f.b` = [conv, bn])."""
        indices = sorted(int(n) for n in node.children)
        desc = self._described(node.path)
        recorded = desc is not None and desc.torch_nn in ("Sequential", "ModuleList")
        if recorded and all(is_sequential_index(n) for n in desc.children):
            indices = sorted(set(indices) | {int(n) for n in desc.children})
        contiguous = indices == list(range(len(indices)))
        children = [node.children[str(i)] for i in indices if str(i) in node.children]
        first_sig = children[0].signature
        if (
            contiguous
            and len(children) > 1
            and len(children) == len(indices)
            and not (recorded and desc.torch_nn == "Sequential")
            and all(c.signature == first_sig for c in children)
            and len({self._stride_plan(c) for c in children}) == 1
            # (a pin that sets copies apart, HiFi-GAN's dilations: each is built with its own)
            and not any((c.path, "dilation") in self.resolver.structural for c in children)
            and len({c.path in self.noskip_blocks for c in children}) == 1
        ):
            # Identical copies carry no new information: analyze the first only (not where a
            # plan sets one apart: a RepVGG stage's strided first block, an NF block's place).
            item = self.module_for(children[0], self._context(children[0]))
            if item.kind in ("class", "builtin"):
                return Module(
                    node.name,
                    "repeat",
                    "nn.ModuleList",
                    children=[item],
                    repeat=len(children),
                    copies=len(children),
                    io=item.io,
                    comment=f"{node.path}.0-{len(children) - 1}",
                )
        items: list[Module] = []
        first_conv = _conv_weight(children[0]) is not None and "0" in node.children
        prev: IOSpec | None = entry if first_conv else None
        last_layer = None  # the conv just built: its choices' range and what reached it
        for i in range(indices[-1] + 1):
            child = node.children.get(str(i))
            if child is None:
                last_layer = None
                recorded_item = (
                    evidence_module(str(i), desc.children.get(str(i))) if recorded else None
                )
                after_gap = bool(items) and items[-1].kind == "placeholder"
                done = [node.children[str(j)] for j in range(i) if str(j) in node.children]
                # (after a conv collapsing its map to 1x1, no pooling: its activation)
                geometry = self.four_by_four.get(done[-1].path, (0, 1)) if done else (0, 1)
                collapsed = geometry[:2] == (1, 0)
                head = _head_gap(node, i, prev, collapsed) or _view_gap(node, i, prev, after_gap)
                # (after a view to a map, the slot is the activation, as after a layer)
                # (nor after a shuffle's slot: the activation that follows the shuffle)
                after_gap = after_gap and items[-1].type_name not in (
                    "nn.Unflatten",
                    "nn.PixelShuffle",
                )
                if head is None and not after_gap:
                    head = _shuffle_gap(node, i, prev)
                if after_gap and head is None and _blocks_between(node) and prev is not None:
                    # VGG's stages of blocks (ACNet's): the activation's slot, then a pool
                    head = "nn.MaxPool2d(2)" if prev.ndim == 2 else None
                if node.path in self.mlpconv:  # between NiN blocks: a pool, then dropout
                    head = mlpconv.SECOND_SLOT if after_gap else mlpconv.BLOCK_POOL
                parent = node.path.rpartition(".")[0] if "." in node.path else ""
                if node.path in self.hardnet:  # a pool after the stem, 2x2 ones later
                    blocks = [n for n in done if harmonic.harmonic_block(n)]
                    head = harmonic.HARDNET_POOL if blocks else harmonic.HARDNET_STEM_POOL
                elif (
                    parent in self.hardnet and i < len(harmonic.HARDNET_HEAD) and _ends_linear(node)
                ):
                    head = harmonic.HARDNET_HEAD[i]  # the head's pool, flatten, dropout
                critic = _critic_slot(node, i, items, self.critics) if head is None else None
                if critic is not None:  # a discriminator's slot: the GAN convention
                    path = f"{node.path}.{i}" if node.path else str(i)
                    self.resolver.structural.setdefault((path, "module_type"), critic)
                # (a third slot, after the pool's: SimpleNet's `MaxPool2d, Dropout2d`)
                pooled = after_gap and items[-1].type_name.startswith(("nn.MaxPool", "nn.AvgPool"))
                items.append(
                    recorded_item
                    or self._gap(node, i, prev, after_gap=after_gap, head=head, after_pool=pooled)
                )
                slot = items[-1].io
                if prev is not None and slot is not None and slot.out_width != prev.out_width:
                    prev = IOSpec(prev.family, slot.in_width, slot.out_width, prev.ndim)  # shuffle
                continue
            # A norm-like layer's kind shows in what follows it too, past activation slots (PReLU's
            # slopes between convs; a norm feeding a conv over a feature map is a group norm).
            later = [node.children.get(str(j)) for j in range(i + 1, indices[-1] + 1)]
            after = next((c for c in later if c is not None), None)
            # (weight and bias: only norm -> activation slot -> layer, openai's [norm, SiLU, conv])
            weights = set(child.tensors)
            gap_then = bool(later) and later[0] is None
            lone = not child.children and (
                weights == {"weight"} or (weights == {"weight", "bias"} and gap_then)
            )
            peeked = self._peek(after) if after is not None and lone else None
            reaching = None if _unproven_entry(child, items) else prev
            context = self._context(child, reaching, peeked.io if peeked is not None else None)
            context.after_patchify = bool(items) and _patchify(items[-1])
            context.latent_entry = context.latent_entry or _after_unit_map(items)
            start = len(self.resolver.made)
            module = self.module_for(child, context)
            if last_layer is not None and _block_reads_transposed(items[-1], module):
                # The conv before fits only as a transposed one (its next reads its weight's
                # second width): built again so, its choices recorded anew.
                conv_start, conv_end, conv_prev = last_layer
                del self.resolver.made[conv_start:conv_end]
                redo = self._context(node.children[items[-1].attr], conv_prev)
                redo.transposed = True
                items[-1] = self.module_for(node.children[items[-1].attr], redo)
            is_layer = module.kind == "builtin" and family(module) == "conv"
            last_layer = (start, len(self.resolver.made), reaching) if is_layer else None
            items.append(module)
            prev = module.io or prev
        stem = node.children.get("0")
        if stem is not None and items and _sequential_stem(items):
            # The stem's pool holds no tensors and ends it, so no slot shows it (d2l's ResNet:
            # `b1 = Sequential(conv 7x7/2, bn, ReLU, MaxPool2d(3, 2, 1))`): a 7x7 stem's pool by
            # convention (He et al. 2016, table 1), as the chain offers after a stem; a choice.
            pool = self._gap(stem, 3, items[0].children[-1].io, head=STEM_POOL)
            items[0].children.append(pool)
        for item in items[:-1]:
            if _sequential_transition(item):
                # A DenseNet transition (BN, ReLU, 1x1 conv narrowing, 2x2 average pool; Huang
                # et al. 2017) written as a Sequential: its pool ends it, so no slot shows it
                # (d2l's `transition_block`); by that convention, a choice.
                last = node.children[item.attr]
                pool = self._gap(last, len(item.children), item.children[-1].io, head=AVG_POOL)
                item.children.append(pool)
        if node.path in self.mlpconv_blocks:  # a NiN block's closing ReLU: past its last key
            items.append(self._gap(node, len(items), items[-1].io, trailing=True))
        if node.path not in self.mlpconv and _blocks_activated_between(node, items):
            # the last block's activation, past the keys (NiN's blocks close with their own)
            items.append(self._gap(node, len(items), items[-1].io, trailing=True))
        if node.path in self.mlpconv:  # after the last NiN block: global pool, flatten
            for head in mlpconv.TAIL:
                items.append(self._gap(node, len(items), items[-1].io, head=head))
        shuffle = _trailing_shuffle(items)
        if shuffle is not None:  # the last upsampling pair's shuffle: no slot after it shows
            items.append(self._gap(node, len(items), items[-1].io, head=shuffle))
            if _shuffle_then_slot(items[:-1]):  # and its activation, as the pairs before have
                items.append(self._gap(node, len(items), items[-1].io))
        conv_norm = len(items) == 2 and [family(m) for m in items] == ["conv", "norm"]
        # A shortcut's projection has none; nor has a patchify conv's norm (ConvNeXt's stem).
        # A MobileNetV1 layer's Sequential ends in an activation after its 1x1 conv's norm too.
        separable = node.path in self.separable and [family(m) for m in items[-2:]] == [
            "conv",
            "norm",
        ]
        if separable:
            items.append(self._gap(node, len(items), items[-1].io, trailing=True))
        elif conv_norm and node.name not in SHORTCUT_NAMES and not _patchify(items[0]):
            # conv-norm-activation (torchvision's Conv2dNormActivation): the activation holds no
            # tensors, so no key shows it; a slot the keys cannot rule out, as a choice.
            items.append(self._gap(node, 2, items[-1].io, trailing=True))
        io = _span_io("sequential", items)
        has_gaps = len(items) != len(children)
        units = [node.children[m.attr] for m in items if m.attr in node.children]
        # ShuffleNetV2's units concatenate their branches (and pass half the input on), so their
        # members' widths do not show the chain their names do (patterns/blocks/channel_shuffle)
        shuffled = len(units) == len(items) and all(shuffle_branches(u.children) for u in units)
        kind = "sequential" if has_gaps or _composes(items) or shuffled else "modulelist"
        if any(m.kind == "moduledict" for m in items):
            # (an nn.ModuleDict has no forward: a Sequential holding one could not run it, nor
            # script; its items are called by name, VoVNet's `layers` of named-unit dicts)
            kind = "modulelist"
        if recorded:
            kind = "sequential" if desc.torch_nn == "Sequential" else "modulelist"
        return Module(
            node.name,
            kind,
            "nn.Sequential" if kind == "sequential" else "nn.ModuleList",
            children=items,
            io=io,
        )

    def _gap(
        self,
        node: KeyNode,
        index: int,
        prev: IOSpec | None,
        trailing: bool = False,
        after_gap: bool = False,
        head: str | None = None,
        after_pool: bool = False,
    ) -> Module:
        """A numbered slot without tensors: a parameter-free layer whose type the keys do not record.
        At the front of a container (a classifier's Sequential(Dropout, Linear)) it is most often
        dropout; after a layer, an activation; after that activation's slot, what follows one
        (a second activation would change nothing): a halving max-pool on 2-d conv features
        (VGG's and AlexNet's `conv, relu, pool`), else dropout (`Linear, ReLU, Dropout`); after
        a pool's slot (`after_pool`), dropout (Coderx7's SimpleNet: `ReLU, MaxPool2d, Dropout2d`;
        a second halving pool in a row is no layout anyone writes)."""
        path = f"{node.path}.{index}" if node.path else str(index)
        # Constructor expressions, so layers that need arguments (pooling) are candidates too.
        # The activations are the catalogue's one vocabulary, in module form; then the other
        # parameter-free layers such a slot commonly holds. At the front, dropout is likelier.
        default = "nn.Dropout()" if prev is None else act.MODULES["relu"]
        if after_gap and prev is not None:
            spatial = prev.family in ("conv", "norm") and prev.ndim == 2
            default = "nn.MaxPool2d(2)" if spatial and not after_pool else "nn.Dropout()"
        if node.path in self.avg_pools and index == 0:
            default = AVG_DOWN  # ResNet-D's shortcut, by convention (avg_down_shortcuts)
        if path in self.stem_pools:
            default = STEM_POOL  # a deep stem's max pool, by convention (listed_deep_stem)
        # (a trailing slot after a conv-norm pair: as the network's blocks activate their units,
        # where a pattern pinned it, Darknet's and CSPNet's leaky ReLU)
        family_default = act.unit_default if trailing else act.family_default
        activation, why = family_default(self.resolver, "", (path,))
        told = act.mobile_family(self.resolver)
        hidden = prev is not None and prev.family == "linear" and not after_gap
        if why and (trailing or (hidden and told[0] == "mobilenet_v3")):
            # a mobile network's conv-norm units (stem, head) activate as its blocks do; and
            # MobileNetV3's classifier its hidden Linear (Howard et al. 2019, figure 5)
            self.resolver.structural.setdefault(
                (path, "module_type"), (act.MODULES[activation], why)
            )
        options = list(act.MODULES.values()) + GAP_LAYERS
        pinned_pad = self.resolver.structural.get((path, "module_type"), ("",))[0]
        if isinstance(pinned_pad, str) and pinned_pad.startswith(padded_convs.PAD_KINDS):
            options += padded_convs.pad_alternatives(pinned_pad)  # another padding kind
        if head is not None:  # conv features reach a Linear (_head_gap), or a shuffle's slot
            default = head
            options += [p for p in GLOBAL_POOLS + [head] if p not in options]
        choice = self.resolver.choose(
            path,
            "module_type",
            default,
            options,
            (
                "after a conv-norm pair: the activation, or none"
                if trailing
                else "a numbered slot without tensors"
            ),
            accepts="layer",
        )
        # A block pattern's model-wide pin (Match.pins, path ""): every activation slot after a
        # layer holds the family's activation (ConvMixer's GELU, blocks/residual_wrapper.py).
        pinned = self.resolver.structural.get(("", "slot_activation"))
        if (
            pinned is not None
            and choice.source == "default"
            and choice.value == act.MODULES["relu"]
        ):
            value = act.MODULES[pinned[0]]
            choice.alternatives = [a for a in [choice.value, *choice.alternatives] if a != value]
            choice.value, choice.source, choice.note = value, "structure", pinned[1]
        name, args, kwargs = parse_layer(choice.value)
        width = prev.out_width if prev else None
        if name == "PixelShuffle" and width and args and width % (args[0] * args[0]) == 0:
            width //= args[0] * args[0]  # r*r times the channels -> r times the size
        if name == "Unflatten" and len(args) == 2 and isinstance(args[1], tuple) and args[1]:
            width = args[1][0]  # features -> a map of that many channels
        io = IOSpec("activation", prev.out_width if prev else None, width)
        arguments = [Arg(None, a) for a in args] + [Arg(k, v) for k, v in kwargs]
        return Module(str(index), "placeholder", f"nn.{name}", arguments, io=io, choices=[choice])

    def _class_instance(self, node: KeyNode, entry_io: IOSpec | None = None) -> Module:
        members, chained = self._members(node, entry_io)
        # Same keys are not the same class where a pattern reads the name (pooler vs intermediate).
        named = named_role(naming_segment(node.path) or node.name)
        key = (node.shape_free_signature, tuple(_member_key(m) for m in members), named)
        key += (_stack_of(node.path, self.resolver), _member_of(node.path, self.resolver))
        if self.relu_blocks:  # a MobileNetV3's early blocks activate otherwise than its later ones
            key += (node.path in self.relu_blocks,)
        if self.noskip_blocks:  # a block built without its skip apart from those that add it
            key += (node.path in self.noskip_blocks,)
        if node.path in self.dual_path:  # a dual path block's split is its class's constant
            key += (self.dual_path[node.path],)
        group = self.groups.get(key)
        if group is None:
            desc = self._described(node.path)
            # The pickle's own class name where it recorded one (checked like any other name).
            source_name = desc.name if desc is not None and not desc.torch_nn else node.path
            group = ClassGroup(
                key,
                class_name_for(source_name, self.taken_names),
                named=named,
                recorded_name=source_name != node.path,
            )
            self.groups[key] = group
            self.order.append(group)
        module = Module(node.name, "class", group.name, io=_class_io(members, chained))
        group.instances.append(Instance(node, members, module))
        return module


# Per-stack sizes an encoder-decoder's config.json may set apart: where one differs between the two
# stacks, classes of the same keys under each stack stay apart (each is given its own count).
STACK_SPECIFIC = (("encoder_attention_heads", "decoder_attention_heads"),)
STACKS = ("encoder", "decoder")


def _member_of(path: str, resolver: ChoiceResolver) -> str:
    """The member of a composite `path` lies in (an EncoderDecoderModel's `encoder` or `decoder`,
    each built from its own config), where the members are of different model types: the same
    keys then are not one class, as each reads its own type's conventions (BERT's positions from
    0 beside RoBERTa's from padding_idx + 1); else ""."""
    views = {k: v for k, v in resolver.views.items() if k.startswith(ROLE_VIEW)}
    types = {str((v.get("model_type") or (None, None))[1]) for v in views.values()}
    member = ROLE_VIEW + path.split(".")[0]
    return member if len(types) > 1 and member in views else ""


def _stack_of(path: str, resolver: ChoiceResolver) -> str:
    """The stack ("encoder" or "decoder") `path` lies under, where config.json gives the two stacks
    different values that the same keys cannot show (head counts); else ""."""
    metadata = resolver.metadata
    differ = any(
        a in metadata and b in metadata and metadata[a][1] != metadata[b][1]
        for a, b in STACK_SPECIFIC
    )
    if not differ:
        return ""
    return next((part for part in path.split(".") if part in STACKS), "")


def _optional_extra(a: ClassGroup, b: ClassGroup) -> tuple[str, ...] | None:
    """The modules B's instances hold beyond A's, when that is all that tells them apart: the
    other members match in order, type and structure, up to values the checkpoint does not record
    (choices). A's layers then take, as arguments, the choices B's layers pass (a stride of 1
    that was left out); None, touching nothing, when they cannot."""
    if a.optional or b.optional or a.named != b.named or a.recorded_name or b.recorded_name:
        return None
    mine, theirs = a.instances[0].members, b.instances[0].members
    by_attr = {m.attr: m for m in theirs}
    extra = tuple(m.attr for m in theirs if m.attr not in {n.attr for n in mine})
    if not extra or len(mine) + len(extra) != len(theirs):
        return None
    if not all(isinstance(by_attr[e], Module) and by_attr[e].kind != "repeat" for e in extra):
        return None
    shared = [m for m in theirs if m.attr not in extra]
    if [m.attr for m in shared] != [m.attr for m in mine]:
        return None
    if [_member_key(m, choices=False) for m in mine] != [
        _member_key(m, choices=False) for m in shared
    ]:
        return None
    plans = [
        _choice_plan(x, y)
        for g in (a, b)
        for inst in g.instances
        for x, y in zip(
            [m for m in inst.members if m.attr not in extra], shared if g is a else mine
        )
    ]
    if any(plan is None for plan in plans):
        return None
    for plan in plans:
        for module, args in plan:
            _take_choices(module, args)
    return extra


def _choice_plan(
    m: Module | Tensor, other: Module | Tensor
) -> list[tuple[Module, list[Arg]]] | None:
    """For M (and its children), the choice arguments OTHER writes that M leaves out, in OTHER's
    argument order; None where M has no choice of that name to write."""
    if isinstance(m, Tensor) or isinstance(other, Tensor):
        return []
    plan: list[tuple[Module, list[Arg]]] = []
    keywords = [a.keyword for a in m.args]
    missing = [a for a in other.args if a.role == "choice" and a.keyword not in keywords]
    for arg in missing:
        if not any(c.name == arg.keyword for c in m.choices):
            return None
    if missing:
        plan.append((m, [a for a in other.args if a.keyword is not None]))
    for x, y in zip(m.children, other.children):
        inner = _choice_plan(x, y)
        if inner is None:
            return None
        plan += inner
    return plan


def _take_choices(m: Module, order: list[Arg]) -> None:
    """M's left-out choices become arguments (stride=1), keywords ordered as in ORDER."""
    have = {a.keyword for a in m.args}
    for arg in order:
        if arg.role == "choice" and arg.keyword not in have:
            choice = next(c for c in m.choices if c.name == arg.keyword)
            m.choices.remove(choice)
            m.args.append(Arg(arg.keyword, choice.value, "choice", choice=choice))
    rank = {a.keyword: i for i, a in enumerate(order)}
    positional = [a for a in m.args if a.keyword is None]
    keywords = sorted(
        (a for a in m.args if a.keyword is not None), key=lambda a: rank.get(a.keyword, len(rank))
    )
    m.args[:] = positional + keywords


def _after_their_parts(order: list[ClassGroup]) -> list[ClassGroup]:
    """ORDER, stably re-sorted so that every class comes after the classes its members use."""
    by_name = {g.name: g for g in order}
    done: list[ClassGroup] = []
    seen: set[int] = set()  # by identity: dataclass equality would compare whole subtrees

    def uses(m: Module | Tensor) -> list[str]:
        if not isinstance(m, Module):
            return []
        own = [m.type_name] if m.kind == "class" else []
        return own + [n for c in m.children for n in uses(c)]

    def visit(g: ClassGroup) -> None:
        if id(g) in seen:
            return
        seen.add(id(g))
        for inst in g.instances:
            for m in inst.members:
                for name in uses(m):
                    if name in by_name and by_name[name] is not g:
                        visit(by_name[name])
        done.append(g)

    for g in order:
        visit(g)
    return done


# The pools after the plain halving ones: a ResNet stem's 3/2/1, and the unpadded 3/2 with
# ceil_mode of SqueezeNet and GoogLeNet (torchvision), whose sizes differ from it on odd maps.
GAP_LAYERS = [
    "nn.Dropout()",
    "nn.Flatten()",
    "nn.MaxPool2d(2)",
    "nn.AvgPool2d(2)",
    "nn.MaxPool2d(3, stride=2, padding=1)",
    "nn.MaxPool2d(3, stride=2, ceil_mode=True)",
    "nn.Upsample(scale_factor=2.0)",  # nearest doubling: generators' and decoders' conv stacks
]
AVG_DOWN = "nn.AvgPool2d(2, ceil_mode=True, count_include_pad=False)"  # timm's avg_down
STEM_POOL = "nn.MaxPool2d(3, stride=2, padding=1)"  # ResNet's stem pool (He et al. 2016)
GLOBAL_POOLS = ["nn.AdaptiveAvgPool2d(1)", "nn.AdaptiveMaxPool2d(1)"]


def _block_reads_transposed(conv: Module, following: Module) -> bool:
    """A bias-free conv read as plain (in = weight[1], out = weight[0]) whose next item in a
    Sequential reads weight[1] channels, not weight[0]: only a transposed conv (in = weight[0],
    out = weight[1]) gives that (an up level opening with its transposed conv, `Sequential(
    ConvTranspose2d(2c, c, 2, 2), ResBlock(c))`: KAIR's UNetRes, DRUNet). Blocks only: a norm or
    a conv after it is read by the layer pattern itself (layers/conv.py)."""
    if conv.kind != "builtin" or not re.fullmatch(r"nn\.Conv[23]d", conv.type_name):
        return False
    if conv.io is None or following.io is None or following.kind == "builtin":
        return False
    if not any(a.keyword == "bias" and a.value is False for a in conv.args):
        return False  # a bias as long as weight[0] proves the plain conv
    if any(a.keyword == "groups" for a in conv.args) or conv.io.in_width == conv.io.out_width:
        return False
    return following.io.in_width == conv.io.in_width


def _head_gap(
    node: KeyNode, index: int, prev: IOSpec | None, collapsed: bool = False
) -> str | None:
    """The layer a slot without tensors most likely holds where a Sequential's 2-d conv features
    reach a Linear through empty slots (the ConvMixer listing's `..., AdaptiveAvgPool2d(1),
    Flatten(), Linear`): the last slot flattens, and where the Linear takes the channels, the
    slot before it pools globally. A Linear over a feature map computes over its last dim
    (or fails): nothing else those slots could hold keeps the widths. None elsewhere, and for
    that slot where the conv before `collapsed` the map to 1x1 (four_by_four_stacks): it holds
    the conv's activation (the usual default)."""
    if prev is None or prev.ndim != 2 or prev.family not in ("conv", "norm", "sequential", "class"):
        return None
    later = sorted(int(n) for n in node.children if is_sequential_index(n) and int(n) > index)
    if not later:
        return None
    weight = node.children[str(later[0])].tensors.get("weight")
    if weight is None or len(weight.shape) != 2 or node.children[str(later[0])].children:
        return None
    gaps_after = later[0] - index - 1
    if gaps_after == 0:
        return "nn.Flatten()"
    if gaps_after == 1 and weight.shape[1] == prev.out_width and not collapsed:
        return GLOBAL_POOLS[0]
    return None


def _critic_slot(
    node: KeyNode, index: int, items: list[Module], critics: set[str]
) -> tuple[str, str] | None:
    """(the layer, why) a slot of a discriminator's 4x4 stack (`critics`) holds by the GAN
    convention: after a conv (not a transposed one: a generator's) or its norm, LeakyReLU(0.2);
    where a biased conv is followed by two slots and then a layer, the first is the norm that
    leaves no keys (CycleGAN's default `norm='instance'`: InstanceNorm2d without affine, and so
    biased convs), the second the LeakyReLU. None elsewhere."""
    if node.path not in critics or not items:
        return None
    last = items[-1]
    if last.kind == "placeholder":
        instance = last.type_name == "nn.InstanceNorm2d"
        return (act.MODULES["leaky_relu"], CRITIC_SLOPE) if instance else None
    conv = items[-2] if family(last) == "norm" and len(items) > 1 else last
    if conv.type_name != "nn.Conv2d":
        return None
    two_slots = str(index + 1) not in node.children and str(index + 2) in node.children
    biased = "bias" in node.children[conv.attr].tensors if conv.attr in node.children else False
    if conv is last and two_slots and biased and last.io is not None and last.io.out_width:
        return f"nn.InstanceNorm2d({last.io.out_width})", CRITIC_INSTANCE_NORM
    return act.MODULES["leaky_relu"], CRITIC_SLOPE


CRITIC_INSTANCE_NORM = (
    "two slots after a biased conv of a discriminator's 4x4 stack: the norm that leaves no keys, "
    "then its activation (pix2pix/CycleGAN's norm='instance': InstanceNorm2d, no affine)"
)


def _after_unit_map(items: list[Module]) -> bool:
    """Whether the slots since the last layer hold a view to a 1x1 map (`_view_gap`): the layer
    next reads a latent as a 1x1 map, as a generator's first layer does."""
    for item in reversed(items):
        if item.kind != "placeholder":
            return False
        if item.type_name == "nn.Unflatten":
            shape = item.args[1].value if len(item.args) == 2 else None
            return isinstance(shape, tuple) and tuple(shape[1:]) == (1, 1)
    return False


def _view_gap(node: KeyNode, index: int, prev: IOSpec | None, after_gap: bool) -> str | None:
    """The layer the first slot without tensors after a Linear holds where a 2-d conv follows
    past the slots: a view of the features as the map the conv reads (1Konny's Beta-VAE decoder:
    `Linear(z, 256), View((-1, 256, 1, 1)), ReLU, ConvTranspose2d(256, 64, 4)`), as
    nn.Unflatten(1, (C, s, s)); features = C * s * s. Only where one channel count fits: a conv
    weight [out, in, k, k] and a transposed conv's [in, out, k, k] tell it from either dim."""
    if prev is None or prev.family != "linear" or after_gap or not prev.out_width:
        return None
    later = sorted(int(n) for n in node.children if is_sequential_index(n) and int(n) > index)
    conv = node.children[str(later[0])] if later else None
    weight = conv.tensors.get("weight") if conv is not None and not conv.children else None
    if weight is None or len(weight.shape) != 4:
        return None
    maps = set()
    for channels in set(weight.shape[:2]):
        side = math.isqrt(prev.out_width // channels)
        if side * side * channels == prev.out_width:
            maps.add((channels, side))
    if len(maps) != 1:
        return None
    channels, side = maps.pop()
    return f"nn.Unflatten(1, ({channels}, {side}, {side}))"


STEM_POOL = "nn.MaxPool2d(3, stride=2, padding=1)"
AVG_POOL = "nn.AvgPool2d(2)"


def _ends_linear(node: KeyNode) -> bool:
    """A numbered container whose last keyed item is a Linear (a classifier head)."""
    last = node.children[max(node.children, key=int)]
    weight = last.tensors.get("weight")
    return not last.children and weight is not None and len(weight.shape) == 2


def _sequential_transition(item: Module) -> bool:
    """A Sequential `[norm, activation slot, 1x1 conv]` whose conv narrows the channels: a
    DenseNet transition, pre-activation, between two dense blocks of a Sequential."""
    if item.kind != "sequential" or len(item.children) != 3:
        return False
    norm, slot, conv = item.children
    if family(norm) != "norm" or slot.kind != "placeholder" or family(conv) != "conv":
        return False
    if conv.io is None or not conv.io.in_width or not conv.io.out_width:
        return False
    kernel = {a.keyword: a.value for a in conv.args}.get("kernel_size")
    return kernel in (1, (1, 1)) and conv.io.out_width < conv.io.in_width


def _sequential_stem(items: list[Module]) -> bool:
    """Whether the first of a Sequential's items is a stem Sequential `[conv 7x7 stride 2 reading
    an image (at most 4 channels), norm, activation slot]` that later items (blocks, stages)
    follow with no slot between: where a ResNet's 3x3 stride-2 max-pool goes."""
    first = items[0]
    if first.kind != "sequential" or len(first.children) != 3 or len(items) < 2:
        return False
    conv, norm, slot = first.children
    if family(conv) != "conv" or family(norm) != "norm" or slot.kind != "placeholder":
        return False
    args = {a.keyword: a.value for a in conv.args}
    kernel = args.get("kernel_size")
    if kernel not in (7, (7, 7)) or args.get("stride") not in (2, (2, 2)):
        return False
    reads = conv.io.in_width if conv.io is not None else None
    if reads is None or reads > 4:
        return False
    return items[1].kind in ("sequential", "class", "repeat", "modulelist")


def _shuffle_gap(node: KeyNode, index: int, prev: IOSpec | None) -> str | None:
    """A pixel shuffle in the one slot between two 2-d convs, where the conv before gives r*r
    times the width it reads (r = 2, 3, 4) and the conv after reads that width again:
    EDSR-PyTorch's and SwinIR's upsamplers, `Sequential(conv(n, 4n), PixelShuffle(2), conv(n,
    4n), PixelShuffle(2))`. The same weights would also fit a grouped conv behind an activation;
    but a grouped conv keeps its producer's width rather than going back to what came before the
    widening (CARN-M's grouped pairs, ResNeXt), and a one-channel-per-group read stays depthwise.
    A choice still (module_type), so calibration or a hint can say otherwise."""
    if prev is None or prev.family != "conv" or prev.ndim != 2 or not prev.out_width:
        return None
    if not prev.in_width:
        return None
    after = node.children.get(str(index + 1))
    if after is None and str(index - 1) in node.children:
        # two slots: the shuffle, then its activation (twtygqyy's SRResNet `upscale4x`:
        # conv, PixelShuffle, LeakyReLU, conv, PixelShuffle, LeakyReLU)
        after = node.children.get(str(index + 2))
    weight = after.tensors.get("weight") if after is not None and not after.children else None
    if weight is None or len(weight.shape) != 4 or weight.shape[1] <= 1:
        return None
    bias = after.tensors.get("bias")
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        return None  # a transposed conv's bias: (out,) = w[1] x groups
    if weight.shape[1] != prev.in_width:
        return None
    r = next((r for r in (2, 3, 4) if prev.in_width * r * r == prev.out_width), None)
    return f"nn.PixelShuffle({r})" if r else None


def _blocks_between(node: KeyNode) -> bool:
    """A Sequential of blocks (items with members of their own) with one or two empty slots after
    each but the last, two after some: an activation after every block, then a pool ending a
    stage (VGG's layout built of blocks standing for a conv-norm pair, DingXiaoH's ACNet:
    `ACBlock, ReLU, [MaxPool2d]`)."""
    keyed = sorted(int(n) for n in node.children if is_sequential_index(n))
    if len(keyed) < 3 or len(keyed) != len(node.children):
        return False
    if any(not node.children[str(i)].children for i in keyed):
        return False
    gaps = [b - a - 1 for a, b in zip(keyed, keyed[1:])]
    return all(g in (1, 2) for g in gaps) and 2 in gaps


def _blocks_activated_between(node: KeyNode, items: list[Module]) -> bool:
    """_blocks_between, its items all classes: the last block's activation lies past the last
    key, as the slots after the others show; a choice."""
    keyed = [m for m in items if m.kind != "placeholder"]
    return _blocks_between(node) and all(m.kind == "class" for m in keyed)


def _trailing_shuffle(items: list[Module]) -> str | None:
    """The shuffle after a Sequential's last conv, where the Sequential is an upsampler of
    (conv widening r*r times, shuffle) pairs whose earlier pair's shuffle shows as a slot
    (_shuffle_gap) and whose last conv widens as the others do: EDSR-PyTorch's and SwinIR's x4
    and x8 upsamplers, `Sequential(conv, PixelShuffle(2), conv, PixelShuffle(2))`, whose keys
    end at the last conv. None elsewhere (an x2 upsampler, one conv, shows no pair)."""
    shuffles = [m for m in items if m.kind == "placeholder" and m.type_name == "nn.PixelShuffle"]
    last = items[-1] if items else None
    if not shuffles or last is None or family(last) != "conv" or last.io is None:
        return None
    value = shuffles[-1].choices[0].value if shuffles[-1].choices else None
    r = next((a.value for a in shuffles[-1].args if a.keyword is None), None)
    if value is None or not isinstance(r, int) or not last.io.in_width:
        return None
    return value if last.io.out_width == last.io.in_width * r * r else None


def _shuffle_then_slot(items: list[Module]) -> bool:
    """Every shuffle slot of an upsampler followed by another slot (its activation: twtygqyy's
    SRResNet `upscale4x`, conv, PixelShuffle, LeakyReLU per step), so the last step has one too."""
    at = [
        i
        for i, m in enumerate(items)
        if m.kind == "placeholder" and m.type_name == "nn.PixelShuffle"
    ]
    return bool(at) and all(i + 1 < len(items) and items[i + 1].kind == "placeholder" for i in at)


DOWNSAMPLER = re.compile(r"down_?sample(rs?)?|down_?sampling|downsample_?conv", re.I)


def naming_segment(path: str) -> str:
    """The last segment of a path that is a name: an item of `downsamplers.0` is a downsampler."""
    return next((s for s in reversed(path.split(".")) if s and not s.isdigit()), "")


def _gives(m: Module, width: int | None) -> bool:
    return m.io is not None and m.io.out_width is not None and m.io.out_width == width


def _takes(m: Module, width: int | None) -> bool:
    return m.io is not None and m.io.in_width is not None and m.io.in_width == width


def _feeds_grouped(prev: Module, conv: Module, members: list[Module]) -> bool:
    """A producer whose width is a multiple of what a spatial conv reads per group: a grouped
    conv (ResNeXt) breaks the width chain, so names alone order it; its producer still counts.
    The norm must normalise what another conv of the class gives: a pre-activation norm of the
    block's input (diffusers' `norm1` before `conv1`) feeds no later conv. That conv comes before
    this one (ResNeXt's conv1, bn1, conv2): the first conv of a class reads what enters it, not the
    output of a norm further on (Whisper's front end conv1, conv2 before its final layer_norm)."""
    if prev.io is None or conv.io is None or not prev.io.out_width:
        return False
    if prev.io.family != "norm" or conv.io.family != "conv" or conv not in members:
        return False
    earlier = members[: members.index(conv)]
    if not any(family(m) == "conv" and _gives(m, prev.io.out_width) for m in earlier):
        return False
    reads = conv.io.in_width
    return bool(reads) and prev.io.out_width != reads and prev.io.out_width % reads == 0


def _spatial_list(children: list[KeyNode]) -> list[KeyNode]:
    """The items of the one child that is a list of spatial convs side by side (Res2Net's
    `convs`, one per group of channels: each strides where the block does), else []."""
    found = []
    for child in children:
        items = [child.children[n] for n in child.children if is_sequential_index(n)]
        weights = [_conv_weight(c) for c in items]
        if items and len(items) == len(child.children) and all(weights):
            if all(max(w[2:]) > 1 for w in weights):
                found.append(items)
    return found[0] if len(found) == 1 else []


def _named_pair_convs(children: list[KeyNode]) -> list[KeyNode]:
    """The convs of a body whose bare convs are lettered or numbered apart under one stem, each
    beside a norm named after it (pycls' `a`, `a_bn`, `b`, `b_bn`, `c`, `c_bn`), in that order;
    [] elsewhere. Other children (a squeeze-excitation) are passed over."""
    names = {c.name for c in children}
    convs = [
        c
        for c in children
        if _conv_weight(c) is not None and not c.children and f"{c.name}_bn" in names
    ]
    steps = [(numbered_name(c.name), c) for c in convs]
    if len(steps) < 2 or len({stem for (stem, _), _ in steps}) != 1 or steps[0][0][0] is None:
        return []
    return [c for _, c in sorted(steps, key=lambda s: s[0][1])]


def _wrapped_unit_convs(children: list[KeyNode]) -> list[KeyNode]:
    """The convs of a block whose steps each wrap one conv and its norm (timm's ConvNormAct
    `conv1`..`conv3`, pycls' `a`..`c`), in the order their names number them; [] unless the steps
    are numbered apart under one stem. Other children (a squeeze-excitation: 1x1 convs, no norm)
    are passed over: they do not resample."""
    steps = []
    for child in children:
        leaves = [c for c in child.walk() if c.tensors]
        convs = [c for c in leaves if _conv_weight(c) is not None]
        norms = [c for c in leaves if all(len(t.shape) <= 1 for t in c.tensors.values())]
        if child.children and len(leaves) == 2 and len(convs) == len(norms) == 1:
            steps.append((numbered_name(child.name), convs[0]))
    names = [n for n, _ in steps]
    if len(steps) < 2 or len(set(names)) != len(names) or len({s for s, _ in names}) != 1:
        return []
    if names[0][0] is None:
        return []
    return [conv for _, conv in sorted(steps, key=lambda s: s[0][1])]


def _unproven_entry(child: KeyNode, items: list[Module]) -> bool:
    """Whether a nested numbered item (a Sequential inside a Sequential) must not take what the
    item before it gives as the width reaching its opening conv:
    - that item is a generated class, whose io is what its members show, which a concatenation
      or a slice inside it can hide (GhostNet's GhostModule gives its two halves together);
    - the opening conv reads what the list's first item reads: branches side by side over one
      input (a ModuleList of Sequential branches), not a stage fed by the item before it."""
    if child.tensors or not child.children or not all(map(is_sequential_index, child.children)):
        return False  # (not a nested list: layers take their neighbours as before)
    before = next((m for m in reversed(items) if m.kind != "placeholder"), None)
    if before is None or before.kind not in ("builtin", "sequential"):
        return True
    opening = child.children.get("0")
    w = _conv_weight(opening) if opening is not None else None
    start = next((m for m in items if m.kind != "placeholder"), None)
    return w is not None and start.io is not None and start.io.in_width == w[1]


def _regrouped_by(seq: Module, before: Module) -> bool:
    """A Sequential whose first conv reads a fraction of what the member before it gives: a
    grouped conv over that width, which its own first item alone would read as ungrouped."""
    first = seq.children[0] if seq.kind == "sequential" and seq.children else None
    if family(first) != "conv" or before.io is None or not before.io.out_width:
        return False
    reads, width = first.io.in_width, before.io.out_width
    return bool(reads) and (
        (reads < width and width % reads == 0)
        # (a depthwise conv read alone as groups = C: a depth multiplier over a width dividing C)
        or (opens_depthwise(first) and width < reads and reads % width == 0)
    )


def _paired(a: str, b: str) -> bool:
    """Names that number the same step: `conv1` and `bn1`, `attn_1` and `ln_1`."""
    numbers = re.findall(r"[0-9]+", a)
    return bool(numbers) and numbers == re.findall(r"[0-9]+", b)


def _patchify(m: Module) -> bool:
    """A conv cutting the input into patches: its kernel is its stride (as first analysed)."""
    if family(m) != "conv":
        return False
    args = {a.keyword: a.value for a in m.args}
    kernel, stride = conv_kernel(m), args.get("stride", 1)
    return kernel not in (None, 1, (1, 1)) and kernel == stride


def _conv_weight(node: KeyNode) -> tuple[int, ...] | None:
    w = node.tensors.get("weight")
    if w is None or len(w.shape) not in (3, 4, 5) or (node.children and not held_norm(node)):
        return None
    return w.shape


NUMBERED_NAME = re.compile(r"(.*\D)(\d+)")


def numbered_items(names: list[str]) -> list[str] | None:
    """NAMES in the order of their running number, where all are one prefix and the numbers 0, 1,
    ... (`block1-0`, `block1-1`, ... `block1-10`, whatever order the keys list them in); else
    None."""
    found = [NUMBERED_NAME.fullmatch(n) for n in names]
    if len(names) < 1 or not all(found) or len({f.group(1) for f in found}) != 1:
        return None
    by_number = {int(f.group(2)): f.group(0) for f in found}
    if sorted(by_number) != list(range(len(names))):
        return None
    return [by_number[i] for i in range(len(names))]


def _composes(items: list[Module]) -> bool:
    """Consecutive widths line up: the numbered children run one after another (a Sequential)."""
    width = None
    for m in items:
        if m.io is None or m.io.in_width is None:
            continue
        if width is not None and m.io.in_width != width:
            return False
        width = m.io.out_width
    return True


SHORTCUT_READS = {
    "downsample",
    "shortcut",
    "skip",
    "residual",
}  # names of a block input's side path


def _class_io(members: list[Module | Tensor], chained: bool = True) -> IOSpec:
    """Widths at the class's two ends. Where widths do not chain its members (names order them),
    a residual block's shortcut still reads what enters the block: its width is the input's."""
    modules = [m for m in members if isinstance(m, Module)]
    own = [m for m in members if isinstance(m, Tensor)]
    kept = None if modules else normalised_width(own) or affine_width(own)
    if kept is not None:  # a mean and std (a scale and shift) of its own: it keeps the width
        return IOSpec("class", kept[0], kept[0], kept[1])
    if _channel_sequence_conv(modules):
        # ECA's gate (patterns/blocks/efficient_channel_attention.py): a Conv1d over the pooled
        # channels as one sequence reads and gives 1 channel and rescales its input, whatever
        # its width: the class keeps the width it is given, which no key records.
        return IOSpec("class", None, None, 2)
    if _two_to_one_conv(modules):
        # A spatial gate (patterns/blocks/spatial_gate.py): its unit's conv over each pixel's
        # channel max and mean gives the map that rescales the input, whatever its width.
        return IOSpec("class", None, None, 2)
    gated = gate_convs(modules)
    if gated is not None:  # a one-channel map weighing each pixel (blocks/pixel_excite.py)
        return IOSpec("class", gated, gated, 2)
    split = split_norm_width(modules)
    if split is not None:  # norms over parts of the channels (blocks/channel_split_norm.py)
        return IOSpec("norm", split, split, 2)
    pyramid = pyramid_io(modules)
    if pyramid is not None:  # the input beside its pooled maps (blocks/pooled_pyramid.py)
        return IOSpec("class", pyramid[0], pyramid[1], 2)
    io = _span_io("class", modules)
    shortcut = next((m for m in modules if m.attr in SHORTCUT_READS and m.io is not None), None)
    if not chained and shortcut is not None and shortcut.io.in_width:
        io = IOSpec(io.family, shortcut.io.in_width, io.out_width, io.ndim, vocab=io.vocab)
    return io


def _two_to_one_conv(modules: list[Module]) -> bool:
    """A class holding one unit class (a conv and its norm) that reads two channels and gives one,
    and nothing else."""
    real = [m for m in modules if m.kind != "placeholder"]
    if len(real) != 1 or real[0].kind != "class" or real[0].io is None:
        return False
    return (real[0].io.in_width, real[0].io.out_width) == (2, 1)


def _channel_sequence_conv(modules: list[Module]) -> bool:
    """A class holding one built-in Conv1d of one input and one output channel, and nothing else."""
    real = [m for m in modules if m.kind != "placeholder"]
    if len(real) != 1 or real[0].kind != "builtin" or real[0].type_name != "nn.Conv1d":
        return False
    io = real[0].io
    return io is not None and (io.in_width, io.out_width) == (1, 1)


def _span_io(family: str, modules: list[Module]) -> IOSpec:
    """Widths at the two ends of a run of modules, and whether its output still has spatial dims."""
    known = [m for m in modules if m.io is not None]
    head = next((m.io for m in known if m.io.family != "activation"), None)
    last = next((m.io.out_width for m in reversed(known) if m.io.out_width), None)
    ndim = next((m.io.ndim for m in reversed(known) if m.io.family != "activation"), None)
    if head is None:
        return IOSpec(family, None, last, ndim)
    # What the run consumes is what its first layer consumes: features of a width, or token ids.
    return IOSpec(family, head.in_width, last, ndim, vocab=head.vocab)


def _member_key(m: Module | Tensor, choices: bool = True) -> tuple:
    """What must match for two subtrees to share a class: types, keywords and roles, not sizes.
    Without CHOICES: nor the values the checkpoint does not record (whether a stride is written)."""
    if isinstance(m, Tensor):
        return ("tensor", m.attr, len(m.shape), m.dtype, m.kind)
    return (
        "module",
        m.attr,
        m.kind,
        m.type_name,
        tuple(
            (a.keyword, a.role, _value_key(a.value, a.role))
            for a in m.args
            if choices or a.role != "choice"
        ),
        tuple(_member_key(c, choices) for c in m.children),
        None if m.repeat is None else "repeat",
    )


def _value_key(value: object, role: str) -> object:
    if isinstance(value, Call):
        return (
            "call",
            value.type_name,
            tuple((a.keyword, a.role, _value_key(a.value, a.role)) for a in value.args),
        )
    # Sizes may differ between instances of one class; everything else must be equal.
    return role if role in ("width", "vocab", "positions", "types", "count") else repr(value)
