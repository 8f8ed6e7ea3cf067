from pathlib import Path

from data.kpi import catalogue_markdown

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_kpi_section_is_the_catalogue():
    assert catalogue_markdown("en") in README.read_text(encoding="utf-8")


def test_readme_names_the_two_commands():
    text = README.read_text(encoding="utf-8")
    assert "bash scripts/run.sh" in text and "bash scripts/test.sh" in text
