"""The Train tab: the sidebar's Start, and a live view of the selected run refreshed about once a second."""

import time

import streamlit as st

from core.config import ConfigError
from core.data.corpus import CorpusError
from core.runs.record import FINAL, Status
from core.runs.store import RunDamaged, RunNotFound
from core.text import MAX_SHOWN
from explorer.common import corpora, figures, notices, present, services, state, tables, ui
from explorer.common.notices import Notice
from explorer.train import card, controls

# Live view refresh (AppTest cannot fire it, a browser does): every second until the first loss point, so
# it shows soon after Start; then every 2.5 s, because a browser redrawing the chart shares the CPU with
# training (python benchmarks/app_targets.py measures in-app training against the CLI's; docs/app-targets.md).
REFRESH_FIRST_S, REFRESH_S = 1.0, 2.5
SAMPLES_SHOWN = 20  # earlier samples listed under the latest one
STOP_WAIT_S = 2.0  # how long Stop's click waits for the worker to end before the page redraws


# ---- sidebar -----------------------------------------------------------------------------------------
def sidebar(owner: str) -> None:
    """Presets, settings, corpus and Start; Start acts through its callback."""
    runs_root = services.runs_root()
    controls.preset_ui()
    with st.expander("Model", expanded=True):
        settings = controls.model_ui()
    with st.expander("Training", expanded=True):
        settings |= controls.train_ui()
    with st.expander("Validation, samples, checkpoints"):
        settings |= controls.monitor_ui()
    with st.expander("Advanced: devices"):
        settings |= controls.devices_ui()
    with st.expander("Corpus", expanded=True):
        corpus = controls.corpus_ui(runs_root, owner)
    controls.label_ui()
    controls.start_ui(problem(settings, corpus), on_click=start_clicked, args=(owner,))


def problem(settings: dict, corpus: str) -> str:
    """Why these settings cannot train on this corpus, or '' if they can."""
    try:
        config = state.config_of(settings, corpus)
        _, n_train, n_val = corpora.corpus_facts(corpus, config.train.val_fraction)
        config.train.check_fits(n_train, n_val)
    except (ConfigError, CorpusError) as err:
        return str(err)
    return ""


def start_clicked(owner: str) -> None:
    """Start's callback: read the settings as they are now, launch, and show the new run."""
    st.session_state["start_error"] = ""
    runs_root = services.runs_root()
    corpus = corpora.corpus_path(st.session_state.get("corpus", corpora.BUILTIN), runs_root, owner)
    try:
        config = state.config_of(state.current_settings(), corpus)
        run_dir = services.launch(config, owner, st.session_state.get("label", "").strip())
    except Exception as err:  # a callback's error would reach the page raw: say it in words instead
        st.session_state["start_error"] = f"Not started: {ui.reason(err)}"
        return
    state.show(run_dir.run_id, tab="Train")


# ---- the tab -----------------------------------------------------------------------------------------
def render(owner: str) -> None:
    run_id = run_picker(owner)
    if run_id is None:
        st.caption(
            "Until you start a run (the sidebar's **Start training**) or pick one above, here is the example "
            "run that ships with the app: what a few minutes of training give."
        )
        run_id = next((r.run_id for r in services.runs_for(owner) if r.read_only), None)  # EXAMPLE_ID first
        if run_id is None:
            return
    # For a projector the chart comes first: its settings fold away beneath it.
    place = st.expander("Chart settings") if present.presenting() else st.container()
    left, mid, right = place.columns([1, 1, 1])
    x_axis = left.radio(
        "Loss against",
        list(figures.X_AXES),
        key="x",
        horizontal=True,
        bind=state.URL,
        format_func=lambda k: {"step": "step", "time": "training time"}[k],
        help="Training time excludes the graph build, so implementations compare fairly.",
    )
    scale = mid.radio(
        "Loss scale",
        list(figures.SCALES),
        key="scale",
        horizontal=True,
        bind=state.URL,
        format_func=figures.SCALES.get,
        help="The whole run on a linear or a log axis, or zoomed on its later part (where the loss falls slowly).",
    )
    smoothing = right.slider(
        "Smoothing",
        0.0,
        0.99,
        0.9,
        0.01,
        key="smooth",
        bind=state.URL,
        help="Exponential moving average of the training loss; 0 shows it raw.",
    )
    view = (x_axis, smoothing, scale)
    if services.is_live(run_id):
        live_panel(run_id, owner, view)
    else:
        run_panel(run_id, owner, view, live=False)


