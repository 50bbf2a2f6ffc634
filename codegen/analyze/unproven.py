"""Classes whose forward rests on values a calibration picked without reproducing the data.

A calibration that reproduces DATA proves the whole file (every class says exact). One that runs
out of budget, or finds nothing that fits, still writes the best values it scored, and a pattern
that reads a calibrated value as settled (the block's activation, where its residual adds) would
then say `inferred` for a forward no evidence proves: the file could run, differ, and say nothing.
So where the file is not verified, a class holding a calibrated choice says `guessed`, naming it.
"""

from __future__ import annotations

from typing import Any

from codegen.ir import ModelIR, class_choices
from codegen.safetext import printable


def flag_unproven_calibration(ir: ModelIR, picked: dict[tuple[str, str], Any] | None) -> None:
    """Inferred classes holding a choice the calibration `picked` ((path, name) -> value) say
    guessed, unless DATA verified the file."""
    if ir.source.verified or not picked:
        return
    for cls in ir.classes:
        held = sorted(
            {
                f"{c.name} = {printable(repr(c.value))}"
                for c in class_choices([cls])
                if c.source == "calibrated" and (c.path, c.name) in picked
            }
        )
        if held and cls.forward.trust == "inferred" and not cls.forward.missing:
            cls.forward.trust = "guessed"
            cls.forward.trust_note = (
                f"calibration picked {', '.join(held[:3])}{', ...' if len(held) > 3 else ''} "
                "without reproducing the recorded outputs, so nothing proves them"
            )
