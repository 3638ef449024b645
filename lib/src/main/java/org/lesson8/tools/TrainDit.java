package org.lesson8.tools;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import org.lesson8.course.Course;
import org.lesson8.data.Batches;
import org.lesson8.data.FashionMnist;
import org.lesson8.models.Dit;
import org.lesson8.models.LatentDiffusion;
import org.lesson8.models.Vae;
import org.lesson8.train.Checkpoint;
import org.lesson8.train.Ema;
import org.lesson8.train.MetricsLog;
import org.lesson8.train.Seeds;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * {@code ./course train dit [vaeSteps] [ditSteps] [ditSeconds] [evalPerClass]}: the VAE and the DiT of notebook 03,
 * fixed seed.
 * Writes data/checkpoints/vae.safetensors, dit.safetensors, dit.json and the two training logs. The sample quality
 * (judged by the lesson-01 ViT) is measured by {@link TrainDitEval} ({@code ./course train ditEval}), which this
 * command runs at the end.
 */
public final class TrainDit {
    private TrainDit() {}

    public static void run(String[] args) throws Exception {
        int vaeSteps = args.length > 0 ? Integer.parseInt(args[0]) : 1200;
        int ditSteps = args.length > 1 ? Integer.parseInt(args[1]) : 3500;
        double seconds = args.length > 2 ? Double.parseDouble(args[2]) : 1e9;
        long seed = 42;
        Seeds.seed(seed);
        Path dir = Course.home().resolve("data").resolve("checkpoints");
        Files.createDirectories(dir);
        StringBuilder json = new StringBuilder();
        try (NDManager m = NDManager.newBaseManager()) {
            FashionMnist.Split train = FashionMnist.train();
            FashionMnist.Split test = FashionMnist.test();
            Vae vae = new Vae(m, Vae.fashion(), seed);
            MetricsLog vaeLog = new MetricsLog();
            long t0 = System.nanoTime();
            LatentDiffusion.trainVae(vae, train, LatentDiffusion.Recipe.vae(), vaeSteps, 1e9, seed, vaeLog, step -> {
                if (step % 250 == 0) {
                    System.out.printf("vae step %d  loss %.2f  rec %.2f  kl %.1f  %.0f s%n", step, vaeLog.tailMean("loss", 50),
                            vaeLog.tailMean("reconstruction", 50), vaeLog.tailMean("kl", 50), (System.nanoTime() - t0) / 1e9);
                }
            });
            double vaeSeconds = (System.nanoTime() - t0) / 1e9;
            LatentDiffusion.Latents lat = LatentDiffusion.encode(vae, m, train, train.size);
            float scale = LatentDiffusion.measureScale(vae, m, lat, 10000, seed);
            double testMse = reconstructionMse(vae, m, test, 2000);
            System.out.printf("VAE: %d steps in %.0f s, test MSE per pixel ([-1, 1] range) %.4f, latent scale %.4f%n",
                    vaeLog.size(), vaeSeconds, testMse, scale);
            Checkpoint.save(vae, dir.resolve("vae.safetensors"));
            vaeLog.writeCsv(dir.resolve("vae-log.csv"));

            Dit dit = new Dit(m, Dit.fashion(), seed);
            LatentDiffusion ld = new LatentDiffusion(vae, dit);
            MetricsLog log = new MetricsLog();
            long t1 = System.nanoTime();
            Ema ema = new Ema(dit, LatentDiffusion.Recipe.emaDecay());
            ld.trainDit(lat, LatentDiffusion.Recipe.dit(), ditSteps, seconds, seed, log, ema, step -> {
                if (step % 250 == 0) {
                    System.out.printf("dit step %d  loss %.4f  mse %.4f  vb %.4f  %.0f s%n", step, log.tailMean("loss", 100),
                            log.tailMean("mse", 100), log.tailMean("vb", 100), (System.nanoTime() - t1) / 1e9);
                }
            });
            double ditSeconds = (System.nanoTime() - t1) / 1e9;
            ema.copyTo(dit);   // ship the averaged weights, as DiT does
            Checkpoint.save(dit, dir.resolve("dit.safetensors"));
            log.writeCsv(dir.resolve("dit-log.csv"));
            json.append(String.format(Locale.ROOT, "{\n  \"vae\": \"%s\",\n  \"vae_parameters\": %d,\n  \"vae_steps\": %d,\n"
                            + "  \"vae_train_seconds\": %.0f,\n  \"vae_test_mse\": %.5f,\n  \"latent_scale\": %.5f,\n"
                            + "  \"dit\": \"%s\",\n  \"dit_parameters\": %d,\n  \"dit_steps\": %d,\n  \"dit_train_seconds\": %.0f,\n"
                            + "  \"dit_final_mse\": %.5f,\n  \"ema_decay\": %.4f,\n  \"batch\": %d,\n  \"seed\": %d,\n  \"command\": \"./course train dit %d %d\"\n}\n",
                    vae.config.toString(), vae.parameterCount() - 1, vaeLog.size(), vaeSeconds, testMse, scale,
                    dit.config.toString(), dit.parameterCount(), log.size(), ditSeconds, log.tailMean("mse", 200),
                    LatentDiffusion.Recipe.emaDecay(), LatentDiffusion.Recipe.dit().batch(), seed, vaeSteps, ditSteps));
            Files.writeString(dir.resolve("dit.json"), json, StandardCharsets.UTF_8);
            System.out.printf("saved VAE (%d bytes) and DiT (%d bytes): DiT %d steps in %.0f s, final mse %.4f%n",
                    Files.size(dir.resolve("vae.safetensors")), Files.size(dir.resolve("dit.safetensors")), log.size(),
                    ditSeconds, log.tailMean("mse", 200));
        }
        TrainDitEval.run(args.length > 3 ? new String[] {args[3]} : new String[0]);
    }

    /** Mean squared error per pixel of VAE reconstructions (posterior mean) on the first n images, in [−1, 1] units. */
    public static double reconstructionMse(Vae vae, NDManager m, FashionMnist.Split s, int n) {
        double sum = 0;
        for (int[] idx : Batches.sequential(Math.min(n, s.size), 500)) {
            try (NDManager sub = m.newSubManager(); NDScope scope = new NDScope()) {
                NDArray x = LatentDiffusion.toSigned(s.images(sub, idx));
                NDArray r = vae.decode(vae.encode(x).mean()).clip(-1, 1);
                sum += r.sub(x).square().sum().getFloat();
            }
        }
        return sum / (Math.min(n, s.size) * (double) FashionMnist.PIXELS);
    }
}
