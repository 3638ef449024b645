package org.lesson8.lessons;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.lesson8.course.Interruption;
import org.lesson8.data.Batches;
import org.lesson8.data.CaptionedScenes;
import org.lesson8.data.FashionCaptions;
import org.lesson8.data.FashionMnist;
import org.lesson8.data.SceneCaptions;
import org.lesson8.data.Tokenizer;
import org.lesson8.eval.ClipScores;
import org.lesson8.eval.TextToImageEval;
import org.lesson8.models.Clip;
import org.lesson8.models.DallE;
import org.lesson8.models.Dvae;
import org.lesson8.nn.Channels;
import org.lesson8.train.MetricsLog;
import org.lesson8.train.Recipe;
import org.lesson8.train.TrainLoop;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.IntConsumer;
import java.util.function.Supplier;
import java.util.stream.IntStream;

/**
 * Notebook 05 (DALL·E): the two training stages on the text-to-image data (captioned scenes and Fashion-MNIST with
 * captions), the table of image tokens between them, generation from captions and the top-k selection of reranking.
 * <pre>
 *   stage 1   dVAE on images of both domains            Gumbel-softmax τ annealed 1 → 1/16, KL weight β raised
 *   table     image → 7×7 codes (argmax), + captions    {@link CodeTable}, on the Java heap
 *   stage 2   transformer on (caption tokens, codes)    1/8 text + 7/8 image cross-entropy
 *   generate  caption → codes (top-k, temperature) → dVAE decoder → image
 *   rerank    N samples per caption, keep the k that a judge (CLIP) scores highest
 * </pre>
 * The models are {@link Dvae} and {@link DallE}; the CLIP scores of reranking come from
 * {@code eval.ClipScores.clipScore}.
 */
public final class DallELesson {
    private DallELesson() {}

    /** The dVAE's recipe: batches of 64 images (32 scenes + 32 Fashion), AdamW 1e-3, no weight decay. */
    public static Recipe dvaeRecipe() {
        return new Recipe(64, 1e-3f, 0f, 100, 1f);
    }

    /** The transformer's recipe: batches of 64 pairs, AdamW 1e-3 with decay 0.01, warm-up 200 steps. */
    public static Recipe dalleRecipe() {
        return new Recipe(64, 1e-3f, 0.01f, 200, 1f);
    }

    /**
     * The KL weight at the end of the ramp. The paper's 6.6 prices a nat of code information against a logit-Laplace
     * likelihood of 256²·3 / 32² = 192 sub-pixels per token; ours are 4²·3 = 48 sub-pixels under a Bernoulli
     * likelihood, which gains far fewer nats from knowing a value exactly (at most log 2 per sub-pixel, where the
     * sharp logit-Laplace gains without bound). Scaling by 48 / 192 alone (β = 1.65) kept the KL at 18 nats per image
     * (0.4 of the 5.5 nats a token can carry) after 400 steps, so the codes said little; 0.2 keeps the term's
     * pull towards an even codebook without starving the tokens.
     */
    public static final double BETA = 0.2;

    /** {@link Dvae.Anneal#scaled}'s schedule (τ over the run, β over its first 1/30) with β ending at {@link #BETA}. */
    public static Dvae.Anneal anneal(int steps) {
        Dvae.Anneal a = Dvae.Anneal.scaled(steps);
        return new Dvae.Anneal(a.tauStart(), a.tauEnd(), a.tauSteps(), BETA, a.betaSteps());
    }

    // ------------------------------------------------------------------ stage 1: the dVAE

    /** Where the images of both domains come from: Fashion-MNIST (grey → RGB) and the scenes of one split. */
    public record Images(FashionMnist.Split fashion, CaptionedScenes scenes, CaptionedScenes.Split split) {
        /** A batch (n, 3, 28, 28): {@code n / 2} random scenes of the split, then random Fashion images. */
        public NDArray mixed(NDManager m, int n, Random rng) {
            int nScenes = n / 2;
            int[] idx = new int[n - nScenes];
            for (int i = 0; i < idx.length; i++) idx[i] = rng.nextInt(fashion.size);
            List<CaptionedScenes.Scene> drawn = IntStream.range(0, nScenes)
                    .mapToObj(i -> scenes.scene(split, rng.nextInt(1 << 30))).toList();
            return CaptionedScenes.images(m, drawn).concat(Channels.greyToRgb(fashion.images(m, idx)), 0);
        }

