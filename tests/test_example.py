"""The example run that ships in assets/examples: trained (it beats its untrained self), readable by every
tab and command, and read-only."""

import os
import subprocess
import sys
from pathlib import Path

from core.data.corpus import load_corpus
from core.inside.trace import tracer_for
from core.model.char_rnn import CharRNN
from core.model.trace import Tracer
from core.paths import ASSETS, EXAMPLE_ID, EXAMPLES
from core.runs import checkpoints
from core.runs.store import RunStore

ROOT = Path(__file__).resolve().parents[1]


def example():
    return RunStore(ROOT / "runs-unused", examples=EXAMPLES).get(EXAMPLE_ID)


def test_it_is_small_read_only_and_holds_every_weight():
    run = example()
    assert run.read_only and run.meta()["owner"] == ""
    size = sum(p.stat().st_size for p in run.path.rglob("*") if p.is_file())
    assert size < 8e6, f"{size / 1e6:.1f} MB"
    assert checkpoints.problem(run) is None
    assert len(list(run.checkpoint_dir.glob("*.index"))) == 1  # the last checkpoint only
    assert run.config().corpus == "assets/tinyshakespeare.txt"


def test_its_weights_are_trained_and_are_the_step_its_record_ends_at():
    run = example()
    tracer, step = tracer_for(run)
    assert step == run.status()["progress"]["step"] and run.status()["status"] == "finished"
    corpus = load_corpus(ASSETS / "tinyshakespeare.txt")
    text = corpus.vocab.decode(corpus.val_ids[:3000])
    trained = tracer(text).bits_per_char
    untrained = Tracer(CharRNN(run.config().model, len(corpus.vocab)), corpus.vocab)(text).bits_per_char
    assert trained < 2.6 < 5.0 < untrained, (trained, untrained)  # measured: 1.87 and 6.0 bits/char
    # Its one milestone: the weights early on, read back as they were then (between the two above).
    ((early_step, prefix),) = run.milestones().items()
    early, read_step = tracer_for(run, prefix)
    assert read_step == early_step < step
    early_bits = early(text).bits_per_char
    assert trained < early_bits < untrained, (trained, early_bits, untrained)  # measured: 2.48 at step 156


def test_the_command_lines_sample_it_and_refuse_to_train_it():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = lambda *args: subprocess.run(  # noqa: E731
        [sys.executable, "-m", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=240
    )
    sampled = run("core.sample", "--run", EXAMPLE_ID, "--argmax", "--length", "60", "--prime", "KING")
    assert sampled.returncode == 0, sampled.stderr
    assert sampled.stdout.startswith("KING") and len(sampled.stdout.rstrip("\n")) == 64
    refused = run("core.train", "--resume", EXAMPLE_ID, "--epochs", "20")
    assert refused.returncode == 2 and "is an example" in refused.stderr and "Traceback" not in refused.stderr
