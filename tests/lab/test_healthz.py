import pytest

pytestmark = pytest.mark.django_db


def test_it_is_200_when_everything_the_lab_needs_is_up(client, celery_worker):
    response = client.get("/healthz")
    data = response.json()
    assert response.status_code == 200, data
    assert data["status"] == "ok" and data["down"] == []
    assert data["checks"]["database"]["ok"] and data["checks"]["redis"]["ok"]
    assert data["checks"]["worker"]["workers"]
    assert data["sandbox_backends"]["api"] == {**data["sandbox_backends"]["api"], "ok": True,
                                               "backend": "kwok", "enabled": True}


def test_it_is_503_naming_redis_and_the_worker_when_redis_is_down(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = client.get("/healthz")
    data = response.json()
    assert response.status_code == 503
    assert {"redis", "worker"} <= set(data["down"])
    assert "Connection" in data["checks"]["redis"]["error"] or "connect" in data["checks"]["redis"]["error"]


def test_it_is_503_when_the_toolchain_is_missing(client, settings, tmp_path, celery_worker):
    settings.TOOLCHAIN_BIN = tmp_path
    data = client.get("/healthz").json()
    assert "backend:api" in data["down"]
    assert "make toolchain" in data["sandbox_backends"]["api"]["error"]


def test_a_disabled_tier_is_reported_but_does_not_fail_health(client, settings, celery_worker):
    settings.LAB_TIERS = ["api"]
    data = client.get("/healthz").json()
    assert data["sandbox_backends"]["full"]["enabled"] is False
    assert "backend:full" not in data["down"]
