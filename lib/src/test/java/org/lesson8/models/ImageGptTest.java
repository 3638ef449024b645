package org.lesson8.models;

import org.lesson8.eval.LinearProbe;
import org.lesson8.lessons.ImageGptLesson;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;
import org.lesson8.NdTest;
import org.lesson8.course.Course;
import org.lesson8.train.Checkpoint;
import org.lesson8.train.MetricsLog;
import org.lesson8.train.Optim;
import org.lesson8.train.TrainLoop;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class ImageGptTest extends NdTest {
    static ImageGpt.Config small(ImageGpt.Objective o) {
        return new ImageGpt.Config("test", 4, 5, 16, 2, 2, 32, 1, o);
    }

    static NDArray randomTokens(NDManager mm, Random r, int b, int n, int v) {
        int[] x = new int[b * n];
        for (int i = 0; i < x.length; i++) x[i] = r.nextInt(v);
        return mm.create(x, new Shape(b, n));
    }

    @Test
    void parameterCountFromConfigEqualsTheBuiltModel() {
        for (ImageGpt.Config c : new ImageGpt.Config[] {small(ImageGpt.Objective.AUTOREGRESSIVE), ImageGpt.fashion()}) {
            try (NDManager sub = m.newSubManager()) {
                assertEquals(c.parameterCount(), new ImageGpt(sub, c, 0).parameterCount(), c.name());
            }
        }
    }

    @Test
    void layerFeaturesGiveEveryBlocksPooledOutputAndTheProbeLayerEqualsFeatures() {
        for (ImageGpt.Objective o : ImageGpt.Objective.values()) {
            try (NDManager sub = m.newSubManager()) {
                ImageGpt.Config c = new ImageGpt.Config("test", 4, 5, 16, 3, 2, 32, 2, o);
                ImageGpt g = new ImageGpt(sub, c, 4);
                NDArray x = randomTokens(sub, new Random(5), 3, 16, 5);
                var layers = g.layerFeatures(x);
                assertEquals(3, layers.size());
                for (NDArray f : layers) assertEquals(new Shape(3, 16), f.getShape());
                assertArrayEquals(g.features(x).toFloatArray(), layers.get(1).toFloatArray(), 1e-6f, o.toString());
                assertFalse(java.util.Arrays.equals(layers.get(0).toFloatArray(), layers.get(2).toFloatArray()), "layers differ");
                // the lesson's chunked extraction agrees with one forward pass
                byte[] codes = new byte[3 * 16];
                int[] xi = x.toIntArray();
                for (int i = 0; i < codes.length; i++) codes[i] = (byte) xi[i];
                float[][][] chunked = ImageGptLesson.layerFeatures(g, sub, codes, new int[] {0, 1, 2}, 2);
                for (int l = 0; l < 3; l++) {
                    float[] one = layers.get(l).toFloatArray();
                    for (int j = 0; j < 3; j++) {
                        assertArrayEquals(java.util.Arrays.copyOfRange(one, j * 16, (j + 1) * 16), chunked[l][j], 1e-5f);
                    }
                }
            }
        }
    }

    @Test
    void changingPixelKChangesNoPredictionAtPositionsUpToK() {
        try (NDManager sub = m.newSubManager()) {
            ImageGpt g = new ImageGpt(sub, small(ImageGpt.Objective.AUTOREGRESSIVE), 1);
            int n = 16, v = 5;
            NDArray x = randomTokens(sub, new Random(3), 2, n, v);
            float[] base = g.logits(x, null).toFloatArray();
            for (int k : new int[] {0, 5, 14, 15}) {
                int[] changed = x.toIntArray();
                changed[k] = (changed[k] + 1) % v;                 // first sequence, pixel k
                float[] after = g.logits(sub.create(changed, new Shape(2, n)), null).toFloatArray();
                double maxBefore = 0, maxAfter = 0;
                for (int t = 0; t < n; t++) {
                    for (int j = 0; j < v; j++) {
                        double d = Math.abs(after[t * v + j] - base[t * v + j]);
                        if (t <= k) maxBefore = Math.max(maxBefore, d);
                        else maxAfter = Math.max(maxAfter, d);
                    }
                }
                assertTrue(maxBefore < 1e-5, "prediction at a position ≤ " + k + " changed by " + maxBefore);
                if (k < n - 1) assertTrue(maxAfter > 1e-4, "pixel " + k + " should influence later predictions");
                for (int i = n * v; i < 2 * n * v; i++) assertEquals(base[i], after[i], 1e-5, "other sequence changed");
            }
        }
    }

    @Test
    void bertHasNoCausalMaskAndZeroesMaskedEmbeddings() {
        try (NDManager sub = m.newSubManager()) {
            ImageGpt g = new ImageGpt(sub, small(ImageGpt.Objective.BERT), 1);
            NDArray x = randomTokens(sub, new Random(4), 1, 16, 5);
            float[] base = g.logits(x, null).toFloatArray();
            int[] changed = x.toIntArray();
            changed[15] = (changed[15] + 1) % 5;
            float[] after = g.logits(sub.create(changed, new Shape(1, 16)), null).toFloatArray();
            assertTrue(Math.abs(after[0] - base[0]) > 1e-5, "BERT position 0 must see the last pixel");
            // a masked pixel's value is invisible: changing it changes nothing
            float[] mask = new float[16];
            mask[15] = 1;
            NDArray mk = sub.create(mask, new Shape(1, 16));
            float[] m1 = g.logits(x, mk).toFloatArray();
            float[] m2 = g.logits(sub.create(changed, new Shape(1, 16)), mk).toFloatArray();
            assertArrayEquals(m1, m2, 1e-6f);
        }
    }

    @Test
    void bertMaskRateAndLossOnlyOnMaskedPositions() {
        float[] mask = ImageGpt.bertMask(new Random(5), 400, 196, ImageGpt.MASK_RATE);
        double rate = 0;
        for (float f : mask) rate += f;
        rate /= mask.length;
        assertEquals(0.15, rate, 0.005, "masking rate");
        try (NDManager sub = m.newSubManager()) {
            ImageGpt g = new ImageGpt(sub, small(ImageGpt.Objective.BERT), 2);
            NDArray x = randomTokens(sub, new Random(6), 3, 16, 5);
            float[] mk = ImageGpt.bertMask(new Random(7), 3, 16, 0.3);
            NDArray mask2 = sub.create(mk, new Shape(3, 16));
            float[] nll = ImageGpt.tokenNll(g.logits(x, mask2), x).toFloatArray();
            double sum = 0, count = 0;
            for (int i = 0; i < nll.length; i++) {
                sum += nll[i] * mk[i];
                count += mk[i];
            }
            assertEquals(sum / count, g.loss(x, mask2).getFloat(), 1e-5);
            // the loss ignores the targets at unmasked positions
            int[] changed = x.toIntArray();
            for (int i = 0; i < changed.length; i++) if (mk[i] == 0) changed[i] = (changed[i] + 2) % 5;
            // (inputs at unmasked positions change too, so compare against the per-position NLL of the changed input)
            NDArray x2 = sub.create(changed, new Shape(3, 16));
            float[] nll2 = ImageGpt.tokenNll(g.logits(x2, mask2), x2).toFloatArray();
            double s2 = 0;
            for (int i = 0; i < nll2.length; i++) s2 += nll2[i] * mk[i];
            assertEquals(s2 / count, g.loss(x2, mask2).getFloat(), 1e-5);
        }
    }

    @Test
    void arLossIsTheMeanTokenNllAndNearLogVAtInit() {
        try (NDManager sub = m.newSubManager()) {
            ImageGpt g = new ImageGpt(sub, small(ImageGpt.Objective.AUTOREGRESSIVE), 3);
            NDArray x = randomTokens(sub, new Random(8), 4, 16, 5);
            float loss = g.loss(x, null).getFloat();
            assertEquals(g.nll(x).mean().getFloat(), loss, 1e-5);
            assertEquals(Math.log(5), loss, 0.5, "untrained model should be close to uniform");
        }
    }

    @Test
    void cachedAndUncachedSamplingGiveTheSameSamples() {
        try (NDManager sub = m.newSubManager()) {
            ImageGpt g = new ImageGpt(sub, small(ImageGpt.Objective.AUTOREGRESSIVE), 4);
            int[][] prefixes = {{1, 2, 3, 4, 0, 1}, {4, 4, 0, 0, 2, 3}, {0, 0, 0, 0, 0, 0}};
            for (int topK : new int[] {0, 3}) {
                int[][] a = g.sample(sub, prefixes, 1.0, topK, 11, true);
                int[][] b = g.sample(sub, prefixes, 1.0, topK, 11, false);
                for (int i = 0; i < a.length; i++) {
                    assertArrayEquals(b[i], a[i], "row " + i + " top-k " + topK);
                    for (int t = 0; t < 6; t++) assertEquals(prefixes[i][t], a[i][t], "prefix kept");
                }
            }
            long p0 = g.positionsComputed();
            int[][] u1 = g.sample(sub, new int[4][0], 1.0, 0, 12, true);
            long p1 = g.positionsComputed();
            int[][] u2 = g.sample(sub, new int[4][0], 1.0, 0, 12, false);
            long p2 = g.positionsComputed();
            assertArrayEquals(u2, u1);
            // the work the cache saves, counted: 16 positions per sequence with it, 1 + 2 + … + 16 = 136 without
            assertEquals(4 * 16, p1 - p0, "positions computed with the cache");
            assertEquals(4 * 136, p2 - p1, "positions computed without the cache");
            var timing = org.lesson8.lessons.ImageGptLesson.benchmark(g, sub, 3, 14);
            assertTrue(timing.identical(), "the benchmark's cached and uncached samples are the same");
            assertEquals(3 * 16, timing.cachedPositions());
            assertEquals(3 * 136, timing.uncachedPositions());
            assertEquals(136 / 16.0, timing.workRatio(), 1e-12);
            // top-1 is greedy: it never samples an index that is not the argmax
            int[][] greedy = g.sample(sub, new int[1][0], 1.0, 1, 13, true);
            int[][] prefix = {java.util.Arrays.copyOf(greedy[0], 8)};
            float[] logits = g.logits(sub.create(greedy[0], new Shape(1, 16)), null).toFloatArray();
            for (int t = 0; t < 16; t++) {
                int best = 0;
                for (int j = 1; j < 5; j++) if (logits[t * 5 + j] > logits[t * 5 + best]) best = j;
                assertEquals(best, greedy[0][t], "greedy sample at " + t);
            }
            assertEquals(16, g.sample(sub, prefix, 1.0, 0, 1, true)[0].length);
        }
    }

    /**
     * Reference samples for fixed seeds: a change to the random stream, the order of draws (chunks of 32 sequences,
     * position by position) or the model's arithmetic changes them.
     */
    @Test
    void fixedSeedsGiveTheReferenceSamples() throws Exception {
        try (NDManager sub = m.newSubManager()) {
            ImageGpt g = new ImageGpt(sub, small(ImageGpt.Objective.AUTOREGRESSIVE), 4);
            int[][] prefixes = {{1, 2, 3, 4, 0, 1}, {4, 4, 0, 0, 2, 3}, {0, 0, 0, 0, 0, 0}};
            assertArrayEquals(new int[][] {
                    {1, 2, 3, 4, 0, 1, 4, 0, 1, 3, 0, 3, 0, 3, 0, 1},
                    {4, 4, 0, 0, 2, 3, 1, 0, 4, 0, 3, 4, 0, 1, 2, 0},
                    {0, 0, 0, 0, 0, 0, 1, 0, 1, 1, 1, 1, 4, 0, 0, 3}}, g.sample(sub, prefixes, 1.0, 3, 11, true));
            int[][] many = new int[40][3];
            for (int i = 0; i < 40; i++) for (int t = 0; t < 3; t++) many[i][t] = (i + t) % 5;
            int[][] c = g.sample(sub, many, 0.8, 2, 21, true);
            assertArrayEquals(new int[][] {
                    {0, 1, 2, 4, 1, 1, 0, 2, 4, 1, 4, 1, 4, 4, 1, 1},
                    {1, 2, 3, 3, 0, 3, 3, 0, 3, 3, 0, 3, 3, 0, 3, 0},
                    {2, 3, 4, 1, 0, 3, 3, 4, 4, 2, 1, 1, 1, 1, 0, 0},
                    {4, 0, 1, 1, 1, 1, 1, 0, 3, 0, 3, 0, 0, 0, 0, 3}}, new int[][] {c[0], c[31], c[32], c[39]});
            // the shipped checkpoint continues a garment's silhouette (columns 4-9 of grey level 5) into the next row:
            // background outside those columns, a non-background grey inside them
            ImageGpt shipped = new ImageGpt(sub, ImageGpt.fashion(), 0);
            Checkpoint.load(shipped, Course.checkpoint("image_gpt.safetensors"));
            int[][] top = new int[2][140];
            for (int[] row : top) for (int t = 0; t < 140; t++) row[t] = t / 14 > 2 && t % 14 > 3 && t % 14 < 10 ? 5 : 0;
            int[][] done = shipped.sample(sub, top, 1.0, 0, 8, true);
            for (int col = 0; col < 14; col++) {
                boolean inside = col > 3 && col < 10;
                assertEquals(inside, done[0][140 + col] > 0, "row 10, column " + col + ": " + java.util.Arrays.toString(done[0]));
            }
            assertEquals(1486752955, java.util.Arrays.deepHashCode(done), "all 2 × 196 indices");
        }
    }

    @Test
    void bitsPerDimConversion() {
        assertEquals(1.0, ImageGpt.bitsPerDim(Math.log(2)), 1e-12);
        assertEquals(3.0, ImageGpt.bitsPerDim(Math.log(8)), 1e-12);   // uniform over 8 colours = 3 bits
    }

    @Test
    void independentBaselineOfAConstantPositionIsNearZero() {
        int n = 2, v = 4;
        byte[] codes = new byte[2 * 100];
        for (int i = 0; i < 100; i++) {
            codes[i * n] = 3;
            codes[i * n + 1] = (byte) (i % 4);
        }
        double[][] h = ImageGptLesson.positionHistogram(codes, n, v);
        assertEquals(101.0 / 104, h[0][3], 1e-12);
        assertEquals(26.0 / 104, h[1][2], 1e-12);
        double nll = ImageGptLesson.independentNll(h, codes, n);
        assertEquals((-Math.log(101.0 / 104) - Math.log(26.0 / 104)) / 2, nll, 1e-9);
    }

    @Test
    void paletteRoundTripAndKmeans() {
        Random r = new Random(9);
        float[][] samples = new float[3000][];
        float[] truth = {0.05f, 0.5f, 0.9f};
        for (int i = 0; i < samples.length; i++) samples[i] = new float[] {truth[i % 3] + (float) r.nextGaussian() * 0.02f};
        Palette p = Palette.kmeans(samples, 3, 30, 1);
        for (int j = 0; j < 3; j++) assertEquals(truth[j], p.colour(j)[0], 0.01, "centre " + j + " (sorted dark → bright)");
        int[] seq = new int[16];
        for (int t = 0; t < 16; t++) seq[t] = r.nextInt(3);
        assertArrayEquals(seq, p.encode(p.decode(seq, 4, 4), 4, 4), "decode then encode is the identity");
        // RGB palette round trip
        Palette rgb = new Palette(new float[][] {{0, 0, 0}, {1, 0, 0}, {0, 0, 1}, {1, 1, 1}});
        int[] s3 = {0, 1, 2, 3, 3, 2};
        float[] img = rgb.decode(s3, 2, 3);
        assertEquals(18, img.length);
        assertEquals(1f, img[1]);            // red channel of pixel 1
        assertEquals(1f, img[2 * 6 + 2]);    // blue channel of pixel 2
        assertArrayEquals(s3, rgb.encode(img, 2, 3));
    }

    @Test
    void downsampleAveragesBlocksAndUpsampleRepeats() {
        float[] img = new float[16];
        for (int i = 0; i < 16; i++) img[i] = i;
        float[] small = Palette.downsample(img, 1, 4, 4, 2);
        assertArrayEquals(new float[] {2.5f, 4.5f, 10.5f, 12.5f}, small, 1e-6f);
        float[] up = Palette.upsample(small, 1, 2, 2, 2);
        assertEquals(2.5f, up[0]);
        assertEquals(2.5f, up[5]);
        assertEquals(12.5f, up[15]);
        assertThrows(IllegalArgumentException.class, () -> Palette.downsample(new float[28 * 28], 1, 28, 28, 16));
    }

    @Test
    void clearErrorsForBadIndicesAndSizes() {
        Palette p = new Palette(new float[][] {{0}, {0.5f}, {1}});
        var e1 = assertThrows(IllegalArgumentException.class, () -> p.decode(new int[] {0, 1, 3, 0}, 2, 2));
        assertTrue(e1.getMessage().contains("palette index 3") && e1.getMessage().contains("3 colours"), e1.getMessage());
        var e2 = assertThrows(IllegalArgumentException.class, () -> p.encode(new float[28 * 28], 14, 14));
        assertTrue(e2.getMessage().contains("14×14"), e2.getMessage());
        assertThrows(IllegalArgumentException.class, () -> p.decode(new int[] {0, -1, 0, 0}, 2, 2));
        try (NDManager sub = m.newSubManager()) {
            ImageGpt g = new ImageGpt(sub, small(ImageGpt.Objective.AUTOREGRESSIVE), 1);
            int[] bad = new int[16];
            bad[7] = 5;
            var e3 = assertThrows(IllegalArgumentException.class, () -> g.logits(sub.create(bad, new Shape(1, 16)), null));
            assertTrue(e3.getMessage().contains("palette index 5"), e3.getMessage());
            var e4 = assertThrows(IllegalArgumentException.class, () -> g.logits(sub.create(new int[20], new Shape(1, 20)), null));
            assertTrue(e4.getMessage().contains("4×4"), e4.getMessage());
            var e5 = assertThrows(IllegalArgumentException.class, () -> g.features(sub.create(new int[8], new Shape(1, 8))));
            assertTrue(e5.getMessage().contains("16"), e5.getMessage());
            assertThrows(IllegalArgumentException.class, () -> g.sample(sub, new int[][] {{0, 9}}, 1.0, 0, 1, true));
            ImageGpt bert = new ImageGpt(sub, small(ImageGpt.Objective.BERT), 1);
            var e6 = assertThrows(IllegalStateException.class, () -> bert.sample(sub, new int[1][0], 1.0, 0, 1, true));
            assertTrue(e6.getMessage().contains("autoregressive"), e6.getMessage());
        }
    }

    @Test
    void arModelLearnsAFixedPatternAndProbeSeparatesClasses() {
        try (NDManager sub = m.newSubManager()) {
            ImageGpt g = new ImageGpt(sub, small(ImageGpt.Objective.AUTOREGRESSIVE), 5);
            int[] pattern = {0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0};
            TrainLoop loop = new TrainLoop(g, new Optim(g, 1e-2f, 0f, 5, 60, 1f), new MetricsLog());
            loop.run(60, (s, step, mt) -> {
                int[] v = new int[8 * 16];
                for (int i = 0; i < 8; i++) System.arraycopy(pattern, 0, v, i * 16, 16);
                return g.loss(s.create(v, new Shape(8, 16)), null);
            }, null);
            assertTrue(loop.log().tailMean("loss", 5) < 0.3, "loss " + loop.log().tailMean("loss", 5));
            int[][] out = g.sample(sub, new int[][] {{0, 1}}, 0.5, 0, 3, true);
            assertArrayEquals(pattern, out[0]);
        }
        // the probe: two linearly separable clouds
        Random r = new Random(10);
        float[][] x = new float[400][2];
        int[] y = new int[400];
        for (int i = 0; i < 400; i++) {
            y[i] = i % 2;
            x[i][0] = (float) (r.nextGaussian() + (y[i] == 0 ? -2 : 2));
            x[i][1] = (float) r.nextGaussian();
        }
        var res = LinearProbe.fit(m, x, y, x, y, 2, 200, 1);
        assertTrue(res.testAccuracy() > 0.95, "probe accuracy " + res.testAccuracy() + " losses " + java.util.Arrays.toString(java.util.Arrays.copyOf(res.log().column("loss"), 5)) + " last " + res.log().tailMean("loss", 5));
    }
}
