package org.lesson8.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;
import org.lesson8.NdTest;
import org.lesson8.data.Tokenizer;
import org.lesson8.decoding.Sampler;
import org.lesson8.decoding.Sampling;
import org.lesson8.decoding.TokenRange;
import org.lesson8.train.MetricsLog;
import org.lesson8.train.Recipe;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class DallETest extends NdTest {
    /** V_t = 6 tokenizer ids, L = 4 text positions (ids 0..9 with padding), a 2×2 grid of K = 5 codes (ids 10..14). */
    static DallE.Config tiny() {
        return new DallE.Config("tiny", 6, 4, 2, 5, 16, 2, 2, 32);
    }

    /** Captions (B, 4) ending in padding and image tokens (B, 4). */
    static final int[][] TEXT = {{1, 3, 2, 0}, {1, 4, 5, 2}, {1, 2, 0, 0}};
    static final int[][] CODES = {{0, 4, 4, 1}, {2, 2, 3, 0}, {1, 1, 1, 1}};

    static NDArray ints(NDManager s, int[][] rows) {
        int[] v = new int[rows.length * rows[0].length];
        for (int i = 0; i < rows.length; i++) System.arraycopy(rows[i], 0, v, i * rows[0].length, rows[0].length);
        return s.create(v, new Shape(rows.length, rows[0].length));
    }

    @Test
    void parameterCountFromConfigEqualsTheBuiltModelAndThePaperIsTwelveBillion() {
        for (DallE.Config c : new DallE.Config[] {tiny(), DallE.course(Tokenizer.course().size(), Dvae.course())}) {
            try (NDManager s = m.newSubManager()) {
                assertEquals(c.parameterCount(), new DallE(s, c, 0).parameterCount(), c.name());
            }
        }
        long paper = DallE.paper().parameterCount();
        assertTrue(paper > 12.2e9 && paper < 12.4e9, "DALL·E 12B from its configuration: " + paper);
        assertEquals(Tokenizer.PAD_ID, DallE.PAD, "the model's padding id is the tokenizer's");
    }

    @Test
    void idLayoutAndPadding() {
        DallE.Config c = tiny();
        assertEquals(new TokenRange(0, 10), c.textIds());
        assertEquals(new TokenRange(10, 15), c.imageIds());
        assertEquals(c.textIds(), c.allowed(3));
        assertEquals(c.imageIds(), c.allowed(4));
        try (NDManager s = m.newSubManager()) {
            DallE d = new DallE(s, c, 1);
            NDArray seq = d.sequence(ints(s, TEXT), ints(s, CODES));
            assertArrayEquals(new long[] {1, 2, 0, 0, 11, 11, 11, 11}, seq.get("2").toLongArray(), "codes move to the image ids");
            // the padding at text position j becomes id V_t + j = 6 + j; a word id 0 elsewhere is impossible
            assertArrayEquals(new long[] {1, 2, 8, 9, 11, 11, 11, 11}, d.withPadIds(seq, 0).get("2").toLongArray());
            int[] flat = seq.toType(ai.djl.ndarray.types.DataType.INT32, false).toIntArray();
            int[][] rows = new int[3][];
            for (int b = 0; b < 3; b++) rows[b] = java.util.Arrays.copyOfRange(flat, b * 8, b * 8 + 8);
            assertArrayEquals(CODES, d.codes(rows));
            String msg = assertThrows(IllegalArgumentException.class, () -> d.withPadIds(s.create(new int[] {1, 2, 0, 0, 3}, new Shape(1, 5)), 0)).getMessage();
            assertTrue(msg.contains("id 3 at position 4") && msg.contains("ids 10…14"), msg);
            String shapes = assertThrows(IllegalArgumentException.class, () -> d.sequence(ints(s, TEXT), ints(s, new int[][] {{1, 2, 3}, {1, 2, 3}, {1, 2, 3}}))).getMessage();
            assertTrue(shapes.contains("pad captions to 4"), shapes);
        }
    }

    @Test
    void eachInputPositionGetsItsOwnPositionEmbedding() {
        DallE.Config c = tiny();
        try (NDManager s = m.newSubManager()) {
            DallE d = new DallE(s, c, 2);
            d.tokenEmbed.table.set(new float[(int) d.tokenEmbed.table.size()]);   // inputs = position terms only
            float[] got = d.inputs(ints(s, new int[][] {{1, 3, 2, 0, 10, 11, 12, 13}}).get(":, :7"), 0, true).toFloatArray();
            float[] start = d.start.toFloatArray(), text = d.textPos.table.toFloatArray();
            float[] row = d.rowPos.toFloatArray(), col = d.colPos.toFloatArray();
            int dim = c.dim();
            String[] kinds = {"START", "TEXT", "TEXT", "TEXT", "TEXT", "IMAGE", "IMAGE", "IMAGE"};
            for (int p = 0; p < 7; p++) {
                DallE.Input in = d.input(p);
                assertEquals(kinds[p], in.kind().name(), "position " + p);
                for (int e = 0; e < dim; e++) {
                    float want = switch (in.kind()) {
                        case START -> start[e];
                        case TEXT -> text[in.index() * dim + e];
                        case IMAGE -> row[in.row() * dim + e] + col[in.column() * dim + e];
                    };
                    assertEquals(want, got[p * dim + e], 1e-6, "position " + p + " element " + e);
                }
            }
            assertEquals(new DallE.Input(DallE.Input.Kind.IMAGE, 2, 1, 0), d.input(7), "the image token at row 1, column 0");
        }
    }

    @Test
    void changingATokenChangesOnlyLaterPredictions() {
        try (NDManager s = m.newSubManager()) {
            DallE d = new DallE(s, tiny(), 3);
            NDArray seq = d.sequence(ints(s, TEXT), ints(s, CODES)).get("0:1");
            int n = 8, v = 15;
            float[] base = d.logits(seq).toFloatArray();
            for (int k : new int[] {1, 3, 5}) {
                long[] changed = seq.toLongArray();
                changed[k] = k < 4 ? 4 : 13;
                float[] after = d.logits(s.create(changed, new Shape(1, n))).toFloatArray();
                double upToK = 0, later = 0;
                for (int t = 0; t < n; t++) {
                    for (int j = 0; j < v; j++) {
                        double diff = Math.abs(after[t * v + j] - base[t * v + j]);
                        if (t <= k) upToK = Math.max(upToK, diff);
                        else later = Math.max(later, diff);
                    }
                }
                assertTrue(upToK < 1e-5, "a prediction at a position ≤ " + k + " changed by " + upToK);
                assertTrue(later > 1e-4, "token " + k + " must influence later predictions");
            }
        }
    }

    @Test
    void theLossIsTheRestrictedCrossEntropyWeightedOneEighthAndSevenEighths() {
        DallE.Config c = tiny();
        try (NDManager s = m.newSubManager()) {
            DallE d = new DallE(s, c, 4);
            NDArray text = ints(s, TEXT), codes = ints(s, CODES);
            NDArray seq = d.sequence(text, codes);
            float[] logits = d.logits(seq).toFloatArray();
            float[] probs = d.logits(seq).logSoftmax(2).exp().toFloatArray();
            long[] targets = d.withPadIds(seq, 0).toLongArray();
            int n = c.length(), v = c.vocab();
            double textSum = 0, imageSum = 0;
            for (int b = 0; b < 3; b++) {
                for (int t = 0; t < n; t++) {
                    TokenRange r = c.allowed(t);
                    double max = Double.NEGATIVE_INFINITY, z = 0;
                    for (int j = r.from(); j < r.to(); j++) max = Math.max(max, logits[(b * n + t) * v + j]);
                    for (int j = r.from(); j < r.to(); j++) z += Math.exp(logits[(b * n + t) * v + j] - max);
                    double nll = max + Math.log(z) - logits[(b * n + t) * v + (int) targets[b * n + t]];
                    if (t < c.textLength()) textSum += nll;
                    else imageSum += nll;
                    for (int j = 0; j < v; j++) {
                        if (!r.contains(j)) assertEquals(0f, probs[(b * n + t) * v + j], "p(id " + j + ") at position " + t);
                    }
                }
            }
            double textCe = textSum / (3 * c.textLength()), imageCe = imageSum / (3 * c.imageTokens());
            DallE.Losses l = d.losses(text, codes);
            assertEquals(textCe, l.text().getFloat(), 1e-5);
            assertEquals(imageCe, l.image().getFloat(), 1e-5);
            assertEquals(textCe / 8 + 7 * imageCe / 8, l.loss().getFloat(), 1e-5);
            assertNotEquals(textCe, imageCe, 1e-3, "the weights are visible only if the two parts differ");
        }
    }

    @Test
    void cachedAndUncachedSamplingAgreeAndImagePositionsGetImageIds() {
        DallE.Config c = tiny();
        try (NDManager s = m.newSubManager()) {
            DallE d = new DallE(s, c, 5);
            int[][] captions = {{1, 3, 2, 0}, {1, 4, 5, 2}};
            for (int topK : new int[] {0, 2}) {
                int[][] a = Sampler.sample(s, d, captions, d.sampling(1.5, topK), new Random(9));
                int[][] b = Sampler.sample(s, d, captions, d.sampling(1.5, topK).withCache(false), new Random(9));
                assertArrayEquals(b, a, "top-k " + topK);
                for (int[] row : a) for (int t = c.textLength(); t < c.length(); t++) assertTrue(c.imageIds().contains(row[t]), "id " + row[t]);
            }
            // from the start token alone, every text position takes a text id and every image position an image id,
            // with the Sampler's restriction and also without it (the model's own logits mask)
            for (Sampling how : new Sampling[] {d.sampling(2.0, 0), Sampling.of(2.0, 0), Sampling.of(2.0, 0).withCache(false)}) {
                for (long seed = 0; seed < 5; seed++) {
                    int[][] free = Sampler.sample(s, d, new int[3][0], how, new Random(seed));
                    for (int[] row : free) for (int t = 0; t < c.length(); t++) assertTrue(c.allowed(t).contains(row[t]), "id " + row[t] + " at " + t);
                }
            }
            int[][] codes = d.sample(s, captions, 1.0, 0, 3, true);
            assertArrayEquals(codes, d.sample(s, captions, 1.0, 0, 3, false));
            for (int[] row : codes) for (int k : row) assertTrue(k >= 0 && k < c.codes(), "dVAE code " + k);
            assertThrows(IllegalArgumentException.class, () -> d.sample(s, new int[][] {{1, 2}}, 1.0, 0, 3, true));
        }
    }

    @Test
    void aFewStepsLowerTheLossOnAFixedBatch() {
        try (NDManager s = m.newSubManager()) {
            DallE d = new DallE(s, tiny(), 6);
            MetricsLog log = new MetricsLog();
            new Recipe(3, 1e-2f, 0f, 0, 1f).loop(d, 30, log).run(30, (mm, step, metrics) -> {
                DallE.Losses l = d.losses(ints(mm, TEXT), ints(mm, CODES));
                metrics.put("image", (double) l.image().getFloat());
                return l.loss();
            }, null);
            double first = log.column("loss")[0], last = log.tailMean("loss", 3);
            assertTrue(last < 0.5 * first, "loss " + first + " → " + last);
            assertTrue(log.column("image")[29] < 0.5 * log.column("image")[0], "the image part learns too");
        }
    }
}
