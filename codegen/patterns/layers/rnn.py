"""Recurrent layers: nn.RNN/GRU/LSTM (gates counted from weight_hh) and their single-step cells."""

from __future__ import annotations

from typing import TYPE_CHECKING

import re

from codegen.ir import Arg, IOSpec
from codegen.patterns._kit import (
    Example,
    LayerContext,
    LayerPattern,
    Recognised,
    flag,
    names,
    prov,
    shape,
)

if TYPE_CHECKING:
    from codegen.keytree import KeyNode

RNN_KEY = re.compile(r"^(weight|bias)_(ih|hh|hr)_l(\d+)(_reverse)?$")


def rnn(node: KeyNode, ctx: LayerContext) -> Recognised | None:
    found = names(node)
    if node.children or not found or not all(RNN_KEY.match(n) for n in found):
        return None
    if "weight_ih_l0" not in found or "weight_hh_l0" not in found:
        return None
    w_ih, w_hh = shape(node, "weight_ih_l0"), shape(node, "weight_hh_l0")
    proj = shape(node, "weight_hr_l0") if "weight_hr_l0" in found else None
    hidden = proj[1] if proj else w_hh[1]
    if w_hh[0] % hidden:
        return None
    gates = w_hh[0] // hidden
    type_name = {1: "nn.RNN", 3: "nn.GRU", 4: "nn.LSTM"}.get(gates)
    if type_name is None or (proj and gates != 4):
        return None
    layers = 1 + max(int(RNN_KEY.match(n).group(3)) for n in found)  # type: ignore[union-attr]
    bidirectional = any(n.endswith("_reverse") for n in found)
    args = [
        Arg(None, w_ih[1], "width", prov(node, "weight_ih_l0", 1)),
        Arg(None, hidden, "width", prov(node, "weight_hr_l0" if proj else "weight_hh_l0", 1)),
    ]
    if layers != 1:
        args.append(Arg("num_layers", layers, "count", f"{node.path}.*_l0-{layers - 1}"))
    if type_name == "nn.RNN":
        nl = ctx.resolver.choose(node.path, "nonlinearity", "tanh", ["relu"])
        if nl.value != "tanh" or nl.source != "default":
            args.append(Arg("nonlinearity", nl.value, "choice", choice=nl))
    if "bias_ih_l0" not in found:
        args.append(flag("bias", False, f"no {prov(node, 'bias_ih_l0')}"))
    batch_first = ctx.resolver.choose(node.path, "batch_first", True, [False])
    args.append(Arg("batch_first", batch_first.value, "choice", choice=batch_first))
    if bidirectional:
        args.append(flag("bidirectional", True, prov(node, "weight_ih_l0_reverse")))
    if proj:
        args.append(Arg("proj_size", proj[0], "width", prov(node, "weight_hr_l0", 0)))
    out = (proj[0] if proj else hidden) * (2 if bidirectional else 1)
    return Recognised(type_name, args, IOSpec("rnn", w_ih[1], out))


def rnn_cell(node: KeyNode, ctx: LayerContext) -> Recognised | None:
    found = names(node)
    if node.children or not {"weight_ih", "weight_hh"} <= found <= {
        "weight_ih",
        "weight_hh",
        "bias_ih",
        "bias_hh",
    }:
        return None
    w_ih, w_hh = shape(node, "weight_ih"), shape(node, "weight_hh")
    if len(w_ih) != 2 or len(w_hh) != 2 or w_hh[0] % w_hh[1]:
        return None
    hidden = w_hh[1]
    type_name = {1: "nn.RNNCell", 3: "nn.GRUCell", 4: "nn.LSTMCell"}.get(w_hh[0] // hidden)
    if type_name is None:
        return None
    args = [
        Arg(None, w_ih[1], "width", prov(node, "weight_ih", 1)),
        Arg(None, hidden, "width", prov(node, "weight_hh", 1)),
    ]
    if "bias_ih" not in found:
        args.append(flag("bias", False, f"no {prov(node, 'bias_ih')}"))
    return Recognised(type_name, args, IOSpec("rnn", w_ih[1], hidden))


class RNN(LayerPattern):
    """nn.RNN, nn.GRU, nn.LSTM: the gate count decides."""

    role = "RNN"

    def recognise(self, node, ctx: LayerContext) -> Recognised | None:
        return rnn(node, ctx)

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn

        class Tagger(nn.Module):  # every step's output, as the generated forward returns it
            def __init__(self, rnn: nn.Module) -> None:
                super().__init__()
                self.rnn = rnn

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return self.rnn(x)[0]

        x = torch.randn(2, 5, 4)
        return [
            Example(Tagger(nn.LSTM(4, 8, batch_first=True)), (x,)),
            Example(Tagger(nn.GRU(4, 8, num_layers=2, batch_first=True, bidirectional=True)), (x,)),
        ]


class RNNCell(LayerPattern):
    role = "RNNCell"

    def recognise(self, node, ctx: LayerContext) -> Recognised | None:
        return rnn_cell(node, ctx)

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn

        return [Example(nn.GRUCell(4, 8), (torch.randn(2, 4),))]
