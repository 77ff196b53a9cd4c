"""Checkpoints built from the variable lists themselves, checked before anything is read back.

tf.train.Checkpoint usually finds what to save by walking attributes from the objects it is given.
Keras 3 keeps a layer's list of sublayers in its own TrackedList, which that walk does not enter, so
a walk from the model silently skips a stack's cells. Here every entry is named explicitly from the
lists the train step itself uses (`model.variables`, `optimizer.variables`): what training updates is
what is saved. A restore first reads the file's table of contents and refuses, in a sentence, a
checkpoint that lacks any variable it needs or holds one of another shape.

Entry names (one flat level; the checkpoint file escapes the slashes):
    model/<variable path>      every model weight, e.g. model/stack/layer_1/kernel
    optimizer/<variable name>  the optimizer's iteration count, learning rate and slots
    step                       train steps taken
    carry/<i>                  the RNN state carried into the next batch, [batch, units] each

Earlier versions saved tf.train.Checkpoint(model=, optimizer=, step=). Walking from the model missed
the cells, but the optimizer keeps a plain list of the variables it trains, which the walk does
enter: those files hold every trained weight as optimizer/_trainable_variables/<i>, in the order of
model.trainable_variables. They are read back through an optimizer built on the model's variables
(`legacy`), after the same kind of check.
"""

import shutil
from pathlib import Path
from typing import NamedTuple

import tensorflow as tf
from google.protobuf.message import DecodeError
from tensorflow.core.protobuf import trackable_object_graph_pb2

from core.errors import DiskFull, Refusal
from core.runs.files import repair_index, write_index
from core.runs.milestones import Milestones
from core.runs.store import checkpoint_step

MODEL, OPTIMIZER, CARRY = "model/", "optimizer/", "carry/"
RECURRENT = MODEL + "stack/"  # the stacked cells' weights (core.model.stack names its scope "stack")
LEGACY_WEIGHTS = "optimizer/_trainable_variables/"  # + i: the earlier layout's copy of every weight
NO_RECURRENT_WEIGHTS = (
    "this run's checkpoint holds no recurrent weights, so it cannot be sampled or resumed; "
    "its metrics and samples stay viewable"
)


class CheckpointMismatch(Refusal, ValueError):
    """A checkpoint that does not hold what the model needs; the message says what is missing."""


def model_entries(model) -> dict:
    """`model/<path>` -> variable for every variable of a Keras model; refuses two with one path."""
    return _named(MODEL, {v.path: v for v in model.variables}, len(model.variables))


def optimizer_entries(optimizer) -> dict:
    """`optimizer/<name>` -> variable. Keras numbers optimizer names (adam, adam_1, ...) per process, so
    the optimizer's own name is dropped from each path: the slots are named after the model's paths."""
    names = {v.path.split("/", 1)[-1]: v for v in optimizer.variables}
    return _named(OPTIMIZER, names, len(optimizer.variables))


def _named(prefix: str, by_name: dict, count: int) -> dict:
    if len(by_name) != count:  # two variables under one name: one would overwrite the other on disk
        raise ValueError(
            f"{count - len(by_name)} variable(s) share a path with another; name the layers apart"
        )
    return {prefix + name: v for name, v in by_name.items()}


def contents(prefix: str) -> dict[str, tuple]:
    """What a checkpoint file holds: every path to each variable (slash-joined) -> its shape.

    Read from the file's object graph, without reading a single weight. A variable that two objects
    hold (the earlier layout's model and optimizer) is listed under both paths."""
    reader = tf.train.load_checkpoint(prefix)
    graph = trackable_object_graph_pb2.TrackableObjectGraph()
    graph.ParseFromString(reader.get_tensor("_CHECKPOINTABLE_OBJECT_GRAPH"))
    shapes = reader.get_variable_to_shape_map()
    found, todo = {}, [(0, "", ())]
    while todo:
        node_id, path, above = todo.pop()
        node = graph.nodes[node_id]
        for attribute in node.attributes:
            if attribute.name == "VARIABLE_VALUE" and attribute.checkpoint_key in shapes:
                found[path] = tuple(shapes[attribute.checkpoint_key])
        todo += [
            (child.node_id, f"{path}/{child.local_name}".lstrip("/"), above + (node_id,))
            for child in node.children
            if child.node_id not in above
        ]  # no cycles
    return found


