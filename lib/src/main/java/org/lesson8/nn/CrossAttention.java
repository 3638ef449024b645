package org.lesson8.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

import java.util.Random;

/**
 * Multi-head attention from a sequence x (B, T, D) to a context (B, S, Dc): text tokens (GLIDE), CLIP embedding
 * tokens (unCLIP's decoder). Same core as {@link MultiHeadAttention}.
 * <pre>
 *   Q = x Wq,  [K ; V] = context Wc               cross-attention
 *   [K ; V] = [context Wc ; x Wkv]                 withSelf: the context's keys/values are prepended to x's own
 *                                                  (GLIDE: every attention layer also attends to the text)
 *   A = softmax(Q Kᵀ / √d_head + M),  out = concat_heads(A V) Wo
 * </pre>
 * M hides padded context tokens: {@code contextMask} (B, S) is 1 for a real token and 0 for padding.
 */
public class CrossAttention extends Module {
    public final int heads;
    public final long dim;
    public final long contextDim;
    public final Linear q;
    public final Linear contextKv;
    public final Linear kv;
    public final Linear proj;

    /**
     * @param withSelf also attend to x itself (keys and values [context ; x]), as GLIDE does; else to the context only
     */
    public CrossAttention(NDManager m, Random rng, long dim, int heads, long contextDim, boolean withSelf) {
        super(m);
        MultiHeadAttention.checkHeads(dim, heads);
        this.heads = heads;
        this.dim = dim;
        this.contextDim = contextDim;
        q = child("q", new Linear(m, rng, dim, dim));
        contextKv = child("context_kv", new Linear(m, rng, contextDim, 2 * dim));
        kv = withSelf ? child("kv", new Linear(m, rng, dim, 2 * dim)) : null;
        proj = child("proj", new Linear(m, rng, dim, dim));
    }

    /**
     * @param x           queries' sequence (B, T, D)
     * @param context     (B, S, Dc)
     * @param contextMask (B, S), nonzero where the context token is real, 0 where it is padding; or null (all real)
     * @param weights     return the attention weights (B, heads, T, S), or (B, heads, T, S + T) with x's own keys
     */
    public MultiHeadAttention.Result forward(NDArray x, NDArray context, NDArray contextMask, boolean weights) {
        MultiHeadAttention.checkInput(x, dim);
        Shape c = context.getShape();
        if (c.dimension() != 3 || c.get(0) != x.getShape().get(0) || c.get(2) != contextDim) {
            throw new IllegalArgumentException("cross-attention expects a context (" + x.getShape().get(0) + ", tokens, "
                    + contextDim + ") for queries " + x.getShape() + " but got " + c);
        }
        if (contextMask != null && !contextMask.getShape().equals(new Shape(c.get(0), c.get(1)))) {
            throw new IllegalArgumentException("the context mask must have shape (" + c.get(0) + ", " + c.get(1)
                    + "), one entry per context token, but got " + contextMask.getShape());
        }
        NDArray qh = Attention.split(q.forward(x), heads);
        NDArray[] ckv = Attention.splitKv(contextKv.forward(context), heads);
        NDArray kh = ckv[0];
        NDArray vh = ckv[1];
        NDArray mask = contextMask == null ? null : padding(contextMask);
        if (kv != null) {
            NDArray[] own = Attention.splitKv(kv.forward(x), heads);
            kh = kh.concat(own[0], 2);
            vh = vh.concat(own[1], 2);
            if (mask != null) mask = mask.concat(x.getManager().zeros(new Shape(c.get(0), 1, 1, x.getShape().get(1))), 3);
        }
        Attention.Heads a = Attention.attend(qh, kh, vh, mask, false);
        return new MultiHeadAttention.Result(proj.forward(a.out()), weights ? a.weights() : null);
    }

    /** (B, S) 1 = real, 0 = padding → additive (B, 1, 1, S): 0 where real, −1e9 where padding. */
    private static NDArray padding(NDArray contextMask) {
        NDArray hidden = contextMask.eq(0).toType(DataType.FLOAT32, false);
        return Nd.mul(hidden, -1e9).reshape(contextMask.getShape().get(0), 1, 1, contextMask.getShape().get(1));
    }
}
