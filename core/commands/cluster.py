"""Start a multi-worker run on this machine: python -m core.cluster --workers 2 -- --preset quick.

Each worker is a `python -m core.train ... --strategy multi-worker` process with its own TF_CONFIG (the
same list of workers on free localhost ports, and its index): what a cluster of hosts does by hand
(docs/distributed.md, "Training on several devices and machines"). Worker 0, the chief, writes the run folder and
talks to the terminal; the others' lines are prefixed with their index. Ctrl-C reaches every worker:
the chief stops them all after the step under way, with a checkpoint. A worker that ends with an error
makes the others end too (they fail at their next all-reduce, within the collective timeout); once the
chief is gone the rest are given END_GRACE_S to follow and then ended.
"""

import argparse
import subprocess
import sys
import threading
import time

from core.training.cluster_env import free_ports, worker_env

END_GRACE_S = 30.0  # after the chief has ended, how long the other workers may take to end on their own


def start_worker(index: int, ports: list[int], train_args: list[str], **popen) -> subprocess.Popen:
    """Worker `index` of a multi-worker run whose workers listen on localhost at `ports`."""
    args = [sys.executable, "-m", "core.train", *train_args, "--strategy", "multi-worker"]
    return subprocess.Popen(args, env=worker_env(ports, index), **popen)


def relay(process, index: int) -> threading.Thread:
    """Copy a non-chief worker's output to ours, each line prefixed with its index."""

    def copy():
        for line in process.stdout:
            sys.stdout.write(f"[worker {index}] {line}")
            sys.stdout.flush()

    thread = threading.Thread(target=copy, daemon=True)
    thread.start()
    return thread


def wait(workers: list) -> int:
    """Wait for the chief, then (at most END_GRACE_S) for the others; the first failing exit code, else 0."""
    chief, others = workers[0], workers[1:]
    while chief.poll() is None:
        time.sleep(0.2)
    deadline = time.monotonic() + END_GRACE_S
    for worker in others:
        try:
            worker.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            worker.kill()  # waiting for a chief that has gone: it would fail at its collective timeout
            worker.wait()
    codes = [w.returncode for w in workers]
    return next((code for code in codes if code), 0)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m core.cluster",
        description="Train one run with tf.distribute.MultiWorkerMirroredStrategy, in several worker "
        "processes on this machine. Everything after -- goes to python -m core.train.",
        epilog="example: python -m core.cluster --workers 2 -- --preset quick --max-steps 200",
    )
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default: 2)")
    parser.add_argument("train_args", nargs=argparse.REMAINDER, help="-- then python -m core.train's flags")
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    args.train_args = args.train_args[1:] if args.train_args[:1] == ["--"] else args.train_args
    if any(a == "--strategy" or a.startswith("--strategy=") for a in args.train_args):
        parser.error("the launcher sets --strategy multi-worker itself; leave it out")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    ports = free_ports(args.workers)
    workers = [start_worker(0, ports, args.train_args)]  # the chief talks to the terminal itself
    pipe = dict(stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for index in range(1, args.workers):
        workers.append(start_worker(index, ports, args.train_args, **pipe))
        relay(workers[-1], index)
    try:
        return wait(workers)
    except KeyboardInterrupt:  # every worker got the Ctrl-C too: the chief stops them after the step
        return wait(workers)


if __name__ == "__main__":
    sys.exit(main())
