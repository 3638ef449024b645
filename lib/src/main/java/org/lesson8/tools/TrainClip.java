package org.lesson8.tools;

import org.lesson8.lessons.ClipLesson;
import ai.djl.ndarray.NDManager;
import org.lesson8.data.CaptionedShapes;
import org.lesson8.data.FashionMnist;
import org.lesson8.eval.ClipProbes;
import org.lesson8.models.Clip;
import org.lesson8.train.Checkpoint;
import org.lesson8.train.CheckpointInfo;
import org.lesson8.train.MetricsLog;
import org.lesson8.train.Seeds;

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
                System.out.println(ClipLesson.benchmark(m, Clip.course(), ClipLesson.Regime.standard(), steps, 2000));
            }
            return;
        }
        int steps = args.length > 0 ? Integer.parseInt(args[0]) : 2500;
        double seconds = args.length > 1 ? Double.parseDouble(args[1]) : 1e9;
        Seeds.seed(SEED);
        Path dir = TrainCheckpoint.checkpointDir();
        try (NDManager m = NDManager.newBaseManager()) {
            Clip.Config cfg = Clip.course();
            Clip model = new Clip(m, cfg, SEED);
            ClipLesson.Regime regime = ClipLesson.Regime.standard();
            FashionMnist.Split test = FashionMnist.test();
            CaptionedShapes shapes = new CaptionedShapes(cfg.imageSize(), SHAPES_SEED);
            ClipLesson.Pairs pairs = new ClipLesson.Pairs(FashionMnist.train(), shapes, SEED);
            MetricsLog log = new MetricsLog();
            long t0 = System.nanoTime();
            ClipLesson.train(model, pairs, regime, steps, seconds, log, step -> {
                if (step % 100 == 0) {
                    System.out.printf("step %d  loss %.4f  i2t %.3f  scale %.2f  %.0f s%n", step, log.tailMean("loss", 100),
                            log.tailMean("i2t_acc", 100), model.scaleValue(), (System.nanoTime() - t0) / 1e9);
                }
                if (step % 1000 == 0) {
                    ClipLesson.ZeroShotResult z = ClipLesson.evaluateFashion(model, m, test, 2000);
                    ClipProbes.ShapeRetrieval h = ClipProbes.shapes(model, m, shapes, 400, true);
                    System.out.printf("  zero-shot %.4f / ensemble %.4f (2000 test images); held-out i2t %.3f (chance %.3f), t2i %.3f (chance %.3f)%n",
                            z.singlePrompt(), z.ensemble(), h.imageToText(), h.imageToTextChance(), h.textToImage(), h.textToImageChance());
                }
            });
            double secs = (System.nanoTime() - t0) / 1e9;
            ClipLesson.ZeroShotResult z = ClipLesson.evaluateFashion(model, m, test, 10000);
            ClipProbes.ShapeRetrieval h = ClipProbes.shapes(model, m, shapes, 1000, true);
            ClipProbes.ShapeRetrieval seen = ClipProbes.shapes(model, m, shapes, 1000, false);
            Path file = dir.resolve("clip.safetensors");
            Checkpoint.save(model, file);
            log.writeCsv(dir.resolve("clip-log.csv"));
            CheckpointInfo.Clip info = new CheckpointInfo.Clip(cfg.name(), cfg.toString(), regime.toString(),
                    model.parameterCount(), SEED, SHAPES_SEED, log.size(), regime.batch(), Math.round(secs),
                    TrainCheckpoint.threads(), CheckpointInfo.round(model.scaleValue(), 3),
                    r4(z.singlePrompt()), r4(z.ensemble()), z.images(), r4(h.imageToText()), r4(h.imageToTextChance()),
                    r4(h.exactCaption()), r4(h.exactChance()), r4(h.textToImage()), r4(h.textToImageChance()),
                    r4(seen.imageToText()), r4(seen.textToImage()), "./course train clip " + steps);
            CheckpointInfo.write(dir.resolve("clip.json"), info);
            System.out.print(CheckpointInfo.toJson(info));
            System.out.printf("saved %s (%d bytes) after %d steps, %.0f s%n", file, Files.size(file), log.size(), secs);
        }
    }

    private static double r4(double x) {
        return CheckpointInfo.round(x, 4);
    }
}
