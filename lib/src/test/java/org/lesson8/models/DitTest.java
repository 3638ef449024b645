package org.lesson8.models;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.Test;
import org.lesson8.NdTest;
import org.lesson8.diffusion.ClassifierFreeGuidance;
import org.lesson8.diffusion.GaussianDiffusion;
import org.lesson8.diffusion.Samplers;
import org.lesson8.diffusion.NoiseSource;
import org.lesson8.train.Checkpoint;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class DitTest extends NdTest {
    static Dit.Config tiny() {
        return new Dit.Config("tiny", 4, 2, 2, 32, 2, 4, 4, 3, true, 0.1);
    }

    @Test
    void parameterCountFromConfigEqualsBuiltModel() {
        for (Dit.Config c : new Dit.Config[] {tiny(), Dit.fashion(),
                new Dit.Config("no sigma", 8, 3, 4, 48, 1, 3, 2, 5, false, 0.1)}) {
            Dit d = new Dit(m, c, 1);
            assertEquals(d.parameterCount(), c.parameterCount(), c.name());
        }
    }

    @Test
    void paperSizesMatchTable1() {
        // DiT paper, Table 1 / Fig. 2: S ≈ 33M, B ≈ 130M, L ≈ 458M, XL ≈ 675M (patch 2, 256×256 → 32×32×4 latents)
        assertEquals(33e6, Dit.paper("S", 2).parameterCount(), 0.5e6);
        assertEquals(130e6, Dit.paper("B", 2).parameterCount(), 0.5e6);
        assertEquals(458e6, Dit.paper("L", 2).parameterCount(), 0.5e6);
        assertEquals(675e6, Dit.paper("XL", 2).parameterCount(), 0.5e6);
        // computed by hand for XL/2: 28 blocks × (18 D² + 15 D) + embedders + final layer, D = 1152
        long d = 1152;
        long expect = 28 * (18 * d * d + 15 * d) + (4 * 4 * d + d) + (256 * d + d + d * d + d) + 1001 * d
                + (2 * d * d + 2 * d) + (d * 32 + 32);
        assertEquals(expect, Dit.paper("XL", 2).parameterCount());
        assertEquals(256 * d, Dit.paper("XL", 2).fixedPositionCount());
    }

    @Test
    void outputShapeAndZeroAtInitialisation() {
        Dit d = new Dit(m, tiny(), 2);
        NDArray x = m.randomNormal(new Shape(3, 2, 4, 4));
        NDArray out = d.forward(x, m.create(new long[] {0, 10, 999}), m.create(new long[] {0, 1, 3}));
        assertEquals(new Shape(3, 4, 4, 4), out.getShape());
        // adaLN-Zero: the final layer's Linear starts at zero, so the first output is exactly 0
        assertEquals(0f, out.abs().max().getFloat());
    }

    @Test
    void everyAdaLnZeroBlockIsTheIdentityAtInitialisation() {
        Dit d = new Dit(m, tiny(), 3);
        NDArray h = m.randomNormal(new Shape(2, 4, 32));
        NDArray c = m.randomNormal(new Shape(2, 32));
        for (Dit.Block b : d.blocks) {
            NDArray out = b.forward(h, c);
            assertArrayEquals(h.toFloatArray(), out.toFloatArray(), 0f);
        }
        // …and stops being one once the modulation has weights (gate ≠ 0)
        Dit.Block b = d.blocks.get(0);
        b.adaLN.linear.weight.set(m.randomNormal(b.adaLN.linear.weight.getShape()).mul(0.1).toFloatArray());
        assertTrue(b.forward(h, c).sub(h).abs().max().getFloat() > 1e-3);
    }

    @Test
    void nullClassIsUsedAtTheConfiguredRate() {
        Dit d = new Dit(m, tiny(), 4);
        int n = 20000;
        long[] y = new long[n];
        for (int i = 0; i < n; i++) y[i] = i % 3;
        long[] dropped = d.dropLabels(m.create(y), new Random(5)).toLongArray();
        int nulls = 0;
        for (int i = 0; i < n; i++) {
            if (dropped[i] == d.nullClass()) nulls++;
            else assertEquals(y[i], dropped[i]);
        }
        // binomial(20000, 0.1): standard deviation 42
        assertEquals(0.1, nulls / (double) n, 0.01);
    }

    @Test
    void wrongLatentShapeOrLabelGivesAClearError() {
        Dit d = new Dit(m, tiny(), 5);
        NDArray t = m.create(new long[] {1, 2});
        NDArray y = m.create(new long[] {0, 1});
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> d.forward(m.zeros(new Shape(2, 1, 28, 28)), t, y));
        assertTrue(e.getMessage().contains("expected latents of shape (batch, 2, 4, 4)"), e.getMessage());
        assertTrue(e.getMessage().contains("VAE"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> d.forward(m.zeros(new Shape(2, 2, 4, 4)), t, m.create(new long[] {0, 9})));
        assertTrue(e.getMessage().contains("class label 9 out of range"), e.getMessage());
    }

    @Test
    void guidedSamplingRunsAndDdimIsDeterministic() {
        Dit d = new Dit(m, tiny(), 6);
        // give the zero-initialised output layer weights, so the samples depend on the labels
        d.linearFinal.weight.set(m.randomNormal(d.linearFinal.weight.getShape()).mul(0.05).toFloatArray());
        for (Dit.Block b : d.blocks) b.adaLN.linear.weight.set(m.randomNormal(b.adaLN.linear.weight.getShape()).mul(0.05).toFloatArray());
        GaussianDiffusion sampler = GaussianDiffusion.dit().respace(5);
        NDArray y = m.create(new long[] {0, 2});
        NDArray xT = NoiseSource.seeded(new Random(1)).sample(m, new Shape(2, 2, 4, 4));
        NDArray a = Samplers.ddim(sampler, ClassifierFreeGuidance.labels(d, 4, d.nullClass()), xT, y, 0, null, false, null);
        NDArray b = Samplers.ddim(sampler, ClassifierFreeGuidance.labels(d, 4, d.nullClass()), xT, y, 0, null, false, null);
        assertArrayEquals(a.toFloatArray(), b.toFloatArray(), 0f);
        NDArray c = Samplers.ddim(sampler, ClassifierFreeGuidance.labels(d, 1, d.nullClass()), xT, y, 0, null, false, null);
        assertTrue(a.sub(c).abs().max().getFloat() > 1e-4, "guidance scale must change the sample");
    }

    @Test
    void trainingStepLowersTheHybridLoss() {
        Engine.getInstance().setRandomSeed(7);
        Dit d = new Dit(m, tiny(), 7);
        GaussianDiffusion diff = GaussianDiffusion.dit();
        org.lesson8.train.Optim opt = new org.lesson8.train.Optim(d, 3e-3f, 0f, 0, 60, 1f);
        Random rng = new Random(8);
        NDArray x0 = NoiseSource.seeded(rng).sample(m, new Shape(8, 2, 4, 4)).mul(0.5);
        NDArray y = m.create(new long[] {0, 1, 2, 0, 1, 2, 0, 1});
        NDArray t = m.create(new long[] {10, 100, 300, 500, 700, 900, 50, 999});
        NDArray noise = NoiseSource.seeded(new Random(9)).sample(m, x0.getShape());
        float first = 0, last = 0;
        for (int i = 0; i < 60; i++) {
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                GaussianDiffusion.Losses l = diff.trainingLosses(d, x0, t, y, noise);
                NDArray loss = l.loss().mean();
                gc.backward(loss);
                if (i == 0) first = loss.getFloat();
                last = loss.getFloat();
                assertTrue(l.vb().min().getFloat() >= 0, "the variational-bound term is non-negative");
            }
            opt.step();
        }
        assertTrue(last < 0.7 * first, "loss " + first + " → " + last);
    }

    @Test
    void checkpointRoundTripAndMismatch() throws Exception {
        Dit a = new Dit(m, tiny(), 10);
        a.linearFinal.weight.set(m.randomNormal(a.linearFinal.weight.getShape()).toFloatArray());
        Path f = Files.createTempFile("dit", ".safetensors");
        Checkpoint.save(a, f);
        Dit b = new Dit(m, tiny(), 11);
        Checkpoint.load(b, f);
        assertArrayEquals(a.linearFinal.weight.toFloatArray(), b.linearFinal.weight.toFloatArray(), 0f);
        Dit other = new Dit(m, new Dit.Config("wider", 4, 2, 2, 48, 2, 4, 4, 3, true, 0.1), 12);
        Exception e = assertThrows(Exception.class, () -> Checkpoint.load(other, f));
        assertTrue(e.getMessage().contains("x_embedder") || e.getMessage().contains("shape"), e.getMessage());
        Files.delete(f);
    }
}
