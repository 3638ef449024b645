package org.lesson8.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;
import org.lesson8.NdTest;

import static org.junit.jupiter.api.Assertions.*;

class LossesTest extends NdTest {
    private static double logSumExp(double... v) {
        double mx = Double.NEGATIVE_INFINITY, s = 0;
        for (double x : v) mx = Math.max(mx, x);
        for (double x : v) s += Math.exp(x - mx);
        return mx + Math.log(s);
    }

    @Test
    void crossEntropyAgainstHandComputedValues() {
        NDArray logits = m.create(new float[] {1, 2, 3, -1, 0.5f, 2}, new Shape(2, 3));
        NDArray labels = m.create(new long[] {2, 0});
        double z0 = logSumExp(1, 2, 3), z1 = logSumExp(-1, 0.5, 2);
        double ce = ((z0 - 3) + (z1 + 1)) / 2;
        assertEquals(ce, Losses.crossEntropy(logits, labels).getFloat(), 1e-6);
        // smoothing ε: (1 − ε)·CE + ε·mean_k(−log p_k)
        double uniform = ((z0 - 2) + (z1 - 0.5)) / 2;         // mean_k(−log p_k) = logsumexp − mean of the logits
        assertEquals(0.9 * ce + 0.1 * uniform, Losses.crossEntropy(logits, labels, 0.1f).getFloat(), 1e-6);
        assertEquals(Losses.crossEntropy(logits, labels).getFloat(), Losses.crossEntropy(logits, labels, 0f).getFloat(), 0f);
    }

    @Test
    void badSmoothingOrShapesGiveClearErrors() {
        NDArray logits = m.zeros(new Shape(2, 3));
        assertThrows(IllegalArgumentException.class, () -> Losses.crossEntropy(logits, m.create(new long[] {0, 1}), 1f));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Losses.crossEntropy(logits, m.create(new long[] {0, 1, 2})));
        assertTrue(e.getMessage().contains("labels (batch)"), e.getMessage());
    }
}
