package org.lesson8.train;

import org.lesson8.nn.Module;

/**
 * How a model is optimised, the same for every topic: AdamW with peak learning rate {@code lr}, a linear warm-up of
 * {@code warmup} steps, then cosine decay to {@code lr / 100} at the last step ({@link Optim}); decoupled weight
 * decay on weight matrices only; the global gradient norm clipped to {@code clip} (≤ 0: no clipping); {@code batch}
 * examples per step.
 *
 * <p>A recipe does not fix the length of a run or its seed: the same recipe serves a few live steps in a notebook and
 * the hours-long run of a checkpoint, so {@link #optim} and {@link #loop} take the number of steps. What is particular
 * to one topic (augmentation, label smoothing, the mix of a batch, EMA) stays in that topic's code.
 */
public record Recipe(int batch, float lr, float weightDecay, int warmup, float clip) {
    public Recipe {
        if (batch < 1) throw new IllegalArgumentException("batch must be at least 1, got " + batch);
        if (!(lr > 0)) throw new IllegalArgumentException("the learning rate must be positive, got " + lr);
        if (weightDecay < 0) throw new IllegalArgumentException("weight decay must not be negative, got " + weightDecay);
        if (warmup < 0) throw new IllegalArgumentException("warm-up steps must not be negative, got " + warmup);
    }

    /**
     * The warm-up of a run of {@code steps} steps: the recipe's, but at most a tenth of the run, so that a short run
     * (a test, a notebook's FAST mode) still spends most of its steps near the peak learning rate.
     */
    private int warmupSteps(int steps) {
        return Math.min(warmup, steps / 10);
    }

    /** The optimiser of a run of {@code steps} steps of {@code model}. */
    public Optim optim(Module model, int steps) {
        return new Optim(model, lr, weightDecay, warmupSteps(steps), steps, clip);
    }

    /** A training loop of {@code steps} steps of {@code model} with this recipe's optimiser, logging into {@code log}. */
    public TrainLoop loop(Module model, int steps, MetricsLog log) {
        return new TrainLoop(model, optim(model, steps), log);
    }

    public Recipe withBatch(int batch) {
        return new Recipe(batch, lr, weightDecay, warmup, clip);
    }

    public Recipe withLr(float lr) {
        return new Recipe(batch, lr, weightDecay, warmup, clip);
    }
}
