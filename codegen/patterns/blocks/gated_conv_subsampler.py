"""A gated conv subsampler (Speech2Text's `Conv1dSubsampler`, fairseq's speech front end): frames
[batch, frames, features] turned channels-first, then each 1-D conv of a list followed by a GLU
over the channels (half of them gate the other half), then frames-first again.

The GLU is what the widths show: each conv gives twice the channels the next one reads, the last
twice the width it hands on. Strides and padding are the convs' own (config-fixed where the
family's code fixes them: analyze/strides.py FIXED_SUBSAMPLERS)."""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns._kit import Accepts, BlockContext, BlockPattern, Match, modules, tensors


def _convs(m) -> list | None:
    """The list's Conv1d items, in order, or None when it holds anything else."""
    if m.kind not in ("modulelist", "sequential") or not m.children:
        return None
    if any(c.type_name != "nn.Conv1d" or c.io is None for c in m.children):
        return None
    return list(m.children)


class GatedConvSubsampler(BlockPattern):
    role = "ConvSubsampler"
    priority = 5

    accepts = Accepts(1, 1, tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls) or len(members) != 1:
            return None
        convs = _convs(members[0])
        if convs is None:
            return None
        widths = [(c.io.in_width, c.io.out_width) for c in convs]
        if any(w is None for pair in widths for w in pair):
            return None
        halved = all(out == 2 * nxt for (_, out), (nxt, _) in zip(widths, widths[1:]))
        if not halved or widths[-1][1] % 2:
            return None
        found = (members[0].attr, [c.attr for c in convs], widths[-1][1] // 2)
        return Match(self, 1, found)

    def forward(self, match: Match, g: Graph) -> None:
        holder, items, _ = match.found
        x = g.input("input_features")  # [batch, frames, features]
        x = g.call_method("transpose", x, 1, 2, comment="[batch, features, frames]")
        for item in items:
            y = g.call_module((holder, item), x, inline=True)
            x = g.call_function("glu", y, kwargs={"dim": 1}, comment="half the channels gate")
        g.output(g.call_method("transpose", x, 1, 2), comment="[batch, frames / 2 ** convs, d]")

    @staticmethod
    def examples():
        import torch
        import transformers
        from transformers.models.speech_to_text import modeling_speech_to_text as s2t

        from codegen.patterns._kit import Example

        config = transformers.Speech2TextConfig(
            d_model=16,
            num_conv_layers=2,
            conv_kernel_sizes=(5, 3),
            conv_channels=12,
            input_feat_per_channel=10,
            input_channels=1,
        )
        torch.manual_seed(0)
        metadata = {"model_type": "speech_to_text", "conv_kernel_sizes": [5, 3]}
        return [Example(s2t.Conv1dSubsampler(config), (torch.randn(2, 20, 10),), metadata)]
