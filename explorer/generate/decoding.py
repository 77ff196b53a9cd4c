"""The Generate tab's two other ways to choose characters: beam search, and one prime at many temperatures.

Each result is scored by the model itself at temperature 1 (core.model.decoding): bits per character is
how surprised the network is by the text — low is sure (and often dull), high is varied (and often noise).
"""

import pandas as pd
import streamlit as st

from core.config import SampleConfig
from core.runs.store import RunNotFound
from explorer.common import services, ui

SWEEP = (
    0.2,
    0.5,
    0.8,
    1.0,
    1.5,
)  # temperatures offered first: from nearly argmax to well past the model's own


def render(run_id: str, config: SampleConfig | None) -> None:
    """Both sections, for the run and the prime/seed chosen above them (`config` None: not valid yet)."""
    with st.expander("Beam search: the likeliest text the model can find", expanded=False):
        _beam(run_id, config)
    with st.expander("Temperature sweep: the same prime and seed, from sure to varied", expanded=False):
        _sweep(run_id, config)


def _beam(run_id: str, config: SampleConfig | None) -> None:
    st.markdown(
        "Sampling picks one character at a time. **Beam search** keeps the *width* likeliest beginnings at "
        "every step and tries every next character on each, so it finds text the model finds likelier than "
        "any one greedy path. Width 1 is the same as *argmax*."
    )
    cols = st.columns(2)
    width = cols[0].slider("Beam width", 1, 16, 4, key="beam_width")
    length = cols[1].number_input("Characters", 10, 1000, 200, 10, key="beam_length")
    if st.button("Search", key="beam_go", disabled=config is None, help="Uses the prime text above."):
        from core.model.decoding import beam_search  # late: TensorFlow

        found = _with_sampler(run_id, lambda sampler: beam_search(sampler, config.prime, int(length), width))
        if found is not None:
            st.session_state["beam_found"] = {"run": run_id, "prime": config.prime, "found": found}
    shown = st.session_state.get("beam_found")
    if shown and shown["run"] == run_id:
        best = shown["found"][0]
        st.caption(f"The likeliest of {len(shown['found'])}: {best.bits_per_char:.2f} bits a character")
        st.code(shown["prime"] + best.text, language=None, wrap_lines=True)
        _table(shown["found"], "beam")


def _sweep(run_id: str, config: SampleConfig | None) -> None:
    st.markdown(
        "The same prime and seed sampled at several **temperatures**. Each text is then scored by the model "
        "at temperature 1: *bits a character* is how surprised the network is by it. Cool samples are sure "
        "and repeat themselves; hot ones are varied and drift into noise."
    )
    temperatures = st.multiselect("Temperatures", [0.1, *SWEEP, 2.0], list(SWEEP), key="sweep_temperatures")
    length = st.number_input("Characters", 10, 1000, 200, 10, key="sweep_length")
    if st.button("Sweep", key="sweep_go", disabled=config is None or not temperatures):
        from core.model.decoding import temperature_sweep

        cfg = SampleConfig(
            length=int(length), prime=config.prime, top_k=config.top_k, seed=config.seed, temperature=1.0
        )
        bar = st.progress(0.0, "Sampling…")
        done = []

        def each(sampler):
            for i, t in enumerate(sorted(temperatures)):
                done.extend(temperature_sweep(sampler, cfg, [t]))
                bar.progress((i + 1) / len(temperatures), f"Sampled at temperature {t}")
            return done

        if _with_sampler(run_id, each) is not None:
            st.session_state["sweep_found"] = {"run": run_id, "prime": config.prime, "found": done}
        bar.empty()
    shown = st.session_state.get("sweep_found")
    if shown and shown["run"] == run_id:
        _table(shown["found"], "sweep")
        for s in shown["found"]:
            st.caption(f"Temperature {s.temperature}: {s.bits_per_char:.2f} bits a character")
            st.code(shown["prime"] + s.text, language=None, wrap_lines=True)


def _with_sampler(run_id: str, work):
    """work(sampler) on the run's latest checkpoint, or None with the reason on the page."""
    from core.model.sampler import SampleError

    try:
        with st.spinner("Loading the checkpoint…"):
            sampler, _ = services.sampler_for(services.store().get(run_id))
        return work(sampler)
    except (SampleError, RunNotFound) as err:
        st.error(ui.reason(err))
        return None


def _table(found, kind: str) -> None:
    rows = [
        {
            ("temperature" if kind == "sweep" else "rank"): s.temperature if kind == "sweep" else i + 1,
            "bits a character": s.bits_per_char,
            "log-likelihood (nats)": s.log_likelihood,
            "begins": s.text[:60],
        }
        for i, s in enumerate(found)
    ]
    st.dataframe(
        pd.DataFrame(rows),
        hide_index=True,
        column_config={
            "bits a character": st.column_config.NumberColumn(
                format="%.2f", help="-log2 p(text) / characters, under the model at temperature 1"
            ),
            "log-likelihood (nats)": st.column_config.NumberColumn(format="%.1f"),
        },
    )
