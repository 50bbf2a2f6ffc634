"""Regeneration keeps what was decided (issue 19): calibrated values are recorded in the file's
trailer and pinned again when the file is regenerated without DATA, and by `check`."""

from __future__ import annotations

import torch
import torch.nn as nn

from codegen.trailer import split_trailer
from tests.harness_support import run_cli


def _mlp(*hidden: int) -> nn.Sequential:
    """Linear layers with Tanh between them: the keys do not say Tanh, only outputs can."""
    widths = [6, *hidden, 3]
    layers: list[nn.Module] = []
    for a, b in zip(widths, widths[1:]):
        layers += [nn.Linear(a, b), nn.Tanh()]
    return nn.Sequential(*layers[:-1])


def _calibrated(tmp_path, capsys, model: nn.Module):
    torch.manual_seed(0)
    x = torch.randn(48, 6)
    with torch.no_grad():
        y = model(x)
    torch.save(model.state_dict(), tmp_path / "w.pt")
    torch.save({"inputs": (x,), "outputs": y}, tmp_path / "data.pt")
    out = tmp_path / "model.py"
    args = ("generate", tmp_path / "w.pt", "-o", out, "--calibrate", tmp_path / "data.pt")
    code, _, err = run_cli(capsys, *args)
    assert code == 0, err
    return out


def test_calibrated_values_are_recorded_and_kept_when_a_layer_is_added(tmp_path, capsys):
    torch.manual_seed(0)
    out = _calibrated(tmp_path, capsys, _mlp(16))
    pins = split_trailer(out.read_text())[1].pins
    assert ("1", "module_type", "nn.Tanh()", "calibrated") in pins

    # The checkpoint grows a layer; a plain regeneration (no DATA) keeps what calibration found.
    torch.manual_seed(1)
    torch.save(_mlp(16, 16).state_dict(), tmp_path / "w.pt")
    code, printed, err = run_cli(capsys, "generate", tmp_path / "w.pt", "-o", out)
    assert code == 0, err
    assert "kept the calibrated values" in printed and "--recalibrate" in printed
    text = out.read_text()
    assert "nn.Tanh()" in text and "Calibrated on data.pt" in text
    assert ("1", "module_type", "nn.Tanh()", "calibrated") in split_trailer(text)[1].pins

    # --recalibrate forgets them: back to the defaults, and the file no longer claims calibration.
    code, printed, err = run_cli(capsys, "generate", tmp_path / "w.pt", "-o", out, "--recalibrate")
    assert code == 0, err
    text = out.read_text()
    assert "nn.Tanh()" not in text and "Calibrated on" not in text
    assert split_trailer(text)[1].pins == ()


def test_check_repeats_the_recorded_calibration_without_data(tmp_path, capsys):
    out = _calibrated(tmp_path, capsys, _mlp(16))
    (tmp_path / "data.pt").unlink()  # check must not need DATA again: the file records the values
    code, printed, err = run_cli(capsys, "check", tmp_path / "w.pt", out)
    assert code == 0, printed + err


def test_regenerating_with_nothing_changed_gives_the_same_bytes(tmp_path, capsys):
    out = _calibrated(tmp_path, capsys, _mlp(16, 8))
    command = ("generate", tmp_path / "w.pt", "-o", out)
    assert run_cli(capsys, *command)[0] == 0
    first = out.read_bytes()
    assert run_cli(capsys, *command)[0] == 0
    assert out.read_bytes() == first


def test_a_pin_that_no_longer_fits_is_dropped(tmp_path, capsys):
    out = _calibrated(tmp_path, capsys, _mlp(16))
    text = out.read_text().replace('"nn.Tanh()", "calibrated"', '"nn.Bogus()", "calibrated"')
    out.write_text(text)
    code, _, err = run_cli(capsys, "generate", tmp_path / "w.pt", "-o", out)
    assert code == 0, err
    assert "Bogus" not in out.read_text()


def test_a_docstring_modelgen_wrote_is_not_reported_as_the_users_code(tmp_path):
    """A class docstring modelgen wrote (listing defaults a calibration then settled) and no longer
    writes goes quietly; one the user wrote or edited stays, and is said to stay."""
    from codegen.merge import merge_file, record_bodies

    header = '"""Model."""\n\nimport torch\nimport torch.nn as nn\n\n\n'
    body = "    def forward(self, x: torch.Tensor) -> torch.Tensor:\n        return x\n"
    doc = '    """Not recorded in the checkpoint, left at defaults: padding."""\n\n'
    old = record_bodies(header + "class A(nn.Module):\n" + doc + body, "0" * 16)
    new = record_bodies(header + "class A(nn.Module):\n" + body, "0" * 16)
    path = tmp_path / "model.py"
    path.write_text(old)
    merged = merge_file(path, new, lambda text: "")
    assert not any("kept your own code" in n for n in merged.notes)
    assert "left at defaults" not in merged.text

    path.write_text(old.replace("left at defaults: padding", "my notes on padding"))
    merged = merge_file(path, new, lambda text: "")
    assert "my notes on padding" in merged.text
    assert any("kept your own code" in n for n in merged.notes)


