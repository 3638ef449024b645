package org.lesson8.lessons;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.lesson8.course.Course;
import org.lesson8.data.CaptionedScenes;
import org.lesson8.diffusion.Denoiser;
import org.lesson8.diffusion.GaussianDiffusion;
import org.lesson8.diffusion.NoiseSource;
import org.lesson8.diffusion.Samplers;
import org.lesson8.eval.ClipScores;
import org.lesson8.eval.PromptSet;
import org.lesson8.eval.TextToImageEval;
import org.lesson8.models.Clip;
import org.lesson8.models.Glide;
import org.lesson8.models.LatentDiffusion;
import org.lesson8.models.UnClipDecoder;
import org.lesson8.models.UnClipPrior;
import org.lesson8.nn.Channels;
import org.lesson8.nn.UnitVectors;
import org.lesson8.data.Tokenizer;
import org.lesson8.train.Checkpoint;
import org.lesson8.train.Ema;
import org.lesson8.train.MetricsLog;
import org.lesson8.train.Recipe;
import org.lesson8.train.TrainLoop;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.IntConsumer;

/**
 * Notebook 07 (unCLIP): the frozen scene CLIP of notebook 04 ({@code clip_scenes}) above the line, and below it the
 * {@link UnClipPrior diffusion prior} (caption → CLIP image embedding) and the {@link UnClipDecoder decoder} (CLIP image
 * embedding → image), trained here on the captioned scenes and Fashion captions; generation through three sources of
 * the embedding ({@link Source}: a real image's, the prior's, the caption's own text embedding), variations and
 * interpolations.
 * <p><b>Choices.</b> The decoder reads the CLIP image embedding and the caption, as the paper's (and slide 24: "the
 * prior's output and the text"); it starts from the trained GLIDE of notebook 06 ({@link #decoderFrom}), the model the
 * paper modifies, so that it does not learn to draw from scratch. Its caption path is GLIDE's; only the embedding's two
 * projections are new. Variations and interpolations decode an embedding with the empty caption.
 */
public final class UnClipLesson {
    private UnClipLesson() {}

    /** The decoder's process: GLIDE's (cosine, 1000 steps, Σ = β̃). */
    public static GaussianDiffusion process() {
        return GlideLesson.process();
    }

    /** The prior's process over the scaled embeddings: cosine, 1000 steps (as lucidrains' prior). */
    public static GaussianDiffusion priorProcess() {
        return GaussianDiffusion.cosine(1000, GaussianDiffusion.Variance.FIXED_SMALL);
    }

    /** The decoder's fine-tune from GLIDE: GLIDE's batch (40 scenes + 24 Fashion), AdamW 3e-4, 200 warm-up steps. */
    public static ClipLesson.Regime decoderRegime() {
        return new ClipLesson.Regime(new Recipe(64, 3e-4f, 0f, 200, 1f), 40);
    }

    /** The prior: batches of 256 pairs (160 scenes + 96 Fashion, CLIP's mix), AdamW 3e-4, weight decay 0.01. */
    public static ClipLesson.Regime priorRegime() {
        return new ClipLesson.Regime(new Recipe(256, 3e-4f, 0.01f, 200, 1f), 160);
    }

    /** EMA decay of the sampled weights of both models. */
    public static final double EMA_DECAY = 0.999;
    /** The shipped CLIP whose joint space unCLIP generates through. */
    public static final String CLIP_CHECKPOINT = "clip_scenes.safetensors";

    /** The shipped scene CLIP ({@link #CLIP_CHECKPOINT}), frozen: the prior's and the decoder's embeddings come from it. */
    public static Clip clip(NDManager m) throws IOException {
        Clip clip = new Clip(m, Clip.textToImage(), Tokenizer.textToImage(), 0);
        Checkpoint.load(clip, Course.checkpoint(CLIP_CHECKPOINT));
        return clip;
    }

    /** The decoder of notebook 07 ({@link UnClipDecoder#coursePatch2()}: glide_p2's sizes, embedding and caption). */
    public static UnClipDecoder.Config decoderConfig() {
        return UnClipDecoder.coursePatch2();
    }

