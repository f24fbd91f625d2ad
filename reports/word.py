"""A brief as an editable Word document (python-docx): real headings, tables, pictures and hyperlinks."""

from __future__ import annotations

import io

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from reports.figures import Brief
from reports.layout import Heading, Link, Para, Picture, Table, blocks, title_of

EAST_ASIAN = "Microsoft YaHei"  # what Word uses for Chinese text; other viewers substitute a CJK font


def _east_asian(style: object) -> None:
    rpr = style.element.get_or_add_rPr()  # type: ignore[attr-defined]
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.append(fonts)
    fonts.set(qn("w:eastAsia"), EAST_ASIAN)


def _hyperlink(paragraph: object, text: str, url: str) -> None:
    part = paragraph.part  # type: ignore[attr-defined]
    rid = part.relate_to(url, RELATIONSHIP_TYPE.HYPERLINK, is_external=True)
    link = OxmlElement("w:hyperlink")
    link.set(qn("r:id"), rid)
    run = OxmlElement("w:r")
    rpr = OxmlElement("w:rPr")
    for tag, val in (("w:color", "0563C1"), ("w:u", "single")):
        el = OxmlElement(tag)
        el.set(qn("w:val"), val)
        rpr.append(el)
    run.append(rpr)
    t = OxmlElement("w:t")
    t.text = text
    t.set(qn("xml:space"), "preserve")
    run.append(t)
    link.append(run)
    paragraph._p.append(link)  # type: ignore[attr-defined]


def render_docx(brief: Brief) -> bytes:
    doc = Document()
    doc.core_properties.title = title_of(brief)
    doc.core_properties.author = "yuqing"
    for name in ("Normal", "Title", "Heading 1", "Heading 2", "Heading 3", "Caption"):
        _east_asian(doc.styles[name])
    doc.styles["Normal"].font.size = Pt(10.5)
    for block in blocks(brief):
        if isinstance(block, Heading):
            doc.add_heading(block.text, level=block.level)
        elif isinstance(block, Para):
            p = doc.add_paragraph()
            run = p.add_run(block.text)
            if block.note:
                run.italic = True
                run.font.color.rgb = RGBColor(0x66, 0x66, 0x66)
        elif isinstance(block, Table):
            table = doc.add_table(rows=1, cols=len(block.columns))
            table.style = "Table Grid"
            for cell, text in zip(table.rows[0].cells, block.columns, strict=True):
                cell.text = text
                for run in cell.paragraphs[0].runs:
                    run.bold = True
            for row in block.rows:
                for cell, text in zip(table.add_row().cells, row, strict=True):
                    cell.text = text
            doc.add_paragraph()
        elif isinstance(block, Picture):
            doc.add_picture(io.BytesIO(block.png), width=Cm(15.5))
            doc.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
            doc.add_paragraph(block.caption, style="Caption")
        elif isinstance(block, Link):
            p = doc.add_paragraph(style="List Bullet")
            p.add_run(block.text + " ")
            if block.url.startswith(("http://", "https://")):
                _hyperlink(p, "原帖链接", block.url)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
