"""Values the checkpoint does not record: defaults by convention, pinned by hints or metadata.

Precedence: a `--hints` entry for the module path, then a matching name in the checkpoint's
metadata (`config`, `model_args`, `hyper_parameters`, safetensors metadata...), then the default.
"""

from __future__ import annotations

import fnmatch
from pathlib import Path
from typing import Any

from codegen.errors import ModelgenError
from codegen.ir import Choice

# Metadata names that mean the same choice, as trainers and libraries spell them.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "nhead": (
        "nhead",
        "n_head",
        "num_heads",
        "num_attention_heads",
        "n_heads",
        "heads",
        "num_head",
    ),
    "activation": ("activation", "hidden_act", "activation_function", "act", "act_fn"),
    "norm_first": ("norm_first", "pre_norm", "prenorm", "normalize_before"),
    "batch_first": ("batch_first",),
    "eps": ("layer_norm_eps", "layer_norm_epsilon", "norm_eps", "eps", "rms_norm_eps"),
    "num_groups": ("num_groups", "groups", "gn_groups"),
    "nonlinearity": ("nonlinearity",),
}


class ChoiceResolver:
    """Makes every choice of one analysis, and remembers them (calibration searches over them)."""

    def __init__(
        self,
        hints: dict[str, dict[str, Any]] | None = None,
        metadata: dict[str, Any] | None = None,
        calibrated: dict[tuple[str, str], Any] | None = None,
    ):
        self.hints = hints or {}
        self.metadata = _flatten(metadata or {})
        self.calibrated = calibrated or {}  # (path, name) -> value picked by `generate --calibrate`
        self.used_hints: set[tuple[str, str]] = set()
        self.made: list[Choice] = []

    def choose(
        self, path: str, name: str, default: Any, alternatives: list[Any], note: str = ""
    ) -> Choice:
        choice = self._choose(path, name, default, alternatives, note)
        choice.path = path
        self.made.append(choice)
        return choice

    def _choose(
        self, path: str, name: str, default: Any, alternatives: list[Any], note: str
    ) -> Choice:
        alternatives = _ordered([a for a in alternatives if a != default])
        if (path, name) in self.calibrated:
            value = self.calibrated[(path, name)]
            return Choice(
                name,
                value,
                _ordered([a for a in [default, *alternatives] if a != value]),
                "calibrated",
                "generate --calibrate",
            )
        for pattern, values in self.hints.items():
            if name in values and _path_matches(pattern, path):
                self.used_hints.add((pattern, name))
                value = values[name]
                return Choice(
                    name,
                    value,
                    _ordered([a for a in [default, *alternatives] if a != value]),
                    "hint",
                    f"hints [{pattern}]",
                )
        for key in SYNONYMS.get(name, (name,)):
            if key in self.metadata:
                value = self.metadata[key][1]
                if _fits(value, default, alternatives):
                    return Choice(
                        name,
                        value,
                        _ordered([a for a in [default, *alternatives] if a != value]),
                        "metadata",
                        f"checkpoint metadata {self.metadata[key][0]}",
                    )
        return Choice(name, default, alternatives, "default", note)

    def unused_hints(self) -> list[str]:
        return [
            f"[{p}] {n}"
            for p, values in self.hints.items()
            for n in values
            if (p, n) not in self.used_hints
        ]


def _ordered(values: list[Any]) -> list[Any]:
    """Numbers ascending; anything else keeps the order the recogniser gave."""
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return sorted(values)
    return values


def _path_matches(pattern: str, path: str) -> bool:
    """A hint for a module applies to everything inside it; globs match whole paths."""
    if pattern in ("*", "") or path == pattern or path.startswith(pattern + "."):
        return True
    return fnmatch.fnmatchcase(path, pattern) or fnmatch.fnmatchcase(path, pattern + ".*")


def _fits(value: Any, default: Any, alternatives: list[Any]) -> bool:
    """A metadata value is used only when it is one of the values that fit the shapes."""
    if isinstance(default, bool):
        return isinstance(value, bool)
    if alternatives:
        return value == default or value in alternatives
    return isinstance(value, type(default)) and not isinstance(value, bool)


def _flatten(metadata: dict[str, Any], prefix: str = "") -> dict[str, tuple[str, Any]]:
    """Every scalar in nested metadata by its last key name, with the path it was found at."""
    out: dict[str, tuple[str, Any]] = {}
    for k, v in metadata.items():
        path = f"{prefix}.{k}" if prefix else k
        if isinstance(v, dict):
            for name, found in _flatten(v, path).items():
                out.setdefault(name, found)
        elif isinstance(v, (int, float, str, bool)):
            out.setdefault(k, (path, v))
    return out


def load_hints(path: str | None) -> dict[str, dict[str, Any]]:
    """`--hints` TOML: a table per module path (globs allowed), e.g. `["transformer_encoder"] nhead = 4`."""
    if not path:
        return {}
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    try:
        data = tomllib.loads(Path(path).read_text())
    except FileNotFoundError:
        raise ModelgenError(f"{path}: no such hints file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ModelgenError(f"{path}: not valid TOML ({e})") from None
    hints: dict[str, dict[str, Any]] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            hints[key] = value
        else:  # top-level keys apply everywhere
            hints.setdefault("*", {})[key] = value
    return hints
