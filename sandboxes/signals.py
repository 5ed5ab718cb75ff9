"""Signals sandboxes/ sends so that other apps can react to a sandbox's life without sandboxes/
importing them (imports flow lab/ -> courses/ -> sandboxes/)."""
from __future__ import annotations

import logging

from django.dispatch import Signal

log = logging.getLogger(__name__)

# A sandbox became ready for its owner: its cluster was just created, or the learner claimed it
# ready from the warm pool. Sent with sandbox=<Sandbox> (its owner may be None: a pool sandbox
# that nobody has claimed yet). Receivers that start work should do it on commit.
sandbox_ready = Signal()


def announce_ready(sandbox) -> None:
    """Tell the receivers that sandbox is ready. A receiver's error is logged, never raised: the
    sandbox is ready whatever another app makes of it."""
    for receiver, result in sandbox_ready.send_robust(sender=type(sandbox), sandbox=sandbox):
        if isinstance(result, Exception):
            log.error("sandbox_ready receiver %r failed for %s: %s", receiver, sandbox.id, result,
                      exc_info=result)
