"""Model, Session and the exception classes (see the package docstring for the overview)."""

from __future__ import annotations

import ctypes
import math
import os
import threading
from typing import Any, Iterable, NamedTuple, Sequence

import numpy as np

from . import _capi
from ._image import DEFAULT_MAX_PIXELS, load_pixels, preprocess_pixels

# --------------------------------------------------------------------------------------------
# Errors


class AcnetError(Exception):
    """A failed acnet call, or misuse detected before calling the library.

    Attributes:
        status: the ``acnet_status`` code (``acnet.ERROR_BAD_FORMAT``, ...).
        status_name: its name as ``acnet_status_string()`` gives it ("ACNET_ERROR_BAD_FORMAT").
        message: ``acnet_last_error_message()`` of the failing call (or the Python-side reason).
    """

    def __init__(self, status: int, message: str, context: str | None = None):
        self.status = int(status)
        self.status_name = _capi.status_string(self.status)
        self.message = message
        self.context = context
        text = f"{self.status_name}: {message}" if message else self.status_name
        super().__init__(f"{context}: {text}" if context else text)


class InvalidArgumentError(AcnetError, ValueError):
    """ACNET_ERROR_INVALID_ARGUMENT: a bad argument or an object in the wrong state (wrong dtype
    or shape, batch above max_batch, a closed model or session, a session used by two threads)."""


class MisalignedError(AcnetError):
    """ACNET_ERROR_MISALIGNED."""


class ModelIOError(AcnetError):
    """ACNET_ERROR_IO: the model file could not be opened, read or mapped."""


class BadFormatError(AcnetError):
    """ACNET_ERROR_BAD_FORMAT: the model data is malformed."""


class ChecksumMismatchError(BadFormatError):
    """ACNET_ERROR_CHECKSUM_MISMATCH: the model data's CRC-32C does not match."""


class UnsupportedVersionError(AcnetError):
    """ACNET_ERROR_UNSUPPORTED_VERSION."""


class UnsupportedOpError(AcnetError):
    """ACNET_ERROR_UNSUPPORTED_OP."""


class OutOfMemoryError(AcnetError):
    """ACNET_ERROR_OUT_OF_MEMORY (only at load or session creation)."""


class BufferTooSmallError(AcnetError):
    """ACNET_ERROR_BUFFER_TOO_SMALL."""


class OutOfRangeError(AcnetError, IndexError):
    """ACNET_ERROR_OUT_OF_RANGE."""


_ERRORS = {
    _capi.ERROR_INVALID_ARGUMENT: InvalidArgumentError,
    _capi.ERROR_MISALIGNED: MisalignedError,
    _capi.ERROR_IO: ModelIOError,
    _capi.ERROR_BAD_FORMAT: BadFormatError,
    _capi.ERROR_CHECKSUM_MISMATCH: ChecksumMismatchError,
    _capi.ERROR_UNSUPPORTED_VERSION: UnsupportedVersionError,
    _capi.ERROR_UNSUPPORTED_OP: UnsupportedOpError,
    _capi.ERROR_OUT_OF_MEMORY: OutOfMemoryError,
    _capi.ERROR_BUFFER_TOO_SMALL: BufferTooSmallError,
    _capi.ERROR_OUT_OF_RANGE: OutOfRangeError,
}


def _check(status: int, context: str) -> None:
    """Raises the AcnetError subclass for a failed call; reads the message on this thread."""
    if status != _capi.OK:
        raise _ERRORS.get(status, AcnetError)(status, _capi.last_error_message(), context)


def _misuse(message: str) -> InvalidArgumentError:
    return InvalidArgumentError(_capi.ERROR_INVALID_ARGUMENT, message)


# --------------------------------------------------------------------------------------------
# Model


class InputSpec(NamedTuple):
    """How an 8-bit image becomes the model's input (include/acnet.h, acnet_input_spec):
    ``x[c, y, x] = (pixel[c, y, x] / 255 - mean[c]) / std[c]`` after stretching the image to
    height x width.  ``channel_order`` is "gray", "rgb", "bgr" or "none" (not an image)."""

    channels: int
    height: int
    width: int
    channel_order: str
    mean: tuple[float, ...]
    std: tuple[float, ...]


