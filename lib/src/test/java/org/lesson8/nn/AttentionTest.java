package org.lesson8.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;
import org.lesson8.NdTest;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class AttentionTest extends NdTest {
    @Test
    void shapesAndWeightsSumToOne() {
        MultiHeadAttention a = new MultiHeadAttention(m, new Random(1), 16, 4);
        NDArray x = m.randomNormal(new Shape(2, 5, 16));
        MultiHeadAttention.Result r = a.forward(x, false, true, null);
        assertEquals(new Shape(2, 5, 16), r.out().getShape());
        assertEquals(new Shape(2, 4, 5, 5), r.weights().getShape());
        float[] sums = r.weights().sum(new int[] {-1}).toFloatArray();
        for (float s : sums) assertEquals(1f, s, 1e-5f);
    }

    @Test
    void causalMaskHidesTheFuture() {
        MultiHeadAttention a = new MultiHeadAttention(m, new Random(2), 8, 2);
        NDArray x = m.randomNormal(new Shape(1, 6, 8));
        NDArray y1 = a.forward(x, true, false, null).out();
        // change the last two tokens: outputs at positions 0..3 must not move
        NDArray x2 = x.duplicate();
        x2.set(new ai.djl.ndarray.index.NDIndex(":, 4:, :"), m.randomNormal(new Shape(1, 2, 8)));
        NDArray y2 = a.forward(x2, true, false, null).out();
        assertTrue(y1.get(":, :4, :").allClose(y2.get(":, :4, :"), 1e-6, 1e-6, false));
        assertFalse(y1.get(":, 4:, :").allClose(y2.get(":, 4:, :"), 1e-3, 1e-3, false));
        // weights above the diagonal are exactly zero
        float[] w = a.forward(x, true, true, null).weights().toFloatArray();
        for (int h = 0; h < 2; h++)
            for (int i = 0; i < 6; i++)
                for (int j = i + 1; j < 6; j++) assertEquals(0f, w[h * 36 + i * 6 + j], 0f);
    }

    @Test
    void withoutMaskEveryTokenSeesEveryOther() {
        MultiHeadAttention a = new MultiHeadAttention(m, new Random(3), 8, 2);
        NDArray x = m.randomNormal(new Shape(1, 4, 8));
        NDArray y1 = a.forward(x).out();
        NDArray x2 = x.duplicate();
        x2.set(new ai.djl.ndarray.index.NDIndex(":, 3:, :"), m.randomNormal(new Shape(1, 1, 8)));
        NDArray y2 = a.forward(x2).out();
        assertFalse(y1.get(":, 0, :").allClose(y2.get(":, 0, :"), 1e-4, 1e-4, false));
    }

    @Test
    void kvCacheGivesTheSameOutputsAsTheFullCausalPass() {
        MultiHeadAttention a = new MultiHeadAttention(m, new Random(5), 8, 2);
        NDArray x = m.randomNormal(new Shape(2, 5, 8));
        NDArray full = a.forward(x, true, false, null).out();
        MultiHeadAttention.KVCache cache = new MultiHeadAttention.KVCache();
        for (int t = 0; t < 5; t++) {
            NDArray step = a.forward(x.get(":, " + t + ":" + (t + 1) + ", :"), true, false, cache).out();
            assertTrue(step.allClose(full.get(":, " + t + ":" + (t + 1) + ", :"), 1e-5, 1e-5, false), "position " + t);
        }
        assertEquals(5, cache.length());
    }

    @Test
    void wrongWidthIsAClearError() {
        MultiHeadAttention a = new MultiHeadAttention(m, new Random(6), 8, 2);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> a.forward(m.zeros(new Shape(1, 3, 5))));
        assertTrue(e.getMessage().contains("(batch, tokens, 8)"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new MultiHeadAttention(m, new Random(6), 10, 3));
    }

    @Test
    void preLnBlockAndMlpKeepShape() {
        TransformerBlock b = new TransformerBlock(m, new Random(7), 16, 4, 64);
        NDArray x = m.randomNormal(new Shape(2, 9, 16));
        assertEquals(x.getShape(), b.forward(x, false, false).out().getShape());
        // parameters: 2 LN (2·16 each) + q,kv,proj (16·16+16 + 16·32+32 + 16·16+16) + MLP (16·64+64 + 64·16+16)
        long expected = 4 * 16 + (16 * 16 + 16) + (16 * 32 + 32) + (16 * 16 + 16) + (16 * 64 + 64) + (64 * 16 + 16);
        assertEquals(expected, b.parameterCount());
    }

    @Test
    void layerNormNormalisesTheLastAxisOnly() {
        LayerNorm ln = new LayerNorm(m, 6);
        NDArray x = m.randomNormal(new Shape(2, 3, 6)).mul(5).add(3);
        NDArray y = ln.forward(x);
        float[] mean = y.mean(new int[] {2}).toFloatArray();
        for (float v : mean) assertEquals(0f, v, 1e-5f);
        float[] var = y.sub(y.mean(new int[] {2}, true)).square().mean(new int[] {2}).toFloatArray();
        for (float v : var) assertEquals(1f, v, 1e-3f);
    }

    @Test
    void patchEmbeddingShapesAndErrors() {
        PatchEmbedding pe = new PatchEmbedding(m, new Random(8), 28, 4, 1, 32);
        assertEquals(49, pe.numPatches());
        assertEquals(new Shape(2, 49, 32), pe.forward(m.zeros(new Shape(2, 1, 28, 28))).getShape());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> pe.forward(m.zeros(new Shape(2, 1, 32, 32))));
        assertTrue(e.getMessage().contains("28×28"), e.getMessage());
        IllegalArgumentException e2 = assertThrows(IllegalArgumentException.class, () -> new PatchEmbedding(m, new Random(8), 28, 5, 1, 32));
        assertTrue(e2.getMessage().contains("not divisible"), e2.getMessage());
    }

    @Test
    void patchEmbeddingMatchesAManualPatchProjection() {
        PatchEmbedding pe = new PatchEmbedding(m, new Random(9), 4, 2, 1, 3);
        float[] img = new float[16];
        for (int i = 0; i < 16; i++) img[i] = i;
        NDArray out = pe.forward(m.create(img, new Shape(1, 1, 4, 4)));
        float[] w = pe.weight.toFloatArray(); // (3, 1, 2, 2)
        // patch 1 (top right) holds pixels 2, 3, 6, 7
        float[] patch = {2, 3, 6, 7};
        for (int d = 0; d < 3; d++) {
            float s = 0;
            for (int k = 0; k < 4; k++) s += w[d * 4 + k] * patch[k];
            assertEquals(s, out.getFloat(0, 1, d), 1e-4f);
        }
    }

    @Test
    void sinCos2dMatchesTheFormula() {
        float[][] e = PositionEmbeddings.sinCos2d(8, 3);
        assertEquals(9, e.length);
        // patch 5 = row 1, col 2; first half encodes the column, second half the row
        int half = 2; // dim/2 = 4 per axis, 2 frequencies
        for (int k = 0; k < half; k++) {
            double w = 1.0 / Math.pow(10000, k / (double) half);
            assertEquals(Math.sin(2 * w), e[5][k], 1e-6);
            assertEquals(Math.cos(2 * w), e[5][k + half], 1e-6);
            assertEquals(Math.sin(1 * w), e[5][4 + k], 1e-6);
            assertEquals(Math.cos(1 * w), e[5][4 + k + half], 1e-6);
        }
    }
}
