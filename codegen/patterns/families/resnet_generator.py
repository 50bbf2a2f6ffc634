"""An image-to-image generator as junyanz/pytorch-CycleGAN-and-pix2pix writes its
`ResnetGenerator` (CycleGAN's, and pix2pix's `resnet_9blocks` / `resnet_6blocks`): one `model`
Sequential,

    [ReflectionPad2d(3), conv 7x7 (padding 0), norm, ReLU,
     (conv 3x3 stride 2 doubling the width, norm, ReLU) x n,
     ResnetBlock x m,                                             # blocks/padded_resnet_block.py
     (ConvTranspose2d 3x3 stride 2 halving it, norm, ReLU) x n,
     ReflectionPad2d(3), conv 7x7 (padding 0), Tanh]

or, as eriklindernoren/PyTorch-GAN's cyclegan `GeneratorResNet` writes the up steps,
(Upsample(scale_factor=2), conv 3x3 stride 1 halving the width, norm, ReLU): the keyless slot
before a stride-1 conv that halves the width on the way back up is the upsampler (its mode, a
choice: nearest is nn.Upsample's default).

The keys show the convs (and batch norms, where the norm is one); the pads, the keyless instance
norms and the ReLUs are the empty slots between them, by this layout; the Tanh ends the Sequential
past its last key, so the forward applies it. A keyless norm may be the repository's 'none' (an
Identity): a choice.

KupynOrest/DeblurGAN builds the same Sequential (the same keys) and, with `learn_residual`, returns
`clamp(x + out, -1, 1)`: where the image keeps its channels that is a choice no key settles, so the
class says guessed until a hint, a config or calibration decides it.
"""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns._kit import BlockContext, BlockPattern, Example, Match, family
from codegen.patterns.blocks._conv_parts import conv_kernel
from codegen.patterns.blocks.padded_resnet_block import arg_pin, numbered_body, slot_pin

WHY = "the ResnetGenerator layout"


def _conv(m, kernel: int, transposed: bool = False) -> bool:
    name = "nn.ConvTranspose2d" if transposed else "nn.Conv2d"
    return m.kind == "builtin" and m.type_name == name and conv_kernel(m) in (kernel, (kernel,) * 2)


