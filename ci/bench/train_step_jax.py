"""One training step of `clconv train`'s network against the same network in JAX on the CPU, in one
run (run by ci/bench/train-step.sh; the machines are noisy, so only the ratio of one run means much).

The same layers, shapes and batch (32 notes of 1024 samples): Conv1d(1→24, 255 taps, stride 4),
ReLU, Conv2d(24→32, 1×5), ReLU, MaxPool(1×2), Conv2d(32→32, 1×3, pads 1), ReLU, global average
pooling, Linear(32→12) (the dropout is left out: it is a mask), cross-entropy, one Adam step; JAX's
step is jit-compiled (the compile is not timed), on random inputs. Prints the median step time of
each and their ratio; ConvCL's is the mean step time `clconv train` prints for its second epoch.
"""
import re
import subprocess
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np


def network(params, x):
    dn = ("NCH", "OIH", "NCH")
    y = jax.lax.conv_general_dilated(x, params["w1"], (4,), "VALID", dimension_numbers=dn) + params["b1"][None, :, None]
    y = jax.nn.relu(y)[:, :, None, :]  # [N, 24, 1, T]
    dn2 = ("NCHW", "OIHW", "NCHW")
    y = jax.lax.conv_general_dilated(y, params["w2"], (1, 1), "VALID", dimension_numbers=dn2) + params["b2"][None, :, None, None]
    y = jax.nn.relu(y)
    y = jax.lax.reduce_window(y, -jnp.inf, jax.lax.max, (1, 1, 1, 2), (1, 1, 1, 2), "VALID")
    y = jax.lax.conv_general_dilated(y, params["w3"], (1, 1), ((0, 0), (1, 1)), dimension_numbers=dn2) + params["b3"][None, :, None, None]
    y = jax.nn.relu(y).mean(axis=(2, 3))
    return y @ params["w4"].T + params["b4"]


def loss(params, x, labels):
    logits = network(params, x)
    return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits), labels[:, None], axis=1))


@jax.jit
def step(params, m, v, t, x, labels):
    value, grads = jax.value_and_grad(loss)(params, x, labels)
    m = jax.tree_util.tree_map(lambda m, g: 0.9 * m + 0.1 * g, m, grads)
    v = jax.tree_util.tree_map(lambda v, g: 0.999 * v + 0.001 * g * g, v, grads)
    c1, c2 = 1 - 0.9 ** t, 1 - 0.999 ** t
    params = jax.tree_util.tree_map(lambda p, m, v: p - 3e-3 / c1 * m / (jnp.sqrt(v) / jnp.sqrt(c2) + 1e-8), params, m, v)
    return params, m, v, value


def jax_step_seconds(steps=30):
    rng = np.random.default_rng(1)
    shapes = {"w1": (24, 1, 255), "b1": (24,), "w2": (32, 24, 1, 5), "b2": (32,), "w3": (32, 32, 1, 3), "b3": (32,), "w4": (12, 32), "b4": (12,)}
    params = {k: jnp.asarray(rng.uniform(-0.1, 0.1, s), jnp.float32) for k, s in shapes.items()}
    m = jax.tree_util.tree_map(jnp.zeros_like, params)
    v = jax.tree_util.tree_map(jnp.zeros_like, params)
    x = jnp.asarray(rng.uniform(-1, 1, (32, 1, 1024)), jnp.float32)
    labels = jnp.asarray(rng.integers(0, 12, 32))
    params, m, v, value = step(params, m, v, 1.0, x, labels)  # compile
    value.block_until_ready()
    times = []
    for t in range(2, steps + 2):
        start = time.perf_counter()
        params, m, v, value = step(params, m, v, float(t), x, labels)
        value.block_until_ready()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def convcl_step_seconds(clconv):
    out = subprocess.run([clconv, "train", "--examples", "960", "--validation", "64", "--epochs", "2", "--device", "opencl"],
                         check=True, capture_output=True, text=True).stdout
    steps = re.findall(r"step ([0-9.]+) ms", out)
    return float(steps[-1]) / 1000


if __name__ == "__main__":
    convcl = convcl_step_seconds(sys.argv[1])
    reference = jax_step_seconds()
    print(f"JAX {jax.__version__} on the CPU ({jax.devices()[0].device_kind}): {reference * 1e3:.1f} ms per step")
    print(f"ConvCL on PoCL: {convcl * 1e3:.1f} ms per step")
    print(f"ConvCL / JAX: {convcl / reference:.2f}x the time")
