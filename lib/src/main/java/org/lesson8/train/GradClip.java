package org.lesson8.train;

import org.lesson8.nn.Nd;

import ai.djl.ndarray.NDArray;

import java.util.List;

/** Gradient clipping by global L2 norm (Pascanu et al. 2013), as torch.nn.utils.clip_grad_norm_. */
public final class GradClip {
    private GradClip() {}

    /** Global norm √(Σ‖g‖²) over all gradients. */
    public static float globalNorm(List<NDArray> grads) {
        double sq = 0;
        for (NDArray g : grads) {
            try (NDArray g2 = g.square(); NDArray s = g2.sum()) { // close both: they live in the parameters' manager
                sq += s.getFloat();
            }
        }
        return (float) Math.sqrt(sq);
    }

    /**
     * Scales all gradients in place so that their global norm, {@code norm} as measured by {@link #globalNorm}, is at
     * most {@code maxNorm} (no clipping when {@code maxNorm} ≤ 0).
     */
    public static void clipToNorm(List<NDArray> grads, float norm, float maxNorm) {
        if (maxNorm > 0 && norm > maxNorm) {
            float scale = maxNorm / (norm + 1e-6f);
            for (NDArray g : grads) Nd.muli(g, scale);
        }
    }
}