class Prediction(NamedTuple):
    """One ranked class of an image: its label, its index in the output, and its softmax
    probability."""

    label: str
    index: int
    probability: float


def _shape(function, handle, what: str) -> tuple[int, ...]:
    shape = (ctypes.c_int64 * 4)()
    rank = ctypes.c_size_t()
    _check(function(handle, shape, ctypes.byref(rank)), what)
    return tuple(int(v) for v in shape[: rank.value])


class Model:
    """A loaded, immutable .acnb model (``acnet_model``).

    ``Model(path)`` maps the file read-only (``acnet_model_load_file``): the weights are never
    copied into the process, and processes that load the same file share its pages in the OS
    page cache, so each extra worker process costs almost no memory for the weights.  The file
    is validated completely (checksum, every offset, shape and index) before use.  It must not
    be truncated or rewritten in place while loaded (replacing it by rename is safe).

    Thread safety: a Model may be shared by any number of threads and Sessions.

    Lifetime: ``close()`` (or leaving a ``with`` block) releases the model once no Session made
    from it is alive; sessions keep working until they are closed.  A closed model refuses new
    sessions (InvalidArgumentError); its metadata (shapes, labels, spec) stays readable.

    Raises AcnetError subclasses: ModelIOError (cannot open or map), BadFormatError,
    ChecksumMismatchError, UnsupportedVersionError, UnsupportedOpError, OutOfMemoryError.
    """

    def __init__(self, path: str | os.PathLike | bytes):
        lib = _capi.lib()
        self._lock = threading.Lock()
        self._handle: int | None = None
        self._sessions = 0
        self._closed = False
        self.path = os.fsdecode(path)
        handle = ctypes.c_void_p()
        _check(lib.acnet_model_load_file(os.fsencode(path), ctypes.byref(handle)), self.path)
        self._handle = handle.value
        try:
            self._input_shape = _shape(lib.acnet_model_input_shape, self._handle, "input shape")
            self._output_shape = _shape(lib.acnet_model_output_shape, self._handle, "output shape")
            spec = _capi.InputSpec()
            _check(lib.acnet_model_input_spec(self._handle, ctypes.byref(spec)), "input spec")
            c = int(spec.channels)
            self._spec = InputSpec(
                c, int(spec.height), int(spec.width), _capi.CHANNEL_ORDERS.get(spec.channel_order, "none"),
                tuple(float(v) for v in spec.mean[:c]), tuple(float(v) for v in spec.std[:c]))
            count = ctypes.c_size_t()
            _check(lib.acnet_model_label_count(self._handle, ctypes.byref(count)), "label count")
            labels = []
            for i in range(count.value):
                text = ctypes.c_char_p()
                _check(lib.acnet_model_label(self._handle, i, ctypes.byref(text)), f"label {i}")
                labels.append(text.value.decode("utf-8", "replace"))
            self._labels = tuple(labels)
        except BaseException:
            lib.acnet_model_free(self._handle)
            self._handle = None
            raise

    # Metadata ---------------------------------------------------------------------------------

    @property
    def input_shape(self) -> tuple[int, ...]:
        """The input tensor's shape for batch 1: (1, C, H, W), NCHW."""
        return self._input_shape

    @property
    def output_shape(self) -> tuple[int, ...]:
        """The output tensor's shape for batch 1, e.g. (1, classes) or (1, C, H, W)."""
        return self._output_shape

    @property
    def input_spec(self) -> InputSpec:
        """Channel count and order, input size, per-channel mean and std (units of pixel/255)."""
        return self._spec

    @property
    def labels(self) -> tuple[str, ...]:
        """The class labels stored in the model (empty if it has none)."""
        return self._labels

    @property
    def closed(self) -> bool:
        return self._closed

    def preprocess(self, images: Any, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
        """Turns images into this model's input: an (N, C, H, W) float32 array, C-contiguous.

        ``images``: one image or a sequence of them; an image is a path (str, bytes or
        os.PathLike; JPEG gives exactly the tensor of `acnet classify`, other formats Pillow
        reads are accepted), a PIL image, or a uint8 numpy array H x W or H x W x C (C 1 or 3,
        RGB).  See the acnet._image module for the exact arithmetic.

        Raises ImageError (unreadable, corrupt, larger than ``max_pixels``), FileNotFoundError,
        InvalidArgumentError (the model's input is not a gray/RGB/BGR image).
        """
        items = _as_items(images)
        out = np.empty((len(items),) + self._input_shape[1:], dtype=np.float32)
        for i, item in enumerate(items):
            self._preprocess_into(item, out[i], max_pixels)
        return out

    def _preprocess_into(self, item: Any, out: np.ndarray, max_pixels: int) -> None:
        spec = self._spec
        if spec.channel_order not in ("gray", "rgb", "bgr") or spec.channels not in (1, 3) or \
                self._input_shape[1:] != (spec.channels, spec.height, spec.width):
            raise _misuse(f"{self.path}: the model's input is not a gray or RGB/BGR image "
                          f"(channel order {spec.channel_order}, shape {self._input_shape})")
        pixels = load_pixels(item, spec.channels, max_pixels)
        if spec.channel_order == "bgr":
            pixels = pixels[:, :, ::-1]
        out[...] = preprocess_pixels(pixels, spec.height, spec.width, spec.mean, spec.std)

    # Lifetime ---------------------------------------------------------------------------------

    def _retain(self) -> int:
        """A session starts using the handle; refused once the model is closed."""
        with self._lock:
            if self._closed or self._handle is None:
                raise _misuse(f"{self.path}: the model is closed")
            self._sessions += 1
            return self._handle

    def _release(self) -> None:
        """A session stopped using the handle; frees the model if it was closed meanwhile."""
        with self._lock:
            self._sessions -= 1
            self._free_if_unused()

    def _free_if_unused(self) -> None:
        if self._closed and self._sessions == 0 and self._handle is not None:
            handle, self._handle = self._handle, None
            _check(_capi.lib().acnet_model_free(handle), f"{self.path}: freeing the model")

    def close(self) -> None:
        """Releases the model (now, or when its last session is closed).  Idempotent."""
        with self._lock:
            self._closed = True
            self._free_if_unused()

    def __enter__(self) -> "Model":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self):
        # Only reached when no session holds a reference (sessions reference their model).
        try:
            if getattr(self, "_handle", None) is not None:
                self.close()
        except Exception:  # never raise from a finalizer (e.g. at interpreter exit)
            pass

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return (f"<acnet.Model {self.path!r} {self._input_shape} -> {self._output_shape}, "
                f"{len(self._labels)} labels, {state}>")


