package org.lesson8.nn;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.Test;
import org.lesson8.NdTest;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class GumbelSoftmaxTest extends NdTest {
    private static final float[] LOGITS = {1.0f, 0.0f, -1.0f, 2.0f};

    private static double[] softmax(float[] z) {
        double[] p = new double[z.length];
        double s = 0;
        for (int i = 0; i < z.length; i++) s += p[i] = Math.exp(z[i]);
        for (int i = 0; i < z.length; i++) p[i] /= s;
        return p;
    }

    /** n rows of LOGITS, (n, 4). */
    private static NDArray rows(NDManager s, int n) {
        float[] v = new float[n * LOGITS.length];
        for (int i = 0; i < v.length; i++) v[i] = LOGITS[i % LOGITS.length];
        return s.create(v, new Shape(n, LOGITS.length));
    }

    @Test
    void hardSamplesFollowTheSoftmaxAtEveryTemperature() {
        int n = 20_000;
        double[] p = softmax(LOGITS);
        try (NDManager s = m.newSubManager()) {
            for (double tau : new double[] {1.0, 0.25}) {
                float[] y = GumbelSoftmax.sample(rows(s, n), 1, tau, true, new Random(7)).toFloatArray();
                double[] freq = new double[4];
                for (int i = 0; i < n; i++) {
                    int ones = 0;
                    for (int k = 0; k < 4; k++) {
                        if (Math.abs(y[i * 4 + k] - 1) < 1e-6) { freq[k] += 1.0 / n; ones++; }
                        else assertEquals(0, y[i * 4 + k], 1e-6, "a hard sample is one-hot");
                    }
                    assertEquals(1, ones, "exactly one 1 in row " + i);
                }
                // 4 standard errors of a frequency near 0.5 over 20 000 draws ≈ 0.014
                for (int k = 0; k < 4; k++) assertEquals(p[k], freq[k], 0.014, "code " + k + " at τ = " + tau);
            }
        }
    }

    @Test
    void softSamplesLieOnTheSimplexAndSharpenAsTheTemperatureFalls() {
        try (NDManager s = m.newSubManager()) {
            double[] meanMax = new double[2];
            double[] taus = {2.0, 0.1};
            for (int j = 0; j < 2; j++) {
                NDArray y = GumbelSoftmax.sample(rows(s, 2000), 1, taus[j], false, new Random(3));
                float[] sums = y.sum(new int[] {1}).toFloatArray();
                for (float f : sums) assertEquals(1, f, 1e-5);
                meanMax[j] = y.max(new int[] {1}).mean().getFloat();
            }
            assertTrue(meanMax[0] < 0.7 && meanMax[1] > 0.95, "mean largest entry at τ = 2 and 0.1: "
                    + meanMax[0] + ", " + meanMax[1]);
        }
    }

    /** d/d logits of Σ w·y for the hard (straight-through) and the soft sample with the same noise. */
    private static float[] gradient(boolean hard, float[] forward) {
        try (NDManager s = m.newSubManager()) {
            NDArray logits = rows(s, 3);
            logits.setRequiresGradient(true);
            NDArray w = s.create(new float[] {0.3f, -1.2f, 2.0f, 0.7f, 1.1f, 0.4f, -0.5f, 0.9f, 0.2f, 1.5f, -0.8f, 0.6f}, new Shape(3, 4));
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray y = GumbelSoftmax.sample(logits, 1, 0.5, hard, new Random(11));
                System.arraycopy(y.toFloatArray(), 0, forward, 0, forward.length);
                gc.backward(y.mul(w).sum());
            }
            return logits.getGradient().toFloatArray();
        }
    }

    @Test
    void straightThroughIsOneHotForwardWithTheSoftGradient() {
        float[] hardY = new float[12], softY = new float[12];
        float[] hard = gradient(true, hardY);
        float[] soft = gradient(false, softY);
        assertArrayEquals(soft, hard, 1e-6f, "straight-through gradient = gradient of the soft sample");
        double norm = 0;
        for (float g : soft) norm += g * g;
        assertTrue(norm > 1e-4, "the soft gradient is not zero");
        for (int i = 0; i < 3; i++) {
            int best = 0;
            for (int k = 1; k < 4; k++) if (softY[i * 4 + k] > softY[i * 4 + best]) best = k;
            for (int k = 0; k < 4; k++) assertEquals(k == best ? 1 : 0, hardY[i * 4 + k], 1e-6, "row " + i + " is the one-hot of the soft argmax");
        }
    }

    @Test
    void rejectsABadTemperatureOrAxis() {
        try (NDManager s = m.newSubManager()) {
            NDArray z = rows(s, 2);
            assertTrue(assertThrows(IllegalArgumentException.class, () -> GumbelSoftmax.sample(z, 1, 0, false, new Random(1)))
                    .getMessage().contains("temperature"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> GumbelSoftmax.sample(z, 2, 1, false, new Random(1)))
                    .getMessage().contains("axis 2"));
        }
    }
}
