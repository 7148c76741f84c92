"""The documentation site builds with ``mkdocs build --strict`` (every page in the navigation,
the generated primitive reference and the API reference from the docstrings), strictness
catches a broken link, and a real headless browser renders the built index page: the
navigation and a highlighted code block are in the DOM after the theme's JavaScript ran."""

from __future__ import annotations

import functools
import http.server
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import threading
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def build(config: Path, site: Path) -> subprocess.CompletedProcess:
    """``mkdocs build --strict`` of ``config`` into ``site``, in a fresh interpreter. Not
    ``--quiet``: it hides the warnings from ``--strict`` too, and the build then passes."""
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict",
         "--config-file", str(config), "--site-dir", str(site)],
        cwd=config.parent, capture_output=True, text=True, timeout=300,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    site = tmp_path_factory.mktemp("site")
    result = build(ROOT / "mkdocs.yml", site)
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{result.stdout}\n{result.stderr}"
    return site


def nav_pages(entries) -> list[str]:
    """The markdown files named in mkdocs.yml's nav, in order."""
    pages = []
    for entry in entries:
        for value in (entry.values() if isinstance(entry, dict) else [entry]):
            pages.extend(nav_pages(value) if isinstance(value, list) else [value])
    return pages


class Elements(HTMLParser):
    """Every element of an HTML document as (tag, attributes, ancestors' (tag, classes)),
    with the text of each element's descendants kept for links."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
            "source", "track", "wbr", "path", "rect", "circle", "use"}

    def __init__(self, document: str) -> None:
        super().__init__()
        self.elements: list[dict] = []
        self.stack: list[dict] = []
        self.feed(document)

    def handle_starttag(self, tag, attrs):
        attributes = {name: value or "" for name, value in attrs}
        element = {"tag": tag, "attrs": attributes, "classes": set(attributes.get("class", "").split()),
                   "ancestors": [(e["tag"], e["classes"]) for e in self.stack], "text": ""}
        self.elements.append(element)
        if tag not in self.VOID:
            self.stack.append(element)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in self.VOID:
            self.stack.pop()

    def handle_endtag(self, tag):
        for depth in range(len(self.stack) - 1, -1, -1):
            if self.stack[depth]["tag"] == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data):
        for element in self.stack:
            element["text"] += data

    def find(self, tag: str, cls: str | None = None, inside: str | None = None) -> list[dict]:
        """Elements ``tag`` (with class ``cls``) that have an ancestor of class ``inside``."""
        return [e for e in self.elements if e["tag"] == tag and (cls is None or cls in e["classes"])
                and (inside is None or any(inside in classes for _, classes in e["ancestors"]))]


def test_every_page_of_the_navigation_is_built(site):
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    pages = nav_pages(config["nav"])
    assert {"index.md", "getting-started.md", "migration.md", "migration-tsfresh.md",
            "primitives.md"} <= set(pages)
    assert sum(page.startswith("guide/") for page in pages) >= 7
    assert sum(page.startswith("api/") for page in pages) >= 5
    for page in pages:
        assert (ROOT / "docs" / page).is_file(), f"mkdocs.yml names a missing page: {page}"
        built = site / page.replace(".md", ".html")
        assert built.is_file(), f"{page} was not built"


def test_the_generated_primitive_reference_renders_as_a_table(site):
    source = (ROOT / "docs" / "primitives.md").read_text()
    rows = [line for line in source.splitlines() if line.startswith("| ") and "---" not in line]
    page = Elements((site / "primitives.html").read_text())
    cells = [row["text"].strip() for row in page.find("td")]
    table_rows = page.find("tr")
    assert len(table_rows) == len(rows)  # the header row and one per primitive
    names = {line.split("|")[1].strip() for line in rows[1:]}
    assert {"mean", "count", "abs_energy", "fft_coefficient"} <= names
    assert names <= set(cells)


def test_the_api_reference_is_rendered_from_the_docstrings(site):
    from featurekit.engine.api import compute
    from featurekit.entityset import EntitySet

    features = (site / "api" / "features.html").read_text()
    first_line = compute.__doc__.splitlines()[0]
    assert first_line.split(":")[0] in features  # the docstring's own words
    assert 'id="featurekit.engine.api.compute"' in features
    entityset = (site / "api" / "entityset.html").read_text()
    for method in ("add_table", "add_relationship", "normalize"):
        assert f'id="featurekit.entityset.EntitySet.{method}"' in entityset
        assert getattr(EntitySet, method).__doc__.split()[0] in entityset


def test_readme_links_stay_inside_the_repository_and_reach_the_docs():
    readme = (ROOT / "README.md").read_text()
    targets = re.findall(r"\]\(([^)\s]+)\)", readme)
    assert "docs/index.md" in targets and "docs/getting-started.md" in targets
    for target in targets:
        assert "://" not in target and not target.startswith("/"), f"README links outside: {target}"
        path = (ROOT / target.split("#")[0]).resolve()
        assert path.is_relative_to(ROOT) and path.exists(), f"README links to a missing file: {target}"


def test_strict_build_fails_on_a_broken_link(tmp_path):
    shutil.copytree(ROOT / "docs", tmp_path / "docs")
    shutil.copy(ROOT / "mkdocs.yml", tmp_path / "mkdocs.yml")
    (tmp_path / "docs" / "index.md").write_text(
        (ROOT / "docs" / "index.md").read_text() + "\nSee [the missing page](no-such-page.md).\n")
    # the API pages read the package from the config's folder
    for name in ("featurekit", "primitives", "docs_support"):
        (tmp_path / name).symlink_to(ROOT / name)
    result = build(tmp_path / "mkdocs.yml", tmp_path / "site")
    assert result.returncode != 0
    assert "no-such-page.md" in result.stdout + result.stderr


def test_prose_doctests_are_fenced_and_examples_sections_left_alone():
    spec = importlib.util.spec_from_file_location("doctest_blocks",
                                                  ROOT / "docs_support" / "doctest_blocks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    docstring = ("Say what.\n\n>>> f(1)\n... # comment\n2\n\nMore prose.\n\n"
                 "Examples\n--------\n>>> f(2)\n3\n")
    assert module.fence_doctests(docstring) == (
        "Say what.\n\n```pycon\n>>> f(1)\n... # comment\n2\n```\n\nMore prose.\n\n"
        "Examples\n--------\n>>> f(2)\n3")
    indented = "- a point:\n\n    >>> g()\n    1\n"
    assert module.fence_doctests(indented) == "- a point:\n\n    ```pycon\n    >>> g()\n    1\n    ```"


def browser() -> str:
    for name in BROWSERS:
        if found := shutil.which(name):
            return found
    pytest.fail("no Chromium to open the documentation with: install it "
                "(apt-get install -y chromium; .ci/run does this)")


@pytest.fixture
def served(site):
    """The built site over HTTP on a free port of 127.0.0.1."""
    handler = functools.partial(QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's signature
        pass


def test_a_headless_browser_renders_navigation_and_highlighted_code(site, served, tmp_path):
    result = subprocess.run(
        [browser(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--no-first-run", "--no-default-browser-check", f"--user-data-dir={tmp_path / 'profile'}",
         "--virtual-time-budget=10000", "--dump-dom", f"{served}/index.html"],
        capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-3000:]
    dom = Elements(result.stdout)
    static = (site / "index.html").read_text()

    # the theme's JavaScript ran: it marks the document and adds a copy button to code blocks,
    # neither of which is in the HTML the server sent
    html = dom.find("html")[0]
    assert "js" in html["classes"] and "no-js" not in html["classes"]
    assert "md-code__button" not in static
    copy_buttons = dom.find("button", "md-code__button", inside="highlight")
    assert copy_buttons, "no copy button in a code block: the theme's JavaScript did not run"

    # the navigation: links to the guide, the migration pages and the references
    links = {link["attrs"].get("href", "").split("#")[0]
             for link in dom.find("a", "md-nav__link", inside="md-nav--primary")}
    assert {"getting-started.html", "guide/dfs.html", "guide/timeseries.html",
            "migration-tsfresh.html", "primitives.html"} <= links
    titles = {link["text"].strip() for link in dom.find("a", "md-nav__link", inside="md-nav--primary")}
    assert {"Getting started", "Deep feature synthesis", "Primitive reference"} <= titles

    # a highlighted Python block: the quick start's import, with the lexer's token classes
    code = [block for block in dom.find("code", inside="language-python")
            if "fk.dfs(" in block["text"]]
    assert code, "the quick start's code block is not in the page"
    keywords = [span["text"] for span in dom.find("span", "kn", inside="language-python")]
    assert "import" in keywords
    assert re.search(r'<span class="nn">featurekit</span>', result.stdout)
