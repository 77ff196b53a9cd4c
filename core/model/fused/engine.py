"""The `fused` unroller's engine: the whole stack in one forward loop and one hand-derived backward loop.

Autodiff through a while loop (`dynamic`) builds a backward loop that replays every forward op's
gradient at every step, pops each saved intermediate from a stack, and accumulates every weight's
gradient inside the loop. Here the backward pass is written out (tf.custom_gradient), which lets it:
- run every layer in the same iteration of both loops, so layer l at step t overlaps layer l-1 at step
  t+1 (the loops' parallel iterations keep both cores busy);
- compute layer 1's input projection x·W + b for all steps in one large matmul before the loop;
- compute everything of a step's backward that does not depend on the incoming gradient (the gates'
  derivatives, tanh(c), ...) for all steps at once before the backward loop, leaving the loop a few
  multiplies and small matmuls per layer;
- compute the weight gradients after the loop as one large matmul each (Σ_t x_tᵀ·dz_t = Xᵀ·DZ)
  instead of an accumulation at every step.

The cell-specific part is a step rule (core/model/fused/steps.py): given xw = x·W (+ b), the step's recurrent
matmul(s) and nonlinearity, and their derivatives written out (layer norm's included); every cell in
core.model.cells has one. Shapes below: T time, B batch, H units, I the layer's input features, G gates.
"""

from dataclasses import dataclass
from typing import NamedTuple

import tensorflow as tf

from core.model.fused import steps_ln  # noqa: F401  registers the layer-normalised cells' rules
from core.model.fused.steps import RULES


def rule_for(cell):
    """The step rule registered (@rule_of) for this cell's class."""
    if type(cell) not in RULES:
        raise NotImplementedError(
            f"the fused engine has no step rule for {type(cell).__name__}; write one in core/model/fused/steps.py "
            "with @rule_of(its class) (tests/test_fused.py checks every cell has one)"
        )
    return RULES[type(cell)]


def previous(sequence, initial):
    """[T, B, n] values after each step -> [T, B, n] values before it (the step's input state)."""
    return tf.concat([initial[None], sequence[:-1]], 0)


def unroll(stack, xs, state, masks=(), ids=None):
    """xs [T, B, I] time-major, already dropped out; state the stack's flat tuple; masks: for each
    layer above the first, a [T, B, H] dropout mask for its input (0 or 1/keep), or () for none.
    With `ids` [T, B] (int), xs is instead a table [V, I] whose rows are the inputs (an embedding):
    layer 1's x·W is then a lookup in E·W, and xs's gradient is the table's.
    Returns (top layer's outputs [T, B, H], the stack's final flat state)."""
    rules = [rule_for(cell) for cell in stack.cells]
    inputs = Inputs(tuple(state), tuple(layer_vars(k, cell) for k, cell in zip(rules, stack.cells)))
    plan = Plan(rules, stack.split_state, tuple(masks), ids)
    outputs = _run(plan, tf.convert_to_tensor(xs), inputs)
    return outputs[0], tuple(outputs[1:])


class LayerVars(NamedTuple):
    """One layer's variables as tensors, in the order its rule's `weights` gives them."""

    w: object  # W [I, G*H], the input's share of every gate
    u: object  # U [H, G*H], the recurrent share
    extra: tuple  # the rule's own: a bias, layer norm's gains and shifts, ...

    def scaled(self, scale):
        """Every variable with `scale` folded into its columns (None: as it is)."""
        return (
            self
            if scale is None
            else LayerVars(self.w * scale, self.u * scale, tuple(x * scale for x in self.extra))
        )


def layer_vars(rule, cell) -> LayerVars:
    """A cell's variables as tensors, named, in the order its rule's `weights` gives them."""
    w, u, *extra = (tf.convert_to_tensor(v) for v in rule.weights(cell))
    return LayerVars(w, u, tuple(extra))


class Inputs(NamedTuple):
    """Every tensor the engine's custom gradient differentiates besides xs, named; tf.custom_gradient
    takes them flat (tf.nest.flatten: the state, then each layer's W, U and the rule's own) and gives
    their gradients back in that order."""

    state: tuple  # the stack's flat state, [B, n] each
    layers: tuple  # each layer's LayerVars


@dataclass(frozen=True)
class Plan:
    """What a call's loops are built from besides the tensors they differentiate."""

    rules: list  # each layer's StepRule
    split_state: object  # the stack's flat state -> per layer, its state tuple
    masks: tuple  # per layer above the first, its [T, B, H] input dropout mask; () for none
    ids: object  # [T, B] int: xs is a table whose rows these pick (None: xs are the inputs)


