package org.lesson8.diffusion;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import java.util.Random;

/** Where the Gaussian noise of the samplers comes from, so that a run can be repeated exactly. */
@FunctionalInterface
public interface NoiseSource {
    /** A float32 array of the given shape with independent N(0, 1) entries, created in {@code m}. */
    NDArray sample(NDManager m, Shape shape);

    /**
     * Noise drawn from {@code rng.nextGaussian()} on the Java side: the same seed gives the same numbers
     * on every machine and engine (the engine's own generator is not used).
     */
    static NoiseSource seeded(Random rng) {
        return (m, shape) -> {
            long n = shape.size();
            if (n > Integer.MAX_VALUE) throw new IllegalArgumentException("noise of shape " + shape + " is too large");
            float[] v = new float[(int) n];
            for (int i = 0; i < v.length; i++) v[i] = (float) rng.nextGaussian();
            return m.create(v, shape);
        };
    }

    /** Noise from the engine's generator ({@code m.randomNormal}); seed it with {@code Engine.setRandomSeed}. */
    static NoiseSource engine() {
        return (m, shape) -> m.randomNormal(shape);
    }
}
