"""Strides the weights cannot show, read from config.json where the library's config fixes them.

A conv's stride leaves no trace in its weight. Where config.json records the layout that decides
it, the stride is planned here and cited (the conv's choice then says `metadata`, with the key):
- the image stem: the one odd-kernel conv that reads `num_channels` input channels halves the
  resolution (the ImageNet classifiers' convention: RegNet's, MobileNet's and EfficientNet's 3x3
  stem, ResNet's 7x7);
- residual stages (`downsample_in_first_stage`, as ResNet and RegNet configs have it): the first
  block of every stage, the one with a projection shortcut, halves the resolution, the first
  stage's only when the key is true; `downsample_in_bottleneck` moves the stride from the 3x3 onto
  the bottleneck's first 1x1;
- a flat list of inverted residual blocks with `output_stride` 32 (no dilation): the MobileNetV2
  stride schedule (Sandler et al. 2018, table 2), where the list has its length;
- EfficientNet's block table (`strides`, `num_block_repeats`, `depth_coefficient`): the first block
  of each row takes the row's stride, its repeats 1.
- a speech model's convolutional feature encoder (wav2vec2's `conv_stride` and `conv_kernel`, one
  entry per layer): a list of 1-D convs with those kernels takes those strides, and no padding.
Everything else keeps the structural convention (structure.py) and stays a calibration choice.

Without config.json, a mobile network's structure identifies its family's code (mobile_family:
EfficientNet's squeeze-excitation is a quarter of the block's input, MobileNetV3's reduces the
expanded width, MobileNetV2 has none), which fixes what no key records: its stage strides
(mobile_strides), its activation (patterns/_activations.py's FAMILY_ACTIVATIONS; MobileNetV3's
by stage: mobilenet_v3_relu_blocks), torchvision's MobileNetV3 batch norm eps
(mobile_batch_norm_eps) and EfficientNetV2's residual conv stage (mobile_skips). Defaults with a
cited reason, still choices.
"""

from __future__ import annotations

import re

from codegen.choices import ChoiceResolver
from codegen.keytree import KeyNode
from codegen.patterns.blocks.channel_shuffle import shuffle_branches
from codegen.patterns.blocks.inverted_residual import efficientnet_rows
from codegen.analyze.joins import projection_path
from codegen.patterns.blocks.residual import SHORTCUT_NAMES
from codegen.safetext import is_index

# MobileNetV2's inverted residual stages (Sandler et al. 2018, table 2): (blocks, first stride).
MOBILENET_V2_STAGES = ((1, 1), (2, 2), (3, 2), (4, 2), (3, 1), (3, 2), (1, 1))
# MobileNetV1's depthwise convs (Howard et al. 2017, table 1), each followed by a 1x1 conv.
MOBILENET_V1_STRIDES = (1, 2, 1, 2, 1, 2, 1, 1, 1, 1, 1, 2, 1)


def conv_weight(node: KeyNode) -> tuple[int, ...] | None:
    w = node.tensors.get("weight")
    if w is None or len(w.shape) != 4 or (node.children and held_norm(node) is None):
        return None
    return w.shape


def held_norm(node: KeyNode) -> KeyNode | None:
    """The norm a conv holds as its child, applied after it (Detectron2's `layers.Conv2d` and the
    detection code written like it: `conv1.weight` beside `conv1.norm.*`): the node's one child,
    a leaf whose vectors are as wide as the conv gives, a scale among them. None elsewhere."""
    w = node.tensors.get("weight")
    if w is None or len(w.shape) not in (3, 4, 5) or set(node.tensors) - {"weight", "bias"}:
        return None
    if len(node.children) != 1:
        return None
    norm = next(iter(node.children.values()))
    shapes = {n: t.shape for n, t in norm.tensors.items()}
    if norm.children or "weight" not in shapes and "running_mean" not in shapes:
        return None
    if any(shape not in ((w.shape[0],), ()) for shape in shapes.values()):
        return None
    return norm if shapes.get("weight", (w.shape[0],)) == (w.shape[0],) else None


def _index(name: str) -> int | None:
    return int(name) if name.isascii() and name.isdigit() and str(int(name)) == name else None


def _items(node: KeyNode) -> list[KeyNode] | None:
    """A list's items in index order, or None when `node` is not a list."""
    if not node.children or any(_index(n) is None for n in node.children):
        return None
    return [node.children[n] for n in sorted(node.children, key=int)]


RUNNING_NAME = re.compile(r"([A-Za-z_]+?)_?(\d+)")


def _listed(node: KeyNode) -> list[KeyNode] | None:
    """A list's items in order: a Sequential's indices (_items), or children named by one prefix
    and a running number from 0 or 1 (osmr/imgclsmob's `unit1`, `unit2`, ...; Keras ports'
    `block1`, ...), whatever order the keys list them in. None elsewhere."""
    items = _items(node)
    if items is not None or not node.children:
        return items
    found = [RUNNING_NAME.fullmatch(n) for n in node.children]
    if not all(found) or len({f.group(1) for f in found}) != 1:
        return None
    by_number = {int(f.group(2)): f.group(0) for f in found}
    first = min(by_number)
    if first not in (0, 1) or sorted(by_number) != list(range(first, first + len(found))):
        return None
    return [node.children[by_number[i]] for i in sorted(by_number)]


def _depthwise(node: KeyNode) -> KeyNode | None:
    return next(
        (c for c in node.walk() if (w := conv_weight(c)) and w[1] == 1 and max(w[2:]) > 1), None
    )


def plan_config_strides(root: KeyNode, resolver: ChoiceResolver) -> dict[str, tuple[int, str]]:
    """conv path -> (stride, the config.json evidence that fixes it)."""
    planned: dict[str, tuple[int, str]] = {}
    _stem(root, resolver, planned)
    _residual_stages(root, resolver, planned)
    _inverted_residual_lists(root, resolver, planned)
    _depthwise_separable_list(root, resolver, planned)
    _patch_embedding_stages(root, resolver, planned)
    for path, (stride, note, _, _) in feature_encoder_convs(root, resolver).items():
        planned[path] = (stride, note)
    return planned


def _int_list(resolver: ChoiceResolver, key: str) -> tuple[str, list[int]] | None:
    told = resolver.evidence(key)
    if told is None or not isinstance(told[1], list) or not told[1]:
        return None
    return told if all(type(i) is int and i > 0 for i in told[1]) else None


# Conv subsamplers whose kernels config.json lists but whose strides and padding the family's
# code fixes: Speech2Text's halve the frames, each padded by half its kernel (then a GLU).
FIXED_SUBSAMPLERS = {"speech_to_text": ("conv_kernel_sizes", 2)}


def feature_encoder_convs(
    root: KeyNode, resolver: ChoiceResolver
) -> dict[str, tuple[int, str, int, str]]:
    """conv path -> (stride, its evidence, padding, its evidence) for each conv of a speech
    model's feature encoder: a list whose items hold one 1-D conv each, with the kernels config.json
    lists in `conv_kernel`; their strides are `conv_stride`'s, their padding none (wav2vec2,
    HuBERT, Data2VecAudio, SEW, UniSpeech, WavLM build them so). Or a subsampler the family's
    code fixes (FIXED_SUBSAMPLERS), its kernels listed in config.json."""
    strides, kernels = _int_list(resolver, "conv_stride"), _int_list(resolver, "conv_kernel")
    padding, padding_note = 0, "the feature encoder pads nothing"
    model_type = resolver.metadata.get("model_type")
    fixed = FIXED_SUBSAMPLERS.get(model_type[1]) if model_type else None
    if fixed is not None and (strides is None or kernels is None):
        kernels = _int_list(resolver, fixed[0])
        if kernels is None:
            return {}
        why = f"config.json model_type {model_type[1]!r}: fixed in its code"
        strides = (why, [fixed[1]] * len(kernels[1]))
        padding, padding_note = None, f"{why}, half the kernel"
    if strides is None or kernels is None or len(strides[1]) != len(kernels[1]):
        return {}
    found = {}
    for node in root.walk():
        items = _items(node)
        if not items or len(items) != len(strides[1]):
            continue
        convs = [[c for c in item.walk() if _conv1d_weight(c)] for item in items]
        if any(len(c) != 1 for c in convs):
            continue
        if [_conv1d_weight(c[0])[2] for c in convs] != kernels[1]:
            continue
        for i, (conv, stride) in enumerate(zip(convs, strides[1])):
            note = f"{strides[0]}[{i}]"
            pad = kernels[1][i] // 2 if padding is None else padding
            found[conv[0].path] = (stride, note, pad, f"{kernels[0]}: {padding_note}")
    return found


def _conv1d_weight(node: KeyNode) -> tuple[int, ...] | None:
    w = node.tensors.get("weight")
    return w.shape if w is not None and not node.children and len(w.shape) == 3 else None


def _depthwise_separable_list(root: KeyNode, resolver: ChoiceResolver, planned: dict) -> None:
    """MobileNetV1 (config.json model_type says so): a flat list of conv layers alternating a
    depthwise 3x3 and a 1x1, thirteen of each; the depthwise ones take the paper's strides."""
    model_type = resolver.evidence("model_type")
    if model_type is None or model_type[1] != "mobilenet_v1":
        return
    for node in root.walk():
        items = _items(node)
        if not items or len(items) != 2 * len(MOBILENET_V1_STRIDES):
            continue
        depthwise = [_depthwise(item) for item in items[::2]]
        pointwise = [[w for c in item.walk() if (w := conv_weight(c))] for item in items[1::2]]
        if not all(depthwise) or not all(len(w) == 1 and w[0][2:] == (1, 1) for w in pointwise):
            continue
        note = f"{model_type[0]} {model_type[1]!r}: the MobileNetV1 stride schedule"
        for conv, stride in zip(depthwise, MOBILENET_V1_STRIDES):
            planned[conv.path] = (stride, note)


def _patch_embedding_stages(root: KeyNode, resolver: ChoiceResolver, planned: dict) -> None:
    """Pyramid vision transformers (PVT, SegFormer, GLPN): config.json lists each stage's patch
    embedding conv's kernel (`patch_sizes`) and stride (`strides`). In a list with one item per
    stage, each item's one conv with that square kernel (not depthwise) takes that stride."""
    strides, sizes = _int_list(resolver, "strides"), _int_list(resolver, "patch_sizes")
    if strides is None or sizes is None or len(strides[1]) != len(sizes[1]):
        return
    for node in root.walk():
        items = _items(node)
        if not items or len(items) != len(strides[1]):
            continue
        found = []
        for item, size in zip(items, sizes[1]):
            convs = [
                c
                for c in item.walk()
                if (w := conv_weight(c)) and w[2] == w[3] == size and w[1] > 1
            ]
            if len(convs) != 1:
                break
            found.append(convs[0])
        if len(found) != len(items):
            continue
        for i, (conv, stride) in enumerate(zip(found, strides[1])):
            planned[conv.path] = (stride, f"{strides[0]}[{i}]")


