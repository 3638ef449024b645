package org.lesson8.tools;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.lesson8.data.CaptionedScenes;
import org.lesson8.data.FashionMnist;
import org.lesson8.data.Tokenizer;
import org.lesson8.lessons.DallELesson;
import org.lesson8.models.DallE;
import org.lesson8.models.Dvae;
import org.lesson8.train.Checkpoint;
import org.lesson8.train.CheckpointInfo;
import org.lesson8.train.MetricsLog;
import org.lesson8.train.Seeds;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The two checkpoints of notebook 05, fixed seed 42, scenes of seed 42 (those of the text-to-image CLIP):
 * <ul>
 *   <li>{@code ./course train dvae [steps] [seconds]}: the dVAE on scenes and Fashion-MNIST → dvae.safetensors,
 *       dvae.json (reconstruction error and codebook usage on 1000 test scenes and 1000 Fashion test images),
 *       dvae-log.csv;</li>
 *   <li>{@code ./course train dalle [steps] [seconds]}: the transformer on the shipped dVAE's tokens of
 *       {@link #TABLE_SCENES} scenes and {@link #TABLE_FASHION} Fashion images → dalle.safetensors, dalle.json (final
 *       losses, cross-entropies of test and held-out pairs), dalle-log.csv.</li>
 * </ul>
 */
public final class TrainDallE {
    private TrainDallE() {}

    public static final long SEED = 42;
    public static final long SCENES_SEED = TrainClipScenes.SCENES_SEED;
    /** Images of the transformer's table, and captions kept per image. */
    public static final int TABLE_SCENES = 30_000, TABLE_FASHION = 30_000, PHRASINGS = 4;
    /** Images of each domain the figures are measured on. */
    static final int MEASURED = 1000;


    public static void dvae(String[] args) throws Exception {
        int steps = TrainCheckpoint.intArg(args, 0, 3000);
        double seconds = TrainCheckpoint.doubleArg(args, 1, 1e9);
        Seeds.seed(SEED);
        Path dir = TrainCheckpoint.checkpointDir();
        try (NDManager m = NDManager.newBaseManager()) {
            Dvae.Config cfg = Dvae.course();
            Dvae dvae = new Dvae(m, cfg, SEED);
            CaptionedScenes scenes = new CaptionedScenes(SCENES_SEED);
            DallELesson.Images train = new DallELesson.Images(FashionMnist.train(), scenes, CaptionedScenes.Split.TRAIN);
            Dvae.Anneal anneal = DallELesson.anneal(steps);
            MetricsLog log = new MetricsLog();
            long t0 = System.nanoTime();
            DallELesson.trainDvae(dvae, train, DallELesson.dvaeRecipe(), anneal, steps, seconds, SEED, log, step -> {
                if (step % 50 == 0) {
                    System.out.printf("dvae step %d  loss %.1f  rec %.1f  kl %.1f  tau %.3f  beta %.2f  perplexity %.0f  %.0f s%n",
                            step, log.tailMean("loss", 50), log.tailMean("reconstruction", 50), log.tailMean("kl", 50),
                            log.tailMean("tau", 1), log.tailMean("beta", 1), log.tailMean("perplexity", 50),
                            (System.nanoTime() - t0) / 1e9);
                }
            });
            double secs = (System.nanoTime() - t0) / 1e9;
            NDArray test = new DallELesson.Images(FashionMnist.test(), scenes, CaptionedScenes.Split.TEST).first(m, MEASURED);
            DallELesson.Quality qs = DallELesson.measure(dvae, m, test.get("0:{}", MEASURED));
            DallELesson.Quality qf = DallELesson.measure(dvae, m, test.get("{}:", MEASURED));
            Path file = dir.resolve("dvae.safetensors");
            Checkpoint.save(dvae, file);
            log.writeCsv(dir.resolve("dvae-log.csv"));
            CheckpointInfo.Dvae info = new CheckpointInfo.Dvae(cfg.name(), cfg.toString(), DallELesson.dvaeRecipe().toString(),
                    anneal.toString(), dvae.parameterCount(), SEED, SCENES_SEED, log.size(), Math.round(secs), TrainCheckpoint.threads(),
                    measured(qs), measured(qf), "./course train dvae " + steps);
            CheckpointInfo.write(dir.resolve("dvae.json"), info);
            System.out.print(CheckpointInfo.toJson(info));
            System.out.printf("saved %s (%d bytes) after %d steps, %.0f s%n", file, Files.size(file), log.size(), secs);
        }
    }

