package org.lesson8.tools;

import org.lesson8.lessons.DitLesson;
import ai.djl.ndarray.NDManager;
import org.lesson8.data.FashionMnist;
import org.lesson8.eval.Reconstruction;
import org.lesson8.models.Vae;
import org.lesson8.train.Checkpoint;
import org.lesson8.train.CheckpointInfo;
import org.lesson8.train.MetricsLog;
import org.lesson8.train.Seeds;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code ./course train vae [steps]}: stage 1 of notebook 03's latent diffusion, the KL autoencoder (fixed seed).
 * Measures the latent scale on 10,000 training latents and writes data/checkpoints/vae.safetensors, vae.json and
 * vae-log.csv. {@code ./course train dit} then trains the DiT on this VAE's latents.
 * {@code ./course train vae describe} re-measures the shipped VAE and rewrites vae.json only.
 */
public final class TrainVae {
    private TrainVae() {}

    public static void run(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("describe")) {
            describe(Double.NaN);
            return;
        }
        int steps = args.length > 0 ? Integer.parseInt(args[0]) : 1200;
        long seed = 42;
        Seeds.seed(seed);
        Path dir = TrainCheckpoint.checkpointDir();
        Files.createDirectories(dir);
        double secs;
        try (NDManager m = NDManager.newBaseManager()) {
            FashionMnist.Split train = FashionMnist.train();
            Vae vae = new Vae(m, Vae.fashion(), seed);
            MetricsLog log = new MetricsLog();
            long t0 = System.nanoTime();
            DitLesson.trainVae(vae, train, DitLesson.vaeRecipe(), steps, 1e9, seed, log, step -> {
                if (step % 250 == 0) {
                    System.out.printf("vae step %d  loss %.2f  rec %.2f  kl %.1f  %.0f s%n", step, log.tailMean("loss", 50),
                            log.tailMean("reconstruction", 50), log.tailMean("kl", 50), (System.nanoTime() - t0) / 1e9);
                }
            });
            secs = (System.nanoTime() - t0) / 1e9;
            DitLesson.Latents lat = DitLesson.encode(vae, m, train, 10000);
            DitLesson.measureScale(vae, m, lat, 10000, seed);
            Checkpoint.save(vae, dir.resolve("vae.safetensors"));
            log.writeCsv(dir.resolve("vae-log.csv"));
        }
        describe(secs);
    }

    /** Measures the saved VAE (test MSE on 10k images, its latent scale) and writes vae.json. */
    static void describe(double trainSeconds) throws Exception {
        Path dir = TrainCheckpoint.checkpointDir();
        try (NDManager m = NDManager.newBaseManager()) {
            Vae vae = new Vae(m, Vae.fashion(), 0);
            Checkpoint.load(vae, dir.resolve("vae.safetensors"));
            int steps = (int) Files.lines(dir.resolve("vae-log.csv")).count() - 1;
            double testMse = Reconstruction.vaeMse(vae, m, FashionMnist.test(), 10000);
            CheckpointInfo.write(dir.resolve("vae.json"), new CheckpointInfo.Vae(vae.config.toString(), vae.parameterCount(),
                    steps, DitLesson.vaeRecipe().batch(), 42, Double.isNaN(trainSeconds) ? null : Math.round(trainSeconds),
                    CheckpointInfo.round(testMse, 5), CheckpointInfo.round(vae.scale(), 5), "./course train vae " + steps));
            System.out.printf("VAE: %d steps, test MSE per pixel ([-1, 1] range) %.4f, latent scale %.4f%n", steps, testMse, vae.scale());
        }
    }
}
