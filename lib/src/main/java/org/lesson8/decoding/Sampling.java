package org.lesson8.decoding;

import java.util.function.IntFunction;

/**
 * How the {@link Sampler} draws each token.
 *
 * @param temperature logits are divided by it: 1 = the model's distribution, towards 0 = the most likely token
 * @param topK        keep only the k most likely ids (0 = all of them)
 * @param allowed     the ids position t may take, or null for the whole vocabulary (logits outside are ignored)
 * @param cached      feed each new token once, keeping keys and values ({@link DecoderCache}), instead of
 *                    recomputing the whole sequence for every token; both give the same samples
 */
public record Sampling(double temperature, int topK, IntFunction<TokenRange> allowed, boolean cached) {
    public Sampling {
        if (!(temperature >= 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be a number ≥ 0 (1 = the model's distribution), got " + temperature);
        }
        if (topK < 0) throw new IllegalArgumentException("top-k must be ≥ 0 (0 keeps every id), got " + topK);
    }

    /** Temperature and top-k over the whole vocabulary, with the cache. */
    public static Sampling of(double temperature, int topK) {
        return new Sampling(temperature, topK, null, true);
    }

    /** The same, with position t restricted to {@code allowed.apply(t)}. */
    public Sampling allowing(IntFunction<TokenRange> allowed) {
        return new Sampling(temperature, topK, allowed, cached);
    }

    public Sampling withCache(boolean cached) {
        return new Sampling(temperature, topK, allowed, cached);
    }

    /** The ids position t may take in a vocabulary of {@code vocab}. */
    TokenRange range(int t, int vocab) {
        TokenRange r = allowed == null ? TokenRange.all(vocab) : allowed.apply(t);
        if (r.to() > vocab) {
            throw new IllegalArgumentException("position " + t + " allows " + r + " but the model has only " + vocab + " ids");
        }
        return r;
    }
}
