"""torchvision.datasets.FakeData: random images, for running a pipeline without a data set.

``FakeData(size=1000, image_size=(3, 224, 224), num_classes=10)`` holds nothing: sample ``i`` is drawn
from a generator seeded with ``i + random_offset``, so ``ds[i]`` is the same every time and the global
random state is untouched (torchvision saves and restores torch's generator for the same effect). The
image is standard-normal noise turned into a PIL image as ``transforms.ToPILImage`` turns a float
tensor: ``x·255`` truncated to an integer and kept modulo 256 (torch's float → uint8 cast); the
target a uniform class index. The values are Ember's own draws, not torch's.
"""

from ...backend import host
from .vision import VisionDataset, pil_image


class FakeData(VisionDataset):
    """``size`` random ``(PIL image, int)`` samples of ``image_size`` ``(C, H, W)`` (C = 1: mode 'L', C = 3:
    'RGB', C = 4: 'RGBA') and ``num_classes`` classes."""

    def __init__(self, size=1000, image_size=(3, 224, 224), num_classes=10, transform=None, target_transform=None,
                 random_offset=0):
        super().__init__(transform=transform, target_transform=target_transform)
        self.size = size
        self.num_classes = num_classes
        self.image_size = image_size
        self.random_offset = random_offset

    def __getitem__(self, index):
        if index >= len(self):
            raise IndexError(f"{type(self).__name__} index out of range")
        rng = host.random.default_rng(int(index) + self.random_offset)
        img = rng.standard_normal(self.image_size, dtype=host.float32)  # (C, H, W)
        target = int(rng.integers(0, self.num_classes))
        pixels = ((img * host.float32(255)).astype(host.int64) & 0xFF).astype(host.uint8)
        pixels = pixels.transpose(1, 2, 0)  # (H, W, C)
        img = pil_image().fromarray(pixels[:, :, 0] if pixels.shape[2] == 1 else pixels)
        return self._transformed(img, target)

    def __len__(self):
        return self.size
