"""Linear and softmax regression from scratch, written in each framework's spelling, train to the
same losses as the same loops with gradients derived by hand in NumPy."""

from __future__ import annotations

import numpy as onp
import pytest

import chainrule.tensorflow as tf
import chainrule.torch as torch
import chainrule.torch.nn.functional as F
from chainrule.mxnet import autograd, np

LR, BATCH, EPOCHS = 0.03, 10, 3
SOFTMAX_LR = 0.1


def linear_data() -> tuple:
    rng = onp.random.default_rng(0)
    features = rng.normal(size=(1000, 2)).astype(onp.float32)
    labels = (features @ onp.array([2.0, -3.4], onp.float32) + 4.2
              + rng.normal(0, 0.01, 1000).astype(onp.float32)).reshape(-1, 1).astype(onp.float32)
    w0 = rng.normal(0, 0.01, size=(2, 1)).astype(onp.float32)
    order = [rng.permutation(1000) for _ in range(EPOCHS)]
    return features, labels, w0, order


def softmax_data() -> tuple:
    rng = onp.random.default_rng(1)
    classes = rng.integers(0, 3, 150)
    centers = rng.normal(0, 2, size=(3, 4))
    features = (centers[classes] + rng.normal(size=(150, 4))).astype(onp.float32)
    w0 = rng.normal(0, 0.01, size=(4, 3)).astype(onp.float32)
    order = [rng.permutation(150) for _ in range(EPOCHS)]
    return features, classes.astype(onp.int64), w0, order


def batches(order: list) -> list:
    return [(epoch, perm[i:i + BATCH]) for epoch, perm in enumerate(order)
            for i in range(0, len(perm), BATCH)]


# ---------------------------------------------------------------- NumPy, gradients by hand
def numpy_linear() -> list:
    features, labels, w, order = linear_data()
    b = onp.zeros(1, onp.float32)
    losses = []
    for epoch, idx in batches(order):
        X, y = features[idx], labels[idx]
        residual = X @ w + b - y  # d(sum of (y_hat - y)^2 / 2) / d y_hat
        w = w - LR * (X.T @ residual) / BATCH
        b = b - LR * residual.sum(0) / BATCH
        if idx[-1] == order[epoch][-1]:
            losses.append(float((((features @ w + b) - labels) ** 2 / 2).mean()))
    return losses


def _softmax(z: onp.ndarray) -> onp.ndarray:
    e = onp.exp(z)
    return e / e.sum(1, keepdims=True)


def numpy_softmax() -> list:
    features, labels, W, order = softmax_data()
    b = onp.zeros(3, onp.float32)
    losses = []
    for epoch, idx in batches(order):
        X, y = features[idx], labels[idx]
        dz = _softmax(X @ W + b)
        dz[onp.arange(len(y)), y] -= 1  # d(sum of -log p_y) / d logits
        W = W - SOFTMAX_LR * (X.T @ dz) / len(y)
        b = b - SOFTMAX_LR * dz.sum(0) / len(y)
        if idx[-1] == order[epoch][-1]:
            p = _softmax(features @ W + b)
            losses.append(float(-onp.log(p[onp.arange(len(labels)), labels]).mean()))
    return losses


# ---------------------------------------------------------------- PyTorch spelling
def torch_linear() -> list:
    features, labels, w0, order = linear_data()
    features, labels = torch.from_numpy(features), torch.tensor(labels)
    w = torch.tensor(w0, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)

    def linreg(X, w, b):
        return torch.matmul(X, w) + b

    def squared_loss(y_hat, y):
        return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2

    def sgd(params, lr, batch_size):
        with torch.no_grad():
            for param in params:
                param -= lr * param.grad / batch_size
                param.grad.zero_()

    losses = []
    for epoch, idx in batches(order):
        X, y = features[idx], labels[idx]
        loss = squared_loss(linreg(X, w, b), y)
        loss.sum().backward()
        sgd([w, b], LR, BATCH)
        if idx[-1] == order[epoch][-1]:
            with torch.no_grad():
                train_l = squared_loss(linreg(features, w, b), labels)
                assert not train_l.requires_grad
                losses.append(float(train_l.mean()))
    return losses


