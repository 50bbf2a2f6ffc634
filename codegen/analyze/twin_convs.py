"""Classes held twice side by side whose depthwise conv may be dilated in one of them.

A dilation leaves no key, so a spatial conv is built undilated unless something says otherwise
(a pattern's pin, a hint, a calibration). Most convs are. A block that holds two instances of one
class whose only layer of note is a depthwise conv, as two named members (not items of a list),
is the exception: a depthwise conv mixes no channels, so two of one shape in series would be one
larger kernel, and two undilated side by side over one input would be one conv of twice the
channels. Such twins exist to see at two ranges: CGNet's context guided block (wutianyiRosun/CGNet)
holds a local `F_loc` and a surrounding `F_sur` of one class, the second dilated 2 or 4. Where
the parent's forward is a pattern's reading, that pattern vouches for the twins; where it is not
(width chaining, or missing), the class says `guessed`, naming the dilation it cannot know.
"""

from __future__ import annotations

from codegen.ir import ClassDef, Module
from codegen.patterns.blocks._conv_parts import conv_kernel

TWIN_NOTE = (
    "{parent} holds it twice side by side ({names}), alike: depthwise twins see at two ranges "
    "(a context block's local and surrounding convs), so one is most likely dilated, which no "
    "key records; both are built undilated (a `dilation` hint on one's conv sets it)"
)


def _depthwise_spatial(m: Module) -> bool:
    """A built-in conv with a kernel wider than 1, one input channel per group, and no dilation
    the analysis set."""
    if m.kind != "builtin" or m.io is None or m.io.family != "conv":
        return False
    args = {a.keyword: a.value for a in m.args}
    kernel, groups = conv_kernel(m), args.get("groups", 1)
    wide = kernel not in (1, (1,), (1, 1), (1, 1, 1)) and kernel is not None
    undilated = "dilation" not in args and not any(c.name == "dilation" for c in m.choices)
    depthwise = groups != 1 and (not isinstance(groups, int) or groups == m.io.in_width)
    return wide and undilated and depthwise and not m.type_name.startswith("nn.ConvTranspose")


def _holds_one_depthwise(cls: ClassDef) -> bool:
    """The class's one spatial conv is depthwise (norms and activations beside it)."""
    convs = [m for m in _modules(cls.members) if m.io is not None and m.io.family == "conv"]
    wide = [m for m in convs if conv_kernel(m) not in (None, 1, (1,), (1, 1))]
    return len(wide) == 1 and _depthwise_spatial(wide[0])


def _modules(members: list) -> list[Module]:
    """Modules of the class and of its containers, not entering another class's members."""
    out: list[Module] = []
    for m in members:
        if isinstance(m, Module) and m.kind != "class":
            out.append(m)
            out += _modules(m.children)
    return out


def flag_undilated_twins(classes: list[ClassDef]) -> list[str]:
    """Inferred classes holding one depthwise spatial conv that a parent no pattern recognised
    holds twice, alike, as named members, say guessed; the names of those flagged."""
    flagged = []
    for cls in classes:
        if cls.forward.trust != "inferred" or cls.forward.missing or not _holds_one_depthwise(cls):
            continue
        for parent in classes:
            if parent.forward.trust == "inferred" and not parent.forward.missing:
                continue  # the parent's pattern read how it uses them
            held = [
                m
                for m in parent.members
                if isinstance(m, Module) and m.kind == "class" and m.type_name == cls.name
            ]
            alike: dict[str, list[str]] = {}
            for m in held:
                alike.setdefault(repr([(a.keyword, a.value) for a in m.args]), []).append(m.attr)
            twins = next((names for names in alike.values() if len(names) > 1), None)
            if twins:
                cls.forward.trust = "guessed"
                cls.forward.trust_note = TWIN_NOTE.format(
                    parent=parent.name, names=", ".join(twins[:3])
                )
                flagged.append(cls.name)
                break
    return flagged
