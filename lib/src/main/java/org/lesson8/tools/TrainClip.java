package org.lesson8.tools;

import org.lesson8.lessons.ClipLesson;
import ai.djl.ndarray.NDManager;
import org.lesson8.course.Course;
import org.lesson8.data.CaptionedShapes;
import org.lesson8.data.FashionMnist;
import org.lesson8.models.Clip;
import org.lesson8.train.Checkpoint;
import org.lesson8.train.MetricsLog;
import org.lesson8.train.Seeds;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code ./course train clip [steps] [seconds]}: the CLIP checkpoint of notebook 04 (and of the DALL·E reranking and
 * unCLIP notebooks). Fixed seed 42; writes data/checkpoints/clip.safetensors, clip.json (config, command, measured
 * zero-shot and retrieval figures) and clip-log.csv.
 * {@code ./course train clip bench [steps]} prints {@link Clip#benchmark} figures instead.
 */
public final class TrainClip {
    private TrainClip() {}

    public static final long SEED = 42;
    /** The shapes of the checkpoint are drawn with this seed (held-out pairs are the same for every seed). */
    public static final long SHAPES_SEED = 42;

    public static void run(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("bench")) {
            int steps = args.length > 1 ? Integer.parseInt(args[1]) : 10;
            try (NDManager m = NDManager.newBaseManager()) {
                System.out.println(ClipLesson.benchmark(m, Clip.course(), ClipLesson.Recipe.standard(), steps, 2000));
            }
            return;
        }
        int steps = args.length > 0 ? Integer.parseInt(args[0]) : 2500;
        double seconds = args.length > 1 ? Double.parseDouble(args[1]) : 1e9;
        Seeds.seed(SEED);
        Path dir = Course.home().resolve("data").resolve("checkpoints");
        try (NDManager m = NDManager.newBaseManager()) {
            Clip.Config cfg = Clip.course();
            Clip model = new Clip(m, cfg, SEED);
            ClipLesson.Recipe recipe = ClipLesson.Recipe.standard();
            FashionMnist.Split test = FashionMnist.test();
            CaptionedShapes shapes = new CaptionedShapes(cfg.imageSize(), SHAPES_SEED);
            ClipLesson.Pairs pairs = new ClipLesson.Pairs(FashionMnist.train(), shapes, SEED);
            MetricsLog log = new MetricsLog();
            long t0 = System.nanoTime();
            ClipLesson.train(model, pairs, recipe, steps, seconds, log, step -> {
                if (step % 100 == 0) {
                    System.out.printf("step %d  loss %.4f  i2t %.3f  scale %.2f  %.0f s%n", step, log.tailMean("loss", 100),
                            log.tailMean("i2t_acc", 100), model.scaleValue(), (System.nanoTime() - t0) / 1e9);
                }
                if (step % 1000 == 0) {
                    ClipLesson.ZeroShotResult z = ClipLesson.evaluateFashion(model, m, test, 2000);
                    ClipLesson.ShapeRetrieval h = ClipLesson.shapeRetrieval(model, m, shapes, 400, true);
                    System.out.printf("  zero-shot %.4f / ensemble %.4f (2000 test images); held-out i2t %.3f (chance %.3f), t2i %.3f (chance %.3f)%n",
                            z.singlePrompt(), z.ensemble(), h.imageToText(), h.imageToTextChance(), h.textToImage(), h.textToImageChance());
                }
            });
            double secs = (System.nanoTime() - t0) / 1e9;
            ClipLesson.ZeroShotResult z = ClipLesson.evaluateFashion(model, m, test, 10000);
            ClipLesson.ShapeRetrieval h = ClipLesson.shapeRetrieval(model, m, shapes, 1000, true);
            ClipLesson.ShapeRetrieval seen = ClipLesson.shapeRetrieval(model, m, shapes, 1000, false);
            Path file = dir.resolve("clip.safetensors");
            Checkpoint.save(model, file);
            log.writeCsv(dir.resolve("clip-log.csv"));
            String json = String.format("{\n  \"model\": \"%s\",\n  \"config\": \"%s\",\n  \"recipe\": \"%s\",\n  \"parameters\": %d,\n"
                            + "  \"seed\": %d,\n  \"shapes_seed\": %d,\n  \"steps\": %d,\n  \"batch\": %d,\n  \"train_seconds\": %.0f,\n"
                            + "  \"threads\": \"%s\",\n  \"final_scale\": %.3f,\n"
                            + "  \"zero_shot_accuracy\": %.4f,\n  \"zero_shot_ensemble_accuracy\": %.4f,\n  \"zero_shot_test_images\": %d,\n"
                            + "  \"heldout_image_to_text_top1\": %.4f,\n  \"heldout_image_to_text_chance\": %.4f,\n"
                            + "  \"heldout_exact_caption_top1\": %.4f,\n  \"heldout_exact_caption_chance\": %.4f,\n"
                            + "  \"heldout_text_to_image_top1\": %.4f,\n  \"heldout_text_to_image_chance\": %.4f,\n"
                            + "  \"seen_image_to_text_top1\": %.4f,\n  \"seen_text_to_image_top1\": %.4f,\n"
                            + "  \"command\": \"./course train clip %d\"\n}\n",
                    cfg.name(), cfg.toString(), recipe.toString(), model.parameterCount(), SEED, SHAPES_SEED, log.size(), recipe.batch(),
                    secs, System.getProperty("ai.djl.pytorch.num_threads", "default"), model.scaleValue(),
                    z.singlePrompt(), z.ensemble(), z.images(), h.imageToText(), h.imageToTextChance(), h.exactCaption(), h.exactChance(),
                    h.textToImage(), h.textToImageChance(), seen.imageToText(), seen.textToImage(), steps);
            Files.writeString(dir.resolve("clip.json"), json, StandardCharsets.UTF_8);
            System.out.print(json);
            System.out.printf("saved %s (%d bytes) after %d steps, %.0f s%n", file, Files.size(file), log.size(), secs);
        }
    }
}
