package org.lesson8.diffusion;

import org.lesson8.nn.Nd;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

import java.util.Random;

/**
 * Gaussian diffusion (Ho et al. 2020, "Denoising Diffusion Probabilistic Models"; Nichol &amp; Dhariwal 2021,
 * "Improved Denoising Diffusion Probabilistic Models"), the process used by DiT (Peebles &amp; Xie 2022):
 * <pre>
 *   forward     q(x_t | x_0)        = N( sqrt(ᾱ_t) x_0, (1 − ᾱ_t) I ),   ᾱ_t = Π_{s≤t} (1 − β_s)
 *   posterior   q(x_{t−1}|x_t,x_0)  = N( c1_t x_0 + c2_t x_t, β̃_t I ),   β̃_t = β_t (1 − ᾱ_{t−1}) / (1 − ᾱ_t)
 *               c1_t = β_t sqrt(ᾱ_{t−1}) / (1 − ᾱ_t),   c2_t = (1 − ᾱ_{t−1}) sqrt(α_t) / (1 − ᾱ_t)
 *   model       p(x_{t−1}|x_t)      = N( μ̃(x̂_0, x_t), Σ ),   x̂_0 = sqrt(1/ᾱ_t) x_t − sqrt(1/ᾱ_t − 1) ε_θ
 *               learned Σ:  log Σ = frac · log β_t + (1 − frac) · log β̃_t,   frac = (v + 1) / 2
 *   loss        L_simple = ‖ε − ε_θ‖²  (mean over pixels)  +  L_vlb (only with a learned Σ; ε_θ detached)
 *               L_vlb(t > 0) = KL( q(x_{t−1}|x_t,x_0) ‖ p(x_{t−1}|x_t) ),   L_vlb(0) = −log p(x_0|x_1)  (bits/dim)
 * </pre>
 * Timesteps are 0-based: index 0 is the paper's t = 1. All constants are computed in double and cast to the
 * dtype of the data only when used. Sampling ({@link Samplers}): ancestral DDPM and DDIM (Song et al. 2020) on this
 * process or on a {@link #respace respaced} one with fewer steps.
 */
public final class GaussianDiffusion {
    /** What the model's variance is: learned between β̃ and β (v output), or fixed to β̃ (small) or β (large). */
    public enum Variance { LEARNED_RANGE, FIXED_SMALL, FIXED_LARGE }

    /** A Gaussian with per-example (or per-element) mean and (log-)variance. */
    public record Posterior(NDArray mean, NDArray variance, NDArray logVariance) {}

    /** p(x_{t−1} | x_t) from one model output, plus the model's ε and the implied x̂_0. */
    public record Prediction(NDArray mean, NDArray variance, NDArray logVariance, NDArray predX0, NDArray eps) {}

    /** Per-example losses, shape (B,). {@code vb} is null when the variance is fixed (no L_vlb term). */
    public record Losses(NDArray mse, NDArray vb, NDArray loss) {}

    private static final double LN2 = Math.log(2);

    private final Variance variance;
    private final int[] timestepMap;
    private final double[] originalAlphasCumprod;

    private final double[] betas;
    private final double[] alphas;
    private final double[] alphasCumprod;
    private final double[] alphasCumprodPrev;
    private final double[] sqrtAlphasCumprod;
    private final double[] sqrtOneMinusAlphasCumprod;
    private final double[] sqrtRecipAlphasCumprod;
    private final double[] sqrtRecipm1AlphasCumprod;
    private final double[] posteriorVariance;
    private final double[] posteriorLogVarianceClipped;
    private final double[] posteriorMeanCoef1;
    private final double[] posteriorMeanCoef2;
    private final double[] logBetas;
    private final double[] largeVariance;

    /** A diffusion over {@code betas.length} steps. */
    public GaussianDiffusion(double[] betas, Variance variance) {
        this(betas, variance, identity(betas.length), null);
    }

