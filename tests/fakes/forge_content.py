"""Repository routes of the forge fakes, for the catalogue checks and the Open ASR board:

* ``GET /repos/{o}/{r}`` (Gitee/GitCode ``/api/v5``, OpenI ``/api/v1`` prefixed) — the
  repository object (``full_name, html_url, archived, pushed_at, default_branch,
  stargazers_count, …``); 404 ``{"message": "Not Found"}`` for one that is gone;
* ``GET /repos/{o}/{r}/git/trees/{ref}?recursive=1`` — ``{"sha", "url", "tree": [{"path",
  "mode", "type": "blob"|"tree", "sha", "size"}], "truncated": false}`` (GitHub git trees);
* ``GET /repos/{o}/{r}/contents/{path}?ref=`` — with ``Accept: application/vnd.github.raw+json``
  the file itself, otherwise ``{"type": "file", "encoding": "base64", "content", …}``; on a
  folder the list of its entries ``[{"type": "file"|"dir", "name", "path", "sha", "size"}]``
  (GitHub, Gitee v5 and GitCode v5 alike);
* ``GET /repos/{o}/{r}/raw/{path}?ref=`` — the file itself (Gitee v5, GitCode v5);
* ``GET /repos/{o}/{r}/commits?path=&per_page=`` — ``[{"sha", "commit": {"author",
  "committer": {"name", "email", "date"}, "message"}, "html_url"}]``, newest first.

:func:`catalogue_content` builds a forge's content from ``data/catalogue``: every catalogued
repository exists, and every counting rule finds what its static value says (names made to
match the rule's own pattern), so a crawl of the fake world reproduces the catalogue.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass, field

from tests.fakes.base import Reply, route

PREFIX = r"(?:/api/v[15])?"


@dataclass
class RepoContent:
    info: dict
    trees: dict[str, list[str]] = field(default_factory=dict)  # ref -> paths (blobs)
    files: dict[str, dict[str, str]] = field(default_factory=dict)  # ref -> path -> text
    commits: list[dict] = field(default_factory=list)  # newest first, with "path" prefixes

    def listing(self, ref: str, folder: str) -> list[dict]:
        """The entries directly in ``folder`` at ``ref`` (from its tree and files), as the
        contents API lists a folder."""
        prefix, entries = folder.strip("/") + "/", {}
        for path in [*self.trees.get(ref, []), *self.files.get(ref, {})]:
            if path.startswith(prefix):
                name, _, rest = path[len(prefix):].partition("/")
                entries[name] = "dir" if rest else entries.get(name, "file")
        return [{"type": kind, "name": name, "path": prefix + name, "sha": _sha(prefix + name),
                 "size": 0 if kind == "dir" else 10} for name, kind in sorted(entries.items())]


class RepoContentRoutes:
    """Mixin for a ``FakeAPI`` holding ``self.content``: full_name -> RepoContent."""

    content_routes = [
        (*route("GET", PREFIX + r"/repos/(?P<repo>[^/]+/[^/]+)/git/trees/(?P<ref>[^/]+)"),
         "git_tree"),
        (*route("GET", PREFIX + r"/repos/(?P<repo>[^/]+/[^/]+)/contents/(?P<path>.+)"),
         "repo_file"),
        (*route("GET", PREFIX + r"/repos/(?P<repo>[^/]+/[^/]+)/raw/(?P<path>.+)"), "raw_file"),
        (*route("GET", PREFIX + r"/repos/(?P<repo>[^/]+/[^/]+)/commits"), "repo_commits"),
        (*route("GET", PREFIX + r"/repos/(?P<repo>[^/]+/[^/]+)"), "repo_object"),
    ]
    content: dict[str, RepoContent]

    def _repo(self, repo: str) -> RepoContent | None:
        return self.content.get(repo) or next(
            (c for name, c in self.content.items() if name.casefold() == repo.casefold()), None)

    def repo_object(self, repo: str, query: list, body: bytes) -> Reply:
        found = self._repo(repo)
        return Reply(found.info) if found else Reply({"message": "Not Found"}, 404)

    def git_tree(self, repo: str, ref: str, query: list, body: bytes) -> Reply:
        found = self._repo(repo)
        if ref == "HEAD" and found:
            ref = found.info.get("default_branch", "main")
        paths = found.trees.get(ref) if found else None
        if paths is None:
            return Reply({"message": "Not Found"}, 404)
        entries = [{"path": p, "mode": "100644", "type": "blob", "sha": _sha(p), "size": 10}
                   for p in paths]
        return Reply({"sha": _sha(ref), "url": f"{self.url}/repos/{repo}/git/trees/{ref}",
                      "tree": entries, "truncated": False})

    def _ref(self, found: RepoContent | None, query: list) -> str | None:
        ref = dict(query).get("ref") or (found.info.get("default_branch") if found else None)
        return found.info.get("default_branch", "main") if found and ref == "HEAD" else ref

    def repo_file(self, repo: str, path: str, query: list, body: bytes) -> Reply:
        found = self._repo(repo)
        ref = self._ref(found, query)
        text = found.files.get(ref, {}).get(path) if found else None
        if text is None:
            entries = found.listing(ref, path) if found else []
            return Reply(entries) if entries else Reply({"message": "Not Found"}, 404)
        accept = getattr(self.current, "headers", {}).get("Accept", "")
        if "raw" in accept:
            return Reply(text.encode(), headers={"Content-Type": "text/plain; charset=utf-8"})
        return Reply({"type": "file", "encoding": "base64", "path": path,
                      "name": path.rsplit("/", 1)[-1], "size": len(text.encode()),
                      "content": base64.b64encode(text.encode()).decode()})

    def raw_file(self, repo: str, path: str, query: list, body: bytes) -> Reply:
        found = self._repo(repo)
        text = found.files.get(self._ref(found, query), {}).get(path) if found else None
        if text is None:
            return Reply({"message": "Not Found"}, 404)
        return Reply(text.encode(), headers={"Content-Type": "text/plain; charset=utf-8"})

    def repo_commits(self, repo: str, query: list, body: bytes) -> Reply:
        found = self._repo(repo)
        if found is None:
            return Reply({"message": "Not Found"}, 404)
        params = dict(query)
        shown = [c for c in found.commits if c["path"].startswith(params.get("path", ""))]
        shown = shown[: int(params.get("per_page", 30))]
        return Reply([{k: v for k, v in c.items() if k != "path"} for c in shown])


def _letters(i: int) -> str:
    """0 -> "a", 25 -> "z", 26 -> "ba": names that fit an [a-z_]+ pattern."""
    out = ""
    while True:
        out = chr(97 + i % 26) + out
        i //= 26
        if not i:
            return out


def _sha(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def repo_info(full_name: str, web: str, pushed_at: str = "2025-09-30T08:00:00Z",
              default_branch: str = "main", archived: bool = False) -> dict:
    return {"id": int(_sha(full_name)[:8], 16), "name": full_name.split("/")[1],
            "full_name": full_name, "html_url": f"{web}/{full_name}", "private": False,
            "fork": False, "archived": archived, "pushed_at": pushed_at,
            "default_branch": default_branch, "stargazers_count": 1200, "forks_count": 100,
            "open_issues_count": 12, "watchers_count": 1200,  # GitHub: watchers_count = stars
            "subscribers_count": 87}  # the real watchers: only on the repository endpoint


def commit(date: str, path: str, message: str = "update") -> dict:
    return {"sha": _sha(date + path), "path": path, "html_url": "https://github.com/commit",
            "commit": {"author": {"name": "dev", "email": "dev@example.org", "date": date},
                       "committer": {"name": "dev", "email": "dev@example.org", "date": date},
                       "message": message}}


# --- content that makes a catalogue's rules find their static values ---------------------------

def instantiate(pattern: str, name: str) -> str:
    """A string that ``pattern`` matches with ``name`` as its first group (for the simple
    patterns the catalogue uses: literals, anchors, \\s*, \\n, (?:…)?, (?:a|b), character
    classes and one capturing group)."""
    text = re.sub(r"(?<![\\\[])[\^$]", "", pattern)  # anchors (not a class's ^)
    text = re.sub(r"\(\?:[^()]*\)\?", "", text)  # optional groups: leave out
    text = re.sub(r"\(\?:([^()|]*)(?:\|[^()]*)?\)", r"\1", text)  # alternatives: the first
    text = re.sub(r"(?<!\\)\((?!\?)[^()]*(?<!\\)\)", lambda _: "\0", text, count=1)  # the name
    text = re.sub(r"(?<!\\)\[(\^?)((?:\\.|[^\]])*)\][*+?]?\??", _class_char, text)  # a class
    text = re.sub(r"\\s[*+]\??", " ", text)
    text = text.replace("\\n", "\n")
    text = re.sub(r"\\(.)", r"\1", text)
    return text.replace("\0", name)


def _class_char(match) -> str:
    """One character the class matches: its first member; for ``[^…]`` one not excluded."""
    negated, members = match.group(1), match.group(2).replace("\\", "")
    if not negated:
        return members[0]
    return next(c for c in "abcxyz_" if c not in members)


def catalogue_content(catalogue, platform: str = "github", web: str = "https://github.com"
                      ) -> dict[str, RepoContent]:
    content: dict[str, RepoContent] = {}
    for repo, _ in catalogue.repos(platform):
        content[repo.repo_id] = RepoContent(repo_info(repo.repo_id, web))
    projects = {p.id: p for p in catalogue.projects}
    placed = []
    for rule in catalogue.rules():
        if rule.repo.platform != platform:
            continue
        project = projects[rule.project]
        repo = content[rule.repo.repo_id]
        refs = list(rule.refs) or [repo.info["default_branch"]]
        names = _static_names(rule, project)
        for i, ref in enumerate(refs):
            mine = names[i::len(refs)]  # spread over the refs: their union is the list
            if rule.file:
                lines = [instantiate(rule.pattern, n) for n in mine]
                text = "\n".join(lines) + "\n"
                if rule.within:  # the region the rule narrows to, around the names
                    text = instantiate(rule.within, text)
                files = repo.files.setdefault(ref, {})
                shared = files.get(rule.file)  # rules reading one file: each its own part
                files[rule.file] = f"{shared}\n{text}" if shared else text
            else:
                paths = [instantiate(rule.pattern, n) for n in mine]
                paths = [p + "x.py" if p.endswith("/") else p for p in paths]
                repo.trees.setdefault(ref, []).extend([*paths, "README.md"])
        placed.append((rule, repo, refs, names))
    for rule, repo, refs, names in placed:  # with every rule's content in place
        read = ([repo.files[ref][rule.file] for ref in refs] if rule.file
                else [e["path"] + "/" * (e["type"] == "dir") for ref in refs
                      for e in repo.listing(ref, rule.dir)] if rule.dir
                else [p for ref in refs for p in repo.trees[ref]])
        # the fake must satisfy the rule (for a map, what the names stand for: another
        # rule's content may add a name standing for a stage already there)
        assert rule.meanings(rule.names(read)) == rule.meanings(names), rule.key
    return content


def _static_names(rule, project) -> list[str]:
    """Names the rule would find for the project's static value: its chips or frameworks as
    the repository spells them, operators made up, for stages (and frameworks a ``map``
    names) the rule's own names its map gives them, one name for a flag that is true."""
    if rule.field == "operators":
        return [f"op_{_letters(i)}" for i in range(project.operators or 40)]
    if rule.field == "chips":
        return list(project.chips) or ["nvidia"]
    if rule.field in ("frameworks", "lifecycle"):
        values = getattr(project, rule.field)
        if not rule.map:
            return list(values)
        names = {value: name for name, value in reversed(rule.map)}  # the first name per value
        return [names[value] for value in values if value in names]
    return ["x"] if getattr(project, rule.field) else []  # a flag


