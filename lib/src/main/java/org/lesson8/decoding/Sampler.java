package org.lesson8.decoding;

import org.lesson8.course.Interruption;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import java.util.Arrays;
import java.util.Random;

/**
 * Autoregressive sampling from a {@link CausalDecoder}: each prefix is continued to the model's full length, one
 * token at a time, as in Image GPT's completions (Chen et al. 2020, Fig. 1) and DALL·E's images after a caption
 * (Ramesh et al. 2021, Sec. 2.2).
 * <pre>
 *   for t = p … n−1:   z_j = logits_t[j] / τ           for the ids j allowed at position t
 *                      keep the k largest z_j           (top-k)
 *                      x_t ~ softmax(z)                 one draw per sequence from one seeded stream
 * </pre>
 * With the cache, the prefix is fed once and every new token costs one position. Large batches are sampled in
 * chunks of {@link #CHUNK} sequences (in order, same random stream), which bounds the memory of the prefix pass.
 */
public final class Sampler {
    /** Sequences sampled together. */
    public static final int CHUNK = 32;

    private Sampler() {}

    /**
     * Continues every prefix to {@code model.length()} tokens. All prefixes must have the same length p (0 for
     * unconditional samples) and hold ids allowed at their positions; they are copied unchanged into the result.
     */
    public static int[][] sample(NDManager parent, CausalDecoder model, int[][] prefixes, Sampling how, Random rng) {
        int b = prefixes.length;
        int n = model.length();
        int p = b == 0 ? 0 : prefixes[0].length;
        int[][] out = new int[b][n];
        for (int i = 0; i < b; i++) {
            if (prefixes[i].length != p) {
                throw new IllegalArgumentException("all prefixes must have the same length: prefix " + i + " has "
                        + prefixes[i].length + " tokens, prefix 0 has " + p);
            }
            if (p > n) throw new IllegalArgumentException("prefix of " + p + " tokens is longer than the " + n + " positions");
            for (int t = 0; t < p; t++) {
                TokenRange r = how.range(t, model.vocab());
                if (!r.contains(prefixes[i][t])) {
                    throw new IllegalArgumentException("token " + prefixes[i][t] + " at position " + t + " of prefix " + i
                            + " is out of range: position " + t + " takes " + r);
                }
                out[i][t] = prefixes[i][t];
            }
        }
        for (int start = 0; start < b && p < n; start += CHUNK) {
            int[][] part = Arrays.copyOfRange(out, start, Math.min(b, start + CHUNK));   // rows are shared with out
            if (how.cached()) cached(parent, model, part, p, how, rng);
            else uncached(parent, model, part, p, how, rng);
        }
        return out;
    }

    private static void cached(NDManager parent, CausalDecoder model, int[][] out, int p, Sampling how, Random rng) {
        int n = model.length();
        try (NDManager m = parent.newSubManager()) {
            DecoderCache cache = model.newCache();                   // its arrays live in m
            float[] last = model.next(tokens(m, out, 0, p), cache).toFloatArray();
            for (int t = p; t < n; t++) {
                Interruption.check("sampling", t - p, n - p, () -> "no sequence was returned");
                draw(last, out, t, how, rng, model.vocab());
                if (t + 1 == n) break;
                // one new token: its temporaries live in a step manager that is closed at once
                // (the grown cache stays in m: a concatenation belongs to the cache's manager)
                try (NDManager step = m.newSubManager()) {
                    last = model.next(tokens(step, out, t, t + 1), cache).toFloatArray();
                }
            }
        }
    }

    private static void uncached(NDManager parent, CausalDecoder model, int[][] out, int p, Sampling how, Random rng) {
        for (int t = p; t < model.length(); t++) {
            Interruption.check("sampling", t - p, model.length() - p, () -> "no sequence was returned");
            try (NDManager m = parent.newSubManager()) {
                draw(model.next(tokens(m, out, 0, t), null).toFloatArray(), out, t, how, rng, model.vocab());
            }
        }
    }

    /** Tokens from..to−1 of each sequence as an int array (B, to − from). */
    private static NDArray tokens(NDManager m, int[][] seq, int from, int to) {
        int w = to - from;
        int[] v = new int[seq.length * w];
        for (int i = 0; i < seq.length; i++) System.arraycopy(seq[i], from, v, i * w, w);
        return m.create(v, new Shape(seq.length, w));
    }

    /** Samples position t of every sequence from logits (B × vocab). */
    private static void draw(float[] logits, int[][] out, int t, Sampling how, Random rng, int vocab) {
        TokenRange range = how.range(t, vocab);
        int v = range.size();
        for (int i = 0; i < out.length; i++) {
            double[] z = new double[v];
            for (int j = 0; j < v; j++) z[j] = logits[i * vocab + range.from() + j] / Math.max(how.temperature(), 1e-6);
            if (how.topK() > 0 && how.topK() < v) {
                double[] sorted = z.clone();
                Arrays.sort(sorted);
                double kth = sorted[v - how.topK()];
                for (int j = 0; j < v; j++) if (z[j] < kth) z[j] = Double.NEGATIVE_INFINITY;
            }
            double max = Double.NEGATIVE_INFINITY;
            for (double d : z) max = Math.max(max, d);
            double sum = 0;
            for (int j = 0; j < v; j++) {
                z[j] = Math.exp(z[j] - max);
                sum += z[j];
            }
            double r = rng.nextDouble() * sum;
            int pick = v - 1;
            for (int j = 0; j < v; j++) {
                r -= z[j];
                if (r <= 0) {
                    pick = j;
                    break;
                }
            }
            out[i][t] = range.from() + pick;
        }
    }
}
