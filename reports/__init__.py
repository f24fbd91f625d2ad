"""Briefs (舆情日报, 周报, 专报): figures in, documents out (Word, PDF, HTML).

Pure of stores: the caller gathers a `Brief` (reports.figures) from the post index and the OpsDB
(yuqing.briefing does it for the command, the scheduler and the dashboard) and hands it to `render`.
The summary states only facts computed from the figures; charts are matplotlib images drawn with the
shipped Chinese font (reports/fonts), which the PDF embeds.
"""

from __future__ import annotations

from reports.figures import Brief
from reports.render import FORMATS, MIME, render, suffix_format

__all__ = ["FORMATS", "MIME", "Brief", "render", "suffix_format"]
