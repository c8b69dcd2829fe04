"""What `pip install .` installs is what qa imports; the test and bench extras cover what they import."""
from __future__ import annotations

import ast
import re
import sys
from importlib import metadata
from pathlib import Path

import pytest

from conftest import ROOT

tomllib = pytest.importorskip("tomllib")  # Python 3.11+


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(requirement: str) -> str:
    return _normal(re.match(r"[A-Za-z0-9._-]+", requirement).group())


def project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def imported_distributions(folder: str) -> dict[str, set[str]]:
    """Distribution -> the files of ROOT/folder that import it (absolute imports of third-party
    modules, and modules named to pytest.importorskip)."""
    owners = metadata.packages_distributions()
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / folder).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        modules = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module)
            elif (isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "importorskip"
                  and node.args and isinstance(node.args[0], ast.Constant)):
                modules.add(node.args[0].value)
        for module in modules:
            top = module.split(".")[0]
            if top in sys.stdlib_module_names or top in ("qa", "conftest", "citation_docs") \
                    or (ROOT / folder / f"{top}.py").exists():
                continue
            # a module no installed package provides (an extra installed apart) counts under its own
            # name, so the checks below still ask that some extra declares it
            for dist in owners.get(top, [top]):
                found.setdefault(_normal(dist), set()).add(str(path.relative_to(ROOT)))
    return found


def test_the_runtime_dependencies_are_exactly_what_qa_imports():
    declared = {_requirement_name(r) for r in project()["dependencies"]}
    # qa eval's, and --cluster's
    optional = {_requirement_name(r) for e in ("eval", "cluster") for r in project()["optional-dependencies"][e]}
    imported = imported_distributions("qa")
    assert {d: sorted(files) for d, files in imported.items() if d not in declared | optional} == {}, \
        "imported by qa/ but not declared"
    assert sorted((declared | optional) - set(imported)) == [], "declared but imported nowhere in qa/"


def requirement_closure(requirements: list[str]) -> set[str]:
    """The distributions pip installs for these requirements (no extras), from installed metadata."""
    from packaging.requirements import Requirement

    seen: set[str] = set()
    todo = list(requirements)
    while todo:
        requirement = Requirement(todo.pop())
        name = _normal(requirement.name)
        if name in seen or (requirement.marker and not requirement.marker.evaluate({"extra": ""})):
            continue
        seen.add(name)
        todo += metadata.requires(requirement.name) or []
    return seen


def test_installing_qa_pulls_in_none_of_the_reference_implementations():
    installed = requirement_closure(project()["dependencies"])
    assert {"numpy", "prompt-toolkit"} <= installed
    assert installed & {"scipy", "scikit-learn", "rank-bm25", "bm25s"} == set()


@pytest.mark.parametrize("folder,extra,others", [("tests", "test", ("cluster",)), ("bench", "bench", ("models",))])
def test_an_extra_covers_what_its_folder_imports(folder, extra, others):
    runtime = {_requirement_name(r) for r in project()["dependencies"]}
    optional = {_requirement_name(r) for r in project()["optional-dependencies"]["eval"]}  # qa eval's
    # others: extras of one script each (bench/semantic_models.py's rival model), installed apart
    apart = {_requirement_name(r) for e in others for r in project()["optional-dependencies"][e]}
    declared = {_requirement_name(r) for r in project()["optional-dependencies"][extra]}
    imported = imported_distributions(folder)
    missing = {d: sorted(files) for d, files in imported.items() if d not in runtime | declared | apart}
    assert missing == {}, f"imported by {folder}/ but in neither the dependencies nor the {extra} extra"
    assert optional <= declared, f"{folder}/ runs qa eval's code: the {extra} extra needs what it imports"
    assert sorted(declared - set(imported) - optional) == [], f"in the {extra} extra but imported nowhere in {folder}/"
    assert sorted(apart - set(imported)) == [], f"in the {others} extras but imported nowhere in {folder}/"


def test_the_package_reads_as_the_pipeline():
    # readers -> text -> index -> search -> cli: a few shared modules beside the stages, no more
    top = sorted(p.name for p in (ROOT / "qa").glob("*.py") if p.name not in ("__init__.py", "__main__.py"))
    assert len(top) <= 8, top
    assert {p.name for p in (ROOT / "qa").iterdir() if p.is_dir() and p.name != "__pycache__"} == \
        {"readers", "text", "index", "search", "cli"}


def test_no_module_reaches_into_another_s_private_names():
    modules = {".".join(p.relative_to(ROOT).with_suffix("").parts): p for p in (ROOT / "qa").rglob("*.py")}
    reached = []
    for name, path in sorted(modules.items()):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {}  # local name -> qa module
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("qa"):
                for alias in node.names:
                    if alias.name.startswith("_") and not alias.name.startswith("__"):
                        reached.append(f"{name}: from {node.module} import {alias.name}")
                    full = f"{node.module}.{alias.name}"
                    if full in modules:
                        imported[alias.asname or alias.name] = full
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("qa.") and alias.asname:
                        imported[alias.asname] = alias.name
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in imported
                    and node.attr.startswith("_") and not node.attr.startswith("__")):
                reached.append(f"{name}: {node.value.id}.{node.attr}")
    assert reached == []
