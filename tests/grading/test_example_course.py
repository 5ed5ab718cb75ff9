"""The example course of docs/authoring.md validates and passes test_course."""
import json
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

EXAMPLE = Path(settings.BASE_DIR) / "docs" / "example-course"


def test_the_example_course_validates(capsys):
    call_command("validate_courses", str(EXAMPLE))
    assert "1 course(s), 2 lesson(s), 3 exercise(s): 0 problem(s)" in capsys.readouterr().out


@pytest.mark.cluster
@pytest.mark.django_db(transaction=True)
def test_the_example_course_passes_test_course(capsys, settings):
    settings.COURSE_DIRS = [EXAMPLE]
    call_command("test_course", "hello-lab", "--json")
    report = json.loads(capsys.readouterr().out)
    assert report["ok"], report
    assert [e["slug"] for e in report["exercises"]] == ["read-the-greeting", "make-a-pod", "scale-web"]


def test_every_check_kind_is_shown_in_the_authoring_guide():
    guide = (Path(settings.BASE_DIR) / "docs" / "authoring.md").read_text()
    for kind in ("resource", "command", "quiz", "script"):
        assert f"- kind: {kind}" in guide
