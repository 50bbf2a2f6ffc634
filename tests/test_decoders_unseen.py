"""Decoders no family pattern was written for (task dec6, issue 15): the assembly of a GPT-like
stack read from what its members are rather than from one library's attribute names.

Each model is built in code, its weights redrawn at unit scale, saved as a folder (config.json +
safetensors); the generated file must strict-load, compute the reference's logits to 1e-5 eagerly
and under TorchScript, and claim nothing it does not know. Beside the library's OpenAI GPT, a
hand-written GPT-like model with other names checks each mechanism on a second model: tables named
freely (one left a Linear by its name and pinned an Embedding by the decoder pattern), a head in
the same class, and post-norm blocks read from the missing final norm."""

from __future__ import annotations

import json
import logging
import re

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

from codegen.cli.main import main
from tests.redraw import unit_scale
from tests.generated_module import load_module

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")
logging.getLogger("transformers").setLevel(logging.ERROR)


def generate(tmp_path, folder):
    out = tmp_path / "model.py"
    assert main(["generate", str(folder), "-o", str(out)]) == 0
    module = load_module(out)
    ours = module.RecoveredModel().eval()
    ours.load_state_dict(load_file(folder / "model.safetensors"), strict=True)
    return out.read_text(), ours


def assert_exact(source: str, ours, reference, vocab: int) -> None:
    assert "NotImplementedError" not in source
    assert "Forward trust: guessed" not in source and "does not use" not in source
    torch.manual_seed(1)
    ids = torch.randint(0, vocab, (2, 11))
    with torch.no_grad():
        want = reference(ids)
        torch.testing.assert_close(ours(ids), want, atol=1e-5, rtol=1e-4)
        torch.testing.assert_close(torch.jit.script(ours)(ids), want, atol=1e-5, rtol=1e-4)


# ----------------------------------------------------------------------- a GPT with other names


