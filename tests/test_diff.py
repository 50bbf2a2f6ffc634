"""`modelgen diff`: why a checkpoint does not strict-load into a class, the remap that fixes it, and what
changed between two checkpoints. Every case a remap can fix is closed by the loop the user would run:
`diff --write-remap r.json` (exit 0), `verify --remap r.json` (exit 0), `diff --remap r.json` (exit 0).
"""

from __future__ import annotations

import json

import pytest
import torch

from tests.harness_support import dedent, one_line_error, run_cli
from tests.test_hostile_files import SYSTEM_GLOBAL, _malicious_files

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit:DeprecationWarning")

MODELS = dedent("""
    import torch
    import torch.nn as nn


    class Net(nn.Module):
        def __init__(self, classes: int = 3, head: str = "fc") -> None:
            super().__init__()
            self.body = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU())
            setattr(self, head, nn.Linear(8, classes))
            self.register_buffer("scale", torch.ones(classes))
            self.head_name = head

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return getattr(self, self.head_name)(self.body(x)) * self.scale


    class Wrapped(nn.Module):  # code that keeps the network under `net.`, as a training wrapper does
        def __init__(self) -> None:
            super().__init__()
            self.net = Net()

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.net(x)


    class Cached(nn.Module):  # the table is computed, not loaded: older versions saved it
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(4, 2)
            self.register_buffer("table", torch.arange(4.0), persistent=False)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.fc(x + self.table)


    class Computed(nn.Module):  # its __init__ reads a value, which the meta device cannot
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(4, int(torch.ones(()).item()) + 1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.fc(x)


    class Block(nn.Module):
        def __init__(self, d: int, attn: str) -> None:
            super().__init__()
            setattr(self, attn, nn.Linear(d, d))
            self.norm = nn.LayerNorm(d)
            self.mlp = nn.Sequential(nn.Linear(d, 2 * d), nn.GELU(), nn.Linear(2 * d, d))


    class Deep(nn.Module):
        def __init__(self, layers: int = 100, classes: int = 10, attn: str = "attention") -> None:
            super().__init__()
            self.embed = nn.Embedding(50, 8)
            self.layers = nn.ModuleList(Block(8, attn) for _ in range(layers))
            self.head = nn.Linear(8, classes)
""")


@pytest.fixture
def models(tmp_path, monkeypatch):
    """Work in tmp_path (remap paths as a user types them); returns a builder for the model classes."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "models.py").write_text(MODELS)
    namespace: dict = {}
    exec(compile(MODELS, "models", "exec"), namespace)

    def build(name: str, **kwargs):
        torch.manual_seed(0)
        return namespace[name](**kwargs)

    return build


def state(models, name="Net", **kwargs) -> dict[str, torch.Tensor]:
    return models(name, **kwargs).state_dict()


def prefixed(prefix: str, sd: dict) -> dict:
    return {prefix + k: v for k, v in sd.items()}


def diff(capsys, *args) -> tuple[int, str]:
    code, out, err = run_cli(capsys, "diff", *args)
    assert err == "", err
    return code, out


def fix_and_verify(capsys, ckpt: str, model: str = "models.py:Net") -> dict:
    """The user's loop: write the remap, verify with it, diff with it. Returns the remap."""
    code, out = diff(capsys, ckpt, model, "--write-remap", "r.json")
    assert code == 0, out
    assert "with the remap: loads strictly" in out or "loads strictly" in out
    code, out, err = run_cli(capsys, "verify", ckpt, model, "--remap", "r.json")
    assert code == 0, out + err
    assert "strict load" in out
    code, out = diff(capsys, ckpt, model, "--remap", "r.json")
    assert code == 0 and "with --remap r.json: loads strictly" in out, out
    return json.loads(open("r.json").read())


# ------------------------------------------------------------------------------ containers, prefixes


def test_a_matching_checkpoint_exits_0_and_says_so(models, capsys):
    torch.save(state(models), "w.pt")
    code, out = diff(capsys, "w.pt", "models.py:Net")
    assert code == 0
    assert "as verify loads it now: loads strictly" in out
    assert "models.py:Net, 10 keys (4 buffers)" in out


