"""envlock's model probe: runs INSIDE an environment (``python -I model_probe.py CONFIG``) with
that environment's own interpreter.  Standard library, NumPy and TensorFlow/Keras only —
envlock is not installed there, so nothing here may import it.

Two phases, chosen by ``config["phase"]``:

* ``old``: per model, build or load it, record its architecture (layer classes, full configs,
  parameter counts, output shapes), its outputs on fixed seeded inputs, the loss of one seeded
  SGD step and its inference time, and save it in every format this Keras writes.
* ``new``: per model and saved artifact, load it with this Keras (falling back to the
  documented route when the plain loader fails), rebuild it from its builder, and measure the
  same things on the OLD side's inputs; the numbers are compared with the OLD side's here.

Each model's result is appended as one JSON line to ``config["results"]`` as soon as it is
done, with a ``[envlock-probe] begin model NAME`` marker on stderr before it starts, so the
host can tell which model crashed or hung the interpreter and resume after it.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import traceback

MARK = "[envlock-probe]"
BATCH = 8
SUITE_NAMES = ("dense", "conv2d", "lstm", "gru", "batchnorm", "dropout", "embedding", "normalization", "custom")


def log(msg: str) -> None:
    sys.stderr.write(f"{MARK} begin {msg}\n")
    sys.stderr.flush()


def _err(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".strip()
    return " ".join(text.split())[:600]


# --- the built-in suite ----------------------------------------------------------------

def _custom_layer(keras):
    reg = getattr(keras.utils, "register_keras_serializable", None) or keras.saving.register_keras_serializable

    @reg(package="envlock")
    class ScaledDense(keras.layers.Layer):
        """A custom layer with its own weights and get_config."""

        def __init__(self, units=8, scale=0.5, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.scale = scale

        def build(self, input_shape):
            self.w = self.add_weight(name="w", shape=(int(input_shape[-1]), self.units), initializer="glorot_uniform")
            self.b = self.add_weight(name="b", shape=(self.units,), initializer="zeros")
            super().build(input_shape)

        def call(self, inputs):
            return (inputs @ self.w + self.b) * self.scale

        def get_config(self):
            config = super().get_config()
            config.update({"units": self.units, "scale": self.scale})
            return config

    return ScaledDense


def build_suite_model(keras, name, np_rng_seed):
    import numpy as np

    L = keras.layers
    if name == "dense":
        i = keras.Input(shape=(16,))
        o = L.Dense(4)(L.Dense(32, activation="relu")(i))
    elif name == "conv2d":
        i = keras.Input(shape=(16, 16, 3))
        h = L.MaxPooling2D()(L.Conv2D(8, 3, activation="relu")(i))
        o = L.Dense(4)(L.Flatten()(h))
    elif name in ("lstm", "gru"):
        i = keras.Input(shape=(10, 8))
        o = L.Dense(4)((L.LSTM if name == "lstm" else L.GRU)(16)(i))
    elif name == "batchnorm":
        i = keras.Input(shape=(16,))
        o = L.Dense(4)(L.BatchNormalization()(L.Dense(32)(i)))
    elif name == "dropout":
        i = keras.Input(shape=(16,))
        o = L.Dense(4)(L.Dropout(0.5)(L.Dense(32, activation="relu")(i)))
    elif name == "embedding":
        i = keras.Input(shape=(10,), dtype="int32")
        o = L.Dense(4)(L.GlobalAveragePooling1D()(L.Embedding(50, 8)(i)))
    elif name == "normalization":
        norm = L.Normalization()
        norm.adapt(np.random.default_rng(np_rng_seed).normal(3.0, 2.0, size=(64, 6)).astype("float32"))
        i = keras.Input(shape=(6,))
        o = L.Dense(4)(norm(i))
    elif name == "custom":
        i = keras.Input(shape=(16,))
        o = L.Dense(4)(_custom_layer(keras)(8, 0.5)(i))
    else:
        raise ValueError(f"no built-in model {name!r}; the suite has {', '.join(SUITE_NAMES)}")
    return keras.Model(i, o)


# --- helpers ----------------------------------------------------------------------------

def jsonable(value):
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if hasattr(value, "tolist"):
        return value.tolist()
    return repr(value)


def architecture(model) -> dict:
    layers = []
    for layer in model.layers:
        try:
            config = jsonable(layer.get_config())
        except Exception as exc:  # a layer without get_config is a finding, not a crash
            config = {"__error__": _err(exc)}
        try:
            shape = jsonable(layer.output.shape)
        except Exception:
            shape = None
        layers.append({"class": type(layer).__name__, "config": config, "params": int(layer.count_params()), "output_shape": shape})
    return {"layers": layers, "params": int(model.count_params())}


def make_inputs(model, seed):
    import numpy as np

    rng = np.random.default_rng(seed)
    xs = []
    for t in model.inputs:
        shape = [BATCH] + [int(d) for d in t.shape[1:]]
        if "int" in str(t.dtype):
            xs.append(rng.integers(0, 50, size=shape).astype("int32"))
        else:
            xs.append(rng.normal(size=shape).astype("float32"))
    return xs


def as_list(outputs):
    import numpy as np

    if isinstance(outputs, dict):
        return [np.asarray(outputs[k]) for k in sorted(outputs)]
    if isinstance(outputs, (list, tuple)):
        return [np.asarray(o) for o in outputs]
    return [np.asarray(outputs)]


def call(model, xs):
    return as_list(model(xs[0] if len(xs) == 1 else xs, training=False))


def timed(fn, repeats=5) -> float:
    fn()  # warm-up: tracing and first-call allocations
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return sorted(times)[len(times) // 2]


def train_step(keras, model, xs, ys, seed) -> dict:
    keras.utils.set_random_seed(seed)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.01), loss="mse")
    x = xs[0] if len(xs) == 1 else xs
    y = ys[0] if len(ys) == 1 else ys
    loss = model.train_on_batch(x, y)
    after = model.test_on_batch(x, y)
    first = lambda v: float(v[0] if isinstance(v, (list, tuple)) else v)  # noqa: E731
    return {"loss": first(loss), "loss_after": first(after)}


def keras_version(keras) -> str:
    from importlib import metadata

    root = keras.__name__.split(".")[0]
    return metadata.version("tf-keras" if root == "tf_keras" else "keras")


def save_all(keras, tf, model, where) -> dict:
    keras3 = keras_version(keras).startswith("3.")
    tries = {
        "keras": lambda p: model.save(p + ".keras"),
        "h5": lambda p: model.save(p + ".h5"),
        "savedmodel": (lambda p: model.export(p + ".savedmodel")) if keras3 else (lambda p: model.save(p + ".savedmodel", save_format="tf")),
        "weights": lambda p: model.save_weights(p + ".weights.h5"),
    }
    written = {}
    for fmt, save in tries.items():
        log(f"save {fmt}")
        try:
            save(os.path.join(where, "model"))
            written[fmt] = {"written": True}
        except Exception as exc:
            written[fmt] = {"written": False, "error": _err(exc)}
    return written


# --- phases -----------------------------------------------------------------------------

def obtain(keras, spec, seed, custom):
    keras.utils.set_random_seed(seed)
    kind, ref = spec["kind"], spec["ref"]
    if kind == "suite":
        return build_suite_model(keras, ref, seed)
    if kind == "build":
        module, _, func = ref.partition(":")
        return getattr(importlib.import_module(module), func)()
    return keras.models.load_model(ref, custom_objects=custom)


def run_old(keras, tf, spec, cfg, custom) -> dict:
    import numpy as np

    seed = cfg["seed"]
    where = os.path.join(cfg["work"], spec["name"])
    os.makedirs(where, exist_ok=True)
    model = obtain(keras, spec, seed, custom)
    xs = make_inputs(model, seed)
    out = call(model, xs)
    ys = [np.random.default_rng(seed + 1).normal(size=o.shape).astype("float32") for o in out]
    np.savez(os.path.join(where, "data.npz"), **{f"x{i}": x for i, x in enumerate(xs)},
             **{f"y{i}": y for i, y in enumerate(ys)}, **{f"out{i}": o for i, o in enumerate(out)})
    np.savez(os.path.join(where, "weights.npz"), *model.get_weights())
    result = {"architecture": architecture(model), "seconds": timed(lambda: call(model, xs))}
    if spec["kind"] != "file":
        model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.01), loss="mse")  # saved files carry a compile config, as users' do
    result["formats"] = save_all(keras, tf, model, where)
    result["train"] = train_step(keras, model, xs, ys, seed)
    return result


def load_artifact(keras, tf, fmt, path, spec, cfg, custom):  # noqa: C901
    """(model, how, problem): ``how`` names the loader that worked, ``problem`` why the plain one did not."""
    if fmt in ("weights", "rebuild"):
        import numpy as np

        model = obtain(keras, spec, cfg["seed"], custom)
        if fmt == "weights":
            model.load_weights(path)
            return model, "load_weights", None
        with np.load(os.path.join(cfg["work"], spec["name"], "weights.npz")) as w:
            model.set_weights([w[f"arr_{i}"] for i in range(len(w.files))])
        return model, "builder + set_weights", None
    try:
        return keras.models.load_model(path, custom_objects=custom), "load_model", None
    except Exception as exc:
        problem = _err(exc)
    if os.path.isdir(path) and hasattr(keras.layers, "TFSMLayer"):  # a SavedModel directory
        layer = keras.layers.TFSMLayer(path, call_endpoint="serving_default")
        return layer, "keras.layers.TFSMLayer(path, call_endpoint='serving_default')", problem
    return keras.models.load_model(path, custom_objects=custom, compile=False), "load_model(path, compile=False)", problem


def compare(new, old, rtol, atol) -> dict:
    import numpy as np

    if len(new) != len(old) or any(a.shape != b.shape for a, b in zip(new, old)):  # noqa: B905 - runs on Python < 3.10 too
        return {"shapes_match": False, "old_shapes": [list(o.shape) for o in old], "new_shapes": [list(n.shape) for n in new]}
    diff = [np.abs(n.astype("float64") - o.astype("float64")) for n, o in zip(new, old)]  # noqa: B905 - runs on Python < 3.10 too
    max_abs = max(float(d.max()) if d.size else 0.0 for d in diff)
    rel = [d / np.maximum(np.abs(o.astype("float64")), 1e-12) for d, o in zip(diff, old)]  # noqa: B905 - runs on Python < 3.10 too
    return {"shapes_match": True, "identical": all(np.array_equal(n, o) for n, o in zip(new, old)),  # noqa: B905 - runs on Python < 3.10 too
            "max_abs": max_abs, "max_rel": max(float(r.max()) if r.size else 0.0 for r in rel),
            "within": all(np.allclose(n, o, rtol=rtol, atol=atol) for n, o in zip(new, old))}  # noqa: B905 - runs on Python < 3.10 too


def new_artifact(keras, tf, spec, fmt, cfg, custom) -> dict:
    import numpy as np

    where = os.path.join(cfg["work"], spec["name"])
    with np.load(os.path.join(where, "data.npz")) as data:
        xs = [data[k] for k in sorted(f for f in data.files if f.startswith("x"))]
        ys = [data[k] for k in sorted(f for f in data.files if f.startswith("y"))]
        old_out = [data[k] for k in sorted(f for f in data.files if f.startswith("out"))]
    paths = {"keras": "model.keras", "h5": "model.h5", "savedmodel": "model.savedmodel", "weights": "model.weights.h5"}
    path = spec["ref"] if fmt == "original" else os.path.join(where, paths.get(fmt, ""))
    try:
        model, how, problem = load_artifact(keras, tf, fmt, path, spec, cfg, custom)
    except Exception as exc:
        return {"loaded": False, "error": _err(exc), "trace": traceback.format_exc()[-3000:]}
    row = {"loaded": True, "loader": how, "problem": problem}
    is_keras = hasattr(model, "layers")
    run = (lambda: call(model, xs)) if is_keras else (lambda: as_list(model(xs[0] if len(xs) == 1 else xs)))
    try:
        row["outputs"] = compare(run(), old_out, cfg["rtol"], cfg["atol"])
        row["seconds"] = timed(run)
    except Exception as exc:
        row["outputs"] = {"error": _err(exc)}
    if is_keras:
        row["architecture"] = architecture(model)
        try:
            row["train"] = train_step(keras, model, xs, ys, cfg["seed"])
        except Exception as exc:
            row["train"] = {"error": _err(exc)}
    else:
        row["train"] = {"skipped": "inference-only: a TFSMLayer has no training step"}
    return row


def main() -> None:
    cfg = json.loads(sys.argv[1])
    real_stdout = os.dup(1)
    os.dup2(2, 1)  # TensorFlow's prints go to stderr; our JSON lines go to the results file
    for extra in cfg.get("paths", []):
        sys.path.insert(0, extra)
    log("import tensorflow")
    import tensorflow as tf

    keras = tf.keras
    env = {"python": sys.version.split()[0], "tensorflow": tf.__version__, "keras": keras_version(keras),
           "keras_module": getattr(keras, "__name__", "?"), "legacy_keras_var": os.environ.get("TF_USE_LEGACY_KERAS")}
    custom = {"ScaledDense": _custom_layer(keras), "envlock>ScaledDense": _custom_layer(keras)}
    skip = set(cfg.get("skip", []))
    for spec in cfg["models"]:
        for fmt in spec.get("formats", [None]) if cfg["phase"] == "new" else [None]:
            key = spec["name"] if fmt is None else f"{spec['name']}/{fmt}"
            if key in skip:
                continue
            log(f"model {key}")
            t0 = time.perf_counter()
            try:
                if fmt is None:
                    result = run_old(keras, tf, spec, cfg, custom)
                    result["ok"] = True
                else:
                    result = new_artifact(keras, tf, spec, fmt, cfg, custom)
            except Exception as exc:
                result = {"ok": False, "error": _err(exc), "trace": traceback.format_exc()[-3000:]}
            result.update(key=key, wall_s=round(time.perf_counter() - t0, 3))
            with open(cfg["results"], "a") as fh:
                fh.write(json.dumps(jsonable(result)) + "\n")
    os.write(real_stdout, (json.dumps({"env": env, "done": True}) + "\n").encode())


if __name__ == "__main__":
    main()
