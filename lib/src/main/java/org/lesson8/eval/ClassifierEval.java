package org.lesson8.eval;

import org.lesson8.course.Interruption;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import org.lesson8.data.Batches;
import org.lesson8.data.FashionMnist;
import org.lesson8.models.Classifier;

/** Accuracy and confusion matrix of a {@link Classifier} on Fashion-MNIST images (ViT, CNN, CLIP zero-shot). */
public final class ClassifierEval {
    private ClassifierEval() {}

    /** Accuracy, confusion matrix [true][predicted] and the prediction for each evaluated image. */
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

    /** Evaluates the first {@code limit} images of a split, 500 at a time, without gradients. */
    public static Evaluation evaluate(Classifier model, NDManager parent, FashionMnist.Split s, int limit) {
        int n = Math.min(limit, s.size);
        NonEmpty.require(n, "ClassifierEval.evaluate on the " + s.name + " split (" + s.size + " images, limit " + limit + ")",
                "pass a limit of at least 1 and a split with images");
        int[][] conf = new int[FashionMnist.CLASSES.size()][FashionMnist.CLASSES.size()];
        int[] pred = new int[n];
        int right = 0;
        for (int[] idx : Batches.sequential(n, 500)) {
            Interruption.check("evaluation", idx[0], n, () -> "no result was returned");
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
}
