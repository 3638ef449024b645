package org.lesson8.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/** Attention masks (DJL has no tril/triu, so they are built on the Java side). */
public final class Masks {
    private Masks() {}

    /** 0/1 matrix (T, S): 1 where query i may see key j, i.e. j ≤ i + offset. */
    public static float[][] causalPattern(long t, long s, long offset) {
        float[][] m = new float[(int) t][(int) s];
        for (int i = 0; i < t; i++) {
            for (int j = 0; j < s; j++) {
                m[i][j] = j <= i + offset ? 1f : 0f;
            }
        }
        return m;
    }

    /** Additive mask (1, 1, T, S): 0 where allowed, a large negative number where forbidden. */
    public static NDArray causal(NDManager m, long t, long s, long offset) {
        float[] v = new float[(int) (t * s)];
        for (int i = 0; i < t; i++) {
            for (int j = 0; j < s; j++) {
                v[(int) (i * s + j)] = j <= i + offset ? 0f : -1e9f;
            }
        }
        return m.create(v, new Shape(1, 1, t, s));
    }
}
