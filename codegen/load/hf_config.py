"""`config.json` beside the weights of a Hugging Face style folder: evidence for choices.

Read as plain JSON (never executed), size-capped, reduced to JSON-safe values; its values reach the
generated file only as choice values checked by the patterns that use them, and as cited key names.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from codegen.errors import ModelgenError
from codegen.load.unwrap import _json_safe

CONFIG_NAME = "config.json"
MAX_BYTES = 4 << 20  # configs are a few kB; a larger file is not one


def read_config(directory: Path) -> dict[str, Any]:
    """The folder's config.json as a dict, or {} when there is none."""
    path = directory / CONFIG_NAME
    if not path.is_file():
        return {}
    try:
        if path.stat().st_size > MAX_BYTES:
            raise ModelgenError(f"{path.name}: larger than {MAX_BYTES >> 20} MiB, not a config")
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as e:
        raise ModelgenError(f"{directory.name}/{CONFIG_NAME}: not valid JSON ({e})") from None
    if not isinstance(data, dict):
        raise ModelgenError(f"{directory.name}/{CONFIG_NAME}: not a JSON object")
    return _json_safe(data)
