package org.lesson8.tools;

import org.lesson8.train.ClassifierTraining;
import org.lesson8.eval.ClassifierEval;
import ai.djl.ndarray.NDManager;
import org.lesson8.course.Course;
import org.lesson8.data.FashionMnist;
import org.lesson8.models.Vit;
import org.lesson8.train.Checkpoint;
import org.lesson8.train.MetricsLog;
import org.lesson8.train.ModelSoup;
import org.lesson8.train.Seeds;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntConsumer;

/**
 * {@code ./course train vit [steps] [seconds]}: the ViT checkpoint of notebook 01, from scratch (seed 42).
 * {@code ./course train vitMore [steps] [seconds]}: one more cosine cycle from that checkpoint (a warm restart,
 * {@link ClassifierTraining.Recipe#vitMore}); {@code ./course train vitPolish [steps] [seconds]}: a short last cycle
 * without augmentation ({@link ClassifierTraining.Recipe#vitPolish}). Each continuation replaces the checkpoint; cycle k
 * (counting from 0) uses seed 42 + k, and the JSON names every command of the chain, in order.
 * {@code ./course train vitSoup [steps] [ingredients]}: fine-tunes several copies of the checkpoint (alternately a
 * warm restart and a cycle without augmentation, each with its own seed) and replaces it by the mean of their
 * weights, a uniform model soup ({@link ModelSoup}).
 */
public final class TrainVit {
    private TrainVit() {}

    /** The kinds of cycle: from scratch, a warm restart, a last cycle without augmentation. */
    enum Cycle {
        SCRATCH("vit", ClassifierTraining.Recipe.vit()),
        MORE("vitMore", ClassifierTraining.Recipe.vitMore()),
        POLISH("vitPolish", ClassifierTraining.Recipe.vitPolish());

        final String command;
        final ClassifierTraining.Recipe recipe;

        Cycle(String command, ClassifierTraining.Recipe recipe) {
            this.command = command;
            this.recipe = recipe;
        }
    }

    static final long FIRST_SEED = 42;

    public static void run(String[] args) throws Exception {
        vit(args.length > 0 ? Integer.parseInt(args[0]) : 18000, args.length > 1 ? Double.parseDouble(args[1]) : 1e9,
                Cycle.SCRATCH);
    }

    /** How many training commands the JSON's {@code command} chain holds (the index of the next cycle). */
    static int cyclesIn(String command) {
        return command.split(" && ").length;
    }

    /** The JSON's seed fields for a chain of {@code cycles} cycles: the first seed, then one seed per cycle. */
    static String seedFields(int cycles) {
        StringBuilder b = new StringBuilder(String.valueOf(FIRST_SEED));
        if (cycles > 1) {
            b.append(", \"seed_per_cycle\": [");
            for (int k = 0; k < cycles; k++) b.append(k > 0 ? ", " : "").append(FIRST_SEED + k);
            b.append(']');
        }
        return b.toString();
    }

    /** What vit_fashion.json says of the checkpoint a continuation starts from: its command chain, steps, time. */
    record Chain(String command, int steps, double seconds, String testAccuracy) {
        /** The number of commands in the chain = the index of the next cycle. */
        int cycles() {
            return command.isEmpty() ? 0 : cyclesIn(command);
        }

        /** The chain of a run from scratch: nothing before it. */
        static final Chain NONE = new Chain("", 0, 0, "");
    }

    /** Reads the chain behind the shipped checkpoint; {@code command} (e.g. vitSoup) names who needs it in the error. */
    static Chain chainBefore(Path dir, String command) throws IOException {
        Path file = dir.resolve("vit_fashion.safetensors");
        Path jsonFile = dir.resolve("vit_fashion.json");
        if (!Files.exists(file) || !Files.exists(jsonFile)) {
            throw new IllegalStateException("./course train " + command + " continues from " + file
                    + " and its JSON, which are missing: run ./course train vit first");
        }
        String json = Files.readString(jsonFile);
        return new Chain(field(json, "command"), Integer.parseInt(field(json, "steps")),
                Double.parseDouble(field(json, "train_seconds")), field(json, "test_accuracy"));
    }

    /** vit_fashion.json: the fields every cycle writes, the command chain, then {@code extra} (lines or ""). */
    static String json(Vit.Config cfg, long parameters, int cycles, int steps, int batch, double seconds, double accuracy,
                       String command, String extra) {
        return String.format("{\n  \"model\": \"%s\",\n  \"config\": \"%s\",\n  \"parameters\": %d,\n  \"seed\": %s,\n"
                        + "  \"steps\": %d,\n  \"batch\": %d,\n  \"train_seconds\": %.0f,\n  \"test_accuracy\": %.4f,\n"
                        + "  \"command\": \"%s\"%s\n}\n",
                cfg.name(), cfg.toString(), parameters, seedFields(cycles), steps, batch, seconds, accuracy, command, extra);
    }

