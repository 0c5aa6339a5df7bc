"""The catalogue (``data/catalogue/{infra,eval}.yaml``): what the infrastructure and evaluation
indicators count, one entry per thing, each with its org, evidence and verification date.

``load_catalogue(folder, orgs=None)`` reads and validates both files and returns a
:class:`Catalogue`; a malformed entry raises :class:`CatalogueError` naming the file, the line
and the problem, so a bad catalogue stops a crawl or a build before anything runs. Plain
PyYAML, no Scrapy: spiders (which repositories and boards to check, which counting rules to
evaluate) and scoring (the indicators) read the same objects. docs/catalogue.md describes
every field.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from osir_crawl.inputs.yaml_input import SAFE_LOADER

CATALOGUE_DIR = Path(__file__).resolve().parents[1] / "data" / "catalogue"
KINDS = ("operator_library", "parallel_framework", "deep_learning_framework", "ai_compiler",
         "communication_library", "data_processing_tool")
LIFECYCLE = ("pretraining", "finetuning", "inference", "serving")
FORGES = ("github", "gitee", "gitcode", "openi")
RULE_FORGES = {"github": ("file", "dir", "tree"), "gitee": ("file", "dir", "tree"),
               "gitcode": ("file", "dir")}  # GitCode pages its recursive tree: no tree rules
COUNTED = ("operators", "chips")  # fields a counting rule may refresh
STALE_DAYS = 183  # an entry verified longer ago than this before a snapshot is flagged


class CatalogueError(ValueError):
    """A catalogue file is malformed; the message names the file, line and problem."""


@dataclass(frozen=True)
class Repo:
    platform: str
    repo_id: str  # owner/name as the forge spells it

    def __str__(self) -> str:
        return f"{self.platform}:{self.repo_id}"

    @property
    def url(self) -> str:
        host = {"github": "github.com", "gitee": "gitee.com", "gitcode": "gitcode.com",
                "openi": "openi.pcl.ac.cn"}[self.platform]
        return f"https://{host}/{self.repo_id}"


@dataclass(frozen=True)
class Rule:
    """Count the distinct first groups of ``pattern`` over what the rule reads, on each of
    ``refs`` (or the default branch): a file's text (``file``), the entries of one folder
    (``dir``: each entry's path, a folder's with a trailing ``/``) or every path of the
    repository tree (``tree``: neither given). ``within`` narrows a file to the first groups
    of its matches first (e.g. one Python list); names matching ``exclude`` are left out."""

    project: str
    field: str  # operators | chips
    repo: Repo
    pattern: str
    file: str | None = None
    dir: str | None = None
    refs: tuple[str, ...] = ()
    exclude: str | None = None
    within: str | None = None
    means: str = ""

    @property
    def key(self) -> str:
        return f"{self.project}.{self.field}"

    @property
    def reads(self) -> str:
        """file | dir | tree: which of the forge's APIs the rule reads."""
        return "file" if self.file else "dir" if self.dir else "tree"

    def names(self, texts) -> set[str]:
        """The distinct names the rule matches in ``texts`` (file texts or paths)."""
        if self.within:
            region = re.compile(self.within, re.M | re.S)
            texts = [m.group(1) for text in texts for m in region.finditer(text)]
        found = set()
        pattern, exclude = re.compile(self.pattern, re.M), self.exclude and re.compile(self.exclude)
        for text in texts:
            for match in pattern.finditer(text):
                name = match.group(1)
                if not (exclude and exclude.search(name)):
                    found.add(name)
        return found


@dataclass
class Entry:
    id: str
    name: str
    org: str
    since: dt.date
    evidence: list[str]
    verified: dt.date
    file: str
    line: int
    note: str = ""
    repos: list[Repo] = field(default_factory=list)

    def exists_on(self, snapshot: dt.date) -> bool:
        return self.since <= snapshot

    def stale_on(self, snapshot: dt.date) -> bool:
        return (snapshot - self.verified).days > STALE_DAYS

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass
class Project(Entry):
    kinds: list[str] = field(default_factory=list)
    status: str = "active"
    chips: list[str] = field(default_factory=list)
    frameworks: list[str] = field(default_factory=list)
    operators: int | None = None
    heterogeneous_training: bool = False
    cross_chip: bool = False
    lifecycle: list[str] = field(default_factory=list)
    rules: dict[str, Rule] = field(default_factory=dict)  # field -> rule


