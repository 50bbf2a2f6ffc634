"""The intermediate representation between analysis and rendering: decisions, not raw input.

Plain dataclasses, JSON-serialisable with `dataclasses.asdict`. The analyzer fills them from a
checkpoint; the renderer turns them into source; a test can build either side by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Union

from codegen.ir.graph import Graph


@dataclass
class Ref:
    """A value that is a constructor parameter of the enclosing class (rendered as its name)."""

    name: str


@dataclass
class Call:
    """A module constructor call used as a value, e.g. the layer passed to nn.TransformerEncoder."""

    type_name: str  # "nn.TransformerEncoderLayer" or a generated class name
    args: list[Arg] = field(default_factory=list)


# A literal (int, float, str, bool, None), a tuple of values, a parameter reference or a call.
Value = Union[int, float, str, bool, None, tuple, Ref, Call]


@dataclass
class Choice:
    """A value the checkpoint does not record: what was picked, from where, and what else fits."""

    name: str
    value: Any
    alternatives: list[Any]
    source: str = "default"  # default | hint | metadata | calibrated | structure | pattern
    note: str = ""  # why this default, or which metadata key / hint set it
    path: str = ""  # the module path it belongs to: what hints and calibration address
    also_accepts: str = ""  # an open domain (choices.OPEN_DOMAINS) hints may pick from beyond these

    def describe(self) -> str:
        others = ", ".join(_show(a) for a in self.alternatives)
        if self.source == "default":
            how = "default"
        elif self.source == "calibrated":
            how = "calibrated"
        else:
            how = f"from {self.note or self.source}"
        return (
            f"not in the checkpoint: {how} (alternatives {others})"
            if others
            else f"not in the checkpoint: {how}"
        )


@dataclass
class Arg:
    """One constructor argument: a keyword (None for positional) and its value with provenance."""

    keyword: str | None
    value: Value
    role: str = (
        "other"  # width | count | kernel | choice | flag | other: how hyperparameters are lifted
    )
    provenance: str = ""  # which key and dimension the value came from
    choice: Choice | None = None


@dataclass
class Param:
    """A typed constructor parameter of a generated class."""

    name: str
    type: str  # int | float | bool | str
    default: Any
    provenance: str = ""
    choice: Choice | None = None

    def comment(self) -> str:
        if self.choice is not None:
            return self.choice.describe()
        return self.provenance


@dataclass
class IOSpec:
    """What a module consumes and produces, for dataflow inference: feature widths and family."""

    family: (
        str  # linear | conv | norm | embedding | rnn | attention | transformer | activation | class
    )
    in_width: int | None = None
    out_width: int | None = None
    ndim: int | None = None  # spatial dims for conv/norm families
    vocab: int | None = None  # embedding family: how many token ids it accepts


@dataclass
class Module:
    """A child module registered on a class: `self.<attr> = <constructor>`."""

    attr: str  # the exact key segment
    kind: str  # builtin | class | sequential | modulelist | repeat | moduledict | placeholder
    type_name: str  # "nn.Linear", "nn.Sequential", a generated class name...
    args: list[Arg] = field(default_factory=list)
    children: list[Module] = field(
        default_factory=list
    )  # sequential / modulelist / moduledict items
    repeat: Value = None  # kind == "repeat": how many copies of children[0]
    copies: int = 0  # kind == "repeat": that count as found, after `repeat` became a parameter
    io: IOSpec | None = None
    choices: list[Choice] = field(
        default_factory=list
    )  # e.g. the activation placed in an index gap
    comment: str = ""
    # An optional member (a shortcut's projection some instances of the class lack): it is built
    # when any (parameter, other) pair differs, `other` a parameter (Ref) or a neutral int (a
    # stride of 1); else it is None, and forward passes its input through where it would call it.
    present_if: list[tuple[Ref, Any]] = field(default_factory=list)


@dataclass
class Tensor:
    """A parameter or buffer registered directly on a class."""

    attr: str
    shape: tuple  # of Values
    dtype: str
    kind: str  # parameter | buffer
    comment: str = ""


# The side of an example input's map where nothing fixes it: most convolutional networks take any.
EXAMPLE_SIDE = 32


@dataclass
class ExampleInput:
    """A tensor forward accepts, for smoke tests: token ids below `vocab`, or random features;
    `why` says what fixed its size, where something did (the docstring says so)."""

    shape: tuple[int, ...]
    vocab: int | None = None
    why: str = ""


@dataclass
class Forward:
    """The dataflow of a generated class's forward: a graph (codegen.ir.graph), never code text.

    `missing` set (or no graph) means no dataflow could be inferred: the method raises
    NotImplementedError naming it. `trust` says how far the forward can be believed (DESIGN.md,
    "Choices, evidence and trust"): inferred (a catalogue pattern), guessed (width chaining), missing
    (raises NotImplementedError); exact once DATA verified the whole file (ModelIR.trust_levels);
    `trust_note` says why, for the docstring.
    """

    inputs: list[tuple[str, str]] = field(default_factory=list)  # (name, annotation)
    returns: str = "torch.Tensor"
    missing: str = ""
    choices: list[Choice] = field(default_factory=list)
    graph: Graph | None = None  # the dataflow as a graph; when set, the renderer prints it
    examples: list[ExampleInput] = field(default_factory=list)  # inputs for a smoke test
    pattern: str = ""  # the catalogue pattern that built the graph
    role: str = ""  # that pattern's role ("Attention", "MLP"): what callers may assume of it
    names_class: bool = False  # the role is a good name for the class (not a fallback's)
    title: str = ""  # the class's name where it differs from the role (a ResNet bottleneck)
    trust: str = "inferred"  # inferred | guessed (from that pattern) | missing
    trust_note: str = ""
    # The output concatenates these members' outputs (and the input, with `concatenates_input`)
    # along the channels: its width is their sum, not what the last member gives.
    concatenates: tuple[str, ...] = ()
    concatenates_input: bool = False
    # Channels two of those parts add rather than place side by side (a dual path block's
    # residual part): counted once in the width.
    concatenates_shared: int = 0
    halves_input: bool = False  # it reads twice its members' width, passing one half on


@dataclass
class ClassDef:
    name: str
    params: list[Param] = field(default_factory=list)
    members: list[Union[Module, Tensor]] = field(default_factory=list)
    forward: Forward = field(default_factory=Forward)
    base: str = "nn.Module"  # a built-in when the checkpoint's root is one (keys without a prefix)
    base_module: Module | None = None  # that built-in or container, whose arguments go to super()
    doc: str = ""
    is_top: bool = False
    # The attribute name all its instances share, where a pattern's forward depends on it (an HF
    # `pooler` and `intermediate` hold the same keys but compute different things); else "".
    named: str = ""
    # The subtrees it is used for, by key path with their widths (where a pattern's evidence is
    # per instance, as EfficientNet's block table is).
    instances: list[tuple[str, IOSpec | None]] = field(default_factory=list)
    # Each instance's own members' widths, by attribute, in the order of `instances` (`members`
    # show the first instance's): where a parent's pattern checks what each instance's parts read
    # (a U-Net's up levels: the conv reads the upsampled width plus the skip's).
    member_io: list[dict[str, IOSpec | None]] = field(default_factory=list)
    # A member registered again under a second name, (attr, `self.model[3]`): analyze/aliases.py
    aliases: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Source:
    """Where the IR came from, for the generated file's docstring."""

    file: str
    format: str
    num_tensors: int
    fingerprint: str
    container: str | None = None
    stripped_prefixes: list[str] = field(default_factory=list)
    float_dtype: str = "float32"
    command: str = ""
    calibration: str = ""  # what --calibrate used and reached, for the docstring
    verified: str = ""  # DATA's name when calibration reproduced it: every forward is then exact


