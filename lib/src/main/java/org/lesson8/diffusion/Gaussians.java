package org.lesson8.diffusion;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.types.Shape;
import org.lesson8.nn.Nd;

/**
 * Elementwise Gaussian quantities of the variational bound (improved-diffusion's {@code losses.py}): the KL of two
 * diagonal Gaussians, and the likelihood of 8-bit data under a discretised Gaussian.
 */
public final class Gaussians {
    private Gaussians() {}

    /** KL(N(m1, e^lv1) ‖ N(m2, e^lv2)) elementwise, in nats. */
    public static NDArray normalKl(NDArray mean1, NDArray logVar1, NDArray mean2, NDArray logVar2) {
        return Nd.mul(logVar2.sub(logVar1).add(logVar1.sub(logVar2).exp())
                .add(mean1.sub(mean2).square().mul(logVar2.neg().exp())).sub(1), 0.5);
    }

    /** Φ(x) ≈ ½ (1 + tanh(sqrt(2/π) (x + 0.044715 x³))), the approximation improved-diffusion uses. */
    public static NDArray approxStandardNormalCdf(NDArray x) {
        return Nd.mul(Nd.mul(x.add(Nd.mul(x.mul(x).mul(x), 0.044715)), Math.sqrt(2 / Math.PI)).tanh().add(1), 0.5);
    }

    /**
     * log P(x) for x in [−1, 1] quantised to 256 levels under N(mean, e^{2 logScale}): the mass of the bin
     * [x − 1/255, x + 1/255]; the bins at −1 and +1 extend to ∓∞. Probabilities are floored at 1e-12.
     */
    public static NDArray discretizedGaussianLogLikelihood(NDArray x, NDArray means, NDArray logScales) {
        if (!x.getShape().equals(means.getShape())) {
            throw new IllegalArgumentException("means: expected shape " + x.getShape() + ", got " + means.getShape());
        }
        NDArray centered = x.sub(means);
        NDArray invStd = logScales.neg().exp();
        NDArray cdfPlus = approxStandardNormalCdf(centered.add(1.0 / 255).mul(invStd));
        NDArray cdfMin = approxStandardNormalCdf(centered.sub(1.0 / 255).mul(invStd));
        NDArray logCdfPlus = Nd.maximum(cdfPlus, 1e-12).log();
        NDArray logOneMinusCdfMin = Nd.maximum(cdfMin.neg().add(1), 1e-12).log();
        NDArray logDelta = Nd.maximum(cdfPlus.sub(cdfMin), 1e-12).log();
        return NDArrays.where(x.lt(-0.999), logCdfPlus, NDArrays.where(x.gt(0.999), logOneMinusCdfMin, logDelta));
    }

    /** Mean over every axis but the first: (B, ...) → (B,). */
    public static NDArray meanFlat(NDArray a) {
        Shape s = a.getShape();
        if (s.dimension() <= 1) return a;
        return a.reshape(s.get(0), -1).mean(new int[] {1});
    }
}
