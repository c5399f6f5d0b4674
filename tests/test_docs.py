"""Design-note citations: the code cites sections of docs/design.md that exist, and nothing outside the repository
(no ``METHOD x.y`` references to an external specification)."""
from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SOURCES = ("kitti", "train", "ops", "scripts", "configs", "benchmarks", "tests")
CITATION = re.compile(r"docs/design\.md((?: §\d+(?:\.\d+)?(?:,| and)?)+)")


def _files() -> list[Path]:
    found = [REPO / "README.md"]
    for top in SOURCES:
        found += [p for p in (REPO / top).rglob("*") if p.suffix in (".py", ".yaml", ".sh", ".md", ".cpp", ".cu")]
    return found


def _sections() -> set[str]:
    text = (REPO / "docs" / "design.md").read_text()
    return set(re.findall(r"^#{2,3} (\d+(?:\.\d+)?)\. ", text, flags=re.M)) | set(
        re.findall(r"^### (\d+\.\d+) ", text, flags=re.M))


def test_citations_name_existing_sections() -> None:
    sections = _sections()
    assert {"1", "3", "4.4", "10.2"} <= sections
    cited, missing = 0, []
    for path in _files():
        for match in CITATION.finditer(path.read_text(errors="replace")):
            for number in re.findall(r"§(\d+(?:\.\d+)?)", match.group(1)):
                cited += 1
                if number not in sections:
                    missing.append(f"{path.relative_to(REPO)}: §{number}")
    assert cited >= 30 and missing == []


def test_no_citation_outside_the_repository() -> None:
    pattern = re.compile(r"\bMETHOD (?:\d|section)|METHOD\.md|/work/shared")
    offenders = [str(p.relative_to(REPO)) for p in _files()
                 if p.name != "test_docs.py" and pattern.search(p.read_text(errors="replace"))]
    assert offenders == []


def test_readme_is_a_door() -> None:
    """The README opens with the two commands, links the design note and the results, stays short, and names no
    commit and no path outside the repository (a clone has neither the history rows' context nor ../shared)."""
    text = (REPO / "README.md").read_text()
    lines = text.splitlines()
    assert len(lines) <= 200
    assert "bash scripts/all_steps_script.sh --demo" in lines[3] and "bash scripts/run_tests.sh" in lines[4]
    assert "(docs/design.md)" in text and "(docs/results.md)" in text
    assert (REPO / "docs" / "results.md").is_file()
    assert re.findall(r"\b(?=[0-9a-f]*[a-f])(?=[0-9a-f]*\d)[0-9a-f]{7,40}\b", text) == []
    assert "../" not in text


def test_results_name_the_commit_of_each_table() -> None:
    """docs/results.md: every section with a table after the reading guide names the commit it was measured at."""
    text = (REPO / "docs" / "results.md").read_text()
    sections = re.split(r"^## ", text, flags=re.M)[1:]
    assert sections[0].startswith("How to read the tables")
    for section in sections[1:]:
        if "\n|---" in section and not section.startswith(("The synthetic world", "Speed")):
            assert re.search(r"\b[0-9a-f]{7}\b", section), section.splitlines()[0]
