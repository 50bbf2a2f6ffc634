"""Hostile input through every command: a pickle's payload never runs, key text never becomes code."""

from __future__ import annotations

import ast
import json
import io
import keyword
import os
import tokenize

import pytest
import torch
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from codegen.cli import main
from codegen.errors import ModelgenError
from codegen.generate import generate_source
from codegen.load import TensorEntry, TensorTable
from codegen.safetext import terminal_text
from tests.zoo import build


class Payload:
    """Unpickling this would create the marker file: the attack every reader must refuse."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.fixture
def files(tmp_path):
    marker = tmp_path / "PWNED"
    good = tmp_path / "good.pt"
    torch.save(build("mlp").state_dict(), good)
    evil = tmp_path / "evil.pt"
    torch.save({"state_dict": build("mlp").state_dict(), "extra": Payload(str(marker))}, evil)
    model = tmp_path / "model.py"
    assert main(["generate", str(good), "-o", str(model)]) == 0
    data = tmp_path / "data.pt"
    torch.save({"x": torch.randn(8, 20), "y": torch.randn(8, 5)}, data)
    return {
        "good": good,
        "evil": evil,
        "marker": marker,
        "model": model,
        "data": data,
        "dir": tmp_path,
    }


COMMANDS = {
    "inspect": lambda f, ck, data: ["inspect", ck],
    "generate": lambda f, ck, data: ["generate", ck, "-o", str(f["dir"] / "out.py")],
    "calibrate": lambda f, ck, data: [
        "generate",
        ck,
        "-o",
        str(f["dir"] / "out.py"),
        "--calibrate",
        data,
    ],
    "check": lambda f, ck, data: ["check", ck, str(f["model"])],
    "verify": lambda f, ck, data: ["verify", ck, str(f["model"]), "--data", data],
    "finetune": lambda f, ck, data: [
        "finetune",
        ck,
        str(f["model"]),
        "--data",
        data,
        "--train",
        "4",
        "--out",
        str(f["dir"] / "tuned.pt"),
    ],
    "diff": lambda f, ck, data: ["diff", ck, str(f["model"])],
    "diff_checkpoints": lambda f, ck, data: ["diff", str(f["good"]), ck],
}


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_malicious_checkpoint_is_refused_by_every_command(name, files, capsys):
    args = COMMANDS[name](files, str(files["evil"]), str(files["data"]))
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "posix.system" in err
    assert not files["marker"].exists()


@pytest.mark.parametrize("name", ["calibrate", "verify", "finetune"])
def test_malicious_data_file_is_refused(name, files, capsys):
    evil_data = files["dir"] / "evil_data.pt"
    torch.save({"x": torch.randn(8, 20), "y": Payload(str(files["marker"]))}, evil_data)
    args = COMMANDS[name](files, str(files["good"]), str(evil_data))
    assert main(args) == 2
    assert capsys.readouterr().err.count("\n") == 1
    assert not files["marker"].exists()


# Key names: any text at all either generates a file whose code contains none of it, or is refused.
segment = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=0, max_size=12)
PAYLOADS = [
    'x"); __import__("os").system("id',
    "a\nimport os\nos.system('id')\n#",
    "pe\nopen('x','w')\n_z = 0 and _y",
    '"""',
    '"""+(print(1))+"""',
    '"',
    "\\x00\\",
    "\\",
    "os.system",
    "\u202e\x1b[31m\x07",
    "class",
    "2",
]
hostile = st.one_of(segment, segment, st.sampled_from(PAYLOADS))

# Where a key's text can land, by the tensors under it: a layer's weight (an attribute, a class name,
# a ModuleDict key), a lone integer table (a position-table forward), a class token (a sequence
# forward), a conv layer (its unrecorded stride/padding named in the class docstring).
ROUTES = {
    "linear": {"weight": ((2, 3), "float32")},
    "int_table": {"": ((4, 8), "int64")},
    "token": {"": ((1, 4, 8), "float32")},
    "conv": {"weight": ((4, 3, 3, 3), "float32"), "bias": ((4,), "float32")},
}


