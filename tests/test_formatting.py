"""format_source formats a file's head and each class on its own (and remembers them): the joined
text must be exactly what black makes of the whole file, on awkward text and on rendered models."""

from __future__ import annotations

import black
import pytest
import torch

from codegen.generate import generate_source
from codegen.load import open_checkpoint
from codegen.render import render_source
from codegen.render.formatting import format_source
from codegen.safetext import string_literal
from tests.zoo import build, checkpoint

AWKWARD = '''"""A module docstring whose prose has lines that look like code:
class names are kept;
def ault values too.
"""
import math
import torch
def helper(x):  return x*2
class First(torch.nn.Module):
    """Forward trust: inferred."""
    def forward(self, x):
        return helper(x)
    # a trailing comment inside the class
# a comment heading the next class, after one blank line
@torch.jit.interface
class Second:
    def forward(self, x: torch.Tensor) -> torch.Tensor: ...




class Third(First):
    values = [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34]
CONSTANT = 3
'''


def whole(text: str) -> str:
    return black.format_str(text, mode=black.Mode(line_length=100))


def test_awkward_text_formats_as_black_formats_the_whole_file():
    assert format_source(AWKWARD) == whole(AWKWARD)


@pytest.mark.parametrize("name", ["resnet_tiny", "seed_transformer", "lstm_tagger"])
def test_rendered_models_format_as_black_formats_the_whole_file(name, tmp_path):
    path = tmp_path / "weights.pt"
    torch.save(checkpoint(name, build(name)), path)
    _, ir = generate_source(open_checkpoint(path).table)
    raw = render_source(ir, formatted=False)
    assert format_source(raw) == whole(raw)


@pytest.mark.parametrize(
    "text", ["a", "it's", 'say "hi"', "both ' and \"", "back\\slash", "line\nbreak", "é\x00"]
)
def test_string_literals_are_black_s_own(text):
    """The renderer's literals read back as their text and, without both kinds of quote inside,
    are already black's (black formats a changed text twice)."""
    literal = string_literal(text)
    assert eval(literal) == text
    if not ("'" in text and '"' in text):
        assert whole(f"x = {literal}\n") == f"x = {literal}\n"
