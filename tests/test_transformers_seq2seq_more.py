"""More encoder-decoder and audio families from the `transformers` library, built from tiny configs
in code: the full T5 (T5Model, T5ForConditionalGeneration with its tied head, v1.1's gated-gelu
MLP), mT5, UMT5 (every layer its own relative bias table), Pegasus, mBART's LM. The file generated
from the Hugging Face folder (config.json + model.safetensors) strict-loads, computes the library's
own output to 1e-5 (Marian's LM: sinusoidal positions its folder does not hold), scripts with TorchScript, and uses every config.json value that may change the
forward. Same harness as tests/test_transformers_seq2seq.py."""

from __future__ import annotations

import logging

import pytest
import torch

transformers = pytest.importorskip("transformers")
from safetensors.torch import load_file  # noqa: E402

from codegen.cli.main import main  # noqa: E402
from tests.test_transformers_families import UNUSED_NOTE, build_from, generate  # noqa: E402
from tests.test_transformers_seq2seq import BART, T5  # noqa: E402
from tests.generated_module import load_module  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")
logging.getLogger("transformers").setLevel(logging.ERROR)

T5_V11 = dict(T5, feed_forward_proj="gated-gelu", tie_word_embeddings=False)  # unscaled head
FAMILIES = {
    "t5": lambda t: t.T5Model(t.T5Config(**T5)),
    "t5_lm": lambda t: t.T5ForConditionalGeneration(t.T5Config(**T5, decoder_start_token_id=0)),
    "t5_v1_1_lm": lambda t: t.T5ForConditionalGeneration(  # heads * d_kv != d_model
        t.T5Config(
            **{**T5_V11, "d_kv": 4}, num_decoder_layers=3, relative_attention_max_distance=20
        )
    ),
    "mt5_lm": lambda t: t.MT5ForConditionalGeneration(t.MT5Config(**T5_V11)),
    "umt5_encoder": lambda t: t.UMT5EncoderModel(t.UMT5Config(**T5)),
    "umt5": lambda t: t.UMT5Model(t.UMT5Config(**T5)),
    "umt5_lm": lambda t: t.UMT5ForConditionalGeneration(t.UMT5Config(**T5_V11)),
    "pegasus": lambda t: t.PegasusModel(t.PegasusConfig(**BART)),
    "mbart_lm": lambda t: t.MBartForConditionalGeneration(t.MBartConfig(**BART)),
    "plbart": lambda t: t.PLBartModel(t.PLBartConfig(**BART)),  # post-norm, scaled embeddings
    # post-norm; the decoder norms its token embeddings before adding the positions
    "blenderbot_small": lambda t: t.BlenderbotSmallModel(t.BlenderbotSmallConfig(**BART)),
    "blenderbot": lambda t: t.BlenderbotModel(t.BlenderbotConfig(**BART)),
    # MarianMTModel saves no position tables: its sinusoidal ones are computed
    "marian_lm": lambda t: t.MarianMTModel(
        t.MarianConfig(
            **BART, pad_token_id=1, eos_token_id=2, decoder_start_token_id=3, scale_embedding=True
        )
    ),
}


def inputs(name: str) -> tuple[tuple, dict]:
    """What a user passes: (positional for the generated model, keywords for the library's)."""
    torch.manual_seed(1)
    ids = torch.randint(3, 100, (2, 11))
    mask = torch.ones(2, 11, dtype=torch.long)
    mask[1, 7:] = 0  # the second sequence is padded
    if name.endswith("encoder"):
        return (ids, mask), {"input_ids": ids, "attention_mask": mask}
    target = torch.randint(3, 100, (2, 6))
    return (ids, mask, target), {
        "input_ids": ids,
        "attention_mask": mask,
        "decoder_input_ids": target,
    }


