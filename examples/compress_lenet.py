"""Compressing a trained network: int8 quantisation and L1 magnitude pruning, measured on its test set.

    ember train lenet5 --dataset mnist --epochs 3 --out /tmp/j-lenet
    python examples/compress_lenet.py /tmp/j-lenet/best.npz      (from the repository root: PYTHONPATH=.)

prints the test accuracy and the state_dict size of

- the float32 model;
- ``quantize_dynamic`` (int8 Linear weights, activations quantised per batch at run time);
- static int8 (``prepare`` → calibration on training images → ``convert``: Linear and Conv2d in int8,
  BatchNorm folded into its convolution first where there is one);
- L1 magnitude pruning of every Conv2d/Linear weight at each sparsity, per layer (each weight loses that
  share) and global (one threshold across all of them), without and with a short fine-tune
  (``--finetune-steps`` SGD steps on the training set, the mask held fixed, then ``prune.remove``).

Any image-classifier checkpoint of ``ember train`` works (e.g. a ResNet-20 on Fashion-MNIST).

One run (LeNet-5, 3 epochs on MNIST, all 10,000 test images, fine-tune 200 steps of batch 128 at lr 0.01):

    float32 0.9908 (246,824 B) | dynamic int8 0.9906 (70,088 B) | static int8 0.9907 (64,422 B)
    50 % per layer 0.9891 → 0.9901 fine-tuned | 50 % global 0.9904 → 0.9916
    90 % per layer 0.1905 → 0.9750 fine-tuned | 90 % global 0.9797 → 0.9881

Global pruning keeps the small, crowded layers (conv1 has 150 weights, fc1 48,000) from losing as much
as the large redundant ones; at 90 % per layer conv1 keeps 15 weights and the net collapses until it is
fine-tuned. Pruned weights are zeros in a dense array: the size only shrinks once stored sparsely.
"""

import argparse
import copy
import json
import time

import ember
from ember import models, nn
from ember.app.recipes import DATASETS
from ember.app.usage import read_checkpoint
from ember.data import DataLoader, Subset, transforms
from ember.data import datasets as D
from ember.nn.utils import fuse_conv_bn_eval, prune
from ember.quantization import convert, model_size_bytes, prepare, quantize_dynamic


def load(path):
    """The model and its training config from a checkpoint, in eval mode."""
    config = read_checkpoint(path)["config"]
    state = read_checkpoint(path)["model"]
    model = models.create(config["model"], num_classes=config["num_classes"], in_channels=config["in_channels"],
                          input_size=config["input_size"])
    model.load_state_dict(state)
    return model.eval(), config


def loader(config, train, size, batch_size, shuffle=False):
    """The first ``size`` images of the train or test split, standardised as in training."""
    standardize = transforms.Standardize(mode="channel")
    standardize.load_state_dict(config["standardize"])
    factory = DATASETS[config["dataset"]].factory
    dataset = getattr(D, factory)(train=train) if factory == "DigitsMini" else getattr(D, factory)(train=train,
                                                                                                  download=True)
    if size and size < len(dataset):
        dataset = Subset(dataset, list(range(size)))
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle,
                      transform=transforms.Compose([transforms.ToTensor(), standardize]))


def accuracy(model, data):
    correct = total = 0
    with ember.no_grad():
        for x, y in data:
            correct += int((model(x).argmax(1) == y).sum().item())
            total += len(y)
    return correct / total


def fuse_batchnorm(model):
    """Fold every BatchNorm2d that follows a Conv2d as a sibling named alike (conv1/bn1, conv2/bn2) into it."""
    model = copy.deepcopy(model).eval()
    for module in model.modules():
        for name, child in list(module._modules.items()):
            bn_name = name.replace("conv", "bn")
            bn = module._modules.get(bn_name)
            if type(child) is nn.Conv2d and bn_name != name and isinstance(bn, nn.BatchNorm2d):
                module._modules[name] = fuse_conv_bn_eval(child, bn)
                module._modules[bn_name] = nn.Identity()
    return model


def static_int8(model, calibration):
    prepared = prepare(fuse_batchnorm(model))
    with ember.no_grad():
        for x, _ in calibration:
            prepared(x)
    return convert(prepared)


def prunable(model):
    return [(m, "weight") for m in model.modules() if type(m) in (nn.Conv2d, nn.Linear)]


def sparsity(model):
    weights = [getattr(m, name).detach().numpy() for m, name in prunable(model)]
    return sum(int((w == 0).sum()) for w in weights) / sum(w.size for w in weights)


def pruned(model, amount, scope, train_data, steps, lr):
    """A copy with L1 pruning at ``amount``, fine-tuned ``steps`` SGD steps (masks fixed), made permanent."""
    model = copy.deepcopy(model)
    targets = prunable(model)
    if scope == "global":
        prune.global_unstructured(targets, prune.L1Unstructured, amount=amount)
    else:
        for module, name in targets:
            prune.l1_unstructured(module, name, amount)
    if steps:
        model.train()
        optimizer = ember.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
        done = 0
        while done < steps:
            for x, y in train_data:
                optimizer.zero_grad()
                nn.functional.cross_entropy(model(x), y).backward()
                optimizer.step()
                done += 1
                if done == steps:
                    break
    for module, name in targets:
        prune.remove(module, name)
    return model.eval()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint")
    parser.add_argument("--test-size", type=int, default=None, help="evaluate on the first N test images (default all)")
    parser.add_argument("--calibration-size", type=int, default=1024, help="training images for static calibration")
    parser.add_argument("--amounts", type=float, nargs="+", default=[0.5, 0.9], help="pruning sparsities")
    parser.add_argument("--finetune-steps", type=int, default=200, help="SGD steps after pruning (0: none)")
    parser.add_argument("--finetune-lr", type=float, default=0.01)
    parser.add_argument("--json", default=None, help="also write the results to this file")
    args = parser.parse_args(argv)
    ember.manual_seed(0)
    model, config = load(args.checkpoint)
    test = loader(config, False, args.test_size, 500)
    results = {"checkpoint": args.checkpoint, "model": config["model"], "dataset": config["dataset"],
               "test_images": len(test.dataset)}

    def report(key, net, started):
        acc = accuracy(net, test)
        results[key] = {"accuracy": acc, "bytes": model_size_bytes(net), "seconds": round(time.time() - started, 1)}
        if key.startswith("pruned"):
            results[key]["sparsity"] = sparsity(net)
        print(f"{key:<32} accuracy {acc:.4f}   size {model_size_bytes(net):>9,} B"
              + (f"   sparsity {results[key]['sparsity']:.3f}" if "sparsity" in results[key] else ""), flush=True)

    t = time.time()
    report("float32", model, t)
    t = time.time()
    report("dynamic int8 (Linear)", quantize_dynamic(model, {nn.Linear}, dtype=ember.qint8), t)
    t = time.time()
    report("static int8 (Conv2d+Linear)", static_int8(model, loader(config, True, args.calibration_size, 256)), t)
    train_data = loader(config, True, None, 128, shuffle=True)
    for amount in args.amounts:
        for scope in ("layer", "global"):
            for steps in sorted({0, args.finetune_steps}):
                t = time.time()
                net = pruned(model, amount, scope, train_data, steps, args.finetune_lr)
                report(f"pruned {amount:.0%} {scope}, ft {steps}", net, t)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    return results


if __name__ == "__main__":
    main()
