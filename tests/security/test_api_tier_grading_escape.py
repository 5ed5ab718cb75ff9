"""Issue items 1 and 12: a learner's code never runs on the host through grading. The learner
rewrites ~/.kube/config through the real terminal (a credential plugin, an auth provider, a
token file, another server, another CA); a script check then runs in their jail with the lab's
own kubeconfig, reaches their API server with the lab's credentials, and nothing of theirs runs
anywhere else. A script sees nothing of the lab, and its kubectl is the pinned one."""
import asyncio
import base64
import json
import uuid
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml
from django.conf import settings

from sandboxes import inspect
from sandboxes.tools import tool_path
from tests.security.jail_support import (
    end_terminal,
    layout_of,
    live_processes_of,
    other_sandbox,  # noqa: F401 (a fixture)
    plain,
)
from tests.terminal.wsclient import Term

pytestmark = [pytest.mark.cluster, pytest.mark.asyncio]
ROOT = Path(__file__).resolve().parents[2]
WHOAMI = ("kubectl auth whoami -o jsonpath='{.status.userInfo.username}'; echo; "
          "kubectl config view --minify -o jsonpath='{..namespace}'; echo; "
          "kubectl get namespace default -o name")


def admin_identity(sandbox) -> str:
    """Who the sandbox's admin kubeconfig (the lab's credentials) is, asked from the host."""
    import subprocess
    return subprocess.run([str(tool_path("kubectl")), "--kubeconfig", sandbox.kubeconfig, "auth",
                           "whoami", "-o", "jsonpath={.status.userInfo.username}"],
                          capture_output=True, text=True, timeout=60, check=True).stdout.strip()


def learner_config(user: dict, cluster: dict | None = None, namespace="attack-ns") -> str:
    return yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "mine",
        "clusters": [{"name": "c", "cluster": cluster or {
            "server": "https://127.0.0.1:6443", "insecure-skip-tls-verify": True}}],
        "users": [{"name": "u", "user": user}],
        "contexts": [{"name": "mine", "context": {"cluster": "c", "user": "u", "namespace": namespace}}],
    })


async def write_kubeconfig(term: Term, text: str) -> None:
    """As the learner, in their terminal: replace ~/.kube/config with text."""
    encoded = base64.b64encode(text.encode()).decode()
    await term.run(f"printf %s {encoded} | base64 -d > ~/.kube/config", "written")


async def run_check(sandbox, script: str, timeout: float = 30):
    return await asyncio.to_thread(inspect.run_script, sandbox, script, timeout)


async def test_an_exec_credential_plugin_never_runs_outside_the_jail(owner, ready_sandbox):
    layout = layout_of(ready_sandbox)
    marker = Path(f"/tmp/k8slab-plugin-{uuid.uuid4().hex}")
    database = Path(settings.DATABASES["default"]["NAME"])
    payload = (f'echo "$(readlink /proc/self/ns/pid) $(id -u)" >> {marker}; '
               f'echo ran >> ~/plugin-runs; cat {database} > ~/stolen-db 2>/dev/null || rm -f ~/stolen-db; '
               f'(sleep 300 </dev/null >/dev/null 2>&1 &); printf %s \'{{"apiVersion":"client.authentication.k8s.io/v1",'
               f'"kind":"ExecCredential","status":{{"token":"from-the-plugin"}}}}\'')
    plugin = {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": "/bin/sh",
                       "args": ["-c", payload], "interactiveMode": "Never"}}
    term = await Term.open(owner, ready_sandbox.id)
    await term.control_message("hello")
    await write_kubeconfig(term, learner_config(plugin))
    # The plugin is live: the learner's own kubectl runs it, in the jail, as the jail's learner.
    out = plain(await term.run("kubectl get namespace default 2>&1 | tail -1; cat ~/plugin-runs",
                               "own"))
    assert "ran" in out
    await term.close()
    await end_terminal(ready_sandbox)
    runs_before = (layout.home / "plugin-runs").read_text()

    code, out, err = await run_check(ready_sandbox, WHOAMI)

    assert code == 0, err
    username, namespace, default = out.splitlines()[:3]
    assert username == admin_identity(ready_sandbox)  # the lab's credentials, not the plugin's
    assert namespace == "attack-ns" and default == "namespace/default"
    # The check never ran the plugin: not on the host, not even in the jail.
    assert not marker.exists()
    assert (layout.home / "plugin-runs").read_text() == runs_before
    assert not (layout.home / "stolen-db").exists()
    assert live_processes_of(layout.uid) == []


@pytest.mark.parametrize("variant", ["auth-provider", "token-file", "lab-web-port", "redis-port",
                                     "certificate-authority"])
async def test_no_other_field_of_the_learners_kubeconfig_reaches_anything(
        owner, ready_sandbox, web_server, variant, tmp_path):
    redis_port = urlparse(settings.REDIS_URL).port
    web_port = urlparse(web_server.url).port
    fifo = tmp_path / "ca-fifo"  # a CA "file" that hangs whoever reads it
    import os
    os.mkfifo(fifo)
    user = {"token": "learner-token"}
    cluster = None
    if variant == "auth-provider":
        user = {"auth-provider": {"name": "oidc", "config": {
            "idp-issuer-url": f"http://127.0.0.1:{web_port}", "client-id": "x",
            "id-token": "x", "refresh-token": "x"}}}
    elif variant == "token-file":
        user = {"tokenFile": str(Path(settings.DATA_DIR) / "secret_key")}
    elif variant in ("lab-web-port", "redis-port"):
        port = web_port if variant == "lab-web-port" else redis_port
        cluster = {"server": f"https://127.0.0.1:{port}", "insecure-skip-tls-verify": True}
    else:
        cluster = {"server": "https://127.0.0.1:6443", "certificate-authority": str(fifo)}
    term = await Term.open(owner, ready_sandbox.id)
    await term.control_message("hello")
    await write_kubeconfig(term, learner_config(user, cluster, namespace="variant-ns"))
    await term.close()
    await end_terminal(ready_sandbox)

    code, out, err = await run_check(ready_sandbox, WHOAMI, timeout=20)

    assert code == 0, err
    username, namespace, default = out.splitlines()[:3]
    assert username == admin_identity(ready_sandbox)
    assert namespace == "variant-ns" and default == "namespace/default"
    assert live_processes_of(layout_of(ready_sandbox).uid) == []