        /** The first {@code n} scenes of the split followed by the first {@code n} Fashion images: (2n, 3, 28, 28). */
        public NDArray first(NDManager m, int n) {
            int[] idx = IntStream.range(0, Math.min(n, fashion.size)).toArray();
            return CaptionedScenes.images(m, scenes.scenes(split, n)).concat(Channels.greyToRgb(fashion.images(m, idx)), 0);
        }
    }

    /**
     * Trains the dVAE on mixed batches with the Gumbel-softmax relaxation; τ and β follow {@code anneal}. Logs
     * "reconstruction" (nats per image), "kl" (nats per image), "tau", "beta" and "perplexity" (of the batch's
     * argmax codes) besides the loop's loss, lr and grad_norm.
     */
    public static TrainLoop trainDvae(Dvae dvae, Images data, Recipe r, Dvae.Anneal anneal, int steps, double seconds,
                                      long seed, MetricsLog log, IntConsumer onStep) {
        Random rng = new Random(seed);
        Random noise = new Random(seed + 1);
        TrainLoop loop = r.loop(dvae, steps, log);
        loop.runFor(seconds, steps, (sub, step, metrics) -> {
            double tau = anneal.tau(step), beta = anneal.beta(step);
            Dvae.Losses l = dvae.losses(data.mixed(sub, r.batch(), rng), tau, beta, noise);
            metrics.put("reconstruction", (double) l.reconstruction().mean().getFloat());
            metrics.put("kl", (double) l.kl().mean().getFloat());
            metrics.put("tau", tau);
            metrics.put("beta", beta);
            metrics.put("perplexity", Dvae.Usage.of(l.logits().stopGradient().argMax(1), dvae.config.codes()).perplexity());
            return l.loss();
        }, onStep);
        return loop;
    }

    /** Reconstruction error per sub-pixel (Bernoulli NLL and squared error) and codebook usage over a set of images. */
    public record Quality(int images, double bcePerPixel, double msePerPixel, double perplexity, int deadCodes) {}

    /** Measures decode(encode(x)) of {@code images} (n, 3, 28, 28) in chunks of 500, without gradients. */
    public static Quality measure(Dvae dvae, NDManager m, NDArray images) {
        long n = images.getShape().get(0);
        double bce = 0, mse = 0;
        int tokens = dvae.config.tokens();
        long[] codes = new long[(int) n * tokens];
        for (int[] idx : Batches.sequential((int) n, 500)) {
            try (NDManager sub = m.newSubManager(); NDScope scope = new NDScope()) {
                NDArray x = images.get("{}:{}", idx[0], idx[0] + idx.length);
                NDArray c = dvae.encode(x);
                NDArray y = dvae.decode(c).clip(1e-6, 1 - 1e-6);
                bce += y.log().mul(x).add(y.neg().add(1).log().mul(x.neg().add(1))).neg().sum().getFloat();
                mse += y.sub(x).square().sum().getFloat();
                System.arraycopy(c.toLongArray(), 0, codes, idx[0] * tokens, idx.length * tokens);
            }
        }
        double px = (double) images.getShape().size();
        Dvae.Usage u;
        try (NDManager sub = m.newSubManager()) {
            u = Dvae.Usage.of(sub.create(codes), dvae.config.codes());
        }
        return new Quality((int) n, bce / px, mse / px, u.perplexity(), u.deadCodes());
    }

    // ------------------------------------------------------------------ the code table between the stages

    /**
     * Images as the dVAE's tokens, kept on the Java heap with their captions: per image G·G codes and
     * {@code phrasings} captions (different wordings of the same picture), so that the transformer sees each image
     * under several captions without re-encoding it.
     */
    public record CodeTable(int tokens, int[] codes, String[][] captions) {
        public int size() {
            return captions.length;
        }

        /** The codes of the given images: int64 (n, G·G). */
        public NDArray codes(NDManager m, int[] idx) {
            long[] v = new long[idx.length * tokens];
            for (int j = 0; j < idx.length; j++) for (int i = 0; i < tokens; i++) v[j * tokens + i] = codes[idx[j] * tokens + i];
            return m.create(v, new Shape(idx.length, tokens));
        }

        /** One of the stored phrasings of each image, drawn from {@code rng}, encoded to {@code length} ids: (n, length). */
        public NDArray text(NDManager m, int[] idx, Tokenizer tok, int length, Random rng) {
            int[] v = new int[idx.length * length];
            for (int j = 0; j < idx.length; j++) {
                String[] p = captions[idx[j]];
                System.arraycopy(tok.encode(p[rng.nextInt(p.length)], length), 0, v, j * length, length);
            }
            return m.create(v, new Shape(idx.length, length));
        }
    }

