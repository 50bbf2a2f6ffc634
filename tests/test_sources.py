"""Whole-model pickles (`torch.save(model)`): described without importing or calling anything, and used
as evidence: every torch.nn layer, parameter-free ones included, with its exact constructor arguments.
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


def generate_from_model(model: nn.Module, tmp_path, name: str = "model") -> tuple[str, type, list]:
    ckpt = tmp_path / f"{name}.pt"
    torch.save(model, ckpt)
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


@pytest.mark.parametrize("name", sorted(sequential_zoo()))
def test_sequential_pickle_is_exact(name, tmp_path):
    original = sequential_zoo()[name].eval()
    source, cls, warnings = generate_from_model(original, tmp_path, name)
    assert not warnings
    model = cls().eval()
    model.load_state_dict(original.state_dict(), strict=True)
    assert_same_layers(model, original)
    x = SEQUENTIAL_INPUTS[name]()
    with torch.no_grad():
        torch.testing.assert_close(model(x), original(x))
        torch.testing.assert_close(torch.jit.script(model)(x), original(x))
    assert "# not in the checkpoint" not in source  # nothing left to a default


def test_custom_classes_get_recorded_layers_and_names(tmp_path):
    torch.manual_seed(0)
    original = SmallCNN().eval()
    source, cls, _ = generate_from_model(original, tmp_path)
    model = cls().eval()
    model.load_state_dict(original.state_dict(), strict=True)
    assert_same_layers(model, original)
    assert "class Stem(nn.Module)" in source  # the pickle's own class name
    assert "nn.LeakyReLU(negative_slope=0.2, inplace=True)" in source
    assert "nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True)" in source
    assert "nn.GELU(approximate='tanh')" in source or 'approximate="tanh"' in source
    torch.jit.script(model)
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():  # the catalogue chains the recorded layers in registration order
        torch.testing.assert_close(model(x), original(x))


@pytest.mark.parametrize("name", sorted(ZOO))
def test_zoo_whole_model_pickles(name, tmp_path):
    """Real architectures: strict load, every torch.nn layer and argument as recorded; outputs
    equal where the catalogue covers the custom classes; scripts."""
    original = build(name)
    source, cls, warnings = generate_from_model(original, tmp_path, name)
    model = cls().eval()
    model.load_state_dict(original.state_dict(), strict=True)
    assert_same_layers(model, original)
    torch.jit.script(model)
    if name in EXACT:
        inputs = INPUTS[name]()
        with torch.no_grad():
            torch.testing.assert_close(model(*inputs), original(*inputs), atol=1e-5, rtol=1e-5)


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


def test_planted_module_is_never_imported(tmp_path):
    """A pickle whose classes live in a module that writes a marker when imported, and that holds a
    payload calling os.system: described, generated, and neither runs, even with the module on the
    path of the process that reads it."""
    marker, ran = tmp_path / "imported.txt", tmp_path / "ran.txt"
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "planted_mod.py").write_text(
        PLANTED.format(marker=str(marker), command=f"touch {ran}")
    )
    script = textwrap.dedent(f"""
        import sys, torch
        sys.path.insert(0, {str(package)!r})
        import planted_mod
        m = planted_mod.Planted()
        m.payload = planted_mod.Payload()
        torch.save(m, {str(tmp_path / 'planted.pt')!r})
        """)
    subprocess.run([sys.executable, "-c", script], check=True, cwd=ROOT)
    marker.unlink()
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{package}"}
    out = subprocess.run(
        [sys.executable, "-m", "codegen", "generate", "planted.pt", "-o", "gen.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    assert not marker.exists() and not ran.exists()
    assert "nn.ReLU()" in (tmp_path / "gen.py").read_text()
    assert "planted_mod" not in sys.modules


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
