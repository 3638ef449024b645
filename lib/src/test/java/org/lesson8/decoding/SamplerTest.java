package org.lesson8.decoding;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;
import org.lesson8.NdTest;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class SamplerTest extends NdTest {
    static final int TEXT = 4, IMAGE = 6, TEXT_VOCAB = 5, IMAGE_VOCAB = 7;

    static TextImageToy toy(NDManager sub) {
        return new TextImageToy(sub, TEXT, IMAGE, TEXT_VOCAB, IMAGE_VOCAB, 1);
    }

    /** {@code count} equal-length prefixes of text ids. */
    static int[][] captions(int count, int length, long seed) {
        Random r = new Random(seed);
        int[][] p = new int[count][length];
        for (int[] row : p) for (int t = 0; t < length; t++) row[t] = r.nextInt(TEXT_VOCAB);
        return p;
    }

    static int[][] sample(NDManager sub, TextImageToy model, int[][] prefixes, Sampling how, long seed) {
        return Sampler.sample(sub, model, prefixes, how, new Random(seed));
    }

    /** Index of the largest of logits[from … to) in row {@code row} of a (rows × width) table. */
    static int argmax(float[] logits, int row, int width, TokenRange r) {
        int best = r.from();
        for (int j = r.from(); j < r.to(); j++) if (logits[row * width + j] > logits[row * width + best]) best = j;
        return best;
    }

    @Test
    void cachedStepsGiveTheFullForwardsLogits() {
        try (NDManager sub = m.newSubManager()) {
            TextImageToy model = toy(sub);
            int n = model.length(), v = model.vocab();
            int[] seq = sample(sub, model, captions(1, 2, 2), Sampling.of(1, 0).allowing(model::allowed), 3)[0];
            float[] full = model.logits(sub.create(seq, new Shape(1, n))).toFloatArray();
            DecoderCache cache = model.newCache();
            float[] step = model.next(sub.create(Arrays.copyOf(seq, 2), new Shape(1, 2)), cache).toFloatArray();
            for (int t = 2; t < n; t++) {
                float[] scratch = model.next(sub.create(Arrays.copyOf(seq, t), new Shape(1, t)), null).toFloatArray();
                for (int j = 0; j < v; j++) {
                    assertEquals(full[t * v + j], step[j], 1e-5, "cached step, position " + t);
                    assertEquals(full[t * v + j], scratch[j], 1e-5, "uncached next, position " + t);
                }
                assertEquals(t + 1, cache.length(), "positions cached: start token and " + t + " tokens");
                if (t + 1 < n) step = model.next(sub.create(new int[] {seq[t]}, new Shape(1, 1)), cache).toFloatArray();
            }
        }
    }

    @Test
    void cachedAndUncachedSamplingAgreeAcrossChunks() {
        try (NDManager sub = m.newSubManager()) {
            TextImageToy model = toy(sub);
            int[][] prefixes = captions(Sampler.CHUNK + 8, 1, 4);
            Sampling how = Sampling.of(1.5, 0).allowing(model::allowed);
            int[][] a = sample(sub, model, prefixes, how, 5);
            int[][] b = sample(sub, model, prefixes, how.withCache(false), 5);
            assertArrayEquals(b, a);
            for (int k : new int[] {0, 3}) {
                Sampling top = Sampling.of(1.0, k);
                assertArrayEquals(sample(sub, model, new int[3][0], top.withCache(false), 6), sample(sub, model, new int[3][0], top, 6));
            }
        }
    }

    @Test
    void everySampledIdLiesInItsPositionsRange() {
        try (NDManager sub = m.newSubManager()) {
            TextImageToy model = toy(sub);
            int[][] prefixes = captions(50, 1, 7);
            int[][] restricted = sample(sub, model, prefixes, Sampling.of(2.0, 0).allowing(model::allowed), 8);
            int[][] free = sample(sub, model, prefixes, Sampling.of(2.0, 0), 8);
            int outside = 0;
            for (int i = 0; i < prefixes.length; i++) {
                for (int t = 1; t < model.length(); t++) {
                    assertTrue(model.allowed(t).contains(restricted[i][t]), "sequence " + i + " position " + t + ": " + restricted[i][t]);
                    if (!model.allowed(t).contains(free[i][t])) outside++;
                }
            }
            assertTrue(outside > 50, "without the restriction this model often picks the other kind of id: " + outside);
        }
    }

    @Test
    void topOneIsTheGreedyArgmaxWithinTheAllowedIds() {
        try (NDManager sub = m.newSubManager()) {
            TextImageToy model = toy(sub);
            int n = model.length(), v = model.vocab();
            int[][] prefixes = captions(3, 1, 9);
            for (boolean cached : new boolean[] {true, false}) {
                int[][] greedy = sample(sub, model, prefixes, Sampling.of(1.0, 1).allowing(model::allowed).withCache(cached), 10);
                for (int i = 0; i < greedy.length; i++) {
                    float[] logits = model.logits(sub.create(greedy[i], new Shape(1, n))).toFloatArray();
                    for (int t = 1; t < n; t++) {
                        assertEquals(argmax(logits, t, v, model.allowed(t)), greedy[i][t], "sequence " + i + " position " + t);
                    }
                }
            }
        }
    }

    @Test
    void temperatureTowardsZeroBecomesGreedy() {
        try (NDManager sub = m.newSubManager()) {
            TextImageToy model = toy(sub);
            int[][] prefixes = captions(8, 2, 11);
            Sampling restricted = Sampling.of(1.0, 1).allowing(model::allowed);
            int[][] greedy = sample(sub, model, prefixes, restricted, 12);
            for (double temperature : new double[] {1e-9, 0}) {
                for (long seed : new long[] {13, 14}) {
                    int[][] cold = sample(sub, model, prefixes, Sampling.of(temperature, 0).allowing(model::allowed), seed);
                    assertArrayEquals(greedy, cold, "temperature " + temperature + ", seed " + seed);
                }
            }
            int[][] warm = sample(sub, model, prefixes, Sampling.of(1.0, 0).allowing(model::allowed), 13);
            assertFalse(Arrays.deepEquals(greedy, warm), "at temperature 1 this model does not sample greedily");
        }
    }

    @Test
    void aCaptionIsContinuedWithImageIdsOnly() {
        try (NDManager sub = m.newSubManager()) {
            TextImageToy model = toy(sub);
            int[][] caption = captions(2, TEXT, 15);
            caption[1] = caption[0].clone();
            caption[1][TEXT - 1] = (caption[0][TEXT - 1] + 1) % TEXT_VOCAB;
            Sampling how = Sampling.of(1.0, 4).allowing(model::allowed);
            int[][] same = sample(sub, model, new int[][] {caption[0], caption[0], caption[0]}, how, 16);
            int[][] images = sample(sub, model, caption, how, 16);
            for (int i = 0; i < 2; i++) {
                assertArrayEquals(caption[i], Arrays.copyOf(images[i], TEXT), "the caption is kept");
                for (int t = TEXT; t < model.length(); t++) {
                    assertTrue(model.imageIds().contains(images[i][t]), "image position " + t + " took " + images[i][t]);
                }
            }
            assertArrayEquals(images, sample(sub, model, caption, how.withCache(false), 16), "cached = uncached");
            float[] a = model.next(sub.create(caption[0], new Shape(1, TEXT)), null).toFloatArray();
            float[] b = model.next(sub.create(caption[1], new Shape(1, TEXT)), null).toFloatArray();
            double diff = 0;
            for (int j = 0; j < a.length; j++) diff = Math.max(diff, Math.abs(a[j] - b[j]));
            assertTrue(diff > 1e-3, "the first image token depends on the caption");
            assertFalse(Arrays.equals(same[0], same[1]), "one caption, several images");
        }
    }

    @Test
    void badSettingsAndPrefixesGetClearErrors() {
        try (NDManager sub = m.newSubManager()) {
            TextImageToy model = toy(sub);
            Sampling how = Sampling.of(1.0, 0).allowing(model::allowed);
            var e1 = assertThrows(IllegalArgumentException.class, () -> sample(sub, model, new int[][] {{1, TEXT_VOCAB}}, how, 1));
            assertTrue(e1.getMessage().contains("token " + TEXT_VOCAB + " at position 1") && e1.getMessage().contains("ids 0…4"), e1.getMessage());
            var e2 = assertThrows(IllegalArgumentException.class, () -> sample(sub, model, new int[][] {{1, 2}, {1}}, how, 1));
            assertTrue(e2.getMessage().contains("same length"), e2.getMessage());
            assertThrows(IllegalArgumentException.class, () -> sample(sub, model, new int[1][model.length() + 1], Sampling.of(1, 0), 1));
            var e3 = assertThrows(IllegalArgumentException.class, () -> sample(sub, model, new int[1][0],
                    Sampling.of(1, 0).allowing(t -> new TokenRange(0, model.vocab() + 1)), 1));
            assertTrue(e3.getMessage().contains("only " + model.vocab() + " ids"), e3.getMessage());
            assertThrows(IllegalArgumentException.class, () -> Sampling.of(-0.5, 0));
            assertThrows(IllegalArgumentException.class, () -> Sampling.of(Double.NaN, 0));
            assertThrows(IllegalArgumentException.class, () -> Sampling.of(1, -1));
            assertThrows(IllegalArgumentException.class, () -> new TokenRange(3, 3));
        }
    }

    @Test
    void anInterruptedThreadStopsSampling() {
        try (NDManager sub = m.newSubManager()) {
            TextImageToy model = toy(sub);
            for (boolean cached : new boolean[] {true, false}) {
                Thread.currentThread().interrupt();
                try {
                    var e = assertThrows(RuntimeException.class,
                            () -> sample(sub, model, new int[2][0], Sampling.of(1, 0).withCache(cached), 1));
                    assertTrue(e.getMessage().contains("interrupted"), e.getMessage());
                } finally {
                    Thread.interrupted();
                }
            }
        }
    }
}
