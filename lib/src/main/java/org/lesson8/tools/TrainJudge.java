package org.lesson8.tools;

import ai.djl.ndarray.NDManager;
import org.lesson8.data.CaptionedScenes;
import org.lesson8.eval.CaptionJudging;
import org.lesson8.models.CaptionJudge;
import org.lesson8.train.Checkpoint;
import org.lesson8.train.CheckpointInfo;
import org.lesson8.train.JudgeTraining;
import org.lesson8.train.MetricsLog;
import org.lesson8.train.Recipe;
import org.lesson8.train.Seeds;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code ./course train judge [steps] [seconds]}: the caption judge of the text-to-image notebooks. Fixed seed 42 for
 * the weights and the scenes; writes data/checkpoints/caption_judge.safetensors, caption_judge.json (configuration,
 * command, accuracy on {@value #EVAL_SCENES} held-out and {@value #EVAL_SCENES} test scenes) and caption_judge-log.csv.
 */
public final class TrainJudge {
    private TrainJudge() {}

    public static final long SEED = 42;
    public static final int EVAL_SCENES = 2000;

    public static void run(String[] args) throws Exception {
        int steps = TrainCheckpoint.intArg(args, 0, 1500);
        double seconds = TrainCheckpoint.doubleArg(args, 1, 1e9);
        Seeds.seed(SEED);
        Path dir = TrainCheckpoint.checkpointDir();
        try (NDManager m = NDManager.newBaseManager()) {
            CaptionJudge.Config cfg = CaptionJudge.scenes();
            CaptionJudge judge = new CaptionJudge(m, cfg, SEED);
            CaptionedScenes scenes = new CaptionedScenes(SEED);
            Recipe recipe = JudgeTraining.recipe();
            MetricsLog log = new MetricsLog();
            long t0 = System.nanoTime();
            JudgeTraining.train(judge, scenes, recipe, steps, seconds, log, step -> {
                if (step % 100 == 0) {
                    System.out.printf("step %d  loss %.4f  heads %.4f  %.0f s%n", step, log.tailMean("loss", 100),
                            log.tailMean("heads_acc", 100), (System.nanoTime() - t0) / 1e9);
                }
            });
            double secs = (System.nanoTime() - t0) / 1e9;
            CaptionJudging judging = new CaptionJudging(judge);
            CheckpointInfo.CaptionJudge.Measured heldOut = measured(judging.measure(m, scenes.scenes(CaptionedScenes.Split.HELD_OUT, EVAL_SCENES)));
            CheckpointInfo.CaptionJudge.Measured test = measured(judging.measure(m, scenes.scenes(CaptionedScenes.Split.TEST, EVAL_SCENES)));
            Path file = dir.resolve(CaptionJudging.CHECKPOINT);
            Checkpoint.save(judge, file);
            log.writeCsv(dir.resolve("caption_judge-log.csv"));
            CheckpointInfo.CaptionJudge info = new CheckpointInfo.CaptionJudge(cfg.name(), cfg.toString(), recipe.toString(),
                    judge.parameterCount(), SEED, SEED, log.size(), recipe.batch(), Math.round(secs),
                    TrainCheckpoint.threads(), heldOut, test,
                    "./course train judge " + steps + (args.length > 1 ? " " + args[1] : ""));
            CheckpointInfo.write(dir.resolve("caption_judge.json"), info);
            System.out.print(CheckpointInfo.toJson(info));
            System.out.printf("saved %s (%d bytes) after %d steps, %.0f s%n", file, Files.size(file), log.size(), secs);
        }
    }

    private static CheckpointInfo.CaptionJudge.Measured measured(CaptionJudging.Accuracy a) {
        Map<String, Double> per = new LinkedHashMap<>();
        a.perAttribute().forEach((k, v) -> per.put(k, r4(v)));
        return new CheckpointInfo.CaptionJudge.Measured(a.scenes(), r4(a.caption()), r4(a.oneObjectCaption()),
                r4(a.twoObjectCaption()), per);
    }

    private static double r4(double x) {
        return CheckpointInfo.round(x, 4);
    }
}
