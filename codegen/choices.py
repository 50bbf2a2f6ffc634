"""Values the checkpoint does not record: defaults by convention, pinned by hints or metadata.

Precedence: a `--hints` entry for the module path, then a matching name in the checkpoint's
metadata (`config`, `model_args`, `hyper_parameters`, safetensors metadata...), then the default.
"""

from __future__ import annotations

import fnmatch
from contextlib import contextmanager
import re
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

from codegen.errors import ModelgenError
from codegen.files import read_small_text
from codegen.ir import Choice
from codegen.safetext import printable


def _split_from(path: str) -> tuple[str, str]:
    """The same member of the class `Class2.member` was split from (`Class.member`): instances
    of one class that a calibrated stride sets apart keep the conventions calibrated for it (an
    activation), rather than starting again from the defaults. ("", "") for other paths."""
    head, dot, rest = path.partition(".")
    found = re.fullmatch(r"([A-Z]\w*?[A-Za-z_])(\d+)", head)
    if found is None or int(found.group(2)) < 2:
        return "", ""
    base = found.group(1) + dot + rest
    return base, f"generate --calibrate, as for {found.group(1)}"


class _Scope:
    """`ChoiceResolver.within`'s block. A plain class, not a generator context manager: every
    pattern's trial match enters one (half a million times in one calibration), and the
    generator's setup cost several times the push and pop it wraps."""

    __slots__ = ("scopes", "synonyms")

    def __init__(self, scopes: list, synonyms: dict[str, tuple[str, ...]]) -> None:
        self.scopes, self.synonyms = scopes, synonyms

    def __enter__(self) -> None:
        self.scopes.append(self.synonyms)

    def __exit__(self, *exc: object) -> None:
        self.scopes.pop()


