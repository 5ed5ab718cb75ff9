"""Grading: every check of an exercise evaluated live against the learner's sandbox."""
