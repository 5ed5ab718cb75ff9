"""The benchmarks (run as scripts: bench/terminal.py, bench/provision.py, bench/grading.py) and the
process helpers they share with the tests."""
