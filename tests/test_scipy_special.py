"""chainrule.scipy.special: SciPy's values and dtypes, derivatives in both modes to second order
(every primitive is also in the op table: tests/op_samples_scipy.py), refusals where SciPy's
derivative has no closed form, and HIPS autograd's gradients where it has them. SciPy stays an
optional dependency: ``import chainrule`` never imports it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

sc = pytest.importorskip("scipy.special")

import chainrule as cr  # noqa: E402
from chainrule.scipy import special  # noqa: E402

TESTS = Path(__file__).parent
rng = np.random.default_rng(11)


def _run(code: str) -> subprocess.CompletedProcess:
    src = str(Path(cr.__file__).parent.parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, str(TESTS)])}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          timeout=120)


def _second_order(f, *args, argnums=0):
    """The gradient of ``sum(f)`` checked against finite differences, in both modes."""
    gradient = cr.grad(lambda *xs: cr.sum(f(*xs)), argnums=argnums)
    assert cr.gradcheck(f, [args[argnums]] if len(args) == 1 else list(args))
    assert cr.gradcheck(lambda *xs: gradient(*xs), list(args))


# ---------------------------------------------------------------- SciPy stays optional


def test_import_chainrule_never_imports_scipy():
    result = _run("import sys, chainrule, chainrule.scipy; print('scipy' in sys.modules)")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_without_scipy_the_package_says_what_to_install_and_the_op_table_still_loads():
    result = _run(
        "import sys; sys.modules['scipy'] = None\n"
        "import chainrule, op_samples\n"
        "assert not any(s.name.startswith('scipy.') for s in op_samples.SAMPLES)\n"
        "try:\n"
        "    import chainrule.scipy.special\n"
        "except ModuleNotFoundError as error:\n"
        "    print(error)\n"
    )
    assert result.returncode == 0, result.stderr
    assert "pip install 'chainrule[scipy]'" in result.stdout


def test_submodules_resolve_lazily_and_unknown_names_raise_attribute_error():
    import chainrule.scipy as cs

    assert cs.special is special
    assert cs.stats.norm.pdf is not None
    with pytest.raises(AttributeError, match="no attribute 'nonexistent'"):
        cs.nonexistent  # noqa: B018


# ---------------------------------------------------------------- values and dtypes

_UNARY = {
    "gammaln": (0.3, 3.0), "digamma": (0.3, 3.0), "psi": (0.3, 3.0), "gamma": (0.3, 3.0),
    "rgamma": (0.3, 3.0), "gammasgn": (-2.5, 3.0), "erf": (-3.0, 3.0), "erfc": (-3.0, 3.0),
    "erfinv": (-0.95, 0.95), "erfcinv": (0.05, 1.95), "expit": (-4.0, 5.0),
    "logit": (0.1, 0.9), "ndtr": (-3.0, 3.0), "log_ndtr": (-30.0, 3.0), "ndtri": (0.05, 0.95),
    "entr": (0.1, 2.0), "j0": (0.2, 20.0), "j1": (0.2, 20.0), "y0": (0.2, 20.0),
    "y1": (0.2, 20.0), "i0": (0.2, 20.0), "i1": (0.2, 20.0),
}


@pytest.mark.parametrize("name", sorted(_UNARY))
def test_values_and_dtypes_are_scipys(name):
    x = rng.uniform(*_UNARY[name], 7)
    ours, theirs = getattr(special, name), getattr(sc, name)
    np.testing.assert_array_equal(ours(x).numpy(), theirs(x))
    for value in (x.astype(np.float32), 0.7, np.arange(1, 4)):
        got = ours(cr.tensor(value) if isinstance(value, np.ndarray) else value)
        assert got.dtype == np.asarray(theirs(value)).dtype, (name, value)
    assert ours(cr.tensor(x, dtype="float32")).dtype == np.float32


@pytest.mark.parametrize("name", ["beta", "betaln", "xlogy", "xlog1py", "poch"])
def test_binary_values_broadcast_as_scipys(name):
    a, b = rng.uniform(0.5, 3.0, (3, 1)), rng.uniform(0.5, 3.0, 4)
    np.testing.assert_array_equal(getattr(special, name)(a, b).numpy(),
                                  getattr(sc, name)(a, b))


def test_edge_values_are_scipys():
    np.testing.assert_array_equal(special.xlogy(0.0, 0.0).numpy(), 0.0)
    np.testing.assert_array_equal(special.gammaln([0.0, -1.0]).numpy(), sc.gammaln([0.0, -1.0]))
    np.testing.assert_array_equal(special.erfinv([1.0, 2.0]).numpy(), sc.erfinv([1.0, 2.0]))
    z = np.array([0.3 + 0.2j, -1.0 + 0.5j])
    np.testing.assert_allclose(special.erf(z).numpy(), sc.erf(z), rtol=1e-15)


# ---------------------------------------------------------------- derivatives


@pytest.mark.parametrize("name", ["gammaln", "digamma", "gamma", "rgamma", "erf", "erfc",
                                  "erfinv", "erfcinv", "expit", "logit", "ndtr", "log_ndtr",
                                  "ndtri", "entr", "j0", "j1", "y0", "y1", "i0", "i1"])
def test_unary_derivatives_to_second_order(name):
    low, high = _UNARY[name]
    x = rng.uniform(max(low, -2.0), min(high, 5.0), 4)
    _second_order(getattr(special, name), x)


@pytest.mark.parametrize("name, order", [("jn", np.array([0, 1, 2, 5])),
                                         ("yn", np.array([0, 1, 2, 5])),
                                         ("iv", np.array([0.5, 1.0, 2.5, 40.0])),
                                         ("ive", np.array([0.5, 1.0, 2.5, 40.0])),
                                         ("polygamma", np.array([0, 1, 2, 3]))])
def test_functions_of_an_order_differentiate_in_x(name, order):
    x = rng.uniform(0.5, 5.0, 4)
    _second_order(lambda x: getattr(special, name)(order, x), x)


def test_incomplete_functions_differentiate_in_x():
    a, b, x = rng.uniform(0.6, 3.0, 4), rng.uniform(0.6, 3.0, 4), rng.uniform(0.1, 0.9, 4)
    for f in (lambda x: special.gammainc(a, x), lambda x: special.gammaincc(a, x),
              lambda x: special.betainc(a, b, x), lambda x: special.betaincc(a, b, x),
              lambda x: special.stdtr(a + 1, x)):
        _second_order(f, x)


def test_gamma_and_beta_functions_differentiate_in_every_argument():
    a, b = rng.uniform(0.6, 3.0, 3), rng.uniform(0.6, 3.0, 3)
    for f in (special.beta, special.betaln, special.poch):
        assert cr.gradcheck(f, [a, b])
        gradient = cr.grad(lambda a, b, f=f: cr.sum(f(a, b)), argnums=(0, 1))
        assert cr.gradcheck(lambda a, b, gradient=gradient: cr.stack(gradient(a, b)), [a, b])


@pytest.mark.parametrize("call, argument", [
    (lambda t: special.gammainc(t, 1.5), "a"),
    (lambda t: special.gammaincc(t, 1.5), "a"),
    (lambda t: special.betainc(t, 2.0, 0.3), "a"),
    (lambda t: special.betainc(2.0, t, 0.3), "b"),
    (lambda t: special.stdtr(t, 0.3), "df"),
    (lambda t: special.jn(t, 1.5), "order n"),
    (lambda t: special.iv(t, 1.5), "order v"),
    (lambda t: special.polygamma(t, 1.5), "order n"),
])
def test_no_closed_form_derivative_raises_in_both_modes(call, argument):
    a = np.array([1.0, 2.0])
    with pytest.raises(NotImplementedError, match=argument):
        cr.grad(lambda t: cr.sum(call(t)))(a)
    with pytest.raises(NotImplementedError, match=argument):
        cr.jvp(call, (a,), (np.ones(2),))
    # the other arguments still differentiate, with this one a tensor that is not
    x = cr.tensor([1.5, 2.0], dtype="float64", requires_grad=True)
    assert cr.gradients(cr.sum(special.gammainc(cr.tensor(a), x)), [x])[0].shape == (2,)


def test_batched_jacobians_in_both_modes():
    x = rng.uniform(0.5, 2.0, 3)

    def f(x):
        return special.gammaln(x) * special.jn(2, x) + special.erf(x)

    forward, reverse = cr.jacfwd(f)(x), cr.jacrev(f)(x)
    np.testing.assert_allclose(forward, reverse, rtol=1e-12)
    np.testing.assert_allclose(np.diag(forward), sc.digamma(x) * sc.jn(2, x) + sc.gammaln(x)
                               * (sc.jn(1, x) - sc.jn(3, x)) / 2
                               + 2 / np.sqrt(np.pi) * np.exp(-x * x), rtol=1e-12)
    hessians = [np.asarray(outer(inner(lambda x: cr.sum(f(x))))(x))
                for outer in (cr.jacfwd, cr.jacrev) for inner in (cr.jacfwd, cr.jacrev)]
    for other in hessians[1:]:
        np.testing.assert_allclose(other, hessians[0], rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------- logsumexp, multigammaln


@pytest.mark.parametrize("axis", [None, 0, 1, (0, 1), -1])
@pytest.mark.parametrize("keepdims", [True, False])
def test_logsumexp_matches_scipy(axis, keepdims):
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    np.testing.assert_allclose(special.logsumexp(a, axis=axis, keepdims=keepdims).numpy(),
                               sc.logsumexp(a, axis=axis, keepdims=keepdims), rtol=1e-13)
    ours = special.logsumexp(a, axis=axis, b=b, keepdims=keepdims, return_sign=True)
    theirs = sc.logsumexp(a, axis=axis, b=b, keepdims=keepdims, return_sign=True)
    np.testing.assert_allclose(ours[0].numpy(), theirs[0], rtol=1e-13)
    np.testing.assert_array_equal(ours[1].numpy(), theirs[1])


def test_logsumexp_edge_cases_are_scipys():
    with np.errstate(all="ignore"):
        for a, b in [([1.0, 2.0], [1.0, -2.0]), ([-np.inf, -np.inf], None),
                     ([1.0, 5.0], [1.0, 0.0]), ([np.inf, 1.0], None)]:
            np.testing.assert_array_equal(special.logsumexp(a, b=b).numpy(), sc.logsumexp(a, b=b))
    assert special.logsumexp(np.float32([1, 2])).dtype == np.float32
    # a weight of 0 leaves its term out, and sends it no gradient
    grad = cr.grad(lambda a: special.logsumexp(a, b=np.array([1.0, 0.0])))(np.array([1.0, 9.0]))
    np.testing.assert_array_equal(grad, [1.0, 0.0])


def test_logsumexp_derivatives_in_a_and_b():
    a, b = rng.standard_normal((2, 3)), np.exp(rng.standard_normal((2, 3)))
    for axis in (None, 1):
        _second_order(lambda a, b, axis=axis: special.logsumexp(a, axis=axis, b=b), a, b)
        _second_order(lambda a, b, axis=axis: special.logsumexp(a, axis=axis, b=b), a, b,
                      argnums=1)


def test_multigammaln_matches_scipy_and_checks_as_it_does():
    a = rng.uniform(4.0, 5.0, (2, 3))
    for d in (1, 2, 3):
        np.testing.assert_allclose(special.multigammaln(a, d).numpy(), sc.multigammaln(a, d),
                                   rtol=1e-14)
        _second_order(lambda a, d=d: special.multigammaln(a, d), a)
    with pytest.raises(ValueError, match="positive integer"):
        special.multigammaln(a, 1.5)
    with pytest.raises(ValueError, match="not met"):
        special.multigammaln(np.array([0.5]), 3)


# ---------------------------------------------------------------- against HIPS autograd


def test_gradients_are_hips_autograds():
    autograd = pytest.importorskip("autograd")
    hips = pytest.importorskip("autograd.scipy.special")
    pos = rng.uniform(1.1, 3.0, 4)
    cases = [
        ("beta", (pos, pos[::-1]), (0, 1)), ("betaln", (pos, pos[::-1]), (0, 1)),
        ("betainc", (pos, pos[::-1], rng.uniform(0.1, 0.9, 4)), (2,)),
        ("gammainc", (1.0, pos), (1,)), ("gammaincc", (pos[::-1], pos), (1,)),
        ("polygamma", (np.array([0, 1, 2, 3]), pos), (1,)), ("jn", (2, pos), (1,)),
        ("yn", (2, pos), (1,)), ("iv", (rng.uniform(1, 50, 4), pos), (1,)),
        ("ive", (rng.uniform(1, 50, 4), pos), (1,)), ("psi", (pos,), (0,)),
        ("gamma", (pos,), (0,)), ("rgamma", (pos,), (0,)), ("erfinv", (pos / 4,), (0,)),
        ("erfcinv", (pos / 4,), (0,)), ("logit", (pos / 4,), (0,)), ("expit", (pos,), (0,)),
        ("i1", (pos,), (0,)), ("y1", (pos,), (0,)), ("j1", (pos,), (0,)),
    ]
    for name, args, argnums in cases:
        for argnum in argnums:
            theirs = autograd.elementwise_grad(getattr(hips, name), argnum)(*args)
            ours = cr.grad(lambda *xs, n=name: cr.sum(getattr(special, n)(*xs)),
                           argnums=argnum)(*args)
            np.testing.assert_allclose(np.asarray(ours), theirs, rtol=1e-10, err_msg=name)
    a, b = rng.standard_normal((3, 4)), np.exp(rng.standard_normal((3, 4)))
    for axis, keepdims in [(None, False), (0, True), (1, False)]:
        theirs = autograd.grad(lambda a, axis=axis, keepdims=keepdims: autograd.numpy.sum(
            hips.logsumexp(a, axis=axis, b=b, keepdims=keepdims) ** 2))(a)
        ours = cr.grad(lambda a, axis=axis, keepdims=keepdims: cr.sum(special.logsumexp(
            a, axis=axis, b=b, keepdims=keepdims) ** 2))(a)
        np.testing.assert_allclose(np.asarray(ours), theirs, rtol=1e-10)


@pytest.mark.parametrize("name", ["chainrule.scipy.special", "chainrule.scipy.stats"])
def test_docstring_examples(name):
    import doctest
    import importlib

    module = importlib.import_module(name)
    failures, tried = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert failures == 0 and tried > 0
