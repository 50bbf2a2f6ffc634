"""A re-parameterisable block in its training form (RepVGG, Ding et al. 2021; YOLOv6/v7's
RepConv): a kxk and a 1x1 conv-norm branch side by side on the same input, and, where the block
keeps the width and the resolution, a batch norm as the identity branch; their sum through the
activation:

    out = act(norm_k(conv_k(x)) + norm_1(conv_1(x)) + identity_norm(x))

The activation leaves no key: ReLU, RepVGG's and YOLOv6's, by default (YOLOv7's RepConv runs
SiLU: the choice says so). Two branches that keep the width with no identity beside them could as well run one after the
other (DarkNet's 1x1-then-3x3 bottleneck): no match. The branches are told apart by their kernels (never by names or key order); each branch's conv and
norm are called directly, so a branch class the checkpoint cannot describe further (with or
without a trailing activation) never decides what the block computes. The blocks built without
the identity branch halve the resolution (analyze/strides.py's branch_downsamplers).

ACNet's asymmetric block (Ding et al. 2019) sums a kxk, a kx1 and a 1xk conv-norm of one widths
(bare members too, each norm joining the conv its name shares) and leaves the activation to its
user; where every instance keeps the width they could run in turn, so that class says guessed.

The kxk branches may be K of them in a list (apple's ml-mobileone `rbr_conv`, timm's
MobileOneBlock `conv_kxk`), depthwise or dense alike, beside the 1x1 and the identity norm, each
optional; a list alone is summed where what reads the block takes one branch's width
(analyze/joins.py). A kxk list beside a 1x1 that keeps the width with no identity norm could
still run in turn: that class says guessed.
"""

from __future__ import annotations

from codegen.ir.graph import Graph
from codegen.patterns import _activations as act
from codegen.patterns._kit import (
    Accepts,
    BlockContext,
    BlockPattern,
    Example,
    Match,
    family,
    modules,
    tensors,
)
from codegen.patterns.blocks._conv_parts import instance_widths, member_units, unit
from codegen.patterns.blocks._path_join import CONCAT, SUM, joined


def _widens_elsewhere(cls, attrs: list[str]) -> bool:
    """Whether in some instance of the class both units read one width and give another (a
    RepVGG stem reading the image, the class shared with the stages' strided blocks)."""
    ios = zip(*(instance_widths(cls, a) for a in attrs))
    return any(len(set(w)) == 1 and None not in w[0] and w[0][0] != w[0][1] for w in ios)


def _listed_unit(m, ctx: BlockContext):
    """The conv-norm unit every item of a list member is (one shape for all), else None."""
    if m.kind not in ("repeat", "modulelist", "sequential") or not m.children:
        return None
    found = [unit(c, ctx, prefix=(m.attr,)) for c in m.children]
    if any(u is None or not u.norm for u in found):
        return None
    shapes = {(u.in_width, u.out_width, str(u.kernel), str(u.groups), u.conv[2:], u.norm[2:])
              for u in found}
    return found[0] if len(shapes) == 1 else None


def _widens_elsewhere_listed(cls, lists) -> bool:
    """_widens_elsewhere for list members: some instance of the class reads one width and gives
    another."""
    return _widens_elsewhere(cls, [m.attr for m, _ in lists])


def _identity(rest, c_in, c_out):
    """The identity branch's norm attribute, None where there is none, False where the one
    other member cannot be it (not a norm of the block's kept width)."""
    if not rest:
        return None
    norm = rest[0]
    if norm.kind != "builtin" or family(norm) != "norm" or c_in != c_out:
        return False
    if norm.io is None or norm.io.in_width != c_out:
        return False
    return norm.attr


def _pins(units, ctx, listed: bool = False) -> list:
    """A branch class's own forward ends at its norm: the activation runs after the sum."""
    pins = []
    for m, _ in units:
        for item in m.children if listed else [m]:
            if item.kind != "class" or (branch := ctx.classes.get(item.type_name)) is None:
                continue
            pins += [
                (c.path, "activation", "identity", "a branch of a re-parameterisable block")
                for c in branch.forward.choices
                if c.name == "activation" and c.source == "default" and c.value != "identity"
            ]
    return pins


def _kernel(u) -> tuple:
    """A unit's kernel as (height, width)."""
    return (u.kernel, u.kernel) if isinstance(u.kernel, int) else tuple(u.kernel)


