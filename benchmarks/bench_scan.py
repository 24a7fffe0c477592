"""How long `envlock scan` takes on a large Python tree (not a test; no assertions).

Generates N files (default 10,000) in nested packages, each ~120 lines of model code: a share of
them (--tf-share, default 1.0: the worst case, every file parsed) import TensorFlow/Keras and
use a few APIs the rules flag; the rest are plain Python that never mentions them.  Then runs
`envlock scan TREE --tensorflow 2.21 --json` in a fresh process (imports included) and reports
the wall time and the findings.

    python benchmarks/bench_scan.py [--files 10000] [--tf-share 1.0] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TF_HEADER = """import numpy as np
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers
"""
TF_BODY = """

class Block{i}(layers.Layer):
    def __init__(self, units: int = 32, **kwargs):
        super().__init__(**kwargs)
        self.dense = layers.Dense(units, activation="relu")
        self.norm = layers.BatchNormalization()

    def call(self, inputs, training=False):
        x = self.dense(inputs)
        return self.norm(x, training=training)

    def get_config(self):
        return {{**super().get_config(), "units": self.dense.units}}


def build_{i}(shape=(28, 28, 1), classes=10):
    inputs = keras.Input(shape)
    x = layers.Conv2D(32, 3, padding="same")(inputs)
    x = layers.MaxPooling2D()(x)
    x = layers.Flatten()(x)
    x = Block{i}(64)(x)
    outputs = layers.Dense(classes, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    return model


def train_{i}(data, labels, epochs=2):
    model = build_{i}()
    history = model.fit(data, labels, epochs=epochs, batch_size=32, workers=2)
    model.save("checkpoints/model_{i}")
    sess = tf.compat.v1.Session()
    return history, sess
"""
PLAIN = """import json
import os
from dataclasses import dataclass


@dataclass
class Record{i}:
    name: str
    value: float

    def scaled(self, factor: float) -> float:
        return self.value * factor


def load_{i}(path: str) -> list[Record{i}]:
    with open(path) as handle:
        rows = json.load(handle)
    return [Record{i}(r["name"], float(r["value"])) for r in rows if r.get("value") is not None]


def summarize_{i}(records: list[Record{i}]) -> dict[str, float]:
    total = sum(r.value for r in records)
    return {{"count": len(records), "total": total, "mean": total / max(len(records), 1)}}


def main_{i}() -> None:
    for name in sorted(os.listdir(".")):
        if name.endswith(".json"):
            print(summarize_{i}(load_{i}(name)))
"""


def make_tree(root: Path, files: int, tf_share: float) -> int:
    tf_files = round(files * tf_share)
    for n in range(files):
        pkg = root / f"pkg{n // 1000}" / f"sub{(n // 100) % 10}"
        pkg.mkdir(parents=True, exist_ok=True)
        if n < tf_files:
            text = TF_HEADER + "".join(TF_BODY.format(i=f"{n}_{k}") for k in range(2))
        else:
            text = "".join(PLAIN.format(i=f"{n}_{k}") for k in range(3))
        (pkg / f"module_{n}.py").write_text(text)
    return tf_files


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--tf-share", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "tree"
        tf_files = make_tree(root, args.files, args.tf_share)
        lines = sum(p.read_text().count("\n") for p in root.rglob("*.py"))
        print(f"tree: {args.files} files ({tf_files} using TensorFlow), {lines} lines")
        times, cpu = [], []
        for _ in range(args.repeat):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            proc = subprocess.run([sys.executable, "-m", "envlock.cli", "scan", str(root), "--tensorflow", "2.21", "--json"],
                                  capture_output=True, text=True)
            times.append(time.perf_counter() - start)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
            doc = json.loads(proc.stdout)
        print(f"envlock scan: exit {proc.returncode}, {doc['files_scanned']} files, {len(doc['findings'])} findings "
              f"{doc['counts']}")
        print(f"wall time best {min(times):.2f} s (all {', '.join(f'{t:.2f}' for t in times)}); "
              f"CPU time (all processes) best {min(cpu):.2f} s; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
