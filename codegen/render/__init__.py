"""ModelIR -> model.py: finished strings for the templates, Jinja, black, libcst, compile.

Key text reaches the output only through `safetext.string_literal` (repr) or `codegen.safetext`
(comments, docstrings), so no checkpoint key can become code.
"""

from __future__ import annotations

import functools
import re

import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codegen.errors import ModelgenError
from codegen.ir import layer_classes
from codegen.ir import (
    Arg,
    Call,
    Choice,
    ClassDef,
    ExampleInput,
    Module,
    ModelIR,
    Ref,
    Source,
    Tensor,
)
from codegen.render.formatting import format_source
from codegen.render.graph_printer import print_graph
from codegen.render.helpers import HELPERS
from codegen.render.width import WIDTH, call_lines
from codegen.safetext import comment_text, docstring_text, is_plain_attr, printable, string_literal

# --------------------------------------------------------------------------------- expressions


def value_expr(value: Any) -> str:
    if isinstance(value, Ref):
        return value.name
    if isinstance(value, Call):
        return call_expr(value.type_name, value.args)
    if isinstance(value, tuple):
        inner = ", ".join(value_expr(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, str):
        return string_literal(value)
    return repr(value)


def call_expr(type_name: str, args: list[Arg]) -> str:
    return f"{type_name}({_args(args)})"


def _args(args: list[Arg]) -> str:
    parts = [
        value_expr(a.value) if a.keyword is None else f"{a.keyword}={value_expr(a.value)}"
        for a in args
    ]
    return ", ".join(parts)


def module_expr(m: Module, in_sequential: bool = False) -> str:
    """`in_sequential`: an item of a Sequential, which calls it: repeated blocks there are a
    Sequential too (a ModuleList has no forward)."""
    if m.kind in ("builtin", "class", "placeholder"):
        return call_expr(m.type_name, m.args)
    if m.kind == "repeat":
        item = f"{module_expr(m.children[0])} for _ in range({value_expr(m.repeat)})"
        return f"nn.Sequential(*({item}))" if in_sequential else f"nn.ModuleList({item})"
    # A container's items one a line, indented as black lays them out (the trailing comma keeps
    # them so): black leaves the text as it is and does not format it a second time.
    if m.kind == "sequential":
        return f"nn.Sequential(\n{_indent(_items(m.children, in_sequential=True))})"
    if m.kind == "modulelist":
        return f"nn.ModuleList(\n    [\n{_indent(_items(m.children), 2)}    ]\n)"
    if m.kind == "moduledict":
        body = "".join(f"{string_literal(c.attr)}: {module_expr(c)},\n" for c in m.children)
        return f"nn.ModuleDict(\n    {{\n{_indent(body, 2)}    }}\n)"
    raise ValueError(f"unknown module kind {m.kind}")


def _items(children: list[Module], in_sequential: bool = False) -> str:
    """One item a line, so a placeholder's choice comment can sit beside it."""
    lines = []
    for c in children:
        note = _choice_comment(c)
        if note:
            lines.append(f"# {note}\n")
        lines.append(f"{module_expr(c, in_sequential)},\n")
    return "".join(lines)


def _indent(text: str, levels: int = 1) -> str:
    return textwrap.indent(text, "    " * levels)


def _choice_comment(m: Module) -> str:
    """A short note beside a module whose type the shapes do not settle."""
    if m.kind == "placeholder":
        c = m.choices[0]
        if c.source == "pattern":
            return comment_text(f"index {m.attr} holds no tensors and {c.note}")
        return comment_text(
            f"index {m.attr} holds no tensors: {_short(c.value)} is {_how(c)} "
            f"(or {_listing(c.alternatives, most=4)})"
        )
    for c in m.choices:
        if c.name == "module_type" and c.alternatives and c.source != "pattern":
            return comment_text(
                f"{_short(c.value)}: {_how(c)} ({c.note}; could also be {_listing(c.alternatives)})"
            )
    return ""


def _how(c: Choice) -> str:
    return {
        "default": "a guess",
        "hint": "set by --hints",
        "metadata": "from metadata",
        "structure": "read from the structure",
        "calibrated": "calibrated",
    }.get(c.source, c.source)


def _short(value: Any) -> str:
    return value.removeprefix("nn.").removesuffix("()") if isinstance(value, str) else repr(value)


def _listing(values: list[Any], most: int = 5) -> str:
    names = [_short(v) for v in values[:most]]
    return ", ".join(names) + (", ..." if len(values) > most else "")


def _pending_args(members: list[Module | Tensor]) -> str:
    """Constructor values left at defaults (padding, stride, groups...), said once per class."""
    found: dict[str, list[str]] = {}

    def visit(m: Module, label: str) -> None:
        for c in [
            a.choice for a in m.args if a.choice is not None and not isinstance(a.value, Ref)
        ] + [c for c in m.choices if c.name != "module_type"]:
            if c.source == "default" and c.alternatives:
                found.setdefault(c.name, []).append(label)
        for child in m.children:
            visit(child, f"{label}[{child.attr}]" if m.kind != "repeat" else label)

    for m in members:
        if isinstance(m, Module):
            visit(m, m.attr)
    if not found:
        return ""
    parts = [f"{name} ({_listing(sorted(set(where)), 6)})" for name, where in found.items()]
    return "Not recorded in the checkpoint, left at defaults: " + "; ".join(parts) + "."


# ------------------------------------------------------------------------------------- members


def member_lines(m: Module | Tensor, float_dtype: str) -> list[str]:
    if isinstance(m, Tensor):
        return _tensor_lines(m, float_dtype)
    lines = []
    note = _choice_comment(m) if m.kind not in ("sequential", "modulelist", "moduledict") else ""
    if m.kind == "repeat" and m.comment:
        note = comment_text(f"{m.comment}: identical blocks")
    if note:
        lines.append(f"# {note}")
    expr = module_expr(m)
    if m.present_if:  # an optional member: None unless the arguments call for it
        lines.append(_register(m.attr, "None"))
        lines.append(
            f"if {' or '.join(f'{value_expr(a)} != {value_expr(b)}' for a, b in m.present_if)}:"
        )
        lines.append(_indent(_register(m.attr, expr)))
        return lines
    lines.append(_register(m.attr, expr))
    if m.kind == "builtin" and _plain(m.attr):
        # A layer holding a child of its own (a conv and its norm, Detectron2's Conv2d): the
        # child is attached to the built layer, and the forward calls it after the layer.
        for child in m.children:
            for line in member_lines(child, float_dtype):
                own = line.startswith("self.")
                lines.append(f"self.{m.attr}.{line[len('self.'):]}" if own else line)
    return lines


def _register(attr: str, expr: str) -> str:
    return (
        f"self.{attr} = {expr}"
        if _plain(attr)
        else f"self.add_module({string_literal(attr)}, {expr})"
    )


def _plain(attr: str) -> bool:
    return is_plain_attr(attr)


def _tensor_lines(t: Tensor, float_dtype: str) -> list[str]:
    dims = ", ".join(value_expr(d) for d in t.shape) if t.shape else "()"
    dtype = ""
    if t.dtype != "float32" and t.dtype != float_dtype:
        dtype = f", dtype=torch.{t.dtype}"
    tensor = f"torch.zeros({dims}{dtype})"
    comment = f"# loaded from the checkpoint ({comment_text(t.comment)})"
    if t.kind == "buffer":
        return [comment, f"self.register_buffer({string_literal(t.attr)}, {tensor})"]
    if _plain(t.attr):
        return [comment, f"self.{t.attr} = nn.Parameter({tensor})"]
    return [comment, f"self.register_parameter({string_literal(t.attr)}, nn.Parameter({tensor}))"]


# ------------------------------------------------------------------------------------ classes


@dataclass
class ParamView:
    signature: str
    comment: str


@dataclass
class ClassView:
    name: str
    base: str
    doc: str
    params: list[ParamView]
    init_lines: list[str]  # the constructor's body, `super().__init__(...)` first: one line each
    forward_def: list[str]  # `def forward(...) -> ...:` as black lays it out, in one or more lines
    forward_lines: list[str]
    example_inputs: list[str] = field(default_factory=list)
    examples_doc: str = ""  # what example_inputs' sizes are: arbitrary, or what fixed them
    imports: set[str] = field(default_factory=set)  # what the printed forward graph needs
    loader: list[str] = field(default_factory=list)  # body of from_checkpoint (top class only)
    loader_doc: str = ""


TRUST_MEANING = {
    "inferred": "a recognised pattern; unrecorded values are the choices listed",
    "guessed": "",  # the pattern's own note says what it guessed
    "missing": "it raises NotImplementedError naming what is missing",
}


def trust_line(cls: ClassDef, trust: str) -> str:
    """The class docstring's line on how far its forward can be believed; '' when exact."""
    if trust == "exact":
        return ""
    why = cls.forward.trust_note or TRUST_MEANING.get(trust, "")
    return f"Forward trust: {trust}" + (f": {why}." if why else ".")


def def_lines(name: str, params: list[str], returns: str, indent: int) -> list[str]:
    """`def name(params) -> returns:` laid out as black lays out a def at `indent` within 100
    columns, so black's first pass leaves it alone and its second never runs: one line if it fits,
    else the parameters on one line of their own, else one a line with a trailing comma. Anything
    else (one parameter, one too long for a line) stays on one line for black to split."""
    head, tail = f"def {name}(", f") -> {returns}:"
    one = f"def {name}({', '.join(params)}) -> {returns}:"
    if indent + len(one) <= 100 or len(params) < 2:
        return [one]
    if indent + 4 + len(", ".join(params)) <= 100:
        return [head, "    " + ", ".join(params), tail]
    if all(indent + 4 + len(p) + 1 <= 100 for p in params):
        return [head, *(f"    {p}," for p in params), tail]
    return [one]


def class_view(cls: ClassDef, float_dtype: str, trust: str = "inferred") -> ClassView:
    params = []
    for p in cls.params:
        default = f" = {value_expr(p.default)}" if cls.is_top else ""
        params.append(
            ParamView(
                f"{p.name}: {p.type}{default}", comment_text(p.comment()) if cls.is_top else ""
            )
        )
    super_call = "super().__init__()"
    if cls.base_module is not None:
        expr = module_expr(cls.base_module)
        super_call = "super().__init__" + expr[len(cls.base_module.type_name) :]
        if cls.base_module.kind == "repeat":
            super_call = f"super().__init__({module_expr(cls.base_module.children[0])} for _ in range({value_expr(cls.base_module.repeat)}))"
    init_lines = [super_call]
    for m in cls.members:
        init_lines += member_lines(m, float_dtype)
    for attr, item in cls.aliases:  # the same layer under a second name (analyze/aliases.py)
        init_lines.append(f"self.{attr} = {item}")
    fwd = cls.forward
    forward_lines: list[str] = []
    inputs = fwd.inputs or [("x", "torch.Tensor")]
    imports: set[str] = set()
    defaults: dict[str, str] = {}
    if cls.base_module is None:
        if fwd.graph is not None and not fwd.missing:
            printed = print_graph(fwd.graph, _dict_items(cls.members))
            forward_lines, inputs, imports = printed.lines, printed.arguments, printed.imports
            defaults = printed.defaults
        else:
            missing = "modelgen could not infer " + (fwd.missing or "the dataflow")
            forward_lines = _raise_lines(missing)
    imports = set(imports) | _layer_class_imports(cls)
    forward_args = ["self"] + [
        f"{n}: {a} = {defaults[n]}" if n in defaults else f"{n}: {a}" for n, a in inputs
    ]
    examples, sized = [], ""
    if cls.is_top and cls.base_module is None and not fwd.missing:
        examples = [_example_expr(e) for e in fwd.examples]
        sized = next((e.why for e in fwd.examples if e.why), "")
    paragraphs = (
        cls.doc,
        trust_line(cls, trust),
        _pending_args(cls.members + ([cls.base_module] if cls.base_module else [])),
    )
    doc = _closable("\n\n    ".join(_docstring_paragraph(p) for p in paragraphs if p), "    ")
    return ClassView(
        cls.name,
        cls.base,
        doc,
        params,
        _method_body(init_lines),
        def_lines("forward", forward_args, fwd.returns, indent=4),
        _method_body(forward_lines),
        examples,
        (
            f"Inputs of the right shapes and dtypes for a smoke test: {sized}."
            if sized
            else "Inputs of the right shapes and dtypes for a smoke test; the sizes are arbitrary."
        ),
        imports,
    )


def _method_body(statements: list[str]) -> list[str]:
    """A method's statements (a member's may span lines) as the lines the template indents by 8,
    a long call split as black splits it."""
    return [part for s in statements for line in s.split("\n") for part in call_lines(line, 8)]


def _closable(doc: str, indent: str) -> str:
    """A docstring of several lines as black leaves it: its closing quotes on a line of their own
    (at `indent`) where, after its last line, they would pass WIDTH columns."""
    last = doc.rsplit("\n", 1)[-1]
    if "\n" in doc and len(last) + 3 > WIDTH and doc[-1] not in '"\\':  # (black pads those)
        return f"{doc}\n{indent}"
    return doc


def _docstring_paragraph(text: str) -> str:
    """Escaped first, then wrapped at spaces only, so no escape sequence is split across lines."""
    lines = textwrap.wrap(
        docstring_text(text), width=92, break_long_words=False, break_on_hyphens=False
    )
    return "\n    ".join(lines)


def _example_expr(e: ExampleInput) -> str:
    shape = ", ".join(str(d) for d in e.shape) + ("," if len(e.shape) == 1 else "")
    return f"torch.randint(0, {e.vocab}, ({shape}))" if e.vocab else f"torch.randn({shape})"


# ---------------------------------------------------------------------------------- the file


def docstring(ir: ModelIR) -> str:
    s = ir.source
    lines = [
        f"{ir.summary}.",
        "",
        f"Generated by modelgen from {s.file} ({s.format}, {s.num_tensors} tensors, "
        f"fingerprint {s.fingerprint}).",
    ]
    if s.container or s.stripped_prefixes:
        how = []
        if s.container:
            how.append(f"state dict under {s.container!r}")
        if s.stripped_prefixes:
            how.append("prefixes stripped: " + ", ".join(repr(p) for p in s.stripped_prefixes))
        lines.append("Unwrapped: " + "; ".join(how) + ".")
    if s.command:
        lines.append(f"Regenerate: {s.command}")
    if s.calibration:
        lines.append(s.calibration)
    lines += trust_summary(ir)
    if s.float_dtype != "float32":
        lines += [
            "",
            f"The weights are {s.float_dtype}; build with {ir.top.name}().to(torch.{s.float_dtype}) "
            "to compute in that precision.",
        ]
    choices = ir.all_choices()
    lines += _unnamed_running_norms(choices)
    by_source: dict[str, list[str]] = {}
    for c in choices:
        if c.alternatives or c.source != "default":
            name = "layer types" if c.name == "module_type" else c.name
            # cite where: "causal (config.json model_type)"
            if c.source in ("metadata", "structure") and c.note:
                name = f"{name} ({c.note.removeprefix('checkpoint metadata ')})"
            by_source.setdefault(c.source, []).append(name)
    if by_source:
        lines += ["", "Values the checkpoint does not record:"]
        labels = {
            "calibrated": "calibrated",
            "hint": "set by --hints",
            "metadata": "from checkpoint metadata",
            "structure": "read from the model's structure",
            "default": "left at defaults (calibrate or pin with --hints)",
        }
        for source in ("calibrated", "hint", "metadata", "structure", "default"):
            if source in by_source:
                names = sorted(set(by_source[source]))
                item = f"- {labels[source]}: {', '.join(names)}"
                lines += textwrap.wrap(
                    item, width=98, subsequent_indent="  ", break_on_hyphens=False
                )
    return "\n".join(docstring_text(line) for line in lines)


# The keys of a norm with running statistics are BatchNorm's and, with track_running_stats=True,
# InstanceNorm's too (yunjey's StarGAN: InstanceNorm2d(affine=True, track_running_stats=True)).
# In eval both normalise with the running statistics, so the forward is the same; in training an
# InstanceNorm normalises each sample alone. A name that says batch (`bn1`) settles it.
BATCH_NAMED = re.compile(r"(^|[._])(bn|batch)", re.I)


def _unnamed_running_norms(choices: list[Choice]) -> list[str]:
    """The docstring's note where norms with running statistics are written as BatchNorm and no
    name in the model says batch (a `bn1` beside a Sequential's `downsample.1` settles both):
    what would differ (training, not eval), naming the first."""
    running = {
        c.path
        for c in choices
        if c.name == "module_type"
        and isinstance(c.value, str)
        and c.value.startswith("nn.BatchNorm")
        and c.note.startswith("running statistics")
        and c.source == "default"
    }
    if not running or any(BATCH_NAMED.search(p.rsplit(".", 1)[-1]) for p in running):
        return []
    paths = sorted(running)
    where = printable(paths[0]) + (f" and {len(paths) - 1} more" if len(paths) > 1 else "")
    text = (
        f"Norms with running statistics ({where}) are written as BatchNorm: an InstanceNorm "
        "with track_running_stats=True holds the same keys and computes the same in eval, but "
        "in training normalises each sample alone (finetune would differ)."
    )
    return [""] + textwrap.wrap(text, width=98, break_on_hyphens=False)


def trust_summary(ir: ModelIR) -> list[str]:
    """The docstring's paragraph naming each class whose forward is not exact, by trust level."""
    by_level: dict[str, list[str]] = {}
    for name, level in ir.trust_levels().items():
        by_level.setdefault(level, []).append(name)
    if set(by_level) <= {"exact"}:
        return ["", "Forward trust: exact (verified against DATA)."] if ir.source.verified else []
    parts = [
        f"{level} {', '.join(by_level[level])}"
        for level in ("missing", "guessed", "inferred")
        if level in by_level
    ]
    text = "Forward trust (prove it with modelgen verify --data): " + "; ".join(parts) + "."
    return ["", *textwrap.wrap(text, width=96)]


def loader_lines(s: Source) -> tuple[list[str], str]:
    """Body and docstring of the top class's `from_checkpoint(path)`: the file read the way the
    generator read it (the state dict's container, then the prefixes it stripped), in torch only.
    None for what one file cannot hold (shards, TorchScript) or a remap (renames are not repeated).
    """
    if s.format not in ("torch-zip", "torch-legacy", "safetensors") or "--remap" in s.command:
        return [], ""
    # Either format, whichever the weights were saved in: the file does not depend on it.
    lines = [
        'if path.endswith(".safetensors"):',
        "    from safetensors.torch import load_file  # needed only for this format",
        "",
        "    state = load_file(path)",
        "else:",
        '    state = torch.load(path, map_location="cpu", weights_only=True)',
    ]
    how = []
    if s.container:
        for part in s.container.split("/"):  # a digit is a list index or a key, as in load/unwrap
            seq = (
                f"state[{int(part)}] if isinstance(state, (list, tuple)) else "
                if part.isascii() and part.isdigit()  # a list index, as load/unwrap makes them
                else ""
            )
            lines.append(f"state = {seq}state[{string_literal(part)}]")
        how.append(f"the state dict under {s.container!r}")
    if s.stripped_prefixes:
        names = ", ".join(repr(p) for p in s.stripped_prefixes)
        lines += [
            f"for prefix in [{', '.join(string_literal(p) for p in s.stripped_prefixes)}]:",
            "    state = {k.removeprefix(prefix): v for k, v in state.items()}",
        ]
        how.append(f"prefixes {names} stripped")
    lines += ["model = cls()", "model.load_state_dict(state)", "return model"]
    doc = (
        "Build the model and strict-load the checkpoint file it was generated from"
        + (": " + "; ".join(how) if how else "")
        + "."
    )
    wrapped = textwrap.wrap(
        docstring_text(doc), width=88, break_long_words=False, break_on_hyphens=False
    )  # escaped first, wrapped at spaces only: no escape sequence is split
    return lines, "\n        ".join(wrapped)


def render_source(ir: ModelIR, formatted: bool = True) -> str:
    """The finished, formatted, validated file text (`formatted=False`: valid but raw, for calibration)."""
    env = _environment()
    trust = ir.trust_levels()
    views = [class_view(c, ir.source.float_dtype, trust[c.name]) for c in ir.classes]
    views[-1].loader, views[-1].loader_doc = loader_lines(ir.source)
    text = env.get_template("model.py.jinja").render(
        docstring=_closable(docstring(ir), ""),
        imports=_imports(views) + _helpers(views),
        classes=views,
    )
    return validate(format_source(text, fit=True)) if formatted else text


def _helpers(views: list[ClassView]) -> list[str]:
    """Module-level functions the forwards call (rotary embedding) and the layer classes the
    constructors build (ir/layer_classes.py), after the imports."""
    needed = set().union(*(v.imports for v in views))
    names = sorted(n.removeprefix("helper:") for n in needed if n.startswith("helper:"))
    texts = [HELPERS.get(n) or layer_classes.text(n) for n in names]
    return [line for t in texts for line in ["", "", *t.strip("\n").splitlines()]]


def _layer_class_imports(cls: ClassDef) -> set[str]:
    """The layer classes (ir/layer_classes.py) this class's constructor builds, as helpers, and
    what their text imports."""
    found: set[str] = set()

    def visit(value: Any) -> None:
        if isinstance(value, Module):
            if layer_classes.text(value.type_name) is not None:
                found.add(value.type_name)
            for a in value.args:
                visit(a.value)
            for c in value.children:
                visit(c)
        elif isinstance(value, Call):
            if layer_classes.text(value.type_name) is not None:
                found.add(value.type_name)
            for a in value.args:
                visit(a.value)

    for m in cls.members + ([cls.base_module] if cls.base_module else []):
        visit(m)
    if not found:
        return set()
    return {f"helper:{n}" for n in found} | set(layer_classes.IMPORTS)


def _imports(views: list[ClassView]) -> list[str]:
    """From what the forward graphs call, never from searching the text (a key may read `F.x`)."""
    needed = set().union(*(v.imports for v in views))
    imports = []
    if "math" in needed:
        imports.append("import math")
        imports.append("")
    imports.append("import torch")
    imports.append("import torch.nn as nn")
    if "F" in needed:
        imports.append("import torch.nn.functional as F")
    return imports


@functools.lru_cache(maxsize=1)
def _environment():
    """One environment per process: it keeps its compiled templates (calibration renders hundreds
    of candidates)."""
    import jinja2

    from importlib.resources import files

    # templates/ is installed as the package `codegen.templates` (see pyproject.toml). In a source
    # checkout it sits beside codegen/: read that one first, so the code and the templates always come
    # from the same tree (an editable install of another checkout would map the package elsewhere).
    beside = Path(__file__).resolve().parents[2] / "templates"
    folder = beside if (beside / "model.py.jinja").is_file() else files("codegen.templates")
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(folder)),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        autoescape=False,
    )


