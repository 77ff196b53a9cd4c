"""Sidebar controls: small *_ui() functions, each drawing its widgets and returning plain values.

Choices come from the registries and config constants, never from lists kept here. Every widget is
keyed by its query parameter (explorer.common.state.SETTINGS) and bound to the URL.
"""

import streamlit as st

from core.config import OPTIMIZERS, PRESET_DESCRIPTIONS, PRESETS
from core.data.corpus import CorpusError
from core.model.cells import CELLS
from core.model.unrollers import UNROLLERS
from explorer.common import corpora, state

URL = "query-params"
DEFAULTS = state.defaults()


def preset_ui() -> None:
    """One button per preset; a click sets every setting to the preset's."""
    st.subheader("Presets")
    cols = st.columns(len(PRESETS))
    for col, (name, config) in zip(cols, PRESETS.items()):
        col.button(
            name,
            key=f"preset_{name}",
            help=PRESET_DESCRIPTIONS[name],
            width="stretch",
            on_click=state.apply_settings,
            args=(state.settings_of(config),),
        )


def _select(label: str, key: str, options: list, more_help: str = ""):
    return st.selectbox(
        label,
        options,
        index=options.index(DEFAULTS[key]),
        key=key,
        bind=URL,
        help=state.help_for(key) + more_help,
    )


def _number(label: str, key: str, **limits):
    return st.number_input(label, value=DEFAULTS[key], key=key, help=state.help_for(key), bind=URL, **limits)


def model_ui() -> dict:
    """Cell, implementation, layers, state size, dropout."""
    cell = _select("Cell", "cell", CELLS.names(), _descriptions(CELLS))
    st.caption(CELLS[cell].description)
    impl = _select("Implementation", "impl", UNROLLERS.names(), _descriptions(UNROLLERS))
    st.caption(UNROLLERS[impl].description)
    return {
        "cell": cell,
        "impl": impl,
        "layers": _number("Layers", "layers", min_value=1, max_value=8, step=1),
        "state": _number("State size", "state", min_value=1, max_value=2048, step=16),
        "dropout": _number("Dropout", "dropout", min_value=0.0, max_value=0.95, step=0.05, format="%.2f"),
    }


def _descriptions(registry) -> str:
    return "\n\n" + "\n".join(f"- **{name}**: {registry[name].description}" for name in registry)


def train_ui() -> dict:
    """Batch shape, length, optimizer and its schedule."""
    return {
        "batch": _number("Batch size", "batch", min_value=1, max_value=1024, step=1),
        "steps": _number("Steps per window (num_steps)", "steps", min_value=1, max_value=1000, step=1),
        "epochs": _number("Epochs", "epochs", min_value=1, max_value=1000, step=1),
        "max_steps": _number("Max steps (0 = all)", "max_steps", min_value=0, step=100),
        "max_min": _number(
            "Time budget, minutes (0 = none)", "max_min", min_value=0.0, step=1.0, format="%.1f"
        ),
        "optimizer": _select("Optimizer", "optimizer", list(OPTIMIZERS)),
        "lr": _number("Learning rate", "lr", min_value=1e-6, max_value=1.0, step=1e-4, format="%.5f"),
        "clip": _number("Gradient clip norm (0 = off)", "clip", min_value=0.0, step=0.5, format="%.2f"),
        "decay": _number(
            "Learning-rate decay per epoch", "decay", min_value=0.01, max_value=1.0, step=0.05, format="%.2f"
        ),
        "seed": _number("Seed", "seed", min_value=0, step=1),
    }


def monitor_ui() -> dict:
    """Validation, live samples and checkpoints."""
    return {
        "val": _number(
            "Validation fraction", "val", min_value=0.01, max_value=0.49, step=0.01, format="%.2f"
        ),
        "eval_every": _number("Evaluate every (steps)", "eval_every", min_value=0, step=10),
        "eval_batches": _number("Validation windows", "eval_batches", min_value=0, step=5),
        "sample_every": _number("Sample every (steps)", "sample_every", min_value=0, step=10),
        "sample_len": _number("Sample length (chars)", "sample_len", min_value=1, max_value=5000, step=50),
        "ckpt_every": _number("Checkpoint every (steps)", "ckpt_every", min_value=0, step=50),
    }


def corpus_ui(runs_root) -> str:
    """The corpus to train on: the built-in one or an uploaded UTF-8 file; returns its path."""
    st.file_uploader(
        "Upload a UTF-8 text file",
        type=None,
        key="upload",
        on_change=_keep_upload,
        args=(runs_root,),
        help=f"Plain UTF-8 text up to {corpora.MAX_UPLOAD_BYTES // 2**20} MB. It is saved under the "
        "runs folder, so the run can be repeated from its config.",
    )
    if st.session_state.get("upload_error"):
        st.error(st.session_state["upload_error"])
    names = corpora.corpus_names(runs_root)
    name = st.selectbox(
        "Corpus",
        names,
        key="corpus",
        bind=URL,
        help="The text the network learns to continue, one character at a time.",
    )
    return corpora.corpus_path(name, runs_root)


def _keep_upload(runs_root) -> None:
    """on_change of the uploader: check and save the file, then select it (or say why not)."""
    upload = st.session_state.get("upload")
    st.session_state["upload_error"] = ""
    if upload is None:
        return
    try:
        st.session_state["corpus"] = corpora.save_upload(runs_root, upload.name, upload.getvalue())
    except (CorpusError, OSError) as err:
        st.session_state["upload_error"] = f"That file cannot be used: {err}"


def label_ui() -> str:
    return st.text_input(
        "Run label (optional)",
        key="label",
        max_chars=60,
        bind=URL,
        help="A name to tell this run apart in the Runs and Generate tabs.",
    )


def start_ui(problem: str, on_click, args=()) -> None:
    """The Start button; disabled, with the reason above it, while the settings cannot work."""
    if problem:
        st.error(problem)
    st.button(
        "Start training",
        key="start",
        type="primary",
        width="stretch",
        disabled=bool(problem),
        on_click=on_click,
        args=args,
        help="Create a run folder with these settings and train it in a background process.",
    )
    if st.session_state.get("start_error"):
        st.error(st.session_state["start_error"])
