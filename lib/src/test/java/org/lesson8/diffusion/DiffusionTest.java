package org.lesson8.diffusion;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.Test;
import org.lesson8.NdTest;
import org.lesson8.diffusion.GaussianDiffusion.Variance;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class DiffusionTest extends NdTest {
    // ---------------------------------------------------------------- schedules

    @Test
    void linearScheduleMatchesDdpm() {
        GaussianDiffusion d = GaussianDiffusion.linear(1000, Variance.FIXED_SMALL);
        double[] b = d.betas();
        assertEquals(1000, b.length);
        assertEquals(1e-4, b[0], 1e-15);
        assertEquals(0.02, b[999], 1e-15);
        // ᾱ_T as the product Π (1 − β_i), β_i = 1e-4 + i (0.02 − 1e-4)/999, written out here
        double prod = 1;
        for (int i = 0; i < 1000; i++) prod *= 1 - (1e-4 + i * (0.02 - 1e-4) / 999);
        double[] acp = d.alphasCumprod();
        assertEquals(prod, acp[999], 1e-12 * prod);
        assertTrue(acp[999] > 4.0e-5 && acp[999] < 4.1e-5, "ᾱ_T ≈ 4.04e-5, got " + acp[999]);
        assertEquals(1 - 1e-4, acp[0], 1e-15);
        // ᾱ_prev is ᾱ shifted by one with 1 in front
        double[] prev = d.alphasCumprodPrev();
        assertEquals(1.0, prev[0]);
        for (int i = 1; i < 1000; i++) assertEquals(acp[i - 1], prev[i], 0);
    }

    @Test
    void cosineScheduleFollowsTheClosedForm() {
        GaussianDiffusion d = GaussianDiffusion.cosine(1000, Variance.FIXED_SMALL);
        double[] acp = d.alphasCumprod();
        double[] b = d.betas();
        assertTrue(acp[0] > 0.9999 && acp[0] < 1, "ᾱ_0 close to 1: " + acp[0]);
        for (int i = 1; i < 1000; i++) assertTrue(acp[i] < acp[i - 1], "ᾱ decreasing at " + i);
        for (double x : b) assertTrue(x > 0 && x <= 0.999);
        assertEquals(0.999, b[999], 0, "the last β is clipped");
        // unclipped steps: ᾱ_t = f((t+1)/T)/f(0), f(u) = cos²((u + s)/(1 + s) π/2)
        double s = 0.008;
        double f0 = Math.pow(Math.cos(s / (1 + s) * Math.PI / 2), 2);
        for (int i : new int[] {0, 10, 500, 900, 990}) {
            double f = Math.pow(Math.cos(((i + 1) / 1000.0 + s) / (1 + s) * Math.PI / 2), 2);
            assertEquals(f / f0, acp[i], 1e-9, "step " + i);
        }
    }

    @Test
    void posteriorConstantsAgreeWithTheDdpmIdentity() {
        GaussianDiffusion d = GaussianDiffusion.linear(1000, Variance.FIXED_SMALL);
        double[] b = d.betas(), acp = d.alphasCumprod(), prev = d.alphasCumprodPrev();
        double[] var = d.posteriorVariance(), logClip = d.posteriorLogVarianceClipped();
        double[] c1 = d.posteriorMeanCoef1(), c2 = d.posteriorMeanCoef2();
        assertEquals(0.0, var[0], 0);
        assertEquals(Math.log(var[1]), logClip[0], 0, "log β̃ at step 0 is clipped to step 1");
        assertEquals(1.0, c1[0], 1e-12);
        assertEquals(0.0, c2[0], 0);
        for (int t = 1; t < 1000; t += 37) {
            assertTrue(var[t] < b[t], "β̃ < β");
            assertEquals(Math.log(var[t]), logClip[t], 1e-12);
            // with x_t = sqrt(ᾱ)x0 + sqrt(1−ᾱ)ε:  μ̃ = (x_t − β/sqrt(1−ᾱ) ε)/sqrt(α)   (DDPM eq. 10)
            double x0 = 0.3, eps = -1.2;
            double xt = Math.sqrt(acp[t]) * x0 + Math.sqrt(1 - acp[t]) * eps;
            double mu = (xt - b[t] / Math.sqrt(1 - acp[t]) * eps) / Math.sqrt(1 - b[t]);
            assertEquals(mu, c1[t] * x0 + c2[t] * xt, 1e-12);
            assertEquals(b[t] * (1 - prev[t]) / (1 - acp[t]), var[t], 1e-18);
        }
    }

    @Test
    void qSampleHasTheRightMeanAndVariance() {
        GaussianDiffusion d = GaussianDiffusion.linear(1000, Variance.FIXED_SMALL);
        int n = 4000;
        float[] base = {0.8f, -0.5f, 0.1f, -1f};
        NDArray x0 = m.create(base, new Shape(1, 1, 2, 2)).repeat(0, n);
        long[] ts = new long[n];
        for (int i = 0; i < n; i++) ts[i] = i % 2 == 0 ? 100 : 700;
        NDArray noise = NoiseSource.seeded(new Random(7)).sample(m, x0.getShape());
        NDArray xt = d.qSample(x0, m.create(ts), noise);
        double[] acp = d.alphasCumprod();
        for (int k = 0; k < 2; k++) {
            int step = k == 0 ? 100 : 700;
            NDArray group = xt.get(new NDIndex("{}::2", k));
            float[] mean = group.mean(new int[] {0}).toFloatArray();
            float[] varr = group.sub(group.mean(new int[] {0}, true)).square().mean(new int[] {0}).toFloatArray();
            double sd = Math.sqrt(1 - acp[step]);
            for (int j = 0; j < 4; j++) {
                assertEquals(Math.sqrt(acp[step]) * base[j], mean[j], 5 * sd / Math.sqrt(n / 2.0), "mean, step " + step);
                assertEquals(1 - acp[step], varr[j], 0.1 * (1 - acp[step]), "variance, step " + step);
            }
        }
    }

    // ---------------------------------------------------------------- losses

    /** ε and v = -1 (Σ = β̃): the model that knows the noise and the posterior variance. */
    private static NDArray perfectOutput(NDArray noise, float v) {
        return noise.concat(noise.onesLike().mul(v), 1);
    }

    @Test
    void vlbIsNonNegativeAndVanishesForThePerfectModel() {
        GaussianDiffusion d = GaussianDiffusion.dit();
        Random rng = new Random(3);
        NDArray x0 = m.randomUniform(-1, 1, new Shape(8, 2, 3, 3));
        NDArray t = d.sampleTimesteps(m, 8, rng);
        t.set(new NDIndex("0"), 0);
        t.set(new NDIndex("1"), 1);
        t.set(new NDIndex("2"), 999);
        NDArray noise = m.randomNormal(x0.getShape());
        NDArray xt = d.qSample(x0, t, noise);
        // arbitrary outputs: vb ≥ 0 at every step (KL ≥ 0, and the decoder NLL of a probability ≤ 1)
        for (int trial = 0; trial < 3; trial++) {
            NDArray out = m.randomNormal(new Shape(8, 2, 3, 3)).concat(m.randomUniform(-1, 1, new Shape(8, 2, 3, 3)), 1);
            for (float vb : d.vbTermsBits(out, x0, xt, t).toFloatArray()) assertTrue(vb >= -1e-6, "vb = " + vb);
        }
        // the true ε and v = -1 (log Σ = clipped log β̃ = the true posterior's) give KL ≈ 0 for t > 0
        float[] vb = d.vbTermsBits(perfectOutput(noise, -1f), x0, xt, t).toFloatArray();
        long[] ts = t.toLongArray();
        for (int i = 0; i < 8; i++) {
            if (ts[i] > 0) assertEquals(0, vb[i], 1e-4, "KL at step " + ts[i]);
        }
        // a wrong variance (v = +1 → β) costs something at a middle step
        float[] worse = d.vbTermsBits(perfectOutput(noise, 1f), x0, xt, t).toFloatArray();
        assertTrue(worse[1] > 1e-3 || worse[2] > 1e-3 || worse[3] > 1e-3, Arrays.toString(worse));
    }

    /** ∫ φ over [a, b] by Simpson's rule (no erf in Java). */
    private static double normalMass(double a, double b) {
        int n = 2000;
        double h = (b - a) / n, s = 0;
        for (int i = 0; i <= n; i++) {
            double x = a + i * h;
            double w = (i == 0 || i == n) ? 1 : (i % 2 == 1 ? 4 : 2);
            s += w * Math.exp(-x * x / 2) / Math.sqrt(2 * Math.PI);
        }
        return s * h / 3;
    }

    @Test
    void decoderNllAtStepZeroIsTheDiscretisedGaussian() {
        GaussianDiffusion d = GaussianDiffusion.dit();
        // v = +1: Σ = β_0 = 1e-4, σ = 0.01; the true ε gives mean = x0. One interior pixel, one at +1.
        NDArray x0 = m.create(new float[] {0.2f, 1f}, new Shape(2, 1, 1, 1));
        NDArray t = m.create(new long[] {0, 0});
        NDArray noise = m.create(new float[] {0.5f, -0.3f}, new Shape(2, 1, 1, 1));
        NDArray xt = d.qSample(x0, t, noise);
        float[] bits = d.vbTermsBits(perfectOutput(noise, 1f), x0, xt, t).toFloatArray();
        double sigma = Math.sqrt(d.betas()[0]);
        double half = 1.0 / 255 / sigma;
        double interior = -Math.log(normalMass(-half, half)) / Math.log(2);
        double edge = -Math.log(0.5 + normalMass(0, half)) / Math.log(2);  // bin [1 − 1/255, ∞)
        assertEquals(interior, bits[0], 5e-3);
        assertEquals(edge, bits[1], 5e-3);
    }

    @Test
    void trainingLossStopsTheGradientOfTheMeanInTheVlb() {
        GaussianDiffusion d = GaussianDiffusion.dit();
        try (NDManager sub = m.newSubManager()) {
            NDArray x0 = sub.randomUniform(-1, 1, new Shape(4, 1, 2, 2));
            NDArray t = sub.create(new long[] {0, 5, 300, 999});
            NDArray noise = sub.randomNormal(x0.getShape());
            NDArray out = sub.randomNormal(new Shape(4, 2, 2, 2)).mul(0.5);
            out.setRequiresGradient(true);
            Denoiser model = (xt, tt, c) -> out;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                GaussianDiffusion.Losses l = d.trainingLosses(model, x0, t, null, noise);
                assertEquals(new Shape(4), l.mse().getShape());
                assertEquals(new Shape(4), l.vb().getShape());
                // mse by hand
                float[] expect = Gaussians.meanFlat(noise.sub(out.get(new NDIndex(":, :1"))).square()).toFloatArray();
                assertArrayEquals(expect, l.mse().toFloatArray(), 1e-6f);
                gc.backward(l.vb().sum());
            }
            NDArray g = out.getGradient();
            assertEquals(0f, g.get(new NDIndex(":, :1")).abs().sum().getFloat(), 0f, "no VLB gradient into ε");
            assertTrue(g.get(new NDIndex(":, 1:")).abs().sum().getFloat() > 0, "VLB gradient into v");
        }
    }

    @Test
    void fixedVarianceHasOnlyTheMse() {
        GaussianDiffusion d = GaussianDiffusion.linear(100, Variance.FIXED_LARGE);
        NDArray x0 = m.randomUniform(-1, 1, new Shape(3, 2, 2, 2));
        NDArray noise = m.randomNormal(x0.getShape());
        GaussianDiffusion.Losses l = d.trainingLosses((xt, t, c) -> xt.zerosLike(), x0, m.create(new long[] {1, 2, 3}), null, noise);
        assertNull(l.vb());
        float[] expect = Gaussians.meanFlat(noise.square()).toFloatArray();
        assertArrayEquals(expect, l.loss().toFloatArray(), 1e-6f);
    }

    @Test
    void learnedVarianceInterpolatesLogBetaAndLogPosteriorVariance() {
        GaussianDiffusion d = GaussianDiffusion.dit();
        NDArray xt = m.zeros(new Shape(2, 1, 1, 1));
        NDArray out = m.create(new float[] {0f, 1f, 0f, 0f}, new Shape(2, 2, 1, 1));  // (eps, v): v = 1 then 0
        NDArray t = m.create(new long[] {10, 10});
        float[] lv = d.predict(out, xt, t, false).logVariance().toFloatArray();
        double lb = Math.log(d.betas()[10]), lp = d.posteriorLogVarianceClipped()[10];
        assertEquals(lb, lv[0], 1e-5);
        assertEquals((lb + lp) / 2, lv[1], 1e-5);
    }

    // ---------------------------------------------------------------- guidance

    @Test
    void guidanceFormulaOnHandMadeArrays() {
        NDArray cond = m.create(new float[] {1f, 2f, -1f});
        NDArray uncond = m.create(new float[] {0f, 4f, -1f});
        assertArrayEquals(cond.toFloatArray(), ClassifierFreeGuidance.guide(cond, uncond, 1).toFloatArray(), 0f);
        assertArrayEquals(uncond.toFloatArray(), ClassifierFreeGuidance.guide(cond, uncond, 0).toFloatArray(), 0f);
        // s = 4: u + 4 (c − u) = (4, -4, -1)
        assertArrayEquals(new float[] {4f, -4f, -1f}, ClassifierFreeGuidance.guide(cond, uncond, 4).toFloatArray(), 1e-6f);
    }

    @Test
    void guidanceWrapperBatchesCondAndNullCondInOneCall() {
        int[] calls = {0};
        long[] seenBatch = {0};
        long[][] seenLabels = {null};
        // ε depends on the label: label 9 is the null class; v = label / 10
        Denoiser model = (xt, t, c) -> {
            calls[0]++;
            seenBatch[0] = xt.getShape().get(0);
            NDArray y = ((NDArray) c);
            seenLabels[0] = y.toLongArray();
            NDArray yy = y.toType(DataType.FLOAT32, false).reshape(-1, 1, 1, 1);
            NDArray eps = xt.add(yy);
            return eps.concat(xt.zerosLike().add(yy.div(10)), 1);
        };
        NDArray x = m.create(new float[] {1f, 2f}, new Shape(2, 1, 1, 1));
        NDArray t = m.create(new long[] {3, 4});
        NDArray labels = m.create(new long[] {2, 5});
        NDArray out = ClassifierFreeGuidance.labels(model, 3.0, 9).apply(x, t, labels);
        assertEquals(1, calls[0]);
        assertEquals(4, seenBatch[0]);
        assertArrayEquals(new long[] {2, 5, 9, 9}, seenLabels[0]);
        assertEquals(new Shape(2, 2, 1, 1), out.getShape());
        float[] o = out.toFloatArray();  // (b, channel): [eps0, v0, eps1, v1]
        // eps = u + 3 (c − u): u = x + 9, c = x + y
        assertEquals(1 + 9 + 3 * (2 - 9), o[0], 1e-5);
        assertEquals(0.2f, o[1], 1e-6, "v from the conditional half");
        assertEquals(2 + 9 + 3 * (5 - 9), o[2], 1e-5);
        assertEquals(0.5f, o[3], 1e-6);
        NDArray s1 = ClassifierFreeGuidance.labels(model, 1.0, 9).apply(x, t, labels);
        assertArrayEquals(model.apply(x, t, labels).toFloatArray(), s1.toFloatArray(), 1e-6f);
    }

    // ---------------------------------------------------------------- samplers

    /** A denoiser that knows x0 and returns the ε consistent with it (at the original timestep it receives). */
    private static Denoiser oracle(NDArray x0, double[] originalAcp, boolean learned) {
        return (xt, t, c) -> {
            long[] ts = t.toLongArray();
            float[] a = new float[ts.length], s = new float[ts.length];
            for (int i = 0; i < ts.length; i++) {
                a[i] = (float) Math.sqrt(originalAcp[(int) ts[i]]);
                s[i] = (float) Math.sqrt(1 - originalAcp[(int) ts[i]]);
            }
            Shape bs = new Shape(ts.length, 1, 1, 1);
            NDArray eps = xt.sub(x0.mul(xt.getManager().create(a, bs))).div(xt.getManager().create(s, bs));
            return learned ? eps.concat(eps.zerosLike(), 1) : eps;
        };
    }

    @Test
    void ddimWithEtaZeroIsDeterministicAndRecoversX0FromAnOracle() {
        GaussianDiffusion full = GaussianDiffusion.dit();
        GaussianDiffusion d = full.respace(25);
        NDArray x0 = m.randomUniform(-1, 1, new Shape(2, 1, 3, 3));
        NDArray xT = NoiseSource.seeded(new Random(11)).sample(m, x0.getShape());
        List<Integer> seen = new ArrayList<>();
        NDArray got = Samplers.ddim(d, oracle(x0, full.alphasCumprod(), true), xT, null, 0, null, false,
                (i, ts, s, p) -> seen.add(ts));
        assertTrue(got.allClose(x0, 1e-3, 1e-3, false), "DDIM returns x0");
        assertEquals(25, seen.size());
        assertEquals(999, seen.get(0));
        assertEquals(0, seen.get(24));
        for (int i = 1; i < seen.size(); i++) assertTrue(seen.get(i) < seen.get(i - 1));

        Denoiser net = (xt, t, c) -> xt.mul(0.3).tanh().add(t.toType(DataType.FLOAT32, false).reshape(-1, 1, 1, 1).mul(1e-3));
        GaussianDiffusion fixed = d.withVariance(Variance.FIXED_SMALL);  // net outputs ε only
        float[] a = Samplers.ddim(fixed, net, xT, null, 0, null, true, null).toFloatArray();
        float[] b = Samplers.ddim(fixed, net, xT, null, 0, null, true, null).toFloatArray();
        assertArrayEquals(a, b, 0f, "η = 0: same x_T, same sample");
        float[] c1 = Samplers.ddim(fixed, net, xT, null, 1, NoiseSource.seeded(new Random(4)), true, null).toFloatArray();
        float[] c2 = Samplers.ddim(fixed, net, xT, null, 1, NoiseSource.seeded(new Random(4)), true, null).toFloatArray();
        float[] c3 = Samplers.ddim(fixed, net, xT, null, 1, NoiseSource.seeded(new Random(5)), true, null).toFloatArray();
        assertArrayEquals(c1, c2, 0f, "η = 1: same seed, same sample");
        assertFalse(Arrays.equals(c1, c3), "η = 1: another seed, another sample");
        assertFalse(Arrays.equals(a, c1));
    }

    @Test
    void ddpmWithAnOracleEndsAtX0() {
        GaussianDiffusion full = GaussianDiffusion.dit();
        NDArray x0 = m.randomUniform(-1, 1, new Shape(2, 1, 2, 2));
        NDArray xT = m.randomNormal(x0.getShape());
        for (GaussianDiffusion d : new GaussianDiffusion[] {full.respace(20), full.respace(20).withVariance(Variance.FIXED_LARGE)}) {
            boolean learned = d.variance() == Variance.LEARNED_RANGE;
            int[] steps = {0};
            NDArray got = Samplers.ddpm(d, oracle(x0, full.alphasCumprod(), learned), xT, null, NoiseSource.seeded(new Random(2)),
                    false, (i, ts, s, p) -> steps[0]++);
            assertEquals(20, steps[0]);
            assertTrue(got.allClose(x0, 1e-3, 1e-3, false), "DDPM with " + d.variance());
        }
    }

    @Test
    void respacingKeepsAlphaBarAtTheKeptSteps() {
        GaussianDiffusion full = GaussianDiffusion.linear(1000, Variance.LEARNED_RANGE);
        double[] acp = full.alphasCumprod();
        for (GaussianDiffusion d : new GaussianDiffusion[] {full.respace(50), full.respace(Schedules.ddimStride(1000, 100)),
                full.respace(new int[] {999, 0, 500, 500})}) {
            int[] map = d.timestepMap();
            double[] sacp = d.alphasCumprod();
            assertEquals(map.length, d.numTimesteps());
            assertEquals(1000, d.originalTimesteps());
            for (int i = 0; i < map.length; i++) {
                assertEquals(acp[map[i]], sacp[i], 1e-12 * Math.max(1e-3, acp[map[i]]), "kept step " + map[i]);
                if (i > 0) assertTrue(map[i] > map[i - 1]);
            }
            for (double b : d.betas()) assertTrue(b > 0 && b < 1);
        }
        int[] even = Schedules.evenlySpaced(1000, 50);
        assertEquals(50, even.length);
        assertEquals(0, even[0]);
        assertEquals(999, even[49]);
        int[] ddim = Schedules.ddimStride(1000, 100);
        assertEquals(990, ddim[99]);
        assertEquals(3, full.respace(new int[] {999, 0, 500, 500}).numTimesteps());
        assertThrows(IllegalArgumentException.class, () -> Schedules.ddimStride(1000, 999));
    }

    // ---------------------------------------------------------------- errors

    @Test
    void shapeErrorsNameExpectedAndActualShapes() {
        GaussianDiffusion d = GaussianDiffusion.dit();
        NDArray x0 = m.zeros(new Shape(4, 3, 2, 2));
        NDArray noise = m.zeros(x0.getShape());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> d.qSample(x0, m.create(new long[] {1, 2, 3}), noise));
        assertTrue(e.getMessage().contains("(4)") && e.getMessage().contains("(3)"), e.getMessage());

        e = assertThrows(IllegalArgumentException.class, () -> d.qSample(x0, m.create(new long[] {1, 2, 3, 1000}), noise));
        assertTrue(e.getMessage().contains("1000"), e.getMessage());

        e = assertThrows(IllegalArgumentException.class, () -> d.qSample(x0, m.create(new float[] {1, 2, 3, 4}), noise));
        assertTrue(e.getMessage().contains("integer"), e.getMessage());

        e = assertThrows(IllegalArgumentException.class, () -> d.qSample(x0, m.create(new long[] {1, 2, 3, 4}), m.zeros(new Shape(4, 3, 2))));
        assertTrue(e.getMessage().contains("(4, 3, 2, 2)") && e.getMessage().contains("(4, 3, 2)"), e.getMessage());

        NDArray t = m.create(new long[] {1, 2, 3, 4});
        e = assertThrows(IllegalArgumentException.class,
                () -> d.trainingLosses((xt, tt, c) -> xt, x0, t, null, noise));
        assertTrue(e.getMessage().contains("(4, 6, 2, 2)") && e.getMessage().contains("(4, 3, 2, 2)"), e.getMessage());

        ClassifierFreeGuidance g = ClassifierFreeGuidance.labels((xt, tt, c) -> xt.get(new NDIndex(":4")), 2, 9);
        e = assertThrows(IllegalArgumentException.class, () -> g.apply(x0, t, m.create(new long[] {0, 1, 2, 3})));
        assertTrue(e.getMessage().contains("(8, 3, 2, 2)") && e.getMessage().contains("(4, 3, 2, 2)"), e.getMessage());

        e = assertThrows(IllegalArgumentException.class,
                () -> ClassifierFreeGuidance.guide(m.zeros(new Shape(2, 3)), m.zeros(new Shape(3, 2)), 1));
        assertTrue(e.getMessage().contains("(2, 3)") && e.getMessage().contains("(3, 2)"), e.getMessage());
    }
}
