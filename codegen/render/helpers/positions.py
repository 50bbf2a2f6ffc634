"""Absolute position and timestep features added to the inputs: fixed sinusoidal tables
(1-D, fairseq's, 2-D sine-cosine over a patch grid, DETR's normalised Fourier features of a
map), a diffusion model's timestep features in each library's order of float operations, and
learned tables read over a grid or around register tokens.
"""

from __future__ import annotations

# What these helpers' own text uses beyond torch (codegen/render/helpers/__init__.py).
HELPER_IMPORTS: dict[str, tuple[str, ...]] = {
    "fairseq_positions": ("math", "F"),
    "timestep_embedding": ("math", "F"),
    "sinusoidal_position_embedding": ("math",),
    "sinusoidal_time_encoding": (),
    "grid_positions": ("math", "F"),
    "fourier_positions": ("math",),
}
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
    "fourier_positions": '''
def fourier_positions(
    batch: int, height: int, width: int, features: int, temperature: float, device: torch.device
) -> torch.Tensor:
    """DETR's normalised sine positions of a height x width map, as XCiT's and EdgeNeXt's
    PositionalEncodingFourier compute them: each row and column counted from 1, divided by their
    count (+ 1e-6) and scaled to 2 pi, over `features` frequencies temperature ** (2 * (i // 2) /
    features), the sines of the even ones interleaved with the cosines of the odd; the rows'
    features then the columns' -> [batch, 2 * features, height, width]."""
    ones = torch.ones(batch, height, width, device=device)
    rows, cols = ones.cumsum(1), ones.cumsum(2)
    rows = rows / (rows[:, -1:, :] + 1e-6) * (2 * math.pi)
    cols = cols / (cols[:, :, -1:] + 1e-6) * (2 * math.pi)
    steps = torch.arange(features, dtype=torch.float32, device=device)
    freqs = torch.pow(temperature, 2 * torch.div(steps, 2, rounding_mode="floor") / features)
    pos_y = rows[:, :, :, None] / freqs
    pos_x = cols[:, :, :, None] / freqs
    pos_y = torch.stack((pos_y[:, :, :, 0::2].sin(), pos_y[:, :, :, 1::2].cos()), dim=4).flatten(3)
    pos_x = torch.stack((pos_x[:, :, :, 0::2].sin(), pos_x[:, :, :, 1::2].cos()), dim=4).flatten(3)
    return torch.cat((pos_y, pos_x), dim=3).permute(0, 3, 1, 2)
''',
}
