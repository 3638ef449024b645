package org.lesson8.lessons;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.lesson8.data.CaptionedScenes;
import org.lesson8.data.CaptionedShapes;
import org.lesson8.data.FashionCaptions;
import org.lesson8.data.FashionMnist;
import org.lesson8.eval.ClassifierEval;
import org.lesson8.eval.ClipScores;
import org.lesson8.models.Clip;
import org.lesson8.nn.Channels;
import org.lesson8.models.ZeroShot;
import org.lesson8.train.MetricsLog;
import org.lesson8.train.Recipe;
import org.lesson8.train.TrainLoop;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Function;
import java.util.function.IntConsumer;
import java.util.stream.IntStream;

/**
 * Notebook 04 (CLIP): training pairs of Fashion-MNIST and a captioned second domain (shapes, or the text-to-image
 * scenes), the contrastive training run, zero-shot classification with one prompt and with the template ensemble,
 * and the throughput benchmark. The model itself is {@link Clip}, zero-shot is {@link ZeroShot}, and the retrieval
 * and binding probes are {@link org.lesson8.eval.ClipProbes}.
 */
public final class ClipLesson {
    private ClipLesson() {}

    /** Zero-shot classifier from labels and templates ("{}" is replaced by "a"/"an" + label, as in {@link FashionCaptions}). */
    public static ZeroShot zeroShotFromTemplates(Clip clip, NDManager m, List<String> labels, List<String> templates) {
        List<List<String>> prompts = new ArrayList<>();
        for (String l : labels) prompts.add(templates.stream().map(t -> FashionCaptions.fill(t, l)).toList());
        return ZeroShot.of(clip, m, labels, prompts);
    }

    /** Fashion-MNIST zero-shot with "a photo of a {label}." only. */
    public static ZeroShot fashionSinglePrompt(Clip clip, NDManager m) {
        return zeroShotFromTemplates(clip, m, FashionCaptions.LABELS, List.of(FashionCaptions.TEMPLATES.get(0)));
    }

    /** Fashion-MNIST zero-shot with the ensemble of all {@link FashionCaptions#TEMPLATES}. */
    public static ZeroShot fashionEnsemble(Clip clip, NDManager m) {
        return zeroShotFromTemplates(clip, m, FashionCaptions.LABELS, FashionCaptions.TEMPLATES);
    }

    /**
     * Training pairs: Fashion-MNIST images with sampled captions, and a captioned second domain drawn from its
     * training split (held-out combinations never used): the captioned shapes of the notebook-04 checkpoint, or the
     * captioned scenes of the text-to-image lessons.
     */
    public static final class Pairs {
        /** One drawn image (CHW RGB, 28×28, in [0, 1]) and its caption. */
        public record Drawn(float[] image, String caption) {}

        public final FashionMnist.Split fashion;
        private final Function<Random, Drawn> other;
        private final Random rng;

        private Pairs(FashionMnist.Split fashion, Function<Random, Drawn> other, long seed) {
            this.fashion = fashion;
            this.other = other;
            this.rng = new Random(seed);
        }

        /** Fashion-MNIST and captioned shapes (the checkpoint of notebook 04). */
        public Pairs(FashionMnist.Split fashion, CaptionedShapes shapes, long seed) {
            this(fashion, r -> {
                CaptionedShapes.Example e = shapes.train(r.nextInt(1 << 30));
                return new Drawn(e.image(), e.caption());
            }, seed);
            if (shapes.imageSize != FashionMnist.SIZE) {
                throw new IllegalArgumentException("render the shapes at " + FashionMnist.SIZE + " px (new CaptionedShapes(28, seed)) to share one image encoder");
            }
        }

        /** Fashion-MNIST and captioned scenes of the training split, each with a caption phrasing drawn for it. */
        public static Pairs withScenes(FashionMnist.Split fashion, CaptionedScenes scenes, long seed) {
            return new Pairs(fashion, r -> {
                CaptionedScenes.Scene sc = scenes.scene(CaptionedScenes.Split.TRAIN, r.nextInt(1 << 30));
                return new Drawn(sc.image(), sc.caption());
            }, seed);
        }

        /** A batch: images (B, 3, 28, 28), captions, and the Fashion class per row (−1 for the second domain). */
        public record Batch(NDArray images, List<String> captions, int[] classes) {}

        /**
         * {@code nFashion} Fashion images (random shift ±2 px and horizontal flip; caption = FashionCaptions.sample),
         * grey replicated to RGB, followed by {@code nOther} drawn pairs of the second domain.
         */
        public Batch next(NDManager m, int nFashion, int nOther) {
            List<String> caps = new ArrayList<>();
            int[] cls = new int[nFashion + nOther];
            NDArray img = null;
            if (nFashion > 0) {
                int[] idx = new int[nFashion];
                for (int i = 0; i < nFashion; i++) {
                    idx[i] = rng.nextInt(fashion.size);
                    cls[i] = fashion.label(idx[i]);
                    caps.add(FashionCaptions.sample(cls[i], rng));
                }
                img = Channels.greyToRgb(fashion.augmented(m, idx, 2, true, rng));
            }
            if (nOther > 0) {
                int px = 3 * FashionMnist.PIXELS;
                float[] v = new float[nOther * px];
                for (int i = 0; i < nOther; i++) {
                    Drawn d = other.apply(rng);
                    System.arraycopy(d.image(), 0, v, i * px, px);
                    caps.add(d.caption());
                    cls[nFashion + i] = -1;
                }
                NDArray o = m.create(v, new Shape(nOther, 3, FashionMnist.SIZE, FashionMnist.SIZE));
                img = img == null ? o : img.concat(o, 0);
            }
            return new Batch(img, caps, cls);
        }
    }

