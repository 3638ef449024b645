package org.lesson8.train;

import ai.djl.ndarray.NDArray;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import org.lesson8.nn.Module;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * AdamW with linear warm-up and cosine decay, gradient clipping by global norm, and weight decay
 * only on weight matrices (not on biases, norms, embeddings' position tables or tokens), as in
 * the reference implementations.
 *
 * <p>It drives DJL's own {@code AdamW} (the fused {@code adamUpdate} kernel) and its warm-up/cosine
 * {@code Tracker}s. Two DJL optimizers are used, one with weight decay and one without, because
 * DJL's AdamW decays every parameter it is given. Clipping is done here since DJL's
 * {@code optClipGrad} only clamps from above.
 */
public final class Optim {
    private final List<String> names = new ArrayList<>();
    private final List<NDArray> params = new ArrayList<>();
    private final List<Boolean> decays = new ArrayList<>();
    private final Optimizer withDecay;
    private final Optimizer noDecay;
    private final Tracker schedule;
    private final float clipNorm;
    private int step;
    private int skipped;

    /**
     * @param lr          peak learning rate
     * @param weightDecay decoupled weight decay for weight matrices
     * @param warmup      warm-up steps (linear from 0)
     * @param total       total steps (cosine to {@code lr/100} at the end)
     * @param clipNorm    max global gradient norm, or ≤ 0 for none
     */
    public Optim(Module model, float lr, float weightDecay, int warmup, int total, float clipNorm) {
        for (Map.Entry<String, NDArray> e : model.parameters().entrySet()) {
            names.add(e.getKey());
            params.add(e.getValue());
        }
        decays.addAll(model.decayFlags().values());
        Tracker cosine = Tracker.cosine().setBaseValue(lr).optFinalValue(lr / 100f)
                .setMaxUpdates(Math.max(1, total - warmup)).build();
        schedule = warmup > 0
                ? Tracker.warmUp().optWarmUpBeginValue(0f).optWarmUpSteps(warmup).setMainTracker(cosine).build()
                : cosine;
        // each DJL optimizer asks the tracker with its own per-parameter update count (1-based)
        withDecay = Optimizer.adamW().optLearningRateTracker(schedule).optWeightDecays(weightDecay)
                .optBeta1(0.9f).optBeta2(0.999f).optEpsilon(1e-8f).build();
        noDecay = Optimizer.adamW().optLearningRateTracker(schedule).optWeightDecays(0f)
                .optBeta1(0.9f).optBeta2(0.999f).optEpsilon(1e-8f).build();
        this.clipNorm = clipNorm;
    }

    /** The learning rate used at update number {@code step} (1-based, as DJL counts). */
    public float learningRate(int step) {
        return schedule.getNewValue(step);
    }

    public int steps() {
        return step;
    }

    /** Updates dropped because the gradient was not finite. */
    public int skipped() {
        return skipped;
    }

    /**
     * Clips, updates every parameter, and zeroes the gradients for the next step.
     *
     * @return the global gradient norm before clipping
     */
    public float step() {
        List<NDArray> grads = new ArrayList<>(params.size());
        for (NDArray p : params) grads.add(p.getGradient());
        try {
            float norm = GradClip.globalNorm(grads);
            if (!Float.isFinite(norm)) {
                // a non-finite gradient (a rare overflow in one batch) would turn every weight into NaN:
                // drop this update, as mixed-precision loss scalers do, and clear the gradients
                for (NDArray g : grads) g.set(new float[(int) g.size()]);
                skipped++;
                return norm;
            }
            GradClip.clipToNorm(grads, norm, clipNorm);
            for (int i = 0; i < params.size(); i++) {
                // DJL's adamUpdate also zeroes the parameter's gradient for the next step
                (decays.get(i) ? withDecay : noDecay).update(names.get(i), params.get(i), grads.get(i));
            }
            step++;
            return norm;
        } finally {
            for (NDArray g : grads) g.close();
        }
    }
}
