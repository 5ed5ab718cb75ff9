"""validate_courses against a corpus of broken courses (tests/courses/broken/), one problem each."""
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[2]
BROKEN = Path(__file__).parent / "broken"

# case -> (file inside the course, line, words the message must contain)
EXPECTED = {
    "front-matter-not-yaml": ("lessons/01-intro.md", 3, "front matter is not valid YAML"),
    "missing-lesson-file": ("course.yaml", 5, "lesson 'ghost' has no file lessons/NN-ghost.md"),
    "duplicate-lesson-slug": ("course.yaml", 5, "duplicate lesson slug 'intro'"),
    "unknown-check-kind": ("lessons/01-intro.md", 7, "unknown check kind 'magic'"),
    "unknown-tier": ("lessons/01-intro.md", 3, "unknown tier 'huge'"),
    "yaml-block-broken": ("lessons/01-intro.md", 20, "YAML code block does not parse"),
    "no-front-matter": ("lessons/01-intro.md", 1, "a lesson starts with front matter"),
    "missing-title": ("lessons/01-intro.md", 2, "'title' is required"),
    "unknown-field": ("lessons/01-intro.md", 3, "unknown field 'minuts' (did you mean 'minutes'?)"),
    "bad-command-pattern": ("lessons/01-intro.md", 8, "is not a valid regular expression"),
    "quiz-answer-not-a-choice": ("lessons/01-intro.md", 11, "answer 'etcdd' is not one of the choices"),
    "two-assertions": ("lessons/01-intro.md", 7, "give exactly one of exists, count, field"),
    "missing-solution": ("lessons/01-intro.md", 4, "'solution' is required"),
    "course-yaml-not-yaml": ("course.yaml", 3, "not valid YAML"),
    "unlisted-lesson-file": ("lessons/02-extra.md", 1, "is not listed in course.yaml"),
    "bad-field-path": ("lessons/01-intro.md", 9, "field path 'spec..replicas'"),
    "duplicate-exercise-slug": ("lessons/02-second.md", 4, "duplicate exercise slug 'make-namespace'"),
}


def test_the_corpus_has_a_case_for_every_folder():
    assert sorted(p.name for p in BROKEN.iterdir() if p.is_dir()) == sorted(EXPECTED)


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_it_reports_the_one_problem_with_file_and_line(case, capsys):
    rel, line, words = EXPECTED[case]
    with pytest.raises(SystemExit) as exit_info:
        call_command("validate_courses", str(BROKEN / case))
    assert exit_info.value.code == 1
    lines = [line for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"{(BROKEN / case / rel).resolve()}:{line}: "), lines[0]
    assert words in lines[0]


def test_the_bundled_courses_pass(capsys):
    call_command("validate_courses")
    out = capsys.readouterr().out
    assert "0 problem(s)" in out
    assert "1 course(s), 7 lesson(s)" in out or "course(s)" in out


def test_it_exits_1_from_the_command_line():
    result = subprocess.run([sys.executable, "manage.py", "validate_courses",
                             str(BROKEN / "unknown-tier")], cwd=ROOT, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 1
    assert "unknown tier 'huge'" in result.stdout


def test_a_path_with_no_course_is_a_problem(tmp_path, capsys):
    with pytest.raises(SystemExit):
        call_command("validate_courses", str(tmp_path))
    assert "no course here" in capsys.readouterr().out


def test_every_problem_is_listed_not_just_the_first(tmp_path, capsys):
    course = tmp_path / "two-problems"
    (course / "lessons").mkdir(parents=True)
    (course / "course.yaml").write_text("title: Two\nlessons: [intro, gone]\n")
    (course / "lessons" / "01-intro.md").write_text("---\ntitle: Intro\ntier: moon\n---\nx\n")
    with pytest.raises(SystemExit):
        call_command("validate_courses", str(course))
    out = capsys.readouterr().out
    assert "unknown tier 'moon'" in out and "lesson 'gone' has no file" in out
