package org.lesson8.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

import java.util.function.BinaryOperator;

/**
 * Arithmetic with a Java number that is safe under autograd.
 *
 * <p>DJL's {@code x.mul(2.5)} (also {@code div}, {@code pow}, {@code maximum}, {@code minimum} with a
 * {@code Number}) turns the number into a tensor with {@code torch::from_blob} over a Java direct buffer and
 * closes it right after the operation. If {@code x} records gradients, autograd keeps that scalar for the
 * backward pass, but the Java buffer under it becomes garbage and is freed at the next GC: the backward pass
 * then reads freed memory (wrong gradients, NaN, or a native crash after hundreds of steps). {@code NdTest}
 * reproduces it. Here the scalar is made by the engine ({@code torch::full}), which owns its memory, so
 * autograd's reference keeps it alive.
 */
public final class Nd {
    private Nd() {}

    /** A 0-d tensor holding {@code v}, allocated by the engine, in {@code like}'s manager and data type. */
    public static NDArray scalar(NDArray like, double v) {
        return like.getManager().full(new Shape(), (float) v, like.getDataType());
    }

    public static NDArray mul(NDArray x, double v) {
        return withScalar(x, v, NDArray::mul);
    }

    /** In place, for a tensor that no other array aliases. */
    public static NDArray muli(NDArray x, double v) {
        return withScalar(x, v, NDArray::muli);
    }

    public static NDArray div(NDArray x, double v) {
        return withScalar(x, v, NDArray::div);
    }

    public static NDArray pow(NDArray x, double v) {
        return withScalar(x, v, NDArray::pow);
    }

    public static NDArray maximum(NDArray x, double v) {
        return withScalar(x, v, NDArray::maximum);
    }

    public static NDArray minimum(NDArray x, double v) {
        return withScalar(x, v, NDArray::minimum);
    }

    /** {@code op(x, scalar)}; the scalar's handle is closed at once, autograd keeps its own reference. */
    private static NDArray withScalar(NDArray x, double v, BinaryOperator<NDArray> op) {
        try (NDArray k = scalar(x, v)) {
            return op.apply(x, k);
        }
    }

    /**
     * SiLU (swish with β = 1): x · sigmoid(x), the activation of DiT's conditioning MLPs and of the VAE. DJL's own
     * {@code Activation.swish} multiplies by a {@code Number} (see above), so it is written with tensors only.
     */
    public static NDArray silu(NDArray x) {
        return x.mul(ai.djl.nn.Activation.sigmoid(x));
    }
}
