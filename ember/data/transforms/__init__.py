"""Image transforms with torchvision's names: conversion, preprocessing fitted on the training split, and
random augmentation (数据增强) that works on a whole batch at once.

Layout. Images are channel-first: one image is (C, H, W), a batch (B, C, H, W). Every transform below
(except ``ToTensor``, which converts from the HWC layout of image files) accepts either, as an array or a
Tensor. Conversion and preprocessing transforms (``ToTensor``, ``ToDtype``, ``Normalize``, ``MeanSubtract``,
``Standardize``, ``MinMaxScale``) return Tensors; geometric and colour transforms return the kind they
were given (array in, array out). Tensors come back without grad: the pipeline is not differentiated.
float32 stays float32.

PIL images. A single PIL image (laid out (H, W, C), as torchvision reads it) is handed to
``ember.vision.transforms``, torchvision's transforms, so ``Compose([Resize(224), ToTensor()])`` on a PIL
digit gives a (1, 224, 224) Tensor and ``RandomHorizontalFlip`` mirrors a red image into a red image.
Statistics transforms (``Normalize``, ``MeanSubtract``, ...) refuse a PIL image with a TypeError that says
to apply ``ToTensor()`` first.

Randomness. A random transform given a batch draws *independent* parameters for every sample (a flip
decision, crop offsets, jitter factors per image), vectorised: masks, fancy indexing and per-sample
interpolation weights, never a Python loop over samples or pixels. It draws them from
``ember.data.rng()``: inside a DataLoader, the generator of the batch being produced; elsewhere the
pipeline generator that ``ember.manual_seed`` seeds. Never the model's generator.

Preprocessing (CS231n's "the mean must be computed on the training data only, then subtracted from
train, validation and test alike"): ``MeanSubtract``, ``Standardize`` and ``MinMaxScale`` are *fitted* with
``.fit(train_images)`` and then apply the same statistics to every split; ``state_dict()`` saves them.
"""

from .base import Compose, Lambda, ToDtype, ToTensor, Transform
from .preprocessing import MeanSubtract, MinMaxScale, Normalize, Standardize
from .geometry import CenterCrop, RandomCrop, RandomHorizontalFlip, RandomResizedCrop, RandomVerticalFlip, Resize, resize
from .photometric import ColorJitter, Grayscale, RandomGrayscale
