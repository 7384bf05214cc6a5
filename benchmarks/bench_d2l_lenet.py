"""d2l's LeNet (chapter 6.6) on Fashion-MNIST, one unmodified program run twice: on Ember through
`ember run`, and on PyTorch. Same program (tests/torch_programs/d2l_lenet_fashion.py: sigmoid LeNet, xavier
init, SGD lr 0.9, batch 256, 4 DataLoader workers), same data files, each framework in its own process.

torchvision cannot be installed beside torch 2.13 on the build machine, so the PyTorch run gets a minimal
stand-in for the three torchvision names the program uses (datasets.FashionMNIST reading the same IDX files
and returning PIL images, transforms.Compose, transforms.ToTensor) — the model, loader, loss and optimizer
are PyTorch's own. Prints each run's per-epoch lines and a table of test accuracy by epoch.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_d2l_lenet.py --epochs 10
"""

import argparse
import os
import pathlib
import re
import subprocess
import sys
import tempfile
import textwrap

PROGRAM = pathlib.Path(__file__).resolve().parent.parent / "tests" / "torch_programs" / "d2l_lenet_fashion.py"

TORCHVISION_STAND_IN = textwrap.dedent('''
    import sys, types, runpy
    import numpy as np
    import torch
    from PIL import Image

    def read_idx(path):
        data = open(path, "rb").read()
        ndim = data[3]
        shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
        return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(shape)

    class FashionMNIST(torch.utils.data.Dataset):
        def __init__(self, root, train=True, transform=None, download=False):
            prefix = "train" if train else "t10k"
            raw = f"{root}/FashionMNIST/raw/{prefix}"
            self.data = read_idx(raw + "-images-idx3-ubyte")
            self.targets = read_idx(raw + "-labels-idx1-ubyte").astype(np.int64)
            self.transform = transform

        def __len__(self):
            return len(self.data)

        def __getitem__(self, i):
            img = Image.fromarray(self.data[i], mode="L")
            return (self.transform(img) if self.transform else img), int(self.targets[i])

    class Compose:
        def __init__(self, ts):
            self.ts = ts
        def __call__(self, x):
            for t in self.ts:
                x = t(x)
            return x

    class ToTensor:
        def __call__(self, img):
            return torch.from_numpy(np.asarray(img, dtype=np.float32) / 255).unsqueeze(0)

    tv = types.ModuleType("torchvision")
    tv.datasets = types.ModuleType("torchvision.datasets")
    tv.transforms = types.ModuleType("torchvision.transforms")
    tv.datasets.FashionMNIST = FashionMNIST
    tv.transforms.Compose, tv.transforms.ToTensor = Compose, ToTensor
    sys.modules.update({"torchvision": tv, "torchvision.datasets": tv.datasets, "torchvision.transforms": tv.transforms})
    sys.argv = sys.argv[1:]
    runpy.run_path(sys.argv[0], run_name="__main__")
''')


def run(framework, workdir, epochs, threads):
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "PYTHONWARNINGS": "ignore"}
    if framework == "ember":
        cmd = [sys.executable, "-m", "ember.run", str(PROGRAM), str(epochs)]
    else:
        shim = pathlib.Path(workdir) / "torch_runner.py"
        shim.write_text(TORCHVISION_STAND_IN)
        cmd = [sys.executable, str(shim), str(PROGRAM), str(epochs)]
    out = subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True, check=False)
    if out.returncode:
        raise SystemExit(f"{framework} failed:\n{out.stderr[-3000:]}")
    print(f"--- {framework}\n{out.stdout}")
    return [tuple(float(v) for v in m) for m in re.findall(
        r"epoch \d+ loss ([\d.]+) train acc ([\d.]+) test acc ([\d.]+) ([\d.]+) examples/sec", out.stdout)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--data", default=os.path.expanduser("~/.cache/ember/FashionMNIST/raw"),
                        help="folder with Fashion-MNIST's four IDX files (ember downloads them there)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        raw = pathlib.Path(tmp) / "data" / "FashionMNIST" / "raw"
        raw.parent.mkdir(parents=True)
        os.symlink(os.path.abspath(args.data), raw)
        (pathlib.Path(tmp) / "work").mkdir()
        results = {fw: run(fw, pathlib.Path(tmp) / "work", args.epochs, args.threads) for fw in ("ember", "torch")}
    print("| epoch | Ember loss | Ember test acc | Ember img/s | torch loss | torch test acc | torch img/s |")
    print("|---|---|---|---|---|---|---|")
    for i, (e, t) in enumerate(zip(results["ember"], results["torch"]), 1):
        print(f"| {i} | {e[0]:.3f} | {e[2]:.3f} | {e[3]:.0f} | {t[0]:.3f} | {t[2]:.3f} | {t[3]:.0f} |")


if __name__ == "__main__":
    main()
