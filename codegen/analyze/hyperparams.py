"""Lift values into typed constructor parameters, so the file reads like hand-written code.

A generated class gets a parameter for:
- a size that occurs more than once in it (`d_model` used by six layers), or differs between the
  subtrees the class stands for (a block used at 64 and 128 channels);
- every vocabulary size and layer count, so growing a model changes one number;
- every model-level choice the checkpoint does not record (heads, activation, norm_first...).
Everything else stays a literal where it is used. Parents pass their children's parameters on, so
a size set once at the top reaches every layer that uses it.
"""

from __future__ import annotations

import copy
import inspect
import keyword
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable

from codegen.analyze.structure import ClassGroup, Instance, Unmergeable
from codegen.ir import Arg, Call, Choice, Module, Param, Ref, Tensor
from codegen.ir.layer_classes import nn_base

LIFTED_CHOICES = {
    "nhead",
    "activation",
    "norm_first",
    "batch_first",
    "nonlinearity",
    "eps",
    "layer_norm_eps",
}

# Constructor keywords that name a model-level quantity, and the name the parameter gets.
SEMANTIC_NAMES = {
    "d_model": "d_model",
    "embed_dim": "d_model",
    "num_embeddings": "vocab_size",
    "embedding_dim": "embed_dim",
    "hidden_size": "hidden_size",
    "input_size": "input_size",
    "dim_feedforward": "dim_feedforward",
    "num_heads": "nhead",
    "nhead": "nhead",
    "proj_size": "proj_size",
}
SEMANTIC_ORDER = [
    "d_model",
    "vocab_size",
    "hidden_size",
    "input_size",
    "embed_dim",
    "dim_feedforward",
    "nhead",
    "proj_size",
]
RELATIVE_INPUTS = {"input_dim", "in_channels"}  # a child's names for a size it reads...
RELATIVE_OUTPUTS = {"output_dim", "out_channels"}  # ... and for one it gives
RELATIVE_NAMES = RELATIVE_INPUTS | RELATIVE_OUTPUTS
INPUT_KEYWORDS = {"in_features", "in_channels", "in1_features", "in2_features", "kdim", "vdim"}
OUTPUT_KEYWORDS = {"out_features", "out_channels"}


@dataclass
class Slot:
    role: str
    name: str  # keyword or positional parameter name where the value is used
    member: str  # attribute of the member that uses it, to qualify clashing names
    provenance: str
    choice: Choice | None
    value: Any
    set: Callable[[Any], None]
    inherited: bool = False  # the name is a child class's parameter name, already chosen with care
    # What the size measures: "channels" (convolutions and their norms), "features" (what a linear
    # or embedding produces), or "any" (what a layer consumes, which may be either).
    unit: str = "any"


CHANNEL_LAYERS = re.compile(
    r"nn\.(Conv|ConvTranspose|LazyConv)\dd|nn\.(BatchNorm[23]d|GroupNorm|InstanceNorm)"
)
FEATURE_OUTPUTS = {"out_features", "embedding_dim"}


def _unit(slot: Slot, template: list[Slot], columns: list[tuple], i: int) -> str:
    """Which sizes of one value may share a parameter: channels with channels, features with
    features (a linear's 64 outputs are not a conv's 64 channels); what a layer consumes joins
    the features of that size where there are any (the layer before produced them), else the
    channels (pooled channels feed a classifier)."""
    if slot.unit != "any" and not _returns_to_input(template, columns, i):
        return slot.unit
    same = {
        s.unit
        for j, (s, column) in enumerate(zip(template, columns))
        if s.role == slot.role
        and column == columns[i]
        and not _returns_to_input(template, columns, j)
    }
    return "features" if "features" in same else "channels" if "channels" in same else "features"


def _returns_to_input(template: list[Slot], columns: list[tuple], i: int) -> bool:
    """A layer's output that returns to a width the class's layers consumed before producing it
    (an excitation's C -> C/r -> C over pooled channels, a bottleneck MLP added back to its input)
    measures what that input measured: pooled channels stay channels. Channel layers and sizes a
    layer passes through (a norm's) aside, the first of the class's sizes equal to it decides: an
    input (the round trip), or an output a later layer consumes (fc1 -> fc2: a width of its own).
    Order within a Sequential is its indices'."""
    slot = template[i]
    if slot.unit != "features":
        return False
    ends = INPUT_KEYWORDS | OUTPUT_KEYWORDS | FEATURE_OUTPUTS  # a norm's size passes through
    for s, column in zip(template[:i], columns[:i]):
        if s.role == slot.role and s.unit != "channels" and s.name in ends and column == columns[i]:
            return s.unit == "any" and s.name in INPUT_KEYWORDS
    return False


