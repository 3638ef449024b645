package org.lesson8.tools;

import ai.djl.ndarray.NDManager;
import org.lesson8.course.Course;
import org.lesson8.data.FashionMnist;
import org.lesson8.models.FashionTraining;
import org.lesson8.models.Vit;
import org.lesson8.train.Checkpoint;
import org.lesson8.train.MetricsLog;
import org.lesson8.train.Seeds;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code ./course train vit [steps] [seconds]}: the ViT checkpoint of notebook 01, from scratch (seed 42).
 * {@code ./course train vitMore [steps] [seconds]}: one more cosine cycle from that checkpoint (a warm restart,
 * {@link FashionTraining.Recipe#vitMore}); {@code ./course train vitPolish [steps] [seconds]}: a short last cycle
 * without augmentation ({@link FashionTraining.Recipe#vitPolish}). Each continuation replaces the checkpoint; cycle k
 * (counting from 0) uses seed 42 + k, and the JSON names every command of the chain, in order.
 */
public final class TrainVit {
    private TrainVit() {}

    /** The kinds of cycle: from scratch, a warm restart, a last cycle without augmentation. */
    enum Cycle {
        SCRATCH("vit", FashionTraining.Recipe.vit()),
        MORE("vitMore", FashionTraining.Recipe.vitMore()),
        POLISH("vitPolish", FashionTraining.Recipe.vitPolish());

        final String command;
        final FashionTraining.Recipe recipe;

        Cycle(String command, FashionTraining.Recipe recipe) {
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

    static void vit(int steps, double seconds, Cycle cycle) throws Exception {
        Path dir = Course.home().resolve("data").resolve("checkpoints");
        Path file = dir.resolve("vit_fashion.safetensors");
        String before = "";
        int stepsBefore = 0;
        double secondsBefore = 0;
        int cycleIndex = 0;
        String jsonBefore = null;
        if (cycle != Cycle.SCRATCH) {
            Path jsonFile = dir.resolve("vit_fashion.json");
            if (!Files.exists(file) || !Files.exists(jsonFile)) {
                throw new IllegalStateException("./course train " + cycle.command + " continues from " + file
                        + " and its JSON, which are missing: run ./course train vit first");
            }
            jsonBefore = Files.readString(jsonFile);
            stepsBefore = Integer.parseInt(field(jsonBefore, "steps"));
            secondsBefore = Double.parseDouble(field(jsonBefore, "train_seconds"));
            before = field(jsonBefore, "command") + " && ";
            cycleIndex = cyclesIn(field(jsonBefore, "command"));
        }
        long seed = FIRST_SEED + cycleIndex;
        Seeds.seed(seed);
        try (NDManager m = NDManager.newBaseManager()) {
            Vit.Config cfg = Vit.fashionSmall();
            Vit model = new Vit(m, cfg, seed);
            if (jsonBefore != null) {
                Checkpoint.load(model, file);
                System.out.printf("continuing from %s (%d steps, %s), cycle %d, seed %d%n", file, stepsBefore,
                        field(jsonBefore, "test_accuracy"), cycleIndex, seed);
            }
            FashionTraining.Recipe recipe = cycle.recipe;
            FashionMnist.Split train = FashionMnist.train();
            FashionMnist.Split test = FashionMnist.test();
            MetricsLog log = new MetricsLog();
            long t0 = System.nanoTime();
            FashionTraining.train(model, train, recipe, steps, seconds, seed, log, step -> {
                if (step % 500 == 0) {
                    System.out.printf("step %d  loss %.4f  train_acc %.3f  %.0f s%n", step, log.tailMean("loss", 100),
                            log.tailMean("train_acc", 100), (System.nanoTime() - t0) / 1e9);
                }
                if (step % 3000 == 0) {
                    System.out.printf("  test accuracy %.4f%n", FashionTraining.evaluate(model, m, test, 10000).accuracy());
                }
            });
            double secs = (System.nanoTime() - t0) / 1e9;
            double acc = FashionTraining.evaluate(model, m, test, 10000).accuracy();
            Checkpoint.save(model, file);
            Path logFile = dir.resolve("vit_fashion-log.csv");
            if (jsonBefore != null && Files.exists(logFile)) {
                log.appendCsv(logFile, stepsBefore);   // one curve for both cycles
            } else {
                log.writeCsv(logFile);
            }
            String json = String.format("{\n  \"model\": \"%s\",\n  \"config\": \"%s\",\n  \"parameters\": %d,\n  \"seed\": %s,\n"
                            + "  \"steps\": %d,\n  \"batch\": %d,\n  \"train_seconds\": %.0f,\n  \"test_accuracy\": %.4f,\n"
                            + "  \"command\": \"%s./course train %s %d\"\n}\n",
                    cfg.name(), cfg.toString(), model.parameterCount(), seedFields(cycleIndex + 1), stepsBefore + log.size(),
                    recipe.batch(), secondsBefore + secs, acc, before, cycle.command, steps);
            Files.writeString(dir.resolve("vit_fashion.json"), json, StandardCharsets.UTF_8);
            System.out.printf("saved %s (%d bytes): test accuracy %.4f after %d steps, %.0f s%n", file, Files.size(file), acc, log.size(), secs);
        }
    }

    /** The value of a top-level field of the small JSON files this class writes. */
    static String field(String json, String name) {
        java.util.regex.Matcher mt = java.util.regex.Pattern.compile("\"" + name + "\":\\s*\"?([^\",\\n]*)").matcher(json);
        if (!mt.find()) throw new IllegalArgumentException("vit_fashion.json has no field \"" + name + "\"");
        return mt.group(1).trim();
    }
}