def run_picker(owner: str) -> str | None:
    """A select box of this session's runs, and of a run someone shared (its link names it), bound to
    the URL's `run` (the URL holds the option's text, so the text is the bare run id: a status in it
    would change and no longer match)."""
    runs = services.runs_for(owner)
    ids = [r.run_id for r in runs]
    shared = state.selected_run()
    shared_run = services.shared_run(ids) if shared else None
    if shared_run is not None:
        runs.insert(0, shared_run)
        ids.insert(0, shared_run.run_id)
    run_id = st.selectbox(
        "Run",
        ids,
        index=None,
        key=state.RUN,
        bind=state.URL,
        placeholder="Start a run or pick one",
        help="Your runs in this browser session, newest first. The URL keeps the one shown.",
    )
    run_dir = next((r for r in runs if r.run_id == run_id), None)
    if run_dir is not None:
        label = run_dir.meta().get("label")
        whose = ui.whose(run_dir, services.owns(run_dir, owner))
        named = f"Label: {ui.plain(label, MAX_SHOWN)}" if label else ""
        st.caption(" · ".join(part for part in (named, whose) if part))
    return run_id


def live_panel(run_id: str, owner: str, view: tuple) -> None:
    """The live view: the quick timer until the run's first step, the slower one after."""
    job = services.job_manager().get(run_id)
    if job is not None and job.record.last_step() > 0:
        live_steady(run_id, owner, view)
    else:
        live_starting(run_id, owner, view)


@st.fragment(run_every=REFRESH_FIRST_S)
def live_starting(run_id: str, owner: str, view: tuple) -> None:
    """Until the first step: redrawn every REFRESH_FIRST_S; one full rerun (to the steady timer) after it."""
    job = services.job_manager().get(run_id)
    if not services.is_live(run_id) or (job is not None and job.record.last_step() > 0):
        st.rerun()
    run_panel(run_id, owner, view, live=True)


@st.fragment(run_every=REFRESH_S)
def live_steady(run_id: str, owner: str, view: tuple) -> None:
    """Redrawn every REFRESH_S from the job's record; one full rerun when the job has ended."""
    if not services.is_live(run_id):
        st.rerun()  # the run ended: redraw the page once, without the timer
    run_panel(run_id, owner, view, live=True)


def run_panel(run_id: str, owner: str, view: tuple, live: bool) -> None:
    """The run's status, controls, card, progress, losses, charts and samples; `view` is (the x axis,
    the smoothing, the loss scale)."""
    x_axis, smoothing, scale = view
    with ui.shown_as_error("the run"):
        try:
            snap = services.snapshot(run_id)
        except RunNotFound:
            st.warning(f"Run {run_id} is gone (deleted?).")
            return
        except RunDamaged as err:  # files edited by hand or cut short: the Runs tab offers Delete
            st.error(f"{err}. The Runs tab lists it, with Delete.")
            return
        chart = figures.loss_figure(snap, x_axis, smoothing, scale=scale)
        if present.presenting():  # for a projector: the chart first, above the fold, in larger type
            chart.update_layout(font_size=16, height=380)
            st.plotly_chart(chart, key=f"loss_{run_id}", config={"displayModeBar": False})
        ui.status_box(snap, live)
        if live:
            pending_ui(services.job_manager().get(run_id), snap)
        run_dir = services.store().get(run_id)
        if services.owns(run_dir, owner):
            buttons_ui(run_id, owner, snap, live)
        share_ui(run_id)
        progress_ui(snap)
        timings_ui(snap)
        if not present.presenting():
            st.plotly_chart(chart, key=f"loss_{run_id}", config={"displayModeBar": False})
        clip = snap.config.get("train", {}).get("clip_norm", 0.0)
        grad = figures.grad_norm_figure(snap, x_axis, clip)
        if grad is not None:
            st.plotly_chart(grad, key=f"grad_{run_id}", config={"displayModeBar": False})
        samples_ui(snap)
        card.card_ui(snap, run_dir)


