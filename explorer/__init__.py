"""RNN Explorer's Streamlit app: pages, sidebar controls and figures over the core (explorer -> core)."""