async def test_a_kubeconfig_the_lab_cannot_read_safely_is_refused_with_its_reason(owner, ready_sandbox):
    term = await Term.open(owner, ready_sandbox.id)
    await term.control_message("hello")
    await term.run("mv ~/.kube/config ~/.kube/real && ln -s real ~/.kube/config", "linked")
    with pytest.raises(inspect.ClusterUnreachable, match="symbolic link"):
        await run_check(ready_sandbox, "true")
    await term.run("rm ~/.kube/config && kubectl --kubeconfig ~/.kube/real config view --raw "
                   "> ~/.kube/config && kubectl config set-context --current --namespace=No_Such "
                   ">/dev/null", "bad-ns")
    with pytest.raises(inspect.ClusterUnreachable, match="not a valid namespace name"):
        await run_check(ready_sandbox, "true")
    await term.close()


async def test_an_admin_kubeconfig_with_a_plugin_or_open_to_others_is_refused(ready_sandbox, tmp_path):
    """The lab's own kubeconfig too is loaded only through the safe loader."""
    import os
    admin = yaml.safe_load(Path(ready_sandbox.kubeconfig).read_text())
    admin["users"][0]["user"]["exec"] = {"apiVersion": "client.authentication.k8s.io/v1",
                                         "command": "/bin/touch", "args": [str(tmp_path / "ran")]}
    with_plugin = tmp_path / "with-plugin"
    with_plugin.write_text(yaml.safe_dump(admin))
    os.chmod(with_plugin, 0o600)
    writable = tmp_path / "writable"
    writable.write_text(Path(ready_sandbox.kubeconfig).read_text())
    os.chmod(writable, 0o666)
    for path in (with_plugin, writable):
        ready_sandbox.kubeconfig = str(path)
        with pytest.raises(inspect.ClusterUnreachable, match="cannot use your cluster's credentials"):
            await run_check(ready_sandbox, "kubectl get ns")
        with pytest.raises(inspect.ClusterUnreachable, match="cannot use your cluster's credentials"):
            await asyncio.to_thread(inspect.get_object, ready_sandbox, "v1", "Namespace", "default")
    assert not (tmp_path / "ran").exists()


async def test_a_script_sees_nothing_of_the_lab_or_of_another_learner(
        ready_sandbox, other_sandbox, web_server):
    redis_port = urlparse(settings.REDIS_URL).port
    web_port = urlparse(web_server.url).port
    data = Path(settings.DATA_DIR)
    other_home = layout_of(other_sandbox).home
    await run_check(other_sandbox, "echo secret > ~/theirs")  # the other learner's home exists
    assert (other_home / "theirs").exists()
    probes = {
        "db": f"cat {settings.DATABASES['default']['NAME']}",
        "secret": f"cat {data}/secret_key",
        "code": f"ls {ROOT}",
        "other-home": f"cat {other_home}/theirs",
        "shadow": "cat /etc/shadow",
        "redis": f"echo > /dev/tcp/127.0.0.1/{redis_port}",
        "web": f"echo > /dev/tcp/127.0.0.1/{web_port}",
    }
    script = "; ".join(f"if {cmd} >/dev/null 2>&1; then echo {name}=reached; "
                       f"else echo {name}=blocked; fi" for name, cmd in probes.items())
    script += ("; echo processes=$(ls /proc | grep -c '^[0-9]'); "
               "echo interfaces=$(ip -brief link | awk '{print $1}' | sort | tr '\\n' ,)")
    code, out, err = await run_check(ready_sandbox, script)
    assert code == 0, err
    for name in probes:
        assert f"{name}=blocked" in out, out
    processes = int(out.split("processes=")[1].split()[0])
    assert processes < 10, out  # its own PID namespace: bwrap, sh, socat, bash, ls...
    assert "interfaces=lo," in out, out


async def test_a_script_that_times_out_leaves_no_process_behind(ready_sandbox):
    layout = layout_of(ready_sandbox)
    code, out, err = await run_check(ready_sandbox, "sleep 300 & setsid sleep 300 & "
                                                    "(trap '' TERM HUP; sleep 300) & sleep 300",
                                     timeout=2)
    assert code is None
    assert live_processes_of(layout.uid) == []


async def test_kubectl_in_a_script_is_the_pinned_one(ready_sandbox):
    pinned = next(line.split("=", 1)[1] for line in (ROOT / "toolchain" / "versions.env")
                  .read_text().splitlines() if line.startswith("KUBERNETES_VERSION="))
    code, out, err = await run_check(ready_sandbox, "command -v kubectl; kubectl version --client -o json")
    assert code == 0, err
    where, _, version = out.partition("\n")
    assert where == "/opt/lab/bin/kubectl"
    assert json.loads(version)["clientVersion"]["gitVersion"] == pinned