def test_trainer_dict_names_its_state_dict_and_the_others(models, capsys):
    sd = state(models)
    torch.save(
        {"model": sd, "ema": sd, "optimizer": {"state": {0: {"m": torch.zeros(2)}}}, "epoch": 3},
        "w.pt",
    )
    code, out = diff(capsys, "w.pt", "models.py:Net")
    assert code == 0
    assert "state dict 'model' (other state dicts: 'ema')" in out
    assert "ignored: 'optimizer'" in out


def test_wrong_container_is_found_and_the_remap_selects_it(models, capsys):
    # A GAN checkpoint: load picks the bigger state dict by default; the model is the other one.
    generator = {f"g{i}.weight": torch.zeros(16, 16) for i in range(20)}
    torch.save({"generator": generator, "discriminator": state(models)}, "gan.pt")
    code, out = diff(capsys, "gan.pt", "models.py:Net")
    assert code == 1
    assert "state dict 'generator'" in out
    assert "container: the model fits 'discriminator', not 'generator'" in out
    remap = fix_and_verify(capsys, "gan.pt")
    assert remap["container"] == "discriminator" and remap["rename"] == {} and remap["drop"] == []


@pytest.mark.parametrize(
    "prefix", ["module.", "_orig_mod.", "module._orig_mod.", "_orig_mod.module."]
)
def test_dataparallel_and_compile_prefixes_are_stripped_on_load(models, capsys, prefix):
    torch.save(prefixed(prefix, state(models)), "w.pt")
    code, out = diff(capsys, "w.pt", "models.py:Net")
    assert code == 0, out
    stripped = out.splitlines()[0].split("stripped: ")[1]
    assert all(f"'{part}.'" in stripped for part in prefix.split(".") if part)
    assert "torch.compile" in stripped if "_orig_mod" in prefix else "DataParallel/DDP" in stripped
    fix_and_verify(capsys, "w.pt")


@pytest.mark.parametrize("prefix", ["model.", "model._orig_mod.", "module.model."])
def test_lightning_model_prefix_also_nested_is_stripped_by_the_remap(models, capsys, prefix):
    torch.save({"state_dict": prefixed(prefix, state(models)), "epoch": 1}, "lit.ckpt")
    code, out = diff(capsys, "lit.ckpt", "models.py:Net")
    assert code == 1
    assert "unexpected (not in the model): 10 key(s)" in out
    remap = fix_and_verify(capsys, "lit.ckpt")
    assert remap["strip_prefixes"] == [prefix.removeprefix("module.")]
    assert remap["container"] == "state_dict"


def test_a_prefix_the_model_expects_is_added(models, capsys):
    torch.save(state(models), "w.pt")
    code, out = diff(capsys, "w.pt", "models.py:Wrapped")
    assert code == 1 and "prefix: add 'net.'" in out
    assert fix_and_verify(capsys, "w.pt", "models.py:Wrapped")["add_prefix"] == "net."


# ----------------------------------------------------------------------------- renames, sizes, buffers


def test_a_renamed_layer_is_matched_by_shapes_and_name(models, capsys):
    torch.save(state(models, head="classifier"), "w.pt")
    code, out = diff(capsys, "w.pt", "models.py:Net")
    assert code == 1
    assert "missing from the checkpoint: 2 key(s)\n    fc: weight, bias" in out
    assert "unexpected (not in the model): 2 key(s)\n    classifier: weight, bias" in out
    assert "classifier. -> fc.  83%  (2 tensors, same shapes)" in out
    assert "strict=False" in out and "would hide this" in out  # warned against, never suggested
    assert fix_and_verify(capsys, "w.pt")["rename"] == {"classifier.": "fc."}


def test_a_resized_layer_shows_both_shapes_and_no_remap_fixes_it(models, capsys):
    torch.save(state(models, classes=5), "w.pt")
    code, out = diff(capsys, "w.pt", "models.py:Net", "--write-remap", "r.json")
    assert code == 1
    assert "fc: weight [3, 8] vs [5, 8], bias [3] vs [5]" in out
    assert "(top level): scale [3] vs [5]" in out
    assert "other hyperparameters" in out


def test_renamed_and_resized_is_a_possible_rename_not_written_nor_dropped(models, capsys):
    torch.save(state(models, head="classifier", classes=5), "w.pt")
    code, out = diff(capsys, "w.pt", "models.py:Net", "--write-remap", "r.json")
    assert code == 1
    assert "possible renames, not written (check by hand):\n  classifier. -> fc." in out
    remap = json.loads(open("r.json").read())
    assert remap["rename"] == {} and remap["drop"] == []


