package org.lesson8.tools;

import org.lesson8.lessons.DitLesson;
import org.lesson8.eval.ClassJudge;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.lesson8.data.FashionMnist;
import org.lesson8.models.Dit;
import org.lesson8.models.LatentDiffusion;
import org.lesson8.models.Vae;
import org.lesson8.models.Vit;
import org.lesson8.train.Checkpoint;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * {@code ./course train ditEval [perClass] [steps]}: judges the shipped VAE + DiT with the shipped lesson-01 ViT.
 * For guidance 1, 2, 4 and 7: perClass × 10 samples (DDIM, η = 0), the share classified as their class, the
 * Fréchet distance to 10,000 real test images in the ViT's CLS-feature space, and the within-class spread.
 * Writes data/checkpoints/dit-quality.csv.
 */
public final class TrainDitEval {
    private TrainDitEval() {}

    public static final double[] GUIDANCE = {1, 2, 4, 7};

    public static void run(String[] args) throws Exception {
        int perClass = args.length > 0 ? Integer.parseInt(args[0]) : 100;
        int steps = args.length > 1 ? Integer.parseInt(args[1]) : 50;
        Path dir = TrainCheckpoint.checkpointDir();
        try (NDManager m = NDManager.newBaseManager()) {
            Vae vae = new Vae(m, Vae.fashion(), 0);
            Checkpoint.load(vae, dir.resolve("vae.safetensors"));
            Dit dit = new Dit(m, Dit.fashion(), 0);
            Checkpoint.load(dit, dir.resolve("dit.safetensors"));
            Vit vit = new Vit(m, Vit.fashionSmall(), 0);
            Checkpoint.load(vit, dir.resolve("vit_fashion.safetensors"));
            LatentDiffusion ld = new LatentDiffusion(vae, dit);
            FashionMnist.Split test = FashionMnist.test();
            int[] all = new int[test.size];
            for (int i = 0; i < all.length; i++) all[i] = i;
            NDArray real = test.images(m, all);
            ClassJudge.Judged judgedReal = new ClassJudge(vit).judge(m, real);
            real.close();
            StringBuilder csv = new StringBuilder("guidance,samples,ddim_steps,vit_class_accuracy,frechet_distance,within_class_spread,seconds\n");
            for (double s : GUIDANCE) {
                long t0 = System.nanoTime();
                DitLesson.Quality q = DitLesson.quality(ld, new ClassJudge(vit), m, judgedReal, test.labelArray(), perClass, s, steps, 1000, 250);
                double secs = (System.nanoTime() - t0) / 1e9;
                System.out.printf(Locale.ROOT, "guidance %.0f: %d samples, ViT says their class %.1f%%, Fréchet distance %.2f, spread %.2f  (%.0f s)%n",
                        s, q.samples(), 100 * q.accuracy(), q.frechet(), q.spread(), secs);
                csv.append(String.format(Locale.ROOT, "%.1f,%d,%d,%.4f,%.4f,%.4f,%.0f%n", s, q.samples(), steps, q.accuracy(),
                        q.frechet(), q.spread(), secs));
            }
            Files.writeString(dir.resolve("dit-quality.csv"), csv, StandardCharsets.UTF_8);
            System.out.println("written " + dir.resolve("dit-quality.csv") + "  (command: ./course train ditEval " + perClass + " " + steps + ")");
        }
    }
}
