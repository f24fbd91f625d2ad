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
        # a district alone names its city (real phrasing of the demo's Zhengzhou outage and elsewhere)
        ("金水区电信宽带断网两天了", "", ("河南", "郑州")),
        ("二七区也断网了，光猫红灯", "IP属地：广东", ("河南", "郑州")),  # the text wins over the IP
        ("管城回族区移动信号时有时无", "", ("河南", "郑州")),
        ("广州天河区联通5G", "", ("广东", "广州")),
        ("海淀区的联通宽带", "", ("北京", "北京")),
        ("雨花台区停网了", "", ("江苏", "南京")),
        ("雨花区停网了", "", ("湖南", "长沙")),
        ("河南金水区断网", "", ("河南", "郑州")),
        ("浙江金水区", "", ("浙江", "")),  # a district of another province's city: not trusted
        ("朝阳区断网", "", ("", "")),  # 北京 and 长春 both have one
        ("新建区域的基站还没开通", "", ("", "")),  # 新建区 of 南昌 is left out: an everyday phrase
        ("金水桥边上信号不好", "", ("", "")),  # without 区 a district name is just a word
    ],
)
def test_locate(text: str, ip_region: str, expected: tuple[str, str]) -> None:
    assert locate(text, ip_region) == expected
