"""Tour sections 5-8: better cells, stacking and dropout, layer normalisation, generating text.

    better_cells  the LSTM, GRU and LN-LSTM equations; the example's gates read along (core/tour/cells_gates.py)
    stacking      a tiny untrained stack reads a line, with dropout's masks (core/tour/cells_stacking.py)
    layer_norm    one step of a tiny ln_lstm: a gate's inputs before and after (core/tour/cells_layernorm.py)
    generating    the example's samples side by side, by temperature and top-k (core/tour/generating.py)

The numbers come from core and from the example run that ships with the app; the words and drawing are here.
"""

from pathlib import Path

import streamlit as st

from core.config import ConfigError
from core.data.corpus import Vocab
from core.errors import Refusal
from core.model.cells import CELLS
from core.paths import EXAMPLE_ID
from core.runs.store import RunDir, RunNotFound
from core.tour import cells_gates, cells_layernorm, cells_stacking
from core.tour import generating as gen
from explorer.common import services, state, ui
from explorer.inside import analysis, painting
from explorer.tour import figures_cells as figures
from explorer.tour.links import continue_in

CHART = {"displayModeBar": False}


def _example() -> RunDir | None:
    """The example run that ships with the app, if it is here and readable (else the page says so)."""
    try:
        run_dir = services.store().get(EXAMPLE_ID)
    except RunNotFound:
        run_dir = None
    if run_dir is None or services.usable_checkpoint(run_dir) is None:
        st.info(
            "The example run that ships with the app (assets/examples) is not here or cannot be read, so "
            "there is no trained network to try this on. Train a run first."
        )
        return None
    return run_dir


# ---- 5 · better cells --------------------------------------------------------------------------------
CELL_NAMES = {"lstm": "LSTM", "gru": "GRU", "ln_lstm": "layer-normalised LSTM"}
A_CELL = {"lstm": "an LSTM", "gru": "a GRU", "ln_lstm": "a layer-normalised LSTM"}  # in a sentence
CELL_WORDS = {
    "lstm": "The **LSTM** carries two vectors: its output $h$ and a cell $c$ that changes only by being "
    "multiplied by a gate and added to. The forget gate $f$ says how much of the old $c$ stays, the input "
    "gate $i$ how much of the new candidate $g$ is added, the output gate $o$ how much of $c$ shows in "
    "$h$. Its forget bias starts at 1, so an untrained LSTM keeps by default.",
    "gru": "The **GRU** makes do with one vector $h$ and two gates. The update gate $z$ mixes old and new: "
    "near 1 a unit keeps its old value, near 0 it takes the candidate $\\tilde h$. The reset gate $r$ says "
    "how much of the old $h$ the candidate gets to see; here (as in TensorFlow 1's GRUCell) it multiplies "
    "$h$ *before* the product with $U_h$.",
    "ln_lstm": "The **layer-normalised LSTM** is the LSTM with one change: each gate's input is normalised "
    "over the units before it is squashed (section 7 shows this on numbers), and so is $c$ before the "
    "output's tanh. The learned shift $\\beta$ takes the bias's place.",
}
EQUATIONS = {
    "lstm": r"""\begin{aligned}
i_t &= \sigma(x_t W_i + h_{t-1} U_i + b_i) & f_t &= \sigma(x_t W_f + h_{t-1} U_f + b_f) \\
o_t &= \sigma(x_t W_o + h_{t-1} U_o + b_o) & g_t &= \tanh(x_t W_g + h_{t-1} U_g + b_g) \\
c_t &= f_t \odot c_{t-1} + i_t \odot g_t & h_t &= o_t \odot \tanh(c_t)
\end{aligned}""",
    "gru": r"""\begin{aligned}
z_t &= \sigma(x_t W_z + h_{t-1} U_z + b_z) & r_t &= \sigma(x_t W_r + h_{t-1} U_r + b_r) \\
\tilde h_t &= \tanh\big(x_t W_h + (r_t \odot h_{t-1})\, U_h + b_h\big) &
h_t &= z_t \odot h_{t-1} + (1 - z_t) \odot \tilde h_t
\end{aligned}""",
    "ln_lstm": r"""\begin{aligned}
[a_i, a_f, a_g, a_o] &= x_t W + h_{t-1} U \quad \text{(no bias)} &
\mathrm{LN}(a) &= \gamma \odot \tfrac{a - \mu}{\sqrt{\sigma^2 + \epsilon}} + \beta \\
i_t, f_t, o_t &= \sigma(\mathrm{LN}(a_i)),\ \sigma(\mathrm{LN}(a_f)),\ \sigma(\mathrm{LN}(a_o)) &
g_t &= \tanh(\mathrm{LN}(a_g)) \\
c_t &= f_t \odot c_{t-1} + i_t \odot g_t & h_t &= o_t \odot \tanh(\mathrm{LN}(c_t))
\end{aligned}""",
}
GATE_WORDS = {  # a gate -> what its value near 0 and near 1 does
    "update": ("takes the new candidate", "keeps its old value"),
    "reset": ("old value hidden from the candidate", "old value seen by the candidate"),
    "input": ("nothing written into c", "the candidate written into c"),
    "forget": ("c wiped", "c kept"),
    "output": ("c hidden from h", "c shown in h"),
}
GATES_TEXT = "GLOUCESTER:\nNow is the winter of our discontent\nMade glorious summer by this sun of York;"
MAX_GATES_TEXT = 160  # characters: a line or two, drawn one cell per character


