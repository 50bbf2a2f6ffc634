"""`--plot PNG`: the loss curve, drawn with numpy and written as a PNG by hand (no matplotlib needed).

Epochs run left to right from the baseline (epoch 0); loss runs bottom to top on a linear scale, or a
log scale when it spans more than LOG_SPAN; blue is the training loss, orange the validation loss, and
grey lines divide the loss range into quarters. The numbers themselves are in `--json`.
"""

from __future__ import annotations

import struct
import zlib
from typing import Any

import numpy as np

from codegen.output import Output, write_bytes

WIDTH, HEIGHT, MARGIN = 640, 400, 32
LOG_SPAN = 20.0
COLORS = {"train": (31, 119, 180), "val": (255, 127, 14)}


def save_loss_plot(history: list[dict[str, Any]], output: Output) -> None:
    img = np.full((HEIGHT, WIDTH, 3), 255, dtype=np.uint8)
    values = [h[k] for h in history for k in COLORS if h.get(k) is not None]
    low, high = min(values), max(values)
    log = low > 0 and high / low > LOG_SPAN
    scale = (lambda v: np.log10(v)) if log else (lambda v: v)  # noqa: E731
    lo, hi = scale(low), scale(high)
    span = (hi - lo) or 1.0
    epochs = [h["epoch"] for h in history]
    last = max(epochs) or 1

    def pixel(epoch: float, value: float) -> tuple[float, float]:
        x = MARGIN + (WIDTH - 2 * MARGIN) * epoch / last
        y = HEIGHT - MARGIN - (HEIGHT - 2 * MARGIN) * (scale(value) - lo) / span
        return x, y

    for i in range(5):
        y = MARGIN + (HEIGHT - 2 * MARGIN) * i // 4
        img[y, MARGIN : WIDTH - MARGIN] = 225
    img[MARGIN : HEIGHT - MARGIN + 1, [MARGIN, WIDTH - MARGIN]] = 120
    img[[MARGIN, HEIGHT - MARGIN], MARGIN : WIDTH - MARGIN + 1] = 120
    for key, color in COLORS.items():
        points = [pixel(h["epoch"], h[key]) for h in history if h.get(key) is not None]
        for a, b in zip(points, points[1:]):
            _line(img, a, b, color)
        for x, y in points:
            img[int(y) - 2 : int(y) + 3, int(x) - 2 : int(x) + 3] = color
    write_bytes(output, _png(img))


def _line(
    img: np.ndarray, a: tuple[float, float], b: tuple[float, float], color: tuple[int, int, int]
) -> None:
    n = int(max(abs(b[0] - a[0]), abs(b[1] - a[1])) * 2) + 2
    xs = np.linspace(a[0], b[0], n).astype(int)
    ys = np.linspace(a[1], b[1], n).astype(int)
    for dy in (0, 1):  # two pixels thick
        img[np.clip(ys + dy, 0, HEIGHT - 1), np.clip(xs, 0, WIDTH - 1)] = color


def _png(img: np.ndarray) -> bytes:
    height, width, _ = img.shape
    raw = b"".join(b"\x00" + img[row].tobytes() for row in range(height))  # filter type 0 per row

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )
