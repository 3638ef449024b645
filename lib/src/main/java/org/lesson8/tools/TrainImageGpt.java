package org.lesson8.tools;

import org.lesson8.lessons.ImageGptLesson;
import org.lesson8.eval.LinearProbe;
import ai.djl.ndarray.NDManager;
import org.lesson8.course.Course;
import org.lesson8.data.FashionMnist;
import org.lesson8.models.ImageGpt;
import org.lesson8.models.Palette;
import org.lesson8.models.Vit;
import org.lesson8.train.Checkpoint;
import org.lesson8.train.CheckpointInfo;
import org.lesson8.train.MetricsLog;
import org.lesson8.train.Recipe;
import org.lesson8.train.Seeds;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Locale;
import java.util.function.IntConsumer;

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
     * lesson-01 ViT to classify the completed images and the quantised originals; {@code null} when the ViT checkpoint
     * is missing.
     */
    static CheckpointInfo.ImageGpt.Completions completionsJudgedByVit(ImageGpt ar, NDManager m, Palette palette,
                                                                     byte[] testCodes, FashionMnist.Split test, Path vitFile,
                                                                     String command) throws IOException {
        if (!Files.isRegularFile(vitFile)) return null;
        int completed = 200, n = SIDE * SIDE;
        Vit vit = new Vit(m, Vit.fashionSmall(), 0);
        Checkpoint.load(vit, vitFile);
        int[] imgs = new int[completed];
        for (int i = 0; i < completed; i++) imgs[i] = i;
        int[][] comp = ImageGptLesson.completeTopHalf(ar, m, testCodes, imgs, 1, 1.0, 0, SEED);
        int[] pc = ImageGptLesson.classify(vit, m, palette, comp, SIDE);
        int[] po = ImageGptLesson.classify(vit, m, palette, ImageGptLesson.sequences(testCodes, n, imgs), SIDE);
        int agree = 0, right = 0;
        for (int i = 0; i < completed; i++) {
            if (pc[i] == test.label(i)) agree++;
            if (po[i] == test.label(i)) right++;
        }
        System.out.printf("ViT on %d completions: %.3f agree with the label (ViT on the quantised originals %.3f)%n",
                completed, agree / (double) completed, right / (double) completed);
        return new CheckpointInfo.ImageGpt.Completions(completed, r4(agree / (double) completed), r4(right / (double) completed),
                command);
    }

    /**
     * {@code ./course train imageGpt judge}: measures {@link #completionsJudgedByVit} for the shipped checkpoint and
     * the shipped ViT and writes it into image_gpt.json's {@code completions_vit} entry (the rest is left as it is).
     */
    static void judge() throws Exception {
        Path json = Course.checkpoint("image_gpt.json");
        CheckpointInfo.ImageGpt info = CheckpointInfo.read(json, CheckpointInfo.ImageGpt.class);   // fails before any work
        try (NDManager m = NDManager.newBaseManager()) {
            ImageGpt model = new ImageGpt(m, ImageGpt.fashion(), SEED);
            Checkpoint.load(model, Course.checkpoint("image_gpt.safetensors"));
            Palette palette = new Palette(info.palette());
            FashionMnist.Split test = FashionMnist.test();
            CheckpointInfo.ImageGpt.Completions c = completionsJudgedByVit(model, m, palette, ImageGptLesson.encodeFashion(palette, test, SIDE),
                    test, Course.checkpoint("vit_fashion.safetensors"), "./course train imageGpt judge");
            CheckpointInfo.write(json, info.withCompletions(c));
            System.out.println("wrote \"completions_vit\" into " + json);
        }
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
        Path dir = TrainCheckpoint.checkpointDir();
        long t0 = System.nanoTime();
        FashionMnist.Split train = FashionMnist.train();
        FashionMnist.Split test = FashionMnist.test();
        Palette palette = ImageGptLesson.fashionPalette(train, COLOURS, SIDE, 2000, SEED);
        byte[] trainCodes = ImageGptLesson.encodeFashion(palette, train, SIDE);
        byte[] testCodes = ImageGptLesson.encodeFashion(palette, test, SIDE);
        int n = SIDE * SIDE;
        System.out.printf("palette %s; encoded in %.0f s%n", palette.toJson(), (System.nanoTime() - t0) / 1e9);
        double baseline = ImageGptLesson.independentNll(ImageGptLesson.positionHistogram(trainCodes, n, COLOURS), testCodes, n);
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
            CheckpointInfo.ImageGpt.Completions vitPart = completionsJudgedByVit(ar, m, palette, testCodes, test,
                    dir.resolve("vit_fashion.safetensors"), null);
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

            float[][] colours = new float[palette.size()][];
            for (int i = 0; i < colours.length; i++) {
                colours[i] = palette.colour(i).clone();
                for (int c = 0; c < colours[i].length; c++) colours[i][c] = (float) CheckpointInfo.round(colours[i][c], 6);
            }
            CheckpointInfo.write(dir.resolve("image_gpt.json"), new CheckpointInfo.ImageGpt(cfg.name(), cfg.toString(),
                    ar.parameterCount(), SEED, colours, String.format("k-means (k=%d) on grey values of 2000 training images"
                    + " downsampled to %dx%d", COLOURS, SIDE, SIDE), ImageGptLesson.recipe().toString(), log.size(),
                    Math.round(arSecs), r4(ImageGpt.bitsPerDim(nll)), r4(ImageGpt.bitsPerDim(baseline)),
                    new CheckpointInfo.ImageGpt.Probe(probeTrain, test.size, probeSteps, cfg.probe(), r4(arProbe.testAccuracy()),
                            r4(rawProbe.testAccuracy()), bertProbe == null ? null : r4(bertProbe.testAccuracy())),
                    new CheckpointInfo.ImageGpt.Bert(blog.size(), Math.round(bertSecs),
                            blog.size() > 0 ? r4(blog.tailMean("bits_per_dim", 100)) : null),
                    vitPart,
                    new CheckpointInfo.ImageGpt.Sampling(r3(t1.cachedSeconds()), r3(t1.uncachedSeconds()), r3(t16.cachedSeconds()),
                            r3(t16.uncachedSeconds()), t1.identical() && t16.identical()),
                    TrainCheckpoint.threads(),
                    "./course train imageGpt" + (argLine.isEmpty() ? "" : " " + argLine)));
        }
        System.out.printf("wrote %s (%d bytes) in %.0f s total%n", dir.resolve("image_gpt.safetensors"),
                Files.size(dir.resolve("image_gpt.safetensors")), (System.nanoTime() - t0) / 1e9);
    }

    /** Peak learning rate of a continuation cycle (half the first cycle's 2e-3). */
    static final float MORE_LR = 1e-3f;
    /** The per-layer probe trend of the AR checkpoint: one row per (model steps, input, layer). */
    public static final String PROBE_CSV = "image_gpt-probe.csv";

    /**
     * {@code ./course train imageGptMore [steps=4000] [every=1000] [seconds]}: one more cosine cycle of the AR checkpoint
     * (peak 1e-3, warm-up 100, batch 32), with the linear probe of every layer (10k/10k images) measured at its start,
     * every EVERY steps and at its end into image_gpt-probe.csv (raw pixels once, as layer 0), the checkpoint and
     * image_gpt.json written at every snapshot; test NLL, the ViT's verdict and the sampling benchmark at the end. The
     * BERT twin is left as it is (image_gpt.json keeps its figures).
     */
    public static void more(String[] args) throws Exception {
        Locale.setDefault(Locale.ROOT);
        int steps = TrainCheckpoint.intArg(args, 0, 4000);
        int every = TrainCheckpoint.intArg(args, 1, 1000);
        double seconds = TrainCheckpoint.doubleArg(args, 2, 1e9);
        Path dir = TrainCheckpoint.checkpointDir();
        Path file = dir.resolve("image_gpt.safetensors"), json = dir.resolve("image_gpt.json"), logFile = dir.resolve("image_gpt-log.csv");
        if (!Files.exists(file) || !Files.exists(json) || !Files.exists(logFile)) {
            throw new IllegalStateException("./course train imageGptMore continues from " + file
                    + ", its JSON and its log, which are missing: run ./course train imageGpt first");
        }
        CheckpointInfo.ImageGpt before = CheckpointInfo.read(json, CheckpointInfo.ImageGpt.class);
        byte[] beforeLog = Files.readAllBytes(logFile);
        int cycle = before.command().split(" && ").length;
        long seed = SEED + cycle;
        Seeds.seed(seed);
        Palette palette = new Palette(before.palette());
        FashionMnist.Split train = FashionMnist.train();
        FashionMnist.Split test = FashionMnist.test();
        byte[] trainCodes = ImageGptLesson.encodeFashion(palette, train, SIDE);
        byte[] testCodes = ImageGptLesson.encodeFashion(palette, test, SIDE);
        int probeTrain = before.probe().trainImages(), probeTest = before.probe().testImages(), probeSteps = before.probe().steps();
        String command = before.command() + " && ./course train imageGptMore " + steps;
        Path probeCsv = dir.resolve(PROBE_CSV);
        if (!Files.exists(probeCsv)) Files.writeString(probeCsv, "model_steps,input,layer,test_accuracy\n");
        try (NDManager m = NDManager.newBaseManager()) {
            ImageGpt.Config cfg = ImageGpt.fashion();
            ImageGpt ar = new ImageGpt(m, cfg, SEED);
            Checkpoint.load(ar, file);
            System.out.printf("continuing from %s (%d steps), cycle %d, seed %d, peak lr %s%n", file, before.steps(), cycle, seed, MORE_LR);
            LinearProbe.Result raw = ImageGptLesson.probe(null, palette, m, trainCodes, train.labelArray(), testCodes, test.labelArray(),
                    probeTrain, probeTest, probeSteps, SEED);
            Files.writeString(probeCsv, String.format("%d,raw pixels,0,%.4f%n", before.steps(), raw.testAccuracy()),
                    StandardOpenOption.APPEND);
            double[] startLayers = probeRows(ar, m, trainCodes, train, testCodes, test, probeTrain, probeTest, probeSteps, before.steps(), probeCsv);
            System.out.printf("start: raw pixels %.4f, layers %s%n", raw.testAccuracy(), Arrays.toString(startLayers));
            MetricsLog log = new MetricsLog();
            Recipe recipe = ImageGptLesson.recipe().withLr(MORE_LR);
            long t0 = System.nanoTime();
            IntConsumer snapshot = step -> {
                try {
                    int total = before.steps() + log.size();
                    double[] layers = probeRows(ar, m, trainCodes, train, testCodes, test, probeTrain, probeTest, probeSteps, total, probeCsv);
                    System.out.printf("snapshot at %d steps: layers %s%n", total, Arrays.toString(layers));
                    Checkpoint.save(ar, file);
                    Files.write(logFile, beforeLog);
                    log.appendCsv(logFile, before.steps());
                    long secs = before.trainSeconds() + Math.round((System.nanoTime() - t0) / 1e9);
                    boolean last = step == steps;   // the call after the loop, also when the time limit ended it
                    double bits = before.testBitsPerDim();
                    CheckpointInfo.ImageGpt.Completions completions = before.completionsVit();
                    CheckpointInfo.ImageGpt.Sampling sampling = before.samplingBenchmark();
                    if (last) {
                        bits = r4(ImageGpt.bitsPerDim(ImageGptLesson.nll(ar, m, testCodes, test.size)));
                        completions = completionsJudgedByVit(ar, m, palette, testCodes, test, dir.resolve("vit_fashion.safetensors"), null);
                        ImageGptLesson.Timing t1 = ImageGptLesson.benchmark(ar, m, 1, 1), t16 = ImageGptLesson.benchmark(ar, m, 16, 1);
                        sampling = new CheckpointInfo.ImageGpt.Sampling(r3(t1.cachedSeconds()), r3(t1.uncachedSeconds()),
                                r3(t16.cachedSeconds()), r3(t16.uncachedSeconds()), t1.identical() && t16.identical());
                        System.out.printf("test NLL %.4f bits/dim%n", bits);
                    }
                    CheckpointInfo.write(json, new CheckpointInfo.ImageGpt(before.model(), before.config(), before.parameters(),
                            before.seed(), before.palette(), before.paletteNote(),
                            before.recipe() + " && continuation Recipe[lr=" + MORE_LR + "]", total, secs, bits,
                            before.baselineIndependentBitsPerDim(),
                            new CheckpointInfo.ImageGpt.Probe(probeTrain, probeTest, probeSteps, cfg.probe(), r4(layers[cfg.probe() - 1]),
                                    r4(raw.testAccuracy()), before.probe().bertTestAccuracy()),
                            before.bert(), completions, sampling, TrainCheckpoint.threads(),
                            last ? command : command + " (snapshot at step " + step + " of the cycle)"));
                } catch (Exception e) {
                    throw new IllegalStateException("imageGptMore: could not write the snapshot at step " + step, e);
                }
            };
            ImageGptLesson.train(ar, trainCodes, recipe, steps, seconds, seed, log, step -> {
                if (step % 100 == 0) {
                    System.out.printf("AR step %d  %.3f bits/dim  %.0f s%n", step, log.tailMean("bits_per_dim", 100),
                            (System.nanoTime() - t0) / 1e9);
                }
                if (step % every == 0 && step < steps) snapshot.accept(step);
            });
            snapshot.accept(steps);
        }
    }

    /** Probes every layer of {@code ar} and appends one row per layer to {@code csv}; returns the test accuracies. */
    private static double[] probeRows(ImageGpt ar, NDManager m, byte[] trainCodes, FashionMnist.Split train, byte[] testCodes,
                                      FashionMnist.Split test, int nTrain, int nTest, int probeSteps, int modelSteps, Path csv)
            throws IOException {
        LinearProbe.Result[] r = ImageGptLesson.probeLayers(ar, m, trainCodes, train.labelArray(), testCodes, test.labelArray(),
                nTrain, nTest, probeSteps, SEED);
        double[] acc = new double[r.length];
        StringBuilder rows = new StringBuilder();
        for (int l = 0; l < r.length; l++) {
            acc[l] = r[l].testAccuracy();
            rows.append(String.format("%d,AR features,%d,%.4f%n", modelSteps, l + 1, acc[l]));
        }
        Files.writeString(csv, rows, StandardOpenOption.APPEND);
        return acc;
    }

    private static double fit(ImageGpt model, byte[] codes, int steps, double seconds, MetricsLog log, String tag) {
        long t0 = System.nanoTime();
        ImageGptLesson.train(model, codes, ImageGptLesson.recipe(), steps, seconds, SEED, log, step -> {
            if (step % 100 == 0 || (step < 100 && step % 20 == 0)) {
                System.out.printf("%s step %d  loss %.4f nats  %.3f bits/dim  %.0f s%n", tag, step, log.tailMean("loss", 100),
                        log.tailMean("bits_per_dim", 100), (System.nanoTime() - t0) / 1e9);
            }
        });
        return (System.nanoTime() - t0) / 1e9;
    }

    private static double r4(double x) {
        return CheckpointInfo.round(x, 4);
    }

    private static double r3(double x) {
        return CheckpointInfo.round(x, 3);
    }
}