    private GaussianDiffusion(double[] betas, Variance variance, int[] timestepMap, double[] originalAlphasCumprod) {
        int n = betas.length;
        if (n < 1) throw new IllegalArgumentException("a diffusion needs at least one step");
        if (variance == null) throw new IllegalArgumentException("variance type is null");
        for (int i = 0; i < n; i++) {
            if (!(betas[i] > 0 && betas[i] <= 1)) {
                throw new IllegalArgumentException("beta[" + i + "] = " + betas[i] + " is not in (0, 1]");
            }
        }
        this.variance = variance;
        this.timestepMap = timestepMap.clone();
        this.betas = betas.clone();
        alphas = new double[n];
        alphasCumprod = new double[n];
        alphasCumprodPrev = new double[n];
        sqrtAlphasCumprod = new double[n];
        sqrtOneMinusAlphasCumprod = new double[n];
        sqrtRecipAlphasCumprod = new double[n];
        sqrtRecipm1AlphasCumprod = new double[n];
        posteriorVariance = new double[n];
        posteriorLogVarianceClipped = new double[n];
        posteriorMeanCoef1 = new double[n];
        posteriorMeanCoef2 = new double[n];
        logBetas = new double[n];
        largeVariance = new double[n];
        double acp = 1;
        for (int i = 0; i < n; i++) {
            double b = betas[i];
            alphas[i] = 1 - b;
            alphasCumprodPrev[i] = acp;
            acp *= alphas[i];
            alphasCumprod[i] = acp;
            sqrtAlphasCumprod[i] = Math.sqrt(acp);
            sqrtOneMinusAlphasCumprod[i] = Math.sqrt(1 - acp);
            sqrtRecipAlphasCumprod[i] = Math.sqrt(1 / acp);
            sqrtRecipm1AlphasCumprod[i] = Math.sqrt(1 / acp - 1);
            posteriorVariance[i] = b * (1 - alphasCumprodPrev[i]) / (1 - acp);
            posteriorMeanCoef1[i] = b * Math.sqrt(alphasCumprodPrev[i]) / (1 - acp);
            posteriorMeanCoef2[i] = (1 - alphasCumprodPrev[i]) * Math.sqrt(alphas[i]) / (1 - acp);
            logBetas[i] = Math.log(b);
        }
        // β̃_0 = 0: as improved-diffusion, the clipped log-variance (and the "large" variance) uses step 1 at step 0.
        // With a single step there is no step 1: use β_0 there.
        double first = n > 1 ? posteriorVariance[1] : betas[0];
        for (int i = 0; i < n; i++) {
            posteriorLogVarianceClipped[i] = Math.log(i == 0 ? first : posteriorVariance[i]);
            largeVariance[i] = i == 0 ? first : betas[i];
        }
        this.originalAlphasCumprod = originalAlphasCumprod == null ? alphasCumprod.clone() : originalAlphasCumprod;
    }

    /** Linear β (DDPM, DiT): 1e-4 .. 0.02 for T = 1000. */
    public static GaussianDiffusion linear(int steps, Variance variance) {
        return new GaussianDiffusion(Schedules.linear(steps), variance);
    }

    /** Cosine β (improved DDPM), s = 0.008, β ≤ 0.999. */
    public static GaussianDiffusion cosine(int steps, Variance variance) {
        return new GaussianDiffusion(Schedules.cosine(steps), variance);
    }

    /** DiT's training diffusion: linear schedule, T = 1000, learned variance. */
    public static GaussianDiffusion dit() {
        return linear(1000, Variance.LEARNED_RANGE);
    }

    // ------------------------------------------------------------------ respacing

    /**
     * The same process seen only at the kept original timesteps (improved-diffusion's SpacedDiffusion): new
     * β_i = 1 − ᾱ_{k_i}/ᾱ_{k_{i−1}}, so that the respaced ᾱ equals the original ᾱ at every kept step. The
     * denoiser still receives the original timesteps. Indices refer to the original (unspaced) process.
     */
    public GaussianDiffusion respace(int[] useTimesteps) {
        int[] kept = Schedules.sortedUnique(useTimesteps, originalAlphasCumprod.length);
        double[] b = new double[kept.length];
        double last = 1;
        for (int i = 0; i < kept.length; i++) {
            double acp = originalAlphasCumprod[kept[i]];
            b[i] = 1 - acp / last;
            last = acp;
        }
        return new GaussianDiffusion(b, variance, kept, originalAlphasCumprod);
    }

