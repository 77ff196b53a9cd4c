"""Damage every kind of file a run folder holds, three ways each, and check that nothing breaks.

    python benchmarks/fault_injection.py --kills 0 --damaged-files     (this phase alone)

One small run is trained from the command line, with its corpus kept as a session's upload. Beside it sit
a second session's run and a folder outside the runs folder holding checkpoint-like files. Then for every
file kind (config.json, vocab.json, status.json, metrics.jsonl, samples.jsonl, the checkpoint index, the
latest checkpoint's table of contents and its data) and every damage (cut short, garbage bytes, valid
content of the wrong shape — for the index, entries naming the other run's and the outside files):
- a copy of the run gets the damage;
- the app's five tabs are drawn (Streamlit's AppTest) by the run's own session and by another session
  showing everyone's runs: a tab that raises, or shows "Something went wrong", is broken;
- `python -m core.sample` and `python -m core.train --resume` are run on it: either may refuse, in a
  sentence; a traceback is a failure;
- the copy is packed and imported into a new runs folder: refused in a sentence, or imported whole;
- every file of the other session's run and of the outside folder is compared with before.
Prints one line per case and a summary; exit 1 if any tab broke, any traceback showed or any file
outside the damaged run changed.
"""

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SECRET = "damaged-files"  # the session that owns the damaged runs
SMALL = ["--cell", "gru", "--impl", "dynamic", "--state-size", "16", "--batch-size", "8", "--num-steps", "20",
         "--max-steps", "30", "--checkpoint-every", "10", "--eval-every", "10", "--eval-batches", "2",
         "--sample-every", "10", "--sample-length", "20"]  # fmt: skip
TABS = ("Train", "Runs", "Generate", "Inside", "Build time")


def tree(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}  # fmt: skip


