"""What a new user meets: importing their own model code, constructor arguments, output that fits
pipes and habits (--debug anywhere, --version, defaults in --help), finetune's messages, plot and
Ctrl-C, diff's and inspect's wording, and the generated from_checkpoint()."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch
import torch.nn as nn

from codegen import __version__
from tests.conftest import REPO
from tests.harness_support import dedent, one_line_error, run_cli, write_tiny
from tests.generated_module import load_module

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit:DeprecationWarning")

SIBLING = dedent("""
    import torch.nn as nn

    from make_a import make_block


    class Net(nn.Module):
        def __init__(self, width: int) -> None:
            super().__init__()
            self.block = make_block(width)

        def forward(self, x):
            return self.block(x)
""")

HELPER = dedent("""
    import torch.nn as nn


    def make_block(width):
        return nn.Linear(width, 2)
""")


@pytest.fixture
def user_code(tmp_path):
    """mycnn2.py importing its sibling make_a.py, as a user's project does; weights for width 5."""
    folder = tmp_path / "proj"
    folder.mkdir()
    (folder / "mycnn2.py").write_text(SIBLING)
    (folder / "make_a.py").write_text(HELPER)
    torch.save(nn.Linear(5, 2).state_dict(), tmp_path / "w.pt")
    state = {f"block.{k}": v for k, v in nn.Linear(5, 2).state_dict().items()}
    torch.save(state, tmp_path / "w.pt")
    return tmp_path


# ------------------------------------------------------------------------------ MODEL and its args


def test_a_model_file_imports_its_sibling_and_takes_init_args(capsys, user_code, monkeypatch):
    monkeypatch.chdir(user_code)  # the file's folder is not the current one: it must be added
    code, out, _ = run_cli(
        capsys, "verify", "w.pt", "proj/mycnn2.py:Net", "--init-args", '{"width": 5}'
    )
    assert code == 0 and "strict load" in out
    code, out, _ = run_cli(capsys, "diff", "w.pt", "proj/mycnn2.py:Net", "--init-arg", "width=5")
    assert code == 0 and "loads strictly" in out


def test_module_colon_class_imports_from_the_current_folder(capsys, user_code, monkeypatch):
    monkeypatch.chdir(user_code / "proj")
    sys.modules.pop("mycnn2", None)
    try:
        code, out, _ = run_cli(capsys, "verify", "../w.pt", "mycnn2:Net", "--init-arg", "width=5")
    finally:
        sys.modules.pop("mycnn2", None)
        sys.modules.pop("make_a", None)
    assert code == 0, out
    assert str(user_code / "proj") not in sys.path  # added for the import only


def test_missing_constructor_arguments_suggest_init_args(capsys, user_code, monkeypatch):
    monkeypatch.chdir(user_code)
    code, _, err = run_cli(capsys, "diff", "w.pt", "proj/mycnn2.py:Net")
    line = one_line_error(err)
    assert code == 2 and "width" in line and "--init-args" in line


def test_bad_init_args_are_one_line_errors(capsys, user_code, monkeypatch):
    monkeypatch.chdir(user_code)
    for flags in (["--init-args", "{width: 5}"], ["--init-args", "[5]"], ["--init-arg", "5"]):
        code, _, err = run_cli(capsys, "verify", "w.pt", "proj/mycnn2.py:Net", *flags)
        assert code == 2 and "--init-arg" in one_line_error(err)


# ------------------------------------------------------------------------------------ output habits


def _modelgen(*args, **kwargs):
    env = {"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, "-m", "codegen", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        **kwargs,
    )


def test_debug_after_the_subcommand_shows_the_traceback(tmp_path):
    missing = tmp_path / "nope.pt"
    plain = _modelgen("inspect", missing)
    assert plain.returncode == 2 and "Traceback" not in plain.stderr
    for args in (["--debug", "inspect", missing], ["inspect", missing, "--debug"]):
        result = _modelgen(*args)
        assert result.returncode != 0 and "Traceback" in result.stderr, args


