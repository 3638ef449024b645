package org.lesson8.eval;

import org.lesson8.course.Interruption;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import org.lesson8.data.Batches;
import org.lesson8.data.FashionMnist;
import org.lesson8.models.Vae;
import org.lesson8.nn.Nd;

/** How faithfully an autoencoder gives images back. */
public final class Reconstruction {
    private Reconstruction() {}

    /**
     * Mean squared error per pixel of VAE reconstructions (decoded posterior mean, clipped to [−1, 1]) of the first
     * n images of a Fashion-MNIST split, in the VAE's [−1, 1] units.
     */
    public static double vaeMse(Vae vae, NDManager m, FashionMnist.Split s, int n) {
        int count = Math.min(n, s.size);
        NonEmpty.require(count, "Reconstruction.vaeMse on the " + s.name + " split (" + s.size + " images, n = " + n + ")",
                "pass n ≥ 1 and a split with images");
        double sum = 0;
        for (int[] idx : Batches.sequential(count, 500)) {
            Interruption.check("evaluation", idx[0], count, () -> "no result was returned");
            try (NDManager sub = m.newSubManager(); NDScope scope = new NDScope()) {
                NDArray x = Nd.mul(s.images(sub, idx), 2).sub(1);          // pixels [0, 1] → [−1, 1]
                NDArray r = vae.decode(vae.encode(x).mean()).clip(-1, 1);
                sum += r.sub(x).square().sum().getFloat();
            }
        }
        return sum / (count * (double) FashionMnist.PIXELS);
    }
}
