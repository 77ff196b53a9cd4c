"""The selected run's settings as a compact card, in plain words first: what a class needs to know about
the run on the screen (the sidebar sets up the *next* run, and may hold other settings)."""

from pathlib import Path

import streamlit as st

from core.catalogue import CELL_CHOICES, IMPL_CHOICES
from core.config import AUTO, RunConfig
from core.runs.rows import Probe, Sized
from explorer.common import corpora, services, state, ui

SCHEDULES = {
    "constant": "constant",
    "cosine": "falling along a cosine",
    "stable-decay": "constant, then falling",
}


def facts(config: RunConfig, found: Probe | None, sized: Sized | None = None) -> list[tuple[str, str]]:
    """(what, its value in words) for each setting a class asks about, in the order they ask (`sized`:
    what size_by_speed chose, if it did)."""
    m, t = config.model, config.train
    size = f"{m.num_layers} layer{'s' if m.num_layers > 1 else ''} of {m.state_size} units"
    size += f", dropout {m.dropout:g}" if m.dropout else ""
    size += " (not on the input)" if m.dropout and not m.input_dropout else ""
    if sized is not None:
        size += f". Sized to this machine's speed: {sized.summary()}"
    return [
        ("Cell", f"{m.cell.upper().replace('_', '-')}: {CELL_CHOICES[m.cell].said}"),
        ("Size", size),
        ("Unrolled by", unrolled(m.impl, found)),
        (
            "Learning",
            f"{t.optimizer.capitalize()} at {t.learning_rate:g}, {SCHEDULES.get(t.lr_schedule, '')}",
        ),
        ("Batches", f"{t.batch_size} rows × {t.num_steps} characters a window"),
        ("Budget", budget(t)),
        ("Corpus", Path(config.corpus).name or "not carried with this run"),
    ]


def unrolled(impl: str, found: Probe | None) -> str:
    """The implementation in plain words; for `auto`, which one it chose and what it measured (`found`:
    the run's probe, None before it has decided)."""
    if impl != AUTO:
        return f"{impl}: {IMPL_CHOICES[impl].said}"
    if found is None:
        return "chosen in the run's first steps, by timing each candidate (auto)"
    said = IMPL_CHOICES[found.chosen].said if found.chosen in IMPL_CHOICES else ""
    return f"{found.chosen}: {said}. Chosen by timing (auto): {found.summary()}"


def budget(t) -> str:
    ends = [f"{t.epochs} epochs"] + [f"{t.max_steps:,} steps"] * bool(t.max_steps)
    ends += [f"{t.max_minutes:g} minutes"] * bool(t.max_minutes)
    return " or ".join(ends) + (", whichever ends first" if len(ends) > 1 else "")


def card_ui(snap, run_dir) -> None:
    """The card, and the button that copies the run's settings into the sidebar."""
    try:
        config = run_dir.config()
    except Exception as err:  # a damaged config: the Runs tab lists it with Delete
        st.caption(f"This run's settings cannot be read: {ui.reason(err)}")
        return
    with st.container(border=True):
        st.markdown(
            "  \n".join(
                f"**{what}:** {ui.plain(value)}" for what, value in facts(config, snap.probe, snap.sized)
            ),
        )
        st.caption("This card is the run shown here. The sidebar sets up the *next* run you start.")
        st.button(
            "Start with these settings",
            key=f"card_copy_{run_dir.run_id}",
            on_click=copy_settings,
            args=(config, run_dir),
            help="Copies this run's settings into the sidebar; press Start training there to train one like it.",
        )


def copy_settings(config: RunConfig, run_dir) -> None:
    """A callback: the run's settings into the sidebar (and its corpus, if this session may read it)."""
    state.apply_settings(state.settings_of(config))
    corpus = Path(config.corpus)
    if corpora.is_builtin(config.corpus):
        st.session_state["corpus"] = corpora.builtin_name(config.corpus)
    elif corpus.name in corpora.corpus_names(services.runs_root(), state.owner_id()):
        st.session_state["corpus"] = corpus.name
