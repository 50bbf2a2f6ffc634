"""Regenerating into a generated file the user edited: their edits stay, modelgen's parts follow the
checkpoint, and the result always builds the checkpoint's keys."""

from __future__ import annotations

import difflib
import re

import black
import libcst
import pytest
import torch
import torch.nn as nn

from codegen.cli import main
from codegen.trailer import split_trailer
from tests.zoo import transformer_encoder_regressor

HASHES = re.compile(r"\b[0-9a-f]{8}\b|\b[0-9a-f]{16}\b")


def heads_model(vocab: int = 100, heads: tuple[str, ...] = ("head", "aux_head")) -> nn.Module:
    """Embedding + GRU + one Linear per head: with two or more heads forward is not inferred."""

    class MultiHead(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Embedding(vocab, 16)
            self.rnn = nn.GRU(16, 16, batch_first=True)
            for i, name in enumerate(heads):
                self.add_module(name, nn.Linear(16, vocab if i == 0 else 2 + i))

    return MultiHead()


def generate(tmp_path, model: nn.Module, *extra: str) -> int:
    torch.save(model.state_dict(), tmp_path / "w.pt")
    return main(["generate", str(tmp_path / "w.pt"), "-o", str(tmp_path / "model.py"), *extra])


def edit(path, old: str, new: str) -> None:
    text = path.read_text()
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new))


def build(path, state: dict) -> nn.Module:
    namespace: dict = {"__name__": "merged"}
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    model = namespace["RecoveredModel"]()
    model.load_state_dict(state, strict=True)
    return model


def changes(a: str, b: str) -> list[tuple[str, list[str], list[str]]]:
    matcher = difflib.SequenceMatcher(None, a.splitlines(), b.splitlines(), autojunk=False)
    return [
        (tag, a.splitlines()[i1:i2], b.splitlines()[j1:j2])
        for tag, i1, i2, j1, j2 in matcher.get_opcodes()
        if tag != "equal"
    ]


FORWARD_EDIT = (
    "        x = self.encoder(x)\n",
    "        x = self.encoder(x)\n        x = torch.tanh(x)  # squash\n",
)


def test_forward_edit_survives_growth_and_only_numbers_change(tmp_path, capsys):
    assert generate(tmp_path, transformer_encoder_regressor(6)) == 0
    path = tmp_path / "model.py"
    edit(path, *FORWARD_EDIT)
    before = path.read_text()
    capsys.readouterr()

    grown = transformer_encoder_regressor(12)
    assert generate(tmp_path, grown) == 0
    out = capsys.readouterr().out
    assert "kept your edits to RecoveredModel.forward" in out
    after = path.read_text()
    assert "x = torch.tanh(x)  # squash" in after and "num_encoder_layers: int = 12" in after
    diff = changes(before, after)
    assert all(tag == "replace" and len(a) == len(b) for tag, a, b in diff), diff
    pairs = [(x, y) for _, a, b in diff for x, y in zip(a, b)]
    assert len(pairs) <= 3, pairs  # fingerprint, recorded __init__ hash, num_encoder_layers
    for x, y in pairs:
        assert re.sub(r"\d+", "N", HASHES.sub("H", x)) == re.sub(r"\d+", "N", HASHES.sub("H", y)), (
            x,
            y,
        )

    model = build(path, grown.state_dict()).eval()
    assert len(model.encoder.layers) == 12
    inputs = torch.randn(2, 5, 8)
    with torch.no_grad():  # the kept edit runs: outputs are tanh-squashed before the head
        expected = model.head(torch.tanh(model.encoder(model.embed(inputs))))
        torch.testing.assert_close(model(inputs), expected)


def test_larger_vocabulary_changes_only_numbers(tmp_path):
    assert generate(tmp_path, heads_model(100)) == 0
    path = tmp_path / "model.py"
    edit(
        path,
        "        raise NotImplementedError(",
        "        return self.head(self.rnn(self.embed(x))[0])\n"
        "        raise NotImplementedError(",
    )
    before = path.read_text()
    assert generate(tmp_path, heads_model(200)) == 0
    after = path.read_text()
    assert "return self.head(self.rnn(self.embed(x))[0])" in after
    pairs = [(x, y) for tag, a, b in changes(before, after) for x, y in zip(a, b)]
    assert all(tag == "replace" and len(a) == len(b) for tag, a, b in changes(before, after))
    assert (
        len(pairs) <= 4
    ), pairs  # fingerprint, recorded __init__ hash, vocab_size, the head's width
    for x, y in pairs:
        assert re.sub(r"\d+", "N", HASHES.sub("H", x)) == re.sub(r"\d+", "N", HASHES.sub("H", y)), (
            x,
            y,
        )