@dataclass(frozen=True)
class Layers:
    """Every layer's loop-invariant part, made once per call: rules and weights are per layer."""

    rules: list  # each layer's StepRule
    scaled: list  # each layer's LayerVars, with its rule's column scale folded in
    scales: list  # each layer's column scale (None: none), to unfold from its weight gradients
    prepared: list  # what each rule's `prepare` made for its forward and backward steps
    biases: list  # what is added to each layer's x·W (None: nothing)
    masks: tuple  # per layer above the first, its [T, B, H] input dropout mask; () for none

    def xw(self, x, l):
        """Layer l's input share of every gate: x [..., I] · W (+ b) -> [..., G*H]."""
        w = self.scaled[l].w
        xw = tf.matmul(x, w) if x.shape.rank == 2 else tf.tensordot(x, w, 1)
        return xw if self.biases[l] is None else xw + self.biases[l]


def _layers(rules, raw: list[LayerVars], masks) -> Layers:
    scales = [k.column_scale(v.u.shape[0]) for k, v in zip(rules, raw)]
    scaled = [v.scaled(s) for v, s in zip(raw, scales)]
    prepared = [
        k.prepare(v.u, None if l == 0 else v.w, v.extra) for l, (k, v) in enumerate(zip(rules, scaled))
    ]
    biases = [k.bias(v.extra) for k, v in zip(rules, scaled)]
    return Layers(rules, scaled, scales, prepared, biases, masks)


def _projected(layers: Layers, xs, ids):
    """Layer 1's x·W + b for all steps at once: [T, B, G*H]. When the inputs are rows of a table (`ids`
    [T, B] given, xs the table [V, I]), (E·W + b) looked up: a matmul of V rows instead of T·B."""
    return layers.xw(xs, 0) if ids is None else tf.gather(layers.xw(xs, 0), ids)


def _forward_loop(layers: Layers, xs, init, ids=None):
    """Every layer in one loop over time -> (each layer's final state, what each step saved: per layer,
    [T, B, n] tensors)."""
    steps = tf.shape(xs if ids is None else ids)[0]
    # Per-step reads below index [T, ...] tensors (`projected[t]`). That is safe here, unlike in an
    # autodiffed loop: nothing differentiates these loops, so no full-size gradient per step is
    # built, and it saves copying each tensor into a TensorArray first.
    projected = _projected(layers, xs, ids)  # [T, B, G*H]

    def forward(t, states, written):
        states, written = list(states), list(written)
        x = None
        for l, rule in enumerate(layers.rules):
            if l == 0:
                xw = projected[t]
            else:
                x = x * layers.masks[l - 1][t] if layers.masks else x
                xw = layers.xw(x, l)  # [B, G*H]
            x, states[l], saves = rule.forward(xw, states[l], layers.prepared[l])
            written[l] = tuple(ta.write(t, v) for ta, v in zip(written[l], saves))
        return t + 1, tuple(states), tuple(written)

    written = tuple(
        tuple(tf.TensorArray(xs.dtype, size=steps) for _ in range(k.n_saves)) for k in layers.rules
    )
    _, final, written = tf.while_loop(lambda t, *_: t < steps, forward, (0, tuple(init), written))
    return final, [tuple(ta.stack() for ta in w) for w in written]


def _backward_loop(layers: Layers, factors, d_top, carry0, steps):
    """Every layer back through time in one loop -> (d loss / d initial state per layer, and per layer
    the TensorArrays of d loss / d xw [B, G*H] and the rule's extras, one entry per step)."""

    def backward(t, carry, written):
        carry, written = list(carry), list(written)
        dx = d_top[t]
        for l in reversed(range(len(layers.rules))):
            dh, rest = carry[l][0] + dx, carry[l][1:]
            back = layers.rules[l].backward(
                [f[t] for f in factors[l]], dh, rest, layers.prepared[l], to_input=l > 0
            )  # steps.Back
            dx = back.dx  # to the layer below, at the same step
            if layers.masks and l > 0:
                dx = dx * layers.masks[l - 1][t]
            carry[l] = (back.dh,) + tuple(back.rest)
            written[l] = tuple(ta.write(t, v) for ta, v in zip(written[l], (back.dxw,) + tuple(back.extras)))
        return t - 1, tuple(carry), tuple(written)

    written = tuple(
        tuple(tf.TensorArray(d_top.dtype, size=steps) for _ in range(1 + k.n_extras)) for k in layers.rules
    )  # per layer: dxw, then the rule's extras
    _, d_init, written = tf.while_loop(lambda t, *_: t >= 0, backward, (steps - 1, carry0, written))
    return d_init, written


