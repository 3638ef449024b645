package org.lesson8.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import java.util.Random;

/** A learned position embedding table (1, N, D), initialised N(0, 0.02²) as in ViT/GPT-2. */
public class LearnedPositionEmbedding extends Module {
    public final NDArray table;
    public final long length;

    public LearnedPositionEmbedding(NDManager m, Random rng, long length, long dim) {
        super(m);
        this.length = length;
        table = param("table", Init.normal(m, rng, new Shape(1, length, dim), 0.02), false);
    }

    /** Adds the first T rows (starting at {@code offset}) to x of shape (B, T, D). */
    public NDArray forward(NDArray x, long offset) {
        long t = x.getShape().get(1);
        if (offset + t > length) {
            throw new IllegalArgumentException("sequence of " + (offset + t) + " positions is longer than the "
                    + length + " positions this embedding was built for");
        }
        return x.add(offset == 0 && t == length ? table : table.get(":, " + offset + ":" + (offset + t) + ", :"));
    }
}
