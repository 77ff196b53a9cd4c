"""The least a Streamlit page can be: the two widgets benchmarks/app_targets.py waits for on the first page
(a slider and the sidebar's Start button), and nothing else. `--only floor` times it as it times the app,
so the app's first-page figure can be read against what Streamlit and the browser take on this machine."""

import streamlit as st

st.sidebar.button("Start training")
st.slider("batch_size: rows side by side", 2, 8, 4)
