"""A d2l-1.0-style program (our own code, written the way *Dive into Deep Learning* 1.0 structures its
PyTorch chapters): a HyperParameters base that saves constructor arguments by frame inspection, a Module
with a training_step/validation_step and a progress "board", a DataModule handing out DataLoaders, and a
Trainer whose fit_epoch calls ``loss.backward()`` inside ``torch.no_grad()`` and clips gradients with
``param.grad[:] *= ...``. The models use only Lazy layers: a small ResNet (in-place ``Y += X`` after a
LazyBatchNorm2d), initialised after a first batch with ``type(m) == nn.Conv2d`` checks, and a bidirectional
scratch RNN that feeds ``reversed(inputs)`` on as a tensor. It ends by saving the ResNet's state_dict and
loading it into a freshly built lazy model, and by catching the RuntimeError of a too-small input.

Usage: python d2l_oo_design.py [max_epochs]
"""

import collections
import inspect
import sys

import torch
from torch import nn
from torch.nn import functional as F


class HyperParameters:
    def save_hyperparameters(self, ignore=[]):
        frame = inspect.currentframe().f_back
        _, _, _, local_vars = inspect.getargvalues(frame)
        self.hparams = {k: v for k, v in local_vars.items()
                        if k not in set(ignore + ['self']) and not k.startswith('_')}
        for k, v in self.hparams.items():
            setattr(self, k, v)


class Board:
    """Keeps the averaged points d2l would plot."""
    def __init__(self):
        self.points = collections.defaultdict(list)

    def draw(self, x, y, label):
        self.points[label].append((x, float(y)))


class Module(nn.Module, HyperParameters):
    def __init__(self):
        super().__init__()
        self.board = Board()

    def forward(self, X):
        return self.net(X)

    def plot(self, key, value, train):
        x = self.trainer.train_batch_idx if train else self.trainer.epoch + 1
        self.board.draw(x, value.detach().cpu().numpy(), ('train_' if train else 'val_') + key)

    def training_step(self, batch):
        l = self.loss(self(*batch[:-1]), batch[-1])
        self.plot('loss', l, train=True)
        return l

    def validation_step(self, batch):
        Y_hat = self(*batch[:-1])
        self.plot('loss', self.loss(Y_hat, batch[-1]), train=False)
        self.plot('acc', self.accuracy(Y_hat, batch[-1]), train=False)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.lr)

    def apply_init(self, inputs, init=None):
        self.forward(*inputs)
        if init is not None:
            self.net.apply(init)


class Classifier(Module):
    def accuracy(self, Y_hat, Y, averaged=True):
        Y_hat = Y_hat.reshape((-1, Y_hat.shape[-1]))
        preds = Y_hat.argmax(axis=1).type(Y.dtype)
        compare = (preds == Y.reshape(-1)).type(torch.float32)
        return compare.mean() if averaged else compare

    def loss(self, Y_hat, Y, averaged=True):
        Y_hat = Y_hat.reshape((-1, Y_hat.shape[-1]))
        return F.cross_entropy(Y_hat, Y.reshape((-1,)), reduction='mean' if averaged else 'none')


class ToyImages(HyperParameters):
    """Four classes of 1x12x12 images: noise plus a bright quadrant that names the class."""
    def __init__(self, batch_size=32, n_train=256, n_val=128):
        self.save_hyperparameters()
        g = torch.Generator().manual_seed(0)
        n = n_train + n_val
        self.y = torch.randint(0, 4, (n,), generator=g)
        self.X = torch.randn(n, 1, 12, 12, generator=g) * 0.5
        for label in range(4):
            rows = slice(0, 6) if label < 2 else slice(6, 12)
            cols = slice(0, 6) if label % 2 == 0 else slice(6, 12)
            self.X[self.y == label, :, rows, cols] += 1.5

    def get_dataloader(self, train):
        i = slice(0, self.n_train) if train else slice(self.n_train, None)
        dataset = torch.utils.data.TensorDataset(self.X[i], self.y[i])
        return torch.utils.data.DataLoader(dataset, self.batch_size, shuffle=train)


class Trainer(HyperParameters):
    def __init__(self, max_epochs, gradient_clip_val=0):
        self.save_hyperparameters()

    def fit(self, model, data):
        self.train_dataloader = data.get_dataloader(True)
        self.val_dataloader = data.get_dataloader(False)
        model.trainer = self
        self.model = model
        self.optim = model.configure_optimizers()
        self.train_batch_idx = 0
        for self.epoch in range(self.max_epochs):
            self.fit_epoch()

    def fit_epoch(self):
        self.model.train()
        for batch in self.train_dataloader:
            loss = self.model.training_step(batch)
            self.optim.zero_grad()
            with torch.no_grad():
                loss.backward()
                if self.gradient_clip_val > 0:
                    self.clip_gradients(self.gradient_clip_val, self.model)
                self.optim.step()
            self.train_batch_idx += 1
        self.model.eval()
        for batch in self.val_dataloader:
            with torch.no_grad():
                self.model.validation_step(batch)

    def clip_gradients(self, grad_clip_val, model):
        params = [p for p in model.parameters() if p.requires_grad]
        norm = torch.sqrt(sum(torch.sum((p.grad ** 2)) for p in params))
        if norm > grad_clip_val:
            for param in params:
                param.grad[:] *= grad_clip_val / norm