def _steps(items: dict, start: int, stop: int, up: bool, width: int):
    """The (conv index, keyed norm, upsampler slot or None) of each resampling step in
    items[start:stop], each conv doubling (or, up, halving) the width; None where the run is laid
    out otherwise. An up step is a transposed conv, or an empty slot (the upsampler) then a conv."""
    steps, i = [], start
    while i < stop:
        slot = None
        if up and items.get(i) is not None and items[i].kind == "placeholder":
            slot, i = i, i + 1
        conv = items.get(i)
        if conv is None or not _conv(conv, 3, up and slot is None) or conv.io.in_width != width:
            return None
        width = conv.io.out_width
        if width != (conv.io.in_width // 2 if up else conv.io.in_width * 2):
            return None
        keyed = family(items.get(i + 1)) == "norm" and items[i + 1].kind != "placeholder"
        if items.get(i + 2) is None or items[i + 2].kind != "placeholder":
            return None
        if not keyed and items[i + 1].kind != "placeholder":
            return None
        steps.append((i, keyed, slot))
        i += 3
    return steps, width


class ResnetGenerator(BlockPattern):
    role = "ResnetGenerator"
    priority = 10

    def match(self, cls, ctx: BlockContext) -> Match | None:
        found = numbered_body(cls)
        if found is None:
            return None
        body, items = found
        blocks = [i for i, c in items.items() if ctx.role(c) == "ResnetBlock"]
        last = len(items) - 1
        if not blocks or blocks != list(range(blocks[0], blocks[-1] + 1)):
            return None
        if items[0].kind != "placeholder" or not _conv(items.get(1), 7) or last < 4:
            return None
        if items[last - 1].kind != "placeholder" or not _conv(items[last], 7):
            return None
        stem_keyed = family(items[2]) == "norm" and items[2].kind != "placeholder"
        if items[3].kind != "placeholder" or (not stem_keyed and items[2].kind != "placeholder"):
            return None
        down = _steps(items, 4, blocks[0], False, items[1].io.out_width)
        up = _steps(items, blocks[-1] + 1, last - 1, True, down[1] if down else 0)
        if down is None or up is None or up[1] != items[last].io.in_width:
            return None
        if len(down[0]) != len(up[0]):
            return None
        norms = [(1, stem_keyed, None)] + down[0] + up[0]
        choices, norm = [], "batch"
        if not all(keyed for _, keyed, _ in norms):
            if any(keyed for _, keyed, _ in norms):
                return None
            kind = ctx.choose(
                cls, body.attr, "norm", "instance", ["none"], "InstanceNorm2d without parameters"
            )
            choices.append(kind)
            norm = kind.value
        pins = [
            slot_pin(items[0], "nn.ReflectionPad2d(3)", WHY),
            slot_pin(items[last - 1], "nn.ReflectionPad2d(3)", WHY),
        ]
        for conv in (items[1], items[last]):
            pins += [arg_pin(conv, "padding", 0, WHY), arg_pin(conv, "stride", 1, WHY)]
        for i, _, _ in down[0]:
            pins += [arg_pin(items[i], "padding", 1, WHY), arg_pin(items[i], "stride", 2, WHY)]
        upsamplers = [(i, slot) for i, _, slot in up[0] if slot is not None]
        if upsamplers and len(upsamplers) != len(up[0]):
            return None
        if upsamplers:
            mode = ctx.choose(
                cls,
                body.attr,
                "upsample_mode",
                "nearest",
                ["bilinear"],
                "the slot before an up conv",
            )
            choices.append(mode)
            layer = f"nn.Upsample(scale_factor=2, mode={mode.value!r})"
            for i, slot in upsamplers:
                pins += [slot_pin(items[slot], layer, WHY), arg_pin(items[i], "padding", 1, WHY)]
                pins.append(arg_pin(items[i], "stride", 1, WHY))
        for i, keyed, _ in norms:
            if not keyed:
                width = items[i].io.out_width
                layer = f"nn.InstanceNorm2d({width})" if norm == "instance" else "nn.Identity()"
                pins.append(slot_pin(items[i + 1], layer, WHY))
            pins.append(slot_pin(items[i + 2], "nn.ReLU()", WHY))
        residual, guessed = "none", ""
        if items[1].io.in_width == items[last].io.out_width:
            chosen = ctx.choose(
                cls,
                body.attr,
                "global_residual",
                "none",
                ["clamped_add"],
                "after the Tanh; clamped_add: clamp(x + out, -1, 1), DeblurGAN's learn_residual",
            )
            choices.append(chosen)
            residual = chosen.value
            if chosen.source == "default":
                guessed = (
                    "no key records whether the input is added back: read as CycleGAN's output "
                    "(the Tanh alone); DeblurGAN's learn_residual, with the same keys, returns "
                    "clamp(x + out, -1, 1)"
                )
        found = (body.attr, residual)
        return Match(self, 1, found, choices, guessed=guessed, pins=[p for p in pins if p])

    def forward(self, match: Match, g: Graph) -> None:
        body, residual = match.found
        x = g.input("x")
        out = g.call_module((body,), x, name="out")
        comment = "the Tanh ending the Sequential: no slot"
        if residual != "clamped_add":
            g.output(g.call_function("tanh", out, comment=comment))
            return
        image = g.call_function("tanh", out, name="image", comment=comment)
        added = g.call_function("add", x, image, inline=True)
        g.output(g.call_method("clamp", added, -1.0, 1.0, comment="DeblurGAN's learn_residual"))

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn

        class ResnetBlock(nn.Module):
            def __init__(self, dim: int) -> None:
                super().__init__()
                self.conv_block = nn.Sequential(
                    nn.ReflectionPad2d(1),
                    nn.Conv2d(dim, dim, 3, bias=False),
                    nn.BatchNorm2d(dim),
                    nn.ReLU(True),
                    nn.ReflectionPad2d(1),
                    nn.Conv2d(dim, dim, 3, bias=False),
                    nn.BatchNorm2d(dim),
                )

            def forward(self, x):
                return x + self.conv_block(x)

        class Generator(nn.Module):  # pix2pix's resnet generator with batch norms, one step
            def __init__(self) -> None:
                super().__init__()
                self.model = nn.Sequential(
                    nn.ReflectionPad2d(3),
                    nn.Conv2d(3, 4, 7, bias=False),
                    nn.BatchNorm2d(4),
                    nn.ReLU(True),
                    nn.Conv2d(4, 8, 3, stride=2, padding=1, bias=False),
                    nn.BatchNorm2d(8),
                    nn.ReLU(True),
                    ResnetBlock(8),
                    nn.ConvTranspose2d(8, 4, 3, 2, 1, output_padding=1, bias=False),
                    nn.BatchNorm2d(4),
                    nn.ReLU(True),
                    nn.ReflectionPad2d(3),
                    nn.Conv2d(4, 3, 7),
                    nn.Tanh(),
                )

            def forward(self, x):
                return self.model(x)

        class Residual(nn.Module):  # affine-free instance norms: only the convs hold tensors
            def __init__(self, dim: int) -> None:
                super().__init__()
                self.layers = nn.Sequential(
                    nn.ReflectionPad2d(1),
                    nn.Conv2d(dim, dim, 3),
                    nn.InstanceNorm2d(dim),
                    nn.ReLU(True),
                    nn.ReflectionPad2d(1),
                    nn.Conv2d(dim, dim, 3),
                    nn.InstanceNorm2d(dim),
                )

            def forward(self, x):
                return x + self.layers(x)

        class UpsamplingGenerator(nn.Module):  # PyTorch-GAN's: upsample then conv on the way up
            def __init__(self) -> None:
                super().__init__()
                self.net = nn.Sequential(
                    nn.ReflectionPad2d(3),
                    nn.Conv2d(3, 4, 7),
                    nn.InstanceNorm2d(4),
                    nn.ReLU(True),
                    nn.Conv2d(4, 8, 3, stride=2, padding=1),
                    nn.InstanceNorm2d(8),
                    nn.ReLU(True),
                    Residual(8),
                    Residual(8),
                    nn.Upsample(scale_factor=2),
                    nn.Conv2d(8, 4, 3, stride=1, padding=1),
                    nn.InstanceNorm2d(4),
                    nn.ReLU(True),
                    nn.ReflectionPad2d(3),
                    nn.Conv2d(4, 3, 7),
                    nn.Tanh(),
                )

            def forward(self, x):
                return self.net(x)

        torch.manual_seed(0)
        x = torch.randn(2, 3, 8, 8)
        return [Example(Generator().eval(), (x,)), Example(UpsamplingGenerator().eval(), (x,))]
