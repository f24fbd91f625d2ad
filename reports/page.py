"""A brief as one self-contained HTML page (pictures inline as data: URLs), for a browser or a chat link."""

from __future__ import annotations

import base64
from html import escape

from reports.figures import Brief
from reports.layout import Heading, Link, Para, Picture, Table, blocks, title_of

STYLE = """body{font-family:"Noto Sans CJK SC","Source Han Sans SC","PingFang SC","Microsoft YaHei","Droid Sans Fallback",
sans-serif;max-width:860px;margin:2em auto;padding:0 1em;color:#222;line-height:1.6}
table{border-collapse:collapse;margin:.6em 0 1.2em}th,td{border:1px solid #ccc;padding:3px 8px;text-align:left}
th{background:#f3f5f7}.note{color:#666;font-style:italic}figure{margin:1em 0}figcaption{color:#666;font-size:.9em}
h1{border-bottom:2px solid #d62728;padding-bottom:.2em}"""


def render_html(brief: Brief) -> bytes:
    parts = ["<!DOCTYPE html>", '<html lang="zh-CN"><head><meta charset="utf-8">',
             f"<title>{escape(title_of(brief))}</title><style>{STYLE}</style></head><body>"]
    in_list = False
    for block in blocks(brief):
        if in_list and not isinstance(block, Link):
            parts.append("</ul>")
            in_list = False
        if isinstance(block, Heading):
            level = min(block.level + 1, 4)
            parts.append(f"<h{level}>{escape(block.text)}</h{level}>")
        elif isinstance(block, Para):
            parts.append(f'<p{" class=note" if block.note else ""}>{escape(block.text)}</p>')
        elif isinstance(block, Table):
            head = "".join(f"<th>{escape(c)}</th>" for c in block.columns)
            body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in block.rows)
            parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        elif isinstance(block, Picture):
            data = base64.b64encode(block.png).decode("ascii")
            parts.append(f'<figure><img src="data:image/png;base64,{data}" alt="{escape(block.caption)}" '
                         f'style="max-width:100%"><figcaption>{escape(block.caption)}</figcaption></figure>')
        elif isinstance(block, Link):
            if not in_list:
                parts.append("<ul>")
                in_list = True
            link = (f' <a href="{escape(block.url)}" rel="noopener noreferrer">原帖链接</a>'
                    if block.url.startswith(("http://", "https://")) else "")
            parts.append(f"<li>{escape(block.text)}{link}</li>")
    if in_list:
        parts.append("</ul>")
    parts.append("</body></html>")
    return "\n".join(parts).encode("utf-8")
