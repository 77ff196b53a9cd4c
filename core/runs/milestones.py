"""Milestones: a copy of a run's weights kept for good at steps 100, 200, 500, 1,000, 2,000, 5,000, ...

A run's checkpoint folder keeps only its newest two checkpoints (they are for resuming). To put a run
beside itself earlier on (the Inside tab: step 200 against step 2,000 of one run), the first checkpoint
saved at or past each step of the 1-2-5 series is also written, weights and step only (no optimizer
slots, no carried state: a third of a checkpoint), into the run's `milestones/` folder:

    milestones/step-200.index, milestones/step-200.data-00000-of-00001    (tf.train.Checkpoint.write)

holding the same `model/...` and `step` entries as the run's checkpoints, so they are read back (and
checked) exactly as a checkpoint is. TensorFlow is imported only to write them: listing them (the run
store, the app's pickers) needs none.
"""

from pathlib import Path

from core.errors import DiskFull

FOLDER = "milestones"
FIRST = 100  # the smallest milestone: fewer steps show little beyond the characters' frequencies


def series(upto: int) -> list[int]:
    """The milestone steps up to `upto`: 100, 200, 500, 1000, 2000, 5000, ..."""
    steps, decade = [], FIRST
    while decade <= upto:
        steps += [m for m in (decade, 2 * decade, 5 * decade) if m <= upto]
        decade *= 10
    return steps


def crossed(after: int, upto: int) -> bool:
    """True if a milestone step lies in (after, upto]: a checkpoint saved at `upto`, the one before at
    `after`, is the first at or past it."""
    return any(after < m for m in series(upto))


def listed(folder: Path) -> dict[int, str]:
    """step -> path prefix of every milestone in `folder`, oldest first ({} if none)."""
    found = {}
    for index in Path(folder).glob("step-*.index"):
        number = index.name[len("step-") : -len(".index")]
        if number.isdigit():
            found[int(number)] = str(index.with_suffix(""))
    return dict(sorted(found.items()))


class Milestones:
    """Writes a run's milestones: `entries` (the model's weights and the step) into `folder`."""

    def __init__(self, entries: dict, folder: Path):
        import tensorflow as tf

        self.checkpoint, self.folder = tf.train.Checkpoint(**entries), Path(folder)

    def keep(self, after: int, step: int) -> None:
        """Write the weights as they are at `step` if the last save was at `after` and a milestone lies
        between (the weights are finite: a checkpoint is saved only then)."""
        import tensorflow as tf

        if not crossed(after, step):
            return
        try:
            self.folder.mkdir(exist_ok=True)
            self.checkpoint.write(str(self.folder / f"step-{step}"))
        except tf.errors.ResourceExhaustedError:  # TensorFlow's "no space left": the run's checkpoint is kept
            self.drop(step)
            raise DiskFull(
                f"the disk holding {self.folder} is full: milestone {step} could not be written"
            ) from None

    def drop(self, step: int) -> None:
        """Delete the milestone at `step` (weights found bad after they were saved), if there is one."""
        for path in self.folder.glob(f"step-{step}.*"):
            path.unlink(missing_ok=True)