    // ------------------------------------------------------------------ the decoder from GLIDE

    /**
     * A decoder made from a trained GLIDE of the course (4×4 {@link Glide#course()} or 2×2 {@link Glide#coursePatch2()}:
     * the decoder gets the same patches): every parameter the two share (patch and timestep embeddings, the text
     * transformer and its projection, the blocks, the final layer) copied from {@code glide}; the embedding's two
     * projections start at zero (weights and biases), so that the embedding adds nothing to the timestep vector and its
     * four context tokens are zero vectors. Training then only has to learn how the embedding changes the image.
     */
    public static UnClipDecoder decoderFrom(Glide glide, NDManager m) {
        Glide.Config g = glide.config;
        UnClipDecoder.Config c = g.patch() == 2 ? UnClipDecoder.coursePatch2() : UnClipDecoder.course();
        if (g.dim() != c.glide().dim() || g.depth() != c.glide().depth() || g.patch() != c.glide().patch()
                || g.textWidth() != c.glide().textWidth() || g.inpaint()) {
            throw new IllegalArgumentException("the decoder is made from GLIDE-course (" + c.glide().name() + "), not from "
                    + g.name() + ": load glide_p2.safetensors into new Glide(m, Glide.coursePatch2(), 0) "
                    + "(or glide.safetensors into Glide.course())");
        }
        UnClipDecoder d = new UnClipDecoder(m, c, glide.tokenizer, 0);
        Map<String, NDArray> from = glide.parameters();
        for (Map.Entry<String, NDArray> e : d.parameters().entrySet()) {
            NDArray src = from.get(e.getKey());
            if (src == null) continue;   // the embedding's two projections
            if (!src.getShape().equals(e.getValue().getShape())) {
                throw new IllegalStateException("parameter '" + e.getKey() + "' has shape " + src.getShape() + " in GLIDE but "
                        + e.getValue().getShape() + " in the decoder");
            }
            e.getValue().set(src.toFloatArray());
        }
        for (org.lesson8.nn.Linear l : List.of(d.clipToTime, d.clipToTokens)) {
            l.weight.set(new float[(int) l.weight.size()]);
            l.bias.set(new float[(int) l.bias.size()]);
        }
        return d;
    }

    // ------------------------------------------------------------------ training

    /** Frozen-CLIP image embeddings of images in [0, 1] (B, E), unit norm, outside any gradient. */
    static NDArray imageEmbeddings(Clip clip, NDArray images) {
        return clip.embedImages(images).stopGradient();
    }

    /**
     * Trains the decoder with the ε-MSE of {@code process}, min-SNR weighted as GLIDE's continuation
     * ({@link GlideLesson#minSnrWeights}), on mixed batches of {@code data}: each image's condition is
     * its own frozen-CLIP image embedding, set to zero with probability {@code embedDropout} (classifier-free
     * guidance). With {@code ema} (may be null) the moving average is updated after every step.
     */
    public static TrainLoop trainDecoder(UnClipDecoder decoder, Clip clip, GaussianDiffusion process, ClipLesson.Pairs data,
                                         ClipLesson.Regime r, int steps, double seconds, long seed, MetricsLog log, Ema ema,
                                         IntConsumer onStep) {
        Random drop = new Random(seed + 1);
        Random tRng = new Random(seed + 2);
        NoiseSource noise = NoiseSource.seeded(new Random(seed + 4));
        TrainLoop loop = r.recipe().loop(decoder, steps, log);
        loop.runFor(seconds, steps, (sub, step, metrics) -> {
            ClipLesson.Pairs.Batch b = data.next(sub, r.fashionPerBatch(), r.captionedPerBatch());
            NDArray x0 = LatentDiffusion.toSigned(b.images());
            int n = b.captions().size();
            Glide.Text text = decoder.config.text() ? decoder.tokenize(sub, b.captions()) : null;
            UnClipDecoder.Condition cond = decoder.dropConditions(
                    new UnClipDecoder.Condition(imageEmbeddings(clip, b.images()), text), drop);
            NDArray t = process.sampleTimesteps(sub, n, tRng);
            return GlideLesson.weighted(process.trainingLosses(decoder, x0, t, cond, noise).mse(), process, t,
                    GlideLesson.MIN_SNR_GAMMA, metrics);
        }, step -> {
            if (ema != null) ema.update();
            if (onStep != null) onStep.accept(step);
        });
        return loop;
    }

