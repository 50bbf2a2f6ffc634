"""Reading the containers of a diffusion U-Net or an autoencoder: `resnets`, `attentions`,
`downsamplers`/`upsamplers`, whichever way they were registered (a ModuleList of copies, a list of
different blocks, a Sequential), as the items a forward calls in turn.

Member names follow diffusers (`resnets`, `attentions`, `downsamplers`, `upsamplers`) and the
original latent-diffusion code (`block`, `attn`, `downsample`, `upsample`); what each item is comes
from the role of its class's forward (ResnetBlock, SpatialAttention, Downsample, Upsample), never
from a name alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from codegen.ir import ClassDef, Module, Ref
from codegen.patterns._kit import Accepts, BlockContext, modules, one_named, tensors

RESNETS = r"resnets|block|res_?blocks"
ATTENTIONS = r"attentions|attn|attn_?blocks"
DOWNSAMPLERS = r"downsamplers|downsample"
UPSAMPLERS = r"upsamplers|upsample"


def item_paths(cls: ClassDef, m: Module) -> list[tuple[str, ...]]:
    """The path of each item of a container member, in order (a single class: itself)."""
    if m.kind == "class":
        return [(m.attr,)]
    if m.kind == "repeat":
        # A lifted count is a parameter; a class's instances all have the same number of copies
        # (their keys differ otherwise), so the number found is the one to unroll.
        count = m.copies if isinstance(m.repeat, Ref) else m.repeat
        if not isinstance(count, int):
            return []
        return [(m.attr, str(i)) for i in range(count)]
    if m.kind in ("modulelist", "sequential"):
        return [(m.attr, c.attr) for c in m.children if c.kind != "placeholder"]
    return []


def item_roles(m: Module, ctx: BlockContext) -> list[str | None]:
    if m.kind in ("class", "repeat"):
        return [ctx.role(m)]
    return [ctx.role(c) for c in m.children if c.kind != "placeholder"]


def items(cls: ClassDef, m: Module | None, ctx: BlockContext, role: str | tuple[str, ...]):
    """The item paths of a container member whose items all have `role` (one of them, and all
    the same one); None otherwise."""
    if m is None:
        return None
    roles = item_roles(m, ctx)
    paths = item_paths(cls, m)
    allowed = (role,) if isinstance(role, str) else role
    if not paths or not roles or roles[0] not in allowed or any(r != roles[0] for r in roles):
        return None
    return paths


# What follows each resnet: attention over the pixels, or a transformer attending to `context`.
PIXEL_ATTENTIONS = ("SpatialAttention", "SpatialTransformer")


def takes_temb(m: Module, ctx: BlockContext, name: str = "temb") -> bool:
    """Whether a member's items take a time embedding (diffusers' `temb`), or another input."""
    first = m.children[0] if m.kind in ("repeat", "modulelist", "sequential") else m
    return ctx.takes(first, name)


@dataclass
class Stage:
    """A stage of resnet blocks, attentions after each, and an optional resampler."""

    resnets: list[tuple[str, ...]]
    attentions: list[tuple[str, ...]]
    sampler: tuple[str, ...] | None
    temb: bool  # the resnets take the time embedding
    explains: int
    context: bool = False  # the attentions take `context` (a text encoder's states)
    sampler_temb: bool = False  # the sampler takes the time embedding (a resampling resnet)


# What `stage` rejects at once, whatever its sampler: tensors, no resnets.
STAGE_ACCEPTS = Accepts(tensors=False, names=(RESNETS,))


def stage(cls: ClassDef, ctx: BlockContext, sampler_role: str | None) -> Stage | None:
    """`resnets` (+ `attentions`, one after each) (+ one sampler of `sampler_role`), nothing else."""
    members = modules(cls)
    if tensors(cls):
        return None
    resnet_m = one_named(members, RESNETS)
    attn_m = one_named(members, ATTENTIONS)
    names = DOWNSAMPLERS if sampler_role == "Downsample" else UPSAMPLERS
    sampler_m = one_named(members, names) if sampler_role else None
    used = [m for m in (resnet_m, attn_m, sampler_m) if m is not None]
    if resnet_m is None or len(used) != len(members):
        return None
    resnets = items(cls, resnet_m, ctx, "ResnetBlock")
    attentions = items(cls, attn_m, ctx, PIXEL_ATTENTIONS) if attn_m else []
    samplers = items(cls, sampler_m, ctx, sampler_role) if sampler_m else []
    if resnets is None or attentions is None or samplers is None or len(samplers) > 1:
        return None
    if sampler_role and not samplers:
        return None
    if attentions and len(attentions) != len(resnets):
        return None
    return Stage(
        resnets,
        attentions,
        samplers[0] if samplers else None,
        takes_temb(resnet_m, ctx),
        len(members),
        attn_m is not None and takes_temb(attn_m, ctx, "context"),
        sampler_m is not None and takes_temb(sampler_m, ctx),
    )


def stage_examples(cls: ClassDef) -> list:
    """No smoke-test inputs for a block inside a U-Net: what it takes depends on its neighbours."""
    return []


CONV_IN, CONV_OUT, NORM_OUT = r"conv_in", r"conv_out", r"conv_norm_out|norm_out"
MID = r"mid_block|mid"


def coder_accepts(blocks_name: str) -> Accepts:
    """What `coder` rejects at once: tensors, any of its four named parts missing."""
    return Accepts(
        tensors=False, names=(CONV_IN, CONV_OUT, NORM_OUT, blocks_name), families=("conv", "norm")
    )


def coder(cls: ClassDef, ctx: BlockContext, blocks_name: str):
    """An autoencoder's encoder or decoder: conv_in, stages (`blocks_name`), an optional middle
    block, conv_norm_out and conv_out, nothing else. (conv_in, stage paths, mid, norm, conv_out)."""
    from codegen.patterns._kit import family

    members = modules(cls)
    if tensors(cls):
        return None
    conv_in, conv_out = one_named(members, CONV_IN), one_named(members, CONV_OUT)
    norm, mid = one_named(members, NORM_OUT), one_named(members, MID)
    blocks = one_named(members, blocks_name)
    used = [m for m in (conv_in, conv_out, norm, mid, blocks) if m is not None]
    if None in (conv_in, conv_out, norm, blocks) or len(used) != len(members):
        return None
    if family(conv_in) != "conv" or family(conv_out) != "conv" or family(norm) != "norm":
        return None
    if mid is not None and (ctx.role(mid) != "MidBlock" or takes_temb(mid, ctx)):
        return None
    stages = items(cls, blocks, ctx, "ResnetStage")
    if not stages:
        return None
    stages = run_order(blocks, stages, ctx, conv_in.io.out_width, norm.io.in_width)
    if stages is None:
        return None
    return conv_in.attr, stages, mid.attr if mid else None, norm.attr, conv_out.attr


def last_built_first(blocks: Module, ctx: BlockContext) -> bool:
    """Whether a list of stages runs from its last item to its first: its first item alone has no
    resampler (the finest level, which latent diffusion's `up` holds at index 0 and runs last)."""
    kids = [c for c in blocks.children if c.kind != "placeholder"]
    if blocks.kind not in ("modulelist", "sequential") or len(kids) < 2:
        return False

    def resamples(m: Module) -> bool:
        own = ctx.classes.get(m.type_name) if m.kind == "class" else None
        names = f"{DOWNSAMPLERS}|{UPSAMPLERS}"
        return own is not None and one_named(modules(own), names) is not None

    return not resamples(kids[0]) and resamples(kids[-1])


def run_order(blocks: Module, stages: list, ctx: BlockContext, entry, exit_width) -> list | None:
    """The stages in the order they run. diffusers runs them in index order; latent diffusion's
    decoder builds `up` finest level first and runs it last (`up.0` is the last stage). The widths
    say which where they change (the first stage reads what the middle or conv_in gives, the last
    gives what norm_out reads); where they do not, the stage without a resampler runs last.
    None: neither order chains."""
    if blocks.kind not in ("modulelist", "sequential"):
        return stages
    kids = [c for c in blocks.children if c.kind != "placeholder"]
    if len(kids) != len(stages) or len(kids) < 2:
        return stages

    def chains(order: list) -> bool:
        width = entry
        for m in order:
            if m.io is None or None in (m.io.in_width, m.io.out_width, width):
                return True  # not shown: no objection
            if m.io.in_width != width:
                return False
            width = m.io.out_width
        return exit_width is None or width == exit_width

    forward, backward = chains(kids), chains(kids[::-1])
    if forward and backward:  # widths do not tell: the stage without a resampler runs last
        backward = last_built_first(blocks, ctx)
        forward = not backward
    if backward and not forward:
        return stages[::-1]
    return stages if forward else None


def image_entry_pins(ctx: BlockContext, path: tuple[str, ...], member: Module) -> list[tuple]:
    """A U-Net's node that reads the image (found from the widths: nothing else gives what it
    reads): a [C, 1, k, k] first conv there is a grayscale input (jvanvugt's and 4uiiurz1's
    in_channels=1), not a depthwise conv: layers/conv.py's rule where an image enters, which a
    path like `down_path.0.block.0` or `conv0_0.conv1` does not show. The pin for its first conv's
    `depthwise`, where still a default."""
    found: list[tuple[tuple[str, ...], Module]] = []

    def walk(at: tuple[str, ...], m: Module) -> None:
        if found:
            return
        if m.kind == "builtin" and m.type_name == "nn.Conv2d":
            found.append((at, m))
        elif m.kind == "class" and m.type_name in ctx.classes:
            for child in modules(ctx.classes[m.type_name]):
                walk((*at, child.attr), child)
        else:
            for child in m.children:
                if child.kind != "placeholder":
                    walk((*at, child.attr), child)

    walk(path, member)
    if not found:
        return []
    at, conv = found[0]
    made = list(conv.choices) + [a.choice for a in conv.args if a.choice is not None]
    depthwise = next((c for c in made if c.name == "depthwise" and c.source == "default"), None)
    if depthwise is None or not depthwise.value:
        return []
    return [(".".join(at), "depthwise", False, "a U-Net's first node reads the image")]
