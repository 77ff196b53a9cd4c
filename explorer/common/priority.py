"""The Inside tab is drawn at idle priority, so a run training meanwhile keeps its speed.

A person reading along with the network clicks every few seconds, and each click reruns the page (a
fraction of a core-second each time). On a 2-core machine that work competes with a training run in its worker
process, whose two compute threads wait for each other at every op, so a little competition slows
training more than its share. Drawn in a thread under Linux's SCHED_IDLE policy, the tab runs only on a
core training leaves idle (python benchmarks/inside_targets.py measures both; figures in docs/inside.md).

The thread is a fresh one for each drawing: on Linux a thread cannot leave SCHED_IDLE again without
privileges, and Streamlit draws a session's next page in the same thread, which would leave every later
page (the live Train tab too) at idle priority. The drawing thread gets the page's script-run context and
its context variables (the open container: a tab, a column), so what it draws lands where it would have.
Elsewhere than Linux the tab is drawn as any other.
"""

import contextvars
import os
import sys
import threading

from streamlit.runtime.scriptrunner import add_script_run_ctx, get_script_run_ctx


def yield_to_training() -> bool:
    """Put the calling thread under SCHED_IDLE (Linux); True if it is there now."""
    if sys.platform != "linux":
        return False
    thread = threading.get_native_id()  # on Linux a thread id names one thread to the scheduler
    try:
        os.sched_setscheduler(thread, os.SCHED_IDLE, os.sched_param(0))
    except OSError:  # not allowed here (a sandbox): the page is simply drawn as it would be
        return False
    return os.sched_getscheduler(thread) == os.SCHED_IDLE


def drawn_at_idle_priority(draw, *args):
    """draw(*args) in a new thread under SCHED_IDLE, the page's thread waiting for it; its result, or its
    exception raised here."""
    if sys.platform != "linux":
        return draw(*args)
    context, outcome = contextvars.copy_context(), {}

    def work():
        yield_to_training()
        try:
            outcome["result"] = context.run(draw, *args)
        except BaseException as err:  # noqa: BLE001  raised again in the page's thread below
            outcome["error"] = err

    thread = threading.Thread(target=work, name="page-at-idle-priority", daemon=True)
    add_script_run_ctx(thread, get_script_run_ctx())
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("result")
