"""RNN Explorer's core: plain Python and TensorFlow, no Streamlit (explorer/ builds the app on it).

Importing any part of it quiets TensorFlow's C++ start-up lines (CUDA probes, oneDNN notices) unless
the user set TF_CPP_MIN_LOG_LEVEL: see core/quiet.py.
"""

from core.quiet import quiet_tensorflow_start

quiet_tensorflow_start()