def is_legacy(held: dict) -> bool:
    """The earlier layout: no model/stack entries, the weights under the optimizer's list instead."""
    return LEGACY_WEIGHTS + "0" in held and not any(name.startswith(RECURRENT) for name in held)


DAMAGE = (tf.errors.OpError, ValueError, DecodeError, IndexError)  # what reading damaged files raises


def damage(prefix: str) -> str | None:
    """Why a checkpoint's files cannot be read back (None: its table of contents and every tensor read,
    their checksums included): a file cut short or overwritten, found before any weight is trusted."""
    try:
        reader = tf.train.load_checkpoint(prefix)
        for name in reader.get_variable_to_shape_map():
            reader.get_tensor(name)
        contents(prefix)
    except DAMAGE as err:
        return f"{Path(prefix).name} cannot be read ({type(err).__name__})"
    return None


class Usable(NamedTuple):
    """The newest of a run's checkpoints that reads back whole (None: none does), and the newer ones that
    do not (their names: each was found damaged)."""

    prefix: str | None
    damaged: list[str]

    def note(self) -> str | None:
        """What a reader of the run is told when a newer checkpoint was passed over (None: none was)."""
        if not self.damaged:
            return None
        skipped = ", ".join(self.damaged)
        if self.prefix is None:
            return f"every checkpoint of this run ({skipped}) is damaged"
        return (
            f"its latest checkpoint ({skipped}) is damaged, so the one before it, "
            f"{Path(self.prefix).name}, is used"
        )


def usable(run_dir) -> Usable:
    """The run's newest checkpoint that reads back whole, newest first among those its index keeps."""
    damaged = []
    for name in reversed(run_dir.kept_checkpoints()):
        prefix = str(run_dir.checkpoint_dir / name)
        if damage(prefix) is None:
            return Usable(prefix, damaged)
        damaged.append(name)
    return Usable(None, damaged)


def problem(run_dir, found: Usable | None = None) -> str | None:
    """Why a run's checkpoints can serve no model, neither sampled nor resumed (None: it has none, or the
    newest whole one holds recurrent weights, in either layout); `found`: usable(run_dir), if the caller
    has read it already."""
    if found is None and run_dir.latest_checkpoint() is None:
        return None
    found = found or usable(run_dir)
    if found.prefix is None:
        return f"{found.note()}, so it cannot be sampled or resumed; its metrics and samples stay viewable"
    held = contents(found.prefix)
    if is_legacy(held) or any(name.startswith(RECURRENT) for name in held):
        return None
    return NO_RECURRENT_WEIGHTS


def resume_problem(run_dir) -> str | None:
    """Why this run cannot train on from where it stopped (None: it can), in words."""
    if run_dir.read_only:
        return "it is an example that ships with the app and stays as it is: copy it into a new run"
    if not run_dir.has_checkpoint():
        step = run_dir.status().get("progress", {}).get("step", 0)
        # Without its checkpoint a run would start again from new weights under rows it already has.
        return f"its ckpt folder is gone, so the weights of its {step:,} steps are lost" if step else None
    return problem(run_dir)


def check(held: dict, entries: dict) -> None:
    """Refuse, in words, a checkpoint that lacks an entry or holds one of another shape."""
    if any(n.startswith(RECURRENT) for n in entries) and not any(n.startswith(RECURRENT) for n in held):
        raise CheckpointMismatch(NO_RECURRENT_WEIGHTS)
    missing = [name for name in entries if name not in held]
    reshaped = [
        f"{name} {list(held[name])} (the model's is {list(v.shape)})"
        for name, v in entries.items()
        if name in held and held[name] != tuple(v.shape)
    ]
    parts = ([f"it lacks {len(missing)} variable(s) the model needs: {_few(missing)}"] if missing else []) + (
        [f"it holds {len(reshaped)} of another shape: {_few(reshaped)}"] if reshaped else []
    )
    if parts:
        raise CheckpointMismatch(f"the checkpoint does not match this model: {'; '.join(parts)}")


