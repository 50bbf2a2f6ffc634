"""Survey of the rotary conventions of every model type in the installed `transformers`.

For each models/<type>/modeling_<type>.py that defines `apply_rotary_pos_emb`, records from the
code itself (never from a list typed by hand):
- layout: the function is *called* on probe tensors (one unit feature at a time, a known angle
  table) and its output compared with the two ways of pairing features: `halves` (j with
  j + d/2, LLaMA) and `interleaved` (2j with 2j + 1, GPT-J), or halves turned the other way
  (`halves_reversed`, NanoChat); anything else is `other`;
- qk_norm: where the attention class norms queries (q_norm / q_layernorm / query_layernorm) and
  where it calls apply_rotary_pos_emb: `before` or `after` rotary, or none;
- partial: the config attribute that rotates only part of each head (partial_rotary_factor,
  rotary_pct, rotary_dim, rope_pct), where the config class has one;
- scaling: whether the rotary embedding reads ROPE_INIT_FUNCTIONS (then every rope_type of
  modeling_rope_utils: linear, dynamic, yarn, longrope, llama3, proportional) or only the default;
- and, apart, the types whose attention calls apply_rotary_pos_emb only under a test of its
  sliding window (`if self.sliding_window is not None:`, Cohere 2): their full-attention layers
  do not rotate (printed as the set SLIDING_ONLY_ROTARY).

Run: python benchmarks/survey_rope.py [--python]   (--python prints the table for
codegen/patterns/_rope_conventions.py). Types whose modules do not import are listed as skipped.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import logging
import os
import re
import sys
import warnings

QK_NORM_CALL = re.compile(r"self\.(q_norm|q_layernorm|query_layernorm|q_ln|norm_q|query_norm)\(")
ROTARY_CALL = re.compile(r"apply_rotary_pos_emb\(")
# an `if` line that tests the layer's sliding window (or whether it is a local layer: AFMoE)
SLIDING_TEST = re.compile(r"^\s*if\b[^\n]*(sliding|local|window)[^\n]*:\s*$", re.M)
PARTIAL_KEYS = ("partial_rotary_factor", "rotary_pct", "rotary_dim", "rope_pct")


def _halves(x, cos, sin):
    import torch

    a, b = x.chunk(2, dim=-1)
    return x * cos + torch.cat((-b, a), dim=-1) * sin


def _halves_reversed(x, cos, sin):
    """Halves turned the other way (NanoChat's rotate_half gives (x2, -x1))."""
    import torch

    a, b = x.chunk(2, dim=-1)
    return x * cos + torch.cat((b, -a), dim=-1) * sin


def _interleaved(x, cos, sin):
    import torch

    c = cos[..., : cos.shape[-1] // 2].repeat_interleave(2, dim=-1)
    s = sin[..., : sin.shape[-1] // 2].repeat_interleave(2, dim=-1)
    turned = torch.stack((-x[..., 1::2], x[..., ::2]), dim=-1).flatten(-2)
    return x * c + turned * s


def layout_of(fn) -> str:
    """Call fn(q, k, cos, sin) as the library does and name the pairing it computes."""
    import torch

    d, seq = 8, 3
    q = torch.randn(1, 2, seq, d, generator=torch.Generator().manual_seed(0))
    freqs = torch.outer(torch.arange(seq).float(), torch.tensor([0.9, 0.5, 0.3, 0.1]))
    halves_table = torch.cat((freqs, freqs), dim=-1)[None]  # [1, seq, d]: most rotary modules
    cos, sin = halves_table.cos()[:, None], halves_table.sin()[:, None]
    # the table as given (angles twice, one after the other), already paired (Cohere's rotary
    # module repeats each angle in place), or each angle once (GPT-OSS's: half the head's width)
    for table in (halves_table, freqs.repeat_interleave(2, dim=-1)[None], freqs[None]):
        try:
            out = fn(q, q.clone(), table.cos(), table.sin())
        except Exception:  # noqa: BLE001 - a table of another width, or a signature of its own
            continue
        out = out[0] if isinstance(out, tuple) else out
        refs = (("halves", _halves), ("interleaved", _interleaved))
        for name, ref in refs + (("halves_reversed", _halves_reversed),):
            if out.shape == q.shape and torch.allclose(out, ref(q, cos, sin), atol=1e-6):
                return name
    return "other"


def qk_norm_order(module) -> str | None:
    for _, cls in inspect.getmembers(module, inspect.isclass):
        if cls.__module__ != module.__name__ or not cls.__name__.endswith("Attention"):
            continue
        try:
            body = inspect.getsource(cls.forward)
        except (TypeError, OSError):
            continue
        norm, rot = QK_NORM_CALL.search(body), ROTARY_CALL.search(body)
        if norm and rot:
            return "before" if norm.start() < rot.start() else "after"
    return None


def rotates_only_windowed(module) -> bool:
    """Whether an attention class calls apply_rotary_pos_emb only inside an `if` that tests its
    sliding window: the `if` line is the nearest line above the call indented less than it."""
    for _, cls in inspect.getmembers(module, inspect.isclass):
        if cls.__module__ != module.__name__ or not cls.__name__.endswith("Attention"):
            continue
        try:
            lines = inspect.getsource(cls.forward).splitlines()
        except (TypeError, OSError):
            continue
        for i, line in enumerate(lines):
            if not ROTARY_CALL.search(line):
                continue
            indent = len(line) - len(line.lstrip())
            above = [x for x in lines[:i] if x.strip() and len(x) - len(x.lstrip()) < indent]
            if above and SLIDING_TEST.match(above[-1]):
                return True
    return False


def partial_key(mtype: str, modeling: str | None = None) -> str | None:
    """The config's partial-rotary key, where its config class has one that the modeling code
    (`modeling`, its source) reads: as `config.KEY` or as a string key (rope_parameters'). A key
    the config stores but the code never reads (MiniMax-M3's rotary_dim beside rope_parameters'
    partial_rotary_factor) turns nothing."""
    try:
        config = importlib.import_module(f"transformers.models.{mtype}.configuration_{mtype}")
    except Exception:  # noqa: BLE001
        return None
    text = inspect.getsource(config)
    found = [k for k in PARTIAL_KEYS if re.search(rf"\b{k}\b", text)]
    if modeling is not None:
        found = [k for k in found if re.search(rf"config\.{k}\b|[\"']{k}[\"']", modeling)]
    return found[0] if found else None


def survey() -> tuple[dict[str, dict], list[str]]:
    import transformers

    root = os.path.join(os.path.dirname(transformers.__file__), "models")
    rope_utils = inspect.getsource(importlib.import_module("transformers.modeling_rope_utils"))
    table, skipped = {}, []
    for mtype in sorted(os.listdir(root)):
        path = os.path.join(root, mtype, f"modeling_{mtype}.py")
        if not os.path.isfile(path) or "def apply_rotary_pos_emb" not in open(path).read():
            continue
        try:
            module = importlib.import_module(f"transformers.models.{mtype}.modeling_{mtype}")
        except Exception:  # noqa: BLE001 - an optional dependency missing
            skipped.append(mtype)
            continue
        source = inspect.getsource(module)
        fn = getattr(module, "apply_rotary_pos_emb", None)  # defined inside a class elsewhere
        # the rope_type functions it looks up read their keys there (partial_rotary_factor)
        uses_utils = "ROPE_INIT_FUNCTIONS" in source
        table[mtype] = row = {
            "layout": layout_of(fn) if fn is not None else "other",
            "qk_norm": qk_norm_order(module),
            "partial": partial_key(mtype, source + (rope_utils if uses_utils else "")),
            "scaling": uses_utils,
            "sliding_only": rotates_only_windowed(module),
        }
        for text_type in text_types(mtype):  # the text tower's own model_type (gemma3_text)
            table[text_type] = row
    borrowed(table)
    return dict(sorted(table.items())), skipped


def borrowed(table: dict[str, dict]) -> None:
    """Model types whose causal LM class is another directory's (InternLM3 runs LlamaForCausalLM):
    they compute what that module does, so they get its row (their own config's partial key)."""
    import transformers
    from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES

    for mtype, class_name in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES.items():
        cls = getattr(transformers, class_name, None) if mtype not in table else None
        home = cls.__module__.split(".")[-2] if cls is not None else None
        if home in table:  # the rotary code is the home's; a partial width is the config's
            table[mtype] = {**table[home], "partial": partial_key(mtype)}


def text_types(mtype: str) -> list[str]:
    """model_types of the text configs defined beside the directory's own (Gemma3TextConfig's
    "gemma3_text"): they run the directory's modeling code. A directory none of whose configs
    bears its name (lasr: lasr_encoder, lasr_ctc) has no row of its own to look up: every
    config defined there gets the directory's row."""
    try:
        config = importlib.import_module(f"transformers.models.{mtype}.configuration_{mtype}")
    except Exception:  # noqa: BLE001
        return []
    own = [
        getattr(cls, "model_type", None)
        for _, cls in inspect.getmembers(config, inspect.isclass)
        if cls.__module__ == config.__name__
    ]
    own = [t for t in own if isinstance(t, str) and t]
    found = own if mtype not in own else [t for t in own if t.endswith("_text")]
    return [t for t in found if t != mtype]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", action="store_true", help="print the table as Python")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)
    table, skipped = survey()
    if args.python:
        for mtype, row in table.items():
            print(f"    {mtype!r}: {tuple(row.values())[:4]!r},")
        sliding_only = sorted(t for t, row in table.items() if row["sliding_only"])
        print(f"SLIDING_ONLY_ROTARY = frozenset({sliding_only!r})")
    else:
        for mtype, row in table.items():
            print(mtype, *row.values(), sep="\t")
    print(f"# {len(table)} types surveyed; skipped (did not import): {skipped}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
