"""Every model type the installed `transformers` knows, from a tiny config nobody wrote by hand.

The zoo in _families.py holds configs someone chose; this sweep holds none. For each model type it
takes the library's default config, shrinks every size field it recognises (widths, depths, heads,
vocabulary, experts, image and patch sizes; recursively into text/vision sub-configs), builds the
model class a user would hold (causal LM, seq2seq LM, else the base model; a sub-model's config
gets its `...Model` class), infers what it takes from its forward's first parameter (token ids,
pixels, audio samples, spectrogram features; a multimodal model whose first inputs are token ids,
or token ids and optional images, is called with text only, and a contrastive pair that refuses
text alone with both), and measures it exactly as bench_families.py does. Where the signature
admits several layouts (features by channel or by frame, images or clips where the config counts
frames, text alone or text and images), the first the library's own forward accepts is used.

Types the zoo already lists are left out, so what remains has never been looked at: the widest
blind measure there is. `--half open|blind` splits it in two by a hash of the type name, so one half
can guide work while the other stays unseen.

Verdicts as in bench_families.py, plus "unbuilt" (the shrunk config or the model could not be built,
or its inputs are none this sweep can make): those are not counted.

Run: python benchmarks/sweep_library.py [TYPE ...] [--half open|blind] [--list] [--jobs N]
(about 110 of the 550 unlisted types build; measuring them takes 10-20 minutes on 2 idle cores,
several times that on a busy machine; each flagged result in --json names its root missing classes)
"""

from __future__ import annotations

import argparse
import hashlib
import inspect
import json
import logging
import re
import signal
import subprocess
import sys
import warnings
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import child_env  # noqa: E402

TIMEOUT_S = 400
BUILD_TIMEOUT_S = 60


class BuildTimeout(Exception):
    pass


def _build_timed_out(*_: Any) -> None:
    raise BuildTimeout(f"built for over {BUILD_TIMEOUT_S} s")


# The tiny size each recognised field takes. Names are the library's own spellings; a config that
# lacks a field keeps its default.
WIDTHS = dict.fromkeys(
    ("hidden_size", "d_model", "n_embd", "embed_dim", "dim", "word_embed_proj_dim"), 32
)
FEED_FORWARD = dict.fromkeys(
    ("intermediate_size", "ffn_dim", "d_ff", "encoder_ffn_dim", "decoder_ffn_dim", "d_inner"), 64
)
DEPTHS = dict.fromkeys(
    ("num_hidden_layers", "n_layer", "num_layers", "n_layers", "encoder_layers", "decoder_layers"),
    2,
)
HEADS = dict.fromkeys(
    (
        "num_attention_heads",
        "n_head",
        "n_heads",
        "num_heads",
        "encoder_attention_heads",
        "decoder_attention_heads",
    ),
    4,
)
OTHERS = dict(
    num_key_value_heads=2,
    head_dim=8,
    d_kv=8,
    vocab_size=100,
    max_position_embeddings=64,
    n_positions=64,
    image_size=32,
    patch_size=8,
    num_experts=4,
    num_local_experts=4,
    n_routed_experts=4,
    num_experts_per_tok=2,
    moe_intermediate_size=32,
    shared_expert_intermediate_size=32,
    kv_lora_rank=16,
    q_lora_rank=24,
    qk_nope_head_dim=8,
    qk_rope_head_dim=4,
    v_head_dim=8,
    embedding_size=32,
    rotary_dim=4,
    layer_types=None,  # rebuilt for the new depth by configs that derive it
)
SIZES = {**WIDTHS, **FEED_FORWARD, **DEPTHS, **HEADS, **OTHERS}
SPECIAL_IDS = ("pad_token_id", "bos_token_id", "eos_token_id", "decoder_start_token_id")


def shrunk(defaults: dict[str, Any]) -> dict[str, Any]:
    """The overrides that make one config tiny: recognised sizes, special ids inside the new
    vocabulary, and sub-configs (given as dicts) shrunk the same way."""
    out: dict[str, Any] = {k: v for k, v in SIZES.items() if k in defaults}
    heads = next((defaults[k] for k in HEADS if isinstance(defaults.get(k), int)), None)
    if "kv_lora_rank" in out and defaults.get("num_key_value_heads") == heads:
        # a latent-attention model expands its keys per query head: grouping them (as the shrunk
        # count would) breaks its forward
        out["num_key_value_heads"] = HEADS["num_attention_heads"]
    depth_key = next((k for k in DEPTHS if k in out), None)
    picked = defaults.get("out_indices")
    if depth_key and isinstance(picked, list) and picked and max(picked) > out[depth_key]:
        # a backbone read at stages the shrunk depth lacks: as many stages as it reads, read at
        # the last ones in the same order (a neck sized per stage keeps its count)
        out[depth_key] = max(out[depth_key], len(picked))
        out["out_indices"] = list(range(out[depth_key] - len(picked) + 1, out[depth_key] + 1))
        out["out_features"] = [f"stage{i}" for i in out["out_indices"]]
    for i, key in enumerate(SPECIAL_IDS):
        if isinstance(defaults.get(key), int) and defaults[key] >= SIZES["vocab_size"]:
            out[key] = min(i, 2)
    for key, value in defaults.items():
        if key.endswith("_config") and isinstance(value, dict):
            out[key] = {**value, **shrunk(value)}
    return out