def _stem(root: KeyNode, resolver: ChoiceResolver, planned: dict) -> None:
    told = resolver.evidence("num_channels")
    if told is None or type(told[1]) is not int:
        return
    readers = [
        c
        for c in root.walk()
        if (w := conv_weight(c)) and w[1] == told[1] and w[2] == w[3] and w[2] % 2 == 1 < w[2]
    ]
    if len(readers) == 1:
        planned[readers[0].path] = (2, f"{told[0]}: the image stem halves the resolution")


def _residual_stages(root: KeyNode, resolver: ChoiceResolver, planned: dict) -> None:
    first_stage = resolver.evidence("downsample_in_first_stage")
    if first_stage is None or type(first_stage[1]) is not bool:
        return
    in_bottleneck = resolver.evidence("downsample_in_bottleneck")
    on_first = in_bottleneck is not None and in_bottleneck[1] is True
    pooled = avg_down_shortcuts(root)
    for node in root.walk():
        shortcut = next((c for n, c in node.children.items() if n in SHORTCUT_NAMES), None)
        indices = [i for i in map(_index, node.path.split(".")) if i is not None]
        if shortcut is None or len(indices) < 2 or indices[-1] != 0:
            continue
        short = [c for c in shortcut.walk() if conv_weight(c)]
        body = [c for c in node.walk() if conv_weight(c) and not c.path.startswith(shortcut.path)]
        if not short or not body:
            continue
        stride = 2 if indices[-2] > 0 or first_stage[1] else 1
        if shortcut.path in pooled:  # ResNet-D: the average pool before its 1x1 conv strides
            planned[short[0].path] = (1, f"{first_stage[0]}: the shortcut's pool downsamples")
            short = []
        spatial = body[0] if on_first else next((c for c in body if conv_weight(c)[2] > 1), None)
        note = (
            f"{first_stage[0]}: the first block of {'each' if indices[-2] else 'the first'} stage"
        )
        for conv in (spatial, *short[:1]):
            if conv is not None:
                planned[conv.path] = (stride, note)
        # The key names the one body conv that strides: the block's other spatial convs keep the
        # resolution (else the 3x3's structural stride would halve it a second time).
        for conv in body:
            if conv is not spatial and conv_weight(conv)[2] > 1:
                planned[conv.path] = (1, note)


def _inverted_residual_lists(root: KeyNode, resolver: ChoiceResolver, planned: dict) -> None:
    schedule = [s if i == 0 else 1 for n, s in MOBILENET_V2_STAGES for i in range(n)]
    output_stride = resolver.evidence("output_stride")
    table = _efficientnet_schedule(resolver)
    for node in root.walk():
        items = _items(node)
        if not items or len(items) < 2:
            continue
        convs = [_depthwise(item) for item in items]
        if not all(convs):
            continue
        if table is not None and len(table[1]) == len(items):
            strides, note = table[1], table[0]
        elif output_stride is not None and output_stride[1] == 32:
            if len(items) not in (len(schedule), len(schedule) - 1):
                continue
            strides = schedule[len(schedule) - len(items) :]
            note = f"{output_stride[0]} 32: the MobileNetV2 stride schedule"
        else:
            continue
        for conv, stride in zip(convs, strides):
            planned[conv.path] = (stride, note)


def _efficientnet_schedule(resolver: ChoiceResolver) -> tuple[str, list[int]] | None:
    """Each block's stride from EfficientNet's table: a row's first block takes its stride, the
    row repeats ceil(depth_coefficient x num_block_repeats) times."""
    rows = efficientnet_rows(resolver)
    if rows is None:
        return None
    note, starts, strides = rows
    return note, strides


def plan_config_paddings(
    root: KeyNode, resolver: ChoiceResolver, strides: dict[str, tuple[int, str]]
) -> dict[str, tuple[object, str]]:
    """conv path -> (padding, the config.json evidence), where the padding is not half the kernel.

    EfficientNet (its config lists `depthwise_padding`, the blocks that pad evenly) pads the input
    of every strided conv the Keras way, one pixel more after than before (`correct_pad`), and
    convolves without padding; the listed blocks' depthwise convs pad evenly (half the kernel)."""
    speech = {
        p: (pad, note) for p, (_, _, pad, note) in feature_encoder_convs(root, resolver).items()
    }
    told = resolver.evidence("depthwise_padding")
    if told is None or not isinstance(told[1], list) or any(type(i) is not int for i in told[1]):
        return speech
    note = f"{told[0]}: Keras' padding before a strided conv"
    planned: dict[str, tuple[object, str]] = {
        path: ("pad_same_even", note) for path, (stride, _) in strides.items() if stride == 2
    }
    for node in root.walk():
        items = _items(node)
        if not items or len(items) < 2 or not all(_depthwise(item) for item in items):
            continue
        for i in told[1]:
            if 0 <= i < len(items):
                planned.pop(_depthwise(items[i]).path, None)
    return {**planned, **speech}


def deep_stem(node: KeyNode) -> KeyNode | None:
    """The first conv of a deep stem: a list of two or three 3x3 convs (norms between) where the
    first reads the image (at most 4 channels). It stands in for ResNet's 7x7 stride-2 stem conv
    (ResNet-C/-D, He et al. 2019; timm's `stem_type='deep'`), so the first conv halves the
    resolution and a 3/2/1 max-pool follows, by the same convention."""
    listed = _listed(node)
    units = [_conv_bn(c) for c in listed or ()]
    if listed and 2 <= len(listed) <= 3 and all(units) and "stem" in node.name.lower():
        # mmcv's ConvModules (OpenMMLab's ResNetV1c/V1d `stem.N.conv`, `stem.N.bn`), or named
        # units (timm's create_csp_stem: `stem.conv1`, `stem.conv2`, the first strided), where
        # the checkpoint names the list a stem (a small CNN's first conv blocks keep the resolution)
        if conv_weight(units[0])[1] > 4 or any(conv_weight(c)[2:] != (3, 3) for c in units):
            return None
        return units[0]
    items = _items(node)
    if not items or not 3 <= len(items) <= 5:
        return None
    numbers = sorted(int(n) for n in node.children)
    if any(b - a > 2 for a, b in zip(numbers, numbers[1:])):
        return None  # two empty slots in a row, an activation and a pool: a VGG's stages
    convs = [c for c in items if conv_weight(c)]
    rest = [c for c in items if not conv_weight(c)]
    if not 2 <= len(convs) <= 3 or items[0] is not convs[0] or conv_weight(convs[0])[1] > 4:
        return None
    if conv_weight(convs[0])[0] <= conv_weight(convs[0])[1]:
        return None  # a stem widens the image's channels (Res2Net's `convs` of 2-wide groups keep)
    if any(conv_weight(c)[2:] != (3, 3) for c in convs):
        return None
    if any(c.children or "running_mean" not in c.tensors for c in rest):
        return None  # only batch norms between the convs
    return convs[0]


def listed_deep_stem(node: KeyNode) -> tuple[KeyNode, str] | None:
    """(the first conv, the pool slot's path) of a deep stem written as the first items of the
    network's own list: two or three 3x3 conv-norm units (the first reading the image and
    widening it), one keyless slot, then residual blocks (a shortcut projection told by shapes).
    fastai's XResNet (`XResNet(nn.Sequential)`: *stem, MaxPool2d(3, 2, 1), *blocks) and the
    ResNet-C/-D stems it follows (He et al. 2019): the first conv halves the resolution and the
    slot is the 3/2/1 max pool, the convention deep_stem reads. Still choices."""
    items = node.children
    if node.tensors or not items or not all(is_index(n) for n in items):
        return None
    order = sorted(items, key=int)
    units = []
    for name in order:
        conv = _conv_bn(items[name])
        if conv is None:
            break
        units.append((name, conv))
    if not 2 <= len(units) <= 3 or [int(n) for n, _ in units] != list(range(len(units))):
        return None
    first = conv_weight(units[0][1])
    if first[1] > 4 or first[0] <= first[1]:
        return None
    if any(conv_weight(c)[2:] != (3, 3) for _, c in units):
        return None
    slot = len(units)
    after = str(slot + 1)
    if str(slot) in items or after not in items:
        return None
    block = items[after]
    blocks = _items(block) or [block]
    if projection_path(blocks[0]) is None and not any(
        n in SHORTCUT_NAMES for n in blocks[0].children
    ):
        return None
    return units[0][1], f"{node.path}.{slot}" if node.path else str(slot)


STEM_NAMES = {"stem", "conv_stem"}


def named_image_stem(root: KeyNode) -> KeyNode | None:
    """The conv that reads the image where the checkpoint names it a stem (`stem`, `conv_stem`,
    or a conv directly inside one): the ImageNet classifiers' convention that the stem's 3x3 (or
    larger, odd) conv halves the resolution (timm's and torchvision's RegNet, EfficientNet,
    MobileNet, ReXNet, CSPNet stems; Radosavovic et al. 2020, Tan & Le 2019). Only where exactly
    one spatial conv in the model reads an image (at most 4 channels). A default, still a choice;
    a conv named otherwise (a CIFAR network's `conv1`, which keeps the resolution) is left at 1."""
    readers = [
        c
        for c in root.walk()
        if (w := conv_weight(c)) and w[1] <= 4 and w[2] == w[3] and w[2] % 2 == 1 < w[2]
    ]

    def named(conv: KeyNode) -> bool:
        # (a leading underscore marks an attribute private: lukemelas' `_conv_stem`)
        segments = [s.lstrip("_") for s in conv.path.split(".")]
        return segments[-1] in STEM_NAMES or (len(segments) > 1 and segments[-2] in STEM_NAMES)

    # A grouped 3x3 reading 4 channels a group (pycls' RegNets) looks like an image reader too:
    # where several do, the one named a stem.
    stems = [c for c in readers if named(c)]
    return stems[0] if len(stems) == 1 else None


def shuffle_downsamplers(root: KeyNode) -> set[str]:
    """The depthwise convs of ShuffleNetV2's downsampling units: a unit holding both its branches
    (the projection branch exists only where the unit downsamples; torchvision's and Megvii's
    names, patterns/blocks/channel_shuffle.py), each branch a list with one depthwise conv. Both
    halve the resolution (Ma et al. 2018, fig. 3d: the spatial down sampling unit's two 3x3
    depthwise convs have stride 2). A convention, still a calibration choice."""
    found = set()
    for node in root.walk():
        named = shuffle_branches(node.children) if not node.tensors else None
        if named is None or named[0] is None:
            continue
        branches = [node.children[name] for name in named[:2]]
        convs = [_depthwise(b) if _items(b) is not None else None for b in branches]
        if all(convs):
            found.update(c.path for c in convs)
    return found