    /** {@code count} evenly spaced steps of the original process (first and last included). */
    public GaussianDiffusion respace(int count) {
        return respace(Schedules.evenlySpaced(originalAlphasCumprod.length, count));
    }

    /** The same process with another variance type (e.g. to sample a learned-variance model with fixed Σ). */
    public GaussianDiffusion withVariance(Variance v) {
        return new GaussianDiffusion(betas, v, timestepMap, originalAlphasCumprod);
    }

    // ------------------------------------------------------------------ accessors (copies)

    public int numTimesteps() { return betas.length; }
    public int originalTimesteps() { return originalAlphasCumprod.length; }
    public Variance variance() { return variance; }
    /** The original timestep of each step of this (possibly respaced) process. */
    public int[] timestepMap() { return timestepMap.clone(); }
    public double[] betas() { return betas.clone(); }
    public double[] alphasCumprod() { return alphasCumprod.clone(); }
    public double[] alphasCumprodPrev() { return alphasCumprodPrev.clone(); }
    public double[] posteriorVariance() { return posteriorVariance.clone(); }
    public double[] posteriorLogVarianceClipped() { return posteriorLogVarianceClipped.clone(); }
    public double[] posteriorMeanCoef1() { return posteriorMeanCoef1.clone(); }
    public double[] posteriorMeanCoef2() { return posteriorMeanCoef2.clone(); }

    /** The step's ᾱ, ᾱ_prev, sqrt(1/ᾱ) and sqrt(1/ᾱ − 1), uncopied, for {@link Samplers}. */
    double alphaBar(int i) { return alphasCumprod[i]; }
    double alphaBarPrev(int i) { return alphasCumprodPrev[i]; }
    double sqrtRecipAlphaBar(int i) { return sqrtRecipAlphasCumprod[i]; }
    double sqrtRecipm1AlphaBar(int i) { return sqrtRecipm1AlphasCumprod[i]; }
    int originalTimestep(int i) { return timestepMap[i]; }

    // ------------------------------------------------------------------ forward process

    /** Uniform random step indices in [0, numTimesteps), int64, shape (batch,). */
    public NDArray sampleTimesteps(NDManager m, int batch, Random rng) {
        long[] t = new long[batch];
        for (int i = 0; i < batch; i++) t[i] = rng.nextInt(betas.length);
        return m.create(t);
    }

    /** x_t = sqrt(ᾱ_t) x_0 + sqrt(1 − ᾱ_t) ε, with a step index per example (t: shape (B,)). */
    public NDArray qSample(NDArray x0, NDArray t, NDArray noise) {
        requireSameShape("noise", x0, noise);
        long[] ts = steps(t, x0, "t");
        return x0.mul(coef(sqrtAlphasCumprod, ts, x0)).add(noise.mul(coef(sqrtOneMinusAlphasCumprod, ts, x0)));
    }

    /** The true posterior q(x_{t−1} | x_t, x_0): mean, variance β̃ and the clipped log β̃. */
    public Posterior qPosterior(NDArray x0, NDArray xt, NDArray t) {
        requireSameShape("x_t", x0, xt);
        long[] ts = steps(t, x0, "t");
        NDArray mean = x0.mul(coef(posteriorMeanCoef1, ts, x0)).add(xt.mul(coef(posteriorMeanCoef2, ts, x0)));
        return new Posterior(mean, coef(posteriorVariance, ts, x0), coef(posteriorLogVarianceClipped, ts, x0));
    }

    // ------------------------------------------------------------------ model

    /** Runs the denoiser (on the original timesteps) and turns its output into p(x_{t−1} | x_t). */
    public <C> Prediction pMeanVariance(Denoiser<C> model, NDArray xt, NDArray t, C cond, boolean clipDenoised) {
        long[] ts = steps(t, xt, "t");
        NDArray out = model.apply(xt, originalSteps(ts, xt.getManager()), cond);
        return predict(out, xt, t, clipDenoised);
    }

