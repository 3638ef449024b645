package org.lesson8.nn;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.Test;
import org.lesson8.NdTest;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class CrossAttentionTest extends NdTest {
    /** A cross-attention with the self-attention's projections (context keys/values from the self-attention's kv). */
    static CrossAttention copyOf(MultiHeadAttention self, boolean withSelf) {
        CrossAttention c = new CrossAttention(m, new Random(99), self.dim, self.heads, self.dim, withSelf);
        for (Linear[] pair : new Linear[][] {{c.q, self.q}, {c.contextKv, self.kv}, {c.proj, self.proj}, {c.kv, self.kv}}) {
            if (pair[0] == null) continue;
            pair[0].weight.set(pair[1].weight.toFloatArray());
            pair[0].bias.set(pair[1].bias.toFloatArray());
        }
        return c;
    }

    @Test
    void crossAttentionTakesKeysFromAnotherSequence() {
        CrossAttention a = new CrossAttention(m, new Random(4), 8, 2, 12, false);
        NDArray x = m.randomNormal(new Shape(3, 4, 8));
        NDArray c = m.randomNormal(new Shape(3, 7, 12));
        MultiHeadAttention.Result r = a.forward(x, c, null, true);
        assertEquals(new Shape(3, 4, 8), r.out().getShape());
        assertEquals(new Shape(3, 2, 4, 7), r.weights().getShape());
        for (float s : r.weights().sum(new int[] {-1}).toFloatArray()) assertEquals(1f, s, 1e-5f);
    }

    @Test
    void withTheSequenceItselfAsContextItIsSelfAttention() {
        MultiHeadAttention self = new MultiHeadAttention(m, new Random(1), 8, 2);
        NDArray x = m.randomNormal(new Shape(2, 5, 8));
        MultiHeadAttention.Result expected = self.forward(x, false, true, null);
        MultiHeadAttention.Result cross = copyOf(self, false).forward(x, x, null, true);
        assertTrue(cross.out().allClose(expected.out(), 1e-5, 1e-5, false));
        assertTrue(cross.weights().allClose(expected.weights(), 1e-6, 1e-6, false));
        // GLIDE's form attends to [x ; x]: every key twice, so every weight halves and the output stays the same
        MultiHeadAttention.Result both = copyOf(self, true).forward(x, x, null, true);
        assertEquals(new Shape(2, 2, 5, 10), both.weights().getShape());
        assertTrue(both.out().allClose(expected.out(), 1e-5, 1e-5, false));
        assertTrue(both.weights().get(":, :, :, :5").allClose(expected.weights().div(2), 1e-6, 1e-6, false));
    }

    @Test
    void paddedContextTokensAreNeverAttendedTo() {
        for (boolean withSelf : new boolean[] {false, true}) {
            CrossAttention a = new CrossAttention(m, new Random(2), 8, 2, 6, withSelf);
            NDArray x = m.randomNormal(new Shape(2, 3, 8));
            NDArray c = m.randomNormal(new Shape(2, 5, 6));
            NDArray mask = m.create(new long[] {1, 1, 1, 0, 0, 1, 1, 1, 1, 1}, new Shape(2, 5));   // example 0: 2 pads
            MultiHeadAttention.Result r = a.forward(x, c, mask, true);
            assertEquals(0f, r.weights().get("0, :, :, 3:5").abs().max().getFloat(), 0f);
            assertTrue(r.weights().get("1, :, :, 3:5").min().getFloat() > 0);
            // changing the padding changes nothing for example 0, and example 1 (no padding) does see it
            NDArray c2 = c.duplicate();
            c2.set(new NDIndex(":, 3:, :"), m.randomNormal(new Shape(2, 2, 6)));
            NDArray out2 = a.forward(x, c2, mask, false).out();
            assertTrue(out2.get(0).allClose(r.out().get(0), 1e-6, 1e-6, false), "withSelf " + withSelf);
            assertFalse(out2.get(1).allClose(r.out().get(1), 1e-4, 1e-4, false), "withSelf " + withSelf);
        }
    }

    @Test
    void gradientFlowsToTheContextButNotToItsPadding() {
        CrossAttention a = new CrossAttention(m, new Random(3), 8, 2, 6, false);
        NDArray x = m.randomNormal(new Shape(1, 3, 8));
        NDArray c = m.randomNormal(new Shape(1, 4, 6));
        c.setRequiresGradient(true);
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            gc.backward(a.forward(x, c, m.create(new long[] {1, 1, 1, 0}, new Shape(1, 4)), false).out().sum());
        }
        NDArray g = c.getGradient();
        assertTrue(g.get(":, :3, :").abs().min().getFloat() > 0, "every real context token gets a gradient");
        assertEquals(0f, g.get(":, 3, :").abs().max().getFloat(), 0f);
    }

    @Test
    void wrongContextOrMaskIsAClearError() {
        CrossAttention a = new CrossAttention(m, new Random(5), 8, 2, 6, false);
        NDArray x = m.zeros(new Shape(2, 3, 8));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> a.forward(x, m.zeros(new Shape(2, 4, 8)), null, false));
        assertTrue(e.getMessage().contains("context (2, tokens, 6)"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> a.forward(x, m.zeros(new Shape(2, 4, 6)), m.ones(new Shape(2, 3)), false));
        assertTrue(e.getMessage().contains("(2, 4)"), e.getMessage());
    }
}
