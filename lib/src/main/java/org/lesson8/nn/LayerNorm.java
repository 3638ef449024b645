package org.lesson8.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/**
 * LayerNorm over the last axis only, as in every transformer paper (DJL's LayerNorm block
 * normalises over all non-batch axes by default). Optional affine (DiT's adaLN uses none).
 */
public class LayerNorm extends Module {
    public final NDArray gamma;
    public final NDArray beta;
    private final NDArray ones;
    private final NDArray zeros;
    private final long dim;
    private final float eps;

    public LayerNorm(NDManager m, long dim) {
        this(m, dim, 1e-5f, true);
    }

    public LayerNorm(NDManager m, long dim, float eps, boolean affine) {
        super(m);
        this.dim = dim;
        this.eps = eps;
        if (affine) {
            gamma = param("weight", m.ones(new Shape(dim)), false);
            beta = param("bias", m.zeros(new Shape(dim)), false);
            ones = null;
            zeros = null;
        } else {
            gamma = null;
            beta = null;
            ones = m.ones(new Shape(dim));
            zeros = m.zeros(new Shape(dim));
        }
    }

    public NDArray forward(NDArray x) {
        long last = x.getShape().get(x.getShape().dimension() - 1);
        if (last != dim) {
            throw new IllegalArgumentException(
                    "LayerNorm expects last axis of size " + dim + " but got shape " + x.getShape());
        }
        NDArray g = gamma != null ? gamma : ones;
        NDArray b = beta != null ? beta : zeros;
        return ai.djl.nn.norm.LayerNorm.layerNorm(x, new Shape(dim), g, b, eps).singletonOrThrow();
    }
}
