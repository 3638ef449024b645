package org.lesson8.tools;

import org.lesson8.lessons.DitLesson;
import ai.djl.ndarray.NDManager;
import org.lesson8.course.Course;
import org.lesson8.data.FashionMnist;
import org.lesson8.models.Dit;
import org.lesson8.models.LatentDiffusion;
import org.lesson8.models.Vae;
import org.lesson8.train.Checkpoint;
import org.lesson8.train.CheckpointInfo;
import org.lesson8.train.Ema;
import org.lesson8.train.MetricsLog;
import org.lesson8.train.Recipe;
import org.lesson8.train.Seeds;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * {@code ./course train dit [steps] [seconds]}: stage 2 of notebook 03, the DiT on the latents of the shipped VAE
 * ({@code ./course train vae} makes it), fixed seed, EMA weights saved. Writes data/checkpoints/dit.safetensors,
 * dit.json and dit-log.csv. The sample quality (judged by the lesson-01 ViT) is measured by {@link TrainDitEval}
 * ({@code ./course train ditEval}).
 */
public final class TrainDit {
    private TrainDit() {}

    public static void run(String[] args) throws Exception {
        int ditSteps = args.length > 0 ? Integer.parseInt(args[0]) : 9000;
        double seconds = args.length > 1 ? Double.parseDouble(args[1]) : 1e9;
        long seed = 42;
        Seeds.seed(seed);
        Path dir = TrainCheckpoint.checkpointDir();
        try (NDManager m = NDManager.newBaseManager()) {
            FashionMnist.Split train = FashionMnist.train();
            Vae vae = new Vae(m, Vae.fashion(), 0);
            Checkpoint.load(vae, Course.checkpoint("vae.safetensors"));
            DitLesson.Latents lat = DitLesson.encode(vae, m, train, train.size);
            System.out.printf("encoded %d training images with the VAE (latent scale %.4f)%n", lat.size(), vae.scale());
            Dit dit = new Dit(m, Dit.fashion(), seed);
            LatentDiffusion ld = new LatentDiffusion(vae, dit);
            MetricsLog log = new MetricsLog();
            long t1 = System.nanoTime();
            Ema ema = new Ema(dit, DitLesson.EMA_DECAY);
            Dit snapshot = new Dit(m, Dit.fashion(), seed);
            Recipe recipe = DitLesson.ditRecipe();
            var loop = DitLesson.trainDit(ld, lat, recipe, ditSteps, seconds, seed, log, ema, step -> {
                if (step % 500 == 0 && step < ditSteps) {
                    // a snapshot of the EMA weights, so that a run that dies is not lost (dit-partial.json says where)
                    try {
                        ema.copyTo(snapshot);
                        Checkpoint.save(snapshot, dir.resolve("dit-partial.safetensors"));
                        log.writeCsv(dir.resolve("dit-partial-log.csv"));
                        CheckpointInfo.write(dir.resolve("dit-partial.json"), new CheckpointInfo.DitPartial(step, ditSteps,
                                Math.round((System.nanoTime() - t1) / 1e9), "./course train dit " + ditSteps));
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                }
                if (step % 250 == 0) {
                    System.out.printf("dit step %d  loss %.4f  mse %.4f  vb %.4f  %.0f s%n", step, log.tailMean("loss", 100),
                            log.tailMean("mse", 100), log.tailMean("vb", 100), (System.nanoTime() - t1) / 1e9);
                }
            });
            double ditSeconds = (System.nanoTime() - t1) / 1e9;
            ema.copyTo(dit);   // ship the averaged weights, as DiT does
            Checkpoint.save(dit, dir.resolve("dit.safetensors"));
            log.writeCsv(dir.resolve("dit-log.csv"));
            CheckpointInfo.write(dir.resolve("dit.json"), new CheckpointInfo.Dit(dit.config.toString(), dit.parameterCount(),
                    log.size(), loop.optim().skipped(), Math.round(ditSeconds), CheckpointInfo.round(log.tailMean("mse", 200), 5),
                    DitLesson.EMA_DECAY, recipe.batch(), recipe.lr(), seed,
                    String.format(Locale.ROOT, "vae.safetensors (latent scale %.5f)", vae.scale()), "./course train dit " + ditSteps));
            for (String f : new String[] {"dit-partial.safetensors", "dit-partial-log.csv", "dit-partial.json"}) {
                Files.deleteIfExists(dir.resolve(f));
            }
            System.out.printf("saved DiT (%d bytes): %d steps in %.0f s, final mse %.4f, %d skipped updates; "
                            + "measure the samples with ./course train ditEval%n",
                    Files.size(dir.resolve("dit.safetensors")), log.size(), ditSeconds, log.tailMean("mse", 200), loop.optim().skipped());
        }
    }
}