    /**
     * Encodes the first {@code nScenes} scenes of {@code images.split()} (their drawn caption and further phrasings)
     * and the first {@code nFashion} Fashion images (captions from {@code FashionCaptions.sample}), in chunks of 500
     * without gradients. The table depends only on the dVAE, the data and {@code seed}.
     */
    public static CodeTable codeTable(Dvae dvae, NDManager m, Images images, int nScenes, int nFashion, int phrasings, long seed) {
        if (phrasings < 1) throw new IllegalArgumentException("each image needs at least one caption, got " + phrasings);
        nFashion = Math.min(nFashion, images.fashion().size);
        int tokens = dvae.config.tokens(), n = nScenes + nFashion;
        Random rng = new Random(seed);
        int[] codes = new int[n * tokens];
        String[][] captions = new String[n][];
        for (int[] idx : Batches.sequential(n, 500)) {
            Interruption.check("encoding", idx[0], n, () -> "no table was returned");
            try (NDManager sub = m.newSubManager(); NDScope scope = new NDScope()) {
                float[] v = new float[idx.length * 3 * FashionMnist.PIXELS];
                for (int j = 0; j < idx.length; j++) {
                    int i = idx[j];
                    float[] img;
                    if (i < nScenes) {
                        CaptionedScenes.Scene s = images.scenes().scene(images.split(), i);
                        img = s.image();
                        captions[i] = phrasings(s.caption(), () -> SceneCaptions.sample(s.attributes(), rng), phrasings);
                    } else {
                        int f = i - nScenes, label = images.fashion().label(f);
                        float[] grey = images.fashion().image(f);
                        img = new float[3 * grey.length];
                        for (int c = 0; c < 3; c++) System.arraycopy(grey, 0, img, c * grey.length, grey.length);
                        captions[i] = phrasings(null, () -> FashionCaptions.sample(label, rng), phrasings);
                    }
                    System.arraycopy(img, 0, v, j * img.length, img.length);
                }
                NDArray c = dvae.encode(sub.create(v, new Shape(idx.length, 3, FashionMnist.SIZE, FashionMnist.SIZE)));
                long[] cl = c.toLongArray();
                for (int k = 0; k < cl.length; k++) codes[idx[0] * tokens + k] = (int) cl[k];
            }
        }
        return new CodeTable(tokens, codes, captions);
    }

    private static String[] phrasings(String first, Supplier<String> more, int n) {
        String[] out = new String[n];
        for (int i = 0; i < n; i++) out[i] = i == 0 && first != null ? first : more.get();
        return out;
    }

    // ------------------------------------------------------------------ stage 2: the transformer

    /**
     * Trains the transformer on (caption, codes) pairs of the table with the paper's 1/8 text + 7/8 image loss; each
     * draw of an image takes one of its phrasings at random. Logs "text" and "image" (mean cross-entropies, nats per
     * token) besides the loop's loss, lr and grad_norm.
     */
    public static TrainLoop trainDallE(DallE dalle, CodeTable table, Tokenizer tok, Recipe r, int steps, double seconds,
                                      long seed, MetricsLog log, IntConsumer onStep) {
        checkVocabulary(dalle, tok);
        Random rng = new Random(seed);
        Batches.Shuffled batches = new Batches.Shuffled(table.size(), rng);
        TrainLoop loop = r.loop(dalle, steps, log);
        loop.runFor(seconds, steps, (sub, step, metrics) -> {
            int[] idx = batches.next(r.batch());
            DallE.Losses l = dalle.losses(table.text(sub, idx, tok, dalle.config.textLength(), rng), table.codes(sub, idx));
            metrics.put("text", (double) l.text().getFloat());
            metrics.put("image", (double) l.image().getFloat());
            return l.loss();
        }, onStep);
        return loop;
    }

    /** Mean cross-entropy (nats per token) of the text and of the image tokens over the whole table, without gradients. */
    public record Nll(int pairs, double text, double image) {}

    /** {@link Nll} of the table's pairs, each with its first phrasing, in batches of 250. */
    public static Nll nll(DallE dalle, NDManager m, CodeTable table, Tokenizer tok) {
        checkVocabulary(dalle, tok);
        double text = 0, image = 0;
        for (int[] idx : Batches.sequential(table.size(), 250)) {
            try (NDManager sub = m.newSubManager(); NDScope scope = new NDScope()) {
                int l = dalle.config.textLength();
                int[] v = new int[idx.length * l];
                for (int j = 0; j < idx.length; j++) System.arraycopy(tok.encode(table.captions()[idx[j]][0], l), 0, v, j * l, l);
                DallE.Losses loss = dalle.losses(sub.create(v, new Shape(idx.length, l)), table.codes(sub, idx));
                text += loss.text().getFloat() * idx.length;
                image += loss.image().getFloat() * idx.length;
            }
        }
        return new Nll(table.size(), text / table.size(), image / table.size());
    }

