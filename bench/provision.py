#!/usr/bin/env python
"""The provisioning benchmark's entry as a script (the code is the package bench/provision/):

    .venv/bin/python bench/provision.py [--cold 10] [--warm 10] [--capacity 40] [--save]
"""
import sys
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path; the repository's root must come
# first instead, so that `bench.provision` is the package beside this file (a folder with an
# __init__.py wins over a module of the same name in the same place).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.provision.run import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
