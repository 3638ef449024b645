package org.lesson8.lessons;

import org.lesson8.course.Interruption;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import org.lesson8.data.Batches;
import org.lesson8.data.FashionMnist;
import org.lesson8.diffusion.GaussianDiffusion;
import org.lesson8.diffusion.NoiseSource;
import org.lesson8.eval.ClassJudge;
import org.lesson8.models.Dit;
import org.lesson8.models.LatentDiffusion;
import org.lesson8.models.Vae;
import org.lesson8.train.Ema;
import org.lesson8.train.MetricsLog;
import org.lesson8.train.Recipe;
import org.lesson8.train.TrainLoop;

import java.util.Arrays;
import java.util.Random;
import java.util.function.IntConsumer;

/**
 * Notebook 03 (DiT): the two training stages of latent diffusion on Fashion-MNIST (the {@link Vae}, then the
 * {@link Dit} on its scaled latents), the latents they share, and the guidance sweep judged by the lesson-01 ViT.
 */
public final class DitLesson {
    private DitLesson() {}

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

    // ------------------------------------------------------------------ stage 1: the VAE

    public static TrainLoop trainVae(Vae vae, FashionMnist.Split train, Recipe r, int steps, double seconds, long seed,
                                     MetricsLog log, IntConsumer onStep) {
        Random rng = new Random(seed);
        NoiseSource noise = NoiseSource.seeded(new Random(seed + 1));
        TrainLoop loop = r.loop(vae, steps, log);
        Batches.Shuffled batches = new Batches.Shuffled(train.size, rng);
        loop.runFor(seconds, steps, (sub, step, metrics) -> {
            int[] idx = batches.next(r.batch());
            Vae.Losses l = vae.losses(LatentDiffusion.toSigned(train.images(sub, idx)), noise);
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
        return encode(vae, parent, s, limit, false);
    }

    /**
     * As {@link #encode(Vae, NDManager, FashionMnist.Split, int)}, with each image turned upside down first when
     * {@code upsideDown} (rows in reverse order): the data of notebook 03's live fine-tuning, a new distribution that the
     * shipped DiT has never seen and that shows in every sample.
     */
    public static Latents encode(Vae vae, NDManager parent, FashionMnist.Split s, int limit, boolean upsideDown) {
        int n = Math.min(limit, s.size);
        Shape one = vae.latentShape(1);
        int k = (int) one.size();
        float[] mean = new float[n * k];
        float[] logVar = new float[n * k];
        int[] labels = new int[n];
        for (int[] idx : Batches.sequential(n, 500)) {
            Interruption.check("encoding", idx[0], n, () -> "no result was returned");
            try (NDManager sub = parent.newSubManager(); NDScope scope = new NDScope()) {
                NDArray images = s.images(sub, idx);
                Vae.Posterior q = vae.encode(LatentDiffusion.toSigned(upsideDown ? images.flip(2) : images));
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
    public static TrainLoop trainDit(LatentDiffusion ld, Latents lat, Recipe r, int steps, double seconds, long seed, MetricsLog log, Ema ema,
                              IntConsumer onStep) {
        Random rng = new Random(seed);
        Random drop = new Random(seed + 1);
        Random tRng = new Random(seed + 2);
        NoiseSource noise = NoiseSource.seeded(new Random(seed + 3));
        Dit dit = ld.dit;
        GaussianDiffusion diffusion = ld.diffusion;
        float scale = ld.vae.scale();
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

    /**
     * The ε-MSE of the DiT on a fixed batch: the first {@code count} latents' means (scaled), timesteps and noise drawn
     * from {@code seed}, the true labels. The same batch before and after some training steps measures what they taught,
     * free of the noise of the per-step training loss.
     */
    public static double fixedBatchMse(LatentDiffusion ld, NDManager parent, Latents lat, int count, long seed) {
        int n = Math.min(count, lat.size());
        int[] idx = new int[n];
        for (int i = 0; i < n; i++) idx[i] = i;
        return TrainLoop.noGrad(m -> {
            NDArray x0 = lat.sample(m, idx, ld.vae.scale(), new Random(seed));
            NDArray t = ld.diffusion.sampleTimesteps(m, n, new Random(seed + 1));
            NDArray noise = NoiseSource.seeded(new Random(seed + 2)).sample(m, x0.getShape());
            GaussianDiffusion.Losses l = ld.diffusion.trainingLosses(ld.dit, x0, t, lat.labels(m, idx), noise);
            return (double) l.mse().mean().getFloat();
        }, parent);
    }

    // ------------------------------------------------------------------ judging samples with the lesson-01 ViT

    /** The judge's score of one guidance scale (see {@link ClassJudge.Score}). */
    public record Quality(double guidance, int samples, double accuracy, double frechet, double spread) {}

    /**
     * Samples {@code perClass} images of every class at guidance {@code s} (DDIM, {@code steps} steps, {@code batch}
     * images at a time) and scores them against the judged real images {@code real} of classes {@code realLabels}.
     */
    public static Quality quality(LatentDiffusion ld, ClassJudge judge, NDManager m, ClassJudge.Judged real, int[] realLabels,
                                  int perClass, double s, int steps, long seed, int batch) {
        int classes = ld.dit.config.classes();
        int n = perClass * classes;
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) labels[i] = i % classes;
        double[][] features = new double[n][];
        int[] predictions = new int[n];
        for (int start = 0; start < n; start += batch) {
            Interruption.check("judging", start, n, () -> "no result was returned");
            int[] lab = Arrays.copyOfRange(labels, start, Math.min(n, start + batch));
            try (NDManager sub = m.newSubManager()) {
                ClassJudge.Judged j = judge.judge(sub, ld.sample(sub, lab, s, steps, false, seed + start, null));
                System.arraycopy(j.features(), 0, features, start, lab.length);
                System.arraycopy(j.predictions(), 0, predictions, start, lab.length);
            }
        }
        ClassJudge.Score q = ClassJudge.score(new ClassJudge.Judged(features, predictions), labels, real, realLabels, classes);
        return new Quality(s, q.samples(), q.accuracy(), q.frechet(), q.spread());
    }
}
