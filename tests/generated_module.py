"""Import a generated (or test-written) model file as a module of its own, as the tests need it."""

from __future__ import annotations

import importlib.util
import itertools
import sys
from pathlib import Path
from types import ModuleType

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
