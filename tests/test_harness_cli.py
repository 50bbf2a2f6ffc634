"""The verify/finetune commands as the parser sees them, and `modelgen --help` staying torch-free."""

from __future__ import annotations

import os
import subprocess
import sys

from codegen.cli import build_parser
from tests.harness_support import ROOT


def test_flags_of_the_cli_contract():
    parser = build_parser()
    args = parser.parse_args(
        [
            "finetune",
            "w.pt",
            "model.py",
            "--data",
            "d.pt",
            "--train",
            "a,b.*",
            "--inputs",
            "k1,k2",
            "--target",
            "k",
            "--loss",
            "l1",
            "--method",
            "adam",
            "--epochs",
            "3",
            "--lr",
            "0.5",
            "--device",
            "cpu",
            "--out",
            "m.pt",
            "--nproc",
            "2",
            "--json",
            "--plot",
            "p.png",
            "--save-state",
            "s.pt",
            "--remap",
            "r.json",
            "--key",
            "model",
            "--strip-prefix",
            "net.",
            "--no-strip",
        ]
    )
    assert (args.train, args.loss, args.method, args.epochs, args.lr, args.nproc, args.out) == (
        "a,b.*",
        "l1",
        "adam",
        3,
        0.5,
        2,
        "m.pt",
    )
    args = parser.parse_args(
        ["verify", "w.pt", "pkg.mod:Net", "--data", "d.pt", "--remap", "r.json", "--json"]
    )
    assert (args.model, args.data, args.remap, args.device) == (
        "pkg.mod:Net",
        "d.pt",
        "r.json",
        "auto",
    )


def test_help_does_not_import_torch():
    code = "import sys, codegen.cli as c; c.build_parser(); " "print('torch' in sys.modules)"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT, env=env
    )
    assert result.stdout.strip() == "False"
