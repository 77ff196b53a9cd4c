"""The fused engine's step rules: one cell's step, and its derivative written out by hand, for
core/model/fused/engine.py (the layer-normalised cells' are in core/model/fused/steps_ln.py). `@rule_of(Cell)`
registers a rule for its cell: a new cell needs its class in core/model/cells.py and one rule here.

Each rule mirrors one cell of core/model/cells.py (tests/test_unrollers.py and tests/test_fused.py hold them
to the cells' own numbers and autodiff's gradients). Shapes: T time, B batch, H units, I the layer's
input features, G gates (the rules' column blocks).
"""

from typing import NamedTuple

import tensorflow as tf

from core.model import cells

RULES: dict[type, "StepRule"] = {}  # cell class -> its rule; filled by @rule_of below each rule


class Back(NamedTuple):
    """One backward step's results (StepRule.backward): plain Python around tensors, so free in a graph."""

    dxw: object  # d loss/d xw [B, G*H] (scaled, as the loops' weights are)
    dh: object  # d loss/d h before the step [B, H]
    rest: tuple  # the other state tensors' gradients before the step (an LSTM's dc), [B, H] each
    dx: object  # d loss/d the layer's input x [B, I] if asked (`to_input`), else None
    extras: tuple  # per-step tensors for `extra_grads` (layer norm's), () for none


def rule_of(cell_class):
    """Class decorator: this rule is `cell_class`'s step and derivative (one instance serves every layer)."""

    def register(rule_class):
        RULES[cell_class] = rule_class()
        return rule_class

    return register


class StepRule:
    """One cell's step for the engine. Per layer, the engine calls `prepare` once, `forward` at every
    step of the forward loop, `sequences` and `factors` once over all steps, `backward` at every step of
    the backward loop, then `recurrent_grad` and `extra_grads` once. The defaults here: variables W, U, b.
    """

    n_states = n_saves = 1  # tensors in the cell's state tuple; tensors `forward` saves per step
    n_extras = 0  # per-step tensors `backward` hands out for `extra_grads`

    def prepare(self, u, w, extra):
        """Loop-invariant tensors for `forward` and `backward`, from U [H, G*H], W [I, G*H] (None for
        layer 1, whose x·W is done before the loop) and the variables after them (`extra`)."""
        raise NotImplementedError

    def forward(self, xw, state, prepared):
        """xw [B, G*H], the state before the step -> (h [B, H], the state after it, tensors to save)."""
        raise NotImplementedError

    def sequences(self, saves, prepared):
        """What the forward loop saved, [T, B, n] each -> (outputs [T, B, H], each state tensor's sequence)."""
        raise NotImplementedError

    def factors(self, saves, states, previous_states, prepared):
        """All of a backward step that does not depend on the incoming gradient, for every step at once
        ([T, B, ...] each); `backward` gets them one step at a time."""
        raise NotImplementedError

    def backward(self, factors, dh, rest, prepared, to_input):
        """One step back: this step's factors, d loss/d h and the other state tensors' gradients after
        the step -> Back(dxw, dh, rest, dx, extras): the gradients before it."""
        raise NotImplementedError

    def recurrent_grad(self, dxw, saves, previous_states, prepared):
        """d loss/d U [H, G*H] from every step's d loss/d xw [T·B, G*H] and the states before each step."""
        raise NotImplementedError

    def weights(self, cell) -> tuple:
        """The cell's variables in the order the engine passes them: W, U, then the rule's own."""
        return cell.kernel, cell.recurrent_kernel, cell.bias

    def bias(self, extra):
        """What is added to x·W (None: nothing), from the variables after W and U."""
        return extra[0]

    def extra_grads(self, dxw, extras, factors):
        """Gradients of the variables after W and U, from every step's d loss/d xw [T·B, G*H], the
        per-step tensors `backward` handed out and the `factors` ([T, B, ...] each)."""
        return (tf.reduce_sum(dxw, 0),)

    def column_scale(self, units):
        """Per-column factor folded into W, U and b (None: none); see LSTMRule. The loops work with
        the scaled weights throughout; the weight gradients are scaled back once, after the loop."""
        return None