@dataclass
class Board(Entry):
    url: str = ""
    spider: str | None = None
    board: str | None = None  # the store's board name, for a crawled single board
    board_prefix: str | None = None  # a crawl that yields one board per sub-leaderboard
    models: int | None = None  # evaluated models, for a board no crawl reads
    public_only: bool = True  # whether `models` counts public models only
    maintained: bool | None = None
    last_update: dt.date | None = None
    dataset_release: bool = False
    datasets: list[str] = field(default_factory=list)
    methods: list[str] = field(default_factory=list)

    def covers(self, board: str) -> bool:
        """Whether a crawled board name belongs to this entry."""
        if self.board_prefix:
            return board.startswith(self.board_prefix)
        return board == (self.board or self.id)


@dataclass
class ModelAccess(Entry):
    """Whether models a board names have open weights, where neither the board nor the store
    says (``open: false``: closed or API-only). ``models``: names, case-insensitive; a name
    ending in ``*`` is a prefix."""

    models: list[str] = field(default_factory=list)
    open: bool = False

    def matches(self, model) -> bool:
        folded = str(model).strip().casefold()
        return any(folded.startswith(m[:-1].casefold()) if m.endswith("*")
                   else folded == m.casefold() for m in self.models)


@dataclass
class ModelChips(Entry):
    """The chips an organisation's models are adapted to (model ``num_adapted_chips``)."""

    chips: list[str] = field(default_factory=list)


@dataclass
class Gap:
    dimension: str
    org: str
    indicator: str
    published: float
    catalogue: float
    note: str
    where: str


@dataclass
class Side:
    """One file's shared facts: where it was seeded from, when last reviewed as a whole."""

    seeded_from: list[str]
    reviewed: dt.date
    file: str


@dataclass
class Catalogue:
    projects: list[Project]
    boards: list[Board]
    datasets: list[Entry]
    methods: list[Entry]
    tools: list[Entry]
    gaps: list[Gap]
    infra: Side
    eval: Side
    model_chips: list[ModelChips] = field(default_factory=list)
    chip_vendors: dict[str, str] = field(default_factory=dict)  # casefolded spelling -> vendor
    model_access: list[ModelAccess] = field(default_factory=list)

    def vendor(self, name: str) -> str:
        """The chip vendor a project's or a rule's chip name stands for (``npu`` and
        ``ascend`` are both Ascend); a name the catalogue does not map stands for itself."""
        return self.chip_vendors.get(name.casefold(), name.casefold())

    def rules(self) -> list[Rule]:
        return [r for p in self.projects for r in p.rules.values()]

    def repos(self, platform: str | None = None) -> list[tuple[Repo, Entry]]:
        """Every catalogued repository (with the entry naming it), once per repository."""
        seen, out = set(), []
        for entry in [*self.projects, *self.datasets, *self.methods, *self.tools]:
            for repo in entry.repos:
                if (platform is None or repo.platform == platform) and repo not in seen:
                    seen.add(repo)
                    out.append((repo, entry))
        return out

    def board_entry(self, board: str) -> Board | None:
        return next((b for b in self.boards if b.spider and b.covers(board)), None)


# --- loading ---------------------------------------------------------------------------------

class _LineLoader(SAFE_LOADER):
    """Records each mapping's line (1-based) under ``__line__``."""

    def construct_mapping(self, node, deep=False):
        mapping = super().construct_mapping(node, deep=deep)
        mapping["__line__"] = node.start_mark.line + 1
        return mapping