class SelfAttention(nn.Module):
    def __init__(self, d: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.query, self.key = nn.Linear(d, d), nn.Linear(d, d)
        self.value, self.out_proj = nn.Linear(d, d), nn.Linear(d, d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, _ = x.shape
        q, k, v = (
            p(x).view(b, t, self.heads, -1).transpose(1, 2)
            for p in (self.query, self.key, self.value)
        )
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.out_proj(y.transpose(1, 2).reshape(b, t, -1))


class FeedForward(nn.Module):
    def __init__(self, d: int) -> None:
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(d, 3 * d), nn.Linear(3 * d, d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.gelu(self.fc1(x)))


class Layer(nn.Module):
    def __init__(self, d: int, post: bool) -> None:
        super().__init__()
        self.post = post
        self.attention, self.norm1 = SelfAttention(d, 4), nn.LayerNorm(d)
        self.feed_forward, self.norm2 = FeedForward(d), nn.LayerNorm(d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.post:  # GPT-1: each block normalises its own output
            x = self.norm1(x + self.attention(x))
            return self.norm2(x + self.feed_forward(x))
        x = x + self.attention(self.norm1(x))
        return x + self.feed_forward(self.norm2(x))


class ListLayer(nn.Module):
    """CTRL-like names: norms numbered (sublayer_norm1/2), the feed-forward a Sequential."""

    def __init__(self, d: int) -> None:
        super().__init__()
        self.self_attention, self.sublayer_norm1 = SelfAttention(d, 4), nn.LayerNorm(d)
        self.ffn = nn.Sequential(nn.Linear(d, 2 * d), nn.ReLU(), nn.Linear(2 * d, d))
        self.sublayer_norm2 = nn.LayerNorm(d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.self_attention(self.sublayer_norm1(x))
        return x + self.ffn(self.sublayer_norm2(x))


class ListGPT(nn.Module):
    def __init__(self, vocab: int = 70, d: int = 48) -> None:
        super().__init__()
        self.tok_table = nn.Embedding(vocab, d)
        self.pos_embedding = nn.Embedding(32, d)
        self.layers = nn.ModuleList(ListLayer(d) for _ in range(2))
        self.final = nn.LayerNorm(d)
        self.lm_head = nn.Linear(d, vocab)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        x = self.tok_table(ids) + self.pos_embedding(torch.arange(ids.size(1)))
        for layer in self.layers:
            x = layer(x)
        return self.lm_head(self.final(x))


class FlatGPT(nn.Module):
    """minGPT-like, everything in one class: tables, a stack, an optional final norm, a head.
    `pos_table` is named like no embedding the layer catalogue knows (a Linear by its shapes)."""

    def __init__(self, post: bool, vocab: int = 90, d: int = 32, layers: int = 3) -> None:
        super().__init__()
        self.token_table, self.pos_table = nn.Embedding(vocab, d), nn.Embedding(40, d)
        self.stack = nn.ModuleList(Layer(d, post) for _ in range(layers))
        self.out_norm = None if post else nn.LayerNorm(d)
        self.unembed = nn.Linear(d, vocab, bias=False)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        x = self.token_table(ids) + self.pos_table(torch.arange(ids.size(1)))
        for layer in self.stack:
            x = layer(x)
        if self.out_norm is not None:
            x = self.out_norm(x)
        return self.unembed(x)


def save_folder(tmp_path, model: nn.Module, config: dict):
    folder = tmp_path / "hf"
    folder.mkdir()
    save_file(
        {k: v.contiguous() for k, v in model.state_dict().items()}, folder / "model.safetensors"
    )
    (folder / "config.json").write_text(json.dumps(config))
    return folder


@pytest.mark.parametrize("post", [True, False], ids=["post_norm", "pre_norm"])
def test_gpt_with_other_names_is_exact(tmp_path, post):
    model = unit_scale(FlatGPT(post))
    config = {"architectures": ["TinyForCausalLM"], "num_attention_heads": 4, "hidden_act": "gelu"}
    source, ours = generate(
        tmp_path, save_folder(tmp_path, model, {**config, "layer_norm_eps": 1e-5})
    )
    assert_exact(source, ours, model, 90)
    flat = " ".join(source.split())
    assert "self.pos_table = nn.Embedding(" in source  # pinned by the decoder pattern
    assert "layer types (a decoder's table beside its blocks, looked up by index)" in flat
    # no norm after the stack: the blocks are post-norm, and the file says why
    assert ("residual (no norm follows the decoder's blocks)" in flat) == post


def test_numbered_norms_and_a_sequential_feed_forward(tmp_path):
    """A block whose norms no naming convention lists (numbered instead) and whose feed-forward
    is a Sequential with its activation in a slot; a final norm with a name of its own. Nothing
    says which activation the slot holds (no key, no config.json activation, a family unknown):
    the default (ReLU) computes right here, and the block says it is a guess."""
    model = unit_scale(ListGPT())
    config = {"architectures": ["ListForCausalLM"], "num_attention_heads": 4}
    source, ours = generate(tmp_path, save_folder(tmp_path, model, config))
    block = source.split("\nclass Block(")[1].split("\nclass ")[0]
    assert "Forward trust: guessed" in block and "slots without" in " ".join(block.split())
    assert_exact(source.replace("Forward trust: guessed", "(guessed)"), ours, model, 70)


# ------------------------------------------------------------------------ the library's models

transformers = pytest.importorskip("transformers")


def library_folder(tmp_path, model):
    folder = tmp_path / "hf"
    model.save_pretrained(folder)
    return folder


@pytest.mark.parametrize(
    "sizes",
    [dict(n_embd=32, dff=64, n_layer=2, n_head=4), dict(n_embd=48, dff=80, n_layer=3, n_head=6)],
    ids=["small", "wider"],
)
def test_ctrl_is_exact(tmp_path, sizes):
    """CTRL: its table `w` named like nothing (pinned an Embedding by the decoder pattern), scaled
    by sqrt(d_model), fixed sinusoidal positions, numbered norms, a Sequential feed-forward, and a
    head storing only its bias (the weight is the tied table)."""
    config = transformers.CTRLConfig(vocab_size=100, n_positions=64, **sizes)
    model = unit_scale(transformers.CTRLLMHeadModel(config))
    source, ours = generate(tmp_path, library_folder(tmp_path, model))
    assert_exact(source, ours, lambda ids: model(input_ids=ids).logits, 100)
    flat = " ".join(source.split())
    assert "sinusoidal_positions(" in source and "math.sqrt(" in source
    assert "self.lm_head(F.linear(x, self.transformer.w.weight))" in flat


def test_openai_gpt_is_exact(tmp_path):
    """Tables tokens_embed / positions_embed, post-norm blocks, no final norm, the head tied to the
    token table, and `afn` naming the activation in its own spelling ("gelu" is gelu_new)."""
    config = transformers.OpenAIGPTConfig(
        vocab_size=100, n_positions=64, n_embd=32, n_layer=2, n_head=4
    )
    model = unit_scale(transformers.OpenAIGPTLMHeadModel(config))
    source, ours = generate(tmp_path, library_folder(tmp_path, model))
    assert_exact(source, ours, lambda ids: model(input_ids=ids).logits, 100)
    assert "activation (config.json afn 'gelu' (openai-gpt))" in " ".join(source.split())


# -------------------------------------------------------------- experts stacked in one tensor


@pytest.mark.parametrize(
    "experts, top_k, extra",
    [(4, 2, {}), (3, 1, {"residual_multiplier": 0.5, "embedding_multiplier": 2.0})],
    ids=["top2_of_4", "top1_of_3_scaled"],
)
def test_granitemoe_expert_bank_is_exact(tmp_path, experts, top_k, extra):
    """GraniteMoE stores each layer's experts as two 3-D tensors (input_linear [experts, 2 * inner,
    d_model], output_linear [experts, d_model, inner]) beside a router class: one expert-bank
    pattern, top-k read from config.json, for any count of experts."""
    config = transformers.GraniteMoeConfig(
        vocab_size=100,
        num_hidden_layers=2,
        num_attention_heads=4,
        hidden_size=32,
        intermediate_size=24,
        max_position_embeddings=64,
        num_local_experts=experts,
        num_experts_per_tok=top_k,
        **extra,
    )
    model = unit_scale(transformers.GraniteMoeForCausalLM(config))
    source, ours = generate(tmp_path, library_folder(tmp_path, model))
    assert_exact(source, ours, lambda ids: model(input_ids=ids).logits, 100)
    flat = " ".join(source.split())
    assert "nn.Conv1d" not in source  # the banks are not read as convolutions
    assert "top_k (config.json num_experts_per_tok)" in flat
    assert f"top_k_routing(self.router(x), {top_k}, True)" in flat


def test_expert_bank_of_an_unchecked_family_is_flagged(tmp_path):
    """The same layout under a model_type the catalogue has not checked: the routing is the usual
    one, not known to be this model's, so the file says 'guessed'."""
    config = transformers.GraniteMoeConfig(
        vocab_size=100,
        num_hidden_layers=1,
        num_attention_heads=4,
        hidden_size=32,
        intermediate_size=24,
        num_local_experts=4,
    )
    folder = library_folder(tmp_path, transformers.GraniteMoeForCausalLM(config))
    written = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**written, "model_type": "bank_like"}))
    out = tmp_path / "model.py"
    assert main(["generate", str(folder), "-o", str(out)]) == 0
    assert "routing by softmax scores then top-k" in " ".join(out.read_text().split())


@pytest.mark.parametrize(
    "experts, jitter", [(4, 0.01), (6, 0.3)], ids=["default_jitter", "wide_jitter_6_experts"]
)
def test_phimoe_sparsemixer_routing_is_exact(tmp_path, experts, jitter):
    """PhiMoE routes by sparsemixer, not softmax then top-k: the best expert, then the best of the
    rest, each weighted by a softmax over the experts within 2 * router_jitter_noise of it; a
    wider threshold lets more experts into each softmax."""
    config = transformers.PhimoeConfig(
        vocab_size=100,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        hidden_size=32,
        intermediate_size=48,
        max_position_embeddings=64,
        num_local_experts=experts,
        router_jitter_noise=jitter,
    )
    model = unit_scale(transformers.PhimoeForCausalLM(config))
    source, ours = generate(tmp_path, library_folder(tmp_path, model))
    assert_exact(source, ours, lambda ids: model(input_ids=ids).logits, 100)
    flat = " ".join(source.split())
    assert re.search(rf"sparsemixer_routing\( ?self\.gate\(x\), {jitter} ?\)", flat)


def test_mixtral_in_memory_experts_are_exact(tmp_path):
    """transformers 5 holds Mixtral's experts as two 3-D tensors of one class (`experts.
    gate_up_proj`, `experts.down_proj`): what torch.save(model.state_dict()) writes, unlike
    save_pretrained's per-expert keys. The same expert-bank pattern computes it."""
    config = transformers.MixtralConfig(
        vocab_size=100,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        hidden_size=32,
        intermediate_size=40,
        max_position_embeddings=64,
        num_local_experts=4,
    )
    model = unit_scale(transformers.MixtralForCausalLM(config))
    folder = library_folder(tmp_path, model)
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    assert any(k.endswith("experts.gate_up_proj") for k in state)
    save_file(state, folder / "model.safetensors")  # the in-memory layout
    source, ours = generate(tmp_path, folder)
    assert_exact(source, ours, lambda ids: model(input_ids=ids).logits, 100)
