"""Every platform fake at once, on loopback, filled for the shipped registry: a world in which
``scrapy crawlall`` runs end to end without the internet.

    python -m tests.fakes.all --env /tmp/fakes.env &      # prints and writes the endpoints
    . /tmp/fakes.env && scrapy crawlall                   # crawl every fake, then rank

The env file also exports ``OSIR_DB`` (``--db``, default ``data/tryout/osir.db``): every
command after ``. FILE`` uses the try-out's store, and its outputs go beside it
(``data/tryout/rankings/``, ``reports/``, ``logs/``; osir_crawl/ops/outputs.py), apart from the
monthly store's.

Hugging Face, ModelScope, OpenDataLab and BAAI Data serve the published 2025-09-07 records
(real repo names, so the curated labels classify them) from ``data/published``;
forges and leaderboards are synthetic; every repository of data/catalogue exists on its forge
fake, with files that make the catalogue's counting rules find the catalogue's own values.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from osir_crawl.inputs.catalogue import load_catalogue
from osir_crawl.inputs.published import PUBLISHED_DIR
from osir_crawl.inputs.registry import load_registry
from tests.fakes.baai import FakeBaai, load_datasets
from tests.fakes.datasets_server import FakeDatasetsServer, leaderboard_rows, lmarena_tables
from tests.fakes.forge_content import catalogue_content, open_asr_content, tfds_catalogue_content
from tests.fakes.forges import WEB, FakeForge, ForgeData
from tests.fakes.helm import FakeHelm
from tests.fakes.huggingface import FakeHuggingFace, HubData
from tests.fakes.modelscope import FakeModelScope, ScopeData
from tests.fakes.opencompass import FakeOpenCompass
from tests.fakes.opendatalab import FakeOpenDataLab, OpenDataLabData

ROOT = Path(__file__).resolve().parents[2]
ANCHOR_MONTH = PUBLISHED_DIR / "months" / "2025-09-07"
TRYOUT_DB = ROOT / "data" / "tryout" / "osir.db"  # the try-out's store, apart from data/osir.db
GITCODE_TOKEN = "fake-gitcode-token"  # GitCode requires one; the fake accepts this one


def start_all(registry_path: Path = ROOT / "data" / "orgs.yaml",
              repos_per_org: int = 12) -> tuple[list, dict[str, str]]:
    """Start every fake; returns the servers and the settings that point the spiders at them."""
    registry = load_registry(registry_path)
    accounts = {p: [a.name for a in registry.accounts_on(p)]
                for p in ("huggingface", "modelscope", "github", "gitee", "gitcode", "openi")}
    if (ANCHOR_MONTH / "HuggingFace").is_dir():
        hub = HubData.from_anchors(ANCHOR_MONTH)
    else:
        hub = HubData.synthetic({a: 20 for a in accounts["huggingface"]}, datasets_per_account=4)
    servers, env = [], {}
    catalogue = load_catalogue(ROOT / "data" / "catalogue")  # every catalogued repository exists
    catalogue_worlds = {style: catalogue_content(catalogue, style, WEB[style])
                        for style in ("github", "gitee", "gitcode")}
    catalogue_worlds["github"].update(open_asr_content())
    catalogue_worlds["github"].update(tfds_catalogue_content())

    def serve(fake, *settings: str, suffix: str = ""):
        servers.append(fake.start())
        for setting in settings:
            env[setting] = fake.url + suffix

    serve(FakeHuggingFace(hub), "HF_ENDPOINT")
    serve(FakeModelScope(ScopeData.load(accounts["modelscope"])), "MODELSCOPE_ENDPOINT")
    for style, setting, suffix in (("github", "GITHUB_API_URL", ""),
                                   ("gitee", "GITEE_API_URL", "/api/v5"),
                                   ("gitcode", "GITCODE_API_URL", "/api/v5"),
                                   ("openi", "OPENI_ENDPOINT", "")):
        orgs = {a: repos_per_org for a in accounts[style]}
        data = ForgeData.synthetic(style, orgs)
        content = catalogue_worlds.get(style, {})
        data.contributors.update({name: 25 for name in content})
        token = GITCODE_TOKEN if style == "gitcode" else None
        serve(FakeForge(style, data, token=token, content=content), setting, suffix=suffix)
    env["GITCODE_TOKEN"] = GITCODE_TOKEN
    serve(FakeOpenDataLab(OpenDataLabData.load()), "OPENDATALAB_URL")
    serve(FakeBaai(load_datasets()), "BAAI_DATA_URL")
    serve(FakeOpenCompass(), "OPENCOMPASS_URL")
    env["OPENCOMPASS_VLM_URL"] = env["OPENCOMPASS_URL"] + "/assets/OpenVLM.json"
    env["OPENCOMPASS_LLM_URL"] = servers[-1].llm_data_url
    serve(FakeDatasetsServer(leaderboard_rows(450), tables=lmarena_tables()),
          "HF_DATASETS_SERVER_URL")
    serve(FakeHelm(), "HELM_URL", suffix="/helm")
    env["HELM_STORAGE_URL"] = env["HELM_URL"].removesuffix("/helm") + "/crfm-helm-public"
    return servers, env


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", type=Path, help="also write `export NAME=URL` lines here")
    parser.add_argument("--db", type=Path, default=TRYOUT_DB,
                        help="the store the env file exports as OSIR_DB (default "
                             "data/tryout/osir.db)")
    args = parser.parse_args()
    servers, env = start_all()
    try:  # Ctrl-C at any point from here stops every fake (their threads would keep us alive)
        env["OSIR_DB"] = str(args.db.resolve())
        args.db.parent.mkdir(parents=True, exist_ok=True)  # a store needs its folder
        lines = [f"export {name}={url}" for name, url in env.items()]
        print("\n".join(lines), flush=True)
        if args.env:  # whole or not there: a reader that sees the file sees every line
            partial = args.env.with_name(f".{args.env.name}.{os.getpid()}")
            partial.write_text("\n".join(lines) + "\n")
            os.replace(partial, args.env)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        for server in servers:
            server.stop()

if __name__ == "__main__":
    main()
