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
 * {@code ./course train vit [steps] [seconds]}: the ViT checkpoint of notebook 01, from scratch.
 * {@code ./course train vitMore [steps] [seconds]}: a second cosine cycle from that checkpoint
 * ({@link FashionTraining.Recipe#vitMore}, seed 43), which replaces it; its JSON names both commands.
 */
public final class TrainVit {
    private TrainVit() {}

    public static void run(String[] args) throws Exception {
        vit(args.length > 0 ? Integer.parseInt(args[0]) : 18000, args.length > 1 ? Double.parseDouble(args[1]) : 1e9, false);
    }

    static void vit(int steps, double seconds, boolean more) throws Exception {
        long seed = more ? 43 : 42;
        Seeds.seed(seed);
        Path dir = Course.home().resolve("data").resolve("checkpoints");
        try (NDManager m = NDManager.newBaseManager()) {
            Vit.Config cfg = Vit.fashionSmall();
            Vit model = new Vit(m, cfg, seed);
            Path file = dir.resolve("vit_fashion.safetensors");
            String before = "";
            int stepsBefore = 0;
            double secondsBefore = 0;
            if (more) {
                Checkpoint.load(model, file);
                String json = Files.readString(dir.resolve("vit_fashion.json"));
                stepsBefore = Integer.parseInt(field(json, "steps"));
                secondsBefore = Double.parseDouble(field(json, "train_seconds"));
                before = field(json, "command") + " && ";
                System.out.printf("continuing from %s (%d steps, %s)%n", file, stepsBefore, field(json, "test_accuracy"));
            }
            FashionTraining.Recipe recipe = more ? FashionTraining.Recipe.vitMore() : FashionTraining.Recipe.vit();
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
            if (more && Files.exists(logFile)) {
                log.appendCsv(logFile, stepsBefore);   // one curve for both cycles
            } else {
                log.writeCsv(logFile);
            }
            String json = String.format("{\n  \"model\": \"%s\",\n  \"config\": \"%s\",\n  \"parameters\": %d,\n  \"seed\": %s,\n"
                            + "  \"steps\": %d,\n  \"batch\": %d,\n  \"train_seconds\": %.0f,\n  \"test_accuracy\": %.4f,\n"
                            + "  \"command\": \"%s./course train %s %d\"\n}\n",
                    cfg.name(), cfg.toString(), model.parameterCount(), more ? "42, \"seed_second_cycle\": " + seed : String.valueOf(seed), stepsBefore + log.size(), recipe.batch(),
                    secondsBefore + secs, acc, before, more ? "vitMore" : "vit", steps);
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