    /**
     * How a model is trained on {@link Pairs} (CLIP here; GLIDE and its noised CLIP in {@link GlideLesson}): the optimisation
     * {@code recipe}, and how many of its batch come from the captioned second domain (shapes or scenes; the rest are Fashion).
     */
    public record Regime(Recipe recipe, int captionedPerBatch) {
        public Regime {
            if (captionedPerBatch < 0 || captionedPerBatch > recipe.batch()) {
                throw new IllegalArgumentException(captionedPerBatch + " captioned pairs in a batch of " + recipe.batch());
            }
        }

        /** The checkpoint's regime: batches of 256 pairs (160 Fashion + 96 shapes), AdamW 1e-3, decay 0.1. */
        public static Regime standard() {
            return new Regime(new Recipe(256, 1e-3f, 0.1f, 200, 1f), 96);
        }

        public int batch() {
            return recipe.batch();
        }

        public int fashionPerBatch() {
            return recipe.batch() - captionedPerBatch;
        }

        public Regime withBatch(int fashion, int shapes) {
            return new Regime(recipe.withBatch(fashion + shapes), shapes);
        }

        /** The same batch with {@code fashion} Fashion images, the rest of the second domain; a clear error when it cannot hold them. */
        public Regime withFashion(int fashion) {
            if (fashion < 0 || fashion > batch()) {
                throw new IllegalArgumentException("FASHION is the number of Fashion images in a batch of " + batch()
                        + ", from 0 to " + batch() + ", not " + fashion);
            }
            return new Regime(recipe, batch() - fashion);
        }
    }

    /**
     * Trains with the symmetric contrastive loss for {@code steps} steps or {@code seconds}; logs "loss",
     * "scale" (exp t), "i2t_acc" (image → text top-1 inside the batch) besides lr and grad_norm.
     * The log-scale is clamped into [0, ln 100] after every step.
     */
    public static TrainLoop train(Clip model, Pairs data, Regime r, int steps, double seconds, MetricsLog log, IntConsumer onStep) {
        TrainLoop loop = r.recipe().loop(model, steps, log);
        loop.runFor(seconds, steps, (sub, step, metrics) -> {
            Pairs.Batch b = data.next(sub, r.fashionPerBatch(), r.captionedPerBatch());
            NDArray logits = model.logits(model.embedImages(b.images()), model.embedTexts(sub, b.captions()));
            long n = b.captions().size();
            long right = logits.argMax(1).toType(DataType.INT64, false).eq(sub.arange(0L, n, 1L, DataType.INT64)).sum().getLong();
            metrics.put("i2t_acc", right / (double) n);
            metrics.put("scale", model.scaleValue());
            return Clip.contrastiveLoss(logits);
        }, step -> {
            model.clampLogitScale();
            if (onStep != null) onStep.accept(step);
        });
        return loop;
    }

    /** Zero-shot accuracies on Fashion-MNIST test images: one prompt and the template ensemble. */
    public record ZeroShotResult(double singlePrompt, double ensemble, int images) {}

    public static ZeroShotResult evaluateFashion(Clip clip, NDManager m, FashionMnist.Split test, int limit) {
        try (NDManager sub = m.newSubManager()) {
            double one = ClassifierEval.evaluate(fashionSinglePrompt(clip, sub), sub, test, limit).accuracy();
            double ens = ClassifierEval.evaluate(fashionEnsemble(clip, sub), sub, test, limit).accuracy();
            return new ZeroShotResult(one, ens, Math.min(limit, test.size));
        }
    }

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
    public static Bench benchmark(NDManager parent, Clip.Config c, Regime r, int steps, int nEmbed) {
        try (NDManager m = parent.newSubManager()) {
            Clip model = new Clip(m, c, 0);
            Pairs data = new Pairs(FashionMnist.train(), new CaptionedShapes(c.imageSize(), 0), 0);
            train(model, data, r, 1, 1e9, new MetricsLog(), null); // warm-up
            long t0 = System.nanoTime();
            train(model, data, r, steps, 1e9, new MetricsLog(), null);
            double train = steps * r.batch() / ((System.nanoTime() - t0) / 1e9);
            int n = nEmbed;
            NDArray imgs = FashionMnist.test().images(m, IntStream.range(0, n).toArray());
            ClipScores.embedImages(model, m, imgs.get("0:" + Math.min(n, 100)), 500);
            t0 = System.nanoTime();
            ClipScores.embedImages(model, m, imgs, 500);
            double ips = n / ((System.nanoTime() - t0) / 1e9);
            List<String> caps = new ArrayList<>();
            Random rng = new Random(0);
            for (int i = 0; i < n; i++) caps.add(FashionCaptions.sample(i % 10, rng));
            t0 = System.nanoTime();
            ClipScores.embedTexts(model, m, caps);
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
