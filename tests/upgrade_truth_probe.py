"""Run inside a TensorFlow venv by tests/upgrade/test_upgrade_rules_truth.py (never imported by pytest).

stdin: {"names": [dotted names], "probes": [probe names]}.  stdout: one JSON object with, for
each name, whether it resolves under each root (``tf.`` names from tensorflow; ``keras.`` names
both through tf.keras and through the standalone keras package), and each probe's outcome per
Keras root: "ok" or the exception's type name.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import tempfile
import traceback

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

ROOTS = {"tf.keras": tf.keras, "keras": keras}


def resolves(obj: object, path: list[str]) -> bool:
    try:
        for part in path:
            obj = getattr(obj, part)
    except Exception:  # AttributeError, or a lazy module's ImportError
        return False
    return True


def resolve(name: str) -> dict[str, bool]:
    head, _, rest = name.partition(".")
    parts = rest.split(".") if rest else []
    if head == "tf":
        return {"tf": resolves(tf, parts)}
    if head == "keras":
        return {root: resolves(module, parts) for root, module in ROOTS.items()}
    try:
        importlib.import_module(name)
        return {head: True}
    except ImportError:
        return {head: False}


def outcome(fn, *args) -> str:
    try:
        fn(*args)
        return "ok"
    except Exception as exc:
        return type(exc).__name__


def small_model(K):
    model = K.Sequential([K.Input((3,)), K.layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    return model


def probe_legacy_optimizer(K) -> str:
    return outcome(lambda: K.optimizers.legacy.Adam())


def probe_fit_workers(K) -> str:
    model = small_model(K)
    x, y = np.ones((4, 3), "float32"), np.ones((4, 2), "float32")
    return outcome(lambda: model.fit(x, y, workers=1, use_multiprocessing=False, epochs=1, verbose=0))


def probe_save_directory(K) -> str:
    where = os.path.join(tempfile.mkdtemp(), "saved_model_dir")
    return outcome(lambda: small_model(K).save(where))


def probe_load_savedmodel(K, root: str, shared: str) -> dict:
    """A SavedModel directory written by the first venv probed (Keras 2's model.save), loaded here."""
    where = os.path.join(shared, "savedmodel-" + root.replace(".", "_"))  # no suffix: a directory
    if not os.path.isdir(where):
        small_model(K).save(where)
    return {"load_model": outcome(lambda: K.models.load_model(where)),
            "tfsm_layer": outcome(lambda: K.layers.TFSMLayer(where, call_endpoint="serving_default"))}


def probe_save_weights_suffix(K) -> dict:
    base = tempfile.mkdtemp()
    model = small_model(K)
    return {"ckpt": outcome(lambda: model.save_weights(os.path.join(base, "w.ckpt"))),
            "weights_h5": outcome(lambda: model.save_weights(os.path.join(base, "w.weights.h5")))}


def probe_sequence_is_pydataset(K) -> dict:
    pydataset = getattr(K.utils, "PyDataset", None)
    return {"has_pydataset": pydataset is not None, "sequence_is_pydataset": K.utils.Sequence is pydataset}


def probe_legacy_route(K) -> dict:
    version = getattr(K, "__version__", None)
    if version is None:  # tf.keras's own package: keras, or tf_keras under the route
        version = importlib.import_module(K.__name__.split(".", 1)[0]).__version__
    return {"module": K.__name__, "keras_major": int(str(version).split(".")[0]) if version else None,
            "standalone_keras": keras.__version__, "tf_use_legacy_keras": os.environ.get("TF_USE_LEGACY_KERAS")}


def main() -> None:
    request = json.load(sys.stdin)
    result: dict = {"tensorflow": tf.__version__, "keras": keras.__version__, "tf_keras_module": tf.keras.__name__,
                    "names": {}, "probes": {}}
    for name in request["names"]:
        result["names"][name] = resolve(name)
    for probe in request["probes"]:
        fn = globals()[f"probe_{probe}"]
        result["probes"][probe] = {}
        for root, module in ROOTS.items():
            try:
                extra = (root, request["shared_dir"]) if probe == "load_savedmodel" else ()
                result["probes"][probe][root] = fn(module, *extra)
            except Exception:
                result["probes"][probe][root] = "probe crashed: " + traceback.format_exc(limit=3)
    sys.stdout.write("\n@@RESULT@@" + json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
