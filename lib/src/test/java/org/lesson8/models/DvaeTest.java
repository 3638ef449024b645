package org.lesson8.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lesson8.NdTest;
import org.lesson8.nn.Channels;
import org.lesson8.train.Checkpoint;
import org.lesson8.train.MetricsLog;
import org.lesson8.train.Recipe;

import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class DvaeTest extends NdTest {
    /** 16×16 → 4×4 tokens of 16 codes, width 8. */
    static Dvae.Config tiny() {
        return new Dvae.Config("tiny", 16, 3, 4, 16, 8);
    }

    static NDArray fixedImages(NDManager s, int b, int size, long seed) {
        Random r = new Random(seed);
        float[] v = new float[b * 3 * size * size];
        for (int i = 0; i < v.length; i++) v[i] = r.nextFloat();
        return s.create(v, new Shape(b, 3, size, size));
    }

    /** b images of one coloured square (corners 0 or 1 per channel) on black, side×side: learnable, unlike noise. */
    static float[] squares(int b, int side, Random r) {
        float[] v = new float[b * 3 * side * side];
        for (int i = 0; i < b; i++) {
            int x0 = r.nextInt(side / 2), y0 = r.nextInt(side / 2), w = 3 + r.nextInt(side / 2);
            for (int c = 0; c < 3; c++) {
                float colour = r.nextBoolean() ? 1 : 0.2f;
                for (int y = y0; y < Math.min(side, y0 + w); y++)
                    for (int x = x0; x < Math.min(side, x0 + w); x++) v[((i * 3 + c) * side + y) * side + x] = colour;
            }
        }
        return v;
    }

    @Test
    void parameterCountFromConfigEqualsTheBuiltModel() {
        for (Dvae.Config c : new Dvae.Config[] {tiny(), Dvae.course(), new Dvae.Config("one stage", 8, 1, 4, 5, 4)}) {
            try (NDManager s = m.newSubManager()) {
                assertEquals(c.parameterCount(), new Dvae(s, c, 0).parameterCount(), c.name());
            }
        }
        assertTrue(Dvae.paperScale().parameterCount() > 10 * Dvae.course().parameterCount());
    }

    @Test
    void encodeAndDecodeShapesOfTheCourseModel() {
        try (NDManager s = m.newSubManager()) {
            Dvae v = new Dvae(s, Dvae.course(), 1);
            NDArray x = fixedImages(s, 3, 28, 2);
            assertEquals(new Shape(3, 256, 7, 7), v.logits(x).getShape());
            NDArray codes = v.encode(x);
            assertEquals(new Shape(3, 49), codes.getShape());
            assertEquals(DataType.INT64, codes.getDataType());
            long[] c = codes.toLongArray();
            for (long k : c) assertTrue(k >= 0 && k < 256);
            assertArrayEquals(v.logits(x).argMax(1).toType(DataType.INT64, false).toLongArray(), c, "argmax per cell, row by row");
            NDArray y = v.decode(codes);
            assertEquals(new Shape(3, 3, 28, 28), y.getShape());
            assertTrue(y.min().getFloat() >= 0 && y.max().getFloat() <= 1, "decoded pixels lie in [0, 1]");
            assertEquals(new Shape(3, 3, 28, 28), v.reconstruct(x).getShape());
            NDArray grey = s.create(new float[] {0.1f, 0.9f}).reshape(2, 1, 1, 1).repeat(2, 28).repeat(3, 28);
            NDArray rgb = Channels.greyToRgb(grey);
            assertEquals(new Shape(2, 3, 28, 28), rgb.getShape());
            assertArrayEquals(new float[] {0.1f, 0.1f, 0.1f}, rgb.get("0, :, 5, 7").toFloatArray());
            assertArrayEquals(new float[] {0.9f, 0.9f, 0.9f}, rgb.get("1, :, 27, 0").toFloatArray());
            assertEquals(new Shape(2, 49), v.encode(rgb).getShape());
        }
    }

    @Test
    void wrongInputsAreRejectedWithAHint() {
        try (NDManager s = m.newSubManager()) {
            Dvae v = new Dvae(s, Dvae.course(), 1);
            String grey = assertThrows(IllegalArgumentException.class, () -> v.encode(s.zeros(new Shape(2, 1, 28, 28)))).getMessage();
            assertTrue(grey.contains("(2, 1, 28, 28)") && grey.contains("Channels.greyToRgb"), grey);
            String size = assertThrows(IllegalArgumentException.class, () -> v.encode(s.zeros(new Shape(2, 3, 32, 32)))).getMessage();
            assertTrue(size.contains("28×28"), size);
            NDArray signed = s.create(new float[] {-1, 1}).reshape(2, 1, 1, 1).repeat(1, 3).repeat(2, 28).repeat(3, 28);
            String range = assertThrows(IllegalArgumentException.class, () -> v.encode(signed)).getMessage();
            assertTrue(range.contains("[0, 1]") && range.contains("(x + 1) / 2"), range);
            String codes = assertThrows(IllegalArgumentException.class, () -> v.decode(s.create(new long[49], new Shape(1, 7, 7)))).getMessage();
            assertTrue(codes.contains("(batch, 49)"), codes);
            long[] big = new long[49];
            big[5] = 300;
            String id = assertThrows(IllegalArgumentException.class, () -> v.decode(s.create(big, new Shape(1, 49)))).getMessage();
            assertTrue(id.contains("300") && id.contains("0..255"), id);
            assertThrows(IllegalArgumentException.class, () -> new Dvae.Config("bad", 28, 3, 6, 256, 32));
        }
    }

    @Test
    void saveAndLoadGiveIdenticalOutputs(@TempDir Path dir) throws Exception {
        try (NDManager s = m.newSubManager()) {
            Dvae a = new Dvae(s, tiny(), 1);
            Dvae b = new Dvae(s, tiny(), 2);
            NDArray x = fixedImages(s, 2, 16, 3);
            assertFalse(a.logits(x).contentEquals(b.logits(x)), "different seeds give different weights");
            Path file = dir.resolve("dvae.safetensors");
            Checkpoint.save(a, file);
            Checkpoint.load(b, file);
            assertArrayEquals(a.logits(x).toFloatArray(), b.logits(x).toFloatArray(), 0f);
            NDArray codes = a.encode(x);
            assertArrayEquals(codes.toLongArray(), b.encode(x).toLongArray());
            assertArrayEquals(a.decode(codes).toFloatArray(), b.decode(codes).toFloatArray(), 0f);
        }
    }

    @Test
    void klToTheUniformPriorByHand() {
        try (NDManager s = m.newSubManager()) {
            // one image, K = 3 codes, a 1×2 grid: cell 0 has logits (2, 0, −1), cell 1 is uniform
            float[][] cells = {{2, 0, -1}, {0.5f, 0.5f, 0.5f}};
            float[] v = new float[6];
            for (int k = 0; k < 3; k++) for (int c = 0; c < 2; c++) v[k * 2 + c] = cells[c][k];
            double want = 0;
            for (float[] z : cells) {
                double norm = 0;
                for (float f : z) norm += Math.exp(f);
                for (float f : z) {
                    double q = Math.exp(f) / norm;
                    want += q * Math.log(q / (1.0 / 3));
                }
            }
            float got = Dvae.klToUniform(s.create(v, new Shape(1, 3, 1, 2))).getFloat();
            assertEquals(want, got, 1e-6);
            assertTrue(want > 0.3, "the peaked cell contributes");
        }
    }

    @Test
    void bernoulliNllByHand() {
        try (NDManager s = m.newSubManager()) {
            float[] l = {2, -1, 0, 3};
            float[] x = {1, 0, 0.5f, 0.25f};
            double want = 0;
            for (int i = 0; i < 4; i++) {
                double p = 1 / (1 + Math.exp(-l[i]));
                want -= x[i] * Math.log(p) + (1 - x[i]) * Math.log(1 - p);
            }
            float got = Dvae.bernoulliNll(s.create(l, new Shape(1, 1, 2, 2)), s.create(x, new Shape(1, 1, 2, 2))).getFloat();
            assertEquals(want, got, 1e-5);
        }
    }

    @Test
    void codebookUsage() {
        try (NDManager s = m.newSubManager()) {
            // codes 0..3 used equally often out of 8: perplexity 4, 4 dead codes
            Dvae.Usage even = Dvae.Usage.of(s.create(new long[] {0, 1, 2, 3, 3, 2, 1, 0}, new Shape(2, 4)), 8);
            assertEquals(4, even.perplexity(), 1e-9);
            assertEquals(4, even.deadCodes());
            assertArrayEquals(new long[] {2, 2, 2, 2, 0, 0, 0, 0}, even.counts());
            Dvae.Usage one = Dvae.Usage.of(s.create(new long[] {5, 5, 5}, new Shape(1, 3)), 8);
            assertEquals(1, one.perplexity(), 1e-9);
            assertEquals(7, one.deadCodes());
        }
    }

    @Test
    void annealingFollowsThePaper() {
        Dvae.Anneal a = Dvae.Anneal.paper();
        assertEquals(1, a.tau(0), 1e-12);
        assertEquals((1 + 1.0 / 16) / 2, a.tau(75_000), 1e-12, "cosine: halfway at half the steps");
        assertEquals(1.0 / 16, a.tau(150_000), 1e-12);
        assertEquals(1.0 / 16, a.tau(1_000_000), 1e-12);
        assertEquals(0, a.beta(0), 1e-12);
        assertEquals(6.6, a.beta(5_000), 1e-12);
        assertTrue(a.beta(1_000) < 6.6 / 5, "cosine starts slowly");
        Dvae.Anneal s = Dvae.Anneal.scaled(3000);
        assertEquals(1.0 / 16, s.tau(3000), 1e-12);
        assertEquals(6.6, s.beta(100), 1e-12);
    }

    @Test
    void aFewStepsLowerTheLossOnAFixedBatch() {
        try (NDManager s = m.newSubManager()) {
            Dvae v = new Dvae(s, tiny(), 3);
            float[] batch = squares(8, 16, new Random(4));
            Random noise = new Random(5);
            MetricsLog log = new MetricsLog();
            new Recipe(8, 1e-2f, 0f, 0, 1f).loop(v, 25, log).run(25, (mm, step, metrics) -> {
                Dvae.Losses l = v.losses(mm.create(batch, new Shape(8, 3, 16, 16)), 1.0, 0.1, noise);
                metrics.put("kl", (double) l.kl().mean().getFloat());
                return l.loss();
            }, null);
            double first = log.column("loss")[0], last = log.tailMean("loss", 5);
            assertTrue(last < 0.75 * first, "loss " + first + " → " + last);
        }
    }
}
