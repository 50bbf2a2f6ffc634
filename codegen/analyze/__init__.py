"""Checkpoint table -> ModelIR: structure, then hyperparameters, then each class's forward."""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from typing import Any

from codegen.choices import ChoiceResolver, role_configs
from codegen.errors import ModelgenError
from codegen.analyze.hyperparams import lift_group, optional_condition
from codegen.analyze.structure import ClassGroup, Instance, StructureBuilder, Unmergeable
from codegen.analyze.structure import _class_io, _composes
from codegen.analyze.dataflow import infer_forward
from codegen.analyze.recorded_code import RecordedForward, recorded_forwards
from codegen.analyze.unrun import flag_unrun_forwards
from codegen.analyze.twin_convs import flag_undilated_twins
from codegen.analyze.aliases import attach_handles, split_handles
from codegen.analyze.evidence import recorded_choices
from codegen.ir import Call, ClassDef, IOSpec, Module, ModelIR, Param, Ref, Source, class_choices
from codegen.ir.graph import Graph, Slice, Value, values_in
from codegen.keytree import build_tree
from codegen.naming import role_names
from codegen.load import TensorTable
from codegen.load.hf_config import CONFIG_NAME, conflicting_config_keys, unused_config_keys
from codegen.patterns._kit import BY_CONVENTION, CHECKED_MODEL_TYPES, CONVENTION_TYPES
from codegen.patterns._kit import SURVEYED_CHOICES
from codegen.patterns._activations import FUNCTIONS
from codegen.patterns.layers.norms import BN_NAMED_GROUP_NORM
from codegen.patterns.registry import synonyms
from codegen.safetext import printable


def analyze(
    table: TensorTable,
    class_name: str = "RecoveredModel",
    hints: dict[str, dict[str, Any]] | None = None,
    command: str = "",
    calibrated: dict[tuple[str, str], Any] | None = None,
    calibration_note: str = "",
) -> ModelIR:
    args = (table, class_name, hints, command, calibrated, calibration_note)
    # A pattern may see from the whole what a part's choice is (Match.pins): the analysis runs
    # again with those pins until none is new (each run can only add pins, so this ends).
    pins: dict[tuple[str, str], tuple[Any, str]] = {}
    for _ in range(MAX_PIN_ROUNDS):
        try:
            ir, requested = _analyze(*args, merge_optional=True, structural=pins)
        except Unmergeable:
            ir, requested = _analyze(*args, merge_optional=False, structural=pins)
        new = {k: v for k, v in requested.items() if k not in pins}
        if not new:
            break
        pins.update(new)
    return ir


MAX_PIN_ROUNDS = 5  # lin11: a stack whose classes split once pinned needs a fourth


