"""The documentation: a front-page README, every figure on a page, and a site that builds strictly.

``mkdocs build --strict`` turns every warning into a failure: a link to a missing page or anchor, an
image that is not there, a ``::: module`` reference that does not resolve, or a docstring that
mkdocstrings cannot parse (a parameter the signature lacks). The planted cases below prove the build
fails on each kind, so a green build means something.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
README = ROOT / "README.md"

# Markdown images and links: ![alt](target) / [text](target); the target up to a space or ")".
IMAGE = re.compile(r"!\[[^\]]*\]\(([^)\s]+)")
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)")


def _pages() -> list[Path]:
    pages = sorted(DOCS.rglob("*.md"))
    assert pages, f"no pages under {DOCS}"
    return pages


def _local(target: str) -> bool:
    return not re.match(r"[a-z]+:", target) and not target.startswith("#")


def test_readme_is_a_front_page():
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) < 250, f"README.md has {len(lines)} lines; move detail into a page under docs/"
    text = "\n".join(lines)
    # The two set-up commands come first, before any other section.
    commands = [n for n, line in enumerate(lines) if line.startswith('pip install -e ".[faces,dev,docs]" && ')]
    assert len(commands) == 2 and commands[0] < next(n for n, line in enumerate(lines) if line.startswith("## The papers"))
    for page in ("thesis", "mnist-ccgan", "pggan-celeba-hq", "caae-utkface", "attribute-celeba"):
        assert f"(docs/{page}.md)" in text, f"the papers table does not link docs/{page}.md"


def test_every_local_link_of_the_readme_resolves():
    targets = [t for t in LINK.findall(README.read_text(encoding="utf-8")) if _local(t)]
    assert targets, "the README links no page"
    missing = [t for t in targets if not (ROOT / t.split("#")[0]).exists()]
    assert not missing, f"README.md links files that do not exist: {missing}"


def test_every_figure_exists_and_every_figure_is_shown():
    shown = {}
    for page in _pages():
        for target in IMAGE.findall(page.read_text(encoding="utf-8")):
            assert _local(target), f"{page.name} shows a remote image {target}; keep figures in docs/"
            shown[(page.parent / target).resolve()] = page
    assert shown, "no page shows a figure"
    missing = sorted(f"{path.relative_to(ROOT)} (in {page.name})" for path, page in shown.items() if not path.exists())
    assert not missing, f"pages show figures that do not exist: {missing}"
    figures = sorted(DOCS.rglob("*.png"))
    assert figures, "no figures under docs/"
    orphans = [str(f.relative_to(ROOT)) for f in figures if f.resolve() not in shown]
    assert not orphans, f"figures no page shows (link them from their paper's or topic's page): {orphans}"


def _mkdocs_build(config: Path, site: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}  # Material's banner about its successor, not a warning
    return subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(config),
                           "--site-dir", str(site)], cwd=config.parent, env=env, capture_output=True,
                          text=True, timeout=300)


@pytest.fixture(scope="module")
def mkdocs_tools():
    missing = []
    for module in ("mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers.python"):
        try:
            __import__(module)
        except ImportError:
            missing.append(module)
    if missing:
        pytest.skip(f"the docs tools are not installed ({', '.join(missing)}): pip install -e \".[docs]\"")


def test_the_site_builds_strictly(mkdocs_tools, tmp_path):
    result = _mkdocs_build(ROOT / "mkdocs.yml", tmp_path / "site")
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{result.stdout}\n{result.stderr}"
    built = {p.relative_to(tmp_path / "site").as_posix() for p in (tmp_path / "site").rglob("index.html")}
    for page in _pages():
        name = page.relative_to(DOCS).with_suffix("").as_posix()
        expected = "index.html" if name == "index" else f"{name}/index.html"
        assert expected in built, f"docs/{page.relative_to(DOCS)} is not in the built site"
    # The API reference is rendered from the docstrings, not left as a bare ``:::`` line.
    api = (tmp_path / "site" / "api" / "training" / "index.html").read_text(encoding="utf-8")
    assert "gans.training.steps.base.Step" in api and "One training iteration of one GAN family" in api
    assert ":::" not in api


def _planted_site(tmp_path: Path, page: str) -> Path:
    """A one-page copy of the real configuration (same theme, plugins and validation) around ``page``."""
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    config = re.sub(r"(?ms)^nav:\n.*?(?=^\S)", "nav:\n  - Home: index.md\n", config)
    config = config.replace("paths: [.]", f"paths: [{ROOT.as_posix()!r}]")
    config = config.replace("- tools/", f"- {ROOT.as_posix()}/tools/")
    (tmp_path / "docs").mkdir(exist_ok=True)
    (tmp_path / "docs" / "index.md").write_text(page, encoding="utf-8")
    (tmp_path / "mkdocs.yml").write_text(config, encoding="utf-8")
    return tmp_path / "mkdocs.yml"


def test_the_one_page_copy_builds_without_a_fault(mkdocs_tools, tmp_path):
    """The control of the planted cases below: the same one-page site with a good link, anchor,
    figure and reference builds."""
    figure = sorted(DOCS.glob("*.png"))[0]
    (tmp_path / "docs").mkdir(parents=True)
    (tmp_path / "docs" / "page.md").write_text("# Page\n\n## A heading\n", encoding="utf-8")
    (tmp_path / "docs" / figure.name).write_bytes(figure.read_bytes())
    page = (f"# Home\n\nSee [a page](page.md), [its heading](page.md#a-heading).\n\n![a figure]({figure.name})\n\n"
            "::: gans.errors\n")
    config = _planted_site(tmp_path, page)
    config.write_text(config.read_text(encoding="utf-8").replace("  - Home: index.md\n",
                                                                   "  - Home: index.md\n  - Page: page.md\n"))
    result = _mkdocs_build(config, tmp_path / "site")
    assert result.returncode == 0, f"the one-page copy of the site does not build:\n{result.stdout}\n{result.stderr}"
    assert "GansError" in (tmp_path / "site" / "index.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("page, complaint", [
    ("# Home\n\nSee [the run folder](run-folders.md).\n", "run-folders.md"),
    ("# Home\n\nSee [training](#no-such-heading).\n", "no-such-heading"),
    ("# Home\n\n![a figure](no_such_figure.png)\n", "no_such_figure.png"),
    ("# Home\n\n::: gans.no_such_module\n", "gans.no_such_module"),
], ids=["broken-link", "broken-anchor", "missing-figure", "missing-docstring-reference"])
def test_the_strict_build_fails_on_a_planted_fault(mkdocs_tools, tmp_path, page, complaint):
    result = _mkdocs_build(_planted_site(tmp_path, page), tmp_path / "site")
    assert result.returncode != 0, f"mkdocs build --strict passed with {complaint!r} planted"
    assert complaint in result.stdout + result.stderr
