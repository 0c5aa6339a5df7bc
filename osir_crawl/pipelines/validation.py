"""Validation rules for typed items: each problem is a sentence a person can act on."""

from __future__ import annotations

import datetime as dt

from osir_crawl.inputs.registry import OWNER_PLATFORMS
from osir_crawl.store.schema import field_types, required_fields

MAX_TEXT = 2_000  # longer names, tags or urls are hostile or broken data
MAX_TAGS = 1_000
DATE_SUFFIXES = ("_at", "_modified", "_update")  # fields holding ISO-8601 dates


def problems(item, registry=None) -> list[str]:
    """What is wrong with ``item``; with the crawl's ``registry``, also whether the record's
    owner is an account of the org it is credited to (see ``owner_problem``). What each field
    must hold follows from its type in osir_crawl/items.py (see ``field_problem``)."""
    found: list[str] = []
    required = required_fields(type(item))
    for name in required:
        value = getattr(item, name)
        if name in ("owner", "name") and any("repo_id" in p for p in found):
            continue  # derived from repo_id: one complaint is enough
        if not isinstance(value, str) or not value.strip():
            found.append(f"{name} is missing (got {value!r})")
    if hasattr(item, "owner") and not found:
        if item.repo_id != f"{item.owner}/{item.name}":
            found.append(f"repo_id {item.repo_id!r} is not owner/name ({item.owner}/{item.name})")
        elif not (_segment(item.owner) and _segment(item.name)):
            found.append(f"repo_id {item.repo_id!r} is not owner/name (one slash, no . or ..)")
        elif registry is not None and (problem := owner_problem(item, registry)):
            found.append(problem)
    for name, kind in field_types(type(item)).items():
        value = getattr(item, name)
        if value is not None and not (name in required and not isinstance(value, str)):
            found.extend(field_problem(name, kind, value))
    return found


def field_problem(name: str, kind: type, value) -> list[str]:
    """What is wrong with ``value`` (not None) for a field of type ``kind``: a count is a
    whole number >= 0, a number an int or float, a flag true or false (or 1 or 0, as GitCode's
    documented schema types them), a text not too long, without NUL, an ISO-8601 date where
    the name says so (``*_at``, ``*_modified``, ``*_update``), a list one of texts."""
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            return [f"{name} is {_short(value)}: expected a whole number"]
        return [f"{name} is {value}: counts cannot be negative"] if value < 0 else []
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return [f"{name} is {_short(value)}: expected a number"]
        return []
    if kind is bool:
        if not isinstance(value, bool) and not (isinstance(value, int) and value in (0, 1)):
            return [f"{name} is {_short(value)}: expected true or false"]
        return []
    if kind is list:
        if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
            return [f"{name} is {_short(value)}: expected a list of strings"]
        if len(value) > MAX_TAGS:
            return [f"{name} has {len(value)} entries (limit {MAX_TAGS})"]
        return [f"{name} {p}" for p in (_text_problem(t) for t in value) if p][:1]
    if kind is dict:
        return [] if isinstance(value, dict) else [
            f"{name} is {_short(value)}: expected a mapping"]
    if isinstance(value, str) and (problem := _text_problem(value)):
        return [f"{name} {problem}"]
    if name.endswith(DATE_SUFFIXES) and not _is_iso(value):
        return [f"{name} is {_short(value)}: expected an ISO-8601 date"]
    if not isinstance(value, str):
        return [f"{name} is {_short(value)}: expected a text"]
    return []


def _text_problem(value: str) -> str | None:
    if len(value) > MAX_TEXT:
        return f"is {len(value)} characters long (limit {MAX_TEXT})"
    if "\x00" in value:
        return "contains a NUL character"
    return None


def owner_problem(item, registry) -> str | None:
    """A record must belong to the org it is credited to: on platforms whose accounts are the
    repos' owners, its owner is a registry account of that org (case-insensitive, as the
    platforms are). A listing that serves another owner's repo (or a forged id) would
    otherwise credit it to the listed account's org. An id of another account of the same org
    is kept: it is credited rightly. OpenDataLab lists by creator id, not by owner name, and
    the registry has no owner names to check against there."""
    if item.platform not in OWNER_PLATFORMS or item.org not in registry.orgs:
        return None
    if registry.org_of(item.platform, item.owner) == item.org:
        return None
    return (f"owner {item.owner!r} is not an account of {item.org} on {item.platform} "
            "in the registry: the record is not that org's")


def _segment(value: str) -> bool:
    """One path segment of an id: not empty, no slash, not . or .. (an id is never a path)."""
    return bool(value) and "/" not in value and "\\" not in value and value not in (".", "..")


def _is_iso(value) -> bool:
    if not isinstance(value, str):
        return False
    try:
        dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
