"""acnet.Session.run: results against the C library, argument checks, copies, threads, GIL."""

from __future__ import annotations

import subprocess
import threading
import time
import tracemalloc

import numpy as np
import pytest

import acnet
from conftest import read_f32


def batch(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(0.0, 1.0, (n, 1, 28, 28)).astype(np.float32)


def test_logits_equal_the_c_library(model, model_path, ref_tool, tmp_path):
    x = batch(7)
    x.tofile(tmp_path / "in.f32")
    subprocess.run([ref_tool, "run", model_path, tmp_path / "in.f32", "7", tmp_path / "out.f32"], check=True)
    expected = read_f32(tmp_path / "out.f32", (7, 10))
    with acnet.Session(model, max_batch=8) as session:
        np.testing.assert_array_equal(session.run(x), expected)  # bit-identical
        for i in range(7):  # batch 1 equals each row of the batch
            np.testing.assert_array_equal(session.run(x[i:i + 1]), expected[i:i + 1])


def test_session_threads_give_identical_results(model):
    x = batch(16, seed=1)
    with acnet.Session(model, max_batch=16) as one, acnet.Session(model, threads=2, max_batch=16) as two:
        np.testing.assert_array_equal(one.run(x), two.run(x))


def test_isa_option(model):
    x = batch(4, seed=2)
    with acnet.Session(model, max_batch=4) as auto, acnet.Session(model, max_batch=4, isa="baseline") as base:
        np.testing.assert_allclose(auto.run(x), base.run(x), rtol=1e-4, atol=1e-4)
    flags = open("/proc/cpuinfo").read()
    if "avx512f" not in flags:
        with pytest.raises(acnet.InvalidArgumentError) as info:
            acnet.Session(model, isa="avx512")
        assert info.value.message  # the library's reason
    with pytest.raises(acnet.InvalidArgumentError):
        acnet.Session(model, isa="sse9")
    with pytest.raises(acnet.InvalidArgumentError):
        acnet.Session(model, convolution="fft")


@pytest.mark.parametrize("kwargs,error", [
    (dict(threads=0), acnet.InvalidArgumentError), (dict(threads=65), acnet.InvalidArgumentError),
    (dict(max_batch=0), acnet.InvalidArgumentError), (dict(max_batch=65537), acnet.InvalidArgumentError),
    (dict(threads=1.5), TypeError), (dict(max_batch=True), TypeError), (dict(threads="2"), TypeError),
])
def test_bad_options(model, kwargs, error):
    with pytest.raises(error):
        acnet.Session(model, **kwargs)


def test_session_needs_a_model():
    with pytest.raises(TypeError):
        acnet.Session("models/fashion-mnist-acnet.acnb")


def test_input_checks(model):
    with acnet.Session(model, max_batch=4) as s:
        with pytest.raises(TypeError):
            s.run([[0.0] * 784])
        with pytest.raises(acnet.InvalidArgumentError, match="float32"):
            s.run(np.zeros((1, 1, 28, 28)))  # float64
        with pytest.raises(acnet.InvalidArgumentError, match="float32"):
            s.run(np.zeros((1, 1, 28, 28), np.uint8))
        with pytest.raises(acnet.InvalidArgumentError, match="float32"):
            s.run(np.zeros((1, 1, 28, 28), ">f4"))  # float32, but not native byte order
        with pytest.raises(acnet.InvalidArgumentError, match=r"x\[None\]"):
            s.run(np.zeros((1, 28, 28), np.float32))
        with pytest.raises(acnet.InvalidArgumentError, match="shape"):
            s.run(np.zeros((1, 3, 28, 28), np.float32))
        with pytest.raises(acnet.InvalidArgumentError, match="shape"):
            s.run(np.zeros((1, 784), np.float32))
        with pytest.raises(acnet.InvalidArgumentError, match="max_batch"):
            s.run(np.zeros((5, 1, 28, 28), np.float32))
        with pytest.raises(acnet.InvalidArgumentError, match="max_batch"):
            s.run(np.zeros((0, 1, 28, 28), np.float32))
        x = batch(2)
        with pytest.raises(acnet.InvalidArgumentError, match="out"):
            s.run(x, out=np.zeros((2, 10)))
        with pytest.raises(acnet.InvalidArgumentError, match="out"):
            s.run(x, out=np.zeros((3, 10), np.float32))
        with pytest.raises(acnet.InvalidArgumentError, match="overlap"):
            s.run(x, out=x.reshape(-1)[:20].reshape(2, 10))
        readonly = np.zeros((2, 10), np.float32)
        readonly.flags.writeable = False
        with pytest.raises(acnet.InvalidArgumentError, match="writeable"):
            s.run(x, out=readonly)
        # The session still works after all of these.
        assert s.run(x).shape == (2, 10)


def test_strided_fortran_and_misaligned_inputs_are_copied(model):
    x = batch(3, seed=3)
    with acnet.Session(model, max_batch=3) as s:
        expected = s.run(x)
        np.testing.assert_array_equal(s.run(np.asfortranarray(x)), expected)
        wide = np.zeros((3, 1, 28, 56), np.float32)
        wide[..., ::2] = x
        np.testing.assert_array_equal(s.run(wide[..., ::2]), expected)
        raw = np.zeros(x.nbytes + 1, np.uint8)
        misaligned = np.frombuffer(raw.data, dtype=np.float32, count=x.size, offset=1).reshape(x.shape)
        assert not misaligned.flags.aligned
        misaligned[...] = x
        np.testing.assert_array_equal(s.run(misaligned), expected)


def _peak_allocation(fn) -> int:
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak - base


def test_contiguous_input_is_not_copied(model):
    """numpy reports its buffers to tracemalloc: a contiguous float32 input with `out` given
    allocates (almost) nothing; a strided one costs a copy of the input, which this detects."""
    n = 256
    x = batch(n, seed=4)
    strided = np.zeros((n, 1, 28, 56), np.float32)[..., ::2]
    strided[...] = x
    with acnet.Session(model, max_batch=n) as s:
        out = np.empty((n, 10), np.float32)
        s.run(x, out=out)  # warm up
        contiguous = _peak_allocation(lambda: s.run(x, out=out))
        copied = _peak_allocation(lambda: s.run(strided, out=out))
    assert contiguous < x.nbytes // 20, contiguous
    assert copied >= x.nbytes, copied


def test_closed_session(model):
    s = acnet.Session(model)
    s.close()
    s.close()  # idempotent
    assert s.closed
    with pytest.raises(acnet.InvalidArgumentError, match="closed"):
        s.run(np.zeros((1, 1, 28, 28), np.float32))


def test_threads_with_own_sessions_share_one_model(model):
    """Python threads, each with its own Session on one shared Model: identical results."""
    x = batch(8, seed=5)
    with acnet.Session(model, max_batch=8) as s:
        expected = s.run(x)
    results, errors = {}, []

    def worker(k: int):
        try:
            with acnet.Session(model, threads=1 + k % 2, max_batch=8) as own:
                results[k] = [own.run(x) for _ in range(25)]
        except Exception as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(results) == 6
    for outputs in results.values():
        for y in outputs:
            np.testing.assert_array_equal(y, expected)


def test_one_session_from_two_threads_raises(model):
    """The second thread gets InvalidArgumentError while the first is inside run, never a crash
    or a corrupted result."""
    x = batch(512, seed=6)
    with acnet.Session(model, max_batch=512) as s:
        expected = s.run(x)
        stop = threading.Event()
        outputs, refused = [], []

        def owner():
            for _ in range(6):
                outputs.append(s.run(x))
            stop.set()

        t = threading.Thread(target=owner)
        t.start()
        small = x[:1]
        while not stop.is_set():
            try:
                s.run(small)
            except acnet.InvalidArgumentError as error:
                refused.append(error)
        t.join()
        assert refused and "another thread" in str(refused[0])
        for y in outputs:
            np.testing.assert_array_equal(y, expected)


def test_gil_is_released_during_run(model):
    """A second Python thread keeps running (pure-Python loop) while a long run computes."""
    n = 64
    with acnet.Session(model, max_batch=4096) as s:
        x = batch(n, seed=7)
        start = time.perf_counter()
        s.run(x)
        per_image = (time.perf_counter() - start) / n
        n = int(min(4096, max(64, 0.6 / per_image)))  # a run of about 0.6 s
        x = batch(n, seed=8)
        inside = {}

        def runner():
            inside["start"] = time.perf_counter()
            s.run(x)
            inside["end"] = time.perf_counter()

        ticks = []
        t = threading.Thread(target=runner)
        t.start()
        while t.is_alive():
            ticks.append(time.perf_counter())
        t.join()
    begin, end = inside["start"], inside["end"]
    during = [v for v in ticks if begin <= v <= end]
    points = [begin] + during + [end]
    longest_gap = max(b - a for a, b in zip(points, points[1:]))
    # With the GIL held by the run, this thread would stall for the whole run.
    assert end - begin > 0.05
    assert len(during) > 100, (len(during), end - begin)
    assert longest_gap < 0.5 * (end - begin), (longest_gap, end - begin)