def better_cells(owner: str) -> None:
    st.markdown(
        "A basic RNN rewrites its whole state at every character, so something read twenty characters ago "
        "has been through twenty matrix products and squashings since: hard to keep, and hard to learn. "
        "These cells add **gates**: a number between 0 and 1 per unit, computed from the input and the "
        "previous state, that multiplies what passes. Near 1 a value goes through, near 0 it is stopped, so "
        "a unit can hold a value for as long as its gates say."
    )
    example = _example()
    example_cell = example.config().model.cell if example else None
    names = list(CELL_NAMES)
    cell = st.radio(
        "Cell",
        names,
        index=names.index(example_cell) if example_cell in names else 0,
        format_func=CELL_NAMES.get,
        horizontal=True,
        key="tour_cell",
        bind=state.URL,
    )
    st.markdown(CELL_WORDS[cell])
    st.latex(EQUATIONS[cell])
    st.caption(
        f"$\\sigma$ is the sigmoid, $\\odot$ multiplies element by element. In the code: "
        f"`core/model/cells.py`, `{CELLS[cell].impl.__name__}.gated` ({CELLS[cell].description})."
    )
    if example is None:
        return
    if cell != example_cell:
        st.info(
            f"The example that ships with the app is {A_CELL.get(example_cell, example_cell)}, so it has no "
            f"{CELL_NAMES[cell]} gates to read. Train one, then read its gates on the Inside tab. Below, the "
            "example's own gates."
        )
        continue_in("Train", f"Train {A_CELL[cell]}", {"cell": cell}, key=f"cells_{cell}")
    _read_gates(example)


