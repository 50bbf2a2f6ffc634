"""`finetune --plot FILE`: the loss curve as a matplotlib chart (optional extra: `modelgen[plot]`).

Training and validation loss per epoch, epoch 0 being the checkpoint before tuning; a log scale when
the losses span more than LOG_SPAN, so a drop from 6.91 to 6.77 does not look like a collapse and one
over decades stays readable. The numbers themselves are in `--json`.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from codegen.errors import ModelgenError
from codegen.output import Output, write_with

LOG_SPAN = 20.0
FORMATS = ("png", "svg", "pdf")


def check_can_plot(path: str) -> None:
    """Before training: matplotlib is there and the file type is one it writes."""
    if importlib.util.find_spec("matplotlib") is None:
        raise ModelgenError(
            "--plot needs matplotlib: pip install 'modelgen[plot]' (or pip install matplotlib)"
        )
    if _format(path) not in FORMATS:
        raise ModelgenError(f"--plot {path}: give a .png, .svg or .pdf file")


def save_loss_plot(history: list[dict[str, Any]], output: Output, loss: str, method: str) -> None:
    fig = loss_figure(history, loss, method)
    write_with(output, lambda tmp: fig.savefig(tmp, format=_format(str(output.path)), dpi=100))


def loss_figure(history: list[dict[str, Any]], loss: str, method: str) -> Any:
    """The chart as a matplotlib Figure: training and validation loss per epoch."""
    from matplotlib.figure import Figure  # no pyplot: no GUI backend, no global state
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=(7, 4.5), layout="constrained")
    ax = fig.add_subplot()
    for key, label, style in (("train", "training", "o-"), ("val", "validation", "s--")):
        points = [(h["epoch"], h[key]) for h in history if h.get(key) is not None]
        if points:
            ax.plot(*zip(*points), style, label=label, markersize=4)
    values = [h[k] for h in history for k in ("train", "val") if h.get(k) is not None]
    if min(values) > 0 and max(values) / min(values) > LOG_SPAN:
        ax.set_yscale("log")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch (0 = the checkpoint before tuning)")
    ax.set_ylabel(f"{loss} loss")
    ax.set_title(f"modelgen finetune ({method}): loss per epoch")
    ax.grid(True, alpha=0.3)
    ax.legend()
    return fig


def _format(path: str) -> str:
    return Path(path).suffix.lower().lstrip(".")
