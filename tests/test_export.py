"""core.export: a SavedModel that loads without this project and, at argmax, writes what core.sample does."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core.runs.export import export
from core.runs.store import RunStore
from core.writable import CannotWrite
from tests.tiny import tiny_config, train, write_corpus

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


# ---- --out: a new folder or an empty one; nothing is ever written over or merged into ---------------------
@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny run with a checkpoint (its RunDir)."""
    root = tmp_path_factory.mktemp("export")
    config = tiny_config(write_corpus(root), max_steps=4, sample_every=0, eval_every=0)
    return train(RunStore(root / "runs", examples=None), config).run_dir


def tree(folder: Path) -> dict:
    """Every file under `folder` and its bytes."""
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_an_out_that_is_a_file_is_refused_in_a_sentence(tmp_path, trained):
    target = tmp_path / "model"
    target.write_text("someone's file")
    out = subprocess.run(
        [sys.executable, "-m", "core.export", "--run", str(trained.path), "--out", str(target)],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert (
        out.stderr.strip() == f"error: {target} already exists and is a file, not a folder; name a new folder"
    )
    assert target.read_text() == "someone's file" and sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_a_folder_with_anything_in_it_is_never_merged_into(tmp_path, trained):
    full = tmp_path / "full"
    (full / "variables").mkdir(parents=True)
    (full / "notes.txt").write_text("mine")
    (full / "variables" / "keep.bin").write_bytes(b"\0\1")
    before = tree(full)
    for out in (full, Path("/")):
        with pytest.raises(CannotWrite) as refused:
            export(trained, out)
        assert str(refused.value) == f"{out} already exists and is not empty; name a new folder"
    assert tree(full) == before and sorted(p.name for p in full.iterdir()) == ["notes.txt", "variables"]


def test_an_out_that_cannot_be_made_is_refused_before_anything_is_written(tmp_path, trained, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(CannotWrite) as refused:
        export(trained, blocker / "model")
    assert str(refused.value) == f"cannot make {blocker}/model: {blocker} is a file, not a folder"
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        try:  # as root the write bits stop nothing: the check is then made to see a folder it may not write
            (locked / "probe").mkdir()
            (locked / "probe").rmdir()
            monkeypatch.setattr(os, "access", lambda path, mode: Path(path) != locked)
        except PermissionError:
            pass
        with pytest.raises(CannotWrite) as refused:
            export(trained, locked / "new" / "model")  # the nearest folder that exists is the one checked
        assert (
            str(refused.value) == f"cannot make {locked}/new/model: the folder {locked} cannot be written to"
        )
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o755)


def test_an_empty_folder_is_filled_and_a_new_one_made(tmp_path, trained):
    import tensorflow as tf

    from core.runs.checkpoints import load_model

    empty, new = tmp_path / "empty", tmp_path / "a" / "b" / "model"
    empty.mkdir()
    assert export(trained, empty) == export(trained, new) == 4
    model, vocab, _ = load_model(trained)
    ids, state = tf.constant([1, 2, 3]), [tf.zeros([3, n]) for n in model.stack.state_size]
    want = model.step(ids, tuple(state))[0]  # the run's own logits [3, V] from its latest checkpoint
    for folder in (empty, new):
        assert {p.name for p in folder.iterdir()} == {
            "assets",
            "fingerprint.pb",
            "saved_model.pb",
            "variables",
        }
        vocab_file = (folder / "assets" / "vocab.txt").read_text(encoding="utf-8")
        assert [json.loads(line) for line in vocab_file.splitlines()] == list(vocab.chars)
        step = tf.saved_model.load(str(folder)).signatures["step"]
        got = step(ids=ids, **{f"state_{i}": s for i, s in enumerate(state)})["logits"]
        assert np.allclose(got.numpy(), want.numpy(), atol=1e-6)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "empty"]  # no scratch folder left beside them
