package org.lesson8.decoding;

import org.lesson8.nn.MultiHeadAttention;

import java.util.ArrayList;
import java.util.List;

/**
 * Keys and values of every attention layer for the positions decoded so far (one
 * {@link MultiHeadAttention.KVCache} per layer, each (B, heads, positions, d_head)). The arrays belong to the
 * manager of the first call's input; close that manager to free them.
 */
public final class DecoderCache {
    private final List<MultiHeadAttention.KVCache> layers = new ArrayList<>();

    public DecoderCache(int layers) {
        if (layers < 1) throw new IllegalArgumentException("a decoder cache needs at least one layer, got " + layers);
        for (int i = 0; i < layers; i++) this.layers.add(new MultiHeadAttention.KVCache());
    }

    /** The store of attention layer {@code i} (0-based), for {@code TransformerBlock.forward}. */
    public MultiHeadAttention.KVCache layer(int i) {
        return layers.get(i);
    }

    /** Positions cached so far (0 before the first call). */
    public long length() {
        return layers.get(0).length();
    }
}
