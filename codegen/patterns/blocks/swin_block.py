"""A Swin Transformer block on a channels-last map x [batch, height, width, channels]:

    h = window_partition(norm1(x))          # window x window tiles, rolled by half a window
    x = x + window_merge(attention(h, mask))  # in every second block of a stage (its `index`)
    x = x + mlp(norm2(x))

The window is the attention's relative position table's (window_attention.py); a map no larger
than one window is one window, unshifted (Swin V2's library decides that once, at config.json's
image_size: where config.json gives it, the block is told its stage and takes that map's size); odd sizes are padded to whole windows and cut back. The
shifted blocks' mask keeps apart positions the roll brought together. The feed-forward is one MLP
class (timm: `mlp.fc1`, `mlp.fc2`) or Hugging Face's `intermediate` / `output` pair.
"""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Example,
    Match,
    modules,
    one_named,
)
from codegen.patterns.blocks.encoder_layer import AFTER, BEFORE
from codegen.patterns.blocks.cosine_window_attention import cosine_window
from codegen.patterns.blocks.window_attention import table_window

WINDOW_ATTENTION = ("WindowAttention", "ProjectedWindowAttention")
FIXED_COMMENT = "its map at config.json's image_size, which fixed its window"


def config_resolutions(ctx: BlockContext) -> tuple[int, ...] | None:
    """Each stage's map height at config.json's image_size (patches, halved by each stage but
    the first), where config.json gives the image, patch and stage sizes; None otherwise. Swin
    V2's library sets each block's window and shift from these when it builds the model (the
    height's, for both sides), whatever size the images it is given later."""
    said = [ctx.resolver.evidence(k) for k in ("image_size", "patch_size", "depths")]
    if any(s is None for s in said):
        return None
    image, patch, depths = (s[1] for s in said)
    image = image[0] if isinstance(image, list) and image else image
    patch = patch[0] if isinstance(patch, list) and patch else patch
    if type(image) is not int or type(patch) is not int or patch <= 0:
        return None
    if not isinstance(depths, list) or not depths:
        return None
    grid = image // patch
    return tuple(grid // 2**i for i in range(len(depths)))


class SwinBlock(BlockPattern):
    role = "SwinBlock"
    priority = 30  # a window attention beside norms and an MLP: not a ViT layer
    accepts = Accepts(
        4, 5, tensors=False, names=(BEFORE, AFTER), families=("norm",), roles=(WINDOW_ATTENTION,)
    )

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if len(members) != len(cls.members) or len(members) not in (4, 5):
            return None
        attention = [m for m in members if ctx.role(m) in WINDOW_ATTENTION]
        if len(attention) != 1:
            return None
        before, after = one_named(members, BEFORE), one_named(members, AFTER)
        if before is None or after is None or before.io is None or after.io is None:
            return None
        if before.io.family != "norm" or after.io.family != "norm":
            return None
        mlp = [m.attr for m in members if ctx.role(m) == "MLP"]
        inter = [m.attr for m in members if ctx.role(m) == "Intermediate"]
        out = [m.attr for m in members if ctx.role(m) == "Projection"]
        if len(members) == 4 and len(mlp) == 1:
            feed_forward: tuple = (mlp[0],)
        elif len(members) == 5 and len(inter) == 1 and len(out) == 1:
            feed_forward = (inter[0], out[0])
        else:
            return None
        inner = ctx.classes.get(attention[0].type_name)
        window = table_window(inner, ctx) if inner is not None else None
        # Swin V2: no table; config.json's window, and each branch normalised before the
        # residual adds it (res-post-norm), as its cosine attention goes with.
        cosine = window is None and (window := cosine_window(inner, ctx)) is not None
        if window is None:
            return None
        place = ctx.choose(
            cls,
            before.attr,
            "norm_place",
            "post" if cosine else "pre",
            ["pre" if cosine else "post"],
            "pre: x + f(norm(x)) (Swin); post: x + norm(f(x)) (Swin V2's res-post-norm)",
        )
        if place.source == "default":
            place.source = "metadata" if cosine else place.source
            place.note = "Swin V2's cosine attention, whose blocks normalise each branch's output"
        post = place.value == "post"
        fixed = config_resolutions(ctx) if post else None
        found = (attention[0].attr, before.attr, after.attr, feed_forward, window)
        return Match(self, len(members) + 1, (*found, post, fixed), [place])

    def forward(self, match: Match, g: Graph) -> None:
        attention, before, after, feed_forward, window, post, fixed = match.found
        x = g.input("x")  # [batch, height, width, channels]
        stage = g.input("stage", "int") if fixed else None  # which stage holds the block
        index = g.input("index", "int")  # the block's place in its stage: odd ones shift
        height = g.call_method("size", x, 1, name="height")
        width = g.call_method("size", x, 2, name="width")
        rows = cols = None
        if fixed:  # Swin V2's library fixes each stage's window and shift at config.json's size
            rows = g.call_function(
                "getitem", list(fixed), stage, name="built", comment=FIXED_COMMENT
            )
            cols = rows
        # Without config.json's sizes, the window and shift of the map it is given (Swin V1's)
        said = None if fixed or not post else "Swin V2 fixes it at config.json's image_size"
        rows, cols = (height, width) if rows is None else (rows, cols)
        size = g.call_function("window_for", rows, cols, window, name="window", comment=said)
        shift = g.call_function("window_shift", rows, cols, window, index, name="shift")
        h = x if post else g.call_module((before,), x, name="h")
        mask = g.call_function("shifted_window_mask", h, size, shift, name="mask")
        h = g.call_function(
            "window_partition",
            h,
            size,
            shift,
            name="h",
            comment="[batch * windows, window * window, channels]",
        )
        h = g.call_module((attention,), h, mask, name="h")
        h = g.call_function("window_merge", h, size, shift, height, width, inline=True)
        if post:
            h = g.call_module((before,), h, inline=True)
        x = g.call_function("add", x, h)
        y = x if post else g.call_module((after,), x, inline=True)
        for attr in feed_forward:
            y = g.call_module((attr,), y, inline=True)
        if post:
            y = g.call_module((after,), y, inline=True)
        g.output(g.call_function("add", x, y))

    @staticmethod
    def examples():
        import torch

        from codegen.patterns.blocks._swin_examples import modules as zoo

        gelu = {"hidden_act": "gelu"}  # the MLP's activation is not in the weights
        shifted = zoo()["SwinBlock"](16, 2, 4, 2)  # an odd block: half-window shift, 11 x 10 padded
        return [Example(shifted, (torch.randn(2, 11, 10, 16), 1), gelu)]
