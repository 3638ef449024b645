package org.lesson8.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lesson8.nn.Linear;
import org.lesson8.nn.Module;
import org.lesson8.nn.TransformerBlock;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class TrainTest {
    @Test
    void globalNormClippingScalesAllGradientsTogether() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray a = m.create(new float[] {3f, -4f});      // norm 5
            NDArray b = m.create(new float[] {0f, 0f, -12f}); // norm 12 → global 13
            float norm = GradClip.globalNorm(List.of(a, b));
            assertEquals(13f, norm, 1e-5f);
            GradClip.clipToNorm(List.of(a, b), norm, 1.3f);
            assertArrayEquals(new float[] {0.3f, -0.4f}, a.toFloatArray(), 1e-5f); // negative ones are clipped too
            assertArrayEquals(new float[] {0f, 0f, -1.2f}, b.toFloatArray(), 1e-5f);
            assertEquals(1.3f, GradClip.globalNorm(List.of(a, b)), 1e-4f);
            GradClip.clipToNorm(List.of(a, b), GradClip.globalNorm(List.of(a, b)), 10f); // below the limit: untouched
            assertArrayEquals(new float[] {0.3f, -0.4f}, a.toFloatArray(), 1e-5f);
        }
    }

    static final class Tiny extends Module {
        final Linear lin;

        Tiny(NDManager m) {
            super(m);
            lin = child("lin", new Linear(m, new Random(0), 3, 1));
        }
    }

    @Test
    void loopLearnsALinearMapAndZeroesGradientsBetweenSteps() {
        try (NDManager m = NDManager.newBaseManager()) {
            Tiny model = new Tiny(m);
            Optim opt = new Optim(model, 0.05f, 0f, 5, 300, 1f);
            TrainLoop loop = new TrainLoop(model, opt, new MetricsLog());
            NDArray wTrue = m.create(new float[] {1.5f, -2f, 0.5f}, new Shape(3, 1));
            Random rng = new Random(1);
            loop.run(300, (sub, step, metrics) -> {
                float[] xs = new float[32 * 3];
                for (int i = 0; i < xs.length; i++) xs[i] = (float) rng.nextGaussian();
                NDArray x = sub.create(xs, new Shape(32, 3));
                NDArray y = x.matMul(wTrue).add(0.25f);
                return model.lin.forward(x).sub(y).square().mean();
            }, null);
            assertArrayEquals(new float[] {1.5f, -2f, 0.5f}, model.lin.weight.toFloatArray(), 0.05f);
            assertEquals(0.25f, model.lin.bias.getFloat(0), 0.05f);
            assertEquals(0f, model.lin.weight.getGradient().abs().sum().getFloat(), 0f);
            assertTrue(loop.log().tailMean("loss", 10) < 1e-3);
        }
    }

    @Test
    void gradientsDoNotAccumulateAcrossSteps() {
        try (NDManager m = NDManager.newBaseManager()) {
            Tiny model = new Tiny(m);
            Optim opt = new Optim(model, 1e-12f, 0f, 0, 10, 0f); // tiny lr: parameters (almost) stay
            TrainLoop loop = new TrainLoop(model, opt, new MetricsLog());
            TrainLoop.Objective obj = (sub, step, metrics) -> model.lin.forward(sub.ones(new Shape(1, 3))).sum();
            loop.step(obj);
            loop.step(obj);
            // d(sum(Wx+b))/dW = x = 1 each step: the logged norm is √4 = 2 both times, never 4
            double[] norms = loop.log().column("grad_norm");
            assertEquals(2.0, norms[0], 1e-5);
            assertEquals(2.0, norms[1], 1e-5);
        }
    }

    @Test
    void warmupThenCosine() {
        try (NDManager m = NDManager.newBaseManager()) {
            Optim opt = new Optim(new Tiny(m), 1e-3f, 0f, 10, 110, 0f);
            assertTrue(opt.learningRate(1) < opt.learningRate(5));
            assertEquals(1e-3f, opt.learningRate(10), 1e-4f);
            assertTrue(opt.learningRate(60) < 1e-3f && opt.learningRate(60) > 1e-5f);
            assertEquals(1e-5f, opt.learningRate(110), 2e-6f);
        }
    }

    @Test
    void aRecipeWarmsUpForItsStepsButAtMostATenthOfTheRun() {
        try (NDManager m = NDManager.newBaseManager()) {
            Recipe r = new Recipe(32, 1e-3f, 0.01f, 100, 1f);
            Optim full = r.optim(new Tiny(m), 3000);      // warm-up 100 of 3000 steps
            assertEquals(1e-5f, full.learningRate(1), 1e-6f);
            assertEquals(1e-3f, full.learningRate(100), 1e-6f);
            assertEquals(1e-5f, full.learningRate(3000), 2e-6f);
            Optim shortRun = r.optim(new Tiny(m), 200);   // warm-up 20: a tenth of the run
            assertTrue(shortRun.learningRate(10) < 0.6e-3f);
            assertEquals(1e-3f, shortRun.learningRate(20), 1e-6f);
            Optim tiny = r.optim(new Tiny(m), 5);         // under 10 steps: no warm-up, cosine from the first step
            assertEquals(1e-5f + (1e-3f - 1e-5f) * (1 + Math.cos(Math.PI / 5)) / 2, tiny.learningRate(1), 1e-6f);
        }
    }

    @Test
    void aRecipesLoopTrainsTheModelWithItsOptimiser() {
        try (NDManager m = NDManager.newBaseManager()) {
            Tiny model = new Tiny(m);
            MetricsLog log = new MetricsLog();
            TrainLoop loop = new Recipe(32, 0.05f, 0f, 5, 1f).loop(model, 300, log);
            assertSame(log, loop.log());
            loop.step((sub, step, metrics) -> model.lin.forward(sub.ones(new Shape(1, 3))).sum());
            assertEquals(1, loop.optim().steps());
            assertEquals(0.05f / 5, log.column("lr")[0], 1e-6, "the first step of the warm-up");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Recipe(0, 1e-3f, 0f, 0, 0f));
            assertTrue(e.getMessage().contains("batch"), e.getMessage());
        }
    }

    @Test
    void checkpointRoundTripAndMismatchMessage(@TempDir Path dir) throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            TransformerBlock a = new TransformerBlock(m, new Random(1), 8, 2, 16);
            Path f = dir.resolve("block.safetensors");
            Checkpoint.save(a, f);
            TransformerBlock b = new TransformerBlock(m, new Random(2), 8, 2, 16);
            assertFalse(a.mlp.fc1.weight.allClose(b.mlp.fc1.weight));
            Checkpoint.load(b, f);
            for (var e : a.parameters().entrySet()) {
                assertTrue(e.getValue().allClose(b.parameters().get(e.getKey())), e.getKey());
            }
            TransformerBlock wider = new TransformerBlock(m, new Random(3), 8, 2, 32);
            float[] before = wider.mlp.fc1.weight.toFloatArray();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Checkpoint.load(wider, f));
            assertTrue(e.getMessage().contains("'mlp.fc1.weight' has shape (16, 8) in the checkpoint but (32, 8)"), e.getMessage());
            assertArrayEquals(before, wider.mlp.fc1.weight.toFloatArray()); // nothing half-loaded
            try (var files = Files.list(dir)) {
                assertEquals(1, files.count()); // no temporary file left behind
            }
        }
    }

    @Test
    void emaFollowsTheWeightsWithWarmUp() {
        try (NDManager mm = NDManager.newBaseManager()) {
            org.lesson8.nn.Linear lin = new org.lesson8.nn.Linear(mm, new java.util.Random(1), 2, 1);
            Ema ema = new Ema(lin, 0.9);
            float w0 = lin.weight.getFloat(0, 0);
            assertEquals(0.1, ema.currentDecay(), 1e-12);        // (1 + 0) / (10 + 0)
            lin.weight.set(new float[] {w0 + 1, lin.weight.getFloat(0, 1)});
            ema.update();                                        // ema = 0.1·w0 + 0.9·(w0 + 1)
            org.lesson8.nn.Linear copy = new org.lesson8.nn.Linear(mm, new java.util.Random(2), 2, 1);
            ema.copyTo(copy);
            assertEquals(w0 + 0.9, copy.weight.getFloat(0, 0), 1e-6);
            for (int i = 0; i < 200; i++) ema.update();
            assertEquals(0.9, ema.currentDecay(), 1e-12);
            ema.copyTo(copy);
            assertEquals(w0 + 1, copy.weight.getFloat(0, 0), 1e-5);
        }
    }
}
