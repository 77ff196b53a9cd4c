"""The Generate tab: text from any run's latest checkpoint, shown as it is produced."""

import time

import streamlit as st

from core.config import ConfigError, SampleConfig, help_of
from core.runs.store import RunNotFound
from explorer.common import services, state, ui
from explorer.generate import decoding

REDRAW_S = 0.05  # how often the text on the page is updated while characters stream in
DEFAULT = SampleConfig()


def render(owner: str) -> None:
    runs, unusable = services.readable_runs(owner)
    if unusable:  # never generated from: their text would come from untrained weights
        st.caption(
            f"Not listed, because their checkpoints hold no recurrent weights and cannot be sampled "
            f"(their metrics and samples stay on the Runs tab): {', '.join(unusable)}"
        )
    if not runs:
        st.info(
            "No run has a checkpoint yet: train one (checkpoints are saved every few hundred steps, "
            "at each epoch end and when a run stops)."
        )
        return
    run_dir = ui.run_select(
        runs,
        "gen_run",
        "Generates from the run's latest checkpoint, also while it trains.",
        state.selected_run(),
    )
    run_id = run_dir.run_id
    note = services.checkpoint_note(run_dir)
    if note:
        st.warning(f"This run's {note}.")
    config = sample_ui()
    if st.button(
        "Generate",
        key="generate",
        type="primary",
        disabled=config is None,
        help="Prime the network with the text above, then sample one character at a time.",
    ):
        generate(run_id, config)
    elif st.session_state.get("generated"):
        shown = st.session_state["generated"]
        st.caption(f"{shown['run']} at step {shown['step']:,}")
        st.code(shown["text"], language=None, wrap_lines=True)
    decoding.render(run_id, config)


def sample_ui() -> SampleConfig | None:
    """Prime, length, temperature, top-k, argmax and seed; None (with the reason shown) if they cannot work."""
    prime = st.text_input("Prime text", DEFAULT.prime, key="prime", bind=state.URL, help=_help("prime"))
    cols = st.columns(4)
    length = cols[0].number_input(
        "Length", 1, 20_000, DEFAULT.length, 100, key="length", bind=state.URL, help=_help("length")
    )
    temperature = cols[1].slider(
        "Temperature",
        0.1,
        2.0,
        DEFAULT.temperature,
        0.05,
        key="temperature",
        bind=state.URL,
        help=_help("temperature"),
    )
    top_k = cols[2].number_input(
        "Top k (0 = all)", 0, 500, DEFAULT.top_k, 1, key="top_k", bind=state.URL, help=_help("top_k")
    )
    seed = cols[3].number_input(
        "Seed", 0, 2**31 - 1, DEFAULT.seed, 1, key="gen_seed", bind=state.URL, help=_help("seed")
    )
    argmax = st.checkbox(
        "Always take the likeliest character (argmax)",
        DEFAULT.argmax,
        key="argmax",
        bind=state.URL,
        help=_help("argmax") + "; deterministic, and tends to loop.",
    )
    try:
        return SampleConfig(
            length=length, prime=prime, temperature=temperature, top_k=top_k, argmax=argmax, seed=seed
        )
    except ConfigError as err:
        st.error(str(err))
        return None


def _help(name: str) -> str:
    return state.sentence(help_of(SampleConfig, name))


def generate(run_id: str, config: SampleConfig) -> None:
    """Stream the characters into the page, then keep the text for later reruns."""
    from core.model.sampler import SampleError  # late: TensorFlow, which sampling needs anyway

    try:
        with st.spinner("Loading the checkpoint…"):
            sampler, step = services.sampler_for(services.store().get(run_id))
        st.caption(f"{run_id} at step {step:,}")
        text = stream_into(st.empty(), sampler, config)
    except (SampleError, RunNotFound) as err:
        st.error(str(err))
        return
    st.session_state["generated"] = {"run": run_id, "step": step, "text": text}


def stream_into(placeholder, sampler, config: SampleConfig) -> str:
    text, last = config.prime, 0.0
    for char in sampler.stream(config):
        text += char
        if time.monotonic() - last > REDRAW_S:
            placeholder.code(text, language=None, wrap_lines=True)
            last = time.monotonic()
    placeholder.code(text, language=None, wrap_lines=True)
    return text