class SingleMatmulRule(StepRule):
    """Cells whose step is z = xw + h·U, then a function of z and the state (rnn, lstm, ln_lstm).

    Subclasses give `activate` (forward) and `factors`/`step_back` (its derivative)."""

    def prepare(self, u, w, extra):
        # For layers above the first, dz goes back twice per step (to the layer's own h and to the
        # layer below): one [B, G*H]·[G*H, H+I] matmul costs this CPU about half the core time of two.
        back = tf.transpose(u) if w is None else tf.concat([tf.transpose(u), tf.transpose(w)], 1)
        return u, back, extra

    def forward(self, xw, state, prepared):
        u, _, extra = prepared
        return self.activate(xw + tf.matmul(state[0], u), state, extra)

    def backward(self, factors, dh, rest, prepared, to_input):
        u, back, extra = prepared
        dz, rest, extras = self.step_back(factors, dh, rest, extra)
        if not to_input:
            return Back(dz, tf.matmul(dz, back), rest, None, extras)
        dh, dx = tf.split(tf.matmul(dz, back), [u.shape[0], -1], 1)
        return Back(dz, dh, rest, dx, extras)

    def recurrent_grad(self, dz, saves, previous_states, prepared):
        h_prev = previous_states[0]
        return tf.matmul(tf.reshape(h_prev, [-1, h_prev.shape[-1]]), dz, transpose_a=True)


@rule_of(cells.BasicRNNCell)
class RNNRule(SingleMatmulRule):
    """h = tanh(z)."""

    def activate(self, z, state, extra):
        h = tf.tanh(z)
        return h, (h,), (h,)

    def sequences(self, saves, prepared):
        (hs,) = saves
        return hs, (hs,)

    def factors(self, saves, states, previous_states, prepared):
        (hs,) = states  # [T, B, H]
        return (1 - hs * hs,)

    def step_back(self, factors, dh, rest, extra):
        (dtanh,) = factors
        return dh * dtanh, (), ()


def candidate_doubled(units):
    """[4H] ones, with twos over the candidate's block (Keras's gate order i, f, g, o): scaling its
    pre-activation by 2 lets tanh(x) = 2σ(2x) - 1 share the other gates' single sigmoid."""
    one, two = tf.ones([units]), 2 * tf.ones([units])
    return tf.concat([one, one, two, one], 0)


@rule_of(cells.LSTMCell)
class LSTMRule(SingleMatmulRule):
    """i, f, o = σ(z_i, z_f, z_o); g = tanh(z_g); c = f·c + i·g; h = o·tanh(c).

    tanh(x) = 2σ(2x) - 1, so the candidate's columns of W, U and b are doubled (column_scale) and one
    sigmoid over all four gates replaces a split into sigmoids and a tanh.
    """

    n_states, n_saves = 2, 2  # state (h, c); saves c and σ of all gates

    def column_scale(self, units):
        return candidate_doubled(units)

    def activate(self, z, state, extra):
        _, c = state  # [B, H]
        s = tf.sigmoid(z)  # z [B, 4H], already scaled
        i, f, g, o = tf.split(s, 4, axis=-1)
        c = f * c + i * (2 * g - 1)
        h = o * tf.tanh(c)
        return h, (h, c), (c, s)  # h is rebuilt from these after the loop: one write less per step

    def sequences(self, saves, prepared):
        cs, s = saves  # [T, B, H], [T, B, 4H]
        hs = tf.split(s, 4, axis=-1)[3] * tf.tanh(cs)
        return hs, (hs, cs)

    def factors(self, saves, states, previous_states, prepared):
        cs, s = saves
        _, c_prev = previous_states
        i, f, g, o = tf.split(s, 4, axis=-1)
        tanh_c = tf.tanh(cs)
        dc_dh = o * (1 - tanh_c * tanh_c)  # how h's gradient reaches c
        # d loss/d z (scaled) = [dc·g, dc·c_prev, dc·i, dh·tanh c] ⊙ σ' (g = 2σ - 1, so dg/dσ = 2):
        per_gate = tf.concat([2 * g - 1, c_prev, 2 * i, tanh_c], -1) * s * (1 - s)
        return dc_dh, per_gate, f

    def step_back(self, factors, dh, rest, extra):
        dc_dh, per_gate, f = factors  # [B, H], [B, 4H], [B, H] at this step
        (dc,) = rest
        dc = dc + dh * dc_dh
        dz = tf.concat([dc, dc, dc, dh], -1) * per_gate
        return dz, (dc * f,), ()


