package org.lesson8.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

import java.util.Random;

/**
 * Pre-LN transformer block, as in ViT, GPT-2 and CLIP:
 * <pre>
 *   x = x + MSA(LN(x))
 *   x = x + MLP(LN(x))
 * </pre>
 */
public class TransformerBlock extends Module {
    public final LayerNorm ln1;
    public final MultiHeadAttention attn;
    public final LayerNorm ln2;
    public final Mlp mlp;

    public TransformerBlock(NDManager m, Random rng, long dim, int heads, long mlpHidden) {
        super(m);
        ln1 = child("ln1", new LayerNorm(m, dim));
        attn = child("attn", new MultiHeadAttention(m, rng, dim, heads));
        ln2 = child("ln2", new LayerNorm(m, dim));
        mlp = child("mlp", new Mlp(m, rng, dim, mlpHidden));
    }

    public MultiHeadAttention.Result forward(NDArray x, boolean causal, boolean weights) {
        return forward(x, causal, weights, null);
    }

    public MultiHeadAttention.Result forward(
            NDArray x, boolean causal, boolean weights, MultiHeadAttention.KVCache cache) {
        if (cache != null) return step(x, causal, weights, cache);   // the cache's arrays must outlive the block
        NDArray[] r = Scoped.layer(() -> {
            MultiHeadAttention.Result a = step(x, causal, weights, null);
            return new NDArray[] {a.out(), a.weights()};
        });
        return new MultiHeadAttention.Result(r[0], r[1]);
    }

    private MultiHeadAttention.Result step(NDArray x, boolean causal, boolean weights, MultiHeadAttention.KVCache cache) {
        MultiHeadAttention.Result a = attn.forward(ln1.forward(x), causal, weights, cache);
        NDArray h = x.add(a.out());
        h = h.add(mlp.forward(ln2.forward(h)));
        return new MultiHeadAttention.Result(h, a.weights());
    }
}
