package org.lesson8.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import java.util.Random;

/**
 * Multi-head self-attention (Vaswani et al. 2017), optionally causal, with a key/value cache for incremental decoding.
 * <pre>
 *   Q = x Wq,  [K ; V] = x Wkv
 *   A = softmax(Q Kᵀ / √d_head + M)       (M = 0, or −∞ above the diagonal for a causal mask)
 *   out = concat_heads(A V) Wo
 * </pre>
 * Attention to another sequence is {@link CrossAttention}.
 */
public class MultiHeadAttention extends Module {
    public final int heads;
    public final long dim;
    public final Linear q;
    public final Linear kv;
    public final Linear proj;

    /** Output of one attention call; {@code weights} is (B, heads, T, S) when requested, else null. */
    public record Result(NDArray out, NDArray weights) {}

    /** A key/value cache for incremental decoding: keys and values of all positions seen so far. */
    public static final class KVCache {
        NDArray k;
        NDArray v;

        public long length() {
            return k == null ? 0 : k.getShape().get(2);
        }
    }

    public MultiHeadAttention(NDManager m, Random rng, long dim, int heads) {
        super(m);
        checkHeads(dim, heads);
        this.heads = heads;
        this.dim = dim;
        q = child("q", new Linear(m, rng, dim, dim));
        kv = child("kv", new Linear(m, rng, dim, 2 * dim));
        proj = child("proj", new Linear(m, rng, dim, dim));
    }

    static void checkHeads(long dim, int heads) {
        if (dim % heads != 0) {
            throw new IllegalArgumentException("width " + dim + " is not divisible by " + heads + " heads");
        }
    }

    static void checkInput(NDArray x, long dim) {
        Shape s = x.getShape();
        if (s.dimension() != 3 || s.get(2) != dim) {
            throw new IllegalArgumentException("attention expects (batch, tokens, " + dim + ") but got " + s);
        }
    }

    /** Self-attention without mask. */
    public Result forward(NDArray x) {
        return forward(x, false, false, null);
    }

    /**
     * @param x        the sequence (B, T, D)
     * @param causal   forbid attending to later positions (position i sees keys 0..i+offset)
     * @param weights  return the attention weights
     * @param cache    key/value cache for incremental decoding, or null
     */
    public Result forward(NDArray x, boolean causal, boolean weights, KVCache cache) {
        checkInput(x, dim);
        NDArray qh = Attention.split(q.forward(x), heads);
        NDArray[] kvh = Attention.splitKv(kv.forward(x), heads);
        NDArray kh = kvh[0];
        NDArray vh = kvh[1];
        long offset = 0;
        if (cache != null) {
            offset = cache.length();
            if (cache.k != null) {
                kh = cache.k.concat(kh, 2);
                vh = cache.v.concat(vh, 2);
                cache.k.close();                            // the concatenation is a copy: free the old one,
                cache.v.close();                            // or a long sampling keeps every prefix's keys
            }
            cache.k = kh;
            cache.v = vh;
        }
        long t = x.getShape().get(1);
        NDArray mask = causal ? Masks.causal(x.getManager(), t, kh.getShape().get(2), offset) : null;
        Attention.Heads a = Attention.attend(qh, kh, vh, mask, cache != null);
        return new Result(proj.forward(a.out()), weights ? a.weights() : null);
    }
}
