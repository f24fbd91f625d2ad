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


def test_calm_fault_report_is_a_complaint() -> None:
    """Round 2's known miss: the telecom bias (+1.5 neutral) labelled it neutral; the complaint detector beside the
    model (sentiment/models/complaint.py) finds the complaint, and a complaint is negative."""
    model = get_model("default")
    labels, scores = model.predict_raw([CALM_FAULT])
    assert scores[0] < 0.5 and labels == ["negative"]
    assert model.complaint is not None and "+complaint-" in model.version


COMPLAINTS = [  # (post about an operator, complaint?) by LABELLING.md
    (CALM_FAULT, True),
    ("@中国移动10086 家里信号不好，一到晚上电话就打不进来，麻烦安排人看一下", True),
    ("@中国电信客服 为什么这个月又多扣了我二十块？", True),
    ("@中国联通客服 请问宽带怎么办理移机？需要带什么材料？", False),  # a how-to question that names a service
    ("@中国移动 感谢客服小姐姐耐心帮我解决了问题，点赞", False),
]


def test_complaint_detector_separates_complaints_from_questions_and_praise() -> None:
    from sentiment.segment import cut
    from sentiment.text import normalize

    detector = get_model("default").complaint
    norm = [normalize(t) for t, _ in COMPLAINTS]
    p = detector.proba(norm, [cut(n) for n in norm])
    assert [bool(x >= 0.5) for x in p] == [y for _, y in COMPLAINTS]
    assert detector.proba([], []).shape == (0,)


def test_complaint_detector_decision_rules() -> None:
    from sentiment.models.complaint import ComplaintDetector

    d = ComplaintDetector(np.zeros(4), 0.0, hi=0.7, lo=0.3, strong=0.9, version="complaint-test")
    labels = ["neutral", "negative", "negative", "negative", "positive"]
    p_complaint = np.array([0.8, 0.1, 0.1, 0.1, 0.5])
    p_negative = np.array([0.2, 0.5, 0.95, 0.5, 0.1])
    out = d.decide(labels, p_complaint, p_negative, ["neutral", "positive", "neutral", "neutral", "positive"],
                   [False, False, False, True, False])
    # a detected complaint is negative; a non-complaint is negative only on strong evidence or a threat
    assert out == ["negative", "positive", "negative", "negative", "positive"]


def test_complaint_detector_file_round_trip(tmp_path) -> None:
    from sentiment.models.complaint import ComplaintDetector

    detector = get_model("default").complaint
    path = tmp_path / "complaint.npz"
    detector.save(path)
    first = path.read_bytes()
    detector.save(path)
    assert path.read_bytes() == first and path.stat().st_size < 300_000
    loaded = ComplaintDetector.load(path)
    assert (loaded.hi, loaded.lo, loaded.strong, loaded.version) == (detector.hi, detector.lo, detector.strong,
                                                                       detector.version)
    assert np.allclose(loaded.w, detector.w)


def test_three_way_model_file_round_trip(tmp_path) -> None:
    from sentiment.models.linear3 import ThreeWayModel

    model = get_model("linear3")
    path = tmp_path / "linear3.npz"
    model.save(path)
    model.complaint.save(tmp_path / "complaint.npz")  # the detector is read from beside the model file
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
