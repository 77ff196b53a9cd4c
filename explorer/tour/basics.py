"""Tour sections 1-4: the data, one step of an RNN, unrolling as a list, dynamic_rnn and scan.

Each section is a few sentences, one live experiment (computed in core/tour/), one figure
(explorer/tour/figures_basics.py) and a button that goes on in the tab where the experiment continues.
Sections 2 and 4 compute with TensorFlow: their modules are imported when they are drawn, so the first
section (and the app's first page) is drawn without waiting for it.
"""

from __future__ import annotations

import dataclasses
import html
from typing import TYPE_CHECKING

import streamlit as st

from core.config import TrainConfig
from core.data.corpus import Corpus, CorpusError, load_corpus
from core.data.sources import builtin_path
from core.measure.experiment import POST_FIGURES
from core.presets import PRESETS
from core.tour import batches
from core.tour import unrolling as tour_unrolling
from core.tour.race import Race
from explorer.common import state
from explorer.lab import implementations, widgets
from explorer.tour import figures_basics as figures
from explorer.tour.batches_html import batches_html
from explorer.tour.links import continue_in

if TYPE_CHECKING:
    from core.tour import step

CHART = {"displayModeBar": False}

VOCABULARY_STYLE = (
    "font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 1.05rem; padding: 0.6rem 0.8rem; "
    "border-radius: 0.4rem; background: rgba(128, 128, 128, 0.12); word-break: break-all"
)


@st.cache_resource(show_spinner=False)
def corpus() -> Corpus:
    """The built-in tiny-shakespeare, split as training splits it by default (read once, never changed)."""
    return load_corpus(builtin_path(), TrainConfig().val_fraction)


def _chart(fig, key: str) -> None:
    st.plotly_chart(fig, key=key, config=CHART)


# ---- 1 · the data --------------------------------------------------------------------------------------
def data(owner: str) -> None:
    with st.spinner("Reading the text…"):
        text = corpus()
    st.markdown(
        "The post trains on **tiny-shakespeare**: a selection of Shakespeare's plays in one plain text "
        "file. The network reads it **one character at a time**, so everything it can ever read or write "
        "is one of the distinct characters below; each is known by its place in that sorted list (its id)."
    )
    cols = st.columns(3)
    cols[0].metric("characters in the text", f"{text.size:,}")
    held_out = (
        f"The last {TrainConfig().val_fraction:.0%} is held out to measure how well a network generalises."
    )
    cols[1].metric("of them for training", f"{len(text.train_ids):,}", help=held_out)
    cols[2].metric("distinct characters", len(text.vocab))
    # Monospace HTML, not st.code: st.code makes the browser fetch a 1.5 MB highlighter before the first
    # page is usable (benchmarks/app_targets.py --only cold).
    shown = html.escape("".join(figures.VISIBLE.get(c, c) for c in text.vocab.chars))
    st.html(f'<div class="vocabulary" style="{VOCABULARY_STYLE}">{shown}</div>')
    st.markdown(
        "Training does not read the text as one long line. It is **cut into `batch_size` rows** of equal "
        "length, each a stretch of the play, read **side by side**; each step of training takes the next "
        "**`num_steps` characters of every row** (a window). The network reads *x* and must guess *y*, "
        "the same characters one place later. Row *r* of the next window goes on where row *r* of this one "
        "stopped, so the state the network ends a window with (the red arrows) is the right one to begin "
        "the next with."
    )
    left, right = st.columns(2)
    batch = left.slider("batch_size: rows side by side", 2, 8, 4, key="tour_batch", bind=state.URL)
    steps = right.slider("num_steps: characters per window", 5, 40, 10, key="tour_steps", bind=state.URL)
    cut = batches.layout(text.train_ids, text.vocab, batch, steps, shown=3 if steps <= 20 else 2)
    st.html(batches_html(cut))  # HTML, not a Plotly chart: the first page loads no Plotly
    st.caption(
        f"Each row is {cut.row_len:,} characters long, so an epoch (one pass over the training text) is "
        f"{cut.windows_per_epoch:,} windows. ␣ is a space, ↵ a new line; hover a square for its place in "
        "the text. The code: `batch_iterator` in core/data/batches.py, the post's own iterator."
    )
    continue_in("Train", "Train with these sizes", {"batch": batch, "steps": steps}, key="data")


# ---- 2 · one step --------------------------------------------------------------------------------------
UNITS = 32  # the small basic RNN's state: 32 numbers, one square each in the strip
TRAIN_STEPS = 200  # of batch 32 x 25 characters: a few seconds on 2 cores, enough to learn common pairs
WEIGHTS = {
    "random": "untrained (random weights)",
    "trained": f"trained for {TRAIN_STEPS} steps (a few seconds)",
}


