"""Post index backends for the contract tests: SQLite always, the Elasticsearch stand-in always, a real
Elasticsearch when YUQING_ES_URL is set."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# Real phrasing where the searched word sits inside a longer word jieba prefers, or is split by it.
SEARCH_CORPUS = [
    "中国电信宽带又断网了，客服10000号打了三次都没人管",
    "家里电信宽带断网两天了，光猫一直红灯",
    "联通宽带今天突然断网，打10010说在抢修",
    "移动宽带师傅上门装维态度很好",
    "断网断到怀疑人生，天翼宽带能不能靠谱点",
    "电信宽带提速了，晚上看视频不卡",
    "昨晚小区整体断网，物业说是电信光缆被挖断",
    "携号转网办了三次都被拒，说有合约",
    "我要携号转网到移动，联通太坑",
    "5G套餐降档被拒，营业厅说必须合约到期",
    "iPhone15 用联通5G信号很差",
    "宽带续费后网速反而变慢",
    "不想携号了，转网太麻烦",
]


# "es-standin": the Elasticsearch index against tests/index/fake_es*.py on 127.0.0.1, so its plumbing
# (client calls, bulk, paging, aggregation parsing, strict mappings) is exercised in every run.
BACKENDS = ["sqlite", "elasticsearch", "es-standin"]


def es_url() -> str:
    return os.environ.get("YUQING_ES_URL", "")


def make_store(backend: str, tmp_path: Path) -> Iterator[Any]:
    """A fresh, empty post index; Elasticsearch gets a unique index prefix, deleted afterwards."""
    if backend == "sqlite":
        from yuqing.index.sqlite import SQLiteIndex

        store = SQLiteIndex(tmp_path / f"contract-{uuid.uuid4().hex[:8]}.db")
        yield store
        store.close()
        return
    if backend == "es-standin":
        from elasticsearch import Elasticsearch

        from tests.index.fake_es_http import serve
        from yuqing.index.elastic import ElasticIndex

        with serve() as (url, _):
            store = ElasticIndex(Elasticsearch(url, request_timeout=10), prefix="yuqing-standin")
            yield store
            store.close()
        return
    if not es_url():
        pytest.skip("Elasticsearch backend: YUQING_ES_URL is not set (e.g. docker compose -f "
                    "deploy/elasticsearch/compose.yaml up -d; YUQING_ES_URL=http://127.0.0.1:9200)")
    from elasticsearch import Elasticsearch

    from yuqing.index.elastic import ElasticIndex

    store = ElasticIndex(Elasticsearch(es_url(), request_timeout=30), prefix=f"yuqing-test-{uuid.uuid4().hex[:10]}")
    try:
        yield store
    finally:
        store.drop()
        store.close()


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    yield from make_store(request.param, tmp_path)