def _analyze(
    table: TensorTable,
    class_name: str,
    hints: dict[str, dict[str, Any]] | None,
    command: str,
    calibrated: dict[tuple[str, str], Any] | None,
    calibration_note: str,
    merge_optional: bool,
    structural: dict[tuple[str, str], tuple[Any, str]],
    handles: bool = True,
) -> tuple[ModelIR, dict[tuple[str, str], tuple[Any, str]]]:
    buffer_hints = tensor_kind_hints(hints or {}, table)
    hints = {
        p: {n: v for n, v in values.items() if n != "kind"} for p, values in (hints or {}).items()
    }
    resolver = ChoiceResolver(
        {p: v for p, v in hints.items() if v},
        table.metadata,
        calibrated,
        synonyms(),
        known_types=CONVENTION_TYPES,
    )
    resolver.recorded = recorded_choices(table.modules)
    resolver.structural = dict(structural)
    builder = StructureBuilder(resolver, buffer_hints, class_name, table.modules, merge_optional)
    tree = build_tree(table, canonical=True)
    aliases = split_handles(tree) if handles else {}
    structure = builder.build(tree)

    classes: list[ClassDef] = []
    for group in structure.groups:
        is_top = group.name == class_name
        params = lift_group(group, is_top=is_top)
        members = group.instances[0].members
        if group.optional:
            present_if = optional_condition(group, params)
            for m in members:
                if m.attr in group.optional:
                    m.present_if = present_if
        used = [(i.node.path, i.module.io) for i in group.instances]
        classes.append(
            ClassDef(
                group.name,
                params,
                members,
                is_top=is_top,
                named=group.named,
                instances=used,
                member_io=[
                    {m.attr: m.io for m in i.members if isinstance(m, Module)}
                    for i in group.instances
                ],
            )
        )
    top_module = structure.root_module
    if top_module.kind != "class":
        # Keys without a common prefix that one built-in or container holds: subclass it.
        root = ClassGroup(("root",), class_name, [Instance(None, [top_module], Module("", "class", ""))])  # type: ignore[arg-type]
        params = lift_group(root, is_top=True)
        classes.append(
            ClassDef(
                class_name,
                params,
                [],
                base=top_module.type_name,
                base_module=top_module,
                is_top=True,
            )
        )

    if aliases and not attach_handles(classes, aliases):  # read them as layers of their own
        args = (table, class_name, hints, command, calibrated, calibration_note)
        return _analyze(*args, merge_optional, structural, handles=False)
    recorded = recorded_forwards(structure.groups, classes, table.modules)
    # Classes are named by what their forward is (BasicBlock, Attention): a first pass finds the
    # roles and is forgotten; the second runs under the new names, so choices are addressed by them.
    made, used = len(resolver.made), set(resolver.used_hints)
    _infer_forwards(classes, resolver, recorded, structure.groups)
    del resolver.made[made:]
    resolver.used_hints = used
    paths = {g.name: g.instances[0].node.path for g in structure.groups}
    own = {g.name for g in structure.groups if g.recorded_name}  # a pickle's names are kept
    renamed = role_names(
        [
            (
                c.name,
                c.forward.title or c.forward.role,
                {m.attr for m in c.members},
                paths.get(c.name, ""),
            )
            for c in classes
            if not c.is_top and c.name not in own and c.forward.names_class
        ],
        {c.name for c in classes},
    )
    _rename(classes, renamed)
    resolver.requested = {}  # the first pass's classes had other names: only this pass's count
    _infer_forwards(classes, resolver, recorded, structure.groups)
    for group in structure.groups:
        if group.optional:
            # by the group's own name: an instance merged into another's class keeps the old name
            cls = next(c for c in classes if c.name == renamed.get(group.name, group.name))
            _pass_through_optional(cls, group, classes, resolver)
    _lists_for_multi_input_items(classes)
    _flag_guessed_slots(classes)
    _flag_scales_on_feature_maps(classes)
    _flag_guessed_norm_types(classes)
    flag_undilated_twins(classes)
    flag_unrun_forwards(classes)
    _name_the_head(classes[-1])
    warnings = gap_warnings(classes)
    warnings += _flag_unused_config(classes[-1], table.metadata.get(CONFIG_NAME), resolver)
    warnings += _flag_unchecked_model_type(classes, table.metadata.get(CONFIG_NAME))
    warnings += builder.notes
    if all(k in structural for k in resolver.requested):
        # the last round: a choice a pin brings (a whole's heads, once its parts are read) is
        # made only then, so an earlier round's unused hint may not be a typo
        resolver.check_hints_used()
    source = Source(
        file=table.source,
        format=table.format,
        num_tensors=len(table.tensors),
        fingerprint=table.fingerprint(),
        container=table.container,
        stripped_prefixes=list(table.stripped_prefixes),
        float_dtype=_main_float_dtype(table),
        command=command,
        calibration=calibration_note,
    )
    ir = ModelIR(classes, source, summary=_summary(classes), warnings=warnings)
    return ir, resolver.requested


def _flag_guessed_slots(classes: list[ClassDef]) -> None:
    """A subclassed container (the top `nn.Sequential` of keys no class holds) runs its own
    forward, so no pattern vouches for it: a slot without tensors (an activation, pool or dropout)
    whose layer no convention settled is a guess, and the class says 'guessed' (d2l's NiN: a
    max-pool between blocks read as a ReLU must not pass as inferred). So does a class a pattern
    recognised, for the slots of its Sequential members (a transformer block's `mlp` of Linear,
    activation, Linear: a GELU model must not pass as inferred with a ReLU): a pattern that knows
    a slot's layer (config.json's activation, the family's code) pins it; one left at its
    default is a guess."""
    for cls in classes:
        if cls.forward.trust != "inferred":
            continue
        if cls.base_module is not None:
            holders = [cls.base_module]
        else:
            holders = [m for m in cls.members if isinstance(m, Module) and m.kind == "sequential"]
        slots = [
            m
            for m in _container_modules(holders)
            if m.kind == "placeholder" and any(c.source == "default" for c in m.choices)
        ]
        if slots:
            cls.forward.trust = "guessed"
            cls.forward.trust_note = (
                "no pattern or convention says which parameter-free layers its slots without "
                "tensors hold (the layer types listed are guesses)"
            )


def _flag_scales_on_feature_maps(classes: list[ClassDef]) -> None:
    """A learned vector read as a layer scale (`x * gamma`) multiplies the input's last dim: a
    transformer's channels. Held only beside 2-d convs (or classes of them) and no Linear, its
    input is most likely a feature map [N, C, H, W], whose last dim is the width (timm's
    LayerScale2d, EfficientFormer's and MobileNetV4's, scale by gamma.view(1, -1, 1, 1)): no key
    says which dim the vector scales, so the class says guessed there (a square map as wide as
    its channels runs silently)."""
    for cls in classes:
        if cls.forward.role != "LayerScale" or cls.forward.trust != "inferred":
            continue
        holders = [
            _all_modules(c.members)
            for c in classes
            if any(m.kind == "class" and m.type_name == cls.name for m in _all_modules(c.members))
        ]
        maps = [
            h
            for h in holders
            if any(m.io and m.io.ndim == 2 for m in h)  # 2-d convs, or classes of them
            and not any(m.io and m.io.family in ("linear", "attention") for m in h)
        ]
        if maps:
            cls.forward.trust = "guessed"
            cls.forward.trust_note = (
                "a vector scale beside 2-d convs: its input is likely a feature map [N, C, H, W], "
                "which `x * gamma` scales along the width, not the channels (no key says which)"
            )