def unlisted_types() -> list[str]:
    """Model types whose config class the zoo in _families.py never names."""
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING_NAMES

    zoo = (Path(__file__).parent / "_families.py").read_text()
    listed = set(re.findall(r"\b(\w+Config)\b", zoo))
    return sorted(t for t, config in CONFIG_MAPPING_NAMES.items() if config not in listed)


def half(model_type: str) -> str:
    """A fixed split by the name alone: the same type is always in the same half."""
    return "open" if hashlib.sha256(model_type.encode()).digest()[0] % 2 == 0 else "blind"


def build(model_type: str) -> tuple[Any, str]:
    """The tiny model and the input kind it takes; raises where either cannot be made."""
    import torch
    import transformers
    from transformers.models.auto import modeling_auto as auto

    config_class = getattr(transformers, auto.CONFIG_MAPPING_NAMES[model_type])
    defaults = config_class().to_dict()
    config = config_class(**shrunk(defaults))
    for mapping, kind in (
        (auto.MODEL_FOR_SEQ_TO_SEQ_CAUSAL_LM_MAPPING_NAMES, "seq2seq"),
        (auto.MODEL_FOR_CAUSAL_LM_MAPPING_NAMES, "decoder"),
        (auto.MODEL_MAPPING_NAMES, None),
    ):
        name = mapping.get(model_type)
        if isinstance(name, (list, tuple)):
            name = name[0]
        if name and hasattr(transformers, name):
            break
    else:  # a sub-model's config (a text or vision tower): its class by the library's naming
        name, kind = config_class.__name__.removesuffix("Config") + "Model", None
        if not hasattr(transformers, name):
            raise LookupError("no model class")
    model_class = getattr(transformers, name)
    for sub in configs_within(config):  # the forward training computes; some hybrids' caches
        sub.use_cache = False  # refuse it (a sub-config keeps its own flag)
    torch.manual_seed(0)
    model = model_class(config).eval()
    fit_rotary_sections(model)
    kinds = [kind] if kind else input_kinds(model_class, config)
    return model, kinds[0] if len(kinds) == 1 else first_accepted(model, kinds)


def configs_within(config: Any) -> list[Any]:
    """A config and every sub-config it holds (text, vision, audio towers), depth first."""
    from transformers import PretrainedConfig

    found = [config]
    for value in vars(config).values():
        if isinstance(value, PretrainedConfig):
            found += configs_within(value)
    return found


