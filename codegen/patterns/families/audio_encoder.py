"""An audio encoder with no decoder: Whisper's encoder on its own, as the audio towers of speech
LMs reuse it (Qwen2-Audio's, Voxtral's, GLM-ASR's). Two Conv1d + GELU named `conv1`, `conv2` over
[batch, n_mels, frames], a learned position table or, with none stored, layers whose attention
rotates queries and keys, the layers, a final norm. Seq2SeqEncoder's audio stack
(families/seq2seq.py), read where nothing says the model is an encoder-decoder.

What no key records, the structure shows (pins, where the parts left it at defaults): the front
end keeps the frames in conv1 and halves them in conv2, each 3 wide and padded by 1 (Whisper's;
the library checks the input is positions * 2 frames long); and its layers attend both ways (the
frames of one recording, no decoder to mask for), pre-norm where a final norm follows them.

A choice of its own, `final_pool`: Qwen2-Audio averages frame pairs before the final norm (an
AvgPool1d, which holds no tensors; Voxtral holds one and never calls it), settled by config.json's
model_type for the families whose code was read.
"""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns._kit import Accepts, BlockContext, Match, modules, stack as layers_of
from codegen.patterns.blocks._conv_parts import conv_kernel
from codegen.patterns.blocks.cross_attention import seq2seq
from codegen.patterns.families.seq2seq import Seq2SeqEncoder

WHY = "a Whisper-style audio front end: conv1 keeps the frames, conv2 halves them"
PRE_NORM = "a norm after the last layer: each layer norms its own inputs (Whisper's)"
BOTH_WAYS = "an audio encoder with no decoder: every frame attends to every other"
# model_type -> whether the code pools frame pairs before the final norm (transformers 5.24)
POOLED_TYPES = {
    "qwen2_audio_encoder": True,
    "qwen2_audio": True,
    "voxtral_encoder": False,  # its avg_pooler is built and never called
    "voxtral": False,
    "glmasr_encoder": False,
    "glmasr": False,
}
POOLS = ("none", "avg_pool_2")
OPEN = ("default", "structure")  # a part's choice a pin may settle (this pattern's own, or none)


def _attentions(ctx: BlockContext, layer) -> list:
    """The generated classes of the attentions inside the layers' class."""
    cls = ctx.classes.get(layer.type_name) if layer.kind == "class" else None
    if cls is None:
        return []
    return [
        ctx.classes[m.type_name]
        for m in modules(cls)
        if m.kind == "class" and ctx.role(m) == "Attention" and m.type_name in ctx.classes
    ]


def _choice(cls, name: str):
    return next((c for c in cls.forward.choices if c.name == name), None)


def _conv_choice(conv, keyword: str):
    """A conv's constructor choice `keyword` (its stride, its padding), None where none is."""
    found = next((a.choice for a in conv.args if a.keyword == keyword and a.choice), None)
    return found or next((c for c in conv.choices if c.name == keyword), None)


class AudioEncoder(Seq2SeqEncoder):
    role = "AudioEncoder"
    accepts = Accepts(tensors=False, names=("conv1", "conv2"))

    def match(self, cls, ctx: BlockContext) -> Match | None:
        if seq2seq(ctx):  # Seq2SeqEncoder's: a decoder reads it
            return None
        members = {m.attr: m for m in modules(cls)}
        convs = [members.get(a) for a in ("conv1", "conv2")]
        if any(c is None or c.io is None or c.io.ndim != 1 for c in convs):
            return None  # over frames, not an image
        if any(conv_kernel(c) not in (3, (3,)) for c in convs):
            return None  # Whisper's 3-wide convs
        layer = next((layers_of(m)[0] for m in members.values() if layers_of(m)), None)
        attentions = _attentions(ctx, layer) if layer is not None else []
        rotary = [_choice(a, "rotary") for a in attentions]
        rotated = bool(attentions) and all(r is not None and r.value is True for r in rotary)
        found = self.read(cls, ctx, rotated)
        if found is None or not found.found[5]:  # an audio front end only
            return None
        pins = []
        for attr in found.found[5]:
            conv = members[attr]
            for keyword, value in (("stride", 2 if attr == "conv2" else 1), ("padding", 1)):
                choice = _conv_choice(conv, keyword)
                if choice is not None and choice.source in OPEN:  # no config or model type's
                    pins.append((choice.path, keyword, value, WHY))
        block = ctx.classes.get(layer.type_name) if layer.kind == "class" else None
        residual = _choice(block, "residual") if block is not None and found.found[4] else None
        if residual is not None and residual.source in OPEN:
            pins.append((residual.path, "residual", "pre", PRE_NORM))
        for attention in attentions:
            causal = _choice(attention, "causal")
            if causal is not None and causal.source in OPEN:  # no model type said otherwise
                pins.append((causal.path, "causal", False, BOTH_WAYS))
        model_type = ctx.resolver.evidence("model_type")
        known = POOLED_TYPES.get(model_type[1]) if model_type else None
        pool = ctx.choose(
            cls,
            found.found[4] or found.found[3],
            "final_pool",
            POOLS[bool(known)],
            [POOLS[not known]],
            "an average over frame pairs before the final norm (no tensors)",
        )
        if known is not None and pool.source == "default":
            pool.source, pool.note = "metadata", f"{model_type[0]} {model_type[1]!r}"
        return Match(
            self,
            found.explains,
            found.found + (pool.value == "avg_pool_2",),
            found.choices + [pool],
            pins=[p for p in pins if p is not None],
        )

    def forward(self, match: Match, g: Graph) -> None:
        x, _ = self.embed(match, g, "input_features")
        final, stack, pooled = match.found[4], match.found[3], match.found[-1]
        x = g.call_module((stack,), x, each=True)  # every frame is real: no mask
        if pooled:
            x = g.call_method("transpose", x, 1, 2, inline=True)
            x = g.call_function("avg_pool1d", x, 2, 2, inline=True)
            x = g.call_method("transpose", x, 1, 2, comment="[batch, frames / 4, d_model]")
        g.output(g.call_module((final,), x) if final else x, comment="[batch, seq, d_model]")

    @staticmethod
    def examples():
        from codegen.patterns.families._audio_encoder_examples import example

        return [example("qwen2_audio"), example("glmasr")]
