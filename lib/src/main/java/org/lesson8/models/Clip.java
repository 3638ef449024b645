package org.lesson8.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.lesson8.data.Tokenizer;
import org.lesson8.nn.Channels;
import org.lesson8.nn.ImageInput;
import org.lesson8.nn.LayerNorm;
import org.lesson8.nn.LearnedPositionEmbedding;
import org.lesson8.nn.Module;
import org.lesson8.nn.Nd;
import org.lesson8.nn.PatchEmbedding;
import org.lesson8.nn.TokenEmbedding;
import org.lesson8.nn.TransformerBlock;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.lesson8.nn.Init.normal;

/**
 * CLIP (Radford et al. 2021, "Learning Transferable Visual Models From Natural Language Supervision"),
 * following Fig. 1 and the pseudo-code of Fig. 3:
 * <pre>
 *   I_f = ImageEncoder(images)      ViT: [CLS; patches] + E_pos → LN_pre → blocks → LN(CLS) · W_i      (B, E)
 *   T_f = TextEncoder(captions)     <start> w1 … wn <end> <pad>…: causal transformer → LN → feature at <end> · W_t
 *   I_e = I_f / ‖I_f‖,  T_e = T_f / ‖T_f‖                                                       (L2-normalised)
 *   logits = exp(t) · I_e T_eᵀ      t learnable, t₀ = ln(1/0.07), clamped so that exp(t) ≤ 100   (N, N)
 *   loss = ( CE(logits, diag) + CE(logitsᵀ, diag) ) / 2                                      (symmetric)
 * </pre>
 * Zero-shot classification ({@link ZeroShot}) embeds one prompt per class ("a photo of a {label}.") and picks the
 * most similar class. Training pairs, the training run and the evaluations of notebook 04 live in
 * {@link org.lesson8.lessons.ClipLesson}.
 *
 * <p><b>Inputs of this course model.</b> One image encoder at 28×28 RGB. Fashion-MNIST's grey images
 * (B, 1, 28, 28) are accepted and replicated to 3 channels inside {@link #embedImages}; the captioned
 * shapes are rendered at 28 px. A training batch mixes both sources.
 * Captions are word-level tokens of {@link Tokenizer#course()} with a context of {@link Config#context()}
 * tokens; a caption that is too long is an error unless truncation is asked for (then {@code <end>} is kept
 * as the last token, like CLIP's {@code tokenize(truncate=True)}); an unknown word is always an error.
 * Differences from the paper (for a CPU): MLP width 2·D instead of 4·D, and a much smaller model.
 */
public class Clip extends Module {
    /** ln(100): the clamp on the learnable log-scale t (the paper: "clipped to prevent scaling the logits by more than 100"). */
    public static final double MAX_LOG_SCALE = Math.log(100);
    /** ln(1/0.07): the initial value of t (temperature τ = 0.07). */
    public static final double INIT_LOG_SCALE = Math.log(1 / 0.07);

    /**
     * A CLIP configuration: image ViT (size, patch, channels, width, depth, heads), text transformer
     * (vocabulary, context length, width, depth, heads) and the joint embedding width.
     */
    public record Config(String name, int imageSize, int patch, int channels, int visionWidth, int visionDepth,
                         int visionHeads, int vocab, int context, int textWidth, int textDepth, int textHeads, int embedDim) {
        public int imageTokens() {
            int g = imageSize / patch;
            return g * g + 1;
        }
    }

    /**
     * The course model: 28×28 RGB, patch 7 (16 patches + CLS, so that it trains on two CPU cores), widths 64,
     * 4 image / 3 text layers of 4 heads, context 14 tokens (the longest course caption needs 12), 64-d joint space.
     */
    public static Config course() {
        return new Config("CLIP-course (28px RGB, ViT/7 4×64, text 3×64)", 28, 7, 3, 64, 4, 4,
                Tokenizer.course().size(), 14, 64, 3, 4, 64);
    }