def generated(tmp_path, name: str):
    model = build_from(FAMILIES[name])
    if hasattr(model, "final_logits_bias"):  # a buffer of zeros: move it so a wrong use shows
        model.final_logits_bias.normal_()
    folder, out, module = generate(tmp_path, model)
    ours = module.RecoveredModel().eval()
    ours.load_state_dict(load_file(folder / "model.safetensors"), strict=True)
    return model, out.read_text(), ours


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_family_is_exact_from_the_folder(tmp_path, name):
    model, source, ours = generated(tmp_path, name)
    assert "NotImplementedError" not in source
    assert "config.json" in source  # the values taken from the config are cited
    assert UNUSED_NOTE not in " ".join(source.split())
    args, kwargs = inputs(name)
    with torch.no_grad():
        theirs = model(**kwargs)
        want = theirs.logits if hasattr(theirs, "logits") else theirs.last_hidden_state
        torch.testing.assert_close(ours(*args), want, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(torch.jit.script(ours)(*args), want, atol=1e-5, rtol=1e-5)


def test_t5_lm_scales_its_tied_head_and_v1_1_does_not(tmp_path):
    """T5 multiplies the decoder's output by d_model ** -0.5 before the head it shares with the
    token table; v1.1 (config.json scale_decoder_outputs false) does not: both cited."""
    _, tied, _ = generated(tmp_path / "tied", "t5_lm")
    _, v11, _ = generated(tmp_path / "v11", "t5_v1_1_lm")
    assert "math.sqrt(32)" in tied and "scale_decoder_outputs" in tied
    assert "math.sqrt(32)" not in v11 and "scale_decoder_outputs" in v11
    assert "F.linear(" in tied and "self.shared.weight" in tied  # stored once, used twice


def test_t5_shifts_the_input_ids_when_no_decoder_ids_are_given(tmp_path):
    """T5's default decoder input: the input ids shifted right behind its start (padding) token."""
    model, _, ours = generated(tmp_path, "t5_lm")
    (ids, mask, _), _ = inputs("t5_lm")
    with torch.no_grad():
        want = model(input_ids=ids, attention_mask=mask, decoder_input_ids=model._shift_right(ids))
        torch.testing.assert_close(ours(ids, mask), want.logits, atol=1e-5, rtol=1e-5)


def test_umt5_layers_each_add_their_own_table(tmp_path):
    """UMT5: every layer's bias comes from its own table, in the encoder and the decoder."""
    model, source, ours = generated(tmp_path, "umt5")
    assert "layer 1's own table" in source
    with torch.no_grad():  # swapping two layers' tables changes the output: each is read
        table = ours.encoder.block[1].layer[0].SelfAttention.relative_attention_bias.weight
        (ids, mask, target), _ = inputs("umt5")
        before = ours(ids, mask, target)
        table.mul_(3.0)
        assert not torch.allclose(ours(ids, mask, target), before)


def test_t5_checkpoint_with_an_unused_cross_attention_table(tmp_path):
    """Older T5 checkpoints (t5-small's) also hold a bias table in the first decoder layer's
    cross-attention, which the library ignores: it strict-loads, and the output stays exact."""
    from safetensors.torch import save_file

    model = build_from(FAMILIES["t5_lm"])
    folder = tmp_path / "hf"
    model.save_pretrained(folder)
    state = load_file(folder / "model.safetensors")
    heads = model.config.num_heads
    key = "decoder.block.0.layer.1.EncDecAttention.relative_attention_bias.weight"
    state[key] = torch.randn(model.config.relative_attention_num_buckets, heads)
    save_file(state, folder / "model.safetensors", metadata={"format": "pt"})
    out = tmp_path / "model.py"
    assert main(["generate", str(folder), "-o", str(out)]) == 0
    module = load_module(out)
    ours = module.RecoveredModel().eval()
    ours.load_state_dict(state, strict=True)
    (ids, mask, target), kwargs = inputs("t5_lm")
    with torch.no_grad():
        want = model(**kwargs).logits
        torch.testing.assert_close(ours(ids, mask, target), want, atol=1e-5, rtol=1e-5)


# family -> what the generated file must name as missing (M2M100's padded positions are computed
# now: tests/test_seq2seq_10.py)
NOT_YET: dict = {}


@pytest.mark.parametrize("name", sorted(NOT_YET))
def test_family_not_yet_supported_says_where(tmp_path, name):
    """Never a silent wrong forward: fairseq's padding-aware positions are named as missing."""
    model = build_from(NOT_YET[name])
    folder, out, module = generate(tmp_path, model)
    assert "non-padding tokens" in out.read_text()
    ours = module.RecoveredModel().eval()
    ours.load_state_dict(load_file(folder / "model.safetensors"), strict=True)
    with pytest.raises(NotImplementedError):
        ours.encoder(torch.randint(3, 100, (2, 5)))
