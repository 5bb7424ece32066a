"""The shell's rules, read from the source (nothing imported): the environment is read only in
config.py, no import cycle, no module over 400 lines or function over 80, a short README."""

from __future__ import annotations

import ast
import graphlib

from tests.architecture.package import ROOT, import_graph, modules

MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 80
SIZE_EXCLUDED: tuple[str, ...] = ()


ENVIRONMENT = ("environ", "getenv", "putenv", "unsetenv")


def _environment_reads(tree: ast.Module) -> list[int]:
    """Lines that name ``os.environ`` / ``os.getenv`` (…) or import them from ``os``."""
    lines = []
    for node in ast.walk(tree):
        attribute = isinstance(node, ast.Attribute) and node.attr in ENVIRONMENT
        if attribute and isinstance(node.value, ast.Name) and node.value.id == "os":
            lines.append(node.lineno)
        elif isinstance(node, ast.ImportFrom) and node.module == "os":
            lines += [node.lineno for alias in node.names if alias.name in ENVIRONMENT][:1]
    return lines


def test_only_config_touches_the_environment() -> None:
    offenders = [
        f"{m.path.relative_to(ROOT.parent)}:{line}"
        for m in modules()
        if m.name != "audience_dagster.config"
        for line in _environment_reads(m.tree)
    ]
    assert not offenders, f"os.environ outside config.py (use load_settings, process_environment): {offenders}"


def test_the_environment_check_sees_every_spelling() -> None:
    tree = ast.parse("import os\nfrom os import environ\nos.environ['A']\nos.getenv('B')\n")
    assert _environment_reads(tree) == [2, 3, 4]


def test_no_import_cycle() -> None:
    graph = import_graph()
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as exc:
        raise AssertionError(f"import cycle: {' -> '.join(exc.args[1])}") from None


def test_the_import_graph_is_read() -> None:
    graph = import_graph()
    # a module-level import, a `from package import module` and an import inside a function
    assert "audience_dagster.config" in graph["audience_dagster.warehouse.connection"]
    assert "audience_dagster.bench.cli" in graph["audience_dagster.cli"]
    assert "audience_dagster.bench.ingest" in graph["audience_dagster.bench.cli"]


def _sized(name: str) -> bool:
    return not any(name.startswith(prefix) for prefix in SIZE_EXCLUDED)


def test_no_module_over_400_lines() -> None:
    long = {m.name: m.lines for m in modules() if _sized(m.name) and m.lines > MAX_MODULE_LINES}
    assert not long, f"split these modules (one concept each, at most {MAX_MODULE_LINES} lines): {long}"


def test_no_function_over_80_lines() -> None:
    long = {
        f"{m.name}.{node.name}": node.end_lineno - node.lineno + 1
        for m in modules()
        if _sized(m.name)
        for node in ast.walk(m.tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    }
    assert not long, f"split these functions (at most {MAX_FUNCTION_LINES} lines): {long}"


def test_readme_is_short_and_lists_every_capability() -> None:
    readme = (ROOT.parent / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 160, "README.md is for a newcomer: move design notes into docs/"
    folders = sorted(p.name for p in ROOT.iterdir() if p.is_dir() and (p / "__init__.py").exists())
    missing = [name for name in folders if f"{name}/" not in readme]
    assert not missing, f"README's Layout omits {missing}"


def test_every_capability_has_its_definitions() -> None:
    for capability in ("ingest", "identity", "transform", "scoring", "predictions", "segments", "collector"):
        assert (ROOT / capability / "definitions.py").is_file(), capability
    top = ast.parse((ROOT / "definitions.py").read_text(encoding="utf-8"))
    defined = [node for node in top.body if isinstance(node, ast.FunctionDef | ast.ClassDef)]
    assert [node.name for node in defined] == ["build_definitions"], "the top-level definitions only merge"


def test_docs_exist_for_the_readme_links() -> None:
    readme = (ROOT.parent / "README.md").read_text(encoding="utf-8")
    for line in readme.splitlines():
        for part in line.split("(docs/")[1:]:
            target = ROOT.parent / "docs" / part.split(")")[0].split("#")[0]
            assert target.is_file(), f"README links to a missing {target}"