def share_ui(run_id: str) -> None:
    """A link that shows this run, read-only, to whoever opens it (no secret in it)."""
    with st.popover("Share", help="A view-only link: whoever opens it sees this run, and cannot stop it."):
        st.code(state.share_link(run_id), language=None, wrap_lines=True)
        st.caption("Opened elsewhere, it shows this run live, read-only: no Stop, Pause, Continue or Delete.")


def buttons_ui(run_id: str, owner: str, snap, live: bool) -> None:
    """Pause/Resume and Stop while it trains; Continue for a stopped run with steps left (owner only)."""
    notices.show(Notice.NOT_CONTINUED)
    cols = st.columns(4)
    if live:
        job = services.control(run_id, owner)
        if job.pause_requested:
            cols[0].button(
                "Resume",
                key="resume",
                on_click=job.resume_training,
                width="stretch",
                help="Carry on training from where it paused.",
            )
        else:
            cols[0].button(
                "Pause",
                key="pause",
                on_click=job.pause,
                width="stretch",
                disabled=job.stopping,
                help="Hold training between steps; the worker keeps its place.",
            )
        cols[1].button(
            "Stop",
            key="stop",
            on_click=stop_and_wait,
            args=(job,),
            width="stretch",
            disabled=job.stopping,
            help="End training within a second; the last checkpoint is kept.",
        )
    elif can_continue(run_id, snap):
        from core.runs.checkpoints import resume_problem  # late: TensorFlow reads the checkpoint

        problem = resume_problem(services.store().get(run_id))
        rate = None
        if snap.status == Status.DIVERGED:  # going on at the rate that diverged would only diverge again
            old = snap.config.get("train", {}).get("learning_rate", 1e-3)
            rate = cols[1].number_input(
                "at learning rate", 1e-7, 1.0, old / 10, format="%.2e", key="continue_lr",
                help="The learning rate from here on; the run's diverged at its own.",
            )  # fmt: skip
        cols[0].button(
            "Continue training",
            key="continue",
            on_click=_continue,
            args=(run_id, owner, rate),
            width="stretch",
            disabled=problem is not None,
            help=problem or "Train on from the last checkpoint until the run's step budget is spent.",
        )
        if problem:
            st.caption(f"Cannot continue: {problem}.")


def stop_and_wait(job) -> None:
    """Stop's callback: the worker usually ends within a second, so wait for it (a little) and the rerun
    that follows draws the final status at once instead of on the next refresh."""
    job.stop()
    end = time.monotonic() + STOP_WAIT_S
    while job.record.status not in FINAL and time.monotonic() < end:  # not the process's exit: slower
        time.sleep(0.02)


def pending_ui(job, snap) -> None:
    """A stop or pause asked for but not yet taken effect (the worker acts between steps); the seconds
    a run has waited for its first step."""
    if job.stopping and not snap.done:
        st.caption("Stopping… (within a second; the last checkpoint is kept)")
    elif snap.status in (Status.CREATED, Status.BUILDING) and job.started_at is not None:
        waited = time.monotonic() - job.started_at  # a static graph takes tens of seconds: show it going
        st.caption(f"{waited:.0f} s since Start: loading TensorFlow, then building the graph.")
    elif job.pause_requested and snap.status != Status.PAUSED:
        st.caption("Pausing after the current step…")


