"""The import arrows between the parts of gans (README "Architecture"): a forbidden one fails the suite.

A part is the first name below ``gans`` (``gans/models/dcgan.py`` -> models, ``gans/io.py`` -> io). Every
import is read from the source, including those inside functions (the lazy ones), except those under
``if TYPE_CHECKING:``.
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "gans"

# part -> parts it must never import
FORBIDDEN = {
    "evaluation": {"training", "cli"},
    "models": {"training", "datasets", "evaluation", "cli"},
    "datasets": {"training", "models", "evaluation", "cli"},
}
# plain data: the experiment table and the run config import only these parts
PLAIN_DATA = {"experiments", "config"}
PLAIN_DATA_MAY_IMPORT = {"config", "models", "losses", "layers", "errors", "batchnorm", "precision"}


def _imports(path: Path, root: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: list[str] = []
    module = list(path.relative_to(root.parent).with_suffix("").parts)
    skip = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
            for child in node.body for n in ast.walk(child)}
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                package = module[: len(module) - node.level] if path.name != "__init__.py" else module[: len(module) - node.level + 1]
                base = ".".join(package + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            names += [f"{base}.{a.name}" for a in node.names] if base == root.name else [base]
    return names


def part_of(path: Path, root: Path) -> str:
    return path.relative_to(root).parts[0].removesuffix(".py")


def import_graph(root: Path = PACKAGE) -> dict[str, dict[str, list[str]]]:
    """part -> {imported part -> [files that import it]}."""
    graph: dict[str, dict[str, list[str]]] = {}
    for path in sorted(root.rglob("*.py")):
        src = part_of(path, root)
        for name in _imports(path, root):
            bits = name.split(".")
            if bits[0] != root.name or len(bits) < 2 or bits[1] == src:
                continue
            graph.setdefault(src, {}).setdefault(bits[1], []).append(str(path.relative_to(root.parent)))
    return graph


def violations(root: Path = PACKAGE) -> list[str]:
    graph = import_graph(root)
    found = []
    for src, targets in graph.items():
        for dst, files in targets.items():
            if dst == "cli" or dst in FORBIDDEN.get(src, ()) or (src in PLAIN_DATA and dst not in PLAIN_DATA_MAY_IMPORT):
                found.append(f"{src} -> {dst} ({', '.join(sorted(set(files)))})")

    def reaches(a, b, seen=()):
        return any(n == b or (n not in seen and reaches(n, b, (*seen, n))) for n in graph.get(a, {}))

    for src in graph:
        for dst in graph[src]:
            if src < dst and reaches(dst, src):
                found.append(f"cycle: {src} <-> {dst}")
    return found


def test_the_package_has_no_forbidden_import_arrow():
    graph = import_graph()
    assert graph and "training" in graph and "evaluation" in graph["training"], "the graph must see real imports"
    assert violations() == []


@pytest.mark.parametrize("planted, expected", [
    ("gans/evaluation/fid.py", "evaluation -> training"),
    ("gans/models/dcgan.py", "models -> training"),
    ("gans/datasets/mnist.py", "datasets -> training"),
])
def test_a_planted_forbidden_import_is_caught(planted, expected, tmp_path):
    copy = tmp_path / "gans"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    target = tmp_path / planted
    target.write_text(target.read_text(encoding="utf-8") + "\n\ndef _late():\n    from gans.training import train\n")
    assert any(v.startswith(expected) for v in violations(copy))


def test_a_planted_cli_import_and_a_cycle_are_caught(tmp_path):
    copy = tmp_path / "gans"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "io.py").write_text((copy / "io.py").read_text(encoding="utf-8")
                                + "\nfrom gans import cli  # noqa\nimport gans.errors  # noqa\n")
    (copy / "errors.py").write_text((copy / "errors.py").read_text(encoding="utf-8") + "\nimport gans.io  # noqa\n")
    found = violations(copy)
    assert any(v.startswith("io -> cli") for v in found)
    assert any(v.startswith("cycle:") and "io" in v for v in found)
