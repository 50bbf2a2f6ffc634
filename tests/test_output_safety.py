"""Every file modelgen writes: never an input of the same command (not even with --force), never a file
modelgen did not write without --force, folder problems as one line before any work, and no temp file
left behind (failures, SIGINT, SIGTERM, stale ones from a run killed with SIGKILL)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from codegen.output import Output, write_bytes, write_with
from codegen.trailer import WIDTH, format_trailer, recorded_bodies, split_trailer
from tests.harness_support import ROOT, one_line_error, run_cli, sha256, write_tiny
from tests.zoo import build, transformer_encoder_regressor


@pytest.fixture
def mlp_ckpt(tmp_path) -> Path:
    ckpt = tmp_path / "w.pt"
    torch.save(build("mlp").state_dict(), ckpt)
    return ckpt


@pytest.fixture
def tiny(tmp_path):
    weights, data, model = write_tiny(tmp_path)
    return weights, data, model


def files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# ------------------------------------------------------------------------------- inputs are never written


def test_generate_never_overwrites_its_checkpoint_even_with_force(capsys, mlp_ckpt):
    before = sha256(mlp_ckpt)
    code, _, err = run_cli(capsys, "generate", mlp_ckpt, "-o", mlp_ckpt, "--force")
    assert code == 2 and "that is the input checkpoint" in one_line_error(err)
    assert sha256(mlp_ckpt) == before and files(mlp_ckpt.parent) == ["w.pt"]


def test_generate_never_overwrites_a_shard_or_a_file_of_a_checkpoint_folder(capsys, tmp_path):
    state = {k: v.contiguous() for k, v in build("mlp").state_dict().items()}
    keys = sorted(state)
    save_file({k: state[k] for k in keys[:3]}, tmp_path / "a.safetensors")
    save_file({k: state[k] for k in keys[3:]}, tmp_path / "b.safetensors")
    weight_map = {k: "a.safetensors" if i < 3 else "b.safetensors" for i, k in enumerate(keys)}
    index = tmp_path / "model.safetensors.index.json"
    index.write_text(json.dumps({"weight_map": weight_map}))
    before = sha256(tmp_path / "b.safetensors")
    code, _, err = run_cli(capsys, "generate", index, "-o", tmp_path / "b.safetensors", "--force")
    assert code == 2 and "that is a file of the input checkpoint" in one_line_error(err)
    assert sha256(tmp_path / "b.safetensors") == before

    folder = tmp_path / "hf"
    folder.mkdir()
    save_file(state, folder / "model.safetensors")
    (folder / "config.json").write_text("{}")
    code, _, err = run_cli(capsys, "generate", folder, "-o", folder / "config.json", "--force")
    assert code == 2 and "that is a file of the input checkpoint" in one_line_error(err)
    assert (folder / "config.json").read_text() == "{}"


@pytest.mark.parametrize(
    "option, what",
    [
        ("--hints", "the hints file"),
        ("--remap", "the remap file"),
        ("--calibrate", "the DATA file"),
    ],
)
def test_generate_never_overwrites_its_other_inputs(capsys, mlp_ckpt, option, what):
    victim = mlp_ckpt.parent / "input.txt"
    victim.write_text("an input")
    code, _, err = run_cli(capsys, "generate", mlp_ckpt, "-o", victim, option, victim, "--force")
    assert code == 2 and f"that is {what}" in one_line_error(err)
    assert victim.read_text() == "an input"


@pytest.mark.parametrize("flag", ["--out", "--save-state", "--plot"])
@pytest.mark.parametrize("victim", ["checkpoint", "data", "model source"])
def test_finetune_outputs_never_overwrite_an_input(capsys, tiny, flag, victim):
    weights, data, model = tiny
    target = {"checkpoint": weights, "data": data, "model source": model}[victim]
    before = sha256(target)
    code, out, err = run_cli(
        capsys,
        "finetune",
        weights,
        f"{model}:TinyRegressor",
        "--data",
        data,
        "--train",
        "head",
        flag,
        target,
        "--force",
    )
    line = one_line_error(err)
    assert code == 2 and f"{flag} {target}: that is the" in line and "even with --force" in line
    assert sha256(target) == before
    assert out == ""  # refused before loading or training anything


def test_a_model_given_as_package_module_is_an_input_too(capsys, tiny, monkeypatch):
    weights, data, model = tiny
    package = model.parent / "mypkg"
    package.mkdir()
    (package / "__init__.py").write_text("raise RuntimeError('imported')\n")  # never imported here
    (package / "net.py").write_text(model.read_text())
    monkeypatch.chdir(model.parent)
    monkeypatch.syspath_prepend(str(model.parent))
    before = sha256(package / "net.py")
    code, _, err = run_cli(
        capsys,
        "diff",
        weights,
        "mypkg.net:TinyRegressor",
        "--write-remap",
        "mypkg/net.py",
        "--force",
    )
    assert code == 2 and "that is the MODEL source" in one_line_error(err)
    assert sha256(package / "net.py") == before


def test_finetune_outputs_must_be_different_files(capsys, tiny, tmp_path):
    weights, data, model = tiny
    same = tmp_path / "tuned.pt"
    code, out, err = run_cli(
        capsys,
        "finetune",
        weights,
        model,
        "--data",
        data,
        "--train",
        "head",
        "--out",
        same,
        "--save-state",
        same,
    )
    assert code == 2 and "give each a different file" in one_line_error(err) and out == ""


@pytest.mark.parametrize("victim", ["checkpoint", "model source"])
def test_diff_write_remap_never_overwrites_an_input(capsys, tiny, victim):
    weights, _, model = tiny
    target = weights if victim == "checkpoint" else model
    before = sha256(target)
    code, _, err = run_cli(
        capsys, "diff", weights, f"{model}:TinyRegressor", "--write-remap", target, "--force"
    )
    assert code == 2 and "that is the" in one_line_error(err)
    assert sha256(target) == before


# ----------------------------------------------------------------------- files modelgen did not write


def test_binary_outputs_need_force_to_replace_any_existing_file(capsys, tiny, tmp_path):
    weights, data, model = tiny
    plot = tmp_path / "loss.png"
    plot.write_bytes(b"someone's picture")
    args = ["finetune", weights, f"{model}:TinyRegressor", "--data", data, "--train", "head"]
    code, out, err = run_cli(capsys, *args, "--plot", plot)
    assert code == 2 and "loss.png: exists; use --force to overwrite it" in one_line_error(err)
    assert plot.read_bytes() == b"someone's picture" and out == ""
    code, _, err = run_cli(capsys, *args, "--plot", plot, "--force")
    assert code == 0, err
    assert plot.read_bytes().startswith(b"\x89PNG")

    remap = tmp_path / "notes.json"
    remap.write_text('{"mine": true}')
    code, _, err = run_cli(
        capsys, "diff", weights, f"{model}:TinyRegressor", "--write-remap", remap
    )
    assert code == 2 and "exists; use --force" in one_line_error(err)
    assert remap.read_text() == '{"mine": true}'


HAND_WRITTEN = '''"""My own model; parts of it were Generated by modelgen once, then rewritten by hand.