class ChoiceResolver:
    """Makes every choice of one analysis, and remembers them (calibration searches over them)."""

    def __init__(
        self,
        hints: dict[str, dict[str, Any]] | None = None,
        metadata: dict[str, Any] | None = None,
        calibrated: dict[tuple[str, str], Any] | None = None,
        synonyms: Mapping[str, tuple[str, ...]] | None = None,
        known_types: frozenset[str] = frozenset(),
    ):
        self.hints = hints or {}
        # Metadata spellings of each choice, as the catalogue's patterns declare them
        # (patterns.registry.synonyms()); a choice's own name always counts.
        self.synonyms = {
            n: tuple(dict.fromkeys((n,) + names)) for n, names in (synonyms or {}).items()
        }
        # The spellings of the patterns now matching, innermost last (`within`): a choice made
        # inside a pattern that declares its name reads that pattern's spellings only, never
        # another's (cross-attention's "encoder_attention_heads" is not every "nhead").
        self.scopes: list[dict[str, tuple[str, ...]]] = []
        self.whole = _flatten(metadata or {})
        # A composite's towers (a vision and a text model, each with its sub-config): the view of
        # the metadata a class of one tower reads, its own sub-config first (`towered`).
        self.views = _tower_views(metadata or {}, self.whole, known_types)
        self.tower: str | None = None
        # Where a class lies in no tower of a composite (Phi-4 multimodal's text layers beside its
        # image and audio embedders): it reads the top level's spellings before any sub-config's.
        self.outside = False
        self.tower_prefixes = tuple(
            f"config.json.{k}." for k in _modality_configs((metadata or {}).get("config.json"))
        )
        self.nested = metadata or {}  # as given: tables keyed by layer kind (rope_parameters)
        # Whole lists of strings (per-layer attention kinds), which `metadata` cuts to the first.
        self.string_lists = _string_lists(metadata or {})
        self.calibrated = calibrated or {}  # (path, name) -> value picked by `generate --calibrate`
        self.used_hints: set[tuple[str, str]] = set()
        self.made: list[Choice] = []
        # (path, name) -> value a whole-model pickle recorded (codegen.analyze.evidence)
        self.recorded: dict[tuple[str, str], Any] = {}
        # Metadata keys whose values some pattern used: the rest of config.json is checked
        # against a reviewed list (codegen.load.hf_config.unused_config_keys).
        self.consumed: set[str] = set()
        # ... those read outside any tower's view, where one name may serve both towers.
        self.consumed_untowered: set[str] = set()
        # (path, name) -> (value, why): what a pattern of an enclosing class showed about a choice
        # left at its default; used above the default only (ModelIR analysis runs again with them).
        self.structural: dict[tuple[str, str], tuple[Any, str]] = {}
        # ... and those the winning patterns of this analysis asked for (Match.pins).
        self.requested: dict[tuple[str, str], tuple[Any, str]] = {}

    def choose(
        self,
        path: str,
        name: str,
        default: Any,
        alternatives: list[Any],
        note: str = "",
        accepts: str = "",
        aliases: dict[Any, Any] | None = None,
    ) -> Choice:
        """`aliases`: metadata spellings of values (Hugging Face's "gelu_new" is "gelu_tanh").
        `accepts`: for choices whose values are open (a stride, an eps, a layer), the name of the
        domain (OPEN_DOMAINS) a hinted value may come from; without it only the listed values fit.
        """
        choice = self._choose(path, name, default, alternatives, note, accepts, aliases or {})
        choice.path = path
        choice.also_accepts = accepts
        self.made.append(choice)
        return choice

    def _choose(
        self,
        path: str,
        name: str,
        default: Any,
        alternatives: list[Any],
        note: str,
        accepts: str,
        aliases: dict[Any, Any],
    ) -> Choice:
        alternatives = _ordered([a for a in alternatives if a != default])
        for source, cited in ((path, "generate --calibrate"), _split_from(path)):
            if (source, name) in self.calibrated and _allowed(
                self.calibrated[(source, name)], default, alternatives, accepts
            ):
                value = self.calibrated[(source, name)]
                return Choice(
                    name,
                    value,
                    _ordered([a for a in [default, *alternatives] if a != value]),
                    "calibrated",
                    cited,
                )
        for pattern, values in self.hints.items():
            if name in values and _path_matches(pattern, path):
                self.used_hints.add((pattern, name))
                value = _hinted_value(
                    pattern, path, name, values[name], default, alternatives, accepts
                )
                return Choice(
                    name,
                    value,
                    _ordered([a for a in [default, *alternatives] if a != value]),
                    "hint",
                    f"hints [{pattern}]",
                )
        if (path, name) in self.recorded and _fits(
            self.recorded[path, name], default, alternatives
        ):
            value = self.recorded[path, name]
            return Choice(
                name,
                value,
                _ordered([a for a in [default, *alternatives] if a != value]),
                "metadata",
                "the pickled model",
            )
        spellings = self.spellings(name)
        for key in self._top_first(spellings):
            if key in self.metadata:
                value = self.metadata[key][1]
                if isinstance(value, (str, int, float)) and not isinstance(value, bool):
                    value = aliases.get(value, value)
                elif isinstance(value, bool):  # a switch naming a value (XLM's gelu_activation)
                    value = aliases.get((key, value), value)
                fits = _fits(value, default, alternatives)
                if not fits and _allowed(value, default, alternatives, accepts):
                    # an open-domain value beyond those a search tries (a rope_theta of 500)
                    value, fits = OPEN_DOMAINS[accepts][0](value), True
                if fits:
                    # Spellings that say the same (Gemma 2's hidden_act beside
                    # hidden_activation) are used too; one that disagrees stays unused.
                    self._consume(
                        k
                        for k in spellings
                        if k in self.metadata and self.metadata[k][1] == self.metadata[key][1]
                    )
                    return Choice(
                        name,
                        value,
                        _ordered([a for a in [default, *alternatives] if a != value]),
                        "metadata",
                        cite(self.metadata[key][0]),
                    )
        if (path, name) in self.structural:
            value, why = self.structural[path, name]
            # an open-domain value the structure shows (a causal conv's padding of k - 1)
            if _fits(value, default, alternatives) or _allowed(
                value, default, alternatives, accepts
            ):
                others = _ordered([a for a in [default, *alternatives] if a != value])
                return Choice(name, value, others, "structure", why)
        return Choice(name, default, alternatives, "default", note)

    @property
    def metadata(self) -> dict[str, tuple[str, Any]]:
        """Every metadata value by key name (the shallowest wins), as the tower now analysed
        reads it: its own sub-config's values first, none of another tower's."""
        return self.views.get(self.tower, self.whole) if self.tower else self.whole

    def _consume(self, keys: Any) -> None:
        keys = set(keys)
        self.consumed.update(keys)
        if self.tower is None:
            self.consumed_untowered.update(keys)

    @contextmanager
    def towered(self, paths: list[str]) -> Iterator[None]:
        """Choices made here read the metadata of the one tower all `paths` (key paths) lie in,
        if they lie in one: a module path segment named for a sub-config's modality
        (`vision_model` in vision_config, `language_model` in text_config)."""
        found = {_tower_of(p, self.views) for p in paths}
        saved = self.tower, self.outside
        self.outside = found == {None} and bool(self.views)
        self.tower = found.pop() if len(found) == 1 else None
        try:
            yield
        finally:
            self.tower, self.outside = saved

    def own_level(self, path: str) -> bool:
        """Whether metadata found at `path` is the model's own setting: config.json's top level
        (or bare metadata), or, for a class inside a member built from a config of its own (an
        EncoderDecoderModel's `decoder`), the top of that config; not another sub-config's."""
        member = self.tower.removeprefix(ROLE_VIEW) if self.tower else None
        for table in CONFIG_TABLES:
            if member is not None and self.tower.startswith(ROLE_VIEW):
                path = path.removeprefix(f"{table}.{member}.")
            path = path.removeprefix(f"{table}.")
        return "." not in path

    def _top_first(self, keys: tuple[str, ...]) -> tuple[str, ...]:
        """`keys` in order, but outside every tower those a sub-config of a tower sets last: the
        text layers beside a vision tower read rms_norm_eps before vision_config's
        layer_norm_eps, whichever spelling comes first."""
        if not self.outside:
            return keys
        inside = [k for k in keys if k in self.metadata and self._in_tower(k)]
        return tuple(k for k in keys if k not in inside) + tuple(inside)

    def _in_tower(self, key: str) -> bool:
        return self.metadata[key][0].startswith(self.tower_prefixes)

    def within(self, synonyms: dict[str, tuple[str, ...]]) -> _Scope:
        """Choices made in this block read `synonyms` first (a pattern's declared spellings)."""
        return _Scope(self.scopes, synonyms)

    def spellings(self, name: str) -> tuple[str, ...]:
        """The metadata keys that mean choice `name` where it is made now."""
        for scope in reversed(self.scopes):
            if name in scope:
                return tuple(dict.fromkeys((name,) + scope[name]))
        # No pattern here declares the name (or no pattern is matching): every declared spelling.
        return self.synonyms.get(name, (name,))

    def asked(self, path: str, name: str) -> Any:
        """The value `generate --calibrate` or a `--hints` entry gives choice `name` at `path`,
        None where neither does: a choice a pattern offers only when asked (a conv's dilation,
        which no key shows and most convs do not have)."""
        if (path, name) in self.calibrated:
            return self.calibrated[(path, name)]
        for pattern, values in self.hints.items():
            if name in values and _path_matches(pattern, path):
                return values[name]
        return None

    def request(self, pins: list[tuple[str, str, Any, str]]) -> None:
        """A winning pattern's pins (patterns._kit.Match.pins), for the next analysis."""
        for path, name, value, why in pins:
            self.requested.setdefault((path, name), (value, why))

    def evidence(self, *keys: str) -> tuple[str, Any] | None:
        """The first of `keys` the metadata holds: (where it was found, cited; its value)."""
        for key in self._top_first(keys):
            if key in self.metadata:
                self._consume((key,))
                return cite(self.metadata[key][0]), self.metadata[key][1]
        return None

    def evidence_list(self, *keys: str) -> tuple[str, list[str]] | None:
        """The first of `keys` that is a list of strings (Gemma 2's layer_types), whole, cited."""
        for key in keys:
            if key in self.string_lists:
                self.consumed.add(key)
                return cite(self.string_lists[key][0]), list(self.string_lists[key][1])
        return None

    def evidence_numbers(self, *keys: str) -> tuple[str, list[float]] | None:
        """The first of `keys` that is a list of numbers (a Conformer's residual weights), whole,
        cited; `metadata` keeps lists of whole numbers only."""
        for key in keys:
            for path, k, v in _levels(self.nested):
                if k == key and isinstance(v, list) and v:
                    if all(type(x) in (int, float) for x in v):
                        self._consume((key,))
                        return cite(path), [float(x) for x in v]
        return None

    def check_hints_used(self) -> None:
        """A hint that pins nothing is a typo or a stale file: say so, with what could be pinned."""
        for pattern, values in self.hints.items():
            for name in values:
                if (pattern, name) in self.used_hints:
                    continue
                here = sorted(
                    {f"[{c.path}] {c.name}" for c in self.made if _path_matches(pattern, c.path)}
                )
                if here:
                    allowed = "; choices there: " + _listing(here)
                else:
                    allowed = "; no choice has that path" + (
                        f" (paths look like {_listing(sorted({c.path for c in self.made}))})"
                        if self.made
                        else " (this model has no choices)"
                    )
                raise ModelgenError(
                    f"hints [{printable(pattern)}] {printable(name)}: matches no choice{allowed}"
                    "; modelgen generate CKPT --list-choices lists them all"
                )


