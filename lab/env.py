"""Typed readers for configuration that comes from environment variables.

A bad value raises ImproperlyConfigured at start-up, naming the variable, instead of failing
later in some unrelated place.
"""
import os
import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use true or false)")


def env_int(name: str, default: int, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={value} must be at least {minimum}")
    return value


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a number") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_secret(name: str, generated_file: Path | None = None) -> str:
    """Read a secret from NAME, or from the file named by NAME_FILE (docker secrets).

    With neither set and a generated_file given, a random secret is created there once (mode
    0600) so a single-machine install works with no configuration and keeps its sessions across
    restarts. The file lives in the ignored data directory, never in git.
    """
    value = os.environ.get(name)
    if value:
        return value
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        try:
            return Path(file_name).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE={file_name!r} cannot be read: {exc}") from None
    if generated_file is None:
        raise ImproperlyConfigured(f"{name} is not set (set {name} or {name}_FILE)")
    if not generated_file.exists():
        # Several processes (web, worker, beat) may start at once: write a private temporary
        # file and link it into place, so exactly one secret wins and nobody reads half of one.
        generated_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = generated_file.with_name(f".{generated_file.name}.{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(50))
        try:
            os.link(tmp, generated_file)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return generated_file.read_text().strip()
