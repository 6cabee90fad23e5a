"""Recording modes: no_grad, enable_grad, record, pause and set_grad_enabled, as
context managers and decorators, restored after errors, per thread."""

import threading

import pytest

import chainrule as cr


def test_no_grad_enable_grad_record_pause():
    x = cr.arange(3.0, requires_grad=True)
    with cr.no_grad():
        assert not cr.is_grad_enabled()
        assert not (x * 2).requires_grad
        with cr.enable_grad():
            assert (x * 2).requires_grad
        assert not (x * 2).requires_grad
    with cr.record():
        assert (x * 2).requires_grad
        with cr.pause():
            assert not (x * 2).requires_grad
    assert cr.is_grad_enabled()
    with cr.set_grad_enabled(False):
        assert not cr.is_grad_enabled()
    assert cr.is_grad_enabled()


def test_modes_as_decorators():
    x = cr.arange(3.0, requires_grad=True)

    @cr.no_grad()
    def called(t):
        return t * 2

    @cr.no_grad
    def bare(t):
        return t * 2

    @cr.enable_grad
    def enabled(t):
        return t * 2

    assert not called(x).requires_grad and not bare(x).requires_grad
    assert bare.__name__ == "bare"
    with cr.no_grad():
        assert enabled(x).requires_grad
    assert cr.is_grad_enabled()


def test_mode_is_restored_after_an_exception():
    with pytest.raises(ValueError), cr.no_grad():
        raise ValueError
    assert cr.is_grad_enabled()


def test_grad_mode_is_thread_local():
    seen = {}
    inside = threading.Event()
    release = threading.Event()

    def worker():
        seen["worker_at_start"] = cr.is_grad_enabled()
        with cr.no_grad():
            inside.set()
            release.wait(5)
            seen["worker_inside"] = cr.is_grad_enabled()

    x = cr.arange(3.0, requires_grad=True)
    with cr.no_grad():
        thread = threading.Thread(target=worker)
        thread.start()
        inside.wait(5)
    # The worker is inside its no_grad block; this thread records again.
    assert cr.is_grad_enabled() and (x * 2).requires_grad
    release.set()
    thread.join()
    assert seen == {"worker_at_start": True, "worker_inside": False}