def can_continue(run_id: str, snap) -> bool:
    """Stopped, failed, diverged or interrupted with steps left, and a checkpoint to go on from."""
    step, total = snap.progress.step, snap.progress.total_steps
    resumable = snap.status in (Status.STOPPED, Status.FAILED, Status.DIVERGED) or snap.status in ui.LIVE
    return resumable and (not total or step < total) and services.store().get(run_id).has_checkpoint()


def _continue(run_id: str, owner: str, learning_rate: float | None) -> None:
    try:
        services.continue_run(run_id, owner, learning_rate)
    except Exception as err:
        notices.put(Notice.NOT_CONTINUED, f"Not continued: {ui.reason(err)}")


def progress_ui(snap) -> None:
    p = snap.progress
    step, total = p.step, p.total_steps
    if not total:
        st.progress(0.0, text="waiting for the first step…")
        return
    since = ui.duration(p.wall_s if p.wall_s is not None else p.elapsed_s)  # older runs: no wall_s
    if snap.done:  # where it ended, not where it was headed ("epoch 17/30" reads as unfinished)
        epochs = f"epoch {p.epoch} of {p.epochs} planned"
        text = f"ended at step {step:,} ({epochs}), {since} after Start"
    else:
        if p.finishing:  # the last steps are done: a final validation, a checkpoint, a sample
            st.progress(1.0, text=f"step {step:,}: measuring the final validation loss and saving…")
            return
        eta = ui.duration(p.eta_s) if snap.status in (Status.TRAINING, Status.PAUSED) else "–"
        text = (
            f"step {step:,}/{total:,} · epoch {p.epoch}/{p.epochs} · "
            f"{p.chars_per_s or 0:,.0f} chars/s · {since} since Start · ETA {eta}"
        )
    best = snap.best_eval
    if best is not None:  # what a person waits for: how good, and how soon after Start
        when = f" at {ui.duration(best.wall_s)} after Start" if best.wall_s is not None else ""
        text += f" · best validation {best.val_loss:.3f} nats/char{when} (step {best.step:,})"
    st.progress(min(1.0, p.done if p.done is not None else step / total), text=text)


def timings_ui(snap) -> None:
    """Losses, then build time (trace, first call) apart from training time."""
    t, train_s = snap.timings, tables.train_seconds(snap)
    train, val = snap.last_train_loss, snap.last_val_loss
    bits = snap.evals[-1].val_bits if snap.evals else None
    cols = st.columns(6)
    cols[0].metric(
        "Train loss",
        "–" if train is None else f"{train:.3f}",
        help="Last training step's mean loss, nats per character.",
    )
    cols[1].metric(
        "Validation", "–" if val is None else f"{val:.3f}", help="Latest validation loss, nats per character."
    )
    cols[2].metric(
        "Val bits/char",
        "–" if bits is None else f"{bits:.2f}",
        help="The validation loss in bits per character (nats / ln 2).",
    )
    cols[3].metric("Build: trace", ui.seconds(t.trace_s), help="Tracing the train step into a graph.")
    cols[4].metric(
        "Build: first call",
        ui.seconds(t.first_call_s),
        help="The first step: graph optimisation plus one step of work.",
    )
    cols[5].metric(
        "Training time", ui.duration(train_s), help="Every step after the first: build time excluded."
    )


def samples_ui(snap) -> None:
    if not snap.samples:
        st.caption("Live samples appear here every *sample every* steps.")
        return
    latest = snap.samples[-1]
    st.markdown(f"**Live sample at step {latest.step:,}**")
    st.code(latest.text, language=None, wrap_lines=True)
    earlier = snap.samples[-SAMPLES_SHOWN - 1 : -1][::-1]
    if earlier:
        with st.expander(f"Earlier samples ({len(snap.samples) - 1})"):
            for sample in earlier:
                st.caption(f"step {sample.step:,}")
                st.code(sample.text, language=None, wrap_lines=True)
    if snap.log:
        with st.expander("Log"):
            st.code("\n".join(snap.log[-50:]), language=None)
