"""The Tour's gates read along: one unit's sigmoid gates over a text, taken from the Inside tab's trace.

    tr = Tracer(model, vocab)(text)        # core/model/trace.py: every layer's states and gates
    gate_along(tr, "update", unit=17)      # -> GateReading: that gate's value after each character

Nothing is recomputed here: the values are the trace's own, picked out and named.
"""

from typing import NamedTuple

import numpy as np

from core.model.cells import CELLS
from core.model.trace import Trace


class GateReading(NamedTuple):
    """One gate of one unit along a text."""

    text: str
    gate: str  # a name in the cell's gate_names ("update", "reset"; "input", "forget", "output")
    layer: int  # 0-based
    unit: int
    values: np.ndarray  # [N] the gate's value (0..1) at each character, as the network read it


def gate_names(cell: str) -> tuple[str, ...]:
    """The sigmoid gates a registered cell reports, in its own order (() for the basic RNN)."""
    return CELLS[cell].impl.gate_names


def gate_along(trace: Trace, gate: str, unit: int, layer: int = 0) -> GateReading:
    """`gate`'s value for `unit` of `layer` at every character; KeyError naming the gates there are."""
    if gate not in trace.gates:
        raise KeyError(f"no {gate!r} gate in this network; it has: {', '.join(trace.gates) or 'none'}")
    return GateReading(trace.text, gate, layer, unit, trace.gates[gate][layer, :, unit])  # [L, N, H] -> [N]


def unit_gates(trace: Trace, unit: int, layer: int = 0) -> dict[str, np.ndarray]:
    """Every gate of one unit along the text: gate name -> [N]."""
    return {name: values[layer, :, unit] for name, values in trace.gates.items()}


def liveliest_units(trace: Trace, gate: str, layer: int = 0, count: int = 3) -> list[int]:
    """The units whose `gate` moves most over this text (largest standard deviation), liveliest first:
    a unit whose gate stays put shows nothing when read along."""
    spread = trace.gates[gate][layer].std(axis=0)  # [H]
    return [int(u) for u in np.argsort(-spread, kind="stable")[:count]]