def lift_group(group: ClassGroup, is_top: bool) -> list[Param]:
    """Decide the parameters of one class and rewrite its first instance's members to use them."""
    per_instance = [_collect(inst.members) for inst in group.instances]
    template = per_instance[0]
    _name_weight_dims(template)
    if group.optional:
        per_instance = [
            _with_optional(inst, group.instances[0], template) if inst.absent else slots
            for inst, slots in zip(group.instances, per_instance)
        ]
    columns = [tuple(slots[i].value for slots in per_instance) for i in range(len(template))]

    buckets: dict[tuple, list[int]] = {}
    for i, slot in enumerate(template):
        constant = len(set(map(_hashable, columns[i]))) == 1
        if slot.name == "dim" and all(v == 1 for v in columns[i]):
            continue  # a unit dimension of a tensor (a gain [C, 1, 1, 1]) is no size to name
        if not is_top and slot.role == "width" and all(v == 1 for v in columns[i]):
            continue  # one channel in every instance (ECA's Conv1d(1, 1, k)) is the layout's own
        if slot.role in ("width", "vocab", "positions", "types"):
            # Equal sizes share a parameter only when they measure the same thing (see _unit).
            key: tuple = (slot.role, _unit(slot, template, columns, i), _hashable(columns[i]))
        elif slot.role == "count":
            key = ("count", i)
        elif (
            slot.role in ("choice", "param")
            and slot.choice is not None
            and slot.choice.name in LIFTED_CHOICES
        ):
            key = ("choice", slot.choice.name, _hashable(columns[i]))
        elif slot.role == "param":  # a child class's parameter: always passed on by name
            key = ("param", slot.name, _hashable(columns[i]))
        elif not constant:  # the same argument varying alike (a block's strides): one parameter
            key = ("vary", slot.name, _hashable(columns[i]))
        else:
            continue
        buckets.setdefault(key, []).append(i)

    # Sizes first, then layer counts, then the choices: the order people read hyperparameters in.
    rank = {
        "width": 0,
        "vocab": 0,
        "positions": 0,
        "types": 0,
        "count": 1,
        "vary": 2,
        "param": 3,
        "choice": 3,
    }
    ordered = sorted(buckets.items(), key=lambda item: rank[item[0][0]])
    params: list[Param] = []
    taken: set[str] = set()
    for key, indices in ordered:
        slots = [template[i] for i in indices]
        role = key[0]
        constant = len(set(map(_hashable, columns[indices[0]]))) == 1
        if role == "width" and len(indices) < 2 and constant:
            continue  # a size used once reads best where it is used
        name = _unique(_param_name(role, slots), slots[0].member, taken)
        first = slots[0]
        value = first.value
        params.append(
            Param(
                name,
                _type_of(value),
                value if is_top else None,
                _provenance(slots),
                first.choice if role in ("choice", "param") else None,
            )
        )
        for i in indices:
            template[i].set(Ref(name))
        for inst, slots_i in zip(group.instances, per_instance):
            used = slots_i[indices[0]]
            inst.module.args.append(Arg(name, used.value, role, used.provenance, used.choice))
    return params


def _with_optional(inst: Instance, full: Instance, template: list[Slot]) -> list[Slot]:
    """The slots of an instance lacking the class's optional members, as if it had them: each size
    of such a member (in FULL, the first instance) is the size of the same argument of a member
    both have, where the two are equal in FULL (a shortcut's conv reads what conv1 reads); others
    keep FULL's value. So the optional members' sizes are lifted with the sizes they equal."""
    own = {m.attr: m for m in inst.members}
    members = [own.get(m.attr) or copy.deepcopy(m) for m in full.members]
    slots = _collect(members)
    if [(s.role, s.name) for s in slots] != [(s.role, s.name) for s in template]:
        raise Unmergeable(f"{inst.node.path}: its layers do not line up with {full.node.path}'s")
    optional = {i for i, m in enumerate(_owners(full.members)) if m in inst.absent}
    for i in optional:
        same = next(
            (
                k
                for k, t in enumerate(template)
                if k not in optional
                and (t.role, t.name) == (template[i].role, template[i].name)
                and _hashable(t.value) == _hashable(template[i].value)
            ),
            None,
        )
        value = slots[same].value if same is not None else template[i].value
        slots[i].value = value
        slots[i].set(value)
    return slots


def _owners(members: list[Module | Tensor]) -> list[str]:
    """For each slot of MEMBERS, the attribute of the member it belongs to."""
    return [m.attr for m in members for _ in _collect([m])]