def test_new_head_adds_its_lines(tmp_path):
    assert generate(tmp_path, heads_model(heads=("head", "aux_head"))) == 0
    path = tmp_path / "model.py"
    edit(
        path,
        "        raise NotImplementedError(",
        "        return self.head(self.rnn(self.embed(x))[0])\n"
        "        raise NotImplementedError(",
    )
    before = path.read_text()
    grown = heads_model(heads=("head", "aux_head", "extra_head"))
    assert generate(tmp_path, grown) == 0
    after = path.read_text()
    doc_before, code_before = before.split('"""\n', 1)
    doc_after, code_after = after.split('"""\n', 1)
    (code_before, trailer_before), (code_after, trailer_after) = map(
        split_trailer, (code_before, code_after)
    )
    assert changes(code_before, code_after) == [
        ("insert", [], ["        self.extra_head = nn.Linear(embed_dim, 4)"])
    ]
    assert sum(len(b) for _, _, b in changes(doc_before, doc_after)) <= 2  # summary, fingerprint
    assert trailer_after.fingerprint != trailer_before.fingerprint
    assert trailer_after.bodies.keys() == trailer_before.bodies.keys()  # new hashes, same methods
    build(path, grown.state_dict())


def test_untouched_bodies_follow_the_checkpoint(tmp_path, capsys):
    """forward was inferable for one head and no longer is for two; nobody edited it, so it is replaced."""
    assert generate(tmp_path, heads_model(heads=("head",))) == 0
    path = tmp_path / "model.py"
    assert "return self.head(x)" in path.read_text()
    assert generate(tmp_path, heads_model()) == 0
    merged = path.read_text()
    assert "raise NotImplementedError" in merged and "self.head(x)" not in merged
    assert "example_inputs" not in merged  # generated before, not now, untouched: gone
    assert "kept" not in capsys.readouterr().out
    assert generate(tmp_path, heads_model(), "--force") == 0
    assert path.read_text() == merged  # exactly what a fresh generation writes


def test_kept_edit_using_a_removed_module_is_warned(tmp_path, capsys):
    assert generate(tmp_path, heads_model(heads=("head", "aux_head"))) == 0
    path = tmp_path / "model.py"
    edit(
        path,
        "        raise NotImplementedError(",
        "        h = self.rnn(self.embed(x))[0]\n"
        "        return self.head(h) + self.aux_head(h).sum()\n"
        "        raise NotImplementedError(",
    )
    capsys.readouterr()
    assert generate(tmp_path, heads_model(heads=("head", "other_head"))) == 0
    out = capsys.readouterr().out
    assert "kept your edits to RecoveredModel.forward" in out
    assert (
        "warning: RecoveredModel.forward (kept) uses self.aux_head, which the regenerated RecoveredModel "
        "does not define"
    ) in out
    assert "self.aux_head(h)" in path.read_text()


def test_user_imports_helpers_methods_and_init_additions_survive(tmp_path, capsys):
    assert generate(tmp_path, transformer_encoder_regressor(2)) == 0
    path = tmp_path / "model.py"
    edit(
        path,
        "import torch.nn as nn\n",
        "import torch.nn as nn\nfrom typing import Optional\n\n\n"
        "def squash(x: torch.Tensor) -> torch.Tensor:\n    return torch.tanh(x)\n",
    )
    edit(
        path,
        "        self.head = nn.Linear(d_model, 1)\n",
        "        self.head = nn.Linear(d_model, 1)\n        self.drop = nn.Dropout(p_drop)\n",
    )
    edit(
        path,
        '        activation: str = "relu",',
        '        activation: str = "relu",\n        p_drop: float = 0.1,',
    )
    edit(
        path,
        "        return self.head(x)\n",
        "        return self.head(self.drop(squash(x))) * math.pi\n",
    )
    edit(
        path, "import torch\n", "import math\n\nimport torch\n"
    )  # an import modelgen emits, used by the user
    edit(
        path,
        "    def forward(",
        "    def n_layers(self, extra: Optional[int] = None) -> int:\n"
        "        return len(self.encoder.layers)\n\n    def forward(",
    )
    path.write_text(
        path.read_text() + '\n\nif __name__ == "__main__":\n    print(RecoveredModel())\n'
    )
    capsys.readouterr()

    grown = transformer_encoder_regressor(4)
    assert generate(tmp_path, grown) == 0
    out = capsys.readouterr().out
    text = path.read_text()
    assert "kept your edits to RecoveredModel.forward" in out
    assert "kept your additions to RecoveredModel.__init__ (1 statement)" in out
    kept = re.search(r"kept your own code: (.*)", out).group(1).split(", ")
    assert sorted(kept) == [
        "RecoveredModel.n_layers",
        "def squash",
        "from typing import Optional",
        'if __name__ == "__main__":',
    ], kept
    assert "warning" not in out
    for kept in (
        "import math\n",
        "from typing import Optional",
        "def squash(",
        "self.drop = nn.Dropout(p_drop)",
        "p_drop: float = 0.1,",
        "def n_layers(",
        'if __name__ == "__main__":',
    ):
        assert kept in text, kept
    assert (
        text.index("def squash(") < text.index("class RecoveredModel") < text.index("if __name__")
    )
    assert text.index("self.head = ") < text.index("self.drop = ")
    assert build(path, grown.state_dict()).n_layers() == 4
    assert black.format_str(text, mode=black.Mode(line_length=100)) == text
    libcst.parse_module(text)

    capsys.readouterr()  # regenerating again changes nothing
    assert generate(tmp_path, grown) == 0
    assert path.read_text() == text