def shuffle_stem(root: KeyNode, downsamplers: set[str]) -> KeyNode | None:
    """The image stem's conv of a network of ShuffleNetV2 units: its 3x3 conv halves the
    resolution (Ma et al. 2018, table 5: Conv1 3x3 stride 2, then a 3x3 stride-2 max-pool, which
    patterns/blocks/chain.py defaults). Only the one spatial conv reading an image."""
    if not downsamplers:
        return None
    readers = [
        c
        for c in root.walk()
        if (w := conv_weight(c))
        and 1 < w[1] <= 4
        and w[2:] == (3, 3)
        and c.path not in downsamplers
    ]
    return readers[0] if len(readers) == 1 else None


def zero_padded_widening(node: KeyNode) -> KeyNode | None:
    """The first conv of a residual block that doubles the width with no shortcut member: He et
    al. 2016's "option A" blocks (the CIFAR ResNets; patterns/blocks/residual.py pads the input
    with zero channels), which halve the resolution where they widen, as projected blocks do
    (section 4.2: maps of 32, 16, 8 as filters go 16, 32, 64). Only an item of a list of blocks
    whose members are numbered convs and their norms (`conv1`, `bn1`, `conv2`, `bn2`)."""
    if _index(node.path.rsplit(".", 1)[-1]) is None or len(node.children) < 4:
        return None
    convs, norms = [], []
    for name, child in node.children.items():
        if child.children or not re.fullmatch(r"[a-z_]*\d+", name):
            return None
        (convs if conv_weight(child) else norms).append((int(re.sub(r"\D", "", name)), child))
    if len(convs) != len(norms) or len(convs) < 2 or any(len(n.tensors) < 1 for _, n in norms):
        return None
    convs = [c for _, c in sorted(convs, key=lambda item: item[0])]
    first, last = conv_weight(convs[0]), conv_weight(convs[-1])
    if first[0] != 2 * first[1] or last[0] != 2 * first[1] or max(first[2:]) == 1:
        return None
    return convs[0]


def unpaired_projection(node: KeyNode) -> KeyNode | None:
    """A block's projection where nothing names it a shortcut: its convs and norms numbered in
    pairs (`conv1`/`bn1`, `conv2`/`bn2`) but for one 1x1 conv with no norm of its number, last,
    reading what the first conv reads and giving what the last paired conv gives (d2l's
    `Residual`: `conv3` where `use_1x1conv`). patterns/blocks/residual.py reads it so too."""
    convs, norms = {}, set()
    for name, child in node.children.items():
        number = re.fullmatch(r"[a-z_]*?(\d+)", name)
        if child.children or number is None:
            return None
        if conv_weight(child):
            convs[int(number.group(1))] = child
        else:
            norms.add(int(number.group(1)))
    extra = [n for n in convs if n not in norms]
    if len(extra) != 1 or len(convs) != len(norms) + 1 or len(convs) < 3:
        return None
    body = [convs[n] for n in sorted(convs) if n != extra[0]]
    short, first, last = conv_weight(convs[extra[0]]), conv_weight(body[0]), conv_weight(body[-1])
    if extra[0] < max(convs) or short[2:] != (1, 1) or (short[0], short[1]) != (last[0], first[1]):
        return None
    return convs[extra[0]]


def avg_down_shortcuts(root: KeyNode) -> set[str]:
    """Shortcut lists whose index 0 holds no tensors before a 1x1 conv and its norm: ResNet-D's
    average pool (He et al. 2019; timm's `avg_down`), which downsamples in place of the conv's
    stride (in a block that keeps the resolution, an identity stands there)."""
    found = set()
    shaped = {p.path for n in root.walk() if (p := projection_path(n)) is not None}
    for node in root.walk():
        if (node.name not in SHORTCUT_NAMES and node.path not in shaped) or "0" in node.children:
            continue
        items = node.children
        conv = items.get("1")
        if conv is not None and set(items) == {"1"} and conv.children:
            # the conv and its norm one unit: fastai's ConvLayer (`1.0`, `1.1`), or one whose
            # members are named (HF RT-DETR's ResNet-D shortcut: `1.convolution`, `1.normalization`)
            unit = _conv_bn(conv)
            if unit is not None and conv_weight(unit)[2:] == (1, 1):
                found.add(node.path)
            continue
        if conv is None or set(items) != {"1", "2"} or conv_weight(conv) is None:
            continue
        if conv_weight(conv)[2:] == (1, 1) and "running_mean" in items["2"].tensors:
            found.add(node.path)
    return found


def _conv_bn(node: KeyNode) -> KeyNode | None:
    """The conv of a conv-norm unit node (one conv, one batch norm, nothing else), else None."""
    kids = list(node.children.values())
    if node.tensors or len(kids) != 2:
        return None
    convs = [c for c in kids if conv_weight(c)]
    norms = [c for c in kids if not c.children and "running_mean" in c.tensors]
    return convs[0] if len(convs) == 1 and len(norms) == 1 else None


def branch_block(node: KeyNode) -> tuple[list[KeyNode], bool] | None:
    """(the convs, whether an identity branch is there) of a re-parameterisable block (RepVGG,
    Ding et al. 2021; YOLOv6/v7's RepConv): a kxk and a 1x1 conv-norm unit of the same widths
    side by side, and perhaps a batch norm of that width, the identity branch."""
    kids = list(node.children.values())
    if node.tensors or len(kids) not in (2, 3):
        return None
    # (kxk branches may sit in a list: ml-mobileone's `rbr_conv.0..K-1`, timm's `conv_kxk`)
    listed = [k for k in kids if _conv_bn(k) is None and _items(k)]
    listed = [k for k in listed if all(_conv_bn(i) is not None for i in _items(k))]
    convs = [c for k in kids if (c := _conv_bn(k)) is not None]
    convs += [_conv_bn(i) for k in listed for i in _items(k)]
    rest = [k for k in kids if _conv_bn(k) is None and k not in listed]
    count = len(convs) - sum(len(_items(k)) - 1 for k in listed)
    if count != 2 or len({conv_weight(c)[:2] for c in convs}) != 1:
        return None
    kernels = sorted({conv_weight(c)[2:] for c in convs})
    if len(kernels) != 2 or kernels[0] != (1, 1):
        return None
    if kernels[1][0] != kernels[1][1] or kernels[1][0] % 2 != 1:
        return None
    width = conv_weight(convs[0])[0]
    for k in rest:
        mean = k.tensors.get("running_mean")
        if (
            k.children
            or mean is None
            or mean.shape != (width,)
            or conv_weight(convs[0])[1] not in (width, 1)  # (1: depthwise, keeping the width)
        ):
            return None
    return convs, bool(rest)


def branch_downsamplers(root: KeyNode) -> set[str]:
    """The convs of re-parameterisable blocks built without their identity branch, where other
    blocks of the model have one: RepVGG builds it wherever a block keeps the width and the
    resolution, so a block without it is the first of a stage, which halves the resolution
    (Ding et al. 2021, section 3.3: every stage's first layer has stride 2). A convention, still
    a calibration choice."""
    blocks = [(n, found) for n in root.walk() if (found := branch_block(n)) is not None]
    if not any(identity for _, (_, identity) in blocks):
        return set()
    # (a block without its identity that keeps the width: RepVGG's, where the identities elsewhere
    # show the layout; blocks/branch_sum.py reads its class as branches from its widening siblings)
    return {c.path for _, (convs, identity) in blocks if not identity for c in convs}


def _dark_residual_width(node: KeyNode) -> int | None:
    """The width of a Darknet residual block (Redmon and Farhadi 2018): two conv-norm units and
    nothing else, a 1x1 narrowing C -> M and a 3x3 widening M -> C back (summed with its input),
    whatever their names; None for anything else."""
    kids = list(node.children.values())
    if node.tensors or len(kids) != 2:
        return None
    convs = [_conv_bn(k) for k in kids]
    if any(c is None for c in convs):
        return None
    ws = sorted((conv_weight(c) for c in convs), key=lambda w: w[2:])
    narrow, widen = ws
    if narrow[2:] != (1, 1) or widen[2:] != (3, 3) or narrow[0] > narrow[1]:
        return None
    return narrow[1] if (narrow[0], narrow[1]) == (widen[1], widen[0]) else None


def darknet_downsamplers(root: KeyNode) -> set[str]:
    """The 3x3 conv-norm unit that widens into a run of Darknet residual blocks of its output
    width, beside them (osmr's `stageN.unit1` before `unit2..`, timm's DarkStage `conv_down`
    before `blocks`, a flat `conv2` before `residual_block1`): Darknet-53 halves the resolution
    there, every stage (Redmon and Farhadi 2018, table 1: each 3x3/2 convolutional before its
    residual blocks). A structural default, still a calibration choice."""
    found = set()
    for node in root.walk():
        widths: set[int] = set()
        for kid in node.children.values():
            width = _dark_residual_width(kid)
            items = _items(kid) if width is None else None
            if items:
                inner = {_dark_residual_width(i) for i in items}
                width = inner.pop() if len(inner) == 1 else None
            if width is not None:
                widths.add(width)
        entries: dict[int, list[KeyNode]] = {}
        for kid in node.children.values():
            conv = _conv_bn(kid)
            w = conv_weight(conv) if conv is not None else None
            if w is not None and w[2:] == (3, 3) and w[0] in widths and w[1] < w[0]:
                entries.setdefault(w[0], []).append(conv)
        found |= {convs[0].path for convs in entries.values() if len(convs) == 1}
    return found


def first_blocks_after_pooled_stem(root: KeyNode) -> set[str]:
    """The first block of the first residual stage after a 7x7 stem conv: it keeps the resolution
    even where its shortcut widens the channels. The convention (He et al. 2016, table 1;
    torchvision's and timm's ResNets, Hugging Face's `downsample_in_first_stage` False): the stem's
    3x3 stride-2 max-pool halved it already. A structural default, still a calibration choice."""
    return {stages[0][2].path for stages in _stem_stages(root) if stages[0][3]}


def later_stage_entries(root: KeyNode) -> set[str]:
    """The first block of each residual stage after the first, beside a projection, in a network
    whose stem and stages first_blocks_after_pooled_stem finds: it halves the resolution however
    much it widens (He et al. 2016; the Wide ResNet code's groups, 16k, 32k, 64k wide or narrowed
    to other factors). A structural default, still a calibration choice."""
    return {s[2].path for stages in _stem_stages(root) for s in stages[1:] if s[3]}