    public static void dalle(String[] args) throws Exception {
        int steps = TrainCheckpoint.intArg(args, 0, 3000);
        double seconds = TrainCheckpoint.doubleArg(args, 1, 1e9);
        Seeds.seed(SEED);
        Path dir = TrainCheckpoint.checkpointDir();
        try (NDManager m = NDManager.newBaseManager()) {
            Dvae dvae = loadDvae(m, dir);
            Tokenizer tok = Tokenizer.textToImage();
            DallE.Config cfg = DallE.course(tok.size(), dvae.config);
            DallE dalle = new DallE(m, cfg, SEED);
            CaptionedScenes scenes = new CaptionedScenes(SCENES_SEED);
            long t0 = System.nanoTime();
            DallELesson.CodeTable table = DallELesson.codeTable(dvae, m,
                    new DallELesson.Images(FashionMnist.train(), scenes, CaptionedScenes.Split.TRAIN),
                    TABLE_SCENES, TABLE_FASHION, PHRASINGS, SEED);
            System.out.printf("encoded %d images in %.0f s%n", table.size(), (System.nanoTime() - t0) / 1e9);
            MetricsLog log = new MetricsLog();
            long t1 = System.nanoTime();
            DallELesson.trainDallE(dalle, table, tok, DallELesson.dalleRecipe(), steps, seconds, SEED, log, step -> {
                if (step % 50 == 0) {
                    System.out.printf("dalle step %d  loss %.3f  text %.3f  image %.3f  %.0f s%n", step, log.tailMean("loss", 50),
                            log.tailMean("text", 50), log.tailMean("image", 50), (System.nanoTime() - t1) / 1e9);
                }
            });
            double secs = (System.nanoTime() - t1) / 1e9;
            FashionMnist.Split fashionTest = FashionMnist.test();
            CheckpointInfo.DallE.Nll ts = nll(dalle, dvae, m, tok, fashionTest, scenes, CaptionedScenes.Split.TEST, MEASURED, 0);
            CheckpointInfo.DallE.Nll tf = nll(dalle, dvae, m, tok, fashionTest, scenes, CaptionedScenes.Split.TEST, 0, MEASURED);
            CheckpointInfo.DallE.Nll ho = nll(dalle, dvae, m, tok, fashionTest, scenes, CaptionedScenes.Split.HELD_OUT, MEASURED, 0);
            Path file = dir.resolve("dalle.safetensors");
            Checkpoint.save(dalle, file);
            log.writeCsv(dir.resolve("dalle-log.csv"));
            CheckpointInfo.DallE info = new CheckpointInfo.DallE(cfg.name(), cfg.toString(), DallELesson.dalleRecipe().toString(),
                    dalle.parameterCount(), SEED, SCENES_SEED, "dvae.safetensors", TABLE_SCENES, TABLE_FASHION, PHRASINGS,
                    log.size(), Math.round(secs), TrainCheckpoint.threads(), r(log.tailMean("text", 100)), r(log.tailMean("image", 100)),
                    ts, tf, ho, "./course train dalle " + steps);
            CheckpointInfo.write(dir.resolve("dalle.json"), info);
            System.out.print(CheckpointInfo.toJson(info));
            System.out.printf("saved %s (%d bytes) after %d steps, %.0f s%n", file, Files.size(file), log.size(), secs);
        }
    }

    /** The shipped dVAE of notebook 05, or a message naming the command that makes it. */
    public static Dvae loadDvae(NDManager m, Path dir) throws java.io.IOException {
        Path f = dir.resolve("dvae.safetensors");
        if (!Files.isRegularFile(f)) throw new java.io.IOException(f + " does not exist: train it first with ./course train dvae");
        Dvae dvae = new Dvae(m, Dvae.course(), 0);
        Checkpoint.load(dvae, f);
        return dvae;
    }

    /** Cross-entropies of the first scenes of a split and the first Fashion test images, as (caption, codes) pairs. */
    private static CheckpointInfo.DallE.Nll nll(DallE dalle, Dvae dvae, NDManager m, Tokenizer tok, FashionMnist.Split fashion,
                                                CaptionedScenes scenes, CaptionedScenes.Split split, int nScenes, int nFashion) {
        DallELesson.CodeTable t = DallELesson.codeTable(dvae, m, new DallELesson.Images(fashion, scenes, split), nScenes,
                nFashion, 1, SEED + 1);
        DallELesson.Nll n = DallELesson.nll(dalle, m, t, tok);
        return new CheckpointInfo.DallE.Nll(n.pairs(), r(n.text()), r(n.image()));
    }

    private static CheckpointInfo.Dvae.Measured measured(DallELesson.Quality q) {
        return new CheckpointInfo.Dvae.Measured(q.images(), CheckpointInfo.round(q.bcePerPixel(), 5),
                CheckpointInfo.round(q.msePerPixel(), 5), CheckpointInfo.round(q.perplexity(), 2), q.deadCodes());
    }


    private static double r(double x) {
        return CheckpointInfo.round(x, 4);
    }
}