    /**
     * The text-to-image CLIP of notebooks 04–07: the course model's sizes with the vocabulary of
     * {@link Tokenizer#textToImage()} (scene and Fashion captions) and a context of 20 tokens (the longest caption of
     * either domain needs 17).
     */
    public static Config textToImage() {
        return new Config("CLIP-t2i (28px RGB, ViT/7 4×64, text 3×64)", 28, 7, 3, 64, 4, 4,
                Tokenizer.textToImage().size(), 20, 64, 3, 4, 64);
    }

    /** A tiny configuration for tests and quick checks. */
    public static Config tiny(int vocab) {
        return new Config("CLIP-tiny", 8, 4, 3, 16, 1, 2, vocab, 12, 16, 2, 2, 8);
    }

    // ------------------------------------------------------------------------------------------------
    /** The image encoder: a ViT with the extra LayerNorm before the transformer (CLIP's {@code ln_pre}). */
    public static final class ImageEncoder extends Module {
        public final Config config;
        public final PatchEmbedding patchEmbed;
        public final NDArray classEmbedding;
        public final LearnedPositionEmbedding pos;
        public final LayerNorm lnPre;
        public final List<TransformerBlock> blocks = new ArrayList<>();
        public final LayerNorm lnPost;
        public final NDArray proj;

        ImageEncoder(NDManager m, Random rng, Config c) {
            super(m);
            config = c;
            int w = c.visionWidth();
            patchEmbed = child("patch_embed", new PatchEmbedding(m, rng, c.imageSize(), c.patch(), c.channels(), w));
            classEmbedding = param("class_embedding", normal(m, rng, new Shape(1, 1, w), Math.pow(w, -0.5)), false);
            pos = child("pos_embed", new LearnedPositionEmbedding(m, rng, c.imageTokens(), w));
            lnPre = child("ln_pre", new LayerNorm(m, w));
            for (int i = 0; i < c.visionDepth(); i++) {
                blocks.add(child("blocks." + i, new TransformerBlock(m, rng, w, c.visionHeads(), 2L * w)));
            }
            lnPost = child("ln_post", new LayerNorm(m, w));
            proj = param("proj", normal(m, rng, new Shape(w, c.embedDim()), Math.pow(w, -0.5)), true);
        }

        /** Unnormalised image features (B, E). Grey images (B, 1, H, W) are replicated to RGB. */
        public NDArray forward(NDArray images) {
            ImageInput.require(images, "CLIP's image encoder", config.channels(), config.channels() == 3, config.imageSize());
            return encode(tokens(images));
        }

        /** The tokens entering the encoder: [CLS; patch embeddings] + E_pos, (B, N+1, W), before {@code ln_pre}. */
        public NDArray tokens(NDArray images) {
            NDArray x = images;
            if (x.getShape().dimension() == 4 && x.getShape().get(1) == 1 && config.channels() == 3) {
                x = Channels.greyToRgb(x);
            }
            NDArray patches = patchEmbed.forward(x);
            return pos.forward(PatchEmbedding.prependToken(patches, classEmbedding), 0);
        }

        /** ln_pre → blocks → LN(CLS) · W_i: tokens (B, N+1, W) → unnormalised features (B, E). */
        public NDArray encode(NDArray tokens) {
            NDArray z = lnPre.forward(tokens);
            for (TransformerBlock b : blocks) z = b.forward(z, false, false).out();
            return lnPost.forward(z.get(":, 0, :")).matMul(proj);
        }
    }

    /** The text encoder: a causal transformer; the feature is read at the {@code <end>} token. */
    public static final class TextEncoder extends Module {
        public final Config config;
        public final TokenEmbedding tokenEmbedding;
        public final LearnedPositionEmbedding pos;
        public final List<TransformerBlock> blocks = new ArrayList<>();
        public final LayerNorm lnFinal;
        public final NDArray proj;

