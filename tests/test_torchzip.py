"""The torch-free reader of zip checkpoints: the same table as torch.load, or it steps aside."""

from __future__ import annotations

import argparse
import time
import zipfile
from collections import OrderedDict
from pathlib import Path

import pytest
import torch
import torch.nn as nn

import codegen.load.pickled as pickled
from codegen.errors import ModelgenError
from codegen.load import open_checkpoint
from tests import zoo
from tests.conftest import open_in_fresh_process


def _both_ways(path: Path, monkeypatch: pytest.MonkeyPatch, **options) -> tuple[dict, dict]:
    """(table via our reader, table via torch.load), as JSON, with ties."""
    ours = open_checkpoint(path, **options)
    with monkeypatch.context() as m:
        m.setattr(pickled, "describe", lambda *args: None)
        theirs = open_checkpoint(path, **options)
    return ours.table.to_json(), theirs.table.to_json()


def _odd_dtypes() -> dict:
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    return {
        "bf16": torch.zeros(3, dtype=torch.bfloat16),
        "f8": torch.zeros(2, dtype=torch.float8_e4m3fn),  # written with _rebuild_tensor_v3
        "u16": torch.zeros(2, dtype=torch.uint16),
        "c64": torch.zeros(2, dtype=torch.complex64),
        "flag": torch.tensor(True),
        "scalar": torch.tensor(3.0),
        "empty": torch.zeros(0, 5),
        "base": base,
        "row": base[1],  # a view: shares storage, other offset
        "t": base.t(),  # a view: other strides
        "same": base.view(4, 6),  # a tie: same storage, offset, shape and strides
        "expanded": torch.zeros(1).expand(10**6),
        "param": nn.Parameter(torch.zeros(2)),
    }


CASES = {
    **{name: lambda name=name: zoo.checkpoint(name, zoo.build(name)) for name in zoo.ZOO},
    "tied": lambda: nn.Sequential(nn.Embedding(5, 4), nn.Linear(4, 5)).state_dict(),
    "odd dtypes and views": _odd_dtypes,
    "trainer dict": lambda: {
        "epoch": 3,
        "args": argparse.Namespace(lr=0.1),
        "path": Path("runs/a"),
        "model": {f"module.{k}": v for k, v in zoo.build("mlp").state_dict().items()},
        "ema": zoo.build("mlp").state_dict(),
        "optimizer": {"state": {0: {"exp_avg": torch.zeros(2)}}, "param_groups": [{"lr": 0.1}]},
    },
    "metadata torch must read": lambda: {
        "shape": torch.Size([2, 3]),
        "dtype": torch.float16,
        "model": zoo.build("mlp").state_dict(),
    },
}


# Globals beyond containers, tensors and load.py's data classes (torch.Size, dtypes): torch.load's job.
LEFT_TO_TORCH = {"metadata torch must read"}


@pytest.mark.parametrize("case", list(CASES))
def test_same_table_as_torch_load(tmp_path, monkeypatch, case):
    torch.save(CASES[case](), tmp_path / "c.pt")
    with zipfile.ZipFile(tmp_path / "c.pt") as z:
        assert (pickled._describe_zip(z, z.namelist()) is None) == (case in LEFT_TO_TORCH)
    ours, theirs = _both_ways(tmp_path / "c.pt", monkeypatch)
    assert ours == theirs


def test_same_table_with_options(tmp_path, monkeypatch):
    torch.save(CASES["trainer dict"](), tmp_path / "c.pt")
    ours, theirs = _both_ways(tmp_path / "c.pt", monkeypatch, key="ema", strip_prefixes=("0.",))
    assert ours == theirs and ours["container"] == "ema"


def test_state_dict_still_reads_the_tensors(tmp_path):
    """The table comes from descriptions; the values come from torch.load when asked for."""
    sd = _odd_dtypes()
    torch.save(sd, tmp_path / "c.pt")
    got = open_checkpoint(tmp_path / "c.pt").state_dict()
    assert set(got) == set(sd)
    for k, v in sd.items():
        assert (
            isinstance(got[k], torch.Tensor) and got[k].dtype == v.dtype and got[k].shape == v.shape
        )
        assert torch.equal(_bytes(got[k]), _bytes(v))


def _bytes(t: torch.Tensor) -> torch.Tensor:
    return t.contiguous().reshape(-1).view(torch.uint8)  # float8 has no equality of its own


def test_zip_checkpoints_open_without_importing_torch(tmp_path):
    torch.save({"model": zoo.build("mlp").state_dict(), "epoch": 1}, tmp_path / "c.pt")
    assert open_in_fresh_process(tmp_path / "c.pt") == (6, False)


def _zip_with_pickle(path: Path, data: bytes) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("c/data.pkl", data)
        z.writestr("c/version", "3\n")
    return path


def test_a_huge_memo_index_costs_nothing(tmp_path):
    """The C unpickler would size its memo from the index (gigabytes); ours keeps a dict."""
    path = _zip_with_pickle(tmp_path / "c.pt", b"\x80\x02}r\x00\x00\x00\x10.")  # {} stored at 2**28
    started = time.perf_counter()
    with pytest.raises(ModelgenError, match="holds no tensors"):
        open_checkpoint(path)
    assert time.perf_counter() - started < 5


def test_refused_globals_still_get_torchs_answer(tmp_path):
    # Not a model (whole models are described: tests/test_sources.py): torch.load refuses it.
    import datetime

    torch.save({"w": torch.zeros(2), "saved": datetime.date(2020, 1, 1)}, tmp_path / "m.pt")
    with pytest.raises(ModelgenError, match="datetime.date"):
        open_checkpoint(tmp_path / "m.pt")


def test_missing_storage_record_is_left_to_torch(tmp_path):
    torch.save(OrderedDict(w=torch.zeros(3)), tmp_path / "c.pt")
    with zipfile.ZipFile(tmp_path / "c.pt") as src, zipfile.ZipFile(tmp_path / "d.pt", "w") as dst:
        for info in src.infolist():
            if not info.filename.endswith("/data/0"):
                dst.writestr(info, src.read(info))
    with pytest.raises(ModelgenError, match="corrupt or truncated checkpoint"):
        open_checkpoint(tmp_path / "d.pt")


def test_a_build_opcode_cannot_rewrite_a_description(tmp_path):
    """Frozen dataclasses with slots accept BUILD state; ours refuse, so a shape stays checked ints."""
    import pickle
    import pickletools

    torch.save({"w": torch.zeros(3)}, tmp_path / "c.pt")
    with zipfile.ZipFile(tmp_path / "c.pt") as z:
        entries = [(info, z.read(info)) for info in z.infolist()]
    data = dict((i.filename, d) for i, d in entries)["c/data.pkl"]
    after_tensor = [pos for op, _, pos in pickletools.genops(data) if op.name == "REDUCE"][-1] + 1
    state = pickle.dumps(["0", "float32", 0, ("__import__('os')",), (1,)], protocol=2)[2:-1]
    crafted = data[:after_tensor] + state + pickle.BUILD + data[after_tensor:]
    with zipfile.ZipFile(tmp_path / "d.pt", "w") as z:
        for info, d in entries:
            z.writestr(info, crafted if info.filename == "c/data.pkl" else d)
    with zipfile.ZipFile(tmp_path / "d.pt") as z:
        assert pickled.describe(z) is None
    try:
        table = open_checkpoint(tmp_path / "d.pt").table  # torch.load decides
    except ModelgenError:
        return
    assert all(type(d) is int for e in table.tensors.values() for d in e.shape)