def damages(run, other, outside) -> dict:
    """file (relative to the run) -> {damage: bytes}, for every kind of file the run holds."""
    latest = Path(run.latest_checkpoint()).name
    data = next(run.checkpoint_dir.glob(f"{latest}.data-*")).name
    hostile = "".join(
        [f'model_checkpoint_path: "{latest}"\n']
        + [f'all_model_checkpoint_paths: "{p}"\n' for p in (f"../../{other.run_id}/ckpt/{latest}",
                                                           outside / "ckpt-1", latest)]
        + ["all_model_checkpoint_timestamps: 1.0\n"] * 3 + ["last_preserved_timestamp: 0.5\n"]
    )  # fmt: skip
    shapes = {
        "config.json": b'{"model": {"cell": 5}, "train": [], "corpus": {"path": "/etc/passwd"}}',
        "vocab.json": b'{"chars": ["a", "b"]}',
        "status.json": b'{"status": "finished", "progress": {"step": "many"}, "probe": [1]}',
        "metrics.jsonl": b'[1]\n{"kind": "metric", "step": -1, "train_loss": "low"}\n{"kind": "eval"}\n',
        "samples.jsonl": b'{"kind": "sample", "step": 1, "text": {"a": 1}}\n"text"\n',
        "ckpt/checkpoint": hostile.encode(),
        f"ckpt/{latest}.index": b"\0" * 64,
        f"ckpt/{data}": b"\0" * 64,
    }
    found = {}
    for name, shape in shapes.items():
        whole = (run.path / name).read_bytes()
        found[name] = {
            "cut short": whole[: len(whole) // 2],
            "garbage": os.urandom(256),
            "wrong shape": shape,
        }
    return found


def tabs_broken(runs: Path, run_id: str) -> list[str]:
    """The tabs that raise or say "Something went wrong", drawn by the run's owner and by another session."""
    from streamlit.testing.v1 import AppTest

    os.environ["RNN_EXPLORER_RUNS_DIR"] = str(runs)
    broken = []
    for who, query in (
        ("owner", {"owner": SECRET}),
        ("another session", {"owner": "someone", "all_runs": "true"}),
    ):
        for tab in TABS:
            at = AppTest.from_file(str(ROOT / "explorer" / "app.py"), default_timeout=120)
            at.query_params.update({**query, "tab": tab, "run": run_id})
            at.run()
            if at.exception or any("Something went wrong" in e.value for e in at.error):
                broken.append(f"{tab} ({who})")
    return broken


def command(args: list[str], runs: Path) -> str:
    """'ok', 'refused' (exit 2, one sentence) or what went wrong (a traceback, another exit code)."""
    done = subprocess.run([sys.executable, "-m", *args, "--runs-dir", str(runs)], cwd=ROOT, capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300)  # fmt: skip
    if "Traceback" in done.stderr or done.returncode not in (0, 2):
        return f"exit {done.returncode}: {done.stderr.strip().splitlines()[-1:] or ''}"
    return "ok" if done.returncode == 0 else "refused"


def imported(run, scratch: Path) -> str:
    from core.runs.archive import pack, unpack
    from core.runs.store import RunStore

    try:
        unpack(pack(run), RunStore(scratch, examples=None), owner="importer")
    except Exception as err:  # noqa: BLE001 (the point: a Refusal is fine, anything else is reported)
        from core.errors import Refusal

        return "refused" if isinstance(err, Refusal) else f"{type(err).__name__}: {err}"
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return "ok"


def main(folder: Path) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    from core.data.sources import save_upload, uploads_of
    from core.runs.store import RunStore
    from explorer.common.state import owner_of

    runs, owner = folder / "runs", owner_of(SECRET)
    text = (ROOT / "assets" / "tinyshakespeare.txt").read_text(encoding="utf-8")[:30_000]
    corpus = uploads_of(runs, owner) / save_upload(runs, owner, "tiny.txt", text.encode())
    trained = command(["core.train", "--corpus", str(corpus), *SMALL], runs)
    store = RunStore(runs, examples=None)
    (run,) = store.list()
    print(f"trained {run.run_id} from the command line: {trained}", flush=True)
    other = store.copy(run, owner="another-session")
    outside = folder / "outside"
    outside.mkdir()
    for name in ("ckpt-1.index", "ckpt-1.data-00000-of-00001", "notes.txt"):
        (outside / name).write_bytes(b"not the run's")
    before = {"other": tree(other.path), "outside": tree(outside)}
    broken = touched = tracebacks = cases = 0
    for name, kinds in damages(run, other, outside).items():
        for damage, data in kinds.items():
            cases += 1
            target = store.copy(run, owner=owner, label=f"{name} {damage}")
            (target.path / name).write_bytes(data)
            tabs = tabs_broken(runs, target.run_id)
            sampled = command(["core.sample", "--run", target.run_id, "--length", "20", "--prime", "F"], runs)
            resumed = command(["core.train", "--resume", target.run_id, "--max-steps", "40"], runs)
            archive = imported(target, folder / "import")
            changed = [
                k for k, v in {"other": tree(other.path), "outside": tree(outside)}.items() if v != before[k]
            ]
            failed = [r for r in (sampled, resumed, archive) if r not in ("ok", "refused")]
            broken, touched, tracebacks = broken + len(tabs), touched + len(changed), tracebacks + len(failed)
            print(f"{name} {damage}: tabs {'broken: ' + ', '.join(tabs) if tabs else 'whole'}; sample {sampled}; "
                  f"resume {resumed}; import {archive}; "
                  + (f"CHANGED OUTSIDE: {', '.join(changed)}" if changed else "nothing outside changed"),
                  flush=True)  # fmt: skip
            shutil.rmtree(target.path)
    from explorer.common import services

    services.job_manager().shutdown()  # the app's spare worker, started by the first tab drawn
    print(f"{cases} damaged files: {broken} tabs broken, {tracebacks} tracebacks, {touched} folders outside the "
          "damaged run changed")  # fmt: skip
    return 1 if broken or touched or tracebacks else 0


if __name__ == "__main__":
    import tempfile

    sys.path.insert(0, str(ROOT))
    sys.exit(main(Path(tempfile.mkdtemp(prefix="damaged-files-"))))