Generated by modelgen from w.pt (torch-zip, 6 tensors, fingerprint 0123456789abcdef).
"""

import torch.nn as nn


class RecoveredModel(nn.Sequential):
    pass
'''


def test_a_hand_written_file_mentioning_the_phrase_is_neither_merged_nor_overwritten(
    capsys, mlp_ckpt
):
    target = mlp_ckpt.parent / "model.py"
    target.write_text(HAND_WRITTEN)
    code, _, err = run_cli(capsys, "generate", mlp_ckpt, "-o", target)
    assert code == 2 and "not generated by modelgen; use --force" in one_line_error(err)
    assert target.read_text() == HAND_WRITTEN
    code, _, err = run_cli(capsys, "check", mlp_ckpt, target)
    assert code == 2 and "was not generated by modelgen" in one_line_error(err)


def test_files_from_before_the_trailer_are_still_merged(capsys, tmp_path):
    """A file that records its method hashes in the old docstring paragraph is modelgen's: an edit in
    it is kept, and the regenerated file has the trailer instead of the paragraph."""
    torch.save(transformer_encoder_regressor(2).state_dict(), tmp_path / "w.pt")
    target = tmp_path / "model.py"
    assert run_cli(capsys, "generate", tmp_path / "w.pt", "-o", target)[0] == 0
    body, trailer = split_trailer(target.read_text())
    entries = ", ".join(f"{c}.{f}={h}" for (c, f), h in trailer.bodies.items())
    end = body.index('"""', 3)
    legacy = (
        f"{body[:end]}\n\nGenerated bodies (regenerating keeps the ones you edit): "
        f"{entries}{body[end:]}"
    )
    edited = legacy.replace(
        "        x = self.encoder(x)\n", "        x = self.encoder(x)\n        x = torch.tanh(x)\n"
    )
    assert edited != legacy and recorded_bodies(edited) == trailer.bodies
    target.write_text(edited)

    code, out, err = run_cli(capsys, "generate", tmp_path / "w.pt", "-o", target)
    assert code == 0, err
    assert "kept your edits to RecoveredModel.forward" in out
    text = target.read_text()
    assert "x = torch.tanh(x)" in text and "Generated bodies" not in text
    assert split_trailer(text)[1] == trailer


