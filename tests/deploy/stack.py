"""One private docker compose deployment of the lab for a test: its own project name, ports, data
directory and .env in a temporary directory, driven through the pinned Compose CLI exactly as an
operator drives it, and what it leaves behind once it is down."""
from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.processes import ROOT, free_port, wait_for

# The operator's files: docker-compose.yml, and on a cgroup v1 host (this machine's kind) the
# one that hands the jails their cgroups, so the learners' limits are tested in the containers.
COMPOSE_FILES = [ROOT / "docker-compose.yml"]
CGROUP_V1 = Path("/sys/fs/cgroup/pids/cgroup.procs").exists()
if CGROUP_V1:
    COMPOSE_FILES.append(ROOT / "docker-compose.cgroup-v1.yml")
# Where docker-compose.cgroup-v1.yml puts the jails' groups on the host.
JAIL_CGROUPS = [Path(f"/sys/fs/cgroup/{c}/k8s-lab-compose/k8s-lab") for c in ("pids", "memory", "cpu")]
CACHE = Path(os.environ.get("K8S_LAB_CACHE", Path.home() / ".cache" / "k8s-lab"))
COMPOSE_CLI = CACHE / "toolchain" / "bin" / "docker-compose"
IMAGES = ("k8s-lab/lab:latest", "k8s-lab/redis:7", "k8s-lab/postgres:15")
PROFILE = ROOT / "var" / "images" / "seccomp-jail.json"


def compose_env() -> dict:
    """The environment Compose runs in: an operator's shell, not the test session's. Compose lets
    the environment override .env, and tests/harness.py exports the lab's settings (LAB_DATA_DIR,
    SECRET_KEY, ...) for the in-process tests."""
    keep = ("PATH", "HOME", "LANG", "DOCKER_HOST", "DOCKER_CONFIG")
    return {**{k: os.environ[k] for k in keep if k in os.environ}, "COMPOSE_ANSI": "never"}


def docker(*args: str, timeout: float = 60) -> str:
    result = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise RuntimeError(f"docker {' '.join(args[:3])} failed: {result.stderr.strip()}")
    return result.stdout


def missing_prerequisites() -> str | None:
    """What `make compose-e2e` should have built and is not there, or None."""
    if not COMPOSE_CLI.is_file():
        return f"{COMPOSE_CLI} is missing (make compose-cli)"
    if not PROFILE.is_file():
        return f"{PROFILE} is missing (make images)"
    try:
        for image in IMAGES:
            docker("image", "inspect", image, timeout=20)
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
        return f"an image is missing or Docker does not answer ({exc}); run make images"
    return None


