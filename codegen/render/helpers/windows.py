"""Windowed attention over an image grid (Swin, ViTDet, SAM): padding to a multiple,
partitioning into (shifted) windows and merging back, the shifted windows' mask, window position
biases (a learned table, Swin V2's continuous log-spaced bias and cosine attention), patch merging,
and decomposed relative positions over a grid.
"""

from __future__ import annotations

# What these helpers' own text uses beyond torch (codegen/render/helpers/__init__.py).
HELPER_IMPORTS: dict[str, tuple[str, ...]] = {
    "pad_to_multiple": ("F",),
    "window_partition": ("F",),
    "merge_patches": ("F",),
    # vis11: Swin V2's cosine window attention and continuous position bias
    "log_spaced_offsets": ("math",),
    "continuous_window_bias": ("math", "helper:window_position_bias"),
    "cosine_attention": ("math", "F"),
    # vit8: grids of patches (ViTDet, SAM): windows with padding, decomposed relative positions
    "grid_windows": ("F",),
    "relative_rows": ("F",),
    "decomposed_position_bias": ("helper:relative_rows",),
}
HELPERS: dict[str, str] = {
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
def log_spaced_offsets(seq: int, pretrained: int, device: torch.device) -> torch.Tensor:
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
}
