"""The import arrows between the parts of gans (docs/architecture.md): a forbidden one fails the suite.

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
PLAIN_DATA = {"experiments", "config", "families"}
PLAIN_DATA_MAY_IMPORT = {"config", "models", "losses", "layers", "errors", "batchnorm", "families", "precision"}


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


# ---------------------------------------------------------------------- modules: circles, private names
def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(name: str, root: Path) -> bool:
    rel = Path(*name.split(".")[1:]) if "." in name else Path()
    base = root / rel
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def module_imports(path: Path, root: Path) -> list[tuple[str, str | None]]:
    """(module imported, name taken from it or None) for every import of ``path`` into the package
    (lazy ones too, not those under ``if TYPE_CHECKING:``). ``from a.b import c`` is module a.b.c when
    that is a module, else name c of a.b."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    me = module_name(path, root).split(".")
    package = me if path.name == "__init__.py" else me[:-1]
    skip = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
            for child in node.body for n in ast.walk(child)}
    found = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found += [(a.name, None) for a in node.names if a.name.split(".")[0] == root.name]
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(package[: len(package) - node.level + 1] + ([node.module] if node.module else [])) \
                if node.level else (node.module or "")
            if base.split(".")[0] != root.name:
                continue
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found.append((full, None) if _is_module(full, root) else (base, alias.name))
    return found


def module_graph(root: Path = PACKAGE) -> dict[str, set[str]]:
    graph = {}
    for path in sorted(root.rglob("*.py")):
        me = module_name(path, root)
        graph.setdefault(me, set()).update(m for m, _ in module_imports(path, root) if m != me)
    return graph


def import_circles(root: Path = PACKAGE) -> list[list[str]]:
    """The strongly connected groups of two or more modules (Tarjan), each sorted."""
    graph = module_graph(root)
    index, low, stack, on_stack, circles = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in graph:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                circles.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return circles


def private_imports(root: Path = PACKAGE) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        me = module_name(path, root)
        for module, name in module_imports(path, root):
            if name is not None and name.startswith("_") and module != me:
                found.append(f"{me} imports {name} from {module}")
    return found


def test_no_module_imports_another_in_a_circle():
    graph = module_graph()
    assert len(graph) > 50 and "gans.training.steps.caae" in graph["gans.training.steps"], "the graph sees imports"
    assert import_circles() == []


def test_no_module_imports_a_private_name_of_another():
    assert any(name for _, name in module_imports(PACKAGE / "training" / "run.py", PACKAGE)), "names are read"
    assert private_imports() == []