def _as_items(images: Any) -> list:
    """One image or a sequence of them -> a list.  A str/bytes/PathLike, an ndarray or a PIL
    image is one image (a bare ndarray is never split along its first axis)."""
    if isinstance(images, (str, bytes, os.PathLike, np.ndarray)) or hasattr(images, "mode"):
        return [images]
    try:
        return list(images)
    except TypeError:
        raise TypeError(f"expected an image or a sequence of images, not {type(images).__name__}") from None


# --------------------------------------------------------------------------------------------
# Session


def _positive_int(value: Any, name: str, upper: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if not 1 <= value <= upper:
        raise _misuse(f"{name} must be in 1 ... {upper}, not {value}")
    return int(value)


class Session:
    """Runs a model (``acnet_session``): owns a workspace allocated once, at creation.

    Args:
        model: a Model (kept alive by the session).
        threads: threads computing each run, 1 ... 64: the calling thread plus ``threads - 1``
            workers the session starts now and joins at close.  Outputs are bit-identical for
            every thread count.
        max_batch: the largest batch ``run`` accepts, 1 ... 65536 (the workspace grows with it).
        isa: None or "auto" (the fastest kernels the CPU supports), "avx512", "avx2" or
            "baseline" (a lower one, e.g. to compare results); one the CPU cannot run raises
            InvalidArgumentError.
        convolution: "auto" (Winograd where the file stores its weights) or "direct".

    Thread safety: one thread at a time.  Use one Session per thread (they may share a Model);
    a call while another thread is inside ``run``/``classify``/``close`` of the same session
    raises InvalidArgumentError instead of racing.  ``run`` releases the GIL while the model
    computes, so several Python threads with their own sessions run in parallel.
    """

    def __init__(self, model: Model, threads: int = 1, max_batch: int = 1, isa: str | None = None,
                 convolution: str = "auto"):
        if not isinstance(model, Model):
            raise TypeError(f"model must be an acnet.Model, not {type(model).__name__}")
        threads = _positive_int(threads, "threads", 64)
        max_batch = _positive_int(max_batch, "max_batch", 65536)
        isa_name = "auto" if isa is None else isa
        if isa_name not in _capi.ISAS:
            raise _misuse(f"isa must be None or one of {sorted(_capi.ISAS)}, not {isa!r}")
        if convolution not in _capi.CONVOLUTIONS:
            raise _misuse(f"convolution must be one of {sorted(_capi.CONVOLUTIONS)}, not {convolution!r}")
        self._handle: int | None = None
        self._busy = threading.Lock()
        self.model = model
        self.threads, self.max_batch, self.isa, self.convolution = threads, max_batch, isa_name, convolution
        self._in_shape = model.input_shape[1:]
        self._out_shape = model.output_shape[1:]
        self._in_count = math.prod(self._in_shape)
        self._out_count = math.prod(self._out_shape)

        lib = _capi.lib()
        options = _capi.SessionOptions()
        _check(lib.acnet_session_options_init(ctypes.byref(options)), "session options")
        options.threads, options.max_batch = threads, max_batch
        options.isa, options.convolution = _capi.ISAS[isa_name], _capi.CONVOLUTIONS[convolution]
        model_handle = model._retain()
        try:
            size = ctypes.c_size_t()
            _check(lib.acnet_session_workspace_size(model_handle, ctypes.byref(options), ctypes.byref(size)),
                   "session workspace size")
            handle = ctypes.c_void_p()
            _check(lib.acnet_session_create(model_handle, ctypes.byref(options), None, 0, ctypes.byref(handle)),
                   "creating a session")
        except BaseException:
            model._release()
            raise
        self.workspace_size = int(size.value)  # bytes, allocated once by the session
        self._handle = handle.value

    # Running ----------------------------------------------------------------------------------

    def _enter(self) -> int:
        if not self._busy.acquire(blocking=False):
            raise _misuse("the session is in use by another thread (use one Session per thread)")
        if self._handle is None:
            self._busy.release()
            raise _misuse("the session is closed")
        return self._handle

    def run(self, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Runs the model on a batch: ``x`` is float32 NCHW of shape (N, C, H, W) with
        1 <= N <= max_batch and (C, H, W) the model's; returns float32 of shape
        (N,) + output_shape[1:] (``out`` if given).

        ``x`` is passed to C without a copy when it is a C-contiguous, aligned float32 array
        (any ndarray with ``x.flags.c_contiguous and x.flags.aligned``); a strided or
        misaligned float32 array is copied once.  Other dtypes (float64, float16, uint8 ...) are
        rejected, not converted: cast explicitly (``x.astype(np.float32)``) so the cost is
        visible.  ``out``, if given, must be a writeable, C-contiguous, aligned float32 array of
        the output shape that does not overlap ``x``; the result is written there with no
        allocation.  The GIL is released during the computation.

        Raises TypeError (not an ndarray), InvalidArgumentError (dtype, shape, batch, closed or
        busy session), AcnetError from the library.
        """
        if not isinstance(x, np.ndarray):
            raise TypeError(f"x must be a numpy.ndarray (float32, NCHW), not {type(x).__name__}")
        if x.dtype != np.float32:
            raise _misuse(f"input dtype is {x.dtype}, expected float32 (use x.astype(np.float32))")
        if x.ndim != 4 or x.shape[1:] != self._in_shape:
            hint = " (add a batch axis: x[None])" if x.shape == self._in_shape else ""
            raise _misuse(f"input shape is {x.shape}, expected (N,) + {self._in_shape} (NCHW){hint}")
        n = x.shape[0]
        if not 1 <= n <= self.max_batch:
            raise _misuse(f"batch {n} is outside 1 ... max_batch = {self.max_batch} "
                          f"(create the Session with max_batch >= {max(n, 1)})")
        if not (x.flags.c_contiguous and x.flags.aligned):
            x = np.ascontiguousarray(x)  # np.ascontiguousarray also aligns
        out_shape = (n,) + self._out_shape
        if out is None:
            out = np.empty(out_shape, dtype=np.float32)
        else:
            if not isinstance(out, np.ndarray) or out.dtype != np.float32 or out.shape != out_shape:
                got = f"{out.dtype} {out.shape}" if isinstance(out, np.ndarray) else type(out).__name__
                raise _misuse(f"out must be a float32 array of shape {out_shape}, not {got}")
            if not (out.flags.c_contiguous and out.flags.aligned and out.flags.writeable):
                raise _misuse("out must be C-contiguous, aligned and writeable")
            if np.may_share_memory(x, out):
                raise _misuse("out must not overlap x")
        handle = self._enter()
        try:
            status = _capi.lib().acnet_session_run(handle, n, x.ctypes.data, n * self._in_count,
                                                   out.ctypes.data, n * self._out_count)
            _check(status, "running the model")
        finally:
            self._busy.release()
        return out

    def classify(self, images: Any, top: int = 5, max_pixels: int = DEFAULT_MAX_PIXELS) -> list[list[Prediction]]:
        """Classifies images as `acnet classify` does: the ``top`` most probable classes of
        each, best first (softmax in float64; ties rank the lower class first).

        ``images``: one image or a sequence (paths, PIL images or uint8 arrays; see
        Model.preprocess).  Runs in batches of up to max_batch.  Returns one list of
        Prediction(label, index, probability) per image, in input order.  Labels are the model's
        (``"class N"`` when it has none).  The first unusable image raises ImageError (with its
        path) or FileNotFoundError; nothing is returned for the others.
        """
        top = _positive_int(top, "top", 1 << 30)
        if len(self._out_shape) not in (1, 3) or (len(self._out_shape) == 3 and self._out_shape[1:] != (1, 1)):
            raise _misuse(f"the model's output {self.model.output_shape} is not a vector of class scores")
        items = _as_items(images)
        classes = self._out_shape[0]
        top = min(top, classes)
        labels = self.model.labels
        batch = np.empty((self.max_batch,) + self._in_shape, dtype=np.float32)
        logits = np.empty((self.max_batch,) + self._out_shape, dtype=np.float32)
        results: list[list[Prediction]] = []
        for start in range(0, len(items), self.max_batch):
            chunk = items[start:start + self.max_batch]
            for i, item in enumerate(chunk):
                self.model._preprocess_into(item, batch[i], max_pixels)
            n = len(chunk)
            self.run(batch[:n], out=logits[:n])
            for row in logits[:n].reshape(n, classes):
                z = row.astype(np.float64)
                e = np.exp(z - z.max())
                p = e / e.sum()
                order = np.argsort(-row, kind="stable")[:top]  # by logit; stable: lower index first
                results.append([Prediction(labels[k] if k < len(labels) else f"class {k}", int(k), float(p[k]))
                                for k in order])
        return results

    # Lifetime ---------------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._handle is None

    def close(self) -> None:
        """Joins the session's worker threads and frees its workspace.  Idempotent.  Raises
        InvalidArgumentError if another thread is running this session."""
        if self._handle is None:
            return
        if not self._busy.acquire(blocking=False):
            raise _misuse("cannot close the session while another thread runs it")
        try:
            handle, self._handle = self._handle, None
            if handle is not None:
                _capi.lib().acnet_session_free(handle)
                self.model._release()
        finally:
            self._busy.release()

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self):
        try:
            if getattr(self, "_handle", None) is not None:
                self.close()
        except Exception:
            pass

    def __repr__(self) -> str:
        state = "closed" if self._handle is None else "open"
        return (f"<acnet.Session threads={self.threads} max_batch={self.max_batch} isa={self.isa} "
                f"model={self.model.path!r}, {state}>")


def library_version() -> str:
    """The loaded libacnet's version ("MAJOR.MINOR.PATCH", from acnet_version())."""
    v = int(_capi.lib().acnet_version())
    return f"{v // 10000}.{v // 100 % 100}.{v % 100}"
