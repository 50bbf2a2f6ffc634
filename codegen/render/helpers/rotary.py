"""Rotary position embeddings: the rotation itself (halves, reversed halves, interleaved
pairs, from a table or from frequencies) and the frequencies it rotates by (plain, Llama 3, YaRN,
NTK, LongRoPE scaling; per layer kind; axial over an image grid), with the query temperature that
long-context models apply beside it.
"""

from __future__ import annotations

# What these helpers' own text uses beyond torch (codegen/render/helpers/__init__.py).
HELPER_IMPORTS: dict[str, tuple[str, ...]] = {
    # helpers that build on the plain rotary frequencies print them too
    "llama3_frequencies": ("math", "helper:rope_frequencies"),
    "yarn_frequencies": ("math", "helper:rope_frequencies"),
    "ntk_frequencies": ("helper:rope_frequencies",),
    "longrope_frequencies": ("helper:rope_frequencies",),
    "axial_rope_angles": ("math",),
}
HELPERS: dict[str, str] = {
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
    slowed = torch.where(
        wavelength > original_context / low_freq_factor, inv_freq / factor, inv_freq
    )
    smooth = (original_context / wavelength - low_freq_factor) / (
        high_freq_factor - low_freq_factor
    )
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
    "position_temperature": '''
def position_temperature(
    seq: int, beta: float, span: float, offset: float, device: torch.device
) -> torch.Tensor:
    """[seq, 1] query scales: 1 + beta * log(1 + floor((position + offset) / span)); 1 before the
    first `span` positions, then growing slowly (attention temperature for long contexts)."""
    positions = torch.arange(seq, device=device).float() + offset
    return (1.0 + beta * torch.log1p(torch.floor(positions / span)))[:, None]
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
}
