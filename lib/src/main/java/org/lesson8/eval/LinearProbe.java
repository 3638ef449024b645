package org.lesson8.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.lesson8.nn.Linear;
import org.lesson8.nn.Losses;
import org.lesson8.nn.Losses;
import org.lesson8.train.MetricsLog;
import org.lesson8.train.Recipe;
import org.lesson8.models.Vit;
import org.lesson8.train.TrainLoop;

import java.util.Random;

/**
 * A linear probe (Chen et al. 2020, Sec. 3.4): multinomial logistic regression trained on frozen
 * features. The features are standardised with the training set's mean and standard deviation, then
 * one {@link Linear} layer is trained with AdamW and cross-entropy; nothing else is learned.
 */
public final class LinearProbe {
    private LinearProbe() {}

    /** AdamW from 1e-2 without warm-up, cosine decay to 1e-4, light weight decay, no clipping, batches of up to 512. */
    static final Recipe RECIPE = new Recipe(512, 1e-2f, 1e-4f, 0, 0f);

    /** Train and test accuracy, and the training curve. */
    public record Result(double trainAccuracy, double testAccuracy, int features, MetricsLog log) {}

    public static Result fit(NDManager parent, float[][] trainX, int[] trainY, float[][] testX, int[] testY, int classes,
                             int steps, long seed) {
        NonEmpty.require(trainX.length, "LinearProbe.fit (training features)", "pass at least one training row");
        NonEmpty.require(testX.length, "LinearProbe.fit (test features)", "pass at least one test row");
        if (trainY.length != trainX.length || testY.length != testX.length) {
            throw new IllegalArgumentException("LinearProbe.fit: " + trainX.length + " training rows with " + trainY.length + " labels, "
                    + testX.length + " test rows with " + testY.length + " labels: give one label per row");
        }
        int d = trainX[0].length;
        double[] mean = new double[d], std = new double[d];
        for (float[] r : trainX) for (int j = 0; j < d; j++) mean[j] += r[j];
        for (int j = 0; j < d; j++) mean[j] /= trainX.length;
        for (float[] r : trainX) for (int j = 0; j < d; j++) std[j] += (r[j] - mean[j]) * (r[j] - mean[j]);
        for (int j = 0; j < d; j++) std[j] = Math.sqrt(std[j] / trainX.length) + 1e-6;
        try (NDManager m = parent.newSubManager()) {
            float[] flat = flatStandardised(trainX, mean, std);
            NDArray xTrain = m.create(flat, new Shape(trainX.length, d));
            NDArray xTest = standardise(m, testX, mean, std);
            NDArray yTrain = m.create(trainY);
            NDArray yTest = m.create(testY);
            Random rng = new Random(seed);
            Linear probe = new Linear(m, rng, d, classes).zeroInit();   // logistic regression starts at 0
            MetricsLog log = new MetricsLog();
            TrainLoop loop = RECIPE.loop(probe, steps, log);
            int batch = Math.min(RECIPE.batch(), trainX.length);
            float[] bx = new float[batch * d];
            int[] by = new int[batch];
            loop.run(steps, (sub, step, metrics) -> {
                for (int i = 0; i < batch; i++) {
                    int k = rng.nextInt(trainX.length);
                    System.arraycopy(flat, k * d, bx, i * d, d);
                    by[i] = trainY[k];
                }
                NDArray logits = probe.forward(sub.create(bx, new Shape(batch, d)));
                return Losses.crossEntropy(logits, sub.create(by));
            }, null);
            double trainAcc = TrainLoop.noGrad(s -> accuracy(probe, xTrain, yTrain), m);
            double testAcc = TrainLoop.noGrad(s -> accuracy(probe, xTest, yTest), m);
            return new Result(trainAcc, testAcc, d, log);
        }
    }

    private static double accuracy(Linear probe, NDArray x, NDArray y) {
        return (double) Vit.correct(probe.forward(x), y) / y.getShape().get(0);
    }

    private static NDArray standardise(NDManager m, float[][] x, double[] mean, double[] std) {
        return m.create(flatStandardised(x, mean, std), new Shape(x.length, mean.length));
    }

    private static float[] flatStandardised(float[][] x, double[] mean, double[] std) {
        int d = mean.length;
        float[] v = new float[x.length * d];
        for (int i = 0; i < x.length; i++) {
            if (x[i].length != d) throw new IllegalArgumentException("row " + i + " has " + x[i].length + " features, expected " + d);
            for (int j = 0; j < d; j++) v[i * d + j] = (float) ((x[i][j] - mean[j]) / std[j]);
        }
        return v;
    }
}
