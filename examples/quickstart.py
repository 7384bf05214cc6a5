"""Ember's quick start, runnable: build LeNet-5, check one training step against the chain rule, then
watch it learn a small synthetic task (bright bars: is the bar horizontal or vertical, and where?).

    python examples/quickstart.py
"""

import time

import ember
import ember.nn as nn
import ember.nn.functional as F


def lenet5(num_classes=10):
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, num_classes),
    )


def bars(n):
    """n noisy 28×28 images with one bright bar each; the class is the bar's orientation and its third
    of the image (6 classes)."""
    labels = ember.randint(0, 6, (n,))
    vertical, third = labels // 3, labels - 3 * (labels // 3)
    start = (2 + 9 * third + ember.randint(0, 4, (n,))).reshape(n, 1, 1)
    pixel = ember.arange(28)
    rows, cols = pixel.reshape(1, 28, 1), pixel.reshape(1, 1, 28)
    position = ember.where(vertical.reshape(n, 1, 1) == 1, cols, rows)  # the coordinate across the bar
    on_bar = (position >= start) & (position < start + 3)
    images = ember.where(on_bar, 1.0, 0.0) + ember.randn(n, 28, 28)  # the bar is as faint as the noise
    return images.reshape(n, 1, 28, 28), labels


def main():
    ember.manual_seed(0)
    model = lenet5(num_classes=6)
    print(model)
    x_train, y_train = bars(2048)
    x_test, y_test = bars(512)
    optimizer_lr, batch = 0.05, 64
    start = time.perf_counter()
    for epoch in range(3):
        model.train()
        order = ember.randperm(len(y_train))
        for k in range(0, len(order), batch):
            idx = order[k : k + batch]
            loss = F.cross_entropy(model(x_train[idx]), y_train[idx])
            model.zero_grad()
            loss.backward()
            with ember.no_grad():  # plain SGD
                for p in model.parameters():
                    p -= optimizer_lr * p.grad
        model.eval()
        with ember.no_grad():
            accuracy = (model(x_test).argmax(1) == y_test).float().mean().item()
        print(f"epoch {epoch + 1}: last batch loss {loss.item():.4f}, test accuracy {accuracy:.1%}")
    print(f"{time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
