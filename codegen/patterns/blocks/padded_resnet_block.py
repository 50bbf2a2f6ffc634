"""A residual block whose body is one Sequential of explicitly padded 3x3 convs, as
junyanz/pytorch-CycleGAN-and-pix2pix writes its `ResnetBlock` (the ResnetGenerator's):

    conv_block = [ReflectionPad2d(1), conv 3x3 (padding 0), norm, ReLU,
                  (Dropout(0.5),) ReflectionPad2d(1), conv 3x3 (padding 0), norm]
    return x + conv_block(x)

With the repository's default norm, InstanceNorm2d without affine parameters, only the two convs
hold tensors: the slot before each conv is its padding layer, the slot after the first conv its
norm, then the ReLU; the norm after the second conv ends the Sequential, so no slot shows it and
the forward applies it. With batch norms their keys show both. The padding kind (reflect,
replicate) and a keyless norm (instance, or none: the repository's 'none' is an Identity) leave
no keys: choices, pinned onto the slots.
"""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns._kit import BlockContext, BlockPattern, Example, Match, family, modules
from codegen.patterns._kit import tensors
from codegen.patterns.blocks._conv_parts import conv_kernel
from codegen.safetext import is_index

WHY = "the padded ResnetBlock layout"


def slot_pin(m, value: str, why: str) -> tuple | None:
    """A pin for an empty slot's layer type, where the slot's type is still a choice."""
    choice = next((c for c in m.choices if c.name == "module_type"), None)
    return (choice.path, "module_type", value, why) if choice is not None else None


def arg_pin(m, keyword: str, value: int, why: str) -> tuple | None:
    """A pin for a conv's stride or padding, where it is still a choice (not a recorded value)."""
    found = next((a.choice for a in m.args if a.keyword == keyword and a.choice), None)
    found = found or next((c for c in m.choices if c.name == keyword), None)
    return (found.path, keyword, value, why) if found is not None else None


def numbered_body(cls) -> tuple | None:
    """A class holding only one Sequential, numbered 0..n without gaps in the module tree (empty
    slots are placeholders): (that Sequential, its items by index); None otherwise."""
    members = modules(cls)
    if tensors(cls) or len(members) != 1 or members[0].kind != "sequential":
        return None
    body = members[0]
    items = {int(c.attr): c for c in body.children if is_index(c.attr)}
    if len(items) != len(body.children) or sorted(items) != list(range(len(items))):
        return None
    return body, items


def _conv3(m, width: int | None = None) -> bool:
    if m.kind != "builtin" or m.type_name != "nn.Conv2d" or conv_kernel(m) not in (3, (3, 3)):
        return False
    return m.io.in_width == m.io.out_width and width in (None, m.io.in_width)


def padded_layout(items: dict) -> tuple[int, bool] | None:
    """(index of the second conv, whether the norms hold tensors) for a Sequential laid out as
    [slot, conv, norm, slot, (slot,) slot, conv(, norm)], both convs 3x3 keeping one width."""
    if 1 not in items or not _conv3(items[1]):
        return None
    width = items[1].io.in_width
    convs = [i for i, c in items.items() if c.kind != "placeholder" and family(c) == "conv"]
    if len(convs) != 2 or convs[0] != 1 or convs[1] not in (5, 6):
        return None
    second = convs[1]
    if not _conv3(items[second], width):
        return None
    norms = [i for i, c in items.items() if c.kind != "placeholder" and family(c) == "norm"]
    keyed = norms == [2, second + 1]
    if not keyed and norms:
        return None
    held = set(convs) | set(norms)
    if max(items) != second + keyed:
        return None
    if any(items[i].kind != "placeholder" for i in items if i not in held):
        return None
    return second, keyed


class PaddedResnetBlock(BlockPattern):
    role = "ResnetBlock"
    priority = 5

    def match(self, cls, ctx: BlockContext) -> Match | None:
        found = numbered_body(cls)
        layout = padded_layout(found[1]) if found is not None else None
        if layout is None:
            return None
        (body, items), (second, keyed) = found, layout
        width = items[1].io.in_width
        padding = ctx.choose(
            cls, body.attr, "padding_type", "reflect", ["replicate"], "the layers before the convs"
        )
        choices = [padding]
        pad = f"nn.{'Reflection' if padding.value == 'reflect' else 'Replication'}Pad2d(1)"
        wanted = {0: pad, second - 1: pad, 3: "nn.ReLU()"}
        if second == 6:
            wanted[4] = "nn.Dropout(0.5)"
        norm = "batch"
        if not keyed:
            kind = ctx.choose(
                cls, body.attr, "norm", "instance", ["none"], "InstanceNorm2d without parameters"
            )
            choices.append(kind)
            norm = kind.value
            wanted[2] = f"nn.InstanceNorm2d({width})" if norm == "instance" else "nn.Identity()"
        pins = [slot_pin(items[i], value, WHY) for i, value in wanted.items()]
        for conv in (items[1], items[second]):
            pins += [arg_pin(conv, "padding", 0, WHY), arg_pin(conv, "stride", 1, WHY)]
        trailing = (body.attr, norm == "instance" and not keyed)
        return Match(self, 1, trailing, choices, pins=[p for p in pins if p])

    def forward(self, match: Match, g: Graph) -> None:
        body, trailing_norm = match.found
        x = g.input("x")
        h = g.call_module((body,), x, name="h")
        if trailing_norm:
            h = g.call_function(
                "instance_norm", h, name="h", comment="the body's last norm: no slot shows it"
            )
        g.output(g.call_function("add", x, h))

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn

        class ResnetBlock(nn.Module):
            def __init__(self, dim: int, dropout: bool) -> None:
                super().__init__()
                layers = [
                    nn.ReflectionPad2d(1),
                    nn.Conv2d(dim, dim, 3),
                    nn.InstanceNorm2d(dim),
                    nn.ReLU(True),
                ]
                layers += [nn.Dropout(0.5)] if dropout else []
                layers += [nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3), nn.InstanceNorm2d(dim)]
                self.conv_block = nn.Sequential(*layers)

            def forward(self, x):
                return x + self.conv_block(x)

        class Stack(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.blocks = nn.Sequential(ResnetBlock(4, False), ResnetBlock(4, False))

            def forward(self, x):
                return self.blocks(x)

        torch.manual_seed(0)
        return [Example(Stack().eval(), (torch.randn(2, 4, 6, 6),))]
