"""`test_course --all DIR --json` on three Killercoda scenarios of our own making
(tests/grading/corpus/): each is imported into a temporary folder and proven on a fresh API
cluster, and the report says which passed and why the others did not: a setup that fails, and a
check that passes before its solution."""
import json
from pathlib import Path

import pytest
from django.core.management import call_command

pytestmark = [pytest.mark.cluster, pytest.mark.django_db(transaction=True)]
CORPUS = Path(__file__).parent / "corpus"


def test_the_harness_reports_import_setup_fail_before_and_pass_after(capsys, settings):
    with pytest.raises(SystemExit) as exit_info:
        call_command("test_course", "--all", str(CORPUS), "--json")
    assert exit_info.value.code == 1  # two of the three do not pass
    report = json.loads(capsys.readouterr().out)
    scenarios = {s["name"]: s for s in report["scenarios"]}
    assert set(scenarios) == {"passes", "setup-fails", "bad-check"}
    assert all(s["imported"] and s["cluster"] and s["tier"] == "api" for s in scenarios.values())

    passes = scenarios["passes"]
    assert passes["ok"] and passes["reason"] == ""
    # The course's setup (the intro's background) ran first, then the step's, which needs it.
    assert [(s["part"], s["ok"]) for s in passes["setups"]] == [("course", True),
                                                                ("set-the-colour", True)]
    assert [(e["fails_before"], e["passes_after"]) for e in passes["exercises"]] == [(True, True)]

    failed = scenarios["setup-fails"]
    assert not failed["ok"]
    assert failed["reason"].startswith("setup of look-at-the-app failed (exit 1)")
    assert "/nowhere/app.yaml" in failed["setups"][0]["tail"]
    assert failed["exercises"][0]["fails_before"] is None  # not reached

    bad = scenarios["bad-check"]
    assert not bad["ok"] and bad["exercises"][0]["fails_before"] is False
    assert "passes on a fresh sandbox (vacuous)" in bad["reason"]

    assert report["summary"]["total"] == 3 and report["summary"]["passed"] == 1
    assert report["summary"]["pass_rate"] == 33.3
