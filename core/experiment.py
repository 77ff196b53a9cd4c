"""`python -m core.experiment`: runs core/commands/experiment.py, where the command lives (this short name is kept)."""

import runpy

if __name__ == "__main__":
    runpy.run_module("core.commands.experiment", run_name="__main__", alter_sys=True)