def validate(text: str) -> str:
    try:
        compile(text, "model.py", "exec")
    except (SyntaxError, ValueError) as e:
        raise ModelgenError(
            f"internal error: generated code is invalid ({e}); please report it"
        ) from None
    return text


def _dict_items(members, at: tuple[str, ...] = ()) -> frozenset:
    """The paths of the items of every nn.ModuleDict among a class's members (theirs too)."""
    found = set()
    for m in members:
        if not hasattr(m, "children"):
            continue  # (a tensor)
        path = at + (m.attr,)
        if m.kind == "moduledict":
            found |= {path + (c.attr,) for c in m.children}
        found |= _dict_items(m.children, path)
    return frozenset(found)


def _raise_lines(message: str) -> list[str]:
    """`raise NotImplementedError(message)` in lines that fit 100 columns inside a method: a long
    message (many member names) as adjacent string literals, which Python joins back."""
    single = f"raise NotImplementedError({string_literal(message)})"
    if len(single) <= 92:
        return [single]
    parts = textwrap.wrap(
        message, width=76, drop_whitespace=False, replace_whitespace=False, expand_tabs=False
    )
    if "".join(parts) != message:
        return [single]
    return ["raise NotImplementedError(", *(f"    {string_literal(part)}" for part in parts), ")"]
