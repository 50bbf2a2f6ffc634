"""Transformer families from the `transformers` library, built from tiny configs in code: the file
generated from the Hugging Face folder (config.json + model.safetensors) strict-loads, computes the
library's own output (logits or last hidden state) to 1e-5, and scripts with TorchScript.

Text encoders are given a padding mask (and segment ids where they have segments), as users call
them; vision encoders are given pixels."""

from __future__ import annotations

import logging

import pytest
import torch

transformers = pytest.importorskip("transformers")
from safetensors.torch import load_file  # noqa: E402

from codegen.cli.main import main  # noqa: E402
from tests.harness_support import run_json  # noqa: E402
from tests.generated_module import load_module  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")
logging.getLogger("transformers").setLevel(logging.ERROR)

SMALL = dict(vocab_size=100, num_hidden_layers=2, num_attention_heads=4)
ENCODER = dict(**SMALL, hidden_size=32, intermediate_size=64, max_position_embeddings=64)
IMAGE = dict(
    image_size=32,
    patch_size=8,
    hidden_size=32,
    num_hidden_layers=2,
    num_attention_heads=4,
    intermediate_size=64,
)
FAMILIES = {
    "gpt2": lambda t: t.GPT2LMHeadModel(
        t.GPT2Config(vocab_size=100, n_positions=64, n_embd=32, n_layer=2, n_head=4)
    ),
    "gpt2_untied": lambda t: t.GPT2LMHeadModel(
        t.GPT2Config(
            vocab_size=100,
            n_positions=64,
            n_embd=48,
            n_layer=2,
            n_head=6,
            activation_function="relu",
            tie_word_embeddings=False,
        )
    ),
    "llama": lambda t: t.LlamaForCausalLM(
        t.LlamaConfig(**SMALL, hidden_size=32, intermediate_size=64, num_key_value_heads=2)
    ),
    "llama_one_layer": lambda t: t.LlamaForCausalLM(  # a list holding a single layer
        t.LlamaConfig(
            **{**SMALL, "num_hidden_layers": 1},
            hidden_size=32,
            intermediate_size=64,
            num_key_value_heads=2,
        )
    ),
    "mistral": lambda t: t.MistralForCausalLM(
        t.MistralConfig(**SMALL, hidden_size=32, intermediate_size=64, num_key_value_heads=2)
    ),
    "mistral_window": lambda t: t.MistralForCausalLM(  # a window shorter than the input
        t.MistralConfig(
            **SMALL, hidden_size=32, intermediate_size=64, num_key_value_heads=2, sliding_window=4
        )
    ),
    "qwen2": lambda t: t.Qwen2ForCausalLM(
        t.Qwen2Config(**SMALL, hidden_size=32, intermediate_size=64, num_key_value_heads=2)
    ),
    "llama_tied_theta": lambda t: t.LlamaForCausalLM(
        t.LlamaConfig(
            **SMALL,
            hidden_size=48,
            intermediate_size=40,
            tie_word_embeddings=True,
            rope_theta=500.0,
            hidden_act="gelu_pytorch_tanh",
        )
    ),
    "gpt_neox": lambda t: t.GPTNeoXForCausalLM(
        t.GPTNeoXConfig(**SMALL, hidden_size=32, intermediate_size=64, rotary_pct=0.5)
    ),
    "phi": lambda t: t.PhiForCausalLM(
        t.PhiConfig(**SMALL, hidden_size=32, intermediate_size=64, partial_rotary_factor=0.5)
    ),
    "gemma": lambda t: t.GemmaForCausalLM(
        t.GemmaConfig(
            **SMALL, hidden_size=32, intermediate_size=64, num_key_value_heads=2, head_dim=8
        )
    ),
    "opt": lambda t: t.OPTForCausalLM(
        t.OPTConfig(**SMALL, hidden_size=32, ffn_dim=64, word_embed_proj_dim=32)
    ),
    "opt_post_norm": lambda t: t.OPTForCausalLM(
        t.OPTConfig(
            **SMALL,
            hidden_size=32,
            ffn_dim=64,
            word_embed_proj_dim=32,
            do_layer_norm_before=False,
            activation_function="gelu",
        )
    ),
    "bloom": lambda t: t.BloomForCausalLM(
        t.BloomConfig(vocab_size=100, hidden_size=32, n_layer=2, n_head=4)
    ),
    "bloom_6_heads": lambda t: t.BloomForCausalLM(  # slopes beyond a power of two
        t.BloomConfig(vocab_size=100, hidden_size=48, n_layer=2, n_head=6)
    ),
    # Families met on the way: rotary given as a width, interleaved (GPT-J, CodeGen with its
    # 4-shard fused qkv); Granite's multipliers; qk-norm per head (Qwen3) and over the whole
    # projection with norms on the branch outputs (OLMo-2); a fused qkv and gate_up with fewer
    # key/value heads (Phi-3); multi-query fused c_attn (GPT-BigCode); LayerNorm with biases
    # and norm_epsilon (Starcoder2); biases everywhere in LLaMA.
    "gptj": lambda t: t.GPTJForCausalLM(
        t.GPTJConfig(vocab_size=100, n_positions=64, n_embd=32, n_layer=2, n_head=4, rotary_dim=4)
    ),
    "codegen": lambda t: t.CodeGenForCausalLM(
        t.CodeGenConfig(
            vocab_size=100, n_positions=64, n_ctx=64, n_embd=32, n_layer=2, n_head=4, rotary_dim=4
        )
    ),
    "granite": lambda t: t.GraniteForCausalLM(
        t.GraniteConfig(
            **SMALL,
            hidden_size=32,
            intermediate_size=64,
            num_key_value_heads=2,
            embedding_multiplier=3.0,
            residual_multiplier=0.5,
            attention_multiplier=0.3,
            logits_scaling=4.0,
        )
    ),
    "qwen3": lambda t: t.Qwen3ForCausalLM(
        t.Qwen3Config(
            **SMALL, hidden_size=32, intermediate_size=64, num_key_value_heads=2, head_dim=8
        )
    ),
    "olmo2": lambda t: t.Olmo2ForCausalLM(
        t.Olmo2Config(**SMALL, hidden_size=32, intermediate_size=64, num_key_value_heads=2)
    ),
    "phi3": lambda t: t.Phi3ForCausalLM(
        t.Phi3Config(
            **SMALL, hidden_size=32, intermediate_size=64, num_key_value_heads=2, pad_token_id=0
        )
    ),
    "olmo": lambda t: t.OlmoForCausalLM(  # LayerNorms without parameters: no keys show them
        t.OlmoConfig(**SMALL, hidden_size=32, intermediate_size=64)
    ),
    # Sandwich norms, soft-capped scores and logits, query_pre_attn_scalar; a context no longer
    # than the window of its sliding layers (a longer one is flagged: not computed per layer).
    "gemma2": lambda t: t.Gemma2ForCausalLM(
        t.Gemma2Config(
            **SMALL,
            hidden_size=32,
            intermediate_size=64,
            num_key_value_heads=2,
            head_dim=8,
            max_position_embeddings=64,
        )
    ),
    "gpt_bigcode": lambda t: t.GPTBigCodeForCausalLM(
        t.GPTBigCodeConfig(vocab_size=100, n_positions=64, n_embd=32, n_layer=2, n_head=4)
    ),
    "starcoder2": lambda t: t.Starcoder2ForCausalLM(
        t.Starcoder2Config(
            **SMALL,
            hidden_size=32,
            intermediate_size=64,
            num_key_value_heads=2,
            max_position_embeddings=64,
        )
    ),
    "llama_bias": lambda t: t.LlamaForCausalLM(
        t.LlamaConfig(
            **SMALL, hidden_size=32, intermediate_size=64, attention_bias=True, mlp_bias=True
        )
    ),
    "gpt_neo": lambda t: t.GPTNeoForCausalLM(  # scores not divided by sqrt(head_dim)
        t.GPTNeoConfig(
            vocab_size=100,
            max_position_embeddings=64,
            hidden_size=32,
            num_layers=2,
            num_heads=4,
            attention_types=[[["global"], 2]],
        )
    ),
    "stablelm": lambda t: t.StableLmForCausalLM(  # partial rotary, qkv bias, LayerNorm
        t.StableLmConfig(**ENCODER, num_key_value_heads=2, use_qkv_bias=True)
    ),
    "falcon": lambda t: t.FalconForCausalLM(  # one fused multi-query projection, parallel
        t.FalconConfig(**SMALL, hidden_size=32)
    ),
    "falcon_sequential": lambda t: t.FalconForCausalLM(  # one key/value head per query head
        t.FalconConfig(**SMALL, hidden_size=32, multi_query=False, parallel_attn=False, bias=True)
    ),
    "bert": lambda t: t.BertModel(t.BertConfig(**ENCODER, hidden_act="gelu_new")),
    "albert": lambda t: t.AlbertModel(t.AlbertConfig(**ENCODER, embedding_size=16)),
    "albert_two_groups": lambda t: t.AlbertModel(
        t.AlbertConfig(
            **{**ENCODER, "num_hidden_layers": 4}, embedding_size=16, num_hidden_groups=2
        )
    ),
    "roberta": lambda t: t.RobertaModel(t.RobertaConfig(**{**ENCODER, "pad_token_id": 1})),
    "electra": lambda t: t.ElectraModel(t.ElectraConfig(**ENCODER, embedding_size=16)),
    "distilbert": lambda t: t.DistilBertModel(
        t.DistilBertConfig(
            vocab_size=100, dim=32, n_layers=2, n_heads=4, hidden_dim=64, max_position_embeddings=64
        )
    ),
    "clip_text": lambda t: t.CLIPTextModel(
        t.CLIPTextConfig(**ENCODER, hidden_act="quick_gelu")  # causal, final_layer_norm
    ),
    "clip_vision": lambda t: t.CLIPVisionModel(
        t.CLIPVisionConfig(  # class vector, bias-free patches, pre_layrnorm (sic)
            **IMAGE,
        )
    ),
    "vit": lambda t: t.ViTModel(
        t.ViTConfig(
            **IMAGE,
        )
    ),
    "deit": lambda t: t.DeiTModel(t.DeiTConfig(**IMAGE)),  # class and distillation tokens
    "dinov2": lambda t: t.Dinov2Model(  # LayerScale on each branch; a mask token left unused
        t.Dinov2Config(
            **{k: v for k, v in IMAGE.items() if k != "intermediate_size"},
            mlp_ratio=2,
            layerscale_value=0.3,
        )
    ),
}
UNUSED_NOTE = "which this file does not use and which may change the forward"
TEXT_ENCODERS = (
    "bert",
    "roberta",
    "electra",
    "distilbert",
    "albert",
    "albert_two_groups",
    "clip_text",
)
VISION = ("vit", "clip_vision", "deit", "dinov2")