        TextEncoder(NDManager m, Random rng, Config c) {
            super(m);
            config = c;
            int w = c.textWidth();
            tokenEmbedding = child("token_embedding", new TokenEmbedding(m, rng, c.vocab(), w));
            pos = child("pos_embed", new LearnedPositionEmbedding(m, rng, c.context(), w));
            for (int i = 0; i < c.textDepth(); i++) {
                blocks.add(child("blocks." + i, new TransformerBlock(m, rng, w, c.textHeads(), 2L * w)));
            }
            lnFinal = child("ln_final", new LayerNorm(m, w));
            proj = param("proj", normal(m, rng, new Shape(w, c.embedDim()), Math.pow(w, -0.5)), true);
        }

        /** Hidden states after the causal transformer and the final LayerNorm, (B, T, W). ids: (B, T) int64. */
        public NDArray hidden(NDArray ids) {
            NDArray x = tokenEmbedding.forward(ids);
            x = pos.forward(x, 0);
            for (TransformerBlock b : blocks) x = b.forward(x, true, false).out();
            return lnFinal.forward(x);
        }

        /** Picks row {@code ends[b]} of each sequence: (B, T, W) → (B, W) (a one-hot weighted sum, differentiable). */
        public static NDArray pool(NDArray hidden, int[] ends) {
            long b = hidden.getShape().get(0), t = hidden.getShape().get(1);
            if (ends.length != b) throw new IllegalArgumentException(ends.length + " end positions for a batch of " + b);
            float[] sel = new float[(int) (b * t)];
            for (int i = 0; i < b; i++) {
                if (ends[i] < 0 || ends[i] >= t) throw new IllegalArgumentException("end position " + ends[i] + " outside 0.." + (t - 1));
                sel[(int) (i * t + ends[i])] = 1f;
            }
            NDArray mask = hidden.getManager().create(sel, new Shape(b, t, 1));
            return hidden.mul(mask).sum(new int[] {1});
        }

        /** Unnormalised text features (B, E): hidden state at {@code <end>} · W_t. */
        public NDArray forward(NDArray ids, int[] ends) {
            return pool(hidden(ids), ends).matMul(proj);
        }
    }

    // ------------------------------------------------------------------------------------------------
    public final Config config;
    public final Tokenizer tokenizer;
    public final ImageEncoder visual;
    public final TextEncoder text;
    /** t in logits = exp(t) · cos; a scalar (shape (1)). */
    public final NDArray logitScale;

    public Clip(NDManager m, Config c, long seed) {
        this(m, c, Tokenizer.course(), seed);
    }

    public Clip(NDManager m, Config c, Tokenizer tokenizer, long seed) {
        super(m);
        tokenizer.requireSize(c.vocab());
        this.config = c;
        this.tokenizer = tokenizer;
        Random rng = new Random(seed);
        visual = child("visual", new ImageEncoder(m, rng, c));
        text = child("text", new TextEncoder(m, rng, c));
        logitScale = param("logit_scale", m.create(new float[] {(float) INIT_LOG_SCALE}), false);
    }

    /** Encoded captions: token ids (B, T) int64 in {@code m}, and the position of {@code <end>} in each. */
    public record Tokens(NDArray ids, int[] ends) {}

    /**
     * Tokenizes captions. An unknown word is an error naming the word; a caption longer than the context
     * is an error unless {@code truncate}, which cuts words and keeps {@code <end>} as the last token. An empty caption
     * ("" or blanks) is an error too: CLIP's text side has no null caption, and {@code <start><end>} alone would be
     * embedded as if it were a text (GLIDE's and unCLIP's decoder captions, where "" is the unconditional caption, have
     * their own tokenizer, {@link Glide#tokenize}).
     */
    public Tokens tokenize(NDManager m, List<String> captions, boolean truncate) {
        for (int i = 0; i < captions.size(); i++) {
            String c = captions.get(i);
            if (c == null || c.isBlank()) {
                throw new IllegalArgumentException("caption " + i + " of " + captions.size() + " is " + (c == null ? "null" : "empty (\""
                        + c + "\")") + ": CLIP's text encoder embeds words and has no empty caption; give each caption at least "
                        + "one word, e.g. \"a photo of a coat.\"");
            }
        }
        int t = config.context();
        long[] ids = new long[captions.size() * t];
        int[] ends = new int[captions.size()];
        for (int i = 0; i < captions.size(); i++) {
            int[] e = tokenizer.encode(captions.get(i), t, truncate);
            ends[i] = Tokenizer.endPosition(e);
            for (int j = 0; j < t; j++) ids[i * t + j] = e[j];
        }
        return new Tokens(m.create(ids, new Shape(captions.size(), t)), ends);
    }