def test_force_discards_edits(tmp_path, capsys):
    assert generate(tmp_path, transformer_encoder_regressor(2)) == 0
    path = tmp_path / "model.py"
    fresh = path.read_text()
    edit(path, *FORWARD_EDIT)
    capsys.readouterr()
    assert generate(tmp_path, transformer_encoder_regressor(2), "--force") == 0
    assert "kept" not in capsys.readouterr().out
    assert path.read_text() == fresh


def test_check_accepts_kept_edits_and_reports_real_staleness(tmp_path, capsys):
    assert generate(tmp_path, transformer_encoder_regressor(2)) == 0
    path = tmp_path / "model.py"
    edit(path, *FORWARD_EDIT)
    capsys.readouterr()
    assert main(["check", str(tmp_path / "w.pt"), str(path)]) == 0
    assert "up to date" in capsys.readouterr().out

    torch.save(transformer_encoder_regressor(3).state_dict(), tmp_path / "w.pt")
    assert main(["check", str(tmp_path / "w.pt"), str(path)]) == 1
    diff = capsys.readouterr().out
    assert "+        num_encoder_layers: int = 3,  # encoder.layers.0-2" in diff
    assert "torch.tanh" not in diff  # the kept edit is no staleness


def test_black_reformatting_is_not_an_edit(tmp_path, capsys):
    assert generate(tmp_path, heads_model(heads=("head",))) == 0
    path = tmp_path / "model.py"
    path.write_text(black.format_str(path.read_text(), mode=black.Mode(line_length=60)))
    capsys.readouterr()
    assert generate(tmp_path, heads_model()) == 0
    assert "kept" not in capsys.readouterr().out  # every body was modelgen's: all regenerated
    assert "raise NotImplementedError" in path.read_text()


@pytest.mark.parametrize(
    "damage, message",
    [
        (
            ("class RecoveredModel(nn.Module):", "class Renamed(nn.Module):"),
            "class RecoveredModel, which modelgen " "generated, is missing",
        ),
        (
            (
                "        self.head = nn.Linear(d_model, 1)\n",
                "        self.head = nn.Linear(d_model, 1)\n        self.extra = nn.Linear(2, 2)\n",
            ),
            "the merged model does not build the checkpoint (missing [], unexpected ['extra.bias', 'extra.weight']",
        ),
        (("    def forward(", "    def forward(:"), "it does not parse (line"),
    ],
)
def test_unmergeable_files_are_refused_and_left_alone(tmp_path, capsys, damage, message):
    assert generate(tmp_path, transformer_encoder_regressor(2)) == 0
    path = tmp_path / "model.py"
    edit(path, *damage)
    before = path.read_text()
    capsys.readouterr()
    assert generate(tmp_path, transformer_encoder_regressor(4)) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"modelgen: error: cannot merge into {path}: ") and message in err, err
    assert err.rstrip().endswith(
        "`modelgen generate --force` regenerates it from scratch (dropping your edits)"
    )
    assert len(err.strip().splitlines()) == 1
    assert path.read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "model.py",
        "w.pt",
    ]  # no temporary left over


RECORD_PIECES = [
    # decorators, a comment after the last statement (libcst's block footer), a trailing comment
    '@torch.jit.interface\nclass A(nn.Module):\n    """Doc\n    on two lines."""\n\n'
    "    @torch.jit.export\n    def forward(self, x):  # why\n        y = x + 1\n"
    "        return y\n        # after the return\n\n    # before the next method\n"
    "    def other(self):\n        return 1\n",
    # concatenated and f-string first statements are no docstring to either reading
    'class B:\n    "a" "b"\n\n    def f(self):\n        pass\n',
    'class C:\n    f"{1}"\n    x = 1\n',
    # a helper function at module level, and a multi-line string at column 0 inside a method
    "import torch\n\n\ndef helper(x):\n    # scale\n    return x * 2\n\n\n"
    'class D:\n    def f(self):\n        s = """\nflush left\n"""\n        return s\n',
]


@pytest.mark.parametrize("piece", RECORD_PIECES)
def test_the_record_reads_each_piece_as_a_merge_does(piece):
    # record_bodies hashes a generated file with `ast`; a later merge hashes the file on disk
    # with libcst: an untouched method must get the same hash from both, or it reads as edited.
    from codegen.merge import _hash_groups, _piece_hashes

    assert _piece_hashes(piece) == tuple(map(tuple, _hash_groups(libcst.parse_module(piece))))
