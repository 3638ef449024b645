package org.lesson8.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import java.util.Random;

/**
 * Weight initialisers, drawn from a seeded {@link Random} on the Java side so that a model built with the same seed
 * always starts from the same weights. The conventions are those of the reference implementations.
 */
public final class Init {
    private Init() {}

    /** N(0, std²), not truncated: position tables, token tables, GPT-2's and DiT's N(0, 0.02²) layers. */
    public static NDArray normal(NDManager m, Random rng, Shape shape, double std) {
        float[] v = new float[(int) shape.size()];
        for (int i = 0; i < v.length; i++) v[i] = (float) (rng.nextGaussian() * std);
        return m.create(v, shape);
    }

    /** U(−bound, bound). */
    public static NDArray uniform(NDManager m, Random rng, Shape shape, double bound) {
        float[] v = new float[(int) shape.size()];
        for (int i = 0; i < v.length; i++) v[i] = (float) ((rng.nextDouble() * 2 - 1) * bound);
        return m.create(v, shape);
    }

    /** Xavier/Glorot uniform, U(±√(6 / (fan_in + fan_out))): the Linear weights of ViT, DiT and GPT reference code. */
    public static NDArray xavierUniform(NDManager m, Random rng, Shape shape, long fanIn, long fanOut) {
        return uniform(m, rng, shape, Math.sqrt(6.0 / (fanIn + fanOut)));
    }

    /** He/Kaiming uniform for ReLU layers, U(±√(6 / fan_in)). */
    public static NDArray heUniform(NDManager m, Random rng, Shape shape, long fanIn) {
        return uniform(m, rng, shape, Math.sqrt(6.0 / fanIn));
    }

    /** PyTorch's default for Conv2d (and Linear): U(±1/√fan_in) for weight and bias. */
    public static NDArray torchDefault(NDManager m, Random rng, Shape shape, long fanIn) {
        return uniform(m, rng, shape, 1.0 / Math.sqrt(fanIn));
    }

    /** Overwrites an existing parameter with N(0, std²) values, e.g. where a paper re-initialises one layer. */
    public static void fillNormal(NDArray param, Random rng, double std) {
        try (NDArray w = normal(param.getManager(), rng, param.getShape(), std)) {
            param.set(w.toFloatArray());
        }
    }
}