def load_catalogue(folder=None, orgs=None) -> Catalogue:
    folder = Path(folder or CATALOGUE_DIR)
    infra, eval_ = _read(folder / "infra.yaml"), _read(folder / "eval.yaml")
    check = _Checker(orgs)
    projects = [check.project(raw, infra.name) for raw in _list(infra, "projects")]
    boards = [check.board(raw, eval_.name) for raw in _list(eval_, "boards")]
    items = {k: [check.entry(raw, eval_.name, k) for raw in _list(eval_, k)]
             for k in ("datasets", "methods", "tools")}
    gaps = [check.gap(raw, f.name, raw.get("dimension") or dim)
            for f, dim in ((infra, "infra"), (eval_, "eval")) for raw in _list(f, "gaps")]
    chips = [ModelChips(**check.common(raw, infra.name),
                        chips=check.names(raw, infra.name, "chips"))
             for raw in _list(infra, "model_chips")]
    access = [ModelAccess(**check.common(raw, eval_.name),
                          models=check.names(raw, eval_.name, "models"),
                          open=check.flag(raw, eval_.name, "open"))
              for raw in _list(eval_, "model_access")]
    return Catalogue(projects, boards, items["datasets"], items["methods"], items["tools"], gaps,
                     check.side(infra), check.side(eval_), chips, check.chip_vendors(infra),
                     access)


class _File(dict):
    name = ""


def _read(path: Path) -> _File:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CatalogueError(f"{path}: cannot read the catalogue ({exc.strerror})") from None
    try:
        data = yaml.load(text, Loader=_LineLoader)  # noqa: S506 -- a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f":{mark.line + 1}" if mark else ""
        raise CatalogueError(f"{path.name}{at}: not valid YAML ({exc})") from None
    if not isinstance(data, dict):
        raise CatalogueError(f"{path.name}: expected a mapping at the top")
    out = _File(data)
    out.name = path.name
    return out


def _list(data: _File, key: str) -> list:
    value = data.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise CatalogueError(f"{data.name}:{data.get('__line__', 1)}: {key} must be a list of "
                             f"mappings")
    return value


