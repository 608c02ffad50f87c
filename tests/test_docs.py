"""The documentation: the README stays a short front page, its links and
the docs' links resolve, and the generated pages (the hook reference, the
spaCy project's document) are what their generators write today."""

import importlib.util
import re
import shutil
from pathlib import Path

from weasel.cli.document import project_document

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
README_MAX_BYTES = 6_000  # what the product does, the two commands, Python, the loop, one table, links


def local_links(path: Path) -> list[str]:
    return [t for t in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", path.read_text(encoding="utf-8")) if "://" not in t]


def test_the_readme_is_a_short_front_page_with_the_two_commands():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.encode("utf-8")) <= README_MAX_BYTES
    assert "make demo" in text and "make test" in text
    assert max(len(line) for line in text.splitlines()) < 200  # no table cell of a thousand characters
    linked = {Path(t).name for t in local_links(ROOT / "README.md")}
    assert {p.name for p in DOCS.glob("*.md")} <= linked, "every page of docs/ is linked from the README"


def test_every_local_link_of_the_docs_resolves():
    for page in [ROOT / "README.md", *DOCS.glob("*.md")]:
        for target in local_links(page):
            if page.name == "project.md" and target == "project.yml":
                continue  # written by `spacy project document`, relative to the project root
            assert (page.parent / target).exists(), f"{page.name}: broken link {target}"


def test_the_hook_reference_is_generated_from_the_hookspecs():
    spec = importlib.util.spec_from_file_location("hook_reference", DOCS / "hook_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    generated = module.reference()
    assert generated == (DOCS / "hooks.md").read_text(encoding="utf-8"), (
        "docs/hooks.md is out of date: run `.venv/bin/python docs/hook_reference.py > docs/hooks.md`"
    )
    for hook in ("autolabel_domains", "autolabel_formats", "autolabel_labelers"):
        assert f"### `{hook}(" in generated


def test_the_project_document_is_current(tmp_path):
    page = tmp_path / "project.md"
    shutil.copyfile(DOCS / "project.md", page)
    project_document(ROOT, page, no_emoji=True)  # what `spacy project document` runs
    assert page.read_text() == (DOCS / "project.md").read_text(), (
        "docs/project.md is out of date: run `python -m spacy project document . --output docs/project.md --no-emoji`"
    )
