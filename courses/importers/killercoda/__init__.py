"""Reads Killercoda scenarios (index.json + markdown + bash) into in-memory courses.

Nothing here writes files: `read_source` returns an ImportPlan (courses, warnings, errors) of
`courses.importers.model` objects and `courses.importers.writer` turns its courses into course
folders. Nothing is read outside the source folder: every path a scenario names is resolved
(symbolic links included) and refused when it lands outside the scenario's own folder.

The modules, by concern: `source` (where the scenarios are: a folder, structure.json), `files`
(safe reads), `scenario` (index.json -> course, pages -> lessons), `exercises` (verify -> a script
check), `solutions` and `solution_text` (solution files, <details> and Solution sections),
`assets`, `tiers` (what the code needs -> tier, backend image -> nodes: two tables), `markers`
(Killercoda's {{exec}}/{{copy}}/... markers -> lesson Markdown), `cleanup` (Killercoda's page
instructions, waits for the background script, the k alias) and `text` (small helpers).

index.json, field by field:
  title                    -> course title (missing: the folder name, with a warning)
  description              -> course description; its first paragraph -> summary
  difficulty (Katacoda)    -> course level
  time ("15 minutes")      -> lesson minutes, shared out evenly over the lessons
  backend.imageid          -> course `nodes` (kubeadm-2nodes: controlplane, tainted, + node01;
                              kubeadm-1node: controlplane) and warnings (k3s, ubuntu, unknown)
  (everything's code)      -> course tier: full when something needs real containers (exec,
                              logs, crictl, docker, traffic to the cluster, a TRAFFIC link, a
                              node's shell), else api; --tier overrides
  interface.layout         -> a warning unless it is "terminal" (the lab has one terminal, no IDE)
  details.intro            -> the first lesson; its background (Katacoda: courseData) -> the
                              course's `setup`; details.finish -> the last lesson
  details.steps[]          -> one lesson each, titled by the step's title ("Step N" without one)
    text                   -> the lesson body: Killercoda's page instructions ("Click Start",
                              "click {{exec}} to run") out, markers converted by `markers`;
                              missing, unreadable or outside: a placeholder + a warning
    verify                 -> an exercise with one `script` check (timeout 15 s, 120 s when it
                              waits: kubectl wait, rollout status, sleep, loops); its solution:
                              the step folder's solution.sh / solution.md, else the text's
                              <details> "Solution" blocks and "Solution" sections (taken out of
                              the text; "Tip"/"Hint" ones become hints), else the step's {{exec}}
                              code, else an explanation only (with a warning). Without verify,
                              Solution sections are folded into <details> instead.
    background             -> the lesson's `setup` script
    foreground (Katacoda:  -> a "Run this first" runnable block at the top (not typed for you);
      code)                   a wait for the background script is left out
  details.assets.host01[]  -> files from the scenario's assets/ folder, for <course>/assets/ at
                              their path below the learner's home (/root/x -> x; a target
                              outside the home, /opt/x -> opt/x, with a warning); chmod applied
  details.assets.<other>   -> a warning (the lab has one machine)
  anything else            -> a warning naming it, never a crash
"""
from courses.importers.killercoda.files import ScenarioError
from courses.importers.killercoda.scenario import read_scenario
from courses.importers.killercoda.source import read_source

__all__ = ["ScenarioError", "read_scenario", "read_source"]