class _Checker:
    def __init__(self, orgs):
        self.orgs = set(orgs) if orgs is not None else None
        self.ids: dict[str, str] = {}

    def fail(self, raw, file, message):
        raise CatalogueError(f"{file}:{raw.get('__line__', '?')}: {message}")

    def text(self, raw, file, key, required=True) -> str:
        value = raw.get(key)
        if value is None and not required:
            return ""
        if not isinstance(value, str) or not value.strip():
            self.fail(raw, file, f"{key} must be a non-empty text (got {value!r})")
        return value.strip()

    def date(self, raw, file, key, required=True) -> dt.date | None:
        value = raw.get(key)
        if value is None and not required:
            return None
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            self.fail(raw, file, f"{key} must be a YYYY-MM-DD date (got {value!r})")

    def names(self, raw, file, key, allowed=None) -> list[str]:
        value = raw.get(key) or []
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            self.fail(raw, file, f"{key} must be a list of names (got {value!r})")
        if allowed and (bad := [v for v in value if v not in allowed]):
            self.fail(raw, file, f"{key}: unknown {bad} (known: {', '.join(allowed)})")
        return list(value)

    def flag(self, raw, file, key, default=False):
        value = raw.get(key, default)
        if value is not None and not isinstance(value, bool):
            self.fail(raw, file, f"{key} must be true or false (got {value!r})")
        return value

    def count(self, raw, file, key) -> int | None:
        value = raw.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or value < 0):
            self.fail(raw, file, f"{key} must be a whole number >= 0 or null (got {value!r})")
        return value

    def repo(self, raw, file, text) -> Repo:
        platform, _, repo_id = str(text).partition(":")
        owner, _, name = repo_id.partition("/")
        if platform not in FORGES or not owner or not name or "/" in name:
            self.fail(raw, file, f"repository {text!r} is not forge:owner/name "
                                 f"(forges: {', '.join(FORGES)})")
        return Repo(platform, repo_id)

    def common(self, raw, file) -> dict:
        id_ = self.text(raw, file, "id")
        if not re.fullmatch(r"[a-z0-9][a-z0-9._-]*", id_):
            self.fail(raw, file, f"id {id_!r}: lowercase letters, digits, '.', '_' or '-'")
        if id_ in self.ids:
            self.fail(raw, file, f"id {id_!r} is used twice (also at {self.ids[id_]})")
        self.ids[id_] = f"{file}:{raw.get('__line__')}"
        org = self.text(raw, file, "org")
        if self.orgs is not None and org not in self.orgs:
            self.fail(raw, file, f"org {org!r} is not in the registry")
        evidence = raw.get("evidence")
        if (not isinstance(evidence, list) or not evidence
                or not all(isinstance(u, str) and u.startswith(("http://", "https://"))
                           for u in evidence)):
            self.fail(raw, file, f"evidence must be a list of http(s) URLs (got {evidence!r})")
        repos = raw.get("repos") or []
        if not isinstance(repos, list):
            self.fail(raw, file, "repos must be a list of forge:owner/name")
        since, verified = self.date(raw, file, "since"), self.date(raw, file, "verified")
        return dict(id=id_, name=self.text(raw, file, "name"), org=org, since=since,
                    evidence=list(evidence), verified=verified, file=file,
                    line=raw.get("__line__", 0), note=self.text(raw, file, "note", False),
                    repos=[self.repo(raw, file, r) for r in repos])

    def entry(self, raw, file, section) -> Entry:
        return Entry(**self.common(raw, file))

    def project(self, raw, file) -> Project:
        base = self.common(raw, file)
        kinds = self.names(raw, file, "kinds", KINDS)
        if not kinds:
            self.fail(raw, file, f"kinds is empty (known: {', '.join(KINDS)})")
        rules = {}
        for name, spec in (raw.get("counts") or {}).items():
            if name == "__line__":
                continue
            if name not in COUNTED or not isinstance(spec, dict):
                self.fail(raw, file, f"counts.{name}: only {', '.join(COUNTED)} can be counted")
            rules[name] = self.rule(spec, file, base["id"], name)
        status = raw.get("status", "active")
        if status not in ("active", "inactive", "unmaintained", "archived"):
            self.fail(raw, file, f"status {status!r}: active, inactive, unmaintained or archived")
        return Project(
            **base, kinds=kinds, status=status,
            chips=self.names(raw, file, "chips"), frameworks=self.names(raw, file, "frameworks"),
            operators=self.count(raw, file, "operators"),
            heterogeneous_training=self.flag(raw, file, "heterogeneous_training"),
            cross_chip=self.flag(raw, file, "cross_chip"),
            lifecycle=self.names(raw, file, "lifecycle", LIFECYCLE), rules=rules)

    def rule(self, spec, file, project, name) -> Rule:
        repo = self.repo(spec, file, spec.get("repo"))
        given = [k for k in ("file", "dir", "tree") if k in spec]
        if len(given) != 1:
            self.fail(spec, file, f"counts.{name}: give exactly one of file (a path), dir (a "
                                  f"folder) or tree (a pattern over every path)")
        reads = given[0]
        if reads not in RULE_FORGES.get(repo.platform, ()):
            allowed = ", ".join(f"{f}: {'/'.join(r)}" for f, r in RULE_FORGES.items())
            self.fail(spec, file, f"counts.{name}: a {reads} rule cannot be evaluated on "
                                  f"{repo.platform} (forges and rules: {allowed})")
        pattern = spec.get("tree") if reads == "tree" else spec.get("pattern")
        for key, regex in (("pattern", pattern), ("exclude", spec.get("exclude")),
                           ("within", spec.get("within"))):
            if regex is None and key != "pattern":
                continue
            if key == "within" and reads != "file":
                self.fail(spec, file, f"counts.{name}.within narrows a file: only with file")
            try:
                groups = re.compile(str(regex)).groups
            except re.error as exc:
                self.fail(spec, file, f"counts.{name}.{key}: not a regular expression ({exc})")
            if key in ("pattern", "within") and groups < 1:
                self.fail(spec, file, f"counts.{name}: the {key} needs a group "
                                      f"({'the name' if key == 'pattern' else 'the region'})")
        refs = spec.get("refs") or []
        if not isinstance(refs, list) or not all(isinstance(r, str) and r for r in refs):
            self.fail(spec, file, f"counts.{name}.refs must be a list of branch names")
        folder = spec.get("dir")
        if folder is not None and (not isinstance(folder, str) or not folder.strip("/")):
            self.fail(spec, file, f"counts.{name}.dir must be a folder path (got {folder!r})")
        return Rule(project=project, field=name, repo=repo, pattern=str(pattern),
                    file=spec.get("file"), dir=folder.strip("/") if folder else None,
                    refs=tuple(refs), exclude=spec.get("exclude"), within=spec.get("within"),
                    means=str(spec.get("means") or ""))

    def board(self, raw, file) -> Board:
        base = self.common(raw, file)
        url = self.text(raw, file, "url")
        if not url.startswith(("http://", "https://")):
            self.fail(raw, file, f"url {url!r} is not an http(s) URL")
        spider = raw.get("spider")
        if spider is None and "models" not in raw:
            self.fail(raw, file, "a board no spider reads needs models (a number, or null)")
        if raw.get("board") and raw.get("board_prefix"):
            self.fail(raw, file, "give board or board_prefix, not both")
        if raw.get("maintained") is True and raw.get("last_update") is None:
            self.fail(raw, file, "maintained: true needs last_update, the date of the board's "
                                 "latest result or commit that its evidence shows (maintenance "
                                 "comes from a date)")
        return Board(
            **base, url=url, spider=spider, board=raw.get("board"),
            board_prefix=raw.get("board_prefix"), models=self.count(raw, file, "models"),
            public_only=self.flag(raw, file, "public_only", True),
            maintained=self.flag(raw, file, "maintained", None),
            last_update=self.date(raw, file, "last_update", False),
            dataset_release=self.flag(raw, file, "dataset_release"),
            datasets=self.names(raw, file, "datasets"), methods=self.names(raw, file, "methods"))

    def gap(self, raw, file, dimension) -> Gap:
        if dimension not in ("infra", "eval", "model", "data"):
            self.fail(raw, file, f"gaps: dimension {dimension!r}: infra, eval, model or data")
        for key in ("published", "catalogue"):
            if isinstance(raw.get(key), bool) or not isinstance(raw.get(key), (int, float)):
                self.fail(raw, file, f"gaps: {key} must be a number (got {raw.get(key)!r})")
        org = self.text(raw, file, "org")
        if self.orgs is not None and org not in self.orgs:
            self.fail(raw, file, f"gaps: org {org!r} is not in the registry")
        return Gap(dimension, org, self.text(raw, file, "indicator"), raw["published"],
                   raw["catalogue"], self.text(raw, file, "note"),
                   f"{file}:{raw.get('__line__')}")

    def chip_vendors(self, data: _File) -> dict[str, str]:
        """``chip_vendors: {vendor: [spelling, …]}`` as spelling -> vendor (each spelling once)"""
        raw = data.get("chip_vendors") or {}
        if not isinstance(raw, dict):
            self.fail(data, data.name, "chip_vendors must map a vendor to its spellings")
        out: dict[str, str] = {}
        for vendor, names in raw.items():
            if vendor == "__line__":
                continue
            if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
                self.fail(raw, data.name, f"chip_vendors.{vendor} must be a list of names")
            for name in [vendor, *names]:
                if out.get(name.casefold(), vendor) != vendor:
                    self.fail(raw, data.name, f"chip_vendors: {name!r} is both "
                                              f"{out[name.casefold()]} and {vendor}")
                out[name.casefold()] = vendor
        return out

    def side(self, data: _File) -> Side:
        seeded = data.get("seeded_from")
        if (not isinstance(seeded, list) or not seeded
                or not all(isinstance(u, str) and u.startswith(("http://", "https://"))
                           for u in seeded)):
            self.fail(data, data.name, "seeded_from must be a list of http(s) URLs")
        return Side(list(seeded), self.date(data, data.name, "reviewed"), data.name)