def _weight_grads(layers: Layers, written, inputs_of, saved, before, factors, xs, ids=None):
    """After the backward loop, each weight's gradient as one large matmul over all steps
    (Σ_t x_tᵀ·dz_t = Xᵀ·DZ) -> (d loss / d xs [T, B, I] (or the table's, [V, I]), every layer's
    variables' gradients in order)."""
    d_weights = []
    for l, rule in enumerate(layers.rules):
        dxw, *extras = (ta.stack() for ta in written[l])
        dxw = tf.reshape(dxw, [-1, tf.shape(dxw)[-1]])  # [T·B, G*H], d loss / d xw (scaled), a row a step
        if l == 0 and ids is not None:
            # Rows of a table: Xᵀ·DZ = Eᵀ·S, S [V, G*H] the sum of DZ's rows per character.
            dxw_in = tf.math.unsorted_segment_sum(dxw, tf.reshape(ids, [-1]), tf.shape(xs)[0])
            x = xs  # the table [V, I]
        else:
            dxw_in, x = dxw, tf.reshape(inputs_of[l], [tf.shape(dxw)[0], -1])
        grads = [
            tf.matmul(x, dxw_in, transpose_a=True),
            rule.recurrent_grad(dxw, saved[l], before[l], layers.prepared[l]),
            *rule.extra_grads(dxw, extras, factors[l]),
        ]
        d_weights += grads if layers.scales[l] is None else [g * layers.scales[l] for g in grads]
        if l == 0:
            d_xs = tf.reshape(tf.matmul(dxw_in, layers.scaled[0].w, transpose_b=True), tf.shape(xs))
    return d_xs, d_weights


def state_sequences(stack, xs, state) -> list[tuple]:
    """The forward loop alone, no gradient: xs [T, B, I] time-major, state the stack's flat tuple ->
    per layer, its state tuple after every step ([T, B, H] each). The fastest way to read a long text
    (core/inside/trace.py), and the very states the fused unroller trains with."""
    rules = [rule_for(cell) for cell in stack.cells]
    layers = _layers(rules, [layer_vars(k, cell) for k, cell in zip(rules, stack.cells)], ())
    _, saved = _forward_loop(layers, xs, stack.split_state(tuple(state)))
    return [rule.sequences(v, p)[1] for rule, v, p in zip(rules, saved, layers.prepared)]


def _run(plan: Plan, xs, inputs: Inputs):
    """Both loops around one tf.custom_gradient function, which must take every tensor it gives a
    gradient for as an argument: xs (or the table, with `ids`), then `inputs` flattened. The plan (the
    masks, `ids`: int, no gradient) is read from the enclosing scope."""
    rules, masks, ids = plan.rules, plan.masks, plan.ids

    @tf.custom_gradient
    def run(xs, *flat):
        named = tf.nest.pack_sequence_as(inputs, flat)  # Inputs again: packed while tracing, free to run
        init = plan.split_state(named.state)  # per layer: its state tuple
        layers = _layers(rules, list(named.layers), masks)
        final, saved = _forward_loop(layers, xs, init, ids)
        hs, states_seq = map(
            list, zip(*(k.sequences(v, p) for k, v, p in zip(rules, saved, layers.prepared)))
        )
        inputs_of = [xs] + ([h * m for h, m in zip(hs, masks)] if masks else hs[:-1])  # what each layer read
        flat_final = tuple(v for s in final for v in s)

        def grad(d_top, *d_final):
            d_top = tf.zeros_like(hs[-1]) if d_top is None else d_top
            before = [tuple(previous(s, s0) for s, s0 in zip(seq, s0s)) for seq, s0s in zip(states_seq, init)]
            factors = [
                k.factors(saved[l], states_seq[l], before[l], layers.prepared[l]) for l, k in enumerate(rules)
            ]
            d_final = [tf.zeros_like(v) if d is None else d for v, d in zip(flat_final, d_final)]
            d_init, written = _backward_loop(
                layers, factors, d_top, tuple(plan.split_state(d_final)), tf.shape(hs[-1])[0]
            )
            d_xs, d_weights = _weight_grads(layers, written, inputs_of, saved, before, factors, xs, ids)
            return (d_xs, *[d for s in d_init for d in s], *d_weights)  # in `flat`'s order

        return (hs[-1],) + flat_final, grad

    return run(xs, *tf.nest.flatten(inputs))