NN_KEYWORDS = {"bias", "stride", "padding", "groups", "dtype", "eps", "affine", "batch_first"}


def _state(keys: list[tuple[str, str]]) -> dict[str, torch.Tensor]:
    state = {}
    for key, route in keys:
        for leaf, (shape, dtype) in ROUTES[route].items():
            state[f"{key}.{leaf}" if leaf else key] = torch.zeros(
                shape, dtype=getattr(torch, dtype)
            )
    return state


@settings(
    max_examples=int(os.environ.get("MODELGEN_FUZZ_EXAMPLES", 150)),
    deadline=None,
    derandomize=bool(os.environ.get("CI")),
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    st.lists(
        st.tuples(
            st.lists(hostile, min_size=1, max_size=3).map(".".join), st.sampled_from(sorted(ROUTES))
        ),
        min_size=1,
        max_size=4,
        unique_by=lambda k: k[0],
    )
)
# Found by the fuzzing: a zero-padded index is no nn.Sequential index (`children[str(0)]` misses
# `00`), in every numbered-Sequential reader (4x4 stacks, mlpconv, the slots after an item).
@example([("00", "conv")])
@example([("00", "conv"), ("2", "conv"), ("4", "conv")])
@example([("0", "conv"), ("01", "linear"), ("2", "conv")])
def test_any_key_text_compiles_loads_or_is_refused(routed_keys):
    state = _state(routed_keys)
    keys = [k for k, _ in routed_keys]
    table = TensorTable(
        "fuzz.pt",
        "torch-zip",
        {
            k: TensorEntry(k, tuple(t.shape), str(t.dtype).removeprefix("torch."))
            for k, t in state.items()
        },
    )
    try:
        source, ir = generate_source(table)
    except ModelgenError as e:
        message = str(e)
        assert message.isprintable(), message
        assert "--remap" in message or "would merge" in message, message
        return
    for line in ir.warnings:  # what the terminal shows: printable after escaping, one line
        assert "\n" not in terminal_text(line) and terminal_text(line).isprintable()
    namespace: dict = {"__name__": "fuzzed"}
    exec(compile(source, "model.py", "exec"), namespace)  # importing it has no side effects
    namespace["RecoveredModel"]().load_state_dict(state, strict=True)
    tokens = [
        t for t in tokenize.generate_tokens(io.StringIO(source).readline) if t.type != tokenize.NL
    ]
    imported = [
        node.module if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(ast.parse(source))
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in node.names
    ]
    names = [t.string for t in tokens if t.type == tokenize.NAME]
    assert names.count("import") == len(imported)
    assert set(imported) <= {
        "math",
        "torch",
        "torch.nn",
        "torch.nn.functional",
        "safetensors.torch",
    }
    # A key segment reaches code at most as an attribute name (`self.os`), never as a free name that
    # would be looked up, called or imported; all other key text stays in strings and comments.
    tree = ast.parse(source)
    own = {n.name for n in ast.walk(tree) if isinstance(n, (ast.ClassDef, ast.FunctionDef))}
    own |= {
        a.arg for n in ast.walk(tree) if isinstance(n, ast.arguments) for a in n.args + n.kwonlyargs
    }
    own |= {
        n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
    }
    # Names the file's own imports bind (`import torch.nn.functional as F`): the imports
    # themselves are checked above.
    own |= {
        alias.asname
        for n in ast.walk(tree)
        if isinstance(n, (ast.Import, ast.ImportFrom))
        for alias in n.names
        if alias.asname
    }
    # Keyword arguments of constructor calls (`bias=False`) are torch.nn's parameter names.
    own |= {k.arg for k in ast.walk(tree) if isinstance(k, ast.keyword) and k.arg in NN_KEYWORDS}
    vocabulary = own | {
        "torch",
        "nn",
        "math",
        "super",
        "range",
        "staticmethod",
        "classmethod",
        "load_file",  # from_checkpoint, for .safetensors files
        "safetensors",
        "isinstance",  # from_checkpoint, for a container path through a list
        "tuple",
        "int",
        "float",
        "bool",
        "str",
        "getattr",
        "NotImplementedError",
        "None",
        "True",
        "False",
    }
    segments = {part for key in keys for part in key.split(".")}
    for before, token in zip(tokens, tokens[1:]):
        if (
            token.type == tokenize.NAME
            and token.string in segments
            and not keyword.iskeyword(token.string)
        ):
            assert before.string == "." or token.string in vocabulary, (token.string, source)
    loaded = {
        n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
    }
    assert loaded <= vocabulary, loaded - vocabulary


