"""A stand-in for the app in tests/test_jobs.py: start one job on a run folder, pause it once it trains,
print the worker's pid, then wait to be killed (as a server that dies)."""

import sys
import time
from pathlib import Path

from core.runs.store import RunDir
from core.training.jobs import JobManager

if __name__ == "__main__":
    jobs = JobManager(max_jobs=1, prestart=False)
    job = jobs.start(RunDir(Path(sys.argv[1])))
    while job.snapshot().progress.step < 3:
        time.sleep(0.05)
    job.pause()
    print(job.pid, flush=True)
    time.sleep(3600)
