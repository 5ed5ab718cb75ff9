"""The lab's ASGI application with changes made for an experiment only (bench/terminal.py
--variant). The product is not changed: this module adjusts it in memory before serving.

    uvicorn bench.labvariant:application     (from the repository's root)

Environment (all optional):
  BENCH_HIGH_WATER, BENCH_LOW_WATER, BENCH_READ_BURST  flow-control constants of
      sandboxes.terminal.session, in bytes (read at call time, so setting them here is enough);
  BENCH_GC_FREEZE=1  gc.freeze() once the application is loaded;
  BENCH_GC_LOG=1  print each garbage collection of 5 ms or more to the server's output;
  BENCH_SKIP_DB_HOP=1  the terminal consumer handles websocket.receive without Channels'
      per-message `await aclose_old_connections()` (a sync_to_async round trip through the one
      thread-sensitive worker thread for every keystroke and ack; the consumer's receive path
      does not use the database).
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

if os.environ.get("BENCH_SKIP_DB_HOP") == "1":
    from channels.generic.websocket import AsyncWebsocketConsumer

    from sandboxes.terminal.consumer import TerminalConsumer

    async def dispatch(self, message):
        if message["type"] == "websocket.receive":
            return await self.websocket_receive(message)
        return await AsyncWebsocketConsumer.dispatch(self, message)

    TerminalConsumer.dispatch = dispatch

if os.environ.get("BENCH_GC_LOG") == "1":
    # Log every garbage collection that takes 5 ms or more (to uvicorn's output).
    import gc
    import time

    _gc_start = [0.0]

    def _gc_timer(phase, info):
        if phase == "start":
            _gc_start[0] = time.perf_counter()
        else:
            took = (time.perf_counter() - _gc_start[0]) * 1000
            if took >= 5:
                print(f"bench-gc: generation {info['generation']} took {took:.1f} ms, "
                      f"collected {info['collected']}", file=sys.stderr, flush=True)

    gc.callbacks.append(_gc_timer)

if os.environ.get("BENCH_GC_FREEZE") == "1":
    # Move everything loaded at start-up (Django, the app, its modules) out of the collector's
    # reach, so a full collection only walks what was made since.
    import gc

    gc.collect()
    gc.freeze()
