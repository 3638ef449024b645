package org.lesson8.tools;

import org.lesson8.train.ClassifierTraining;
import org.lesson8.eval.ClassifierEval;
import ai.djl.ndarray.NDManager;
import org.lesson8.course.Course;
import org.lesson8.data.FashionMnist;
import org.lesson8.train.ClassifierTraining.Regime;
import org.lesson8.data.Batches;
import org.lesson8.lessons.VitLesson;
import org.lesson8.models.Classifier;
import org.lesson8.models.SmallCnn;
import org.lesson8.models.Vit;
import org.lesson8.nn.Module;
import org.lesson8.train.Checkpoint;
import org.lesson8.train.CheckpointInfo;
import org.lesson8.train.MetricsLog;
import org.lesson8.train.ModelSoup;
import org.lesson8.train.Seeds;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.function.IntConsumer;

/**
 * The ViT checkpoint of notebook 01, made by a chain of commands that each replace data/checkpoints/vit_fashion.*:
 * {@code ./course train vit} from scratch, then continuations from the checkpoint: {@code vitWarmRestart} (one more
 * cosine cycle, {@link Regime#vitWarmRestart}), {@code vitNoAugmentation} (a cycle without the random shifts,
 * {@link Regime#vitNoAugmentation}) and {@code vitSoup}, which fine-tunes several copies (alternately the two kinds of
 * cycle, each with its own seed) and keeps the mean of their weights, a uniform model soup ({@link ModelSoup}).
 * Cycle k of the chain (counting from 0) uses seed 42 + k; vit_fashion.json names every command of the chain, in order.
 */
public final class TrainVit {
    private TrainVit() {}

    /** The kinds of cycle, with the command that runs one. */
    enum Cycle {
        SCRATCH("vit", Regime.vit()),
        WARM_RESTART("vitWarmRestart", Regime.vitWarmRestart()),
        NO_AUGMENTATION("vitNoAugmentation", Regime.vitNoAugmentation());

        final String command;
        final Regime regime;

        Cycle(String command, Regime regime) {
            this.command = command;
            this.regime = regime;
        }
    }

    static final long FIRST_SEED = 42;

    /** The seeds of a chain of {@code cycles} cycles: 42, 43, … */
    static List<Long> seeds(int cycles) {
        List<Long> s = new ArrayList<>();
        for (int k = 0; k < cycles; k++) s.add(FIRST_SEED + k);
        return s;
    }

    /** What vit_fashion.json says of the checkpoint a continuation starts from; {@code command} names who needs it. */
    static CheckpointInfo.Vit chainBefore(Path dir, String command) throws IOException {
        Path file = dir.resolve("vit_fashion.safetensors");
        Path json = dir.resolve("vit_fashion.json");
        if (!Files.exists(file) || !Files.exists(json)) {
            throw new IllegalStateException("./course train " + command + " continues from " + file
                    + " and its JSON, which are missing: run ./course train vit first");
        }
        return CheckpointInfo.read(json, CheckpointInfo.Vit.class);
    }

    /**
     * The description of the checkpoint after one more command of the chain ({@code before} is null for a run from
     * scratch): steps and seconds add up, the command joins the chain, the accuracy is the new one.
     */
    static CheckpointInfo.Vit after(CheckpointInfo.Vit before, Vit.Config cfg, long parameters, int steps, int batch,
                                    double seconds, double accuracy, String command, String soup,
                                    List<CheckpointInfo.Vit.Ingredient> ingredients) {
        boolean first = before == null;
        return new CheckpointInfo.Vit(cfg.name(), cfg.toString(), parameters, FIRST_SEED,
                seeds(first ? 1 : before.cycles() + 1), (first ? 0 : before.steps()) + steps, batch,
                Math.round((first ? 0 : before.trainSeconds()) + seconds), CheckpointInfo.round(accuracy, 4),
                first ? command : before.command() + " && " + command, soup, ingredients);
    }

