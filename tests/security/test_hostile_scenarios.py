"""A hostile Killercoda scenario cannot crash the importer: an index.json nested 100,000 deep,
an oversized one, and a YAML block nested thousands deep each end as a clear problem, not a
traceback."""
import json

import pytest

from courses.importers.killercoda.files import MAX_JSON_BYTES, ScenarioError, read_json


def test_a_deeply_nested_index_json_is_a_clear_error(tmp_path):
    path = tmp_path / "index.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ScenarioError, match="nested too deeply"):
        read_json(path)


def test_an_oversized_index_json_is_refused_before_it_is_parsed(tmp_path):
    path = tmp_path / "index.json"
    path.write_text(json.dumps({"title": "x" * (MAX_JSON_BYTES + 1)}))
    with pytest.raises(ScenarioError, match="larger than"):
        read_json(path)


def test_a_deeply_nested_yaml_block_becomes_plain_text(tmp_path):
    from django.core.management import call_command

    scenario = tmp_path / "deep"
    scenario.mkdir()
    (scenario / "index.json").write_text(json.dumps(
        {"title": "Deep", "details": {"steps": [{"title": "One", "text": "step1.md"}]}}))
    (scenario / "step1.md").write_text("Look:\n\n```yaml\n" + "- " * 3000 + "x\n```\n")
    out = tmp_path / "out"
    call_command("import_killercoda", str(scenario), "--out", str(out))
    lesson = next(out.rglob("*.md")).read_text()
    assert "```text" in lesson
