"""Province and city from the text, else from the platform's IP属地."""

from __future__ import annotations

import pytest

from sentiment.regions import locate


@pytest.mark.parametrize(
    ("text", "ip_region", "expected"),
    [
        ("广州电信宽带又断了", "北京", ("广东", "广州")),
        ("深圳南山区移动信号差", "", ("广东", "深圳")),
        ("我在福建三明，移动信号差", "", ("福建", "三明")),
        ("三明市联通营业厅", "", ("福建", "三明")),
        ("早上吃了个三明治", "上海", ("上海", "上海")),
        ("吉林省长春市联通", "", ("吉林", "长春")),
        ("吉林的电信", "", ("吉林", "")),
        ("吉林市的宽带", "", ("吉林", "吉林")),
        ("北京朝阳区宽带装不上", "", ("北京", "北京")),
        ("辽宁朝阳市移动", "", ("辽宁", "朝阳")),
        ("河北衡水营业厅", "", ("河北", "衡水")),
        ("内蒙古自治区包头的信号", "", ("内蒙古", "包头")),
        ("阿里巴巴的云服务", "", ("", "")),
        ("今天天气好", "IP属地：浙江", ("浙江", "")),
        ("今天天气好", "广东", ("广东", "")),
        ("今天天气好", "美国", ("", "")),
        ("今天天气好", "", ("", "")),
    ],
)
def test_locate(text: str, ip_region: str, expected: tuple[str, str]) -> None:
    assert locate(text, ip_region) == expected
