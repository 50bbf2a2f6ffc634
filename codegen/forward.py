"""The dataflow of each generated class's forward, inferred from its members and their widths.

Patterns are tried from the most specific to the plainest; each returns a Forward (lines of code
and the choices it made) or None. When none fits, the forward raises NotImplementedError naming
what could not be inferred, and `generate` warns: a model that loads but computes something else
would be worse than one that says it does not know.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from codegen.choices import ChoiceResolver
from codegen.naming import is_plain_attr
from codegen.ir import Choice, ClassDef, Forward, Module, Tensor

Pattern = Callable[[ClassDef, ChoiceResolver], "Forward | None"]


def infer_forward(
    cls: ClassDef, resolver: ChoiceResolver | None = None, unknown: frozenset[str] = frozenset()
) -> Forward:
    """`unknown`: generated classes whose own forward could not be inferred. A dataflow through one
    of them would only move the NotImplementedError and hide where the gap is, so none is built."""
    resolver = resolver or ChoiceResolver()
    blocked = [m.attr for m in _modules(cls) if _uses(m, unknown)]
    if blocked:
        names = sorted(
            {
                m.type_name if m.kind == "class" else m.children[0].type_name
                for m in _modules(cls)
                if _uses(m, unknown)
            }
        )
        return Forward(
            inputs=[("x", "torch.Tensor")],
            missing=f"the dataflow: it calls {', '.join(blocked)}, whose class "
            f"{'/'.join(names)} has no inferred forward",
        )
    for pattern in PATTERNS:
        found = pattern(cls, resolver)
        if found is not None:
            return found
    return Forward(inputs=[("x", "torch.Tensor")], missing=_why_not(cls))


def _uses(m: Module, unknown: frozenset[str]) -> bool:
    if m.kind == "class":
        return m.type_name in unknown
    return any(_uses(c, unknown) for c in m.children)


def _modules(cls: ClassDef) -> list[Module]:
    return [m for m in cls.members if isinstance(m, Module)]


def _tensors(cls: ClassDef) -> list[Tensor]:
    return [m for m in cls.members if isinstance(m, Tensor)]


def _ref(m: Module) -> str:
    return f"self.{m.attr}" if is_plain_attr(m.attr) else f"getattr(self, {m.attr!r})"


# ------------------------------------------------------------------------------------- patterns


def positional_table(cls: ClassDef, resolver: ChoiceResolver) -> Forward | None:
    """A class holding only a position table: add the rows for the sequence length."""
    tensors = _tensors(cls)
    if (
        _modules(cls)
        or len(tensors) != 1
        or tensors[0].kind != "buffer"
        or len(tensors[0].shape) not in (2, 3)
    ):
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


def encoder_decoder(cls: ClassDef, resolver: ChoiceResolver) -> Forward | None:
    """Two inputs: a source through the encoder, a target through the decoder that reads its memory.

    Either one nn.Transformer, or an nn.TransformerEncoder followed by an nn.TransformerDecoder.
    Modules before it embed the inputs: with two embeddings the first takes the source and the second
    the target; other front modules (positional tables, projections) apply to both. Modules after it
    form the head.
    """
    modules = _modules(cls)
    kinds = [m.type_name for m in modules]
    if _tensors(cls) or any(m.kind == "placeholder" for m in modules):
        return None
    if "nn.Transformer" in kinds:
        start = end = kinds.index("nn.Transformer")
    elif "nn.TransformerEncoder" in kinds and "nn.TransformerDecoder" in kinds:
        start, end = kinds.index("nn.TransformerEncoder"), kinds.index("nn.TransformerDecoder")
        if end != start + 1:
            return None
    else:
        return None
    front, head = modules[:start], modules[end + 1 :]
    embeddings = [m for m in front if m.io is not None and m.io.family == "embedding"]
    if len(embeddings) > 2:
        return None
    lines = []
    for name, own in (("src", 0), ("tgt", 1)):
        for m in front:
            if m in embeddings and embeddings.index(m) != own % len(embeddings):
                continue
            lines.append(f"{name} = {_ref(m)}({name})")
        if name == "src" and start != end:
            lines.append(f"memory = {_ref(modules[start])}(src)")
    if start == end:
        lines.append(f"out = {_ref(modules[start])}(src, tgt)")
    else:
        lines.append(f"out = {_ref(modules[end])}(tgt, memory)")
    lines += [f"out = {_ref(m)}(out)" for m in head]
    lines.append("return out")
    return Forward(inputs=[("src", "torch.Tensor"), ("tgt", "torch.Tensor")], lines=lines)


def residual_block(cls: ClassDef, resolver: ChoiceResolver) -> Forward | None:
    """conv/norm pairs plus an optional projection of the input (`downsample`, `shortcut`...):
    the ResNet block, `relu(body(x) + shortcut(x))`, with the activation between pairs a choice."""
    modules = _modules(cls)
    if _tensors(cls) or len(modules) < 4:
        return None
    body, shortcut = modules, None
    if len(modules) % 2 == 1:
        body, shortcut = modules[:-1], modules[-1]
        if shortcut.io is None or shortcut.io.family not in ("sequential", "conv"):
            return None
    pairs = [(body[i], body[i + 1]) for i in range(0, len(body), 2)]
    if not all(c.io and c.io.family == "conv" and n.io and n.io.family == "norm" for c, n in pairs):
        return None
    c_in, c_out = pairs[0][0].io.in_width, pairs[-1][1].io.out_width  # type: ignore[union-attr]
    if shortcut is None and c_in != c_out:
        return None
    act = resolver.choose(
        f"{cls.name}.{pairs[0][1].attr}",
        "activation",
        "relu",
        ["gelu", "silu", "identity"],
        "between conv/norm pairs and after the sum",
    )
    apply_act = _activation(act.value)
    lines = [
        "# Residual block: conv/norm pairs, then the input (projected when sizes change) is added."
    ]
    current = "x"
    for i, (conv, norm) in enumerate(pairs):
        lines.append(f"out = {_ref(conv)}({current})")
        lines.append(f"out = {_ref(norm)}(out)")
        if i < len(pairs) - 1 and apply_act:
            lines.append(f"out = {apply_act.format('out')}")
        current = "out"
    identity = f"{_ref(shortcut)}(x)" if shortcut is not None else "x"
    lines.append(f"out = out + {identity}")
    lines.append(f"return {apply_act.format('out') if apply_act else 'out'}")
    return Forward(inputs=[("x", "torch.Tensor")], lines=lines, choices=[act])


def _activation(name: str) -> str:
    """A format string applying the activation to one name; '' for identity."""
    return {
        "relu": "torch.relu({})",
        "gelu": "nn.functional.gelu({})",
        "silu": "nn.functional.silu({})",
        "tanh": "torch.tanh({})",
        "sigmoid": "torch.sigmoid({})",
    }.get(name, "")


SEQUENCE_FAMILIES = ("rnn", "transformer")


def chain(cls: ClassDef, resolver: ChoiceResolver) -> Forward | None:
    """Members in registration order, each consuming the previous output, where widths compose.

    Between steps it adds what shapes call for and conventions make likely, each one a choice: global
    pooling or flatten from conv features to a Linear, pooling over the sequence before a head,
    an activation after a conv/norm pair, the sqrt(d_model) scale after a token embedding.
    """
    modules = _modules(cls)
    if not modules or _tensors(cls) or _attention_projections(modules):
        return None
    front: list[str] = []
    flow = _Flow()
    if _learned_positions(modules):
        # Token ids and their positions, each through its own table, summed (GPT-2's wte + wpe).
        tokens, positions = modules[0], modules[1]
        front = [
            "positions = torch.arange(x.size(1), device=x.device)",
            f"x = {_ref(tokens)}(x) + {_ref(positions)}(positions)",
        ]
        modules = modules[2:]
        flow = _Flow(width=tokens.io.out_width, sequence=True)  # type: ignore[union-attr]
    walked = _walk(cls, modules, resolver, flow)
    if walked is None:
        return None
    lines, choices = walked
    return Forward(
        inputs=[("x", "torch.Tensor")],
        lines=[
            "# Dataflow inferred from registration order and matching widths.",
            *front,
            *lines,
            "return x",
        ],
        choices=choices,
    )


def _learned_positions(modules: list[Module]) -> bool:
    """A token embedding followed by a position embedding of the same width."""
    if len(modules) < 2 or not all(m.io and m.io.family == "embedding" for m in modules[:2]):
        return False
    same_width = modules[0].io.out_width == modules[1].io.out_width  # type: ignore[union-attr]
    return same_width and re.search(r"pos|wpe|position", modules[1].attr, re.IGNORECASE) is not None


def token_sequence(cls: ClassDef, resolver: ChoiceResolver) -> Forward | None:
    """A front layer makes tokens, then a class token is prepended and a position table added (ViT):
    `cls_token` [1, 1, D] and `pos_embed` [1, L, D] as plain tensors beside the layers."""
    modules, tensors = _modules(cls), _tensors(cls)
    if not modules or not tensors or len(tensors) > 2:
        return None
    front = modules[0]
    d = front.io.out_width if front.io else None
    token = next((t for t in tensors if tuple(t.shape[:2]) == (1, 1) and len(t.shape) == 3), None)
    table = next(
        (t for t in tensors if t is not token and len(t.shape) == 3 and t.shape[0] == 1), None
    )
    if (
        d is None
        or (token is None and table is None)
        or len(tensors) != (token is not None) + (table is not None)
    ):
        return None
    lines = [f"x = {_ref(front)}(x)"]
    if front.io is not None and front.io.family == "conv":
        lines.append(
            "x = x.flatten(2).transpose(1, 2)  # patches as a sequence: [batch, patches, d_model]"
        )
    if token is not None:
        lines.append(
            f"x = torch.cat([self.{token.attr}.expand(x.size(0), -1, -1), x], dim=1)  # class token first"
        )
    if table is not None:
        lines.append(f"x = x + self.{table.attr}[:, : x.size(1)]")
    flow = _Flow(width=None, sequence=True, pool_default="first" if token is not None else "none")
    walked = _walk(cls, modules[1:], resolver, flow)
    if walked is None:
        return None
    rest, choices = walked
    return Forward(
        inputs=[("x", "torch.Tensor")],
        lines=[
            "# Tokens from the first layer, with the class token and position table added.",
            *lines,
            *rest,
            "return x",
        ],
        choices=choices,
    )


@dataclass
class _Flow:
    """What the running value is while walking a chain."""

    width: int | None = None
    spatial: int | None = None  # spatial dims of conv features [batch, C, *spatial]
    sequence: bool = False  # [batch, seq, features] from an RNN or transformer
    pool_default: str = "none"  # how a head reads a sequence unless told otherwise


ATTENTION_PROJECTION = re.compile(
    r"^(q|k|v|query|key|value|to_q|to_k|to_v|wq|wk|wv)(_proj|_lin|_linear)?$"
)


def _attention_projections(modules: list[Module]) -> bool:
    """Query/key/value projections run side by side and meet in attention, never in a chain."""
    return sum(1 for m in modules if ATTENTION_PROJECTION.match(m.attr.lower())) >= 2


def _walk(
    cls: ClassDef, modules: list[Module], resolver: ChoiceResolver, flow: _Flow
) -> tuple[list[str], list[Choice]] | None:
    lines: list[str] = []
    choices: list[Choice] = []
    for i, m in enumerate(modules):
        io = m.io
        nxt = modules[i + 1] if i + 1 < len(modules) else None
        if io is not None and (io.family in ("attention", "dict") or m.type_name == "nn.Bilinear"):
            return None
        if io is not None and io.family == "embedding" and i > 0:
            return None  # token ids enter only at the start
        takes = io.in_width if io is not None else None
        path = f"{cls.name}.{m.attr}"
        if flow.spatial and io is not None and io.family in ("linear", "rnn", "transformer"):
            step = _collapse_spatial(resolver, path, flow.spatial, flow.width, takes, m.attr)
            if step is None:
                return None
            lines.append(step[0])
            choices.append(step[1])
            flow.spatial = None
        elif takes is not None and flow.width is not None and takes != flow.width:
            return None
        if flow.sequence and io is not None and io.family == "linear":
            pool = resolver.choose(
                path,
                "sequence_pooling",
                flow.pool_default,
                ["none", "mean", "first", "last", "max"],
                f"before {m.attr}",
            )
            choices.append(pool)
            if pool.value != "none":
                lines.append(SEQUENCE_POOLING[pool.value])
        lines += _apply(m)
        if io is not None and io.family == "embedding":
            scale = resolver.choose(
                path, "embedding_scale", "none", ["sqrt_d_model"], f"after {m.attr}"
            )
            choices.append(scale)
            if scale.value == "sqrt_d_model":
                lines.append(f"x = x * math.sqrt({io.out_width})  # scaled by sqrt(d_model)")
        after_conv_norm = (
            io is not None
            and io.family == "norm"
            and i > 0
            and modules[i - 1].io is not None
            and modules[i - 1].io.family == "conv"
        )
        # Two Linear layers in a row without a nonlinearity would collapse into one: there is one.
        between_linears = (
            io is not None
            and io.family == "linear"
            and nxt is not None
            and nxt.io is not None
            and nxt.io.family == "linear"
        )
        if (after_conv_norm or between_linears) and (nxt is None or nxt.kind != "placeholder"):
            act = resolver.choose(
                path, "activation", "relu", ["gelu", "silu", "tanh", "identity"], f"after {m.attr}"
            )
            choices.append(act)
            if _activation(act.value):
                lines.append(f"x = {_activation(act.value).format('x')}")
        if io is not None and io.out_width is not None:
            flow.width = io.out_width
        if io is not None and io.family != "activation":
            flow.spatial = io.ndim if io.family in ("conv", "norm", "class", "sequential") else None
            flow.sequence = io.family in SEQUENCE_FAMILIES or (
                flow.sequence and io.family in ("norm", "linear")
            )
    return lines, choices


SEQUENCE_POOLING = {
    "mean": "x = x.mean(dim=1)  # pooled over the sequence",
    "first": "x = x[:, 0]  # the first position (a class token)",
    "last": "x = x[:, -1]  # the last step",
    "max": "x = x.amax(dim=1)  # max-pooled over the sequence",
}


def _collapse_spatial(
    resolver: ChoiceResolver,
    path: str,
    ndim: int,
    channels: int | None,
    in_features: int | None,
    head: str,
) -> tuple[str, Choice] | None:
    """Conv features [N, C, *spatial] meet a Linear: global pooling when in_features == C, else flatten."""
    dims = ", ".join(str(d) for d in range(2, 2 + ndim))
    if channels is not None and in_features == channels:
        choice = resolver.choose(path, "pooling", "mean", ["amax"], f"before {head}")
        how = "average" if choice.value == "mean" else "max"
        return (
            f"x = x.{choice.value}(dim=[{dims}])  # global {how} pooling: {head} takes {in_features} = channels",
            choice,
        )
    if channels and in_features and in_features % channels == 0:
        cells = in_features // channels
        return (
            f"x = torch.flatten(x, 1)  # {head} takes {in_features} = {channels} channels x {cells} positions",
            Choice("pooling", "flatten", []),
        )
    return None


def _apply(m: Module) -> list[str]:
    if m.kind == "repeat":
        return [f"for layer in {_ref(m)}:", "    x = layer(x)"]
    if m.type_name in ("nn.RNN", "nn.LSTM", "nn.GRU"):
        return [f"x, _ = {_ref(m)}(x)  # outputs of every step"]
    return [f"x = {_ref(m)}(x)"]


PATTERNS: list[Pattern] = [positional_table, encoder_decoder, residual_block, token_sequence, chain]


def _why_not(cls: ClassDef) -> str:
    if _tensors(cls):
        names = ", ".join(t.attr for t in _tensors(cls))
        return f"how {names} enter{'s' if len(_tensors(cls)) == 1 else ''} the computation"
    modules = _modules(cls)
    if not modules:
        return "the computation of a class without modules"
    if _attention_projections(modules):
        names = ", ".join(m.attr for m in modules)
        return f"how {names} combine: an attention whose heads, scaling and masking the checkpoint does not record"
    return (
        "the order in which "
        + ", ".join(m.attr for m in modules)
        + " are applied (their widths do not chain)"
    )


def example_inputs(cls: ClassDef) -> list[str] | None:
    """Expressions building inputs forward accepts, for smoke tests; None where the entry is unknown."""
    if cls.forward.missing:
        return None
    modules = _modules(cls)
    first = modules[0] if modules else None
    if first is None or first.io is None:
        return None
    if first.io.vocab:
        one = f"torch.randint(0, {first.io.vocab}, (2, 16))"
    elif first.io.ndim and first.io.family != "norm" and first.io.in_width:
        spatial = ", ".join(["32"] * (first.io.ndim or 2))
        one = f"torch.randn(2, {first.io.in_width}, {spatial})"
    elif first.io.in_width:
        one = f"torch.randn(2, 16, {first.io.in_width})"
    else:
        return None
    return [one] * len(cls.forward.inputs)
