"""The model registry and interface, the linear model's file format, and honest accuracy floors on real data."""

from __future__ import annotations

import numpy as np
import pytest

from sentiment.models import DEFAULT, REGISTRY, get_model, resolve
from sentiment.models.linear import N_FEATURES, LinearModel, feature_indices, hash_features

CLEAR = [
    ("电信的宽带太烂了，天天断网，客服也不管，气死我了[怒]", 0),
    ("垃圾移动，乱扣我话费，再也不用了[怒骂]", 0),
    ("今天好难过，什么都做不好[泪]", 0),
    ("联通客服小姐姐态度超级好，问题马上就解决了，点赞[赞]", 1),
    ("终于放假啦，和朋友出去玩，太开心了[哈哈]", 1),
    ("新套餐真划算，网速也快，很满意[心]", 1),
]


def test_registry_names_and_default() -> None:
    assert {"snownlp", "snownlp-weibo", "linear", "linear3"} <= set(REGISTRY)
    assert resolve("default") == DEFAULT == "linear3"
    assert resolve("") == DEFAULT
    with pytest.raises(KeyError, match="nonesuch"):
        resolve("nonesuch")


@pytest.mark.parametrize("name", ["linear3", "linear"])
def test_model_interface_and_clear_cases(name: str) -> None:
    model = get_model(name)
    assert model.name == name and model.version.startswith(f"{name}-")
    probs = model.predict_proba([t for t, _ in CLEAR])
    assert len(probs) == len(CLEAR) and all(0.0 <= p <= 1.0 for p in probs)
    assert [int(p >= 0.5) for p in probs] == [y for _, y in CLEAR]
    assert model.predict_proba([]) == []


CALM_FAULT = "@中国联通客服 家里宽带从昨天开始连不上，光猫红灯，麻烦安排师傅上门看一下"
THREE = [
    ("@中国移动 家里宽带又断了，光猫红灯，报修三天了没人来", "negative"),
    ("@中国移动 为什么这个月又多扣了我二十块？", "negative"),
    ("@中国电信客服 请问怎么查询本月剩余流量？", "neutral"),  # a how-to question
    ("中国移动今天发布了第三季度财报", "neutral"),
    ("感谢客服小姐姐耐心帮我解决了问题，点赞", "positive"),
    ("今天好难过，什么都做不好[泪]", "negative"),
    ("终于放假啦，和朋友出去玩，太开心了[哈哈]", "positive"),
]


def test_three_way_default_labels_complaints_questions_and_praise() -> None:
    model = get_model("default")
    labels, scores = model.predict_raw([t for t, _ in THREE])
    assert labels == [y for _, y in THREE]
    assert all(0.0 <= s <= 1.0 for s in scores) and scores[0] < 0.5 < scores[-1]
    assert model.predict_raw([]) == ([], [])
    assert model.predict_raw(["  "]) == (["neutral"], [0.5])  # nothing to read


@pytest.mark.xfail(strict=True, reason="known miss of the round-2 model (sentiment/models/README.md): the telecom "
                   "bias chosen on the real dev set (+1.5 neutral) labels this calm fault report neutral, though it "
                   "leans negative (score 0.02); a complaint detector beside the model is the planned fix")
def test_calm_fault_report_is_a_complaint() -> None:
    labels, scores = get_model("default").predict_raw([CALM_FAULT])
    assert scores[0] < 0.5 and labels == ["negative"]


def test_three_way_model_file_round_trip(tmp_path) -> None:
    from sentiment.models.linear3 import ThreeWayModel

    model = get_model("linear3")
    path = tmp_path / "m.npz"
    model.save(path)
    first = path.read_bytes()
    model.save(path)
    assert path.read_bytes() == first  # reproducible bytes
    loaded = ThreeWayModel.load(path)
    assert loaded.version == model.version
    texts = [t for t, _ in THREE]
    assert loaded.predict_raw(texts) == model.predict_raw(texts)
    with np.load(path, allow_pickle=False) as data:  # plain arrays, no pickle
        assert data["flat_w_q"].dtype == np.int8
    assert path.stat().st_size < 5_000_000
    with pytest.raises(FileNotFoundError, match="yuqing sentiment train"):
        ThreeWayModel.load(tmp_path / "missing.npz")


def test_snownlp_is_not_imported_unless_selected() -> None:
    import subprocess
    import sys

    code = ("import sys; from sentiment.models import get_model; m = get_model('default'); "
            "m.predict_raw(['联通宽带断了']); print('snownlp' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_snownlp_weibo_model_interface() -> None:
    model = get_model("snownlp-weibo")
    probs = model.predict_proba([t for t, _ in CLEAR])
    assert all(0.0 <= p <= 1.0 for p in probs)
    assert sum(int(p >= 0.5) == y for p, (_, y) in zip(probs, CLEAR, strict=True)) >= 5


def test_features_are_stable_binary_buckets() -> None:
    idx = feature_indices("好 的[哈哈]", ["好", " ", "的", "[哈哈]"])
    assert idx.dtype == np.int32 and np.all(np.diff(idx) > 0) and idx.max() < N_FEATURES
    # 好 的 and one character for [哈哈]: 3 unigrams, 2 bigrams, 1 trigram, 3 words (the space is not one)
    assert len(idx) == 9
    assert np.array_equal(idx, feature_indices("好的[哈哈]", ["好", "的", "[哈哈]"]))
    assert not np.array_equal(idx, feature_indices("好的[怒]", ["好", "的", "[怒]"]))
    assert len(feature_indices("", [])) == 0
    X = hash_features(["好的", "坏"], [["好的"], ["坏"]])
    assert X.shape == (2, N_FEATURES) and X.nnz == 4 + 2 and X.max() == 1.0


def test_linear_model_file_round_trip(tmp_path) -> None:
    weights = np.zeros(N_FEATURES, dtype=np.float32)
    X = hash_features(["好开心"], [["好", "开心"]])
    weights[X.indices] = 0.5
    model = LinearModel(weights, -0.25, (2.0, 0.1), "linear-test")
    path = tmp_path / "m.npz"
    model.save(path)
    first = path.read_bytes()
    model.save(path)
    assert path.read_bytes() == first  # reproducible bytes
    loaded = LinearModel.load(path)
    assert loaded.version == "linear-test" and loaded.platt == (2.0, 0.1)
    z = 0.5 * X.nnz - 0.25
    assert loaded.predict_words(["好开心"], [["好", "开心"]])[0] == pytest.approx(1 / (1 + np.exp(-(2 * z + 0.1))),
                                                                              rel=1e-3)
    with pytest.raises(FileNotFoundError, match="yuqing sentiment train"):
        LinearModel.load(tmp_path / "missing.npz")


def test_snownlp_weibo_file_round_trip_is_reproducible(tmp_path) -> None:
    from sentiment.models.snownlp_models import WeiboSnowNLP

    docs = [["服务", "太", "差", "[怒]"], ["信号", "差"], ["很", "满意", "[赞]"], ["开心", "满意"]] * 3
    labels = [0, 0, 1, 1] * 3
    a, b = tmp_path / "a.json.gz", tmp_path / "b.json.gz"
    WeiboSnowNLP.train(docs, labels, "v1").save(a)
    WeiboSnowNLP.train(docs, labels, "v1").save(b)
    assert a.read_bytes() == b.read_bytes()
    model = WeiboSnowNLP.load(a)
    assert model.version == "v1"
    neg, pos = model.predict_words(["", ""], [["差", "[怒]"], ["满意"]])
    assert neg < 0.5 < pos