def cite(path: str) -> str:
    """How a metadata value is cited: `config.json n_head`, or `checkpoint metadata a.b`."""
    if path.startswith("config.json."):
        return f"config.json {path.removeprefix('config.json.')}"
    return f"checkpoint metadata {path}"


def _hinted_value(
    pattern: str,
    path: str,
    name: str,
    value: Any,
    default: Any,
    alternatives: list[Any],
    accepts: str,
) -> Any:
    """A hint's value, if it is one this choice can take; otherwise a one-line error saying which are."""
    if isinstance(value, list):  # TOML arrays: tuples in the IR, as kernel sizes and paddings are
        value = tuple(value)
    allowed = [default, *alternatives]
    if any(_same(value, a) for a in allowed):
        return value
    where = f"hints [{pattern}] {name} = {_shown(value)} (for {path})"
    if accepts:
        try:
            return OPEN_DOMAINS[accepts][0](value)
        except ModelgenError as e:
            raise ModelgenError(f"{where}: {e}") from None
    listing = ", ".join(_shown(a) for a in allowed)
    raise ModelgenError(f"{where}: not an allowed value; allowed: {listing}")


def _allowed(value: Any, default: Any, alternatives: list[Any], accepts: str) -> bool:
    """A recorded value (a calibrated pin read back from a file) this choice can still take."""
    if any(_same(value, a) for a in [default, *alternatives]):
        return True
    try:
        return bool(accepts) and OPEN_DOMAINS[accepts][0](value) == value
    except ModelgenError:
        return False