    /**
     * p(x_{t−1} | x_t) from a model output of shape (B, C, ...) (ε) or (B, 2C, ...) (ε, v). With
     * {@code clipDenoised}, x̂_0 is clipped to [−1, 1] before the posterior mean (pixel space only).
     */
    public Prediction predict(NDArray output, NDArray xt, NDArray t, boolean clipDenoised) {
        long[] ts = steps(t, xt, "t");
        long c = xt.getShape().get(1);
        checkOutput(output, xt);
        NDArray eps = output.getShape().get(1) == c ? output : output.get(new NDIndex(":, :{}", c));
        NDArray logVar;
        NDArray var;
        switch (variance) {
            case LEARNED_RANGE -> {
                NDArray v = output.get(new NDIndex(":, {}:", c));
                NDArray frac = Nd.mul(v.add(1), 0.5);
                logVar = frac.mul(coef(logBetas, ts, xt)).add(frac.neg().add(1).mul(coef(posteriorLogVarianceClipped, ts, xt)));
                var = logVar.exp();
            }
            case FIXED_SMALL -> {
                var = coef(posteriorVariance, ts, xt);
                logVar = coef(posteriorLogVarianceClipped, ts, xt);
            }
            default -> {
                var = coef(largeVariance, ts, xt);
                logVar = var.log();
            }
        }
        NDArray predX0 = xt.mul(coef(sqrtRecipAlphasCumprod, ts, xt)).sub(eps.mul(coef(sqrtRecipm1AlphasCumprod, ts, xt)));
        if (clipDenoised) predX0 = predX0.clip(-1, 1);
        NDArray mean = predX0.mul(coef(posteriorMeanCoef1, ts, xt)).add(xt.mul(coef(posteriorMeanCoef2, ts, xt)));
        return new Prediction(mean, var, logVar, predX0, eps);
    }

    // ------------------------------------------------------------------ losses

    /**
     * The variational-bound term of each example in bits per dimension: KL(q(x_{t−1}|x_t,x_0) ‖ p(x_{t−1}|x_t))
     * for t &gt; 0 and the discretised Gaussian decoder NLL −log p(x_0|x_1) at t = 0 (bins of width 2/255 on
     * [−1, 1], the edge bins open, as improved-diffusion; for latents this is the same convention DiT uses).
     * No stop-gradient here: {@link #trainingLosses} detaches ε before calling it.
     */
    public NDArray vbTermsBits(NDArray output, NDArray x0, NDArray xt, NDArray t) {
        long[] ts = steps(t, x0, "t");
        Posterior q = qPosterior(x0, xt, t);
        Prediction p = predict(output, xt, t, false);
        NDArray kl = Nd.div(Gaussians.meanFlat(Gaussians.normalKl(q.mean(), q.logVariance(), p.mean(), p.logVariance())), LN2);
        NDArray nll = Nd.div(Gaussians.meanFlat(Gaussians.discretizedGaussianLogLikelihood(x0, p.mean(), Nd.mul(p.logVariance(), 0.5)).neg()), LN2);
        boolean[] first = new boolean[ts.length];
        for (int i = 0; i < ts.length; i++) first[i] = ts[i] == 0;
        NDArray isFirst = x0.getManager().create(first);
        return NDArrays.where(isFirst, nll, kl);
    }

    /** Losses with noise drawn from {@code noise}. */
    public <C> Losses trainingLosses(Denoiser<C> model, NDArray x0, NDArray t, C cond, NoiseSource noise) {
        return trainingLosses(model, x0, t, cond, noise.sample(x0.getManager(), x0.getShape()));
    }

    /**
     * DiT / improved-DDPM "hybrid" loss per example: mse = mean((ε − ε_θ)²); with a learned variance also
     * vb = L_vlb in bits computed from [stopGradient(ε_θ) ; v], so that L_vlb trains only the variance and
     * L_simple only the mean; loss = mse + vb (DiT: no rescaling of vb). With a fixed variance vb is null.
     */
    public <C> Losses trainingLosses(Denoiser<C> model, NDArray x0, NDArray t, C cond, NDArray noise) {
        NDArray xt = qSample(x0, t, noise);
        long[] ts = steps(t, x0, "t");
        NDArray out = model.apply(xt, originalSteps(ts, x0.getManager()), cond);
        checkOutput(out, xt);
        long c = x0.getShape().get(1);
        boolean twoHalves = out.getShape().get(1) == 2 * c;
        NDArray eps = twoHalves ? out.get(new NDIndex(":, :{}", c)) : out;
        NDArray mse = Gaussians.meanFlat(noise.sub(eps).square());
        if (variance != Variance.LEARNED_RANGE) return new Losses(mse, null, mse);
        NDArray frozen = eps.stopGradient().concat(out.get(new NDIndex(":, {}:", c)), 1);
        NDArray vb = vbTermsBits(frozen, x0, xt, t);
        return new Losses(mse, vb, mse.add(vb));
    }

