"""Resolve a MODEL argument (`model.py`, `model.py:Class`, `package.module:Class`) to an nn.Module
class, and the constructor arguments `--init-args` / `--init-arg` give it.

Imports see what `python -m` and `python file.py` would: the current directory, and for a file its
own folder, so a model file's sibling imports (`from blocks import Block`) work."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Sequence

from codegen.errors import ModelgenError

DEFAULT_CLASS = "RecoveredModel"


def looks_like_model(arg: str) -> bool:
    """A MODEL argument (`x.py`, `x.py:Class`, `package.module:Class`) rather than a checkpoint: an
    existing file or folder not ending in .py is a checkpoint, anything else goes by its form. So a
    checkpoint is never imported, and a model file never unpickled."""
    if not arg.endswith(".py") and Path(arg).exists():
        return False
    target, colon, name = arg.rpartition(":")
    if colon and name.isidentifier():
        return target.endswith(".py") or all(part.isidentifier() for part in target.split("."))
    return arg.endswith(".py")


def load_model_class(spec: str) -> Any:
    import torch.nn as nn

    target, _, class_name = spec.partition(":")
    if target.endswith(".py") or Path(target).is_file():
        module = _import_file(Path(target))
    else:
        try:
            with _importable(Path.cwd()):
                module = importlib.import_module(target)
        except ImportError as e:
            raise ModelgenError(f"{spec}: cannot import {target} ({e})") from None
    if class_name:
        cls = getattr(module, class_name, None)
        if cls is None:
            raise ModelgenError(f"{spec}: no class {class_name} in {target}")
    else:
        cls = getattr(module, DEFAULT_CLASS, None) or _last_module_class(module, nn.Module)
        if cls is None:
            raise ModelgenError(f"{spec}: defines no nn.Module class; name one with {target}:Class")
    if not (isinstance(cls, type) and issubclass(cls, nn.Module)):
        raise ModelgenError(f"{spec}: {cls!r} is not an nn.Module class")
    return cls


def _import_file(path: Path) -> Any:
    if not path.is_file():
        raise ModelgenError(f"{path}: no such file")
    # A unique, stable module name per file, registered in sys.modules: torch.jit.script reads the
    # class's source through its module.
    digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:12]
    name = f"modelgen_user_{path.stem}_{digest}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ModelgenError(f"{path}: cannot import this file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        with _importable(Path.cwd(), path.resolve().parent):
            spec.loader.exec_module(module)
    except Exception as e:
        del sys.modules[name]
        raise ModelgenError(f"{path}: importing it failed: {type(e).__name__}: {e}") from None
    return module


@contextmanager
def _importable(*folders: Path) -> Iterator[None]:
    """The folders on sys.path (first) while the user's module imports; removed after, so one
    process that imports models from several folders does not mix their sibling modules up."""
    added = [str(f) for f in folders if str(f) not in sys.path]
    sys.path[:0] = added
    try:
        yield
    finally:
        for folder in added:
            if folder in sys.path:
                sys.path.remove(folder)


def parse_init_args(json_text: str | None, pairs: Sequence[str] = ()) -> dict[str, Any]:
    """`--init-args '{"depth": 4}'` and `--init-arg depth=4` (repeatable; each value is read as JSON,
    else kept as a string) merged into the keyword arguments of the MODEL constructor."""
    kwargs: dict[str, Any] = {}
    if json_text is not None:
        try:
            parsed = json.loads(json_text)
        except json.JSONDecodeError as e:
            raise ModelgenError(f"--init-args: not valid JSON ({e})") from None
        if not isinstance(parsed, dict):
            raise ModelgenError("--init-args: expected a JSON object, e.g. '{\"depth\": 4}'")
        kwargs.update(parsed)
    for pair in pairs:
        name, eq, text = pair.partition("=")
        if not eq or not name.isidentifier():
            raise ModelgenError(f"--init-arg {pair}: expected NAME=VALUE, e.g. depth=4")
        try:
            kwargs[name] = json.loads(text)
        except json.JSONDecodeError:
            kwargs[name] = text
    bad = [name for name in kwargs if not str(name).isidentifier()]
    if bad:
        raise ModelgenError(f"--init-args: {bad[0]!r} is not an argument name")
    return kwargs


def _last_module_class(module: Any, base: type) -> Any:
    """Generated files define the top class last; hand-written ones usually do too."""
    found = [
        v
        for v in vars(module).values()
        if isinstance(v, type) and issubclass(v, base) and v.__module__ == module.__name__
    ]
    return found[-1] if found else None