    /**
     * Trains the prior on mixed batches: the caption's frozen-CLIP hidden states and text embedding in, the image's
     * CLIP embedding (× √E) out, predicted clean from its noised version at a uniform timestep; the caption dropped
     * with probability {@code textDropout}. Logs "mse" (per coordinate of the scaled embedding).
     */
    public static TrainLoop trainPrior(UnClipPrior prior, Clip clip, GaussianDiffusion process, ClipLesson.Pairs data,
                                       ClipLesson.Regime r, int steps, double seconds, long seed, MetricsLog log, Ema ema,
                                       IntConsumer onStep) {
        Random drop = new Random(seed + 1);
        Random tRng = new Random(seed + 2);
        NoiseSource noise = NoiseSource.seeded(new Random(seed + 4));
        TrainLoop loop = r.recipe().loop(prior, steps, log);
        loop.runFor(seconds, steps, (sub, step, metrics) -> {
            ClipLesson.Pairs.Batch b = data.next(sub, r.fashionPerBatch(), r.captionedPerBatch());
            NDArray z = imageEmbeddings(clip, b.images());
            int n = b.captions().size();
            UnClipPrior.Caption c = prior.dropText(UnClipPrior.Caption.encode(clip, sub, b.captions()), drop);
            NDArray t = process.sampleTimesteps(sub, n, tRng);
            NDArray mse = prior.loss(process, z, t, c, noise.sample(sub, z.getShape())).mean();
            metrics.put("mse", (double) mse.getFloat());
            return mse;
        }, step -> {
            if (ema != null) ema.update();
            if (onStep != null) onStep.accept(step);
        });
        return loop;
    }

    // ------------------------------------------------------------------ sampling

    /** Where the decoder's embedding comes from: the slide's question, (a), (b) and (c), and none at all. */
    public enum Source {
        /** The caption alone, with the zero (null) embedding: the decoder as a GLIDE. */
        CAPTION_ONLY("(0) caption only, zero embedding"),
        /** (a) The CLIP image embedding of a real image of the caption (a fresh draw of its ground truth): the ceiling. */
        IMAGE_EMBEDDING("(a) real image's embedding"),
        /** (b) unCLIP itself: the prior's sample (best of two) from the caption. */
        PRIOR("(b) prior = unCLIP"),
        /** (c) No prior: the caption's CLIP text embedding, fed as if it were an image embedding. */
        TEXT_EMBEDDING("(c) text embedding, no prior");

        public final String label;

        Source(String label) {
            this.label = label;
        }
    }

    /** How the prior samples: DDIM steps and guidance scale, and whether it keeps the better of two draws. */
    public record PriorSampling(int steps, double scale, boolean bestOfTwo) {
        /** 25 DDIM steps (the paper: 64 strided steps), no guidance, best of two. */
        public static PriorSampling standard() {
            return new PriorSampling(25, 1, true);
        }
    }