    // ------------------------------------------------------------------ checks and tables

    /** One value per example from a table, shaped (B, 1, ..., 1) to broadcast against {@code like}. */
    private static NDArray coef(double[] table, long[] t, NDArray like) {
        float[] v = new float[t.length];
        for (int i = 0; i < t.length; i++) v[i] = (float) table[(int) t[i]];
        long[] dims = new long[like.getShape().dimension()];
        java.util.Arrays.fill(dims, 1);
        dims[0] = t.length;
        NDArray c = like.getManager().create(v, new Shape(dims));
        return like.getDataType() == DataType.FLOAT32 ? c : c.toType(like.getDataType(), false);
    }

    private NDArray originalSteps(long[] ts, NDManager m) {
        long[] o = new long[ts.length];
        for (int i = 0; i < ts.length; i++) o[i] = timestepMap[(int) ts[i]];
        return m.create(o);
    }

    /** Checks t: an integer array of shape (B,) with values in [0, numTimesteps). */
    private long[] steps(NDArray t, NDArray x, String name) {
        Shape xs = x.getShape();
        if (xs.dimension() < 2) {
            throw new IllegalArgumentException("x: expected shape (B, C, ...), got " + xs);
        }
        if (t == null) throw new IllegalArgumentException(name + " is null; expected shape (" + xs.get(0) + ")");
        if (!t.getShape().equals(new Shape(xs.get(0)))) {
            throw new IllegalArgumentException(name + ": expected shape (" + xs.get(0) + ") (one step per example of x "
                    + xs + "), got " + t.getShape());
        }
        if (!t.getDataType().isInteger()) {
            throw new IllegalArgumentException(name + ": expected integer step indices, got " + t.getDataType());
        }
        long[] v = (t.getDataType() == DataType.INT64 ? t : t.toType(DataType.INT64, false)).toLongArray();
        for (long s : v) {
            if (s < 0 || s >= betas.length) {
                throw new IllegalArgumentException(name + ": step " + s + " is outside [0, " + betas.length + ")");
            }
        }
        return v;
    }

    /** Validates a model output against x_t; returns true when it has 2C channels. */
    private boolean checkOutput(NDArray out, NDArray xt) {
        Shape xs = xt.getShape();
        Shape os = out.getShape();
        long c = xs.get(1);
        boolean learned = variance == Variance.LEARNED_RANGE;
        long[] want = xs.getShape().clone();  // Shape.getShape() is the live array
        want[1] = learned ? 2 * c : c;
        boolean ok = os.dimension() == xs.dimension() && os.get(0) == xs.get(0)
                && (os.get(1) == want[1] || (!learned && os.get(1) == 2 * c));
        for (int i = 2; ok && i < xs.dimension(); i++) ok = os.get(i) == xs.get(i);
        if (!ok) {
            String what = learned ? "(B, 2C, ...) = [eps ; v] for the learned variance"
                    : "(B, C, ...) = eps (or (B, 2C, ...), whose v half is ignored) for a fixed variance";
            throw new IllegalArgumentException("denoiser output: expected shape " + new Shape(want) + " " + what
                    + ", got " + os);
        }
        return os.get(1) == 2 * c;
    }

    private static void requireSameShape(String name, NDArray x0, NDArray other) {
        if (other == null) throw new IllegalArgumentException(name + " is null; expected shape " + x0.getShape());
        if (!other.getShape().equals(x0.getShape())) {
            throw new IllegalArgumentException(name + ": expected shape " + x0.getShape() + " (as x_0), got "
                    + other.getShape());
        }
    }

    private static int[] identity(int n) {
        int[] r = new int[n];
        for (int i = 0; i < n; i++) r[i] = i;
        return r;
    }
}
