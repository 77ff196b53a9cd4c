"""Sidebar controls: small *_ui() functions, each drawing its widgets and returning plain values.

Choices come from the catalogue (core/catalogue.py) and config constants, never from lists kept here. Every widget is
keyed by its query parameter (explorer.common.state.SETTINGS) and bound to the URL.
"""

import math

import streamlit as st

from core.catalogue import CELL_CHOICES, IMPL_CHOICES
from core.config import AUTO, OPTIMIZERS, SCHEDULES, STRATEGIES, STRATEGIES_IN_APP
from core.data.corpus import CorpusError
from core.presets import PRESET_DESCRIPTIONS, PRESETS
from core.training import probe
from explorer.common import corpora, state, ui

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


def setting_ui(key: str, options: list | None = None, more_help: str = "", disabled: bool = False):
    """The widget the settings table (core.config's Controls) names for this setting, keyed and bound
    to the URL by its query parameter; `options` for a select box."""
    c, default = state.control_for(key), DEFAULTS[key]
    common = dict(key=key, bind=state.URL, help=state.help_for(key) + more_help, disabled=disabled)
    if c.widget == "check":
        return st.checkbox(c.label, value=default, **common)
    if c.widget == "select":
        return st.selectbox(c.label, options, index=options.index(default), **common)
    if c.widget == "slider":
        return st.slider(c.label, c.low, c.high, default, c.step, format=c.format, **common)
    if c.widget == "choice":
        return st.select_slider(c.label, _choices(key), value=default, format_func=_shown(c.format), **common)
    bounds = {"min_value": c.low, "max_value": c.high, "step": c.step, "format": c.format}
    return st.number_input(
        c.label, value=default, **{k: v for k, v in bounds.items() if v is not None}, **common
    )


def _choices(key: str) -> list:
    """A choice slider's values: the table's, the default, every preset's, and the one in use (from the
    session or the URL), so no value a link or a preset holds is ever lost; within the bounds."""
    c, default = state.control_for(key), DEFAULTS[key]
    values = {*c.choices, default, *(state.settings_of(p)[key] for p in PRESETS.values())}
    for held in (st.session_state.get(key), st.query_params.get(key)):
        try:
            values.add(type(default)(held))
        except (TypeError, ValueError):
            pass
    low = -math.inf if c.low is None else c.low
    high = math.inf if c.high is None else c.high
    return sorted(v for v in values if low <= v <= high and v > 0)  # every choice setting is positive


def _shown(fmt: str | None):
    return (lambda v: fmt % v) if fmt else str


def model_ui() -> dict:
    """Cell, implementation, layers, state size, dropout and where it acts."""
    cell = setting_ui("cell", CELL_CHOICES.names(), _descriptions(CELL_CHOICES))
    st.caption(_said(CELL_CHOICES[cell]))
    impls = [AUTO, *IMPL_CHOICES.names(trains_only=True)]
    impl = setting_ui(
        "impl", impls, f"\n\n- **{AUTO}**: {probe.DESCRIPTION}" + _descriptions(IMPL_CHOICES, True)
    )
    auto = f"{probe.DESCRIPTION} (for this cell: {', '.join(probe.candidates(cell))})."
    st.caption(auto if impl == AUTO else _said(IMPL_CHOICES[impl]))
    sizes = {key: setting_ui(key) for key in ("layers", "state", "dropout")}
    drop_in = setting_ui("drop_in", disabled=not sizes["dropout"])  # where dropout acts: none to place at 0
    return {"cell": cell, "impl": impl, **sizes, "drop_in": drop_in}


def _descriptions(registry, trains_only: bool = False) -> str:
    names = registry.names(trains_only) if trains_only else registry.names()
    return "\n\n" + "\n".join(f"- **{name}**: {_said(registry[name])}" for name in names)


def _said(entry) -> str:
    """An entry in plain words first, then in the code's (a class reads the first, a practitioner both)."""
    return f"{entry.plain} (in code: {entry.description})" if entry.plain else entry.description


def train_ui() -> dict:
    """Batch shape, length, optimizer and its schedule."""
    keys = ("batch", "steps", "epochs", "max_steps", "max_min", "sized", "optimizer", "lr", "schedule")
    keys += ("decay_share", "warmup", "clip", "decay", "seed")
    options = {"optimizer": list(OPTIMIZERS), "schedule": list(SCHEDULES)}
    return {key: setting_ui(key, options.get(key)) for key in keys}


def monitor_ui() -> dict:
    """Validation, live samples and checkpoints."""
    keys = ("val", "eval_every", "eval_batches", "sample_every", "sample_len", "ckpt_every")
    return {key: setting_ui(key) for key in keys}


def devices_ui() -> dict:
    """The tf.distribute strategy (those a run in one process can use), its replicas, and the timeout
    that only runs of several processes (the command line's) use."""
    strategy = setting_ui("strategy", list(STRATEGIES_IN_APP), _listed(STRATEGIES))
    st.caption(STRATEGIES[strategy])
    if strategy != "mirrored":
        st.session_state["replicas"] = 1  # before its widget: one device is one replica
    count = setting_ui("replicas", disabled=strategy != "mirrored")
    timeout = setting_ui("timeout", disabled=True)
    st.caption(
        "Several machines, or several processes here: `python -m core.cluster --workers 2 -- <train flags>` "
        "(docs/distributed.md, *Training on several devices and machines*)."
    )
    return {"strategy": strategy, "replicas": count, "timeout": timeout}


def _listed(descriptions: dict) -> str:
    return "\n\n" + "\n".join(f"- **{name}**: {text}" for name, text in descriptions.items())


def corpus_ui(runs_root, owner: str) -> str:
    """The corpus to train on: the built-in one or an uploaded UTF-8 file; returns its path."""
    st.file_uploader(
        "Upload a UTF-8 text file",
        type=None,
        key="upload",
        on_change=_keep_upload,
        args=(runs_root, owner),
        help=f"Plain UTF-8 text up to {corpora.MAX_UPLOAD_BYTES // 2**20} MB. It is saved under the "
        "runs folder, so the run can be repeated from its config.",
    )
    if st.session_state.get("upload_error"):
        st.error(st.session_state["upload_error"])
    names = corpora.corpus_names(runs_root, owner)
    name = st.selectbox(
        "Corpus",
        names,
        key="corpus",
        bind=state.URL,
        help="The text the network learns to continue, one character at a time. Python source (code) is a "
        "part of Python's own library: it has strings, brackets and indentation for units to track.",
    )
    return corpora.corpus_path(name, runs_root, owner)


def _keep_upload(runs_root, owner: str) -> None:
    """on_change of the uploader: check and save the file, then select it (or say why not)."""
    upload = st.session_state.get("upload")
    st.session_state["upload_error"] = ""
    if upload is None:
        return
    try:
        st.session_state["corpus"] = corpora.save_upload(runs_root, owner, upload.name, upload.getvalue())
    except (CorpusError, OSError) as err:  # the message names the file: its name is shown as typed
        message = str(err).replace(upload.name, ui.plain(upload.name))
        st.session_state["upload_error"] = f"That file cannot be used: {message}"


def label_ui() -> str:
    return st.text_input(
        "Run label (optional)",
        key="label",
        max_chars=60,
        bind=state.URL,
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