def _container_modules(members: list) -> list[Module]:
    """Modules of containers, and theirs, without entering another class's members."""
    out: list[Module] = []
    for m in members:
        if isinstance(m, Module) and m.kind != "class":
            out.append(m)
            out += _container_modules(m.children)
    return out


def _flag_guessed_norm_types(classes: list[ClassDef]) -> None:
    """A norm named as a BatchNorm (`bn1`) holding only a scale and a shift: a BatchNorm saves its
    running statistics, so this one is written as a stat-free BatchNorm by its name alone, while
    code that swaps the norm and keeps BatchNorm's names (timm's resnet50_gn, torchvision's
    `norm_layer`: GroupNorm, InstanceNorm) normalises over other axes. What the class computes
    rests on that guess: where no config or structure settled the type (a choice calibration
    can move), the class says 'guessed'. A GroupNorm by its place stays as it is: its group
    count, a listed choice, spans InstanceNorm (one group a channel) and a whole-map norm."""
    for cls in classes:
        if cls.forward.trust != "inferred" or cls.forward.missing:
            continue
        guessed = [
            label
            for label, m in _labelled_modules(cls.members)
            for c in m.choices
            if c.name == "module_type"
            and c.source == "default"
            and (c.value == "nn.BatchNorm" or c.note == BN_NAMED_GROUP_NORM)
        ]
        if guessed:
            cls.forward.trust = "guessed"
            cls.forward.trust_note = (
                f"the type of its norm{'s' if len(guessed) > 1 else ''} "
                f"{', '.join(sorted(set(guessed))[:4])} is a guess (a scale and a shift, no "
                "running statistics: a BatchNorm without them, or a GroupNorm or InstanceNorm "
                "under BatchNorm's name)"
            )


def gap_warnings(classes: list[ClassDef], yours: frozenset[str] = frozenset()) -> list[str]:
    """One warning per forward that raises NotImplementedError; classes that only call into a gap
    are counted, not listed. A forward in `yours` ("A.forward") the user wrote: it is theirs."""
    gaps = [c for c in classes if c.forward.missing and f"{c.name}.forward" not in yours]
    roots = [c for c in gaps if not c.forward.missing.startswith("the dataflow: it calls")]
    warnings = [
        f"{c.name}.forward: cannot infer {c.forward.missing}; it raises NotImplementedError"
        for c in roots
    ]
    blocked = [c.name for c in gaps if c not in roots]
    if blocked:
        warnings.append(
            f"{', '.join(blocked)}: forward raises NotImplementedError too, as it calls the above"
        )
    return warnings


def _flag_unused_config(top: ClassDef, config: Any, resolver: ChoiceResolver) -> list[str]:
    """config.json values no pattern used, that may change the forward: the model cannot claim
    to be inferred while it ignores them (it is 'guessed', and the note names them)."""
    if not isinstance(config, dict):
        return []
    unused = unused_config_keys(config, resolver.consumed)
    # a value read in one tower's view came from that tower's own sub-config
    differ = conflicting_config_keys(config, resolver.consumed_untowered)
    # ... and one in a member's (an EncoderDecoderModel's `decoder`, read in its own view): where
    # the top level sets the key too, a class outside the members read the top's (the shallowest)
    members = set(role_configs(config))
    shared = conflicting_config_keys(
        {k: v for k, v in config.items() if k not in members}, resolver.consumed_untowered
    )
    differ = [k for k in differ if k in shared or k not in config]
    if not unused and not differ:
        return []
    notes = []
    if unused:
        names = ", ".join(printable(k) for k in unused)
        notes.append(
            f"config.json sets {names}, which this file does not use and which may change the "
            "forward"
        )
    if differ:
        names = ", ".join(printable(k) for k in differ)
        notes.append(f"config.json sets {names} differently in its sub-configs; one value is used")
    note = "; ".join(notes)
    if top.forward.trust == "inferred":
        top.forward.trust = "guessed"
        top.forward.trust_note = note
    elif top.forward.trust == "guessed":
        top.forward.trust_note = "; ".join(filter(None, [top.forward.trust_note, note]))
    return [f"{top.name}: {note}; its trust is 'guessed'"]