def test_a_forward_the_user_wrote_is_theirs_not_a_gap(tmp_path, capsys):
    """Attention without a recorded head count has no inferred forward; once the user writes it,
    regenerating keeps it and no longer warns that it raises NotImplementedError."""
    import re

    state = {f"attn.{p}.weight": torch.randn(16, 16) for p in ("q_proj", "k_proj", "v_proj")}
    state["attn.out_proj.weight"] = torch.randn(16, 16)
    torch.save(state, tmp_path / "w.pt")
    out = tmp_path / "model.py"
    code, printed, err = run_cli(capsys, "generate", tmp_path / "w.pt", "-o", out)
    assert code == 0, err
    assert "Attention.forward: cannot infer" in printed
    text = out.read_text()
    start = text.index("    def forward", text.index("class Attention("))
    end = text.index("\n\n\n", start)
    mine = (
        "    def forward(self, x: torch.Tensor) -> torch.Tensor:\n"
        "        q, k, v = self.q_proj(x), self.k_proj(x), self.v_proj(x)\n"
        "        w = torch.softmax(q @ k.transpose(-2, -1) / 4.0, dim=-1)\n"
        "        return self.out_proj(w @ v)"
    )
    out.write_text(text[:start] + mine + text[end:])
    code, printed, err = run_cli(capsys, "generate", tmp_path / "w.pt", "-o", out)
    assert code == 0, err
    assert "kept your edits to Attention.forward" in printed
    assert not re.search(r"Attention\.forward: cannot infer", printed)
    assert "torch.softmax(q @ k.transpose" in out.read_text()


class _CNN(nn.Module):
    def __init__(self, third: bool) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(16)
        if third:
            self.conv3 = nn.Conv2d(16, 16, 3, padding=1)
            self.bn3 = nn.BatchNorm2d(16)
        self.fc = nn.Linear(16, 4)


def test_a_kept_forward_that_ignores_new_layers_is_warned_about(tmp_path, capsys):
    torch.save(_CNN(third=False).state_dict(), tmp_path / "w.pt")
    out = tmp_path / "model.py"
    assert run_cli(capsys, "generate", tmp_path / "w.pt", "-o", out)[0] == 0
    text = out.read_text()
    start = text.index("    def forward", text.index("class RecoveredModel("))
    end = text.index("\n\n\n", start)
    mine = (
        "    def forward(self, x: torch.Tensor) -> torch.Tensor:\n"
        "        x = torch.relu(self.bn1(self.conv1(x)))\n"
        "        x = torch.relu(self.bn2(self.conv2(x)))\n"
        "        return self.fc(x.amax(dim=(2, 3)))  # my own pooling"
    )
    out.write_text(text[:start] + mine + text[end:])
    torch.save(_CNN(third=True).state_dict(), tmp_path / "w.pt")
    code, printed, err = run_cli(capsys, "generate", tmp_path / "w.pt", "-o", out)
    assert code == 0, err
    assert "kept your edits to RecoveredModel.forward" in printed
    assert "does not use bn3, conv3, new in this checkpoint" in " ".join(printed.split())


def test_a_new_layer_renames_no_existing_parameter(tmp_path):
    from codegen.analyze import analyze
    from codegen.load import open_checkpoint

    names = []
    for third in (False, True):
        torch.save(_CNN(third).state_dict(), tmp_path / "w.pt")
        top = analyze(open_checkpoint(tmp_path / "w.pt").table).top
        names.append({p.name: p.default for p in top.params})
    assert names[0].items() <= names[1].items()
    assert not any(n.endswith("_2") for n in names[1])


def test_size_comments_in_a_kept_forward_are_restated(tmp_path, capsys):
    """A kept forward's comment that states sizes the way modelgen's does is restated with today's
    numbers (never left stale); the user's own comments stay as written."""

    class Net(nn.Module):
        def __init__(self, width: int) -> None:
            super().__init__()
            self.conv1, self.bn1 = nn.Conv2d(3, width, 3), nn.BatchNorm2d(width)
            self.fc = nn.Linear(width, 4)

    torch.save(Net(8).state_dict(), tmp_path / "w.pt")
    out = tmp_path / "model.py"
    assert run_cli(capsys, "generate", tmp_path / "w.pt", "-o", out)[0] == 0
    text = out.read_text()
    assert "fc takes 8 = channels" in text
    start = text.index("    def forward", text.index("class RecoveredModel("))
    end = text.index("\n\n\n", start)
    mine = (
        "    def forward(self, x: torch.Tensor) -> torch.Tensor:\n"
        "        x = torch.relu(self.bn1(self.conv1(x)))  # my 2 layers\n"
        "        x = x.amax(dim=(2, 3))  # global average pooling: fc takes 8 = channels\n"
        "        return self.fc(x)"
    )
    out.write_text(text[:start] + mine + text[end:])
    torch.save(Net(12).state_dict(), tmp_path / "w.pt")
    code, printed, err = run_cli(capsys, "generate", tmp_path / "w.pt", "-o", out)
    assert code == 0, err
    assert "restated the sizes in 1 of its comments" in " ".join(printed.split())
    text = out.read_text()
    assert "x.amax(dim=(2, 3))  # global average pooling: fc takes 12 = channels" in text
    assert "fc takes 8" not in text and "# my 2 layers" in text


