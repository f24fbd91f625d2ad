"""The 报表 page builds and downloads the 日报/周报/专报; an alert's page downloads its 专报."""

from __future__ import annotations

from pathlib import Path

from tests.reports.conftest import pdf_text

from .test_alerts_queue import on_page


def _built(at, key: str) -> tuple[str, bytes]:
    return at.session_state[key]


def test_reports_page_builds_a_daily_brief(filled, tmp_path: Path):
    at = on_page("viewer", "reports")
    assert at.selectbox(key="brief_kind").value == "daily"
    at.button(key="brief_daily_2026-11-24__pdf_build").click().run()
    name, pdf = _built(at, "brief_daily_2026-11-24__pdf_built")
    assert name == "舆情日报_20261124.pdf" and pdf.startswith(b"%PDF")
    assert len(at.get("download_button")) == 4  # the CSV and Excel exports, and the brief
    text = " ".join(pdf_text(pdf, tmp_path).split())
    assert "舆情日报（2026-11-24）" in text and "本期共监测到相关帖子 11 条" in text  # as the 汇总 table counts


def test_reports_page_builds_an_event_brief_as_word(filled):
    import io

    from docx import Document

    at = on_page("viewer", "reports")
    at.selectbox(key="brief_kind").set_value("event").run()
    assert at.selectbox(key="brief_event").value == "ev1"
    at.segmented_control(key="brief_event_ev1__fmt").set_value("docx").run()
    at.button(key="brief_event_ev1__docx_build").click().run()
    name, data = _built(at, "brief_event_ev1__docx_built")
    doc = Document(io.BytesIO(data))
    assert name == "舆情专报_20261124.docx" and doc.paragraphs[0].text == "舆情专报：电信断网" and doc.tables


def test_alert_page_downloads_its_brief(filled, tmp_path: Path):
    at = on_page("viewer", "alerts")
    alert_id = at.selectbox(key="alert_pick").value
    at.button(key=f"alert_brief_{alert_id}_pdf_build").click().run()
    name, pdf = _built(at, f"alert_brief_{alert_id}_pdf_built")
    text = " ".join(pdf_text(pdf, tmp_path).split())
    assert "舆情专报：中国电信 断网负面激增" in text and "二、事件经过" in text
