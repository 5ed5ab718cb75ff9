"""The whole course on a real kind cluster with real pods: `test_course kubernetes-architecture
--tier full` runs every exercise a full cluster serves (the api ones too: the Deployment really
starts myrepo/my-app:1.0, rolls out 2.0 and back) plus the full-tier ones (kube-system's control
plane Pods, kubectl logs, kubectl exec). Skipped, saying why, where the full tier is not built."""
import json

import pytest
from django.core.management import call_command

from sandboxes.backends import get_backend

pytestmark = [pytest.mark.cluster, pytest.mark.django_db(transaction=True)]


def test_the_bundled_course_passes_on_the_full_tier(capsys):
    health = get_backend("full").health()
    if not health.get("ok"):
        pytest.skip(f"the full tier is not built here: {health.get('error')}")
    call_command("test_course", "kubernetes-architecture", "--tier", "full", "--json")
    report = json.loads(capsys.readouterr().out)
    assert report["ok"], json.dumps(report, indent=1)
    slugs = [e["slug"] for e in report["exercises"]]
    assert slugs == ["explore-cluster", "control-plane-quiz", "control-plane-pods", "inspect-node",
                     "pod-logs", "exec-into-pod", "deploy-my-app", "scale-my-app",
                     "update-my-app", "rollback-my-app", "create-staging", "takeaways-quiz"]
    assert report["skipped"] == []
