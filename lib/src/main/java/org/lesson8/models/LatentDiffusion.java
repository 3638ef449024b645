package org.lesson8.models;

import org.lesson8.nn.Nd;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import org.lesson8.data.Batches;
import org.lesson8.data.FashionMnist;
import org.lesson8.diffusion.ClassifierFreeGuidance;
import org.lesson8.diffusion.Frechet;
import org.lesson8.diffusion.GaussianDiffusion;
import org.lesson8.diffusion.NoiseSource;
import org.lesson8.train.Ema;
import org.lesson8.train.MetricsLog;
import org.lesson8.train.Recipe;
import org.lesson8.train.TrainLoop;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.IntConsumer;

/**
 * Latent diffusion with a DiT (Peebles &amp; Xie 2022, §3 and §4): a {@link Vae} maps 28×28 images to 7×7×4 latents,
 * the {@link Dit} learns ε and Σ on the scaled latents with the linear-schedule {@link GaussianDiffusion#dit()},
 * sampling runs DDIM or DDPM with classifier-free guidance and decodes the result. Also the sample-quality judge of
 * the course: the lesson-01 ViT's class decision and a Fréchet distance in that ViT's feature space.
 */
public final class LatentDiffusion {
    /** The VAE's recipe: batch 128, lr 2e-3. */
    public static Recipe vaeRecipe() {
        return new Recipe(128, 2e-3f, 0f, 100, 1f);
    }

    /**
     * The DiT's recipe: batch 128, lr 5e-4 with warm-up and cosine decay (the paper: 1e-4 constant at batch 256 for
     * 400k steps), no weight decay like the paper. (1e-3 diverged to NaN after 1363 steps.)
     */
    public static Recipe ditRecipe() {
        return new Recipe(128, 5e-4f, 0f, 200, 1f);
    }

    /** EMA decay of the sampled DiT weights (the paper: 0.9999 over 400k steps; our runs are ~100× shorter). */
    public static final double EMA_DECAY = 0.999;

    public final Vae vae;
    public final Dit dit;
    public final GaussianDiffusion diffusion = GaussianDiffusion.dit();

    public LatentDiffusion(Vae vae, Dit dit) {
        Shape want = vae.latentShape(1);
        if (dit.config.inChannels() != want.get(1) || dit.config.inputSize() != want.get(2)) {
            throw new IllegalArgumentException("the DiT expects latents (" + dit.config.inChannels() + ", " + dit.config.inputSize()
                    + ", " + dit.config.inputSize() + ") but the VAE makes " + want + ": build both from matching configs");
        }
        this.vae = vae;
        this.dit = dit;
    }

    /** [0, 1] images → [−1, 1], the range the VAE (like SD's) works in. */
    public static NDArray toSigned(NDArray unit) {
        return Nd.mul(unit, 2).sub(1);
    }

    /** [−1, 1] → [0, 1] (the range the lesson-01 ViT was trained on). */
    public static NDArray toUnit(NDArray signed) {
        return Nd.mul(signed.add(1), 0.5).clip(0, 1);
    }

    // ------------------------------------------------------------------ stage 1: the VAE

    public static TrainLoop trainVae(Vae vae, FashionMnist.Split train, Recipe r, int steps, double seconds, long seed,
                                     MetricsLog log, IntConsumer onStep) {
        Random rng = new Random(seed);
        NoiseSource noise = NoiseSource.seeded(new Random(seed + 1));
        TrainLoop loop = r.loop(vae, steps, log);
        Batches.Shuffled batches = new Batches.Shuffled(train.size, rng);
        loop.runFor(seconds, steps, (sub, step, metrics) -> {
            int[] idx = batches.next(r.batch());
            Vae.Losses l = vae.losses(toSigned(train.images(sub, idx)), noise);
            metrics.put("reconstruction", (double) l.reconstruction().mean().getFloat());
            metrics.put("kl", (double) l.kl().mean().getFloat());
            return l.loss();
        }, onStep);
        return loop;
    }

    /** q(z|x) of a data set, kept on the Java heap: per image 2 × z·s·s floats, plus labels. */
    public record Latents(float[] mean, float[] logVar, int[] labels, long[] shape) {
        public int size() {
            return labels.length;
        }

        public int perImage() {
            return (int) (shape[0] * shape[1] * shape[2]);
        }