    static void cycle(Cycle cycle, int steps, double seconds) throws Exception {
        Path dir = TrainCheckpoint.checkpointDir();
        Path file = dir.resolve("vit_fashion.safetensors");
        CheckpointInfo.Vit before = cycle == Cycle.SCRATCH ? null : chainBefore(dir, cycle.command);
        int cycleIndex = before == null ? 0 : before.cycles();
        long seed = FIRST_SEED + cycleIndex;
        Seeds.seed(seed);
        try (NDManager m = NDManager.newBaseManager()) {
            Vit.Config cfg = Vit.fashionSmall();
            Vit model = new Vit(m, cfg, seed);
            if (before != null) {
                Checkpoint.load(model, file);
                System.out.printf("continuing from %s (%d steps, %.4f), cycle %d, seed %d%n", file, before.steps(),
                        before.testAccuracy(), cycleIndex, seed);
            }
            FashionMnist.Split train = FashionMnist.train();
            FashionMnist.Split test = FashionMnist.test();
            MetricsLog log = new MetricsLog();
            long t0 = System.nanoTime();
            ClassifierTraining.train(model, train, cycle.regime, steps, seconds, seed, log, progress(model, m, test, log, t0, steps));
            double secs = (System.nanoTime() - t0) / 1e9;
            double acc = ClassifierEval.evaluate(model, m, test, 10000).accuracy();
            Checkpoint.save(model, file);
            Path logFile = dir.resolve("vit_fashion-log.csv");
            if (before != null && Files.exists(logFile)) {
                log.appendCsv(logFile, before.steps());   // one curve for all cycles
            } else {
                log.writeCsv(logFile);
            }
            CheckpointInfo.write(dir.resolve("vit_fashion.json"), after(before, cfg, model.parameterCount(), log.size(),
                    cycle.regime.batch(), secs, acc, "./course train " + cycle.command + " " + steps, null, null));
            System.out.printf("saved %s (%d bytes): test accuracy %.4f after %d steps, %.0f s%n", file, Files.size(file), acc, log.size(), secs);
        }
    }

    /**
     * Prints the loss every 500 steps and the test accuracy every 3000 (a run of hours shows that it is alive), except
     * at the last of {@code steps}: the caller evaluates the finished model itself.
     */
    private static IntConsumer progress(Vit model, NDManager m, FashionMnist.Split test, MetricsLog log, long t0, int steps) {
        return step -> {
            if (step % 500 == 0) {
                System.out.printf("step %d  loss %.4f  train_acc %.3f  %.0f s%n", step, log.tailMean("loss", 100),
                        log.tailMean("train_acc", 100), (System.nanoTime() - t0) / 1e9);
            }
            if (step % 3000 == 0 && step < steps) {
                System.out.printf("  test accuracy %.4f%n", ClassifierEval.evaluate(model, m, test, 10000).accuracy());
            }
        };
    }

    /** The fractions of the training set of {@code ./course train vitVsCnn}, and the file it writes. */
    public static final double[] DATA_FRACTIONS = {0.1, 0.3, 1.0};
    public static final String VERSUS_CNN_CSV = "vit_vs_cnn.csv";

    /**
     * {@code ./course train vitVsCnn [epochs=10]}: the ViT of the checkpoint (ViT-Ti/4, from scratch, {@link Regime#vit})
     * and the small CNN ({@link Regime#cnn}) trained for the same number of epochs on stratified 10%, 30% and 100% of
     * the training set (one seed, 42, for the subsets, the initial weights and the batches), each judged on the full test
     * set; one row per run in data/checkpoints/vit_vs_cnn.csv (notebook 01, section 6). No weights are kept.
     */
    static void versusCnn(String[] args) throws Exception {
        int epochs = TrainCheckpoint.intArg(args, 0, 10);
        Path dir = TrainCheckpoint.checkpointDir();
        Path csv = dir.resolve(VERSUS_CNN_CSV);
        FashionMnist.Split train = FashionMnist.train();
        FashionMnist.Split test = FashionMnist.test();
        StringBuilder out = new StringBuilder("data_fraction,train_images,model,parameters,epochs,steps,train_seconds,"
                + "final_train_loss,test_accuracy\n");
        String command = "./course train vitVsCnn " + epochs;
        for (double fraction : DATA_FRACTIONS) {
            FashionMnist.Split data = fraction >= 1 ? train
                    : train.subset(Batches.stratified(train.labelArray(), 10, fraction, new Random(FIRST_SEED)));
            for (String kind : List.of("ViT", "CNN")) {
                Seeds.seed(FIRST_SEED);
                try (NDManager m = NDManager.newBaseManager()) {
                    Regime regime = kind.equals("ViT") ? Regime.vit() : Regime.cnn();
                    Module model = kind.equals("ViT") ? new Vit(m, Vit.fashionSmall(), FIRST_SEED) : new SmallCnn(m, FIRST_SEED);
                    int steps = (int) Math.ceil(epochs * (double) data.size / regime.batch());
                    MetricsLog log = new MetricsLog();
                    long t0 = System.nanoTime();
                    ClassifierTraining.train(model, data, regime, steps, Double.POSITIVE_INFINITY, FIRST_SEED, log, step -> {
                        if (step % 1000 == 0) {
                            System.out.printf("  %s %.0f%% step %d/%d loss %.4f %.0f s%n", kind, 100 * fraction, step, steps,
                                    log.tailMean("loss", 100), (System.nanoTime() - t0) / 1e9);
                        }
                    });
                    double secs = (System.nanoTime() - t0) / 1e9;
                    double acc = ClassifierEval.evaluate((Classifier) model, m, test, test.size).accuracy();
                    int perEpoch = Math.max(1, (int) Math.ceil(data.size / (double) regime.batch()));
                    String row = String.format(Locale.ROOT, "%.1f,%d,%s,%d,%d,%d,%d,%.4f,%.4f%n", fraction, data.size,
                            kind.equals("ViT") ? Vit.fashionSmall().name() : "SmallCnn", model.parameterCount(), epochs, log.size(),
                            Math.round(secs), log.tailMean("loss", perEpoch), acc);
                    System.out.print(row);
                    out.append(row);
                    Files.writeString(csv, out);   // rows so far: an interrupted run leaves what it measured
                }
            }
        }
        System.out.printf("wrote %s (%s)%n", csv, command);
    }

