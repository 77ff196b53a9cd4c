"""What a checkpoint holds is what trained: compared, variable by variable, with the model that saved it.

Every cell × every implementation that trains × (1 layer, and 3 layers with dropout) trains a few
steps and saves, in two child processes side by side (one per core); fresh processes then restore
every run through the trainer's resume and through the sampler (tests/roundtrip_child.py). The
test compares what each side wrote.
"""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core.config import ModelConfig
from core.data.corpus import load_corpus
from core.model.cells import CELLS
from core.model.unrollers import UNROLLERS
from core.runs.record import RunRecord
from core.runs.store import RunStore
from core.training.trainer import Trainer
from tests.tiny import write_corpus

ROOT = Path(__file__).resolve().parents[1]
CASES = [
    (cell, impl, layers)
    for layers in (1, 3)
    for cell in CELLS
    for impl in UNROLLERS.names(trains_only=True)
    if UNROLLERS[impl].works_with(cell)
]
CHILDREN = 2  # this machine's cores: the children trace graphs side by side


def run_children(argvs: list[list[str]]) -> None:
    """Run the children at once; fail with the first one's error output."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.roundtrip_child", *argv],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for argv in argvs
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=900)
        assert proc.returncode == 0, err[-3000:]


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict:
    """case -> its run folder, trained in one process and restored in another."""
    tmp = tmp_path_factory.mktemp("ckpt")
    corpus, runs_dir = str(write_corpus(tmp)), str(tmp / "runs")
    run_children([["train", runs_dir, corpus, json.dumps(CASES[i::CHILDREN])] for i in range(CHILDREN)])
    by_label = {r.meta()["label"]: r for r in RunStore(runs_dir).list()}
    folders = {case: by_label["-".join(map(str, case))] for case in CASES}
    paths = [str(r.path) for r in folders.values()]
    run_children([["restore", json.dumps(paths[i::CHILDREN])] for i in range(CHILDREN)])
    return folders


@pytest.mark.parametrize("case", CASES, ids=["-".join(map(str, c)) for c in CASES])
def test_every_variable_and_the_loss_survive_a_fresh_process(runs, case):
    path = runs[case].path
    trained, restored = (json.loads((path / f"{side}.json").read_text()) for side in ("trained", "restored"))
    with np.load(path / "trained.npz") as saved, np.load(path / "restored.npz") as back:
        names = set(saved.files)
        # The whole model, the optimizer's state for every weight (Adam: two slots, plus its iteration
        # count and learning rate), the step and the carried state.
        assert {n.removeprefix("model/") for n in names if n.startswith("model/")} == set(
            trained["variables"]
        )
        assert {f"model/stack/layer_{n}/recurrent_kernel" for n in range(1, case[2] + 1)} <= names
        assert len([n for n in names if n.startswith("optimizer/")]) == 2 * trained["trainable"] + 2
        assert {"step", "carry/0"} <= names
        assert sorted(back.files) == sorted(saved.files)
        for name in saved.files:
            np.testing.assert_array_equal(back[name], saved[name], err_msg=name)
        with np.load(path / "sampler.npz") as sampler:
            assert sampler.files and all(n.startswith("model/") for n in sampler.files)
            for name in sampler.files:
                np.testing.assert_array_equal(sampler[name], saved[name], err_msg=name)
        assert int(saved["step"]) == 3 and restored["sampler_step"] == 3
    assert restored["val_loss"] == pytest.approx(trained["val_loss"], abs=1e-6)


def test_the_weights_compared_are_trained_ones(runs, tmp_path):
    """Equality above is of trained weights, not of two copies of the initialisation."""
    path = runs[("gru", "dynamic", 1)].path
    config = runs[("gru", "dynamic", 1)].config()
    fresh = Trainer(
        config, load_corpus(config.corpus, config.train.val_fraction), RunRecord("fresh", {}), None
    )
    fresh.setup()
    with np.load(path / "trained.npz") as saved:
        for name, variable in fresh.saver.checkpoint.entries.items():
            if name.startswith("model/"):
                assert not np.array_equal(variable.numpy(), saved[name]), name


def test_names_are_the_same_in_every_model():
    """Entry names must not depend on how many models the process built before (Keras numbers names)."""
    from core.model.char_rnn import CharRNN
    from core.runs.checkpoints import model_entries

    config = ModelConfig(cell="lstm", num_layers=2, state_size=4)
    first, second = CharRNN(config, 7), CharRNN(config, 7)
    assert list(model_entries(first)) == list(model_entries(second))
    assert "model/stack/layer_2/recurrent_kernel" in model_entries(first)
