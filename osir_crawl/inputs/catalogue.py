"""The catalogue (``data/catalogue/{infra,eval}.yaml``): what the infrastructure and evaluation
indicators count, one entry per thing, each with its org, evidence and verification date.

``load_catalogue(folder, orgs=None)`` reads and validates both files and returns a
:class:`Catalogue`; a malformed entry raises :class:`CatalogueError` naming the file, the line
and the problem, so a bad catalogue stops a crawl or a build before anything runs. The files
are declared by pydantic models (:class:`InfraFile`, :class:`EvalFile`); no Scrapy: spiders (which repositories and boards to check, which counting rules to
evaluate) and scoring (the indicators) read the same objects. docs/catalogue.md describes
every field.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PlainValidator,
    StrictBool,
    ValidationInfo,
    field_validator,
    model_validator,
)

from osir_crawl.inputs import line_of, load_yaml, validated
from osir_crawl.inputs.yaml_input import dotted

CATALOGUE_DIR = Path(__file__).resolve().parents[2] / "data" / "catalogue"
KINDS = ("operator_library", "parallel_framework", "deep_learning_framework", "ai_compiler",
         "communication_library", "data_processing_tool")
LIFECYCLE = ("pretraining", "finetuning", "inference", "serving")
FORGES = ("github", "gitee", "gitcode", "openi")
RULE_FORGES = {"github": ("file", "dir", "tree"), "gitee": ("file", "dir", "tree"),
               "gitcode": ("file", "dir")}  # GitCode pages its recursive tree: no tree rules
# fields a counting rule may refresh: a number (operators), names (chips, frameworks), stages
# (lifecycle: the rule's ``map`` says which name is which stage) or a flag (true when the rule
# finds at least one name: the evidence of the capability)
COUNTED = ("operators", "chips", "frameworks", "lifecycle", "heterogeneous_training",
           "cross_chip")
FLAGS = ("heterogeneous_training", "cross_chip")
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
    map: tuple[tuple[str, str], ...] = ()  # name found -> what it stands for (a stage, …)

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

    def meanings(self, names) -> set[str]:
        """What the found names stand for: through ``map`` where the rule has one (a name it
        does not map stands for nothing: not a stage), else the names themselves."""
        if not self.map:
            return set(names)
        mapped = dict(self.map)
        return {mapped[n] for n in names if n in mapped}


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


# --- the files' models -------------------------------------------------------------------------
# Each validator words its problem for a person editing the file; validated() adds the file,
# the line and the key (osir_crawl/inputs).

def _text(value):
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"must be a non-empty text (got {value!r})")
    return value.strip()


def _day(value):
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"must be a YYYY-MM-DD date (got {value!r})") from None


def _urls(value):
    if (not isinstance(value, list) or not value
            or not all(isinstance(u, str) and u.startswith(("http://", "https://"))
                       for u in value)):
        raise ValueError(f"must be a list of http(s) URLs (got {value!r})")
    return list(value)


def _names(value):
    value = [] if value is None else value
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ValueError(f"must be a list of names (got {value!r})")
    return list(value)


def _known(allowed):
    def check(value):
        if bad := [v for v in value if v not in allowed]:
            raise ValueError(f"unknown {bad} (known: {', '.join(allowed)})")
        return value
    return AfterValidator(check)


def _count(value):
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                              or value < 0):
        raise ValueError(f"must be a whole number >= 0 or null (got {value!r})")
    return value


def _number(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"must be a number (got {value!r})")
    return value


def _repo(text) -> Repo:
    platform, _, repo_id = str(text).partition(":")
    owner, _, name = repo_id.partition("/")
    if platform not in FORGES or not owner or not name or "/" in name:
        raise ValueError(f"repository {text!r} is not forge:owner/name "
                         f"(forges: {', '.join(FORGES)})")
    return Repo(platform, repo_id)


def _regex(value):
    try:
        return value if value is None else re.compile(str(value)).pattern
    except re.error as exc:
        raise ValueError(f"not a regular expression ({exc})") from None


def _listed(value):
    return [] if value is None else value


def _registered(org: str, info: ValidationInfo) -> str:
    orgs = (info.context or {}).get("orgs")
    if orgs is not None and org not in orgs:
        raise ValueError(f"org {org!r} is not in the registry")
    return org


Text = Annotated[str, BeforeValidator(_text)]
Day = Annotated[dt.date, BeforeValidator(_day)]
Names = Annotated[list[str], BeforeValidator(_names)]
Count = Annotated[int | None, BeforeValidator(_count)]
Number = Annotated[float | int, PlainValidator(_number)]
Regex = Annotated[str | None, BeforeValidator(_regex)]
Org = Annotated[str, BeforeValidator(_text), AfterValidator(_registered)]
Flag = StrictBool


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)


class EntryFields(_Strict):
    """What every entry gives (docs/catalogue.md)."""

    id: Annotated[Text, AfterValidator(lambda v: _id(v))]
    name: Text
    org: Org
    since: Day
    evidence: Annotated[list[str], BeforeValidator(_urls)]
    verified: Day
    note: Annotated[str, BeforeValidator(lambda v: "" if v is None else _text(v))] = ""
    repos: Annotated[list[Annotated[Repo, PlainValidator(_repo)]],
                     BeforeValidator(_listed)] = []


def _id(value: str) -> str:
    if not re.fullmatch(r"[a-z0-9][a-z0-9._-]*", value):
        raise ValueError(f"id {value!r}: lowercase letters, digits, '.', '_' or '-'")
    return value


class RuleFields(_Strict):
    """A counting rule: ``counts: {operators|chips: RULE}`` of a project."""

    repo: Annotated[Repo, PlainValidator(_repo)]
    file: str | None = None
    dir: str | None = None
    tree: Regex = None
    pattern: Regex = None
    exclude: Regex = None
    within: Regex = None
    refs: Annotated[list[Annotated[str, BeforeValidator(_text)]], BeforeValidator(_listed)] = []
    means: str | None = None
    map: dict[str, Text] | None = None

    @field_validator("within")
    @classmethod
    def _within_a_file(cls, within, info: ValidationInfo):
        if within is not None and info.data.get("file") is None:
            raise ValueError("within narrows a file: only with file")
        return within

    @model_validator(mode="after")
    def _reads_one_thing(self):
        given = [k for k in ("file", "dir", "tree") if k in self.model_fields_set]
        if len(given) != 1:
            raise ValueError("give exactly one of file (a path), dir (a folder) or tree (a "
                             "pattern over every path)")
        reads = given[0]
        if reads not in RULE_FORGES.get(self.repo.platform, ()):
            allowed = ", ".join(f"{f}: {'/'.join(r)}" for f, r in RULE_FORGES.items())
            raise ValueError(f"a {reads} rule cannot be evaluated on {self.repo.platform} "
                             f"(forges and rules: {allowed})")
        if reads == "dir" and not (self.dir or "").strip("/"):
            raise ValueError(f"dir must be a folder path (got {self.dir!r})")
        pattern = self.tree if reads == "tree" else self.pattern
        for key, regex in (("pattern", pattern), ("within", self.within)):
            if (regex is not None or key == "pattern") and re.compile(str(regex)).groups < 1:
                raise ValueError(f"the {key} needs a group "
                                 f"({'the name' if key == 'pattern' else 'the region'})")
        return self

    def rule(self, project: str, counted: str) -> Rule:
        return Rule(project=project, field=counted, repo=self.repo,
                    pattern=str(self.tree if "tree" in self.model_fields_set else self.pattern),
                    file=self.file, dir=self.dir.strip("/") if self.dir else None,
                    refs=tuple(self.refs), exclude=self.exclude, within=self.within,
                    means=self.means or "", map=tuple((self.map or {}).items()))


class ProjectFields(EntryFields):
    kinds: Annotated[Names, _known(KINDS)]
    status: Literal["active", "inactive", "unmaintained", "archived"] = "active"
    chips: Names = []
    frameworks: Names = []
    operators: Count = None
    heterogeneous_training: Flag = False
    cross_chip: Flag = False
    lifecycle: Annotated[Names, _known(LIFECYCLE)] = []
    counts: Annotated[dict[Literal[COUNTED], RuleFields], BeforeValidator(
        lambda v: {} if v is None else v)] = {}

    @field_validator("counts")
    @classmethod
    def _stages_mapped(cls, counts):
        rule = counts.get("lifecycle")
        if rule is not None:
            stages = set((rule.map or {}).values())
            if not rule.map or not stages <= set(LIFECYCLE):
                raise ValueError(f"counts.lifecycle needs map: the names it finds -> stages "
                                 f"({', '.join(LIFECYCLE)}; got {rule.map!r})")
        return counts

    @field_validator("kinds")
    @classmethod
    def _some_kind(cls, kinds):
        if not kinds:
            raise ValueError(f"is empty (known: {', '.join(KINDS)})")
        return kinds


class BoardFields(EntryFields):
    url: Annotated[Text, AfterValidator(lambda u: _http(u))]
    spider: str | None = None
    board: str | None = None
    board_prefix: str | None = None
    models: Count = None
    public_only: Flag = True
    maintained: Flag | None = None
    last_update: Day | None = None
    dataset_release: Flag = False
    datasets: Names = []
    methods: Names = []

    @model_validator(mode="after")
    def _consistent(self):
        if self.spider is None and "models" not in self.model_fields_set:
            raise ValueError("a board no spider reads needs models (a number, or null)")
        if self.board and self.board_prefix:
            raise ValueError("give board or board_prefix, not both")
        if self.maintained is True and self.last_update is None:
            raise ValueError("maintained: true needs last_update, the date of the board's "
                             "latest result or commit that its evidence shows (maintenance "
                             "comes from a date)")
        return self


def _http(url: str) -> str:
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"url {url!r} is not an http(s) URL")
    return url


class ModelAccessFields(EntryFields):
    models: Names = []
    open: Flag = False


class ModelChipsFields(EntryFields):
    chips: Names = []


class GapFields(_Strict):
    dimension: Literal["infra", "eval", "model", "data"] | None = None
    org: Org
    indicator: Text
    published: Number
    catalogue: Number
    note: Text


def _entries(model):
    return Annotated[list[model], BeforeValidator(_listed)]


class SideFields(_Strict):
    """What each file gives once: where it was seeded from, when it was last reviewed."""

    seeded_from: Annotated[list[str], BeforeValidator(_urls)]
    reviewed: Day
    gaps: _entries(GapFields) = []


class InfraFile(SideFields):
    projects: _entries(ProjectFields) = []
    model_chips: _entries(ModelChipsFields) = []
    chip_vendors: Annotated[dict[str, Names], BeforeValidator(
        lambda v: {} if v is None else v)] = {}


class EvalFile(SideFields):
    boards: _entries(BoardFields) = []
    model_access: _entries(ModelAccessFields) = []
    datasets: _entries(EntryFields) = []
    methods: _entries(EntryFields) = []
    tools: _entries(EntryFields) = []


def _describe(loc: tuple, error: dict) -> str:
    """A problem inside an entry is worded from the entry (its line is the message's)."""
    if len(loc) >= 2 and isinstance(loc[1], int):
        loc = loc[2:]
    if loc[:1] == ("counts",) and len(loc) >= 2 and error["type"] == "literal_error":
        return f"counts.{loc[1]}: only {', '.join(COUNTED)} can be counted"
    return dotted(loc, error)


# --- loading ---------------------------------------------------------------------------------

def load_catalogue(folder=None, orgs=None) -> Catalogue:
    folder = Path(folder or CATALOGUE_DIR)
    context = {"orgs": set(orgs) if orgs is not None else None}
    files = {}
    for name, model in (("infra.yaml", InfraFile), ("eval.yaml", EvalFile)):
        raw = load_yaml(folder / name, CatalogueError, "catalogue", source=name)
        if not isinstance(raw, dict):
            raise CatalogueError(f"{name}: expected a mapping at the top")
        files[name] = (raw, validated(model, raw, name, CatalogueError, _describe, context))
    (infra_raw, infra), (eval_raw, eval_) = files["infra.yaml"], files["eval.yaml"]
    seen: dict[str, str] = {}

    def fields(section, spec, raw, file, i):
        where = f"{file}:{line_of(raw, (section, i))}"
        if spec.id in seen:
            raise CatalogueError(f"{where}: id {spec.id!r} is used twice (also at "
                                 f"{seen[spec.id]})")
        seen[spec.id] = where
        return dict({k: getattr(spec, k) for k in EntryFields.model_fields}, file=file,
                    line=line_of(raw, (section, i)))

    def entries(section, cls, raw, declared, file, extra=lambda spec: {}):
        return [cls(**fields(section, spec, raw, file, i), **extra(spec))
                for i, spec in enumerate(getattr(declared, section))]

    projects = entries("projects", Project, infra_raw, infra, "infra.yaml", lambda p: dict(
        kinds=p.kinds, status=p.status, chips=p.chips, frameworks=p.frameworks,
        operators=p.operators, heterogeneous_training=p.heterogeneous_training,
        cross_chip=p.cross_chip, lifecycle=p.lifecycle,
        rules={name: rule.rule(p.id, name) for name, rule in p.counts.items()}))
    boards = entries("boards", Board, eval_raw, eval_, "eval.yaml", lambda b: {
        k: getattr(b, k) for k in BoardFields.model_fields if k not in EntryFields.model_fields})
    listed = {k: entries(k, Entry, eval_raw, eval_, "eval.yaml")
              for k in ("datasets", "methods", "tools")}
    chips = entries("model_chips", ModelChips, infra_raw, infra, "infra.yaml",
                    lambda m: dict(chips=m.chips))
    access = entries("model_access", ModelAccess, eval_raw, eval_, "eval.yaml",
                     lambda m: dict(models=m.models, open=m.open))
    gaps = [Gap(g.dimension or dimension, g.org, g.indicator, g.published, g.catalogue, g.note,
                f"{file}:{line_of(raw, ('gaps', i))}")
            for file, raw, declared, dimension in (("infra.yaml", infra_raw, infra, "infra"),
                                                   ("eval.yaml", eval_raw, eval_, "eval"))
            for i, g in enumerate(declared.gaps)]
    return Catalogue(projects, boards, listed["datasets"], listed["methods"], listed["tools"],
                     gaps, Side(infra.seeded_from, infra.reviewed, "infra.yaml"),
                     Side(eval_.seeded_from, eval_.reviewed, "eval.yaml"), chips,
                     _chip_vendors(infra.chip_vendors, infra_raw), access)


def _chip_vendors(declared: dict[str, list[str]], raw) -> dict[str, str]:
    """``chip_vendors: {vendor: [spelling, …]}`` as spelling -> vendor (each spelling once)."""
    out: dict[str, str] = {}
    for vendor, names in declared.items():
        for name in [vendor, *names]:
            if out.get(name.casefold(), vendor) != vendor:
                raise CatalogueError(f"infra.yaml:{line_of(raw, ('chip_vendors', vendor))}: "
                                     f"chip_vendors: {name!r} is both {out[name.casefold()]} "
                                     f"and {vendor}")
            out[name.casefold()] = vendor
    return out
