package org.lesson8.decoding;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.lesson8.nn.LayerNorm;
import org.lesson8.nn.LearnedPositionEmbedding;
import org.lesson8.nn.Linear;
import org.lesson8.nn.Module;
import org.lesson8.nn.TransformerBlock;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.lesson8.nn.Init.normal;

/**
 * A tiny, untrained DALL·E-shaped decoder: one causal transformer over [text tokens ; image tokens] in one
 * vocabulary (text ids 0 … textVocab−1, image ids textVocab … textVocab+imageVocab−1), a learned start token and
 * separate position embeddings for the text and the image positions.
 */
final class TextImageToy extends Module implements CausalDecoder {
    final int textLength;
    final int imageLength;
    final int textVocab;
    final int imageVocab;
    private final NDArray bos;
    private final NDArray tokenEmbed;
    private final LearnedPositionEmbedding textPos;
    private final LearnedPositionEmbedding imagePos;
    private final List<TransformerBlock> blocks = new ArrayList<>();
    private final LayerNorm norm;
    private final Linear head;

    TextImageToy(NDManager m, int textLength, int imageLength, int textVocab, int imageVocab, long seed) {
        super(m);
        this.textLength = textLength;
        this.imageLength = imageLength;
        this.textVocab = textVocab;
        this.imageVocab = imageVocab;
        Random rng = new Random(seed);
        int dim = 16;
        bos = param("bos", normal(m, rng, new Shape(1, 1, dim), 0.5), false);
        tokenEmbed = param("wte", normal(m, rng, new Shape(vocab(), dim), 0.5), false);
        textPos = child("text_pos", new LearnedPositionEmbedding(m, rng, textLength, dim));
        imagePos = child("image_pos", new LearnedPositionEmbedding(m, rng, imageLength, dim));
        for (int i = 0; i < 2; i++) blocks.add(child("blocks." + i, new TransformerBlock(m, rng, dim, 2, 32)));
        norm = child("ln_f", new LayerNorm(m, dim));
        head = child("head", new Linear(m, rng, dim, vocab(), false));
    }

    TokenRange textIds() {
        return new TokenRange(0, textVocab);
    }

    TokenRange imageIds() {
        return new TokenRange(textVocab, textVocab + imageVocab);
    }

    /** DALL·E's rule: text positions take text ids, image positions image ids. */
    TokenRange allowed(int t) {
        return t < textLength ? textIds() : imageIds();
    }

    @Override
    public int length() {
        return textLength + imageLength;
    }

    @Override
    public int vocab() {
        return textVocab + imageVocab;
    }

    @Override
    public NDArray logits(NDArray tokens) {
        long t = tokens.getShape().get(1);
        return readout(positions(startThen(tokens.get(":, :" + (t - 1))), 0), null);
    }

    @Override
    public DecoderCache newCache() {
        return new DecoderCache(blocks.size());
    }

    @Override
    public NDArray next(NDArray tokens, DecoderCache cache) {
        long seen = cache == null ? 0 : cache.length();
        NDArray x = seen == 0 ? positions(startThen(tokens), 0) : positions(embed(tokens), seen);
        return readout(x, cache).get(":, -1, :");
    }

    private NDArray embed(NDArray idx) {
        return idx.oneHot(vocab()).toType(DataType.FLOAT32, false).matMul(tokenEmbed);
    }

    private NDArray startThen(NDArray idx) {
        NDArray start = idx.getManager().zeros(new Shape(idx.getShape().get(0), 1, bos.getShape().get(2))).add(bos);
        return idx.getShape().get(1) > 0 ? start.concat(embed(idx), 1) : start;
    }

    /** Adds the text position embedding to positions before textLength and the image one after. */
    private NDArray positions(NDArray x, long offset) {
        long k = x.getShape().get(1);
        long inText = Math.max(0, Math.min(k, textLength - offset));
        if (inText == k) return textPos.forward(x, offset);
        NDArray image = imagePos.forward(x.get(":, " + inText + ":, :"), offset + inText - textLength);
        return inText == 0 ? image : textPos.forward(x.get(":, :" + inText + ", :"), offset).concat(image, 1);
    }

    private NDArray readout(NDArray h, DecoderCache cache) {
        for (int i = 0; i < blocks.size(); i++) {
            h = blocks.get(i).forward(h, true, false, cache == null ? null : cache.layer(i)).out();
        }
        return head.forward(norm.forward(h));
    }
}
