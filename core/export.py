"""`python -m core.export`: runs core/commands/export.py, where the command lives (this short name is kept)."""

import runpy

if __name__ == "__main__":
    runpy.run_module("core.commands.export", run_name="__main__", alter_sys=True)
