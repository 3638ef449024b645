package org.lesson8.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/** Position embeddings: fixed 2-D sin-cos (MAE / DiT) and the helper for 1-D sinusoids. */
public final class PositionEmbeddings {
    private PositionEmbeddings() {}

    /** 1-D sinusoid: for each position, [sin(p·ω_k), cos(p·ω_k)] with ω_k = 1/10000^(k/(D/2)). */
    public static float[][] sinCos1d(int dim, double[] positions) {
        if (dim % 2 != 0) throw new IllegalArgumentException("sin-cos embedding needs an even width, got " + dim);
        int half = dim / 2;
        float[][] out = new float[positions.length][dim];
        for (int p = 0; p < positions.length; p++) {
            for (int k = 0; k < half; k++) {
                double omega = 1.0 / Math.pow(10000.0, k / (double) half);
                out[p][k] = (float) Math.sin(positions[p] * omega);
                out[p][k + half] = (float) Math.cos(positions[p] * omega);
            }
        }
        return out;
    }

    /**
     * Fixed 2-D sin-cos embedding for a grid×grid patch grid in raster order, shape (grid², dim):
     * the first half of each vector encodes the column, the second half the row (as in MAE/DiT).
     */
    public static float[][] sinCos2d(int dim, int grid) {
        if (dim % 4 != 0) throw new IllegalArgumentException("2-D sin-cos embedding needs a width divisible by 4, got " + dim);
        int n = grid * grid;
        double[] cols = new double[n];
        double[] rows = new double[n];
        for (int i = 0; i < n; i++) {
            rows[i] = i / grid;
            cols[i] = i % grid;
        }
        float[][] a = sinCos1d(dim / 2, cols);
        float[][] b = sinCos1d(dim / 2, rows);
        float[][] out = new float[n][dim];
        for (int i = 0; i < n; i++) {
            System.arraycopy(a[i], 0, out[i], 0, dim / 2);
            System.arraycopy(b[i], 0, out[i], dim / 2, dim / 2);
        }
        return out;
    }

    public static NDArray sinCos2d(NDManager m, int dim, int grid) {
        float[][] e = sinCos2d(dim, grid);
        float[] flat = new float[e.length * dim];
        for (int i = 0; i < e.length; i++) System.arraycopy(e[i], 0, flat, i * dim, dim);
        return m.create(flat, new Shape(1, e.length, dim));
    }
}
