"""The documentation: the README stays a short front page, its links and
the docs' links resolve, and the generated pages (the hook reference, the
spaCy project's document) are what their generators write today."""
import re
import shutil
import subprocess
import sys
from pathlib import Path

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
    out = subprocess.run([sys.executable, str(DOCS / "hook_reference.py")], capture_output=True, text=True, check=True)
    assert out.stdout == (DOCS / "hooks.md").read_text(encoding="utf-8"), (
        "docs/hooks.md is out of date: run `.venv/bin/python docs/hook_reference.py > docs/hooks.md`"
    )
    for hook in ("autolabel_domains", "autolabel_formats", "autolabel_labelers"):
        assert f"### `{hook}(" in out.stdout


def test_the_project_document_is_current(tmp_path):
    page = tmp_path / "project.md"
    shutil.copyfile(DOCS / "project.md", page)
    subprocess.run(
        [sys.executable, "-m", "spacy", "project", "document", str(ROOT), "--output", str(page), "--no-emoji"],
        capture_output=True, check=True, cwd=ROOT,
    )
    assert page.read_text() == (DOCS / "project.md").read_text(), (
        "docs/project.md is out of date: run `python -m spacy project document . --output docs/project.md --no-emoji`"
    )
