"""The search's budget: seconds (`--budget`) and candidates (`--candidates`), charged once per
candidate; the share one order of search may use before the other takes over (ShareSpent); the
grace that lets a spent search still take back its changes; and the thread count candidates run
with (one where the machine is busy, or where only a count bounds the search)."""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator

DEFAULT_BUDGET_S = 120.0  # `generate --budget`: seconds of search before the best so far is taken
DEFAULT_EVALUATIONS = 600  # and candidates
GRACE = 0.2  # of --budget, for taking back changes once the search's time ran out


class BudgetSpent(Exception):
    """The search's time or evaluation budget ran out: it stops with the best found so far."""


class ShareSpent(Exception):
    """One order of search used its share of the candidates: the next order takes over."""


@dataclass
class Budget:
    """`seconds=None`: no clock, only the candidate count stops the search, so what it finds does
    not depend on how busy the machine is (tests and benchmarks: `generate --candidates N`)."""

    seconds: float | None = DEFAULT_BUDGET_S
    evaluations: int = DEFAULT_EVALUATIONS
    started: float = field(default_factory=time.monotonic)
    used: int = 0
    spent: str = ""  # what ran out, once it has
    share: int | None = None  # the count at which the current order of search gives way
    share_s: float | None = None  # and the elapsed seconds

    def charge(self) -> None:
        if self.used >= self.evaluations:
            self.spent = f"{self.evaluations} candidates"
        elif self.seconds is not None and time.monotonic() - self.started > self.seconds:
            self.spent = f"{self.seconds:g} s"
        if self.spent:
            raise BudgetSpent(self.spent)
        if (self.share is not None and self.used >= self.share) or (
            self.share_s is not None and self.elapsed > self.share_s
        ):
            raise ShareSpent()
        self.used += 1

    def give_way_after(self, fraction: float) -> None:
        """The current order of search stops (ShareSpent) after this fraction of what is left."""
        self.share = self.used + int(fraction * (self.evaluations - self.used))
        if self.seconds is not None:
            self.share_s = self.elapsed + fraction * max(self.seconds - self.elapsed, 0.0)

    def grace(self, changes: int) -> None:
        """A spent search gets room to take back its `changes` one by one (a candidate each):
        without it every change the search made stays, and the file calls calibrated what the
        data never showed. The clock gives a fifth of its time again; a count gives exactly one
        candidate per change (as deterministic as the count itself)."""
        if self.spent.endswith(" s"):
            self.spent, self.seconds = "", self.elapsed + GRACE * (self.seconds or 0.0)
        elif self.spent:
            self.spent, self.evaluations = "", self.used + changes

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started


@contextmanager
def _threads_for_small_ops(always: bool = False) -> Iterator[None]:
    """Candidates run a few dozen samples: on a machine already busier than its cores, torch's
    intra-op threads mostly wait for each other (a 200-layer MLP's search took 4x longer with 2
    threads than with 1 at load 12 on 2 cores), so the search then runs on one thread. `always`:
    one thread whatever the load, so that no score's last bits (a reduction split another way)
    depend on the machine's load: a search bounded by a candidate count is then reproducible."""
    import os

    import torch

    before = torch.get_num_threads()
    try:
        busy = always or os.getloadavg()[0] >= (os.cpu_count() or 1)
    except OSError:  # no load average on this platform
        busy = False
    if busy:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)
