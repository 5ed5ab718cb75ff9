import json

import pytest
from django.core.management import call_command

from sandboxes.models import CommandRecord

pytestmark = [pytest.mark.cluster, pytest.mark.django_db(transaction=True)]


def test_grade_prints_every_check_as_json(ready_sandbox, capsys):
    ready_sandbox.course = "kubernetes-architecture"
    ready_sandbox.save()
    CommandRecord.objects.create(sandbox=ready_sandbox, line="kubectl cluster-info", exit_code=0)
    call_command("grade", "--sandbox", str(ready_sandbox.id), "--lesson", "control-plane", "--json")
    rows = json.loads(capsys.readouterr().out)
    assert {tuple(sorted(r)) for r in rows} == {("check", "exercise", "lesson", "message", "passed")}
    by_check = {(r["exercise"], r["check"]): r for r in rows}
    assert by_check[("explore-cluster", "cluster-info")]["passed"] is True
    assert by_check[("explore-cluster", "get-nodes")]["message"] == \
        "You have not run `kubectl get nodes` in your terminal yet."
    assert by_check[("control-plane-quiz", "source-of-truth")]["message"] == "Not answered yet."


def test_grade_refuses_an_unknown_sandbox():
    from django.core.management.base import CommandError
    with pytest.raises(CommandError, match="no sandbox"):
        call_command("grade", "--sandbox", "not-a-uuid")
