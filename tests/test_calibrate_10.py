"""Calibration (issue 16, session 10): a budget in candidates, and two orders of search.

- `generate --candidates N` bounds the search by a count alone: no clock, one thread, so what it
  finds does not depend on how busy the machine is; the count is recorded in the file's
  Regenerate line (regenerating repeats the same search).
- The search runs best gain first and, where that is not exact, structure first (a stride or
  padding move that gains is taken before any value that gains more), each from the defaults;
  the first gives way after its share of the candidates, and the better of the two is kept.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn

import codegen.calibrate as calibration
from codegen.cli.main import main
from codegen.load import open_checkpoint

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


class PoolCNN(nn.Module):
    """A max-pool and GroupNorm(4, 8): neither in the keys, so the defaults are not exact."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.norm1 = nn.GroupNorm(4, 8)
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1)
        self.fc = nn.Linear(8, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = nn.functional.max_pool2d(torch.relu(self.norm1(self.conv1(x))), 2)
        return self.fc(torch.relu(self.conv2(x)).mean((2, 3)))


def _recorded(tmp_path):
    torch.manual_seed(0)
    model = PoolCNN().eval()
    with torch.no_grad():
        model.norm1.weight.uniform_(0.5, 1.5)
        model.norm1.bias.uniform_(-0.5, 0.5)
        inputs = torch.randn(8, 3, 12, 12)
        torch.save({"inputs": inputs, "outputs": model(inputs)}, tmp_path / "data.pt")
    torch.save(model.state_dict(), tmp_path / "weights.pt")
    return model, tmp_path / "weights.pt", tmp_path / "data.pt"


def test_a_candidate_count_alone_bounds_the_search_and_is_recorded(tmp_path, capsys):
    _, ckpt, data = _recorded(tmp_path)
    out = tmp_path / "model.py"
    args = ["generate", str(ckpt), "-o", str(out), "--calibrate", str(data), "--candidates", "3"]
    assert main(args) in (0, 1)
    printed = capsys.readouterr()
    assert "stopped when the budget (3 candidates) ran out" in printed.out
    assert "--candidates 3" in out.read_text()  # regenerating repeats the same search


def test_a_candidate_count_must_be_above_zero(tmp_path, capsys):
    _, ckpt, data = _recorded(tmp_path)
    out = tmp_path / "model.py"
    args = ["generate", str(ckpt), "-o", str(out), "--calibrate", str(data), "--candidates", "0"]
    assert main(args) == 2
    assert capsys.readouterr().err.count("\n") == 1 and not out.exists()


def test_with_a_count_the_clock_has_no_say(tmp_path, monkeypatch):
    """The same search, candidate for candidate, on a machine where every candidate seems to take
    ten minutes (the clock jumps at each reading): only the count stops it."""
    model, ckpt, data = _recorded(tmp_path)
    recorded = torch.load(data)
    table = open_checkpoint(str(ckpt)).table

    def search():
        result = calibration.calibrate(
            table,
            model.state_dict(),
            (recorded["inputs"],),
            recorded["outputs"],
            "RecoveredModel",
            {},
            budget_s=None,
            max_evaluations=12,
        )
        return [(t.path, t.name, repr(t.value), t.error) for t in result.trials], result

    calm, calm_result = search()
    now = [0.0]

    def jumping() -> float:
        now[0] += 600.0
        return now[0]

    monkeypatch.setattr(calibration.time, "monotonic", jumping)
    busy, busy_result = search()
    assert busy == calm and busy_result.picked == calm_result.picked
    assert busy_result.budget_spent in ("", "12 candidates")  # never seconds


def _fake_state(error: float) -> tuple:
    return (error, {("x", "stride"): error}, None)


def test_the_second_order_runs_where_the_first_is_not_exact():
    budget = calibration.Budget(None, 100)
    calls = []

    def search(start, structure_first):
        calls.append((structure_first, budget.share))
        return _fake_state(0.0 if structure_first else 0.5)

    best = calibration._both_orders(search, _fake_state(1.0), budget, lambda s: s, {})
    assert best[0] == 0.0
    # best gain first with its share of the count, then structure first with what is left
    assert calls == [(False, int(calibration.FIRST_ORDER_SHARE * 100)), (True, None)]


def test_structure_first_only_where_strides_or_paddings_are_searched():
    from codegen.analyze import analyze
    from codegen.load import TensorEntry, TensorTable

    def orders(model: nn.Module) -> tuple[bool, ...]:
        entries = {
            k: TensorEntry(k, tuple(t.shape), "float32") for k, t in model.state_dict().items()
        }
        table = TensorTable(source="inline", format="test", tensors=entries)
        return calibration.search_orders(analyze(table, class_name="RecoveredModel"))

    assert orders(PoolCNN()) == (False, True)
    assert orders(nn.Sequential(nn.Linear(4, 8), nn.GELU(), nn.Linear(8, 2))) == (False,)


def test_the_first_order_gives_way_after_its_share_and_the_better_is_kept():
    budget = calibration.Budget(None, 10)
    orders = []

    def search(start, structure_first):
        orders.append(structure_first)
        if not structure_first:  # a search that would use every candidate
            while True:
                budget.charge()
        return _fake_state(0.25)

    seen = _fake_state(0.5)  # the best the first order scored before its share ran out
    best = calibration._both_orders(search, _fake_state(1.0), budget, lambda s: seen, {})
    assert orders == [False, True] and best[0] == 0.25
    assert budget.used == int(calibration.FIRST_ORDER_SHARE * 10) and budget.share is None


def test_an_exact_first_order_is_not_searched_again():
    budget = calibration.Budget(None, 10)
    orders = []

    def search(start, structure_first):
        orders.append(structure_first)
        return _fake_state(0.0)

    assert calibration._both_orders(search, _fake_state(1.0), budget, lambda s: s, {})[0] == 0.0
    assert orders == [False]