def pyramidal_stage_entries(root: KeyNode) -> set[str]:
    """The first spatial conv of the first block of each stage after the first (stages ordered
    by the numbers in their names), where a node holds two or more lists of PyramidNet units
    (_pyramidal_unit): no projection records where they halve, and PyramidNet halves where each
    later stage begins (Han et al. 2017, as He et al.'s stages). A structural default, a choice."""
    found = set()
    for node in root.walk():
        lists = sorted(node.children.values(), key=_numbered)
        stages = [s for s in map(_items, lists) if s and all(map(_pyramidal_unit, s))]
        for blocks in stages[1:] if len(stages) >= 2 else []:
            convs = sorted(
                (c for c in blocks[0].children.values() if conv_weight(c)), key=_numbered
            )
            spatial = next((c for c in convs if max(conv_weight(c)[2:]) > 1), None)
            if spatial is not None:
                found.add(spatial.path)
    return found


def _numbered(node: KeyNode) -> list[int]:
    return [int(n) for n in re.findall(r"\d+", node.name)]


def _pyramidal_unit(node: KeyNode) -> bool:
    """Keys laid out as PyramidNet's unit (blocks/pyramidal_residual.py): only leaf convs and
    batch norms, one norm more than convs, in number order each norm as wide as what the block or
    the conv before it gives."""
    if node.tensors or len(node.children) < 5 or any(c.children for c in node.children.values()):
        return False
    convs = sorted((c for c in node.children.values() if conv_weight(c)), key=_numbered)
    norms = sorted(
        (c for c in node.children.values() if "running_mean" in c.tensors), key=_numbered
    )
    if len(convs) + len(norms) != len(node.children) or len(norms) != len(convs) + 1:
        return False
    gives = [conv_weight(convs[0])[1]] + [conv_weight(c)[0] for c in convs]
    return len(convs) >= 2 and [n.tensors["running_mean"].shape[0] for n in norms] == gives


def _stem_stages(root: KeyNode) -> list[list[tuple[int, str, KeyNode, bool]]]:
    """For each node holding a stem conv and at least two residual stages with a projection: its
    stages in order, each (number, label, first block, whether that block has a shortcut)."""
    found = []
    for node in root.walk():
        stem = [
            c
            for c in node.children.values()
            if _conv_7x7(c)
            or deep_stem(c)
            or _conv_7x7(c.children.get("conv"))
            or _conv_7x7(c.children.get("conv1"))  # Detectron2's BasicStem, Cadene's `layer0`
        ]
        if not stem and node is root:
            # A CIFAR network's 3x3 stem reading the RGB image keeps the resolution, and so does
            # its first stage (He et al. 2016, section 4.2: maps of 32, 16, 8; Zagoruyko and
            # Komodakis 2016's wide ResNets, whose first stage widens beside a 1x1 projection).
            stem = [
                c for c in node.children.values() if _rgb_3x3(c) or _rgb_3x3(c.children.get("0"))
            ]
        if len(stem) != 1:
            continue
        stages = []
        for name, child in node.children.items():
            if child is stem[0]:
                continue  # a deep stem's list of conv units (OpenMMLab's `stem`) is no stage
            listed = [(name, child)]
            items = _items(child)
            if items and all(len(i.children) == 1 and _first(i) is not None for i in items):
                listed = [(f"{name}{i}", item) for i, item in enumerate(items)]  # timm `stages`
            for label, stage in listed:
                block = stage.children.get("0") or _first(stage)
                if block is None or not block.children:
                    continue
                number = "".join(ch for ch in label if is_index(ch))
                shortcut = any(
                    n in SHORTCUT_NAMES or re.search("shortcut|downsample", n, re.I)
                    for n in block.children
                )
                stages.append((int(number) if number else -1, label, block, shortcut))
        if len([s for s in stages if s[3]]) >= 2:
            # The first stage: a later one's projection strides (ResNet-18's layer1 has none).
            found.append(sorted(stages, key=lambda s: s[:2]))
    return found


def xception_skips(root: KeyNode) -> set[str]:
    """The 1x1 projection `skip` of Xception's blocks (`rep`, `skip`, `skipbn`; Cadene's and timm's
    legacy Xception, blocks/xception_block.py): every projected block of the paper's entry and
    exit flows halves the resolution (Chollet 2017, fig. 5), whether it doubles its width or not
    (256 -> 728, 728 -> 1024); the max-pool closing `rep` matches it. A convention, a choice."""
    found = set()
    for node in root.walk():
        if set(node.children) != {"rep", "skip", "skipbn"}:
            continue
        w = conv_weight(node.children["skip"])
        if w and w[2:] == (1, 1) and _depthwise(node.children["rep"]) is not None:
            found.add(node.children["skip"].path)
    return found


def cadene_senet(root: KeyNode) -> bool:
    """Cadene's pretrainedmodels SENet layout: a `layer0` stem (conv1, bn1, ...), blocks with a
    `se_module`, the head `last_linear`."""
    if "layer0" not in root.children or "last_linear" not in root.children:
        return False
    return "conv1" in root.children["layer0"].children and any(
        "se_module" in n.children for n in root.walk()
    )


def strided_first_1x1(root: KeyNode) -> set[str]:
    """Blocks whose first 1x1 conv takes the stride, not their 3x3: Cadene's SEResNetBottleneck
    (pretrainedmodels senet.py: "follows Caffe implementation and uses stride=stride in conv1",
    Hu et al.'s released SE-ResNets), the bottleneck of a Cadene SENet whose 3x3 is ungrouped
    (its SE-ResNeXt and SENet-154 blocks, grouped, stride the 3x3). A convention, still a choice."""
    if not cadene_senet(root):
        return set()
    found = set()
    for node in root.walk():
        conv1, conv2 = node.children.get("conv1"), node.children.get("conv2")
        if "se_module" not in node.children or conv1 is None or conv2 is None:
            continue
        w1, w2 = conv_weight(conv1), conv_weight(conv2)
        if w1 and w2 and w1[2:] == (1, 1) and w2[2:] == (3, 3) and w2[1] == w1[0]:
            found.add(node.path)  # conv2 reads all conv1 gives: ungrouped
    return found


def _first(stage: KeyNode) -> KeyNode | None:
    """The first block of a stage that wraps its one list of blocks (`layer`, `blocks`)."""
    if len(stage.children) != 1:
        return None
    blocks = _items(next(iter(stage.children.values())))
    return blocks[0] if blocks and blocks[0].children else None


def _conv_7x7(node: KeyNode | None) -> bool:
    w = conv_weight(node) if node is not None else None
    return bool(w) and w[2:] == (7, 7)


def _rgb_3x3(node: KeyNode | None) -> bool:
    """A bare 3x3 conv reading the three channels of an RGB image."""
    w = conv_weight(node) if node is not None else None
    return bool(w) and w[1] == 3 and w[2:] == (3, 3)


def stride_layouts(root: KeyNode) -> tuple[tuple[str, ...], ...]:
    """Where an image classifier usually halves the resolution, as sets of conv paths for
    calibration to try as one move each (stride 2 on all of them): the image stem (the one spatial
    conv reading 3 channels, else 1 or 4), then also the first block of every stage (the item 0 of a
    list of blocks: its first spatial conv outside the shortcut, and the shortcut's first conv),
    then the same but the first stage. One stride at a time rarely shows a gain (the head pools
    whatever the resolution; the other blocks still mismatch); together they do, and descent
    then takes back any one that is wrong."""
    stem, firsts = stride_units(root)
    layouts = [stem] if stem else []
    every = stem + tuple(p for convs in firsts for p in convs)
    if firsts:
        layouts.append(every)
    if len(firsts) > 1:
        layouts.append(stem + tuple(p for convs in firsts[1:] for p in convs))
    layouts += [stem + convs for convs in inverted_residual_schedules(root)]
    return tuple(tuple(dict.fromkeys(layout)) for layout in layouts if layout)


def inverted_residual_schedules(root: KeyNode) -> list[tuple[str, ...]]:
    """The depthwise convs that halve the resolution in a flat list of inverted residual blocks
    as long as MobileNetV2's (with or without its first block): the paper's schedule, which config
    evidence plans where it has output_stride (_inverted_residual_lists), as a candidate layout
    where nothing records it. Widths rarely show the stages in small models, where every block
    may keep one width."""
    schedule = [s if i == 0 else 1 for n, s in MOBILENET_V2_STAGES for i in range(n)]
    found = []
    for node in root.walk():
        items = _items(node)
        if not items or len(items) not in (len(schedule), len(schedule) - 1):
            continue
        convs = [_depthwise(item) for item in items]
        if all(convs):
            strides = schedule[len(schedule) - len(items) :]
            found.append(tuple(c.path for c, s in zip(convs, strides) if s == 2))
    return found


def stride_units(root: KeyNode) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
    """(the image stem's conv, or none; the convs that halve the resolution together in the first
    block of each list of blocks): the units stride_layouts combines."""
    stem: tuple[str, ...] = ()
    for channels in (3, 1, 4):  # RGB first: a depthwise [C, 1, k, k] looks like a gray stem
        stems = [c for c in root.walk() if (w := conv_weight(c)) and w[1] == channels]
        stems = [c for c in stems if max(conv_weight(c)[2:]) > 1]
        if stems:
            stem = (stems[0].path,) if len(stems) == 1 else ()
            break
    firsts: list[tuple[str, ...]] = []
    for node in root.walk():
        items = _items(node)
        if not items or not all(_block(item) for item in items):
            continue
        convs = _first_strided(items[0])
        if convs and not any(p in stem for p in convs):
            firsts.append(convs)
    return stem, firsts


def _block(node: KeyNode) -> bool:
    """A block: named members (not a bare layer, not a list), at least one of them a conv."""
    if not node.children or _items(node) is not None:
        return False
    return any(conv_weight(c) for c in node.walk())


def _first_strided(block: KeyNode) -> tuple[str, ...]:
    """The convs that halve the resolution in a block that does: its first spatial conv outside
    the shortcut and (where it has one) its shortcut's first conv."""
    shortcut = next((c for n, c in block.children.items() if n in SHORTCUT_NAMES), None)
    inside = set(c.path for c in shortcut.walk()) if shortcut is not None else set()
    body = next(
        (
            c
            for c in block.walk()
            if c.path not in inside and (w := conv_weight(c)) and max(w[2:]) > 1
        ),
        None,
    )
    if body is None:
        return ()
    short = [c for c in (shortcut.walk() if shortcut else ()) if conv_weight(c)]
    return (body.path,) + ((short[0].path,) if short else ())


