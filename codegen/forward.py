"""The dataflow of each generated class's forward, inferred from its members and their widths.

Patterns are tried from the most specific to the plainest; each returns a Forward (lines of code
and the choices it made) or None. When none fits, the forward raises NotImplementedError naming
what could not be inferred, and `generate` warns: a model that loads but computes something else
would be worse than one that says it does not know.
"""

from __future__ import annotations

from typing import Callable

from codegen.ir import ClassDef, Forward, Module, Tensor

Pattern = Callable[[ClassDef], "Forward | None"]


def infer_forward(cls: ClassDef) -> Forward:
    for pattern in PATTERNS:
        found = pattern(cls)
        if found is not None:
            return found
    return Forward(inputs=[("x", "torch.Tensor")], missing=_why_not(cls))


def _modules(cls: ClassDef) -> list[Module]:
    return [m for m in cls.members if isinstance(m, Module)]


def _tensors(cls: ClassDef) -> list[Tensor]:
    return [m for m in cls.members if isinstance(m, Tensor)]


def _ref(m: Module) -> str:
    return f"self.{m.attr}" if m.attr.isidentifier() and m.attr.isascii() else f"getattr(self, {m.attr!r})"


# ------------------------------------------------------------------------------------- patterns


def positional_table(cls: ClassDef) -> Forward | None:
    """A class holding only a position table: add the rows for the sequence length."""
    tensors = _tensors(cls)
    if _modules(cls) or len(tensors) != 1 or tensors[0].kind != "buffer" or len(tensors[0].shape) not in (2, 3):
        return None
    t = tensors[0]
    name = f"self.{t.attr}"
    if len(t.shape) == 3 and t.shape[0] == 1:
        line = f"return x + {name}[:, : x.size(1)]  # table is [1, max_len, d_model]: batch first"
    elif len(t.shape) == 3 and t.shape[1] == 1:
        line = f"return x + {name}[: x.size(0)]  # table is [max_len, 1, d_model]: sequence first"
    elif len(t.shape) == 2:
        line = f"return x + {name}[: x.size(1)]  # table is [max_len, d_model]"
    else:
        return None
    return Forward(inputs=[("x", "torch.Tensor")], lines=[line])


def encoder_decoder(cls: ClassDef) -> Forward | None:
    """Embedding/positional front, an encoder stack, a decoder stack that reads its memory, a head."""
    modules = _modules(cls)
    kinds = [m.type_name for m in modules]
    if "nn.TransformerEncoder" not in kinds or "nn.TransformerDecoder" not in kinds or _tensors(cls):
        return None
    enc = kinds.index("nn.TransformerEncoder")
    dec = kinds.index("nn.TransformerDecoder")
    if dec < enc:
        return None
    front, head = modules[:enc], modules[dec + 1:]
    if any(m.kind == "placeholder" for m in front + head) or modules[enc + 1:dec]:
        return None
    lines = []
    for m in front:
        lines.append(f"src = {_ref(m)}(src)")
    lines.append(f"memory = {_ref(modules[enc])}(src)")
    for m in front:
        lines.append(f"tgt = {_ref(m)}(tgt)")
    lines.append(f"out = {_ref(modules[dec])}(tgt, memory)")
    for m in head:
        lines.append(f"out = {_ref(m)}(out)")
    lines.append("return out")
    return Forward(inputs=[("src", "torch.Tensor"), ("tgt", "torch.Tensor")], lines=lines)


def full_transformer(cls: ClassDef) -> Forward | None:
    modules = _modules(cls)
    if len(modules) != 1 or modules[0].type_name != "nn.Transformer" or _tensors(cls):
        return None
    return Forward(inputs=[("src", "torch.Tensor"), ("tgt", "torch.Tensor")],
                   lines=[f"return {_ref(modules[0])}(src, tgt)"])


def chain(cls: ClassDef) -> Forward | None:
    """Members in registration order, each consuming the previous output, where widths compose."""
    modules = _modules(cls)
    if not modules or _tensors(cls):
        return None
    width = None
    lines = []
    for m in modules:
        io = m.io
        if io is not None and io.in_width is not None and width is not None and io.in_width != width:
            return None
        if io is not None and io.family == "attention":
            return None
        lines += _apply(m)
        if io is not None and io.out_width is not None:
            width = io.out_width
    lines.append("return x")
    return Forward(inputs=[("x", "torch.Tensor")], lines=lines)


def _apply(m: Module) -> list[str]:
    if m.kind == "repeat":
        return [f"for layer in {_ref(m)}:", "    x = layer(x)"]
    if m.type_name in ("nn.RNN", "nn.LSTM", "nn.GRU"):
        return [f"x, _ = {_ref(m)}(x)  # outputs of every step"]
    return [f"x = {_ref(m)}(x)"]


PATTERNS: list[Pattern] = [positional_table, full_transformer, encoder_decoder, chain]


def _why_not(cls: ClassDef) -> str:
    if _tensors(cls):
        names = ", ".join(t.attr for t in _tensors(cls))
        return f"how {names} enter{'s' if len(_tensors(cls)) == 1 else ''} the computation"
    modules = _modules(cls)
    if not modules:
        return "the computation of a class without modules"
    return "the order in which " + ", ".join(m.attr for m in modules) + " are applied (their widths do not chain)"


def example_inputs(cls: ClassDef) -> list[str] | None:
    """Expressions building inputs forward accepts, for smoke tests; None where the entry is unknown."""
    if cls.forward.missing:
        return None
    modules = _modules(cls)
    first = modules[0] if modules else None
    if first is None or first.io is None:
        return None
    if first.io.family == "embedding" and first.io.vocab:
        one = f"torch.randint(0, {first.io.vocab}, (2, 16))"
    elif first.io.family == "conv" and first.io.in_width:
        spatial = ", ".join(["32"] * (first.io.ndim or 2))
        one = f"torch.randn(2, {first.io.in_width}, {spatial})"
    elif first.io.in_width:
        one = f"torch.randn(2, 16, {first.io.in_width})"
    else:
        return None
    return [one] * len(cls.forward.inputs)
