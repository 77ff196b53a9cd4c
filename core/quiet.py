"""TensorFlow's start-up chatter kept off the terminal, unless the user asked for TF's own log level.

Some lines (the CUDA driver probes) are written by C++ code while `import tensorflow` runs, before
TensorFlow reads TF_CPP_MIN_LOG_LEVEL, so the level alone cannot hide them: the import itself runs
with the process's stderr pointed at /dev/null. A Python error in the import still shows: its
traceback is printed after stderr is back.
"""

import importlib.abc
import importlib.util
import os
import sys

OURS = "RNN_EXPLORER_QUIET_TF"  # set by us, so child processes (workers) stay quiet too


def quiet_tensorflow_start() -> None:
    """From now on in this process (and its children), import TensorFlow without its C++ start-up lines."""
    if "TF_CPP_MIN_LOG_LEVEL" in os.environ and OURS not in os.environ:
        return  # the user's own choice
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = os.environ[OURS] = "3"
    if "tensorflow" not in sys.modules and not any(isinstance(f, _QuietImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _QuietImport())


class _QuietImport(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds `tensorflow` the usual way, then runs its module code with stderr silenced."""

    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow":
            return None
        sys.meta_path.remove(self)  # once is enough, and find_spec below must not find us again
        spec = importlib.util.find_spec(name)
        if spec is not None:
            self.loader, spec.loader = spec.loader, self
        return spec

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        sys.stderr.flush()
        saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        try:
            self.loader.exec_module(module)
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            os.close(devnull)
