"""The loader under attack (issue 12): crafted pickles, resource bombs, odd files and odd key text.

Every attack file is built here, in a few bytes, from hand-assembled pickle opcodes. A command on one
ends in a clean one-line error (exit 2) or a safe result; a planted file that would prove code ran is
never created; resource bombs run in a fresh interpreter under a memory cap and a time limit.
"""

from __future__ import annotations

import io
import json
import os
import pathlib
import pickle
import struct
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from safetensors.torch import save_file

from codegen.cli import main
from tests.conftest import REPO


class Placeholder:
    """Pickled as one GLOBAL opcode, which a test then replaces with the opcodes of an attack."""


PLACEHOLDER = f"c{Placeholder.__module__}\nPlaceholder\n".encode()


def with_value(value_opcodes: bytes, legacy: bool = False) -> bytes:
    """A torch.save file of {"w": tensor, "x": <value_opcodes>}: zip (data.pkl) or legacy bytes."""
    buf = io.BytesIO()
    torch.save(
        {"w": torch.zeros(2), "x": Placeholder}, buf, _use_new_zipfile_serialization=not legacy
    )
    data = buf.getvalue()
    if not legacy:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            data = z.read(next(n for n in z.namelist() if n.endswith("/data.pkl")))
    assert data.count(PLACEHOLDER) == 1
    return data.replace(PLACEHOLDER, value_opcodes)


def torch_zip(path: Path, data_pkl: bytes, compress: int = zipfile.ZIP_STORED) -> Path:
    """A torch.save zip whose data.pkl is replaced (the other records kept as torch wrote them)."""
    buf = io.BytesIO()
    torch.save({"w": torch.zeros(2)}, buf)
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as src, zipfile.ZipFile(path, "w") as out:
        for info in src.infolist():
            is_pkl = info.filename.endswith("/data.pkl")
            out.writestr(
                info.filename,
                data_pkl if is_pkl else src.read(info),
                compress_type=compress if is_pkl else zipfile.ZIP_STORED,
            )
    return path


def torchscript_zip(
    path: Path, data_pkl: bytes, code: bytes = b"class M(Module):\n  pass\n", compress: int = 0
) -> Path:
    with zipfile.ZipFile(path, "w", compression=compress) as z:
        z.writestr("m/data.pkl", data_pkl)
        z.writestr("m/constants.pkl", pickle.dumps((), protocol=2))
        z.writestr("m/code/__torch__.py", code)
        z.writestr("m/version", "3\n")
    return path


def one_line_error(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stdout[-500:], proc.stderr[-2000:])
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1, proc.stderr[-2000:]
    assert proc.stderr.startswith("modelgen: error: "), proc.stderr
    return proc.stderr


# ------------------------------------------------------------------------- BUILD on a global (item 4)


# BUILD with (dict state, slot state): pickle's BUILD setattr()s the slot state onto whatever is on
# the stack, here the class pathlib.PosixPath: every path in the process would read "x.py".
def build_on(global_name: str, attr: str, value: str) -> bytes:
    module, _, name = global_name.rpartition(".")
    return f"c{module}\n{name}\nN}}V{attr}\nV{value}\ns".encode() + b"\x86b"  # TUPLE2, BUILD


@pytest.fixture
def planted(tmp_path):
    """x.py, which writes MARKER if anything ever imports or runs it, and a model.py to check."""
    marker = tmp_path / "MARKER"
    x = tmp_path / "x.py"
    x.write_text(f"open({str(marker)!r}, 'w').close()\n")
    good = tmp_path / "good.pt"
    torch.save({"w": torch.zeros(2)}, good)
    assert main(["generate", str(good), "-o", str(tmp_path / "model.py")]) == 0
    return tmp_path, x, marker


def tamper_files(tmp_path: Path, x: Path) -> dict[str, Path]:
    attack = build_on("pathlib.PosixPath", "_str", str(x))
    # the fast reader meets the BUILD first and an unknown global later: torch would get the file
    then_unknown = attack + b"0c" + b"builtins\neval\n"
    legacy = tmp_path / "tamper_legacy.pt"
    legacy.write_bytes(with_value(attack, legacy=True))
    return {
        "fast reader": torch_zip(tmp_path / "tamper.pt", with_value(attack)),
        "fast reader, then torch": torch_zip(tmp_path / "tamper2.pt", with_value(then_unknown)),
        "legacy (torch.load)": legacy,
        "namespace class": torch_zip(
            tmp_path / "tamper3.pt", with_value(build_on("argparse.Namespace", "_tampered", "x"))
        ),
        "torchscript": torchscript_zip(
            tmp_path / "tamper_script.pt",
            b"\x80\x02" + build_on("torch._utils._rebuild_tensor_v2", "__doc__", "x") + b".",
        ),
    }


