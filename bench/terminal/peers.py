"""The servers the terminal benchmark measures: the lab itself (uvicorn, a kwok cluster, a learner
per terminal), terminado and wetty beside it, and the raw PTY; each as a client factory."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from bench.common import LabEnv, log, login_session_key
from bench.processes import ROOT, free_port, http_answers, start_web, tcp_answers, wait_for
from bench.terminal.clients import SHELL, LabClient, RawClient, TerminadoClient, WettyClient, now

WETTY_VERSION = "3.2.0"
# The command line that serves terminado (`--serve-terminado PORT`), run from the peers' home.
ENTRY = ROOT / "bench" / "terminal.py"


def serve_terminado(port: int) -> None:
    """`terminal.py --serve-terminado PORT`: a plain terminado server, one terminal per socket."""
    import tornado.ioloop
    import tornado.web
    from terminado import TermSocket, UniqueTermManager

    manager = UniqueTermManager(shell_command=SHELL, max_terminals=1000)
    app = tornado.web.Application([(r"/websocket", TermSocket, {"term_manager": manager})])
    app.listen(port, "127.0.0.1")
    tornado.ioloop.IOLoop.current().start()


def install_wetty(cache: Path) -> tuple[Path | None, str]:
    """npm install wetty into a directory outside the repository. Returns (main.js, note)."""
    target = cache / f"wetty-{WETTY_VERSION}"
    main = target / "node_modules" / "wetty" / "build" / "main.js"
    if main.exists():
        return main, "cached"
    if not shutil.which("npm") or not shutil.which("node"):
        return None, "node/npm are not installed"
    target.mkdir(parents=True, exist_ok=True)
    (target / "package.json").write_text('{"name": "bench-wetty", "private": true}\n')
    proc = subprocess.run(["npm", "install", f"wetty@{WETTY_VERSION}", "--no-audit", "--no-fund",
                           "--loglevel=error"], cwd=target, capture_output=True, text=True,
                          timeout=900)
    if proc.returncode != 0 or not main.exists():
        return None, f"npm install wetty@{WETTY_VERSION} failed: {proc.stderr.strip()[-500:]}"
    return main, "installed"


class Lab:
    """The lab's side: Redis, the database, one kwok cluster shared by many Sandbox rows (one per
    learner: terminals are capped per learner), a session cookie per learner, uvicorn."""

    def __init__(self, env: LabEnv, learners: int):
        self.env = env
        self.learners = learners
        self.cluster = None

    def setup(self) -> dict:
        from django.conf import settings
        from django.contrib.auth import get_user_model
        from django.utils import timezone

        from sandboxes import lifecycle
        from sandboxes.backends import get_backend
        from sandboxes.models import Sandbox, State
        from sandboxes.tools import run, tool_path

        backend = get_backend("api")
        name = f"k8slab-bench-term-{os.getpid()}"
        t0 = now()
        source = backend.create(name, lambda *a: None)
        self.cluster = name
        created_s = now() - t0
        flat = run([tool_path("kubectl"), "config", "view", "--raw", "--flatten", "--kubeconfig",
                    str(source)], timeout=30).stdout
        self.kubeconfig = str(source)
        User = get_user_model()
        self.sandboxes, self.cookies = [], []
        for i in range(self.learners):
            user = User.objects.create_user(f"bench{i}")
            sandbox = Sandbox.objects.create(owner=user, tier="api", backend="kwok",
                                             state=State.READY, host=settings.LAB_HOST,
                                             cluster=f"{name}-{i}", ready_at=timezone.now())
            directory = lifecycle.sandbox_dir(sandbox)
            directory.mkdir(parents=True, exist_ok=True)
            os.chmod(directory, 0o711)
            path = directory / "kubeconfig"
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(flat)
            sandbox.kubeconfig = str(path)
            sandbox.save()
            self.sandboxes.append(str(sandbox.id))
            self.cookies.append(login_session_key(user))
        self.port = free_port()
        self.web = start_web(self.env.start, self.port, name="uvicorn")
        return {"cluster_create_seconds": round(created_s, 1), "learners": self.learners}

    def client(self, i: int, deflate=True, port=None) -> LabClient:
        client = LabClient(port or self.port, self.sandboxes[i], self.cookies[i], deflate)
        if port:
            client.name = "lab-variant"
        return client

    def start_variant(self, changes: dict) -> int:
        """Another uvicorn with bench/labvariant.py: keys high, low, burst (bytes), skip_db_hop."""
        port = free_port()
        names = {"high": "BENCH_HIGH_WATER", "low": "BENCH_LOW_WATER", "burst": "BENCH_READ_BURST",
                 "skip_db_hop": "BENCH_SKIP_DB_HOP", "gc_log": "BENCH_GC_LOG",
                 "gc_freeze": "BENCH_GC_FREEZE"}
        self.variant = start_web(self.env.start, port, {names[k]: v for k, v in changes.items()},
                                 app="bench.labvariant:application", name="uvicorn-variant")
        return port

    def teardown(self):
        if self.cluster:
            from sandboxes.backends import get_backend
            try:
                get_backend("api").delete(self.cluster)
            except Exception as exc:  # noqa: BLE001 - LabEnv.remove kills what is left
                log(f"could not delete cluster {self.cluster}: {exc}")



def learners(args) -> int:
    """Learners: 0 main, 1 stalled, 2 lab-nodeflate, 3 and 4 lab-variant, 5... concurrent (the
    variant's concurrent typists have learners of their own after the lab's)."""
    return 5 + args.sessions * (2 if args.variant else 1)


def peer_environment(env: LabEnv) -> tuple[dict, Path]:
    """The peers' shell: same rc file, same kubectl, a private home (returned), the lab's cluster
    (KUBECONFIG is added once the lab has one)."""
    home = env.tmp / "peer-home"
    home.mkdir()
    from_toolchain = Path(os.environ.get("TOOLCHAIN_BIN", Path.home() / ".cache/k8s-lab/toolchain/bin"))
    return {"PATH": f"{from_toolchain}:/usr/local/bin:/usr/bin:/bin", "HOME": str(home),
            "TERM": "xterm-256color", "LANG": "C.UTF-8", "SHELL": "/bin/bash",
            "USER": "root", "LOGNAME": "root"}, home


def start_servers(env: LabEnv, lab: Lab, args, results: dict, peer_env: dict, home: Path) -> dict:
    """Start every server named in --only; returns name -> (client factory(i), server pid or
    None) and notes each server in results["servers"]."""
    only = args.only.split(",")
    servers: dict = {}
    results["servers"]["lab"] = lab.setup()
    results["servers"]["lab"]["pid"] = lab.web.pid
    results["servers"]["lab"]["argv"] = " ".join(lab.web.argv[1:])
    peer_env["KUBECONFIG"] = lab.kubeconfig
    if "lab" in only:
        servers["lab"] = (lambda i: lab.client(i), lab.web.pid)
    if "lab-nodeflate" in only:
        # its own learner (a second socket on the lab's session would hold back its acks)
        servers["lab-nodeflate"] = (lambda i: lab.client(2, deflate=False), lab.web.pid)
        results["servers"]["lab-nodeflate"] = {"note": "same server and shell as lab"}

    if args.variant:
        changes = dict(item.split("=", 1) for item in args.variant.split(","))
        port = lab.start_variant(changes)
        base = 5 + args.sessions  # its own learners for the concurrent test

        def variant_client(i, p=port):
            return lab.client(3 + i if i < 2 else base + i - 5, port=p)
        servers["lab-variant"] = (variant_client, lab.variant.pid)
        results["servers"]["lab-variant"] = {
            "pid": lab.variant.pid, "changes": changes,
            "note": "an experiment, not the product: the lab's app changed in memory by "
                    "bench/labvariant.py; the client offers deflate, like lab"}

    if "terminado" in only:
        port = free_port()
        svc = env.start("terminado", [sys.executable, str(ENTRY), "--serve-terminado", str(port)],
                        env=peer_env, cwd=home)
        wait_for(lambda: tcp_answers(port), 30, "terminado", svc)
        import terminado
        results["servers"]["terminado"] = {"version": terminado.__version__, "pid": svc.pid}
        servers["terminado"] = (lambda i, p=port: TerminadoClient(p), svc.pid)

    if "wetty" in only:
        cache = Path(os.environ.get("K8S_LAB_CACHE", Path.home() / ".cache/k8s-lab")) / "bench"
        main_js, note = install_wetty(cache)
        if main_js is None:
            results["servers"]["wetty"] = {"error": note}
        else:
            port = free_port()
            svc = env.start("wetty", ["node", str(main_js), "--host", "127.0.0.1", "--port",
                                      str(port), "--command", " ".join(SHELL),
                                      "--log-level", "warn"],
                            env={**peer_env, "PATH": peer_env["PATH"]}, cwd=home)
            wait_for(lambda: http_answers(port), 60, "wetty", svc)
            results["servers"]["wetty"] = {
                "version": WETTY_VERSION, "pid": svc.pid, "install": note,
                "how": "runs the command locally (no ssh): wetty does so when it runs as root "
                       "and --ssh-host is localhost (the default); it spawns "
                       "`/usr/bin/env -S <command>` on a node-pty, 80x30 until the client's "
                       "resize; output is batched for 2 ms (tinybuffer) before each emit"}
            servers["wetty"] = (lambda i, p=port: WettyClient(p), svc.pid)

    if "raw" in only:
        servers["raw"] = (lambda i: RawClient({**peer_env}), None)
        results["servers"]["raw"] = {"note": "this process reads the PTY; no server"}
    return servers
