package org.lesson8.nn;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.Test;
import org.lesson8.NdTest;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** Token and timestep embeddings, adaLN modulation. */
class EmbeddingTest extends NdTest {
    /** A model that keeps a token table under a key of its choice. */
    static final class Holder extends Module {
        final TokenEmbedding wte;

        Holder(NDManager m) {
            super(m);
            wte = child("wte", new TokenEmbedding(m, new Random(1), 5, 3));
        }
    }

    @Test
    void lookupEqualsOneHotTimesTableAndSoDoesItsGradient() {
        TokenEmbedding e = new TokenEmbedding(m, new Random(2), 6, 4);
        TokenEmbedding same = new TokenEmbedding(m, new Random(2), 6, 4);
        NDArray ids = m.create(new long[] {0, 3, 3, 5, 1, 3}, new Shape(2, 3));       // id 3 three times
        NDArray up = m.randomNormal(new Shape(2, 3, 4));
        NDArray viaOneHot;
        NDArray out;
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            viaOneHot = ids.oneHot(6).toType(DataType.FLOAT32, false).matMul(same.table);
            gc.backward(viaOneHot.mul(up).sum());
        }
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            out = e.forward(ids);
            gc.backward(out.mul(up).sum());
        }
        assertEquals(new Shape(2, 3, 4), out.getShape());
        assertArrayEquals(viaOneHot.toFloatArray(), out.toFloatArray(), 0f);
        assertArrayEquals(same.table.getGradient().toFloatArray(), e.table.getGradient().toFloatArray(), 1e-5f);
        // row 2 is never looked up: no gradient; row 3 sums three positions
        assertEquals(0f, e.table.getGradient().get(2).abs().sum().getFloat(), 0f);
    }

    @Test
    void resultBelongsToTheIdsManagerNotTheModels() {
        TokenEmbedding e = new TokenEmbedding(m, new Random(3), 4, 2);
        try (NDManager step = m.newSubManager()) {
            NDArray out = e.forward(step.create(new long[] {1, 2}));
            assertSame(step, out.getManager());
        }
    }

    @Test
    void theTableIsStoredUnderItsParentsName() {
        Holder h = new Holder(m);
        assertEquals(java.util.List.of("wte"), java.util.List.copyOf(h.parameters().keySet()));
        assertEquals(15, h.parameterCount());
    }

    @Test
    void outOfRangeIdsAndNonIntegersGiveClearErrors() {
        TokenEmbedding e = new TokenEmbedding(m, new Random(4), 4, 2);
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> e.forward(m.create(new long[] {0, 4})));
        assertTrue(ex.getMessage().contains("token id 4 is out of range") && ex.getMessage().contains("0..3"), ex.getMessage());
        ex = assertThrows(IllegalArgumentException.class, () -> e.forward(m.create(new float[] {1f})));
        assertTrue(ex.getMessage().contains("int64"), ex.getMessage());
    }

    @Test
    void timestepSinusoidIsCosThenSin() {
        NDArray e = TimestepEmbedding.sinusoid(m.create(new long[] {0, 7}), 8);
        float[] v = e.toFloatArray();
        // t = 0: cos = 1, sin = 0
        assertArrayEquals(new float[] {1, 1, 1, 1, 0, 0, 0, 0}, Arrays.copyOf(v, 8), 0f);
        // t = 7, k = 1: ω = 10000^(−1/4) = 0.1
        assertEquals(Math.cos(0.7), v[8 + 1], 1e-6);
        assertEquals(Math.sin(0.7), v[8 + 4 + 1], 1e-6);
    }

    @Test
    void timestepEmbeddingShapeNamesAndCount() {
        TimestepEmbedding te = new TimestepEmbedding(m, new Random(5), 16);
        assertEquals(new Shape(3, 16), te.forward(m.create(new long[] {0, 10, 999})).getShape());
        assertEquals(java.util.List.of("mlp.0.weight", "mlp.0.bias", "mlp.2.weight", "mlp.2.bias"), java.util.List.copyOf(te.parameters().keySet()));
        assertEquals(te.parameterCount(), TimestepEmbedding.parameterCount(16));
    }

    @Test
    void adaLnStartsAtZeroAndModulates() {
        AdaLnModulation ada = new AdaLnModulation(m, new Random(6), 4, 3);
        NDArray c = m.randomNormal(new Shape(2, 4));
        NDArray[] mod = ada.forward(c);
        assertEquals(3, mod.length);
        for (NDArray a : mod) {
            assertEquals(new Shape(2, 4), a.getShape());
            assertEquals(0f, a.abs().max().getFloat(), 0f);
        }
        assertEquals(java.util.List.of("1.weight", "1.bias"), java.util.List.copyOf(ada.parameters().keySet()));
        // chunks in order: bias 0..3 → chunk 0, 4..7 → chunk 1, 8..11 → chunk 2
        ada.linear.bias.set(m.arange(12).toType(DataType.FLOAT32, false).toFloatArray());
        assertArrayEquals(new float[] {8, 9, 10, 11}, ada.forward(c)[2].get(1).toFloatArray(), 0f);
        // x·(1 + scale) + shift per example, the same for every token
        NDArray x = m.create(new float[] {1, 2, 3, 4}, new Shape(2, 2, 1));
        NDArray y = AdaLnModulation.modulate(x, m.create(new float[] {10, 20}, new Shape(2, 1)), m.create(new float[] {1, -1}, new Shape(2, 1)));
        assertArrayEquals(new float[] {12, 14, 20, 20}, y.toFloatArray(), 0f);
        NDArray r = AdaLnModulation.gatedResidual(x, m.create(new float[] {0, 2}, new Shape(2, 1)), x);
        assertArrayEquals(new float[] {1, 2, 9, 12}, r.toFloatArray(), 0f);
    }
}