@pytest.mark.parametrize(
    "kind",
    [
        "fast reader",
        "fast reader, then torch",
        "legacy (torch.load)",
        "namespace class",
        "torchscript",
    ],
)
def test_build_on_a_class_is_refused_in_process(planted, capsys, kind):
    tmp_path, x, marker = planted
    path = tamper_files(tmp_path, x)[kind]
    assert main(["inspect", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"modelgen: error: {path.name}: "), err
    assert "refused" in err or "unsafe" in err, err
    assert str(pathlib.PosixPath("a")) == "a"  # the class is untouched in this process
    assert "_str" not in vars(pathlib.PosixPath)
    assert not hasattr(__import__("argparse").Namespace, "_tampered")
    assert not marker.exists()


@pytest.mark.parametrize("command", ["check", "inspect", "generate"])
def test_build_on_a_class_through_the_cli(planted, run_modelgen, command):
    """The reported attack, end to end: `modelgen check tamper.pt model.py` ran the planted x.py."""
    tmp_path, x, marker = planted
    path = tamper_files(tmp_path, x)["fast reader"]
    args = {
        "check": ["check", path, tmp_path / "model.py"],
        "inspect": ["inspect", path],
        "generate": ["generate", path, "-o", tmp_path / "out.py"],
    }[command]
    err = one_line_error(run_modelgen(*args, cwd=tmp_path, timeout=60))
    assert "a BUILD opcode on pathlib.PosixPath" in err
    assert not marker.exists() and not (tmp_path / "out.py").exists()


def test_paths_and_namespaces_still_load_as_data(tmp_path, capsys):
    """The allow-listed types, built by their own constructors: shown as metadata."""
    import argparse

    args = argparse.Namespace(lr=0.1, out=pathlib.Path("/runs/a"), name="run")
    torch.save({"state_dict": {"w": torch.zeros(2)}, "args": args}, tmp_path / "run.pt")
    assert main(["inspect", "--json", str(tmp_path / "run.pt")]) == 0
    meta = json.loads(capsys.readouterr().out)["metadata"]
    assert meta == {"args": {"lr": 0.1, "out": "/runs/a", "name": "run"}}


# --------------------------------------------------------------------- resource budgets (item 5)

# Runs CLI commands in one fresh interpreter whose address space is capped at what an interpreter
# holds after importing torch and codegen, plus 300 MB (the budget), for 120 s at most: a
# bomb that got through would run for hours, while importing torch alone can take 30 s on a
# loaded 2-core machine. One thread each for torch and malloc: every thread reserves address space
# of its own.
LIMITED = """
import contextlib, io, json, resource, sys
resource.setrlimit(resource.RLIMIT_AS, (int(sys.argv[1]), resource.RLIM_INFINITY))
from codegen.cli import main
results = []
for argv in json.loads(sys.argv[2]):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    results.append((code, out.getvalue(), err.getvalue()))
sys.__stdout__.write(json.dumps(results))
"""
BASELINE = """
import torch, codegen.cli
with open("/proc/self/status") as f:
    print(next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmSize:")))
"""
LIMIT_ENV = dict(OMP_NUM_THREADS="1", MALLOC_ARENA_MAX="2")


def _env() -> dict[str, str]:
    path = str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")
    return dict(os.environ, PYTHONPATH=path, **LIMIT_ENV)


@pytest.fixture(scope="module")
def address_space_cap() -> int:
    out = subprocess.run(
        [sys.executable, "-c", BASELINE], env=_env(), capture_output=True, text=True, check=True
    )
    return int(out.stdout) + 300 * 2**20


def run_limited(cap: int, commands: list[list], cwd: Path) -> list[subprocess.CompletedProcess]:
    """Each command's exit code, stdout and stderr, as if run on its own."""
    argv = json.dumps([[str(a) for a in c] for c in commands])
    proc = subprocess.run(
        [sys.executable, "-c", LIMITED, str(cap), argv],
        cwd=cwd,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr[-3000:]
    return [subprocess.CompletedProcess(c, *r) for c, r in zip(commands, json.loads(proc.stdout))]


def shared_lists_bomb(tmp_path: Path) -> Path:
    """4 KB: 200**6 paths through six shared lists, in a non-tensor entry beside the weights."""
    lists: list = [0]
    for _ in range(6):
        lists = [lists] * 200
    path = tmp_path / "lists.pt"
    torch.save({"state_dict": {"w": torch.zeros(2)}, "config": lists}, path)
    return path


def memo_index(opcode: bytes, index: int) -> bytes:
    return b"N" + opcode + struct.pack("<I", index)  # None, stored at (or fetched from) `index`


def memoize_many(n: int) -> bytes:
    return b"\x80\x04N" + b"\x94" * n  # MEMOIZE: one memo entry a byte


def deflated(n: int) -> bytes:
    return b"\x80\x02N" + b"0N" * ((n - 4) // 2) + b"."  # POP/None pairs: a valid pickle of None


BOMBS = {
    # name: (builder, what a clean refusal says; None when a safe result is the answer)
    "shared nested lists in metadata": (shared_lists_bomb, None),
    "LONG_BINPUT 2**30 in data.pkl": (
        lambda d: torch_zip(d / "m.pt", with_value(memo_index(b"r", 2**30))),
        None,
    ),
    "LONG_BINPUT 2**27 in TorchScript": (
        lambda d: torchscript_zip(d / "s.pt", b"\x80\x02" + memo_index(b"r", 2**27) + b"."),
        "holds no tensors",
    ),
    "LONG_BINGET 2**30 in TorchScript": (
        lambda d: torchscript_zip(d / "s.pt", b"\x80\x02" + memo_index(b"j", 2**30) + b"."),
        "corrupt TorchScript archive",
    ),
    "six million memo entries": (
        lambda d: torch_zip(d / "m.pt", memoize_many(6_000_000), zipfile.ZIP_DEFLATED),
        "pickle memo over",
    ),
    "data.pkl inflating to 100 MiB": (
        lambda d: torch_zip(d / "m.pt", deflated(100 * 2**20), zipfile.ZIP_DEFLATED),
        "inflates to 100 MiB",
    ),
    "TorchScript data.pkl inflating to 100 MiB": (
        lambda d: torchscript_zip(d / "s.pt", deflated(100 * 2**20), compress=zipfile.ZIP_DEFLATED),
        "inflates to 100 MiB",
    ),
    "TorchScript code/ inflating to 100 MiB": (
        lambda d: torchscript_zip(
            d / "s.pt",
            pickle.dumps(None, protocol=2),
            code=b"#" * (100 * 2**20),
            compress=zipfile.ZIP_DEFLATED,
        ),
        "inflates to 100 MiB",
    ),
}


@pytest.mark.parametrize("bomb", list(BOMBS))
def test_resource_bombs_under_a_memory_cap(tmp_path, address_space_cap, bomb):
    build, refusal = BOMBS[bomb]
    path = build(tmp_path)
    assert path.stat().st_size < 5 * 2**20
    commands = [["inspect", path], ["inspect", "--json", path], ["generate", path, "-o", "o.py"]]
    for proc in run_limited(address_space_cap, commands, tmp_path):
        if refusal is None:
            assert proc.returncode in (0, 2), proc.stderr[-2000:]
            if proc.returncode == 2:
                one_line_error(proc)
        else:
            assert refusal in one_line_error(proc)
        if refusal is None and proc.args[:2] == ["inspect", "--json"]:
            metadata = json.loads(proc.stdout)["metadata"]
            if bomb == "shared nested lists in metadata":  # tensors load; the entry is summarised
                assert metadata == {"config": "(too large to show)"}


def _patch_central_size(data: bytes, name: bytes, size: int) -> bytes:
    """Rewrite the uncompressed size the central directory declares for member `name`."""
    out = bytearray(data)
    pos = 0
    while (pos := out.find(b"PK\x01\x02", pos)) >= 0:
        n = struct.unpack_from("<H", out, pos + 28)[0]
        if bytes(out[pos + 46 : pos + 46 + n]).endswith(name):
            struct.pack_into("<I", out, pos + 24, size)
        pos += 4
    return bytes(out)


def test_bad_crc_and_lying_sizes_are_refused(tmp_path, capsys):
    good = torch_zip(tmp_path / "g.pt", with_value(b"N"))
    data = good.read_bytes()
    # one byte of the stored data.pkl flipped (its CRC no longer matches): torch alone accepted it
    pkl_at = data.index(b"\x80\x02", data.index(b"data.pkl"))
    flipped = bytearray(data)
    flipped[pkl_at + 10] ^= 0x01
    (tmp_path / "crc.pt").write_bytes(bytes(flipped))
    # a deflated data.pkl whose directory claims fewer bytes than it holds: read no further
    torch_zip(tmp_path / "d.pt", with_value(b"N"), zipfile.ZIP_DEFLATED)
    lying = _patch_central_size((tmp_path / "d.pt").read_bytes(), b"data.pkl", 40)
    (tmp_path / "lying.pt").write_bytes(lying)
    for name in ("crc.pt", "lying.pt"):
        assert main(["inspect", str(tmp_path / name)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "CRC" in err, err


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_fifo_and_devices_are_refused_without_reading(tmp_path, run_modelgen):
    fifo = tmp_path / "ckpt.pt"
    os.mkfifo(fifo)  # opening it for reading would wait for a writer forever
    assert "a FIFO, not a regular file" in one_line_error(run_modelgen("inspect", fifo, timeout=30))
    if os.path.exists("/dev/zero"):
        err = one_line_error(run_modelgen("inspect", "/dev/zero", timeout=30))
        assert "not a regular file" in err


# ------------------------------------------------------------- odd tensors and key text (item 7)


def test_nested_tensor_is_one_line(tmp_path, capsys):
    with warnings.catch_warnings():  # "nested tensors are a prototype": the fixture's, not ours
        warnings.simplefilter("ignore")
        nested = torch.nested.nested_tensor([torch.zeros(2), torch.zeros(3)])
    torch.save({"w": torch.zeros(2), "rows": nested}, tmp_path / "n.pt")
    assert main(["inspect", str(tmp_path / "n.pt")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "'rows' is a nested tensor" in err


def test_tensors_inside_a_list_in_the_state_dict_are_one_line(tmp_path, capsys):
    torch.save({"w": torch.zeros(2), "blocks": [torch.zeros(1), torch.ones(1)]}, tmp_path / "l.pt")
    assert main(["inspect", str(tmp_path / "l.pt")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no state dict" in err


def test_truncated_legacy_file_is_refused_by_inspect_and_generate(tmp_path, capsys):
    torch.save(
        {"w": torch.randn(32, 32)}, tmp_path / "old.pt", _use_new_zipfile_serialization=False
    )
    (tmp_path / "cut.pt").write_bytes((tmp_path / "old.pt").read_bytes()[:-100])
    for args in (["inspect"], ["generate", "-o", str(tmp_path / "m.py")]):
        assert main([args[0], str(tmp_path / "cut.pt"), *args[1:]]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "corrupt or truncated checkpoint" in err, err
    assert not (tmp_path / "m.py").exists()


ODD = "\x00\x1b\x07\n\r\t\x7f\u202e\u2066\u200b'\"\\²³.é[]/"
# lone surrogates are text a pickle can hold but UTF-8 (and so a safetensors header) cannot
SURROGATE = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
KEY_CHARS = st.one_of(st.sampled_from(ODD), st.characters(codec="utf-8"), st.sampled_from("ab0"))


def _keys(alphabet) -> st.SearchStrategy[list[str]]:
    return st.lists(st.text(alphabet, min_size=1, max_size=12), min_size=1, max_size=5, unique=True)


def _assert_shown_safely(capsys, path: Path) -> None:
    assert main(["inspect", str(path)]) == 0
    out = capsys.readouterr().out
    assert all(ch.isprintable() or ch == "\n" for ch in out), ascii(out)
    assert main(["inspect", "--json", str(path)]) == 0
    assert json.loads(capsys.readouterr().out)["tensors"]


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    pt_keys=_keys(st.one_of(KEY_CHARS, SURROGATE)),
    st_keys=_keys(KEY_CHARS),
)
def test_any_key_text_is_shown_escaped(tmp_path, capsys, pt_keys, st_keys):
    torch.save({k: torch.zeros(1) for k in pt_keys}, tmp_path / "k.pt")
    _assert_shown_safely(capsys, tmp_path / "k.pt")
    save_file({k: torch.zeros(1) for k in st_keys}, tmp_path / "k.safetensors")
    _assert_shown_safely(capsys, tmp_path / "k.safetensors")
