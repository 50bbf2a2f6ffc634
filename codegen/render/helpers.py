"""The module-level functions a generated forward may call (rotary, masks, windows, padding...),
printed once above the classes of a file that uses one.

Fixed text owned by modelgen: nothing from a checkpoint reaches it. Each entry's key is the name its
text defines (tests/test_graph_printer.py checks), so two helpers can never share a name.
"""

from __future__ import annotations

# What a helper's own text uses beyond torch: the file imports it too (a "helper:" entry: another
# helper it calls, printed beside it).
HELPER_IMPORTS: dict[str, tuple[str, ...]] = {
    "layer_norm_unit_offset": ("F",),
    "fairseq_positions": ("math", "F"),
    "fairseq_padded_positions": ("F", "helper:fairseq_positions", "helper:padded_positions"),
    "fairseq_decoder_inputs": (),
    "causal_token_mask": (),
    "top_k_routing": ("F",),
    "expert_routing": ("F",),
    "relative_position_bias": ("math", "F"),
    "timestep_embedding": ("math", "F"),
    "sinusoidal_position_embedding": ("math",),
    "sinusoidal_time_encoding": (),
    "pad_to_multiple": ("F",),
    "window_partition": ("F",),
    "merge_patches": ("F",),
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
    # helpers that build on the plain rotary frequencies print them too
    "llama3_frequencies": ("math", "helper:rope_frequencies"),
    "yarn_frequencies": ("math", "helper:rope_frequencies"),
    "ntk_frequencies": ("helper:rope_frequencies",),
    "longrope_frequencies": ("helper:rope_frequencies",),
    "xielu": ("F",),
    "gated_group_rms_norm": ("F",),  # patterns/blocks/multi_head_scan.py
    "gated_delta_rule": ("F",),  # lin11: patterns/blocks/gated_delta_net.py
    "differential_heads": ("math", "F"),
    "axial_rope_angles": ("math",),
    # vis11: Swin V2's cosine window attention and continuous position bias
    "log_spaced_offsets": ("math",),
    "continuous_window_bias": ("math", "helper:window_position_bias"),
    "window_band_mask": ("helper:band_mask", "helper:band_padding_mask"),  # dec11
    "band_mask": ("helper:band_padding_mask",),
    "cosine_attention": ("math", "F"),
    "disentangled_scores": ("math", "helper:log_bucket_positions"),
    # vit8: grids of patches (ViTDet, SAM): windows with padding, decomposed relative positions
    "grid_windows": ("F",),
    "relative_rows": ("F",),
    "decomposed_position_bias": ("helper:relative_rows",),
    "grid_positions": ("math", "F"),
    "nystrom_attention": ("math", "F"),  # lin9: patterns/blocks/landmark_attention.py
    "expectation_attention": ("math", "F"),  # lin9: patterns/blocks/expectation_attention.py
    "span_dynamic_conv": ("F",),  # enc9: ConvBERT's span-based dynamic convolution
    "relative_scores": ("math",),  # enc9: XLNet's relative attention
    "append_regions": ("F",),  # enc9: VisualBERT's visual tokens
    "interleaved_relative_sinusoids": ("math",),  # audio11: a Conformer's relative positions
    "channel_rms_norm": ("F",),  # diff13: patterns/blocks/channel_gain_norm.py
}
# Module-level functions a forward may call, printed once above the classes when one is used.
# Fixed text owned by modelgen: nothing from a checkpoint reaches it.
HELPERS: dict[str, str] = {
    "sincos_2d_positions": '''
def sincos_2d_positions(
    height: int, width: int, dim: int, base_size: int, scale: float, device: torch.device
) -> torch.Tensor:
    """[1, height * width, dim] fixed sine-cosine positions of a patch grid, row by row: the first
    half of the features encodes the column, the second the row, each as the sines then cosines of
    position * 10000 ** (-i / (dim / 4)). Positions count in steps of base_size / size patches
    (the grid the model was trained on spans base_size), divided by `scale`."""
    rows = torch.arange(height, dtype=torch.float32, device=device) / (height / base_size) / scale
    cols = torch.arange(width, dtype=torch.float32, device=device) / (width / base_size) / scale
    quarter = dim // 4
    omega = torch.arange(quarter, dtype=torch.float64, device=device) / (dim / 4.0)
    omega = 1.0 / torch.pow(10000.0, omega)
    col = torch.outer(cols.double(), omega)  # [width, dim / 4]
    row = torch.outer(rows.double(), omega)  # [height, dim / 4]
    col = torch.cat([torch.sin(col), torch.cos(col)], dim=1)
    row = torch.cat([torch.sin(row), torch.cos(row)], dim=1)
    grid = torch.cat(
        [col[None, :, :].expand(height, width, -1), row[:, None, :].expand(height, width, -1)], -1
    )
    return grid.reshape(1, height * width, dim).float()
''',
    "unpatchify": '''
def unpatchify(x: torch.Tensor, height: int, width: int, patch: int) -> torch.Tensor:
    """[batch, height * width, patch * patch * channels] patch tokens, row by row -> the image
    [batch, channels, height * patch, width * patch]."""
    x = x.reshape(x.size(0), height, width, patch, patch, -1)
    x = torch.einsum("nhwpqc->nchpwq", x)
    return x.reshape(x.size(0), x.size(1), height * patch, width * patch)
''',
    "modulate": '''
def modulate(x: torch.Tensor, shift: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """Adaptive layer norm's conditioning of normalised features: x * (1 + scale) + shift."""
    return x * (1 + scale) + shift
''',
    "timestep_embedding": '''
def timestep_embedding(
    timesteps: torch.Tensor, dim: int, flip_sin_to_cos: bool, freq_shift: float
) -> torch.Tensor:
    """Sinusoidal features of each sample's diffusion timestep: sin and cos of
    t * 10000 ** (-i / (dim / 2 - freq_shift)), i < dim / 2; cos first when flip_sin_to_cos."""
    half = dim // 2
    exponent = -math.log(10000.0) * torch.arange(
        0, half, dtype=torch.float32, device=timesteps.device
    )
    exponent = exponent / (half - freq_shift)
    emb = timesteps[:, None].float() * torch.exp(exponent)[None, :]
    emb = torch.cat([torch.sin(emb), torch.cos(emb)], dim=-1)
    if flip_sin_to_cos:
        emb = torch.cat([emb[:, half:], emb[:, :half]], dim=-1)
    if dim % 2 == 1:
        emb = F.pad(emb, (0, 1, 0, 0))
    return emb
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
    "apply_rotary": '''
def apply_rotary(x: torch.Tensor, theta: float, rotary_dim: int) -> torch.Tensor:
    """Rotary position embedding on the first `rotary_dim` features of each head (halves layout).

    x: [batch, heads, seq, head_dim]; position i turns feature pair (j, j + rotary_dim / 2) by
    i * theta ** (-2j / rotary_dim).
    """
    seq, device = x.size(-2), x.device
    inv_freq = 1.0 / theta ** (torch.arange(0, rotary_dim, 2, device=device).float() / rotary_dim)
    angles = torch.outer(torch.arange(seq, device=device).float(), inv_freq)
    angles = torch.cat((angles, angles), dim=-1)
    rot, rest = x[..., :rotary_dim], x[..., rotary_dim:]
    half1, half2 = rot.chunk(2, dim=-1)
    turned = torch.cat((-half2, half1), dim=-1)
    return torch.cat((rot * angles.cos() + turned * angles.sin(), rest), dim=-1)
''',
    "apply_rotary_reversed": '''
def apply_rotary_reversed(x: torch.Tensor, theta: float, rotary_dim: int) -> torch.Tensor:
    """Rotary position embedding (halves layout) turning the other way: position i turns feature
    pair (j, j + rotary_dim / 2) by -i * theta ** (-2j / rotary_dim) (NanoChat).

    x: [batch, heads, seq, head_dim].
    """
    seq, device = x.size(-2), x.device
    inv_freq = 1.0 / theta ** (torch.arange(0, rotary_dim, 2, device=device).float() / rotary_dim)
    angles = torch.outer(torch.arange(seq, device=device).float(), inv_freq)
    angles = torch.cat((angles, angles), dim=-1)
    rot, rest = x[..., :rotary_dim], x[..., rotary_dim:]
    half1, half2 = rot.chunk(2, dim=-1)
    turned = torch.cat((half2, -half1), dim=-1)
    return torch.cat((rot * angles.cos() + turned * angles.sin(), rest), dim=-1)
''',
    "apply_rotary_interleaved": '''
def apply_rotary_interleaved(x: torch.Tensor, theta: float, rotary_dim: int) -> torch.Tensor:
    """Rotary position embedding on the first `rotary_dim` features of each head (pairs layout).

    x: [batch, heads, seq, head_dim]; position i turns feature pair (2j, 2j + 1) by
    i * theta ** (-2j / rotary_dim).
    """
    seq, device = x.size(-2), x.device
    inv_freq = 1.0 / theta ** (torch.arange(0, rotary_dim, 2, device=device).float() / rotary_dim)
    angles = torch.outer(torch.arange(seq, device=device).float(), inv_freq)
    angles = angles.repeat_interleave(2, dim=-1)
    rot, rest = x[..., :rotary_dim], x[..., rotary_dim:]
    turned = torch.stack((-rot[..., 1::2], rot[..., ::2]), dim=-1).flatten(-2)
    return torch.cat((rot * angles.cos() + turned * angles.sin(), rest), dim=-1)
''',
    "rope_frequencies": '''
def rope_frequencies(theta: float, rotary_dim: int, device: torch.device) -> torch.Tensor:
    """The rotary angle per position of each feature pair: theta ** (-2j / rotary_dim)."""
    exponents = torch.arange(0, rotary_dim, 2, device=device).float() / rotary_dim
    return 1.0 / theta**exponents
''',
    "llama3_frequencies": '''
def llama3_frequencies(
    theta: float,
    rotary_dim: int,
    factor: float,
    low_freq_factor: float,
    high_freq_factor: float,
    original_context: int,
    device: torch.device,
) -> torch.Tensor:
    """LLaMA 3.1's rotary frequencies: wavelengths longer than original_context / low_freq_factor
    slowed down by `factor`, shorter than original_context / high_freq_factor kept, those between
    blended smoothly."""
    inv_freq = rope_frequencies(theta, rotary_dim, device)
    wavelength = 2 * math.pi / inv_freq
    slowed = torch.where(wavelength > original_context / low_freq_factor, inv_freq / factor, inv_freq)
    smooth = (original_context / wavelength - low_freq_factor) / (high_freq_factor - low_freq_factor)
    blended = (1 - smooth) * slowed / factor + smooth * slowed
    medium = (wavelength >= original_context / high_freq_factor) & (
        wavelength <= original_context / low_freq_factor
    )
    return torch.where(medium, blended, slowed)
''',
    "yarn_frequencies": '''
def yarn_frequencies(
    theta: float,
    rotary_dim: int,
    factor: float,
    beta_fast: float,
    beta_slow: float,
    original_context: int,
    truncate: bool,
    device: torch.device,
) -> torch.Tensor:
    """YaRN's rotary frequencies: pairs that turn fewer than beta_slow times over the original
    context are interpolated (divided by `factor`), those that turn more than beta_fast times kept,
    with a linear ramp between."""
    # the feature pair that turns beta times over the original context
    per_turn = rotary_dim / (2 * math.log(theta))
    low = per_turn * math.log(original_context / (beta_fast * 2 * math.pi))
    high = per_turn * math.log(original_context / (beta_slow * 2 * math.pi))
    if truncate:
        low, high = float(math.floor(low)), float(math.ceil(high))
    low, high = max(low, 0.0), min(high, rotary_dim - 1.0)
    if low == high:
        high += 0.001
    inv_freq = rope_frequencies(theta, rotary_dim, device)
    ramp = (torch.arange(rotary_dim // 2, device=device).float() - low) / (high - low)
    kept = 1 - ramp.clamp(0, 1)
    return inv_freq / factor * (1 - kept) + inv_freq * kept
''',
    "ntk_frequencies": '''
def ntk_frequencies(
    theta: float, rotary_dim: int, factor: float, context: int, seq: int, device: torch.device
) -> torch.Tensor:
    """Dynamic NTK rotary frequencies: the plain ones up to `context` positions; beyond it a base
    raised so that the longest wavelength stretches over the sequence."""
    if seq > context:
        theta = theta * (factor * seq / context - (factor - 1)) ** (rotary_dim / (rotary_dim - 2))
    return rope_frequencies(theta, rotary_dim, device)
''',
    "longrope_frequencies": '''
def longrope_frequencies(
    theta: float,
    rotary_dim: int,
    short_factor: list[float],
    long_factor: list[float],
    original_context: int,
    seq: int,
    device: torch.device,
) -> torch.Tensor:
    """LongRoPE's rotary frequencies: each plain one divided by its own factor, from the long
    list past the original context, else from the short one."""
    factors = long_factor if seq > original_context else short_factor
    divisor = torch.tensor(factors, dtype=torch.float32, device=device)
    return rope_frequencies(theta, rotary_dim, device) / divisor
''',
    "layer_frequencies": '''
def layer_frequencies(window: int, windowed: torch.Tensor, full: torch.Tensor) -> torch.Tensor:
    """The rotary frequencies of this layer's kind: windowed layers (window > 0) have their own."""
    return windowed if window > 0 else full
''',
    "apply_rotary_frequencies": '''
def apply_rotary_frequencies(
    x: torch.Tensor, inv_freq: torch.Tensor, scale: float, interleaved: bool
) -> torch.Tensor:
    """Rotary position embedding with given frequencies on the first 2 * len(inv_freq) features
    of each head; cos and sin times `scale` (YaRN's attention factor, else 1).

    x: [batch, heads, seq, head_dim]; position i turns feature pair (j, j + rotary_dim / 2)
    (interleaved: (2j, 2j + 1)) by i * inv_freq[j].
    """
    rotary_dim = 2 * inv_freq.size(0)
    angles = torch.outer(torch.arange(x.size(-2), device=x.device).float(), inv_freq)
    rot, rest = x[..., :rotary_dim], x[..., rotary_dim:]
    if interleaved:
        angles = angles.repeat_interleave(2, dim=-1)
        turned = torch.stack((-rot[..., 1::2], rot[..., ::2]), dim=-1).flatten(-2)
    else:
        angles = torch.cat((angles, angles), dim=-1)
        half1, half2 = rot.chunk(2, dim=-1)
        turned = torch.cat((-half2, half1), dim=-1)
    cos, sin = angles.cos() * scale, angles.sin() * scale
    return torch.cat((rot * cos + turned * sin, rest), dim=-1)
''',
    "xielu": '''
def xielu(
    x: torch.Tensor,
    alpha_p: torch.Tensor,
    alpha_n: torch.Tensor,
    beta: torch.Tensor,
    eps: torch.Tensor,
) -> torch.Tensor:
    """xIELU (arXiv 2411.13010): a trained quadratic for positive inputs, a trained ELU-like
    curve for negative ones; alpha_p and alpha_n are stored before softplus."""
    a_p = F.softplus(alpha_p)
    a_n = beta + F.softplus(alpha_n)
    negative = (torch.expm1(torch.minimum(x, eps)) - x) * a_n + beta * x
    return torch.where(x > 0, a_p * x * x + beta * x, negative)
''',
    "selective_scan": '''
def selective_scan(
    x: torch.Tensor, dt: torch.Tensor, A: torch.Tensor, B: torch.Tensor, C: torch.Tensor
) -> torch.Tensor:
    """A selective state-space scan (Mamba), one step at a time: x and dt [batch, seq, inner],
    A [inner, state], B and C [batch, seq, state] -> y [batch, seq, inner], where
    state_t = exp(dt_t * A) * state_(t-1) + dt_t * B_t * x_t and y_t = state_t . C_t."""
    decay = torch.exp(dt.unsqueeze(-1) * A)  # [batch, seq, inner, state]
    drive = dt.unsqueeze(-1) * B.unsqueeze(2) * x.unsqueeze(-1)
    h = torch.zeros(x.size(0), x.size(2), A.size(1), dtype=x.dtype, device=x.device)
    ys: list[torch.Tensor] = []
    for t in range(x.size(1)):
        h = decay[:, t] * h + drive[:, t]
        ys.append(torch.matmul(h, C[:, t].unsqueeze(-1)).squeeze(-1))
    return torch.stack(ys, dim=1)
''',
    "multi_head_scan": '''
def multi_head_scan(
    x: torch.Tensor, dt: torch.Tensor, A: torch.Tensor, B: torch.Tensor, C: torch.Tensor
) -> torch.Tensor:
    """A multi-head state-space scan (Mamba-2), one step at a time: x [batch, seq, heads, p],
    dt [batch, seq, heads], A [heads], B and C [batch, seq, groups, state] (each group shared by
    heads / groups heads) -> y [batch, seq, heads, p], where per head
    state_t = exp(dt_t * A) * state_(t-1) + dt_t * x_t B_t^T and y_t = state_t C_t."""
    heads = x.size(2)
    B = B.repeat_interleave(heads // B.size(2), dim=2)  # [batch, seq, heads, state]
    C = C.repeat_interleave(heads // C.size(2), dim=2)
    decay = torch.exp(dt * A)[..., None, None]  # [batch, seq, heads, 1, 1]
    drive = (dt[..., None] * x)[..., None] * B[:, :, :, None, :]  # [batch, seq, heads, p, state]
    h = torch.zeros(x.size(0), heads, x.size(3), B.size(3), dtype=x.dtype, device=x.device)
    ys: list[torch.Tensor] = []
    for t in range(x.size(1)):
        h = decay[:, t] * h + drive[:, t]
        ys.append(torch.matmul(h, C[:, t, :, :, None]).squeeze(-1))
    return torch.stack(ys, dim=1)
''',
    "scale_segments": '''
def scale_segments(x: torch.Tensor, sizes: list[int], factors: list[float]) -> torch.Tensor:
    """x [..., sum(sizes)] with each consecutive slice of the last dim, sizes[i] wide, times
    factors[i] (Falcon-H1's muP factors on the parts of its mixer's projection)."""
    parts = x.split(sizes, dim=-1)
    return torch.cat([parts[i] * factors[i] for i in range(len(sizes))], dim=-1)
''',
    "linear_recurrence": '''
def linear_recurrence(a: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """A diagonal linear recurrence over the sequence, one step at a time: a and x
    [batch, seq, width] -> h [batch, seq, width], where h_t = a_t * h_(t-1) + x_t, h_(-1) = 0."""
    h = torch.zeros_like(x[:, 0])
    hs: list[torch.Tensor] = []
    for t in range(x.size(1)):
        h = a[:, t] * h + x[:, t]
        hs.append(h)
    return torch.stack(hs, dim=1)
''',
    "gated_group_rms_norm": '''
def gated_group_rms_norm(
    x: torch.Tensor,
    gate: torch.Tensor,
    weight: torch.Tensor,
    groups: int,
    eps: float | None,
    norm_before_gate: bool,
) -> torch.Tensor:
    """Mamba-2's gated RMSNorm over [..., d]: x times silu(gate), normalised over each of `groups`
    equal slices of d, scaled by weight (normalised first, then gated, with norm_before_gate)."""
    if not norm_before_gate:
        x = x * F.silu(gate)
    h = x.unflatten(-1, [groups, -1])
    h = F.rms_norm(h, [h.size(-1)], eps=eps).flatten(-2) * weight
    return h * F.silu(gate) if norm_before_gate else h
''',
    "rwkv_wkv": '''
def rwkv_wkv(
    decay: torch.Tensor, first: torch.Tensor, k: torch.Tensor, v: torch.Tensor
) -> torch.Tensor:
    """RWKV-4's weighted key-value average over k and v [batch, seq, width]: at step t,
    (sum_(i<t) e^(k_i - (t - 1 - i) w) v_i + e^(first + k_t) v_t) / (the same without v), with
    w = exp(decay) per channel; kept in range by carrying the largest exponent separately."""
    w = -torch.exp(decay)
    num = torch.zeros_like(k[:, 0])
    den = torch.zeros_like(k[:, 0])
    top = torch.zeros_like(k[:, 0]) - 1e38
    out: list[torch.Tensor] = []
    for t in range(k.size(1)):
        kt, vt = k[:, t], v[:, t]
        m = torch.maximum(top, kt + first)
        a, b = torch.exp(top - m), torch.exp(kt + first - m)
        out.append((a * num + b * vt) / (a * den + b))
        m = torch.maximum(top + w, kt)
        a, b = torch.exp(top + w - m), torch.exp(kt - m)
        num, den, top = a * num + b * vt, a * den + b, m
    return torch.stack(out, dim=1)
''',
    "differential_heads": '''
def differential_heads(
    y: torch.Tensor,
    lambda_q1: torch.Tensor,
    lambda_k1: torch.Tensor,
    lambda_q2: torch.Tensor,
    lambda_k2: torch.Tensor,
    layer: int,
    eps: float,
) -> torch.Tensor:
    """Differential attention's combination (arXiv 2410.05258, heads as DiffLlama arranges them):
    y [batch, heads, seq, 2 * head_dim]; head p minus lambda times head p + heads / 2, normed
    (RMS, no weight) and scaled by 1 - lambda_init -> [batch, heads / 2, seq, 2 * head_dim]."""
    init = 0.8 - 0.6 * math.exp(-0.3 * layer)
    lam = torch.exp(torch.sum(lambda_q1 * lambda_k1)) - torch.exp(torch.sum(lambda_q2 * lambda_k2))
    first, second = y.chunk(2, dim=1)
    y = first - (lam + init) * second
    return F.rms_norm(y, [y.size(-1)], eps=eps) * (1.0 - init)
''',
    "dynamic_mask": '''
def dynamic_mask(dt: torch.Tensor, allowed: torch.Tensor, keep: int) -> torch.Tensor:
    """Dynamic mask attention's additive bias (Doge): dt [batch, kv_heads, seq], one bias per key,
    for every query where `allowed` ([batch or 1, 1, seq, seq], True where attended) is, the
    dtype's lowest value elsewhere; past `keep` keys only each query's `keep` largest stay open.
    -> [batch, kv_heads, seq, seq]."""
    lowest = -3.4028234663852886e38  # torch.finfo(dtype).min, which TorchScript cannot call
    if dt.dtype == torch.float16:
        lowest = -65504.0
    elif dt.dtype == torch.bfloat16:
        lowest = -3.3895313892515355e38
    bias = dt[:, :, None, :].expand(-1, -1, allowed.size(-2), -1)
    bias = bias.masked_fill(~allowed, lowest)
    if bias.size(-1) > keep:
        top = torch.topk(bias, keep, dim=-1, largest=True, sorted=False).indices
        active = torch.zeros_like(bias).scatter(-1, top, 1.0)
        bias = bias.masked_fill(active == 0.0, lowest)
    return bias
''',
    "rms_norm_unit_offset": '''
def rms_norm_unit_offset(x: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
    """RMSNorm that scales by 1 + weight (Gemma stores the weight as an offset from one)."""
    h = x.float()
    h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + eps)
    return (h * (1.0 + weight.float())).type_as(x)
''',
    "global_response_norm": '''
def global_response_norm(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor
) -> torch.Tensor:
    """ConvNeXt V2's global response norm on channels-last [batch, height, width, channels]: each
    channel's L2 norm over the image, divided by that norm's mean over channels, rescales x."""
    gx = x.pow(2).sum(dim=(1, 2), keepdim=True).sqrt()
    nx = gx / (gx.mean(dim=-1, keepdim=True) + 1e-6)
    c = x.size(-1)
    return weight.reshape(c) * (x * nx) + bias.reshape(c) + x
''',
    "add_positions_and_registers": '''
def add_positions_and_registers(
    x: torch.Tensor, table: torch.Tensor, registers: torch.Tensor
) -> torch.Tensor:
    """[batch, 1 + patches, d] with the class token first -> register tokens after the class
    token, positions added: before the registers are put in where the table covers only the class
    token and the patches (DINOv2 with registers), after where it covers every token (timm)."""
    reg = registers.expand(x.size(0), -1, -1)
    if table.size(1) == x.size(1):
        x = x + table
        return torch.cat((x[:, :1], reg, x[:, 1:]), dim=1)
    return torch.cat((x[:, :1], reg, x[:, 1:]), dim=1) + table
''',
    "layer_norm_unit_offset": '''
def layer_norm_unit_offset(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, eps: float
) -> torch.Tensor:
    """LayerNorm that scales by 1 + weight (Nemotron stores the weight as an offset from one)."""
    return F.layer_norm(x, [weight.size(0)], weight + 1.0, bias, eps)
''',
    "fairseq_positions": '''
def fairseq_positions(seq: int, dim: int, offset: int, device: torch.device) -> torch.Tensor:
    """[seq, dim] fixed position features as fairseq (tensor2tensor) computes them: all sines,
    then all cosines, frequencies 10000 ** (-i / (dim / 2 - 1)), of positions offset ..
    offset + seq - 1."""
    half = dim // 2
    step = math.log(10000.0) / (half - 1)
    freqs = torch.exp(torch.arange(half, device=device).float() * -step)
    angles = torch.arange(offset, offset + seq, device=device).float()[:, None] * freqs[None, :]
    table = torch.cat((torch.sin(angles), torch.cos(angles)), dim=1)
    if dim % 2 == 1:
        table = F.pad(table, (0, 1))
    return table
''',
    "fairseq_padded_positions": '''
def fairseq_padded_positions(input_ids: torch.Tensor, padding_idx: int, dim: int) -> torch.Tensor:
    """[batch, seq, dim] fairseq's fixed sinusoidal positions (computed, not stored), numbered
    from padding_idx + 1 over the real tokens; padding gets the row of zeros at padding_idx."""
    positions = padded_positions(input_ids, padding_idx)
    table = fairseq_positions(padding_idx + 1 + input_ids.size(1), dim, 0, input_ids.device)
    table[padding_idx] = 0.0
    return F.embedding(positions, table)
''',
    "causal_token_mask": '''
def causal_token_mask(input_ids: torch.Tensor, padding_idx: int) -> torch.Tensor:
    """[batch, 1, seq, seq], True where a query may attend: itself and the earlier positions that
    are not padding (a fairseq decoder masks the padding in its own input)."""
    seq = input_ids.size(1)
    allowed = torch.ones(seq, seq, dtype=torch.bool, device=input_ids.device).tril()
    return allowed[None, None] & input_ids.ne(padding_idx)[:, None, None, :]
''',
    "fairseq_decoder_inputs": '''
def fairseq_decoder_inputs(
    decoder_input_ids: torch.Tensor | None, input_ids: torch.Tensor, pad_token_id: int
) -> torch.Tensor:
    """The decoder's ids as given, or else fairseq's: the input ids shifted one to the right, each
    row's last real token (its end of sentence) wrapped round to the front."""
    if decoder_input_ids is not None:
        return decoder_input_ids
    input_ids = input_ids.masked_fill(input_ids == -100, pad_token_id)
    last = input_ids.ne(pad_token_id).sum(dim=1) - 1
    shifted = input_ids.clone()
    shifted[:, 0] = input_ids.gather(1, last[:, None]).squeeze(1)
    shifted[:, 1:] = input_ids[:, :-1]
    return shifted
''',
    "top_k_routing": '''
def top_k_routing(logits: torch.Tensor, top_k: int, normalize: bool) -> torch.Tensor:
    """Router logits [..., experts] -> each expert's weight per token: the softmax of the top_k
    experts' probabilities (renormalised to sum to one when `normalize`), zero for the rest."""
    probs = F.softmax(logits.float(), dim=-1)
    top, index = torch.topk(probs, top_k, dim=-1)
    if normalize:
        top = top / top.sum(dim=-1, keepdim=True)
    return torch.zeros_like(probs).scatter(-1, index, top).type_as(logits)
''',
    "expert_routing": '''
def expert_routing(
    logits: torch.Tensor,
    correction: torch.Tensor | None,
    top_k: int,
    sigmoid: bool,
    normalize: bool,
    scale: float,
    groups: int,
    top_groups: int,
) -> torch.Tensor:
    """Router logits [..., experts] -> each expert's weight per token, zero for the rest.

    Scores are the logits' softmax (or each one's sigmoid). The top_k experts are chosen by score
    plus `correction` (a per-expert bias that steers the choice, not the weights), only among the
    `top_groups` of `groups` equal groups of experts whose two best scores sum highest. Their scores
    are renormalised to sum to one when `normalize`, then multiplied by `scale`."""
    scores = torch.sigmoid(logits.float()) if sigmoid else F.softmax(logits.float(), dim=-1)
    choice = scores if correction is None else scores + correction.reshape(-1)
    if groups > 1:
        shape = choice.shape
        grouped = choice.reshape(-1, groups, shape[-1] // groups)
        best = grouped.topk(2, dim=-1)[0].sum(dim=-1)  # [tokens, groups]
        kept = torch.zeros_like(best).scatter(-1, best.topk(top_groups, dim=-1)[1], 1.0)
        choice = grouped.masked_fill(kept.unsqueeze(-1) == 0, float("-inf")).reshape(shape)
    index = torch.topk(choice, top_k, dim=-1)[1]
    top = scores.gather(-1, index)
    if normalize:
        top = top / top.sum(dim=-1, keepdim=True)
    return torch.zeros_like(scores).scatter(-1, index, top * scale).type_as(logits)
''',
    "clamped_swiglu": '''
def clamped_swiglu(h: torch.Tensor, alpha: float, limit: float, interleaved: bool) -> torch.Tensor:
    """GPT-OSS's expert activation of a fused gate/up output h [..., 2 * inner]: gate and up
    interleaved (gate at even features) or as halves, clamped to `limit` (the gate from above
    only), then (up + 1) * gate * sigmoid(alpha * gate)."""
    if interleaved:
        gate, up = h[..., ::2], h[..., 1::2]
    else:
        gate, up = h.chunk(2, dim=-1)
    gate = gate.clamp(max=limit)
    up = up.clamp(min=-limit, max=limit)
    return (up + 1) * gate * torch.sigmoid(gate * alpha)
''',
    "sparsemixer_routing": '''
def sparsemixer_routing(logits: torch.Tensor, jitter_eps: float) -> torch.Tensor:
    """Router logits [..., experts] -> each expert's weight per token, as PhiMoE's sparsemixer
    routes in eval: the best expert, then the best of the rest; each weighted by its softmax
    among the experts whose logit is within 2 * jitter_eps (relative) of its own."""
    out = torch.zeros_like(logits)
    masked = logits
    for _ in range(2):
        top, index = masked.max(dim=-1, keepdim=True)
        far = (top - logits) / logits.abs().clamp(min=top) > 2 * jitter_eps
        gates = torch.softmax(masked.masked_fill(far, float("-inf")), dim=-1)
        out = out.scatter(-1, index, gates.gather(-1, index))
        masked = masked.scatter(-1, index, float("-inf"))
    return out
''',
    "padding_mask": '''
def padding_mask(attention_mask: torch.Tensor | None) -> torch.Tensor | None:
    """[batch, seq], 1 for tokens to attend to and 0 for padding -> the boolean [batch, 1, 1, seq]
    mask scaled_dot_product_attention takes; None attends to every token."""
    if attention_mask is None:
        return None
    return attention_mask[:, None, None, :] != 0
''',
    "position_temperature": '''
def position_temperature(
    seq: int, beta: float, span: float, offset: float, device: torch.device
) -> torch.Tensor:
    """[seq, 1] query scales: 1 + beta * log(1 + floor((position + offset) / span)); 1 before the
    first `span` positions, then growing slowly (attention temperature for long contexts)."""
    positions = torch.arange(seq, device=device).float() + offset
    return (1.0 + beta * torch.log1p(torch.floor(positions / span)))[:, None]
''',
    "chunked_mask": '''
def chunked_mask(allowed: torch.Tensor, chunk: int) -> torch.Tensor:
    """`allowed` ([batch or 1, 1, seq, seq]) narrowed to keys in the query's own chunk of `chunk`
    positions (0 to chunk - 1, chunk to 2 chunk - 1, ...)."""
    blocks = torch.arange(allowed.size(-1), device=allowed.device) // chunk
    return allowed & (blocks[:, None] == blocks[None, :])
''',
    "top_k_keys": '''
def top_k_keys(scores: torch.Tensor, allowed: torch.Tensor, top_k: int) -> torch.Tensor:
    """`allowed` ([batch or 1, 1, seq, seq], True where a query may look) narrowed to the top_k
    keys of each query by `scores` [batch, seq, seq]; every allowed key where seq <= top_k."""
    scores = scores.masked_fill(~allowed[:, 0], float("-inf"))
    index = scores.topk(min(top_k, scores.size(-1)), dim=-1)[1]
    kept = torch.zeros_like(scores).scatter(-1, index, 1.0) > 0
    return allowed & kept[:, None]
''',
    "causal_padding_mask": '''
def causal_padding_mask(mask: torch.Tensor | None, seq: int, device: torch.device) -> torch.Tensor:
    """True where a query may attend: itself and earlier positions, and with a padding mask
    ([batch, 1, 1, seq] from padding_mask()) only real tokens -> [batch or 1, 1, seq, seq]."""
    allowed = torch.ones(seq, seq, dtype=torch.bool, device=device).tril()[None, None]
    if mask is None:
        return allowed
    return allowed & mask
''',
    "alibi_bias": '''
def alibi_bias(allowed: torch.Tensor, nhead: int) -> torch.Tensor:
    """ALiBi: each head adds slope * (key position) to its scores, slopes a geometric series
    (2 ** (-8 / n), its powers; heads beyond a power of two take the odd powers of the next
    series). -inf where `allowed` ([batch or 1, 1, seq, seq]) is False -> [.., nhead, seq, seq]."""
    closest = 1
    while closest * 2 <= nhead:
        closest *= 2
    powers = torch.arange(1, closest + 1, device=allowed.device).float()
    slopes = torch.pow(2.0 ** (-8.0 / closest), powers)
    if closest != nhead:
        odd = torch.arange(1, 2 * (nhead - closest) + 1, 2, device=allowed.device).float()
        slopes = torch.cat((slopes, torch.pow(2.0 ** (-4.0 / closest), odd)))
    keys = torch.arange(allowed.size(-1), device=allowed.device).float()
    bias = slopes[:, None, None] * keys  # softmax ignores a constant per query: no minus i
    return bias.masked_fill(~allowed, float("-inf"))
''',
    "last_tokens": '''
def last_tokens(x: torch.Tensor, input_ids: torch.Tensor, pad_token_id: int) -> torch.Tensor:
    """[batch, seq, d] -> [batch, d]: each sequence's last token that is not padding (its final
    token when none is), as Hugging Face's *ForSequenceClassification picks it."""
    real = (input_ids != pad_token_id).int()
    last = (torch.arange(input_ids.size(1), device=input_ids.device) * real).argmax(-1)
    return x[torch.arange(x.size(0), device=x.device), last]
''',
    "mask_from_lengths": '''
def mask_from_lengths(
    input_ids: torch.Tensor, attention_mask: torch.Tensor | None, pad_index: int
) -> torch.Tensor:
    """The attention_mask given, else 1 for the first n positions of each sequence, n its count of
    tokens other than pad_index (XLM's lengths: sequences padded at the end)."""
    if attention_mask is not None:
        return attention_mask
    lengths = (input_ids != pad_index).sum(dim=1)
    positions = torch.arange(input_ids.size(1), device=input_ids.device)
    return (positions[None, :] < lengths[:, None]).long()
''',
    "zero_padding": '''
def zero_padding(x: torch.Tensor, attention_mask: torch.Tensor | None) -> torch.Tensor:
    """[batch, seq, d] with the vectors of padding tokens (attention_mask 0) set to zero."""
    if attention_mask is None:
        return x
    return x * attention_mask[:, :, None].to(x.dtype)
''',
    "fourier_mix": '''
def fourier_mix(x: torch.Tensor) -> torch.Tensor:
    """FNet's token mixing: the real part of the 2-D discrete Fourier transform of x [batch, seq,
    d_model] over the sequence and feature dimensions."""
    return torch.fft.fftn(x, dim=(1, 2)).real
''',
    "token_type_columns": '''
def token_type_columns(
    token_type_ids: torch.Tensor | None, input_ids: torch.Tensor, tables: int
) -> torch.Tensor:
    """[batch, seq, tables] token types, one column per type table: all zeros unless given."""
    if token_type_ids is None:
        return input_ids.new_zeros(input_ids.shape + (tables,))
    return token_type_ids
''',
    "cell_positions": '''
def cell_positions(token_type_ids: torch.Tensor, max_positions: int) -> torch.Tensor:
    """TAPAS's positions, restarted in each table cell: a token's index minus that of the first
    token with its column id (type column 1) and row id (column 2), at most max_positions - 1."""
    seq = token_type_ids.size(1)
    cell = token_type_ids[:, :, 1:3]
    same = (cell[:, :, None, :] == cell[:, None, :, :]).all(-1)  # [batch, seq, seq]
    index = torch.arange(seq, device=token_type_ids.device)
    first = torch.where(same, index, seq).amin(-1)
    return torch.clamp(index - first, max=max_positions - 1)
''',
    "token_types": '''
def token_types(token_type_ids: torch.Tensor | None, input_ids: torch.Tensor) -> torch.Tensor:
    """The segment of each token: all in segment 0 unless given."""
    if token_type_ids is None:
        return torch.zeros_like(input_ids)
    return token_type_ids
''',
    "token_boxes": '''
def token_boxes(bbox: torch.Tensor | None, input_ids: torch.Tensor) -> torch.Tensor:
    """Each token's box (left, top, right, bottom): all zeros unless given."""
    if bbox is None:
        batch, seq = input_ids.size(0), input_ids.size(1)
        return torch.zeros(batch, seq, 4, dtype=torch.long, device=input_ids.device)
    return bbox
''',
    "sliding_window_mask": '''
def sliding_window_mask(allowed: torch.Tensor, window: int) -> torch.Tensor:
    """`allowed` ([.., seq, seq], True where a query may attend) narrowed to the last `window`
    positions up to and including each query (a causal mask with a sliding window); 0: as is."""
    if window <= 0:
        return allowed
    i = torch.arange(allowed.size(-1), device=allowed.device)
    back = i[:, None] - i[None, :]
    narrowed = allowed & (back >= 0) & (back < window)
    # A padding query whose window holds only padding would attend to nothing (NaN that spreads
    # to later layers): it attends everywhere instead; its own output is never read.
    return narrowed | ~narrowed.any(dim=-1, keepdim=True)
''',
    "window_band_mask": '''
def window_band_mask(
    mask: torch.Tensor | None, seq: int, window: int, device: torch.device
) -> torch.Tensor | None:
    """A bidirectional sliding window: True where a key is at most `window` positions either side
    of the query, and with a padding mask ([batch, 1, 1, seq] from padding_mask()) a real token ->
    [batch or 1, 1, seq, seq]; 0: every key (the padding mask as it is)."""
    if window <= 0:
        return mask
    return band_mask(mask, seq, window, device)
''',
    "band_mask": '''
def band_mask(mask: torch.Tensor | None, seq: int, half: int, device: torch.device) -> torch.Tensor:
    """band_padding_mask(), where a padding query whose window holds only padding attends
    everywhere instead (no NaN)."""
    allowed = band_padding_mask(mask, seq, half, device)
    return allowed | ~allowed.any(dim=-1, keepdim=True)
''',
    "band_padding_mask": '''
def band_padding_mask(
    mask: torch.Tensor | None, seq: int, half: int, device: torch.device
) -> torch.Tensor:
    """True where a query may attend: keys at most `half` positions either side (a sliding window,
    Longformer's), and with a padding mask ([batch, 1, 1, seq] from padding_mask()) real tokens
    only -> [batch or 1, 1, seq, seq]."""
    i = torch.arange(seq, device=device)
    allowed = ((i[:, None] - i[None, :]).abs() <= half)[None, None]
    return allowed if mask is None else allowed & mask
''',
    "zero_padding_queries": '''
def zero_padding_queries(y: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """[batch, seq, d] with the outputs of padding queries (False in the [batch, 1, 1, seq] mask
    from padding_mask()) set to zero: they attend to nothing (Longformer)."""
    if mask is None:
        return y
    return y.masked_fill(~mask[:, 0, 0, :, None], 0.0)
''',
    "nystrom_attention": '''
def nystrom_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    mask: torch.Tensor | None,
    landmarks: int,
    segment: int,
) -> torch.Tensor:
    """Nystrom attention over heads q, k, v [batch, heads, seq, head_dim]: softmax(q k~^T)
    pinv(softmax(q~ k~^T)) softmax(q~ k^T) v, with q~, k~ the means of q, k over `segment //
    landmarks` consecutive positions (the sequence read as `segment` long, as Nystromformer
    does). The padding mask ([batch, 1, 1, seq], True where attended) masks the last factor only;
    pinv is six steps of the iterative Moore-Penrose inverse, started from 1 / the largest column
    sum over the whole batch (the library's 'original' start)."""
    scale = math.sqrt(math.sqrt(q.size(-1)))
    q, k = q / scale, k / scale
    shape = [-1, q.size(1), landmarks, segment // landmarks, q.size(-1)]
    q_landmarks = q.reshape(shape).mean(dim=-2)
    k_landmarks = k.reshape(shape).mean(dim=-2)
    kernel_1 = F.softmax(q @ k_landmarks.transpose(-1, -2), dim=-1)
    kernel_2 = F.softmax(q_landmarks @ k_landmarks.transpose(-1, -2), dim=-1)
    scores = q_landmarks @ k.transpose(-1, -2)
    if mask is not None:
        scores = scores.masked_fill(~mask, -3.4028234663852886e38)  # torch.finfo(float32).min
    kernel_3 = F.softmax(scores, dim=-1)
    identity = torch.eye(kernel_2.size(-1), device=q.device)
    inverse = 1 / torch.max(torch.sum(kernel_2, dim=-2)) * kernel_2.transpose(-1, -2)
    for _ in range(6):
        product = kernel_2 @ inverse
        inverse = (0.25 * inverse) @ (
            13 * identity - product @ (15 * identity - product @ (7 * identity - product))
        )
    return (kernel_1 @ inverse) @ (kernel_3 @ v)
''',
    "expectation_attention": '''
def expectation_attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, hash_code_len: int
) -> torch.Tensor:
    """YOSO's attention in expectation over heads [batch, heads, seq, head_dim]: key j weighs
    (1 - angle(q_i, k_j) / pi) ** hash_code_len for query i (the chance that many random
    hyperplanes put both on one side), no softmax; each output L2-normalised."""
    q, k = F.normalize(q, p=2.0, dim=-1), F.normalize(k, p=2.0, dim=-1)
    weights = (1 - torch.acos(q @ k.transpose(-1, -2)) / math.pi) ** hash_code_len
    return F.normalize(weights @ v, p=2.0, dim=-1)
''',
    "zero_padding_heads": '''
def zero_padding_heads(v: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Heads [batch, heads, seq, head_dim] with the padding positions (False in the [batch, 1, 1,
    seq] mask from padding_mask()) set to zero."""
    if mask is None:
        return v
    return v * mask.transpose(-1, -2).to(v.dtype)
''',
    "sink_attention": '''
def sink_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    allowed: torch.Tensor,
    scale: float,
    sinks: torch.Tensor,
) -> torch.Tensor:
    """Attention beside one learned logit per head (`sinks` [heads], GPT-OSS): each softmax runs
    over the scores and the sink together, and the sink's share, which reads no value, is dropped;
    -inf where `allowed` ([.., seq, seq]) is False."""
    scores = q @ k.transpose(-2, -1) * scale
    scores = scores.masked_fill(~allowed, float("-inf"))
    sink = sinks.reshape(1, -1, 1, 1).expand(scores.size(0), -1, scores.size(2), 1)
    probs = torch.softmax(torch.cat([scores, sink.to(scores.dtype)], dim=-1).float(), dim=-1)
    return probs[..., :-1].to(q.dtype) @ v
''',
    "softcapped_attention": '''
def softcapped_attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, allowed: torch.Tensor, scale: float, cap: float
) -> torch.Tensor:
    """Attention whose scores are soft-capped to (-cap, cap) by cap * tanh(scores / cap) before
    the softmax (Gemma 2); -inf where `allowed` ([.., seq, seq]) is False."""
    scores = q @ k.transpose(-2, -1) * scale
    scores = cap * torch.tanh(scores / cap)
    # a query with nothing to attend to (left padding) attends everywhere, not to NaN
    scores = scores.masked_fill(~(allowed | ~allowed.any(dim=-1, keepdim=True)), float("-inf"))
    return torch.softmax(scores.float(), dim=-1).to(q.dtype) @ v
''',
    "relative_position_bias": '''
def relative_position_bias(
    table: torch.Tensor, length: int, bidirectional: bool, max_distance: int
) -> torch.Tensor:
    """T5's attention bias, [1, heads, length, length], from `table` [num_buckets, heads]: one row
    per bucket of the distance key - query. Half the buckets hold exact small distances, the rest
    log-spaced ones up to `max_distance` (farther shares the last); bidirectional (an encoder)
    gives keys after the query their own half of the buckets."""
    position = torch.arange(length, dtype=torch.long, device=table.device)
    distance = position[None, :] - position[:, None]
    num_buckets = table.size(0)
    buckets = torch.zeros_like(distance)
    if bidirectional:
        num_buckets = num_buckets // 2
        buckets = buckets + (distance > 0).to(torch.long) * num_buckets
        distance = torch.abs(distance)
    else:
        distance = -torch.min(distance, torch.zeros_like(distance))
    max_exact = num_buckets // 2
    far = max_exact + (
        torch.log(distance.float() / max_exact)
        / math.log(max_distance / max_exact)
        * (num_buckets - max_exact)
    ).to(torch.long)
    far = torch.min(far, torch.full_like(far, num_buckets - 1))
    buckets = buckets + torch.where(distance < max_exact, distance, far)
    return F.embedding(buckets, table).permute(2, 0, 1).unsqueeze(0)
''',
    "additive_padding_mask": '''
def additive_padding_mask(bias: torch.Tensor, attention_mask: torch.Tensor | None) -> torch.Tensor:
    """`bias` [1 or batch, heads, seq, seq] with the keys where attention_mask is 0 (padding) set
    to float32's lowest value, so softmax gives them no weight; None attends to every token."""
    if attention_mask is None:
        return bias
    padding = attention_mask[:, None, None, :] == 0
    return bias.masked_fill(padding, -3.4028234663852886e38)
''',
    "additive_causal_mask": '''
def additive_causal_mask(bias: torch.Tensor) -> torch.Tensor:
    """`bias` [1 or batch, heads, seq, seq] with every key after its query set to float32's
    lowest value: each position attends to itself and the positions before it."""
    seq = bias.size(-1)
    future = torch.ones(seq, seq, dtype=torch.bool, device=bias.device).triu(1)
    return bias.masked_fill(future, -3.4028234663852886e38)
''',
    "sinusoidal_positions": '''
def sinusoidal_positions(seq: int, dim: int, device: torch.device) -> torch.Tensor:
    """[seq, dim] fixed positions: sin(position * 10000 ** (-2i / dim)) in the first half of the
    features, cos of the same in the second (not interleaved), computed in float64."""
    position = torch.arange(seq, dtype=torch.float64, device=device)[:, None]
    half = (dim + 1) // 2
    rate = torch.pow(10000.0, -2.0 * torch.arange(half, dtype=torch.float64, device=device) / dim)
    angles = position * rate[None, :]
    return torch.cat((torch.sin(angles), torch.cos(angles[:, : dim // 2])), dim=1).float()
''',
    "apply_rotary_table": '''
def apply_rotary_table(x: torch.Tensor, sinusoidal: torch.Tensor | None) -> torch.Tensor:
    """Rotary position embedding from a table (RoFormer): `sinusoidal` [seq, head_dim] holds the
    sines in its first half and the cosines in its second; each pair (2i, 2i + 1) of x
    [batch, heads, seq, head_dim] turns by its angle. None leaves x as it is."""
    if sinusoidal is None:
        return x
    sin, cos = sinusoidal.chunk(2, dim=-1)
    sin = torch.stack([sin, sin], dim=-1).reshape_as(sinusoidal)
    cos = torch.stack([cos, cos], dim=-1).reshape_as(sinusoidal)
    turned = torch.stack([-x[..., 1::2], x[..., ::2]], dim=-1).reshape_as(x)
    return x * cos + turned * sin
''',
    "apply_rotary_table_halves": '''
def apply_rotary_table_halves(x: torch.Tensor, sinusoidal: torch.Tensor | None) -> torch.Tensor:
    """Rotary position embedding from angles the caller computed: `sinusoidal` [seq, head_dim]
    holds the sines of head_dim / 2 angles per token, then their cosines; feature j of x
    [batch, heads, seq, head_dim] turns with feature j + head_dim / 2 by angle j (halves layout).
    None leaves x as it is."""
    if sinusoidal is None:
        return x
    sin, cos = sinusoidal.chunk(2, dim=-1)
    sin, cos = torch.cat([sin, sin], dim=-1), torch.cat([cos, cos], dim=-1)
    x1, x2 = x.chunk(2, dim=-1)
    return x * cos + torch.cat([-x2, x1], dim=-1) * sin
''',
    "axial_rope_angles": '''
def axial_rope_angles(
    height: int,
    width: int,
    head_dim: int,
    theta: float,
    centred: bool,
    staggered: bool,
    device: torch.device,
) -> torch.Tensor:
    """2-D (axial) rotary angles of a height x width grid of patches taken row by row ->
    [height * width, head_dim / 2]: the first half turn with the patch's row, the second with its
    column, both at the frequencies theta ** (-4j / head_dim); `staggered`, the columns at
    theta ** (-(4j + 2) / head_dim) instead (Pixtral's: rows and columns share out the even and
    odd frequencies of a 1-D rotary over head_dim). A patch's row and column are its indices
    (MLCD's, Qwen2-VL's vision towers) or, `centred`, 2 pi times its centre's coordinates in
    [-1, 1] (DINOv3's)."""
    steps = torch.arange(0, head_dim, 4, dtype=torch.float, device=device)
    inv_freq = 1.0 / theta ** (steps / head_dim)
    col_freq = 1.0 / theta ** ((steps + 2) / head_dim) if staggered else inv_freq
    rows = torch.arange(height, device=device).repeat_interleave(width).float()
    cols = torch.arange(width, device=device).repeat(height).float()
    if centred:
        rows = 2 * math.pi * (2.0 * (rows + 0.5) / height - 1.0)
        cols = 2 * math.pi * (2.0 * (cols + 0.5) / width - 1.0)
    return torch.cat([rows[:, None] * inv_freq, cols[:, None] * col_freq], dim=-1)
''',
    "grid_relative_bias": '''
def grid_relative_bias(table: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """BEiT's relative position bias for a class token and height x width patches: `table` holds
    one row per 2-D offset between two patches ((2h - 1)(2w - 1) rows), then rows for
    class-to-patch, patch-to-class and class-to-class -> [1, heads, hw + 1, hw + 1]."""
    rows = torch.arange(height, device=table.device).repeat_interleave(width)
    cols = torch.arange(width, device=table.device).repeat(height)
    dr = rows[:, None] - rows[None, :] + height - 1
    dc = cols[:, None] - cols[None, :] + width - 1
    n = height * width + 1
    index = torch.zeros(n, n, dtype=torch.long, device=table.device)
    index[1:, 1:] = dr * (2 * width - 1) + dc
    distances = table.size(0)
    index[0, :] = distances - 3
    index[:, 0] = distances - 2
    index[0, 0] = distances - 1
    bias = table[index.view(-1)].view(n, n, -1)
    return bias.permute(2, 0, 1).unsqueeze(0)
''',
    "eos_tokens": '''
def eos_tokens(x: torch.Tensor, input_ids: torch.Tensor, eos_token_id: int) -> torch.Tensor:
    """Each sequence's state at its first `eos_token_id` ([batch, seq, d] -> [batch, d]); an id of
    2 takes the largest token id instead (CLIP configs written before the id was fixed)."""
    if eos_token_id == 2:
        index = input_ids.to(torch.int).argmax(dim=-1)
    else:
        index = (input_ids.to(torch.int) == eos_token_id).int().argmax(dim=-1)
    return x[torch.arange(x.size(0), device=x.device), index]
''',
    "similarity_logits": '''
def similarity_logits(
    image_embeds: torch.Tensor, text_embeds: torch.Tensor, logit_scale: torch.Tensor
) -> torch.Tensor:
    """CLIP's scores: the cosine similarity of every image with every text, times
    exp(logit_scale) -> [images, texts]."""
    image_embeds = image_embeds / torch.pow(torch.sum(torch.pow(image_embeds, 2), -1, True), 0.5)
    text_embeds = text_embeds / torch.pow(torch.sum(torch.pow(text_embeds, 2), -1, True), 0.5)
    return (torch.matmul(text_embeds, image_embeds.t()) * logit_scale.exp()).t()
''',
    "masked_bias": '''
def masked_bias(bias: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """`bias` [1 or batch, heads, seq, seq] with the keys where `mask` ([batch, 1, 1, seq] from
    padding_mask()) is False set to float32's lowest value; None attends to every token."""
    if mask is None:
        return bias
    return bias.masked_fill(~mask, -3.4028234663852886e38)
''',
    "memory_or": '''
def memory_or(memory: torch.Tensor | None, x: torch.Tensor) -> torch.Tensor:
    """What keys and values are read from: the encoder's output for cross-attention, else x."""
    if memory is None:
        return x
    return memory
''',
    "keys_source": '''
def keys_source(key_weight: torch.Tensor, x: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
    """What an attention reads keys from: the context where its key projection takes another
    width than x's (a block that only cross-attends, diffusers' only_cross_attention), else x."""
    if key_weight.size(1) != x.size(-1):
        return context
    return x
''',
    "causal_mask": '''
def causal_mask(x: torch.Tensor) -> torch.Tensor:
    """[seq, seq], True where a position may attend: itself and the positions before it."""
    seq = x.size(1)
    return torch.ones(seq, seq, dtype=torch.bool, device=x.device).tril()
''',
    "decoder_inputs": '''
def decoder_inputs(
    decoder_input_ids: torch.Tensor | None,
    input_ids: torch.Tensor,
    pad_token_id: int,
    decoder_start_token_id: int,
) -> torch.Tensor:
    """The decoder's ids as given, or else the input ids shifted one to the right behind the
    start token (what the model is trained to predict next), -100 read as padding."""
    if decoder_input_ids is not None:
        return decoder_input_ids
    shifted = torch.full_like(input_ids, decoder_start_token_id)
    shifted[:, 1:] = input_ids[:, :-1]
    return shifted.masked_fill(shifted == -100, pad_token_id)
''',
    "padded_positions": '''
def padded_positions(input_ids: torch.Tensor, padding_idx: int) -> torch.Tensor:
    """Position ids counted from padding_idx + 1 over the real tokens; padding gets padding_idx."""
    real = input_ids.ne(padding_idx).long()
    return torch.cumsum(real, dim=1) * real + padding_idx
''',
    "pad_to_multiple": '''
def pad_to_multiple(x: torch.Tensor, multiple: int) -> torch.Tensor:
    """Zero-pad an image [batch, channels, height, width] at the bottom and right so that its
    height and width are multiples of `multiple` (a patch size)."""
    pad_h = (multiple - x.size(2) % multiple) % multiple
    pad_w = (multiple - x.size(3) % multiple) % multiple
    return F.pad(x, (0, pad_w, 0, pad_h))
''',
    "window_for": '''
def window_for(height: int, width: int, window: int) -> int:
    """The attention window on a height x width map: `window`, or the whole map when it is no
    larger than one window."""
    return min(height, width) if min(height, width) <= window else window
''',
    "window_shift": '''
def window_shift(height: int, width: int, window: int, index: int) -> int:
    """How far the index-th block of a stage rolls the map before cutting windows: every second
    block by half a window, so windows straddle the previous block's; none on a map no larger
    than one window."""
    if min(height, width) <= window or index % 2 == 0:
        return 0
    return window // 2
''',
    "window_partition": '''
def window_partition(x: torch.Tensor, window: int, shift: int) -> torch.Tensor:
    """[batch, height, width, channels] -> [batch * windows, window * window, channels]: padded
    at the bottom and right to whole windows, rolled up and left by `shift`, cut into
    window x window tiles (row-major, batch outermost)."""
    batch, height, width, channels = x.shape
    pad_h = (window - height % window) % window
    pad_w = (window - width % window) % window
    x = F.pad(x, (0, 0, 0, pad_w, 0, pad_h))
    if shift > 0:
        x = torch.roll(x, shifts=(-shift, -shift), dims=(1, 2))
    rows, cols = (height + pad_h) // window, (width + pad_w) // window
    x = x.view(batch, rows, window, cols, window, channels).transpose(2, 3)
    return x.reshape(-1, window * window, channels)
''',
    "window_merge": '''
def window_merge(
    windows: torch.Tensor, window: int, shift: int, height: int, width: int
) -> torch.Tensor:
    """The inverse of window_partition: [batch * windows, window * window, channels] ->
    [batch, height, width, channels], rolled back by `shift` and the padding cut off."""
    channels = windows.size(-1)
    rows, cols = (height + window - 1) // window, (width + window - 1) // window
    x = windows.view(-1, rows, cols, window, window, channels).transpose(2, 3)
    x = x.reshape(-1, rows * window, cols * window, channels)
    if shift > 0:
        x = torch.roll(x, shifts=(shift, shift), dims=(1, 2))
    return x[:, :height, :width, :]
''',
    "shifted_window_mask": '''
def shifted_window_mask(x: torch.Tensor, window: int, shift: int) -> torch.Tensor | None:
    """For shifted windows on x [batch, height, width, channels]: [windows, window * window,
    window * window], -100 between positions that came from different regions of the map before
    the roll (they are not neighbours) and 0 elsewhere; None when nothing is rolled."""
    if shift <= 0:
        return None
    height = (x.size(1) + window - 1) // window * window
    width = (x.size(2) + window - 1) // window * window
    rows = torch.arange(height, device=x.device)
    cols = torch.arange(width, device=x.device)
    row_region = (rows >= height - window).long() + (rows >= height - shift).long()
    col_region = (cols >= width - window).long() + (cols >= width - shift).long()
    region = (row_region[:, None] * 3 + col_region[None, :]).to(x.dtype)
    region = region.view(height // window, window, width // window, window).transpose(1, 2)
    region = region.reshape(-1, window * window)
    differ = region.unsqueeze(1) - region.unsqueeze(2)
    return torch.zeros_like(differ).masked_fill(differ != 0, -100.0)
''',
    "window_position_bias": '''
def window_position_bias(
    table: torch.Tensor, window: int, index: torch.Tensor | None
) -> torch.Tensor:
    """The attention bias inside a window x window window, [1, heads, window^2, window^2], from
    `table` [(2 * window - 1) ** 2, heads]: one row per (row, column) offset between two
    positions. `index` (the checkpoint's relative_position_index) gives the rows where the
    checkpoint has it; else they are computed: (drow + window - 1) * (2 * window - 1) + dcol +
    window - 1."""
    if index is None:
        coords = torch.arange(window, device=table.device)
        rows = coords.repeat_interleave(window)
        cols = coords.repeat(window)
        drow = rows[:, None] - rows[None, :] + window - 1
        dcol = cols[:, None] - cols[None, :] + window - 1
        index = drow * (2 * window - 1) + dcol
    area = window * window
    bias = table[index.reshape(-1)].view(area, area, -1)
    return bias.permute(2, 0, 1).unsqueeze(0)
''',
    "log_spaced_offsets": '''
def log_spaced_offsets(
    seq: int, pretrained: int, device: torch.device
) -> torch.Tensor:
    """Swin V2's continuous position bias input for square windows of `seq` positions:
    [(2 * window - 1) ** 2, 2], each (row, column) offset between two positions of a window,
    divided by the window - 1 (the pretrained window's where `pretrained` > 0), times 8, then
    log-spaced: sign(t) * log2(|t| + 1) / log2(8)."""
    window = int(math.sqrt(seq) + 0.5)
    span = torch.arange(-(window - 1), window, device=device).float()
    rows = span.repeat_interleave(2 * window - 1)
    cols = span.repeat(2 * window - 1)
    offsets = torch.stack([rows, cols], dim=-1)
    size = pretrained if pretrained > 0 else window
    if size > 1:
        offsets = offsets / (size - 1)
    offsets = offsets * 8
    return torch.sign(offsets) * torch.log2(offsets.abs() + 1.0) / 3.0  # log2(8)
''',
    "continuous_window_bias": '''
def continuous_window_bias(table: torch.Tensor, seq: int) -> torch.Tensor:
    """Swin V2's position bias from its MLP's output `table` [(2 * window - 1) ** 2, heads] for
    windows of `seq` positions: each pair's row (window_position_bias), squashed to
    16 * sigmoid -> [1, heads, seq, seq]."""
    window = int(math.sqrt(seq) + 0.5)
    return 16 * torch.sigmoid(window_position_bias(table, window, None))
''',
    "cosine_attention": '''
def cosine_attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, logit_scale: torch.Tensor, bias: torch.Tensor
) -> torch.Tensor:
    """Swin V2's scaled cosine attention: the cosine similarity of each query and key times a
    learned per-head scale (exp of `logit_scale` [heads, 1, 1], capped at 100), plus `bias`,
    softmax over the keys, weights times the values."""
    scores = F.normalize(q, dim=-1) @ F.normalize(k, dim=-1).transpose(-2, -1)
    scores = scores * torch.clamp(logit_scale, max=math.log(100.0)).exp() + bias
    return F.softmax(scores, dim=-1) @ v
''',
    "window_attention_bias": '''
def window_attention_bias(
    bias: torch.Tensor, mask: torch.Tensor | None, batch_windows: int
) -> torch.Tensor:
    """The position bias [1, heads, n, n] plus, for shifted windows, each window's mask
    ([windows, n, n], windows of one image in order) -> [batch * windows or 1, heads, n, n]."""
    if mask is None:
        return bias
    windows = mask.size(0)
    mask = mask.unsqueeze(1).repeat(batch_windows // windows, 1, 1, 1)
    return bias + mask
''',
    "merge_patches": '''
def merge_patches(x: torch.Tensor) -> torch.Tensor:
    """[batch, height, width, channels] -> [batch, height / 2, width / 2, 4 * channels]: each 2x2
    neighbourhood side by side, in the order (0, 0), (1, 0), (0, 1), (1, 1) (row, column);
    zero-padded at the bottom and right to even sizes first."""
    x = F.pad(x, (0, 0, 0, x.size(2) % 2, 0, x.size(1) % 2))
    parts = [x[:, 0::2, 0::2], x[:, 1::2, 0::2], x[:, 0::2, 1::2], x[:, 1::2, 1::2]]
    return torch.cat(parts, dim=-1)
''',
    "log_bucket_positions": '''
def log_bucket_positions(
    seq: int, buckets: int, max_position: int, device: torch.device
) -> torch.Tensor:
    """[seq, seq] relative positions query - key. With buckets > 0 (DeBERTa-v2/v3), distances
    from buckets // 2 on are log-spaced so that max_position - 1 lands on the last bucket."""
    position = torch.arange(seq, dtype=torch.long, device=device)
    relative = position[:, None] - position[None, :]
    if buckets <= 0 or max_position <= 0:
        return relative
    mid = buckets // 2
    near = (relative < mid) & (relative > -mid)
    distance = torch.where(near, torch.full_like(relative, mid - 1), torch.abs(relative))
    log_scale = torch.log(torch.tensor((max_position - 1) / mid, device=device))
    far = torch.ceil(torch.log(distance / mid) / log_scale * (mid - 1)) + mid
    bucketed = torch.where(distance <= mid, relative.to(far.dtype), far * torch.sign(relative))
    return bucketed.to(torch.long)
''',
    "disentangled_scores": '''
def disentangled_scores(
    q: torch.Tensor,
    k: torch.Tensor,
    pos_q: torch.Tensor | None,
    pos_k: torch.Tensor | None,
    factor: int,
    buckets: int,
    max_position: int,
) -> torch.Tensor:
    """DeBERTa's attention scores [batch, heads, seq, seq]: content to content (q . k), plus
    content to position (each query against pos_k at its key's relative position) and position
    to content (each key against pos_q at its query's), each divided by sqrt(head_dim * factor).
    pos_q, pos_k: [1, heads, 2 * span, head_dim], the relative table projected; positions
    further than span either way share its ends."""
    scale = math.sqrt(q.size(-1) * factor)
    scores = q @ k.transpose(-1, -2) / scale
    if pos_k is None and pos_q is None:
        return scores
    seq = q.size(-2)
    shape = [q.size(0), q.size(1), seq, seq]
    relative = log_bucket_positions(seq, buckets, max_position, q.device)
    if pos_k is not None:  # content to position
        span = pos_k.size(-2) // 2
        index = torch.clamp(relative + span, 0, 2 * span - 1).expand(shape)
        scores = scores + torch.gather(q @ pos_k.transpose(-1, -2), -1, index) / scale
    if pos_q is not None:  # position to content
        span = pos_q.size(-2) // 2
        index = torch.clamp(span - relative, 0, 2 * span - 1).expand(shape)
        p2c = torch.gather(k @ pos_q.transpose(-1, -2), -1, index).transpose(-1, -2)
        scores = scores + p2c / scale
    return scores
''',
    "masked_softmax": '''
def masked_softmax(scores: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Softmax over the keys, scores where `mask` is False set to float32's lowest value first: a
    query with no key allowed (padding, under a query-and-key mask) spreads evenly over all."""
    if mask is not None:
        scores = scores.masked_fill(~mask, -3.4028234663852886e38)
    return torch.softmax(scores, dim=-1)
''',
    "query_key_mask": '''
def query_key_mask(mask: torch.Tensor | None) -> torch.Tensor | None:
    """[batch, 1, 1, seq] padding mask -> [batch, 1, seq, seq], True where both the query and the
    key are tokens (DeBERTa masks padding queries as well as padding keys)."""
    if mask is None:
        return None
    return mask & mask.transpose(-1, -2)
''',
    "decayed_linear_attention": '''
def decayed_linear_attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, slope: torch.Tensor
) -> torch.Tensor:
    """Causal linear attention whose past decays by exp(-slope) a step, one rate per head
    (MiniMax's lightning attention, summed whole rather than block by block):
    out[t] = sum over s <= t of exp(-slope * (t - s)) * (q[t] . k[s]) * v[s].

    q, k, v: [batch, heads, seq, head_dim]; slope: [heads, 1, 1]."""
    steps = torch.arange(q.size(-2), device=q.device)
    back = (steps[:, None] - steps[None, :]).to(q.dtype)  # [seq, seq]: how far back
    decay = torch.exp(-slope * back.clamp(min=0)) * (back >= 0).to(q.dtype)
    return (q @ k.transpose(-1, -2) * decay) @ v
''',
    "top_k_softmax": '''
def top_k_softmax(logits: torch.Tensor, top_k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Router logits [..., experts] -> (the top_k experts [..., top_k], best first, and their
    weights: a softmax over their logits)."""
    top, index = logits.float().topk(top_k, dim=-1)
    return index, torch.softmax(top, dim=-1).type_as(logits)
''',
    "gather_experts": '''
def gather_experts(every: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """The chosen experts' rows: every [..., experts, features] and index [..., k] (the same
    leading sizes) -> [..., k, features]."""
    rows = index.unsqueeze(-1).expand(list(index.shape) + [every.size(-1)])
    return every.gather(-2, rows)
''',
    "gated_delta_rule": '''
def gated_delta_rule(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, g: torch.Tensor, beta: torch.Tensor
) -> torch.Tensor:
    """The gated delta rule (Gated DeltaNet, arXiv 2412.06464; Kimi's KDA).

    q, k: [batch, seq, key_heads, dk]; v: [batch, seq, heads, dv] (each key head serves
    heads / key_heads value heads); g: [batch, seq, heads] (one log decay a head) or
    [batch, seq, heads, dk] (one a key feature); beta: [batch, seq, heads] -> [batch, seq, heads,
    dv]. With q and k L2-normalised and q scaled by dk ** -0.5, per head and step:
    S = exp(g_t) * S;  S = S + k_t (beta_t (v_t - k_t^T S))^T;  y_t = q_t^T S   (S: [dk, dv]).
    A decay per head runs in chunks of 64 steps (the same sums, in the library's order)."""
    heads = v.size(2)
    q = q.float().repeat_interleave(heads // q.size(2), dim=2).transpose(1, 2)
    k = k.float().repeat_interleave(heads // k.size(2), dim=2).transpose(1, 2)
    q = q * torch.rsqrt((q * q).sum(-1, keepdim=True) + 1e-6) * q.size(-1) ** -0.5
    k = k * torch.rsqrt((k * k).sum(-1, keepdim=True) + 1e-6)
    v, beta, g = v.float().transpose(1, 2), beta.float().transpose(1, 2), g.float().transpose(1, 2)
    state = torch.zeros(v.size(0), heads, k.size(-1), v.size(-1), dtype=v.dtype, device=v.device)
    ys: list[torch.Tensor] = []
    if g.dim() == 4:  # one decay a key feature: step by step
        decay = torch.exp(g).unsqueeze(-1)  # [batch, heads, seq, dk, 1]
        for t in range(v.size(2)):
            state = state * decay[:, :, t]
            key = k[:, :, t].unsqueeze(-1)  # [batch, heads, dk, 1]
            delta = (v[:, :, t] - (state * key).sum(-2)) * beta[:, :, t].unsqueeze(-1)
            state = state + key * delta.unsqueeze(-2)
            ys.append((state * q[:, :, t].unsqueeze(-1)).sum(-2))
        return torch.stack(ys, dim=1)
    chunk, seq = 64, v.size(2)
    pad = (chunk - seq % chunk) % chunk
    q, k, v = F.pad(q, (0, 0, 0, pad)), F.pad(k, (0, 0, 0, pad)), F.pad(v, (0, 0, 0, pad))
    beta, g = F.pad(beta, (0, pad)), F.pad(g, (0, pad))
    k_beta, v_beta = k * beta.unsqueeze(-1), v * beta.unsqueeze(-1)
    q, k, k_beta, v_beta = [x.unflatten(2, [-1, chunk]) for x in (q, k, k_beta, v_beta)]
    total = g.unflatten(2, [-1, chunk]).cumsum(-1)  # [batch, heads, chunks, chunk]
    later = torch.ones(chunk, chunk, dtype=torch.bool, device=v.device).triu(1)
    pair = (total.unsqueeze(-1) - total.unsqueeze(-2)).masked_fill(later, float("-inf")).exp()
    system = (k_beta @ k.transpose(-1, -2)) * pair  # solved below (its strict lower part)
    within = (q @ k.transpose(-1, -2)) * pair
    values = torch.linalg.solve_triangular(system, v_beta, upper=False, unitriangular=True)
    keys_read = torch.linalg.solve_triangular(
        system, k_beta * total.exp().unsqueeze(-1), upper=False, unitriangular=True
    )
    q = q * total.exp().unsqueeze(-1)
    k = k * (total[..., -1:] - total).exp().unsqueeze(-1)
    chunk_decay = total[..., -1].exp()[..., None, None]
    for i in range(q.size(2)):
        fresh = values[:, :, i] - keys_read[:, :, i] @ state
        ys.append(q[:, :, i] @ state + within[:, :, i] @ fresh)
        state = state * chunk_decay[:, :, i] + k[:, :, i].transpose(-1, -2) @ fresh
    return torch.cat(ys, dim=2)[:, :, :seq].transpose(1, 2)
''',
    "zero_masked": '''
def zero_masked(x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """[batch, seq, d] with padding tokens' vectors (False in the [batch, 1, 1, seq] padding
    mask) set to zero."""
    if mask is None:
        return x
    return x * mask[:, 0, 0, :, None].to(x.dtype)
''',
    "relative_table": '''
def relative_table(table: torch.Tensor | None) -> torch.Tensor:
    """The relative position embeddings the encoder passes to each layer: required here."""
    if table is None:
        raise ValueError("this attention needs the encoder's relative position embeddings")
    return table
''',
    "grid_windows": '''
def grid_windows(x: torch.Tensor, window: int) -> torch.Tensor:
    """[batch, height, width, channels] -> [batch * windows, window, window, channels]: padded
    with zeros at the bottom and right to whole windows, cut into window x window tiles
    (row-major, batch outermost). A window of 0 leaves the map whole."""
    if window <= 0:
        return x
    batch, height, width, channels = x.shape
    pad_h = (window - height % window) % window
    pad_w = (window - width % window) % window
    x = F.pad(x, (0, 0, 0, pad_w, 0, pad_h))
    rows, cols = (height + pad_h) // window, (width + pad_w) // window
    x = x.view(batch, rows, window, cols, window, channels).transpose(2, 3)
    return x.reshape(-1, window, window, channels)
''',
    "grid_merge": '''
def grid_merge(windows: torch.Tensor, window: int, height: int, width: int) -> torch.Tensor:
    """The inverse of grid_windows: [batch * windows, window, window, channels] ->
    [batch, height, width, channels], the padding cut off. A window of 0: the map as it is."""
    if window <= 0:
        return windows
    channels = windows.size(-1)
    rows, cols = (height + window - 1) // window, (width + window - 1) // window
    x = windows.view(-1, rows, cols, window, window, channels).transpose(2, 3)
    x = x.reshape(-1, rows * window, cols * window, channels)
    return x[:, :height, :width, :]
''',
    "relative_rows": '''
def relative_rows(table: torch.Tensor, q_size: int, k_size: int) -> torch.Tensor:
    """[q_size, k_size, dim]: the row of `table` [2 * size - 1, dim] for each query-key offset
    along one axis. A table of another length is first resized (linear) to 2 * size - 1 rows;
    when queries and keys differ in length, the shorter one's coordinates are stretched."""
    span = 2 * max(q_size, k_size) - 1
    if table.size(0) != span:
        resized = F.interpolate(table.t().unsqueeze(0), size=span, mode="linear")
        table = resized.squeeze(0).t()
    q_scale = max(k_size / q_size, 1.0)
    k_scale = max(q_size / k_size, 1.0)
    q_coords = torch.arange(q_size, device=table.device)[:, None] * q_scale
    k_coords = torch.arange(k_size, device=table.device)[None, :] * k_scale
    offsets = (q_coords - k_coords) + (k_size - 1) * k_scale
    return table[offsets.long()]
''',
    "decomposed_position_bias": '''
def decomposed_position_bias(
    q: torch.Tensor, table_h: torch.Tensor, table_w: torch.Tensor, height: int, width: int
) -> torch.Tensor:
    """The attention bias of decomposed relative positions (MViTv2, ViTDet, SAM): each query
    [batch, heads, height * width, dim] (unscaled) dotted with the table row of its row offset
    to each key, plus the one of its column offset -> [batch, heads, height * width, height *
    width]."""
    rows = relative_rows(table_h, height, height)  # [height, height, dim]
    cols = relative_rows(table_w, width, width)  # [width, width, dim]
    batch, heads, _, dim = q.shape
    grid = q.reshape(batch, heads, height, width, dim)
    by_row = torch.einsum("bnhwc,hkc->bnhwk", grid, rows)
    by_col = torch.einsum("bnhwc,wkc->bnhwk", grid, cols)
    bias = by_row[:, :, :, :, :, None] + by_col[:, :, :, :, None, :]
    return bias.reshape(batch, heads, height * width, height * width)
''',
    "grid_positions": '''
def grid_positions(table: torch.Tensor, height: int, width: int, mode: str) -> torch.Tensor:
    """[1, height, width, dim] absolute positions from a learned table of a square grid, [1,
    tokens, dim] ([1, side, side, dim] alike): the rows in front of the grid (a class token's,
    which no token here uses) dropped, the grid resized (`mode`, corners not aligned) when its
    side differs from the map's."""
    dim = table.size(-1)
    table = table.reshape(1, -1, dim)
    side = int(math.sqrt(float(table.size(1))))
    table = table[:, table.size(1) - side * side :]
    grid = table.reshape(1, side, side, dim)
    if side != height or side != width:
        resized = F.interpolate(
            grid.permute(0, 3, 1, 2), size=(height, width), mode=mode, align_corners=False
        )
        grid = resized.permute(0, 2, 3, 1)
    return grid
''',
    "span_dynamic_conv": '''
def span_dynamic_conv(
    values: torch.Tensor, kernel_logits: torch.Tensor, heads: int, kernel_size: int
) -> torch.Tensor:
    """Each position's values mixed over a window centred on it (zeros past the ends) by a kernel
    of its own per head: values [batch, seq, width], kernel_logits [batch, seq, heads *
    kernel_size], softmaxed over the window -> [batch, seq, heads, width / heads]."""
    batch, seq, width = values.shape
    pad = (kernel_size - 1) // 2
    windows = F.pad(values.transpose(1, 2), [pad, pad]).unfold(2, kernel_size, 1)
    windows = windows.permute(0, 2, 1, 3).reshape(batch, seq, heads, width // heads, kernel_size)
    kernel = kernel_logits.reshape(batch, seq, heads, kernel_size, 1).softmax(dim=3)
    return torch.matmul(windows, kernel).squeeze(-1)
''',
    # enc9: Transformer-XL-style relative attention (XLNet)
    "relative_sinusoids": '''
def relative_sinusoids(seq: int, d_model: int, clamp: int, device: torch.device) -> torch.Tensor:
    """[2 * seq, d_model]: the sines, then the cosines, of relative positions seq, seq - 1, ...,
    1 - seq (clamped to +-clamp where clamp > 0) at Transformer-XL's frequencies."""
    positions = torch.arange(seq, -seq, -1, device=device).float()
    if clamp > 0:
        positions = positions.clamp(-clamp, clamp)
    steps = torch.arange(0, d_model, 2, device=device).float()
    angles = positions[:, None] / torch.pow(10000.0, steps / d_model)[None, :]
    return torch.cat([torch.sin(angles), torch.cos(angles)], dim=-1)
''',
    "relative_scores": '''
def relative_scores(
    q: torch.Tensor,
    k: torch.Tensor,
    k_r: torch.Tensor,
    content_bias: torch.Tensor,
    position_bias: torch.Tensor,
    segment_bias: torch.Tensor | None,
    segment_embed: torch.Tensor | None,
    token_type_ids: torch.Tensor | None,
) -> torch.Tensor:
    """q, k [batch, seq, heads, head_dim], k_r [2 * seq, heads, head_dim] (relative positions
    seq .. 1 - seq) -> scores [batch, heads, seq, seq] over sqrt(head_dim): (q + content_bias).k,
    plus (q + position_bias) on the relative position i - j (shifted into place as Transformer-XL
    does), plus, where token types are given, (q + segment_bias) on segment_embed[0] for a key of
    the query's segment and [1] for another."""
    content = torch.einsum("bind,bjnd->bnij", q + content_bias, k)
    position = torch.einsum("bind,pnd->bnip", q + position_bias, k_r)
    batch, heads, seq, span = position.shape
    position = position.reshape(batch, heads, span, seq)[:, :, 1:]
    scores = content + position.reshape(batch, heads, seq, span - 1)[:, :, :, :seq]
    if segment_bias is not None and segment_embed is not None and token_type_ids is not None:
        other = (token_type_ids[:, :, None] != token_type_ids[:, None, :]).long()
        per_kind = torch.einsum("bind,snd->bnis", q + segment_bias, segment_embed)
        index = other[:, None].expand(-1, heads, -1, -1)
        scores = scores + torch.gather(per_kind, 3, index)
    return scores / math.sqrt(q.size(-1))
''',
    "local_band_bias": '''
def local_band_bias(bias: torch.Tensor, radius: int) -> torch.Tensor:
    """`bias` [.., seq, seq] with every key farther than `radius` positions from its query set to
    float32's lowest value: local attention (LongT5's blocks of radius + 1 tokens, each beside the
    blocks before and after it, hold exactly the keys within the radius)."""
    seq = bias.size(-1)
    i = torch.arange(seq, device=bias.device)
    far = (i[:, None] - i[None, :]).abs() > radius
    return bias.masked_fill(far, -3.4028234663852886e38)
''',
    "interleaved_relative_sinusoids": '''
def interleaved_relative_sinusoids(seq: int, dim: int, device: torch.device) -> torch.Tensor:
    """[1, 2 * seq - 1, dim]: the relative positions seq - 1 .. 1 - seq (Transformer-XL's order),
    each as sin and cos of position * 10000 ** (-2i / dim), interleaved (sines in the even
    features), as ESPnet's and Wav2Vec2-Conformer's relative positional encodings lay them out."""
    position = torch.arange(seq - 1, -seq, -1, device=device).float()[:, None]
    steps = torch.arange(0, dim, 2, device=device).float()
    angle = position * torch.exp(steps * -(math.log(10000.0) / dim))
    table = torch.stack([torch.sin(angle), torch.cos(angle)], dim=-1)
    return table.reshape(1, 2 * seq - 1, dim)
''',
    "padding_or_self_mask": '''
def padding_or_self_mask(attention_mask: torch.Tensor | None) -> torch.Tensor | None:
    """[batch, 1, seq, seq], True where a query may attend: real tokens, and always itself
    (XLNet's non-target mask); None attends to every token."""
    if attention_mask is None:
        return None
    seq = attention_mask.size(1)
    itself = torch.eye(seq, dtype=torch.bool, device=attention_mask.device)
    return (attention_mask[:, None, None, :] != 0) | itself
''',
    # enc9: visual tokens after the text (VisualBERT)
    "append_regions": '''
def append_regions(
    x: torch.Tensor,
    visual_embeds: torch.Tensor | None,
    visual_token_type_ids: torch.Tensor | None,
    weight: torch.Tensor,
    bias: torch.Tensor,
    position_table: torch.Tensor,
    type_table: torch.Tensor,
) -> torch.Tensor:
    """x [batch, seq, d] with, where visual_embeds [batch, regions, visual_dim] are given, one
    token per region after the text: projected, plus the first row of its position table and its
    token type's row (type 1 unless given)."""
    if visual_embeds is None:
        return x
    regions = F.linear(visual_embeds, weight, bias)
    if visual_token_type_ids is None:
        visual_token_type_ids = torch.ones(
            visual_embeds.shape[:-1], dtype=torch.long, device=visual_embeds.device
        )
    regions = regions + position_table[0] + F.embedding(visual_token_type_ids, type_table)
    return torch.cat([x, regions], dim=1)
''',
    "text_and_region_mask": '''
def text_and_region_mask(
    attention_mask: torch.Tensor | None,
    input_ids: torch.Tensor,
    visual_embeds: torch.Tensor | None,
    visual_attention_mask: torch.Tensor | None,
) -> torch.Tensor | None:
    """[batch, seq (+ regions)]: the text's attention mask, then the regions' (all ones unless
    given); None where neither a mask nor regions are given."""
    if visual_embeds is None:
        return attention_mask
    if attention_mask is None:
        attention_mask = torch.ones_like(input_ids)
    if visual_attention_mask is None:
        visual_attention_mask = torch.ones(
            visual_embeds.shape[:-1], dtype=attention_mask.dtype, device=visual_embeds.device
        )
    return torch.cat([attention_mask, visual_attention_mask.to(attention_mask.dtype)], dim=-1)
''',
    # diff13: lucidrains' norms and attention over a feature map's channels and pixels
    "channel_rms_norm": '''
def channel_rms_norm(x: torch.Tensor, gain: torch.Tensor) -> torch.Tensor:
    """RMS norm over the channels of a feature map [batch, channels, height, width]: each pixel's
    channel vector scaled to unit length, times sqrt(channels) and the gain [1, channels, 1, 1]
    (lucidrains' RMSNorm)."""
    return F.normalize(x, dim=1) * gain * (x.size(1) ** 0.5)
''',
    "channel_layer_norm": '''
def channel_layer_norm(x: torch.Tensor, gain: torch.Tensor, eps: float) -> torch.Tensor:
    """Layer norm over the channels of a feature map, times the gain [1, channels, 1, 1], no bias
    (lucidrains' gain-only LayerNorm)."""
    var = torch.var(x, dim=1, unbiased=False, keepdim=True)
    mean = torch.mean(x, dim=1, keepdim=True)
    return (x - mean) * torch.rsqrt(var + eps) * gain
''',
    "pixel_attention": '''
def pixel_attention(qkv: torch.Tensor, heads: int, kind: str) -> torch.Tensor:
    """Attention among the pixels of a map from its fused projection qkv [batch, 3 * heads *
    head_dim, height, width] (lucidrains' U-Nets), back as [batch, heads * head_dim, height,
    width]. kind "softmax": scaled dot-product attention; "linear": linear attention, queries
    softmaxed over their features and scaled, keys over the pixels; "linear_keys": the same with
    only the keys softmaxed (the 2020 version)."""
    batch, height, width = qkv.size(0), qkv.size(2), qkv.size(3)
    q, k, v = qkv.reshape(batch, 3, heads, -1, height * width).unbind(1)
    scale = q.size(2) ** -0.5
    if kind == "softmax":
        scores = torch.einsum("bhdi,bhdj->bhij", q * scale, k)
        out = torch.einsum("bhij,bhdj->bhdi", scores.softmax(dim=-1), v)
    else:
        if kind == "linear":
            q = q.softmax(dim=-2) * scale
        context = torch.einsum("bhdn,bhen->bhde", k.softmax(dim=-1), v)
        out = torch.einsum("bhde,bhdn->bhen", context, q)
    return out.reshape(batch, -1, height, width)
''',
    "head_interleaved_attention": '''
def head_interleaved_attention(qkv: torch.Tensor, heads: int) -> torch.Tensor:
    """Scaled dot-product attention from a fused projection qkv [batch, tokens, heads * 3 *
    head_dim] laid out head by head, each head's query, key and value side by side (labml.ai's
    DDPM AttentionBlock), back as [batch, tokens, heads * head_dim]."""
    batch, tokens = qkv.size(0), qkv.size(1)
    q, k, v = qkv.reshape(batch, tokens, heads, -1).chunk(3, dim=-1)
    scores = torch.einsum("bihd,bjhd->bijh", q, k) * q.size(-1) ** -0.5
    out = torch.einsum("bijh,bjhd->bihd", scores.softmax(dim=2), v)
    return out.reshape(batch, tokens, -1)
''',
    "sinusoidal_time_encoding": '''
def sinusoidal_time_encoding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal features of each sample's timestep as dome272's Diffusion-Models-pytorch U-Net
    computes them (its pos_encoding): sin, then cos, of t / 10000 ** (2i / dim), i < dim / 2, in
    its order of float operations."""
    t = t.reshape(-1, 1).float()
    inv_freq = 1.0 / (10000 ** (torch.arange(0, dim, 2, device=t.device).float() / dim))
    return torch.cat((torch.sin(t * inv_freq), torch.cos(t * inv_freq)), dim=-1)
''',
    "sinusoidal_position_embedding": '''
def sinusoidal_position_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal features of each sample's timestep as lucidrains' SinusoidalPosEmb and labml's
    TimeEmbedding compute them: sin, then cos, of t * 10000 ** (-i / (dim / 2 - 1)), i < dim / 2,
    in their order of float operations (the timestep_embedding helper's rounds differently)."""
    half = dim // 2
    scale = math.log(10000) / (half - 1)
    freqs = torch.exp(torch.arange(half, device=t.device) * -scale)
    emb = t.float()[:, None] * freqs[None, :]
    return torch.cat((emb.sin(), emb.cos()), dim=-1)
''',
}
