"""core.export: a SavedModel that loads without this project and, at argmax, writes what core.sample does."""

import os
import subprocess
import sys
from pathlib import Path

from core.runs.store import RunStore
from tests.tiny import tiny_config, train

ROOT = Path(__file__).resolve().parents[1]
LOADER = """
import importlib.util, sys
import tensorflow as tf
assert importlib.util.find_spec("core") is None, "the project is importable here"
model = tf.saved_model.load(sys.argv[1])
text = model.signatures["generate"](prime=tf.constant("All:"), length=tf.constant(60),
                                    temperature=tf.constant(0.0), top_k=tf.constant(0),
                                    seed=tf.constant(0, tf.int64))["text"]
sys.stdout.write(text.numpy().decode("utf-8"))
out = model.signatures["step"](ids=tf.constant([1, 2, 3]), state_0=tf.zeros([3, 16]), state_1=tf.zeros([3, 16]))
print("|", out["logits"].shape, out["state_1"].shape)
"""


def test_an_exported_run_loads_without_the_project_and_matches_core_sample(tmp_path, corpus_path):
    run_dir = train(
        RunStore(tmp_path / "runs", examples=None),
        tiny_config(corpus_path, cell="lstm", max_steps=80, epochs=2),
    ).run_dir
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    exported = subprocess.run(
        [sys.executable, "-m", "core.export", "--run", str(run_dir.path), "--out", str(tmp_path / "model")],
        cwd=ROOT, env={**env, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert exported.returncode == 0, exported.stderr
    assert "weights from step 80" in exported.stdout
    assert (tmp_path / "model" / "assets" / "vocab.txt").exists()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    loaded = subprocess.run(  # -I: no PYTHONPATH, no user site, not the project's folder
        [sys.executable, "-I", "-c", LOADER, str(tmp_path / "model")],
        cwd=elsewhere, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert loaded.returncode == 0, loaded.stderr
    text, shapes = loaded.stdout.split("|")
    assert shapes.strip() == "(3, 65) (3, 16)".replace("65", str(len(run_dir.vocab())))
    sampled = subprocess.run(
        [sys.executable, "-m", "core.sample", "--run", str(run_dir.path), "--prime", "All:", "--length", "60",
         "--argmax"],
        cwd=ROOT, env={**env, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert sampled.returncode == 0, sampled.stderr
    assert text == sampled.stdout and len(text) == len("All:") + 60
    assert len(set(text[4:])) > 3  # a text that says something: the match is not between two blanks


def test_a_run_without_a_checkpoint_is_refused_in_a_sentence(tmp_path, corpus_path):
    from core.data.corpus import load_corpus

    run_dir = RunStore(tmp_path / "runs", examples=None).create(
        tiny_config(corpus_path), load_corpus(corpus_path).vocab
    )
    out = subprocess.run(
        [sys.executable, "-m", "core.export", "--run", str(run_dir.path), "--out", str(tmp_path / "model")],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert out.returncode == 2 and "has no checkpoint yet" in out.stderr and "Traceback" not in out.stderr
    assert not (tmp_path / "model").exists()
