package org.lesson8.lessons;

import org.lesson8.course.Interruption;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import org.lesson8.data.CaptionedShapes;
import org.lesson8.data.FashionCaptions;
import org.lesson8.data.FashionMnist;
import org.lesson8.eval.ClassifierEval;
import org.lesson8.models.Clip;
import org.lesson8.models.ZeroShot;
import org.lesson8.train.MetricsLog;
import org.lesson8.train.Recipe;
import org.lesson8.train.TrainLoop;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.IntConsumer;
import java.util.stream.IntStream;

/**
 * Notebook 04 (CLIP): training pairs of Fashion-MNIST and captioned shapes, the contrastive training run, zero-shot
 * classification with one prompt and with the template ensemble, retrieval on seen and held-out colour × shape
 * pairs, and the throughput benchmark. The model itself is {@link Clip}; zero-shot is {@link ZeroShot}.
 */
public final class ClipLesson {
    private ClipLesson() {}

    /** Unit-norm image embeddings of many images, computed in chunks without gradients, as a Java matrix. */
    public static float[][] embedAll(Clip clip, NDManager m, NDArray images, int chunk) {
        long n = images.getShape().get(0);
        float[][] out = new float[(int) n][];
        for (long s = 0; s < n; s += chunk) {
            Interruption.check("embedding", (int) s, (int) n, () -> "no result was returned");
            try (NDManager sub = m.newSubManager(); NDScope scope = new NDScope()) {
                NDArray x = images.get(s + ":" + Math.min(n, s + chunk));
                float[] v = clip.embedImages(x).toFloatArray();
                int e = clip.config.embedDim();
                for (int i = 0; i < v.length / e; i++) out[(int) s + i] = Arrays.copyOfRange(v, i * e, (i + 1) * e);
            }
        }
        return out;
    }

    /** Unit-norm text embeddings as a Java matrix (no gradients kept). */
    public static float[][] embedAllTexts(Clip clip, NDManager m, List<String> captions) {
        float[][] out = new float[captions.size()][];
        int e = clip.config.embedDim();
        for (int s = 0; s < captions.size(); s += 500) {
            Interruption.check("embedding", s, captions.size(), () -> "no result was returned");
            try (NDManager sub = m.newSubManager(); NDScope scope = new NDScope()) {
                float[] v = clip.embedTexts(sub, captions.subList(s, Math.min(captions.size(), s + 500))).toFloatArray();
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
                NDArray g = fashion.augmented(m, idx, 2, true, rng);
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

    /** How CLIP is trained: the optimisation {@code recipe}, and how many of its batch are captioned shapes (the rest Fashion). */
    public record Regime(Recipe recipe, int shapesPerBatch) {
        public Regime {
            if (shapesPerBatch < 0 || shapesPerBatch > recipe.batch()) {
                throw new IllegalArgumentException(shapesPerBatch + " shapes in a batch of " + recipe.batch());
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
            return recipe.batch() - shapesPerBatch;
        }

        public Regime withBatch(int fashion, int shapes) {
            return new Regime(recipe.withBatch(fashion + shapes), shapes);
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
            Pairs.Batch b = data.next(sub, r.fashionPerBatch(), r.shapesPerBatch());
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

    /**
     * Retrieval on colour × shape combinations. Image → text: each image against all 240 captions; top-1 counts
     * when the best caption names the image's colour and shape (chance 10/240 = 1/24). Text → image: each caption
     * of the evaluated pairs against a gallery of the evaluated images plus as many training images; top-1 counts
     * when the best image has the caption's colour and shape (chance = share of such images in the gallery).
     */
    public record ShapeRetrieval(double imageToText, double imageToTextChance, double exactCaption, double exactChance,
                                 double textToImage, double textToImageChance, int images) {}

    /** Retrieval for the held-out pairs ({@code heldOut = true}) or for seen training pairs. */
    public static ShapeRetrieval shapeRetrieval(Clip clip, NDManager m, CaptionedShapes shapes, int n, boolean heldOut) {
        List<CaptionedShapes.Example> ex = heldOut ? shapes.heldOutSet(n) : new ArrayList<>();
        if (!heldOut) for (int i = 0; i < n; i++) ex.add(shapes.train(1_000_000 + i));
        List<CaptionedShapes.Example> others = new ArrayList<>();
        for (int i = 0; i < n; i++) others.add(shapes.train(2_000_000 + i));
        List<String> all = CaptionedShapes.allCaptions();
        try (NDManager sub = m.newSubManager()) {
            float[][] img = embedAll(clip, sub, shapes.images(sub, ex), 500);
            float[][] txt = embedAllTexts(clip, sub, all);
            double[][] sim = cosine(img, txt);
            int pair = 0, exact = 0;
            for (int i = 0; i < ex.size(); i++) {
                String best = all.get(topK(sim[i], 1)[0]);
                if (best.contains(" " + ex.get(i).pair() + " ")) pair++;
                if (best.equals(ex.get(i).caption())) exact++;
            }
            // text → image
            Set<String> pairs = new TreeSet<>();
            for (CaptionedShapes.Example e : ex) pairs.add(e.pair());
            List<String> queries = all.stream().filter(t -> pairs.stream().anyMatch(p -> t.contains(" " + p + " "))).toList();
            List<CaptionedShapes.Example> gallery = new ArrayList<>(ex);
            gallery.addAll(others);
            float[][] gal = embedAll(clip, sub, shapes.images(sub, gallery), 500);
            float[][] q = embedAllTexts(clip, sub, queries);
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
            embedAll(model, m, imgs.get("0:" + Math.min(n, 100)), 500);
            t0 = System.nanoTime();
            embedAll(model, m, imgs, 500);
            double ips = n / ((System.nanoTime() - t0) / 1e9);
            List<String> caps = new ArrayList<>();
            Random rng = new Random(0);
            for (int i = 0; i < n; i++) caps.add(FashionCaptions.sample(i % 10, rng));
            t0 = System.nanoTime();
            embedAllTexts(model, m, caps);
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