def test_absurd_shapes_are_analyzed_from_metadata_without_allocating():
    """A header can claim any size: 10^12-element tensors are generated for on the meta device only."""
    import resource

    table = TensorTable(
        "huge.safetensors",
        "safetensors",
        {
            "embed.weight": TensorEntry("embed.weight", (1_000_000, 1_000_000), "float32"),
            "head.weight": TensorEntry("head.weight", (10, 1_000_000), "float32"),
            "head.bias": TensorEntry("head.bias", (10,), "float32"),
        },
    )
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    source, _ = generate_source(table)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert "nn.Embedding(vocab_size, d_model)" in source or "1000000" in source
    assert grown_mb < 200  # 4 TB of float32 were never allocated


ORDINARY_ODD_NAMES = ["class", "2", "a'b", 'a"b', "a\\b", "a\tb", 'x"""y', "x²", "e\x1b[31mred\x07"]


@pytest.mark.parametrize("name", ORDINARY_ODD_NAMES)
@pytest.mark.parametrize("route", ["int_table", "conv"])
def test_odd_names_generate_a_loading_file_or_one_line_error(name, route, tmp_path, capsys):
    """Names a careless trainer can produce: never an internal error, never raw control characters."""
    state = _state([(name, route)])
    ckpt, out = tmp_path / "odd.pt", tmp_path / "model.py"
    torch.save(state, ckpt)
    code = main(["generate", str(ckpt), "-o", str(out)])
    captured = capsys.readouterr()
    assert "internal error" not in captured.err and "Traceback" not in captured.err
    for line in (captured.out + captured.err).splitlines():
        assert line.isprintable(), line
    if code == 2:
        assert captured.err.count("\n") == 1
        return
    assert code == 0
    namespace: dict = {}
    exec(compile(out.read_text(), "model.py", "exec"), namespace)
    namespace["RecoveredModel"]().load_state_dict(state, strict=True)


def test_remap_rename_target_reaches_code_only_as_a_literal(tmp_path, capsys):
    marker = tmp_path / "MARK"
    ckpt = tmp_path / "table.pt"
    torch.save({"pe": torch.zeros(4, 8, dtype=torch.int64)}, ckpt)
    target = f"pe\nopen({str(marker)!r}, 'w')\n_z = 0 and _y"
    remap = tmp_path / "remap.json"
    remap.write_text(json.dumps({"rename": {"pe": target}}))
    out = tmp_path / "model.py"
    code = main(["generate", str(ckpt), "-o", str(out), "--remap", str(remap)])
    capsys.readouterr()
    if code == 0:
        namespace: dict = {}
        exec(compile(out.read_text(), "model.py", "exec"), namespace)
        namespace["RecoveredModel"]()
    assert code in (0, 2) and not marker.exists()


@pytest.mark.parametrize("kind", ["remap", "hints"])
def test_deeply_nested_option_files_are_one_line_errors(kind, tmp_path, capsys):
    ckpt = tmp_path / "mlp.pt"
    torch.save(build("mlp").state_dict(), ckpt)
    deep = tmp_path / f"deep.{'json' if kind == 'remap' else 'toml'}"
    nested = "[" * 100_000 + "]" * 100_000
    deep.write_text(nested if kind == "remap" else f"a = {nested}\n")
    code = main(["generate", str(ckpt), "-o", str(tmp_path / "m.py"), f"--{kind}", str(deep)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "nested too deeply" in err
