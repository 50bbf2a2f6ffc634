"""Speech encoders over raw audio from the `transformers` library (wav2vec2 in both layouts, HuBERT,
Data2VecAudio, UniSpeech, a CTC head...), built from tiny configs in code: the file generated from
the Hugging Face folder (config.json + model.safetensors) strict-loads, computes the library's
output to 1e-5 and scripts with TorchScript. The conv feature encoder's strides, padding and norms
come from config.json, the positional conv is weight-normed (parametrizations' original0/1)."""

from __future__ import annotations

import logging

import pytest
import torch

transformers = pytest.importorskip("transformers")
from safetensors.torch import load_file  # noqa: E402

from tests.test_transformers_families import UNUSED_NOTE, build_from, generate  # noqa: E402
from tests.tiny_configs import AUDIO  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")
logging.getLogger("transformers").setLevel(logging.ERROR)

# Other sizes than AUDIO's: widening convs with a bias, an odd positional kernel, relu features.
WIDER = dict(
    AUDIO,
    conv_dim=(8, 12, 24, 24),
    conv_stride=(4, 3, 2, 1),
    conv_kernel=(8, 5, 3, 2),
    conv_bias=True,
    num_conv_pos_embeddings=7,
    num_conv_pos_embedding_groups=2,
    feat_extract_activation="relu",
    hidden_act="gelu_new",
    layer_norm_eps=1e-3,  # the encoder's norms read it, the feature encoder's keep 1e-5
)
STABLE = dict(do_stable_layer_norm=True, feat_extract_norm="layer")
FAMILIES = {
    "wav2vec2": lambda t: t.Wav2Vec2Model(t.Wav2Vec2Config(**AUDIO)),
    "wav2vec2_stable": lambda t: t.Wav2Vec2Model(t.Wav2Vec2Config(**AUDIO, **STABLE)),
    "wav2vec2_wider_stable": lambda t: t.Wav2Vec2Model(t.Wav2Vec2Config(**WIDER, **STABLE)),
    "wav2vec2_ctc": lambda t: t.Wav2Vec2ForCTC(t.Wav2Vec2Config(**WIDER)),
    "hubert": lambda t: t.HubertModel(t.HubertConfig(**AUDIO)),
    "hubert_stable": lambda t: t.HubertModel(t.HubertConfig(**WIDER, **STABLE)),
    "data2vec_audio": lambda t: t.Data2VecAudioModel(
        t.Data2VecAudioConfig(**{**AUDIO, "num_conv_pos_embeddings": 5, "layer_norm_eps": 1e-3})
    ),
    "unispeech": lambda t: t.UniSpeechModel(t.UniSpeechConfig(**AUDIO)),
}


def run_both(tmp_path, name):
    model = build_from(FAMILIES[name])
    folder, out, module = generate(tmp_path, model)
    ours = module.RecoveredModel().eval()
    ours.load_state_dict(load_file(folder / "model.safetensors"), strict=True)
    torch.manual_seed(1)
    audio = torch.randn(2, 400)
    with torch.no_grad():
        theirs = model(input_values=audio)
        want = theirs.logits if hasattr(theirs, "logits") else theirs.last_hidden_state
    return out.read_text(), ours, audio, want


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_speech_encoder_is_exact_from_the_folder(tmp_path, name):
    source, ours, audio, want = run_both(tmp_path, name)
    assert "NotImplementedError" not in source
    assert "config.json" in source
    assert UNUSED_NOTE not in " ".join(source.split())
    with torch.no_grad():
        torch.testing.assert_close(ours(audio), want, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(torch.jit.script(ours)(audio), want, atol=1e-5, rtol=1e-5)


def test_the_feature_encoder_cites_its_config(tmp_path):
    """Strides, the absent padding and the per-channel group norm are evidence, not defaults."""
    source = run_both(tmp_path, "wav2vec2")[0]
    flat = " ".join(source.split())
    assert "conv_stride[0]" in flat and "feat_extract_norm 'group'" in flat
    assert "nn.GroupNorm(16, out_channels" in flat or "nn.GroupNorm(16, 16" in flat
    assert "torch.norm_except_dim" in source  # the weight norm, spelled out (it scripts)
