"""The reusable comparison behind verify's (and diff's) report: compare(expected, found)."""

from __future__ import annotations

from codegen.harness.mismatch import compare

F32 = "float32"


def layers(n: int, width: int = 4, prefix: str = "enc.layers") -> dict:
    return {
        f"{prefix}.{i}.{m}.{p}": ((width, width), F32)
        for i in range(n)
        for m in ("fc", "norm")
        for p in ("weight", "bias")
    }


def test_identical_sets_are_ok_and_exact():
    report = compare(layers(2), layers(2))
    assert (
        report.ok
        and report.exact
        and report.summary() == "all keys match"
        and report.render() == "all keys match"
    )


def test_repeated_blocks_fold_into_index_ranges():
    found = {k: v for k, v in layers(4).items() if "norm" not in k or ".3." in k}
    report = compare(layers(4), found)
    assert not report.ok
    assert report.render().splitlines() == [
        "missing from the checkpoint: 6 key(s)",
        "  enc.layers.{0-2}.norm: weight, bias",
    ]


def test_a_whole_missing_layer_is_one_line_and_gaps_show_as_ranges():
    expected = layers(6)
    found = {
        k: v
        for k, v in expected.items()
        if not k.startswith(("enc.layers.1.", "enc.layers.2.", "enc.layers.4."))
    }
    report = compare(found, expected)  # the checkpoint has layers the model does not
    assert report.render().splitlines() == [
        "unexpected (not in the model): 12 key(s)",
        "  enc.layers.{1-2,4}: the whole module (4 keys)",
    ]


def test_size_and_dtype_differences_show_both_sides():
    expected = {
        "head.weight": ((2, 8), F32),
        "head.bias": ((2,), F32),
        "emb.weight": ((10, 8), F32),
    }
    found = {
        "head.weight": ((3, 8), F32),
        "head.bias": ((3,), F32),
        "emb.weight": ((10, 8), "float16"),
    }
    report = compare(expected, found)
    assert not report.ok and report.summary() == "2 size mismatches, 1 dtype difference"
    assert "  head: weight [2, 8] vs [3, 8], bias [2] vs [3]" in report.render()
    assert "  emb: weight float32 vs float16" in report.render()
    only_dtype = compare({"w": ((1,), F32)}, {"w": ((1,), "float64")})
    assert only_dtype.ok and not only_dtype.exact  # load_state_dict converts dtypes


def test_batch_counters_missing_from_old_checkpoints_are_a_note_not_a_failure():
    expected = {"bn.weight": ((4,), F32), "bn.num_batches_tracked": ((), "int64")}
    report = compare(expected, {"bn.weight": ((4,), F32)})
    assert report.ok and report.exact
    assert report.notes == [
        "1 BatchNorm num_batches_tracked counter(s) are not in the checkpoint "
        "(saved by an older torch); load_state_dict sets them to 0"
    ]
    # the other way round it is a real difference: strict loading refuses unexpected keys
    assert not compare({"bn.weight": ((4,), F32)}, expected).ok


def test_render_limit_and_json():
    expected = {f"m{i}.weight": ((1,), F32) for i in range(30)}
    report = compare(expected, {})
    lines = report.render(limit=5).splitlines()
    assert len(lines) == 1 + 5 + 1 and lines[-1] == "  ... and 25 more group(s)"
    data = report.to_json()
    assert data["ok"] is False and data["differences"][0] == {
        "kind": "missing",
        "name": "m0.weight",
        "expected": {"shape": [1], "dtype": F32},
    }
