package org.lesson8.eval;

import org.lesson8.course.Interruption;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import org.lesson8.models.Vit;

/**
 * A trained classifier as the judge of generated images (the course's stand-in for the Inception network of FID):
 * its class decision says whether a sample shows the class it was asked for, and its feature space (the final
 * LayerNorm's CLS vector) is where the {@link Frechet} distance and the within-class spread are measured.
 * The lesson-01 ViT judges Fashion-MNIST samples of DiT (03), Image GPT (02) and the text-to-image systems.
 */
public final class ClassJudge {
    /** Features (N, D) and predicted classes of N images. */
    public record Judged(double[][] features, int[] predictions) {
        /** The share of predictions equal to {@code labels}. */
        public double accuracy(int[] labels) {
            if (labels.length != predictions.length) {
                throw new IllegalArgumentException(labels.length + " labels for " + predictions.length + " judged images");
            }
            NonEmpty.require(labels.length, "ClassJudge accuracy", "judge at least one image");
            int right = 0;
            for (int i = 0; i < labels.length; i++) if (predictions[i] == labels[i]) right++;
            return right / (double) labels.length;
        }
    }

    /**
     * The judge's verdict on samples of given classes against real images: class accuracy, Fréchet distance of the
     * two feature sets, and {@code spread} = mean within-class feature standard deviation of the samples divided by
     * that of the real images (1 = as diverse as the data).
     */
    public record Score(int samples, double accuracy, double frechet, double spread) {}

    private final Vit vit;
    private final int chunk;

    /** Judges with {@code vit}, {@code chunk} images at a time. */
    public ClassJudge(Vit vit, int chunk) {
        this.vit = vit;
        this.chunk = chunk;
    }

    public ClassJudge(Vit vit) {
        this(vit, 500);
    }

    /** Features and predictions of images (N, C, H, W) in [0, 1], without gradients. */
    public Judged judge(NDManager parent, NDArray images) {
        long n = images.getShape().get(0);
        NonEmpty.require(n, "ClassJudge.judge", "pass a batch (N, C, H, W) with N ≥ 1");
        double[][] f = new double[(int) n][];
        int[] pred = new int[(int) n];
        for (long start = 0; start < n; start += chunk) {
            Interruption.check("judging", (int) start, (int) n, () -> "no result was returned");
            long end = Math.min(n, start + chunk);
            try (NDManager sub = parent.newSubManager(); NDScope scope = new NDScope()) {
                Vit.Output o = vit.forward(images.get("{}:{}", start, end), false);
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

    /** Scores judged samples of classes {@code labels} against judged real images of classes {@code realLabels}. */
    public static Score score(Judged samples, int[] labels, Judged real, int[] realLabels, int classes) {
        double fd = Frechet.distance(real.features(), samples.features());
        double spread = withinClassStd(samples.features(), labels, classes) / withinClassStd(real.features(), realLabels, classes);
        return new Score(labels.length, samples.accuracy(labels), fd, spread);
    }

    /** Mean over classes of sqrt(mean over dimensions of the within-class variance); classes with &lt; 2 rows are skipped. */
    public static double withinClassStd(double[][] f, int[] labels, int classes) {
        NonEmpty.require(f.length, "within-class spread", "pass at least 2 feature vectors of one class");
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