    /** L2-normalises rows. */
    public static NDArray normalize(NDArray x) {
        return x.div(x.norm(new int[] {-1}, true).add(1e-12f));
    }

    /** Unit-norm image embeddings (B, E); images (B, 3, 28, 28) RGB or (B, 1, 28, 28) grey, in [0, 1]. */
    public NDArray embedImages(NDArray images) {
        return normalize(visual.forward(images));
    }

    /** Unit-norm text embeddings (B, E) in {@code m}. Over-long captions are an error (see {@link #tokenize}). */
    public NDArray embedTexts(NDManager m, List<String> captions) {
        Tokens tk = tokenize(m, captions, false);
        return normalize(text.forward(tk.ids(), tk.ends()));
    }

    public NDArray embedTokens(Tokens tk) {
        return normalize(text.forward(tk.ids(), tk.ends()));
    }

    /** exp(t) with t clamped to [0, ln 100], as an array in {@code m} (differentiable in t). */
    public NDArray scale(NDManager m) {
        return m.zeros(new Shape(1)).add(logitScale).clip(0, MAX_LOG_SCALE).exp();
    }

    /** The current logit scale exp(t) ≤ 100 (1/temperature). */
    public double scaleValue() {
        return Math.exp(Math.max(0, Math.min(MAX_LOG_SCALE, logitScale.getFloat())));
    }

    /** Clamps the parameter t itself into [0, ln 100] (called after every optimizer step, like CLIP's training code). */
    public void clampLogitScale() {
        float t = logitScale.getFloat();
        float c = (float) Math.max(0, Math.min(MAX_LOG_SCALE, t));
        if (c != t) logitScale.set(new float[] {c});
    }

    /** Logits per image (N, N) = exp(t) · I_e T_eᵀ for unit-norm embeddings. */
    public NDArray logits(NDArray imageEmb, NDArray textEmb) {
        return imageEmb.matMul(textEmb.transpose()).mul(scale(imageEmb.getManager()));
    }

    /**
     * The symmetric contrastive loss of a logits matrix whose matching pairs lie on the diagonal:
     * (mean_i −log softmax_row(L)_ii + mean_j −log softmax_col(L)_jj) / 2.
     */
    public static NDArray contrastiveLoss(NDArray logitsPerImage) {
        long n = logitsPerImage.getShape().get(0);
        if (logitsPerImage.getShape().dimension() != 2 || logitsPerImage.getShape().get(1) != n) {
            throw new IllegalArgumentException("the contrastive loss needs a square (N, N) matrix, got " + logitsPerImage.getShape());
        }
        NDArray eye = logitsPerImage.getManager().eye((int) n);
        NDArray rows = Nd.div(logitsPerImage.logSoftmax(1).mul(eye).sum().neg(), n);   // image → text
        NDArray cols = Nd.div(logitsPerImage.logSoftmax(0).mul(eye).sum().neg(), n);   // text → image
        return Nd.mul(rows.add(cols), 0.5);
    }

    /** The loss of one batch of pairs (images[i] ↔ captions[i]). */
    public NDArray loss(NDManager m, NDArray images, List<String> captions) {
        return contrastiveLoss(logits(embedImages(images), embedTexts(m, captions)));
    }
}
