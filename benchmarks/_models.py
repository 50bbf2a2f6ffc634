"""The checkpoints the benchmarks generate from, built in code: one model family, scaled two ways.

`Net` is an input projection, `depth` identical residual-free MLP blocks (LayerNorm, Linear up, Linear
down), a final norm and a head: 6 keys a block, so depth sets the key count, and width sets the bytes
without changing a single key name. modelgen infers its whole forward, so the generated file is the
complete one a user would get.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
import torch.nn as nn


class Block(nn.Module):
    def __init__(self, width: int, hidden: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(width)
        self.fc_in = nn.Linear(width, hidden)
        self.fc_out = nn.Linear(hidden, width)


class Net(nn.Module):
    def __init__(self, width: int, depth: int, inputs: int = 16, outputs: int = 4) -> None:
        super().__init__()
        self.embed = nn.Linear(inputs, width)
        self.blocks = nn.ModuleList(Block(width, 4 * width) for _ in range(depth))
        self.norm = nn.LayerNorm(width)
        self.head = nn.Linear(width, outputs)


def state_dict(width: int, depth: int) -> dict[str, torch.Tensor]:
    """Real (zero) tensors of Net's keys and shapes; built on the meta device first, so a 1.5 GB model
    costs one allocation per tensor and no random initialisation."""
    with torch.device("meta"):
        shapes = Net(width, depth).state_dict()
    return {k: torch.zeros(v.shape, dtype=v.dtype) for k, v in shapes.items()}


def save(state: dict[str, torch.Tensor], path: Path) -> Path:
    """A torch zip file (.pt) or a safetensors file, by suffix."""
    if path.suffix == ".safetensors":
        from safetensors.torch import save_file

        save_file(state, str(path))
    else:
        torch.save(state, path)
    return path


def save_sharded(state: dict[str, torch.Tensor], folder: Path, shards: int) -> Path:
    """A Hugging Face style set: `shards` safetensors files and the index.json that maps keys to them."""
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    names = list(state)
    per = -(-len(names) // shards)
    weight_map: dict[str, str] = {}
    for i in range(shards):
        shard = f"model-{i + 1:05d}-of-{shards:05d}.safetensors"
        part = names[i * per : (i + 1) * per]
        save_file({k: state[k] for k in part}, str(folder / shard))
        weight_map.update(dict.fromkeys(part, shard))
    total = sum(t.numel() * t.element_size() for t in state.values())
    index = folder / "model.safetensors.index.json"
    index.write_text(
        json.dumps({"metadata": {"total_size": total}, "weight_map": weight_map}, indent=2)
    )
    return index


def size_text(path: Path) -> str:
    """A file's (or a folder's files') size in decimal units, as file managers show it."""
    files = [path] if path.is_file() else [p for p in path.iterdir() if p.is_file()]
    size = sum(p.stat().st_size for p in files)
    for unit, name in ((1e9, "GB"), (1e6, "MB"), (1e3, "kB")):
        if size >= unit:
            return f"{size / unit:.{2 if unit == 1e9 else 0}f} {name}"
    return f"{size} bytes"