def inputs(name: str, model) -> tuple[tuple, dict]:
    """What a user passes: (positional for the generated model, keywords for the library's)."""
    torch.manual_seed(1)
    if name in VISION:
        pixels = torch.randn(2, 3, 32, 32)
        return (pixels,), {"pixel_values": pixels}
    ids = torch.randint(2, 100, (2, 11))
    if name not in TEXT_ENCODERS:
        return (ids,), {"input_ids": ids}
    mask = torch.ones(2, 11, dtype=torch.long)
    mask[1, 7:] = 0  # the second sequence is padded
    ids[1, 7:] = model.config.pad_token_id or 0
    ours, theirs = (ids, mask), {"input_ids": ids, "attention_mask": mask}
    if getattr(model.config, "type_vocab_size", 0) > 1:
        types = (torch.arange(11) >= 5).long().expand(2, -1)
        ours, theirs = ours + (types,), {**theirs, "token_type_ids": types}
    return ours, theirs


def build(name: str):
    return build_from(FAMILIES[name])


def build_from(make):
    torch.manual_seed(0)
    model = make(transformers).eval()
    with torch.no_grad():  # biases start at zero, norms at one: move them so a wrong use shows
        for n, p in model.named_parameters():
            if n.endswith("bias"):
                p.normal_(0, 0.1)
            elif "norm" in n.lower() and p.dim() == 1:
                p.normal_(1, 0.2)
    return model


