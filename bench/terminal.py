#!/usr/bin/env python
"""The terminal benchmark's entry as a script (the code is the package bench/terminal/):

    .venv/bin/python bench/terminal.py [--sessions 100] [--quick] [--save]
"""
import sys
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path; the repository's root must come
# first instead, so that `bench.terminal` is the package beside this file (a folder with an
# __init__.py wins over a module of the same name in the same place).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.terminal.run import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