# The stages of the ImageNet mobile networks halve the resolution at the same places: after the
# stem's /2, the 2nd, 3rd, 4th and 6th stage (a stage: blocks of one output width), /32 in all.
# MobileNetV2 (Sandler et al. 2018, table 2), MnasNet-A1 (Tan et al. 2019, figure 7),
# EfficientNet-B0..B7 (Tan & Le 2019, table 1; depth and width scaling keep the rows),
# EfficientNetV2 (Tan & Le 2021, table 4), MobileNetV3-Large (Howard et al. 2019, table 1),
# EfficientNet-EdgeTPU (its six stages: tensorflow/tpu's efficientnet/edgetpu builder).
MOBILE_STAGE_STRIDES = (1, 2, 2, 2, 1, 2, 1)
# MobileNetV3-Small (Howard et al. 2019, table 2): its first block (squeeze-excited, no expansion)
# already halves; then the 2nd, 3rd and 5th stage.
MOBILE_SMALL_STAGE_STRIDES = (2, 2, 2, 1, 2)
STAGE_NAME = re.compile(r"(?:layer|stage|block)s?_?(\d+)", re.I)


def mobile_strides(root: KeyNode) -> dict[str, int]:
    """conv path -> stride (1 or 2) by the stage convention of the mobile ImageNet networks, for a
    body of inverted residual (or depthwise separable) blocks: the image stem halves where the
    family's code writes it as a unit of its own or as the body's first item (torchvision's
    `features[0]`, mmcv's ConvModule, MnasNet's `layers[0]`; a CIFAR port's bare `conv1` beside
    `bn1` keeps the resolution, as named_image_stem leaves it), and each stage's first block takes
    its stage's stride (MOBILE_STAGE_STRIDES). Stages are the lists of blocks where the checkpoint
    nests them (timm's `blocks[i]`, torchvision EfficientNet's `features[i]`, `layer1`...), else
    runs of blocks that keep the width a widening block starts. MobileNetV1 (no block expands into
    its depthwise conv: Howard et al. 2017, table 1) halves at every stage but the first; a
    MobileNetV3-Small opens with a squeeze-excited block that halves. Where blocks name a
    projection shortcut (kuangliu's CIFAR MobileNetV2 builds one only at stride 1 when the width
    changes), that code decides instead: a widening block without one halves. Defaults, still
    calibration choices; {} where no such body is found, or where its blocks expand but no
    family is identified (mobile_family: a MnasNet's, whose narrowed copies keep their own
    schedule; calibration searches the stage layouts there, as for any network) unless the body
    keeps all seven stages (torchvision's MnasNet at any width: its separable first stage and six
    stacks), which then keep the ImageNet schedule."""
    body = _mobile_body(root)
    if body is None:
        return {}
    stem_conv, stages = body
    if stem_conv is None:  # a conv-norm unit of its own beside the body (ProxylessNAS' first_conv)
        units = [c for n in root.walk() if _conv_bn(n) and (c := _image_conv(n)) is not None]
        stem_conv = units[0] if len(units) == 1 else None
    blocks = [b for stage in stages for b in stage]
    family = mobile_family(root)
    v3 = family is not None and family[0] == "mobilenet_v3"
    if stem_conv is None and v3:
        # Every MobileNetV3 is an ImageNet network whose stem halves (Howard et al. 2019, tables
        # 1-2), a bare `conv1` beside `bn1` too (xiaolai's port): no CIFAR port of it keeps it.
        images = {c.path: c for n in root.walk() if conv_weight(n) and (c := _image_conv(n))}
        stem_conv = next(iter(images.values())) if len(images) == 1 else None
    unscheduled = (family is None or family[0] in UNSCHEDULED) and len(stages) != len(
        MOBILE_STAGE_STRIDES
    )
    if any(_expands(b) for b in blocks) and unscheduled:
        # the stem halves still, as in every ImageNet mobile network (MnasNet's `layers[0]`)
        return {stem_conv.path: 2} if stem_conv is not None else {}
    planned = {_block_conv(b).path: 1 for b in blocks if _block_conv(b) is not None}
    if stem_conv is not None:
        planned[stem_conv.path] = 2
    if any(_projection(b) is not None for b in blocks):
        for b in blocks:
            conv = _block_conv(b)
            widens = _block_widths(b)[0] != _block_widths(b)[1]
            if conv is not None and widens and _projection(b) is None:
                planned[conv.path] = 2
        if v3 and _small_opening(blocks[0]) and _block_conv(blocks[0]) is not None:
            planned[_block_conv(blocks[0]).path] = 2  # MobileNetV3-Small's first block halves
        return planned
    if not any(_expands(b) for b in blocks):
        # MobileNetV1 (Howard et al. 2017, table 1): every stage but the first halves; a stage
        # whose first block keeps the width keeps the resolution too (the stride-1 5x5 stage of
        # PP-LCNet, Cui et al. 2021, table 1; timm's lcnet `dsa_r5_k5_s1_c256`)
        table: tuple[int, ...] = tuple(
            1 if i == 0 or (s and len(set(_block_widths(s[0]))) == 1) else 2
            for i, s in enumerate(stages)
        )
    elif stages[0] and _small_opening(stages[0][0]) and _efficientnet(blocks) is None:
        table = MOBILE_SMALL_STAGE_STRIDES
    else:
        table = MOBILE_STAGE_STRIDES
    for i, stage in enumerate(stages):
        conv = _block_conv(stage[0]) if stage else None
        if conv is not None and i < len(table):
            planned[conv.path] = table[i]
    for b in blocks:  # every kernel of a mixed depthwise conv strides as its first does
        for convs in _mixed_lists(b).values():
            if convs[0] in planned:
                planned.update(dict.fromkeys(convs[1:], planned[convs[0]]))
    return planned


# The last tree _mobile_body read and its answer: one analysis asks about its tree a dozen times
# (strides, family, skips, squeeze places, activations...), and the walk is over every node. Held
# by identity (the tree is built once and never changed after); callers only read the answer.
_LAST_BODY: list[tuple[KeyNode, tuple[KeyNode | None, list[list[KeyNode]]] | None]] = []


def _mobile_body(root: KeyNode) -> tuple[KeyNode | None, list[list[KeyNode]]] | None:
    """(the stem conv where the family's code makes it halve, the stages in order) of the largest
    body of depthwise blocks, where at least two stages and one depthwise conv are found."""
    if _LAST_BODY and _LAST_BODY[0][0] is root:
        return _LAST_BODY[0][1]
    body = _largest_mobile_body(root)
    _LAST_BODY[:] = [(root, body)]
    return body


def _largest_mobile_body(root: KeyNode) -> tuple[KeyNode | None, list[list[KeyNode]]] | None:
    best: tuple[KeyNode | None, list[list[KeyNode]]] | None = None
    for node in root.walk():
        entries: list[tuple[str, object]] = []  # ("stage", [blocks]) or ("block", block)
        items = _items(node)
        stem = None
        if items:
            for item in items:
                inner = _items(item)
                if inner and all(_is_block(i) for i in inner):
                    entries.append(("stage", inner))
                elif _image_conv(item) is not None and not entries and stem is None:
                    stem = _image_conv(item)
                elif _is_block(item) or _bare_depthwise(item):
                    entries.append(("block", item))
        else:
            named = sorted(
                (int(m.group(1)), child)
                for name, child in node.children.items()
                if (m := STAGE_NAME.fullmatch(name))
                and (inner := _listed(child))
                and all(_is_block(i) for i in inner)
            )
            entries = [("stage", _listed(child)) for _, child in named]
            stems = [c for c in node.children.values() if _image_conv(c) is not None]
            if entries and len(stems) == 1 and _conv_bn(stems[0]) is not None:
                stem = _image_conv(stems[0])  # a conv-norm unit of its own (mmcv's ConvModule)
        stages = _stages(entries)
        blocks = [b for s in stages for b in s]
        if all(kind == "block" for kind, _ in entries):
            stages = _mobilenet_v2_rows(blocks) or stages
        if not _mobile_stages(stages):
            continue
        if best is None or len(blocks) > sum(map(len, best[1])):
            best = (stem, stages)
    return best


def _mobilenet_v2_rows(blocks: list[KeyNode]) -> list[list[KeyNode]] | None:
    """MobileNetV2's rows (Sandler et al. 2018, table 2: 1, 2, 3, 4, 3, 3, 1 blocks) where a flat
    list of 3x3 blocks without squeeze-excitation is as long (with or without the first row):
    at a width multiplier two rows may share a width (0.5: 24 and 32 both round to 16), which
    the width runs of _stages cannot split."""
    counts = [n for n, _ in MOBILENET_V2_STAGES]
    rows: list[list[KeyNode]] = []
    if len(blocks) == sum(counts) - 1:  # the first row held elsewhere (Hugging Face's)
        counts, rows = counts[1:], [[]]
    if len(blocks) != sum(counts) or any(_squeeze_excited(b) for b in blocks):
        return None
    if any((d := _depthwise(b)) is None or conv_weight(d)[2:] != (3, 3) for b in blocks):
        return None
    start = 0
    for n in counts:
        rows.append(blocks[start : start + n])
        start += n
    return rows


def _mobile_stages(stages: list[list[KeyNode]]) -> bool:
    """Stages as a mobile network has them: two to seven (the tables above), one of them holding
    several blocks (ReXNet widens at every block: no stage shows), and blocks that are inverted
    residuals (one at least expanding into its depthwise conv, none narrower there than at its
    ends: a ResNeXt bottleneck with one channel per group is narrowest in the middle) or all
    MobileNetV1's separable pairs (a depthwise kxk and a 1x1, nothing else)."""
    blocks = [b for s in stages for b in s]
    if not 2 <= len(stages) <= len(MOBILE_STAGE_STRIDES) or max(map(len, stages)) < 2:
        return False
    if not any(_depthwise(b) for b in blocks):
        return False
    if any(_expands(b) for b in blocks):
        return all(_inverted(b) for b in blocks)
    return all(_separable_pair(b) for b in blocks)


def _inverted(block: KeyNode) -> bool:
    """The striding conv at least as wide as the block's input and output (Sandler et al. 2018)."""
    conv = _block_conv(block)
    width_in, width_out = _block_widths(block)
    return conv is not None and conv_weight(conv)[0] >= max(width_in, width_out)


def _separable_pair(block: KeyNode) -> bool:
    """A depthwise kxk conv and a 1x1 conv, nothing else but a squeeze-excitation of the
    depthwise output (PP-LCNet's late blocks)."""
    excite = _squeeze_pair(block)
    convs = [conv_weight(c) for c in _convs(block) if c not in excite]
    if conv_weight(block) or len(convs) != 2 or _projection(block) is not None:
        return False
    return sorted(max(w[2:]) > 1 and w[1] == 1 for w in convs) == [False, True] and any(
        w[2:] == (1, 1) for w in convs
    )


