"""The organisation registry (``data/orgs.yaml``): which accounts each organisation owns.

Format: a mapping from org name to platform keys. Each platform key holds a list of account
names (or ``{account: NAME, source: URL}`` mappings, where ``source`` is evidence a reviewer can
check); ``baai_data`` is true/false. Loading validates the whole file and raises
:class:`RegistryError` naming the org and the problem, so a bad registry stops a crawl before
any request is sent.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import yaml

ACCOUNT_PLATFORMS = (
    "huggingface",
    "modelscope",
    "github",
    "gitee",
    "gitcode",
    "openi",
    "opendatalab",
)
FLAG_PLATFORMS = ("baai_data",)
PLATFORMS = ACCOUNT_PLATFORMS + FLAG_PLATFORMS
# Platforms whose account names are the owners of the repos listed under them (OpenDataLab's
# accounts are creator ids, not owner names).
OWNER_PLATFORMS = tuple(p for p in ACCOUNT_PLATFORMS if p != "opendatalab")


# Repositories of authors outside the registry (``-a universe=all``) are credited to the
# unregistered org ``platform:author`` (``huggingface:unsloth``): registry org names may not
# hold the separator, so such an org can never be mistaken for, or merged into, a registry one.
UNREGISTERED_SEPARATOR = ":"


def unregistered_org(platform: str, author: str) -> str:
    return f"{platform}{UNREGISTERED_SEPARATOR}{author}"


class RegistryError(ValueError):
    """The registry file is malformed; the message names the org and the problem."""


@dataclass(frozen=True)
class Account:
    platform: str
    name: str
    org: str
    source: str | None = None


@dataclass
class Registry:
    path: str
    orgs: list[str]
    accounts: list[Account] = field(default_factory=list)
    flags: dict[str, set[str]] = field(default_factory=dict)

    def accounts_on(self, platform: str, orgs: Iterable[str] | None = None) -> list[Account]:
        """The accounts on one platform, in registry order, optionally limited to some orgs."""
        wanted = set(orgs) if orgs is not None else None
        return [
            a
            for a in self.accounts
            if a.platform == platform and (wanted is None or a.org in wanted)
        ]

    def org_of(self, platform: str, account: str) -> str | None:
        """The org owning ``account`` on ``platform`` (case-insensitive, as the hubs are)."""
        return self._owner_index.get((platform, account.casefold()))

    @cached_property
    def _owner_index(self) -> dict[tuple[str, str], str]:
        return {(a.platform, a.name.casefold()): a.org for a in self.accounts}

    def orgs_with_flag(self, flag: str) -> list[str]:
        return [o for o in self.orgs if o in self.flags.get(flag, set())]

    def select(self, names: str | Iterable[str] | None) -> list[str]:
        """Validate an ``-a orgs=A,B`` selection; None or empty means every org."""
        if names is None:
            return list(self.orgs)
        if isinstance(names, str):
            names = [n.strip() for n in names.split(",")]
        chosen = [n for n in names if n]
        if not chosen:
            return list(self.orgs)
        unknown = [n for n in chosen if n not in self.orgs]
        if unknown:
            hints = [hint for n in unknown if (hint := self.did_you_mean(n))]
            raise RegistryError(
                f"{self.path}: unknown org(s) {', '.join(unknown)}"
                + (f"; did you mean {'; '.join(hints)}?" if hints else "")
                + f"; known: {', '.join(self.orgs)}"
            )
        return chosen

    def did_you_mean(self, name: str) -> str | None:
        """The org a mistyped selection most likely means: the same name in another case, the
        org owning an account of that name (``Qwen`` -> Ali), or a close spelling."""
        folded = name.casefold()
        for org in self.orgs:
            if org.casefold() == folded:
                return org
        owners = {}  # org -> the platforms where ``name`` is its account
        for account in self.accounts:
            if account.name.casefold() == folded:
                owners.setdefault(account.org, []).append(account.platform)
        if owners:
            return " or ".join(f"{org} ({name} is its {', '.join(platforms)} account)"
                               for org, platforms in owners.items())
        close = difflib.get_close_matches(folded, [o.casefold() for o in self.orgs], n=1)
        return next((o for o in self.orgs if close and o.casefold() == close[0]), None)


class _DuplicateKey(yaml.YAMLError):
    def __init__(self, key, line: int, first: int):
        super().__init__(f"line {line}: {key!r} appears twice in one mapping "
                         f"(first on line {first}); only one can count")


# libyaml's parser where PyYAML was built with it: the same documents and line marks (terser
# error texts), about eight times faster (every spider loads the registry, and most the
# catalogue, when it starts).
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _UniqueKeyLoader(SAFE_LOADER):
    """The safe loader, refusing a mapping key given twice: PyYAML keeps the last silently, so
    an org listed twice would lose the accounts of its first entry (and its stored rows)."""

    def construct_mapping(self, node, deep=False):
        lines: dict = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                first = lines.setdefault(key, key_node.start_mark.line + 1)
            except TypeError:  # an unhashable key: the constructor reports it
                continue
            if first != key_node.start_mark.line + 1:
                raise _DuplicateKey(key, key_node.start_mark.line + 1, first)
        return super().construct_mapping(node, deep=deep)


def load_registry(path: str | Path) -> Registry:
    path = str(path)
    try:
        with open(path, encoding="utf-8") as fh:
            raw = yaml.load(fh, Loader=_UniqueKeyLoader)  # noqa: S506 -- a SafeLoader
    except FileNotFoundError:
        raise RegistryError(f"{path}: registry file not found") from None
    except OSError as exc:  # a folder, no permission
        raise RegistryError(f"{path}: cannot read the registry: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise RegistryError(f"{path}: not UTF-8 text (byte {exc.start}: {exc.reason})") from None
    except _DuplicateKey as exc:
        raise RegistryError(f"{path}: {exc}") from None
    except yaml.YAMLError as exc:  # one line: the message goes to a terminal or a log
        raise RegistryError(f"{path}: not valid YAML: {' '.join(str(exc).split())}") from None
    if not isinstance(raw, dict) or not raw:
        raise RegistryError(f"{path}: expected a mapping of org name -> platform accounts")

    registry = Registry(path=path, orgs=[])
    owners: dict[tuple[str, str], str] = {}
    for org, platforms in raw.items():
        if not isinstance(org, str) or not org.strip():
            raise RegistryError(f"{path}: org name {org!r} must be a non-empty string")
        if UNREGISTERED_SEPARATOR in org:
            raise RegistryError(f"{path}: org name {org!r} may not contain "
                                f"{UNREGISTERED_SEPARATOR!r} (it marks unregistered authors, "
                                "e.g. huggingface:someone)")
        if platforms is None:
            platforms = {}
        if not isinstance(platforms, dict):
            raise RegistryError(f"{path}: org {org}: expected a mapping of platform -> accounts")
        registry.orgs.append(org)
        for platform, value in platforms.items():
            if platform not in PLATFORMS:
                raise RegistryError(
                    f"{path}: org {org}: unknown platform key {platform!r} "
                    f"(known: {', '.join(PLATFORMS)})"
                )
            if platform in FLAG_PLATFORMS:
                if not isinstance(value, bool):
                    raise RegistryError(f"{path}: org {org}: {platform} must be true or false")
                if value:
                    registry.flags.setdefault(platform, set()).add(org)
                continue
            for account in _accounts(path, org, platform, value):
                key = (platform, account.name.casefold())
                if key in owners:
                    raise RegistryError(
                        f"{path}: org {org}: {platform} account {account.name!r} "
                        f"is already claimed by org {owners[key]}"
                    )
                owners[key] = org
                registry.accounts.append(account)
    return registry


def _accounts(path: str, org: str, platform: str, value) -> list[Account]:
    if not isinstance(value, list):
        raise RegistryError(f"{path}: org {org}: {platform} must be a list of accounts")
    accounts = []
    for entry in value:
        source = None
        if isinstance(entry, dict):
            source = entry.get("source")
            entry = entry.get("account")
        if isinstance(entry, int) and platform == "opendatalab":
            entry = str(entry)  # creator ids are numbers
        if not isinstance(entry, str) or not entry.strip() or "/" in entry:
            raise RegistryError(
                f"{path}: org {org}: {platform} account {entry!r} must be a plain account name"
            )
        if source is not None and not isinstance(source, str):
            raise RegistryError(f"{path}: org {org}: {platform} account {entry}: bad source")
        accounts.append(Account(platform, entry.strip(), org, source))
    return accounts
