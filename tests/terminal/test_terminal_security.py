"""Who may attach, and what the learner's shell can and cannot reach."""
import os
import re

import pytest
from django.conf import settings

from tests.terminal.wsclient import Term

pytestmark = [pytest.mark.cluster, pytest.mark.asyncio]


async def test_another_learner_is_refused(other, ready_sandbox):
    term = await Term.open(other, ready_sandbox.id)
    assert not term.connected and term.close_code == 4403


async def test_an_anonymous_visitor_is_refused(ready_sandbox):
    term = await Term.open(None, ready_sandbox.id)
    assert not term.connected


async def test_a_foreign_origin_is_refused(owner, ready_sandbox):
    term = await Term.open(owner, ready_sandbox.id, origin="https://evil.example")
    assert not term.connected


async def test_an_instructor_watches_read_only(owner, instructor, ready_sandbox):
    from channels.db import database_sync_to_async

    from classes.models import Cohort, Membership

    @database_sync_to_async
    def teach():
        cohort = Cohort.objects.create(name="c", course="kubernetes-architecture", instructor=instructor)
        Membership.objects.create(cohort=cohort, user=owner)
    await teach()
    learner = await Term.open(owner, ready_sandbox.id)
    await learner.control_message("hello")
    await learner.run("echo from-the-learner", "l1")
    watcher = await Term.open(instructor, ready_sandbox.id)
    hello = await watcher.control_message("hello")
    assert hello["readonly"] is True
    await watcher.until(b"from-the-learner")
    await watcher.type("echo instructor-typed\r")
    assert "read-only" in (await watcher.control_message("error"))["message"]
    await learner.run("echo second", "l2")
    await watcher.until(b"second")
    assert b"instructor-typed" not in learner.output
    await watcher.close()
    await learner.close()


async def test_the_number_of_terminals_per_learner_is_capped(owner, ready_sandbox, settings):
    settings.TERMINAL_MAX_PER_LEARNER = 2
    first = await Term.open(owner, ready_sandbox.id)
    second = await Term.open(owner, ready_sandbox.id)
    await first.control_message("hello")
    await second.control_message("hello")
    third = await Term.open(owner, ready_sandbox.id)
    error = await third.control_message("error")
    assert "terminals open" in error["message"]
    await first.close()
    await second.close()


async def test_a_stopped_cluster_has_no_terminal(owner, ready_sandbox):
    from channels.db import database_sync_to_async
    ready_sandbox.state = "deleted"
    await database_sync_to_async(ready_sandbox.save)()
    term = await Term.open(owner, ready_sandbox.id)
    assert "not running" in (await term.control_message("error"))["message"]


async def test_the_shell_cannot_see_the_lab(owner, ready_sandbox):
    term = await Term.open(owner, ready_sandbox.id)
    await term.control_message("hello")
    base, data = settings.BASE_DIR, settings.DATA_DIR
    out = await term.run(
        f"id -u; ls {base} 2>&1 | head -1; cat {data}/secret_key 2>&1 | head -1; "
        f"ls {data} 2>&1 | head -1; ls /home; ls /root 2>&1 | head -1; cat /etc/shadow 2>&1 | head -1",
        "probe")
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out).replace("\r", "")
    assert "\n1000\n" in plain, plain
    assert out.count("No such file or directory") >= 4
    assert settings.SECRET_KEY not in out
    await term.close()


async def test_the_shell_reaches_only_its_own_api_server(owner, ready_sandbox):
    term = await Term.open(owner, ready_sandbox.id)
    await term.control_message("hello")
    from urllib.parse import urlparse
    redis_port = urlparse(settings.REDIS_URL).port
    out = await term.run(f"(echo > /dev/tcp/127.0.0.1/{redis_port}) 2>&1 | tail -1; "
                         "ip -brief addr | awk '{print $1}' | sort | tr '\\n' ' '; echo; "
                         "kubectl get ns default -o name", "net")
    assert "Connection refused" in out
    assert "lo " in out and "eth0" not in out
    assert "namespace/default" in out
    await term.close()


async def test_the_shell_has_its_own_processes_and_a_writable_home_only(owner, ready_sandbox):
    term = await Term.open(owner, ready_sandbox.id)
    await term.control_message("hello")
    out = await term.run("ps -e --no-headers | wc -l; touch ~/mine && echo home-ok; "
                         "touch /usr/x 2>&1 | tail -1; kubectl config set-context --current "
                         "--namespace=staging >/dev/null && kubectl config view --minify "
                         "-o jsonpath='{..namespace}'", "ps")
    lines = out.splitlines()
    assert int([line for line in lines if line.strip().isdigit()][0]) < 10  # bwrap, sh, socat, bash, ps...
    assert "home-ok" in out and "Read-only file system" in out
    assert "staging" in out
    await term.close()


async def test_the_shell_runs_as_an_unprivileged_host_uid(owner, ready_sandbox):
    from sandboxes.terminal import registry
    term = await Term.open(owner, ready_sandbox.id)
    await term.control_message("hello")
    await term.run("true", "u")
    pid = registry.get(ready_sandbox.id).pid
    status = open(f"/proc/{pid}/status").read()
    real_uid = int(re.search(r"^Uid:\s+(\d+)", status, re.M).group(1))
    assert real_uid != 0
    if os.geteuid() == 0:
        assert real_uid >= settings.TERMINAL_UID_BASE
    await term.close()


async def test_an_instructor_of_another_class_cannot_watch(owner, instructor, ready_sandbox):
    learner = await Term.open(owner, ready_sandbox.id)
    await learner.control_message("hello")
    watcher = await Term.open(instructor, ready_sandbox.id)
    assert not watcher.connected and watcher.close_code == 4403
    await learner.close()
