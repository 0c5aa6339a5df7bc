"""Nothing in osir_crawl imports upwards: spiders do not read the store (they ask the crawl
run, osir_crawl/extensions/crawl_run.py), and what runs inside a crawl (spiders, middlewares, pipelines,
extensions) does not import operations (report, live check, probes, progress, browse) or
commands. Read from the source with ``ast``, by module name, so the rules hold for the flat
modules and for the folders they move into (osir_crawl/store/, osir_crawl/ops/ …)."""

from __future__ import annotations

import ast
from pathlib import Path

import osir_crawl

PACKAGE = Path(osir_crawl.__file__).parent
FOLDERS = {"spiders", "middlewares", "pipelines", "extensions", "store", "inputs", "ops",
           "commands", "rules"}
# A flat module's layer, as long as it is not in its folder yet.
FLAT = {"middlewares": "middlewares", "pipelines": "pipelines", "extensions": "extensions",
        "crawl_run": "extensions", "lifeline": "extensions", "resume": "extensions",
        "store": "store", "merge": "store",
        "report": "ops", "livecheck": "ops", "reachability": "ops", "progress": "ops",
        "browse": "ops", "project_command": "commands"}
FORBIDDEN = {  # layer -> the layers it must not import
    "spiders": {"store", "ops", "commands"},
    "middlewares": {"ops", "commands"},
    "pipelines": {"ops", "commands"},
    "extensions": {"ops", "commands"},
}


def layer(module: str) -> str | None:
    """``osir_crawl.store`` and ``osir_crawl.store.merge`` -> "store"; ``osir_crawl.items`` ->
    None (a module every layer may use)."""
    parts = module.split(".")
    if parts[0] != "osir_crawl" or len(parts) < 2:
        return None
    if parts[1] in FOLDERS:
        return parts[1]
    return FLAT.get(parts[1]) if len(parts) == 2 else None


def module_name(path: Path) -> str:
    parts = ["osir_crawl", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path) -> set[str]:
    """Every module ``path`` imports, anywhere in it; ``from a import b`` counts as ``a`` and
    as ``a.b`` (``b`` may be a module)."""
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def upward_imports() -> list[str]:
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        name = module_name(path)
        forbidden = FORBIDDEN.get(layer(name), set())
        for target in sorted(imported(path)):
            if layer(target) in forbidden and layer(target) != layer(name):
                wrong.append(f"{name} ({layer(name)}) imports {target} ({layer(target)})")
    return wrong


def test_the_layers_are_found_in_the_package():
    """The rules below hold for real modules, not for names that moved away."""
    layers = {layer(module_name(p)) for p in PACKAGE.rglob("*.py")}
    assert {"spiders", "middlewares", "pipelines", "extensions", "store", "ops",
            "commands"} <= layers


def test_modules_are_named_by_layer_before_and_after_the_move_into_folders():
    assert [layer(m) for m in ("osir_crawl.store", "osir_crawl.store.merge", "osir_crawl.store.merge",
                               "osir_crawl.commands.merge", "osir_crawl.ops.reachability",
                               "osir_crawl.ops.reachability", "osir_crawl.extensions.crawl_run",
                               "osir_crawl.extensions.crawl_run", "osir_crawl.spiders._base",
                               "osir_crawl.items", "osir_crawl.items.record_key")] == [
        "store", "store", "store", "commands", "ops", "ops", "extensions", "extensions",
        "spiders", None, None]


def test_nothing_imports_upwards():
    assert upward_imports() == []
