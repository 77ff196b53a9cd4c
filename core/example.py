"""`python -m core.example`: runs core/commands/example.py, where the command lives (this short name is kept)."""

import runpy

if __name__ == "__main__":
    runpy.run_module("core.commands.example", run_name="__main__", alter_sys=True)