def _same(value: Any, allowed: Any) -> bool:
    """Equal and of the same kind: `True` is not `1`, `1` is not `"1"`."""
    return type(value) is type(allowed) and value == allowed


def _shown(value: Any, most: int = 60) -> str:
    text = printable(repr(value))
    return text if len(text) <= most else text[: most - 3] + "..."


def positive_int(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= 1 << 16:
        return value
    raise ModelgenError("must be a positive whole number")


def index_value(value: Any) -> int:
    """A row of a table (a padding index, the row of position 0)."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 1 << 24:
        return value
    raise ModelgenError("must be a whole number >= 0")


def size_value(value: Any) -> int | tuple[int, ...]:
    """A padding: a non-negative whole number, or one per spatial dimension; or one the forward
    applies before the conv (patterns/layers/conv.py PADDED_FIRST)."""
    if value in ("pad_same", "pad_same_even"):
        return value
    items = value if isinstance(value, tuple) else (value,)
    if 0 < len(items) <= 3 and all(
        isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 1 << 16 for v in items
    ):
        return value
    raise ModelgenError(
        "must be a whole number >= 0, a list of them (one per dimension), 'pad_same' or "
        "'pad_same_even'"
    )


def geometry_value(value: Any) -> tuple[int, int, int]:
    """A transposed conv's (stride, padding, output_padding): the output padding below the
    stride, as torch requires."""
    if isinstance(value, list):
        value = tuple(value)
    if (
        isinstance(value, tuple)
        and len(value) == 3
        and all(type(v) is int for v in value)
        and 1 <= value[0] <= 1 << 16
        and 0 <= value[1] <= 1 << 16
        and 0 <= value[2] < value[0]
    ):
        return value
    raise ModelgenError(
        "must be [stride, padding, output_padding]: whole numbers, the stride 1 or more, the "
        "output padding below the stride"
    )


def positive_float(value: Any) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value < 1:
        return float(value)
    raise ModelgenError("must be a number between 0 and 1, like 1e-5")


def positive_number(value: Any) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value < 1e12:
        return float(value)
    raise ModelgenError("must be a number above 0, like 10000.0")


def _listing(items: list[str], most: int = 6) -> str:
    shown = ", ".join(printable(i) for i in items[:most])
    return shown + (f" and {len(items) - most} more" if len(items) > most else "")


def _layer(value: Any) -> str:
    from codegen.layer_spec import canonical_layer

    return canonical_layer(value)


def _ordered(values: list[Any]) -> list[Any]:
    """Numbers ascending; anything else keeps the order the recogniser gave."""
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return sorted(values)
    return values


def _path_matches(pattern: str, path: str) -> bool:
    """A hint for a module applies to everything inside it; globs match whole paths."""
    if pattern in ("*", "") or path == pattern or path.startswith(pattern + "."):
        return True
    return fnmatch.fnmatchcase(path, pattern) or fnmatch.fnmatchcase(path, pattern + ".*")


def _fits(value: Any, default: Any, alternatives: list[Any]) -> bool:
    """A metadata value is used only when it is one of the values that fit the shapes."""
    if isinstance(default, bool):
        return isinstance(value, bool)
    if alternatives:
        return value == default or value in alternatives
    if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
        return True  # `rope_theta: 10000` is the number 10000.0
    return isinstance(value, type(default)) and not isinstance(value, bool)


def _levels(metadata: dict[str, Any]) -> Iterator[tuple[str, str, Any]]:
    """(path, key, value) of every non-table value in nested metadata, shallowest tables first:
    a key at the top of config.json outranks the same key in a sub-config (DBRX's attn_config
    and ffn_config carry a `model_type` of their own, empty, that must not hide the model's)."""
    tables = [("", metadata)]
    while tables:
        deeper = []
        for prefix, table in tables:
            for k, v in table.items():
                path = f"{prefix}.{k}" if prefix else k
                if isinstance(v, dict):
                    deeper.append((path, v))
                else:
                    yield path, k, v
        tables = deeper


def _string_lists(metadata: dict[str, Any]) -> dict[str, tuple[str, list]]:
    """Every list of strings in nested metadata by its last key name, with its path."""
    out: dict[str, tuple[str, list]] = {}
    for path, k, v in _levels(metadata):
        if isinstance(v, list) and v and all(isinstance(x, str) for x in v):
            out.setdefault(k, (path, list(v)))
    return out


# Lists of indices whose emptiness is evidence (EfficientNet's blocks that pad evenly: none).
# vit8: which layers attend within windows (ViTDet, SAM), or carry a conv block (ViTDet)
EMPTY_LISTS = frozenset(
    {"depthwise_padding", "window_block_indices", "global_attn_indexes", "residual_block_indices"}
)


# The modality a module path segment or a sub-config's name is for, by its words.
TOWER_WORDS = {
    "vision": "vision",
    "visual": "vision",
    "image": "vision",
    "text": "text",
    "language": "text",
    "audio": "audio",
    "speech": "audio",
}


def _modality(name: str) -> str | None:
    words = [TOWER_WORDS.get(w) for w in name.lower().split("_")]
    found = {w for w in words if w is not None}
    return found.pop() if len(found) == 1 else None


def _modality_configs(config: Any) -> list[str]:
    """The keys of config.json's sub-configs named for one modality (text_config, vision_config)."""
    if not isinstance(config, dict):
        return []
    return [
        k
        for k, v in config.items()
        if k.endswith("_config") and isinstance(v, dict) and _modality(k.removesuffix("_config"))
    ]


def _tower_views(
    metadata: dict[str, Any],
    whole: dict[str, tuple[str, Any]],
    known_types: frozenset[str] = frozenset(),
) -> dict[str, dict[str, tuple[str, Any]]]:
    """config.json's sub-configs of one modality each (text_config, vision_config): for each
    modality, the flat metadata without the other sub-configs' values, its own sub-config's
    overriding the top level's, but for the model_type: patterns key conventions of a composite's
    towers by the composite's type (CLIP's causal text tower is model_type 'clip'), unless no
    conventions table knows the composite (`known_types`) and one knows the tower's own type: a
    composite the library assembles from another family's model (Aya Vision's text tower is a
    Cohere 2 model, built from its text_config) computes that family's conventions."""
    config = metadata.get("config.json")
    subs: dict[str, list[str]] = {}
    for key in _modality_configs(config):
        subs.setdefault(_modality(key.removesuffix("_config")), []).append(key)
    views = {}
    for kind, keys in subs.items():
        if len(keys) != 1:
            continue  # two sub-configs of one modality: which a module reads is not known
        others = tuple(f"config.json.{k}." for ks in subs.values() for k in ks if k != keys[0])
        views[kind] = _tower_view(config, whole, keys[0], others, known_types)
    # A composite whose config.json holds whole configs under the names of its members (the
    # library's EncoderDecoderConfig, VisionEncoderDecoderConfig: `encoder` and `decoder`, each a
    # model's config with its own model_type): a class under that member reads its own config, as
    # the library builds that member from it, and not the composite's architectures.
    # (A model saved with its config beside the weights, `{"state_dict": ..., "config": ...}`,
    # is read the same way.)
    for table in CONFIG_TABLES:
        config = metadata.get(table)
        roles = role_configs(config) if isinstance(config, dict) else []
        for key in roles:
            # the member is built from its own config alone: none of the composite's keys (its
            # architectures, its is_encoder_decoder) describe it, so none are in its view
            own = f"{table}.{key}."
            # (nor its model_type: the library builds the member as a model of its own type)
            prefixes = tuple({v[0] for v in whole.values() if not v[0].startswith(own)})
            views[ROLE_VIEW + key] = _tower_view(config, whole, key, prefixes, frozenset(), table)
    return views


def _tower_view(
    config: dict[str, Any],
    whole: dict[str, tuple[str, Any]],
    key: str,
    others: tuple[str, ...],
    known_types: frozenset[str],
    table: str = "config.json",
) -> dict[str, tuple[str, Any]]:
    """The flat metadata without the values under `others`, sub-config `key`'s own overriding the
    top level's, but for the model_type (see _tower_views)."""
    view = {k: v for k, v in whole.items() if not v[0].startswith(others)}
    view.update(_flatten({table: {key: config[key]}}))
    own = view.get("model_type")
    tower_known = own is not None and own[1] in known_types
    if "model_type" in whole and (whole["model_type"][1] in known_types or not tower_known):
        if whole["model_type"][0] not in others:  # (a member's view keeps its own)
            view["model_type"] = whole["model_type"]  # the tables know a composite by its type
    return view


# The metadata tables a model's own config lies in: a Hugging Face folder's, a trainer's.
CONFIG_TABLES = ("config.json", "config")
# The views of role sub-configs (`encoder`, `decoder`) are keyed by this prefix and the member name.
ROLE_VIEW = "member:"


def role_configs(config: dict[str, Any]) -> list[str]:
    """config.json's keys that hold a whole model's config (a table with a model_type of its own)
    under a member's name rather than a modality's (`encoder`, `decoder`)."""
    return [
        k
        for k, v in config.items()
        if isinstance(v, dict)
        and isinstance(v.get("model_type"), str)
        and k.isidentifier()
        and not k.endswith("_config")
        and _modality(k) is None
    ]


def _tower_of(path: str, views: dict[str, Any]) -> str | None:
    """The modality of the first segment of a key path named for one that has a view; or the
    member whose own config (a role sub-config) the path's first segment names."""
    if ROLE_VIEW + path.split(".")[0] in views:
        return ROLE_VIEW + path.split(".")[0]
    for segment in path.split("."):
        kind = _modality(segment)
        if kind is not None:
            return kind if kind in views else None
    return None


def _flatten(metadata: dict[str, Any]) -> dict[str, tuple[str, Any]]:
    """Every scalar (and list of ints) in nested metadata by its last key name, with its path;
    the shallowest wins, and an empty string says nothing."""
    out: dict[str, tuple[str, Any]] = {}
    for path, k, v in _levels(metadata):
        if isinstance(v, (int, float, str, bool)) and v != "":
            out.setdefault(k, (path, v))
        elif isinstance(v, list) and v and all(isinstance(x, str) for x in v):
            out.setdefault(k, (path, v[0]))  # `architectures`: the first names the model
        elif isinstance(v, list) and v and all(type(x) is int for x in v):
            out.setdefault(k, (path, list(v)))  # a per-stage table (EfficientNet's `strides`)
        elif isinstance(v, list) and not v and k in EMPTY_LISTS:
            out.setdefault(k, (path, []))  # a list of indices that says "none of them"
    return out


def load_hints(path: str | None) -> dict[str, dict[str, Any]]:
    """`--hints` TOML: a table per module path (globs allowed), e.g. `["transformer_encoder"] nhead = 4`."""
    if not path:
        return {}
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    text = read_small_text(Path(path), "hints")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ModelgenError(f"{path}: not valid TOML ({printable(str(e))})") from None
    except RecursionError:
        raise ModelgenError(f"{path}: nested too deeply for a hints file") from None
    hints: dict[str, dict[str, Any]] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            hints[key] = value
        else:  # top-level keys apply everywhere
            hints.setdefault("*", {})[key] = value
    return hints


# Domains of open-valued choices: a validator (value -> the value to use, or ModelgenError) and what
# `--list-choices` says they take beyond the listed values.
OPEN_DOMAINS: dict[str, tuple[Callable[[Any], Any], str]] = {
    "positive_int": (positive_int, "any positive whole number"),
    "index": (index_value, "any whole number >= 0"),
    "size": (size_value, "any whole number >= 0, or one per dimension"),
    "unit_float": (positive_float, "any number between 0 and 1"),
    "positive_number": (positive_number, "any number above 0"),
    "geometry": (geometry_value, "any [stride, padding, output_padding], output padding < stride"),
    "layer": (_layer, "any parameter-free nn layer, e.g. 'nn.MaxPool2d(3, stride=2)'"),
}