def fit_rotary_sections(model: Any) -> None:
    """Multimodal rotary embeddings split their frequencies into (time, height, width) sections
    whose sizes a config may leave to the code's default for a full-size head; rescaled here to
    the shrunk head's frequency count (and written into the config, as a real checkpoint's
    config.json records them), so the forward runs at all."""
    for module in model.modules():
        sections = getattr(module, "mrope_section", None)
        inv_freq = getattr(module, "inv_freq", None)
        if not isinstance(sections, list) or inv_freq is None or sum(sections) == inv_freq.numel():
            continue
        count, total = inv_freq.numel(), sum(sections)
        fitted = [x * count // total for x in sections]
        fitted[0] += count - sum(fitted)
        module.mrope_section = fitted
        rope = getattr(getattr(module, "config", None), "rope_parameters", None)
        if isinstance(rope, dict):
            rope["mrope_section"] = fitted


def first_accepted(model: Any, kinds: list[str]) -> str:
    """The first input kind the library's own forward accepts (the others name layouts the
    signature admits: text alone or text and images, audio features by channel or by frame)."""
    import torch
    from _families import reference_call

    params = list(inspect.signature(model.forward).parameters)
    refused = []
    for kind in kinds:
        try:
            _, theirs, read = reference_call(kind, model, params)
            with torch.no_grad():
                read(model(**theirs))
            return kind
        except Exception as e:
            refused.append(f"{kind}: {type(e).__name__}")
    raise LookupError("the library refused " + ", ".join(refused))


def input_kinds(model_class: type, config: Any) -> list[str]:
    """What a base model may take, from its forward's required and leading parameters: one kind,
    or several in the order they are tried."""
    signature = inspect.signature(model_class.forward)
    params = list(signature.parameters)[1:]
    if "input_ids" in params and "pixel_values" in params[:2]:
        # a vision-language model is called with text alone where its images are optional (a
        # chat turn with no image): its language path, which is what most of its weights are;
        # a contrastive pair (it computes a loss between the two) needs both where text alone
        # is refused
        contrastive = ["dual"] if "return_loss" in params else []
        if signature.parameters["pixel_values"].default is inspect.Parameter.empty:
            if not contrastive:
                raise LookupError("takes text and images")
            return contrastive
        return ["encoder", *contrastive]
    if params and params[0] == "input_ids":
        return ["seq2seq" if "decoder_input_ids" in params else "encoder"]
    if params and params[0] == "pixel_values":
        # clips of frames where the config counts frames per input
        clips = isinstance(getattr(config, "num_frames", None), int)
        return ["vision", "video"] if clips else ["vision"]
    if params and params[0] == "input_values":
        return ["audio"]
    if params and params[0] == "input_features":  # a spectrogram, laid out either way
        return ["features_by_channel", "features_by_frame"]
    raise LookupError(f"takes {params[0] if params else 'nothing'} first")


def measure_type(model_type: str) -> dict:
    from bench_families import measure_model

    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)
    try:
        model, kind = build(model_type)
    except Exception as e:
        return {"verdict": "unbuilt", "note": f"{type(e).__name__}: {e}".splitlines()[0][:90]}
    result = measure_model(model_type, model, kind)
    if result["verdict"] == "skipped":  # the library's forward refused this sweep's inputs
        result["verdict"] = "unbuilt"
    return {**result, "kind": kind}


def measure_apart(model_type: str) -> dict:
    """measure_type in a fresh process, as a user's command runs, so no type affects another."""
    try:
        proc = subprocess.run(
            [sys.executable, __file__, "--one", model_type],
            env=child_env(),
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        return {"verdict": "crash", "note": f"ran past {TIMEOUT_S} s"}
    lines = proc.stdout.strip().splitlines()
    if proc.returncode == 0 and lines:
        return json.loads(lines[-1])
    return {"verdict": "crash", "note": (proc.stderr.strip().splitlines() or ["?"])[-1][:100]}


def report(model_type: str, result: dict, args: argparse.Namespace) -> None:
    diff = result.get("max_diff")
    figure = "" if diff is None else f" max diff {diff:.1e}"
    note = str(result.get("note", "")).splitlines()[0][:100] if result.get("note") else ""
    print(
        f"{result['verdict']:8} {model_type:28} {result.get('kind', ''):8}{figure} {note}".rstrip(),
        flush=True,
    )
    if args.json:
        with args.json.open("a") as f:
            f.write(json.dumps({"type": model_type, **result}) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("types", nargs="*", metavar="TYPE", help="default: every unlisted type")
    parser.add_argument("--half", choices=("open", "blind"), help="only this half of the types")
    parser.add_argument("--list", action="store_true", help="print the types and stop")
    parser.add_argument("--json", type=Path, help="also write every result here, one per line")
    parser.add_argument("--jobs", type=int, default=2, help="types measured at once (default 2)")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure_type(args.one)))
        return 0
    types = args.types or unlisted_types()
    if args.half:
        types = [t for t in types if half(t) == args.half]
    if args.list:
        print("\n".join(types))
        return 0
    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)
    signal.signal(signal.SIGALRM, _build_timed_out)
    counts: Counter = Counter()
    buildable = []
    for model_type in types:  # building is cheap; measuring each in its own process is not
        signal.alarm(BUILD_TIMEOUT_S)  # a few configs build for minutes even when shrunk
        try:
            build(model_type)
            buildable.append(model_type)
        except Exception as e:
            counts["unbuilt"] += 1
            report(model_type, {"verdict": "unbuilt", "note": f"{type(e).__name__}: {e}"}, args)
        finally:
            signal.alarm(0)
    with ThreadPoolExecutor(args.jobs) as pool:
        for model_type, result in zip(buildable, pool.map(measure_apart, buildable)):
            counts[result["verdict"]] += 1
            report(model_type, result, args)
    measured = sum(counts.values()) - counts["unbuilt"]
    print(
        f"\n{counts['exact']} of {measured} measured types exact; "
        + ", ".join(f"{v} {k}" for k, v in sorted(counts.items()) if k != "exact")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