        /** Samples z = μ + σ ε for the given images (DiT's {@code latent_dist.sample()}), times {@code scale}. */
        public NDArray sample(NDManager m, int[] idx, float scale, Random rng) {
            int k = perImage();
            float[] v = new float[idx.length * k];
            for (int j = 0; j < idx.length; j++) {
                int base = idx[j] * k;
                for (int i = 0; i < k; i++) {
                    double sd = Math.exp(0.5 * logVar[base + i]);
                    v[j * k + i] = (float) ((mean[base + i] + sd * rng.nextGaussian()) * scale);
                }
            }
            return m.create(v, new Shape(idx.length, shape[0], shape[1], shape[2]));
        }

        public NDArray labels(NDManager m, int[] idx) {
            long[] y = new long[idx.length];
            for (int j = 0; j < idx.length; j++) y[j] = labels[idx[j]];
            return m.create(y);
        }
    }

    /** Encodes the first {@code limit} images of a split (no gradients). */
    public static Latents encode(Vae vae, NDManager parent, FashionMnist.Split s, int limit) {
        int n = Math.min(limit, s.size);
        Shape one = vae.latentShape(1);
        int k = (int) one.size();
        float[] mean = new float[n * k];
        float[] logVar = new float[n * k];
        int[] labels = new int[n];
        for (int[] idx : Batches.sequential(n, 500)) {
            try (NDManager sub = parent.newSubManager(); NDScope scope = new NDScope()) {
                Vae.Posterior q = vae.encode(toSigned(s.images(sub, idx)));
                System.arraycopy(q.mean().toFloatArray(), 0, mean, idx[0] * k, idx.length * k);
                System.arraycopy(q.logVar().toFloatArray(), 0, logVar, idx[0] * k, idx.length * k);
            }
            for (int i : idx) labels[i] = s.label(i);
        }
        return new Latents(mean, logVar, labels, new long[] {one.get(1), one.get(2), one.get(3)});
    }

    /** Sets the VAE's latent scale from {@code count} latent samples of the encoded training set; returns it. */
    public static float measureScale(Vae vae, NDManager parent, Latents lat, int count, long seed) {
        int[] idx = new int[Math.min(count, lat.size())];
        for (int i = 0; i < idx.length; i++) idx[i] = i;
        try (NDManager sub = parent.newSubManager()) {
            return vae.measureScale(lat.sample(sub, idx, 1f, new Random(seed)));
        }
    }

    // ------------------------------------------------------------------ stage 2: the DiT

    /**
     * Trains the DiT on scaled latent samples with the hybrid loss; labels dropped to the null class at rate 0.1.
     * With {@code ema} (may be null) the moving average is updated after every step.
     */
    public TrainLoop trainDit(Latents lat, Recipe r, int steps, double seconds, long seed, MetricsLog log, Ema ema,
                              IntConsumer onStep) {
        Random rng = new Random(seed);
        Random drop = new Random(seed + 1);
        Random tRng = new Random(seed + 2);
        NoiseSource noise = NoiseSource.seeded(new Random(seed + 3));
        float scale = vae.scale();
        TrainLoop loop = r.loop(dit, steps, log);
        Batches.Shuffled batches = new Batches.Shuffled(lat.size(), rng);
        loop.runFor(seconds, steps, (sub, step, metrics) -> {
            int[] idx = batches.next(r.batch());
            NDArray x0 = lat.sample(sub, idx, scale, rng);
            NDArray y = dit.dropLabels(lat.labels(sub, idx), drop);
            NDArray t = diffusion.sampleTimesteps(sub, idx.length, tRng);
            GaussianDiffusion.Losses l = diffusion.trainingLosses(dit, x0, t, y, noise);
            metrics.put("mse", (double) l.mse().mean().getFloat());
            if (l.vb() != null) metrics.put("vb", (double) l.vb().mean().getFloat());
            return l.loss().mean();
        }, step -> {
            if (ema != null) ema.update();
            if (onStep != null) onStep.accept(step);
        });
        return loop;
    }

    // ------------------------------------------------------------------ sampling

    /**
     * Class-conditional samples as images in [0, 1], shape (B, 1, 28, 28): DDIM (η = 0) over {@code steps} respaced
     * steps, or DDPM ancestral sampling with the learned variance when {@code ddpm}; guidance scale {@code s}
     * (1 = no guidance). The starting noise comes from {@code seed}, so the same call gives the same images.
     */
    public NDArray sample(NDManager m, int[] labels, double s, int steps, boolean ddpm, long seed,
                          GaussianDiffusion.StepCallback callback) {
        GaussianDiffusion sampler = diffusion.respace(steps);
        NoiseSource noise = NoiseSource.seeded(new Random(seed));
        long[] y = new long[labels.length];
        for (int i = 0; i < y.length; i++) y[i] = labels[i];
        try (NDManager sub = m.newSubManager()) {
            NDArray xT = noise.sample(sub, vae.latentShape(labels.length));
            NDArray cond = sub.create(y);
            var model = s == 1.0 ? dit : ClassifierFreeGuidance.labels(dit, s, dit.nullClass());
            NDArray z = ddpm ? sampler.ddpm(model, xT, cond, noise, false, callback)
                    : sampler.ddim(model, xT, cond, 0, noise, false, callback);
            NDArray img = toUnit(vae.fromDiffusion(z));
            img.attach(m);
            return img;
        }
    }