@st.cache_data(max_entries=1, show_spinner=False)
def trained() -> step.Trained:
    from core.tour import step

    text = corpus()
    return step.train_briefly(text.train_ids, len(text.vocab), UNITS, TRAIN_STEPS)


@st.cache_data(max_entries=1, show_spinner=False)
def untrained() -> step.Weights:
    from core.tour import step

    return step.random_weights(len(corpus().vocab), UNITS)


@st.cache_data(max_entries=32, show_spinner=False)
def stepped(kind: str, typed: str) -> list[step.Step]:
    from core.tour import step

    weights = trained().weights if kind == "trained" else untrained()
    return step.run_steps(weights, corpus().vocab, typed)


def one_step(owner: str) -> None:
    st.markdown(
        "A basic RNN keeps a **state** *h*: a short list of numbers, its memory. At every step it mixes the "
        "new character *x* into the old state and squashes the result into −1…1 with tanh; then it turns "
        "the state into a **probability for every possible next character**."
    )
    st.latex(r"h_t = \tanh(W x_t + U h_{t-1} + b) \qquad p_t = \mathrm{softmax}(V h_t + c)")
    st.caption(
        "x_t is the character as a one-hot vector: a 1 at its id, 0 elsewhere. In the code "
        "(`BasicRNNCell` in core/model/cells.py, the head in core/model/char_rnn.py) vectors are rows, "
        "so it reads x·W + h·U + b: the same numbers, transposed."
    )
    left, right = st.columns([2, 3])
    typed = left.text_input(
        "Type a few characters", "To be, or", max_chars=16, key="tour_text", bind=state.URL
    )
    kind = right.radio(
        "The network's weights", list(WEIGHTS), format_func=WEIGHTS.get, key="tour_weights", bind=state.URL
    )
    if not typed:
        st.info("Type at least one character.")
        return
    with st.spinner(
        f"Training a small basic RNN for {TRAIN_STEPS} steps…" if kind == "trained" else "Stepping…"
    ):
        try:
            steps = stepped(kind, typed)
        except CorpusError as err:
            st.warning(f"The network knows only the text's {len(corpus().vocab)} characters: {err}.")
            return
    _chart(figures.step_figure(steps), "tour_step_chart")
    _weights_note(kind)
    continue_in("Train", "Train a basic RNN", {"cell": "rnn", "layers": 1}, key="step")


def _weights_note(kind: str) -> None:
    """What the weights are, so the guesses are read for what they are."""
    vocab = len(corpus().vocab)
    if kind == "trained":
        run = trained()
        st.caption(
            f"A basic RNN with a state of {UNITS} numbers, trained here for {len(run.losses)} steps "
            f"({run.seconds:.1f} s): its loss fell from {run.losses[0]:.2f} to {run.losses[-1]:.2f} nats per "
            "character. It has learnt which letters tend to follow which."
        )
    else:
        st.caption(
            f"A basic RNN with a state of {UNITS} numbers and random weights: even its likeliest guesses are "
            f"barely above 1/{vocab} ≈ {1 / vocab:.1%}, because nothing has been learnt yet. Switch to the "
            "trained weights."
        )


# ---- 3 · unrolling as a list ---------------------------------------------------------------------------
LIST_STEPS = (10, 20, 40)  # num_steps measured: the list's growth shows, the whole set takes seconds
LIST_SIZES = {"state_size": 32, "batch_size": 32}  # small: the points measure the graph, not the machine
POST_SETTING = PRESETS["seed"]  # the post's 3-layer LSTM, state 100, batch 32, 200 steps
RACE = ("tf1-static", "tf1-dynamic")
POST_RACE = {
    "tf1-static": POST_FIGURES["list"]["build_s"],
    "tf1-dynamic": POST_FIGURES["dynamic_rnn"]["build_s"],
}
TICK_S = 0.25  # the stopwatch's refresh; AppTest cannot fire it, a browser does


@st.cache_data(max_entries=64, show_spinner=False)
def built(
    impl: str, cell: str, num_steps: int, state_size: int, batch_size: int
) -> tour_unrolling.BuildPoint:
    """One graph built and counted (once per setting on this server; a rerun reuses it)."""
    config = tour_unrolling.config_of(cell, state_size, batch_size, num_steps)
    return tour_unrolling.measure_build(impl, config, len(corpus().vocab))


