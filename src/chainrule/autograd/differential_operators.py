"""``autograd.differential_operators``: where HIPS defines its transforms, for code that
imports them from there (they are the package's, see ``chainrule.autograd``)."""

from ._transforms import (  # noqa: F401
    deriv,
    elementwise_grad,
    grad,
    grad_and_aux,
    grad_named,
    hessian,
    hessian_tensor_product,
    hessian_vector_product,
    holomorphic_grad,
    jacobian,
    make_ggnvp,
    make_hvp,
    make_jvp,
    make_vjp,
    multigrad_dict,
    tensor_jacobian_product,
    value_and_grad,
    vector_jacobian_product,
)
