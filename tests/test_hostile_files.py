"""Hostile and broken files: nothing runs, and every failure is one line on stderr with exit 2."""

from __future__ import annotations

import io
import json
import os
import pickle
import random
import struct
import warnings
import zipfile
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console
from safetensors.torch import save_file

from codegen.cli import main
from codegen.errors import ModelgenError
from codegen.inspect_view import render_tree
from codegen.load import open_checkpoint

# os.system pickles as posix.system (nt.system on Windows): the name the refusal must show.
SYSTEM_GLOBAL = f"{os.system.__module__}.system"


class Payload:
    """Unpickling this runs `touch MARKER`: the file must never appear."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch '{self.marker}'",))


def small_state() -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.BatchNorm1d(8), torch.nn.Linear(8, 2))
    return net.state_dict()


def write_safetensors_raw(path: Path, header: dict, data: bytes) -> Path:
    """A safetensors file from a hand-written header, to say things save_file never would."""
    h = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(h)) + h + data)
    return path


def assert_refused_by_cli(capsys, path: Path, *extra: str, starts: str | None = None) -> str:
    """`modelgen inspect PATH`: exit 2, nothing on stdout, one line on stderr naming the file."""
    code = main(["inspect", str(path), *extra])
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert "Traceback" not in err
    line = err.rstrip("\n")
    assert line.startswith(f"modelgen: error: {starts or Path(path).name}"), line
    return line


# ------------------------------------------------------------------------------------------ safety


def _malicious_files(tmp_path: Path, marker: Path) -> dict[str, Path]:
    files = {}
    files["zip"] = tmp_path / "evil.pt"
    torch.save({"w": torch.zeros(2), "x": Payload(marker)}, files["zip"])
    files["legacy"] = tmp_path / "evil_legacy.pt"
    torch.save(
        {"w": torch.zeros(2), "x": Payload(marker)},
        files["legacy"],
        _use_new_zipfile_serialization=False,
    )
    files["pickle"] = tmp_path / "evil.pkl"  # a bare pickle, not even a torch file
    files["pickle"].write_bytes(pickle.dumps(Payload(marker), protocol=2))
    # A zip laid out like a TorchScript archive, so it goes to the TorchScript reader.
    files["torchscript"] = tmp_path / "evil_script.pt"
    with zipfile.ZipFile(files["torchscript"], "w") as z:
        z.writestr("m/data.pkl", pickle.dumps(Payload(marker), protocol=2))
        z.writestr("m/constants.pkl", pickle.dumps((), protocol=2))
        z.writestr("m/code/__torch__.py", "class M(Module):\n  pass\n")
        z.writestr("m/version", "3\n")
    return files


@pytest.mark.parametrize("kind", ["zip", "legacy", "pickle", "torchscript"])
def test_malicious_pickle_is_refused_and_does_not_run(tmp_path, kind):
    marker = tmp_path / "MARKER"
    path = _malicious_files(tmp_path, marker)[kind]
    with pytest.raises(ModelgenError) as info:
        open_checkpoint(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{path.name}: refused to unpickle")
    assert SYSTEM_GLOBAL in message
    assert not marker.exists()


def test_malicious_pickle_through_the_cli(tmp_path, run_modelgen, capsys):
    marker = tmp_path / "MARKER"
    files = _malicious_files(tmp_path, marker)
    # one real process (the user's view, exit code from the interpreter), the rest in-process
    proc = run_modelgen("inspect", files["zip"].name, "--json", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.startswith(f"modelgen: error: {files['zip'].name}: refused to unpickle")
    assert SYSTEM_GLOBAL in proc.stderr
    for kind in ("legacy", "pickle", "torchscript"):
        for extra in ((), ("--json",)):
            assert SYSTEM_GLOBAL in assert_refused_by_cli(capsys, files[kind], *extra)
    assert not marker.exists()


def test_whole_pickled_module_in_the_legacy_format_is_described(tmp_path):
    # Legacy whole-model pickles are described like zip ones (codegen/load/legacy_model.py): the
    # module tree without importing anything (payloads: tests/test_sources.py).
    from codegen.load import open_checkpoint

    path = tmp_path / "model.pt"
    torch.save(torch.nn.Linear(2, 2), path, _use_new_zipfile_serialization=False)
    table = open_checkpoint(path).table
    assert table.format == "torch-legacy-model" and table.modules.name == "Linear"
    assert list(table.tensors) == ["weight", "bias"]


# ---------------------------------------------------------------------------------- broken files


def _zip_checkpoint(tmp_path: Path) -> bytes:
    torch.save(small_state(), tmp_path / "good.pt")
    return (tmp_path / "good.pt").read_bytes()


def _shard_set(tmp_path: Path, weight_map: dict[str, str]) -> Path:
    save_file({"a": torch.zeros(2)}, tmp_path / "s1.safetensors")
    index = tmp_path / "model.safetensors.index.json"
    index.write_text(json.dumps({"weight_map": weight_map}))
    return index


def _make(tmp_path: Path, case: str) -> Path:
    """One broken input per case; returns the path to pass to the CLI."""
    p = tmp_path / "input.pt"
    if case == "missing file":
        return tmp_path / "nope.pt"
    if case == "directory without checkpoint":
        (tmp_path / "d").mkdir()
        (tmp_path / "d" / "config.json").write_text("{}")
        return tmp_path / "d"
    if case == "empty file":
        p.write_bytes(b"")
    elif case == "random bytes":
        p.write_bytes(b"\x13" + random.Random(0).randbytes(4095))
    elif case == "truncated zip":
        p.write_bytes(_zip_checkpoint(tmp_path)[:700])
    elif case == "corrupt zip":
        data = bytearray(_zip_checkpoint(tmp_path))
        mid = len(data) // 2
        data[mid - 200 : mid + 200] = bytes(b ^ 0xFF for b in data[mid - 200 : mid + 200])
        data[-60:] = b"\0" * 60  # and the central directory, so no reader can recover
        p.write_bytes(bytes(data))
    elif case == "zip without data.pkl":
        with zipfile.ZipFile(p, "w") as z:
            z.writestr("readme.txt", "hello")
    elif case == "truncated legacy":
        torch.save(small_state(), p, _use_new_zipfile_serialization=False)
        p.write_bytes(p.read_bytes()[:300])
    elif case == "legacy string of absurd length":  # found by the fuzz test below (MemoryError)
        p.write_bytes(b"\x80\x02\x8d" + (2**60).to_bytes(8, "little") + b"abc")
    elif case == "empty dict":
        torch.save({}, p)
    elif case == "no tensors":
        torch.save({"epoch": 3, "config": {"lr": 0.1}}, p)
    elif case == "bare tensor":
        torch.save(torch.zeros(3), p)
    elif case == "missing shard":
        return _shard_set(tmp_path, {"a": "s1.safetensors", "b": "s2.safetensors"})
    elif case == "shard outside folder":
        return _shard_set(tmp_path, {"a": "../s1.safetensors"})
    elif case == "absolute shard path":
        return _shard_set(tmp_path, {"a": "/etc/passwd"})
    elif case == "json that is not an index":
        p = tmp_path / "config.json"
        p.write_text('{"hidden_size": 8}')
    elif case == "safetensors shape/offset mismatch":
        p = write_safetensors_raw(
            tmp_path / "m.safetensors",
            {"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}},
            b"\0" * 8,
        )
    elif case == "safetensors bad dtype":
        p = write_safetensors_raw(
            tmp_path / "m.safetensors",
            {"a": {"dtype": "Q7", "shape": [2], "data_offsets": [0, 8]}},
            b"\0" * 8,
        )
    elif case == "safetensors dtype torch lacks":
        p = write_safetensors_raw(
            tmp_path / "m.safetensors",
            {"a": {"dtype": "F4", "shape": [2], "data_offsets": [0, 1]}},
            b"\0",
        )
    elif case == "safetensors truncated":
        save_file(small_state(), tmp_path / "m.safetensors")
        p = tmp_path / "m.safetensors"
        p.write_bytes(p.read_bytes()[:40])
    elif case == "safetensors absurd shape":
        p = write_safetensors_raw(
            tmp_path / "m.safetensors",
            {"a": {"dtype": "F32", "shape": [10**6, 10**6], "data_offsets": [0, 4 * 10**12]}},
            b"\0" * 8,
        )
    elif case == "safetensors overflowing shape":
        p = write_safetensors_raw(
            tmp_path / "m.safetensors",
            {"a": {"dtype": "F32", "shape": [2**40, 2**40], "data_offsets": [0, 8]}},
            b"\0" * 8,
        )
    elif case == "key nested absurdly deep":
        torch.save({".".join(["a"] * 5000): torch.zeros(1)}, p)
    elif case == "containers nested deep":
        d: dict = {"w": torch.zeros(1)}
        for _ in range(60):
            d = {"a": d}
        torch.save(d, p)
    elif case == "containers shared exponentially":
        # 2**25 paths through 25 small dicts: the search gives up cleanly instead of walking them all
        d = {"w": torch.zeros(1)}
        for _ in range(25):
            d = {"a": d, "b": d, "t": torch.zeros(1)}
        torch.save(d, p)
    else:
        raise AssertionError(case)
    return p


BROKEN = {
    "missing file": "no such file",
    "directory without checkpoint": "is a directory with no checkpoint file",
    "empty file": "empty file",
    "random bytes": "unknown format",
    "truncated zip": "corrupt or truncated zip archive",
    "corrupt zip": "corrupt or truncated zip archive",
    "zip without data.pkl": "not a PyTorch checkpoint",
    "truncated legacy": "corrupt or truncated checkpoint",
    "legacy string of absurd length": "unsafe or corrupt pickle",
    "empty dict": "holds no tensors (an empty dict)",
    "no tensors": "holds no tensors (a dict with keys epoch, config)",
    "bare tensor": "holds a single tensor of shape [3], not a state dict",
    "missing shard": "shard 's2.safetensors' is missing (needed for 'b')",
    "shard outside folder": "shard '../s1.safetensors' points outside the index's folder",
    "absolute shard path": "shard '/etc/passwd' points outside the index's folder",
    "json that is not an index": "a JSON file but not a shard index",
    "safetensors shape/offset mismatch": "invalid safetensors file",
    "safetensors bad dtype": "invalid safetensors file",
    "safetensors dtype torch lacks": "unsupported dtype F4",
    "safetensors truncated": "truncated safetensors file",
    "safetensors absurd shape": "invalid safetensors file",
    "safetensors overflowing shape": "invalid safetensors file",
    "key nested absurdly deep": "nests 5000 levels deep",
    "containers nested deep": "containers nested more than 32 levels deep",
    "containers shared exponentially": "too many nested containers",
}


# Warnings would be extra lines on a user's stderr: make any that escapes the loader fail the test.
@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("case", list(BROKEN))
def test_broken_input_is_one_line_exit_2(tmp_path, capsys, case):
    path = _make(tmp_path, case)
    starts = str(path) if case in ("missing file", "directory without checkpoint") else path.name
    line = assert_refused_by_cli(capsys, path, starts=starts)
    assert BROKEN[case] in line


def test_debug_shows_the_traceback(tmp_path):
    (tmp_path / "empty.pt").write_bytes(b"")
    with pytest.raises(ModelgenError, match="empty file"):
        main(["--debug", "inspect", str(tmp_path / "empty.pt")])


def test_broken_files_through_a_real_process(tmp_path, run_modelgen):
    """A fresh interpreter sees what users see: library warnings (legacy TypedStorage, pickle
    protocols) would show up here as extra stderr lines."""
    path = _make(tmp_path, "truncated legacy")
    proc = run_modelgen("inspect", path)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.startswith("modelgen: error: input.pt: corrupt or truncated checkpoint")


@pytest.mark.filterwarnings("error")
def test_unreadable_file(tmp_path, capsys):
    if os.geteuid() == 0:
        pytest.skip("root reads any file")
    p = tmp_path / "locked.pt"
    torch.save(small_state(), p)
    p.chmod(0)
    assert "cannot read" in assert_refused_by_cli(capsys, p)


def test_hostile_key_text_stays_one_line(tmp_path, capsys):
    """Key names reach error messages: newlines in them must not break the one-line contract."""
    torch.save({"evil\nkey": torch.zeros(1), "x": {"y": torch.zeros(1)}}, tmp_path / "k.pt")
    line = assert_refused_by_cli(capsys, tmp_path / "k.pt", "--key", "x\nz")
    assert "--key" in line


# ----------------------------------------------------------------------------- absurd but valid


def test_absurd_consistent_shapes_are_metadata_only(tmp_path, capsys):
    """10**12 elements are only consistent with tiny storage when nothing is allocated: a zero-size
    dimension (safetensors) or a stride-0 view (torch zip). Both open from metadata."""
    p = write_safetensors_raw(
        tmp_path / "m.safetensors",
        {
            "empty": {"dtype": "F32", "shape": [0, 10**12], "data_offsets": [0, 0]},
            "w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
        },
        b"\0" * 8,
    )
    table = open_checkpoint(p).table
    assert table.tensors["empty"].shape == (0, 10**12)
    assert table.tensors["empty"].numel == 0

    torch.save({"huge": torch.zeros(1).expand(10**12)}, tmp_path / "view.pt")
    table = open_checkpoint(tmp_path / "view.pt").table
    assert table.tensors["huge"].numel == 10**12
    assert main(["inspect", str(tmp_path / "view.pt")]) == 0
    assert "1.0T elements" in capsys.readouterr().out


# -------------------------------------------------------------------------- byte-level fuzzing


@pytest.fixture(scope="module")
def originals(tmp_path_factory) -> dict[str, bytes]:
    """Real checkpoint files of each format, as bytes to corrupt."""
    d = tmp_path_factory.mktemp("originals")
    sd = small_state()
    torch.save({"epoch": 1, "model": sd}, d / "zip.pt")
    torch.save(sd, d / "legacy.pt", _use_new_zipfile_serialization=False)
    save_file(sd, d / "m.safetensors", metadata={"config": '{"a": 1}'})
    with warnings.catch_warnings():
        warnings.simplefilter(
            "ignore", DeprecationWarning
        )  # torch.jit is deprecated; its files are not
        torch.jit.script(torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.BatchNorm1d(3))).save(
            str(d / "ts.pt")
        )
    return {
        "zip": (d / "zip.pt").read_bytes(),
        "legacy": (d / "legacy.pt").read_bytes(),
        "safetensors": (d / "m.safetensors").read_bytes(),
        "torchscript": (d / "ts.pt").read_bytes(),  # read by our own restricted unpickler
    }


@st.composite
def corruptions(draw, originals: dict[str, bytes]) -> tuple[str, bytes]:
    kind = draw(st.sampled_from(sorted(originals)))
    data = bytearray(originals[kind])
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data) - 1))]
    else:
        for _ in range(draw(st.integers(1, 8))):
            data[draw(st.integers(0, len(data) - 1))] ^= draw(st.integers(1, 255))
    return kind, bytes(data)


@pytest.mark.filterwarnings("error")
def test_corrupted_files_fail_cleanly(originals, tmp_path_factory):
    target = tmp_path_factory.mktemp("fuzz") / "ckpt"

    @settings(
        max_examples=100,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(corruptions(originals))
    def check(case: tuple[str, bytes]) -> None:
        kind, data = case
        target.write_bytes(data)
        try:
            ckpt = open_checkpoint(target)
        except ModelgenError as e:
            assert "\n" not in str(e) and str(e).startswith("ckpt: ")
        else:
            # flips inside tensor data (or key text) still load; what comes out must then be usable
            assert ckpt.table.tensors and ckpt.table.fingerprint()
            json.dumps(ckpt.table.to_json(), allow_nan=False)
            Console(file=io.StringIO()).print(render_tree(ckpt.table))

    check()
