"""The checkpoint loader: every format, wrapper and prefix rule, with fixtures built in code."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
import torch
import torch.nn as nn
from safetensors.torch import save_file

from codegen.errors import ModelgenError
from codegen.load import Checkpoint, open_checkpoint
from tests.conftest import open_in_fresh_process

# torch.jit is deprecated but its archives are still out there: reading them is the point.
pytestmark = pytest.mark.filterwarnings(
    "ignore:`torch.jit.script` is deprecated:DeprecationWarning"
)


class Net(nn.Module):
    """Small, but with buffers, an int64 buffer, an LSTM and a 0-d tensor: the usual suspects."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Linear(4, 8)
        self.norm = nn.BatchNorm1d(8)
        self.rnn = nn.LSTM(8, 6, num_layers=2)
        self.head = nn.Linear(6, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.norm(self.embed(x))
        out, _ = self.rnn(h.unsqueeze(0))
        return self.head(out[0])


class Tied(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.wte = nn.Embedding(10, 4)
        self.lm_head = nn.Linear(4, 10, bias=False)
        self.lm_head.weight = self.wte.weight

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        return self.lm_head(self.wte(idx))


def net_state() -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    net = Net()
    net.norm.running_mean.normal_()  # non-default buffers, so equality means the bytes were read
    return net.state_dict()


def assert_matches(ckpt: Checkpoint, sd: dict[str, torch.Tensor]) -> None:
    """The table describes sd exactly, and state_dict() gives back sd's values."""
    table = ckpt.table
    assert set(table.tensors) == set(sd)
    for name, t in sd.items():
        entry = table.tensors[name]
        assert entry.shape == tuple(t.shape), name
        assert entry.dtype == str(t.dtype).removeprefix("torch."), name
    real = ckpt.state_dict()
    assert set(real) == set(sd)
    for name, t in sd.items():
        assert torch.equal(real[name], t), name


def save_sharded(sd: dict[str, torch.Tensor], folder: Path, kind: str, shards: int = 3) -> Path:
    """A Hugging Face style shard set: files plus `*.index.json` with a weight_map."""
    folder.mkdir(parents=True, exist_ok=True)
    names = list(sd)
    weight_map = dict.fromkeys(names, "")  # in registration order, as Hugging Face writes it
    for i in range(shards):
        part = {n: sd[n].clone() for n in names[i::shards]}
        ext = "safetensors" if kind == "safetensors" else "bin"
        fname = f"model-{i + 1:05d}-of-{shards:05d}.{ext}"
        if kind == "safetensors":
            save_file(part, folder / fname)
        else:
            torch.save(part, folder / fname)
        weight_map.update({n: fname for n in part})
    index = folder / f"model.{'safetensors' if kind == 'safetensors' else 'bin'}.index.json"
    index.write_text(json.dumps({"metadata": {"total_size": 123}, "weight_map": weight_map}))
    return index


# ---------------------------------------------------------------------------------------- formats


@pytest.mark.parametrize("ext", [".pt", ".bin", ".ckpt", ".weird", ""])
def test_torch_zip_any_extension(tmp_path, ext):
    sd = net_state()
    path = tmp_path / f"weights{ext}"
    torch.save(sd, path)
    ckpt = open_checkpoint(path)
    assert ckpt.table.format == "torch-zip"
    assert ckpt.table.source == path.name  # the file name only, never the absolute path
    assert list(ckpt.table.tensors) == list(sd)  # registration order kept
    assert_matches(ckpt, sd)


def test_legacy_format(tmp_path):
    sd = net_state()
    torch.save(sd, tmp_path / "old.pth", _use_new_zipfile_serialization=False)
    ckpt = open_checkpoint(tmp_path / "old.pth")
    assert ckpt.table.format == "torch-legacy"
    assert_matches(ckpt, sd)


def test_legacy_format_cut_inside_its_tensor_bytes_is_refused_at_open(tmp_path):
    """torch reads only the pickles while describing (skip_data); the length check catches a file
    whose pickles are whole but whose tensor bytes are not (issue 20: it used to pass inspect)."""
    sd = {"w": torch.randn(64, 64)}
    torch.save(sd, tmp_path / "old.pth", _use_new_zipfile_serialization=False)
    ckpt = open_checkpoint(tmp_path / "old.pth")
    assert ckpt.table.tensors["w"].shape == (64, 64)
    assert torch.equal(ckpt.state_dict()["w"], sd["w"])
    data = (tmp_path / "old.pth").read_bytes()
    (tmp_path / "cut.pth").write_bytes(data[:-1000])
    with pytest.raises(
        ModelgenError, match=r"^cut\.pth: corrupt or truncated checkpoint \(it ends 1000 bytes"
    ):
        open_checkpoint(tmp_path / "cut.pth")


def test_safetensors_header_only_with_metadata(tmp_path):
    sd = {k: v.contiguous() for k, v in net_state().items()}
    meta = {
        "format": "pt",
        "config": json.dumps({"d_model": 8, "layers": [1, 2]}),
        "broken": "{not json",
    }
    save_file(sd, tmp_path / "model.safetensors", metadata=meta)
    ckpt = open_checkpoint(tmp_path / "model.safetensors")
    assert ckpt.table.format == "safetensors"
    assert ckpt.table.metadata == {
        "format": "pt",
        "config": {"d_model": 8, "layers": [1, 2]},
        "broken": "{not json",
    }
    # writers reorder by dtype/size; numeric-aware names keep layer 2 before layer 10
    assert_matches(ckpt, sd)


def test_safetensors_numeric_name_order(tmp_path):
    sd = {f"layers.{i}.w": torch.zeros(1) for i in (10, 2, 1)}
    save_file(sd, tmp_path / "m.safetensors")
    assert list(open_checkpoint(tmp_path / "m.safetensors").table.tensors) == [
        "layers.1.w",
        "layers.2.w",
        "layers.10.w",
    ]


@pytest.mark.parametrize("kind", ["safetensors", "bin"])
def test_sharded_sets(tmp_path, kind):
    sd = net_state()
    index = save_sharded(sd, tmp_path / "hf", kind)
    ckpt = open_checkpoint(index)
    assert ckpt.table.format == f"sharded-{kind}"
    assert list(ckpt.table.tensors) == list(sd)  # the index's order
    assert ckpt.table.metadata == {"total_size": 123}
    assert_matches(ckpt, sd)
    # the folder itself works too: it holds one index
    assert open_checkpoint(tmp_path / "hf").table.format == f"sharded-{kind}"


def test_sharded_set_through_symlinks(tmp_path):
    """Hugging Face cache snapshots are symlinks into a blob store outside the folder: still fine."""
    sd = net_state()
    save_sharded(sd, tmp_path / "blobs", "safetensors")
    snap = tmp_path / "snapshots" / "abc"
    snap.mkdir(parents=True)
    for f in (tmp_path / "blobs").iterdir():
        (snap / f.name).symlink_to(Path("..", "..", "blobs", f.name))
    assert_matches(open_checkpoint(snap), sd)


def test_torchscript_archive(tmp_path):
    class WithExtras(Net):
        def __init__(self) -> None:
            super().__init__()
            self.register_buffer("scale", torch.full((2,), 3.0, dtype=torch.float16))
            self.register_buffer("mask", torch.tensor([True, False]))
            self.cache = torch.ones(5)  # a plain tensor attribute: not in state_dict()

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.head(self.norm(self.embed(x))) * self.cache.sum()

    torch.manual_seed(0)
    scripted = torch.jit.script(WithExtras())
    scripted.save(str(tmp_path / "model.ts"))
    ckpt = open_checkpoint(tmp_path / "model.ts")
    assert ckpt.table.format == "torchscript"
    expected = scripted.state_dict()
    assert "cache" not in ckpt.table.tensors
    assert list(ckpt.table.tensors) == list(expected)
    assert_matches(ckpt, expected)


def test_torchscript_tied_weights(tmp_path):
    scripted = torch.jit.script(Tied())
    scripted.save(str(tmp_path / "tied.pt"))
    table = open_checkpoint(tmp_path / "tied.pt").table
    assert table.tensors["lm_head.weight"].tied_to == "wte.weight"


@pytest.mark.parametrize("name", ["model.safetensors", "pytorch_model.bin", "weights.pth"])
def test_directory_with_one_weights_file(tmp_path, name):
    sd = net_state()
    (tmp_path / "config.json").write_text("{}")
    if name.endswith(".safetensors"):
        save_file(sd, tmp_path / name)
    else:
        torch.save(sd, tmp_path / name)
    ckpt = open_checkpoint(tmp_path)
    assert ckpt.table.source == name
    assert_matches(ckpt, sd)


def test_directory_prefers_safetensors(tmp_path):
    sd = net_state()
    torch.save(sd, tmp_path / "pytorch_model.bin")
    save_file(sd, tmp_path / "model.safetensors")
    assert open_checkpoint(tmp_path).table.source == "model.safetensors"


def test_directory_with_several_checkpoints_is_refused(tmp_path):
    torch.save(net_state(), tmp_path / "a.pt")
    torch.save(net_state(), tmp_path / "b.pt")
    with pytest.raises(ModelgenError, match=r"several checkpoints \(a\.pt, b\.pt\)"):
        open_checkpoint(tmp_path)


# --------------------------------------------------------------------------------------- wrappers


def test_trainer_dict_with_dataparallel_prefix(tmp_path):
    sd = net_state()
    torch.save(
        {"epoch": 3, "model_state_dict": {f"module.{k}": v for k, v in sd.items()}},
        tmp_path / "c.pt",
    )
    ckpt = open_checkpoint(tmp_path / "c.pt")
    assert ckpt.table.container == "model_state_dict"
    assert ckpt.table.stripped_prefixes == ["module."]
    assert ckpt.table.metadata == {"epoch": 3}
    assert_matches(ckpt, sd)


def test_nested_wrappers_any_depth(tmp_path):
    sd = net_state()
    raw = {"checkpoint": {"step": 7, "state": {"model": sd, "config": {"lr": 0.1}}}, "epoch": 1}
    torch.save(raw, tmp_path / "c.pt")
    ckpt = open_checkpoint(tmp_path / "c.pt")
    assert ckpt.table.container == "checkpoint/state/model"
    # non-tensor entries at every level of the path are kept as hints
    assert ckpt.table.metadata == {"epoch": 1, "step": 7, "config": {"lr": 0.1}}
    assert_matches(ckpt, sd)


def test_model_and_ema_picks_model_and_lists_ema(tmp_path):
    sd = net_state()
    ema = {k: v + 1 if v.is_floating_point() else v for k, v in sd.items()}
    torch.save({"ema": ema, "model": sd, "epoch": 2}, tmp_path / "c.pt")
    ckpt = open_checkpoint(tmp_path / "c.pt")
    assert ckpt.table.container == "model"
    assert ckpt.table.other_containers == ["ema"]
    assert ckpt.table.metadata == {
        "epoch": 2
    }  # ema is listed once, as a container, not as metadata
    assert_matches(ckpt, sd)
    picked = open_checkpoint(tmp_path / "c.pt", key="ema")
    assert picked.table.container == "ema"
    assert picked.table.other_containers == ["model"]
    assert_matches(picked, ema)


@pytest.mark.parametrize("key", ["a/b", "a.b"])
def test_key_path(tmp_path, key):
    sd = net_state()
    torch.save({"a": {"b": sd, "c": {"x.weight": torch.zeros(1)}}}, tmp_path / "c.pt")
    ckpt = open_checkpoint(tmp_path / "c.pt", key=key)
    assert ckpt.table.container == "a/b"
    assert ckpt.table.other_containers == ["a/c"]
    assert_matches(ckpt, sd)


def test_key_errors_say_what_is_there(tmp_path):
    torch.save(
        {"model": net_state(), "ema": net_state(), "epoch": 3, "optimizer": {}}, tmp_path / "c.pt"
    )
    with pytest.raises(
        ModelgenError,
        match=r"^c\.pt: --key nope: 'nope' not found \(a dict with keys model, ema, epoch",
    ):
        open_checkpoint(tmp_path / "c.pt", key="nope")
    with pytest.raises(
        ModelgenError,
        match=r"^c\.pt: --key epoch: no state dict .* state dicts are at: model, ema$",
    ):
        open_checkpoint(tmp_path / "c.pt", key="epoch")
    with pytest.raises(ModelgenError, match=r"^c\.pt: --key model/x: 'x' not found under model"):
        open_checkpoint(tmp_path / "c.pt", key="model/x")


def test_key_refused_for_flat_formats(tmp_path):
    save_file(net_state(), tmp_path / "m.safetensors")
    with pytest.raises(
        ModelgenError, match=r"^m\.safetensors: --key selects inside a trainer dict"
    ):
        open_checkpoint(tmp_path / "m.safetensors", key="model")


def test_optimizer_tensors_are_ignored(tmp_path):
    sd = net_state()
    # the layout of torch.optim's state_dict() (int keys), built by hand: constructing a real
    # optimizer costs a second of lazy imports
    optimizer = {
        "state": {i: {"momentum_buffer": torch.zeros_like(v)} for i, v in enumerate(sd.values())},
        "param_groups": [{"lr": 0.1, "momentum": 0.9, "params": list(range(len(sd)))}],
    }
    raw = {"optimizer": optimizer, "lr_scheduler": {"last_epoch": 1}, "net": sd}
    torch.save(raw, tmp_path / "c.pt")
    ckpt = open_checkpoint(tmp_path / "c.pt")
    assert ckpt.table.container == "net"
    assert ckpt.table.other_containers == []
    assert ckpt.table.ignored == ["optimizer"]
    assert ckpt.table.metadata == {"lr_scheduler": {"last_epoch": 1}}
    assert_matches(ckpt, sd)


def test_only_optimizer_tensors_is_an_error(tmp_path):
    torch.save({"optimizer": {"state": {0: {"exp_avg": torch.zeros(2)}}}}, tmp_path / "c.pt")
    with pytest.raises(
        ModelgenError, match=r"^c\.pt: no model state dict found: tensors only under optimizer$"
    ):
        open_checkpoint(tmp_path / "c.pt")


def test_state_dict_inside_a_tuple(tmp_path):
    sd = net_state()
    torch.save((sd, {"lr": 0.1}), tmp_path / "c.pt")
    ckpt = open_checkpoint(tmp_path / "c.pt")
    assert ckpt.table.container == "0"
    assert_matches(ckpt, sd)


def test_scalars_beside_the_weights_become_metadata(tmp_path):
    sd = net_state()
    torch.save({**sd, "epoch": 5, "arch": "net"}, tmp_path / "c.pt")
    ckpt = open_checkpoint(tmp_path / "c.pt")
    assert ckpt.table.container is None
    assert ckpt.table.metadata == {"epoch": 5, "arch": "net"}
    assert_matches(ckpt, sd)


def test_namespace_and_paths_in_metadata(tmp_path):
    sd = net_state()
    args = argparse.Namespace(lr=0.5, layers=[1, 2], out=Path("runs/x"), loss=float("nan"))
    torch.save({"state_dict": sd, "args": args}, tmp_path / "c.pt")
    ckpt = open_checkpoint(tmp_path / "c.pt")
    # plain JSON: the Namespace is a dict, the path a string, NaN a string (json.dumps stays valid JSON)
    assert ckpt.table.metadata == {
        "args": {"lr": 0.5, "layers": [1, 2], "out": "runs/x", "loss": "nan"}
    }
    json.loads(json.dumps(ckpt.table.to_json(), allow_nan=False))


# --------------------------------------------------------------------------------------- prefixes


@pytest.mark.parametrize(
    "prefix",
    ["module.", "_orig_mod.", "module._orig_mod.", "_orig_mod.module.", "module.module._orig_mod."],
)
def test_wrapper_prefixes_stripped_in_any_order(tmp_path, prefix):
    sd = net_state()
    torch.save({f"{prefix}{k}": v for k, v in sd.items()}, tmp_path / "c.pt")
    ckpt = open_checkpoint(tmp_path / "c.pt")
    assert "".join(ckpt.table.stripped_prefixes) == prefix
    assert_matches(ckpt, sd)


def test_strip_prefix_between_wrappers(tmp_path):
    sd = net_state()
    torch.save({f"module.backbone._orig_mod.{k}": v for k, v in sd.items()}, tmp_path / "c.pt")
    ckpt = open_checkpoint(tmp_path / "c.pt", strip_prefixes=("backbone.",))
    assert ckpt.table.stripped_prefixes == ["module.", "backbone.", "_orig_mod."]
    assert_matches(ckpt, sd)


def test_strip_prefix_from_some_keys(tmp_path):
    torch.save({"model.a": torch.zeros(1), "head.b": torch.ones(1)}, tmp_path / "c.pt")
    ckpt = open_checkpoint(tmp_path / "c.pt", strip_prefixes=("model.",))
    assert list(ckpt.table.tensors) == ["a", "head.b"]


def test_strip_prefix_that_matches_nothing_is_an_error(tmp_path):
    torch.save(net_state(), tmp_path / "c.pt")
    with pytest.raises(
        ModelgenError, match=r"^c\.pt: --strip-prefix 'encoder\.': no key starts with it$"
    ):
        open_checkpoint(tmp_path / "c.pt", strip_prefixes=("encoder.",))


def test_strip_prefix_that_merges_keys_is_an_error(tmp_path):
    torch.save({"a.w": torch.zeros(1), "w": torch.zeros(1)}, tmp_path / "c.pt")
    with pytest.raises(ModelgenError, match=r"^c\.pt: stripping a\. would turn 'a\.w' into 'w'"):
        open_checkpoint(tmp_path / "c.pt", strip_prefixes=("a.",))


def test_no_strip_keeps_prefixes(tmp_path):
    sd = net_state()
    prefixed = {f"module.{k}": v for k, v in sd.items()}
    save_file(prefixed, tmp_path / "m.safetensors")
    ckpt = open_checkpoint(tmp_path / "m.safetensors", strip=False)
    assert ckpt.table.stripped_prefixes == []
    assert_matches(ckpt, prefixed)
    assert open_checkpoint(tmp_path / "m.safetensors").table.stripped_prefixes == ["module."]


def test_prefix_only_on_some_keys_is_kept(tmp_path):
    torch.save({"module.a": torch.zeros(1), "b": torch.zeros(1)}, tmp_path / "c.pt")
    ckpt = open_checkpoint(tmp_path / "c.pt")
    assert ckpt.table.stripped_prefixes == []
    assert list(ckpt.table.tensors) == ["module.a", "b"]


# ------------------------------------------------------------------------------------ ties, hash


@pytest.mark.parametrize("legacy", [False, True])
def test_tied_weights(tmp_path, legacy):
    model = Tied()
    torch.save(
        {"module." + k: v for k, v in model.state_dict().items()},
        tmp_path / "t.pt",
        _use_new_zipfile_serialization=not legacy,
    )
    table = open_checkpoint(tmp_path / "t.pt").table
    assert table.tensors["wte.weight"].tied_to is None
    assert (
        table.tensors["lm_head.weight"].tied_to == "wte.weight"
    )  # renamed with the stripped prefix
    assert table.to_json()["tensors"][1] == {
        "name": "lm_head.weight",
        "shape": [10, 4],
        "dtype": "float32",
        "tied_to": "wte.weight",
    }


def test_views_of_one_storage_are_not_tied(tmp_path):
    base = torch.arange(6.0)
    torch.save({"a": base[:3], "b": base[3:], "c": base[:3].view(3, 1)}, tmp_path / "v.pt")
    table = open_checkpoint(tmp_path / "v.pt").table
    assert [t.tied_to for t in table.tensors.values()] == [None, None, None]


def test_fingerprint_stable_across_formats_and_sensitive_to_shapes(tmp_path):
    sd = net_state()
    torch.save(sd, tmp_path / "a.pt")
    torch.save(sd, tmp_path / "b.pt", _use_new_zipfile_serialization=False)
    torch.save({"model": {f"module.{k}": v for k, v in sd.items()}}, tmp_path / "c.pt")
    prints = {
        open_checkpoint(tmp_path / n).table.fingerprint() for n in ("a.pt", "b.pt", "c.pt", "a.pt")
    }
    assert len(prints) == 1
    fp = prints.pop()
    assert len(fp) == 16
    changed = dict(sd, **{"head.weight": torch.zeros(3, 7)})
    torch.save(changed, tmp_path / "d.pt")
    assert open_checkpoint(tmp_path / "d.pt").table.fingerprint() != fp
    retyped = dict(sd, **{"head.weight": sd["head.weight"].half()})
    torch.save(retyped, tmp_path / "e.pt")
    assert open_checkpoint(tmp_path / "e.pt").table.fingerprint() != fp


def test_state_dict_returns_a_fresh_dict(tmp_path):
    torch.save(net_state(), tmp_path / "a.pt")
    ckpt = open_checkpoint(tmp_path / "a.pt")
    first = ckpt.state_dict()
    first.clear()
    assert len(ckpt.state_dict()) == len(ckpt.table.tensors)


def test_zip_checkpoints_are_memory_mapped(tmp_path):
    """Opening reads no tensor bytes; the tensors come back backed by the file, not copied."""
    torch.save({"w": torch.zeros(256, 1024)}, tmp_path / "big.pt")
    ckpt = open_checkpoint(tmp_path / "big.pt")
    if not Path("/proc/self/maps").exists():
        pytest.skip("needs /proc to see memory maps")
    state = ckpt.state_dict()
    maps = Path("/proc/self/maps").read_text()
    assert str(tmp_path / "big.pt") in maps
    assert torch.equal(state["w"], torch.zeros(256, 1024))


def test_torch_is_imported_lazily_for_safetensors(tmp_path):
    """Header-only formats do not pay for importing torch (checked in a fresh interpreter)."""
    save_file({"w": torch.zeros(2)}, tmp_path / "m.safetensors")
    assert open_in_fresh_process(tmp_path / "m.safetensors") == (1, False)