def test_a_missing_buffer_is_named_as_a_buffer(models, capsys):
    sd = state(models)
    del sd["scale"]
    torch.save(sd, "w.pt")
    code, out = diff(capsys, "w.pt", "models.py:Net")
    assert code == 1
    assert "missing from the checkpoint: 1 key(s)\n    (top level): scale" in out
    assert "1 missing key(s) are buffers ('scale')" in out and "persistent=False" in out
    assert "no rename or drop fixes this" in out


def test_an_old_checkpoint_without_batchnorm_counters_loads(models, capsys):
    sd = {k: v for k, v in state(models).items() if not k.endswith("num_batches_tracked")}
    torch.save(sd, "w.pt")
    code, out = diff(capsys, "w.pt", "models.py:Net")
    assert code == 0
    assert "num_batches_tracked counter(s) are not in the checkpoint" in out


def test_a_saved_non_persistent_buffer_is_dropped(models, capsys):
    sd = state(models, "Cached") | {"table": torch.arange(4.0)}
    torch.save(sd, "w.pt")
    code, out = diff(capsys, "w.pt", "models.py:Cached", "--write-remap", "r.json")
    assert code == 0
    assert "1 non-persistent buffer not in its state dict" in out
    assert "table  (1 tensor, a non-persistent buffer of the model)" in out
    assert json.loads(open("r.json").read())["drop"] == ["table"]


def test_extra_ema_weights_in_the_state_dict_are_dropped_not_renamed(models, capsys):
    sd = state(models, head="classifier")
    torch.save(
        sd | prefixed("ema.", state(models)), "w.pt"
    )  # the EMA copy already has the new names
    code, out = diff(capsys, "w.pt", "models.py:Net")
    assert code == 1
    assert "ema.  (10 tensors, a second copy of the model (EMA weights?))" in out
    remap = fix_and_verify(capsys, "w.pt")
    assert remap["rename"] == {"classifier.": "fc."} and remap["drop"] == ["ema."]


def test_combination_trainer_dict_lightning_compile_rename_ema(models, capsys):
    old = prefixed("model._orig_mod.", state(models, head="classifier"))
    ema = prefixed("model._orig_mod.", state(models, head="classifier"))
    torch.save(
        {
            "optimizer_states": [{}],
            "state_dict": old | {"loss_fn.pos_weight": torch.ones(3)},
            "ema_state_dict": ema,
        },
        "combo.ckpt",
    )
    code, out = diff(capsys, "combo.ckpt", "models.py:Net")
    assert code == 1
    remap = fix_and_verify(capsys, "combo.ckpt")
    assert remap == {
        "container": "state_dict",
        "strip_prefixes": ["model._orig_mod."],
        "add_prefix": "",
        "rename": {"classifier.": "fc."},
        "drop": ["loss_fn."],
    }
    code, out = diff(capsys, "combo.ckpt", "models.py:Net", "--write-remap", "r.json", "--force")
    assert "also fits the model: 'ema_state_dict'" in out


def test_a_model_that_cannot_be_built_on_meta_is_built_for_real(models, capsys):
    torch.save(state(models, "Computed"), "w.pt")
    assert diff(capsys, "w.pt", "models.py:Computed")[0] == 0


def test_unrelated_checkpoint_gets_no_drops(models, capsys):
    torch.save({"encoder.weight": torch.zeros(7, 7)}, "w.pt")
    code, out = diff(capsys, "w.pt", "models.py:Net", "--write-remap", "r.json")
    assert code == 1 and "is this the model's checkpoint?" in out
    assert json.loads(open("r.json").read())["drop"] == []


# ------------------------------------------------------------------------------------- a deep model


