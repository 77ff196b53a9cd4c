"""RNN Explorer's core: corpus, cells, unrollers, model, trainer and sampler (no UI imports here)."""
import os

# TensorFlow's C++ start-up chatter (oneDNN, CUDA probing) is noise to our users; errors still show.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
