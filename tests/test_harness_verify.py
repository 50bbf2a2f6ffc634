"""`modelgen verify`: strict load with a grouped report, smoke-test inputs, TorchScript round trip."""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn

from codegen.harness.inputs import smoke_inputs
from tests.harness_support import dedent, one_line_error, run_cli, run_json, write_tiny

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit:DeprecationWarning")

# Three small models for the checks a good file passes in different ways, and one broken one.
MODELS = dedent("""
    import torch
    import torch.nn as nn


    class Stack(nn.Module):
        def __init__(self, width: int = 8, depth: int = 3) -> None:
            super().__init__()
            self.inp = nn.Linear(4, width)
            self.layers = nn.ModuleList(nn.Linear(width, width) for _ in range(depth))
            self.norms = nn.ModuleList(nn.LayerNorm(width) for _ in range(depth))
            self.out = nn.Linear(width, 2)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            h = self.inp(x)
            for layer, norm in zip(self.layers, self.norms):
                h = norm(h + torch.relu(layer(h)))
            return self.out(h)


    class Broken(nn.Module):  # depth 2, width 6 and a renamed head: what a stale file looks like
        def __init__(self) -> None:
            super().__init__()
            self.inp = nn.Linear(4, 6)
            self.layers = nn.ModuleList(nn.Linear(6, 6) for _ in range(2))
            self.norms = nn.ModuleList(nn.LayerNorm(6) for _ in range(2))
            self.head = nn.Linear(6, 2)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.head(self.inp(x))


    class Declared(nn.Module):  # the first layer would suggest [2, 8, 4]; the model says [3, 4]
        def __init__(self) -> None:
            super().__init__()
            self.inp = nn.Linear(4, 2)

        @staticmethod
        def example_inputs() -> tuple[torch.Tensor, ...]:
            return (torch.ones(3, 4),)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            assert x.dim() == 2
            return self.inp(x)


    class Unscriptable(nn.Module):  # generator expressions do not script: traced instead
        def __init__(self) -> None:
            super().__init__()
            self.parts = nn.ModuleList(nn.Linear(4, 4) for _ in range(2))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return sum(p(x) for p in self.parts)


    class Opaque(nn.Module):  # starts with a PReLU: no way to know its input shape
        def __init__(self) -> None:
            super().__init__()
            self.act = nn.PReLU()
            self.lin = nn.Linear(4, 4)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.lin(self.act(x))
""")


@pytest.fixture
def models(tmp_path):
    path = tmp_path / "models.py"
    path.write_text(MODELS)
    namespace: dict = {}
    exec(compile(MODELS, "models", "exec"), namespace)

    def checkpoint(name: str) -> str:
        torch.manual_seed(0)
        ckpt = tmp_path / f"{name}.pt"
        torch.save({"state_dict": namespace[name]().state_dict()}, ckpt)
        return ckpt

    return path, checkpoint


def test_good_model_passes_every_check(capsys, models):
    path, checkpoint = models
    code, out, _ = run_cli(capsys, "verify", checkpoint("Stack"), f"{path}:Stack")
    assert code == 0
    assert "ok       strict load: 16 keys; all keys match" in out
    assert "forward: ([2, 8, 4]) from synthesized from the first layer Linear -> [2, 8, 2]" in out
    assert "torch.jit.script; reloaded: all keys match; max |reloaded - eager| = 0" in out


def test_broken_model_gets_a_grouped_report_and_exit_1(capsys, models):
    path, checkpoint = models
    code, out, err = run_cli(capsys, "verify", checkpoint("Stack"), f"{path}:Broken")
    assert code == 1
    assert out.splitlines() == [
        "missing from the checkpoint: 2 key(s)",
        "  head: weight, bias",
        "unexpected (not in the model): 6 key(s)",
        "  layers.2: weight, bias",
        "  norms.2: weight, bias",
        "  out: weight, bias",
        "size mismatch (model vs checkpoint): 10 key(s)",
        "  inp: weight [6, 4] vs [8, 4], bias [6] vs [8]",
        "  layers.{0-1}: weight [6, 6] vs [8, 8], bias [6] vs [8]",
        "  norms.{0-1}: weight [6] vs [8], bias [6] vs [8]",
    ]
    assert one_line_error(err).endswith("2 missing, 6 unexpected, 10 size mismatches")


def test_verify_json_summary(capsys, models):
    path, checkpoint = models
    code, summary, _ = run_json(capsys, "verify", checkpoint("Stack"), f"{path}:Stack")
    assert code == 0 and summary["ok"] is True and summary["torchscript_vs_eager_max_diff"] == 0.0
    assert [s["name"] for s in summary["steps"]] == [
        "strict load",
        "forward",
        "outputs",
        "torchscript",
    ]
    code, summary, _ = run_json(capsys, "verify", checkpoint("Stack"), f"{path}:Broken")
    assert (
        code == 1 and summary["ok"] is False and summary["load"]["summary"].startswith("2 missing")
    )