def _flag_unchecked_model_type(classes: list[ClassDef], config: Any) -> list[str]:
    """Choices a config.json of an unchecked model_type does not settle: those whose only evidence
    is the model_type (being absent from a list of families that do something is no evidence that
    this one does not) and those left at defaults. The model is 'guessed', naming them. A choice
    the conventions survey measured for this type (its note ends with _decoder_conventions'
    MEASURED, or the rotary survey's SURVEYED_CHOICES) is evidence, not a rest on the type."""
    model_type = config.get("model_type") if isinstance(config, dict) else None
    if not isinstance(model_type, str) or model_type in CHECKED_MODEL_TYPES:
        return []
    if _checked_members(classes[-1], config):
        return []
    resting, ruled, defaults = set(), set(), set()
    for c in class_choices(classes):
        # the composite's type, or a tower's own where no table knows the composite (choices.py
        # _tower_views): resting on a type no test compares either way
        rests = re.search(r"model_type '([^']*)'$", c.note) if c.source == "metadata" else None
        if rests and rests[1] not in CHECKED_MODEL_TYPES and c.name not in SURVEYED_CHOICES:
            resting.add(c.name)
        elif c.source == "metadata" and c.note.endswith(BY_CONVENTION):
            ruled.add(c.name)
        elif c.source == "default":
            defaults.add(c.name)
    if not resting and not ruled and not defaults:
        return []
    parts = [
        f"{', '.join(sorted(resting))} {_verb(resting, 'rests', 'rest')} only on its model_type",
        f"{', '.join(sorted(ruled))} {_verb(ruled, 'follows', 'follow')} the usual convention",
        f"{', '.join(sorted(defaults))} {_verb(defaults, 'is a default', 'are defaults')}",
    ]
    parts = [p for p, names in zip(parts, (resting, ruled, defaults)) if names]
    note = (
        f"config.json's model_type {printable(model_type)!r} is not one whose conventions modelgen "
        f"has compared with its library: {'; '.join(parts)} (calibrate, or hint them)"
    )
    top = classes[-1]
    if top.forward.trust == "inferred":
        top.forward.trust, top.forward.trust_note = "guessed", note
    elif top.forward.trust == "guessed":
        top.forward.trust_note = "; ".join(filter(None, [top.forward.trust_note, note]))
    return [f"{top.name}: {note}; its trust is 'guessed'"]


def _checked_members(top: ClassDef, config: dict) -> bool:
    """A composite the library assembles from whole models, each built from its own config in
    config.json (EncoderDecoderModel's `encoder` and `decoder`), all of checked types: its
    classes read their own member's conventions (choices.py's member views), so all the
    composite's type adds is how the members are joined, which the top class's pattern states
    (families/composed_seq2seq.py)."""
    members = role_configs(config)
    return (
        top.forward.role == "EncoderDecoder"
        and bool(members)
        and all(config[k]["model_type"] in CHECKED_MODEL_TYPES for k in members)
    )


def _verb(names: set, one: str, many: str) -> str:
    return one if len(names) == 1 else many


def _infer_forwards(
    classes: list[ClassDef],
    resolver: ChoiceResolver,
    recorded: dict[int, RecordedForward] | None = None,
    groups: list[ClassGroup] = (),
) -> None:
    unknown: set[str] = set()
    roles: dict[str, str] = {}  # class name -> role of the pattern that built its forward
    for cls in classes:  # smallest first: a class's children are settled before it
        if cls.base_module is None:  # a subclassed built-in keeps its own forward
            settled = {c.name: c for c in classes}
            code = (recorded or {}).get(id(cls))
            if code is not None and code.graph is not None:
                cls.forward = code.forward(cls)
                roles[cls.name] = cls.forward.role
                continue
            _refresh_member_io(cls, groups)
            with resolver.towered([path for path, _ in cls.instances]):
                cls.forward = infer_forward(cls, resolver, frozenset(unknown), roles, settled)
            if code is not None:
                code.flag(cls.forward)
            if cls.forward.missing:
                unknown.add(cls.name)
            else:
                roles[cls.name] = cls.forward.role
                if cls.forward.concatenates:
                    _widen_concatenations(cls, groups, classes)
                if not cls.forward.halves_input:
                    _read_input_width(cls, groups, classes)
                if not cls.forward.concatenates:
                    _read_output_width(cls, groups, classes)


def _refresh_member_io(cls: ClassDef, groups: list[ClassGroup]) -> None:
    """Each instance's members' widths as the classes inferred before it left them (a member
    class re-read to what its forward reads: DLA's tree under a tree), not as first spanned."""
    for group in groups:
        if group.name == cls.name and len(group.instances) == len(cls.member_io):
            cls.member_io = [
                {m.attr: m.io for m in i.members if isinstance(m, Module)} for i in group.instances
            ]


def _widen_concatenations(cls: ClassDef, groups: list[ClassGroup], classes) -> None:
    """A class whose forward concatenates along the channels (Inception, Fire, a dense block)
    gives the sum of the widths, which the span of its members cannot show: each registration
    of it, and each Sequential holding one, says so before the classes around it are inferred."""
    joined = set(cls.forward.concatenates)
    changed: set[int] = set()
    for group in groups:
        if group.name != cls.name:
            continue
        for instance in group.instances:
            io = instance.module.io
            span = _class_io(instance.members)  # from the members: the same on every pass
            if io is None or not span.in_width:
                continue
            # (a joined path may reach into a list: d2l's dense block `net.0`, `net.1`)
            found = [_member_path(instance.members, tuple(path.split("."))) for path in joined]
            parts = [m.io.out_width for m in found if m is not None and m.io is not None]
            if len(parts) != len(joined) or not all(parts):
                continue
            width = sum(parts) + (span.in_width if cls.forward.concatenates_input else 0)
            width -= cls.forward.concatenates_shared
            reads = span.in_width * (2 if cls.forward.halves_input else 1)
            instance.module.io = IOSpec(io.family, reads, width, io.ndim, io.vocab)
            changed.add(id(instance.module))
    for c in classes:
        for m in c.members:
            if isinstance(m, Module):
                _respan(m)
                _relist(m, changed)  # layers that concatenate inside themselves now chain