def _stages(entries: list[tuple[str, object]]) -> list[list[KeyNode]]:
    """Nested lists are stages; a run of loose blocks splits where a block changes the width."""
    stages: list[list[KeyNode]] = []
    loose = False
    for kind, value in entries:
        if kind == "stage":
            stages.append(list(value))
            loose = False
            continue
        widths = _block_widths(value)
        if not loose or widths[0] != widths[1]:
            stages.append([value])
        else:
            stages[-1].append(value)
        loose = True
    return stages


def _image_conv(node: KeyNode) -> KeyNode | None:
    """The conv reading the image (3 or 4 channels, an odd spatial kernel) of a bare conv item or a
    conv-norm unit (a gray image's [C, 1, k, k] stem would look like a depthwise conv)."""
    conv = node if conv_weight(node) else _conv_bn(node) or _unit_conv(node)
    w = conv_weight(conv) if conv is not None else None
    if w is None or w[1] not in (3, 4) or w[2] != w[3] or w[2] % 2 == 0 or w[2] == 1:
        return None
    return conv


def _unit_conv(node: KeyNode) -> KeyNode | None:
    """The conv of a Sequential conv-norm(-act) unit: items 0 (conv) and 1 (norm) only."""
    items = _items(node) if node.children else None
    if not items or len(items) != 2 or conv_weight(items[0]) is None:
        return None
    return items[0] if "running_mean" in items[1].tensors and not items[1].children else None


def _convs(block: KeyNode) -> list[KeyNode]:
    return [c for c in block.walk() if conv_weight(c)]


def _is_block(node: KeyNode) -> bool:
    """A block of a mobile body: a module (not a bare conv) whose convs include one that strides
    (a depthwise conv, or one spatial conv: a fused expansion, EfficientNetV2's first ConvBnAct),
    none reading the image."""
    convs = _convs(node)
    if conv_weight(node) or not convs or any(_image_conv(c) is not None for c in convs):
        return False
    spatial = [c for c in convs if max(conv_weight(c)[2:]) > 1]
    mixed = _mixed_lists(node)  # MixNet's kernels over split channels stride as one conv
    steps = {_owner(c.path, mixed) for c in spatial}
    return len(steps) == 1 and _block_conv(node) is not None


def _mixed_lists(node: KeyNode) -> dict[str, list[str]]:
    """list path -> its conv paths, for each numbered list of two or more depthwise convs of
    different kernels under `node` (blocks/split_concat.py: one tensor split across them)."""
    found = {}
    for n in node.walk():
        names = sorted(n.children, key=lambda x: (len(x), x))
        if len(names) < 2 or names != [str(i) for i in range(len(names))]:
            continue
        weights = [conv_weight(n.children[x]) for x in names]
        if all(w and w[1] == 1 for w in weights) and len({w[2:] for w in weights}) > 1:
            found[n.path] = [n.children[x].path for x in names]
    return found


def _owner(path: str, mixed: dict[str, list[str]]) -> str:
    return next((list_path for list_path, convs in mixed.items() if path in convs), path)


def _bare_depthwise(node: KeyNode) -> bool:
    """A depthwise conv written as an item of the body (MnasNet's separable first stage)."""
    w = conv_weight(node)
    return bool(w) and w[1] == 1 and max(w[2:]) > 1


def _block_conv(block: KeyNode) -> KeyNode | None:
    """The conv that strides in a block: its depthwise conv, else its one spatial conv."""
    if conv_weight(block):
        return block if _bare_depthwise(block) else None
    dw = _depthwise(block)
    if dw is not None:
        return dw
    spatial = [c for c in _convs(block) if max(conv_weight(c)[2:]) > 1]
    return spatial[0] if len(spatial) == 1 else None


def _reads(w: tuple[int, ...]) -> int:
    return w[0] if w[1] == 1 else w[1]  # a depthwise conv reads as many channels as it gives


def _block_widths(block: KeyNode, aside: set | None = None) -> tuple[int, int]:
    """(input, output) channels of a block, from its convs whatever their order: it reads the one
    width no conv of its own gives, and gives the one width none of its own reads (or keeps it).
    `aside`: the convs of a squeeze-excitation (else found here)."""
    if conv_weight(block):
        return conv_weight(block)[0], conv_weight(block)[0]
    shortcut = _projection(block)
    inside = {c.path for c in shortcut.walk()} if shortcut is not None else set()
    inside |= {c.path for c in (_squeeze_pair(block) if aside is None else aside)}
    weights = [conv_weight(c) for c in _convs(block) if c.path not in inside]
    weights = weights or [conv_weight(c) for c in _convs(block)]
    if not weights:
        return 0, 0
    gives, reads = {w[0] for w in weights}, {_reads(w) for w in weights}
    ins, outs = reads - gives, gives - reads
    width_in = min(ins) if ins else min(reads)
    return width_in, (min(outs) if outs else width_in)


def _expands(block: KeyNode) -> bool:
    """A 1x1 conv that widens into the block's depthwise conv (an inverted residual's)."""
    dw = _depthwise(block)
    if dw is None:  # fused (EfficientNetV2, Tan & Le 2021): the kxk conv widens
        conv = _block_conv(block) if not conv_weight(block) else None
        return conv is not None and conv_weight(conv)[0] > conv_weight(conv)[1]
    width, excite = conv_weight(dw)[0], _squeeze_pair(block)
    return any(
        (w := conv_weight(c))[0] == width and w[1] < width and w[2:] == (1, 1)
        for c in _convs(block)
        if c not in excite
    )


def _squeeze_pair(block: KeyNode) -> tuple[KeyNode, ...]:
    """(reduce, expand) of a block's squeeze-excitation: biased 1x1 convs taking the depthwise
    conv's width D down to s <= D and back (a block whose input and output widths are equal has
    its expansion and projection so too, but without biases: a norm follows each); () where there
    is none."""
    dw = _depthwise(block)
    if dw is None:
        return ()
    width = _depthwise_width(block, dw)
    pointwise = [
        (c, w) for c in _convs(block) if (w := conv_weight(c))[2:] == (1, 1) and "bias" in c.tensors
    ]
    for reduce, r in pointwise:
        if r[1] != width or r[0] > width:
            continue
        expand = [c for c, w in pointwise if w[1] == r[0] and w[0] == width and c is not reduce]
        if len(expand) == 1:
            return reduce, expand[0]
    return _held_squeeze_pair(block, dw) or _linear_squeeze_pair(block, dw)


def _depthwise_width(block: KeyNode, dw: KeyNode) -> int:
    """What a block's depthwise step gives: its conv's width, or a mixed list's together."""
    for convs in _mixed_lists(block).values():
        if dw.path in convs:
            return sum(conv_weight(c)[0] for c in block.walk() if c.path in convs)
    return conv_weight(dw)[0]


def _linear_squeeze_pair(block: KeyNode, dw: KeyNode) -> tuple[KeyNode, ...]:
    """(reduce, expand) of a squeeze-excitation of Linear layers on the pooled depthwise output
    (d-li14's EfficientNetV2 `SELayer.fc`, senet.pytorch's): a member holding exactly two 2-D
    weights, D -> s < D -> D, D the depthwise conv's width, and no conv."""
    width = conv_weight(dw)[0]
    for node in block.walk():
        if node is block or _convs(node):
            continue
        linears = [
            n for n in node.walk() if len(getattr(n.tensors.get("weight"), "shape", ())) == 2
        ]
        if len(linears) != 2:
            continue
        for reduce, expand in (linears, linears[::-1]):
            (s, w), (back, into) = _weight(reduce)[:2], _weight(expand)[:2]
            if w == width and s < w and (into, back) == (s, w):
                return reduce, expand
    return ()


def _weight(node: KeyNode) -> tuple[int, ...]:
    """The shape of a squeeze-excitation layer's weight: [out, in] or [out, in, 1, 1]."""
    return tuple(node.tensors["weight"].shape)


def _held_squeeze_pair(block: KeyNode, dw: KeyNode) -> tuple[KeyNode, ...]:
    """(reduce, expand) of a squeeze-excitation held in a member of its own, its two 1x1 convs
    the member's only convs and normed or not (xiaolai's MobileNetV3 port: `se = SeModule`, conv,
    BatchNorm2d, ... conv, BatchNorm2d, after the projection): W -> s < W -> W, W the depthwise
    width or the block's output (read from the block's other convs)."""
    for node in block.walk():
        convs = _convs(node)
        if node is block or node is dw or len(convs) != 2 or convs[0] is node:
            continue
        if any(conv_weight(c)[2:] != (1, 1) for c in convs):
            continue
        widths = {conv_weight(dw)[0], _block_widths(block, aside=set(convs))[1]}
        for reduce, expand in (convs, convs[::-1]):
            (s, w), (back, into) = conv_weight(reduce)[:2], conv_weight(expand)[:2]
            if w in widths and s < w and (into, back) == (s, w):
                return reduce, expand
    return ()


def _squeeze_excited(block: KeyNode) -> bool:
    return bool(_squeeze_pair(block))


def _projection(block: KeyNode) -> KeyNode | None:
    """A shortcut member holding a conv: a projection."""
    found = next((c for n, c in block.children.items() if n in SHORTCUT_NAMES), None)
    return found if found is not None and _convs(found) else None


# The last tree mobile_family read and its answer (as _LAST_BODY: asked by the strides, the
# activations and the squeeze-excitations of one analysis, each time over every block).
_LAST_FAMILY: list[tuple[KeyNode, tuple[str, str] | None]] = []


def mobile_family(root: KeyNode) -> tuple[str, str] | None:
    """The family _mobile_family reads (below), once per tree."""
    if _LAST_FAMILY and _LAST_FAMILY[0][0] is root:
        return _LAST_FAMILY[0][1]
    family = _mobile_family(root)
    _LAST_FAMILY[:] = [(root, family)]
    return family


