package org.lesson8.tools;

import ai.djl.ndarray.NDManager;
import org.lesson8.data.CaptionedScenes;
import org.lesson8.data.FashionMnist;
import org.lesson8.data.Tokenizer;
import org.lesson8.eval.ClipProbes;
import org.lesson8.lessons.ClipLesson;
import org.lesson8.models.Clip;
import org.lesson8.train.Checkpoint;
import org.lesson8.train.CheckpointInfo;
import org.lesson8.train.MetricsLog;
import org.lesson8.train.Recipe;
import org.lesson8.train.Seeds;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code ./course train clipScenes [steps] [seconds]}: the text-to-image CLIP ({@link Clip#textToImage()}) on
 * captioned scenes and Fashion-MNIST captions, for notebooks 04–07 (DALL·E reranks with it, unCLIP builds on its
 * embeddings). Fixed seed 42; writes data/checkpoints/clip_scenes.safetensors, clip_scenes.json (measured zero-shot,
 * retrieval and binding figures) and clip_scenes-log.csv.
 */
public final class TrainClipScenes {
    private TrainClipScenes() {}

    public static final long SEED = 42;
    public static final long SCENES_SEED = 42;
    public static final String NAME = "clip_scenes";

    /** Batches of 256 pairs, 96 Fashion + 160 scenes (scenes have more to learn: two objects and a relation). */
    public static ClipLesson.Regime regime() {
        return new ClipLesson.Regime(new Recipe(256, 1e-3f, 0.1f, 200, 1f), 160);
    }

    public static void run(String[] args) throws Exception {
        int steps = TrainCheckpoint.intArg(args, 0, 4000);
        double seconds = TrainCheckpoint.doubleArg(args, 1, 1e9);
        Seeds.seed(SEED);
        Path dir = TrainCheckpoint.checkpointDir();
        try (NDManager m = NDManager.newBaseManager()) {
            Clip.Config cfg = Clip.textToImage();
            Clip model = new Clip(m, cfg, Tokenizer.textToImage(), SEED);
            CaptionedScenes scenes = new CaptionedScenes(SCENES_SEED);
            FashionMnist.Split test = FashionMnist.test();
            ClipLesson.Pairs pairs = ClipLesson.Pairs.withScenes(FashionMnist.train(), scenes, SEED);
            List<CaptionedScenes.Scene> probe = scenes.scenes(CaptionedScenes.Split.TEST, 300);
            MetricsLog log = new MetricsLog();
            long t0 = System.nanoTime();
            ClipLesson.train(model, pairs, regime(), steps, seconds, log, step -> {
                if (step % 100 == 0) {
                    System.out.printf("step %d  loss %.4f  i2t %.3f  scale %.2f  %.0f s%n", step, log.tailMean("loss", 100),
                            log.tailMean("i2t_acc", 100), model.scaleValue(), (System.nanoTime() - t0) / 1e9);
                }
                if (step % 1000 == 0) {
                    ClipProbes.SceneRetrieval r = ClipProbes.scenes(model, m, probe);
                    ClipProbes.Binding b = ClipProbes.binding(model, m, probe);
                    System.out.printf("  test scenes: i2t top-1 %.3f (chance %.4f), binding colours %.3f, order %.3f%n",
                            r.imageToText(), r.chance(), b.colours(), b.order());
                }
            });
            double secs = (System.nanoTime() - t0) / 1e9;
            int n = 1000;
            List<CaptionedScenes.Scene> testSet = scenes.scenes(CaptionedScenes.Split.TEST, n);
            List<CaptionedScenes.Scene> heldOut = scenes.scenes(CaptionedScenes.Split.HELD_OUT, n);
            List<CaptionedScenes.Scene> testTwo = scenes.scenes(CaptionedScenes.Split.TEST, 2 * n).stream()
                    .filter(s -> s.attributes().objects() == 2).limit(n).toList();
            List<CaptionedScenes.Scene> heldTwo = scenes.scenes(CaptionedScenes.Split.HELD_OUT_TWO, n);
            ClipLesson.ZeroShotResult z = ClipLesson.evaluateFashion(model, m, test, 10000);
            ClipProbes.SceneRetrieval rt = ClipProbes.scenes(model, m, testSet);
            ClipProbes.SceneRetrieval rh = ClipProbes.scenes(model, m, heldOut);
            ClipProbes.Binding bt = ClipProbes.binding(model, m, testTwo);
            ClipProbes.Binding bh = ClipProbes.binding(model, m, heldTwo);
            Path file = dir.resolve(NAME + ".safetensors");
            Checkpoint.save(model, file);
            log.writeCsv(dir.resolve(NAME + "-log.csv"));
            CheckpointInfo.ClipScenes info = new CheckpointInfo.ClipScenes(cfg.name(), cfg.toString(), regime().toString(),
                    model.parameterCount(), SEED, SCENES_SEED, log.size(), Math.round(secs),
                    TrainCheckpoint.threads(), r(model.scaleValue(), 3),
                    r(z.singlePrompt(), 4), z.images(), r(rt.imageToText(), 4), r(rh.imageToText(), 4), r(rt.chance(), 5),
                    n, r(bt.colours(), 4), r(bt.order(), 4), r(bh.colours(), 4), r(bh.order(), 4), n,
                    "./course train clipScenes " + steps);
            CheckpointInfo.write(dir.resolve(NAME + ".json"), info);
            System.out.print(CheckpointInfo.toJson(info));
            System.out.printf("saved %s (%d bytes) after %d steps, %.0f s%n", file, Files.size(file), log.size(), secs);
        }
    }

    private static double r(double x, int digits) {
        return CheckpointInfo.round(x, digits);
    }
}