def _read_gates(run_dir: RunDir) -> None:
    """The example reads a line; one unit's gates coloured along it."""
    model = run_dir.config().model
    layers = f"{model.num_layers} layer" + ("s" if model.num_layers > 1 else "")
    st.markdown("#### The example's gates, read along")
    st.markdown(
        f"The example run that ships with the app is {A_CELL.get(model.cell, model.cell)} of "
        f"{model.state_size} units ({layers}). It reads the text below one character at a time; each "
        "character is coloured by one unit's gate just after the network read it. Pick the gate and the unit."
    )
    text = st.text_area(
        "Text to read (a line of Shakespeare, or your own)",
        GATES_TEXT,
        max_chars=MAX_GATES_TEXT,
        height=90,
        key="tour_gates_text",
        bind=state.URL,
    )
    if not text:
        st.info("Type something for the network to read.")
        return
    try:
        with st.spinner("The example reads the text…"):
            trace, step = analysis.trace(run_dir, text)
    except Refusal as err:  # a character it never saw; a checkpoint that cannot be read
        st.warning(ui.plain(f"The example cannot read this: {err}.", limit=None))
        return
    gate, unit, layer = _gate_ui(trace)
    reading = cells_gates.gate_along(trace, gate, unit, layer)
    low, high = GATE_WORDS.get(gate, ("closed", "open"))
    tips = [f"{painting.visible(c)}: {gate} {v:.3f}" for c, v in zip(text, reading.values)]
    st.html(painting.coloured(text, reading.values - 0.5, tips, scale=0.5))  # 0.5 uncoloured
    st.html(painting.legend(f"near 0: {low}", f"near 1: {high}"))
    st.plotly_chart(
        figures.gate_strip(text, cells_gates.unit_gates(trace, unit, layer), unit),
        key="tour_gate_strip",
        config=CHART,
    )
    st.caption(
        f"Unit {unit}'s {gate} gate after each character (hover for values), from the example's weights "
        f"at step {step:,}: the Inside tab's reading (`core/inside/trace.py`), which shows every unit."
    )


def _gate_ui(trace) -> tuple[str, int, int]:
    """Gate, unit and (for a stack) layer; a button moves the unit to the liveliest one."""
    layers, units = trace.hidden.shape[0], trace.hidden.shape[2]
    cols = st.columns([1, 2, 1])
    gate = cols[0].radio("Gate", list(trace.gates), horizontal=True, key="tour_gate", bind=state.URL)
    layer = 0
    if layers > 1:
        layer = cols[0].selectbox("Layer", range(1, layers + 1), key="tour_gate_layer") - 1
    lively = cells_gates.liveliest_units(trace, gate, layer)
    cols[2].button(
        f"Liveliest unit ({lively[0]})",
        key="tour_gate_lively",
        on_click=_set,
        args=("tour_gate_unit", lively[0]),
        help=f"The units whose {gate} gate moves most on this text: {', '.join(map(str, lively))}.",
    )
    unit = cols[1].slider("Unit", 0, units - 1, 0, key="tour_gate_unit", bind=state.URL)
    return gate, unit, layer


def _set(key: str, value) -> None:
    """A button's on_click: move a widget to `value` before it is drawn again."""
    st.session_state[key] = value


# ---- 6 · stacking and dropout -----------------------------------------------------------------------
STACK_TEXT = "Now is the winter of our discontent"  # fixed: the stack is untrained, any line shows the wiring


@st.cache_resource(max_entries=4, show_spinner=False)
def _stack_model(layers: int):
    return cells_stacking.tiny_stack(len(Vocab.from_text(STACK_TEXT)), layers)


@st.cache_data(max_entries=32, show_spinner=False)
def _stack_reading(layers: int, dropout: float, seed: int) -> cells_stacking.StackReading:
    ids = Vocab.from_text(STACK_TEXT).encode(STACK_TEXT)
    return cells_stacking.read_stack(_stack_model(layers), ids, dropout, seed)