def _mobile_family(root: KeyNode) -> tuple[str, str] | None:
    """(family, why) of a mobile body whose structure identifies its family's code, which fixes
    the activation (patterns/_activations.py's FAMILY_ACTIVATIONS) and more no key records:
    - "efficientnet": every squeeze-excitation reduces to a quarter of its block's INPUT width (the
      se_ratio 0.25 of Tan & Le 2019, as torchvision, timm, lukemelas' and kuangliu's ports build
      it); SiLU (swish) throughout;
    - "mobilenet_v2": blocks that expand, none squeeze-excited, every depthwise kernel 3x3 (Sandler
      et al. 2018, table 2); ReLU6 throughout;
    - "projected_mobilenet_v2": such blocks, some naming a projection shortcut (kuangliu's CIFAR
      port projects the input where a stride-1 block widens); ReLU throughout.
    - "mobilenet_v3": squeeze-excitations that are not a quarter of the block's input (Howard et
      al. 2019 reduce the EXPANDED width): its stage strides, but no one activation (ReLU in the
      first stages, hard-swish after: mobilenet_v3_relu_blocks);
    - "mixnet": a block's depthwise conv split into kernels of several sizes (MixConv, Tan & Le
      2019; layers/conv_groups.py's split_lists): ReLU, swish in its squeeze-excited blocks
      (mixnet_swish_blocks);
    - "efficientnet_edgetpu": fused blocks (a full conv that expands) beside depthwise ones, none
      squeeze-excited (EDGETPU); ReLU, the stage strides, its first block without a skip;
    - "mnasnet", "proxyless_nas" or "inverted_residual" for other bodies of blocks that expand
      (_inverted_body: their depthwise kernels tell the searched networks);
    - "pp_lcnet" where no block expands but some are squeeze-excited (PP-LCNet, Cui et al. 2021:
      MobileNetV1's separable blocks, hard-swish, SE modules in the last ones); None where no
      block expands and none is excited (MobileNetV1)."""
    body = _mobile_body(root)
    if body is None:
        return None
    blocks = [b for stage in body[1] for b in stage]
    excited = [b for b in blocks if _squeeze_excited(b)]
    if excited and not any(_expands(b) for b in blocks):
        return "pp_lcnet", PP_LCNET
    if any(_mixed_kernels(b) for b in blocks):
        return "mixnet", MIXNET_WHY
    found = _efficientnet(blocks)
    if found is not None:
        return found
    if excited and any(_expands(b) for b in blocks):
        why = "MobileNetV3: squeeze-excitations that reduce the expanded width, not the input"
        return "mobilenet_v3", why
    dws = [conv_weight(d) for b in blocks if (d := _depthwise(b)) is not None]
    if not dws:
        return _inverted_body(blocks)
    if any(_projection(b) is not None for b in blocks) and any(_expands(b) for b in blocks):
        why = "a MobileNetV2 whose blocks project the input where a stride-1 block widens"
        return "projected_mobilenet_v2", why
    if not excited and any(_fused(b) for b in blocks):
        return "efficientnet_edgetpu", EDGETPU
    if all(w[2:] == (3, 3) for w in dws) and any(_expands(b) for b in blocks):
        return "mobilenet_v2", "MobileNetV2: 3x3 inverted residuals, no squeeze-excitation"
    return _inverted_body(blocks)


def _fused(block: KeyNode) -> bool:
    """A fused MBConv: two convs, an odd kxk one expanding, then a 1x1 narrowing back (a
    ConvNeXt downsampler's lone 2x2 conv widens, and is no such block)."""
    convs = [conv_weight(c) for c in _convs(block)]
    if conv_weight(block) or _depthwise(block) is not None or len(convs) != 2:
        return False
    full = [w for w in convs if w[2:] != (1, 1)]
    project = [w for w in convs if w[2:] == (1, 1)]
    if len(full) != 1 or len(project) != 1:
        return False
    (f,), (p,) = full, project
    return f[2] == f[3] and f[2] % 2 == 1 and f[0] > f[1] and p[1] == f[0] and p[0] < p[1]


# Fused blocks (one full kxk conv expanding, then the 1x1 projection) before depthwise inverted
# residuals, none squeeze-excited: EfficientNet-EdgeTPU (Gupta & Tan 2019; tensorflow/tpu's
# efficientnet/edgetpu builder, timm's efficientnet_es/em/el), ReLU throughout. EfficientNetV2's
# fused stages come with squeeze-excited MBConv ones (its family is "efficientnet"); MnasNet,
# ProxylessNAS and MobileNetV2 build no fused block.
EDGETPU = (
    "EfficientNet-EdgeTPU: fused blocks, a full conv expanding, before inverted residuals "
    "without squeeze-excitation"
)


PP_LCNET = (
    "PP-LCNet: separable blocks that never expand, squeeze-excited late (Cui et al. 2021; "
    "PaddleClas' and timm's lcnet): hard-swish, its squeeze-excitations ReLU and a hard sigmoid"
)


# Bodies of inverted residuals whose stage strides no convention fixes (their narrowed copies keep
# their own schedule: calibration searches the stage layouts), though their activation may be;
# a body that keeps all seven stages of the ImageNet networks keeps their schedule (mobile_strides).
UNSCHEDULED = ("inverted_residual", "mnasnet")


def _inverted_body(blocks: list[KeyNode]) -> tuple[str, str] | None:
    """(family, why) where blocks expand into their depthwise convs, without squeeze-excitation
    and not all 3x3 (not MobileNetV2): a searched network on MobileNetV2's blocks. With 5x5 but no
    7x7 depthwise kernels, the expansion ratios tell two codes apart: every block expanding 6x
    "efficientnet_lite" (EfficientNet-B0's body, whose ratios are all 6, with its squeeze-
    excitations removed and swish replaced by ReLU6: tensorflow/tpu's efficientnet/lite README,
    timm's efficientnet_lite*), other ratios (MnasNet-B1's and FBNet's searched 3x, 1x) "mnasnet"
    (Tan et al. 2019, figure 7: ReLU); with 7x7 ones "proxyless_nas" (Cai et al. 2019 search
    kernels {3, 5, 7} on MobileNetV2's blocks, its stage strides and ReLU6);
    else "inverted_residual": the blocks are inverted residuals still. None where none expands."""
    expanding = [b for b in blocks if _expands(b)]
    if not expanding:
        return None
    kernels = {conv_weight(d)[2] for b in blocks if (d := _depthwise(b)) is not None}
    excited = any(_squeeze_excited(b) for b in blocks)
    if not excited and 7 in kernels:
        return "proxyless_nas", "ProxylessNAS: inverted residuals with 7x7 depthwise kernels"
    if not excited and 5 in kernels and {_expansion(b) for b in expanding} == {6}:
        why = "EfficientNet-Lite: inverted residuals expanding 6x, 5x5 kernels, no SE"
        return "efficientnet_lite", why
    if not excited and 5 in kernels:
        return "mnasnet", "MnasNet-B1: inverted residuals with 5x5 depthwise kernels, no SE"
    return "inverted_residual", "the network's blocks expand into their depthwise convs"


def _expansion(block: KeyNode) -> float | None:
    """How many times an expanding block widens its input into its depthwise conv."""
    dw, width_in = _depthwise(block), _block_widths(block)[0]
    return conv_weight(dw)[0] / width_in if dw is not None and width_in else None


def _efficientnet(blocks: list[KeyNode]) -> tuple[str, str] | None:
    """("efficientnet", why) where blocks are squeeze-excited and every squeeze-excitation reduces
    to a quarter of its block's input width: EfficientNet's se_ratio, of the input, not the
    expansion."""
    excited = [b for b in blocks if _squeeze_excited(b)]
    if excited and all(_squeeze_width(b) in _quarters(_block_widths(b)[0]) for b in excited):
        why = "EfficientNet: each squeeze-excitation reduces to a quarter of its block's input"
        return "efficientnet", why
    # Another se_ratio (HF's squeeze_expansion_ratio): every squeeze-excitation one fraction of
    # its block's input, while no quarter of the expanded width (MobileNetV3's reading, rounded
    # as its ports round it) gives them all. The fraction must reduce: a squeeze-excitation as
    # wide as its block's input is MobileNetV3's floor of 8 channels on a narrow block, no ratio.
    if len(excited) < 2:
        return None
    ratio = _squeeze_width(excited[0]) / _block_widths(excited[0])[0]
    if not 0 < ratio < 1 or all(
        _squeeze_width(b) in _expanded_quarters(_weight(_squeeze_pair(b)[1])[0]) for b in excited
    ):
        return None
    if all(_squeeze_width(b) in _fraction(_block_widths(b)[0], ratio) for b in excited):
        why = f"EfficientNet: each squeeze-excitation reduces its block's input by {ratio:g}"
        return "efficientnet", why
    return None


def _small_opening(block: KeyNode) -> bool:
    """MobileNetV3-Small's first block: squeeze-excited, no expansion (Large's first has none)."""
    return _squeeze_excited(block) and not _expands(block)


def _quarters(width: int) -> set[int]:
    """A quarter of a width, as the EfficientNet ports round it (int, round; at least 1)."""
    return _fraction(width, 0.25)