def _few(names: list, most: int = 4) -> str:
    return ", ".join(names[:most]) + (f" and {len(names) - most} more" if len(names) > most else "")


class RunCheckpoint:
    """Named entries saved into a folder (keeping the newest few) and restored from it, verified.

    `legacy`, if given, reads the earlier layout: called only then, it returns (a
    tf.train.Checkpoint(optimizer=, ...) whose optimizer is built on the model's trainable variables,
    those variables in order). `milestones`, if given, is the folder where the weights are also kept for
    good at steps 100, 200, 500, ... (core.runs.milestones)."""

    def __init__(self, entries: dict, directory=None, max_to_keep: int = 2, legacy=None, milestones=None):
        self.entries, self.legacy, self.max_to_keep = dict(entries), legacy, max_to_keep
        self.checkpoint = tf.train.Checkpoint(**self.entries)
        if directory is not None:  # TensorFlow deletes what the index lists: it lists only this folder's
            repair_index(Path(directory))
        self.manager = (
            None
            if directory is None
            else tf.train.CheckpointManager(self.checkpoint, str(directory), max_to_keep=max_to_keep)
        )
        weights = {n: v for n, v in self.entries.items() if n.startswith(MODEL) or n == "step"}
        self.milestones = None if milestones is None else Milestones(weights, milestones)

    @property
    def latest(self) -> str | None:
        return self.manager.latest_checkpoint if self.manager else None

    def save(self, number: int) -> str:
        before = self.latest  # the save before this one (None: the first), for the milestones
        try:
            path = self.manager.save(checkpoint_number=number)
        except tf.errors.ResourceExhaustedError:  # TensorFlow's word for "No space left on device"
            self.tidy()
            raise DiskFull(
                f"the disk holding {self.manager.directory} is full: checkpoint {number} could not be written"
            ) from None
        if self.milestones is not None:
            self.milestones.keep(checkpoint_step(before) if before else 0, number)
        return path

    def saved_steps(self) -> list[int]:
        """The steps of the checkpoints kept on disk, oldest first."""
        return [checkpoint_step(path) for path in self.manager.checkpoints] if self.manager else []

    def discard_latest(self) -> None:
        """Delete the newest checkpoint (weights found bad after it was saved); the one before it, if
        any, becomes the latest."""
        self.discard([self.manager.checkpoints[-1]])

    def discard(self, bad: list[str], weights_bad: bool = True) -> None:
        """Delete these checkpoints (weights found bad, with their milestones; or files found damaged);
        the newest of the rest, if any, becomes the latest."""
        directory = str(self.manager.directory)
        bad = {Path(p).name for p in bad}
        kept = [p for p in self.manager.checkpoints if Path(p).name not in bad]
        for name in bad:
            for path in Path(directory).glob(f"{name}.*"):
                path.unlink(missing_ok=True)
            if self.milestones is not None and weights_bad:
                self.milestones.drop(checkpoint_step(name))
        if kept:
            write_index(directory, kept)
        else:
            tf.io.gfile.remove(f"{directory}/checkpoint")
        self.manager = tf.train.CheckpointManager(self.checkpoint, directory, max_to_keep=self.max_to_keep)

    def tidy(self) -> None:
        """Remove what a failed save (a full disk) left in the folder: anything of no checkpoint the index
        names; the checkpoints it names stay as they were."""
        if self.manager is None or not Path(self.manager.directory).is_dir():
            return
        keep = {Path(p).name for p in self.manager.checkpoints}
        for path in Path(self.manager.directory).iterdir():
            if path.name != "checkpoint" and path.name.split(".")[0] not in keep:
                shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)

    def restore(self, prefix: str) -> bool:
        """Read every entry from `prefix`, after checking the file holds all of them in their shapes;
        True if it was the earlier layout. Entries the file has beyond ours (the optimizer's, when
        sampling) are left unread on purpose."""
        held = contents(prefix)
        if self.legacy is not None and is_legacy(held):
            checkpoint, trainable = self.legacy()
            check(held, {f"{LEGACY_WEIGHTS}{i}": v for i, v in enumerate(trainable)})
            if f"{LEGACY_WEIGHTS}{len(trainable)}" in held:
                raise CheckpointMismatch("the checkpoint does not match this model: it holds more weights")
            checkpoint.read(prefix).assert_existing_objects_matched().expect_partial()
            return True
        check(held, self.entries)
        self.checkpoint.read(prefix).assert_existing_objects_matched().expect_partial()
        return False


