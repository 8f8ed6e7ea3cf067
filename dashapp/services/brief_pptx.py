"""A brief as an editable PowerPoint deck (16:9), for analysts who brief with slides.

The same blocks as the PDF (:mod:`dashapp.services.brief_blocks`): a title slide,
then one slide per section (a heading and what follows it), a new one when a section
does not fit; each map on a slide of its own. Text stays text and tables stay
tables, so everything can be edited. The file's dates are fixed (document
properties and zip entries): the same brief gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from typing import BinaryIO

from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.util import Emu, Inches, Pt

from dashapp.i18n import t
from dashapp.services import brief_blocks as b

WIDTH, HEIGHT = Inches(13.333), Inches(7.5)
MARGIN = Inches(0.5)
TOP = Inches(1.25)
ACCENT = RGBColor(0x1F, 0x3B, 0x63)
GREY = RGBColor(0x55, 0x55, 0x55)
FIXED = dt.datetime(2000, 1, 1)
CHARS_PER_LINE = 150  # at 14 pt across the slide, for the height of a paragraph


class _Deck:
    def __init__(self, brief: b.Brief) -> None:
        self.brief = brief
        self.prs = Presentation()
        self.prs.slide_width, self.prs.slide_height = WIDTH, HEIGHT
        self.blank = self.prs.slide_layouts[6]
        self.slide = None
        self.title = ""
        self.y = TOP

    @property
    def width(self) -> Emu:
        return WIDTH - 2 * MARGIN

    def text(self, slide, left, top, width, height, lines, size=14, bold=False,
             color=None, bullet=False):  # fmt: skip
        box = slide.shapes.add_textbox(left, top, width, height)
        frame = box.text_frame
        frame.word_wrap = True
        for k, line in enumerate(lines):
            para = frame.paragraphs[0] if k == 0 else frame.add_paragraph()
            para.text = ("• " if bullet else "") + line
            para.font.size = Pt(size)
            para.font.bold = bold
            if color is not None:
                para.font.color.rgb = color
        return box

    def new_slide(self, title: str) -> None:
        self.slide = self.prs.slides.add_slide(self.blank)
        self.title = title
        self.text(self.slide, MARGIN, Inches(0.35), self.width, Inches(0.8), [title],
                  size=26, bold=True, color=ACCENT)  # fmt: skip
        self.text(self.slide, MARGIN, HEIGHT - Inches(0.45), self.width, Inches(0.3),
                  [self.brief.footer], size=10, color=GREY)  # fmt: skip
        self.y = TOP

    def room(self, height) -> None:
        """A new slide (same title, continued) when ``height`` does not fit."""
        if self.slide is None or self.y + height > HEIGHT - Inches(0.6):
            self.new_slide(self.title or self.brief.title)

    def para(self, block: b.Para) -> None:
        size = 14 if block.style in ("body", "finding") else 11
        lines = max(1, -(-len(block.text) // CHARS_PER_LINE))
        height = Inches(0.32 * lines * size / 14 + 0.1)
        self.room(height)
        self.text(self.slide, MARGIN, self.y, self.width, height, [block.text],
                  size=size, bullet=block.style == "finding",
                  color=GREY if size < 14 else None)  # fmt: skip
        self.y += height

    def table(self, block: b.Table) -> None:
        height = Inches(0.34) * (len(block.rows) + 1)
        self.room(min(height, HEIGHT - TOP - Inches(0.6)))
        shape = self.slide.shapes.add_table(len(block.rows) + 1, len(block.header),
                                            MARGIN, self.y, self.width, height)  # fmt: skip
        table = shape.table
        fractions = block.widths or (1.0 / len(block.header),) * len(block.header)
        for j, fraction in enumerate(fractions):
            table.columns[j].width = int(self.width * fraction)
        for i, row in enumerate([block.header, *block.rows]):
            for j, value in enumerate(row):
                cell = table.cell(i, j)
                cell.text = value
                for para in cell.text_frame.paragraphs:
                    para.font.size = Pt(12 if i else 12.5)
                    para.font.bold = i == 0
        self.y += height + Inches(0.15)

    def figures(self, figures: tuple[b.Figure, ...]) -> None:
        """Maps on a slide of their own, side by side, captions below."""
        if self.slide is None or self.y > TOP:  # not on a slide that holds text
            self.new_slide(self.title or self.brief.title)
        n = len(figures)
        room_h = HEIGHT - TOP - Inches(1.1)
        cell_w = int(self.width / n)
        for k, fig in enumerate(figures):
            height = min(room_h, int(cell_w * fig.aspect))
            width = int(height / fig.aspect)
            left = MARGIN + k * cell_w + (cell_w - width) // 2
            self.slide.shapes.add_picture(io.BytesIO(fig.png), left, TOP, width,
                                          height)  # fmt: skip
            if fig.caption:
                self.text(self.slide, MARGIN + k * cell_w, TOP + height, cell_w,
                          Inches(0.6), [fig.caption], size=11, color=GREY)  # fmt: skip
        self.y = HEIGHT  # what follows goes on the next slide

    def box(self, block: b.Box) -> None:
        lines = sum(max(1, -(-len(line) // CHARS_PER_LINE)) for line in block.lines)
        height = Inches(0.45 + 0.27 * lines)
        self.room(height)
        self.text(self.slide, MARGIN, self.y, self.width, Inches(0.4), [block.title],
                  size=14, bold=True, color=ACCENT)  # fmt: skip
        self.text(self.slide, MARGIN, self.y + Inches(0.4), self.width,
                  height - Inches(0.4), list(block.lines), size=11,
                  bullet=True)  # fmt: skip
        self.y += height + Inches(0.1)

    def build(self) -> Presentation:
        brief = self.brief
        cover = self.prs.slides.add_slide(self.blank)
        self.text(cover, MARGIN, Inches(2.3), self.width, Inches(1.2), [brief.title],
                  size=34, bold=True, color=ACCENT)  # fmt: skip
        self.text(cover, MARGIN, Inches(3.6), self.width, Inches(1.2),
                  [brief.subtitle], size=16, color=GREY)  # fmt: skip
        intro = [blk for blk in brief.blocks[:1] if isinstance(blk, b.Para)]
        if intro:
            self.text(cover, MARGIN, Inches(4.8), self.width, Inches(0.6),
                      [intro[0].text], size=12, color=GREY)  # fmt: skip
        boxes_title = t("brief.boxes", brief.lang)
        for block in brief.blocks[len(intro):]:
            if isinstance(block, b.Heading):
                self.new_slide(block.text)
            elif isinstance(block, b.Para):
                self.para(block)
            elif isinstance(block, b.Table):
                self.table(block)
            elif isinstance(block, b.Figure):
                self.figures((block,))
            elif isinstance(block, b.Row):
                self.figures(block.figures)
            elif isinstance(block, b.Box):
                if self.title not in (boxes_title,) and not self._boxes_started:
                    self.new_slide(boxes_title)
                    self._boxes_started = True
                self.box(block)
            elif isinstance(block, b.PageBreak):
                self.y = HEIGHT
            else:
                raise TypeError(f"unknown brief block {type(block)}")
        return self.prs

    _boxes_started = False


def render_pptx(brief: b.Brief, out: BinaryIO) -> None:
    """Write ``brief`` as a .pptx deck to a binary stream."""
    prs = _Deck(brief).build()
    props = prs.core_properties
    props.title, props.subject = brief.title, brief.subtitle
    props.author = props.last_modified_by = t("app.title", brief.lang)
    props.language = brief.lang
    props.created = props.modified = props.last_printed = FIXED
    props.revision = 1
    raw = io.BytesIO()
    prs.save(raw)
    # the zip entries' own dates are the time of writing: fixed, as the PDF's
    with zipfile.ZipFile(io.BytesIO(raw.getvalue())) as src, zipfile.ZipFile(
        out, "w", zipfile.ZIP_DEFLATED
    ) as dst:
        for item in src.infolist():
            fixed = zipfile.ZipInfo(item.filename, date_time=(2000, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(fixed, src.read(item.filename))
