"""Whole-model pickles (`torch.save(model)`) and TorchScript archives: described without importing,
calling or compiling anything, and used as evidence: every torch.nn layer, parameter-free ones
included, with its exact constructor arguments.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import textwrap
import zipfile

import pytest
import torch
import torch.nn as nn

from codegen.errors import ModelgenError
from codegen.generate import generate_source
from codegen.harness.model_ref import load_model_class
from codegen.load import open_checkpoint
from tests.zoo import EXACT, INPUTS, ZOO, build

COMPOSITE = (
    nn.TransformerEncoderLayer,
    nn.TransformerDecoderLayer,
    nn.TransformerEncoder,
    nn.TransformerDecoder,
    nn.Transformer,
    nn.MultiheadAttention,
)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Stem(nn.Module):
    """A custom class around parameter-free layers the keys do not show."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 5, stride=2, padding=2, dilation=1, bias=False)
        self.bn = nn.BatchNorm2d(8, eps=1e-3, momentum=0.01)
        self.act = nn.LeakyReLU(0.2, inplace=True)
        self.pool = nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(self.act(self.bn(self.conv(x))))


class SmallCNN(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = Stem()
        self.features = nn.Sequential(
            nn.Conv2d(8, 8, 3, padding=1, groups=8),
            nn.Hardswish(),
            nn.Dropout2d(0.1),
            nn.Conv2d(8, 16, (1, 3), padding=(0, 1)),
            nn.GELU(approximate="tanh"),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.head = nn.Sequential(nn.Dropout(0.3), nn.Linear(16, 10), nn.LogSoftmax(dim=1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(self.stem(x)))


class Odd(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.proj = nn.Linear(4, 4)
        self.register_buffer("weird_table", torch.randn(4))  # a name no rule calls a buffer
        self.register_buffer("scratch", torch.zeros(3), persistent=False)
        self.scale = nn.Parameter(torch.ones(4))


def sequential_zoo() -> dict[str, nn.Module]:
    torch.manual_seed(0)
    return {
        "mlp": nn.Sequential(
            nn.Linear(12, 32),
            nn.SiLU(),
            nn.Dropout(0.2),
            nn.Linear(32, 32),
            nn.Tanh(),
            nn.LayerNorm(32, eps=1e-6),
            nn.Linear(32, 4),
            nn.Softmax(dim=-1),
        ),
        "cnn": nn.Sequential(
            nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(8, eps=1e-3),
            nn.ReLU6(inplace=True),
            nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1, groups=2),
            nn.ELU(alpha=0.5),
            nn.AvgPool2d(2, ceil_mode=True),
            nn.Flatten(),
            nn.Linear(16 * 2 * 2, 5),
        ),
        "conv1d": nn.Sequential(
            nn.Conv1d(4, 8, 5, padding=2, padding_mode="reflect"),
            nn.GroupNorm(2, 8),
            nn.Mish(),
            nn.Conv1d(8, 8, 3, dilation=2, padding=2),
            nn.Sigmoid(),
        ),
    }


SEQUENTIAL_INPUTS = {
    "mlp": lambda: torch.randn(3, 12),
    "cnn": lambda: torch.randn(2, 3, 16, 16),
    "conv1d": lambda: torch.randn(2, 4, 20),
}


def _script_and_save(model: nn.Module, path) -> None:
    torch.jit.save(torch.jit.script(model), path)


# The two sources that record the module tree: a whole-model pickle and a TorchScript archive.
SAVERS = {"pickle": torch.save, "torchscript": _script_and_save}


def generate_from_model(
    model: nn.Module, tmp_path, name: str = "model", save=torch.save
) -> tuple[str, type, list]:
    ckpt = tmp_path / f"{name}.pt"
    save(model, ckpt)
    source, ir = generate_source(open_checkpoint(ckpt).table)
    path = tmp_path / f"{name}_model.py"
    path.write_text(source)
    return source, load_model_class(str(path)), ir.warnings


def assert_same_layers(generated: nn.Module, original: nn.Module) -> None:
    """Every module of the original, parameter-free ones too, at the same path, of the same type
    and with the same constructor attributes."""
    made = dict(generated.named_modules())
    # Built-ins that own built-ins (a transformer layer) are rebuilt by the catalogue from their keys
    # and the recorded choices; what they store besides (their dropout) the file does not carry.
    composite = [p for p, m in original.named_modules() if p and isinstance(m, COMPOSITE)]
    for path, module in original.named_modules():
        if any(path.startswith(c + ".") for c in composite):
            assert type(made[path]) is type(module), path
            continue
        if type(module).__module__.startswith("torch.nn"):
            assert path in made, f"{path} ({type(module).__name__}) is missing"
            # the top class subclasses a recorded container
            assert type(made[path]) is type(module) or (
                not path and isinstance(made[path], type(module))
            ), path
            for attr, value in vars(module).items():
                if isinstance(module, COMPOSITE) and attr in ("dropout", "p"):
                    continue
                if not attr.startswith("_") and isinstance(value, (int, float, bool, str, tuple)):
                    assert getattr(made[path], attr) == value, (path, attr)
    assert list(made) == [p for p, _ in original.named_modules()]  # registration order too


@pytest.mark.parametrize("source_kind", sorted(SAVERS))
@pytest.mark.parametrize("name", sorted(sequential_zoo()))
def test_sequential_models_are_exact(name, source_kind, tmp_path):
    """Every layer, parameter-free ones too, with its exact arguments: for a TorchScript archive from
    data.pkl's module tree and the class constants of code/ (read as text, never run)."""
    original = sequential_zoo()[name].eval()
    source, cls, warnings = generate_from_model(original, tmp_path, name, SAVERS[source_kind])
    assert not warnings
    model = cls().eval()
    model.load_state_dict(original.state_dict(), strict=True)
    assert_same_layers(model, original)
    x = SEQUENTIAL_INPUTS[name]()
    with torch.no_grad():
        torch.testing.assert_close(model(x), original(x))
        torch.testing.assert_close(torch.jit.script(model)(x), original(x))
    assert "# not in the checkpoint" not in source  # nothing left to a default


@pytest.mark.parametrize("source_kind", sorted(SAVERS))
def test_custom_classes_get_recorded_layers_and_names(source_kind, tmp_path):
    torch.manual_seed(0)
    original = SmallCNN().eval()
    source, cls, _ = generate_from_model(original, tmp_path, save=SAVERS[source_kind])
    model = cls().eval()
    model.load_state_dict(original.state_dict(), strict=True)
    assert_same_layers(model, original)
    assert "class Stem(nn.Module)" in source  # the model's own class name (TorchScript's unmangled)
    assert "nn.LeakyReLU(negative_slope=0.2, inplace=True)" in source
    assert "nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True)" in source
    assert "nn.GELU(approximate='tanh')" in source or 'approximate="tanh"' in source
    torch.jit.script(model)
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():  # the catalogue chains the recorded layers in registration order
        torch.testing.assert_close(model(x), original(x))


@pytest.mark.parametrize("source_kind", sorted(SAVERS))
@pytest.mark.parametrize("name", sorted(ZOO))
def test_zoo_whole_models(name, source_kind, tmp_path):
    """Real architectures, pickled whole or scripted: strict load, every torch.nn layer and argument
    as recorded; outputs equal where the catalogue covers the custom classes; scripts."""
    original = build(name)
    source, cls, warnings = generate_from_model(original, tmp_path, name, SAVERS[source_kind])
    model = cls().eval()
    model.load_state_dict(original.state_dict(), strict=True)
    assert_same_layers(model, original)
    torch.jit.script(model)
    if name in EXACT:
        inputs = INPUTS[name]()
        with torch.no_grad():
            torch.testing.assert_close(model(*inputs), original(*inputs), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("source_kind", sorted(SAVERS))
def test_unwritable_recorded_value_is_not_replaced_by_a_default(source_kind, tmp_path):
    """Hardtanh(min_val=-inf): the record holds a value no literal writes; the layer is not rebuilt
    with the default -1.0 as if recorded, the catalogue's guess says it is one."""
    original = nn.Sequential(nn.Linear(2, 2), nn.Hardtanh(float("-inf"), 1.0))
    source, _, _ = generate_from_model(original, tmp_path, save=SAVERS[source_kind])
    assert "nn.Hardtanh()" not in source and "is a guess" in source


def test_buffers_and_parameters_as_recorded(tmp_path):
    original = Odd()
    ckpt = tmp_path / "odd.pt"
    torch.save(original, ckpt)
    table = open_checkpoint(ckpt).table
    assert list(table.tensors) == list(original.state_dict())  # scratch is not persistent
    source, _ = generate_source(table)
    assert "register_buffer('weird_table'" in source or 'register_buffer("weird_table"' in source


def test_trainer_dict_holding_a_model(tmp_path):
    model = sequential_zoo()["mlp"]
    ckpt = tmp_path / "ckpt.pt"
    torch.save({"epoch": 3, "model": model, "optimizer": {"lr": 0.1}}, ckpt)
    checkpoint = open_checkpoint(ckpt)
    assert checkpoint.table.container == "model" and checkpoint.table.modules.name == "Sequential"
    state = checkpoint.state_dict()
    for k, v in model.state_dict().items():
        torch.testing.assert_close(state[k], v)


# ------------------------------------------------------------------------------------- payloads


PLANTED = """
import pathlib
pathlib.Path({marker!r}).write_text("imported")
import torch.nn as nn

class Planted(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 2)
        self.act = nn.ReLU()

    def forward(self, x):
        return self.act(self.fc(x))

class Payload:
    def __reduce__(self):
        import os
        return (os.system, ({command!r},))
"""


SAVE_OPTIONS = {"zip": "", "legacy": ", _use_new_zipfile_serialization=False"}


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """The package folder and, per format, the planted pickle (`<format>.pt`), the marker its
    payload would create, and the marker an import of the package writes (removed here: the
    pickles are written by a child that imports it; this process never does). One child writes
    both formats: it imports torch once."""
    folder = tmp_path_factory.mktemp("planted")
    marker, package = folder / "imported.txt", folder / "pkg"
    package.mkdir()
    saves = ""
    for fmt, options in SAVE_OPTIONS.items():
        (package / f"planted_{fmt}.py").write_text(
            PLANTED.format(marker=str(marker), command=f"touch {folder / f'ran_{fmt}.txt'}")
        )
        saves += f"""
            m = __import__("planted_{fmt}").Planted()
            m.payload = __import__("planted_{fmt}").Payload()
            torch.save(m, {str(folder / f'{fmt}.pt')!r}{options})"""
    script = textwrap.dedent(f"""
        import sys, torch
        sys.path.insert(0, {str(package)!r})""") + textwrap.dedent(saves)
    subprocess.run([sys.executable, "-c", script], check=True, cwd=ROOT)
    marker.unlink()
    return folder, package, marker


@pytest.mark.parametrize("fmt", list(SAVE_OPTIONS))
def test_planted_module_is_never_imported(tmp_path, planted, fmt):
    """A pickle whose classes live in a module that writes a marker when imported, and that holds a
    payload calling os.system: described, generated, and neither runs, even with the module on the
    path of the process that reads it. The legacy format also records each class's source text:
    never looked at, nor imported."""
    folder, package, marker = planted
    ran = folder / f"ran_{fmt}.txt"
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{package}"}
    out = subprocess.run(
        [sys.executable, "-m", "codegen", "generate", str(folder / f"{fmt}.pt"), "-o", "gen.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    assert not marker.exists() and not ran.exists()
    text = (tmp_path / "gen.py").read_text()
    assert "nn.ReLU()" in text and "planted_" not in text
    assert not [name for name in sys.modules if name.startswith("planted_")]


def _zip_with(tmp_path, data: bytes):
    path = tmp_path / "bad.pt"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr("bad/data.pkl", data)
        z.writestr("bad/version", "3\n")
    return path


def test_build_on_a_named_class_is_refused(tmp_path):
    # GLOBAL planted.Thing, BUILD {"x": 1}: would set an attribute on a class the pickle names.
    data = b"\x80\x02cplanted\nThing\n}X\x01\x00\x00\x00xK\x01sb."
    with pytest.raises(ModelgenError, match="BUILD"):
        open_checkpoint(_zip_with(tmp_path, data))


def test_module_shaped_stand_in_with_bad_members_is_refused(tmp_path):
    # A "module" whose _modules holds a plain int: described, then refused with one line.
    state = {"_parameters": {}, "_buffers": {}, "_modules": {"a": 3}, "training": False}
    body = pickle.dumps(state, protocol=2)[2:-1]  # the dict's opcodes, without PROTO and STOP
    data = b"\x80\x02cplanted\nThing\n)\x81" + body + b"b."
    with pytest.raises(ModelgenError, match="not a module"):
        open_checkpoint(_zip_with(tmp_path, data))


# --------------------------------------------------------------------------- TorchScript archives


def test_torchscript_tree_matches_the_pickled_one(tmp_path):
    """One description format for both sources: the same layers, attributes and tensors."""
    torch.manual_seed(0)
    original = SmallCNN().eval()
    torch.save(original, tmp_path / "whole.pt")
    torch.jit.save(torch.jit.script(original), tmp_path / "script.pt")
    pickled = open_checkpoint(tmp_path / "whole.pt").table.modules
    scripted = open_checkpoint(tmp_path / "script.pt").table.modules
    walk_p, walk_s = pickled.walk(), scripted.walk()
    assert [(p, d.qualified) for p, d in walk_s] == [(p, d.qualified) for p, d in walk_p]
    for (path, p), (_, s) in zip(walk_p, walk_s):
        assert s.attributes == p.attributes, path
        assert list(s.state()) == list(p.state()), path


CODE_PAYLOAD = "__import__('os').system('touch {marker}')"


def _plant_in_code(archive, out, marker) -> None:
    """Copy a TorchScript archive, writing a payload into every class header and forward of code/:
    as a constant's value, as a class attribute, and as a statement."""
    payload = CODE_PAYLOAD.format(marker=marker)
    with zipfile.ZipFile(archive) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if "/code/" in info.filename and info.filename.endswith(".py"):
                text = data.decode()
                text = text.replace(" = (2, 2)", f" = {payload}")  # a Conv2d's stride
                text = text.replace("  __buffers__ = []", f"  __buffers__ = []\n  evil = {payload}")
                text = text.replace("    return ", f"    {payload}\n    return ")
                data = text.encode()
            dst.writestr(info, data)


def test_code_payload_is_never_run_nor_copied(tmp_path):
    """code/ is read as text: a payload there runs neither on reading nor on generating, and never
    reaches the generated file; the constant it replaced is not guessed (no silent stride 1)."""
    marker = tmp_path / "ran.txt"
    original = sequential_zoo()["cnn"].eval()
    torch.jit.save(torch.jit.script(original), tmp_path / "clean.pt")
    _plant_in_code(tmp_path / "clean.pt", tmp_path / "planted.pt", marker)
    with zipfile.ZipFile(tmp_path / "planted.pt") as z:
        assert any(b"__import__" in z.read(n) for n in z.namelist() if "/code/" in n)
    out = subprocess.run(
        [sys.executable, "-m", "codegen", "generate", "planted.pt", "-o", "gen.py"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": ROOT},
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    assert not marker.exists()
    text = (tmp_path / "gen.py").read_text()
    assert "__import__" not in text and "system" not in text and "evil" not in text
    assert "nn.ReLU6(inplace=True)" in text  # the rest of the record still counts
    tree = open_checkpoint(tmp_path / "planted.pt").table.modules
    assert "stride" not in tree.find("0").attributes and "stride" in tree.find("0").other


# ------------------------------------------------------------------ legacy (non-zip) whole models


def _save_legacy(model: nn.Module, path) -> None:
    torch.save(model, path, _use_new_zipfile_serialization=False)


@pytest.mark.parametrize("name", sorted(sequential_zoo()))
def test_legacy_whole_model_is_described(name, tmp_path):
    original = sequential_zoo()[name].eval()
    source, cls, warnings = generate_from_model(original, tmp_path, name, _save_legacy)
    assert not warnings
    checkpoint = open_checkpoint(tmp_path / f"{name}.pt")
    assert checkpoint.table.format == "torch-legacy-model"
    model = cls().eval()
    model.load_state_dict(checkpoint.state_dict(), strict=True)
    assert_same_layers(model, original)
    x = SEQUENTIAL_INPUTS[name]()
    with torch.no_grad():
        torch.testing.assert_close(model(x), original(x))
    assert "# not in the checkpoint" not in source


def test_legacy_custom_classes_get_recorded_layers(tmp_path):
    torch.manual_seed(0)
    original = SmallCNN().eval()
    source, cls, _ = generate_from_model(original, tmp_path, save=_save_legacy)
    model = cls().eval()
    model.load_state_dict(original.state_dict(), strict=True)
    assert_same_layers(model, original)
    assert "class Stem(nn.Module)" in source


def test_legacy_truncated_tensor_data_is_refused(tmp_path):
    _save_legacy(sequential_zoo()["mlp"], tmp_path / "full.pt")
    data = (tmp_path / "full.pt").read_bytes()
    (tmp_path / "cut.pt").write_bytes(data[:-100])
    with pytest.raises(ModelgenError, match="truncated"):
        open_checkpoint(tmp_path / "cut.pt")
