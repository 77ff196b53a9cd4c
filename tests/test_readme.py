"""README.md opens with the two commands, CI runs exactly the README's test command, and the README's
links into docs/ (and the docs pages' own links) lead somewhere."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
# [text](target) and ![alt](target); the target ends at whitespace or the closing parenthesis.
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def commands() -> list[str]:
    return re.findall(r"```bash\n(.+?)\n```", (ROOT / "README.md").read_text())[:2]


def anchors(page: Path) -> set[str]:
    """GitHub's anchors for a page's headings: lower case, punctuation dropped, spaces as hyphens."""
    headings = re.findall(r"^#+ (.+)$", page.read_text(), flags=re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


def broken_links(page: Path) -> list[str]:
    """The relative links of a page whose file, or whose #anchor in that file, does not exist."""
    broken = []
    for target in LINK.findall(page.read_text()):
        if re.match(r"[a-z]+:", target):  # https:, mailto: — not this repository's
            continue
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists() or (anchor and file.suffix == ".md" and anchor not in anchors(file)):
            broken.append(target)
    return broken


def test_readme_opens_with_run_and_test_commands():
    run, test = commands()
    assert run == "pip install -r requirements.txt && streamlit run explorer/app.py"
    assert "python -m pytest" in test


def test_ci_runs_the_readme_test_command():
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert commands()[1] in ci_lines


def test_readme_links_lead_to_existing_docs_pages():
    readme = ROOT / "README.md"
    docs_links = [t for t in LINK.findall(readme.read_text()) if t.startswith("docs/")]
    assert len(docs_links) >= 10  # the measurements and notes moved out of the README are linked from it
    assert broken_links(readme) == []


def test_every_docs_page_is_linked_from_the_readme():
    linked = {t.partition("#")[0] for t in LINK.findall((ROOT / "README.md").read_text())}
    pages = {f"docs/{p.name}" for p in DOCS.glob("*.md")}
    assert pages and pages <= linked


def test_relative_links_in_docs_resolve():
    assert {p.name: broken_links(p) for p in DOCS.glob("*.md")} == {p.name: [] for p in DOCS.glob("*.md")}


def test_broken_links_are_found(tmp_path):
    page = tmp_path / "page.md"
    (tmp_path / "there.md").write_text("# A heading, here\n")
    page.write_text(
        "[ok](there.md) [ok](there.md#a-heading-here) [web](https://example.org/x) "
        "[gone](missing.md) [no anchor](there.md#nowhere) ![img](missing.png)"
    )
    assert broken_links(page) == ["missing.md", "there.md#nowhere", "missing.png"]