def stacking(owner: str) -> None:
    st.markdown(
        "**Stacking.** A stack still takes one step per character. At each step layer 1 reads the "
        "character and its own previous state; layer 2 reads layer 1's new output and *its* previous "
        "state; and so on up, and the prediction reads the top layer. Each layer has its own weights and "
        "its own state.\n\n"
        "**Dropout.** While training, each number going into a layer (and out of the top one) is set to 0 "
        "with probability $p$, and the rest are multiplied by $1/(1-p)$, so their sum stays the same on "
        "average. A new mask is drawn at every step, so no unit can rely on another always being there. "
        "When the model reads or writes text, nothing is dropped. (Like the post, training drops layer 1's "
        "input, the characters, too. The sidebar's *Dropout on the input characters too* can leave them "
        "whole: then `fused`, the fastest implementation, looks layer 1's input sums up in a table instead "
        "of computing them, and trains about as fast as without dropout.)"
    )
    cols = st.columns([2, 2, 1])
    layers = cols[0].slider("Layers", 1, 4, 3, key="tour_stack_layers", bind=state.URL)
    dropout = cols[1].slider(
        "Dropout p", 0.0, 0.6, 0.2, 0.05, key="tour_stack_dropout", bind=state.URL, format="%.2f"
    )
    cols[2].button("Draw new masks", key="tour_stack_redraw", on_click=_next_masks)
    seed = st.session_state.get("tour_stack_seed", 0)
    with st.spinner("The stack reads the line…"):
        reading = _stack_reading(layers, dropout, seed)
    left, right = st.columns(2)
    with left:
        st.markdown("**What each layer holds** after each character, masks applied as in training")
        st.plotly_chart(figures.stack_figure(STACK_TEXT, reading.hidden), key="tour_stack_fig", config=CHART)
    with right:
        st.markdown("**Dropout's masks**: dark where a number was dropped")
        st.plotly_chart(figures.masks_figure(STACK_TEXT, reading.masks), key="tour_masks_fig", config=CHART)
    share = cells_stacking.dropped_share(reading)
    st.caption(
        f"A {layers}-layer GRU stack of {cells_stacking.UNITS} units with random weights (untrained: it "
        f"shows the wiring, not what a trained stack learns). This time dropout dropped {share:.1%} of the "
        f"{reading.masks.size:,} numbers it could. The step is `core/model/stack.py`'s `StackedCell.call`, "
        "its masks drawn from a seed (`core/tour/cells_stacking.py`)."
    )
    continue_in("Train", "Train 3 layers with dropout 0.2", {"layers": 3, "dropout": 0.2}, key="stacking")


def _next_masks() -> None:
    st.session_state["tour_stack_seed"] = st.session_state.get("tour_stack_seed", 0) + 1


# ---- 7 · layer normalisation -------------------------------------------------------------------------
LN_EQUATION = r"""\mu = \frac{1}{H}\sum_{j=1}^{H} a_j \qquad
\sigma^2 = \frac{1}{H}\sum_{j=1}^{H} (a_j - \mu)^2 \qquad
\mathrm{LN}(a) = \gamma \odot \frac{a - \mu}{\sqrt{\sigma^2 + \epsilon}} + \beta"""
SCALES = (0.1, 0.3, 1.0, 3.0, 10.0, 30.0)  # the input's standard deviation, as offered


@st.cache_resource(show_spinner=False)
def _ln_cell():
    return cells_layernorm.tiny_ln_cell()


def layer_norm(owner: str) -> None:
    st.markdown(
        "Layer normalisation takes the vector a gate is about to squash, its $H$ numbers $a$ (one per "
        "unit), and shifts and scales it so that over the units its mean is 0 and its standard deviation 1. "
        "A learned gain $\\gamma$ and shift $\\beta$ per unit then give back whatever scale helps. However "
        "large the inputs grow, the gates see numbers of the same size, so fewer are pinned near 0 or 1, "
        "where a sigmoid hardly moves and learning stalls."
    )
    st.latex(LN_EQUATION)
    st.markdown(
        "Try it: slide the size of the input. Without normalisation the gate's inputs grow with it and more "
        "of its values pile up near the ends; with it, they keep the same spread."
    )
    cols = st.columns([2, 2, 1])
    gate = cols[0].radio("Gate", cells_layernorm.GATES, horizontal=True, key="tour_ln_gate", bind=state.URL)
    scale = cols[1].select_slider(
        "Size of the input x (its standard deviation)", SCALES, 1.0, key="tour_ln_scale", bind=state.URL
    )
    seed = cols[2].number_input("Seed", 0, 10_000, 0, key="tour_ln_seed", bind=state.URL)
    n = cells_layernorm.normalise_step(_ln_cell(), gate, float(scale), int(seed))
    st.plotly_chart(
        figures.layernorm_figure(n.z, n.normalised, n.plain_gate, n.ln_gate, n.squash),
        key="tour_ln_fig",
        config=CHART,
    )
    st.markdown(
        f"Before: mean {n.z.mean():+.3f}, standard deviation {n.z.std():.3f}. After normalising: mean "
        f"{n.normalised.mean():+.3f}, standard deviation {n.normalised.std():.3f}. Near an end of the "
        f"{n.squash}: {cells_layernorm.saturated(n.plain_gate, n.squash):.0%} of the units without "
        f"normalisation, {cells_layernorm.saturated(n.ln_gate, n.squash):.0%} with it."
    )
    st.caption(
        f"One step of a layer-normalised LSTM cell of {cells_layernorm.UNITS} units with random weights "
        "(gain 1, shift 0, the forget gate's shift 1: as training starts), from a made-up input. "
        "Without normalisation the shift is added as a bias. In the code: `core/model/cells.py`, "
        "`layer_norm` and `LayerNormLSTMCell.gated`."
    )
    continue_in("Train", "Train a layer-normalised LSTM", {"cell": "ln_lstm"}, key="layernorm")