    /**
     * Captions → unit CLIP embeddings (N, E) from {@code source}: a real image of each caption, a fresh draw of its
     * ground truth per row ({@link TextToImageEval#real()}, beyond the evaluation's reference images of
     * {@link PromptSet#real}), the prior's sample with noise from {@code seed}, or the caption's text embedding. The
     * prior may be null for the other sources.
     */
    public static NDArray embeddings(NDManager m, Source source, Clip clip, UnClipPrior prior, PriorSampling ps,
                                     List<String> captions, long seed) {
        return switch (source) {
            case IMAGE_EMBEDDING -> {
                NDArray real = TextToImageEval.real().generate(m, captions, seed);
                yield clip.embedImages(real.getShape().get(1) == 1 ? Channels.greyToRgb(real) : real);
            }
            case TEXT_EMBEDDING -> clip.embedTexts(m, captions);
            case CAPTION_ONLY -> m.zeros(new Shape(captions.size(), clip.config.embedDim()));
            case PRIOR -> {
                if (prior == null) throw new IllegalArgumentException("the PRIOR source needs a trained prior (unclip_prior.safetensors)");
                UnClipPrior.Caption c = UnClipPrior.Caption.encode(clip, m, captions);
                NoiseSource noise = NoiseSource.seeded(new Random(seed));
                yield ps.bestOfTwo() ? prior.sampleBestOfTwo(priorProcess(), ps.steps(), c, ps.scale(), noise)
                        : prior.sample(priorProcess(), ps.steps(), c, ps.scale(), noise);
            }
        };
    }

    /**
     * How close the prior's samples come to the image embeddings of real scenes: mean cosines with the image embedding
     * (the prior's sample; the caption's text embedding, for comparison) and caption retrieval: the share of embeddings
     * whose best caption among the probe scenes' canonical captions (by CLIP's dot product) is their own.
     */
    public record PriorQuality(int scenes, double priorCosine, double textCosine, double imageTop1, double priorTop1) {}

    /** {@link PriorQuality} of {@code prior} on {@code scenes}, sampled as {@code ps} says with noise from {@code seed}. */
    public static PriorQuality priorQuality(UnClipPrior prior, Clip clip, NDManager m, List<CaptionedScenes.Scene> scenes,
                                            PriorSampling ps, long seed) {
        List<String> captions = scenes.stream().map(CaptionedScenes.Scene::canonicalCaption).toList();
        try (NDManager sub = m.newSubManager()) {
            NDArray image = clip.embedImages(CaptionedScenes.images(sub, scenes));
            NDArray text = clip.embedTexts(sub, captions);
            NDArray sampled = embeddings(sub, Source.PRIOR, clip, prior, ps, captions, seed);
            return new PriorQuality(scenes.size(), meanDot(sampled, image), meanDot(text, image),
                    ClipScores.ownCaptionTop1(image, text, captions), ClipScores.ownCaptionTop1(sampled, text, captions));
        }
    }

    private static double meanDot(NDArray a, NDArray b) {
        return a.mul(b).sum(new int[] {1}).mean().getFloat();
    }


    /**
     * Unit (or zero) CLIP embeddings (N, E) and captions (null: the empty caption for every row) → images (N, 3, I, I)
     * in [0, 1]: DDIM (η = 0) over {@code steps} steps with classifier-free guidance {@code s} (∅ = zero embedding and
     * empty caption), starting from {@code xT} (N, 3, I, I).
     */
    public static NDArray decode(UnClipDecoder decoder, NDArray embeddings, List<String> captions, NDArray xT, double s, int steps) {
        GaussianDiffusion d = process().respace(steps);
        NDArray x = Samplers.ddim(d, guided(decoder, s), xT, condition(decoder, embeddings, captions), 0, null, true, null);
        return LatentDiffusion.toUnit(x);
    }

    /** The decoder, guided at scale {@code s} (itself at s = 1). */
    private static Denoiser<UnClipDecoder.Condition> guided(UnClipDecoder decoder, double s) {
        return s == 1 ? decoder : UnClipDecoder.guidance(decoder, s);
    }

    /** The decoder's condition: the embeddings and, if it reads captions, {@code captions} (null: the empty caption). */
    private static UnClipDecoder.Condition condition(UnClipDecoder decoder, NDArray embeddings, List<String> captions) {
        int n = (int) embeddings.getShape().get(0);
        Glide.Text text = !decoder.config.text() ? null
                : decoder.tokenize(embeddings.getManager(), captions != null ? captions : java.util.Collections.nCopies(n, ""));
        return new UnClipDecoder.Condition(embeddings, text);
    }

