"""A brief laid out as an A4 PDF with ReportLab.

Fonts are DejaVu Sans from the Debian package ``fonts-dejavu-core`` (embedded,
subset): every accent and the narrow no-break space of French numbers print.
Output is deterministic: ReportLab's *invariant* mode fixes the creation date and
the document id, so the same brief gives the same bytes.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import BinaryIO
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas
from reportlab.platypus import (
    Image,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    TableStyle,
)
from reportlab.platypus import Table as RLTable

from dashapp.i18n import t
from dashapp.services import brief_blocks as b

FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),
)
FONT = "DejaVuSans"
FONT_BOLD = "DejaVuSans-Bold"
MARGIN = 16 * mm
ACCENT = colors.HexColor("#1f3b63")
BOX_FILL = colors.HexColor("#f2f4f7")


class FontMissingError(OSError):
    """The Debian fonts are not installed."""


def _register_fonts() -> None:
    if FONT in pdfmetrics.getRegisteredFontNames():
        return
    for folder in FONT_DIRS:
        regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
        if regular.is_file() and bold.is_file():
            pdfmetrics.registerFont(TTFont(FONT, str(regular)))
            pdfmetrics.registerFont(TTFont(FONT_BOLD, str(bold)))
            pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT_BOLD)
            return
    raise FontMissingError(
        "DejaVu Sans not found: install the Debian package fonts-dejavu-core"
    )


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("body", fontName=FONT, fontSize=9.5, leading=13,
                          alignment=TA_LEFT, spaceAfter=4)  # fmt: skip
    return {
        "title": ParagraphStyle("title", parent=base, fontName=FONT_BOLD,
                                fontSize=17, leading=21, textColor=ACCENT,
                                spaceAfter=4),  # fmt: skip
        "subtitle": ParagraphStyle("subtitle", parent=base, fontSize=9.5,
                                   textColor=colors.HexColor("#444444"),
                                   spaceAfter=2),  # fmt: skip
        "h1": ParagraphStyle("h1", parent=base, fontName=FONT_BOLD, fontSize=12,
                             leading=15, textColor=ACCENT, spaceBefore=8,
                             spaceAfter=4),  # fmt: skip
        "body": base,
        "small": ParagraphStyle("small", parent=base, fontSize=8, leading=10,
                                textColor=colors.HexColor("#555555")),  # fmt: skip
        "note": ParagraphStyle("note", parent=base, fontSize=8, leading=10,
                               textColor=colors.HexColor("#555555")),  # fmt: skip
        "finding": ParagraphStyle("finding", parent=base, leftIndent=10,
                                  bulletIndent=0, spaceAfter=5),  # fmt: skip
        "cell": ParagraphStyle("cell", parent=base, fontSize=8.5, leading=10.5,
                               spaceAfter=0),  # fmt: skip
        "head": ParagraphStyle("head", parent=base, fontName=FONT_BOLD,
                               fontSize=8.5, leading=10.5, spaceAfter=0,
                               textColor=colors.white),  # fmt: skip
        "caption": ParagraphStyle("caption", parent=base, fontSize=8, leading=10,
                                  textColor=colors.HexColor("#555555"),
                                  spaceBefore=2),  # fmt: skip
        "box_title": ParagraphStyle("box_title", parent=base, fontName=FONT_BOLD,
                                    fontSize=9, leading=11, spaceAfter=2),  # fmt: skip
        "box": ParagraphStyle("box", parent=base, fontSize=8, leading=10.5,
                              spaceAfter=1),  # fmt: skip
    }


def _text(text: str) -> str:
    return escape(text)


def _figure(fig: b.Figure, width: float, styles) -> list:
    w = width * fig.width
    image = Image(io.BytesIO(fig.png), width=w, height=w * fig.aspect)
    out = [image]
    if fig.caption:
        out.append(Paragraph(_text(fig.caption), styles["caption"]))
    return out


def _table(table: b.Table, width: float, styles) -> RLTable:
    fractions = table.widths or (1.0 / len(table.header),) * len(table.header)
    data = [[Paragraph(_text(h), styles["head"]) for h in table.header]]
    data += [[Paragraph(_text(c), styles["cell"]) for c in row] for row in table.rows]
    out = RLTable(data, colWidths=[f * width for f in fractions], repeatRows=1)
    out.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), ACCENT),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, BOX_FILL]),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#c8ccd2")),
                ("TOPPADDING", (0, 0), (-1, -1), 2.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
            ]
        )
    )
    return out


def _box(box: b.Box, width: float, styles) -> RLTable:
    inner = [Paragraph(_text(box.title), styles["box_title"])]
    inner += [Paragraph(_text(line), styles["box"], bulletText="•")
              for line in box.lines]  # fmt: skip
    out = RLTable([[inner]], colWidths=[width])
    out.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, -1), BOX_FILL),
                ("BOX", (0, 0), (-1, -1), 0.5, colors.HexColor("#c8ccd2")),
                ("LEFTPADDING", (0, 0), (-1, -1), 8),
                ("RIGHTPADDING", (0, 0), (-1, -1), 8),
                ("TOPPADDING", (0, 0), (-1, -1), 6),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
            ]
        )
    )
    return out


def _row(row: b.Row, width: float, styles) -> RLTable:
    cells = [_figure(fig, width, styles) for fig in row.figures]
    out = RLTable([cells], colWidths=[width * f.width for f in row.figures])
    out.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                             ("LEFTPADDING", (0, 0), (-1, -1), 0),
                             ("RIGHTPADDING", (0, 0), (-1, -1), 2)]))  # fmt: skip
    return out


def flowables(brief: b.Brief, width: float) -> list:
    """ReportLab flowables of the brief's blocks."""
    styles = _styles()
    out = [
        Paragraph(_text(brief.title), styles["title"]),
        Paragraph(_text(brief.subtitle), styles["subtitle"]),
    ]
    heading = None  # a heading stays on the page of what follows it
    for block in brief.blocks:
        start = len(out)
        if isinstance(block, b.Heading):
            heading = Paragraph(_text(block.text), styles["h1"])
            continue
        elif isinstance(block, b.Para):
            if block.style == "finding":
                out.append(Paragraph(_text(block.text), styles["finding"],
                                     bulletText="•"))  # fmt: skip
            else:
                out.append(Paragraph(_text(block.text), styles[block.style]))
        elif isinstance(block, b.Table):
            out += [_table(block, width, styles), Spacer(1, 4)]
        elif isinstance(block, b.Figure):
            out.append(KeepTogether(_figure(block, width, styles)))
        elif isinstance(block, b.Row):
            out.append(_row(block, width, styles))
        elif isinstance(block, b.Box):
            out += [Spacer(1, 6), KeepTogether([_box(block, width, styles)])]
        elif isinstance(block, b.PageBreak):
            out.append(PageBreak())
        else:
            raise TypeError(f"unknown brief block {type(block)}")
        if heading is not None:
            out[start:] = [KeepTogether([heading, *out[start:]])]
            heading = None
    if heading is not None:
        out.append(heading)
    return out