READERS = ("conv", "linear", "norm", "sequential", "class")  # layers whose input width is known


def _read_input_width(cls: ClassDef, groups: list[ClassGroup], classes) -> None:
    """What a class reads is what the first layer its forward calls on the input reads, which the
    span of its members (their first in key order: timm's `conv_dw` sorts before `conv_pw`) may
    not show: each registration of it, and each Sequential holding one, says so before the
    classes around it are inferred."""
    g = cls.forward.graph
    if g is None or not g.inputs:
        return
    found = _first_reader(g)
    if found is None:
        _read_residual_width(cls, groups, classes)
        return
    first, parts = found

    def reads(instance: Instance) -> int | None:
        reader = _member_path(instance.members, first)
        for cut in range(len(first) - 1, 0, -1):
            if reader is not None:
                break
            # a layer inside a member class (GhostNet's bottleneck calls its Ghost module's conv,
            # VoVNet's block its first unit's): what that member reads, settled first
            reader = _member_path(instance.members, first[:cut])
        # (a Sequential or a class, settled before this one: VoVNet's stage reads what its
        # blocks read)
        if reader is None or reader.io is None or reader.io.family not in READERS:
            return None
        return reader.io.in_width * parts if reader.io.in_width else None

    _reread(cls, groups, classes, reads, 0, residual=_adds_input_back(g))


ACTIVATIONS = {f for f in FUNCTIONS.values() if f is not None}
LAYOUTS = ("permute", "reshape", "view", "transpose", "contiguous")  # keep the features


def _read_residual_width(cls: ClassDef, groups: list[ClassGroup], classes) -> None:
    """A forward no layer of which reads the whole input (EdgeNeXt's SDTA block splits it into
    groups first) but which returns its input plus a branch reads and gives what the branch's last
    layer gives, through layout changes, activations and a learned per-channel scale."""
    g = cls.forward.graph
    if not _adds_input_back(g):
        return
    out = next(n for n in reversed(g.nodes) if n.op == "output")
    entry = next(i for i, n in enumerate(g.nodes) if n is g.inputs[0])
    branch = [a for a in g[out.args[0]].args if isinstance(a, Value) and a.index != entry]
    last = g[branch[0]] if len(branch) == 1 else None
    while last is not None and last.op in ("call_method", "call_function"):
        inner = values_in(last.args)
        computed = [v for v in inner if g[v].op not in ("input", "getattr")]
        if last.op == "call_method" and last.target in LAYOUTS or last.target in ACTIVATIONS:
            last = g[last.args[0]] if isinstance(last.args[0], Value) else None
        elif last.target == "mul" and len(inner) == 2 and len(computed) == 1:
            last = g[computed[0]]
        else:
            break
    if last is None or last.op != "call_module" or last.each or last.loop or last.optional:
        return

    def gives(instance: Instance) -> int | None:
        member = _member_path(instance.members, last.target)
        if member is None or member.io is None or member.io.family not in ("conv", "linear"):
            return None
        return member.io.out_width or None

    _reread(cls, groups, classes, gives, 0, residual=True)


def _read_output_width(cls: ClassDef, groups: list[ClassGroup], classes) -> None:
    """What a class gives is what the member its forward returns gives, where that member is a
    Sequential or a class whose width was re-read (VoVNet's stage returns its blocks, whose
    aggregation blocks give their 1x1 unit's width): each registration says so."""
    g = cls.forward.graph
    out = next((n for n in reversed(g.nodes) if n.op == "output"), None) if g else None
    head = out.args[0] if out is not None and out.args else None
    last = g[head] if isinstance(head, Value) else None
    gain = False
    while last is not None and last.op == "call_function":
        inner = values_in(last.args)
        computed = [v for v in inner if g[v].op != "input"]
        if last.target in ACTIVATIONS:
            # (an activation keeps the width: `relu(norm(conv(...)))` gives the norm's)
            last = g[inner[0]] if len(inner) == 1 else None
        elif last.target == "mul" and len(inner) == 2 and len(computed) == 1:
            last = g[computed[0]]  # (a gain on the input gives its width: SAFMN's modulation)
            gain = True
        else:
            break
    if last is None or last.op != "call_module" or last.each or last.loop or last.optional:
        return

    def gives(instance: Instance) -> int | None:
        member = _member_path(instance.members, last.target)
        if member is None or member.io is None:
            return None
        # a layer returned as it is gives the class's width, whatever its members' key order
        # spans: ParseNet's fuse after its branches, MSRN's `confusion` ending several paths
        if member.kind not in ("sequential", "class") and (
            member.kind != "builtin" or member.io.family not in ("conv", "linear", "norm")
        ):
            return None
        if gain and member.io.out_width == 1:
            return None  # (one weight per pixel, broadcast over the input's channels: its width)
        return member.io.out_width or None

    _reread(cls, groups, classes, gives, 1)


