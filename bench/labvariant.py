"""The lab's ASGI application with other flow-control constants, for an experiment only.

    uvicorn --app-dir bench labvariant:application  (with BENCH_HIGH_WATER, BENCH_LOW_WATER,
    BENCH_READ_BURST in the environment, in bytes)

The product is not changed: this module sets the constants of sandboxes.terminal.session (read at
call time) before the application is imported, so bench/terminal.py --variant can show what a
smaller window would do to Ctrl-C and to throughput.
"""
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sandboxes.terminal import session  # noqa: E402

for name in ("HIGH_WATER", "LOW_WATER", "READ_BURST"):
    value = os.environ.get(f"BENCH_{name}")
    if value:
        setattr(session, name, int(value))

from lab.asgi import application  # noqa: E402,F401
