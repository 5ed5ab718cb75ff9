import stat
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from lab import env
from tests.processes import child_env


def test_it_reads_booleans(monkeypatch):
    monkeypatch.setenv("X_FLAG", "yes")
    assert env.env_bool("X_FLAG") is True
    monkeypatch.setenv("X_FLAG", "off")
    assert env.env_bool("X_FLAG", True) is False


def test_it_rejects_a_bad_boolean_naming_the_variable(monkeypatch):
    monkeypatch.setenv("X_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="X_FLAG='maybe' is not a boolean"):
        env.env_bool("X_FLAG")


def test_it_rejects_a_bad_or_too_small_number(monkeypatch):
    monkeypatch.setenv("X_NUM", "ten")
    with pytest.raises(ImproperlyConfigured, match="not a whole number"):
        env.env_int("X_NUM", 1)
    monkeypatch.setenv("X_NUM", "0")
    with pytest.raises(ImproperlyConfigured, match="at least 1"):
        env.env_int("X_NUM", 5, minimum=1)


def test_it_generates_a_private_secret_once(tmp_path, monkeypatch):
    monkeypatch.delenv("MY_SECRET", raising=False)
    monkeypatch.delenv("MY_SECRET_FILE", raising=False)
    target = tmp_path / "secret"
    first = env.env_secret("MY_SECRET", generated_file=target)
    assert len(first) >= 50
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert env.env_secret("MY_SECRET", generated_file=target) == first


def test_it_reads_a_secret_from_a_file(tmp_path, monkeypatch):
    (tmp_path / "s").write_text("from-file\n")
    monkeypatch.delenv("MY_SECRET", raising=False)
    monkeypatch.setenv("MY_SECRET_FILE", str(tmp_path / "s"))
    assert env.env_secret("MY_SECRET") == "from-file"


def _manage(*args, **extra_env):
    environment = {k: v for k, v in child_env().items() if k != "SECRET_KEY"}
    environment.update(extra_env)
    return subprocess.run([sys.executable, "manage.py", *args], capture_output=True, text=True,
                          env=environment, timeout=120)


def test_it_is_clean_under_check_deploy_with_production_settings():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", HTTPS="true",
                     SECRET_KEY="p" * 20 + "-production-secret-" + "q" * 30)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_debug_is_off_unless_asked():
    result = _manage("shell", "-c", "from django.conf import settings; print(settings.DEBUG)")
    assert result.stdout.strip().splitlines()[-1] == "False", result.stderr


def test_it_refuses_a_bad_setting_at_start_up():
    result = _manage("check", DEBUG="perhaps")
    assert result.returncode != 0
    assert "DEBUG='perhaps' is not a boolean" in result.stderr