class _Chain(nn.Module):
    """Named layers with Tanh between them: the keys do not say Tanh, only outputs can."""

    def __init__(self, third: bool) -> None:
        super().__init__()
        self.fc1 = nn.Linear(6, 16)
        self.fc2 = nn.Linear(16, 16 if third else 3)
        self.fc3 = nn.Linear(16, 3) if third else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.fc2(torch.tanh(self.fc1(x)))
        return self.fc3(torch.tanh(x)) if self.fc3 is not None else x


def test_a_calibrated_file_with_a_kept_forward_keeps_its_values_and_warns_of_a_new_layer(
    tmp_path, capsys
):
    out = _calibrated(tmp_path, capsys, _Chain(third=False).eval())
    text = out.read_text()
    pins = split_trailer(text)[1].pins
    assert any(source == "calibrated" and "tanh" in str(v) for *_, v, source in pins), pins
    start = text.index("    def forward", text.index("class RecoveredModel("))
    end = text.index("\n\n\n", start)
    forward = text[start:end]
    out.write_text(
        text[:start] + forward.replace("return", "x = x  # mine\n        return") + text[end:]
    )

    torch.manual_seed(1)
    torch.save(_Chain(third=True).state_dict(), tmp_path / "w.pt")
    code, printed, err = run_cli(capsys, "generate", tmp_path / "w.pt", "-o", out)
    assert code == 0, err
    printed = " ".join(printed.split())
    assert "kept the calibrated values" in printed
    assert "kept your edits to RecoveredModel.forward" in printed
    assert "does not use fc3, new in this checkpoint" in printed
    after = out.read_text()
    assert split_trailer(after)[1].pins == pins and "x = x  # mine" in after


def test_calibrating_a_file_nobody_edited_reports_no_kept_code(tmp_path, capsys):
    torch.manual_seed(0)
    model = _Chain(third=False).eval()
    x = torch.randn(48, 6)
    with torch.no_grad():
        torch.save({"inputs": (x,), "outputs": model(x)}, tmp_path / "data.pt")
    torch.save(model.state_dict(), tmp_path / "w.pt")
    out = tmp_path / "model.py"
    assert run_cli(capsys, "generate", tmp_path / "w.pt", "-o", out)[0] == 0
    args = ("generate", tmp_path / "w.pt", "-o", out, "--calibrate", tmp_path / "data.pt")
    code, printed, err = run_cli(capsys, *args)
    assert code == 0, err
    assert "kept your" not in printed and "torch.tanh" in out.read_text()


def test_a_helper_modelgen_wrote_goes_when_the_model_no_longer_needs_it(tmp_path):
    """A helper function (apply_rotary) modelgen wrote is recorded like a method: regenerating a
    model that no longer calls it drops it quietly; the user's edit of a helper is kept, whether
    modelgen still writes the helper or not, and said to be kept."""
    from codegen.merge import merge_file, record_bodies

    header = '"""Model."""\n\nimport torch\nimport torch.nn as nn\n\n\n'
    helper = "def scale(x: torch.Tensor) -> torch.Tensor:\n    return x * 2\n\n\n"
    cls = "class A(nn.Module):\n    def forward(self, x: torch.Tensor) -> torch.Tensor:\n"
    old = record_bodies(header + helper + cls + "        return scale(x)\n", "0" * 16)
    new = record_bodies(header + cls + "        return x\n", "0" * 16)
    path = tmp_path / "model.py"
    path.write_text(old)
    merged = merge_file(path, new, lambda text: "")
    assert "def scale" not in merged.text
    assert not merged.notes and not merged.warnings

    path.write_text(old.replace("return x * 2", "return x * 3"))
    merged = merge_file(path, new, lambda text: "")
    assert "return x * 3" in merged.text
    assert any("kept def scale" in w and "you edited it" in w for w in merged.warnings)

    path.write_text(old.replace("return x * 2", "return x * 3"))
    merged = merge_file(path, old, lambda text: "")  # modelgen still writes it: the edit stays
    assert "return x * 3" in merged.text and "return x * 2" not in merged.text
    assert "kept your edit of def scale" in merged.notes
