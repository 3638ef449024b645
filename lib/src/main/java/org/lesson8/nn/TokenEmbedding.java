package org.lesson8.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.core.Embedding;

import java.util.Random;

/**
 * A learned table of vectors, one row per token id (torch.nn.Embedding): ids (B, T) → (B, T, D), or (B,) → (B, D).
 * Token embeddings of GPT-2, CLIP's text encoder and DALL·E; DiT's label table. Initialised N(0, 0.02²).
 *
 * <p>The table is the module's only parameter and has no name of its own: registered as
 * {@code child("wte", …)} it is stored under the key {@code wte}. The lookup is libtorch's embedding operator; its
 * backward pass adds each position's gradient to its id's row.
 */
public class TokenEmbedding extends Module {
    public final NDArray table;
    public final long vocab;
    public final long dim;

    public TokenEmbedding(NDManager m, Random rng, long vocab, long dim) {
        super(m);
        this.vocab = vocab;
        this.dim = dim;
        table = param("", Init.normal(m, rng, new Shape(vocab, dim), 0.02), false);
    }

    /** Rows of the table for integer ids of any shape; the result is in the ids' manager. */
    public NDArray forward(NDArray ids) {
        if (ids.getDataType() != DataType.INT64 && ids.getDataType() != DataType.INT32) {
            throw new IllegalArgumentException("token ids must be integers (int64), got " + ids.getDataType());
        }
        long min = ids.size() == 0 ? 0 : ids.min().toType(DataType.INT64, false).getLong();
        long max = ids.size() == 0 ? 0 : ids.max().toType(DataType.INT64, false).getLong();
        if (min < 0 || max >= vocab) {
            throw new IllegalArgumentException("token id " + (min < 0 ? min : max) + " is out of range: this table has "
                    + vocab + " rows (ids 0.." + (vocab - 1) + ")");
        }
        return Embedding.embedding(ids, table, SparseFormat.DENSE).singletonOrThrow();
    }
}