class Stack:
    """The lab's compose project; every setting lives in its own .env file, as an operator's."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.project = f"k8slab-e2e-{os.getpid()}"
        self.port = free_port()
        # Outside the pytest directories, which are readable by root alone: the learners' uids
        # traverse it, as they do the lab's own.
        self.data_dir = Path(tempfile.mkdtemp(prefix="k8slab-e2e-", dir="/tmp"))
        os.chmod(self.data_dir, 0o711)
        self.env_file = workdir / ".env"
        self.url = f"http://127.0.0.1:{self.port}"
        settings = {
            "SECRET_KEY": secrets.token_urlsafe(50),
            "POSTGRES_PASSWORD": secrets.token_hex(16),
            "REDIS_PASSWORD": secrets.token_hex(16),
            "ALLOWED_HOSTS": "127.0.0.1",
            "LAB_PORT": self.port,
            # Not the operator's defaults: this machine may run another Redis or PostgreSQL.
            "LAB_REDIS_PORT": free_port(),
            "LAB_POSTGRES_PORT": free_port(),
            "LAB_DATA_DIR": self.data_dir,
            "LAB_ENV_FILE": self.env_file,
            "LAB_HOST": self.project,
            # One cluster at a time: each learner's own, made when they start their lab.
            "SANDBOX_POOL_API": 0,
            # The shipped course, and the example course, whose first lesson has a setup.
            "COURSE_DIRS": "/app/courses/content,/app/docs/example-course",
        }
        self.env_file.write_text("".join(f"{key}={value}\n" for key, value in settings.items()))
        os.chmod(self.env_file, 0o600)

    def cli(self) -> list[str]:
        """The Compose command line for this project, as an operator would type it."""
        files = [arg for path in COMPOSE_FILES for arg in ("--file", str(path))]
        return [str(COMPOSE_CLI), "--project-name", self.project, "--env-file", str(self.env_file),
                *files]

    def compose(self, *args: str, timeout: float = 300) -> str:
        argv = [*self.cli(), *args]
        result = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                                env=compose_env())
        if result.returncode != 0:
            raise AssertionError(f"docker compose {' '.join(args)} failed ({result.returncode}):\n"
                                 f"{result.stdout[-3000:]}{result.stderr[-3000:]}\n{self.logs()}")
        return result.stdout

    def up(self) -> float:
        """`up -d`, then wait for /healthz to say 200; returns the seconds that took."""
        started = time.monotonic()
        self.compose("up", "--detach")
        wait_for(self.healthy, 240, f"{self.url}/healthz to answer 200")
        return time.monotonic() - started

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/healthz", timeout=5) as response:
                return response.status == 200
        except urllib.error.HTTPError as exc:
            raise AssertionError(f"/healthz {exc.code}: {exc.read()[:500]!r}") from None

    def down(self, volumes: bool = False) -> None:
        self.compose("down", "--timeout", "30", *(["--volumes"] if volumes else []))

    def logs(self) -> str:
        try:
            result = subprocess.run([*self.cli(), "logs", "--no-color", "--tail", "60"], cwd=ROOT,
                                    capture_output=True, text=True, timeout=60, env=compose_env())
            return result.stdout[-8000:]
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"(no logs: {exc})"

    def leftovers(self) -> dict[str, list[str]]:
        """Everything of this project Docker still has, and any process still running from its
        data directory (a kwokctl cluster outliving its worker)."""
        label = f"label=com.docker.compose.project={self.project}"
        found = {
            "containers": docker("ps", "--all", "--quiet", "--filter", label).split(),
            "networks": docker("network", "ls", "--quiet", "--filter", label).split(),
            "volumes": docker("volume", "ls", "--quiet", "--filter", label).split(),
            "processes": processes_under(self.data_dir),
            "jailed processes": [pid for group in self.jail_cgroups() for pid in cgroup_pids(group)],
        }
        return {kind: items for kind, items in found.items() if items}

    def sandbox_ids(self) -> list[str]:
        sandboxes = self.data_dir / "sandboxes"
        return sorted(p.name for p in sandboxes.iterdir()) if sandboxes.is_dir() else []

    def jail_cgroups(self) -> list[Path]:
        """The host's cgroups of this project's sandboxes (each with a child per process tree)."""
        groups = [root / sandbox for root in JAIL_CGROUPS for sandbox in self.sandbox_ids()]
        return [child for group in groups if group.is_dir()
                for child in [*group.iterdir(), group] if child.is_dir()]

    def remove(self) -> None:
        """Whatever happened: the project down with its volumes, its sandboxes' (empty) cgroups
        and its files gone."""
        subprocess.run([*self.cli(), "down", "--volumes", "--remove-orphans", "--timeout", "10"],
                       cwd=ROOT, capture_output=True, timeout=180, env=compose_env())
        for group in self.jail_cgroups():
            with contextlib.suppress(OSError):
                group.rmdir()
        shutil.rmtree(self.workdir, ignore_errors=True)
        shutil.rmtree(self.data_dir, ignore_errors=True)


def cgroup_pids(group: Path) -> list[str]:
    with contextlib.suppress(OSError):
        return (group / "cgroup.procs").read_text().split()
    return []


def processes_under(directory: Path) -> list[str]:
    """The command lines of this host's processes that name a path under directory."""
    needle = str(directory).encode()
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if needle in cmdline:
            found.append(cmdline.replace(b"\0", b" ").decode(errors="replace")[:200])
    return found

