package org.lesson8.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import java.util.Random;

/** y = x Wᵀ + b over the last axis (torch.nn.Linear), weights (out, in). */
public class Linear extends Module {
    public final NDArray weight;
    public final NDArray bias;
    public final long in;
    public final long out;

    public Linear(NDManager m, Random rng, long in, long out) {
        this(m, rng, in, out, true);
    }

    public Linear(NDManager m, Random rng, long in, long out, boolean withBias) {
        super(m);
        this.in = in;
        this.out = out;
        weight = param("weight", Init.xavierUniform(m, rng, new Shape(out, in), in, out), true);
        bias = withBias ? param("bias", m.zeros(new Shape(out)), false) : null;
    }

    public NDArray forward(NDArray x) {
        return ai.djl.nn.core.Linear.linear(x, weight, bias).singletonOrThrow();
    }

    /** Sets every weight and bias to zero (adaLN-Zero, zero-initialised heads). */
    public Linear zeroInit() {
        try (NDArray z = manager.zeros(weight.getShape())) {
            assign("weight", z);
        }
        if (bias != null) {
            try (NDArray z = manager.zeros(bias.getShape())) {
                assign("bias", z);
            }
        }
        return this;
    }
}
