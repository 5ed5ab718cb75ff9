"""Hostile course YAML (alias bombs, deep nesting, self-reference) is refused with file:line,
quickly, and the rest of the catalog still works."""
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from courses.yaml_lines import MAX_DEPTH, YamlError, load

ROOT = Path(__file__).resolve().parents[2]
GOOD_LESSON = "---\ntitle: Fine\n---\nNothing to see.\n"


def billion_laughs(levels: int = 9, indent: str = "") -> str:
    """levels of anchors, each a list of nine aliases of the one before: 9**levels values."""
    lines = [f'{indent}lol0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for n in range(1, levels + 1):
        lines.append(f"{indent}lol{n}: &l{n} [" + ", ".join([f"*l{n - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def write_course(root: Path, slug: str, lesson: str, course_yaml: str | None = None) -> Path:
    course = root / slug
    (course / "lessons").mkdir(parents=True)
    (course / "course.yaml").write_text(course_yaml or f"title: {slug.title()}\nlessons: [intro]\n")
    (course / "lessons" / "01-intro.md").write_text(lesson)
    return course


def validate(path: Path) -> subprocess.CompletedProcess:
    # A separate process with a timeout: before the fix this ran for hours, and a hang must
    # fail the test rather than the whole run.
    return subprocess.run([sys.executable, "manage.py", "validate_courses", str(path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_it_reports_an_alias_bomb_in_front_matter_with_file_and_line(tmp_path):
    course = write_course(tmp_path, "bomb", "---\ntitle: Boom\n" + billion_laughs() + "---\nx\n")
    result = validate(course)
    assert result.returncode == 1, result.stdout + result.stderr
    lesson = (course / "lessons" / "01-intro.md").resolve()
    # lol0 is on line 3; lol4 (66,430 values written out) is the first past the limit.
    assert f"{lesson}:7: front matter is too big once its aliases (*name) are expanded" \
        in result.stdout, result.stdout
    assert "Traceback" not in result.stderr


def test_it_reports_an_alias_bomb_in_course_yaml(tmp_path):
    course = write_course(tmp_path, "bomb", GOOD_LESSON,
                          course_yaml="title: Boom\nlessons: [intro]\n" + billion_laughs())
    result = validate(course)
    assert result.returncode == 1
    assert f"{(course / 'course.yaml').resolve()}:7: too big once its aliases" in result.stdout


def test_deep_nesting_is_a_problem_with_a_line_not_a_recursion_error(tmp_path):
    deep = "---\ntitle: Deep\nsummary: " + "[" * 5000 + "]" * 5000 + "\n---\nx\n"
    course = write_course(tmp_path, "deep", deep)
    result = validate(course)
    assert result.returncode == 1
    assert "01-intro.md:3: front matter is nested too deeply" in result.stdout, result.stdout
    assert "RecursionError" not in result.stderr


def test_nesting_built_from_aliases_is_measured_too():
    # Each anchor is 40 levels deep and includes the one before: no line is deeply indented,
    # but the expanded value is 120 levels deep.
    text = "".join(f"a{n}: &a{n} " + "[" * 40 + (f"*a{n - 1}" if n else "x") + "]" * 40 + "\n"
                   for n in range(3))
    with pytest.raises(YamlError) as raised:
        load(text)
    assert raised.value.message.startswith("nested too deeply once its aliases")
    assert raised.value.line == 2


def test_an_alias_inside_its_own_anchor_is_refused():
    with pytest.raises(YamlError) as raised:
        load("title: x\nloop: &me [1, *me]\n")
    assert raised.value.line == 2


def test_a_yaml_code_block_nested_too_deeply_is_a_problem(tmp_path):
    lesson = GOOD_LESSON + "\n```yaml\nspec: " + "[" * 3000 + "]" * 3000 + "\n```\n"
    course = write_course(tmp_path, "block", lesson)
    result = validate(course)
    assert result.returncode == 1
    assert "01-intro.md:7: YAML code block does not parse: nested too deeply" in result.stdout, \
        result.stdout


def test_ordinary_aliases_still_load_with_the_right_lines():
    text = ("title: Shared\n"
            "base: &base {kind: Namespace, name: demo}\n"
            "one: *base\n"
            "two: *base\n"
            "depth: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "\n")
    data = load(text, first_line=2)
    assert data["two"] == {"kind": "Namespace", "name": "demo"}
    # The shared mapping is one object: its line is where the anchor is, shifted once (it used
    # to be shifted once per alias).
    assert data["one"].line == data["two"].line == 3
    assert data.line_of("two") == 5


@pytest.mark.django_db
def test_the_catalog_and_lesson_pages_survive_a_bombed_course(client, owner, course_dir):
    write_course(course_dir, "calm", GOOD_LESSON)
    write_course(course_dir, "bomb", "---\ntitle: Boom\n" + billion_laughs() + "---\nx\n")
    response = client.get(reverse("catalog"))
    assert response.status_code == 200
    assert b"Calm" in response.content and b"Bomb" in response.content
    client.force_login(owner)
    lesson = client.get(reverse("lesson", args=["bomb", "intro"]))
    assert lesson.status_code == 200
    assert b"too big once its aliases" in lesson.content
