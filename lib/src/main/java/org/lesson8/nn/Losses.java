package org.lesson8.nn;

import ai.djl.ndarray.NDArray;

/** Classification losses. */
public final class Losses {
    private Losses() {}

    /** Mean cross-entropy of logits (B, K) against integer labels (B). */
    public static NDArray crossEntropy(NDArray logits, NDArray labels) {
        return crossEntropy(logits, labels, 0f);
    }

    /**
     * Cross-entropy against labels smoothed by ε (Szegedy et al. 2016): the target is (1 − ε)·one-hot + ε/K, so the
     * loss is (1 − ε)·CE + ε·mean over classes of −log p, averaged over the batch.
     */
    public static NDArray crossEntropy(NDArray logits, NDArray labels, float smoothing) {
        if (smoothing < 0 || smoothing >= 1) throw new IllegalArgumentException("label smoothing must be in [0, 1), got " + smoothing);
        if (logits.getShape().dimension() != 2 || labels.getShape().dimension() != 1
                || labels.getShape().get(0) != logits.getShape().get(0)) {
            throw new IllegalArgumentException("cross-entropy expects logits (batch, classes) and labels (batch), got "
                    + logits.getShape() + " and " + labels.getShape());
        }
        long k = logits.getShape().get(1);
        NDArray logp = logits.logSoftmax(1);
        NDArray nll = logp.mul(labels.oneHot((int) k)).sum(new int[] {1}).neg();
        if (smoothing == 0f) return nll.mean();
        NDArray uniform = logp.mean(new int[] {1}).neg();
        return Nd.mul(nll, 1 - smoothing).add(Nd.mul(uniform, smoothing)).mean();
    }
}