def test_version_and_defaults_in_help():
    assert _modelgen("--version").stdout.strip() == f"modelgen {__version__}"
    generate = _modelgen("generate", "--help").stdout
    finetune = " ".join(_modelgen("finetune", "--help").stdout.split())  # unwrap argparse's lines
    assert "(default: generated/model.py)" in " ".join(generate.split())
    assert "(default: 20)" in finetune and "(default: 0.001)" in finetune
    assert "DESIGN.md" not in generate + finetune


def test_piped_output_keeps_long_lines(tmp_path):
    path = tmp_path / ("a_checkpoint_with_a_rather_long_file_name_" * 2 + ".pt")
    torch.save({"a.weight": torch.zeros(3), "b.x": torch.zeros(2, dtype=torch.int64)}, path)
    title = _modelgen("inspect", path).stdout.splitlines()[0]
    assert len(title) > 120 and title.endswith("float32 x1, int64 x1")


def test_a_closed_pipe_ends_quietly(tmp_path):
    torch.save({f"layers.{i}.weight": torch.zeros(2) for i in range(3000)}, tmp_path / "big.pt")
    env = {"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "codegen", "inspect", str(tmp_path / "big.pt"), "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    proc.stdout.readline()  # like `| head -1`
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141 and err == ""


# ----------------------------------------------------------------------------------- finetune


def test_loss_chart_has_axes_title_curves_and_log_scale_when_needed():
    pytest.importorskip("matplotlib")
    from codegen.harness.plot import loss_figure

    small_drop = [{"epoch": e, "train": 6.91 - 0.01 * e, "val": 6.95 - 0.01 * e} for e in range(15)]
    ax = loss_figure(small_drop, "mse", "adam").axes[0]
    assert ax.get_yscale() == "linear"  # 6.91 -> 6.77 is a small drop, drawn as one
    assert ax.get_xlabel().startswith("epoch") and ax.get_ylabel() == "mse loss" and ax.get_title()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["training", "validation"]
    decades = [{"epoch": e, "train": 10.0**-e, "val": None} for e in range(6)]
    ax = loss_figure(decades, "l1", "adam").axes[0]
    assert ax.get_yscale() == "log" and len(ax.get_lines()) == 1


def test_plot_without_matplotlib_is_a_one_line_error(capsys, tmp_path, monkeypatch):
    weights, data, model = write_tiny(tmp_path)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if not installed
    code, _, err = run_cli(
        capsys,
        "finetune",
        weights,
        f"{model}:TinyRegressor",
        "--data",
        data,
        "--train",
        "head",
        "--plot",
        tmp_path / "loss.png",
    )
    assert code == 2 and "pip install" in one_line_error(err)


def test_the_models_own_outputs_say_there_is_nothing_to_tune(capsys, tmp_path):
    weights, data, model = write_tiny(tmp_path)
    module = load_module(model)
    net = module.TinyRegressor()
    net.load_state_dict(torch.load(weights))
    x = torch.load(data)["x"]
    with torch.no_grad():
        torch.save({"x": x, "y": net.eval()(x)}, tmp_path / "own.pt")
    code, _, err = run_cli(
        capsys,
        "finetune",
        weights,
        f"{model}:TinyRegressor",
        "--data",
        tmp_path / "own.pt",
        "--train",
        "head",
        "--device",
        "cpu",
    )
    line = one_line_error(err)
    assert code == 1 and "already" in line and "own outputs" in line and "overfits" not in line


INTERRUPTED = dedent("""
    import torch
    import torch.nn as nn


    class Head(nn.Linear):
        calls = 0

        def forward(self, x):
            if self.training:
                Head.calls += 1
                if Head.calls == 40:  # Ctrl-C arrives in the middle of epoch 4
                    raise KeyboardInterrupt
            return super().forward(x)


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Linear(6, 12), nn.Tanh())
            self.head = Head(12, 3)

        def forward(self, x):
            return self.head(self.body(x))
""")


def test_ctrl_c_keeps_the_best_weights_so_far(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "net.py").write_text(INTERRUPTED)
    torch.manual_seed(0)
    module = load_module(tmp_path / "net.py")
    torch.save(module.Net().state_dict(), "w.pt")
    x = torch.randn(120, 6)
    torch.save({"x": x, "y": torch.tanh(x[:, :3])}, "d.pt")
    code, out, _ = run_cli(
        capsys,
        "finetune",
        "w.pt",
        "net.py:Net",
        "--data",
        "d.pt",
        "--train",
        "head",
        "--method",
        "adam",
        "--lr",
        "0.05",
        "--epochs",
        "50",
        "--batch-size",
        "10",
        "--device",
        "cpu",
    )
    assert code == 130
    assert "interrupted after 3 epoch(s)" in out and "w-interrupted.pt" in out
    kept = torch.load(tmp_path / "w-interrupted.pt")
    assert set(kept) == set(torch.load("w.pt")) and not torch.equal(
        kept["head.weight"], torch.load("w.pt")["head.weight"]
    )


# ------------------------------------------------------------------------------- diff and inspect


def test_a_rename_with_other_shapes_shows_both(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.py").write_text(dedent("""
        import torch.nn as nn


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.body = nn.Linear(4, 8)
                self.fc = nn.Linear(8, 5)
    """))
    torch.save(
        {
            "body.weight": torch.zeros(8, 4),
            "body.bias": torch.zeros(8),
            "classifier.weight": torch.zeros(10, 8),
            "classifier.bias": torch.zeros(10),
        },
        "w.pt",
    )
    code, out, _ = run_cli(capsys, "diff", "w.pt", "m.py:Net")
    (line,) = [l for l in out.splitlines() if "classifier. -> fc." in l]
    assert code == 1 and "bias [10] -> [5]" in line and "weight [10, 8] -> [5, 8]" in line


def test_inspect_labels_optimizer_state(capsys, tmp_path):
    model = nn.Linear(3, 2)
    sgd = torch.optim.SGD(model.parameters(), lr=0.1)  # no tensors in its state: not "ignored"
    torch.save(
        {"model": model.state_dict(), "optimizer": sgd.state_dict(), "epoch": 3}, tmp_path / "c.pt"
    )
    code, out, _ = run_cli(capsys, "inspect", tmp_path / "c.pt")
    lines = out.splitlines()
    assert any("optimizer/training state" in l and "optimizer=" in l for l in lines)
    (meta,) = [l for l in lines if "metadata:" in l]
    assert "optimizer" not in meta and "epoch=3" in meta


# ------------------------------------------------------------------------ generated from_checkpoint


class _Small(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(4, 6)
        self.fc2 = nn.Linear(6, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(torch.relu(self.fc1(x)))


@pytest.mark.parametrize("suffix", [".pt", ".safetensors"])
def test_from_checkpoint_reads_the_trainer_file_in_one_line(capsys, tmp_path, suffix):
    original = _Small().eval()
    wrapped = {f"module._orig_mod.{k}": v for k, v in original.state_dict().items()}
    path = tmp_path / f"trainer{suffix}"
    if suffix == ".pt":
        torch.save({"epoch": 2, "ckpt": {"model": wrapped}}, path)
    else:
        from safetensors.torch import save_file

        save_file(wrapped, str(path))
    code, _, _ = run_cli(capsys, "generate", path, "-o", tmp_path / "model.py")
    assert code == 0
    source = (tmp_path / "model.py").read_text()
    method = source[source.index("    @classmethod") :].split("\n\n")[0]
    assert "def from_checkpoint" in method and max(map(len, method.splitlines())) <= 100
    module = load_module(tmp_path / "model.py")
    model = module.RecoveredModel.from_checkpoint(str(path)).eval()
    x = torch.randn(3, 4)
    with torch.no_grad():
        assert torch.equal(model(x), original(x))
        torch.jit.script(model)  # the classmethod does not get in the way of scripting


def test_from_checkpoint_quotes_a_hostile_container_name(capsys, tmp_path):
    original = _Small().eval()
    name = 'od"d\'\\ key\n"""; import os'
    torch.save({name: {"0": original.state_dict()}}, tmp_path / "c.pt")
    code, _, err = run_cli(
        capsys, "generate", tmp_path / "c.pt", "-o", tmp_path / "model.py", "--key", f"{name}/0"
    )
    assert code == 0, err
    module = load_module(tmp_path / "model.py")
    model = module.RecoveredModel.from_checkpoint(str(tmp_path / "c.pt")).eval()
    x = torch.randn(2, 4)
    with torch.no_grad():
        assert torch.equal(model(x), original(x))
