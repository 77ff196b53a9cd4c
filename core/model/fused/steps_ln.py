"""The fused engine's step rules for the layer-normalised cells (core.model.cells.LayerNormLSTMCell and
LayerNormGRUCell): as their plain twins in core/model/fused/steps.py, with layer norm's backward written out.

Layer norm y = x̂·γ + β with x̂ = (x - mean) / σ over a block of units has the backward
dx = (dx̂ - mean(dx̂) - x̂·mean(dx̂·x̂)) / σ, with dx̂ = dy·γ: two means per block inside the loop; x̂
and 1/σ are factors, computed for every step at once before it.
"""

from typing import NamedTuple

import tensorflow as tf

from core.model import cells
from core.model.cells import LN_EPSILON
from core.model.fused.steps import Back, GRURule, LSTMRule, candidate_doubled, rule_of


def normalized(x):
    """((x - mean) / sqrt(var + ε), 1 / sqrt(var + ε)) over the last axis: core.model.cells.layer_norm before
    its gain and shift, and the factor its backward needs."""
    mean, var = tf.nn.moments(x, axes=[-1], keepdims=True)
    inv = tf.math.rsqrt(var + LN_EPSILON)
    return (x - mean) * inv, inv


def normalize(x):
    return normalized(x)[0]


class LNLSTMFactors(NamedTuple):
    """What a layer-normed LSTM's backward step needs of every step, computed for all steps at once."""

    dyc_dh: object  # how h's gradient reaches c's LN output [T, B, H]
    per_gate: object  # d loss/d (gates' LN output) per unit of [dc, dc, dc, dh] [T, B, 4H]
    f: object  # the forget gate [T, B, H]
    c_normed: object  # c's x̂ [T, B, H] and its 1/σ [T, B, 1]
    c_inv: object
    z_normed: object  # each gate's x̂ [T, B, 4, H] and its 1/σ [T, B, 4, 1]
    z_inv: object


