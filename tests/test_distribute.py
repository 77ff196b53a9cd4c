"""tf.distribute: 2 mirrored replicas and 2 workers compute the single device's steps; a lost worker
fails the run in words, keeps its checkpoint, and the run resumes.

Mirrored needs logical CPU devices made before TensorFlow starts, and every worker is a process, so
these tests start processes (tests/distribute_child.py, core.cluster's workers), each bounded in time
and ended even when an assertion fails.
"""

import dataclasses
import json
import os
import re
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from core.commands.cluster import start_worker
from core.runs import checkpoints
from core.runs.record import Status
from core.runs.store import RunDir
from core.training.cluster_env import free_ports
from tests.tiny import tiny_config, train, write_corpus

ROOT = Path(__file__).resolve().parent.parent
PROCESS_TIMEOUT_S = 240  # a worker's whole life here: TensorFlow's start, the build, a few tiny steps


@pytest.mark.parametrize("impl, optimizer", [("dynamic", "sgd"), ("fused", "adam")])
def test_two_mirrored_replicas_take_the_single_devices_steps(tmp_path, impl, optimizer):
    """Same global batch, seed and weights: the loss, the gradient norm (of the gradients summed over
    the replicas) and the weights after 4 steps match one device's. Clipping is on and bites (a norm
    above it), so clipping each replica's part before the sum, as Keras's global_clipnorm would, fails;
    SGD's step is proportional to the gradient, so a sum taken twice (Keras's own, in apply) shows."""
    corpus = write_corpus(tmp_path)
    clip = 0.15
    out = subprocess.run(
        [sys.executable, "-m", "tests.distribute_child", str(corpus), impl, optimizer, str(clip)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=PROCESS_TIMEOUT_S,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    runs = json.loads(out.stdout.strip().splitlines()[-1])
    one, two = runs["none"], runs["mirrored"]
    assert (one["replicas"], two["replicas"]) == (1, 2)
    assert max(one["norms"]) > clip  # clipping took part
    np.testing.assert_allclose(two["losses"], one["losses"], rtol=1e-5)
    np.testing.assert_allclose(two["norms"], one["norms"], rtol=1e-4)
    for a, b in zip(one["weights"], two["weights"]):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-6)
    assert one["losses"][-1] < one["losses"][0]  # they trained


@contextmanager
def workers(n: int, train_args: list[str]):
    """n workers of one multi-worker run, their output in files; every one ended on the way out."""
    ports, procs, logs = free_ports(n), [], []
    try:
        for i in range(n):
            runs_dir = Path(train_args[train_args.index("--runs-dir") + 1])
            logs.append(open(runs_dir.parent / f"worker{i}.log", "w+"))
            procs.append(
                start_worker(i, ports, train_args, cwd=ROOT, stdout=logs[-1], stderr=subprocess.STDOUT)
            )
        yield procs, logs
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
            p.wait()
        for log in logs:
            log.close()


def output(log) -> str:
    log.flush()
    log.seek(0)
    return log.read()


def wait_all(procs, logs, timeout: float = PROCESS_TIMEOUT_S) -> list[int]:
    deadline = time.monotonic() + timeout
    for p, log in zip(procs, logs):
        try:
            p.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pytest.fail(f"a worker did not end within {timeout} s:\n{output(log)[-3000:]}")
    return [p.returncode for p in procs]


def cli_args(config, runs_dir: Path) -> list[str]:
    """python -m core.train's flags for every setting of `config` (the launcher adds the strategy)."""
    flags = ["--corpus", config.corpus, "--runs-dir", str(runs_dir)]
    for section in (config.model, config.train):
        for f in dataclasses.fields(section):
            flag, value = f"--{f.name.replace('_', '-')}", getattr(section, f.name)
            if f.name in ("strategy", "replicas"):
                continue
            if isinstance(value, bool):  # a switch: --size-by-speed or --no-size-by-speed
                flags.append(flag if value else flag.replace("--", "--no-", 1))
            else:
                flags += [flag, str(value)]
    return flags


def only_run(runs_dir: Path) -> RunDir:
    folders = [p for p in runs_dir.iterdir() if p.is_dir()]
    assert len(folders) == 1, folders  # the chief writes the run folder, and no other worker does
    return RunDir(folders[0])


def test_two_workers_train_as_one_process(tmp_path):
    corpus = write_corpus(tmp_path)
    config = tiny_config(corpus, batch_size=8, max_steps=6, eval_every=3, checkpoint_every=3, clip_norm=0.15)
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    from core.runs.store import RunStore

    single = train(RunStore(tmp_path / "one"), config).record.snapshot()
    with workers(2, cli_args(config, tmp_path / "two")) as (procs, logs):
        codes = wait_all(procs, logs)
        assert codes == [0, 0], output(logs[0])[-2000:] + output(logs[1])[-2000:]
        assert "worker 1: finished" in output(logs[1])
    snap = only_run(tmp_path / "two").load_record().snapshot()
    assert snap.status == Status.FINISHED
    np.testing.assert_allclose(
        [m.train_loss for m in snap.metrics], [m.train_loss for m in single.metrics], rtol=1e-5
    )
    np.testing.assert_allclose(
        [e.val_loss for e in snap.evals], [e.val_loss for e in single.evals], rtol=1e-5
    )
    assert len(snap.metrics) == 6


def checkpointed_step(run_dir: RunDir) -> int:
    """The step of the latest checkpoint the folder's index names (0 if none)."""
    index = run_dir.checkpoint_dir / "checkpoint"
    steps = re.findall(r'-(\d+)"', index.read_text()) if index.exists() else []
    return max(map(int, steps), default=0)


@pytest.mark.parametrize("fault", ["killed", "hung"])
def test_a_lost_worker_fails_the_run_in_words_and_it_resumes(tmp_path, fault):
    """Worker 1 is killed (SIGKILL) or hangs (SIGSTOP) mid-run: the chief ends within a bounded time,
    its run marked failed with a sentence; the checkpoint on disk is whole, and (after the kill) two
    workers resume the run from it."""
    corpus = write_corpus(tmp_path)
    config = tiny_config(corpus, batch_size=8, max_steps=100_000, eval_every=0, sample_every=0,
                         checkpoint_every=2, collective_timeout_s=10.0)  # fmt: skip
    runs = tmp_path / "runs"
    runs.mkdir()
    with workers(2, cli_args(config, runs)) as (procs, logs):
        deadline = time.monotonic() + PROCESS_TIMEOUT_S
        while not any(p.is_dir() for p in runs.iterdir()) or checkpointed_step(only_run(runs)) < 4:
            assert time.monotonic() < deadline and all(p.poll() is None for p in procs), output(logs[0])[
                -3000:
            ]
            time.sleep(0.2)
        lost = time.monotonic()
        os.kill(procs[1].pid, signal.SIGKILL if fault == "killed" else signal.SIGSTOP)
        try:
            procs[0].wait(60)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the chief waited on for 60 s:\n{output(logs[0])[-3000:]}")
        ended_after = time.monotonic() - lost
        assert procs[0].returncode == 1
    run_dir = only_run(runs)
    snap = run_dir.load_record().snapshot()
    assert snap.status == Status.FAILED
    assert "another worker of this 2-worker run died or stopped answering" in snap.message, snap.message
    assert "Traceback" not in snap.message
    assert ended_after < 60
    step = checkpointed_step(run_dir)
    assert step >= 4
    assert checkpoints.resume_problem(run_dir) is None  # the checkpoint is whole: a resume reads every entry
    if fault == "hung":
        return  # resuming is the same as after a kill (and CI's minutes are counted)
    more = ["--resume", run_dir.run_id, "--runs-dir", str(runs), "--max-steps", str(step + 3)]
    with workers(2, more) as (procs, logs):
        assert wait_all(procs, logs) == [0, 0], output(logs[0])[-3000:]
    snap = run_dir.load_record().snapshot()
    assert snap.status == Status.FINISHED
    assert [m.step for m in snap.metrics][-3:] == [step + 1, step + 2, step + 3]
    assert checkpointed_step(run_dir) == step + 3


def test_a_worker_whose_peers_never_connect_exits_after_the_timeout(tmp_path):
    """MultiWorkerMirroredStrategy's constructor waits for every worker, forever if one never starts:
    the worker says what it waits for, exits after the timeout, and has written no run folder."""
    corpus = write_corpus(tmp_path)
    runs = tmp_path / "runs"
    runs.mkdir()
    args = [*cli_args(tiny_config(corpus, batch_size=8), runs), "--connect-timeout-s", "5"]
    with open(tmp_path / "worker0.log", "w+") as log:
        proc = start_worker(0, free_ports(2), args, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        try:
            proc.wait(PROCESS_TIMEOUT_S)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        said = output(log)
    assert proc.returncode == 1, said[-2000:]
    assert "waiting for the others to connect" in said and "within 5 s" in said, said[-2000:]
    assert not any(p.is_dir() for p in runs.iterdir())


def test_settings_a_strategy_cannot_use_are_refused_in_words():
    from core.config import ConfigError, TrainConfig

    with pytest.raises(ConfigError, match="replicas = 2 needs the mirrored strategy"):
        TrainConfig(replicas=2)
    with pytest.raises(ConfigError, match="cannot be split evenly over 3 replicas"):
        TrainConfig(strategy="mirrored", replicas=3, batch_size=32)
    with pytest.raises(ConfigError, match="unknown strategy 'parameter-server'"):
        TrainConfig(strategy="parameter-server")


@pytest.mark.parametrize(
    "tf_config, says",
    [
        (None, "needs TF_CONFIG"),
        ("{not json", "TF_CONFIG cannot be read"),
        ('{"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": 2}}', "index below 2"),
    ],
)
def test_a_multi_worker_run_without_a_usable_tf_config_is_refused_before_a_run_folder(
    tmp_path, monkeypatch, capsys, tf_config, says
):
    from core.commands import train as cli

    if tf_config is None:
        monkeypatch.delenv("TF_CONFIG", raising=False)
    else:
        monkeypatch.setenv("TF_CONFIG", tf_config)
    corpus = write_corpus(tmp_path)
    runs = tmp_path / "runs"
    code = cli.main(["--corpus", str(corpus), "--runs-dir", str(runs), "--strategy", "multi-worker"])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and says in err and "Traceback" not in err
    assert not runs.exists() or not any(runs.iterdir())
