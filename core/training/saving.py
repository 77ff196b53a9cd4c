"""What a run saves and restores: every variable in its checkpoint (core/runs/checkpoints.py), and the
state carried from batch to batch, so that a run resumed mid-epoch goes on exactly as it would have
without the stop."""

import functools

import tensorflow as tf

from core.runs.checkpoints import (
    CARRY,
    RunCheckpoint,
    legacy_view,
    model_entries,
    optimizer_entries,
    usable,
)
from core.training.replicas import Replicas


class RunSaver:
    """A run's checkpoint: the model, the optimizer, the step counter and the carried state."""

    def __init__(self, model, optimizer, step: tf.Variable, batch_size: int, run_dir, replicas: Replicas):
        self.step, self.replicas = step, replicas
        # The carried state's variables, [batch, units] each (every replica's rows, in order).
        self.carry = tuple(tf.Variable(s, trainable=False) for s in model.zero_state(batch_size))
        entries = {
            **model_entries(model),
            **optimizer_entries(optimizer),
            "step": step,
            **{f"{CARRY}{i}": v for i, v in enumerate(self.carry)},
        }
        # The chief alone writes (and tidies) the folder; another worker of a resumed run only reads it.
        writes = run_dir is not None and replicas.chief
        self.run_dir = run_dir
        self.checkpoint = RunCheckpoint(
            entries,
            run_dir.checkpoint_dir if writes else None,
            legacy=functools.partial(legacy_view, model, optimizer, step),  # the earlier layout, if asked
            milestones=run_dir.milestones_dir if writes else None,
        )

    def restore_latest(self, record) -> None:
        """Every entry from the run's newest whole checkpoint (or a CheckpointMismatch), if it has one;
        a newer one whose files are damaged is passed over (said in the run's log, and deleted by the
        chief); the record rewound to the restored step."""
        found = usable(self.run_dir)
        if found.damaged:
            record.log(f"Resuming: {found.note()}.")
            if self.checkpoint.manager is not None:
                self.checkpoint.discard(found.damaged, weights_bad=False)
        if found.prefix:
            self.checkpoint.restore(found.prefix)
        if record.last_step() > int(self.step.numpy()):
            record.rewind(int(self.step.numpy()))

    def carried(self) -> tuple:
        """The saved carried state, split over the replicas (where a run resumed mid-epoch goes on)."""
        return self.replicas.split(tuple(v.numpy() for v in self.carry))

    def save(self, state: tuple) -> None:
        """Checkpoint, with `state` (each replica's) as the carried state: only ever with finite weights
        (a diverged step never reaches here). Every worker gathers the state (a collective); the chief
        alone writes."""
        if self.checkpoint.manager is None and not self.replicas.distributed:
            return
        joined = self.replicas.join(state)  # [batch, units] each, rows in order
        if self.checkpoint.manager is not None:
            for variable, value in zip(self.carry, joined):
                variable.assign(value)
            self.checkpoint.save(int(self.step.numpy()))
