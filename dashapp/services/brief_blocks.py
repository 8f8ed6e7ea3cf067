"""The blocks a brief is made of, whatever renders them.

:mod:`dashapp.services.briefs` writes a brief as these blocks and
:mod:`dashapp.services.brief_pdf` lays them out on A4 pages; neither imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 1


@dataclass(frozen=True)
class Para:
    text: str
    style: str = "body"  # body, small, note, finding


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    widths: tuple[float, ...] | None = None  # fractions of the text width


@dataclass(frozen=True)
class Figure:
    png: bytes
    aspect: float  # height / width
    caption: str = ""
    width: float = 1.0  # fraction of the text width


@dataclass(frozen=True)
class Box:
    title: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class Row:
    """Figures side by side (before/after maps, compared scenarios)."""

    figures: tuple[Figure, ...]


@dataclass(frozen=True)
class PageBreak:
    pass


@dataclass
class Brief:
    """A brief: its title lines and its blocks, in the brief's language."""

    title: str
    subtitle: str
    lang: str
    blocks: list = field(default_factory=list)
    footer: str = ""
