"""acnet — Python bindings of the ACNet inference runtime (libacnet, include/acnet.h).

    import acnet, numpy as np

    with acnet.Model("models/fashion-mnist-acnet.acnb") as model:     # maps the file: no copy
        session = acnet.Session(model, threads=2, max_batch=64)
        logits = session.run(np.zeros((8,) + model.input_shape[1:], np.float32))  # (8, 10)
        for label, index, p in session.classify("examples/images/bag-1.jpg", top=3)[0]:
            print(label, round(p, 4))
        session.close()

- Tensors are float32 NCHW; ``Session.run`` passes C-contiguous float32 arrays to C without
  copying and releases the GIL while the model computes.
- ``Session.classify`` / ``Model.preprocess`` decode and preprocess images exactly like
  `acnet classify` (bit-identical tensors for JPEG files).
- A Model is shared by any number of threads; a Session is used by one thread at a time.
- Failures raise AcnetError subclasses carrying the acnet_status and the library's message.

The wheel carries libacnet.so (no Swift runtime needed); ACNET_LIBRARY=/path/libacnet.so
selects another build.
"""

from ._capi import library_path
from ._core import (
    AcnetError,
    BadFormatError,
    BufferTooSmallError,
    ChecksumMismatchError,
    InputSpec,
    InvalidArgumentError,
    MisalignedError,
    Model,
    ModelIOError,
    OutOfMemoryError,
    OutOfRangeError,
    Prediction,
    Session,
    UnsupportedOpError,
    UnsupportedVersionError,
    library_version,
)
from ._capi import (
    OK,
    ERROR_INVALID_ARGUMENT,
    ERROR_MISALIGNED,
    ERROR_IO,
    ERROR_BAD_FORMAT,
    ERROR_CHECKSUM_MISMATCH,
    ERROR_UNSUPPORTED_VERSION,
    ERROR_UNSUPPORTED_OP,
    ERROR_OUT_OF_MEMORY,
    ERROR_BUFFER_TOO_SMALL,
    ERROR_OUT_OF_RANGE,
)
from ._image import DEFAULT_MAX_PIXELS, ImageError

try:
    from ._version import __version__
except ImportError:  # a source checkout: the wheel build writes _version.py from acnet.h
    __version__ = "0+unknown"

__all__ = [
    "AcnetError", "BadFormatError", "BufferTooSmallError", "ChecksumMismatchError", "ImageError",
    "InputSpec", "InvalidArgumentError", "MisalignedError", "Model", "ModelIOError",
    "OutOfMemoryError", "OutOfRangeError", "Prediction", "Session", "UnsupportedOpError",
    "UnsupportedVersionError", "library_path", "library_version", "DEFAULT_MAX_PIXELS",
    "OK", "ERROR_INVALID_ARGUMENT", "ERROR_MISALIGNED", "ERROR_IO", "ERROR_BAD_FORMAT",
    "ERROR_CHECKSUM_MISMATCH", "ERROR_UNSUPPORTED_VERSION", "ERROR_UNSUPPORTED_OP",
    "ERROR_OUT_OF_MEMORY", "ERROR_BUFFER_TOO_SMALL", "ERROR_OUT_OF_RANGE",
]