def optional_condition(group: ClassGroup, params: list[Param]) -> list[tuple[Ref, Any]]:
    """When the class's optional members are built, from the arguments its instances are given: a
    parameter away from the neutral 1 (a stride), or two parameters that differ (in and out
    channels), each false for every instance that lacks them; together true for every instance
    that has them. Raises Unmergeable when the arguments cannot tell the two apart."""
    values = [{a.keyword: a.value for a in inst.module.args} for inst in group.instances]
    sizes = [p.name for p in params if p.type == "int"]
    tests: list[tuple[Ref, Any]] = [(Ref(p), 1) for p in sizes]
    tests += [(Ref(p), Ref(q)) for i, p in enumerate(sizes) for q in sizes[i + 1 :]]

    def holds(test: tuple[Ref, Any], given: dict[str, Any]) -> bool:
        other = given.get(test[1].name) if isinstance(test[1], Ref) else test[1]
        return given.get(test[0].name) != other

    lacking = [v for inst, v in zip(group.instances, values) if inst.absent]
    having = [v for inst, v in zip(group.instances, values) if not inst.absent]
    chosen = [
        t
        for t in tests
        if not any(holds(t, v) for v in lacking) and any(holds(t, v) for v in having)
    ]
    if not chosen or not all(any(holds(t, v) for t in chosen) for v in having):
        raise Unmergeable(f"{group.name}: no argument tells when {group.optional[0]} is built")
    return chosen


# ------------------------------------------------------------------------------------------ slots


def _collect(members: list[Module | Tensor]) -> list[Slot]:
    slots: list[Slot] = []
    for m in members:
        if isinstance(m, Tensor):
            slots += _tensor_slots(m)
        else:
            slots += _module_slots(m)
    return slots


def _tensor_slots(t: Tensor) -> list[Slot]:
    # One slot per dimension whatever its size: instances of one class must line up slot for slot
    # (a bias table [1, N] in one block and [4, N] in the next); unit columns are skipped later.
    out = []
    for d, size in enumerate(t.shape):
        if isinstance(size, int):
            out.append(
                Slot(
                    "width",
                    "dim",
                    t.attr,
                    f"{t.comment.split(':')[0]}.shape[{d}]",
                    None,
                    size,
                    _setter_shape(t, d),
                )
            )
    return out


def _name_weight_dims(slots: list[Slot]) -> None:
    """A class's own `weight` [a, b] beside its `bias` [n]: the weight's dimension as long as the
    bias is what the layer produces (out_features), the other what it reads (in_features), in
    either layout (nn.Linear's [out, in], Hugging Face Conv1D's [in, out]); so the sizes are
    named output_dim and input_dim, not dim and weight_dim."""
    dims: dict[str, list[Slot]] = {}
    for slot in slots:
        if slot.name == "dim" and slot.member in ("weight", "bias"):
            dims.setdefault(slot.member, []).append(slot)
    weight, bias = dims.get("weight", []), dims.get("bias", [])
    if len(weight) != 2 or len(bias) != 1:
        return
    out = [w for w in weight if w.value == bias[0].value]
    if len(out) != 1:
        return  # a square weight: which dimension the bias follows is not shown
    for w in weight:
        w.name = "out_features" if w is out[0] else "in_features"
    bias[0].name = "out_features"


def _setter_shape(t: Tensor, d: int) -> Callable[[Any], None]:
    def set_dim(v: Any) -> None:
        shape = list(t.shape)
        shape[d] = v
        t.shape = tuple(shape)

    return set_dim


def _module_slots(m: Module, where: str = "") -> list[Slot]:
    """`where`: the member path that names a size when names clash (`layer2`, `features_3`); a
    block inside a container is named by the container (a stage), a layer by its index too."""
    where = where or m.attr
    slots: list[Slot] = []
    if m.kind == "class":
        for arg in m.args:
            slots.append(
                Slot(
                    "param",
                    arg.keyword or "",
                    where,
                    arg.provenance,
                    arg.choice,
                    arg.value,
                    _setter_arg(arg),
                    inherited=True,
                )
            )
            slots[-1].role = _child_param_role(arg)
            slots[-1].unit = "channels" if "channels" in (arg.keyword or "") else "any"
        return slots
    if m.kind == "repeat":
        slots.append(
            Slot(
                "count",
                _count_name(m.attr),
                m.attr,
                m.comment,
                None,
                m.repeat,
                lambda v: setattr(m, "repeat", v),
            )
        )
    if m.kind == "builtin":
        slots += _call_slots(Call(m.type_name, m.args), where)
    for child in m.children:
        slots += _module_slots(child, where if child.kind == "class" else f"{where}_{child.attr}")
    return slots


def _count_name(attr: str) -> str:
    """`num_layer1` for a container named like a stage; a name too short to say anything (GPT-2's
    `h`) or one that only says "layer" counts layers."""
    return "num_layers" if len(attr) < 3 or attr.rstrip("s") == "layer" else f"num_{attr}"


def _child_param_role(arg: Arg) -> str:
    """A child's parameter keeps its role in the parent, so sizes merge across levels; choices are
    passed up to the top, where users look for them; other differences stay local literals."""
    if arg.role in ("width", "vocab", "positions", "types", "count"):
        return arg.role
    return "param" if arg.role in ("choice", "param") else "other"