def test_example_inputs_are_used_when_declared(capsys, models):
    path, checkpoint = models
    code, out, _ = run_cli(capsys, "verify", checkpoint("Declared"), f"{path}:Declared")
    assert code == 0 and "forward: ([3, 4]) from example_inputs() -> [3, 2]" in out


def test_unscriptable_model_is_traced_and_says_so(capsys, models):
    path, checkpoint = models
    code, out, _ = run_cli(capsys, "verify", checkpoint("Unscriptable"), f"{path}:Unscriptable")
    assert code == 0
    assert "torch.jit.trace (script failed:" in out and "max |reloaded - eager| = 0" in out


def test_unknown_input_shape_skips_the_forward_checks_plainly(capsys, models):
    path, checkpoint = models
    code, out, _ = run_cli(capsys, "verify", checkpoint("Opaque"), f"{path}:Opaque")
    assert code == 0
    assert (
        "skipped  forward: no inputs: its first layer, PReLU, does not tell the input shape" in out
    )
    assert "outputs not compared (no inputs)" in out


def test_data_replaces_synthesized_inputs_and_bad_data_is_exit_2(capsys, tmp_path):
    weights, data, model = write_tiny(tmp_path)
    code, out, _ = run_cli(capsys, "verify", weights, f"{model}:TinyRegressor", "--data", data)
    assert code == 0 and "forward: ([4, 6]) from tiny_data.pt" in out
    torch.save({"x": torch.randn(5, 7)}, tmp_path / "wide.pt")
    code, _, err = run_cli(
        capsys, "verify", weights, f"{model}:TinyRegressor", "--data", tmp_path / "wide.pt"
    )
    assert code == 2 and "wide.pt: inputs (x [5, 7]) do not fit the model" in one_line_error(err)


def test_missing_batch_counters_load_with_a_note(capsys, tmp_path):
    weights, _, model = write_tiny(tmp_path)
    state = torch.load(weights, weights_only=True)
    del state["body.1.num_batches_tracked"]  # as torch < 0.4.1 saved BatchNorm
    torch.save(state, tmp_path / "old.pt")
    code, out, _ = run_cli(capsys, "verify", tmp_path / "old.pt", f"{model}:TinyRegressor")
    assert code == 0
    assert "1 BatchNorm num_batches_tracked counter(s) are not in the checkpoint" in out


@pytest.mark.parametrize(
    "module, shapes",
    [
        (nn.Embedding(11, 4), [(2, 8)]),
        (nn.Linear(5, 3), [(2, 8, 5), (2, 5)]),
        (nn.Conv1d(3, 4, 3), [(2, 3, 16)]),
        (nn.Conv2d(3, 4, 3), [(2, 3, 16, 16)]),
        (nn.LSTM(6, 4, batch_first=True), [(2, 8, 6)]),
        (nn.GRU(6, 4), [(8, 2, 6)]),
    ],
)
def test_smoke_inputs_follow_the_first_layer(module, shapes):
    class Wrapper(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.first = module

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            out = self.first(x)
            return out[0] if isinstance(out, tuple) else out

    model = Wrapper()
    smoke = smoke_inputs(model)
    assert [tuple(c[0].shape) for c in smoke.candidates] == shapes
    model(*smoke.candidates[0])  # the first guess runs
    if isinstance(module, nn.Embedding):
        ids = smoke.candidates[0][0]
        assert ids.dtype == torch.int64 and 0 <= ids.min() and ids.max() < 11


def test_non_persistent_buffers_do_not_fail_the_export_check(tmp_path, capsys):
    """TorchScript lists non-persistent buffers in its state dict; verify names them instead of failing."""
    from codegen.cli import main

    model_file = tmp_path / "scaled.py"
    model_file.write_text(
        "import torch\nimport torch.nn as nn\n\n\n"
        "class Scaled(nn.Module):\n"
        "    def __init__(self) -> None:\n"
        "        super().__init__()\n"
        "        self.fc = nn.Linear(4, 2)\n"
        "        self.register_buffer('scale', torch.ones(4), persistent=False)\n\n"
        "    @staticmethod\n"
        "    def example_inputs() -> tuple[torch.Tensor, ...]:\n"
        "        return (torch.randn(3, 4),)\n\n"
        "    def forward(self, x: torch.Tensor) -> torch.Tensor:\n"
        "        return self.fc(x * self.scale)\n"
    )
    torch.save({"fc.weight": torch.zeros(2, 4), "fc.bias": torch.zeros(2)}, tmp_path / "w.pt")
    assert main(["verify", str(tmp_path / "w.pt"), f"{model_file}:Scaled"]) == 0
    assert "non-persistent buffer(s) scale" in capsys.readouterr().out