def _planted(tmp_path, source: Path = PACKAGE) -> Path:
    """A copy of ``source`` (the package, or the tests) to plant a fault in."""
    copy = tmp_path / source.name
    shutil.copytree(source, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def _append(path: Path, text: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def test_a_planted_circle_inside_training_is_caught(tmp_path):
    copy = _planted(tmp_path)
    trainer = copy / "training" / "trainer.py"  # the state module is below the trainer: make it import back
    state = copy / "training" / "state.py"
    assert "gans.training.state" in module_graph(copy)["gans.training.trainer"]
    state.write_text(state.read_text(encoding="utf-8") + "\n\ndef _late():\n    from gans.training.trainer import Trainer\n")
    assert trainer.is_file()
    assert ["gans.training.state", "gans.training.trainer"] in [c for c in import_circles(copy) if len(c) == 2]


def test_a_planted_private_import_is_caught(tmp_path):
    copy = _planted(tmp_path)
    fid = copy / "evaluation" / "fid.py"
    fid.write_text(fid.read_text(encoding="utf-8") + "\n\ndef _late():\n    from gans.io import _private_helper\n")
    assert "gans.evaluation.fid imports _private_helper from gans.io" in private_imports(copy)


# ---------------------------------------------------------------------- family names stay in their families
# Loss names that the thesis's tables print (Tables 4.2, 4.3), and the combined model's name ("gan",
# thesis Figure 4.6, its optimizer's key in every saved state): names of other things than families.
FAMILY_NAME_EXCEPTIONS = {("gans.losses", "lsgan"), ("gans.losses", "wgan"), ("gans.models", "gan")}


def family_leaks(root: Path = PACKAGE) -> list[str]:
    """Where a module that no family owns names a family (a string literal equal to its name) or imports
    a module a family owns. The registry, the named configurations and each family's own modules may."""
    from gans import families

    names = set(families.names())
    owned = {m for f in families.FAMILIES.values() for m in f.modules}
    assert names and owned
    found = []
    for path in sorted(root.rglob("*.py")):
        me = module_name(path, root)
        if me in owned or me in ("gans.families", "gans.training.steps") or me.startswith("gans.experiments"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.lower() in names \
                    and (me, node.value.lower()) not in FAMILY_NAME_EXCEPTIONS:
                found.append(f"{me}:{node.lineno} names {node.value!r}")
        found += [f"{me} imports {m}" for m, _ in module_imports(path, root) if m in owned]
    return found


def test_only_the_registry_and_a_familys_own_modules_name_it():
    assert family_leaks() == []


def test_a_planted_family_branch_is_caught(tmp_path):
    copy = _planted(tmp_path)
    sampling = copy / "sampling.py"
    sampling.write_text(sampling.read_text(encoding="utf-8")
                        + "\n\ndef _late(variant):\n    if variant == 'pggan':\n"
                          "        from gans.training.progressive import phase_checkpoint\n")
    leaks = family_leaks(copy)
    assert "gans.sampling imports gans.training.progressive" in leaks
    assert any(leak.startswith("gans.sampling:") and "'pggan'" in leak for leak in leaks)


# ---------------------------------------------------------------------- the tests themselves
TESTS = Path(__file__).resolve().parent


def imports_of_test_modules(tests: Path = TESTS) -> list[str]:
    """Where a file of the test suite imports a test module (``test_*.py``) or ``conftest``: what tests
    share lives in ``helpers.py`` (functions) and ``conftest.py`` (fixtures, which pytest hands over)."""
    local = {p.stem for p in tests.rglob("*.py") if p.stem.startswith("test_") or p.stem == "conftest"}
    found = []
    for path in sorted(tests.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""] if not node.level else [f"{'.' * node.level}{node.module or ''}"]
            else:
                continue
            found += [f"{path.relative_to(tests)}:{node.lineno} imports {name}" for name in names
                      if name.lstrip(".").split(".")[0] in local or name.startswith(".")]
    return found


def test_no_test_module_imports_another():
    assert len(list(TESTS.rglob("test_*.py"))) > 30, "the check must see the test modules"
    assert imports_of_test_modules() == []


def test_a_planted_import_of_a_test_module_is_caught(tmp_path):
    copy = _planted(tmp_path, TESTS)
    _append(copy / "cli" / "test_cli_process.py", "\n\ndef _late():\n    from test_training import tiny_config\n")
    _append(copy / "helpers.py", "\nimport conftest  # noqa\n")
    found = imports_of_test_modules(copy)
    assert len(found) == 2, found
    assert found[0].startswith("cli/test_cli_process.py:") and found[0].endswith(" imports test_training")
    assert found[1].startswith("helpers.py:") and found[1].endswith(" imports conftest")


# The optional face extra (OpenCV, mtcnn): a test that needs it carries the ``faces`` marker, so that
# ``pytest -m "not faces"`` runs everything else without it.
FACES_EXTRA = {"cv2", "mtcnn"}


def _needs_faces(node: ast.AST) -> bool:
    """Whether ``node``'s code imports OpenCV or mtcnn, or skips without them (pytest.importorskip)."""
    for n in ast.walk(node):
        if isinstance(n, ast.Import) and any(a.name.split(".")[0] in FACES_EXTRA for a in n.names):
            return True
        if isinstance(n, ast.ImportFrom) and (n.module or "").split(".")[0] in FACES_EXTRA:
            return True
        if isinstance(n, ast.Call) and ast.unparse(n.func).endswith("importorskip") and n.args \
                and isinstance(n.args[0], ast.Constant) and n.args[0].value in FACES_EXTRA:
            return True
    return False


def faces_unmarked(tests: Path = TESTS) -> list[str]:
    """The tests that need the face extra without the ``faces`` marker: a module that needs it at import
    without ``pytestmark = pytest.mark.faces``; a test (or a fixture of its module it asks for) that
    needs it without ``@pytest.mark.faces`` (or the mark on its parameters)."""
    found = []
    for path in sorted(tests.rglob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        name = str(path.relative_to(tests))
        marked = any(isinstance(n, ast.Assign) and any(ast.unparse(t) == "pytestmark" for t in n.targets)
                     and "mark.faces" in ast.unparse(n.value) for n in tree.body)
        functions = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
        if any(_needs_faces(n) for n in tree.body if not isinstance(n, (ast.FunctionDef, ast.ClassDef))):
            if not marked:
                found.append(f"{name}: needs the face extra at import, without pytestmark = pytest.mark.faces")
            continue
        if marked:
            continue
        fixtures = {f.name for f in functions if any("fixture" in ast.unparse(d) for d in f.decorator_list)
                    and _needs_faces(f)}
        for f in functions:
            if not f.name.startswith("test_"):
                continue
            needs = _needs_faces(f) or any(a.arg in fixtures for a in f.args.args)
            if needs and not any("mark.faces" in ast.unparse(d) for d in f.decorator_list):
                found.append(f"{name}::{f.name} needs the face extra without @pytest.mark.faces")
    return found


def test_every_test_that_needs_the_face_extra_carries_the_faces_marker():
    assert faces_unmarked() == []


def test_a_planted_unmarked_face_test_is_caught(tmp_path):
    copy = _planted(tmp_path, TESTS)
    _append(copy / "datasets" / "test_npz.py", "\n\ndef test_planted():\n    pytest.importorskip('cv2')\n")
    utkface = copy / "datasets" / "test_utkface.py"
    lines = utkface.read_text(encoding="utf-8").splitlines(keepends=True)
    utkface.write_text("".join(line for line in lines if not line.startswith("pytestmark = pytest.mark.faces")))
    assert faces_unmarked(copy) == [
        "datasets/test_npz.py::test_planted needs the face extra without @pytest.mark.faces",
        "datasets/test_utkface.py: needs the face extra at import, without pytestmark = pytest.mark.faces"]
