"""Pure tables and exports from run snapshots: summary rows, build-time rows, CSV and JSON downloads."""

import csv
import io
import json

from core.text import shown


def summary(snap) -> dict:
    """One row of the Runs table."""
    model, train = snap.config.get("model", {}), snap.config.get("train", {})
    p, t, best = snap.progress, snap.timings, snap.best_eval
    return {
        "run": snap.run_id,
        "label": shown(snap.config.get("meta", {}).get("label") or ""),
        "status": snap.status,
        "cell": model.get("cell"),
        "impl": impl_of(snap),
        "layers": model.get("num_layers"),
        "state": model.get("state_size"),
        "batch": train.get("batch_size"),
        "num_steps": train.get("num_steps"),
        "step": p.step,
        "total_steps": p.total_steps,
        "train_loss": snap.last_train_loss,
        "best_val_loss": best.val_loss if best else None,
        "best_val_bits": best.val_bits if best else None,  # the trainer records both units
        "best_val_at_s": best.wall_s if best else None,  # seconds after Start (older runs: none)
        "chars_per_s": p.chars_per_s,
        "trace_s": t.trace_s,
        "first_call_s": t.first_call_s,
        "train_s": train_seconds(snap),
    }


def impl_of(snap) -> str:
    """The implementation as configured, and for `auto` the one its probe chose: 'auto → fused'."""
    impl, chosen = snap.config.get("model", {}).get("impl"), snap.probe.chosen if snap.probe else None
    return f"{impl} → {chosen}" if chosen and chosen != impl else impl


def train_seconds(snap):
    """Training time with the build excluded: the trainer's clock counts the first call, so take it off."""
    elapsed = snap.progress.elapsed_s
    return None if elapsed is None else max(0.0, elapsed - (snap.timings.first_call_s or 0.0))


def build_rows(snaps: list) -> list[dict]:
    """Runs that got as far as tracing, with their build and training seconds."""
    return [build_row(snap) for snap in snaps if snap.timings.trace_s is not None]


def build_row(snap) -> dict:
    model, train = snap.config.get("model", {}), snap.config.get("train", {})
    name = shown(snap.config.get("meta", {}).get("label") or snap.run_id[-4:])
    return {
        "run": f"{impl_of(snap)} {model.get('cell')} T={train.get('num_steps')} · {name}",
        "run_id": snap.run_id,
        "impl": impl_of(snap),
        "cell": model.get("cell"),
        "layers": model.get("num_layers"),
        "num_steps": train.get("num_steps"),
        "trace_s": snap.timings.trace_s,
        "first_call_s": snap.timings.first_call_s,
        "train_s": train_seconds(snap),
        "steps": snap.progress.step,
    }


def metrics_csv(snap) -> str:
    """Every training step, with the validation loss on the steps that have one."""
    val = {e.step: e.val_loss for e in snap.evals}
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["step", "epoch", "train_loss", "val_loss", "chars_per_s", "elapsed_s", "time"])
    for m in snap.metrics:
        writer.writerow(
            [
                m.step,
                m.epoch,
                m.train_loss,
                val.get(m.step, ""),
                m.chars_per_s,
                m.elapsed_s,
                m.time,
            ]
        )
    return out.getvalue()


def run_json(snap) -> str:
    """The whole record: config, status, timings, progress, metrics, evaluations, epochs, samples, log
    (each row as its file holds it: core/runs/rows.py's to_json)."""
    whole = {
        "run_id": snap.run_id,
        "config": snap.config,
        "status": snap.status,
        "message": snap.message,
        "timings": snap.timings.to_json(),
        "progress": snap.progress.to_json(),
        "metrics": [r.to_json() for r in snap.metrics],
        "evals": [r.to_json() for r in snap.evals],
        "epochs": [r.to_json() for r in snap.epochs],
        "samples": [r.to_json() for r in snap.samples],
        "log": snap.log,
    }
    return json.dumps(whole, indent=1)