# --------------------------------------------------------------------------------- folder problems


@pytest.mark.parametrize(
    "where", ["/proc/model.py", "/proc/modelgen-test/model.py", "parent-is-a-file", "a folder"]
)
def test_unwritable_places_are_one_line_errors_before_any_work(capsys, mlp_ckpt, where):
    if where == "parent-is-a-file":
        (mlp_ckpt.parent / "notes.txt").write_text("x")
        where = mlp_ckpt.parent / "notes.txt" / "model.py"
    elif where == "a folder":
        where = mlp_ckpt.parent
    code, out, err = run_cli(capsys, "generate", mlp_ckpt, "-o", where)
    assert code == 2 and out == ""
    one_line_error(err)


def test_finetune_checks_its_outputs_folder_before_training(capsys, tiny):
    weights, data, model = tiny
    code, out, err = run_cli(
        capsys,
        "finetune",
        weights,
        f"{model}:TinyRegressor",
        "--data",
        data,
        "--train",
        "head",
        "--out",
        "/proc/tuned.pt",
    )
    assert code == 2 and out == "" and "--out /proc/tuned.pt: cannot write" in one_line_error(err)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_folder_is_one_line(capsys, mlp_ckpt, tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        code, _, err = run_cli(capsys, "generate", mlp_ckpt, "-o", folder / "model.py")
    finally:
        folder.chmod(0o755)
    assert code == 2 and "cannot write in" in one_line_error(err)


# -------------------------------------------------------------------------------------- temp files


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_killed_runs_temp_file_is_removed_by_the_next_run(capsys, mlp_ckpt):
    folder = mlp_ckpt.parent
    dead = _dead_pid()
    stale = [folder / f".model.py.modelgen-{dead}.tmp", folder / f".other.pt.modelgen-{dead}.tmp"]
    for path in stale:
        path.write_text("half a file")
    live = folder / ".model.py.modelgen-1.tmp"  # pid 1 is alive: maybe a write in progress
    live.write_text("someone else's write")
    assert run_cli(capsys, "generate", mlp_ckpt, "-o", folder / "model.py")[0] == 0
    assert files(folder) == [live.name, "model.py", "w.pt"]


def test_a_failed_write_leaves_no_temp_file(tmp_path):
    def fill(tmp: Path) -> None:
        tmp.write_bytes(b"half")
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        write_with(Output(tmp_path / "out.pt"), fill)
    assert files(tmp_path) == []


def test_sigint_during_a_write_removes_the_temp_file_and_interrupts(tmp_path):
    # Python's own handler, whatever this process inherited: a shell without job control starts
    # its background jobs with SIGINT ignored, and an ignored SIGINT rightly leaves the write alone.
    inherited = signal.signal(signal.SIGINT, signal.default_int_handler)
    before = signal.getsignal(signal.SIGINT)

    def fill(tmp: Path) -> None:
        tmp.write_bytes(b"half")
        os.kill(os.getpid(), signal.SIGINT)
        for _ in range(1000):  # the handler runs between bytecodes, well before this loop ends
            tmp.write_bytes(b"more")

    try:
        with pytest.raises(KeyboardInterrupt):
            write_with(Output(tmp_path / "out.pt"), fill)
        assert files(tmp_path) == []
        assert signal.getsignal(signal.SIGINT) is before
    finally:
        signal.signal(signal.SIGINT, inherited)


def test_sigterm_during_a_write_removes_the_temp_file_and_kills(tmp_path):
    script = textwrap.dedent("""
        import os, signal, sys
        from pathlib import Path
        from codegen.output import Output, write_with

        def fill(tmp):
            tmp.write_bytes(b"half")
            os.kill(os.getpid(), signal.SIGTERM)
            for _ in range(1000):
                tmp.write_bytes(b"more")

        write_with(Output(Path(sys.argv[1])), fill)
        print("survived")
        """)
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "out.pt")],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == -signal.SIGTERM, done.stderr
    assert "survived" not in done.stdout
    assert files(tmp_path) == []