@rule_of(cells.LayerNormLSTMCell)
class LayerNormLSTMRule(LSTMRule):
    """core.model.cells.LayerNormLSTMCell: z = xw + h·U with no bias; each gate's block of z layer-normed with
    its own gain and shift; and c layer-normed before the output tanh. The candidate's 2σ(2x) - 1 is
    folded into the gate's gain and shift for the forward only; the backward works unscaled."""

    n_saves, n_extras = (
        3,
        2,
    )  # saves c, σ of all gates, z; hands out d loss/d (gates' LN output), d loss/d (c's)

    def weights(self, cell):
        return cell.kernel, cell.recurrent_kernel, cell.gain, cell.shift, cell.out_gain, cell.out_shift

    def bias(self, extra):
        return None

    def column_scale(self, units):
        return None

    def prepare(self, u, w, extra):
        gain, shift, out_gain, out_shift = extra
        units = out_gain.shape[0]
        scale = candidate_doubled(units)
        blocks = lambda v: tf.reshape(v, [4, units])  # [4H] -> [4, H]: a row per gate
        u, back, _ = super().prepare(u, w, extra)
        return u, back, (blocks(gain * scale), blocks(shift * scale), blocks(gain), out_gain, out_shift)

    def activate(self, z, state, extra):
        _, c = state
        gain, shift, _, out_gain, out_shift = extra
        units = out_gain.shape[0]
        normed = normalize(tf.reshape(z, [-1, 4, units]))  # [B, 4, H]: each gate over its own units
        s = tf.sigmoid(tf.reshape(normed * gain + shift, [-1, 4 * units]))
        i, f, g, o = tf.split(s, 4, axis=-1)
        c = f * c + i * (2 * g - 1)
        h = o * tf.tanh(normalize(c) * out_gain + out_shift)
        return h, (h, c), (c, s, z)

    def sequences(self, saves, prepared):
        cs, s, _ = saves
        _, _, (_, _, _, out_gain, out_shift) = prepared
        hs = tf.split(s, 4, axis=-1)[3] * tf.tanh(normalize(cs) * out_gain + out_shift)
        return hs, (hs, cs)

    def factors(self, saves, states, previous_states, prepared):
        cs, s, z = saves  # [T, B, H], [T, B, 4H], [T, B, 4H]
        _, c_prev = previous_states
        _, _, (_, _, _, out_gain, out_shift) = prepared
        units = cs.shape[-1]
        i, f, g, o = tf.split(s, 4, axis=-1)
        c_normed, c_inv = normalized(cs)
        tanh_c = tf.tanh(c_normed * out_gain + out_shift)
        z_normed, z_inv = normalized(tf.reshape(z, [-1, tf.shape(z)[1], 4, units]))  # [T, B, 4, H]
        # d loss/d (gates' LN output, unscaled) = [dc·g, dc·c_prev, dc·i, dh·tanh] ⊙ σ' ⊙ scale
        per_gate = tf.concat([2 * g - 1, c_prev, 2 * i, tanh_c], -1) * s * (1 - s) * candidate_doubled(units)
        return LNLSTMFactors(o * (1 - tanh_c * tanh_c), per_gate, f, c_normed, c_inv, z_normed, z_inv)

    def step_back(self, factors, dh, rest, extra):
        dyc_dh, per_gate, f, c_normed, c_inv, z_normed, z_inv = factors  # this step's
        (dc,) = rest
        _, _, gain, out_gain, _ = extra
        units = out_gain.shape[0]
        mean = lambda v: tf.reduce_mean(v, axis=-1, keepdims=True)
        dyc = dh * dyc_dh  # d loss/d (c's LN output)
        d = dyc * out_gain
        dc = dc + (d - mean(d) - c_normed * mean(d * c_normed)) * c_inv
        dy = tf.concat([dc, dc, dc, dh], -1) * per_gate  # d loss/d (gates' LN output) [B, 4H]
        d = tf.reshape(dy, [-1, 4, units]) * gain
        dz = tf.reshape((d - mean(d) - z_normed * mean(d * z_normed)) * z_inv, [-1, 4 * units])
        return dz, (dc * f,), (dy, dyc)

    def extra_grads(self, dxw, extras, factors):
        dy, dyc = extras  # [T, B, 4H], [T, B, H]
        c_normed, z_normed = factors.c_normed, factors.z_normed  # [T, B, H], [T, B, 4, H]
        total = lambda v: tf.reduce_sum(v, axis=[0, 1])
        return total(dy * tf.reshape(z_normed, tf.shape(dy))), total(dy), total(dyc * c_normed), total(dyc)


class LNGRUWeights(NamedTuple):
    """GRUWeights, and the layer norms' gains and shifts: z's and r's as rows of [2, H], the candidate's [H]."""

    u_zr: object
    u_n: object
    u_zr_t: object
    u_n_t: object
    w_t: object
    zr_gain: object
    zr_shift: object
    n_gain: object
    n_shift: object


class LNGRUFactors(NamedTuple):
    """GRUFactors, and the layer norms' x̂ and 1/σ: z's and r's [T, B, 2, H], the candidate's [T, B, H]."""

    to_n: object
    to_z: object
    to_r: object
    z: object
    r: object
    zr_normed: object
    zr_inv: object
    n_normed: object
    n_inv: object


