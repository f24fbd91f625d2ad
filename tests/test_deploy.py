"""deploy/compose.yaml (docker cannot run in the tests): Elasticsearch, PostgreSQL, `yuqing run` and the
dashboard, wired through the settings yuqing reads, with no secret written into the file."""

from __future__ import annotations

from pathlib import Path

import yaml

from yuqing.config import load_settings

ROOT = Path(__file__).resolve().parents[1]


def test_compose_file_runs_the_four_services() -> None:
    compose = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert set(services) == {"elasticsearch", "postgres", "run", "dashboard"}
    assert services["elasticsearch"]["image"].startswith("docker.elastic.co/elasticsearch/elasticsearch:")
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["run"]["command"] == ["yuqing", "run"]
    assert services["dashboard"]["command"][:2] == ["yuqing", "dashboard"]
    assert services["dashboard"]["ports"] == ["127.0.0.1:8501:8501"]  # nothing else is published
    assert all("ports" not in services[s] for s in ("elasticsearch", "postgres", "run"))
    for name in ("run", "dashboard"):
        svc = services[name]
        assert set(svc["depends_on"]) == {"elasticsearch", "postgres"}
        assert all(dep["condition"] == "service_healthy" for dep in svc["depends_on"].values())
        env = svc["environment"]
        assert env["YUQING_DATABASE_PASSWORD"].startswith("${YUQING_DATABASE_PASSWORD")  # from the host's env
        settings = load_settings(env={k: v for k, v in env.items() if "${" not in v}
                                 | {"YUQING_DATABASE_PASSWORD": "x"})
        assert settings.store_backend == "elasticsearch"
        assert settings.database_url == "postgresql+psycopg://yuqing:x@postgres:5432/yuqing"
    assert all("healthcheck" in services[s] for s in ("elasticsearch", "postgres"))
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD"].startswith("${YUQING_DATABASE_PASSWORD")
    assert set(compose["volumes"]) == {"esdata", "pgdata", "rundata", "dashdata"}
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text(encoding="utf-8")
    assert "-c constraints.txt" in dockerfile and "USER yuqing" in dockerfile
