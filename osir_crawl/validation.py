"""Validation rules for typed items: each problem is a sentence a person can act on."""

from __future__ import annotations

import dataclasses
import datetime as dt

from osir_crawl.registry import OWNER_PLATFORMS

MAX_TEXT = 2_000  # longer names, tags or urls are hostile or broken data
MAX_TAGS = 1_000


def problems(item, registry=None) -> list[str]:
    """What is wrong with ``item``; with the crawl's ``registry``, also whether the record's
    owner is an account of the org it is credited to (see ``owner_problem``)."""
    found: list[str] = []
    required = getattr(item, "REQUIRED", None) or (
        "platform", "repo_id", "org", "owner", "name", "url")
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
    for name in item.COUNTS:
        value = getattr(item, name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            found.append(f"{name} is {_short(value)}: expected a whole number")
        elif value < 0:
            found.append(f"{name} is {value}: counts cannot be negative")
    for f in dataclasses.fields(item):
        value = getattr(item, f.name)
        if isinstance(value, str):
            if len(value) > MAX_TEXT:
                found.append(f"{f.name} is {len(value)} characters long (limit {MAX_TEXT})")
            elif "\x00" in value:
                found.append(f"{f.name} contains a NUL character")
        if f.name.endswith(("_at", "_modified", "_update")) and value is not None \
                and not _is_iso(value):
            found.append(f"{f.name} is {_short(value)}: expected an ISO-8601 date")
    for name in ("tags", "architectures"):
        values = getattr(item, name, [])
        if not isinstance(values, list) or not all(isinstance(t, str) for t in values):
            found.append(f"{name} is {_short(values)}: expected a list of strings")
        elif len(values) > MAX_TAGS:
            found.append(f"{name} has {len(values)} entries (limit {MAX_TAGS})")
    for name in ("score", "params"):
        value = getattr(item, name, None)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            found.append(f"{name} is {_short(value)}: expected a number")
    for name in ("archived", "fork", "mirror", "public", "counted", "maintained", "exists"):
        value = getattr(item, name, None)
        # 1 and 0 are booleans too: GitCode's documented schema types fork/private/public so.
        if value is not None and not isinstance(value, bool) and not (
                isinstance(value, int) and value in (0, 1)):
            found.append(f"{name} is {_short(value)}: expected true or false")
    return found


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
