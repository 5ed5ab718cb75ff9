"""The benchmarks' command lines, as BENCHMARKS.md and the Makefile run them, after their code
moved into packages: each still parses its options (no cluster needed to ask for --help)."""
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.mark.parametrize("argv, option", [
    (["bench/terminal.py"], "--sessions"),
    (["-m", "bench.terminal"], "--sessions"),
    (["bench/provision.py"], "--capacity"),
    (["-m", "bench.provision"], "--capacity"),
    (["bench/grading.py"], "--passes"),
])
def test_each_benchmark_still_answers_help(argv, option, tmp_path):
    # From another folder, as a script's own path is what finds the repository.
    script = [str(ROOT / argv[0])] if argv[0].endswith(".py") else argv
    result = subprocess.run([sys.executable, *script, "--help"], capture_output=True, text=True,
                            timeout=120, cwd=ROOT if argv[0] == "-m" else tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: ") and option in result.stdout


def test_no_benchmark_module_is_over_400_lines():
    long = {str(p.relative_to(ROOT)): n for p in (ROOT / "bench").rglob("*.py")
            if (n := len(p.read_text().splitlines())) > 400}
    assert long == {}