# ---- 8 · generating ----------------------------------------------------------------------------------
@st.cache_data(max_entries=64, show_spinner=False)
def _sample(run_path: str, checkpoint: str, prime: str, temperature: float, top_k: int, seed: int):
    """(the text written after the prime, its mean bits per character under the model at temperature 1)."""
    run_dir = RunDir(Path(run_path))
    sampler, _ = services.sampler_for(run_dir)
    config = gen.column_config(prime, temperature, seed, top_k)
    text = sampler.generate(config)
    trace, _ = analysis.trace(run_dir, prime + text, checkpoint)
    return text, gen.continuation_bits(trace, prime)


def generating(owner: str) -> None:
    st.markdown(
        "After each character the model gives a probability to every possible next one. To write, draw a "
        "character from those probabilities, feed it back in, and repeat. **Temperature** divides the "
        "model's scores before they become probabilities: below 1 the likeliest characters gain (safer, "
        "more repetitive), above 1 the odds even out (bolder, more misspelt). **Top-k** (the post's "
        "`pick_top_chars`) draws only among the k likeliest. Every column starts from the same prime with "
        "the same seed: only the setting differs."
    )
    example = _example()
    if example is None:
        return
    cols = st.columns([3, 1])
    prime = cols[0].text_input("Prime", "ROMEO:", max_chars=80, key="tour_gen_prime", bind=state.URL)
    seed = cols[1].number_input("Seed", 0, 2**31 - 1, 0, key="tour_gen_seed", bind=state.URL)
    try:  # the prime is checked once here, not in every column
        example.vocab().encode(gen.column_config(prime, 1.0, int(seed)).prime)
    except (Refusal, ConfigError) as err:
        st.warning(ui.plain(f"The example cannot start from this prime: {err}.", limit=None))
        return
    columns = st.columns(4)
    for i, (col, default) in enumerate(zip(columns, gen.TEMPERATURES)):
        temperature = col.slider("Temperature", 0.1, 2.0, default, 0.05, key=f"tour_gen_t{i}", bind=state.URL)
        _column(col, example, prime, temperature, 0, int(seed))
    top_k = columns[3].slider("Top k (temperature 1)", 1, 20, gen.TOP_K, key="tour_gen_k", bind=state.URL)
    _column(columns[3], example, prime, 1.0, top_k, int(seed))
    best = services.snapshot(example.run_id).best_eval
    reference = (
        f" The example's validation text costs it {best.val_bits:.2f} bits per character." if best else ""
    )
    st.caption(
        "Under each sample: its mean bits per character as the model itself rates it at temperature 1 "
        f"(lower: text the model finds likelier).{reference} The sampler is `core/model/sampler.py`."
    )
    continue_in("Generate", "Generate longer texts, from any run", key="generating")


def _column(col, run_dir: RunDir, prime: str, temperature: float, top_k: int, seed: int) -> None:
    """One sample in its column, and its bits per character."""
    with col, st.spinner("Writing…"):
        checkpoint = services.usable_checkpoint(run_dir) or ""
        text, bits = _sample(str(run_dir.path), checkpoint, prime, temperature, top_k, seed)
    col.code(prime + text, language=None, wrap_lines=True)
    col.caption(f"{bits:.2f} bits per character")
