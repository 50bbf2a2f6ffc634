"""A layer registered twice: as a plain attribute and as an item of a container (SNGAN's
`self.conv1 = nn.Conv2d(...)` then `self.model = nn.Sequential(..., self.conv1, ...)`). The state
dict holds its tensors under both names, sharing storage (the loaders record that as `tied_to`).

The container's position says where the layer runs; the attribute is only a handle. So the handle
is taken out of the key tree before the analysis (no pattern sees a second, unused layer) and the
generated class registers it again as the same object, `self.conv1 = self.model[3]`, so the file
strict-loads both names and trains one layer, as the original does.

Only a handle beside an indexed item is read so: two plain names sharing storage (a decoder's head
tied to its token table) are two uses of one weight, which patterns read themselves."""

from __future__ import annotations

from codegen.keytree import KeyNode
from codegen.safetext import is_index, is_plain_attr


def split_handles(root: KeyNode) -> dict[str, list[tuple[str, str]]]:
    """Remove each handle's subtree from the (fresh, uncached) tree; by the path of the node that
    holds it: (its attribute, the expression of the item it names, `self.model[3]`)."""
    nodes = _nodes(root)
    partners: dict[str, set[str]] = {}  # key -> the other keys sharing its storage
    for node in nodes:
        for t in node.tensors.values():
            if t.tied_to:
                group = partners.setdefault(t.tied_to, {t.tied_to})
                group.add(t.name)
                partners[t.name] = group
    handles: dict[str, list[tuple[str, str]]] = {}
    if not partners:
        return handles
    for node in nodes:
        for name, child in list(node.children.items()):
            target = _named_item(node, child, partners)
            if target is not None:
                del node.children[name]
                handles.setdefault(node.path, []).append((name, target))
    return handles


def _nodes(root: KeyNode) -> list[KeyNode]:
    out, stack = [], [root]
    while stack:  # (not KeyNode.walk: it caches, and this tree is about to change)
        node = stack.pop()
        out.append(node)
        stack += node.children.values()
    return out


def _tensors(node: KeyNode, above: str = "") -> dict[str, str]:
    """Every tensor under `node`: its path below the node -> its key."""
    out = {f"{above}{n}": t.name for n, t in node.tensors.items()}
    for name, child in node.children.items():
        out.update(_tensors(child, f"{above}{name}."))
    return out


def _named_item(holder: KeyNode, child: KeyNode, partners: dict[str, set[str]]) -> str | None:
    """`self.<rel>` with indices as subscripts, where every tensor of `child` shares storage with
    the same tensor of one other node under `holder` that an index reaches; else None."""
    if not is_plain_attr(child.name) or is_index(child.name):
        return None
    own = _tensors(child)
    if not own or any(key not in partners for key in own.values()):
        return None
    local, key = next(iter(own.items()))
    prefix = f"{holder.path}." if holder.path else ""
    for other in sorted(partners[key] - {key}):
        if not other.endswith(f".{local}") or not other.startswith(prefix):
            continue
        rel = other[len(prefix) : -len(local) - 1]
        parts = rel.split(".")
        if parts[0] == child.name or not any(is_index(p) for p in parts):
            continue
        if not all(is_index(p) or is_plain_attr(p) for p in parts):
            continue
        target = _find(holder, parts)
        if target is None or len(_tensors(target)) != len(own):
            continue
        if all(f"{prefix}{rel}.{n}" in partners[k] for n, k in own.items()):
            return "self" + "".join(f"[{p}]" if is_index(p) else f".{p}" for p in parts)
    return None


def _find(node: KeyNode, parts: list[str]) -> KeyNode | None:
    for p in parts:
        node = node.children.get(p)
        if node is None:
            return None
    return node


def attach_handles(classes, handles: dict[str, list[tuple[str, str]]]) -> bool:
    """Each class registers its instances' handles; False where instances of one class hold
    different handles (the tree without them merged what the keys keep apart)."""
    placed: set[str] = set()
    for cls in classes:
        paths = [path for path, _ in cls.instances] or ([""] if cls.is_top else [])
        found = [sorted(handles.get(path, [])) for path in paths]
        if any(f != found[0] for f in found):
            return False
        if found and found[0]:
            if cls.base_module is not None:
                return False
            cls.aliases = found[0]
            placed.update(paths)
    return placed >= set(handles)
