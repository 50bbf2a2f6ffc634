"""`--remap FILE`: the format (checked, one-line errors), its steps on names and tensors alike, and the
flag in verify, finetune, generate and check."""

from __future__ import annotations

import json

import pytest
import torch

from codegen.errors import ModelgenError
from codegen.load import open_checkpoint
from codegen.remap import Remap, load_remap, open_remapped, parse_remap
from tests.harness_support import one_line_error, run_cli, write_tiny

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit:DeprecationWarning")


def mapping(names, **fields) -> dict[str, str]:
    return parse_remap(fields, "r.json").mapping(names)


# ------------------------------------------------------------------------------------------ the format


def test_steps_run_in_order_strip_add_rename_drop():
    names = ["model.classifier.weight", "model.body.0.weight", "model.ema.body.0.weight", "loss.w"]
    got = mapping(
        names,
        strip_prefixes=["model."],
        add_prefix="net.",
        rename={"net.classifier.": "net.fc."},
        drop=["net.ema.", "net.loss.w"],
    )
    assert got == {
        "model.classifier.weight": "net.fc.weight",
        "model.body.0.weight": "net.body.0.weight",
    }


def test_most_specific_rename_wins_and_wildcards_carry_indices():
    names = [
        "h.0.attn.c_attn.weight",
        "h.1.attn.c_attn.weight",
        "h.1.attn.c_proj.weight",
        "h.1.mlp.weight",
        "wte.weight",
    ]
    got = mapping(
        names,
        rename={
            "h.": "blocks.",  # prefix, least specific
            "h.*.attn.c_attn.": "blocks.*.attn.qkv.",
            "h.1.attn.c_proj.weight": "blocks.1.attn.out.weight",  # exact key beats both
            "wte.weight": "embed.weight",
        },
    )
    assert got == {
        "h.0.attn.c_attn.weight": "blocks.0.attn.qkv.weight",
        "h.1.attn.c_attn.weight": "blocks.1.attn.qkv.weight",
        "h.1.attn.c_proj.weight": "blocks.1.attn.out.weight",
        "h.1.mlp.weight": "blocks.1.mlp.weight",
        "wte.weight": "embed.weight",
    }


def test_a_prefix_matches_whole_segments_only():
    assert mapping(["fc.weight", "fc2.weight"], rename={"fc.": "head."}) == {
        "fc.weight": "head.weight",
        "fc2.weight": "fc2.weight",
    }


@pytest.mark.parametrize(
    "fields, message",
    [
        (
            {"renames": {}},
            "unknown field 'renames' (known: container, strip_prefixes, add_prefix, rename, drop)",
        ),
        ({"strip_prefixes": "model."}, "strip_prefixes must be a list of non-empty strings"),
        ({"add_prefix": "net"}, 'add_prefix \'net\' must be "" or end with "."'),
        (
            {"rename": {"classifier.": "fc"}},
            'a prefix (ending in ".") must map to "" or another prefix',
        ),
        ({"rename": {"a.*.b.": "c."}}, "both sides need the same number of '*'"),
        ({"rename": {"a..b": "c"}}, "name segments must be non-empty"),
        ({"container": 3}, "container must be a key path"),
        ([], "must be a JSON object"),
    ],
)
def test_bad_fields_are_one_line_errors(fields, message):
    with pytest.raises(ModelgenError) as info:
        parse_remap(fields, "r.json")
    assert str(info.value).startswith("r.json: ") and message in str(info.value)


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"strip_prefixes": ["module."]}, "strip_prefixes 'module.': no key starts with it"),
        ({"rename": {"clasifier.": "fc."}}, "rename 'clasifier.' matches no key"),
        ({"drop": ["ema."]}, "drop 'ema.' matches no key"),
        ({"rename": {"a.": "b."}}, "'a.x' and 'b.x' would both become 'b.x'"),
        ({"drop": ["a.", "b."]}, "drops every key"),
    ],
)
def test_a_remap_that_does_not_fit_the_checkpoint_says_which_rule(fields, message):
    with pytest.raises(ModelgenError, match="^r.json: ") as info:
        mapping(["a.x", "b.x"], **fields)
    assert message in str(info.value)


def test_bad_json_and_missing_file(tmp_path):
    (tmp_path / "r.json").write_text('{"rename": {"a.": "b.",}}')
    with pytest.raises(ModelgenError, match=r"^r.json: not valid JSON \(line 1: "):
        load_remap(tmp_path / "r.json")
    with pytest.raises(ModelgenError, match="nope.json: no such remap file"):
        load_remap(tmp_path / "nope.json")


def test_written_json_reads_back_and_is_small():
    remap = Remap("model", ["model."], "", {"classifier.": "fc."}, ["ema."])
    text = remap.to_json()
    assert json.loads(text) == {
        "container": "model",
        "strip_prefixes": ["model."],
        "add_prefix": "",
        "rename": {"classifier.": "fc."},
        "drop": ["ema."],
    }
    assert parse_remap(json.loads(text)).mapping(["model.classifier.w", "model.ema.w"]) == {
        "model.classifier.w": "fc.w"
    }


