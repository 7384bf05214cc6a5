"""``torchvision.io``'s image functions: files to uint8 (C, H, W) tensors and back (through Pillow)."""

from .image import ImageReadMode, decode_image, decode_jpeg, decode_png, read_file, read_image, write_jpeg, write_png

__all__ = ["ImageReadMode", "decode_image", "decode_jpeg", "decode_png", "read_file", "read_image", "write_jpeg",
           "write_png"]
