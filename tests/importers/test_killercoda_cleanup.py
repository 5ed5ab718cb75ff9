"""Pure functions of the Killercoda importer that take out what only made sense on Killercoda:
page instructions, waits for the background script, solutions and hints in the text, and the
timeout a verify script needs."""
import pytest

from courses.grading.checks import DEFAULT_SCRIPT_TIMEOUT
from courses.importers.killercoda.cleanup import (
    COPY_SENTENCE,
    RUN_SENTENCE,
    define_k,
    drop_background_waits,
    strip_ui_leftovers,
)
from courses.importers.killercoda.exercises import check_timeout
from courses.importers.killercoda.solution_text import fold_solutions, take_solutions


@pytest.mark.parametrize("line, becomes", [
    ("Click **Start** to begin.", ""),
    ("Click ▶️ Start Scenario", ""),
    ("Press START to begin the scenario!", ""),
    ("Click on {{exec}} to run a command in the terminal.", RUN_SENTENCE),
    ("Welcome! Commands marked with {{exec}} can be clicked to run them. Have fun.",
     f"Welcome! {RUN_SENTENCE} Have fun."),
    ("Click on the command below to execute it.", RUN_SENTENCE),
    ("Text marked {{copy}} is copied when you click it.", COPY_SENTENCE),
])
def test_it_replaces_instructions_for_killercodas_page(line, becomes):
    result = strip_ui_leftovers(f"{line}\n\nThe rest stays.\n")
    assert result.text.strip("\n") == f"{becomes}\n\nThe rest stays.".strip("\n")
    assert result.removed and not result.kept


@pytest.mark.parametrize("line", [
    "Click the **node01** tab and run this.",
    "Open a new terminal tab by clicking the + sign.",
    "Open the menu Traffic / Ports and enter 30080.",
    "Click on the `Editor` tab at the top.",
])
def test_it_keeps_what_it_cannot_replace_and_says_so(line):
    result = strip_ui_leftovers(line + "\n")
    assert result.text == line + "\n"
    assert result.kept and not result.removed


def test_it_never_changes_code_or_a_marker_after_code():
    source = ("Run `ls`{{exec}} and click it.\n\n```\nClick **Start** to begin.\n```{{exec}}\n\n"
              "Then click on the command below to execute it.\n")
    result = strip_ui_leftovers(source)
    assert result.text == source.replace("Then click on the command below to execute it.",
                                         RUN_SENTENCE)


@pytest.mark.parametrize("script, left", [
    ("echo waiting\nwhile [ ! -f /tmp/background0 ]; do sleep 1; done\necho Welcome!\n", ""),
    ('echo "Installing..."\nwhile [ ! -f /tmp/finished ]; do\n  sleep 1\ndone\necho DONE\n'
     "kubectl get nodes\n", 'echo "Installing..."\necho DONE\nkubectl get nodes\n'),
])
def test_it_drops_a_foreground_scripts_wait_for_the_background_one(script, left):
    assert drop_background_waits(script) == (left, True)


def test_a_foreground_script_without_a_wait_is_kept_as_it_is():
    assert drop_background_waits("clear\nkubectl get nodes\n") == ("clear\nkubectl get nodes\n",
                                                                    False)


def test_it_defines_k_only_where_it_is_used():
    assert define_k("#!/bin/bash\nk get pods\n") == (
        '#!/bin/bash\nk() { kubectl "$@"; }  # Killercoda\'s shorthand for kubectl\nk get pods\n')
    assert define_k("x=$(k -n a get pods)\n", typed=True).startswith("alias k=kubectl")
    assert define_k("kubectl get pods | grep k\n") == "kubectl get pods | grep k\n"


TEXT = """Do the task.

<details><summary>💡 Hint</summary>

Look at `kubectl create -h`.

</details>

<details>
<summary>**Show solution**</summary>

```bash run
kubectl create namespace flower
```

</details>

<details><summary>Why it works</summary>

Namespaces group objects.

</details>

```text
<details><summary>Solution</summary> is code here
```
"""


def test_it_takes_solution_and_hint_details_out_and_keeps_the_others():
    parts = take_solutions(TEXT)
    assert parts.hints == ["Look at `kubectl create -h`."]
    assert parts.solutions == ["```bash run\nkubectl create namespace flower\n```"]
    assert parts.text == ('Do the task.\n\n<details markdown="1"><summary>Why it works</summary>'
                          "\n\nNamespaces group objects.\n\n</details>\n\n```text\n<details>"
                          "<summary>Solution</summary> is code here\n```\n")


def test_an_unclosed_details_block_stays_text():
    text = "Intro.\n\n<details><summary>Solution</summary>\n\nkubectl get pods\n"
    assert take_solutions(text).text == text and take_solutions(text).solutions == []


def test_a_solution_section_ends_at_the_next_heading_of_its_level():
    text = ("Task.\n\n## Solution\n\nRun:\n\n```bash run\nls\n```\n\n### Detail\n\nStill it.\n\n"
            "## Next\n\nMore.\n")
    parts = take_solutions(text)
    assert parts.solutions == ["Run:\n\n```bash run\nls\n```\n\n### Detail\n\nStill it."]
    assert parts.text == "Task.\n\n## Next\n\nMore.\n"


def test_without_an_exercise_solution_sections_are_folded():
    text, folded = fold_solutions("Task.\n\n### Solution\n\n```bash run\nls\n```\n")
    assert folded == 1
    assert text == ('Task.\n\n<details markdown="1">\n<summary>Solution</summary>\n\n'
                    "```bash run\nls\n```\n\n</details>\n")


@pytest.mark.parametrize("script, seconds", [
    ("kubectl get deploy web", DEFAULT_SCRIPT_TIMEOUT),
    ("kubectl rollout status deploy/web --timeout=90s", 120),
    ("kubectl wait pod/web --for=condition=Ready", 120),
    ("k wait pod/web --for=condition=Ready", 120),
    ("for i in $(seq 30); do kubectl get pod web && exit 0; sleep 2; done; exit 1", 120),
    ("until kubectl get pod web; do :; done", 120),
    ("for node in a b; do kubectl get node $node; done", DEFAULT_SCRIPT_TIMEOUT),
])
def test_a_verify_script_that_waits_gets_the_longest_check_timeout(script, seconds):
    assert check_timeout(script) == seconds