def test_table_and_state_dict_agree_and_ties_follow_renames(tmp_path):
    shared = torch.zeros(4, 2)
    torch.save(
        {
            "model": {
                "ema.w": shared,
                "emb.weight": shared,
                "head.weight": shared,
                "b": torch.ones(2),
            }
        },
        tmp_path / "w.pt",
    )
    (tmp_path / "r.json").write_text(
        json.dumps({"container": "model", "rename": {"emb.": "embed."}, "drop": ["ema."]})
    )
    ckpt = open_remapped(tmp_path / "w.pt", tmp_path / "r.json")
    assert (
        list(ckpt.table.tensors) == list(ckpt.state_dict()) == ["embed.weight", "head.weight", "b"]
    )
    # ema.w was the first of the tie and is dropped: the next key leads it now
    assert ckpt.table.tensors["embed.weight"].tied_to is None
    assert ckpt.table.tensors["head.weight"].tied_to == "embed.weight"
    assert ckpt.table.container == "model"


def test_key_and_container_must_agree(tmp_path):
    torch.save({"model": {"w": torch.zeros(1)}, "ema": {"w": torch.zeros(1)}}, tmp_path / "w.pt")
    (tmp_path / "r.json").write_text('{"container": "ema"}')
    assert open_remapped(tmp_path / "w.pt", tmp_path / "r.json").table.container == "ema"
    with pytest.raises(ModelgenError, match="--key model conflicts with container 'ema' in r.json"):
        open_remapped(tmp_path / "w.pt", tmp_path / "r.json", key="model")
    (tmp_path / "r.json").write_text('{"container": "state_dict"}')
    with pytest.raises(
        ModelgenError,
        match=r"^w.pt: container 'state_dict' \(from r.json\): 'state_dict' not found",
    ):
        open_remapped(tmp_path / "w.pt", tmp_path / "r.json")


# ------------------------------------------------------------------------------------- the --remap flag


@pytest.fixture
def lightning_tiny(tmp_path, monkeypatch):
    """TinyRegressor saved the Lightning way (`model.` on every key, under state_dict), its remap, data."""
    monkeypatch.chdir(tmp_path)
    weights, data, model = write_tiny(tmp_path)
    sd = torch.load(weights)
    torch.save({"state_dict": {f"model.{k}": v for k, v in sd.items()}, "epoch": 2}, "lit.ckpt")
    (tmp_path / "r.json").write_text(
        json.dumps({"container": "state_dict", "strip_prefixes": ["model."]})
    )
    return "lit.ckpt", data, f"{model}:TinyRegressor"


def test_verify_and_finetune_load_through_the_remap(lightning_tiny, capsys):
    ckpt, data, model = lightning_tiny
    code, out, err = run_cli(capsys, "verify", ckpt, model)
    assert code == 1 and "does not strict-load" in err
    code, out, err = run_cli(capsys, "verify", ckpt, model, "--remap", "r.json")
    assert code == 0, out + err
    code, out, err = run_cli(
        capsys,
        "finetune",
        ckpt,
        model,
        "--data",
        data,
        "--train",
        "head",
        "--remap",
        "r.json",
        "--save-state",
        "tuned.pt",
    )
    assert code == 0, out + err
    assert sorted(torch.load("tuned.pt")) == sorted(
        open_checkpoint("lit.ckpt", strip_prefixes=("model.",)).table.tensors
    )


def test_a_bad_remap_is_one_line_in_every_command(lightning_tiny, capsys):
    ckpt, data, model = lightning_tiny
    with open("bad.json", "w") as f:
        f.write('{"strip": []}')
    for args in (
        ["verify", ckpt, model],
        ["finetune", ckpt, model, "--data", data, "--train", "head"],
        ["generate", ckpt, "-o", "m.py"],
        ["diff", ckpt, model],
    ):
        code, _, err = run_cli(capsys, *args, "--remap", "bad.json")
        assert code == 2 and one_line_error(err).startswith(
            "modelgen: error: bad.json: unknown field 'strip'"
        )


def test_generate_records_the_remap_and_check_reapplies_it(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    torch.save({"model": {f"model.{k}": v for k, v in net.state_dict().items()}}, "w.pt")
    (tmp_path / "r.json").write_text(
        json.dumps({"strip_prefixes": ["model."], "rename": {"0.": "2."}})
    )
    code, out, err = run_cli(capsys, "generate", "w.pt", "-o", "m.py", "--remap", "r.json")
    assert code == 2
    assert (
        "r.json: 'model.0.weight' and 'model.2.weight' would both become '2.weight'"
        in one_line_error(err)
    )
    (tmp_path / "r.json").write_text(
        json.dumps({"strip_prefixes": ["model."], "rename": {"2.": "head."}})
    )
    code, out, err = run_cli(capsys, "generate", "w.pt", "-o", "m.py", "--remap", "r.json")
    assert code == 0, err
    text = (tmp_path / "m.py").read_text()
    assert "Regenerate: modelgen generate w.pt -o m.py --remap r.json" in text
    assert "'head'" in text or "self.head" in text
    assert run_cli(capsys, "check", "w.pt", "m.py")[0] == 0  # the recorded remap is applied again
    (tmp_path / "r.json").write_text(
        json.dumps({"strip_prefixes": ["model."], "rename": {"2.": "out."}})
    )
    code, out, err = run_cli(capsys, "check", "w.pt", "m.py")
    assert code == 1 and "is stale" in err