    private static void checkVocabulary(DallE dalle, Tokenizer tok) {
        if (tok.size() != dalle.config.textTokens()) {
            throw new IllegalArgumentException("the transformer was built for " + dalle.config.textTokens() + " caption ids but the "
                    + "tokenizer has " + tok.size() + ": build it with DallE.course(Tokenizer.textToImage().size(), ...)");
        }
    }

    // ------------------------------------------------------------------ generation and reranking

    /** Caption → image with both stages: the transformer samples codes (top-k, temperature), the dVAE decodes them. */
    public record Pipeline(DallE dalle, Dvae dvae, Tokenizer tok, double temperature, int topK) {
        public Pipeline {
            checkVocabulary(dalle, tok);
            if (dalle.config.grid() != dvae.config.grid() || dalle.config.codes() != dvae.config.codes()) {
                throw new IllegalArgumentException("the transformer expects a " + dalle.config.grid() + "×" + dalle.config.grid()
                        + " grid of " + dalle.config.codes() + " codes but the dVAE makes " + dvae.config.grid() + "×"
                        + dvae.config.grid() + " of " + dvae.config.codes());
            }
        }

        /** The course's sampling: temperature 1, top-k 32 (of 256 codes). */
        public static Pipeline standard(DallE dalle, Dvae dvae, Tokenizer tok) {
            return new Pipeline(dalle, dvae, tok, 1.0, 32);
        }

        /** The sampled codes (N, G·G) for captions; an unknown word or an over-long caption is an error naming it. */
        public int[][] codes(NDManager m, List<String> captions, long seed) {
            int l = dalle.config.textLength();
            int[][] text = captions.stream().map(c -> tok.encode(c, l)).toArray(int[][]::new);
            return dalle.sample(m, text, temperature, topK, seed, true);
        }

        /** One image per caption, in order: (N, 3, 28, 28) in [0, 1], drawn with {@code seed}, in {@code m}. */
        public NDArray generate(NDManager m, List<String> captions, long seed) {
            int[][] c = codes(m, captions, seed);
            int t = dvae.config.tokens();
            long[] v = new long[c.length * t];
            for (int i = 0; i < c.length; i++) for (int j = 0; j < t; j++) v[i * t + j] = c[i][j];
            return dvae.decode(m.create(v, new Shape(c.length, t)));
        }
    }

    /**
     * Reranking's selection: the indices of the {@code k} highest of {@code scores} (e.g. CLIP scores of N samples of
     * one caption), best first; ties keep the earlier sample first.
     */
    public static int[] rerank(float[] scores, int k) {
        if (k < 1 || k > scores.length) {
            throw new IllegalArgumentException("keep between 1 and " + scores.length + " of the " + scores.length + " samples, not " + k);
        }
        Integer[] order = new Integer[scores.length];
        for (int i = 0; i < order.length; i++) order[i] = i;
        Arrays.sort(order, (a, b) -> Float.compare(scores[b], scores[a]));
        return Arrays.stream(order).limit(k).mapToInt(Integer::intValue).toArray();
    }

    /**
     * DALL·E with CLIP reranking as a generator for {@link TextToImageEval#evaluate}: {@code n} samples per caption
     * from {@code pipeline}, the one with the highest CLIP score ({@link ClipScores#clipScore}) kept.
     */
    public static TextToImageEval.Generator reranked(Pipeline pipeline, Clip clip, int n) {
        return (m, captions, seed) -> {
            List<String> rep = new ArrayList<>();
            for (String c : captions) for (int j = 0; j < n; j++) rep.add(c);
            NDArray images = pipeline.generate(m, rep, seed);
            double[] s = ClipScores.clipScore(clip, m, images, rep);
            int[] keep = new int[captions.size()];
            for (int i = 0; i < captions.size(); i++) {
                float[] block = new float[n];
                for (int j = 0; j < n; j++) block[j] = (float) s[i * n + j];
                keep[i] = i * n + rerank(block, 1)[0];
            }
            return select(images, keep);
        };
    }

    /** The rows {@code keep} of images (N, C, H, W), in that order. */
    public static NDArray select(NDArray images, int[] keep) {
        long[] idx = Arrays.stream(keep).asLongStream().toArray();
        return images.get(images.getManager().create(idx).toType(DataType.INT64, false));
    }
}
