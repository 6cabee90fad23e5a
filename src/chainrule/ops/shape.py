"""Shape primitives. Each one's static parameters describe the trailing axes it acts on, so
applied to a cotangent or tangent with extra leading batch axes it leaves those alone."""

from __future__ import annotations

import numpy as np

from .primitive import primitive

try:
    from numpy.lib.array_utils import normalize_axis_index, normalize_axis_tuple
except ImportError:  # NumPy 1.x
    from numpy.core.multiarray import normalize_axis_index
    from numpy.core.numeric import normalize_axis_tuple


def _data(x):
    return getattr(x, "_array", x) if not isinstance(x, (np.ndarray, np.generic)) else x


def _resolve_shape(size: int, shape) -> tuple:
    """``shape`` with a -1 filled in, checked against ``size``."""
    shape = tuple(int(s) for s in (shape if isinstance(shape, (tuple, list)) else (shape,)))
    if shape.count(-1) > 1:
        raise ValueError(f"only one dimension can be -1 in a shape, got {shape}")
    known = int(np.prod([s for s in shape if s != -1]))
    if -1 in shape:
        if known == 0 or size % known:
            raise ValueError(f"cannot reshape a tensor of {size} elements into shape {shape}")
        shape = tuple(size // known if s == -1 else s for s in shape)
    elif known != size:
        raise ValueError(f"cannot reshape a tensor of {size} elements into shape {shape}")
    return shape


def _reshape_params(x, *, shape, source=None):
    if source is not None:  # called by a rule, with the value's own shapes
        return {"shape": tuple(shape), "source": tuple(source)}
    source = np.shape(_data(x))
    return {"shape": _resolve_shape(int(np.prod(source)), shape), "source": source}


@primitive(normalize=_reshape_params)
def reshape(x, *, shape, source=None):
    if source is None:
        return np.reshape(x, shape)
    lead = np.shape(x)[: np.ndim(x) - len(source)]
    return np.reshape(x, lead + tuple(shape))


reshape.defrules(
    vjp=lambda g, shape, source: reshape(g, shape=source, source=shape), jvp="linear"
)
reshape.defview(lambda base, value, shape, source: reshape(value, shape=source, source=shape))


def _transpose_params(x, *, axes=None):
    ndim = np.ndim(_data(x))
    if axes is not None and all(a < 0 for a in axes) and len(axes) < ndim:
        return {"axes": tuple(axes)}  # a rule's batch-relative permutation
    if axes is None:
        axes = tuple(range(ndim))[::-1]
    axes = tuple(int(a) for a in axes)
    if sorted(a % ndim if ndim else a for a in axes) != list(range(ndim)):
        raise ValueError(f"axes {axes} are not a permutation of the {ndim} axes")
    return {"axes": tuple(a % ndim - ndim for a in axes)}


@primitive(normalize=_transpose_params)
def transpose(x, *, axes=None):
    if axes is None:
        return np.transpose(x)
    count = len(axes)
    lead = np.ndim(x) - count
    return np.transpose(x, tuple(range(lead)) + tuple(lead + a % count for a in axes))


def _inverse_perm(axes):
    inverse = np.argsort([a % len(axes) for a in axes])
    return tuple(int(a) - len(axes) for a in inverse)


transpose.defrules(
    vjp=lambda g, axes: transpose(g, axes=_inverse_perm(axes)), jvp="linear"
)
transpose.defview(lambda base, value, axes: transpose(value, axes=_inverse_perm(axes)))


def _broadcast_params(x, *, shape, source=None):
    if source is not None:
        return {"shape": tuple(shape), "source": tuple(source)}
    source = np.shape(_data(x))
    shape = tuple(int(s) for s in shape)
    np.broadcast_shapes(source, shape)  # raises a clear ValueError when incompatible
    return {"shape": shape, "source": source}


def _broadcast_view(x, shape):
    """``np.broadcast_to(x, shape)``: a read-only view with zero strides on the broadcast axes.
    Built directly over ``x``'s buffer when it has one (a tenth of NumPy's general path, which
    every reduction's reverse rule pays), through NumPy otherwise and for its error message."""
    if type(x) is np.ndarray and x.flags.c_contiguous or isinstance(x, np.generic):
        source, strides = x.shape, x.strides  # (a NumPy scalar's are ())
        lead = len(shape) - len(source)
        if lead >= 0 and all(s in (1, t) for s, t in zip(source, shape[lead:])):
            new = [0] * lead + [
                stride if s == t else 0
                for s, t, stride in zip(source, shape[lead:], strides)
            ]
            view = np.ndarray(shape, x.dtype, x, 0, tuple(new))
            view.flags.writeable = False
            return view
    return np.broadcast_to(x, shape)


@primitive(normalize=_broadcast_params)
def broadcast_to(x, *, shape, source=None):
    if source is None:
        return _broadcast_view(x, shape)
    lead = np.shape(x)[: np.ndim(x) - len(source)]
    aligned = np.reshape(x, lead + (1,) * (len(shape) - len(source)) + tuple(source))
    return _broadcast_view(aligned, lead + tuple(shape))


# The engine sums the cotangent back down to the input's shape.
broadcast_to.defrules(vjp=lambda g: g, jvp="linear")


def _flip_params(x, *, axis=None):
    from .primitive import reduce_axes

    return reduce_axes(x, axis=axis)


@primitive(normalize=_flip_params)
def flip(x, *, axis=None):
    return np.flip(x, axis=axis)


flip.defrules(vjp=lambda g, axis: flip(g, axis=axis), jvp="linear")
flip.defview(lambda base, value, axis: flip(value, axis=axis))


def _concat_params(*xs, axis=0):
    if not xs:
        raise ValueError("need at least one tensor to concatenate")
    ndim = np.ndim(_data(xs[0]))
    if ndim == 0:
        raise ValueError("zero-dimensional tensors cannot be concatenated; use stack")
    axis = int(axis)
    if not -ndim <= axis < ndim:
        raise np.exceptions.AxisError(f"axis {axis} is out of bounds for dimension {ndim}")
    return {"axis": axis - ndim if axis >= 0 else axis}


def _piece(g, shapes, index, axis):
    start = int(np.sum([s[axis] for s in shapes[:index]]))
    stop = start + shapes[index][axis]
    from .index import getitem

    return getitem(g, index=(Ellipsis, slice(start, stop)) + (slice(None),) * (-axis - 1))


def _pad_tangent(t, shapes, index, axis):
    lead = np.shape(t)[: np.ndim(t) - len(shapes[index])]
    parts = [t if i == index else np.zeros(lead + tuple(s), dtype=t.dtype)
             for i, s in enumerate(shapes)]
    return concatenate(*parts, axis=axis)


@primitive(normalize=_concat_params)
def concatenate(*xs, axis=0):
    return np.concatenate(xs, axis=axis)


concatenate.defrules(
    vjp=lambda g, shapes, index, axis: _piece(g, shapes, index, axis),
    jvp=lambda t, shapes, index, axis: _pad_tangent(t, shapes, index, axis),
)


# ---------------------------------------------------------------- composites


def expand_dims(x, axis):
    """Insert size-1 axes at ``axis`` (an int or a tuple, NumPy's meaning)."""
    shape = np.shape(_data(x))
    if not isinstance(axis, (tuple, list)):
        axis = normalize_axis_index(axis, len(shape) + 1)
        return reshape(x, shape=shape[:axis] + (1,) + shape[axis:])
    ndim = len(shape) + len(axis)
    axes = normalize_axis_tuple(axis, ndim)
    rest = iter(shape)
    return reshape(x, shape=tuple(1 if a in axes else next(rest) for a in range(ndim)))


def squeeze(x, axis=None):
    """Remove size-1 axes (all of them, or those in ``axis``)."""
    shape = np.shape(_data(x))
    if axis is None:
        return reshape(x, shape=tuple(size for size in shape if size != 1))
    # NumPy lets a 0-d array squeeze its "axis" 0 (or -1) given as an int, not in a tuple
    axes = normalize_axis_tuple(axis, len(shape) or int(not isinstance(axis, (tuple, list))))
    if shape and any(shape[a] != 1 for a in axes):
        raise ValueError("cannot select an axis to squeeze out which has size not equal to one")
    return reshape(x, shape=tuple(size for a, size in enumerate(shape) if a not in axes))


def swapaxes(x, axis1, axis2):
    """Exchange two axes."""
    axes = list(range(np.ndim(_data(x))))
    axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
    return transpose(x, axes=tuple(axes))


def _axis_tuple(axis, ndim: int) -> tuple:
    axes = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
    for a in axes:
        if not -ndim <= a < ndim:
            raise np.exceptions.AxisError(f"axis {a} is out of bounds for dimension {ndim}")
    return tuple(int(a) % ndim for a in axes)


def moveaxis(x, source, destination):
    """Move axes to new positions (NumPy's ``moveaxis``)."""
    ndim = np.ndim(_data(x))
    source, destination = _axis_tuple(source, ndim), _axis_tuple(destination, ndim)
    if len(source) != len(destination):
        raise ValueError("source and destination must have the same number of elements")
    order = [a for a in range(ndim) if a not in source]
    for dest, src in sorted(zip(destination, source, strict=True)):
        order.insert(dest, src)
    return transpose(x, axes=tuple(order))


def stack(xs, axis=0):
    """Join tensors of the same shape along a new axis."""
    xs = list(xs)
    if not xs:
        raise ValueError("need at least one tensor to stack")
    ndim = np.ndim(_data(xs[0])) + 1
    axis = axis + ndim if axis < 0 else axis
    return concatenate(*[expand_dims(x, axis) for x in xs], axis=axis)


def split(x, indices_or_sections, axis=0):
    """Split into pieces along ``axis`` (NumPy's ``split``)."""
    from .index import getitem

    size = np.shape(_data(x))[axis]
    if isinstance(indices_or_sections, int):
        if size % indices_or_sections:
            raise ValueError(
                f"array split does not result in an equal division: {size} elements into "
                f"{indices_or_sections} sections"
            )
        step = size // indices_or_sections
        bounds = list(range(step, size, step))
    else:
        bounds = list(indices_or_sections)
    edges = [0, *bounds, size]
    ndim = np.ndim(_data(x))
    axis = axis % ndim
    pieces = []
    for start, stop in zip(edges[:-1], edges[1:], strict=False):
        index = (slice(None),) * axis + (slice(start, stop),)
        pieces.append(getitem(x, index=index))
    return pieces


def tile(x, reps):
    """Repeat ``x`` by ``reps`` along each axis (NumPy's ``tile``)."""
    reps = (reps,) if isinstance(reps, int) else tuple(reps)
    shape = np.shape(_data(x))
    ndim = max(len(shape), len(reps))
    shape = (1,) * (ndim - len(shape)) + tuple(shape)
    reps = (1,) * (ndim - len(reps)) + reps
    interleaved = tuple(v for pair in zip(reps, shape, strict=False) for v in pair)
    spread = broadcast_to(reshape(x, shape=tuple(v for s in shape for v in (1, s))),
                          shape=interleaved)
    return reshape(spread, shape=tuple(r * s for r, s in zip(reps, shape, strict=False)))


def ravel(x):
    """Flatten to one dimension."""
    return reshape(x, shape=(-1,))
