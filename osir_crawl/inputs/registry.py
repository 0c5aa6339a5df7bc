"""The organisation registry (``data/orgs.yaml``): which accounts each organisation owns.

Format (:class:`RegistryFile`): a mapping from org name to platform keys. Each platform key
holds a list of account names (or ``{account: NAME, source: URL}`` mappings, where ``source`` is
evidence a reviewer can check); ``baai_data`` is true/false. Loading validates the whole file
and raises :class:`RegistryError` naming the file, the line, the org and the problem.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    RootModel,
    field_validator,
    model_validator,
)

from osir_crawl.inputs import line_of, load_yaml, validated
from osir_crawl.inputs.yaml_input import dotted, message

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



# --- the file's model --------------------------------------------------------------------------

def _org_name(name: str) -> str:
    if not name.strip():
        raise ValueError(f"org name {name!r} must be a non-empty string")
    if UNREGISTERED_SEPARATOR in name:
        raise ValueError(f"org name {name!r} may not contain {UNREGISTERED_SEPARATOR!r} (it "
                         "marks unregistered authors, e.g. huggingface:someone)")
    return name


def _plain_name(name: str) -> str:
    if not name.strip() or "/" in name:
        raise ValueError("must be a plain account name")
    return name.strip()


def _as_entry(value):
    """A bare account name is the entry ``{account: NAME}``."""
    return value if isinstance(value, dict) else {"account": value}


class AccountEntry(BaseModel):
    """One account of a platform list: ``NAME`` or ``{account: NAME, source: URL}``."""

    model_config = ConfigDict(extra="forbid", strict=True)

    account: Annotated[str, AfterValidator(_plain_name)]
    source: str | None = None  # evidence a reviewer can check


class CreatorEntry(AccountEntry):
    """An OpenDataLab account: a creator id, which YAML reads as a number."""

    @field_validator("account", mode="before")
    @classmethod
    def _id_as_text(cls, value):
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


Accounts = list[Annotated[AccountEntry, BeforeValidator(_as_entry)]]


class OrgAccounts(BaseModel):
    """One org's platform keys (ACCOUNT_PLATFORMS, FLAG_PLATFORMS)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    huggingface: Accounts = []
    modelscope: Accounts = []
    github: Accounts = []
    gitee: Accounts = []
    gitcode: Accounts = []
    openi: Accounts = []
    opendatalab: list[Annotated[CreatorEntry, BeforeValidator(_as_entry)]] = []
    baai_data: bool = False


class RegistryFile(RootModel[dict[Annotated[str, AfterValidator(_org_name)],
                                  OrgAccounts | None]]):
    """``data/orgs.yaml``: org name -> its platform keys, in registry order."""

    @model_validator(mode="after")
    def _not_empty(self):
        if not self.root:
            raise ValueError("expected a mapping of org name -> platform accounts")
        return self


assert set(OrgAccounts.model_fields) == set(PLATFORMS)


def _describe(loc: tuple, error: dict) -> str:
    """A problem of the registry file in its own terms: the org, the platform, the account."""
    if not loc:
        return "expected a mapping of org name -> platform accounts"
    org, what = loc[0], message(error)
    if len(loc) == 1:
        if error["loc"][-1] == "[key]":  # the name itself
            return what if error["type"] == "value_error" else f"org name {org!r} {what}"
        return f"org {org}: expected a mapping of platform -> accounts"
    platform = loc[1]
    if len(loc) == 2:
        if error["type"] == "extra_forbidden":
            return f"org {org}: unknown platform key {platform!r} (known: {', '.join(PLATFORMS)})"
        if error["type"] == "list_type":
            return f"org {org}: {platform} must be a list of accounts"
        return f"org {org}: {platform} {what}"
    entry = error["input"] if loc[3:] == ("account",) else None
    if len(loc) == 3 or loc[3:] == ("account",):
        return f"org {org}: {platform} account {entry!r} must be a plain account name"
    return f"org {org}: {platform} account entry: {dotted(loc[3:], error)}"


DEFAULT_REGISTRY = "data/orgs.yaml"  # OSIR_ORGS's default


def load_registry(path: str | Path) -> Registry:
    """The registry in ``path``, validated as a whole: RegistryError naming the file, the line,
    the org and the problem, so a bad registry stops a crawl before any request is sent."""
    path = str(path)
    raw = load_yaml(path, RegistryError, "registry")
    orgs = validated(RegistryFile, raw, path, RegistryError, _describe).root
    registry = Registry(path=path, orgs=list(orgs))
    owners: dict[tuple[str, str], str] = {}
    for org, declared in orgs.items():
        for platform in (raw[org] or {}) if declared else ():  # in the file's order
            value = getattr(declared, platform)
            if platform in FLAG_PLATFORMS:
                if value:
                    registry.flags.setdefault(platform, set()).add(org)
                continue
            for i, entry in enumerate(value):
                key = (platform, entry.account.casefold())
                if key in owners:
                    raise RegistryError(
                        f"{path}:{line_of(raw, (org, platform, i))}: org {org}: {platform} "
                        f"account {entry.account!r} is already claimed by org {owners[key]}")
                owners[key] = org
                registry.accounts.append(Account(platform, entry.account, org, entry.source))
    return registry
