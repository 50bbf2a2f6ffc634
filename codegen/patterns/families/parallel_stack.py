"""An encoder whose layers are written as parallel lists on the model itself (XLM, FlauBERT):
`attentions[i]`, `layer_norm1[i]`, `ffns[i]`, `layer_norm2[i]` form layer i. Recognised from the
roles of the lists' items (an attention taking a mask, a feed-forward, two norms) and their equal
lengths, whatever the lists are called; the forward walks them in step (`zip`).

Embeddings: token table + learned (or stored sinusoidal) position table, an optional norm; the
vectors of padding tokens are zeroed after the embeddings and after every layer, as XLM does.
"""

from __future__ import annotations

import re

from codegen.ir.graph import Graph
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Match,
    family,
    modules,
    one_named,
    tensors,
)
from codegen.patterns.families.encoder import POSITIONS, TOKENS

# Families that, given no attention mask, leave out the padding at the end of each sequence
# (XLM's `lengths`, counted from the pad index).
LENGTH_MASK_TYPES = ("xlm", "flaubert")
# XLM names its token table plainly `embeddings`.
TABLE = TOKENS + r"|embeddings"


def _count(m) -> int:
    """How many items a container member holds (0 for anything else)."""
    if m.kind == "repeat" and m.children:
        return m.repeat if isinstance(m.repeat, int) else m.copies
    if m.kind in ("modulelist", "sequential"):
        return len(m.children)
    return 0


def _norm_order(norms: list) -> tuple[list, bool]:
    """The attention's norm list, then the feed-forward's, and whether the names say so: numbered
    1 and 2 (`layer_norm1`, `layer_norm2`), or one named for the attention."""
    numbered = [re.search(r"([12])\D*$", m.attr) for m in norms]
    if all(numbered) and {n.group(1) for n in numbered} == {"1", "2"}:
        return sorted(norms, key=lambda m: re.search(r"([12])\D*$", m.attr).group(1)), True
    for_attention = [m for m in norms if re.search(r"attn|attention", m.attr, re.IGNORECASE)]
    if len(for_attention) == 1:
        return for_attention + [m for m in norms if m is not for_attention[0]], True
    return sorted(norms, key=lambda m: m.attr), False


class ParallelListEncoder(BlockPattern):
    role = "EncoderModel"
    priority = 4

    accepts = Accepts(4, tensors=False, roles=("Attention", "MLP", "norm"))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls):
            return None
        lists = [m for m in members if _count(m)]
        if len(lists) != 4 or len({_count(m) for m in lists}) != 1:
            return None
        if any(m.kind != "repeat" and len({c.type_name for c in m.children}) != 1 for m in lists):
            return None  # the items of each list must be alike
        by_role: dict[str, list] = {}
        for m in lists:
            by_role.setdefault(ctx.role(m) or "", []).append(m)
        attention, ffn = by_role.get("Attention", []), by_role.get("MLP", [])
        norms = by_role.get("norm", [])
        if len(attention) != 1 or len(ffn) != 1 or len(norms) != 2:
            return None
        norms, ordered = _norm_order(norms)
        if not ctx.takes(attention[0], "mask"):
            return None
        singles = [m for m in members if m not in lists]
        tables = [m for m in singles if family(m) == "embedding"]
        tokens, positions = one_named(tables, TABLE), one_named(tables, POSITIONS)
        embed_norms = [m for m in singles if family(m) == "norm"]
        if tokens is None or positions is None or len(embed_norms) > 1:
            return None
        extra = [m for m in tables if m not in (tokens, positions)]
        if len(extra) > 1 or len(tables) + len(embed_norms) != len(singles):
            return None
        pre = ctx.choose(
            cls,
            norms[0].attr,
            "pre_norm",
            False,
            [True],
            "False: each list's norm after its residual sum (XLM); True: before the sublayer",
        )
        model_type = ctx.resolver.evidence("model_type")
        lengths = model_type is not None and model_type[1] in LENGTH_MASK_TYPES
        pad = ctx.choose(
            cls,
            tokens.attr,
            "pad_index",
            2 if lengths else None,
            [None, 0, 1, 2] if lengths else [2, 0, 1],
            "None: no mask unless given; N: without a mask, padding N at the end is left out",
            accepts="index",
        )
        if lengths and pad.source == "default":
            pad.source, pad.note = "metadata", f"{model_type[0]} {model_type[1]!r}"
        guessed = (
            [] if ordered else [f"{norms[0].attr} serves the attention, {norms[1].attr} the FFN"]
        )
        if extra:  # XLM's lang_embeddings: added only where the caller passes language ids
            guessed.append(
                f"{extra[0].attr} is not added (the library adds it only when given ids)"
            )
        found = (
            tokens.attr,
            positions.attr,
            embed_norms[0].attr if embed_norms else None,
            (attention[0].attr, norms[0].attr, ffn[0].attr, norms[1].attr),
            bool(pre.value),
            None if pad.value is None else int(pad.value),
        )
        return Match(self, len(members), found, [pre, pad], guessed="; ".join(guessed))

    synonyms = {"pre_norm": ("pre_norm",), "pad_index": ("pad_index", "pad_token_id")}

    def forward(self, match: Match, g: Graph) -> None:
        tokens, positions, embed_norm, (attns, norm1s, ffns, norm2s), pre, pad = match.found
        ids = g.input("input_ids")
        attention_mask = g.input("attention_mask", optional=True)
        if pad is not None:
            attention_mask = g.call_function(
                "mask_from_lengths", ids, attention_mask, pad, name="keep", comment="1: a token"
            )
        x = g.call_module((tokens,), ids, comment="[batch, seq, d_model]")
        seq = g.call_method("size", ids, 1, inline=True)
        device = g.call_method("device", ids, inline=True)
        pos = g.call_function("arange", seq, kwargs={"device": device}, name="positions")
        x = g.call_function("add", x, g.call_module((positions,), pos, inline=True))
        if embed_norm is not None:
            x = g.call_module((embed_norm,), x)
        x = g.call_function("zero_padding", x, attention_mask, comment="padding stays zero")
        mask = g.call_function("padding_mask", attention_mask, name="mask")
        body = Graph()
        h, m, keep = body.input("x"), body.input("mask"), body.input("attention_mask")
        if pre:
            a = body.call_module(("attn",), body.call_module(("norm1",), h, inline=True), m)
            h = body.call_function("add", h, a)
            f = body.call_module(("ffn",), body.call_module(("norm2",), h, inline=True))
            h = body.call_function("add", h, f)
        else:
            a = body.call_module(("attn",), h, m, name="a")
            h = body.call_module(("norm1",), body.call_function("add", h, a, inline=True))
            f = body.call_module(("ffn",), h, inline=True)
            h = body.call_module(("norm2",), body.call_function("add", h, f, inline=True))
        body.output(body.call_function("zero_padding", h, keep))
        items = (("attn", (attns,)), ("norm1", (norm1s,)), ("ffn", (ffns,)), ("norm2", (norm2s,)))
        x = g.loop(items, body, x, mask, attention_mask, comment="layer i: item i of each list")
        g.output(x, comment="[batch, seq, d_model]: the last hidden state")

    @staticmethod
    def examples():
        # (FlauBERT's pre_norm path fails in this library version: a hand-written one stands in)
        return [_example("XLM", {}), _example("Flaubert", {}), _pre_norm_example()]