class BranchSum(BlockPattern):
    role = "RepBlock"
    priority = 20

    accepts = Accepts(tensors=False)

    def match(self, cls, ctx: BlockContext) -> Match | None:
        members = modules(cls)
        if tensors(cls):
            return None
        if len(members) == 6:  # three conv and norm pairs as bare members (ACNet's)
            return self._match_asymmetric(cls, ctx, members, [])
        if len(members) not in (1, 2, 3, 4):
            return None
        lists = [(m, u) for m in members if (u := _listed_unit(m, ctx)) is not None]
        listed = [m for m, _ in lists]
        units = [
            (m, u)
            for m in members
            if m not in listed and (u := unit(m, ctx)) is not None and u.norm
        ]
        rest = [m for m in members if m not in listed and m not in [m for m, _ in units]]
        if lists:
            return self._match_listed(cls, ctx, members, units, lists, rest)
        asymmetric = self._match_asymmetric(cls, ctx, members, units)
        if asymmetric is not None:
            return asymmetric
        if len(members) == 1 or len(units) != 2 or len(rest) > 1 or joined(cls, ctx) == CONCAT:
            return None  # (what reads the block takes both branches' widths: side by side)
        widths = {(u.in_width, u.out_width) for _, u in units}
        kernels = sorted(((u.kernel,) if isinstance(u.kernel, int) else u.kernel) for _, u in units)
        if len(widths) != 1 or None in next(iter(widths)) or kernels[0][0] != 1:
            return None
        if kernels[1][0] == 1 or kernels[1][0] % 2 != 1 or any(u.groups != 1 for _, u in units):
            return None
        c_in, c_out = next(iter(widths))
        if not rest and c_in == c_out and not _widens_elsewhere(cls, [m.attr for m, _ in units]):
            # Two units that keep the width may as well run one after the other (DarkNet's and
            # CSPNet's 1x1-then-3x3 bottleneck): side by side only where the widths cannot chain
            # (in this instance or another of the class) or the identity batch norm is there.
            return None
        identity = _identity(rest, c_in, c_out)
        if identity is False:
            return None
        activation = self._activation(cls, ctx, units[0][0].attr)
        found = ([(u.conv, u.norm) for _, u in units], identity, [])
        return Match(self, len(members) + 2, found, [activation], pins=_pins(units, ctx))

    def _match_listed(self, cls, ctx, members, units, lists, rest) -> Match | None:
        """Branches held in a list (apple's ml-mobileone `rbr_conv`, timm's MobileOneBlock
        `conv_kxk`: K kxk conv-norm units over-parameterising one conv), beside a 1x1 unit and an
        identity norm, each optional. Side by side where the widths cannot chain (each reads
        what it does not give), where the identity norm is there, or where a 1x1 unit of the
        same widths and groups sits beside kxk ones (the re-parameterisable layout; a chain of
        kxk units then a 1x1 could read the same, so the class says guessed there)."""
        if len(units) > 1 or len(rest) > 1 or joined(cls, ctx) == CONCAT:
            return None
        if any(m.kind == "sequential" and len(m.children) > 1 for m, _ in lists) and not rest:
            return None  # (a Sequential of several runs them in turn, but beside an identity)
        every = [u for _, u in units] + [u for _, u in lists]
        if len({(u.in_width, u.out_width, str(u.groups)) for u in every}) != 1:
            return None
        c_in, c_out = every[0].in_width, every[0].out_width
        if c_in is None or c_out is None:
            return None
        kernels = {(u.kernel,) if isinstance(u.kernel, int) else tuple(u.kernel) for u in every}
        if any(k[0] % 2 != 1 for k in kernels) or (units and units[0][1].kernel not in (1, (1, 1))):
            return None
        identity = _identity(rest, c_in, c_out)
        if identity is False:
            return None
        several = len(lists) > 1 or units or any(m.kind == "repeat" or len(m.children) > 1
                                                    for m, _ in lists)
        if not several or (len(members) == 1 and joined(cls, ctx) != SUM):
            return None  # (a list alone: summed only where what reads the block proves it)
        guessed = ""
        if c_in == c_out and identity is None and not _widens_elsewhere_listed(cls, lists):
            if not units or len(kernels) < 2:
                return None  # (a list of units keeping the width: a chain as well)
            guessed = (
                "kxk branches in a list beside a 1x1 of the same widths, summed (ml-mobileone's "
                "re-parameterisable layout); with no identity norm and the width kept, they could "
                "run one after the other"
            )
        activation = self._activation(cls, ctx, (units or lists)[0][0].attr)
        found = ([(u.conv, u.norm) for _, u in units], identity, [(m.attr, u) for m, u in lists])
        pins = _pins(units, ctx) + _pins(lists, ctx, listed=True)
        return Match(self, len(members) + 2, found, [activation], pins=pins, guessed=guessed)

    def _match_asymmetric(self, cls, ctx, members, units) -> Match | None:
        """ACNet's asymmetric convolution block in its training form (Ding et al. 2019): a square
        kxk conv-norm beside a kx1 and a 1xk one, the square's middle column and row, on the same
        input and of the same widths, summed (the three fold into one kxk for deployment). The
        units may be Sequentials or bare conv and norm members (DingXiaoH's ACBlock:
        `square_conv`, `square_bn`, `ver_conv`, ...: each norm joins the conv its name shares).
        Where every instance keeps the width, the three could also run one after the other (a
        factorised kxk): guessed."""
        if len(units) != 3:
            bare = [m for m in members if m.kind == "builtin" and family(m) in ("conv", "norm")]
            if len(bare) != len(members) or len(members) != 6:
                return None
            found = member_units(members, ctx, lambda us: us)
            if found is None or any(u.norm is None for u in found):
                return None
            units = [(next(m for m in members if m.attr == u.conv[0]), u) for u in found]
        ios = {(u.in_width, u.out_width, str(u.groups), str(u.stride)) for _, u in units}
        if len(ios) != 1 or None in next(iter(ios))[:2]:
            return None
        kernels = sorted(_kernel(u) for _, u in units)
        k = max(max(kernel) for kernel in kernels)
        if k % 2 != 1 or k == 1 or kernels != sorted([(k, k), (k, 1), (1, k)]):
            return None
        guessed = ""
        if units[0][1].in_width == units[0][1].out_width and not _widens_elsewhere(
            cls, [m.attr for m, _ in units]
        ):
            guessed = (
                "a kxk, a kx1 and a 1xk conv-norm of the same widths, summed (ACNet's asymmetric "
                "block); as every instance keeps the width, they could run one after the other"
            )
        order = sorted(units, key=lambda mu: _kernel(mu[1]) != (k, k))  # the square first
        # ACNet's block stands in for a conv-norm pair: whatever uses it activates after it.
        activation = ctx.choose(
            cls,
            order[0][0].attr,
            "activation",
            "identity",
            act.alternatives("identity", conv=True),
            "after the branches' sum (ACNet's block leaves it to its user)",
        )
        found = ([(u.conv, u.norm) for _, u in order], None, [])
        return Match(
            self, len(members) + 2, found, [activation], pins=_pins(units, ctx), guessed=guessed
        )

    def _activation(self, cls, ctx, at: str):
        return ctx.choose(
            cls, at, "activation", "relu", act.alternatives("relu", conv=True), "after the branches' sum"
        )

    def forward(self, match: Match, g: Graph) -> None:
        branches, identity, lists = match.found
        x = g.input("x")
        out = None
        for conv, norm in branches:
            y = g.call_module(norm, g.call_module(conv, x, inline=True), inline=True, name="out")
            out = y if out is None else g.call_function("add", out, y, inline=True)
        if identity is not None:
            y = g.call_module((identity,), x, inline=out is not None, name="out")
            out = y if out is None else g.call_function("add", out, y, name="out")
        if out is None:  # (a list alone: the sum starts from a broadcast zero)
            out = g.call_method(
                "new_zeros", x, (), name="out", comment="the branches' sum starts at zero"
            )
        for attr, u in lists:
            body = Graph()
            total, xb = body.input("out"), body.input("x")
            conv, norm = ("branch",) + u.conv[2:], ("branch",) + u.norm[2:]
            y = body.call_module(norm, body.call_module(conv, xb, inline=True), inline=True)
            body.output(body.call_function("add", total, y))
            out = g.loop(
                (("branch", (attr,)),), body, out, x, name="out", comment="each branch, summed"
            )
        g.output(act.apply(g, match.choices[0].value, out, name="out", inline=True))

    @staticmethod
    def examples():
        import torch
        import torch.nn as nn

        from codegen.patterns.blocks._vision_examples import _randomise_norms

        def conv_bn(c_in: int, c_out: int, k: int, stride: int) -> nn.Sequential:
            unit = nn.Sequential()
            unit.add_module("conv", nn.Conv2d(c_in, c_out, k, stride, k // 2, bias=False))
            unit.add_module("bn", nn.BatchNorm2d(c_out))
            return unit

        class Block(nn.Module):  # DingXiaoH/RepVGG repvgg.RepVGGBlock, training form
            def __init__(self, c_in: int, c_out: int, stride: int) -> None:
                super().__init__()
                keeps = c_in == c_out and stride == 1
                self.rbr_identity = nn.BatchNorm2d(c_in) if keeps else None
                self.rbr_dense = conv_bn(c_in, c_out, 3, stride)
                self.rbr_1x1 = conv_bn(c_in, c_out, 1, stride)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                out = self.rbr_dense(x) + self.rbr_1x1(x)
                if self.rbr_identity is not None:
                    out = out + self.rbr_identity(x)
                return torch.relu(out)

        class Net(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.stage0 = Block(3, 8, 2)
                self.stage1 = nn.Sequential(Block(8, 8, 2), Block(8, 8, 1), Block(8, 8, 1))
                self.linear = nn.Linear(8, 4)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return self.linear(self.stage1(self.stage0(x)).mean((2, 3)))

        class ListedBlock(nn.Module):  # apple/ml-mobileone MobileOneBlock, depthwise, K = 2
            def __init__(self, c: int, stride: int) -> None:
                super().__init__()
                self.rbr_skip = nn.BatchNorm2d(c) if stride == 1 else None
                self.rbr_conv = nn.ModuleList(
                    [conv_bn(c, c, 3, stride) for _ in range(2)]
                )
                self.rbr_scale = conv_bn(c, c, 1, stride)
                for unit in [*self.rbr_conv, self.rbr_scale]:  # depthwise, as ml-mobileone's
                    conv = unit.conv
                    unit.conv = nn.Conv2d(c, c, conv.kernel_size, stride, conv.padding, groups=c,
                                          bias=False)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                out = self.rbr_scale(x)
                if self.rbr_skip is not None:
                    out = out + self.rbr_skip(x)
                for branch in self.rbr_conv:
                    out = out + branch(x)
                return torch.relu(out)

        class ListedNet(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.stage0 = Block(3, 8, 2)
                self.stage1 = nn.Sequential(ListedBlock(8, 2), ListedBlock(8, 1))
                self.linear = nn.Linear(8, 4)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return self.linear(self.stage1(self.stage0(x)).mean((2, 3)))

        class Asymmetric(nn.Module):  # ACNet's block: square, column and row convs, summed
            def __init__(self, c_in: int, c_out: int) -> None:
                super().__init__()
                self.conv_square = nn.Conv2d(c_in, c_out, 3, 1, 1, bias=False)
                self.conv_col = nn.Conv2d(c_in, c_out, (3, 1), 1, (1, 0), bias=False)
                self.conv_row = nn.Conv2d(c_in, c_out, (1, 3), 1, (0, 1), bias=False)
                self.bn_row = nn.BatchNorm2d(c_out)
                self.bn_square = nn.BatchNorm2d(c_out)
                self.bn_col = nn.BatchNorm2d(c_out)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                out = self.bn_square(self.conv_square(x)) + self.bn_col(self.conv_col(x))
                return out + self.bn_row(self.conv_row(x))

        class AsymmetricNet(nn.Module):  # a VGG of them: ReLU after each, max-pools between
            def __init__(self) -> None:
                super().__init__()
                self.body = nn.Sequential(
                    Asymmetric(3, 8), nn.ReLU(), nn.MaxPool2d(2),
                    Asymmetric(8, 12), nn.ReLU(), Asymmetric(12, 12), nn.ReLU(),
                )
                self.head = nn.Linear(12, 4)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return self.head(self.body(x).mean((2, 3)))

        torch.manual_seed(0)
        nets = [Net().eval(), ListedNet().eval(), AsymmetricNet().eval()]
        for net in nets:
            _randomise_norms(net)
        return [Example(net, (torch.randn(2, 3, 16, 16),)) for net in nets]