    /**
     * {@code ./course train vitPatch2 [steps=2000] [seconds]}: ViT-Ti/4's sizes at patch 2 ({@link Vit#fashionPatch2}, 196
     * patches), from scratch with {@link Regime#vit}, seed 42; writes vit_p2.safetensors, .json and -log.csv and prints the
     * mean attention distance of every head on 256 test images next to uniform attention's (notebook 01, Fig. 7 right).
     */
    static void patch2(int steps, double seconds) throws Exception {
        Path dir = TrainCheckpoint.checkpointDir();
        Seeds.seed(FIRST_SEED);
        try (NDManager m = NDManager.newBaseManager()) {
            Vit.Config cfg = Vit.fashionPatch2();
            Vit model = new Vit(m, cfg, FIRST_SEED);
            FashionMnist.Split train = FashionMnist.train();
            FashionMnist.Split test = FashionMnist.test();
            MetricsLog log = new MetricsLog();
            long t0 = System.nanoTime();
            ClassifierTraining.train(model, train, Regime.vit(), steps, seconds, FIRST_SEED, log, progress(model, m, test, log, t0, steps));
            double secs = (System.nanoTime() - t0) / 1e9;
            double acc = ClassifierEval.evaluate(model, m, test, 10000).accuracy();
            Checkpoint.save(model, dir.resolve("vit_p2.safetensors"));
            log.writeCsv(dir.resolve("vit_p2-log.csv"));
            CheckpointInfo.write(dir.resolve("vit_p2.json"), after(null, cfg, model.parameterCount(), log.size(), Regime.vit().batch(),
                    secs, acc, "./course train vitPatch2 " + steps + (seconds < 1e9 ? " " + seconds : ""), null, null));
            try (NDManager sub = m.newSubManager()) {
                int[] idx = new int[256];
                for (int i = 0; i < idx.length; i++) idx[i] = i;
                double[][] dist = VitLesson.meanAttentionDistance(model, test.images(sub, idx));
                System.out.printf("uniform attention %.2f px; per layer and head:%n", VitLesson.uniformAttentionDistance(cfg.grid(), cfg.patch()));
                for (double[] layer : dist) System.out.println("  " + Arrays.toString(layer));
            }
            System.out.printf("saved vit_p2: test accuracy %.4f after %d steps, %.0f s%n", acc, log.size(), secs);
        }
    }

    /** One fine-tuned copy of a soup: the recipe of a cycle, its number of steps, its seed. */
    record Ingredient(Cycle cycle, int steps, long seed) {}

