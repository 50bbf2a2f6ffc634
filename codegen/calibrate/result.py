"""What a calibration returns: each candidate tried (`Trial`) and the outcome (`Calibration`), with
the lines it gives the terminal and the generated file's docstring (what the data proved, what it
cost); and the two thresholds every stage of the search reads: when an error counts as an exact
match (EXACT) and how much worse the fit must get without a change for the change to count as
calibrated (MEASURABLE)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

EXACT = 1e-12  # relative error treated as an exact match: stop searching
# How much worse the fit must get without a change for the change to count as calibrated: 1% of the
# error against recorded outputs; 10% against training targets, whose noise moves every candidate.
MEASURABLE = {"outputs": 0.01, "targets": 0.10}


@dataclass
class Trial:
    path: str
    name: str
    value: Any
    error: float
    kept: bool = False
    failure: str = ""  # why the candidate could not run (error inf), first line


@dataclass
class Calibration:
    picked: dict[tuple[str, str], Any]  # only the changes that measurably improved the fit
    error: float  # relative error of the final choices on the search subset
    baseline: float  # the same with every default
    trials: list[Trial] = field(default_factory=list)
    samples: int = 0
    evidence: str = (
        "outputs"  # outputs: the original's recorded outputs | targets: training targets
    )
    undecided: list[str] = field(default_factory=list)  # changes the data did not measurably favour
    reproduces: bool = False  # the final model matches DATA's outputs within atol/rtol
    max_abs: float | None = None  # the final model against DATA's outputs
    compared: int = 0  # on this many samples
    lowest: float = float("inf")  # the best and worst finite candidate scores
    highest: float = float("inf")
    failed: int = 0  # candidates that could not run
    preferred: dict[tuple[str, str], Any] = field(default_factory=dict)  # targets: not applied
    preferred_error: float = float("inf")
    evaluated: int = 0  # candidates built and run
    seconds: float = 0.0  # the search's wall time
    budget_spent: str = ""  # "120 s" / "600 candidates" when the budget stopped the search
    replayed: int = 0  # member calls answered from the best model's record, not run
    member_calls: int = 0  # member calls in all candidates (replayed or run)
    # Where the candidates' seconds went: write (analyze and render), build (compile, load the
    # tensors), run (the forward, replay and recording included).
    phases: dict[str, float] = field(
        default_factory=lambda: {"write": 0.0, "build": 0.0, "run": 0.0}
    )

    def cost(self) -> str:
        """How much searching it took, for the terminal (never the file: it would not reproduce)."""
        line = (
            f"{self.evaluated} candidates evaluated in {self.seconds:.1f} s, "
            f"final relative error {self.error:.3g}"
        )
        if self.member_calls:
            line += f" ({self.replayed} of {self.member_calls} layer calls reused, not re-run)"
        if self.budget_spent:
            line += f"; stopped when the budget ({self.budget_spent}) ran out"
        return line

    @property
    def separates(self) -> bool:
        """Did the data tell the candidates apart (their scores differ measurably)?"""
        if self.highest == float("inf"):
            return False
        return self.highest - self.lowest > MEASURABLE[self.evidence] * max(self.highest, EXACT)

    def verdict(self) -> str:
        """One line for the terminal: what the calibration proved."""
        if self.evidence == "targets":
            return (
                "DATA holds training targets, not the original's outputs: exactness cannot be "
                f"proven and no choice is taken from them; relative loss after refitting the head "
                f"{self.baseline:.3g} with the defaults; " + self._decided()
            )
        if self.reproduces:
            return (
                f"reproduces DATA's outputs on {self.compared} samples "
                f"(max abs diff {self.max_abs:.3g})"
            )
        diff = "" if self.max_abs is None else f"max abs diff {self.max_abs:.3g}, "
        return (
            f"does not reproduce DATA's outputs ({diff}relative error {self.error:.3g}, "
            f"defaults {self.baseline:.3g}); {self._decided()}"
        )

    def _decided(self) -> str:
        spread = (
            f"candidates scored {self.lowest:.3g} to {self.highest:.3g}"
            if self.highest < float("inf")
            else "no candidate ran"
        )
        if self.failed:
            spread += f", {self.failed} could not run"
        if self.preferred:
            names = ", ".join(f"{p or '(top)'} {n} = {v!r}" for (p, n), v in self.preferred.items())
            how = (
                f"the data prefers {names} (loss {self.preferred_error:.3g}); pin it with --hints "
                "only if you know it is right"
            )
        elif self.evidence == "targets":
            how = "the data does not identify any choice; defaults kept"
        elif self.picked and self.reproduces:
            names = ", ".join(sorted({name for _, name in self.picked}))
            how = f"the data decided {names}"
        elif self.picked:
            names = ", ".join(sorted({name for _, name in self.picked}))
            how = f"{names} lowered the error, but nothing is proven while the forward differs"
        elif self.separates:
            how = "no change beat the defaults"
        else:
            how = "the data does not tell the choices apart; defaults kept"
        if self.undecided and self.evidence == "outputs":
            how += f" (not measurably better, kept at defaults: {', '.join(self.undecided)})"
        return f"{spread}: {how}"

    def docstring_note(self, data_name: str) -> str:
        return f"Calibrated on {data_name} ({self.samples} samples): {self.verdict()}."