    static void vit(int steps, double seconds, Cycle cycle) throws Exception {
        Path dir = Course.home().resolve("data").resolve("checkpoints");
        Path file = dir.resolve("vit_fashion.safetensors");
        Chain before = cycle == Cycle.SCRATCH ? Chain.NONE : chainBefore(dir, cycle.command);
        int cycleIndex = before.cycles();
        long seed = FIRST_SEED + cycleIndex;
        Seeds.seed(seed);
        try (NDManager m = NDManager.newBaseManager()) {
            Vit.Config cfg = Vit.fashionSmall();
            Vit model = new Vit(m, cfg, seed);
            if (cycle != Cycle.SCRATCH) {
                Checkpoint.load(model, file);
                System.out.printf("continuing from %s (%d steps, %s), cycle %d, seed %d%n", file, before.steps(),
                        before.testAccuracy(), cycleIndex, seed);
            }
            ClassifierTraining.Recipe recipe = cycle.recipe;
            FashionMnist.Split train = FashionMnist.train();
            FashionMnist.Split test = FashionMnist.test();
            MetricsLog log = new MetricsLog();
            long t0 = System.nanoTime();
            ClassifierTraining.train(model, train, recipe, steps, seconds, seed, log, progress(model, m, test, log, t0, steps));
            double secs = (System.nanoTime() - t0) / 1e9;
            double acc = ClassifierEval.evaluate(model, m, test, 10000).accuracy();
            Checkpoint.save(model, file);
            Path logFile = dir.resolve("vit_fashion-log.csv");
            if (cycle != Cycle.SCRATCH && Files.exists(logFile)) {
                log.appendCsv(logFile, before.steps());   // one curve for all cycles
            } else {
                log.writeCsv(logFile);
            }
            String command = (cycle == Cycle.SCRATCH ? "" : before.command() + " && ") + "./course train " + cycle.command + " " + steps;
            Files.writeString(dir.resolve("vit_fashion.json"), json(cfg, model.parameterCount(), cycleIndex + 1,
                    before.steps() + log.size(), recipe.batch(), before.seconds() + secs, acc, command, ""), StandardCharsets.UTF_8);
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

    /** One fine-tuned copy of a soup: the recipe of a cycle, its number of steps, its seed. */
    record Ingredient(Cycle cycle, int steps, long seed) {}

    /**
     * The copies of {@code ./course train vitSoup}: alternately a warm restart ({@link Cycle#MORE}, {@code steps}) and
     * a cycle without augmentation ({@link Cycle#POLISH}, {@code steps / 2}); seeds {@code firstSeed}, +1, +2, …
     * Mixing the two kinds is what made the difference when tried: two copies of the 90.46 % checkpoint, one from a
     * warm restart (90.75 %) and one from a cycle without augmentation (90.29 %), averaged to 90.94 %.
     */
    static List<Ingredient> soupPlan(int steps, int count, long firstSeed) {
        if (count < 2) throw new IllegalArgumentException("a soup needs at least 2 ingredients, got " + count);
        if (steps < 20) throw new IllegalArgumentException("each ingredient needs at least 20 steps, got " + steps);
        List<Ingredient> plan = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            plan.add(i % 2 == 0 ? new Ingredient(Cycle.MORE, steps, firstSeed + i) : new Ingredient(Cycle.POLISH, steps / 2, firstSeed + i));
        }
        return plan;
    }

    static void soup(int steps, int count) throws Exception {
        Path dir = Course.home().resolve("data").resolve("checkpoints");
        Path file = dir.resolve("vit_fashion.safetensors");
        Chain before = chainBefore(dir, "vitSoup");
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
        StringBuilder entries = new StringBuilder();
        int stepsDone = 0;
        double seconds = 0;
        System.out.printf("soup of %d copies of %s (%d steps, %s), cycle %d%n", count, file, before.steps(),
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
                ClassifierTraining.train(model, train, ing.cycle().recipe, ing.steps(), 1e9, ing.seed(), log,
                        progress(model, m, test, log, t0, ing.steps()));
                seconds += (System.nanoTime() - t0) / 1e9;
                double acc = ClassifierEval.evaluate(model, m, test, 10000).accuracy();
                System.out.printf("ingredient %d: test accuracy %.4f%n", i + 1, acc);
                soup.add(model);
                Checkpoint.save(model, work.resolve("ingredient-" + (i + 1) + ".safetensors"));
                if (i == 0) log.writeCsv(soupLog); else log.appendCsv(soupLog, stepsDone);
                stepsDone += log.size();
                entries.append(i > 0 ? ",\n    " : "").append(String.format(
                        "{\"cycle\": \"%s\", \"steps\": %d, \"seed\": %d, \"test_accuracy\": %.4f}",
                        ing.cycle().command, log.size(), ing.seed(), acc));
            }
        }
        try (NDManager m = NDManager.newBaseManager()) {
            Vit model = new Vit(m, cfg, FIRST_SEED);
            soup.loadInto(model);
            double acc = ClassifierEval.evaluate(model, m, test, 10000).accuracy();
            Checkpoint.save(model, file);
            Files.copy(soupLog, dir.resolve("vit_fashion-soup-log.csv"), StandardCopyOption.REPLACE_EXISTING);
            String extra = ",\n  \"soup\": \"uniform mean of the weights of these fine-tuned copies (curves: vit_fashion-soup-log.csv)\",\n"
                    + "  \"soup_ingredients\": [\n    " + entries + "]";
            Files.writeString(dir.resolve("vit_fashion.json"), json(cfg, model.parameterCount(), cycleIndex + 1,
                    before.steps() + stepsDone, plan.get(0).cycle().recipe.batch(), before.seconds() + seconds, acc,
                    before.command() + " && ./course train vitSoup " + steps + " " + count, extra), StandardCharsets.UTF_8);
            System.out.printf("saved %s (%d bytes): the soup of %d copies has test accuracy %.4f%n", file, Files.size(file),
                    count, acc);
        }
    }

    /** The value of a top-level field of the small JSON files this class writes. */
    static String field(String json, String name) {
        java.util.regex.Matcher mt = java.util.regex.Pattern.compile("\"" + name + "\":\\s*\"?([^\",\\n]*)").matcher(json);
        if (!mt.find()) throw new IllegalArgumentException("vit_fashion.json has no field \"" + name + "\"");
        return mt.group(1).trim();
    }
}
