package org.lesson8.diffusion;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * CLIP guidance (GLIDE §2.4, after the classifier guidance of Dhariwal &amp; Nichol 2021): a {@link Denoiser} that
 * steers sampling towards images a noised CLIP finds close to the caption,
 * <pre>
 *   ∇ = ∇_{x_t} ( f(x_t, t) · g(c) )                   f: noised-CLIP image embedding, g: caption embedding
 *   MEAN     μ̂ = μ + s · Σ · ∇                         the paper's form, for ancestral (DDPM) sampling
 *   EPSILON  ε̂ = ε − s · sqrt(1 − ᾱ_t) · ∇             the score form (Song et al. 2020), for DDIM
 * </pre>
 * Both are applied as a change of ε, so that {@link Samplers#ddpm} and {@link Samplers#ddim} run unchanged. For MEAN:
 * μ = c1_t x̂_0 + c2_t x_t and x̂_0 = sqrt(1/ᾱ_t) x_t − sqrt(1/ᾱ_t − 1) ε, so μ moves by s Σ ∇ when ε moves by
 * −s Σ ∇ / (c1_t sqrt(1/ᾱ_t − 1)). This is exact when x̂_0 is not clipped ({@code clipDenoised = false}); with
 * clipping the shift passes through the clip. Σ is the sampling process's variance at the step (with
 * {@code FIXED_SMALL}: β̃_t, zero at the last step, where DDPM adds no noise).
 * <p>The gradient is taken by autograd on a copy of x_t in a {@link GradientCollector} of its own: sample outside any
 * training step (DJL allows one collector at a time). The collector's backward pass also reaches the scorer's weights;
 * their gradients are cleared afterwards, so that guidance never leaks into a later training step.
 * <p>Known difference from openai/glide-text2im: its {@code cond_fn} also multiplies the dot product by CLIP's logit
 * scale exp(t); here that constant is part of s.
 */
public final class ClipGuidance<C> implements Denoiser<C> {
    /** Where the gradient enters: the posterior mean (DDPM, the paper) or ε (DDIM). */
    public enum Form { MEAN, EPSILON }

    /** A differentiable score of noised images against fixed captions. */
    public interface Score {
        /** f(x_t, t) · g(c) for each example, shape (B,), differentiable in x_t; t (B,) original timesteps. */
        NDArray of(NDArray xt, NDArray t);

        /** The weights the score is computed with: their gradients are cleared after each use. */
        List<NDArray> parameters();
    }

    private final Denoiser<C> model;
    private final GaussianDiffusion process;
    private final Score score;
    private final double scale;
    private final Form form;
    private final Map<Integer, Integer> stepOf = new HashMap<>();

    /**
     * @param process the (respaced) process the sampler runs; the denoiser receives its original timesteps
     * @param scale   s; 0 gives the model itself
     */
    public ClipGuidance(Denoiser<C> model, GaussianDiffusion process, Score score, double scale, Form form) {
        this.model = model;
        this.process = process;
        this.score = score;
        this.scale = scale;
        this.form = form;
        int[] map = process.timestepMap();
        for (int i = 0; i < map.length; i++) stepOf.put(map[i], i);
    }

    /** ∇_{x_t} Σ_b score_b(x_t, t): the gradient of each example's own score, (B, C, ...). */
    public static NDArray gradient(Score score, NDArray xt, NDArray t) {
        NDArray x = xt.duplicate();
        x.setRequiresGradient(true);
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            gc.backward(score.of(x, t).sum());
        } catch (IllegalStateException e) {
            throw new IllegalStateException("CLIP guidance needs a GradientCollector of its own, and DJL allows one at a "
                    + "time: sample outside a training step (" + e.getMessage() + ")", e);
        }
        NDArray g;
        try (NDArray gx = x.getGradient()) {
            g = gx.duplicate();
        }
        for (NDArray p : score.parameters()) {
            try (NDArray pg = p.getGradient()) {
                pg.subi(pg);   // in place: set(float[]) would point the gradient at a Java buffer that dies with pg
            }
        }
        return g;
    }

    @Override
    public NDArray apply(NDArray xt, NDArray t, C cond) {
        NDArray out = model.apply(xt, t, cond);
        if (scale == 0) return out;
        long c = xt.getShape().get(1);
        boolean twoHalves = out.getShape().get(1) == 2 * c;
        NDArray eps = twoHalves ? out.get(new NDIndex(":, :{}", c)) : out;
        NDArray shifted = eps.sub(gradient(score, xt, t).mul(factor(out, xt, t)));
        return twoHalves ? shifted.concat(out.get(new NDIndex(":, {}:", c)), 1) : shifted;
    }

    /** s·Σ/(c1 sqrt(1/ᾱ − 1)) (MEAN) or s·sqrt(1 − ᾱ) (EPSILON), broadcastable to x_t. */
    private NDArray factor(NDArray out, NDArray xt, NDArray t) {
        long[] ts = t.toLongArray();
        long[] idx = new long[ts.length];
        float[] k = new float[ts.length];
        double[] abar = process.alphasCumprod();
        double[] c1 = process.posteriorMeanCoef1();
        for (int i = 0; i < ts.length; i++) {
            Integer step = stepOf.get((int) ts[i]);
            if (step == null) {
                throw new IllegalArgumentException("timestep " + ts[i] + " is not a step of the sampling process: give "
                        + "ClipGuidance the same (respaced) GaussianDiffusion as the sampler");
            }
            idx[i] = step;
            k[i] = (float) (form == Form.EPSILON ? scale * Math.sqrt(1 - abar[step])
                    : scale / (c1[step] * Math.sqrt(1 / abar[step] - 1)));
        }
        long[] dims = new long[xt.getShape().dimension()];
        java.util.Arrays.fill(dims, 1);
        dims[0] = ts.length;
        NDArray kk = xt.getManager().create(k, new Shape(dims));
        if (form == Form.EPSILON) return kk;
        return kk.mul(process.predict(out, xt, xt.getManager().create(idx), false).variance());
    }
}
