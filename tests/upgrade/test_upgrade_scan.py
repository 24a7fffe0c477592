"""``envlock scan`` as users run it: name resolution through imports, the versions compared, the
tf-keras route, notebooks, failing closed, exit codes and --json."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from envlock.cli import main
from envlock.upgrade.rules import load_rules
from tests.verify_support import write_profile

REPO = Path(__file__).resolve().parents[2]


def scan(*args: str) -> tuple[int, dict]:
    result = CliRunner().invoke(main, ["scan", *args, "--json"])
    return result.exit_code, json.loads(result.stdout)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def hits(doc: dict) -> set[tuple[int, str]]:
    return {(f["line"], f["rule_id"]) for f in doc["findings"]}


def test_names_resolve_through_imports_and_aliases(tmp_path: Path) -> None:
    code = write(tmp_path / "train.py", """
        import tensorflow as tf
        from tensorflow import keras
        from tensorflow.keras.layers.experimental import preprocessing
        from tensorflow.keras.models import load_model as load
        from tensorflow.keras import backend as K
        import keras as k3
        import tensorflow.contrib.slim

        sess = tf.Session()
        layer = preprocessing.Rescaling(1 / 255)
        opt = keras.optimizers.legacy.Adam()
        model = keras.Sequential()
        model.fit_generator(gen, epochs=3)
        model.fit(ds, workers=4)
        model.save("saved_dir")
        model.save("model.keras")
        m2 = load("export/savedmodel")
        m3 = load("fine.h5")
        f = K.function([model.input], [model.output])
        class Data(k3.utils.Sequence):
            pass
        g = tf.compat.v1.Session()
        model.save_weights(f"{out}/w.ckpt")
        est = tf.estimator.LinearClassifier
        """)
    code_, doc = scan(str(code), "--tensorflow", "2.21")
    assert code_ == 1 and doc["ok"] is False
    assert hits(doc) == {
        (3, "KERAS3-PREPROCESSING-EXPERIMENTAL"),  # at the import; its uses are not repeated
        (7, "TF1-CONTRIB"), (9, "TF1-SESSION"), (11, "KERAS3-OPTIMIZERS-LEGACY"), (13, "KERAS3-FIT-GENERATOR"),
        (14, "KERAS3-FIT-WORKERS"), (15, "KERAS3-SAVE-SAVEDMODEL"), (17, "KERAS3-LOAD-SAVEDMODEL"),
        (19, "KERAS3-BACKEND-GRAPH"), (20, "KERAS3-SEQUENCE-PYDATASET"), (23, "KERAS3-SAVE-WEIGHTS-SUFFIX"),
        (24, "TF-ESTIMATOR-REMOVED"),
    }
    session = next(f for f in doc["findings"] if f["rule_id"] == "TF1-SESSION")
    assert session == {**session, "file": str(code), "column": 8, "severity": "error", "symbol": "tf.Session"}
    assert "tf.compat.v1.Session" in session["fix"] and session["source"].startswith("https://")


def test_unrelated_names_and_compat_v1_are_not_flagged(tmp_path: Path) -> None:
    write(tmp_path / "a.py", """
        import tensorflow.compat.v1 as tf
        tf.disable_v2_behavior()
        x = tf.placeholder(tf.float32)
        with tf.Session() as sess:
            pass
        """)
    write(tmp_path / "b.py", """
        # mentions tensorflow in a comment only
        from mylib import utils, Session
        s = Session(); utils.Sequence; image.save("out")
        import tf_keras as keras  # Keras 2 by name: the Keras 3 rules never apply
        keras.optimizers.legacy.Adam(); keras.layers.experimental.preprocessing.Rescaling
        """)
    code, doc = scan(str(tmp_path), "--tensorflow", "2.21")
    assert (code, doc["findings"], doc["files_scanned"]) == (0, [], 2)


def test_the_versions_compared_select_the_rules(tmp_path: Path) -> None:
    write(tmp_path / "m.py", """
        import tensorflow as tf
        sess = tf.Session()
        est = tf.estimator.Estimator
        layer = tf.keras.layers.experimental.preprocessing.Rescaling
        """)
    everything = {(2, "TF1-SESSION"), (3, "TF-ESTIMATOR-REMOVED"), (4, "KERAS3-PREPROCESSING-EXPERIMENTAL")}
    assert hits(scan(str(tmp_path), "--tensorflow", "2.21")[1]) == everything
    assert hits(scan(str(tmp_path), "--from-tensorflow", "2.15", "--tensorflow", "2.21")[1]) == everything - {(2, "TF1-SESSION")}
    assert hits(scan(str(tmp_path), "--tensorflow", "2.15")[1]) == {(2, "TF1-SESSION")}
    assert hits(scan(str(tmp_path), "--from-tensorflow", "2.16", "--tensorflow", "2.21")[1]) == set()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    shutil.copy(REPO / "environment.template.yml", root / "environment.template.yml")
    write_profile(root, "old", tensorflow={"version": "2.15.*"}, keras="2.*")
    write_profile(root, "legacy", keras="2.*")  # TensorFlow 2.21 + tf-keras + TF_USE_LEGACY_KERAS=1
    write_profile(root, "new")
    return root


def test_tf_keras_route_keeps_tf_keras_code_and_says_so(project: Path, tmp_path: Path) -> None:
    code = write(tmp_path / "code" / "m.py", """
        import tensorflow as tf
        import keras
        a = tf.keras.layers.experimental.preprocessing.Rescaling
        b = tf.keras.optimizers.legacy.Adam
        c = keras.optimizers.legacy.Adam
        d = tf.estimator.Estimator
        """)
    args = (str(code), "--project", str(project), "--from", "old")
    _, legacy = scan(*args, "--to", "legacy")
    assert hits(legacy) == {(3, "KERAS3-TF-KERAS-ROUTE"), (5, "KERAS3-OPTIMIZERS-LEGACY"), (6, "TF-ESTIMATOR-REMOVED")}
    (route,) = [f for f in legacy["findings"] if f["severity"] == "info"]
    assert "2 uses" in route["message"] and "TF_USE_LEGACY_KERAS" in route["fix"]
    assert legacy["to"]["legacy_keras"] is True and legacy["to"]["tf_keras_major"] == 2
    _, plain = scan(*args, "--to", "new")
    assert hits(plain) == {(3, "KERAS3-PREPROCESSING-EXPERIMENTAL"), (4, "KERAS3-OPTIMIZERS-LEGACY"),
                           (5, "KERAS3-OPTIMIZERS-LEGACY"), (6, "TF-ESTIMATOR-REMOVED")}
    # leaving the route: tf.keras switches to Keras 3 now; the standalone keras already was
    _, leaving = scan(str(code), "--project", str(project), "--from", "legacy", "--to", "new")
    assert hits(leaving) == {(3, "KERAS3-PREPROCESSING-EXPERIMENTAL"), (4, "KERAS3-OPTIMIZERS-LEGACY")}


def test_notebook_cells_with_magics_and_shell_lines(tmp_path: Path) -> None:
    cells = [
        {"cell_type": "markdown", "source": ["tf.Session() in prose\n"]},
        {"cell_type": "code", "source": ["%matplotlib inline\n", "!pip install tensorflow\n", "import tensorflow as tf\n"]},
        {"cell_type": "code", "source": "%%bash\necho tf.Session\n"},
        {"cell_type": "code", "source": ["files = !ls\n", "for f in files:\n", "    !echo $f\n", "    s = tf.Session()\n",
                                         "tf.placeholder?\n"]},
        {"cell_type": "code", "source": ["%%time\n", "x = tf.placeholder(tf.float32)\n"]},
    ]
    nb = tmp_path / "nb.ipynb"
    nb.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    code, doc = scan(str(nb), "--tensorflow", "2.21")
    assert code == 1
    assert [(f["cell"], f["line"], f["rule_id"]) for f in doc["findings"]] == [
        (4, 4, "TF1-SESSION"), (5, 2, "TF1-PLACEHOLDER")]


def test_code_that_cannot_be_checked_fails_closed(tmp_path: Path) -> None:
    write(tmp_path / "py2.py", "import tensorflow as tf\nprint 'hello'\n")
    (tmp_path / "broken.ipynb").write_text("{ not json, mentions keras")
    (tmp_path / "no_tf.py").write_text("print 'not ours, never parsed'\n")
    code, doc = scan(str(tmp_path), "--tensorflow", "2.21")
    assert code == 1 and doc["ok"] is False
    assert {(Path(f["file"]).name, f["rule_id"], f["severity"]) for f in doc["findings"]} == {
        ("py2.py", "SCAN-SYNTAX", "error"), ("broken.ipynb", "SCAN-UNREADABLE", "error")}


def test_warnings_alone_exit_zero(tmp_path: Path) -> None:
    write(tmp_path / "d.py", "from keras.utils import Sequence\n")
    code, doc = scan(str(tmp_path / "d.py"), "--tensorflow", "2.21")
    assert (code, doc["ok"], doc["counts"]) == (0, True, {"error": 0, "warning": 1, "info": 0})


def test_directories_skip_environments_caches_and_hidden(tmp_path: Path) -> None:
    bad = "import tensorflow as tf\ntf.Session()\n"
    write(tmp_path / "src" / "pkg" / "m.py", bad)
    write(tmp_path / ".venv" / "lib" / "m.py", bad)
    write(tmp_path / "env" / "pyvenv.cfg", "home = /usr\n")
    write(tmp_path / "env" / "lib" / "m.py", bad)
    write(tmp_path / "conda_env" / "conda-meta" / "history", "")
    write(tmp_path / "conda_env" / "m.py", bad)
    write(tmp_path / "src" / "__pycache__" / "m.py", bad)
    _, doc = scan(str(tmp_path), "--tensorflow", "2.21")
    assert [Path(f["file"]).relative_to(tmp_path).as_posix() for f in doc["findings"]] == ["src/pkg/m.py"]


@pytest.mark.parametrize("args, says", [
    (("missing_dir", "--tensorflow", "2.21"), "missing_dir: no such file or directory"),
    ((".", "--tensorflow", "2.x"), "not a TensorFlow version"),
    ((".", "--tensorflow", "9.9"), "not in envlock's compatibility table"),
    ((".", "--tensorflow", "2.21", "--to", "p"), "exactly one of --to PROFILE or --tensorflow"),
    ((".",), "exactly one of --to PROFILE or --tensorflow"),
    ((".", "--tensorflow", "2.21", "--from", "a", "--from-tensorflow", "2.15"), "at most one of --from"),
    (("README.md", "--tensorflow", "2.21"), "not a .py or .ipynb file"),
])
def test_bad_input_exits_two_with_one_json_object(args: tuple[str, ...], says: str, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "README.md").write_text("keras\n")
    code, doc = scan(*args)
    assert code == 2 and doc["ok"] is False and doc["exit_code"] == 2 and says in doc["error"]


def test_unknown_profile_is_bad_input(project: Path, tmp_path: Path) -> None:
    code, doc = scan(str(tmp_path), "--project", str(project), "--to", "nope")
    assert code == 2 and "nope" in doc["error"]


def _example(rule) -> str:
    """A line of code that uses what ``rule`` is about."""
    symbol = rule.symbols[0] if rule.symbols else ""
    if rule.kind == "method":
        return f"model.{symbol}(data)"
    if rule.kind == "method_call":
        return f"model.{symbol}(data, {rule.keywords[0]}=2)" if rule.keywords else f"model.{symbol}('some/dir')"
    if rule.kind == "call":
        return f"tf.{symbol}('some/dir')"
    if symbol.startswith("tensorflow_estimator"):
        return f"import {symbol}"
    return f"x = {symbol if symbol.startswith('tf.') else 'tf.' + symbol}"


def test_every_rule_fires_on_an_example(tmp_path: Path) -> None:
    rules = [r for r in load_rules().rules if r.kind != "route"]
    lines = ["import tensorflow as tf"] + [_example(r) for r in rules]
    write(tmp_path / "all.py", "\n".join(lines) + "\n")
    _, doc = scan(str(tmp_path), "--tensorflow", "2.21")
    by_line = {f["line"]: f["rule_id"] for f in doc["findings"]}
    assert [by_line.get(i + 2) for i in range(len(rules))] == [r.id for r in rules]


def test_parallel_scan_finds_what_the_sequential_one_does(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import envlock.upgrade.scan as scan_module

    for n in range(12):
        write(tmp_path / f"p{n % 3}" / f"m{n}.py", f"import tensorflow as tf\nx{n} = tf.Session()\n" + "y = 1\n" * n
              + "model.fit_generator(g)\n")
    _, sequential = scan(str(tmp_path), "--tensorflow", "2.21")
    monkeypatch.setattr(scan_module, "PARALLEL_FROM", 1)
    if scan_module._worker_count(12) < 2:
        pytest.skip("one usable CPU (or not Linux): no process pool to compare")
    _, parallel = scan(str(tmp_path), "--tensorflow", "2.21")
    assert len(sequential["findings"]) == 24 and parallel == sequential


def test_rule_data_is_validated(tmp_path: Path) -> None:
    from envlock.upgrade.rules import RULES_FILE, RuleFile

    data = yaml.safe_load(RULES_FILE.read_text())
    assert len({r["id"] for r in data["rules"]}) == len(data["rules"]) >= 30
    data["rules"].append(dict(data["rules"][0]))
    with pytest.raises(ValueError, match="duplicate rule ids"):
        RuleFile.model_validate(data)
    data["rules"][-1] = {**data["rules"][0], "id": "X-BOTH", "keras3": True}
    with pytest.raises(ValueError, match="exactly one of removed_in"):
        RuleFile.model_validate(data)