def _call_slots(call: Call, member: str) -> list[Slot]:
    slots: list[Slot] = []
    names = _positional_names(call.type_name)
    position = 0
    for arg in call.args:
        if arg.keyword is None:
            name = names[position] if position < len(names) else f"arg{position}"
            position += 1
        else:
            name = arg.keyword
        if isinstance(arg.value, Call):
            slots += _call_slots(arg.value, member)
            continue
        slot = Slot(arg.role, name, member, arg.provenance, arg.choice, arg.value, _setter_arg(arg))
        if CHANNEL_LAYERS.match(nn_base(call.type_name) or call.type_name):
            slot.unit = "channels"
        elif name in FEATURE_OUTPUTS:
            slot.unit = "features"
        slots.append(slot)
    return slots


def _setter_arg(arg: Arg) -> Callable[[Any], None]:
    def set_value(v: Any) -> None:
        arg.value = v

    return set_value


@lru_cache(maxsize=None)
def _positional_names(type_name: str) -> list[str]:
    import torch.nn as nn

    # a layer class (ir/layer_classes.py) takes its torch.nn base's arguments
    cls = getattr(nn, (nn_base(type_name) or type_name).removeprefix("nn."), None)
    if cls is None:
        return []
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    return [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]


# ------------------------------------------------------------------------------------------ names


def _param_name(role: str, slots: list[Slot]) -> str:
    if role == "count":
        member = slots[0].member
        for part in ("encoder", "decoder"):
            if part in member:
                return f"num_{part}_layers"
        return slots[0].name if slots[0].name.startswith("num_") else "num_layers"
    if role == "choice":
        return slots[0].choice.name if slots[0].choice else slots[0].name
    if role == "vocab":
        return "vocab_size"
    if role == "positions":
        return "max_positions"
    if role == "types":
        return "type_vocab_size"
    # A child's name for what it reads (`in_channels`) says nothing about the parent's own size,
    # which a layer of the parent often produces: other child names come first.
    # A child's own in/out names say which side of the child a size is on, not what it is to the
    # parent: they count as the layers' keywords below (what one part gives and another reads is
    # hidden), never as the parent's name.
    inherited = sorted(
        (s.name for s in slots if s.inherited and s.name and s.name not in RELATIVE_NAMES),
        key=lambda n: n.startswith(("in_", "input")),
    )
    semantic = [SEMANTIC_NAMES[s.name] for s in slots if s.name in SEMANTIC_NAMES]
    for name in SEMANTIC_ORDER:
        if name in semantic:
            return name
    if inherited:
        return inherited[0]
    if role != "width":
        return slots[0].name
    inputs, outputs = INPUT_KEYWORDS | RELATIVE_INPUTS, OUTPUT_KEYWORDS | RELATIVE_OUTPUTS
    is_in = any(s.name in inputs for s in slots)
    is_out = any(s.name in outputs for s in slots)
    conv = any("channels" in s.name for s in slots)
    unit = "channels" if conv else "dim"
    first_out = next((i for i, s in enumerate(slots) if s.name in outputs), None)
    if first_out is not None and any(s.name in inputs for s in slots[first_out + 1 :]):
        return f"hidden_{unit}"  # produced by one layer, consumed by a later one
    if is_in:
        return "in_channels" if conv else "input_dim"
    if is_out:
        return "out_channels" if conv else "output_dim"
    named = [s.name for s in slots if s.name not in ("dim",)]
    return named[0] if named else "dim"


def _python_name(text: str) -> str:
    """A parameter name from key text: ASCII word characters only, never a keyword or a digit first."""
    name = re.sub(r"\W|[^\x00-\x7f]", "_", text).strip("_") or "value"
    if name[0].isdigit() or keyword.iskeyword(name):
        name = "p_" + name
    return name


def _unique(name: str, member: str, taken: set[str]) -> str:
    """A clash is told apart by where the value is used (`layer2_channels`,
    `transformer_decoder_activation`), never by a number that says nothing."""
    name = _python_name(name)
    candidate = name
    if candidate in taken and member:
        where = _python_name(f"layer{member}" if member[0].isdigit() else member)
        candidate = f"{where}_{name.removeprefix('hidden_')}"
    base, n = candidate, 2
    while candidate in taken or candidate in ("self",):
        candidate, n = f"{base}_{n}", n + 1  # only when two uses at one place still clash
    taken.add(candidate)
    return candidate


def _provenance(slots: list[Slot]) -> str:
    return next((s.provenance for s in slots if s.provenance), "")


def _type_of(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, tuple):
        return "tuple[int, ...]"
    return "object"


def _hashable(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, (Ref, Call)):
        return repr(value)
    return value
