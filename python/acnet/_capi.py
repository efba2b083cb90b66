"""The C ABI of include/acnet.h, declared for ctypes.  Everything unsafe lives in this module.

Why ctypes and not cffi or a compiled extension:

- ctypes ships with CPython, so the wheel holds no compiled Python code: one wheel
  (``py3-none-<platform>``) serves every CPython 3.9+ and the only native file is
  ``libacnet.so`` itself, built by ``make install``.  cffi's ABI mode would add a dependency
  for the same calls; its API mode (or a C extension) would need a compiler at build time and
  one wheel per Python version.
- A ``ctypes.CDLL`` function releases the GIL for the duration of the foreign call and takes
  it back afterwards, so ``acnet_session_run`` computes while other Python threads run.
- The cost is about 1-2 us of argument conversion per call, negligible next to a run (the
  shipped Fashion-MNIST model takes ~0.1 ms per image); the per-call work below is kept to
  integers and raw pointers (``ndarray.ctypes.data``), no ctypes array is built per run.

Every function's argtypes/restype is declared, so a wrong argument raises ``ctypes.ArgumentError``
in Python instead of passing garbage to C.
"""

from __future__ import annotations

import ctypes
import os
import threading

# Status codes (include/acnet.h, "Status codes").
OK = 0
ERROR_INVALID_ARGUMENT = 1
ERROR_MISALIGNED = 2
ERROR_IO = 3
ERROR_BAD_FORMAT = 4
ERROR_CHECKSUM_MISMATCH = 5
ERROR_UNSUPPORTED_VERSION = 6
ERROR_UNSUPPORTED_OP = 7
ERROR_OUT_OF_MEMORY = 8
ERROR_BUFFER_TOO_SMALL = 9
ERROR_OUT_OF_RANGE = 10

# acnet_channel_order, acnet_isa, acnet_convolution.
CHANNEL_ORDERS = {0: "gray", 1: "rgb", 2: "bgr", 3: "none"}
ISAS = {"auto": 0, "baseline": 1, "avx2": 2, "avx512": 3}
CONVOLUTIONS = {"auto": 0, "direct": 1}

_status = ctypes.c_int32
_ptr = ctypes.c_void_p
_size = ctypes.c_size_t


class InputSpec(ctypes.Structure):
    """acnet_input_spec."""

    _fields_ = [
        ("channels", ctypes.c_uint32),
        ("height", ctypes.c_uint32),
        ("width", ctypes.c_uint32),
        ("channel_order", ctypes.c_uint32),
        ("mean", ctypes.c_float * 4),
        ("std", ctypes.c_float * 4),
    ]


class SessionOptions(ctypes.Structure):
    """acnet_session_options (struct_size is set by acnet_session_options_init)."""

    _fields_ = [
        ("struct_size", ctypes.c_uint32),
        ("threads", ctypes.c_uint32),
        ("max_batch", ctypes.c_uint32),
        ("isa", ctypes.c_uint32),
        ("convolution", ctypes.c_uint32),
    ]


_SIGNATURES = {
    # name: (restype, argtypes)
    "acnet_version": (ctypes.c_uint32, []),
    "acnet_status_string": (ctypes.c_char_p, [_status]),
    "acnet_last_error_message": (ctypes.c_char_p, []),
    "acnet_model_load_file": (_status, [ctypes.c_char_p, ctypes.POINTER(_ptr)]),
    "acnet_model_load_memory": (_status, [_ptr, _size, ctypes.POINTER(_ptr)]),
    "acnet_model_free": (_status, [_ptr]),
    "acnet_model_input_shape": (_status, [_ptr, ctypes.POINTER(ctypes.c_int64), ctypes.POINTER(_size)]),
    "acnet_model_output_shape": (_status, [_ptr, ctypes.POINTER(ctypes.c_int64), ctypes.POINTER(_size)]),
    "acnet_model_input_spec": (_status, [_ptr, ctypes.POINTER(InputSpec)]),
    "acnet_model_label_count": (_status, [_ptr, ctypes.POINTER(_size)]),
    "acnet_model_label": (_status, [_ptr, _size, ctypes.POINTER(ctypes.c_char_p)]),
    "acnet_session_options_init": (_status, [ctypes.POINTER(SessionOptions)]),
    "acnet_session_workspace_size": (_status, [_ptr, ctypes.POINTER(SessionOptions), ctypes.POINTER(_size)]),
    "acnet_session_create": (_status, [_ptr, ctypes.POINTER(SessionOptions), _ptr, _size, ctypes.POINTER(_ptr)]),
    "acnet_session_run": (_status, [_ptr, _size, _ptr, _size, _ptr, _size]),
    "acnet_session_free": (None, [_ptr]),
}

_lib: ctypes.CDLL | None = None
_lib_lock = threading.Lock()


def library_path() -> str:
    """The libacnet.so this package loads: $ACNET_LIBRARY if set, else the copy in the wheel."""
    override = os.environ.get("ACNET_LIBRARY")
    if override:
        return override
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "_lib", "libacnet.so")


def lib() -> ctypes.CDLL:
    """Loads libacnet.so once (thread-safe) and declares every function's signature."""
    global _lib
    if _lib is not None:
        return _lib
    with _lib_lock:
        if _lib is None:
            path = library_path()
            try:
                handle = ctypes.CDLL(path)
            except OSError as error:
                raise ImportError(
                    f"acnet: cannot load the C library {path}: {error} "
                    "(reinstall the wheel, or set ACNET_LIBRARY to a libacnet.so from `make install`)"
                ) from error
            for name, (restype, argtypes) in _SIGNATURES.items():
                function = getattr(handle, name)
                function.restype = restype
                function.argtypes = argtypes
            _lib = handle
    return _lib


def status_string(status: int) -> str:
    """acnet_status_string: "ACNET_ERROR_BAD_FORMAT", ..."""
    return lib().acnet_status_string(status).decode("ascii", "replace")


def last_error_message() -> str:
    """acnet_last_error_message of the calling OS thread (ctypes calls run on the caller's
    thread, so this is the message of this thread's last failing call)."""
    return lib().acnet_last_error_message().decode("utf-8", "replace")