@dataclass
class ModelIR:
    classes: list[ClassDef]  # smallest first, the top class last
    source: Source
    summary: str = ""  # one line: what the model is
    warnings: list[str] = field(default_factory=list)

    @property
    def top(self) -> ClassDef:
        return self.classes[-1]

    def trust_levels(self) -> dict[str, str]:
        """Each class's trust level: exact everywhere once DATA has verified the whole forward."""
        return {c.name: "exact" if self.source.verified else c.forward.trust for c in self.classes}

    def all_choices(self) -> list[Choice]:
        return class_choices(self.classes)


def class_choices(classes: list[ClassDef]) -> list[Choice]:
    """Every choice of these classes: their parameters', forwards' and members' layers'."""
    seen: list[Choice] = []
    for cls in classes:
        for p in cls.params:
            if p.choice is not None:
                seen.append(p.choice)
        seen += cls.forward.choices
        for m in cls.members + ([cls.base_module] if cls.base_module else []):
            if isinstance(m, Module):
                seen += _module_choices(m)
    return seen


def _module_choices(m: Module) -> list[Choice]:
    out = list(m.choices)
    for a in m.args:
        if a.choice is not None:
            out.append(a.choice)
    for c in m.children:
        out += _module_choices(c)
    return out


def _show(v: Any) -> str:
    return repr(v) if isinstance(v, str) else str(v)
