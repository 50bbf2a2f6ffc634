"""Image operations between conv layers: TensorFlow's 'SAME' padding, padding or cropping a
map to another's size, pooling to a size, residual additions that only apply where shapes (or the
first channels) agree, zero-padded shortcuts, a square map's tokens subsampled,
weight-standardised convolution, a latent vector as a map, a deep layer aggregation tree's root
input, and patch tokens back to an image.
"""

from __future__ import annotations

# What these helpers' own text uses beyond torch (codegen/render/helpers/__init__.py).
HELPER_IMPORTS: dict[str, tuple[str, ...]] = {
    "pad_same": ("F",),
    "pad_same_even": ("F",),
    "pad_to_like": ("F",),
    "center_crop_like": (),
    "zero_padded_shortcut": ("F",),
    "avg_pool_to": ("F",),
    "pool_up_to": ("F",),
    "tree_root_input": (),
    "weight_standardized_conv2d": ("F",),
    "latent_as_map": (),
    "simam": (),
    "spatial_group_enhance": (),
    "subsample_tokens": ("math",),
}
HELPERS: dict[str, str] = {
    "unpatchify": '''
def unpatchify(x: torch.Tensor, height: int, width: int, patch: int) -> torch.Tensor:
    """[batch, height * width, patch * patch * channels] patch tokens, row by row -> the image
    [batch, channels, height * patch, width * patch]."""
    x = x.reshape(x.size(0), height, width, patch, patch, -1)
    x = torch.einsum("nhwpqc->nchpwq", x)
    return x.reshape(x.size(0), x.size(1), height * patch, width * patch)
''',
    "pad_same": '''
def pad_same(
    x: torch.Tensor, kernel: tuple[int, int], stride: tuple[int, int], dilation: tuple[int, int]
) -> torch.Tensor:
    """TensorFlow's 'SAME' padding, computed from this input's size: a strided conv then gives
    ceil(size / stride) positions, and an odd pixel of padding goes after (right, bottom)."""
    pads: list[int] = []
    for i in (1, 0):  # F.pad takes the last dimension (the width) first
        size = x.shape[i - 2]
        total = max(kernel[i] - (stride[i] if size % stride[i] == 0 else size % stride[i]), 0)
        pads.extend([total // 2 * dilation[i], (total - total // 2) * dilation[i]])
    return F.pad(x, pads)
''',
    "pad_same_even": '''
def pad_same_even(x: torch.Tensor, kernel: tuple[int, int]) -> torch.Tensor:
    """Keras' fixed padding before a strided conv (`correct_pad`): TensorFlow's 'SAME' padding as
    an even-sized input gets it, one pixel more after (right, bottom) than before."""
    return F.pad(x, [kernel[1] // 2 - 1, kernel[1] // 2, kernel[0] // 2 - 1, kernel[0] // 2])
''',
    "pad_to_like": '''
def pad_to_like(x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """`x` zero-padded to `like`'s height and width, the difference split evenly (the extra
    pixel after): a U-Net's upsampled map meeting its skip where an odd size was halved."""
    dy, dx = like.shape[2] - x.shape[2], like.shape[3] - x.shape[3]
    return F.pad(x, [dx // 2, dx - dx // 2, dy // 2, dy - dy // 2])
''',
    "center_crop_like": '''
def center_crop_like(x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """`x` cropped about its centre to `like`'s height and width: an unpadded U-Net's skip (its
    3x3 convs lose a border pixel each) meeting the smaller upsampled map (Ronneberger et al.)."""
    dy, dx = (x.shape[2] - like.shape[2]) // 2, (x.shape[3] - like.shape[3]) // 2
    return x[:, :, dy : dy + like.shape[2], dx : dx + like.shape[3]]
''',
    "crop_like": '''
def crop_like(x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """`x` cropped to `like`'s height and width (top left kept): the padding taken off again."""
    return x[:, :, : like.shape[2], : like.shape[3]]
''',
    "avg_pool_to": '''
def avg_pool_to(x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """timm's DownsampleAvg: where a block halves the resolution, a 2x2 average of its shortcut
    (ceil mode, the padding not counted) down to the size of `like`; elsewhere x unchanged."""
    if x.shape[-2:] == like.shape[-2:]:
        return x
    stride = (x.size(-1) + like.size(-1) - 1) // like.size(-1)
    return F.avg_pool2d(x, 2, stride, 0, True, False)
''',
    "pool_up_to": '''
def pool_up_to(x: torch.Tensor, size: int) -> torch.Tensor:
    """A map smaller than `size` on a side average-pooled up to it (timm's ConvMlp pre-logits: a
    conv whose kernel covers the map needs at least its size); larger maps unchanged."""
    if x.shape[-2] >= size and x.shape[-1] >= size:
        return x
    return F.adaptive_avg_pool2d(x, (max(size, x.shape[-2]), max(size, x.shape[-1])))
''',
    "add_if_same_shape": '''
def add_if_same_shape(x: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """A residual where the shapes allow it: blocks of one class that keep the width and the
    resolution add their input back; those that widen or downsample do not."""
    return x + out if x.shape == out.shape else out
''',
    "add_to_first_channels": '''
def add_to_first_channels(x: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """A residual that widens (ReXNet, PyramidNet): where a block keeps the resolution and gives
    at least as many channels as it reads, its input is added to the first of them; the new
    channels have no input to add. Elsewhere (it downsamples or narrows) out unchanged."""
    if x.shape[2:] != out.shape[2:] or x.size(1) > out.size(1):
        return out
    kept = x.size(1)
    return torch.cat([out[:, :kept] + x, out[:, kept:]], 1)
''',
    "weight_standardized_conv2d": '''
def weight_standardized_conv2d(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None,
    stride: tuple[int, int],
    padding: tuple[int, int],
    eps: float,
) -> torch.Tensor:
    """A conv whose filters are standardised when called (Qiao et al. 2019; Big Transfer's
    StdConv2d): each shifted to zero mean and scaled to unit variance."""
    var, mean = torch.var_mean(weight, dim=[1, 2, 3], keepdim=True, unbiased=False)
    return F.conv2d(x, (weight - mean) / torch.sqrt(var + eps), bias, stride, padding)
''',
    "latent_as_map": '''
def latent_as_map(x: torch.Tensor) -> torch.Tensor:
    """A flat latent [batch, channels] as the 1x1 map [batch, channels, 1, 1] a generator's first
    transposed conv reads; a map passes unchanged."""
    return x.view(x.size(0), x.size(1), 1, 1) if x.dim() == 2 else x
''',
    "simam": '''
def simam(x: torch.Tensor, e_lambda: float) -> torch.Tensor:
    """SimAM (Yang et al. 2021), an attention without parameters: each position weighted by the
    sigmoid of its energy, its squared distance from its channel's mean over the map's variance."""
    n = x.size(2) * x.size(3) - 1
    d = (x - x.mean(dim=[2, 3], keepdim=True)).pow(2)
    y = d / (4 * (d.sum(dim=[2, 3], keepdim=True) / n + e_lambda)) + 0.5
    return x * torch.sigmoid(y)
''',
    "spatial_group_enhance": '''
def spatial_group_enhance(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor
) -> torch.Tensor:
    """Spatial group-wise enhance (Li et al. 2019): the channels in weight.size(1) groups; each
    position's agreement with its group's mean feature, standardised over the map, scaled and
    shifted per group, gates the group's features through a sigmoid."""
    b, c, h, w = x.size(0), x.size(1), x.size(2), x.size(3)
    groups = weight.size(1)
    x = x.reshape(b * groups, c // groups, h, w)
    t = (x * x.mean(dim=[2, 3], keepdim=True)).sum(dim=1).reshape(b * groups, h * w)
    t = t - t.mean(dim=1, keepdim=True)
    t = t / (t.std(dim=1, keepdim=True) + 1e-5)
    t = t.reshape(b, groups, h, w) * weight + bias
    x = x * torch.sigmoid(t.reshape(b * groups, 1, h, w))
    return x.reshape(b, c, h, w)
''',
    "subsample_tokens": '''
def subsample_tokens(x: torch.Tensor, stride: int) -> torch.Tensor:
    """Every stride-th token both ways of a square map's tokens x [batch, side * side, C]
    (LeViT's Subsample): [batch, ceil(side / stride) ** 2, C]."""
    side = int(math.sqrt(x.size(1)) + 0.5)
    x = x.view(x.size(0), side, side, x.size(2))[:, ::stride, ::stride]
    return x.reshape(x.size(0), -1, x.size(3))
''',
    "zero_padded_shortcut": '''
def zero_padded_shortcut(x: torch.Tensor, out: torch.Tensor, both_sides: bool) -> torch.Tensor:
    """He et al. 2016's "option A" shortcut: the input subsampled to the output's resolution
    (every step-th pixel), its missing channels zeros, on both sides of the input's channels or
    after them."""
    step_h = (x.size(-2) + out.size(-2) - 1) // out.size(-2)
    step_w = (x.size(-1) + out.size(-1) - 1) // out.size(-1)
    x = x[:, :, ::step_h, ::step_w]
    extra = out.size(1) - x.size(1)
    before = extra // 2 if both_sides else 0
    return F.pad(x, [0, 0, 0, 0, before, extra - before])
''',
    "widened_shortcut": '''
def widened_shortcut(
    x: torch.Tensor, out: torch.Tensor, pooled: bool, both_sides: bool
) -> torch.Tensor:
    """A shortcut with no projection where a block widens or halves (PyramidNet, Han et al.
    2017): the input halved where the block halves the resolution (a 2x2 average pool in ceil
    mode, or every second pixel), its missing channels zeros, after its channels or on both
    sides."""
    if x.size(-1) != out.size(-1) or x.size(-2) != out.size(-2):
        if pooled:
            x = F.avg_pool2d(x, 2, 2, ceil_mode=True)
        else:
            x = x[:, :, ::2, ::2]
    extra = out.size(1) - x.size(1)
    before = extra // 2 if both_sides else 0
    return F.pad(x, [0, 0, 0, 0, before, extra - before])
''',
    "add_to_leading_channels": '''
def add_to_leading_channels(x: torch.Tensor, out: torch.Tensor, fraction: float) -> torch.Tensor:
    """A residual where the shapes allow, on the leading channels only (MobileNeXt's identity
    tensor multiplier): the input added to the first round(channels * fraction) of them; where
    the block widens or downsamples, out unchanged."""
    if x.shape != out.shape:
        return out
    kept = int(round(x.size(1) * fraction))
    return torch.cat([x[:, :kept] + out[:, :kept], out[:, kept:]], 1)
''',
    "tree_root_input": '''
def tree_root_input(
    x2: torch.Tensor, x1: torch.Tensor, bottom: torch.Tensor, root_reads: int
) -> torch.Tensor:
    """What a deep layer aggregation tree's root reads: both blocks' outputs, and the tree's
    (pooled) input too where the root's conv is that wide (a level's root, Yu et al. 2018)."""
    if root_reads == x2.size(1) + x1.size(1):
        return torch.cat([x2, x1], 1)
    return torch.cat([x2, x1, bottom], 1)
''',
    "input_if_same_shape": '''
def input_if_same_shape(x: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """A step skipped where it keeps the shape: blocks of one class that build a 1x1 expansion
    even at expansion 1 read their input there, and expand it elsewhere."""
    return x if x.shape == out.shape else out
''',
}
