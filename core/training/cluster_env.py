"""The processes of a multi-worker run on one machine: free localhost ports, and each worker's environment.

Read by the command that starts a run's workers (core/commands/cluster.py) and by the scaling benchmark
(core/measure/scaling.py), which starts its workers the same way.
"""

import json
import os
import socket

CONNECT_TIMEOUT_S = (
    300.0  # how long a worker waits for the others to start and connect (hosts started by hand)
)


def free_ports(n: int) -> list[int]:
    """n ports nobody listens on now (held open together so that they differ)."""
    sockets = [socket.socket() for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("localhost", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def tf_config(ports: list[int], index: int) -> str:
    """The TF_CONFIG of worker `index` of workers on localhost at `ports` (worker 0 is the chief)."""
    cluster = {"worker": [f"localhost:{port}" for port in ports]}
    return json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})


def worker_env(ports: list[int], index: int) -> dict:
    """The environment of worker `index` on this machine: its TF_CONFIG, and its share of the cores.
    Each TensorFlow process sizes its thread pools to every core; N of them on one machine would run
    N× the threads the cores can, which slowed the quick preset's 2 workers by much (docs/distributed.md, "Training
    on several devices and machines")."""
    threads = str(max(1, (os.cpu_count() or 1) // len(ports)))
    shares = {
        name: os.environ.get(name, threads) for name in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")
    }
    return {**os.environ, **shares, "TF_CONFIG": tf_config(ports, index)}
