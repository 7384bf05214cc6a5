"""Training curves: loss and accuracy per epoch, train against validation (needs matplotlib)."""

import os


def plot_history(history, path, title=None):
    """Save a PNG with two panels (loss, accuracy) from a Trainer history; returns the path.

    Raises ImportError with the install hint when matplotlib is missing.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only: no display needed
        import matplotlib.pyplot as plt
        import matplotlib.ticker
    except ImportError as error:
        raise ImportError("plotting needs matplotlib: pip install 'ember[plot]'") from error
    epochs = [h["epoch"] for h in history]
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    for key, label in (("loss", "train"), ("val_loss", "validation")):
        if any(key in h for h in history):
            ax_loss.plot(epochs, [h.get(key) for h in history], marker="o", label=label)
    for key, label in (("accuracy", "train"), ("val_accuracy", "validation")):
        if any(key in h for h in history):
            ax_acc.plot(epochs, [h.get(key) for h in history], marker="o", label=label)
    ax_loss.set(xlabel="epoch", ylabel="loss", title="loss")
    ax_acc.set(xlabel="epoch", ylabel="accuracy", title="accuracy")
    for ax in (ax_loss, ax_acc):
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))  # epochs are whole numbers
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    tmp = f"{path}.tmp.png"
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    os.replace(tmp, path)  # atomic, like every file Ember writes
    return path
