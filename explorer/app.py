"""RNN Explorer: train character-level RNNs, watch them learn, compare runs and generate text.

streamlit run explorer/app.py        (from the repo root; runs go to runs/ or $RNN_EXPLORER_RUNS_DIR)
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if (
    str(ROOT) not in sys.path
):  # `streamlit run explorer/app.py` puts explorer/, not the repo root, on the path
    sys.path.insert(0, str(ROOT))

# Streamlit runs this file as __main__. A spawned training process re-imports its parent's main script
# (as __mp_main__): the guard keeps the page, and its imports, from running there.
if __name__ == "__main__":
    from explorer.main import main

    main()