def _reread(
    cls: ClassDef, groups: list[ClassGroup], classes, width_of, end: int, residual: bool = False
) -> None:
    """Each registration of `cls` takes the width `width_of(instance)` gives at one end (0: what
    it reads, and gives too where `residual`; 1: what it gives), and each Sequential holding one
    is spanned again."""
    changed: set[int] = set()
    for group in groups:
        if group.name != cls.name:
            continue
        for instance in group.instances:
            io = instance.module.io
            width = width_of(instance) if io is not None else None
            if width is None:
                continue
            if end == 0:  # a forward returning its input plus what it computed gives what it reads
                widths = (width, width if residual else io.out_width)
            else:
                widths = (io.in_width, width)
            if widths == (io.in_width, io.out_width):
                continue
            instance.module.io = IOSpec(io.family, *widths, io.ndim, io.vocab)
            changed.add(id(instance.module))
    if changed:
        for c in classes:
            for m in c.members:
                if isinstance(m, Module):
                    _respan(m)
                    _relist(m, changed)


def _relist(m: Module, changed: set[int]) -> bool:
    """A list the structure could not chain only because an item's width was misread is a
    Sequential once it reads right (whether `m` or an item of it was re-read)."""
    inner = [_relist(c, changed) for c in m.children]
    touched = id(m) in changed or any(inner)
    if touched and m.kind == "modulelist" and m.io is not None and m.io.family == "sequential":
        if _composes(m.children):
            m.kind, m.type_name = "sequential", "nn.Sequential"
    return touched


def _adds_input_back(g: Graph) -> bool:
    """Whether the forward returns its first input plus something (`x + self.fuse(...)`)."""
    out = next((n for n in reversed(g.nodes) if n.op == "output"), None)
    produced = out.args[0] if out is not None and out.args else None
    if not isinstance(produced, Value):
        return False
    entry = next(i for i, n in enumerate(g.nodes) if n is g.inputs[0])

    def stream(value: Value) -> bool:  # (through residual adds: a block of two branches)
        node = g[value]
        if node.op != "call_function" or node.target != "add":
            return False
        operands = [a for a in node.args if isinstance(a, Value)]
        return any(a.index == entry or stream(a) for a in operands)

    return stream(produced)


def _first_reader(g: Graph) -> tuple[tuple[str, ...], int] | None:
    """The first module the forward calls on its first input, or on a value computed from it
    alone by functions and methods (a squeeze-excitation's mean over the pixels), and into how
    many equal parts the input was chunked along its features before (SAFMN's levels: 1, none)."""
    derived = {next(i for i, n in enumerate(g.nodes) if n is g.inputs[0]): 1}
    for i, n in enumerate(g.nodes):
        head = n.args[0] if n.args else None
        if not isinstance(head, Value) or head.index not in derived:
            continue
        if n.op == "call_module":
            return None if n.each else (n.target, derived[head.index])
        if n.op in ("call_method", "call_function") and len(values_in(n.args)) == 1:
            if n.target == "split":
                continue  # (parts of any sizes: what a layer reading one reads says nothing)
            parts = derived[head.index]
            if n.target == "chunk":
                dim = n.kwargs.get("dim", n.args[2] if len(n.args) > 2 else 0)
                if dim not in (1, -1) or not isinstance(n.args[1], int):
                    continue
                parts *= n.args[1]
            derived[i] = parts
    return None


def _member_path(members: list, path: tuple[str, ...]) -> Module | None:
    found = None
    for segment in path:
        found = next((m for m in members if isinstance(m, Module) and m.attr == segment), None)
        if found is None:
            return None
        members = found.children
    return found


def _respan(m: Module) -> None:
    """A Sequential's widths again, from its (possibly widened or re-read) first and last items."""
    for child in m.children:
        _respan(child)
    if m.kind == "repeat" and m.children and m.children[0].io is not None:
        m.io = m.children[0].io  # copies of one item read and give what it does
        return
    if m.kind not in ("sequential", "modulelist") or m.io is None or m.io.family != "sequential":
        return
    head = next(
        (c.io for c in m.children if c.io is not None and c.io.family != "activation"), None
    )
    if head is not None and head.in_width and head.in_width != m.io.in_width:
        m.io = IOSpec(m.io.family, head.in_width, m.io.out_width, m.io.ndim, m.io.vocab)
    width = None
    for child in m.children:  # a parameter-free slot passes on what its predecessor gave
        if child.kind == "placeholder" and width and child.io and child.io.out_width != width:
            child.io = IOSpec(child.io.family, width, width)
        width = child.io.out_width if child.io and child.io.out_width else width
    if width is not None and width != m.io.out_width:
        m.io = IOSpec(m.io.family, m.io.in_width, width, m.io.ndim, m.io.vocab)