@rule_of(cells.LayerNormGRUCell)
class LayerNormGRURule(GRURule):
    """core.model.cells.LayerNormGRUCell: as GRURule with no bias, and each pre-activation layer-normed with
    its own gain and shift (z's and r's, and the candidate's x·W_n + (r·h)·U_n together)."""

    n_extras = 2  # hands out d loss/d (z's and r's LN output) [B, 2H], d loss/d (candidate's) [B, H]

    def weights(self, cell):
        return cell.kernel, cell.recurrent_kernel, cell.gain, cell.shift

    def bias(self, extra):
        return None

    def prepare(self, u, w, extra):
        gain, shift = extra
        units = u.shape[0]
        return LNGRUWeights(
            *super().prepare(u, w, extra),
            tf.reshape(gain[: 2 * units], [2, units]),
            tf.reshape(shift[: 2 * units], [2, units]),
            gain[2 * units :],
            shift[2 * units :],
        )

    def forward(self, xw, state, prepared):
        u_zr, u_n = prepared.u_zr, prepared.u_n
        (h,) = state
        units = h.shape[-1]
        a_zr = xw[:, : 2 * units] + tf.matmul(h, u_zr)  # [B, 2H] before layer norm
        z, r = tf.split(self.zr_of(a_zr, prepared), 2, axis=-1)
        a_n = xw[:, 2 * units :] + tf.matmul(r * h, u_n)
        n = self.n_of(a_n, prepared)
        h = z * h + (1.0 - z) * n
        return h, (h,), (h, a_zr, a_n)

    def zr_of(self, a_zr, prepared):
        """σ(LN(a)) for z and r, each over its own units: a [..., 2H] -> [..., 2H]."""
        gain, shift = prepared.zr_gain, prepared.zr_shift
        blocks = tf.concat([tf.shape(a_zr)[:-1], [2, gain.shape[1]]], 0)
        return tf.sigmoid(tf.reshape(normalize(tf.reshape(a_zr, blocks)) * gain + shift, tf.shape(a_zr)))

    def n_of(self, a_n, prepared):
        return tf.tanh(normalize(a_n) * prepared.n_gain + prepared.n_shift)

    def reset_gates(self, saves, prepared):
        return tf.split(self.zr_of(saves[1], prepared), 2, axis=-1)[1]

    def factors(self, saves, states, previous_states, prepared):
        _, a_zr, a_n = saves  # [T, B, 2H], [T, B, H]
        (h_prev,) = previous_states
        units = h_prev.shape[-1]
        z, r = tf.split(self.zr_of(a_zr, prepared), 2, axis=-1)
        n = self.n_of(a_n, prepared)
        zr_normed, zr_inv = normalized(tf.reshape(a_zr, tf.concat([tf.shape(a_zr)[:-1], [2, units]], 0)))
        n_normed, n_inv = normalized(a_n)  # [T, B, 2, H] and [T, B, H], with their 1/σ
        to_n, to_z, to_r = (1 - z) * (1 - n * n), (h_prev - n) * z * (1 - z), h_prev * r * (1 - r)
        return LNGRUFactors(to_n, to_z, to_r, z, r, zr_normed, zr_inv, n_normed, n_inv)

    def backward(self, factors, dh, rest, prepared, to_input):
        to_n, to_z, to_r, z, r, zr_normed, zr_inv, n_normed, n_inv = factors  # this step's
        u_zr_t, u_n_t, w_t = prepared.u_zr_t, prepared.u_n_t, prepared.w_t
        zr_gain, n_gain = prepared.zr_gain, prepared.n_gain
        units = dh.shape[-1]
        mean = lambda v: tf.reduce_mean(v, axis=-1, keepdims=True)
        dy_n = dh * to_n  # d loss/d (candidate's LN output)
        d = dy_n * n_gain
        d_n = (d - mean(d) - n_normed * mean(d * n_normed)) * n_inv  # d loss/d a_n
        d_rh = tf.matmul(d_n, u_n_t)
        dy_zr = tf.concat([dh * to_z, d_rh * to_r], -1)  # d loss/d (z's and r's LN output) [B, 2H]
        d = tf.reshape(dy_zr, [-1, 2, units]) * zr_gain
        d_zr = tf.reshape((d - mean(d) - zr_normed * mean(d * zr_normed)) * zr_inv, [-1, 2 * units])
        dxw = tf.concat([d_zr, d_n], -1)  # [B, 3H]
        dh = dh * z + d_rh * r + tf.matmul(d_zr, u_zr_t)
        return Back(dxw, dh, (), tf.matmul(dxw, w_t) if to_input else None, (dy_zr, dy_n))

    def extra_grads(self, dxw, extras, factors):
        dy_zr, dy_n = extras  # [T, B, 2H], [T, B, H]
        zr_normed, n_normed = factors.zr_normed, factors.n_normed  # [T, B, 2, H], [T, B, H]
        total = lambda v: tf.reduce_sum(v, axis=[0, 1])
        return (
            tf.concat([total(dy_zr * tf.reshape(zr_normed, tf.shape(dy_zr))), total(dy_n * n_normed)], 0),
            tf.concat([total(dy_zr), total(dy_n)], 0),
        )