def _expanded_quarters(width: int) -> set[int]:
    """A quarter of an expanded width, as the MobileNetV3 ports round it: plainly, to a multiple
    of 8 (torchvision's and timm's `_make_divisible(width // 4, 8)`, never below 8 nor 10% under
    the quarter), or lifted to a floor of 8 channels."""
    quarter = width // 4
    divisible = max(8, (quarter + 4) // 8 * 8)
    if divisible < 0.9 * quarter:
        divisible += 8
    return _quarters(width) | {divisible, max(8, quarter)}


def _fraction(width: int, ratio: float) -> set[int]:
    """`ratio` of a width, as the EfficientNet ports round it (int, round; at least 1)."""
    return {max(1, int(width * ratio)), max(1, round(width * ratio))}


def _squeeze_width(block: KeyNode) -> int | None:
    """The width a block's squeeze-excitation reduces to."""
    pair = _squeeze_pair(block)
    return _weight(pair[0])[0] if pair else None


def mobile_skips(root: KeyNode) -> tuple[frozenset[str], str] | None:
    """(the blocks, why) of a mobile body that are one conv-norm unit keeping its width at stride
    1, where the other blocks are inverted residuals: EfficientNetV2's first stage (Tan & Le 2021,
    table 4: a fused stage at expansion 1, built as timm's ConvBnAct with its skip), which adds
    its input back as the inverted residuals do. None where there are none."""
    body = _mobile_body(root)
    if body is None:
        return None
    strides = mobile_strides(root)
    blocks = [b for stage in body[1] for b in stage]
    found = frozenset(
        b.path
        for b in blocks
        if len(_convs(b)) == 1
        and (conv := _block_conv(b)) is not None
        and _depthwise(b) is None
        and strides.get(conv.path) == 1
        and len(set(conv_weight(conv)[:2])) == 1
    )
    if not found or not any(_expands(b) for b in blocks):
        return None
    return found, "EfficientNetV2: a stride-1 conv block of the body adds its input (timm's skip)"


def mobile_noskip_blocks(root: KeyNode) -> tuple[frozenset[str], str] | None:
    """(the blocks, why) a mobile family's code builds without a skip whatever their shape, where
    one keeps its width at stride 1 (a narrowed copy): EfficientNet-EdgeTPU's first block, which
    tensorflow/tpu's edgetpu builder and timm's arch_def mark `noskip`. Such blocks keep a class
    of their own (the same keys as the family's later fused blocks, which add their input). None
    elsewhere, and where the first block's shape leaves no skip to take anyway."""
    family = mobile_family(root)
    body = _mobile_body(root)
    if family is None or family[0] != "efficientnet_edgetpu" or body is None:
        return None
    first = next(b for stage in body[1] for b in stage)
    conv = _block_conv(first)
    width_in, width_out = _block_widths(first)
    if conv is None or mobile_strides(root).get(conv.path) != 1 or width_in != width_out:
        return None
    why = "EfficientNet-EdgeTPU's first block adds no input (its builder's `noskip`)"
    return frozenset({first.path}), why


def squeeze_place(root: KeyNode) -> tuple[str, str] | None:
    """Where a mobile body's squeeze-excitations sit, ("after" or "before" the projection, why),
    where every block whose widths tell the place (the gate's width is the block's output, or its
    depthwise width) agrees: xiaolai's MobileNetV3 port applies `se` after bn3, torchvision's and
    timm's before the projection. Blocks where both widths are equal then follow the network's
    code. None where none tells, or they disagree."""
    body = _mobile_body(root)
    if body is None:
        return None
    places = set()
    for block in (b for stage in body[1] for b in stage):
        pair, dw = _squeeze_pair(block), _depthwise(block)
        if not pair or dw is None:
            continue
        width, inner, out = _weight(pair[0])[1], conv_weight(dw)[0], _block_widths(block)[1]
        if inner != out:
            places.add("after" if width == out else "before")
    if len(places) != 1:
        return None
    place = places.pop()
    rescaled = "their projection's" if place == "after" else "their depthwise conv's"
    return place, f"the network's other squeeze-excitations rescale {rescaled} output"


def separable_lists(root: KeyNode) -> set[str]:
    """The blocks of a MobileNetV1 body (no block expands into its depthwise conv) written as one
    Sequential `[depthwise conv, norm, act, 1x1 conv, norm, act]`: the keys end at the last norm,
    and the paper's layer (Howard et al. 2017, figure 3) activates after it too."""
    body = _mobile_body(root)
    if body is None:
        return set()
    blocks = [b for stage in body[1] for b in stage]
    if any(_expands(b) for b in blocks) or any(_projection(b) is not None for b in blocks):
        return set()
    found = set()
    for b in blocks:
        items = _items(b)
        if items and len(_convs(b)) == 2 and "running_mean" in items[-1].tensors:
            found.add(b.path)
    return found


# MobileNetV3 (Howard et al. 2019, tables 1 and 2; section 5.2: "we only use h-swish at the
# second half of the model"): ReLU in the blocks before the resolution reaches 1/16, hard-swish
# from the block that takes it there on (Large: from its 80-channel stage; Small: from its first
# 5x5 stage), and in the stem and the head.
V3_HARD_SWISH_FROM = 16


def mobilenet_v3_relu_blocks(root: KeyNode) -> tuple[frozenset[str], str] | None:
    """(the blocks that activate with ReLU, why) of a MobileNetV3 body (mobile_family): those
    whose output is still above 1/V3_HARD_SWISH_FROM of the image by the planned strides (the stem
    halves: every MobileNetV3's does); the rest of the network uses hard-swish. None for other
    families. A default from the paper's tables, each class's activation still a choice."""
    family = mobile_family(root)
    body = _mobile_body(root)
    if family is None or family[0] != "mobilenet_v3" or body is None:
        return None
    strides = mobile_strides(root)
    blocks = [b for stage in body[1] for b in stage]
    reduction, early, halving = 2, set(), []
    for block in blocks:
        conv = _block_conv(block)
        stride = strides.get(conv.path, 1) if conv is not None else 1
        reduction *= stride
        if reduction < V3_HARD_SWISH_FROM:
            early.add(block.path)
        if stride > 1:
            halving.append(block)
    why = (
        "MobileNetV3: ReLU before the resolution reaches 1/16, hard-swish from there on and in "
        "the stem and head (Howard et al. 2019, tables 1-2)"
    )
    if reduction < V3_HARD_SWISH_FROM and halving:
        # A shortened copy never reaches 1/16; the paper's last stages are hard-swish in both
        # Large and Small and its first ReLU: hard-swish from the block that last halves.
        early = {b.path for b in blocks[: blocks.index(halving[-1])]}
        why = (
            "MobileNetV3, shortened (it never reaches 1/16): ReLU in its first blocks, hard-swish "
            "from the one that last halves, as the paper's last stages (Howard et al. 2019)"
        )
    return frozenset(early), why


MIXNET_WHY = (
    "MixNet: depthwise kernels of several sizes over split channels (Tan & Le 2019): ReLU, and "
    "swish in the squeeze-excited blocks (the arch_def's `_nsw` rows in timm and the TF code)"
)


def _mixed_kernels(block: KeyNode) -> bool:
    """A numbered list of two or more depthwise convs of different kernels in the block."""
    return bool(_mixed_lists(block))


def mixnet_swish_blocks(root: KeyNode) -> tuple[frozenset[str], str] | None:
    """(the blocks that activate with swish, why) of a MixNet body: its squeeze-excited ones
    (every row of mixnet_s/m with `se` also has `nsw`); ReLU in the rest, the stem and the head.
    A default from the family's code, each class's activation still a choice."""
    family = mobile_family(root)
    body = _mobile_body(root)
    if family is None or family[0] != "mixnet" or body is None:
        return None
    blocks = [b for stage in body[1] for b in stage]
    return frozenset(b.path for b in blocks if _squeeze_excited(b)), MIXNET_WHY


# torchvision's MobileNetV3 builds its norms as partial(nn.BatchNorm2d, eps=0.001, momentum=0.01)
# (models/mobilenetv3.py); timm's and gen-efficientnet's keep torch's 1e-5.
TORCHVISION_V3_EPS = 1e-3
# torchvision's efficientnet_v2_s/m/l: norm_layer=partial(nn.BatchNorm2d, eps=1e-03).
TORCHVISION_V2_EPS = 1e-3


def mobile_batch_norm_eps(root: KeyNode) -> tuple[float, str] | None:
    """(eps, why) of every batch norm where a MobileNetV3 or EfficientNetV2 body is torchvision's:
    each block's depthwise conv (its striding conv) is item 0 of a conv-norm unit (its
    Conv2dNormActivation) inside the block.
    A flat Sequential (d-li14's port: conv, bn, act, ... in one list) or named members (timm)
    are not. None elsewhere."""
    family = mobile_family(root)
    body = _mobile_body(root)
    if family is None or body is None:
        return None
    blocks = [b for stage in body[1] for b in stage]
    fused = [b for b in blocks if _depthwise(b) is None]
    if family[0] == "efficientnet" and fused:
        # EfficientNetV2: fused blocks (no depthwise conv) before the MBConv ones. Each block's
        # striding conv the first item of a conv-norm unit is torchvision's layout, whose V2
        # builders pass partial(nn.BatchNorm2d, eps=1e-03) (its V1 keeps torch's 1e-5; timm's
        # named members keep 1e-5 too, but for its TF ports, which the keys cannot tell).
        if any(all(_unit_conv(n) is not _block_conv(b) for n in b.walk()) for b in blocks):
            return None
        why = (
            "torchvision's EfficientNetV2 (fused blocks of conv-norm units): BatchNorm2d eps 0.001"
        )
        return TORCHVISION_V2_EPS, why
    if family[0] != "mobilenet_v3":
        return None
    for block in blocks:
        dw = _depthwise(block)
        if dw is None or all(_unit_conv(n) is not dw for n in block.walk()):
            return None
    why = "torchvision's MobileNetV3 (conv-norm units in each block): BatchNorm2d eps 0.001"
    return TORCHVISION_V3_EPS, why


# TensorFlow's EfficientNet (tensorflow/tpu's efficientnet_model.py) normalises with eps 1e-3 and
# pads 'SAME'; lukemelas' EfficientNet-PyTorch keeps both (Conv2dStaticSamePadding,
# batch_norm_epsilon 1e-3).
TF_EFFICIENTNET_EPS = 1e-3


def tf_ported_efficientnet(root: KeyNode) -> str | None:
    """Why an EfficientNet body is a port of TensorFlow's code, whose convs pad 'SAME' (more after
    than before where they stride) and whose norms use eps 1e-3: its squeeze-excitation's two
    convs are members of the block itself (lukemelas' MBConvBlock: `_se_reduce`, `_se_expand`,
    as TensorFlow's MBConvBlock holds them), where torchvision, timm, Hugging Face and kuangliu
    hold them in a module of their own (and pad half the kernel). None elsewhere."""
    family = mobile_family(root)
    body = _mobile_body(root)
    if family is None or family[0] != "efficientnet" or body is None:
        return None
    excited = [b for stage in body[1] for b in stage if _squeeze_excited(b)]
    inline = all(p.path.rsplit(".", 1)[0] == b.path for b in excited for p in _squeeze_pair(b))
    if not excited or not inline:
        return None
    return (
        "a port of TensorFlow's EfficientNet (squeeze-excitation convs members of each block, "
        "as lukemelas' EfficientNet-PyTorch writes them): 'SAME' padding, BatchNorm eps 0.001"
    )


REPARAM = re.compile(r"reparam", re.I)  # RepVGG's `rbr_reparam`, timm's `reparam_conv`


def reparam_conv(node: KeyNode) -> KeyNode | None:
    """The one conv of a re-parameterised block in its deploy form (RepVGG, Ding et al. 2021: the
    training branches fused into one biased 3x3 conv, named for it: DingXiaoH's `rbr_reparam`,
    timm's `reparam_conv`), or None."""
    if node.tensors or len(node.children) != 1:
        return None
    name, conv = next(iter(node.children.items()))
    w = conv_weight(conv)
    if not REPARAM.search(name) or w is None or w[2:] != (3, 3) or "bias" not in conv.tensors:
        return None
    return conv if not conv.children else None


def reparam_stage_entries(root: KeyNode) -> set[str]:
    """The convs of the blocks that open each stage of a deployed RepVGG body: a node holding two or
    more stages (a lone block, or a list of blocks, or a list of such lists as timm's `stages`),
    every block a re-parameterised conv (reparam_conv). RepVGG halves the resolution in the first
    layer of every stage, the lone first one included (Ding et al. 2021, table 2; timm's byobnet
    repvgg configs too). A structural default, still a calibration choice."""
    found: set[str] = set()
    for node in root.walk():
        entries = []
        listed = _items(node)
        if listed and all(reparam_conv(i) is not None for i in listed):
            continue  # one stage's list of blocks, not a body of stages
        for child in node.children.values():
            if reparam_conv(child) is not None:
                entries.append([child])
                continue
            items = _items(child)
            if items and all(reparam_conv(i) is not None for i in items):
                entries.append(items)
            elif items and all((_items(i) or [None])[0] is not None for i in items):
                lists = [_items(i) for i in items]
                if all(reparam_conv(b) is not None for b in sum(lists, [])):
                    entries += lists
        if len(entries) >= 2:
            found |= {reparam_conv(stage[0]).path for stage in entries}
    return found
