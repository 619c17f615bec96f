"""Line items: name, quantity, prices, what sold them, and their modifiers from every place.

Modifiers arrive as ``descriptionLines`` (the documented mechanism: ``name`` and
``plainText``, the deprecated ``plainTextValue``, or ``colorInfo``), and by one Wix source also
as ``catalogReference.options.modifierGroups`` and ``priceVariant`` (newer orders may carry
``modifierGroups`` on the line item itself). The structure of the latter is not documented,
so it is walked tolerantly: any list (or map) of groups, each with a name and a list of
chosen modifiers under any of the usual keys, names as text or ``{original}``. What both
places say is printed once: a chosen modifier already standing in a description line is
dropped from the group.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from wixprint.wix.apps import item_kind
from wixprint.wix.model import LineItem, Modifier
from wixprint.wix.parse_money import TaxPart, line_taxes
from wixprint.wix.reader import Obj, Reader, at, blank

__all__ = ["parse_line_item"]

_NAME_KEYS = ("name", "title", "label", "displayName", "value")
_MEMBER_KEYS = ("modifiers", "selectedModifiers", "items", "options", "choices", "values")
_GROUP_KEYS = ("modifierGroups",)


def parse_line_item(r: Reader, item: Obj, path: str) -> tuple[LineItem, list[TaxPart]]:
    """One line item and the VAT parts Wix stated for it."""
    catalog = r.obj(item, "catalogReference", path)
    cp = at(path, "catalogReference")
    options = r.obj(catalog, "options", cp)
    described = _description_lines(r, item, path)
    grouped = _grouped(r, options, at(cp, "options"))
    grouped += _grouped(r, item, path)
    quantity = r.get(item, "quantity", path, int)
    rate, taxes = line_taxes(r, item, path)
    app_id = blank(r.text(catalog, "appId", cp))
    item_type = blank(r.text(r.obj(item, "itemType", path), "preset", at(path, "itemType")))
    parsed = LineItem(
        id=r.first_text(item, ("id", "_id"), path) or "",
        name=(r.localized(item, "productName", path) or "").strip(),
        quantity=1 if quantity is None else quantity,
        modifiers=tuple(described + _new_only(grouped, described)),
        unit_price=r.money(item, "price", path),
        total_price=r.money(item, "totalPriceAfterTax", path),
        tax_rate=rate,
        section_id=blank(r.text(options, "sectionId", at(cp, "options"))),
        app_id=app_id,
        catalog_item_id=blank(r.text(catalog, "catalogItemId", cp)),
        item_type=item_type,
        kind=item_kind(app_id, item_type),
    )
    return parsed, taxes


def _description_lines(r: Reader, item: Obj, path: str) -> list[Modifier]:
    out: list[Modifier] = []
    for mp, line in r.objs(item, "descriptionLines", path):
        name = (r.localized(line, "name", mp) or "").strip()
        if not name:
            continue
        value = ""
        for key in ("plainText", "plainTextValue", "colorInfo", "color"):
            found = blank(r.localized(line, key, mp))
            if found is not None:
                value = found.strip()
                break
        out.append(Modifier(name=name, value=value))
    return out


def _grouped(r: Reader, holder: Obj | None, path: str) -> list[Modifier]:
    """``modifierGroups`` and ``priceVariant`` under ``holder``, walked without trusting a
    shape. A non-empty value that yields nothing readable is warned about by path, so an
    operator knows to capture a real order."""
    out: list[Modifier] = []
    if holder is None:
        return out
    for key in _GROUP_KEYS:
        raw = holder.get(key)
        if raw is None:
            continue
        found = [m for group in _entries(raw) if (m := _group(group)) is not None]
        if not found and _entries(raw):
            r.warnings.append(at(path, key))
        out.extend(found)
    variant = holder.get("priceVariant")
    if variant is not None:
        label = _label(variant)
        if label is not None:
            out.append(Modifier(name="", value=label))
        elif not isinstance(variant, Mapping) or _has_text(variant):
            r.warnings.append(at(path, "priceVariant"))
    return out


def _entries(raw: object) -> list[object]:
    """A list as is; a map's values (groups keyed by id); anything else: nothing."""
    if isinstance(raw, list):
        return list(raw)
    if isinstance(raw, Mapping):
        return list(raw.values())
    return []


def _group(group: object) -> Modifier | None:
    """``Extras: Käse, 2x Speck`` from a group; a bare modifier (no member list) alone."""
    if not isinstance(group, Mapping):
        label = _label(group)
        return None if label is None else Modifier(name="", value=label)
    for key in _MEMBER_KEYS:
        members = group.get(key)
        if isinstance(members, list | Mapping):
            chosen = [label for m in _entries(members) if (label := _member(m)) is not None]
            if not chosen:
                return None  # a group with nothing chosen prints nothing
            return Modifier(name=_label(group) or "", value=", ".join(chosen))
    label = _member(group)
    return None if label is None else Modifier(name="", value=label)


def _member(node: object) -> str | None:
    label = _label(node)
    if label is None:
        return None
    quantity = node.get("quantity") if isinstance(node, Mapping) else None
    if isinstance(quantity, int) and not isinstance(quantity, bool) and quantity > 1:
        return f"{quantity}x {label}"
    return label


def _label(node: object) -> str | None:
    """A name from text, ``{name|title|label: text}`` or ``{name: {original|translated}}``."""
    if isinstance(node, str):
        return node.strip() or None
    if not isinstance(node, Mapping):
        return None
    for key in _NAME_KEYS:
        value = node.get(key)
        if isinstance(value, Mapping):
            value = value.get("original") or value.get("translated")
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _has_text(node: Mapping[str, object]) -> bool:
    return any(isinstance(v, str) and v.strip() for k, v in node.items() if k != "id")


def _norm(text: str) -> str:
    return " ".join(text.casefold().split())


def _tokens(mods: Iterable[Modifier]) -> set[str]:
    """Everything the description lines already say: each value, its comma-separated parts,
    and each name that stands without a value."""
    seen: set[str] = set()
    for m in mods:
        if m.value:
            seen.add(_norm(m.value))
            seen.update(_norm(part) for part in m.value.split(","))
        else:
            seen.add(_norm(m.name))
    return seen


def _new_only(grouped: list[Modifier], described: list[Modifier]) -> list[Modifier]:
    """The grouped modifiers with every part the description lines already show removed."""
    seen = _tokens(described)
    out: list[Modifier] = []
    for m in grouped:
        parts = [p.strip() for p in m.value.split(",") if p.strip()]
        fresh = [p for p in parts if _norm(p) not in seen]
        if fresh and _norm(m.value) not in seen:
            out.append(Modifier(name=m.name, value=", ".join(fresh)))
            seen.update(_norm(p) for p in fresh)
    return out