def test_a_replaced_file_keeps_its_permissions(tmp_path):
    target = tmp_path / "out.pt"
    target.write_bytes(b"old")
    target.chmod(0o640)
    write_bytes(Output(target, force=True), b"new")
    assert target.read_bytes() == b"new" and (target.stat().st_mode & 0o777) == 0o640


# ------------------------------------------------------------------------------------------ trailer


def test_trailer_wraps_within_the_line_length_and_reads_back():
    bodies = {(f"Block{i}", m): f"{i:08x}" for i in range(30) for m in ("__init__", "forward")}
    text = "class A:\n    pass\n\n\n" + format_trailer("0123456789abcdef", bodies)
    assert all(len(line) <= WIDTH for line in text.splitlines())
    body, trailer = split_trailer(text + "\n\nprint('the user appended this')\n")
    assert trailer.fingerprint == "0123456789abcdef" and trailer.bodies == bodies
    assert body.split("\n") == [
        "class A:",
        "    pass",
        "",
        "",
        "",
        "",
        "print('the user appended this')",
        "",
    ]
    assert split_trailer("# modelgen: fingerprint 0123; bodies A.f=00000000\n")[1] is None


def test_long_pins_and_notes_wrap_within_the_line_length_and_read_back():
    deep = "RecoveredModel." + ".".join(f"stage{i}.blocks.{i}" for i in range(12))
    pins = (
        (deep, "activation", "gelu", "calibrated"),
        ("RecoveredModel." + "x" * 150, "stride", (2, 2), "hint"),  # no space to break at
        ("RecoveredModel.rnn", "nonlinearity", "relu", "calibrated"),
    )
    note = "Calibrated on data.pt (48 samples): " + "relative error 0.01, " * 10 + "found."
    text = "x = 1\n\n\n" + format_trailer(
        "0123456789abcdef", {("A", "f"): "0" * 8}, pins, note, "d.pt"
    )
    lines = text.splitlines()
    assert all(len(line) <= WIDTH for line in lines) and len(lines) > 3 + len(pins) + 2
    assert not any(line.endswith(" ") for line in lines)
    body, trailer = split_trailer(text + "y = 2\n")
    assert trailer.pins == pins and trailer.calibration == note and trailer.verified == "d.pt"
    assert body == "x = 1\n\n\ny = 2\n"
