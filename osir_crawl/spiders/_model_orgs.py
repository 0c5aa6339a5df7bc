"""Which organisation a leaderboard's model belongs to: the registry account in its URL or name
(``huggingface.co/Qwen/…``, ``Qwen/Qwen2.5-72B``), else the longest matching name prefix of
``data/model_name_orgs.yaml`` (OSIR_MODEL_ORGS)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from osir_crawl.inputs import line_of, load_yaml

ACCOUNT_HOSTS = {"huggingface.co": "huggingface", "hf.co": "huggingface", "github.com": "github",
                 "modelscope.cn": "modelscope", "www.modelscope.cn": "modelscope",
                 "gitee.com": "gitee", "gitcode.com": "gitcode"}


class ModelOrgs:
    """Model -> organisation: registry accounts first, then name prefixes."""

    def __init__(self, registry, path: str | None):
        self.registry = registry
        self.prefixes: list[tuple[str, str]] = []
        if path and Path(path).exists():
            try:
                raw = load_yaml(path, ValueError, "model name orgs") or {}
            except ValueError as exc:
                raise SystemExit(f"osir-crawl: {exc}") from None
            if not isinstance(raw, dict):
                raise SystemExit(f"osir-crawl: {path}: expected a mapping of model name "
                                 "prefix -> org")
            unknown = [p for p, o in raw.items() if not isinstance(o, str)
                       or o not in registry.orgs]
            if unknown:
                raise SystemExit(f"osir-crawl: {path}:{line_of(raw, unknown[:1])}: orgs not in "
                                 f"the registry: {sorted({str(raw[p]) for p in unknown})}")
            self.prefixes = sorted(((str(p).casefold(), o) for p, o in raw.items()),
                                   key=lambda p: -len(p[0]))

    def of(self, model: str, url: str | None = None, account: tuple[str, str] | None = None,
           by_name: bool = True) -> str | None:
        for platform, name in filter(None, [account, account_in_url(url)]):
            if org := self.registry.org_of(platform, name):
                return org
        if by_name:
            folded = model.casefold()
            for prefix, org in self.prefixes:
                if folded.startswith(prefix):
                    return org
        return None

    def of_hub_repo(self, model) -> str | None:
        """The org owning the Hugging Face account of a ``owner/name`` model id; not by name
        (a fine-tune of Qwen by someone else is not Ali's)."""
        owner = model.split("/")[0] if isinstance(model, str) and "/" in model else ""
        return self.of(model, account=("huggingface", owner), by_name=False) if owner else None


def account_in_url(url) -> tuple[str, str] | None:
    """(platform, account) of a model page URL: ``https://huggingface.co/OpenGVLab/X``."""
    if not isinstance(url, str):
        return None
    parts = urlsplit(url.strip())
    platform = ACCOUNT_HOSTS.get((parts.hostname or "").lower())
    segments = [s for s in parts.path.split("/") if s]
    if platform == "modelscope" and segments[:1] == ["models"]:
        segments = segments[1:]
    if platform and len(segments) >= 2 and segments[0] not in ("datasets", "spaces"):
        return platform, segments[0]
    return None
