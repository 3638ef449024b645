package org.lesson8.diffusion;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.lesson8.course.Interruption;
import org.lesson8.nn.Nd;

/**
 * Samplers of a {@link GaussianDiffusion} (or of a respaced one with fewer steps): ancestral DDPM (Ho et al. 2020,
 * Algorithm 2) and DDIM (Song et al. 2020). Each step frees its temporaries; the notebook's stop button ends a run
 * between two steps ({@link Interruption}).
 */
public final class Samplers {
    private Samplers() {}

    /**
     * Called after each sampling step with the new sample x_{t−1} and the model's x̂_0. The arrays are closed
     * when the step ends: copy what you keep ({@code toFloatArray()}, or {@code NDScope.unregister(a)}). {@code sample} is
     * the sampler's own x_{t−1}: a callback may change it in place ({@link Inpainting} pastes the known region back).
     */
    @FunctionalInterface
    public interface StepCallback {
        void onStep(int index, int timestep, NDArray sample, NDArray predX0);
    }

    /**
     * Ancestral sampling (DDPM Algorithm 2 with Σ from the process's {@link GaussianDiffusion.Variance}): from x_T = {@code xT} over all steps of
     * this (possibly respaced) process, x_{t−1} = μ + exp(½ log Σ) z, no noise at the last step.
     */
    public static <C> NDArray ddpm(GaussianDiffusion d, Denoiser<C> model, NDArray xT, C cond, NoiseSource noise,
                                   boolean clipDenoised, StepCallback callback) {
        if (noise == null) throw new IllegalArgumentException("DDPM sampling needs a noise source");
        return loop(d, xT, (x, t, i) -> {
            GaussianDiffusion.Prediction p = d.pMeanVariance(model, x, t, cond, clipDenoised);
            NDArray next = p.mean();
            if (i > 0) next = next.add(Nd.mul(p.logVariance(), 0.5).exp().mul(noise.sample(x.getManager(), x.getShape())));
            return new NDArray[] {next, p.predX0()};
        }, callback);
    }

    /**
     * DDIM (Song et al. 2020, eq. 12): x_{t−1} = sqrt(ᾱ_{t−1}) x̂_0 + sqrt(1 − ᾱ_{t−1} − σ²) ε̂ + σ z with
     * σ = η sqrt((1 − ᾱ_{t−1})/(1 − ᾱ_t)) sqrt(1 − ᾱ_t/ᾱ_{t−1}) and ε̂ recomputed from x̂_0. η = 0 is
     * deterministic given x_T ({@code noise} may then be null); η = 1 is DDPM-like. The model's variance output
     * is not used.
     */
    public static <C> NDArray ddim(GaussianDiffusion d, Denoiser<C> model, NDArray xT, C cond, double eta, NoiseSource noise,
                                   boolean clipDenoised, StepCallback callback) {
        if (eta < 0) throw new IllegalArgumentException("eta must be >= 0, got " + eta);
        if (eta > 0 && noise == null) throw new IllegalArgumentException("DDIM with eta > 0 needs a noise source");
        return loop(d, xT, (x, t, i) -> {
            GaussianDiffusion.Prediction p = d.pMeanVariance(model, x, t, cond, clipDenoised);
            NDArray eps = Nd.div(Nd.mul(x, d.sqrtRecipAlphaBar(i)).sub(p.predX0()), d.sqrtRecipm1AlphaBar(i));
            double abar = d.alphaBar(i), abarPrev = d.alphaBarPrev(i);
            double sigma = eta * Math.sqrt((1 - abarPrev) / (1 - abar)) * Math.sqrt(1 - abar / abarPrev);
            NDArray next = Nd.mul(p.predX0(), Math.sqrt(abarPrev))
                    .add(Nd.mul(eps, Math.sqrt(Math.max(0, 1 - abarPrev - sigma * sigma))));
            if (i > 0 && sigma > 0) next = next.add(Nd.mul(noise.sample(x.getManager(), x.getShape()), sigma));
            return new NDArray[] {next, p.predX0()};
        }, callback);
    }

    private interface Step {
        NDArray[] apply(NDArray x, NDArray t, int index);
    }

    private static NDArray loop(GaussianDiffusion d, NDArray xT, Step step, StepCallback callback) {
        if (xT.getShape().dimension() < 2) {
            throw new IllegalArgumentException("x_T: expected shape (B, C, ...), got " + xT.getShape());
        }
        NDManager m = xT.getManager();
        long batch = xT.getShape().get(0);
        NDArray x = xT;
        for (int i = d.numTimesteps() - 1; i >= 0; i--) {
            Interruption.check("sampling", d.numTimesteps() - 1 - i, d.numTimesteps(), () -> "no sample was returned");
            NDArray next;
            try (NDScope scope = new NDScope()) {
                NDArray t = m.full(new Shape(batch), i, DataType.INT64);
                NDArray[] r = step.apply(x, t, i);
                next = r[0];
                if (callback != null) callback.onStep(i, d.originalTimestep(i), next, r[1]);
                NDScope.unregister(next);
            }
            if (x != xT) x.close();
            x = next;
        }
        return x;
    }
}
