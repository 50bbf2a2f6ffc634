"""An autoencoder's encoder halves the map as often as its decoder doubles it: the image comes back
at its own size. Where the decoder's transposed convs upsample (stride 2, their default) and the
encoder holds as many spatial convs, each of those convs halves (stride 2, half the kernel padded):
AntixK/PyTorch-VAE's `Conv2d(h, h', 3, stride=2, padding=1)` per level, mirrored by
`ConvTranspose2d(h', h, 3, stride=2, padding=1, output_padding=1)`, as most tutorial VAEs write it.

Where the decoder holds one upsampler fewer than the encoder's convs and a conv keeping its width
that the weights let be transposed (PyTorch-VAE's `final_layer[0]`), that conv is the missing
upsampler. Pins (Match.pins): a hint or calibration still decides.

Where the encoder's kernels tell its resampling convs from its size-keeping ones (every stride-2
conv 4x4, every other 3x3: the VQ-VAE's `4, 2, 1` pairs then a `3, 1, 1` conv) and the decoder's
transposed convs mirror them kernel for kernel in reverse order, each transposed conv takes its
mirror's stride: MishaLaskin's `ConvTranspose2d(in, h, 3, 1, 1)` opening the decoder keeps the
size, as the encoder's closing 3x3 conv does (_size_keeping_mirrors).
"""

from __future__ import annotations

from codegen.patterns._kit import modules, tensors
from codegen.patterns.blocks.padded_resnet_block import arg_pin

WHY = (
    "an autoencoder's encoder halves the map as often as its decoder's transposed convs double "
    "it (PyTorch-VAE's stride-2 convs)"
)


def layers(m) -> list:
    """The built-in layers a member applies, in order, through nested Sequentials."""
    if m is None:
        return []
    if m.kind == "sequential":
        return [leaf for c in m.children for leaf in layers(c)]
    return [m] if m.kind == "builtin" else []


def _spatial_conv(m) -> bool:
    if m.type_name != "nn.Conv2d" or m.io is None:
        return False
    kernel = next((a.value for a in m.args if a.keyword == "kernel_size"), None)
    return kernel not in (None, 1, (1, 1))


def strides_by(m) -> object:
    """A built-in layer's stride argument (1 where it gives none)."""
    return next((a.value for a in m.args if a.keyword == "stride"), 1)


def _upsamples(m) -> bool:
    return m.type_name == "nn.ConvTranspose2d" and strides_by(m) == 2


def _may_be_transposed(m) -> bool:
    choice = next((c for c in m.choices if c.name == "module_type"), None)
    return (
        m.type_name == "nn.Conv2d"
        and choice is not None
        and "nn.ConvTranspose2d" in choice.alternatives
        and choice.source == "default"
    )


def body(m, classes: dict):
    """A member through the generated classes that only wrap one member (MishaLaskin's `Encoder`
    holding its `conv_stack` Sequential): that member, or `m` itself."""
    while m is not None and m.kind == "class" and m.type_name in classes:
        cls = classes[m.type_name]
        if tensors(cls) or len(modules(cls)) != 1:
            break
        m = modules(cls)[0]
    return m


def mirror_pins(encoder, decoder_parts: list, collapse: bool = False) -> list[tuple]:
    """Stride pins for the encoder's spatial convs (and a module-type pin for the decoder's
    missing upsampler), where the counts mirror; [] elsewhere. With `collapse`, an innermost
    pair of the largest kernel collapses the map to 1x1 and back (_collapsing_pair)."""
    down = [m for m in layers(encoder) if _spatial_conv(m)]
    decoded = [leaf for part in decoder_parts for leaf in layers(part)]
    if not down or any(m.io.in_width == m.io.out_width == 1 for m in down):
        return []
    kept = _size_keeping_mirrors(down, decoded)
    if kept is not None:
        return kept
    pins = []
    pair = _collapsing_pair(down, decoded) if collapse else None
    if pair is not None:
        conv, up = pair
        geometry = next(c for c in up.choices if c.name == "geometry")
        pins += [arg_pin(conv, "stride", 1, COLLAPSE), arg_pin(conv, "padding", 0, COLLAPSE)]
        pins.append((geometry.path, "geometry", (1, 0, 0), COLLAPSE))
        down, decoded = down[:-1], [m for m in decoded if m is not up]
    ups = [m for m in decoded if _upsamples(m)]
    if not ups:
        return []
    if len(down) == len(ups) + 1:
        square = [m for m in decoded if _may_be_transposed(m)]
        if len(square) != 1:
            return []
        choice = next(c for c in square[0].choices if c.name == "module_type")
        pins.append((choice.path, "module_type", "nn.ConvTranspose2d", WHY))
    elif len(down) != len(ups):
        return []
    pins += [arg_pin(m, "stride", 2, WHY) for m in down]
    return [p for p in pins if p]