def generate(tmp_path, model):
    folder = tmp_path / "hf"
    model.save_pretrained(folder)
    out = tmp_path / "model.py"
    assert main(["generate", str(folder), "-o", str(out)]) == 0
    module = load_module(out)
    return folder, out, module


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_family_is_exact_from_the_folder(tmp_path, name):
    model = build(name)
    folder, out, module = generate(tmp_path, model)
    source = out.read_text()
    assert "NotImplementedError" not in source
    assert "config.json" in source  # the values taken from the config are cited
    # Every config.json value that may change the forward was used (or the file says which not).
    assert UNUSED_NOTE not in " ".join(source.split())
    ours = module.RecoveredModel().eval()
    ours.load_state_dict(load_file(folder / "model.safetensors"), strict=True)
    args, kwargs = inputs(name, model)
    with torch.no_grad():
        theirs = model(**kwargs)
        want = theirs.logits if hasattr(theirs, "logits") else theirs.last_hidden_state
        torch.testing.assert_close(ours(*args), want, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(torch.jit.script(ours)(*args), want, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("name", ["gpt2", "llama", "bloom", "opt", "gpt_neox", "gemma"])
def test_decoder_takes_a_padding_mask(tmp_path, name):
    """`attention_mask` (1 attend, 0 padding) combines with the causal mask: the real tokens of a
    right-padded batch get the library's logits; without it every token is attended."""
    model = build(name)
    folder, out, module = generate(tmp_path, model)
    ours = module.RecoveredModel().eval()
    ours.load_state_dict(load_file(folder / "model.safetensors"), strict=True)
    torch.manual_seed(1)
    ids = torch.randint(2, 100, (2, 11))
    mask = torch.ones(2, 11, dtype=torch.long)
    mask[1, 7:] = 0
    with torch.no_grad():
        want = model(input_ids=ids, attention_mask=mask).logits
        scripted = torch.jit.script(ours)
        for got in (ours(ids, mask), scripted(ids, mask)):
            torch.testing.assert_close(got[mask.bool()], want[mask.bool()], atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(ours(ids), model(input_ids=ids).logits, atol=1e-5, rtol=1e-5)


HEADS = {  # *For...Classification: the generated file returns the head's logits
    "bert_sequence": lambda t: t.BertForSequenceClassification(
        t.BertConfig(**ENCODER, num_labels=3)  # pooler, then classifier
    ),
    "bert_tokens": lambda t: t.BertForTokenClassification(t.BertConfig(**ENCODER, num_labels=5)),
    "roberta_sequence": lambda t: t.RobertaForSequenceClassification(
        t.RobertaConfig(**ENCODER, num_labels=3, pad_token_id=1)  # dense + tanh + out_proj
    ),
    "electra_sequence": lambda t: t.ElectraForSequenceClassification(
        t.ElectraConfig(**ENCODER, embedding_size=16, num_labels=3)  # the same head with GELU
    ),
    "distilbert_sequence": lambda t: t.DistilBertForSequenceClassification(
        t.DistilBertConfig(
            vocab_size=100, dim=32, n_layers=2, n_heads=4, hidden_dim=64, num_labels=3
        )  # pre_classifier + ReLU
    ),
    "albert_sequence": lambda t: t.AlbertForSequenceClassification(
        t.AlbertConfig(**ENCODER, embedding_size=16, num_labels=3)  # bare pooler Linear + tanh
    ),
    "gpt2_sequence": lambda t: t.GPT2ForSequenceClassification(
        t.GPT2Config(
            vocab_size=100,
            n_positions=64,
            n_embd=32,
            n_layer=2,
            n_head=4,
            num_labels=3,
            pad_token_id=0,
        )  # the last token that is not padding
    ),
    "llama_sequence": lambda t: t.LlamaForSequenceClassification(
        t.LlamaConfig(
            **SMALL,
            hidden_size=32,
            intermediate_size=64,
            num_key_value_heads=2,
            num_labels=3,
            pad_token_id=0,
        )
    ),
    "vit_image": lambda t: t.ViTForImageClassification(
        t.ViTConfig(
            **IMAGE,
            num_labels=4,
        )  # the class token after the final norm
    ),
}


@pytest.mark.parametrize("name", sorted(HEADS))
def test_classification_head_gives_the_library_logits(tmp_path, name):
    torch.manual_seed(0)
    model = HEADS[name](transformers).eval()
    with torch.no_grad():
        for n, p in model.named_parameters():
            if n.endswith("bias"):
                p.normal_(0, 0.1)
    folder, out, module = generate(tmp_path, model)
    assert "NotImplementedError" not in out.read_text()
    ours = module.RecoveredModel().eval()
    ours.load_state_dict(load_file(folder / "model.safetensors"), strict=True)
    torch.manual_seed(1)
    if name == "vit_image":
        pixels = torch.randn(2, 3, 32, 32)
        args, kwargs = (pixels,), {"pixel_values": pixels}
    else:
        ids = torch.randint(2, 100, (2, 11))
        mask = torch.ones(2, 11, dtype=torch.long)
        mask[1, 7:] = 0
        ids[1, 7:] = model.config.pad_token_id or 0  # right padding, as the library expects
        args, kwargs = (ids, mask), {"input_ids": ids, "attention_mask": mask}
    with torch.no_grad():
        want = model(**kwargs).logits
        for got in (ours(*args), torch.jit.script(ours)(*args)):
            torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)


def test_gpt2_conv1d_keeps_its_layout(tmp_path):
    """GPT-2's Conv1D stores weights [in, out]: never an nn.Linear, even where square."""
    _, out, _ = generate(tmp_path, build("gpt2"))
    source = out.read_text()
    assert "nn.Linear" not in source
    assert "x @ self.weight" in source and "weight is [in, out]" in source


def test_finetune_lm_head_on_generated_gpt2(capsys, tmp_path):
    torch.manual_seed(0)
    folder, out, _ = generate(tmp_path, FAMILIES["gpt2_untied"](transformers))
    capsys.readouterr()  # generate's own output
    ids = torch.randint(0, 100, (96, 8))
    torch.save({"input_ids": ids, "labels": ids}, tmp_path / "data.pt")
    code, summary, err = run_json(
        capsys,
        "finetune",
        folder,
        f"{out}:RecoveredModel",
        "--data",
        tmp_path / "data.pt",
        "--inputs",
        "input_ids",
        "--target",
        "labels",
        "--loss",
        "cross_entropy",
        "--train",
        "lm_head",
        "--epochs",
        "4",
        "--lr",
        "0.03",
        "--val-fraction",
        "0.25",
    )
    assert code == 0, err
    assert summary["final"] < summary["baseline"]


def test_bert_pooler_and_intermediate_are_different_classes(tmp_path):
    """BERT's pooler and intermediate hold the same keys (`dense`) but compute different things:
    each gets its own class, and the pooler reproduces the library's pooled output."""
    model = build("bert")
    folder, out, module = generate(tmp_path, model)
    source = out.read_text()
    assert "class Pooler(" in source and "class Intermediate(" in source
    ours = module.RecoveredModel().eval()
    ours.load_state_dict(load_file(folder / "model.safetensors"), strict=True)
    args, kwargs = inputs("bert", model)
    with torch.no_grad():
        want = model(**kwargs).pooler_output
        torch.testing.assert_close(ours.pooler(ours(*args)), want, atol=1e-5, rtol=1e-5)


NOT_YET = {}  # family -> what the generated file must name as missing
GAPS: dict[str, str] = {}  # every family above is exact now (ALBERT, BLOOM, T5's encoder)


@pytest.mark.parametrize("name", sorted(NOT_YET))
def test_family_not_yet_supported_says_where(tmp_path, name):
    """Never a silent wrong forward: the file raises NotImplementedError naming the missing block."""
    torch.manual_seed(0)
    model = NOT_YET[name](transformers).eval()
    folder, out, module = generate(tmp_path, model)
    assert GAPS[name] in out.read_text()
    ours = module.RecoveredModel().eval()
    ours.load_state_dict(load_file(folder / "model.safetensors"), strict=True)
    with pytest.raises(NotImplementedError):  # the top says which class, that class says what
        ours(torch.randint(0, 100, (2, 5)))


def test_a_config_value_no_pattern_uses_makes_the_file_guessed(tmp_path):
    """A forward-changing config.json key the file ignores (here Cohere's logit_scale, which LLaMA
    does not have) must not leave a file that claims to be inferred: the top class is 'guessed', naming it.
    Keys without effect on the forward (ids, dropout, sizes the shapes show) are not reported."""
    torch.manual_seed(0)
    config = transformers.LlamaConfig(
        **SMALL, hidden_size=32, intermediate_size=64, attention_dropout=0.1, bos_token_id=7
    )
    config.logit_scale = 0.0625
    _, out, _ = generate(tmp_path, transformers.LlamaForCausalLM(config).eval())
    source = " ".join(out.read_text().split())
    top = source[source.index("class RecoveredModel(") :].split('"""')[1]
    assert f"Forward trust: guessed: config.json sets logit_scale, {UNUSED_NOTE}" in top
    # Only it: not attention_dropout, bos_token_id, vocab_size and the like.
    assert source.count("config.json sets") == 1


def test_neutral_config_values_are_not_reported(tmp_path):
    """Granite with every multiplier at 1 except attention's: nothing unused, nothing flagged."""
    config = transformers.GraniteConfig(
        **SMALL, hidden_size=32, intermediate_size=64, attention_multiplier=0.125
    )
    _, out, _ = generate(tmp_path, transformers.GraniteForCausalLM(config).eval())
    assert UNUSED_NOTE not in " ".join(out.read_text().split())


def test_layers_of_an_attention_kind_not_known_are_flagged(tmp_path):
    """Qwen2 whose layer_types name a kind the catalogue does not know beside full attention:
    the window is left unused and named (the file is 'guessed', never silently wrong). Windowed
    beside full layers is exact: tests/test_transformers_decoders_more.py."""
    config = transformers.Qwen2Config(
        **SMALL,
        hidden_size=32,
        intermediate_size=64,
        num_key_value_heads=2,
        use_sliding_window=True,
        sliding_window=4,
        max_window_layers=1,
    )
    config.layer_types = ["full_attention", "chunked_attention"]
    _, out, _ = generate(tmp_path, transformers.Qwen2ForCausalLM(config).eval())
    source = " ".join(out.read_text().split())
    assert UNUSED_NOTE in source and "sliding_window" in source.split("config.json sets")[1]
