package org.lesson8.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import org.lesson8.data.Batches;
import org.lesson8.data.FashionMnist;
import org.lesson8.nn.Losses;
import org.lesson8.nn.Module;
import org.lesson8.train.MetricsLog;
import org.lesson8.train.Optim;
import org.lesson8.train.TrainLoop;

import java.util.List;
import java.util.Random;
import java.util.function.IntConsumer;

/** Supervised training and evaluation of a {@link Classifier} on Fashion-MNIST (ViT, the CNN baseline, …). */
public final class FashionTraining {
    private FashionTraining() {}

    /**
     * Hyper-parameters of one run. {@code augment}: random shift by up to 2 px; {@code flip}: also random horizontal
     * flips (off for Fashion-MNIST's shoes, which all face the same way); {@code labelSmoothing}: ε of the smoothed
     * cross-entropy (Szegedy et al. 2016), as in the ViT/DeiT training recipes.
     */
    public record Recipe(int batch, float lr, float weightDecay, int warmup, float clip, boolean augment, boolean flip,
                         float labelSmoothing) {
        public static Recipe vit() {
            return new Recipe(128, 2e-3f, 0.05f, 200, 1f, true, false, 0.1f);
        }

        /**
         * A second cosine cycle from a trained checkpoint (a warm restart, Loshchilov &amp; Hutter 2017): same data
         * augmentation and regularisation, half the peak learning rate.
         */
        public static Recipe vitMore() {
            return new Recipe(128, 1e-3f, 0.05f, 200, 1f, true, false, 0.1f);
        }

        /**
         * A last, short cycle from a trained checkpoint without the random shifts and at a low peak learning rate:
         * the augmented model under-fits (train accuracy under augmentation ≈ test accuracy), so the final steps fit
         * the unshifted images the test set looks like.
         */
        public static Recipe vitPolish() {
            return new Recipe(128, 3e-4f, 0.05f, 200, 1f, false, false, 0.1f);
        }

        /** For live runs of a few epochs: no augmentation (it pays off only over many epochs). */
        public static Recipe vitShort() {
            return new Recipe(128, 2e-3f, 0.05f, 200, 1f, false, false, 0.1f);
        }

        public static Recipe cnn() {
            return new Recipe(128, 2e-3f, 0.01f, 100, 1f, true, false, 0f);
        }
    }

    /** A training batch (B, 1, 28, 28); augmentation = random shift by up to 2 px (zero padding), optionally a horizontal flip. */
    public static NDArray batchImages(NDManager m, FashionMnist.Split s, int[] idx, boolean augment, Random rng) {
        return batchImages(m, s, idx, augment, augment, rng);
    }

    public static NDArray batchImages(NDManager m, FashionMnist.Split s, int[] idx, boolean augment, boolean flipToo,
                                      Random rng) {
        int n = FashionMnist.SIZE;
        float[] v = new float[idx.length * FashionMnist.PIXELS];
        for (int j = 0; j < idx.length; j++) {
            int base = idx[j] * FashionMnist.PIXELS;
            int dx = augment ? rng.nextInt(5) - 2 : 0;
            int dy = augment ? rng.nextInt(5) - 2 : 0;
            boolean flip = augment && flipToo && rng.nextBoolean();
            for (int y = 0; y < n; y++) {
                int sy = y + dy;
                if (sy < 0 || sy >= n) continue;
                for (int x = 0; x < n; x++) {
                    int sx = (flip ? n - 1 - x : x) + dx;
                    if (sx < 0 || sx >= n) continue;
                    v[j * FashionMnist.PIXELS + y * n + x] = (s.images[base + sy * n + sx] & 0xff) / 255f;
                }
            }
        }
        return m.create(v, new Shape(idx.length, 1, n, n));
    }

    /**
     * Trains for {@code epochsOrSteps}: steps = the given number; stops early when {@code seconds} pass.
     * @return the training loop (its log has loss and batch accuracy per step)
     */
    public static TrainLoop train(Module model, FashionMnist.Split train, Recipe r, int steps, double seconds,
                                  long seed, MetricsLog log, IntConsumer onStep) {
        Classifier clf = (Classifier) model;
        Random rng = new Random(seed);
        Optim opt = new Optim(model, r.lr(), r.weightDecay(), Math.min(r.warmup(), steps / 10), steps, r.clip());
        TrainLoop loop = new TrainLoop(model, opt, log);
        Batches.Shuffled batches = new Batches.Shuffled(train.size, rng);
        loop.runFor(seconds, steps, (sub, step, metrics) -> {
            int[] idx = batches.next(r.batch());
            NDArray x = batchImages(sub, train, idx, r.augment(), r.flip(), rng);
            NDArray y = train.labels(sub, idx);
            NDArray logits = clf.logits(x);
            metrics.put("train_acc", Vit.correct(logits, y) / (double) idx.length);
            return Losses.crossEntropy(logits, y, r.labelSmoothing());
        }, onStep);
        return loop;
    }

    /** Result of an evaluation: accuracy, confusion matrix [true][predicted], predictions. */
    public record Evaluation(double accuracy, int[][] confusion, int[] predictions) {
        public double[] perClassAccuracy() {
            double[] a = new double[confusion.length];
            for (int c = 0; c < a.length; c++) {
                int tot = 0;
                for (int v : confusion[c]) tot += v;
                a[c] = tot == 0 ? Double.NaN : confusion[c][c] / (double) tot;
            }
            return a;
        }
    }

    public static Evaluation evaluate(Classifier model, NDManager parent, FashionMnist.Split s, int limit) {
        int n = Math.min(limit, s.size);
        int[][] conf = new int[10][10];
        int[] pred = new int[n];
        int right = 0;
        for (int[] idx : Batches.sequential(n, 500)) {
            try (NDManager sub = parent.newSubManager(); NDScope scope = new NDScope()) {
                NDArray logits = model.logits(s.images(sub, idx));
                long[] p = logits.argMax(1).toLongArray();
                for (int j = 0; j < idx.length; j++) {
                    int t = s.label(idx[j]);
                    pred[idx[j]] = (int) p[j];
                    conf[t][(int) p[j]]++;
                    if (p[j] == t) right++;
                }
            }
        }
        return new Evaluation(right / (double) n, conf, pred);
    }

    public static List<String> classes() {
        return FashionMnist.CLASSES;
    }
}