KEEPS = (
    "an autoencoder whose convs are of two kernels, an even one and an odd one, mirrored kernel "
    "for kernel by its decoder: the even ones resample (k = 2 x stride, as DCGAN's and the "
    "VQ-VAE's 4x4 stride-2 convs: an even kernel cannot keep the size symmetrically), the odd "
    "ones keep the size (stride 1, half the kernel padded), as MishaLaskin's and rosinality's "
    "VQ-VAEs"
)


def _size_keeping_mirrors(down: list, decoded: list) -> list[tuple] | None:
    """Stride, padding and geometry pins where the encoder's spatial convs are of two kernels, one
    even (>= 4) and one odd, and the decoder's transposed convs (or square convs the weights let
    be transposed) mirror them kernel for kernel in reverse order: even pairs halve and double,
    odd pairs keep the size. None where the reading does not apply (the caller reads counts
    instead); a square conv left a plain conv takes no pin, its type staying a choice."""
    mirrors = [m for m in decoded if m.type_name == "nn.ConvTranspose2d" or _may_be_transposed(m)]
    if len(mirrors) != len(down):
        return None
    pairs = list(zip(reversed(down), mirrors))
    if any(not isinstance(_kernel(a), int) or _kernel(a) != _kernel(b) for a, b in pairs):
        return None
    kernels = {_kernel(m) for m in down}
    even = {k for k in kernels if k % 2 == 0}
    if len(kernels) != 2 or len(even) != 1 or min(even) < 4:
        return None
    pins = []
    for conv, up in pairs:
        k = _kernel(conv)
        stride, padding = (2, k // 2 - 1) if k % 2 == 0 else (1, k // 2)
        pins += [arg_pin(conv, "stride", stride, KEEPS), arg_pin(conv, "padding", padding, KEEPS)]
        geometry = next((c for c in up.choices if c.name == "geometry"), None)
        if up.type_name == "nn.ConvTranspose2d" and geometry is not None:
            pins.append((geometry.path, "geometry", (stride, padding, 0), KEEPS))
    return [p for p in pins if p]


COLLAPSE = (
    "the innermost pair of an autoencoder's largest kernel (a conv c -> c' and its transposed "
    "mirror c' -> c): the conv reads a map its kernel's size into 1x1 (stride 1, no padding), "
    "the transposed conv draws it back, as DCGAN's last and first layers"
)


def _kernel(m) -> object:
    return next((a.value for a in m.args if a.keyword == "kernel_size"), None)


def _collapsing_pair(down: list, decoded: list) -> tuple | None:
    """(the encoder's last conv, the decoder's first transposed conv) where they mirror (widths
    swapped, one kernel) and that kernel is larger than every other conv's of the encoder."""
    transposed = [m for m in decoded if m.type_name == "nn.ConvTranspose2d"]
    if len(down) < 2 or not transposed or decoded[0] is not transposed[0]:
        return None
    conv, up = down[-1], transposed[0]
    k = _kernel(conv)
    if not isinstance(k, int) or k != _kernel(up) or k < 4:
        return None
    if any(not isinstance(_kernel(m), int) or _kernel(m) >= k for m in down[:-1]):
        return None
    if (conv.io.in_width, conv.io.out_width) != (up.io.out_width, up.io.in_width):
        return None
    return (conv, up) if any(c.name == "geometry" for c in up.choices) else None


POOLED = (
    "an autoencoder whose decoder doubles the map with 2x2 stride-2 transposed convs, one per "
    "size-keeping conv of its encoder: each encoder level ends in a 2x2 max-pool, the inverse of "
    "that geometry (udacity's conv autoencoder, `pool(relu(conv(x)))`)"
)
RECONSTRUCTION = (
    "a pooled conv autoencoder's reconstruction: pixels in [0, 1] through a sigmoid, as the "
    "tutorials' MNIST autoencoders (udacity's) end"
)


def pooled_levels(ordered: list) -> list:
    """The encoder convs of an autoencoder's built-in layers (`ordered`, as data flows) that a 2x2
    max-pool follows, where the transposed convs after them all double the map exactly (kernel 2,
    stride 2: what un-does a 2x2 pool) and there are as many of them as size-keeping convs before
    the first (udacity's `conv1, conv2, t_conv1, t_conv2`); [] elsewhere. Kernel-3 or -4
    transposed convs mirror strided convs instead (mirror_pins)."""
    first = next((i for i, m in enumerate(ordered) if m.type_name == "nn.ConvTranspose2d"), None)
    if not first:
        return []
    down = [m for m in ordered[:first] if _spatial_conv(m)]
    ups = [m for m in ordered[first:] if m.type_name == "nn.ConvTranspose2d"]
    if len(down) != len(ups) or any(strides_by(m) not in (1, (1, 1)) for m in down):
        return []
    if any(_kernel(m) not in (2, (2, 2)) or strides_by(m) not in (2, (2, 2)) for m in ups):
        return []
    return down


# The map sizes at both ends of a flat latent are read from widths (a Linear's width / the channels
# of the conv beside it): the transposed convs grow the one to an image the convs shrink to the
# other. sksq96's pytorch-vae and the World Models VAE (Ha & Schmidhuber 2018) write both unpadded:
# Conv2d(c, c', 4, stride=2), ConvTranspose2d(c, c', 5, stride=2).
UNPADDED = (
    "a flat-latent autoencoder whose map sizes (read from the Linears' widths) close only "
    "unpadded, as sksq96's pytorch-vae and the World Models VAE"
)


def _through(layer, side: int, geometry: tuple, transposed: bool) -> int:
    stride, padding, output_padding = geometry
    k = _kernel(layer)
    if transposed:
        return (side - 1) * stride - 2 * padding + k + output_padding
    return (side + 2 * padding - k) // stride + 1


def _current(m) -> tuple[int, int, int]:
    """A built-in conv's (stride, padding, output padding) as the IR holds it now."""
    values = [next((a.value for a in m.args if a.keyword == kw), 0) for kw in ("padding",)]
    pad = values[0] if isinstance(values[0], int) else -1
    out = next((a.value for a in m.args if a.keyword == "output_padding"), 0)
    return strides_by(m), pad, out if isinstance(out, int) else -1


def closing_pins(encoder, decoder_parts: list, first_side: int, last_side: int) -> list[tuple]:
    """Padding and geometry pins that make a flat-latent autoencoder's sizes close (UNPADDED),
    where padded stride-2 convs (the usual reading) do not: the decoder, from its `first_side`
    map, gives an image the encoder takes to its `last_side` map. [] where padded ones close
    too, or where neither does (the file stays guessed)."""
    down = [m for m in layers(encoder) if _spatial_conv(m)]
    ups = [leaf for part in decoder_parts for leaf in layers(part)]
    ups = [m for m in ups if m.type_name == "nn.ConvTranspose2d"]
    kernels = [_kernel(m) for m in down + ups]
    if not down or len(down) != len(ups) or not all(isinstance(k, int) for k in kernels):
        return []

    def closes(down_geometry, up_geometry) -> bool:
        side = first_side
        for m, g in zip(ups, up_geometry):
            side = _through(m, side, g, True)
        for m, g in zip(down, down_geometry):
            if side < 1 or min(g) < 0 or isinstance(g[0], tuple):
                return False
            side = _through(m, side, g, False)
        return side == last_side

    # padded: each conv halves with (k - 1) // 2 padded, each transposed conv doubles exactly
    halving = [(2, (k - 1) // 2, 0) for k in kernels[: len(down)]]
    doubling = [(2, (k - 1) // 2, 2 - k + 2 * ((k - 1) // 2)) for k in kernels[len(down) :]]
    if closes(halving, doubling) or not closes([(2, 0, 0)] * len(down), [(2, 0, 0)] * len(ups)):
        return []
    pins = [arg_pin(m, kw, v, UNPADDED) for m in down for kw, v in (("stride", 2), ("padding", 0))]
    for m in ups:
        geometry = next((c for c in m.choices if c.name == "geometry"), None)
        if geometry is not None:
            pins.append((geometry.path, "geometry", (2, 0, 0), UNPADDED))
    return [p for p in pins if p]


def decoded_side(decoder_parts: list, first_side: int) -> int | None:
    """The side of the image the decoder's transposed convs draw from a `first_side` map, as
    the IR reads their geometry now; None where a geometry is not a plain triple."""
    side = first_side
    for part in decoder_parts:
        for m in layers(part):
            if m.type_name == "nn.ConvTranspose2d":
                g = _current(m)
                if not isinstance(_kernel(m), int) or min(g) < 0 or isinstance(g[0], tuple):
                    return None
                side = _through(m, side, g, True)
    return side
