package org.lesson8.tools;

import org.lesson8.lessons.ImageGptLesson;
import org.lesson8.eval.LinearProbe;
import ai.djl.ndarray.NDManager;
import org.lesson8.course.Course;
import org.lesson8.data.FashionMnist;
import org.lesson8.models.ImageGpt;
import org.lesson8.lessons.ImageGptLesson;
import org.lesson8.models.Palette;
import org.lesson8.models.Vit;
import org.lesson8.train.Checkpoint;
import org.lesson8.train.MetricsLog;
import org.lesson8.train.Seeds;
import org.lesson8.train.TrainLoop;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * {@code ./course train imageGpt [steps] [seconds] [bertSteps]}: the Image GPT checkpoints of notebook 02.
 * Trains the autoregressive model (and a BERT-objective twin for the probe comparison) with a fixed
 * seed on 14×14 Fashion-MNIST with an 8-level grey palette, measures test NLL (bits/dim) against the
 * independent-position baseline, linear probes, completions judged by the ViT of notebook 01 and the
 * cached-sampling speed-up, and writes data/checkpoints/image_gpt{,_bert}.safetensors, .json, -log.csv.
 * {@code ./course train imageGpt bench} only runs the sampling benchmark on the shipped checkpoint;
 * {@code ./course train imageGpt judge} only measures the ViT's verdict on completions (e.g. after a new ViT).
 */
public final class TrainImageGpt {
    private TrainImageGpt() {}

    public static final int SIDE = 14;
    public static final int COLOURS = 8;
    public static final long SEED = 42;

    public static void run(String[] args) throws Exception {
        Locale.setDefault(Locale.ROOT);
        if (args.length > 0 && args[0].equals("bench")) {
            bench();
            return;
        }
        if (args.length > 0 && args[0].equals("judge")) {
            judge();
            return;
        }
        int steps = args.length > 0 ? Integer.parseInt(args[0]) : 3000;
        double seconds = args.length > 1 ? Double.parseDouble(args[1]) : 1e9;
        int bertSteps = args.length > 2 ? Integer.parseInt(args[2]) : steps;
        train(steps, seconds, bertSteps, String.join(" ", args));
    }

    /**
     * Completes the bottom halves of the first 200 test images from their top halves (temperature 1) and asks the
     * lesson-01 ViT to classify the completed images and the quantised originals: a JSON object with both shares,
     * or {@code null} when the ViT checkpoint is missing.
     */
    static String completionsJudgedByVit(ImageGpt ar, NDManager m, Palette palette, byte[] testCodes,
                                         FashionMnist.Split test, Path vitFile) throws IOException {
        if (!Files.isRegularFile(vitFile)) return "null";
        int completed = 200, n = SIDE * SIDE;
        Vit vit = new Vit(m, Vit.fashionSmall(), 0);
        Checkpoint.load(vit, vitFile);
        int[] imgs = new int[completed];
        for (int i = 0; i < completed; i++) imgs[i] = i;
        int[][] comp = ImageGptLesson.completeTopHalf(ar, m, testCodes, imgs, 1, 1.0, 0, SEED);
        int[] pc = ImageGptLesson.classify(vit, m, palette, comp, SIDE);
        int[] po = ImageGptLesson.classify(vit, m, palette, ImageGpt.sequences(testCodes, n, imgs), SIDE);
        int agree = 0, right = 0;
        for (int i = 0; i < completed; i++) {
            if (pc[i] == test.label(i)) agree++;
            if (po[i] == test.label(i)) right++;
        }
        System.out.printf("ViT on %d completions: %.3f agree with the label (ViT on the quantised originals %.3f)%n",
                completed, agree / (double) completed, right / (double) completed);
        return String.format("{\"images\": %d, \"completion_label_agreement\": %.4f, \"vit_accuracy_on_quantised_originals\": %.4f}",
                completed, agree / (double) completed, right / (double) completed);
    }

    /**
     * {@code ./course train imageGpt judge}: measures {@link #completionsJudgedByVit} for the shipped checkpoint and
     * the shipped ViT and writes it into image_gpt.json's {@code completions_vit} entry (the rest is left as it is).
     */
    static void judge() throws Exception {
        Path json = Course.checkpoint("image_gpt.json");
        Path vitFile = Course.checkpoint("vit_fashion.safetensors");
        String text = Files.readString(json, StandardCharsets.UTF_8);
        withCompletions(text, "null");   // fails before any work when the file lacks the entry
        try (NDManager m = NDManager.newBaseManager()) {
            ImageGpt model = new ImageGpt(m, ImageGpt.fashion(), SEED);
            Checkpoint.load(model, Course.checkpoint("image_gpt.safetensors"));
            Palette palette = Palette.fromJson(json);
            FashionMnist.Split test = FashionMnist.test();
            String part = completionsJudgedByVit(model, m, palette, palette.encodeFashion(test, SIDE), test, vitFile);
            String entry = part.equals("null") ? part
                    : part.substring(0, part.length() - 1) + ", \"command\": \"./course train imageGpt judge\"}";
            Files.writeString(json, withCompletions(text, entry), StandardCharsets.UTF_8);
            System.out.println("wrote \"completions_vit\": " + entry + " into " + json);
        }
    }

