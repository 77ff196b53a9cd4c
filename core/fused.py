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

A kernel is the cell-specific part: given xw = x·W (+ b), the step's recurrent matmul(s) and
nonlinearity, and their derivatives written out (layer norm's included). Every cell in core.cells has
one (KERNELS). Shapes below: T time, B batch, H units, I the layer's input features, G gates (the
kernels' column blocks).
"""
import tensorflow as tf

from core.cells import LN_EPSILON


def previous(sequence, initial):
    """[T, B, n] values after each step -> [T, B, n] values before it (the step's input state)."""
    return tf.concat([initial[None], sequence[:-1]], 0)


class Kernel:
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
        the step -> (d loss/d xw [B, G*H] (scaled), d loss/d h before it, the other state gradients
        before it, d loss/d x [B, I] if `to_input` else None, per-step tensors for `extra_grads`)."""
        raise NotImplementedError

    def recurrent_grad(self, dxw, saves, previous_states, prepared):
        """d loss/d U [H, G*H] from every step's d loss/d xw [T·B, G*H] and the states before each step."""
        raise NotImplementedError

    def weights(self, cell) -> tuple:
        """The cell's variables in the order the engine passes them: W, U, then the kernel's own."""
        return cell.kernel, cell.recurrent_kernel, cell.bias

    def bias(self, extra):
        """What is added to x·W (None: nothing), from the variables after W and U."""
        return extra[0]

    def extra_grads(self, dxw, extras, saves, prepared):
        """Gradients of the variables after W and U, from every step's d loss/d xw [T·B, G*H] and the
        per-step tensors `backward` handed out ([T, B, n] each)."""
        return (tf.reduce_sum(dxw, 0),)

    def column_scale(self, units):
        """Per-column factor folded into W, U and b (None: none); see LSTMKernel. The loops work with
        the scaled weights throughout; the weight gradients are scaled back once, after the loop."""
        return None


class SingleMatmulKernel(Kernel):
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
            return dz, tf.matmul(dz, back), rest, None, extras
        dh, dx = tf.split(tf.matmul(dz, back), [u.shape[0], -1], 1)
        return dz, dh, rest, dx, extras

    def recurrent_grad(self, dz, saves, previous_states, prepared):
        h_prev = previous_states[0]
        return tf.matmul(tf.reshape(h_prev, [-1, h_prev.shape[-1]]), dz, transpose_a=True)


class RNNKernel(SingleMatmulKernel):
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


class LSTMKernel(SingleMatmulKernel):
    """i, f, o = σ(z_i, z_f, z_o); g = tanh(z_g); c = f·c + i·g; h = o·tanh(c).

    tanh(x) = 2σ(2x) - 1, so the candidate's columns of W, U and b are doubled (column_scale) and one
    sigmoid over all four gates replaces a split into sigmoids and a tanh.
    """

    n_states, n_saves = 2, 2  # state (h, c); saves c and σ of all gates

    def column_scale(self, units):
        one, two = tf.ones([units]), 2 * tf.ones([units])
        return tf.concat([one, one, two, one], 0)  # [4H], Keras's gate order i, f, g, o

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


def normalize(x):
    """(x - mean) / sqrt(var + ε) over the last axis, as core.cells.layer_norm before its gain and shift."""
    mean, var = tf.nn.moments(x, axes=[-1], keepdims=True)
    return (x - mean) * tf.math.rsqrt(var + LN_EPSILON)


class LayerNormLSTMKernel(LSTMKernel):
    """core.cells.LayerNormLSTMCell: z = xw + h·U with no bias; each gate's block of z layer-normed with
    its own gain and shift; and c layer-normed before the output tanh. The candidate's 2σ(2x) - 1 is
    folded into the gate's gain and shift for the forward only; the backward works unscaled."""

    n_saves, n_extras = 3, 2  # saves c, σ of all gates, z; hands out d loss/d (gates' LN output), d loss/d (c's)

    def weights(self, cell):
        return cell.kernel, cell.recurrent_kernel, cell.gain, cell.shift, cell.out_gain, cell.out_shift

    def bias(self, extra):
        return None

    def column_scale(self, units):
        return None

    def prepare(self, u, w, extra):
        gain, shift, out_gain, out_shift = extra
        units = out_gain.shape[0]
        scale = LSTMKernel.column_scale(self, units)
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
        c_normed = normalize(cs)
        tanh_c = tf.tanh(c_normed * out_gain + out_shift)
        z4 = tf.reshape(z, [-1, tf.shape(z)[1], 4, units])
        _, c_var = tf.nn.moments(cs, axes=[-1], keepdims=True)
        _, z_var = tf.nn.moments(z4, axes=[-1], keepdims=True)
        # d loss/d (gates' LN output, unscaled) = [dc·g, dc·c_prev, dc·i, dh·tanh] ⊙ σ' ⊙ scale
        per_gate = (tf.concat([2 * g - 1, c_prev, 2 * i, tanh_c], -1) * s * (1 - s)
                    * LSTMKernel.column_scale(self, units))
        return (o * (1 - tanh_c * tanh_c), per_gate, f, c_normed, tf.math.rsqrt(c_var + LN_EPSILON),
                normalize(z4), tf.math.rsqrt(z_var + LN_EPSILON))

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

    def extra_grads(self, dxw, extras, saves, prepared):
        dy, dyc = extras  # [T, B, 4H], [T, B, H]
        cs, _, z = saves
        units = cs.shape[-1]
        z_normed = tf.reshape(normalize(tf.reshape(z, [-1, 4, units])), tf.shape(dy))
        total = lambda v: tf.reduce_sum(v, axis=[0, 1])
        return total(dy * z_normed), total(dy), total(dyc * normalize(cs)), total(dyc)


class GRUKernel(Kernel):
    """z, r = σ(xw_zr + h·U_zr); n = tanh(xw_n + (r·h)·U_n); h' = n + z·(h - n) (core.cells.GRUCell:
    the reset gate before the recurrent matmul, so a step has two matmuls one after the other)."""

    n_states, n_saves = 1, 3  # state (h,); saves h', σ of z and r, and n

    def prepare(self, u, w, extra):
        units = u.shape[0]
        u_zr, u_n = u[:, :2 * units], u[:, 2 * units:]
        return u_zr, u_n, tf.transpose(u_zr), tf.transpose(u_n), None if w is None else tf.transpose(w)

    def forward(self, xw, state, prepared):
        u_zr, u_n = prepared[:2]
        (h,) = state
        units = h.shape[-1]
        zr = tf.sigmoid(xw[:, :2 * units] + tf.matmul(h, u_zr))  # [B, 2H]
        z, r = tf.split(zr, 2, axis=-1)
        n = tf.tanh(xw[:, 2 * units:] + tf.matmul(r * h, u_n))
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
        to_n = (1 - z) * (1 - n * n)  # d loss/d (n's pre-activation) per unit of dh
        to_z = (h_prev - n) * z * (1 - z)  # d loss/d (z's pre-activation) per unit of dh
        to_r = h_prev * r * (1 - r)  # d loss/d (r's pre-activation) per unit of d(r·h)
        return to_n, to_z, to_r, z, r

    def backward(self, factors, dh, rest, prepared, to_input):
        to_n, to_z, to_r, z, r = factors
        _, _, u_zr_t, u_n_t, w_t = prepared
        d_n = dh * to_n
        d_rh = tf.matmul(d_n, u_n_t)  # d loss/d (r·h) [B, H]
        d_zr = tf.concat([dh * to_z, d_rh * to_r], -1)
        dxw = tf.concat([d_zr, d_n], -1)  # [B, 3H]
        dh = dh * z + d_rh * r + tf.matmul(d_zr, u_zr_t)
        return dxw, dh, (), tf.matmul(dxw, w_t) if to_input else None, ()

    def recurrent_grad(self, dxw, saves, previous_states, prepared):
        (h_prev,) = previous_states
        units = h_prev.shape[-1]
        r = self.reset_gates(saves, prepared)
        rows = lambda x: tf.reshape(x, [-1, units])
        return tf.concat([tf.matmul(rows(h_prev), dxw[:, :2 * units], transpose_a=True),
                          tf.matmul(rows(r * h_prev), dxw[:, 2 * units:], transpose_a=True)], 1)


class LayerNormGRUKernel(GRUKernel):
    """core.cells.LayerNormGRUCell: as GRUKernel with no bias, and each pre-activation layer-normed with
    its own gain and shift (z's and r's, and the candidate's x·W_n + (r·h)·U_n together)."""

    n_extras = 2  # hands out d loss/d (z's and r's LN output) [B, 2H], d loss/d (candidate's) [B, H]

    def weights(self, cell):
        return cell.kernel, cell.recurrent_kernel, cell.gain, cell.shift

    def bias(self, extra):
        return None

    def prepare(self, u, w, extra):
        gain, shift = extra
        units = u.shape[0]
        norms = (tf.reshape(gain[:2 * units], [2, units]), tf.reshape(shift[:2 * units], [2, units]),
                 gain[2 * units:], shift[2 * units:])  # z and r as rows of [2, H]; the candidate's [H]
        return super().prepare(u, w, extra) + norms

    def forward(self, xw, state, prepared):
        u_zr, u_n = prepared[:2]
        (h,) = state
        units = h.shape[-1]
        a_zr = xw[:, :2 * units] + tf.matmul(h, u_zr)  # [B, 2H] before layer norm
        z, r = tf.split(self.zr_of(a_zr, prepared), 2, axis=-1)
        a_n = xw[:, 2 * units:] + tf.matmul(r * h, u_n)
        n = self.n_of(a_n, prepared)
        h = z * h + (1.0 - z) * n
        return h, (h,), (h, a_zr, a_n)

    def zr_of(self, a_zr, prepared):
        """σ(LN(a)) for z and r, each over its own units: a [..., 2H] -> [..., 2H]."""
        gain, shift = prepared[5:7]
        blocks = tf.concat([tf.shape(a_zr)[:-1], [2, gain.shape[1]]], 0)
        return tf.sigmoid(tf.reshape(normalize(tf.reshape(a_zr, blocks)) * gain + shift, tf.shape(a_zr)))

    def n_of(self, a_n, prepared):
        gain, shift = prepared[7:9]
        return tf.tanh(normalize(a_n) * gain + shift)

    def reset_gates(self, saves, prepared):
        return tf.split(self.zr_of(saves[1], prepared), 2, axis=-1)[1]

    def factors(self, saves, states, previous_states, prepared):
        _, a_zr, a_n = saves  # [T, B, 2H], [T, B, H]
        (h_prev,) = previous_states
        units = h_prev.shape[-1]
        z, r = tf.split(self.zr_of(a_zr, prepared), 2, axis=-1)
        n = self.n_of(a_n, prepared)
        a_zr = tf.reshape(a_zr, tf.concat([tf.shape(a_zr)[:-1], [2, units]], 0))  # [T, B, 2, H]
        (_, zr_var), (_, n_var) = (tf.nn.moments(a, axes=[-1], keepdims=True) for a in (a_zr, a_n))
        return ((1 - z) * (1 - n * n), (h_prev - n) * z * (1 - z), h_prev * r * (1 - r), z, r,
                normalize(a_zr), tf.math.rsqrt(zr_var + LN_EPSILON), normalize(a_n), tf.math.rsqrt(n_var + LN_EPSILON))

    def backward(self, factors, dh, rest, prepared, to_input):
        to_n, to_z, to_r, z, r, zr_normed, zr_inv, n_normed, n_inv = factors
        _, _, u_zr_t, u_n_t, w_t, zr_gain, _, n_gain, _ = prepared
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
        return dxw, dh, (), tf.matmul(dxw, w_t) if to_input else None, (dy_zr, dy_n)

    def extra_grads(self, dxw, extras, saves, prepared):
        dy_zr, dy_n = extras
        _, a_zr, a_n = saves
        units = a_n.shape[-1]
        zr_normed = tf.reshape(normalize(tf.reshape(a_zr, tf.concat([tf.shape(a_zr)[:-1], [2, units]], 0))),
                               tf.shape(a_zr))
        total = lambda v: tf.reduce_sum(v, axis=[0, 1])
        return (tf.concat([total(dy_zr * zr_normed), total(dy_n * normalize(a_n))], 0),
                tf.concat([total(dy_zr), total(dy_n)], 0))


KERNELS = {"rnn": RNNKernel(), "lstm": LSTMKernel(), "gru": GRUKernel(), "ln_lstm": LayerNormLSTMKernel(),
           "ln_gru": LayerNormGRUKernel()}
_BY_CLASS = {"BasicRNNCell": "rnn", "LSTMCell": "lstm", "GRUCell": "gru", "LayerNormLSTMCell": "ln_lstm",
             "LayerNormGRUCell": "ln_gru"}  # core.cells' classes


def kernel_for(cell):
    """The kernel for one of core.cells' cells."""
    name = _BY_CLASS.get(type(cell).__name__)
    if name not in KERNELS:
        raise NotImplementedError(f"the fused engine has no kernel for {type(cell).__name__}; add one to "
                                  "core/fused.py KERNELS (tests/test_fused.py checks every cell has one)")
    return KERNELS[name]


def unroll(stack, xs, state, masks=()):
    """xs [T, B, I] time-major, already dropped out; state the stack's flat tuple; masks: for each
    layer above the first, a [T, B, H] dropout mask for its input (0 or 1/keep), or () for none.
    Returns (top layer's outputs [T, B, H], the stack's final flat state)."""
    kernels = [kernel_for(cell) for cell in stack.cells]
    per_layer = [k.weights(cell) for k, cell in zip(kernels, stack.cells)]
    weights = [tf.convert_to_tensor(w) for layer in per_layer for w in layer]
    state = tuple(state)
    outputs = _run(kernels, stack.split_state, tuple(masks), len(state), [len(v) for v in per_layer],
                   xs, *state, *weights)
    return outputs[0], tuple(outputs[1:])


def _run(kernels, split_state, masks, n_state, n_weights, xs, *inputs):
    """Both loops around one tf.custom_gradient function, which must take every tensor it gives a
    gradient for as an argument: xs, the flat state, then each layer's variables (as tensors)."""

    @tf.custom_gradient
    def run(xs, *inputs):
        layers = len(kernels)
        init = split_state(inputs[:n_state])  # per layer: its state tuple
        ends = [n_state + sum(n_weights[:l + 1]) for l in range(layers)]
        raw = [inputs[end - n:end] for end, n in zip(ends, n_weights)]  # per layer: W, U, the kernel's own
        scales = [k.column_scale(v[1].shape[0]) for k, v in zip(kernels, raw)]
        scaled = [v if s is None else tuple(x * s for x in v) for v, s in zip(raw, scales)]
        prepared = [k.prepare(v[1], None if l == 0 else v[0], v[2:]) for l, (k, v) in enumerate(zip(kernels, scaled))]
        biases = [k.bias(v[2:]) for k, v in zip(kernels, scaled)]
        steps = tf.shape(xs)[0]

        def plus_bias(xw, l):
            return xw if biases[l] is None else xw + biases[l]

        projected = _Steps(plus_bias(tf.tensordot(xs, scaled[0][0], 1), 0))  # layer 1's x·W + b, all steps
        mask_steps = [_Steps(m) for m in masks]

        def forward(t, states, written):
            states, written = list(states), list(written)
            x = None
            for l, kernel in enumerate(kernels):
                if l == 0:
                    xw = projected.read(t)
                else:
                    if masks:
                        x = x * mask_steps[l - 1].read(t)
                    xw = plus_bias(tf.matmul(x, scaled[l][0]), l)  # [B, G*H]
                x, states[l], saves = kernel.forward(xw, states[l], prepared[l])
                written[l] = tuple(ta.write(t, v) for ta, v in zip(written[l], saves))
            return t + 1, tuple(states), tuple(written)

        written = tuple(tuple(tf.TensorArray(xs.dtype, size=steps) for _ in range(k.n_saves)) for k in kernels)
        _, final, written = tf.while_loop(lambda t, *_: t < steps, forward, (0, tuple(init), written))
        saved = [tuple(ta.stack() for ta in w) for w in written]  # per layer: [T, B, n] each
        hs, states_seq = map(list, zip(*(k.sequences(v, p) for k, v, p in zip(kernels, saved, prepared))))
        inputs_of = [xs] + ([h * m for h, m in zip(hs, masks)] if masks else hs[:-1])  # what each layer read

        def grad(d_top, *d_final):
            d_top = _Steps(tf.zeros_like(hs[-1]) if d_top is None else d_top)
            before = [tuple(previous(s, s0) for s, s0 in zip(states_seq[l], init[l])) for l in range(layers)]
            factors = [[_Steps(f) for f in k.factors(saved[l], states_seq[l], before[l], prepared[l])]
                       for l, k in enumerate(kernels)]

            def backward(t, carry, written):
                carry, written = list(carry), list(written)
                dx = d_top.read(t)
                for l in reversed(range(layers)):
                    dh, rest = carry[l][0] + dx, carry[l][1:]
                    dxw, dh, rest, dx, extras = kernels[l].backward([f.read(t) for f in factors[l]], dh, rest,
                                                                    prepared[l], to_input=l > 0)
                    if masks and l > 0:  # dx: to the layer below, at the same step
                        dx = dx * mask_steps[l - 1].read(t)
                    carry[l] = (dh,) + tuple(rest)
                    written[l] = tuple(ta.write(t, v) for ta, v in zip(written[l], (dxw,) + tuple(extras)))
                return t - 1, tuple(carry), tuple(written)

            flat_final = [v for s in final for v in s]
            d_final = [tf.zeros_like(v) if d is None else d for v, d in zip(flat_final, d_final)]
            carry0 = tuple(split_state(d_final))
            written = tuple(tuple(tf.TensorArray(xs.dtype, size=steps) for _ in range(1 + k.n_extras))
                            for k in kernels)  # per layer: dxw, then the kernel's extras
            _, d_init, written = tf.while_loop(lambda t, *_: t >= 0, backward, (steps - 1, carry0, written))
            rows = steps * tf.shape(xs)[1]  # T·B: every step of every sequence, one row each
            d_weights = []
            for l, kernel in enumerate(kernels):
                dxw, *extras = (ta.stack() for ta in written[l])
                dxw = tf.reshape(dxw, [rows, -1])  # [T·B, G*H], d loss / d xw (scaled)
                x = tf.reshape(inputs_of[l], [rows, -1])
                grads = [tf.matmul(x, dxw, transpose_a=True),
                         kernel.recurrent_grad(dxw, saved[l], before[l], prepared[l]),
                         *kernel.extra_grads(dxw, extras, saved[l], prepared[l])]
                d_weights += grads if scales[l] is None else [g * scales[l] for g in grads]
                if l == 0:
                    d_xs = tf.reshape(tf.matmul(dxw, scaled[0][0], transpose_b=True), tf.shape(xs))
            return (d_xs, *[d for s in d_init for d in s], *d_weights)

        flat_final = tuple(v for s in final for v in s)
        return (hs[-1],) + flat_final, grad

    return run(xs, *inputs)


class _Steps:
    """A [T, ...] tensor read one step at a time inside a loop. Indexing is safe here, unlike in an
    autodiffed loop: nothing differentiates these loops, so no full-size gradient per step is built,
    and it saves copying the whole tensor into a TensorArray first."""

    def __init__(self, sequence):
        self.sequence = sequence

    def read(self, t):
        return self.sequence[t]
