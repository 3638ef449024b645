package org.lesson8.diffusion;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.Test;
import org.lesson8.NdTest;
import org.lesson8.nn.Nd;

import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** The guidance algebra on a toy: a linear score w·x, whose gradient is w. */
class ClipGuidanceTest extends NdTest {
    static final Shape SHAPE = new Shape(2, 3, 4, 4);

    static NDArray normal(long seed) {
        return NoiseSource.seeded(new Random(seed)).sample(m, SHAPE);
    }

    /** score_b(x) = Σ w ⊙ x_b, so ∇ = w; w is a "weight" that records gradients, as a CLIP's would. */
    static ClipGuidance.Score linear(NDArray w) {
        return new ClipGuidance.Score() {
            @Override
            public NDArray of(NDArray xt, NDArray t) {
                return xt.mul(w).sum(new int[] {1, 2, 3});
            }

            @Override
            public List<NDArray> parameters() {
                return List.of(w);
            }
        };
    }

    static NDArray weight() {
        NDArray w = normal(1).duplicate();
        w.setRequiresGradient(true);
        return w;
    }

    static final Denoiser<Object> EPS = (x, t, c) -> Nd.mul(x, 0.3);

    static float maxDiff(NDArray a, NDArray b) {
        return a.sub(b).abs().max().getFloat();
    }

    static NDArray steps(int i) {
        return m.full(new Shape(2), i, DataType.INT64);
    }

    @Test
    void theGradientOfALinearScoreIsItsWeightAndTheWeightsKeepNoGradient() {
        NDArray w = weight();
        NDArray g = ClipGuidance.gradient(linear(w), normal(2), m.create(new long[] {3, 4}));
        assertEquals(0f, maxDiff(g, w), 1e-6f);
        assertEquals(0f, w.getGradient().abs().max().getFloat(), "the score's weights must not keep the guidance gradient");
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> ClipGuidance.gradient(linear(w), normal(2), m.create(new long[] {3, 4})));
            assertTrue(e.getMessage().contains("outside a training step"), e.getMessage());
        }
    }

    /**
     * Clearing the weights' gradients must not hand their storage to a short-lived Java buffer: with {@code set(float[])}
     * on the closed gradient handle, CLIP-guided sampling corrupted the native heap after about a dozen generations.
     */
    @Test
    void repeatedUseKeepsTheGradientsRightAfterGarbageCollection() {
        NDArray w = weight();
        for (int i = 0; i < 60; i++) {
            try (NDScope scope = new NDScope()) {
                NDArray g = ClipGuidance.gradient(linear(w), normal(2 + i), m.create(new long[] {3, 4}));
                assertEquals(0f, maxDiff(g, w), 1e-6f, "call " + i);
                System.gc();   // frees any Java buffer the gradient might still point at; new buffers then reuse the memory
                for (int k = 0; k < 64; k++) {
                    java.nio.ByteBuffer b = java.nio.ByteBuffer.allocateDirect(4096);
                    while (b.hasRemaining()) b.put((byte) 7);
                }
                assertEquals(0f, w.getGradient().abs().max().getFloat(), "call " + i + ": the weights' gradient must stay cleared");
            }
        }
    }

    @Test
    void meanFormMovesThePosteriorMeanBySTimesSigmaTimesTheGradient() {
        NDArray w = weight();
        NDArray x = normal(3);
        for (GaussianDiffusion.Variance v : GaussianDiffusion.Variance.values()) {
            GaussianDiffusion d = GaussianDiffusion.linear(1000, v).respace(10);
            Denoiser<Object> model = v == GaussianDiffusion.Variance.LEARNED_RANGE
                    ? (xt, t, c) -> Nd.mul(xt, 0.3).concat(Nd.mul(xt, 0.2).tanh(), 1) : EPS;
            ClipGuidance<Object> guided = new ClipGuidance<>(model, d, linear(w), 2.5, ClipGuidance.Form.MEAN);
            for (int i : new int[] {9, 4, 1, 0}) {
                GaussianDiffusion.Prediction base = d.pMeanVariance(model, x, steps(i), null, false);
                GaussianDiffusion.Prediction moved = d.pMeanVariance(guided, x, steps(i), null, false);
                NDArray expect = base.mean().add(base.variance().mul(w).mul(2.5));
                assertEquals(0f, maxDiff(moved.mean(), expect), 2e-4f, v + " step " + i);
                assertEquals(0f, maxDiff(moved.variance(), base.variance()), 1e-6f, "Σ itself is not guided");
            }
        }
    }

    @Test
    void epsilonFormMovesEpsilonByTheScaledScore() {
        NDArray w = weight();
        NDArray x = normal(4);
        GaussianDiffusion d = GaussianDiffusion.cosine(1000, GaussianDiffusion.Variance.FIXED_SMALL).respace(8);
        double[] abar = d.alphasCumprod();
        int[] original = d.timestepMap();
        ClipGuidance<Object> guided = new ClipGuidance<>(EPS, d, linear(w), 4, ClipGuidance.Form.EPSILON);
        for (int i : new int[] {7, 3, 0}) {
            NDArray t = m.full(new Shape(2), original[i], DataType.INT64);
            NDArray expect = EPS.apply(x, t, null).sub(w.mul(4 * Math.sqrt(1 - abar[i])));
            assertEquals(0f, maxDiff(guided.apply(x, t, null), expect), 1e-5f, "step " + i);
        }
        ClipGuidance<Object> off = new ClipGuidance<>(EPS, d, linear(w), 0, ClipGuidance.Form.EPSILON);
        NDArray t = m.full(new Shape(2), original[3], DataType.INT64);
        assertEquals(0f, maxDiff(off.apply(x, t, null), EPS.apply(x, t, null)), "s = 0 is the model itself");
        NDArray notAStep = m.full(new Shape(2), original[3] + 1, DataType.INT64);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> guided.apply(x, notAStep, null));
        assertTrue(e.getMessage().contains("same (respaced) GaussianDiffusion"), e.getMessage());
    }

    @Test
    void guidedSamplersFollowTheScore() {
        NDArray w = weight();
        GaussianDiffusion d = GaussianDiffusion.cosine(1000, GaussianDiffusion.Variance.FIXED_SMALL).respace(10);
        NDArray xT = normal(5);
        NDArray plain = Samplers.ddim(d, EPS, xT, null, 0, null, false, null);
        NDArray ddim = Samplers.ddim(d, new ClipGuidance<>(EPS, d, linear(w), 1, ClipGuidance.Form.EPSILON), xT, null, 0, null, false, null);
        assertTrue(ddim.mul(w).sum().getFloat() > plain.mul(w).sum().getFloat() + 1, "DDIM moves towards a higher score");
        NDArray plainDdpm = Samplers.ddpm(d, EPS, xT, null, NoiseSource.seeded(new Random(6)), false, null);
        NDArray ddpm = Samplers.ddpm(d, new ClipGuidance<>(EPS, d, linear(w), 1, ClipGuidance.Form.MEAN), xT, null,
                NoiseSource.seeded(new Random(6)), false, null);
        assertTrue(ddpm.mul(w).sum().getFloat() > plainDdpm.mul(w).sum().getFloat() + 1, "DDPM moves towards a higher score");
    }
}