    /** Noise x_T for {@code n} images of the decoder, drawn from {@code seed}. */
    public static NDArray noise(UnClipDecoder decoder, NDManager m, int n, long seed) {
        return noise(decoder, m, n, new Random(seed));
    }

    /** Noise x_T for {@code n} images of the decoder, drawn from {@code rng}. */
    static NDArray noise(UnClipDecoder decoder, NDManager m, int n, Random rng) {
        Glide.Config g = decoder.config.glide();
        return NoiseSource.seeded(rng).sample(m, new Shape(n, g.channels(), g.imageSize(), g.imageSize()));
    }

    /**
     * Unit (or zero) CLIP embeddings (N, E) and captions (null: the empty caption) → images (N, 3, I, I) in [0, 1], sampled
     * as the GLIDE of notebook 06 ({@link GlideLesson#ancestral}): ancestral (DDPM, Σ = β̃ of the respaced process) over
     * {@code steps} respaced steps with classifier-free guidance {@code s}; x_T and then every step's noise drawn from
     * {@code rng}.
     */
    public static NDArray decodeAncestral(UnClipDecoder decoder, NDArray embeddings, List<String> captions, Random rng, double s,
                                          int steps) {
        GaussianDiffusion d = process().respace(steps);
        UnClipDecoder.Condition cond = condition(decoder, embeddings, captions);
        NDArray xT = noise(decoder, embeddings.getManager(), (int) cond.batch(), rng);
        NDArray x = Samplers.ddpm(d, guided(decoder, s), xT, cond, NoiseSource.seeded(rng), true, null);
        return LatentDiffusion.toUnit(x);
    }

    /**
     * Captions → images through {@code source} and the decoder, which also reads the caption (as the paper's), sampled
     * ancestrally as GLIDE's ({@link #decodeAncestral}, x_T from {@code seed}): what {@link TextToImageEval#evaluate}
     * measures.
     */
    public static TextToImageEval.Generator generator(UnClipDecoder decoder, Clip clip, UnClipPrior prior, Source source,
                                                      PriorSampling ps, double decoderScale, int steps) {
        return (m, captions, seed) -> decodeAncestral(decoder, embeddings(m, source, clip, prior, ps, captions, seed + 7919), captions,
                new Random(seed), decoderScale, steps);
    }

    /**
     * Variations (§3.1): the CLIP embedding of each of {@code images} (N, 3, I, I) in [0, 1], decoded {@code count}
     * times from different noise with the empty caption: rows of (N·count, 3, I, I), image by image.
     */
    public static NDArray variations(UnClipDecoder decoder, Clip clip, NDManager m, NDArray images, int count, double s,
                                     int steps, long seed) {
        NDArray z = clip.embedImages(images);
        long n = z.getShape().get(0);
        NDArray rep = z.expandDims(1).repeat(1, count).reshape(n * count, z.getShape().get(1));
        return decode(decoder, rep, null, noise(decoder, m, (int) (n * count), seed), s, steps);
    }

    /**
     * Interpolation (§3.2): {@code points} embeddings on the great circle from image a's CLIP embedding to image b's
     * ({@link UnitVectors#slerp}, t = 0 … 1), decoded from one fixed noise with the empty caption: (points, 3, I, I).
     * Inputs (1, 3, I, I).
     */
    public static NDArray interpolate(UnClipDecoder decoder, Clip clip, NDManager m, NDArray a, NDArray b, int points,
                                      double s, int steps, long seed) {
        if (points < 2) throw new IllegalArgumentException("an interpolation has at least its two end points, not " + points);
        NDArray za = clip.embedImages(a), zb = clip.embedImages(b);
        List<NDArray> path = new ArrayList<>();
        for (int k = 0; k < points; k++) path.add(UnitVectors.slerp(za, zb, k / (double) (points - 1)));
        NDArray z = path.get(0);
        for (int k = 1; k < points; k++) z = z.concat(path.get(k), 0);
        NDArray one = noise(decoder, m, 1, seed);
        NDArray xT = one.repeat(0, points);
        return decode(decoder, z, null, xT, s, steps);
    }
}
