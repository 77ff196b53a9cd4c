"""`python -m core.cluster`: runs core/commands/cluster.py, where the command lives (this short name is kept)."""

import runpy

if __name__ == "__main__":
    runpy.run_module("core.commands.cluster", run_name="__main__", alter_sys=True)