def _lists_for_multi_input_items(classes: list[ClassDef]) -> None:
    """A Sequential can only pass one tensor along: one holding blocks whose forward takes more
    (a U-Net block given the time embedding) is a ModuleList, its items called by the forward that
    holds it. TorchScript compiles a Sequential's forward and would reject it."""
    by_name = {c.name: c for c in classes}

    def multi(m: Module) -> bool:
        cls = by_name.get(m.type_name) if m.kind == "class" else None
        graph = cls.forward.graph if cls is not None else None
        if graph is None:
            return False
        required = [n for n in graph.inputs if not n.optional]
        return len(required) > 1 or graph.returns != "torch.Tensor"

    for cls in classes:
        nodes = cls.forward.graph.nodes if cls.forward.graph else []
        # called whole (`self.layers(x)`); a loop over its items (`each`) works on a list too
        called = {n.target for n in nodes if n.op == "call_module" and not n.each}

        def relist(m: Module, path: tuple[str, ...]) -> None:
            # nested too: a list of Sequentials of them (openai's input_blocks)
            for c in m.children if m.kind in ("sequential", "modulelist") else ():
                relist(c, path + (c.attr,))
            if m.kind != "sequential" or path in called:
                return
            # (a ModuleList has no forward: a Sequential holding one cannot run either)
            if any(multi(c) or c.kind == "modulelist" for c in m.children):
                m.kind, m.type_name = "modulelist", "nn.ModuleList"

        for m in cls.members:
            if isinstance(m, Module):
                relist(m, (m.attr,))


def _pass_through_optional(
    cls: ClassDef, group: ClassGroup, classes: list[ClassDef], resolver: ChoiceResolver
) -> None:
    """The forward of a class with optional members calls each once, on one input; where it is
    None that input passes through. That must compute what the forward inferred for an instance
    without them computes (the same graph with the call taken out): else Unmergeable."""
    g = cls.forward.graph
    if g is None or cls.forward.missing:
        raise Unmergeable(f"{cls.name}: no forward to pass its optional members through")
    lacking = next(inst for inst in group.instances if inst.absent)
    made, used = len(resolver.made), set(resolver.used_hints)
    requested = dict(resolver.requested)
    roles = {c.name: c.forward.role for c in classes if not c.forward.missing}
    settled = {c.name: c for c in classes}
    bare = ClassDef(cls.name, cls.params, lacking.members)
    without = infer_forward(bare, resolver, frozenset(), roles, settled)
    del resolver.made[made:]
    resolver.used_hints, resolver.requested = used, requested
    expected = g
    for attr in group.optional:
        expected = _without_call(expected, attr)
        if expected is None:
            raise Unmergeable(f"{cls.name}.{attr}: not called once on one input")
    if without.graph is None or without.missing or _shape(without.graph) != _shape(expected):
        raise Unmergeable(f"{cls.name}: without {group.optional[0]} it computes something else")
    for node in g.nodes:
        if node.op == "call_module" and node.target[0] in group.optional:
            node.optional, node.inline, node.name = True, False, "identity"


def _without_call(g: Graph, attr: str) -> Graph | None:
    """G with its one call of member ATTR replaced by that call's input; None unless ATTR is called
    exactly once, on one value, returning it whole."""
    calls = [i for i, n in enumerate(g.nodes) if n.op == "call_module" and n.target[:1] == (attr,)]
    if len(calls) != 1:
        return None
    i = calls[0]
    call = g.nodes[i]
    if (
        call.each
        or call.each_collect
        or call.each_keep
        or call.unpack
        or len(call.args) != 1
        or call.kwargs
    ):
        return None
    if not isinstance(call.args[0], Value) or len(call.target) != 1:
        return None

    def moved(arg: Any) -> Any:
        if isinstance(arg, Value):
            arg = call.args[0] if arg.index == i else arg
            return Value(arg.index - 1) if arg.index > i else arg
        if isinstance(arg, Slice):
            return Slice(moved(arg.start), moved(arg.stop))
        if isinstance(arg, (tuple, list)):
            return type(arg)(moved(a) for a in arg)
        return arg

    nodes = [
        dataclasses.replace(
            n, args=moved(n.args), kwargs={k: moved(v) for k, v in n.kwargs.items()}
        )
        for k, n in enumerate(g.nodes)
        if k != i
    ]
    return Graph(nodes, g.returns)


def _shape(g: Graph) -> list[tuple]:
    """What a graph computes, without how it is printed (names, comments, inlining)."""
    return [
        (n.op, n.target, repr(n.args), repr(sorted(n.kwargs.items())), n.each, n.unpack)
        + ((n.each_collect,) if n.each_collect else ())
        + (("each_keep",) if n.each_keep else ())
        for n in g.nodes
    ]


POOLING = {("call_method", "mean"), ("call_method", "amax"), ("call_function", "flatten")}
POOLING |= {("call_function", "adaptive_avg_pool")}


