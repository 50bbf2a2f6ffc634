"""Import a generated (or test-written) model file as a module of its own, as the tests need it."""

from __future__ import annotations

import hashlib
import importlib.util
import itertools
import sys
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, TypeVar

T = TypeVar("T")

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


_by_content: dict[tuple, Any] = {}
_scripted: set[str] = set()


def once_per_content(checkpoint: Path, setting: Any, generate: Callable[[], T]) -> T:
    """`generate()` once per process for a checkpoint file's bytes and `setting` (whatever else
    goes into the generate: options, flags); a later call with the same pair gets the first one's
    result. The generate is deterministic, so a repeat of it proves nothing new."""
    key = (hashlib.sha256(Path(checkpoint).read_bytes()).digest(), setting)
    if key not in _by_content:
        _by_content[key] = generate()
    return _by_content[key]


def script_once(model: Any, source: str) -> None:
    """torch.jit.script(model) unless a model of the same generated source was scripted in this
    process: scripting compiles the classes of the file, the same for every instance of them."""
    import torch

    if source not in _scripted:
        torch.jit.script(model)
        _scripted.add(source)


def cli_generate(*args: Any) -> Any:
    """Run `modelgen generate ARGS` in-process, assert it exits 0, and return the GenerateReport of
    the generate it ran: a test that also reads the analysis (`report.ir`: trust levels, warnings)
    takes it from this run, not from a second generate of the same checkpoint (deterministic, so a
    repeat proves nothing new)."""
    import codegen.generate as generate
    from codegen.cli.main import main

    reports = []
    original = generate.generate_file

    def kept(*a: Any, **k: Any) -> Any:
        reports.append(original(*a, **k))
        return reports[-1]

    generate.generate_file = kept  # the CLI imports it from the module when it runs
    try:
        assert main(["generate", *map(str, args)]) == 0
    finally:
        generate.generate_file = original
    (report,) = reports
    return report


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
