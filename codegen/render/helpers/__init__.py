"""The module-level functions a generated forward may call (rotary, masks, windows, padding...),
printed once above the classes of a file that uses one.

Fixed text owned by modelgen: nothing from a checkpoint reaches it. Each entry's key is the name its
text defines (tests/test_graph_printer.py checks), so two helpers can never share a name.

One module per domain, each with its own HELPERS and HELPER_IMPORTS (a new helper goes beside its
kind, both entries in one file); this package assembles them into the two tables the renderer
reads: rotary.py, positions.py, inputs.py, masks.py, relative.py, attention.py, windows.py,
routing.py, recurrent.py, norms.py, image.py.
"""

from __future__ import annotations

from codegen.render.helpers import (
    attention,
    image,
    inputs,
    masks,
    norms,
    positions,
    recurrent,
    relative,
    rotary,
    routing,
    windows,
)

DOMAINS = (
    rotary,
    positions,
    inputs,
    masks,
    relative,
    attention,
    windows,
    routing,
    recurrent,
    norms,
    image,
)

# What a helper's own text uses beyond torch: the file imports it too (a "helper:" entry: another
# helper it calls, printed beside it).
HELPER_IMPORTS: dict[str, tuple[str, ...]] = {}
# Module-level functions a forward may call, printed once above the classes when one is used.
# Fixed text owned by modelgen: nothing from a checkpoint reaches it.
HELPERS: dict[str, str] = {}
for _domain in DOMAINS:
    HELPER_IMPORTS.update(_domain.HELPER_IMPORTS)
    HELPERS.update(_domain.HELPERS)