def test_a_100_layer_model_gives_a_short_report_and_a_small_remap(models, capsys):
    old = state(models, "Deep", attn="attn", classes=12)
    old["layers.3.extra"] = torch.zeros(2)  # one odd key among a hundred similar blocks
    torch.save(old, "deep.pt")
    code, out = diff(capsys, "deep.pt", "models.py:Deep", "--write-remap", "r.json")
    assert code == 1  # the head is resized: renames cannot fix that
    lines = out.splitlines()
    assert len(lines) <= 25, out
    assert "    layers.{0-99}.attention: weight, bias" in lines
    assert (
        "  layers.*.attn. -> layers.*.attention.  99%  (100 subtrees, 200 tensors, same shapes)"
        in lines
    )
    assert "    head: weight [10, 8] vs [12, 8], bias [10] vs [12]" in lines
    remap = json.loads(open("r.json").read())
    assert remap["rename"] == {"layers.*.attn.": "layers.*.attention."}
    assert remap["drop"] == ["layers.3.extra"]


# --------------------------------------------------------------------------------- two checkpoints


def test_two_checkpoints_added_layers_resized_and_dtype_collapsed(models, capsys):
    torch.save(state(models, "Deep", layers=6), "a.pt")
    b = state(models, "Deep", layers=12, classes=20)
    b["embed.weight"] = b["embed.weight"].half()
    torch.save(b, "b.pt")
    code, out = diff(capsys, "a.pt", "b.pt")
    assert code == 1
    lines = out.splitlines()
    assert (
        lines[0]
        == "a.pt (51 tensors) -> b.pt (99 tensors): keys: 48 added, 2 resized, 1 dtype changes"
    )
    assert "  layers.{6-11}: added (6 x 8 keys)" in lines
    assert "  head: resized weight [10, 8] -> [20, 8], bias [10] -> [20]" in lines
    assert "  embed: dtype weight float32 -> float16" in lines
    assert len(lines) == 4


def test_two_equal_checkpoints_exit_0(models, capsys):
    torch.save(state(models), "a.pt")
    torch.save({"model": prefixed("module.", state(models))}, "b.pt")
    code, out = diff(capsys, "a.pt", "b.pt")
    assert code == 0 and "same names, shapes and dtypes" in out


# ----------------------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    "arg, is_model",
    [
        ("model.py", True),
        ("dir/model.py:Net", True),
        ("pkg.mod:Net", True),
        ("weights.pt", False),
        ("hf_folder", False),
        ("C:\\w.pt", False),
        ("pkg.mod", False),
        ("odd:Name", False),
    ],
)
def test_the_second_argument_is_a_model_by_its_form_unless_it_is_a_file(
    arg, is_model, tmp_path, monkeypatch
):
    from codegen.harness.model_ref import looks_like_model

    monkeypatch.chdir(tmp_path)
    (tmp_path / "odd:Name").write_bytes(b"PK")  # a checkpoint whose name looks like file:Class
    assert looks_like_model(arg) is is_model


@pytest.mark.parametrize("kind", ["zip", "legacy"])
@pytest.mark.parametrize("position", ["first", "second"])
def test_a_malicious_pickle_is_refused_in_either_position(models, tmp_path, capsys, kind, position):
    marker = tmp_path / "MARKER"
    evil = _malicious_files(tmp_path, marker)[kind]
    torch.save(state(models), "w.pt")
    if position == "first":
        tries = [
            (evil, "w.pt"),
            (evil, "models.py:Net"),
            (evil, "models.py:Net", "--write-remap", "r.json"),
        ]
    else:
        tries = [("w.pt", evil)]
    for args in tries:
        code, out, err = run_cli(capsys, "diff", *args)
        assert code == 2 and out == ""
        line = one_line_error(err)
        assert "refused to unpickle" in line and SYSTEM_GLOBAL in line
    assert not marker.exists() and not (tmp_path / "r.json").exists()


def test_option_conflicts_are_one_line_errors(models, capsys):
    torch.save(state(models), "w.pt")
    code, _, err = run_cli(capsys, "diff", "w.pt", "w.pt", "--write-remap", "r.json")
    assert code == 2 and "--write-remap needs a MODEL" in one_line_error(err)
    code, _, err = run_cli(
        capsys, "diff", "w.pt", "models.py:Net", "--remap", "a.json", "--write-remap", "b.json"
    )
    assert code == 2 and "pass one" in one_line_error(err)
    code, _, err = run_cli(capsys, "diff", "w.pt", "models.py:Net", "--write-remap", "w.pt")
    assert code == 2 and "that is the input checkpoint" in one_line_error(err)
    code, _, err = run_cli(capsys, "diff", "w.pt", "models.py:Nope")
    assert code == 2 and "no class Nope" in one_line_error(err)