    /** image_gpt.json's text with its {@code completions_vit} entry (one line) replaced by {@code entry}. */
    static String withCompletions(String json, String entry) throws IOException {
        java.util.regex.Matcher line = java.util.regex.Pattern.compile("(?m)^  \"completions_vit\": .*,$").matcher(json);
        if (!line.find()) {
            throw new IOException("image_gpt.json has no \"completions_vit\" line: retrain it with ./course train imageGpt");
        }
        return line.replaceFirst(java.util.regex.Matcher.quoteReplacement("  \"completions_vit\": " + entry + ","));
    }

    static void bench() throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            ImageGpt model = new ImageGpt(m, ImageGpt.fashion(), SEED);
            Checkpoint.load(model, Course.checkpoint("image_gpt.safetensors"));
            for (int b : new int[] {1, 16}) {
                ImageGptLesson.Timing t = ImageGptLesson.benchmark(model, m, b, 1);
                System.out.printf("batch %2d: cached %.2f s, uncached %.2f s, speed-up %.1fx, identical samples %s%n",
                        b, t.cachedSeconds(), t.uncachedSeconds(), t.speedup(), t.identical());
            }
        }
    }

    static void train(int steps, double seconds, int bertSteps, String argLine) throws Exception {
        Seeds.seed(SEED);
        Path dir = Course.home().resolve("data").resolve("checkpoints");
        long t0 = System.nanoTime();
        FashionMnist.Split train = FashionMnist.train();
        FashionMnist.Split test = FashionMnist.test();
        Palette palette = Palette.fashion(train, COLOURS, SIDE, 2000, SEED);
        byte[] trainCodes = palette.encodeFashion(train, SIDE);
        byte[] testCodes = palette.encodeFashion(test, SIDE);
        int n = SIDE * SIDE;
        System.out.printf("palette %s; encoded in %.0f s%n", palette.toJson(), (System.nanoTime() - t0) / 1e9);
        double baseline = ImageGpt.independentNll(ImageGpt.positionHistogram(trainCodes, n, COLOURS), testCodes, n);
        StringBuilder json = new StringBuilder("{\n");
        try (NDManager m = NDManager.newBaseManager()) {
            ImageGpt.Config cfg = ImageGpt.fashion();
            ImageGpt ar = new ImageGpt(m, cfg, SEED);
            MetricsLog log = new MetricsLog();
            double arSecs = fit(ar, trainCodes, steps, seconds, log, "AR");
            Checkpoint.save(ar, dir.resolve("image_gpt.safetensors"));
            log.writeCsv(dir.resolve("image_gpt-log.csv"));
            long e0 = System.nanoTime();
            double nll = ImageGptLesson.nll(ar, m, testCodes, test.size);
            System.out.printf("test NLL %.4f bits/dim (independent-position baseline %.4f) in %.0f s%n",
                    ImageGpt.bitsPerDim(nll), ImageGpt.bitsPerDim(baseline), (System.nanoTime() - e0) / 1e9);
            int probeTrain = 10000, probeSteps = 3000;
            LinearProbe.Result arProbe = ImageGptLesson.probe(ar, null, m, trainCodes, train.labelArray(), testCodes,
                    test.labelArray(), probeTrain, test.size, probeSteps, SEED);
            LinearProbe.Result rawProbe = ImageGptLesson.probe(null, palette, m, trainCodes, train.labelArray(), testCodes,
                    test.labelArray(), probeTrain, test.size, probeSteps, SEED);
            System.out.printf("linear probe: AR features %.4f, raw pixels %.4f%n", arProbe.testAccuracy(), rawProbe.testAccuracy());

            // completions judged by the lesson-01 ViT (when its checkpoint exists)
            String vitPart = completionsJudgedByVit(ar, m, palette, testCodes, test, dir.resolve("vit_fashion.safetensors"));
            ImageGptLesson.Timing t1 = ImageGptLesson.benchmark(ar, m, 1, 1);
            ImageGptLesson.Timing t16 = ImageGptLesson.benchmark(ar, m, 16, 1);
            System.out.printf("sampling a full image: batch 1 cached %.2f s vs uncached %.2f s (%.1fx); batch 16 %.2f vs %.2f s (%.1fx)%n",
                    t1.cachedSeconds(), t1.uncachedSeconds(), t1.speedup(), t16.cachedSeconds(), t16.uncachedSeconds(), t16.speedup());

            // BERT twin: same architecture and recipe, other objective
            ImageGpt bert = new ImageGpt(m, cfg.withObjective(ImageGpt.Objective.BERT), SEED);
            MetricsLog blog = new MetricsLog();
            double bertSecs = bertSteps > 0 ? fit(bert, trainCodes, bertSteps, seconds, blog, "BERT") : 0;
            LinearProbe.Result bertProbe = null;
            if (bertSteps > 0) {
                Checkpoint.save(bert, dir.resolve("image_gpt_bert.safetensors"));
                blog.writeCsv(dir.resolve("image_gpt_bert-log.csv"));
                bertProbe = ImageGptLesson.probe(bert, null, m, trainCodes, train.labelArray(), testCodes, test.labelArray(),
                        probeTrain, test.size, probeSteps, SEED);
                System.out.printf("linear probe: BERT features %.4f%n", bertProbe.testAccuracy());
            }

            json.append(String.format("  \"model\": \"%s\",\n  \"config\": \"%s\",\n  \"parameters\": %d,\n  \"seed\": %d,\n",
                    cfg.name(), cfg, ar.parameterCount(), SEED));
            json.append(String.format("  \"palette\": %s,\n  \"palette_note\": \"k-means (k=%d) on grey values of 2000 training images downsampled to %dx%d\",\n",
                    palette.toJson(), COLOURS, SIDE, SIDE));
            json.append(String.format("  \"recipe\": \"%s\",\n  \"steps\": %d,\n  \"train_seconds\": %.0f,\n",
                    ImageGptLesson.Recipe.standard(), log.size(), arSecs));
            json.append(String.format("  \"test_bits_per_dim\": %.4f,\n  \"baseline_independent_bits_per_dim\": %.4f,\n",
                    ImageGpt.bitsPerDim(nll), ImageGpt.bitsPerDim(baseline)));
            json.append(String.format("  \"probe\": {\"train_images\": %d, \"test_images\": %d, \"steps\": %d, \"layer\": %d, "
                            + "\"ar_test_accuracy\": %.4f, \"raw_pixels_test_accuracy\": %.4f, \"bert_test_accuracy\": %s},\n",
                    probeTrain, test.size, probeSteps, cfg.probe(), arProbe.testAccuracy(), rawProbe.testAccuracy(),
                    bertProbe == null ? "null" : String.format("%.4f", bertProbe.testAccuracy())));
            json.append(String.format("  \"bert\": {\"steps\": %d, \"train_seconds\": %.0f, \"final_masked_bits_per_dim\": %s},\n",
                    blog.size(), bertSecs, blog.size() > 0 ? String.format("%.4f", blog.tailMean("bits_per_dim", 100)) : "null"));
            json.append("  \"completions_vit\": ").append(vitPart).append(",\n");
            json.append(String.format("  \"sampling_benchmark\": {\"batch1_cached_s\": %.3f, \"batch1_uncached_s\": %.3f, "
                            + "\"batch16_cached_s\": %.3f, \"batch16_uncached_s\": %.3f, \"identical\": %s},\n",
                    t1.cachedSeconds(), t1.uncachedSeconds(), t16.cachedSeconds(), t16.uncachedSeconds(), t1.identical() && t16.identical()));
            json.append(String.format("  \"threads\": \"%s\",\n", System.getProperty("ai.djl.pytorch.num_threads", "default")));
            json.append("  \"command\": \"./course train imageGpt").append(argLine.isEmpty() ? "" : " " + argLine).append("\"\n}\n");
        }
        Files.writeString(dir.resolve("image_gpt.json"), json.toString(), StandardCharsets.UTF_8);
        System.out.printf("wrote %s (%d bytes) in %.0f s total%n", dir.resolve("image_gpt.safetensors"),
                Files.size(dir.resolve("image_gpt.safetensors")), (System.nanoTime() - t0) / 1e9);
    }

    private static double fit(ImageGpt model, byte[] codes, int steps, double seconds, MetricsLog log, String tag) {
        long t0 = System.nanoTime();
        TrainLoop loop = ImageGptLesson.train(model, codes, ImageGptLesson.Recipe.standard(), steps, seconds, SEED, log, step -> {
            if (step % 100 == 0 || (step < 100 && step % 20 == 0)) {
                System.out.printf("%s step %d  loss %.4f nats  %.3f bits/dim  %.0f s%n", tag, step, log.tailMean("loss", 100),
                        log.tailMean("bits_per_dim", 100), (System.nanoTime() - t0) / 1e9);
            }
        });
        return (System.nanoTime() - t0) / 1e9;
    }
}