def legacy_view(model, optimizer, step) -> tuple:
    """How the earlier layout is read (RunCheckpoint's `legacy`): through an optimizer built on the
    model's trainable variables, whose list of what it trains holds every weight in the file."""
    return tf.train.Checkpoint(optimizer=optimizer, step=step), model.trainable_variables


def load_model(run_dir, refusal=None, prefix: str | None = None) -> tuple:
    """(the run's CharRNN with its latest checkpoint's weights, its vocabulary, the step they are from).

    A run with no checkpoint, or one that does not hold every weight, is refused with `refusal`
    (an error class; CheckpointMismatch by default) and one sentence. `prefix`: another of the run's
    checkpoints (a milestone) instead of the latest."""
    from core.model.char_rnn import CharRNN

    config, vocab = run_dir.config(), run_dir.vocab()
    model = CharRNN(config.model, len(vocab), seed=config.train.seed)
    return model, vocab, read_weights(model, run_dir, refusal, prefix)


def read_weights(model, run_dir, refusal=None, prefix: str | None = None) -> int:
    """Read the run's latest checkpoint (or the one at `prefix`: a milestone) into `model` (built for
    this run: no new graph for another checkpoint); the step the weights are from. Refusals as
    load_model's."""
    import keras

    refusal = refusal or CheckpointMismatch
    if prefix is not None and not Path(prefix + ".index").exists():
        raise refusal(f"run {run_dir.run_id} no longer has the checkpoint {Path(prefix).name}")
    if prefix is None and not run_dir.has_checkpoint():
        raise refusal(f"run {run_dir.run_id} has no checkpoint yet; wait for its first one")
    if prefix is None:  # the newest whole one: a damaged latest is passed over (checkpoint_note says so)
        found = usable(run_dir)
        if found.prefix is None:
            raise refusal(f"run {run_dir.run_id} cannot be read: {found.note()}")
        prefix = found.prefix
    step = tf.Variable(0, dtype=tf.int64)

    def legacy():  # the optimizer is built only to read the earlier layout through it
        optimizer = keras.optimizers.get(run_dir.config().train.optimizer)
        optimizer.build(model.trainable_variables)
        return legacy_view(model, optimizer, step)

    # Every weight of the model, or a refusal that says what is missing; only the optimizer is skipped.
    try:
        RunCheckpoint({**model_entries(model), "step": step}, legacy=legacy).restore(prefix)
    except CheckpointMismatch as err:
        raise refusal(f"run {run_dir.run_id} cannot be read: {err}") from None
    except DAMAGE as err:  # a milestone (or a checkpoint named on purpose) whose files are damaged
        raise refusal(
            f"run {run_dir.run_id}'s {Path(prefix).name} cannot be read ({type(err).__name__})"
        ) from None
    return int(step.numpy())


def load_for_sampling(run_dir) -> tuple:
    """(a Sampler on the run's latest checkpoint, the train step that checkpoint holds)."""
    from core.model.sampler import SampleError, Sampler

    model, vocab, step = load_model(run_dir, SampleError)
    return Sampler(model, vocab), step
