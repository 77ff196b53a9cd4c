"""What every AppTest module shares: a runs folder with three tiny finished runs, the app driven with this
session's secret in its URL, and small readers of what it drew.

A module registers the fixtures with `pytest_plugins = ("tests.app_kit",)`. The runs folder is
module-scoped (trained once per module; the app's training workers end with the module).

PYTEST_DONT_REWRITE: a test module imports this before its `pytest_plugins` line registers it, too late
for pytest to rewrite these asserts (it would warn so).
"""

from pathlib import Path

import pytest
import tensorflow as tf
from streamlit.testing.v1 import AppTest

from core.config import ModelConfig, RunConfig, TrainConfig
from core.data.corpus import make_corpus
from core.data.sources import uploads_of
from core.runs.record import RunRecord
from core.runs.store import RunStore
from core.training.trainer import Trainer
from explorer.common import services, state

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "explorer" / "app.py")
TEXT = (ROOT / "assets" / "tinyshakespeare.txt").read_text(encoding="utf-8")[:20_000]
SECRET = "tester"  # the session secret the app's URL carries
OWNER = state.owner_of(SECRET)  # the owner id its runs record


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory):
    """A runs folder holding one tiny finished run of OWNER's and one of someone else's, made by the core."""
    root = tmp_path_factory.mktemp("runs")
    corpus_file = uploads_of(root, OWNER) / "tiny.txt"  # OWNER's upload, as the app keeps one
    corpus_file.parent.mkdir(parents=True)
    corpus_file.write_text(TEXT, encoding="utf-8")
    store = RunStore(root)
    config = RunConfig(
        model=ModelConfig(cell="gru", impl="dynamic", state_size=16),
        train=TrainConfig(
            batch_size=8,
            num_steps=20,
            max_steps=4,
            eval_every=2,
            eval_batches=2,
            sample_every=2,
            sample_length=20,
        ),
        corpus=str(corpus_file),
    )
    corpus = make_corpus(TEXT, config.train.val_fraction)
    for owner, label in ((OWNER, "mine"), ("someone-else", "theirs"), (OWNER, "hollow")):
        run_dir = store.create(config, corpus.vocab, owner=owner, label=label)
        record = RunRecord(run_dir.run_id, config.to_dict())
        record.subscribe(run_dir.writer())
        trainer = Trainer(config, corpus, record, run_dir)
        assert trainer.run().status == "finished"
    # "hollow": a checkpoint that holds the embedding and head but no recurrent weights.
    for path in run_dir.checkpoint_dir.iterdir():
        path.unlink()
    hollow = tf.train.Checkpoint(model=trainer.model, step=trainer.step)
    tf.train.CheckpointManager(hollow, str(run_dir.checkpoint_dir), 2).save(4)
    yield root
    services.job_manager().shutdown()  # the app's workers end with this module


@pytest.fixture
def app(runs_dir, monkeypatch):
    monkeypatch.setenv(services.RUNS_DIR_ENV, str(runs_dir))

    def make(**query):
        at = AppTest.from_file(APP, default_timeout=60)
        at.query_params.update({"owner": SECRET, "tab": "Train", **query})
        return at.run()

    return make


def labelled(runs_dir, label: str) -> str:
    return next(r.run_id for r in RunStore(runs_dir).list() if r.meta()["label"] == label)


def mine(runs_dir) -> str:
    return labelled(runs_dir, "mine")


def errors(at) -> list[str]:
    return [e.value for e in at.error]


WIDGETS = {
    "number": "number_input",
    "slider": "slider",
    "choice": "select_slider",
    "select": "selectbox",
    "check": "checkbox",
}


def setting(at, key: str):
    """The sidebar widget of one setting, of the kind the settings table names."""
    return getattr(at, WIDGETS[state.control_for(key).widget])(key=key)


def stopped_copy(runs_dir, secret: str) -> str:
    """A stopped run with steps left (so Continue is on offer), owned by the session holding `secret`."""
    store = RunStore(runs_dir)
    return store.copy(store.get(mine(runs_dir)), owner=state.owner_of(secret), more_epochs=1).run_id