def torch_softmax(use_library: bool = False) -> list:
    features, labels, w0, order = softmax_data()
    features, labels = torch.tensor(features), torch.tensor(labels)
    W = torch.tensor(w0, requires_grad=True)
    b = torch.zeros(3, requires_grad=True)

    def softmax(X):
        X_exp = torch.exp(X)
        partition = X_exp.sum(1, keepdim=True)
        return X_exp / partition

    def net(X):
        return softmax(torch.matmul(X.reshape((-1, W.shape[0])), W) + b)

    def cross_entropy(y_hat, y):
        return -torch.log(y_hat[range(len(y_hat)), y])

    optimizer = torch.optim.SGD([W, b], lr=SOFTMAX_LR)
    losses = []
    for epoch, idx in batches(order):
        X, y = features[idx], labels[idx]
        if use_library:
            loss = F.cross_entropy(X @ W + b, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        else:
            loss = cross_entropy(net(X), y)
            loss.mean().backward()
            with torch.no_grad():
                W -= SOFTMAX_LR * W.grad
                b -= SOFTMAX_LR * b.grad
            W.grad = None
            b.grad = None
        if idx[-1] == order[epoch][-1]:
            with torch.no_grad():
                losses.append(cross_entropy(net(features), labels).mean().item())
                accuracy = (net(features).argmax(axis=1).type(labels.dtype) == labels)
                assert accuracy.float().mean().item() > 0.5
    return losses


# ---------------------------------------------------------------- TensorFlow spelling
def tensorflow_linear() -> list:
    features, labels, w0, order = linear_data()
    features, labels = tf.constant(features), tf.constant(labels)
    w = tf.Variable(w0)
    b = tf.Variable(tf.zeros(1))

    def linreg(X, w, b):
        return tf.matmul(X, w) + b

    def squared_loss(y_hat, y):
        return (y_hat - tf.reshape(y, y_hat.shape)) ** 2 / 2

    def sgd(params, grads, lr, batch_size):
        for param, grad in zip(params, grads, strict=True):
            param.assign_sub(lr * grad / batch_size)

    losses = []
    for epoch, idx in batches(order):
        X, y = tf.gather(features, idx), tf.gather(labels, idx)
        with tf.GradientTape() as g:
            loss = squared_loss(linreg(X, w, b), y)
        dw, db = g.gradient(loss, [w, b])  # the gradient of the sum of the losses
        sgd([w, b], [dw, db], LR, BATCH)
        if idx[-1] == order[epoch][-1]:
            train_l = squared_loss(linreg(features, w, b), labels)
            losses.append(float(tf.reduce_mean(train_l)))
    return losses


def tensorflow_softmax() -> list:
    features, labels, w0, order = softmax_data()
    features, labels = tf.constant(features), tf.constant(labels)
    W = tf.Variable(w0)
    b = tf.Variable(tf.zeros(3))

    def softmax(X):
        X_exp = tf.exp(X)
        partition = tf.reduce_sum(X_exp, 1, keepdims=True)
        return X_exp / partition

    def net(X):
        return softmax(tf.matmul(tf.reshape(X, (-1, W.shape[0])), W) + b)

    def cross_entropy(y_hat, y):
        return -tf.math.log(tf.boolean_mask(y_hat, tf.one_hot(y, depth=y_hat.shape[-1])))

    losses = []
    for epoch, idx in batches(order):
        X, y = tf.gather(features, idx), tf.gather(labels, idx)
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(cross_entropy(net(X), y))
        grads = tape.gradient(loss, [W, b])
        for param, grad in zip([W, b], grads, strict=True):
            param.assign_sub(SOFTMAX_LR * grad)
        if idx[-1] == order[epoch][-1]:
            losses.append(float(tf.reduce_mean(cross_entropy(net(features), labels))))
    return losses


# ---------------------------------------------------------------- MXNet spelling
def mxnet_linear() -> list:
    features, labels, w0, order = linear_data()
    features, labels = np.array(features), np.array(labels)
    w = np.array(w0)
    b = np.zeros(1)
    w.attach_grad()
    b.attach_grad()

    def linreg(X, w, b):
        return np.dot(X, w) + b

    def squared_loss(y_hat, y):
        return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2

    def sgd(params, lr, batch_size):
        for param in params:
            param[:] = param - lr * param.grad / batch_size

    losses = []
    for epoch, idx in batches(order):
        X, y = features[idx], labels[idx]
        with autograd.record():
            loss = squared_loss(linreg(X, w, b), y)
        loss.backward()  # a non-scalar: MXNet differentiates the sum
        sgd([w, b], LR, BATCH)
        if idx[-1] == order[epoch][-1]:
            train_l = squared_loss(linreg(features, w, b), labels)
            assert train_l.grad_fn is None  # nothing is recorded outside record()
            losses.append(float(train_l.mean()))
    return losses


def mxnet_softmax() -> list:
    features, labels, w0, order = softmax_data()
    features, labels = np.array(features), np.array(labels, dtype="int64")
    W = np.array(w0)
    b = np.zeros(3)
    W.attach_grad()
    b.attach_grad()

    def softmax(X):
        X_exp = np.exp(X)
        partition = X_exp.sum(1, keepdims=True)
        return X_exp / partition

    def net(X):
        return softmax(np.dot(X.reshape((-1, W.shape[0])), W) + b)

    def cross_entropy(y_hat, y):
        return -np.log(y_hat[range(len(y_hat)), y])

    losses = []
    for epoch, idx in batches(order):
        X, y = features[idx], labels[idx]
        with autograd.record():
            loss = cross_entropy(net(X), y)
        loss.backward()
        for param in (W, b):
            param[:] = param - SOFTMAX_LR * param.grad / len(idx)
        if idx[-1] == order[epoch][-1]:
            losses.append(float(cross_entropy(net(features), labels).mean()))
    return losses


@pytest.mark.parametrize("train", [torch_linear, tensorflow_linear, mxnet_linear])
def test_linear_regression_matches_numpy(train) -> None:
    expected = numpy_linear()
    losses = train()
    assert len(losses) == EPOCHS
    onp.testing.assert_allclose(losses, expected, rtol=1e-4)
    assert losses[-1] < 1e-3 < losses[0] * 10


@pytest.mark.parametrize("train", [torch_softmax, lambda: torch_softmax(use_library=True),
                                   tensorflow_softmax, mxnet_softmax])
def test_softmax_regression_matches_numpy(train) -> None:
    expected = numpy_softmax()
    losses = train()
    assert len(losses) == EPOCHS
    onp.testing.assert_allclose(losses, expected, rtol=1e-4)
    assert losses[-1] < losses[0]