    /** Decodes a scaled latent (e.g. an intermediate x̂_0 of the sampler) to an image in [0, 1]. */
    public NDArray decode(NDArray scaledLatent) {
        return toUnit(vae.fromDiffusion(scaledLatent));
    }

    // ------------------------------------------------------------------ judging samples with the lesson-01 ViT

    /** ViT features (final-LayerNorm CLS, (N, D)) and predicted classes of images in [0, 1]. */
    public record Judged(double[][] features, int[] predictions) {}

    public static Judged judge(Vit vit, NDManager parent, NDArray images) {
        long n = images.getShape().get(0);
        double[][] f = new double[(int) n][];
        int[] pred = new int[(int) n];
        for (long start = 0; start < n; start += 500) {
            long end = Math.min(n, start + 500);
            try (NDManager sub = parent.newSubManager(); NDScope scope = new NDScope()) {
                NDArray x = images.get("{}:{}", start, end);
                Vit.Output o = vit.forward(x, false);
                long[] p = o.logits().argMax(1).toLongArray();
                float[] feat = o.clsFeature().toFloatArray();
                int d = (int) o.clsFeature().getShape().get(1);
                for (int i = 0; i < end - start; i++) {
                    pred[(int) start + i] = (int) p[i];
                    double[] row = new double[d];
                    for (int j = 0; j < d; j++) row[j] = feat[i * d + j];
                    f[(int) start + i] = row;
                }
            }
        }
        return new Judged(f, pred);
    }

    /** Quality of one guidance scale: class accuracy, Fréchet distance to real images, within-class spread. */
    public record Quality(double guidance, int samples, double accuracy, double frechet, double spread) {}

    /**
     * Samples {@code perClass} images of every class at guidance {@code s} and judges them against the real
     * images' ViT features {@code real} (same classes, any number). {@code spread} = mean within-class feature
     * standard deviation of the samples divided by that of the real images (1 = as diverse as the data).
     */
    public Quality quality(Vit vit, NDManager m, Judged real, int[] realLabels, int perClass, double s, int steps,
                           long seed, int batch) {
        int classes = dit.config.classes();
        int n = perClass * classes;
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) labels[i] = i % classes;
        List<double[]> feats = new ArrayList<>();
        int right = 0;
        for (int start = 0; start < n; start += batch) {
            int[] lab = Arrays.copyOfRange(labels, start, Math.min(n, start + batch));
            try (NDManager sub = m.newSubManager()) {
                NDArray img = sample(sub, lab, s, steps, false, seed + start, null);
                Judged j = judge(vit, sub, img);
                for (int i = 0; i < lab.length; i++) {
                    if (j.predictions()[i] == lab[i]) right++;
                    feats.add(j.features()[i]);
                }
            }
        }
        double[][] f = feats.toArray(new double[0][]);
        double fd = Frechet.distance(real.features(), f);
        double spread = withinClassStd(f, labels, classes) / withinClassStd(real.features(), realLabels, classes);
        return new Quality(s, n, right / (double) n, fd, spread);
    }

    /** Mean over classes of sqrt(mean over dimensions of the within-class variance). */
    public static double withinClassStd(double[][] f, int[] labels, int classes) {
        int d = f[0].length;
        double total = 0;
        int used = 0;
        for (int c = 0; c < classes; c++) {
            double[] mu = new double[d];
            int cnt = 0;
            for (int i = 0; i < f.length; i++) if (labels[i] == c) { cnt++; for (int j = 0; j < d; j++) mu[j] += f[i][j]; }
            if (cnt < 2) continue;
            for (int j = 0; j < d; j++) mu[j] /= cnt;
            double var = 0;
            for (int i = 0; i < f.length; i++) if (labels[i] == c) for (int j = 0; j < d; j++) var += (f[i][j] - mu[j]) * (f[i][j] - mu[j]);
            total += Math.sqrt(var / ((cnt - 1.0) * d));
            used++;
        }
        if (used == 0) throw new IllegalArgumentException("within-class spread needs at least 2 samples of some class");
        return total / used;
    }
}