def _name_the_head(top: ClassDef) -> None:
    """The size of what the model returns, when its last step is a linear head, is a parameter
    named by what it counts: `num_classes` after pooling (a classifier), else `num_outputs`."""
    g = top.forward.graph
    if g is None or not g.nodes or g.nodes[-1].op != "output" or not g.nodes[-1].args:
        return
    head = g.nodes[-1].args[0]
    head = g.nodes[head.index] if isinstance(head, Value) else None
    if head is None or head.op != "call_module" or len(head.target) != 1 or not head.args:
        return
    member = next((m for m in top.members if getattr(m, "attr", None) == head.target[0]), None)
    if not isinstance(member, Module) or member.type_name != "nn.Linear":
        return
    out = [a for a in member.args if a.keyword in (None, "out_features")][1:2]
    if not out or type(out[0].value) is not int or out[0].value < 2:
        return
    vocab = [
        p
        for p in top.params
        if p.name.endswith("vocab_size")
        and not p.name.endswith("type_vocab_size")  # segments are no tokens to predict
        and p.default == out[0].value
    ]
    if vocab:  # logits over the tokens an embedding of the model reads
        out[0].value = Ref(vocab[-1].name)
        return
    fed = g.nodes[head.args[0].index] if isinstance(head.args[0], Value) else None
    name = "num_classes" if fed is not None and (fed.op, fed.target) in POOLING else "num_outputs"
    if any(p.name == name for p in top.params):
        return
    value, out[0].value = out[0].value, Ref(name)
    param = Param(name, "int", value, out[0].provenance)
    first_choice = next((i for i, p in enumerate(top.params) if p.choice), len(top.params))
    top.params.insert(first_choice, param)


def _rename(classes: list[ClassDef], names: dict[str, str]) -> None:
    """Give classes new names, and every registration and constructor call that uses them."""

    def in_call(call: Call) -> None:
        call.type_name = names.get(call.type_name, call.type_name)
        for a in call.args:
            if isinstance(a.value, Call):
                in_call(a.value)

    def in_module(m: Module) -> None:
        if m.kind == "class":
            m.type_name = names.get(m.type_name, m.type_name)
        for a in m.args:
            if isinstance(a.value, Call):
                in_call(a.value)
        for c in m.children:
            in_module(c)

    for cls in classes:
        cls.name = names.get(cls.name, cls.name)
        for m in cls.members + ([cls.base_module] if cls.base_module else []):
            if isinstance(m, Module):
                in_module(m)


def tensor_kind_hints(hints: dict[str, dict[str, Any]], table: TensorTable) -> dict[str, str]:
    """`kind = "buffer"` or `"parameter"` for a tensor key: how a lone tensor is registered."""
    kinds = {}
    for path, values in hints.items():
        if "kind" not in values:
            continue
        if values["kind"] not in ("buffer", "parameter"):
            raise ModelgenError(
                f"hints [{printable(path)}] kind = {printable(repr(values['kind']))[:60]}: "
                "allowed: 'buffer', 'parameter'"
            )
        if path not in table.tensors:
            raise ModelgenError(
                f"hints [{printable(path)}] kind: no tensor has that key (kind applies to one key)"
            )
        kinds[path] = values["kind"]
    return kinds


def _main_float_dtype(table: TensorTable) -> str:
    counts = Counter(t.dtype for t in table.tensors.values() if "float" in t.dtype)
    return counts.most_common(1)[0][0] if counts else "float32"


def _summary(classes: list[ClassDef]) -> str:
    """One line: what the top class's forward is (its pattern's role), the recognised blocks it is
    built from (guessed ones too: the trust paragraph below says which), and the layer types, most
    frequent first."""
    top = classes[-1]
    types: Counter[str] = Counter()
    for cls in classes:
        for module in _all_modules(cls.members if cls.base_module is None else [cls.base_module]):
            if module.kind == "builtin":
                types[module.type_name.removeprefix("nn.")] += 1
    role = top.forward.role if top.forward is not None else ""
    head = f"{top.name} ({role})" if role and role not in (top.name, "Sequence") else top.name
    blocks = [c.name for c in classes[:-1] if c.forward is not None]
    parts = []
    if blocks:
        more = f" and {len(blocks) - 6} more" if len(blocks) > 6 else ""
        parts.append(f"blocks {', '.join(blocks[:6])}{more}")
    if types:
        more = " and more" if len(types) > 5 else ""
        common = ", ".join(f"{n} {t}" if n > 1 else t for t, n in types.most_common(5))
        parts.append(f"layers {common}{more}")
    return f"{head}: {'; '.join(parts)}" if parts else head


def _labelled_modules(members: list, above: str = "") -> list[tuple[str, Module]]:
    """Each module with its label as the class docstring writes it (`downsample[1]`)."""
    out: list[tuple[str, Module]] = []
    for m in members:
        if isinstance(m, Module):
            label = f"{above}[{m.attr}]" if above else m.attr
            out += [(label, m), *_labelled_modules(m.children, label)]
    return out


def _all_modules(members: list) -> list[Module]:
    out: list[Module] = []
    for m in members:
        if isinstance(m, Module):
            out.append(m)
            out += _all_modules(m.children)
    return out