    /**
     * The copies of {@code ./course train vitSoup}: alternately a warm restart ({@link Cycle#WARM_RESTART}, {@code steps})
     * and a cycle without augmentation ({@link Cycle#NO_AUGMENTATION}, {@code steps / 2}); seeds {@code firstSeed}, +1, …
     * Mixing the two kinds is what made the difference when tried: two copies of the 90.46 % checkpoint, one from a
     * warm restart (90.75 %) and one from a cycle without augmentation (90.29 %), averaged to 90.94 %.
     */
    static List<Ingredient> soupPlan(int steps, int count, long firstSeed) {
        if (count < 2) throw new IllegalArgumentException("a soup needs at least 2 ingredients, got " + count);
        if (steps < 20) throw new IllegalArgumentException("each ingredient needs at least 20 steps, got " + steps);
        List<Ingredient> plan = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            plan.add(i % 2 == 0 ? new Ingredient(Cycle.WARM_RESTART, steps, firstSeed + i)
                    : new Ingredient(Cycle.NO_AUGMENTATION, steps / 2, firstSeed + i));
        }
        return plan;
    }

    static void soup(int steps, int count) throws Exception {
        Path dir = TrainCheckpoint.checkpointDir();
        Path file = dir.resolve("vit_fashion.safetensors");
        CheckpointInfo.Vit before = chainBefore(dir, "vitSoup");
        int cycleIndex = before.cycles();
        List<Ingredient> plan = soupPlan(steps, count, FIRST_SEED + cycleIndex);
        Vit.Config cfg = Vit.fashionSmall();
        FashionMnist.Split train = FashionMnist.train();
        FashionMnist.Split test = FashionMnist.test();
        // the copies (kept there to look at) and the soup's curve go to a work folder; the checkpoint is replaced only
        // when the soup is done
        Path work = Course.home().resolve("target").resolve("vit-soup");
        Files.createDirectories(work);
        Path soupLog = work.resolve("vit_fashion-soup-log.csv");
        ModelSoup soup = new ModelSoup();
        List<CheckpointInfo.Vit.Ingredient> entries = new ArrayList<>();
        int stepsDone = 0;
        double seconds = 0;
        System.out.printf("soup of %d copies of %s (%d steps, %.4f), cycle %d%n", count, file, before.steps(),
                before.testAccuracy(), cycleIndex);
        for (int i = 0; i < plan.size(); i++) {
            Ingredient ing = plan.get(i);
            Seeds.seed(ing.seed());
            try (NDManager m = NDManager.newBaseManager()) {
                Vit model = new Vit(m, cfg, ing.seed());
                Checkpoint.load(model, file);
                System.out.printf("ingredient %d/%d: %s %d steps, seed %d%n", i + 1, plan.size(), ing.cycle().command,
                        ing.steps(), ing.seed());
                MetricsLog log = new MetricsLog();
                long t0 = System.nanoTime();
                ClassifierTraining.train(model, train, ing.cycle().regime, ing.steps(), 1e9, ing.seed(), log,
                        progress(model, m, test, log, t0, ing.steps()));
                seconds += (System.nanoTime() - t0) / 1e9;
                double acc = ClassifierEval.evaluate(model, m, test, 10000).accuracy();
                System.out.printf("ingredient %d: test accuracy %.4f%n", i + 1, acc);
                soup.add(model);
                Checkpoint.save(model, work.resolve("ingredient-" + (i + 1) + ".safetensors"));
                if (i == 0) log.writeCsv(soupLog); else log.appendCsv(soupLog, stepsDone);
                stepsDone += log.size();
                entries.add(new CheckpointInfo.Vit.Ingredient(ing.cycle().command, log.size(), ing.seed(),
                        CheckpointInfo.round(acc, 4)));
            }
        }
        try (NDManager m = NDManager.newBaseManager()) {
            Vit model = new Vit(m, cfg, FIRST_SEED);
            soup.loadInto(model);
            double acc = ClassifierEval.evaluate(model, m, test, 10000).accuracy();
            Checkpoint.save(model, file);
            Files.copy(soupLog, dir.resolve("vit_fashion-soup-log.csv"), StandardCopyOption.REPLACE_EXISTING);
            CheckpointInfo.write(dir.resolve("vit_fashion.json"), after(before, cfg, model.parameterCount(), stepsDone,
                    plan.get(0).cycle().regime.batch(), seconds, acc, "./course train vitSoup " + steps + " " + count,
                    "uniform mean of the weights of these fine-tuned copies (curves: vit_fashion-soup-log.csv)", entries));
            System.out.printf("saved %s (%d bytes): the soup of %d copies has test accuracy %.4f%n", file, Files.size(file),
                    count, acc);
        }
    }
}