def _example(family_name: str, settings: dict):
    """The library's own model (a test dependency), unit-scale weights, a padded batch."""
    import json

    import torch
    import transformers as t

    from codegen.patterns._kit import Example

    config = getattr(t, f"{family_name}Config")(
        vocab_size=50, emb_dim=16, n_layers=2, n_heads=4, **settings
    )

    class Reference(getattr(t, f"{family_name}Model")):  # type: ignore[misc]
        def forward(self, input_ids, attention_mask=None):  # type: ignore[override]
            out = super().forward(input_ids=input_ids, attention_mask=attention_mask)
            return out.last_hidden_state

    torch.manual_seed(0)
    model = Reference(config).eval()
    with torch.no_grad():  # a wrong scale or order shows above the tolerance
        for n, p in model.named_parameters():
            if p.dim() >= 2:
                p.normal_(0, p[0].numel() ** -0.5)
            else:
                p.normal_(*((0, 0.1) if n.endswith("bias") else (1, 0.2)))
    ids = torch.randint(4, 50, (2, 7))
    mask = torch.ones(2, 7, dtype=torch.long)
    mask[1, 5:] = 0
    metadata = json.loads(config.to_json_string())
    plain = {k: v for k, v in metadata.items() if not isinstance(v, dict)}
    return Example(model, (ids, mask), plain)


def _pre_norm_example():
    """Pre-norm layers as parallel lists under other names (FlauBERT's pre_norm forward)."""
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    from codegen.patterns._kit import Example

    class Attention(nn.Module):
        def __init__(self, d: int) -> None:
            super().__init__()
            self.q_proj, self.k_proj = nn.Linear(d, d), nn.Linear(d, d)
            self.v_proj, self.out_proj = nn.Linear(d, d), nn.Linear(d, d)

        def forward(self, x, mask):
            b, t, d = x.shape
            projections = (self.q_proj, self.k_proj, self.v_proj)
            q, k, v = (p(x).view(b, t, 4, -1).transpose(1, 2) for p in projections)
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
            return self.out_proj(y.transpose(1, 2).reshape(b, t, d))

    class FeedForward(nn.Module):
        def __init__(self, d: int) -> None:
            super().__init__()
            self.fc1, self.fc2 = nn.Linear(d, 2 * d), nn.Linear(2 * d, d)

        def forward(self, x):
            return self.fc2(F.gelu(self.fc1(x)))

    class Reference(nn.Module):
        def __init__(self, d: int = 16, n: int = 2) -> None:
            super().__init__()
            self.tok_embeddings, self.pos_embedding = nn.Embedding(50, d), nn.Embedding(20, d)
            self.attn_layers = nn.ModuleList(Attention(d) for _ in range(n))
            self.attn_norms = nn.ModuleList(nn.LayerNorm(d) for _ in range(n))
            self.mlp_layers = nn.ModuleList(FeedForward(d) for _ in range(n))
            self.ffn_norms = nn.ModuleList(nn.LayerNorm(d) for _ in range(n))

        def forward(self, ids, keep):
            x = self.tok_embeddings(ids) + self.pos_embedding(torch.arange(ids.size(1)))
            x = x * keep[:, :, None]
            mask = keep[:, None, None, :] != 0
            layers = zip(self.attn_layers, self.attn_norms, self.mlp_layers, self.ffn_norms)
            for attention, norm1, ffn, norm2 in layers:
                x = x + attention(norm1(x), mask)
                x = x + ffn(norm2(x))
                x = x * keep[:, :, None]
            return x

    torch.manual_seed(0)
    model = Reference().eval()
    with torch.no_grad():
        for n, p in model.named_parameters():
            if p.dim() >= 2:
                p.normal_(0, p[0].numel() ** -0.5)
            else:
                p.normal_(*((0, 0.1) if n.endswith("bias") else (1, 0.2)))
    ids, keep = torch.randint(0, 50, (2, 7)), torch.ones(2, 7, dtype=torch.long)
    keep[1, 5:] = 0
    config = {"n_heads": 4, "hidden_act": "gelu", "pre_norm": True, "causal": False}
    return Example(model, (ids, keep), config)
