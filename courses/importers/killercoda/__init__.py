"""Reads Killercoda scenarios (index.json + markdown + bash) into in-memory courses.

Nothing here writes files: `read_source` returns an ImportPlan (courses, warnings, errors) of
`courses.importers.model` objects and `courses.importers.writer` turns its courses into course
folders. Nothing is read outside the source folder: every path a scenario names is resolved
(symbolic links included) and refused when it lands outside the scenario's own folder.

The modules, by concern: `source` (where the scenarios are: a folder, structure.json),
`files` (safe reads), `scenario` (index.json -> course, pages -> lessons), `exercises` (verify
-> a script check), `solutions`, `assets`, `tiers` (backend -> tier, as a table), `markers`
(Killercoda's {{exec}}/{{copy}}/... markers -> lesson Markdown) and `text` (small helpers).

index.json, field by field:
  title                    -> course title (missing: the folder name, with a warning)
  description              -> course description; its first paragraph -> summary
  difficulty (Katacoda)    -> course level
  time ("15 minutes")      -> lesson minutes, shared out evenly over the lessons
  backend.imageid          -> course tier (the table in `tiers`)
  interface.layout         -> a warning unless it is "terminal" (the lab has one terminal, no IDE)
  details.intro            -> the first lesson; details.finish -> the last lesson
  details.steps[]          -> one lesson each, titled by the step's title ("Step N" without one)
    text                   -> the lesson body (markers converted by `markers`); missing,
                              unreadable or outside: a placeholder paragraph + a warning
    verify                 -> an exercise with one `script` check (timeout 15 s); its solution is
                              the step folder's solution.sh / solution.md, else the step's
                              {{exec}} code, else an explanation only (with a warning)
    background             -> the lesson's `setup` script
    foreground             -> a "Run this first" runnable block at the top (not typed for you)
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