def unrolling(owner: str) -> None:
    st.markdown(
        "The post's first way to run a cell over a sequence is a plain Python loop: call the cell once per "
        "character and keep the outputs in a list. TensorFlow records each call, so the graph holds **one "
        "copy of the cell per step**, and one of its gradient: every extra step adds the same operations "
        "again, and the wait before training can start grows with them. `dynamic_rnn` and `tf.scan` put "
        "**one** copy inside a loop that the graph itself runs."
    )
    cell = st.radio(
        "Cell", ["rnn", "lstm"], horizontal=True, key="tour_list_cell", bind=state.URL,
        format_func={"rnn": "basic RNN", "lstm": "LSTM"}.get,
    )  # fmt: skip
    n = len(LIST_STEPS) * len(tour_unrolling.IMPLS)
    if st.button(f"Build the {n} graphs", key="tour_list_run", type="primary"):
        st.session_state[f"tour_list_{cell}"] = measure_builds(cell)
    points = st.session_state.get(f"tour_list_{cell}")
    chart, post = st.columns([3, 1])
    with chart:
        if points:
            _chart(figures.build_figure(points), "tour_list_chart")
            st.caption(f"{_longest(points)} Measured: {_sizes_note(cell)}.")
        else:
            st.info(f"Click the button to build the post's training graph {n} times ({_sizes_note(cell)}).")
    with post:
        _post_builds()
    with st.expander("The code: a list, and a loop"):
        for impl in ("static", "dynamic"):
            st.code(implementations.snippet(impl), language="python")
            st.caption(f"From {implementations.source_of(impl)}.")
    race_ui()
    continue_in(
        "Build time", "Sweep num_steps yourself", {"cell": cell, "layers": 1, "state": 32}, key="list"
    )


def measure_builds(cell: str) -> list:
    """Every point, one after another, each named in the status box as it is built."""
    points = []
    with st.status("Building graphs…", expanded=True) as box:
        for steps in LIST_STEPS:
            for impl in tour_unrolling.IMPLS:
                box.update(label=f"Building {figures.name_of(impl)}, {steps} steps…")
                point = built(impl, cell, steps, **LIST_SIZES)
                st.write(
                    f"{figures.name_of(impl)}, {steps} steps: {point.ops:,} operations, {point.build_s:.2f} s"
                )
                points.append(point)
        box.update(label=f"Built {len(points)} graphs", state="complete", expanded=False)
    return points


def _longest(points: list) -> str:
    """The operation counts at the longest num_steps measured, in words."""
    steps = max(p.num_steps for p in points)
    counts = ", ".join(f"{figures.name_of(p.impl)} {p.ops:,}" for p in points if p.num_steps == steps)
    return f"At {steps} steps, operations in the graph: {counts}."


def _sizes_note(cell: str) -> str:
    name = {"rnn": "basic RNN", "lstm": "LSTM"}[cell]
    return (
        f"one layer of {name}, state {LIST_SIZES['state_size']}, batch {LIST_SIZES['batch_size']}, "
        f"num_steps {', '.join(map(str, LIST_STEPS))}; the graph holds the forward pass, its gradients "
        "and the Adam update, as the post's did"
    )


def _post_builds() -> None:
    """The post's own build times, as it reported them."""
    st.markdown("**The post's build times** (2016, its machine)")
    st.markdown(
        f"- basic RNN, list, 200 steps: **{POST_FIGURES['basic RNN, list']['build_s']} s**\n"
        "- 3-layer LSTM, 200 steps:\n"
        f"  - list: **{POST_FIGURES['list']['build_s']} s**\n"
        f"  - dynamic_rnn: **{POST_FIGURES['dynamic_rnn']['build_s']} s**\n"
        f"  - tf.scan: **{POST_FIGURES['tf.scan']['build_s']} s**"
    )


def race_ui() -> None:
    """Static against dynamic at the post's own setting, each built in its own process."""
    m, t = POST_SETTING.model, POST_SETTING.train
    st.markdown(
        f"**A race at the post's setting** ({m.num_layers}-layer {m.cell.upper()}, state {m.state_size}, "
        f"batch {t.batch_size}, {t.num_steps} steps): the list and `dynamic_rnn` start building together, "
        "each in a process of its own. Each stopwatch starts once its process has loaded TensorFlow."
    )
    _busy_note()
    race = st.session_state.get("tour_race")
    running = race is not None and race.running
    if st.button("Start the race", key="tour_race_start", disabled=running):
        if race is not None:
            race.end()
        text = corpus()
        race = st.session_state["tour_race"] = Race(RACE, _post_config(), len(text.vocab))
        running = True
    if running:
        stopwatch()
    elif race is not None:
        race_result(race.update())


def _busy_note() -> None:
    """Whatever else is using the CPU slows both racers: say so."""
    from explorer.lab import view as lab_view  # here: it imports pandas, which the first page does without

    widgets.training_note()
    view = lab_view.lab().current()
    if view is not None and view.running:
        st.warning(
            "The Build time tab is measuring now: a race run meanwhile will be slower, and so will it."
        )


def _post_config():
    return dataclasses.replace(POST_SETTING, corpus=builtin_path())


