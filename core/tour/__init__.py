"""The Tour tab's computations: each section's small live experiment, plain Python and tested.

The app draws them (explorer/tour/); nothing here imports Streamlit or Plotly.
"""
