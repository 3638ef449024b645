package org.lesson8.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

import java.util.Random;

/**
 * The diffusion timestep as a vector (DDPM, improved DDPM, DiT, GLIDE):
 * <pre>
 *   t (B,) ─ sinusoid: [cos(t·ω_k) ; sin(t·ω_k)], ω_k = 10000^(−k/(F/2)), F = 256 ─ Linear(F, D) → SiLU → Linear(D, D) ─ (B, D)
 * </pre>
 * The children are named {@code mlp.0} and {@code mlp.2}, the indices of the Linears in DiT's {@code nn.Sequential}.
 */
public class TimestepEmbedding extends Module {
    public static final int FREQUENCIES = 256;
    public final Linear fc1;
    public final Linear fc2;

    public TimestepEmbedding(NDManager m, Random rng, long dim) {
        super(m);
        fc1 = child("mlp.0", new Linear(m, rng, FREQUENCIES, dim));
        fc2 = child("mlp.2", new Linear(m, rng, dim, dim));
    }

    /** (B,) timesteps → (B, dim): cos(t·ω_k) for k < dim/2, then sin(t·ω_k). */
    public static NDArray sinusoid(NDArray t, int dim) {
        if (t.getShape().dimension() != 1) {
            throw new IllegalArgumentException("timesteps must have shape (batch), got " + t.getShape());
        }
        int half = dim / 2;
        float[] freqs = new float[half];
        for (int k = 0; k < half; k++) freqs[k] = (float) Math.exp(-Math.log(10000.0) * k / half);
        NDArray f = t.getManager().create(freqs, new Shape(1, half));
        NDArray args = t.toType(DataType.FLOAT32, false).reshape(-1, 1).mul(f);
        return args.cos().concat(args.sin(), 1);
    }

    public NDArray forward(NDArray t) {
        return fc2.forward(Nd.silu(fc1.forward(sinusoid(t, FREQUENCIES))));
    }

    /** Parameters of a TimestepEmbedding of width {@code dim}, from the sizes alone. */
    public static long parameterCount(long dim) {
        return FREQUENCIES * dim + dim + dim * dim + dim;
    }
}
