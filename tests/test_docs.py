"""The README and docs/ stay short, reachable and true.

A newcomer reads the README in ten minutes and follows its links into docs/; these tests fail
when the README grows back, a link or anchor points nowhere, a `make` target it names is gone,
a docs/ page is orphaned, an environment variable the code reads is undocumented, or an app
folder loses the docstring that says what lives there.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from redcross.roles import DOMAIN_APPS

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"

_FENCE = re.compile(r"^(```|~~~)")
_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def _markdown_files() -> list[Path]:
    return [README, *sorted(DOCS.glob("*.md"))]


def _split(text: str) -> tuple[list[str], list[str]]:
    """The lines outside fenced code blocks, and the lines inside them."""
    prose, code, fenced = [], [], False
    for line in text.splitlines():
        if _FENCE.match(line.strip()):
            fenced = not fenced
            continue
        (code if fenced else prose).append(line)
    return prose, code


def _anchors(path: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, -1 for repeats."""
    prose, _ = _split(path.read_text(encoding="utf-8"))
    seen: dict[str, int] = {}
    anchors = set()
    for line in prose:
        heading = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not heading:
            continue
        text = re.sub(r"[`*_]", "", heading.group(1)).strip().lower()
        slug = re.sub(r"[^\w\- ]", "", text).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchors.add(slug if count == 0 else f"{slug}-{count}")
    return anchors


def _relative_links(path: Path) -> list[str]:
    prose, _ = _split(path.read_text(encoding="utf-8"))
    links = []
    for line in prose:
        for target in _LINK.findall(line):
            if not _SCHEME.match(target):
                links.append(target)
    return links


def test_readme_is_short():
    lines = README.read_text(encoding="utf-8").count("\n")
    assert lines < 200, f"README.md has {lines} lines; move the detail into docs/"


@pytest.mark.parametrize("path", _markdown_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(path: Path):
    broken = []
    for target in _relative_links(path):
        file_part, _, anchor = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        if not linked.exists():
            broken.append(f"{target}: no such file")
        elif anchor and linked.suffix == ".md" and anchor not in _anchors(linked):
            broken.append(f"{target}: no heading with anchor #{anchor}")
    assert not broken, f"{path.relative_to(ROOT)}: " + "; ".join(broken)


def test_every_docs_page_is_linked_from_the_readme():
    linked = {(README.parent / target.partition("#")[0]).resolve() for target in _relative_links(README)}
    orphans = [p.name for p in DOCS.glob("*.md") if p.resolve() not in linked]
    assert not orphans, f"docs/ pages the README does not link: {orphans}"


def test_make_targets_named_in_the_docs_exist():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([\w-]+)\s*:(?!=)", makefile, re.MULTILINE))
    named: dict[str, str] = {}
    for path in _markdown_files():
        prose, code = _split(path.read_text(encoding="utf-8"))
        for target in re.findall(r"`make ([\w-]+)", "\n".join(prose)):
            named.setdefault(target, path.name)
        for line in code:
            for target in re.findall(r"(?:^|[\s;&|])make ([\w-]+)", line):
                named.setdefault(target, path.name)
    assert {"run", "test"} <= set(named), "the README names the two commands"
    missing = {target: where for target, where in named.items() if target not in targets}
    assert not missing, f"make targets named in the docs but not in the Makefile: {missing}"


def test_every_environment_variable_the_code_reads_is_documented():
    settings_source = (ROOT / "redcross" / "settings" / "__init__.py").read_text(encoding="utf-8")
    gunicorn_source = (ROOT / "redcross" / "gunicorn.conf.py").read_text(encoding="utf-8")
    read = set(re.findall(r"\.(?:str|bool|int|float|list|db)\(\s*\"([A-Z][A-Z0-9_]*)\"", settings_source))
    read |= set(re.findall(r"os\.environ\.get\(\s*\"([A-Z][A-Z0-9_]*)\"", gunicorn_source))
    assert {"SECRET_KEY", "DATABASE_URL", "REDIS_URL", "GUNICORN_WORKERS"} <= read, "the patterns still find reads"
    documented = set(re.findall(r"`([A-Z][A-Z0-9_]*)`", (DOCS / "configuration.md").read_text(encoding="utf-8")))
    assert not read - documented, f"read by the code, missing from docs/configuration.md: {sorted(read - documented)}"


@pytest.mark.parametrize("app", DOMAIN_APPS)
def test_every_app_says_what_lives_in_it(app: str):
    doc = importlib.import_module(app).__doc__
    assert doc and len(doc.split()) >= 5, f"{app}/__init__.py needs a module docstring saying what lives there"