def _numbered_canvas(footer: str, lang: str):
    """A canvas that writes "footer · page n / N" once it knows N."""

    class NumberedCanvas(canvas.Canvas):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._pages: list[dict] = []

        def showPage(self):  # noqa: N802 (ReportLab's name)
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                self.setFont(FONT, 7.5)
                self.setFillColor(colors.HexColor("#666666"))
                self.drawString(MARGIN, 9 * mm, footer)
                self.drawRightString(
                    A4[0] - MARGIN, 9 * mm,
                    t("brief.page", lang, n=self._pageNumber, total=total),
                )  # fmt: skip
                super().showPage()
            super().save()

    return NumberedCanvas


def render_pdf(brief: b.Brief, out: BinaryIO | str | Path) -> None:
    """Write ``brief`` as an A4 PDF to a file or binary stream."""
    _register_fonts()
    target = str(out) if isinstance(out, Path) else out
    doc = SimpleDocTemplate(
        target,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN + 4 * mm,
        title=brief.title,
        author=t("app.title", brief.lang),
        subject=brief.subtitle,
        creator=t("app.title", brief.lang),
        lang=brief.lang,
        invariant=1,
    )
    doc.build(
        flowables(brief, doc.width),
        canvasmaker=_numbered_canvas(brief.footer, brief.lang),
    )
