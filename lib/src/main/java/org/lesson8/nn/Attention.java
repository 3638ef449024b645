package org.lesson8.nn;

import ai.djl.ndarray.NDArray;

/**
 * The core shared by {@link MultiHeadAttention} and {@link CrossAttention}: scaled dot-product attention over heads
 * (Vaswani et al. 2017, Eq. 1), written with {@code matMul} and {@code softmax} so that the weights can be returned.
 * <pre>
 *   A   = softmax(Q Kᵀ / √d_head + M)      Q (B, H, T, d), K and V (B, H, S, d), M additive, broadcast to (B, H, T, S)
 *   out = concat_heads(A V)                (B, T, H·d)
 * </pre>
 */
final class Attention {
    private Attention() {}

    /** Output of the core: {@code out} (B, T, H·d) before the output projection, {@code weights} A (B, H, T, S). */
    record Heads(NDArray out, NDArray weights) {}

    /** (B, T, H·d) → (B, H, T, d). */
    static NDArray split(NDArray y, int heads) {
        long b = y.getShape().get(0), t = y.getShape().get(1), dh = y.getShape().get(2) / heads;
        return y.reshape(b, t, heads, dh).transpose(0, 2, 1, 3);
    }

    /** Fused keys and values (B, S, 2·H·d) → {K, V}, each (B, H, S, d). */
    static NDArray[] splitKv(NDArray y, int heads) {
        long b = y.getShape().get(0), s = y.getShape().get(1), dh = y.getShape().get(2) / (2L * heads);
        NDArray r = y.reshape(b, s, 2, heads, dh).transpose(2, 0, 3, 1, 4);
        return new NDArray[] {r.get(0), r.get(1)};
    }

    /**
     * @param mask additive mask broadcastable to (B, H, T, S) (0 = allowed, −1e9 = hidden), or null
     * @param closeKt free the transposed keys at once (they are a view of a KV cache that outlives this call)
     */
    static Heads attend(NDArray qh, NDArray kh, NDArray vh, NDArray mask, boolean closeKt) {
        long b = qh.getShape().get(0), h = qh.getShape().get(1), t = qh.getShape().get(2), dh = qh.getShape().get(3);
        NDArray kt = kh.transpose(0, 1, 3, 2);
        NDArray scores = Nd.muli(qh.matMul(kt), 1.0 / Math.sqrt(dh));
        if (closeKt) kt.close();
        if (mask != null) scores = scores.addi(mask);
        NDArray att = scores.softmax(-1);
        return new Heads(att.matMul(vh).transpose(0, 2, 1, 3).reshape(b, t, h * dh), att);
    }
}
