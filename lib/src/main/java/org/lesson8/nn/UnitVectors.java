package org.lesson8.nn;

import ai.djl.ndarray.NDArray;

/**
 * Rows of unit length: CLIP embeddings as the unCLIP prior and decoder read them.
 * <pre>
 *   slerp(a, b, t) = sin((1 − t)θ)/sin θ · a + sin(tθ)/sin θ · b,   cos θ = a·b        (Shoemake 1985)
 * </pre>
 * Spherical interpolation stays on the unit sphere, where a straight line between two embeddings would cut through
 * it (its midpoint is shorter than 1); unCLIP interpolates between two images' CLIP embeddings this way (§3.2).
 */
public final class UnitVectors {
    private UnitVectors() {}

    /** How far a row's norm may be from 1 (float32 arithmetic on normalised rows stays far inside it). */
    public static final double TOLERANCE = 1e-3;

    /**
     * Row-wise slerp of unit vectors a, b (B, E) at t ∈ [0, 1]: a at t = 0, b at t = 1, unit norm in between.
     * Nearly equal rows fall back to the normalised straight line; opposite rows have no unique arc and are an error.
     */
    public static NDArray slerp(NDArray a, NDArray b, double t) {
        if (a.getShape().dimension() != 2 || !a.getShape().equals(b.getShape())) {
            throw new IllegalArgumentException("slerp: expected two arrays of shape (batch, width), got " + a.getShape()
                    + " and " + b.getShape());
        }
        if (!(t >= 0 && t <= 1)) throw new IllegalArgumentException("slerp: t must be in [0, 1], got " + t);
        requireUnit(a, "slerp: a", false);
        requireUnit(b, "slerp: b", false);
        int rows = (int) a.getShape().get(0), e = (int) a.getShape().get(1);
        float[] x = a.toFloatArray(), y = b.toFloatArray(), out = new float[x.length];
        for (int r = 0; r < rows; r++) {
            double dot = 0;
            for (int k = 0; k < e; k++) dot += (double) x[r * e + k] * y[r * e + k];
            double theta = Math.acos(Math.max(-1, Math.min(1, dot)));
            if (Math.PI - theta < 1e-4) {
                throw new IllegalArgumentException("slerp: row " + r + " of a and b point in opposite directions: "
                        + "every great circle joins them, so the path is not defined");
            }
            double wa = theta < 1e-4 ? 1 - t : Math.sin((1 - t) * theta) / Math.sin(theta);
            double wb = theta < 1e-4 ? t : Math.sin(t * theta) / Math.sin(theta);
            double norm = 0;
            for (int k = 0; k < e; k++) {
                double v = wa * x[r * e + k] + wb * y[r * e + k];
                out[r * e + k] = (float) v;
                norm += v * v;
            }
            double inv = 1 / Math.sqrt(norm);   // 1 up to rounding on the arc; renormalises the straight-line fallback
            for (int k = 0; k < e; k++) out[r * e + k] = (float) (out[r * e + k] * inv);
        }
        return a.getManager().create(out, a.getShape());
    }

    /**
     * Checks that every row of x (B, E) has unit norm (or, with {@code allowZero}, is the zero vector, the null
     * condition of classifier-free guidance); the error names {@code what} and the first row that is not.
     */
    public static void requireUnit(NDArray x, String what, boolean allowZero) {
        float[] norms = x.norm(new int[] {-1}).toFloatArray();
        for (int i = 0; i < norms.length; i++) {
            boolean ok = Math.abs(norms[i] - 1) <= TOLERANCE || (allowZero && norms[i] == 0f);
            if (!ok) {
                throw new IllegalArgumentException(what + ": row " + i + " has norm " + norms[i] + "; CLIP embeddings "
                        + "must have unit norm (Clip.normalize)" + (allowZero ? ", or be zero for the null condition" : ""));
            }
        }
    }
}
