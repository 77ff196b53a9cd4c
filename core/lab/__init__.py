"""The Build time lab's work, apart from its drawing: one experiment, cell comparison or sweep measured at a
time in a thread (jobs.py), and the results it saves, lists and loads, shaped into table rows (results.py).

The app draws them (explorer/lab/); nothing here imports Streamlit or Plotly.
"""
