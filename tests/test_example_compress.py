"""examples/compress_lenet.py runs end to end on a tiny LeNet-5 (DigitsMini, one epoch) and reports sensible numbers."""

import importlib.util
import json
from pathlib import Path

from ember.app.recipes import train


def _example():
    path = Path(__file__).resolve().parent.parent / "examples" / "compress_lenet.py"
    spec = importlib.util.spec_from_file_location("compress_lenet", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_compress_lenet_example(tmp_path, capsys):
    train(model="lenet5", dataset="digits-mini", epochs=1, out=str(tmp_path / "run"), progress=False, val_size=100)
    out = tmp_path / "r.json"
    results = _example().main([str(tmp_path / "run" / "best.npz"), "--test-size", "200", "--calibration-size", "64",
                               "--amounts", "0.5", "0.9", "--finetune-steps", "3", "--json", str(out)])
    assert json.loads(out.read_text()) == json.loads(json.dumps(results))
    float_size = results["float32"]["bytes"]
    assert results["static int8 (Conv2d+Linear)"]["bytes"] < float_size / 3
    assert results["dynamic int8 (Linear)"]["bytes"] < float_size / 2
    assert abs(results["static int8 (Conv2d+Linear)"]["accuracy"] - results["float32"]["accuracy"]) < 0.1
    for amount in ("50%", "90%"):
        for scope in ("layer", "global"):
            r = results[f"pruned {amount} {scope}, ft 3"]
            assert abs(r["sparsity"] - int(amount[:2]) / 100) < 0.01 and r["bytes"] == float_size
    assert "pruned 90% global, ft 0" in capsys.readouterr().out