@st.fragment(run_every=TICK_S)
def stopwatch() -> None:
    """Redrawn every TICK_S: each racer's time so far; one full rerun once both are over."""
    race = st.session_state.get("tour_race")
    if race is None:
        st.rerun()
    race.update()
    if not race.running:
        st.rerun()  # both are over: the page is drawn once more, with the result
    cols = st.columns(len(race.laps()) + 1)
    for col, lap in zip(cols, race.laps()):
        shown = f"{lap.elapsed_s():.1f} s" if lap.started is not None else "…"
        col.metric(figures.name_of(lap.impl), shown, help=lap.phase.value)
        col.caption(lap.phase.value)
    cols[-1].button("Stop the race", key="tour_race_stop", on_click=race.end)


def race_result(laps) -> None:
    """The final times beside the post's, and how many times longer the list took in each."""
    failed = [lap for lap in laps if lap.build_s is None]
    for lap in failed:
        st.warning(f"{figures.name_of(lap.impl)}: {lap.error or 'no time'}")
    if failed:
        return
    _chart(figures.race_figure(laps, POST_RACE), "tour_race_chart")
    static, dynamic = laps
    here = static.build_s / dynamic.build_s
    there = POST_RACE["tf1-static"] / POST_RACE["tf1-dynamic"]
    st.caption(
        f"The list took {here:.0f}× as long as dynamic_rnn here ({static.ops:,} operations against "
        f"{dynamic.ops:,}); {there:.0f}× in the post. Opening each graph's session took another "
        f"{static.session_s:.1f} s and {dynamic.session_s:.1f} s, which is not part of the build time."
    )


# ---- 4 · dynamic_rnn and scan --------------------------------------------------------------------------
# One LSTM layer: a pass takes milliseconds, so a few timed calls of each cost well under a second.
LOOPS_SIZES = {"units": 64, "batch_size": 32, "num_steps": 50}


def loops(owner: str) -> None:
    from core.tour import loops as tour_loops

    st.markdown(
        "`dynamic_rnn` and `tf.scan` are two ways to write the same loop. Neither approximates the list: "
        "each step does the same arithmetic, so all three give **the same numbers**. Below, one LSTM layer's "
        "weights and one random input go through each, timed in the same run, turn about; they differ only "
        "in how long a pass takes."
    )
    everything = st.checkbox(
        "Also the project's other implementations (Keras's loop, Keras's LSTM layer, the fused engine)",
        key="tour_loops_all",
        bind=state.URL,
    )
    shown = tour_loops.SHOWN  # the reference first: the others are compared with it
    impls = shown + tuple(i for i in tour_loops.usable("lstm") if everything and i not in shown)
    if st.button("Run them", key="tour_loops_run", type="primary"):
        with st.spinner(f"Tracing and timing {len(impls)} implementations…"):
            st.session_state["tour_loops_result"] = tour_loops.compare(impls, **LOOPS_SIZES)
    result = st.session_state.get("tour_loops_result")
    if result is None:
        st.info("Click the button: it takes a few seconds (the list's graph takes longest to trace).")
    else:
        _comparison_ui(result)
    st.caption(
        "tests/test_unrollers.py holds every implementation to the same outputs, final states and "
        "gradients, for every cell, each time the tests run."
    )
    continue_in("Train", "Train an LSTM unrolled by tf.scan", {"cell": "lstm", "impl": "scan"}, key="loops")


def _comparison_ui(result) -> None:
    import pandas as pd  # here, not at the top: the Tour's first page is drawn without it

    reference = figures.name_of(result.reference)
    table = pd.DataFrame(
        {
            "implementation": [figures.name_of(r.impl) for r in result.rows],
            f"largest difference from {reference}": [r.max_diff for r in result.rows],
            "ms per pass": [1000 * r.step_s for r in result.rows],
            f"× {reference}": [result.ratio(r.impl) for r in result.rows],
            "first call s": [r.trace_s for r in result.rows],
        }
    )
    st.dataframe(
        table,
        hide_index=True,
        column_config={
            f"largest difference from {reference}": st.column_config.NumberColumn(format="%.1e"),
            "ms per pass": st.column_config.NumberColumn(format="%.1f"),
            f"× {reference}": st.column_config.NumberColumn(format="%.2f"),
            "first call s": st.column_config.NumberColumn(format="%.2f"),
        },
    )
    _chart(figures.loops_figure(result), "tour_loops_chart")
    st.caption(
        f"A pass: one {result.cell.upper()} layer of state {result.units}, batch {result.batch_size}, "
        f"{result.num_steps} steps, forward and backward, compiled; the median of "
        f"{result.calls} timed calls each, after a first call that traces the graph. A difference of 0 "
        "means bit for bit the same; an implementation that adds its numbers up in another order differs "
        "only in the last of a 32-bit float's 7 or so significant digits."
    )
