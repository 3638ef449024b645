package org.lesson8.decoding;

import ai.djl.ndarray.NDArray;

/**
 * A decoder-only (causal) transformer as the {@link Sampler} sees it: a distribution over sequences of token ids,
 * factorised left to right.
 * <pre>
 *   p(x) = Π_t p(x_t | x_{&lt;t}),   p(x_t | x_{&lt;t}) = softmax(logits_t),   t = 0 … length−1
 * </pre>
 * Image GPT is one (palette indices); DALL·E's transformer is another, over [text tokens ; image tokens] in one
 * vocabulary. Because of the causal mask, the keys and values of past positions never change, so a
 * {@link DecoderCache} can keep them and each new token then costs one position instead of the whole prefix.
 */
public interface CausalDecoder {
    /** Positions in a full sequence. */
    int length();

    /** Width of the logits: token ids are 0 … vocab−1. */
    int vocab();

    /** Full forward: logits (B, T, vocab) of sequences (B, T), T ≤ length; row t predicts x_t from x_{&lt;t}. */
    NDArray logits(NDArray tokens);

    /** An empty cache with one key/value store per attention layer. */
    DecoderCache newCache();

    /**
     * Logits (B, vocab) of the next token. Without a cache ({@code cache} null) {@code tokens} (B, t) is the whole
     * sequence so far, x_0 … x_{t−1} (t may be 0), and x_t is predicted from scratch. With a cache, {@code tokens}
     * holds only the tokens the cache has not seen: the whole prefix on the first call, then one token per call;
     * the cache grows by the positions computed. The results are the same either way.
     */
    NDArray next(NDArray tokens, DecoderCache cache);
}
