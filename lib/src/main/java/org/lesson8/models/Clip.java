package org.lesson8.models;

import org.lesson8.nn.Nd;
import static org.lesson8.nn.Init.normal;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.lesson8.data.CaptionedShapes;
import org.lesson8.data.FashionCaptions;
import org.lesson8.data.FashionMnist;
import org.lesson8.data.Tokenizer;
import org.lesson8.nn.LayerNorm;
import org.lesson8.nn.LearnedPositionEmbedding;
import org.lesson8.nn.Module;
import org.lesson8.nn.PatchEmbedding;
import org.lesson8.nn.TransformerBlock;
import org.lesson8.train.MetricsLog;
import org.lesson8.train.Optim;
import org.lesson8.train.TrainLoop;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.IntConsumer;

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
 * Zero-shot classification embeds one prompt per class ("a photo of a {label}.") and picks the most similar
 * class; prompt ensembling averages the normalised embeddings of several templates and renormalises.
 *
 * <p><b>Inputs of this course model.</b> One image encoder at 28×28 RGB. Fashion-MNIST's grey images
 * (B, 1, 28, 28) are accepted and replicated to 3 channels inside {@link #embedImages}; the captioned
 * shapes are rendered at 28 px. A training batch mixes both sources (see {@link Pairs}).
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
            NDArray x = images;
            if (x.getShape().dimension() == 4 && x.getShape().get(1) == 1 && config.channels() == 3) {
                x = x.concat(x, 1).concat(x, 1);
            }
            NDArray patches = patchEmbed.forward(x);
            NDArray z = lnPre.forward(pos.forward(PatchEmbedding.prependToken(patches, classEmbedding), 0));
            for (TransformerBlock b : blocks) z = b.forward(z, false, false).out();
            return lnPost.forward(z.get(":, 0, :")).matMul(proj);
        }
    }

    /** The text encoder: a causal transformer; the feature is read at the {@code <end>} token. */
    public static final class TextEncoder extends Module {
        public final Config config;
        public final NDArray tokenEmbedding;
        public final LearnedPositionEmbedding pos;
        public final List<TransformerBlock> blocks = new ArrayList<>();
        public final LayerNorm lnFinal;
        public final NDArray proj;

        TextEncoder(NDManager m, Random rng, Config c) {
            super(m);
            config = c;
            int w = c.textWidth();
            tokenEmbedding = param("token_embedding", normal(m, rng, new Shape(c.vocab(), w), 0.02), false);
            pos = child("pos_embed", new LearnedPositionEmbedding(m, rng, c.context(), w));
            for (int i = 0; i < c.textDepth(); i++) {
                blocks.add(child("blocks." + i, new TransformerBlock(m, rng, w, c.textHeads(), 2L * w)));
            }
            lnFinal = child("ln_final", new LayerNorm(m, w));
            proj = param("proj", normal(m, rng, new Shape(w, c.embedDim()), Math.pow(w, -0.5)), true);
        }

        /** Hidden states after the causal transformer and the final LayerNorm, (B, T, W). ids: (B, T) int64. */
        public NDArray hidden(NDArray ids) {
            NDArray x = ids.oneHot(config.vocab()).toType(DataType.FLOAT32, false).matMul(tokenEmbedding);
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
        if (tokenizer.size() != c.vocab()) {
            throw new IllegalArgumentException("the tokenizer has " + tokenizer.size() + " tokens but the config says vocab = " + c.vocab());
        }
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
     * is an error unless {@code truncate}, which cuts words and keeps {@code <end>} as the last token.
     */
    public Tokens tokenize(NDManager m, List<String> captions, boolean truncate) {
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

    // ------------------------------------------------------------------------------------------------
    /** A zero-shot classifier: one unit-norm text embedding per class (K, E); logits = exp(t) · image · Wᵀ. */
    public final class ZeroShot implements Classifier {
        /** Class embeddings (K, E), unit norm. */
        public final NDArray weights;
        private final NDArray weightsT;
        public final List<String> classes;

        ZeroShot(NDArray weights, List<String> classes) {
            this.weights = weights;
            this.weightsT = weights.transpose();
            this.classes = classes;
        }

        @Override
        public NDArray logits(NDArray images) {
            NDArray e = embedImages(images);
            return e.matMul(weightsT).mul(scale(e.getManager()));
        }
    }

    /**
     * Zero-shot classifier from prompts: {@code prompts.get(k)} are the texts of class k. Each class weight is
     * the mean of its normalised prompt embeddings, renormalised (prompt ensembling; one prompt = plain zero-shot).
     * The weights live in {@code m}.
     */
    public ZeroShot zeroShot(NDManager m, List<String> classNames, List<List<String>> prompts) {
        if (prompts.size() != classNames.size()) throw new IllegalArgumentException(prompts.size() + " prompt lists for " + classNames.size() + " classes");
        int e = config.embedDim();
        float[] w = new float[classNames.size() * e];
        for (int k = 0; k < prompts.size(); k++) {
            try (NDManager sub = m.newSubManager(); NDScope scope = new NDScope()) {
                float[] v = normalize(embedTexts(sub, prompts.get(k)).mean(new int[] {0}, true)).toFloatArray();
                System.arraycopy(v, 0, w, k * e, e);
            }
        }
        return new ZeroShot(m.create(w, new Shape(classNames.size(), e)), List.copyOf(classNames));
    }

    /** Zero-shot classifier from labels and templates ("{}" is replaced by "a"/"an" + label, as in {@link FashionCaptions}). */
    public ZeroShot zeroShotFromTemplates(NDManager m, List<String> labels, List<String> templates) {
        List<List<String>> prompts = new ArrayList<>();
        for (String l : labels) prompts.add(templates.stream().map(t -> FashionCaptions.fill(t, l)).toList());
        return zeroShot(m, labels, prompts);
    }

    /** "a photo of a {label}." only. */
    public ZeroShot fashionSinglePrompt(NDManager m) {
        return zeroShotFromTemplates(m, FashionCaptions.LABELS, List.of(FashionCaptions.TEMPLATES.get(0)));
    }

    /** The ensemble of all {@link FashionCaptions#TEMPLATES}. */
    public ZeroShot fashionEnsemble(NDManager m) {
        return zeroShotFromTemplates(m, FashionCaptions.LABELS, FashionCaptions.TEMPLATES);
    }

    /** Unit-norm image embeddings of many images, computed in chunks without gradients, as a Java matrix. */
    public float[][] embedAll(NDManager m, NDArray images, int chunk) {
        long n = images.getShape().get(0);
        float[][] out = new float[(int) n][];
        for (long s = 0; s < n; s += chunk) {
            try (NDManager sub = m.newSubManager(); NDScope scope = new NDScope()) {
                NDArray x = images.get(s + ":" + Math.min(n, s + chunk));
                float[] v = embedImages(x).toFloatArray();
                int e = config.embedDim();
                for (int i = 0; i < v.length / e; i++) out[(int) s + i] = Arrays.copyOfRange(v, i * e, (i + 1) * e);
            }
        }
        return out;
    }

    /** Unit-norm text embeddings as a Java matrix (no gradients kept). */
    public float[][] embedAllTexts(NDManager m, List<String> captions) {
        float[][] out = new float[captions.size()][];
        int e = config.embedDim();
        for (int s = 0; s < captions.size(); s += 500) {
            try (NDManager sub = m.newSubManager(); NDScope scope = new NDScope()) {
                float[] v = embedTexts(sub, captions.subList(s, Math.min(captions.size(), s + 500))).toFloatArray();
                for (int i = 0; i < v.length / e; i++) out[s + i] = Arrays.copyOfRange(v, i * e, (i + 1) * e);
            }
        }
        return out;
    }

    /** Cosine similarities a · bᵀ of unit-norm rows. */
    public static double[][] cosine(float[][] a, float[][] b) {
        double[][] s = new double[a.length][b.length];
        for (int i = 0; i < a.length; i++)
            for (int j = 0; j < b.length; j++) {
                double d = 0;
                for (int k = 0; k < a[i].length; k++) d += a[i][k] * b[j][k];
                s[i][j] = d;
            }
        return s;
    }

    /** Indices of the k largest values of a row, best first. */
    public static int[] topK(double[] row, int k) {
        Integer[] idx = new Integer[row.length];
        for (int i = 0; i < idx.length; i++) idx[i] = i;
        Arrays.sort(idx, (x, y) -> Double.compare(row[y], row[x]));
        int[] out = new int[Math.min(k, idx.length)];
        for (int i = 0; i < out.length; i++) out[i] = idx[i];
        return out;
    }

    // ------------------------------------------------------------------------------------------------
    /** Training pairs: Fashion-MNIST images with sampled captions, and captioned shapes (held-out pairs never used). */
    public static final class Pairs {
        public final FashionMnist.Split fashion;
        public final CaptionedShapes shapes;
        private final Random rng;

        public Pairs(FashionMnist.Split fashion, CaptionedShapes shapes, long seed) {
            if (shapes.imageSize != FashionMnist.SIZE) {
                throw new IllegalArgumentException("render the shapes at " + FashionMnist.SIZE + " px (new CaptionedShapes(28, seed)) to share one image encoder");
            }
            this.fashion = fashion;
            this.shapes = shapes;
            this.rng = new Random(seed);
        }

        /** A batch: images (B, 3, 28, 28), captions, and the Fashion class per row (−1 for shapes). */
        public record Batch(NDArray images, List<String> captions, int[] classes) {}

        /**
         * {@code nFashion} Fashion images (random shift ±2 px and horizontal flip; caption = FashionCaptions.sample)
         * followed by {@code nShapes} training shapes (never a held-out colour × shape pair), grey replicated to RGB.
         */
        public Batch next(NDManager m, int nFashion, int nShapes) {
            List<String> caps = new ArrayList<>();
            int[] cls = new int[nFashion + nShapes];
            NDArray img = null;
            if (nFashion > 0) {
                int[] idx = new int[nFashion];
                for (int i = 0; i < nFashion; i++) {
                    idx[i] = rng.nextInt(fashion.size);
                    cls[i] = fashion.label(idx[i]);
                    caps.add(FashionCaptions.sample(cls[i], rng));
                }
                NDArray g = FashionTraining.batchImages(m, fashion, idx, true, rng);
                img = g.concat(g, 1).concat(g, 1);
            }
            if (nShapes > 0) {
                List<CaptionedShapes.Example> ex = new ArrayList<>();
                for (int i = 0; i < nShapes; i++) {
                    ex.add(shapes.train(rng.nextInt(1 << 30)));
                    caps.add(ex.get(i).caption());
                    cls[nFashion + i] = -1;
                }
                NDArray s = shapes.images(m, ex);
                img = img == null ? s : img.concat(s, 0);
            }
            return new Batch(img, caps, cls);
        }
    }

    /** Hyper-parameters of a training run. */
    public record Recipe(int fashionPerBatch, int shapesPerBatch, float lr, float weightDecay, int warmup, float clip) {
        /** The checkpoint's recipe: batches of 256 pairs (160 Fashion + 96 shapes), AdamW 1e-3, decay 0.1. */
        public static Recipe standard() {
            return new Recipe(160, 96, 1e-3f, 0.1f, 200, 1f);
        }

        public int batch() {
            return fashionPerBatch + shapesPerBatch;
        }

        public Recipe withBatch(int fashion, int shapes) {
            return new Recipe(fashion, shapes, lr, weightDecay, warmup, clip);
        }
    }

    /**
     * Trains with the symmetric contrastive loss for {@code steps} steps or {@code seconds}; logs "loss",
     * "scale" (exp t), "i2t_acc" (image → text top-1 inside the batch) besides lr and grad_norm.
     * The log-scale is clamped into [0, ln 100] after every step.
     */
    public static TrainLoop train(Clip model, Pairs data, Recipe r, int steps, double seconds, MetricsLog log, IntConsumer onStep) {
        Optim opt = new Optim(model, r.lr(), r.weightDecay(), Math.min(r.warmup(), steps / 10), steps, r.clip());
        TrainLoop loop = new TrainLoop(model, opt, log);
        loop.runFor(seconds, steps, (sub, step, metrics) -> {
            Pairs.Batch b = data.next(sub, r.fashionPerBatch(), r.shapesPerBatch());
            NDArray logits = model.logits(model.embedImages(b.images()), model.embedTexts(sub, b.captions()));
            long n = b.captions().size();
            long right = logits.argMax(1).toType(DataType.INT64, false).eq(sub.arange(0L, n, 1L, DataType.INT64)).sum().getLong();
            metrics.put("i2t_acc", right / (double) n);
            metrics.put("scale", model.scaleValue());
            return contrastiveLoss(logits);
        }, step -> {
            model.clampLogitScale();
            if (onStep != null) onStep.accept(step);
        });
        return loop;
    }

    // ------------------------------------------------------------------------------------------------
    /** Zero-shot accuracies on Fashion-MNIST test images: one prompt and the template ensemble. */
    public record ZeroShotResult(double singlePrompt, double ensemble, int images) {}

    public ZeroShotResult evaluateFashion(NDManager m, FashionMnist.Split test, int limit) {
        try (NDManager sub = m.newSubManager()) {
            double one = FashionTraining.evaluate(fashionSinglePrompt(sub), sub, test, limit).accuracy();
            double ens = FashionTraining.evaluate(fashionEnsemble(sub), sub, test, limit).accuracy();
            return new ZeroShotResult(one, ens, Math.min(limit, test.size));
        }
    }

    /**
     * Retrieval on colour × shape combinations. Image → text: each image against all 240 captions; top-1 counts
     * when the best caption names the image's colour and shape (chance 10/240 = 1/24). Text → image: each caption
     * of the evaluated pairs against a gallery of the evaluated images plus as many training images; top-1 counts
     * when the best image has the caption's colour and shape (chance = share of such images in the gallery).
     */
    public record ShapeRetrieval(double imageToText, double imageToTextChance, double exactCaption, double exactChance,
                                 double textToImage, double textToImageChance, int images) {}

    /** Retrieval for the held-out pairs ({@code heldOut = true}) or for seen training pairs. */
    public ShapeRetrieval shapeRetrieval(NDManager m, CaptionedShapes shapes, int n, boolean heldOut) {
        List<CaptionedShapes.Example> ex = heldOut ? shapes.heldOutSet(n) : new ArrayList<>();
        if (!heldOut) for (int i = 0; i < n; i++) ex.add(shapes.train(1_000_000 + i));
        List<CaptionedShapes.Example> others = new ArrayList<>();
        for (int i = 0; i < n; i++) others.add(shapes.train(2_000_000 + i));
        List<String> all = CaptionedShapes.allCaptions();
        try (NDManager sub = m.newSubManager()) {
            float[][] img = embedAll(sub, shapes.images(sub, ex), 500);
            float[][] txt = embedAllTexts(sub, all);
            double[][] sim = cosine(img, txt);
            int pair = 0, exact = 0;
            for (int i = 0; i < ex.size(); i++) {
                String best = all.get(topK(sim[i], 1)[0]);
                if (best.contains(" " + ex.get(i).pair() + " ")) pair++;
                if (best.equals(ex.get(i).caption())) exact++;
            }
            // text → image
            java.util.Set<String> pairs = new java.util.TreeSet<>();
            for (CaptionedShapes.Example e : ex) pairs.add(e.pair());
            List<String> queries = all.stream().filter(t -> pairs.stream().anyMatch(p -> t.contains(" " + p + " "))).toList();
            List<CaptionedShapes.Example> gallery = new ArrayList<>(ex);
            gallery.addAll(others);
            float[][] gal = embedAll(sub, shapes.images(sub, gallery), 500);
            float[][] q = embedAllTexts(sub, queries);
            double[][] s2 = cosine(q, gal);
            int hit = 0;
            double chance = 0;
            for (int i = 0; i < queries.size(); i++) {
                String qi = queries.get(i);
                CaptionedShapes.Example best = gallery.get(topK(s2[i], 1)[0]);
                if (qi.contains(" " + best.pair() + " ")) hit++;
                long same = gallery.stream().filter(g -> qi.contains(" " + g.pair() + " ")).count();
                chance += same / (double) gallery.size();
            }
            int pairsTotal = CaptionedShapes.COLOURS.size() * CaptionedShapes.SHAPES.size();
            return new ShapeRetrieval(pair / (double) ex.size(), 1.0 / pairsTotal, exact / (double) ex.size(), 1.0 / all.size(),
                    hit / (double) queries.size(), chance / queries.size(), ex.size());
        }
    }

    // ------------------------------------------------------------------------------------------------
    /** Throughput and memory figures of {@link #benchmark}. */
    public record Bench(String config, long parameters, int batch, double trainPairsPerSecond, double imagesPerSecond,
                        double textsPerSecond, long peakRssMb, long heapUsedMb, String threads) {
        @Override
        public String toString() {
            return String.format("%s, %,d parameters, threads %s%n  training: %.0f pairs/s (batch %d)%n"
                            + "  embedding: %.0f images/s, %.0f texts/s (no gradients, chunks of 500)%n"
                            + "  peak RSS of this process %d MB, JVM heap in use %d MB",
                    config, parameters, threads, trainPairsPerSecond, batch, imagesPerSecond, textsPerSecond, peakRssMb, heapUsedMb);
        }
    }

    /**
     * Measures training pairs/s (after one warm-up step), image and text embedding throughput, and the process's
     * peak resident memory (VmHWM, Linux) with a fresh model of configuration {@code c} on real training pairs;
     * embedding throughput over {@code nEmbed} Fashion-MNIST test images and as many captions.
     */
    public static Bench benchmark(NDManager parent, Config c, Recipe r, int steps, int nEmbed) {
        try (NDManager m = parent.newSubManager()) {
            Clip model = new Clip(m, c, 0);
            Pairs data = new Pairs(FashionMnist.train(), new CaptionedShapes(c.imageSize(), 0), 0);
            train(model, data, r, 1, 1e9, new MetricsLog(), null); // warm-up
            long t0 = System.nanoTime();
            train(model, data, r, steps, 1e9, new MetricsLog(), null);
            double train = steps * r.batch() / ((System.nanoTime() - t0) / 1e9);
            int n = nEmbed;
            NDArray imgs = FashionMnist.test().images(m, java.util.stream.IntStream.range(0, n).toArray());
            model.embedAll(m, imgs.get("0:" + Math.min(n, 100)), 500);
            t0 = System.nanoTime();
            model.embedAll(m, imgs, 500);
            double ips = n / ((System.nanoTime() - t0) / 1e9);
            List<String> caps = new ArrayList<>();
            Random rng = new Random(0);
            for (int i = 0; i < n; i++) caps.add(FashionCaptions.sample(i % 10, rng));
            t0 = System.nanoTime();
            model.embedAllTexts(m, caps);
            double tps = n / ((System.nanoTime() - t0) / 1e9);
            Runtime rt = Runtime.getRuntime();
            return new Bench(c.name(), model.parameterCount(), r.batch(), train, ips, tps, peakRssMb(),
                    (rt.totalMemory() - rt.freeMemory()) >> 20, System.getProperty("ai.djl.pytorch.num_threads", "(libtorch default)"));
        }
    }

    /** Peak resident set size of this process in MB (VmHWM from /proc/self/status), or −1 where unavailable. */
    public static long peakRssMb() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024;
            }
        } catch (Exception e) {
            return -1;
        }
        return -1;
    }
}
