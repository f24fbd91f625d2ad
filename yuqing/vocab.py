"""The words every app shares: platforms and their 中文 names, post kinds, labels, severities, statuses, roles,
provinces and 其他. Pure constants, stdlib only; the one place they are spelled out."""

from __future__ import annotations

PLATFORMS = ("weibo", "zhihu", "zhidao", "heimao", "tieba", "bilibili")
PLATFORM_ZH = {"weibo": "微博", "zhihu": "知乎", "zhidao": "百度知道", "heimao": "黑猫投诉", "tieba": "贴吧",
               "bilibili": "B站"}
HOT_BOARDS = ("weibo", "baidu", "zhihu", "douyin")  # hot lists (热搜/热榜) polled for the watched words
HOT_BOARD_ZH = {"weibo": "微博热搜", "baidu": "百度热搜", "zhihu": "知乎热榜", "douyin": "抖音热榜"}
# A watched hot-list entry between two polls: new on the list, rising, steady, falling, or gone from it.
HOT_STATUSES = ("new", "rising", "steady", "falling", "gone")
HOT_STATUS_ZH = {"new": "新上榜", "rising": "上升", "steady": "持平", "falling": "下降", "gone": "已下榜"}
HOT_SOURCE = "hotlist"  # the hot-list poll's name in crawl runs and source health (`yuqing sources`)
SOURCE_ZH = {**PLATFORM_ZH, HOT_SOURCE: "热搜热榜"}  # every source of crawl runs, for health tables
KINDS = ("post", "repost", "comment", "answer", "question", "article", "complaint")

LABELS = ("negative", "neutral", "positive")
LABEL_ZH = {"negative": "负面", "neutral": "中性", "positive": "正面", "": "未分析"}

SEVERITIES = ("blue", "yellow", "orange", "red")  # 蓝 黄 橙 红, lowest first
SEVERITY_ZH = {"blue": "蓝色", "yellow": "黄色", "orange": "橙色", "red": "红色"}

ALERT_STATUSES = ("open", "acknowledged", "resolved")
ALERT_STATUS_ZH = {"open": "未处理", "acknowledged": "已确认", "resolved": "已解决"}
ACTIVE_ALERT_STATUSES = ("open", "acknowledged")

CASE_STATUSES = ("new", "assigned", "replied", "resolved", "ignored")
CASE_STATUS_ZH = {"new": "新建", "assigned": "已分派", "replied": "已回复", "resolved": "已解决", "ignored": "已忽略"}
OPEN_CASE_STATUSES = ("new", "assigned")

ROLES = ("viewer", "responder", "admin")  # each has the rights of the ones before it
ROLE_ZH = {"viewer": "只读", "responder": "回复专员", "admin": "管理员"}

SUBSCRIBER_MODES = ("immediate", "hourly", "daily")
SUBSCRIBER_MODE_ZH = {"immediate": "即时", "hourly": "每小时汇总", "daily": "每日汇总"}

# Chat channel types ([channels.NAME] type = ...; alerts.channels registers one class per name, a test keeps the
# two in step). "email" is the built-in channel of the SMTP settings and the name no chat channel may take.
CHANNEL_TYPES = ("wecom", "dingtalk", "feishu", "webhook")
CHANNEL_TYPE_ZH = {"email": "邮件", "wecom": "企业微信群机器人", "dingtalk": "钉钉自定义机器人",
                   "feishu": "飞书自定义机器人", "webhook": "通用 Webhook"}

# The alert rule types (alerts.rules registers one class per name; a test keeps the two in step).
RULE_TYPE_ZH = {"volume_spike": "负面声量激增", "negative_share": "负面占比过高", "escalation": "升级投诉苗头",
                "influential": "高影响力负面帖", "event_growth": "事件快速扩散", "outage_city": "城市局部故障",
                "flatline": "数据源停止更新", "hot_list": "登上热搜热榜"}

RISK_FLAGS = ("escalation", "churn")
RISK_ZH = {"escalation": "升级投诉风险", "churn": "离网风险"}

OTHER = "其他"  # the touchpoint (and region) of a post that matches none

# Provincial-level divisions as yuqing writes them (no 省/市/自治区), in the order of sentiment/regions.toml.
PROVINCES = (
    "北京", "天津", "上海", "重庆", "河北", "山西", "内蒙古", "辽宁", "吉林", "黑龙江", "江苏", "浙江", "安徽", "福建", "江西",
    "山东", "河南", "湖北", "湖南", "广东", "广西", "海南", "四川", "贵州", "云南", "西藏", "陕西", "甘肃", "青海", "宁夏",
    "新疆", "香港", "澳门", "台湾",
)


def severity_rank(severity: str) -> int:
    """0 for blue … 3 for red; -1 for anything else."""
    return SEVERITIES.index(severity) if severity in SEVERITIES else -1
