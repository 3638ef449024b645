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

/** {@code ./course train vit [steps] [seconds]}: the ViT checkpoint of notebook 01. */
public final class TrainVit {
    private TrainVit() {}

    public static void run(String[] args) throws Exception {
        vit(args.length > 0 ? Integer.parseInt(args[0]) : 18000, args.length > 1 ? Double.parseDouble(args[1]) : 1e9);
    }

    static void vit(int steps, double seconds) throws Exception {
        long seed = 42;
        Seeds.seed(seed);
        Path dir = Course.home().resolve("data").resolve("checkpoints");
        try (NDManager m = NDManager.newBaseManager()) {
            Vit.Config cfg = Vit.fashionSmall();
            Vit model = new Vit(m, cfg, seed);
            FashionMnist.Split train = FashionMnist.train();
            FashionMnist.Split test = FashionMnist.test();
            MetricsLog log = new MetricsLog();
            long t0 = System.nanoTime();
            FashionTraining.train(model, train, FashionTraining.Recipe.vit(), steps, seconds, seed, log, step -> {
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
            Path file = dir.resolve("vit_fashion.safetensors");
            Checkpoint.save(model, file);
            log.writeCsv(dir.resolve("vit_fashion-log.csv"));
            String json = String.format("{\n  \"model\": \"%s\",\n  \"config\": \"%s\",\n  \"parameters\": %d,\n  \"seed\": %d,\n"
                            + "  \"steps\": %d,\n  \"batch\": %d,\n  \"train_seconds\": %.0f,\n  \"test_accuracy\": %.4f,\n"
                            + "  \"command\": \"./course train vit %d\"\n}\n",
                    cfg.name(), cfg.toString(), model.parameterCount(), seed, log.size(), FashionTraining.Recipe.vit().batch(),
                    secs, acc, steps);
            Files.writeString(dir.resolve("vit_fashion.json"), json, StandardCharsets.UTF_8);
            System.out.printf("saved %s (%d bytes): test accuracy %.4f after %d steps, %.0f s%n", file, Files.size(file), acc, log.size(), secs);
        }
    }
}
