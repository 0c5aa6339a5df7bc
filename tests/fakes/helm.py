"""A fake of Stanford HELM's published results, as the HELM frontend reads them:

* ``GET /helm/project_metadata.json`` — ``[{"title", "description", "id", "releases"}]``
  (``releases[0]`` is the latest; ``HELM_URL`` = ``{url}/helm``);
* ``GET /crfm-helm-public/{project}/benchmark_output/releases/{release}/summary.json`` —
  ``{"release", "suites", "date"}`` and ``…/schema.json`` — ``{"models": [{"name",
  "display_name", "short_display_name", "description", "creator_organization", "access",
  "todo", "release_date", "num_parameters"}], "run_groups": […], …}``
  (``HELM_STORAGE_URL`` = ``{url}/crfm-helm-public``). Projects published by suite (VHELM …)
  answer under ``runs/{suite}/`` only.

Run by hand: ``python -m tests.fakes.helm --port 8769``.
"""

from __future__ import annotations

import argparse

from tests.fakes.base import FakeAPI, Reply, route

MODELS = [  # name, display name, creator, access, release date
    ("meta/llama-3.1-405b-instruct-turbo", "Llama 3.1 Instruct Turbo (405B)", "Meta", "open",
     "2024-07-23"),
    ("qwen/qwen2.5-72b-instruct-turbo", "Qwen2.5 Instruct Turbo (72B)", "Qwen", "open",
     "2024-09-19"),
    ("deepseek-ai/deepseek-v3", "DeepSeek v3", "DeepSeek", "open", "2024-12-24"),
    ("openai/gpt-4o-2024-08-06", "GPT-4o (2024-08-06)", "OpenAI", "limited", "2024-08-06"),
    ("anthropic/claude-3-5-sonnet-20241022", "Claude 3.5 Sonnet", "Anthropic", "limited",
     "2024-10-22"),
    ("google/gemma-2-27b-it", "Gemma 2 Instruct (27B)", "Google", "open", "2024-06-27"),
    ("01-ai/yi-large", "Yi Large", "01.AI", "limited", "2024-05-12"),
    ("allenai/olmo-2-1124-13b-instruct", "OLMo 2 13B Instruct", "Allen Institute for AI",
     "open", "2024-11-26"),
]


def projects(date: str = "2025-09-20") -> dict:
    """project id -> (releases, layout, build date, models)."""
    return {
        "lite": (["v1.13.0", "v1.12.0"], "releases", date, MODELS),
        "capabilities": (["v1.9.0"], "releases", date, MODELS[:6]),
        "vhelm": (["v2.1.2"], "runs", date, MODELS[1:4]),
        "heim": (["v1.1.0"], "releases", "2024-01-10", MODELS[:2]),  # not updated since
        "classic": ([], "releases", date, MODELS),  # no release listed: skipped
        # As the real list ends: the landing page, a release but no benchmark_output at all.
        "home": (["v1.0.0"], None, None, []),
    }


class FakeHelm(FakeAPI):
    routes = [
        (*route("GET", r"/helm/project_metadata\.json"), "project_metadata"),
        (*route("GET", r"/crfm-helm-public/(?P<project>[^/]+)/benchmark_output/"
                       r"(?P<layout>releases|runs)/(?P<release>[^/]+)/(?P<name>[a-z_]+\.json)"),
         "release_file"),
    ]

    def __init__(self, port: int = 0, data: dict | None = None):
        super().__init__(port)
        self.data = data if data is not None else projects()

    def project_metadata(self, query, body) -> Reply:
        return Reply([{"title": pid.upper(), "description": f"HELM {pid}", "id": pid,
                       "releases": releases}
                      for pid, (releases, *_rest) in self.data.items()])

    def release_file(self, project, layout, release, name, query, body) -> Reply:
        found = self.data.get(project)
        if not found or release not in found[0] or layout != found[1]:
            return Reply(b"<?xml version='1.0' encoding='UTF-8'?><Error><Code>NoSuchKey</Code>"
                         b"</Error>", 404, {"Content-Type": "application/xml"})
        _, _, date, models = found
        if name == "summary.json":
            return Reply({"release": release, "suites": [f"{release}-suite"], "date": date})
        if name == "schema.json":
            return Reply({"models": [
                {"name": n, "display_name": d, "short_display_name": d, "description": d,
                 "creator_organization": c, "access": a, "todo": False, "release_date": r,
                 "num_parameters": None} for n, d, c, a, r in models],
                "run_groups": [{"name": "core_scenarios", "display_name": "Core scenarios"}],
                "metrics": [], "metric_groups": [], "adapter": [], "perturbations": []})
        return Reply({"error": "not served by this fake"}, 404)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8769)
    args = parser.parse_args()
    FakeHelm(port=args.port).serve_forever()


if __name__ == "__main__":
    main()