def open_asr_content() -> dict[str, RepoContent]:
    """The Open ASR leaderboard's results file (its real columns) and data commits."""
    rows = [("nvidia/canary-1b-flash", 6.35, 1045.75, 0.88, "Open"),
            ("nvidia/parakeet-tdt-0.6b-v2", 6.05, 3386.02, 0.6, "Open"),
            ("microsoft/phi-4-multimodal-instruct", 6.14, 150.63, 5.6, "Open"),
            ("ibm-granite/granite-speech-3.3-8b", 5.85, 31.33, 8.0, "Open"),
            ("openai/whisper-large-v3", 7.44, 145.51, 1.55, "Open"),
            ("Qwen/Qwen2-Audio-7B", 12.74, 38.5, 8.4, "Open"),
            ("elevenlabs/scribe_v1", 5.47, -1, -1, "Proprietary"),
            ("assembly/best", 6.83, -1, -1, "Proprietary")]
    text = "model,Avg. WER,RTFx,Model size (B),License,AMI WER,LS Clean WER\n" + "".join(
        f"{m},{w},{r},{s},{lic},{w + 4.1:.2f},{w / 3:.2f}\n" for m, w, r, s, lic in rows)
    name = "huggingface/open_asr_leaderboard"
    return {name: RepoContent(repo_info(name, "https://github.com"),
                              files={"main": {"scripts/data/en_shortform.csv": text}},
                              commits=[commit("2025-09-12T16:20:00Z", "scripts/data"),
                                       commit("2025-06-02T08:00:00Z", "README.md")])}


def tfds_catalogue_content() -> dict[str, RepoContent]:
    """The TensorFlow Datasets catalogue's table of contents as recorded (tests/fixtures/
    official_datasets/_toc.yaml), for the official_datasets spider."""
    from pathlib import Path

    toc = (Path(__file__).resolve().parents[1] / "fixtures" / "official_datasets" / "_toc.yaml")
    name = "tensorflow/datasets"
    return {name: RepoContent(repo_info(name, "https://github.com", default_branch="master"),
                              files={"master": {"docs/catalog/_toc.yaml": toc.read_text()}})}