class GRUWeights(NamedTuple):
    """A GRU layer's recurrent weights as its steps use them ([H, 2H], [H, H] and their transposes)."""

    u_zr: object  # U's update and reset columns [H, 2H]
    u_n: object  # U's candidate columns [H, H]
    u_zr_t: object  # [2H, H]
    u_n_t: object  # [H, H]
    w_t: object  # Wᵀ [G*H, I], to pass the gradient down to the layer's input (None for the first layer)


class GRUFactors(NamedTuple):
    """What a GRU's backward step needs of every step, computed for all steps at once: [T, B, H] each."""

    to_n: object  # d loss/d (n's pre-activation) per unit of dh
    to_z: object  # d loss/d (z's pre-activation) per unit of dh
    to_r: object  # d loss/d (r's pre-activation) per unit of d(r·h)
    z: object
    r: object


@rule_of(cells.GRUCell)
class GRURule(StepRule):
    """z, r = σ(xw_zr + h·U_zr); n = tanh(xw_n + (r·h)·U_n); h' = n + z·(h - n) (core.model.cells.GRUCell:
    the reset gate before the recurrent matmul, so a step has two matmuls one after the other)."""

    n_states, n_saves = 1, 3  # state (h,); saves h', σ of z and r, and n

    def prepare(self, u, w, extra):
        units = u.shape[0]
        u_zr, u_n = u[:, : 2 * units], u[:, 2 * units :]
        return GRUWeights(
            u_zr, u_n, tf.transpose(u_zr), tf.transpose(u_n), None if w is None else tf.transpose(w)
        )

    def forward(self, xw, state, prepared):
        u_zr, u_n = prepared.u_zr, prepared.u_n
        (h,) = state
        units = h.shape[-1]
        zr = tf.sigmoid(xw[:, : 2 * units] + tf.matmul(h, u_zr))  # [B, 2H]
        z, r = tf.split(zr, 2, axis=-1)
        n = tf.tanh(xw[:, 2 * units :] + tf.matmul(r * h, u_n))
        h = n + z * (h - n)
        return h, (h,), (h, zr, n)

    def sequences(self, saves, prepared):
        hs = saves[0]
        return hs, (hs,)

    def reset_gates(self, saves, prepared):
        """r at every step [T, B, H], from the saves."""
        return tf.split(saves[1], 2, axis=-1)[1]

    def factors(self, saves, states, previous_states, prepared):
        _, zr, n = saves
        (h_prev,) = previous_states
        z, r = tf.split(zr, 2, axis=-1)
        return GRUFactors((1 - z) * (1 - n * n), (h_prev - n) * z * (1 - z), h_prev * r * (1 - r), z, r)

    def backward(self, factors, dh, rest, prepared, to_input):
        to_n, to_z, to_r, z, r = factors  # this step's
        u_zr_t, u_n_t, w_t = prepared.u_zr_t, prepared.u_n_t, prepared.w_t
        d_n = dh * to_n
        d_rh = tf.matmul(d_n, u_n_t)  # d loss/d (r·h) [B, H]
        d_zr = tf.concat([dh * to_z, d_rh * to_r], -1)
        dxw = tf.concat([d_zr, d_n], -1)  # [B, 3H]
        dh = dh * z + d_rh * r + tf.matmul(d_zr, u_zr_t)
        return Back(dxw, dh, (), tf.matmul(dxw, w_t) if to_input else None, ())

    def recurrent_grad(self, dxw, saves, previous_states, prepared):
        (h_prev,) = previous_states
        units = h_prev.shape[-1]
        r = self.reset_gates(saves, prepared)
        rows = lambda x: tf.reshape(x, [-1, units])
        return tf.concat(
            [
                tf.matmul(rows(h_prev), dxw[:, : 2 * units], transpose_a=True),
                tf.matmul(rows(r * h_prev), dxw[:, 2 * units :], transpose_a=True),
            ],
            1,
        )