def init_cnn(module):
    if type(module) == nn.Linear or type(module) == nn.Conv2d:
        nn.init.xavier_uniform_(module.weight)


class Residual(nn.Module):
    def __init__(self, num_channels, use_1x1conv=False, strides=1):
        super().__init__()
        self.conv1 = nn.LazyConv2d(num_channels, kernel_size=3, padding=1, stride=strides)
        self.conv2 = nn.LazyConv2d(num_channels, kernel_size=3, padding=1)
        self.conv3 = nn.LazyConv2d(num_channels, kernel_size=1, stride=strides) if use_1x1conv else None
        self.bn1 = nn.LazyBatchNorm2d()
        self.bn2 = nn.LazyBatchNorm2d()

    def forward(self, X):
        Y = F.relu(self.bn1(self.conv1(X)))
        Y = self.bn2(self.conv2(Y))
        if self.conv3:
            X = self.conv3(X)
        Y += X
        return F.relu(Y)


class TinyResNet(Classifier):
    def __init__(self, lr=0.1, num_classes=4):
        super().__init__()
        self.save_hyperparameters()
        self.net = nn.Sequential(
            nn.LazyConv2d(8, kernel_size=3, padding=1), nn.LazyBatchNorm2d(), nn.ReLU(),
            Residual(8), Residual(16, use_1x1conv=True, strides=2),
            nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.LazyLinear(num_classes))


class RNNScratch(Module):
    def __init__(self, num_inputs, num_hiddens, sigma=0.01):
        super().__init__()
        self.save_hyperparameters()
        self.W_xh = nn.Parameter(torch.randn(num_inputs, num_hiddens) * sigma)
        self.W_hh = nn.Parameter(torch.randn(num_hiddens, num_hiddens) * sigma)
        self.b_h = nn.Parameter(torch.zeros(num_hiddens))

    def forward(self, inputs, state=None):
        state = torch.zeros((inputs.shape[1], self.num_hiddens)) if state is None else state
        outputs = []
        for X in inputs:
            state = torch.tanh(X @ self.W_xh + state @ self.W_hh + self.b_h)
            outputs.append(state)
        return outputs, state


class BiRNNScratch(Module):
    def __init__(self, num_inputs, num_hiddens):
        super().__init__()
        self.save_hyperparameters()
        self.f_rnn = RNNScratch(num_inputs, num_hiddens)
        self.b_rnn = RNNScratch(num_inputs, num_hiddens)
        self.num_hiddens *= 2

    def forward(self, inputs):
        f_outputs, _ = self.f_rnn(inputs)
        b_outputs, _ = self.b_rnn(reversed(inputs))
        return [torch.cat((f, b), -1) for f, b in zip(f_outputs, reversed(b_outputs))]


def main():
    max_epochs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    torch.manual_seed(0)
    data = ToyImages()
    model = TinyResNet()
    model.apply_init([next(iter(data.get_dataloader(True)))[0]], init_cnn)
    print('layer types after init:', sorted({type(m).__name__ for m in model.net.modules()}))
    Trainer(max_epochs=max_epochs, gradient_clip_val=1).fit(model, data)
    board = model.board.points
    print('first train loss %.4f' % board['train_loss'][0][1])
    print('last train loss %.4f' % board['train_loss'][-1][1])
    val_acc = sum(y for _, y in board['val_acc'][-4:]) / 4
    print('val acc %.4f' % val_acc)

    # A freshly built lazy model loads the saved weights before it has seen any input.
    torch.save(model.state_dict(), 'tiny_resnet.params')
    clone = TinyResNet()
    clone.load_state_dict(torch.load('tiny_resnet.params'))
    model.eval(), clone.eval()
    X = data.X[:8]
    with torch.no_grad():
        same = bool((clone(X) == model(X)).all())
    print('clone matches:', same)

    brnn = BiRNNScratch(num_inputs=5, num_hiddens=3)
    inputs = torch.randn(4, 2, 5, requires_grad=True)
    outputs = brnn(inputs)
    torch.stack(outputs).sum().backward()
    print('birnn outputs', len(outputs), tuple(outputs[0].shape), 'grad', tuple(inputs.grad.shape))

    try:
        nn.MaxPool2d(kernel_size=3, stride=2)(torch.zeros(1, 1, 2, 2))
    except RuntimeError as error:
        print('too small input: RuntimeError caught')


if __name__ == '__main__':
    main()
