"""Import a generated (or test-written) model file as a module of its own, as the tests need it."""

from __future__ import annotations

import importlib.util
import itertools
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

_count = itertools.count()


def load_module(path: str | Path) -> ModuleType:
    """`path` imported under a fresh name, registered in sys.modules so that torch.jit.script can
    read each class's source through its module."""
    name = f"generated_{Path(path).stem}_{next(_count)}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def generate_from_folder(tmp_path: Path, model: Any, *options: str) -> tuple[str, Any]:
    """Save a library model as its library does (a Hugging Face or diffusers folder), generate
    model.py from it with `options`, and return the file's source and its model strict-loaded with
    the folder's weights (eval mode)."""
    from safetensors.torch import load_file

    from codegen.cli.main import main

    folder = tmp_path / "hf"
    model.save_pretrained(folder)
    out = tmp_path / "model.py"
    assert main(["generate", str(folder), "-o", str(out), *options]) == 0
    ours = load_module(out).RecoveredModel().eval()
    ours.load_state_dict(load_file(next(folder.glob("*.safetensors"))), strict=True)
    return out.read_text(), ours
