package org.lesson8.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import java.util.Random;

/**
 * Multi-head scaled dot-product attention (Vaswani et al. 2017, Eq. 1), written with
 * {@code matMul} and {@code softmax} so that the attention weights can be returned and shown.
 *
 * <pre>
 *   Q = x Wq,  K = c Wk,  V = c Wv        (c = x for self-attention, another sequence for cross-attention)
 *   A = softmax(Q Kᵀ / √d_head + M)       (M = 0, or −∞ above the diagonal for a causal mask)
 *   out = concat_heads(A V) Wo
 * </pre>
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
        this(m, rng, dim, heads, dim);
    }

    public MultiHeadAttention(NDManager m, Random rng, long dim, int heads, long contextDim) {
        super(m);
        if (dim % heads != 0) {
            throw new IllegalArgumentException("width " + dim + " is not divisible by " + heads + " heads");
        }
        this.heads = heads;
        this.dim = dim;
        q = child("q", new Linear(m, rng, dim, dim));
        kv = child("kv", new Linear(m, rng, contextDim, 2 * dim));
        proj = child("proj", new Linear(m, rng, dim, dim));
    }

    /** Self-attention without mask. */
    public Result forward(NDArray x) {
        return forward(x, null, false, false, null);
    }

    /**
     * @param x        queries' sequence (B, T, D)
     * @param context  keys/values' sequence (B, S, Dc), or null for self-attention
     * @param causal   forbid attending to later positions (position i sees keys 0..i+offset)
     * @param weights  return the attention weights
     * @param cache    key/value cache for incremental decoding (self-attention only), or null
     */
    public Result forward(NDArray x, NDArray context, boolean causal, boolean weights, KVCache cache) {
        Shape s = x.getShape();
        if (s.dimension() != 3 || s.get(2) != dim) {
            throw new IllegalArgumentException("attention expects (batch, tokens, " + dim + ") but got " + s);
        }
        long b = s.get(0);
        long t = s.get(1);
        long dh = dim / heads;
        NDArray src = context == null ? x : context;
        NDArray qh = split(q.forward(x), b, t, dh);
        NDArray kvx = kv.forward(src);
        long srcLen = src.getShape().get(1);
        NDList2 parts = splitKv(kvx, b, srcLen, dh);
        NDArray kh = parts.k;
        NDArray vh = parts.v;
        long offset = 0;
        if (cache != null) {
            if (context != null) throw new IllegalArgumentException("a KV cache is for self-attention only");
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
        NDArray kt = kh.transpose(0, 1, 3, 2);
        NDArray scores = Nd.muli(qh.matMul(kt), 1.0 / Math.sqrt(dh));
        if (cache != null) kt.close();                      // a view in the cache's manager: it would keep every step's keys alive
        if (causal) {
            scores = scores.addi(Masks.causal(x.getManager(), t, kh.getShape().get(2), offset));
        }
        NDArray att = scores.softmax(-1);
        NDArray out = att.matMul(vh).transpose(0, 2, 1, 3).reshape(b, t, dim);
        return new Result(proj.forward(out), weights ? att : null);
    }

    private NDArray split(NDArray y, long b, long t, long dh) {
        return y.reshape(b, t, heads, dh).transpose(0, 2, 1, 3);
    }

    private record NDList2(NDArray k, NDArray v) {}

    private NDList2 splitKv(NDArray y, long b, long t, long dh) {
        NDArray r = y.reshape(b, t, 2, heads, dh).transpose(2, 0, 3, 1, 4);
        return new NDList2(r.get(0), r.get(1));
    }
}
