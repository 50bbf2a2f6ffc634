"""How a block's parallel paths join, as the widths its consumers read prove it
(analyze/joins.py fills ChoiceResolver.structural; the residual, concatenation and branch-sum
patterns read it here)."""

from __future__ import annotations

# ChoiceResolver.structural, per block path: ("sum" | "concat", why).
PATH_JOIN = "path_join"
SUM, CONCAT = "sum", "concat"
# ChoiceResolver.structural, per block path: (the width its consumer reads, why).
CONSUMER_WIDTH = "consumer_width"


def joined(cls, ctx) -> str | None:
    """ "sum" or "concat" where the consumers of the class's instances prove one and none the
    other; None where nothing proves either (or they disagree)."""
    structural = ctx.resolver.structural
    seen = {structural.get((path, PATH_JOIN), (None,))[0] for path, *_ in cls.instances}
    seen.discard(None)
    return seen.pop() if len(seen) == 1 else None
